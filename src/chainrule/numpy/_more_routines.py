"""More NumPy routines, written with chainrule's primitives.

``gradient`` (central differences inside, one-sided of order 1 or 2 at the edges, uniform
spacing), ``nanprod``/``nancumsum``/``nancumprod`` (NaN as the neutral element),
``copysign``, ``fmod`` (``a - b·trunc(a/b)``), ``delete``, ``block``, ``piecewise`` and
``polyfit`` (least squares on the Vandermonde matrix).
"""

from __future__ import annotations

import functools

import numpy as np

from chainrule.core.primitive import Tracer, concrete, dtype_of, shape_of
from chainrule.numpy import _array_api as api
from chainrule.numpy import _assembly as asm
from chainrule.numpy import _elementwise as ew
from chainrule.numpy import _namespace as ns
from chainrule.numpy import _scans
from chainrule.numpy import linalg
from chainrule.numpy._nondiff import nondiff_funcs

__all__ = ["gradient", "nanprod", "nancumsum", "nancumprod", "copysign", "fmod", "delete",
           "block", "piecewise", "polyfit"]

_isnan, _signbit = nondiff_funcs["isnan"], nondiff_funcs["signbit"]


def _along(a, ax: int, sl) -> object:
    return a[(slice(None),) * ax + (sl,)]


def gradient(f, *varargs, axis=None, edge_order=1):
    """∂f/∂x along each axis: ``(f[i+1] - f[i-1]) / 2h`` inside; at the edges
    ``(f[1] - f[0]) / h`` (``edge_order=1``) or ``(-3f[0] + 4f[1] - f[2]) / 2h`` (2).
    Spacings are numbers (one, or one per axis); a tuple for several axes."""
    nd = len(shape_of(f))
    axes = tuple(range(nd)) if axis is None else ns.normalize_axis(axis, nd)
    if len(varargs) > 1 and len(varargs) != len(axes):
        raise TypeError("gradient: give one spacing, or one per axis")
    spacings = list(varargs) * len(axes) if len(varargs) == 1 else list(varargs) or \
        [1.0] * len(axes)
    if any(np.ndim(concrete(h)) or isinstance(h, Tracer) for h in spacings):
        raise NotImplementedError("chainrule.numpy.gradient: spacings must be numbers "
                                  "(coordinate arrays are not supported)")
    if edge_order not in (1, 2):
        raise ValueError("gradient: edge_order must be 1 or 2")
    out = []
    for ax, h in zip(axes, spacings):
        n = shape_of(f)[ax]
        if n < edge_order + 1:
            raise ValueError("gradient: an axis needs at least edge_order + 1 points")
        inner = (_along(f, ax, slice(2, None)) - _along(f, ax, slice(None, -2))) / (2.0 * h)
        if edge_order == 1:
            first = (_along(f, ax, slice(1, 2)) - _along(f, ax, slice(0, 1))) / h
            last = (_along(f, ax, slice(-1, None)) - _along(f, ax, slice(-2, -1))) / h
        else:
            first = (-3.0 * _along(f, ax, slice(0, 1)) + 4.0 * _along(f, ax, slice(1, 2))
                     - _along(f, ax, slice(2, 3))) / (2.0 * h)
            last = (3.0 * _along(f, ax, slice(-1, None)) - 4.0 * _along(f, ax, slice(-2, -1))
                    + _along(f, ax, slice(-3, -2))) / (2.0 * h)
        out.append(ns.concatenate([first, inner, last], axis=ax))
    return out[0] if len(out) == 1 else tuple(out)


def nanprod(a, axis=None, dtype=None, out=None, keepdims=False):
    """Product with NaNs taken as 1."""
    ns._no_out(out, "nanprod")
    return ns.prod(ew.where_p(_isnan(a), 1.0, a), axis=axis, keepdims=keepdims)


def nancumsum(a, axis=None, dtype=None, out=None):
    """Running sums with NaNs taken as 0."""
    ns._no_out(out, "nancumsum")
    return _scans.cumsum(ew.where_p(_isnan(a), 0.0, a), axis=axis)


def nancumprod(a, axis=None, dtype=None, out=None):
    """Running products with NaNs taken as 1."""
    ns._no_out(out, "nancumprod")
    return _scans.cumprod(ew.where_p(_isnan(a), 1.0, a), axis=axis)


def copysign(x1, x2):
    """``|x1|`` with the sign bit of ``x2`` (-0.0 counts as negative)."""
    magnitude = ew.absolute(x1 * 1.0)  # floating, as NumPy's
    return ew.where_p(_signbit(x2), -magnitude, magnitude)


def fmod(x1, x2):
    """C's remainder ``x1 - x2·trunc(x1/x2)`` (the sign of ``x1``)."""
    if not isinstance(x1, Tracer) and not isinstance(x2, Tracer) \
            and dtype_of(x1).kind in "iub" and dtype_of(x2).kind in "iub":
        return np.fmod(x1, x2)  # integers: NumPy's, exactly (and nothing to differentiate)
    q = ew.divide(concrete(x1), concrete(x2))
    return x1 - x2 * ew.where_p(q >= 0, ew.floor(q), ew.ceil(q))  # trunc, derivative 0


def delete(arr, obj, axis=None):
    """``arr`` without the entries ``obj`` (an int, slice or index array) along ``axis``."""
    if axis is None:
        arr, axis = ns.reshape(arr, (-1,)), 0
    ax = ns.normalize_axis(axis, len(shape_of(arr)))[0]
    keep = np.delete(np.arange(shape_of(arr)[ax]), obj)
    return asm.take(arr, keep, axis=ax)


def block(arrays):
    """Assemble nested lists of blocks: the innermost lists along the last axis, each
    level out one axis earlier (as ``numpy.block``)."""
    def depth(x) -> int:
        return 1 + depth(x[0]) if isinstance(x, list) else 0

    levels = depth(arrays)
    nd = max(levels, *(len(shape_of(b)) for b in _leaves(arrays)))

    def assemble(x, level: int):
        if not isinstance(x, list):
            s = shape_of(x)
            return ns.reshape(x, (1,) * (nd - len(s)) + s)
        return ns.concatenate([assemble(b, level + 1) for b in x], axis=nd - levels + level)

    return assemble(arrays, 0)


def _leaves(x):
    return [b for item in x for b in _leaves(item)] if isinstance(x, list) else [x]


def piecewise(x, condlist, funclist, *args, **kw):
    """``funclist[i](x)`` where ``condlist[i]`` (the last one wins); one extra function is
    the default where no condition holds; numbers are constants."""
    if isinstance(condlist, np.ndarray) and condlist.dtype == bool and condlist.ndim == \
            len(shape_of(x)):
        condlist = [condlist]
    conds = [concrete(c) for c in condlist]
    if len(funclist) == len(conds) + 1:
        conds.append(np.logical_not(functools.reduce(np.logical_or, conds)))
    elif len(funclist) != len(conds):
        raise ValueError("piecewise: give one function per condition (and one default)")
    y = ew.multiply(x, 0.0)
    for c, fn in zip(conds, funclist):
        value = fn(x, *args, **kw) if callable(fn) else fn
        y = ew.where_p(c, value, y)
    return y


def polyfit(x, y, deg, rcond=None, full=False, w=None, cov=False):
    """Least-squares polynomial coefficients (highest power first) of degree ``deg``."""
    if full or cov or w is not None:
        raise NotImplementedError("chainrule.numpy.polyfit: full=, w= and cov= are not "
                                  "supported")
    return linalg.lstsq(api.vander(x, deg + 1), y)[0]
