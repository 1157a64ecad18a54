"""Order statistics and interpolation, written with chainrule's primitives.

``quantile``/``percentile``/``median`` (NumPy's default "linear" method) sort along the
axis and interpolate between the two order statistics around ``q·(n-1)``: the
derivative goes to those two elements with weights ``1-w`` and ``w``. ``nanmax``/
``nanmin`` ignore NaNs (an all-NaN slice gives NaN). ``interp`` is piecewise linear in
``x`` and linear in ``fp`` (and ``xp``); ``polyval`` is Horner's rule; ``trapezoid`` the
trapezoidal rule. Positions and masks come from the concrete values, as in NumPy.
"""

from __future__ import annotations

import numpy as np

from chainrule.core.primitive import Tracer, concrete, shape_of
from chainrule.numpy import _assembly as asm
from chainrule.numpy import _elementwise as ew
from chainrule.numpy import _namespace as ns
from chainrule.numpy import _scans

__all__ = ["quantile", "percentile", "median", "nanmax", "nanmin", "interp", "polyval",
           "trapezoid", "trapz"]


def quantile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
             keepdims=False):
    """The ``q``-th quantiles of ``a`` along ``axis`` (NumPy's "linear" method): with
    ``s`` sorted and ``p = q·(n-1)``, ``(1-w)·s[⌊p⌋] + w·s[⌈p⌉]``, ``w = p - ⌊p⌋``.
    ``q`` is a number or an array of numbers in [0, 1]; its axes come first."""
    ns._no_out(out, "quantile")
    if method != "linear":
        raise NotImplementedError(f"chainrule.numpy.quantile: method={method!r}; only "
                                  "'linear' (NumPy's default) is differentiable here")
    if isinstance(q, Tracer):
        raise NotImplementedError("chainrule.numpy.quantile: a traced q is not supported; "
                                  "pass q as a number or a NumPy array")
    qs = np.asarray(q, dtype=float)
    if np.any((qs < 0) | (qs > 1)):
        raise ValueError("quantile: q must be in [0, 1] (percentile: in [0, 100])")
    nd = len(shape_of(a))
    if axis is None:
        a, ax = ns.reshape(a, (-1,)), 0
    else:
        ax = ns.normalize_axis(axis, nd)
        if len(ax) != 1:
            raise NotImplementedError("chainrule.numpy.quantile: one axis or None")
        ax = ax[0]
    s = asm.sort(a, axis=ax)
    n = shape_of(s)[ax]
    p = qs * (n - 1)
    lo = np.floor(p).astype(int)
    hi = np.minimum(lo + 1, n - 1)
    w = p - lo
    lower = ns.moveaxis(asm.take(s, lo.ravel(), axis=ax), ax, 0)
    upper = ns.moveaxis(asm.take(s, hi.ravel(), axis=ax), ax, 0)
    wb = w.ravel().reshape((-1,) + (1,) * (len(shape_of(lower)) - 1))
    r = lower + (upper - lower) * wb  # exact at w = 0: lower
    r = ns.reshape(r, qs.shape + shape_of(r)[1:])
    if keepdims:
        shape = [1] * nd if axis is None else list(shape_of(s))
        if axis is not None:
            shape[ax] = 1
        r = ns.reshape(r, qs.shape + tuple(shape))
    return r


def percentile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
               keepdims=False):
    """``quantile(a, q / 100)``."""
    return quantile(a, np.asarray(q, dtype=float) / 100.0, axis, out, overwrite_input,
                    method, keepdims)


def median(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    """``quantile(a, 0.5)``: the middle element, or the mean of the middle two."""
    return quantile(a, 0.5, axis, out, overwrite_input, "linear", keepdims)


def _nan_extremum(a, axis, keepdims, reduce, fill):
    nan = np.isnan(concrete(a))
    r = reduce(ew.where_p(nan, fill, a), axis=axis, keepdims=keepdims)
    return ew.where_p(np.all(nan, axis=axis, keepdims=keepdims), np.nan, r)


def nanmax(a, axis=None, out=None, keepdims=False):
    """Maximum ignoring NaNs (NaN where a whole slice is NaN, as NumPy, which also warns)."""
    ns._no_out(out, "nanmax")
    return _nan_extremum(a, axis, keepdims, ns.max, -np.inf)


def nanmin(a, axis=None, out=None, keepdims=False):
    """Minimum ignoring NaNs (NaN where a whole slice is NaN)."""
    ns._no_out(out, "nanmin")
    return _nan_extremum(a, axis, keepdims, ns.min, np.inf)


def interp(x, xp, fp, left=None, right=None, period=None):
    """Piecewise-linear interpolation of the points ``(xp, fp)`` at ``x`` (``xp``
    increasing): ``f0 + (x - x0)·(f1 - f0)/(x1 - x0)`` on the segment holding ``x``,
    ``left``/``right`` (default ``fp[0]``/``fp[-1]``) outside."""
    if period is not None:
        raise NotImplementedError("chainrule.numpy.interp: period= is not supported")
    xpc = concrete(xp)
    if isinstance(xpc, Tracer):
        raise NotImplementedError("chainrule.numpy.interp: xp must be known (not vmapped "
                                  "or staged); fp and x may be")
    xpc = np.asarray(xpc, dtype=float)
    if xpc.ndim != 1 or len(xpc) < 1 or shape_of(fp) != xpc.shape:
        raise ValueError("interp: xp and fp must be 1-D sequences of the same length")
    xc = concrete(x)
    if isinstance(xc, Tracer):  # x batched by vmap or staged by jit: no gather by position
        return _interp_by_segments(x, xp, fp, xpc, left, right)
    xc = np.asarray(xc, dtype=float)
    if len(xpc) == 1:
        i0 = i1 = np.zeros(xc.shape, dtype=int)
    else:
        i0 = np.clip(np.searchsorted(xpc, xc, side="right") - 1, 0, len(xpc) - 2)
        i1 = i0 + 1
    x0, x1 = asm.take(xp, i0), asm.take(xp, i1)
    f0, f1 = asm.take(fp, i0), asm.take(fp, i1)
    flat = np.asarray(xpc[i1] == xpc[i0])
    span = ew.where_p(flat, 1.0, x1 - x0)
    y = ew.where_p(flat, f0, f0 + (x - x0) * ((f1 - f0) / span))
    below, above = xc < xpc[0], xc > xpc[-1]
    if np.any(below):
        y = ew.where_p(below, asm.take(fp, 0) if left is None else left, y)
    if np.any(above):
        y = ew.where_p(above, asm.take(fp, -1) if right is None else right, y)
    return y


def _interp_by_segments(x, xp, fp, xpc, left, right):
    """``interp`` with elementwise operations only, one ``where`` per segment of ``xp``
    (for an ``x`` whose values are not known: vmap, jit)."""
    first, last = asm.take(fp, 0), asm.take(fp, -1)
    y = ew.multiply(x, 0.0) + first
    for j in range(len(xpc) - 1):
        if xpc[j + 1] == xpc[j]:
            continue  # an empty segment
        f0, f1 = asm.take(fp, j), asm.take(fp, j + 1)
        x0, x1 = asm.take(xp, j), asm.take(xp, j + 1)
        y = ew.where_p(x >= xpc[j], f0 + (x - x0) * ((f1 - f0) / (x1 - x0)), y)
    y = ew.where_p(x < xpc[0], first if left is None else left, y)
    return ew.where_p(x > xpc[-1], last if right is None else right, y)


def polyval(p, x):
    """``p[0]·x^(n-1) + … + p[n-1]``, by Horner's rule (``p`` may be traced)."""
    if isinstance(p, np.poly1d):
        p = p.coeffs
    coeffs = [p[i] for i in range(shape_of(p)[0])] if not isinstance(p, (list, tuple)) \
        else list(p)
    y = ew.multiply(x, 0.0) + coeffs[0] if coeffs else ew.multiply(x, 0.0)
    for c in coeffs[1:]:
        y = y * x + c
    return y


def trapezoid(y, x=None, dx=1.0, axis=-1):
    """``Σ (y[i] + y[i+1])/2 · Δx_i`` along ``axis`` (``Δx = diff(x)`` or ``dx``)."""
    nd = len(shape_of(y))
    ax = ns.normalize_axis(axis, nd)[0]
    head = (slice(None),) * ax
    upper, lower = y[head + (slice(1, None),)], y[head + (slice(None, -1),)]
    if x is None:
        d = dx
    else:
        d = _scans.diff(x) if len(shape_of(x)) == 1 else _scans.diff(x, axis=ax)
        if len(shape_of(x)) == 1 and nd > 1:
            d = ns.reshape(d, (-1,) + (1,) * (nd - 1 - ax))
    return ns.sum((upper + lower) * d, axis=ax) / 2.0


trapz = trapezoid
