"""Scans and the remaining reductions: cumsum, cumprod, diff, nansum, nanmean, average, ptp.

* ``cumsum`` is a linear primitive: y_i = Σ_{j≤i} x_j, so x̄_i = Σ_{j≥i} ȳ_j, the
  cumulative sum of ȳ taken from the end (flip, cumsum, flip).
* ``cumprod`` is a primitive: y_i = Π_{j≤i} x_j, ∂y_i/∂x_k = y_i/x_k for k ≤ i, so
  ẏ = y·cumsum(ẋ/x) and x̄ = revcumsum(ȳ·y)/x. Where some x_k = 0 the exact rule is
  used (a loop over the axis, products of the factors other than x_k).
* The others are composites of primitives (diff: slices; nansum: sum of where;
  average: weighted sum; ptp: max - min).
"""

from __future__ import annotations

import numpy as np

from chainrule.core.primitive import ANS, Primitive, Reads, anywhere, concrete, shape_of
from chainrule.numpy import _elementwise as ew
from chainrule.numpy import _namespace as ns
from chainrule.numpy._indexing import Index, getitem_p
from chainrule.numpy._nondiff import nondiff_funcs
from chainrule.numpy._structural import sum_p

__all__ = ["cumsum", "cumprod", "diff", "nansum", "nanmean", "average", "ptp"]


def _flip(x, axis):
    return getitem_p(x, index=Index((slice(None),) * axis + (slice(None, None, -1),)))


def _revcumsum(g, axis):
    return _flip(cumsum_p(_flip(g, axis), axis=axis), axis)


cumsum_p = Primitive(
    "cumsum",
    lambda x, axis: np.cumsum(x, axis=axis),
    jvps=(lambda t, y, x, axis: cumsum_p(t, axis=axis),),
    vjps=(lambda g, y, x, axis: _revcumsum(g, axis),),
    linear=True,
    reads=Reads(()),
    doc="y_i = Σ_{j≤i} x_j along axis; x̄_i = Σ_{j≥i} ȳ_j",
    batch="argreduction",
)


def _cumprod_exact_vjp(g, y, x, axis):
    """x̄_k = Σ_{i≥k} ȳ_i Π_{j≤i, j≠k} x_j, one k at a time (used when some x is 0)."""
    n = shape_of(x)[axis]
    parts = []
    for k in range(n):
        ones = np.ones(shape_of(x)[axis])
        ones[k] = 0.0
        mask = np.zeros(shape_of(x)[axis])
        mask[k] = 1.0
        shp = [1] * len(shape_of(x))
        shp[axis] = n
        ones, mask = ones.reshape(shp), mask.reshape(shp)
        others = cumprod_p(x * ones + mask, axis=axis)  # x_k replaced by 1
        after = np.arange(n).reshape(shp) >= k
        contrib = sum_p(g * ew.where_p(after, others, 0.0), axis=(axis,), keepdims=True)
        parts.append(contrib)
    return ns.concatenate(parts, axis=axis)


def _cumprod_vjp(g, y, x, axis):
    if anywhere(concrete(x) == 0):
        return _cumprod_exact_vjp(g, y, x, axis)
    return _revcumsum(g * y, axis) / x


def _cumprod_jvp(t, y, x, axis):
    if anywhere(concrete(x) == 0):
        # J·t = the transpose of the exact VJP applied column by column: use the scan form
        # ẏ_i = Σ_{k≤i} t_k Π_{j≤i, j≠k} x_j, computed as in the VJP, one k at a time.
        n = shape_of(x)[axis]
        out = None
        for k in range(n):
            shp = [1] * len(shape_of(x))
            shp[axis] = n
            e = (np.arange(n) == k).astype(float).reshape(shp)
            others = cumprod_p(x * (1 - e) + e, axis=axis)
            tk = sum_p(t * e, axis=(axis,), keepdims=True)
            c = ew.where_p(np.arange(n).reshape(shp) >= k, others, 0.0) * tk
            out = c if out is None else out + c
        return out
    return y * cumsum_p(t / x, axis=axis)


cumprod_p = Primitive(
    "cumprod",
    lambda x, axis: np.cumprod(x, axis=axis),
    jvps=(_cumprod_jvp,),
    vjps=(_cumprod_vjp,),
    reads=Reads((0, ANS)),
    doc="y_i = Π_{j≤i} x_j; ẏ = y·cumsum(ẋ/x), x̄ = revcumsum(ȳ·y)/x (exact with zeros)",
    batch="argreduction",
)


def _scan_axis(a, axis):
    if axis is None:
        return ns.ravel(a), 0
    n = len(shape_of(a))
    return a, int(axis) % n


def cumsum(a, axis=None, dtype=None, out=None):
    """Cumulative sum along ``axis`` (of the flattened array when None)."""
    ns._no_out(out, "cumsum")
    a, ax = _scan_axis(a, axis)
    return cumsum_p(a, axis=ax)


def cumprod(a, axis=None, dtype=None, out=None):
    """Cumulative product along ``axis`` (of the flattened array when None)."""
    ns._no_out(out, "cumprod")
    a, ax = _scan_axis(a, axis)
    return cumprod_p(a, axis=ax)


def diff(a, n=1, axis=-1, prepend=None, append=None):
    """n-th discrete difference along ``axis``: a[1:] - a[:-1], n times."""
    nd = len(shape_of(a))
    ax = int(axis) % nd
    if prepend is not None or append is not None:
        parts = []
        for extra in (prepend, a, append):
            if extra is None:
                continue
            if extra is not a and len(shape_of(extra)) == 0:
                shp = list(shape_of(a))
                shp[ax] = 1
                extra = ns.broadcast_to(extra, tuple(shp))
            parts.append(extra)
        a = ns.concatenate(parts, axis=ax)
    pre = (slice(None),) * ax
    for _ in range(n):
        a = ns.getitem(a, pre + (slice(1, None),)) - ns.getitem(a, pre + (slice(None, -1),))
    return a


def nansum(a, axis=None, dtype=None, out=None, keepdims=False):
    """Σ over ``axis`` treating NaN as 0 (NaN entries get a zero cotangent)."""
    nan = np.isnan(concrete(a))
    return ns.sum(ew.where_p(nan, 0.0, a), axis=axis, out=out, keepdims=keepdims)


def nanmean(a, axis=None, dtype=None, out=None, keepdims=False):
    """Mean over ``axis`` ignoring NaN."""
    nan = np.isnan(concrete(a))
    count = np.sum(np.logical_not(nan), axis=ns.normalize_axis(axis, len(shape_of(a))),
                   keepdims=keepdims)
    return nansum(a, axis=axis, out=out, keepdims=keepdims) / count


def average(a, axis=None, weights=None, returned=False, keepdims=False):
    """Weighted mean Σ w·a / Σ w over ``axis`` (weights may be traced)."""
    if weights is None:
        avg = ns.mean(a, axis=axis, keepdims=keepdims)
        n = np.size(concrete(a)) // max(np.size(concrete(avg)), 1)
        scl = np.broadcast_to(float(n), shape_of(avg)) if shape_of(avg) else float(n)
        return (avg, scl) if returned else avg
    ndim = len(shape_of(a))
    w = weights
    if len(shape_of(w)) != ndim:
        if axis is None or len(shape_of(w)) != 1:
            raise ValueError("average: weights must have a's shape, or be 1-D along a single axis")
        shp = [1] * ndim
        shp[int(axis) % ndim] = shape_of(w)[0]
        w = ns.reshape(w, tuple(shp))
    wsum = ns.sum(ns.broadcast_to(w, shape_of(a)) if shape_of(w) != shape_of(a) else w,
                  axis=axis, keepdims=keepdims)
    avg = ns.sum(a * w, axis=axis, keepdims=keepdims) / wsum
    return (avg, wsum) if returned else avg


def ptp(a, axis=None, out=None, keepdims=False):
    """Peak to peak: max - min over ``axis``."""
    return ns.max(a, axis=axis, out=out, keepdims=keepdims) - ns.min(
        a, axis=axis, keepdims=keepdims)


_isnan = nondiff_funcs["isnan"]


def nanprod(a, axis=None, dtype=None, out=None, keepdims=False):
    """Product with NaNs taken as 1."""
    ns._no_out(out, "nanprod")
    return ns.prod(ew.where_p(_isnan(a), 1.0, a), axis=axis, keepdims=keepdims)


def nancumsum(a, axis=None, dtype=None, out=None):
    """Running sums with NaNs taken as 0."""
    ns._no_out(out, "nancumsum")
    return cumsum(ew.where_p(_isnan(a), 0.0, a), axis=axis)


def nancumprod(a, axis=None, dtype=None, out=None):
    """Running products with NaNs taken as 1."""
    ns._no_out(out, "nancumprod")
    return cumprod(ew.where_p(_isnan(a), 1.0, a), axis=axis)
