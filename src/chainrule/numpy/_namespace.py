"""NumPy-signature wrappers over the primitives (axis normalisation, composites)."""

from __future__ import annotations

import numpy as np

from chainrule.core.backends import is_foreign
from chainrule.core.primitive import Tracer, concrete, dtype_of, shape_of
from chainrule.numpy import _elementwise as ew
from chainrule.numpy._indexing import Index, concatenate_p, getitem_p
from chainrule.numpy._linalg import matmul
from chainrule.numpy._nondiff import equal as _equal_p
from chainrule.numpy._reductions import max_p, min_p, prod_p
from chainrule.numpy._structural import (
    broadcast_to_p,
    normalize_axis,
    reshape_p,
    sum_p,
    transpose_p,
)

__all__ = [
    "sum", "mean", "prod", "max", "min", "amax", "amin", "var", "std",
    "dot", "reshape", "transpose", "swapaxes", "moveaxis", "expand_dims", "squeeze",
    "ravel", "broadcast_to", "concatenate", "stack", "array", "asarray", "where", "clip",
    "shape", "ndim", "size", "getitem", "iscomplexobj", "isrealobj",
]


def any_traced(*values) -> bool:
    """Whether one of ``values`` is a tracer: composites build their result from primitives
    then, and hand plain values to NumPy's own function otherwise."""
    return any(isinstance(v, Tracer) for v in values)


def _ndim(x) -> int:
    return len(shape_of(x))


def sum(a, axis=None, dtype=None, out=None, keepdims=False):
    """Σ over ``axis`` (all axes when None); the VJP broadcasts ȳ back."""
    _no_out(out, "sum")
    r = sum_p(a, axis=normalize_axis(axis, _ndim(a)), keepdims=bool(keepdims))
    return r if dtype is None else r.astype(dtype)


def mean(a, axis=None, dtype=None, out=None, keepdims=False):
    """Σ x / n over ``axis``."""
    _no_out(out, "mean")
    ax = normalize_axis(axis, _ndim(a))
    shp = shape_of(a)
    n = 1
    for i, d in enumerate(shp):
        if ax is None or i in ax:
            n *= d
    return sum_p(a, axis=ax, keepdims=bool(keepdims)) / n


def var(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    """Σ (x - mean)² / (n - ddof) over ``axis``."""
    _no_out(out, "var")
    ax = normalize_axis(axis, _ndim(a))
    d = a - mean(a, axis=ax, keepdims=True)
    n = 1
    for i, s in enumerate(shape_of(a)):
        if ax is None or i in ax:
            n *= s
    return sum_p(d * d, axis=ax, keepdims=bool(keepdims)) / (n - ddof)


def std(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    """√var; where the variance is 0 (one sample, equal samples) the derivative is 0,
    the subgradient choice of √ at 0 (not ∞·0 = NaN)."""
    v = var(a, axis=axis, ddof=ddof, keepdims=keepdims, out=out)
    zero = _equal_p(concrete(v), 0.0)
    return where(zero, 0.0, ew.sqrt(where(zero, 1.0, v)))


def prod(a, axis=None, dtype=None, out=None, keepdims=False):
    """Π over ``axis``; exact partials with zero factors."""
    _no_out(out, "prod")
    return prod_p(a, axis=normalize_axis(axis, _ndim(a)), keepdims=bool(keepdims))


def max(a, axis=None, out=None, keepdims=False):
    """Maximum over ``axis``; ȳ goes to the maximal elements, ties share it."""
    _no_out(out, "max")
    return max_p(a, axis=normalize_axis(axis, _ndim(a)), keepdims=bool(keepdims))


def min(a, axis=None, out=None, keepdims=False):
    """Minimum over ``axis``; ȳ goes to the minimal elements, ties share it."""
    _no_out(out, "min")
    return min_p(a, axis=normalize_axis(axis, _ndim(a)), keepdims=bool(keepdims))


amax = max
amin = min


def dot(a, b, out=None):
    """``numpy.dot``: a product with a scalar, else matmul (``b`` of at most 2 axes)."""
    _no_out(out, "dot")
    na, nb = _ndim(a), _ndim(b)
    if na == 0 or nb == 0:
        return ew.multiply(a, b)
    if nb <= 2:
        return matmul(a, b)
    raise NotImplementedError(
        "chainrule.numpy.dot with a right operand of more than 2 axes is not supported yet; "
        "use chainrule.numpy.matmul (batched) or express the contraction with sum(a * b)."
    )


def reshape(a, shape=None, order="C", *, newshape=None):
    """The same elements in a new shape (C order)."""
    if order != "C":
        raise NotImplementedError("chainrule.numpy.reshape supports order='C' only")
    shape = newshape if shape is None else shape
    if isinstance(shape, (int, np.integer)):
        shape = (int(shape),)
    shape = tuple(int(d) for d in shape)
    if -1 in shape:
        known = 1
        for d in shape:
            if d != -1:
                known *= d
        total = 1
        for d in shape_of(a):
            total *= d
        shape = tuple(total // known if d == -1 else d for d in shape)
    return reshape_p(a, shape=shape)


def transpose(a, axes=None):
    """Permute the axes (reverse them when ``axes`` is None)."""
    n = _ndim(a)
    axes = tuple(reversed(range(n))) if axes is None else tuple(int(x) % n for x in axes)
    return transpose_p(a, axes=axes)


def swapaxes(a, axis1, axis2):
    n = _ndim(a)
    perm = list(range(n))
    i, j = axis1 % n, axis2 % n
    perm[i], perm[j] = perm[j], perm[i]
    return transpose_p(a, axes=tuple(perm))


def moveaxis(a, source, destination):
    n = _ndim(a)
    src = [s % n for s in np.atleast_1d(source)]
    dst = [d % n for d in np.atleast_1d(destination)]
    order = [i for i in range(n) if i not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return transpose_p(a, axes=tuple(order))


def expand_dims(a, axis):
    shp = list(shape_of(a))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    n = len(shp) + len(axes)
    for ax in sorted(int(x) % n for x in axes):
        shp.insert(ax, 1)
    return reshape_p(a, shape=tuple(shp))


def squeeze(a, axis=None):
    shp = shape_of(a)
    ax = normalize_axis(axis, len(shp))
    if ax is not None:
        for i in ax:
            if shp[i] != 1:
                raise ValueError(f"cannot squeeze axis {i} of size {shp[i]}")
    keep = tuple(d for i, d in enumerate(shp) if not (d == 1 and (ax is None or i in ax)))
    return reshape_p(a, shape=keep)


def ravel(a, order="C"):
    return reshape(a, (-1,), order=order)


def broadcast_to(a, shape):
    shape = (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(shape)
    return broadcast_to_p(a, shape=shape)


def concatenate(arrays, axis=0, out=None):
    """Join along an existing axis (``axis=None``: ravel first)."""
    _no_out(out, "concatenate")
    arrays = list(arrays)
    if axis is None:
        arrays = [ravel(a) for a in arrays]
        axis = 0
    axis = int(axis) % _ndim(arrays[0]) if _ndim(arrays[0]) else 0
    return concatenate_p(*arrays, axis=axis)


def stack(arrays, axis=0, out=None):
    """Join along a new axis."""
    arrays = list(arrays)
    n = _ndim(arrays[0]) + 1
    axis = int(axis) % n
    return concatenate_p(*[expand_dims(a, axis) for a in arrays], axis=axis)


def _contains_tracer(obj) -> bool:
    if isinstance(obj, Tracer):
        return True
    if isinstance(obj, (list, tuple)):
        return any(_contains_tracer(o) for o in obj)
    return False


def array(object, dtype=None, copy=True, ndmin=0):
    """``numpy.array``; nested lists holding traced values are stacked (differentiably)."""
    if isinstance(object, Tracer):
        return object
    if isinstance(object, (list, tuple)) and _contains_tracer(object):
        return stack([array(o) for o in object])
    return np.array(object, dtype=dtype, copy=copy, ndmin=ndmin)


def asarray(a, dtype=None):
    if isinstance(a, Tracer):
        return a
    if is_foreign(a):  # a Dask or CuPy array stays one (the array API's asarray)
        return a if dtype is None else a.astype(dtype)
    if isinstance(a, (list, tuple)) and _contains_tracer(a):
        return array(a)
    return np.asarray(a, dtype=dtype)


def where(condition, x=None, y=None):
    """Elementwise choice; the untaken branch gets an exact zero (co)tangent."""
    if x is None and y is None:
        return np.nonzero(concrete(condition))
    return ew.where_p(concrete(condition), x, y)


def clip(a, a_min=None, a_max=None, out=None):
    _no_out(out, "clip")
    return ew.clip(a, a_min, a_max)


def shape(a) -> tuple:
    return shape_of(a)


def ndim(a) -> int:
    return _ndim(a)


def size(a, axis=None) -> int:
    shp = shape_of(a)
    if axis is not None:
        return shp[axis]
    n = 1
    for d in shp:
        n *= d
    return n


def iscomplexobj(x) -> bool:
    """Whether ``x`` has a complex dtype (read from the dtype, traced or not)."""
    return dtype_of(x).kind == "c"


def isrealobj(x) -> bool:
    """Whether ``x`` does not have a complex dtype (the negation of iscomplexobj)."""
    return dtype_of(x).kind != "c"


def getitem(a, key):
    """``a[key]``: basic and advanced (integer-array, boolean-mask) indexing."""
    return getitem_p(a, index=Index(key))


def _no_out(out, name):
    if out is not None:
        raise TypeError(
            f"chainrule.numpy.{name}: out= is not supported (in-place results cannot carry "
            "derivatives); use the returned value."
        )
