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

Only checks of NumPy scalars and of arrays larger than :data:`CHECK_NOW_MAX` elements are
deferred: a smaller array's costs less than the inputs' check at the end (5 µs for W5's
128×256 tanh adjoint, against 50 µs for its 784×256 weight gradient), and a sweep that
deferred nothing skips that end check (:func:`skipped`).
"""

from __future__ import annotations

import math
import threading

import numpy as np

__all__ = ["CHECK_NOW_MAX", "defer", "restore", "skipped", "found_nan", "has_nan",
           "has_nan_plain"]

#: results up to this many elements are checked at once even in a deferred sweep
CHECK_NOW_MAX = 65536

_state = threading.local()


def defer() -> list | None:
    """Defer the checks in this thread; returns the previous setting for :func:`restore`.

    The setting is None (checks not deferred) or a one-element list: whether a check has
    been skipped since (one thread-local attribute, read once per sweep and per check)."""
    was = getattr(_state, "deferral", None)
    _state.deferral = [False]
    return was


def restore(was: list | None) -> None:
    """Put back the setting :func:`defer` returned."""
    _state.deferral = was


def skipped() -> bool:
    """Has a check been deferred since the last :func:`defer` in this thread?

    >>> was = defer(); skipped()
    False
    >>> found_nan(np.zeros(CHECK_NOW_MAX + 1)), skipped()
    (False, True)
    >>> restore(was)
    """
    deferral = getattr(_state, "deferral", None)
    return deferral is not None and deferral[0]


def found_nan(r) -> bool:
    """A rule's check of its NumPy result ``r``: :func:`has_nan`, or False when deferred
    (recording that a check was skipped) for a result of more than
    :data:`CHECK_NOW_MAX` elements or a NumPy scalar (checking those one by one made the
    pendulum gradient, W7, 50% slower; its inputs' adjoints are two numbers)."""
    deferral = getattr(_state, "deferral", None)
    if deferral is not None and (type(r) is not np.ndarray or r.size > CHECK_NOW_MAX):
        deferral[0] = True
        return False
    return has_nan(r)


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
