"""NumPy 2's array-API names and a few statistics, written with chainrule's primitives.

Aliases: ``acos``… (``arccos``…), ``atan2``, ``pow``, ``concat``, ``permute_dims``.
Composites: ``matrix_transpose``, ``cumulative_sum``/``cumulative_prod``, ``astype``,
``vecdot`` (Σ conj(a)·b over ``axis``), ``matvec``, ``vecmat``, ``unstack``, ``cov``,
``corrcoef``, ``nanvar``, ``nanstd``, ``diagflat``, ``vander``.
"""

from __future__ import annotations

import numpy as np

from chainrule.core.primitive import concrete, shape_of
from chainrule.numpy import _assembly as asm
from chainrule.numpy import _contract as con
from chainrule.numpy import _elementwise as ew
from chainrule.numpy import _ufuncs as uf
from chainrule.numpy import _namespace as ns
from chainrule.numpy import _scans
from chainrule.numpy._linalg import matmul
from chainrule.numpy._nondiff import equal

__all__ = [
    "acos", "acosh", "asin", "asinh", "atan", "atanh", "atan2", "pow", "concat",
    "permute_dims", "matrix_transpose", "cumulative_sum", "cumulative_prod", "astype",
    "vecdot", "matvec", "vecmat", "unstack", "cov", "corrcoef", "nanvar", "nanstd",
    "diagflat", "vander",
]

acos, acosh, asin, asinh = uf.arccos, uf.arccosh, uf.arcsin, uf.arcsinh
atan, atanh, atan2 = ew.arctan, uf.arctanh, uf.arctan2
pow = ew.power  # noqa: A001 — NumPy 2's name
concat = ns.concatenate


def permute_dims(a, axes):
    """``transpose(a, axes)`` (the array-API name)."""
    return ns.transpose(a, axes)


def matrix_transpose(x):
    """``x`` with its last two axes swapped."""
    return ns.swapaxes(x, -1, -2)


def _cumulative(scan, x, axis, include_initial, initial):
    nd = len(shape_of(x))
    if axis is None:
        if nd > 1:
            raise ValueError("cumulative_sum/prod: axis is required for arrays of more than "
                             "one dimension")
        axis = 0
    r = scan(x, axis=axis)
    if include_initial:
        ax = ns.normalize_axis(axis, nd)[0]
        shape = list(shape_of(x))
        shape[ax] = 1
        r = ns.concatenate([np.full(shape, initial, dtype=float), r], axis=ax)
    return r


def cumulative_sum(x, axis=None, dtype=None, out=None, include_initial=False):
    """Running sums along ``axis`` (with a leading 0 when ``include_initial``)."""
    ns._no_out(out, "cumulative_sum")
    return _cumulative(_scans.cumsum, x, axis, include_initial, 0.0)


def cumulative_prod(x, axis=None, dtype=None, out=None, include_initial=False):
    """Running products along ``axis`` (with a leading 1 when ``include_initial``)."""
    ns._no_out(out, "cumulative_prod")
    return _cumulative(_scans.cumprod, x, axis, include_initial, 1.0)


def astype(x, dtype, copy=True, device=None):
    """``x.astype(dtype)``."""
    return x.astype(dtype) if hasattr(x, "astype") else np.asarray(x).astype(dtype)


def vecdot(x1, x2, axis=-1):
    """``Σ conj(x1)·x2`` over ``axis`` (broadcast over the others)."""
    return ns.sum(uf.conj(x1) * x2, axis=axis)


def matvec(x1, x2):
    """``x1[..., m, n] · x2[..., n]`` → ``[..., m]``."""
    return matmul(x1, ns.expand_dims(x2, -1))[..., 0]


def vecmat(x1, x2):
    """``conj(x1[..., m]) · x2[..., m, n]`` → ``[..., n]``."""
    return matmul(ns.expand_dims(uf.conj(x1), -2), x2)[..., 0, :]


def unstack(x, axis=0):
    """The slices of ``x`` along ``axis``, as a tuple."""
    return tuple(ns.moveaxis(x, axis, 0)[i] for i in range(shape_of(x)[axis]))


def cov(m, y=None, rowvar=True, bias=False, ddof=None, fweights=None, aweights=None,
        dtype=None):
    """Covariance of the variables (rows when ``rowvar``): ``(X - x̄)(X - x̄)ᵀ/(N - ddof)``,
    ``ddof`` 1 unless ``bias`` (weights are not supported)."""
    if fweights is not None or aweights is not None:
        raise NotImplementedError("chainrule.numpy.cov: fweights/aweights are not supported")
    x = asm.atleast_2d(m)
    if not rowvar and shape_of(x)[0] != 1:
        x = ns.transpose(x, (1, 0))
    if y is not None:
        yy = asm.atleast_2d(y)
        if not rowvar and shape_of(yy)[0] != 1:
            yy = ns.transpose(yy, (1, 0))
        x = ns.concatenate([x, yy], axis=0)
    n = shape_of(x)[1]
    ddof = (0 if bias else 1) if ddof is None else ddof
    xc = x - ns.mean(x, axis=1, keepdims=True)
    c = matmul(xc, ns.transpose(uf.conj(xc), (1, 0))) / (n - ddof)
    return ns.squeeze(c) if shape_of(c) == (1, 1) else c


def corrcoef(x, y=None, rowvar=True, dtype=None):
    """``cov / √(diag ⊗ diag)``, clipped to [-1, 1] as NumPy."""
    c = cov(x, y, rowvar)
    if len(shape_of(c)) == 0:
        return c / c
    d = ew.sqrt(asm.diag(c))
    return ns.clip(c / con.outer(d, d), -1.0, 1.0)


def nanvar(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    """Variance over the non-NaN elements: ``Σ (x - x̄)² / (n - ddof)``."""
    ns._no_out(out, "nanvar")
    keep = np.logical_not(np.isnan(concrete(a)))
    n = np.sum(keep, axis=axis, keepdims=True)
    z = ew.where_p(keep, a, 0.0)
    mean = ns.sum(z, axis=axis, keepdims=True) / n
    dev = ew.where_p(keep, a - mean, 0.0)
    r = ns.sum(dev * dev, axis=axis, keepdims=True) / (n - ddof)
    return r if keepdims else (ns.squeeze(r, axis=axis) if axis is not None else ns.reshape(r, ()))


def nanstd(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    """``√nanvar``, with derivative 0 where the variance is 0 (as ``std``)."""
    v = nanvar(a, axis=axis, out=out, ddof=ddof, keepdims=keepdims)
    zero = equal(concrete(v), 0.0)
    return ew.where_p(zero, 0.0, ew.sqrt(ew.where_p(zero, 1.0, v)))


def diagflat(v, k=0):
    """The 2-D array with the flattened ``v`` on diagonal ``k``."""
    return asm.diag(ns.reshape(v, (-1,)), k)


def vander(x, N=None, increasing=False):
    """Columns ``x**(N-1), …, x, 1`` (``increasing``: reversed)."""
    n = shape_of(x)[0] if N is None else N
    powers = range(n) if increasing else range(n - 1, -1, -1)
    return ns.stack([x ** p if p else ew.multiply(x, 0.0) + 1.0 for p in powers], axis=1)
