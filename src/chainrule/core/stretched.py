"""Stretched arrays: one number broadcast to a shape (every stride 0).

The adjoint of a sum or a mean is such an array, and so are the cotangents that
scaling and negation make of it. Rules that recognise one scale or sum its number,
without a pass over memory.
"""

from __future__ import annotations

import numpy as np

__all__ = ["stretched_value", "stretched", "times_number"]

_ndarray = np.ndarray


def stretched_value(c):
    """The single number of ``c`` when it is an array stretched from one (all strides 0,
    more than one element), else ``None``."""
    if type(c) is _ndarray and c.ndim and not any(c.strides) and c.size > 1:
        return c[(0,) * c.ndim]
    return None


def stretched(v, shape: tuple) -> np.ndarray:
    """The number ``v`` stretched, read-only, to ``shape`` (``numpy.broadcast_to``, in a
    third of its time)."""
    base = np.asarray(v)
    out = _ndarray(shape, base.dtype, buffer=base, strides=(0,) * len(shape))
    out.flags.writeable = False
    return out


def times_number(c, k):
    """``c · k`` for a number ``k`` (or a 0-d array); a stretched ``c`` stays stretched."""
    v = stretched_value(c)
    if v is not None and (type(k) is float or type(k) is int or np.ndim(k) == 0
                          and isinstance(k, (_ndarray, np.generic))):
        return stretched(v * k, c.shape)
    return c * k
