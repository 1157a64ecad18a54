"""NaN checks of a reverse sweep over plain NumPy values, done once at its end.

Inside the rules ``zero_safe`` replaces a NaN of ``c·∂f`` by 0 where the cotangent ``c``
is 0 or infinite (0·∞ = 0). Finding out whether a result holds a NaN is a pass over it
per rule: on small arrays as much as the rule itself. In a sweep whose values are all
plain arrays, a NaN that a rule leaves in place either reaches an input's adjoint (a NaN
stays a NaN through sums, products, matrix products, scatters and slices) or is dropped
on the way (a ``where``, a slice of a constant's part), and where it is dropped the 0 the
check would have put there is dropped as well. So :func:`backward
<chainrule.interpreters.reverse.backward>` first sweeps with the checks deferred and keeps
that result when no input's adjoint holds a NaN; otherwise it sweeps again with every
check in place (the plain sweep), which is then the result. Sweeps over traced values
(higher derivatives, ``vmap``, ``jit``) always check as they go.
"""

from __future__ import annotations

import math
import threading

import numpy as np

__all__ = ["deferred", "defer", "restore", "has_nan", "has_nan_plain"]

_state = threading.local()


def deferred() -> bool:
    """Are NaN checks deferred in this thread (a plain sweep's first pass)?

    >>> deferred()
    False
    """
    return getattr(_state, "on", False)


def defer() -> bool:
    """Defer the checks in this thread; returns the previous setting for :func:`restore`."""
    was = getattr(_state, "on", False)
    _state.on = True
    return was


def restore(was: bool) -> None:
    """Put back the setting :func:`defer` returned."""
    _state.on = was


def has_nan(r) -> bool:
    """Does the NumPy value ``r`` hold a NaN? (Σ|r|² is NaN exactly then: one call on
    small arrays, where a mask and a reduction cost twice as much; on larger real arrays
    min(r), NaN exactly then too, is one pass that allocates nothing.) False for values
    that are not floating-point numbers (SymPy expressions traced by the bridge)."""
    if type(r) is np.ndarray:
        kind = r.dtype.kind
        if kind == "f":
            return math.isnan(abs(np.vdot(r, r))) if r.size <= 256 else math.isnan(r.min())
        if kind == "c":
            return math.isnan(abs(np.vdot(r, r))) if r.size <= 256 \
                else bool(np.isnan(r).any())
        return False
    return has_nan_plain(r)


def has_nan_plain(r) -> bool:
    """:func:`has_nan` for any value, by ``numpy.isnan`` (the plain version it stands for)."""
    if type(r) is float:
        return r != r
    dtype = getattr(r, "dtype", None)
    if dtype is None or dtype.kind not in "fc":
        return False
    return bool(np.isnan(r).any())
