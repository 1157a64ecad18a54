"""Functions of sampled data: points (``linspace``, differentiable in its ends), slopes
(``gradient``: central differences inside, one-sided of order 1 or 2 at the edges,
uniform spacing) and fits (``polyfit``: least squares on the Vandermonde matrix).
"""

from __future__ import annotations

import numpy as np

from chainrule.core.primitive import Tracer, concrete, shape_of
from chainrule.numpy import _array_api as api
from chainrule.numpy import _namespace as ns
from chainrule.numpy import linalg

__all__ = ["linspace", "gradient", "polyfit"]


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    """``numpy.linspace``, differentiable in ``start`` and ``stop``."""
    if not ns.any_traced(start, stop):
        return np.linspace(start, stop, num, endpoint, retstep, dtype, axis)
    if axis != 0:
        raise NotImplementedError("chainrule.numpy.linspace: only axis=0 with traced ends")
    div = (num - 1 if endpoint else num) if num > 0 else 1
    w = np.arange(num, dtype=float) / (div if div > 0 else 1)
    nd_ = max(len(shape_of(start)), len(shape_of(stop)))
    w = w.reshape((num,) + (1,) * nd_)
    delta = stop - start
    y = start + delta * w
    if endpoint and num > 1:  # the last point is exactly ``stop``, as in NumPy
        y = ns.concatenate([y[:-1], ns.expand_dims(stop + 0.0 * start, 0)], axis=0)
    if dtype is not None:
        y = y.astype(dtype)
    return (y, delta / div) if retstep else y


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


def polyfit(x, y, deg, rcond=None, full=False, w=None, cov=False):
    """Least-squares polynomial coefficients (highest power first) of degree ``deg``."""
    if full or cov or w is not None:
        raise NotImplementedError("chainrule.numpy.polyfit: full=, w= and cov= are not "
                                  "supported")
    return linalg.lstsq(api.vander(x, deg + 1), y)[0]
