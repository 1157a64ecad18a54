"""NumPy's floating-point warnings off while derivative rules run.

Rules evaluate partial derivatives at points where a masked branch is infinite or NaN
(``1/x`` at 0 under ``where(x > 1, 1/x, 0)``, ``√x`` at 0), and ``zero_safe`` keeps their
results finite, so NumPy's divide/invalid/overflow warnings there would only alarm. The
interpreters run rules between :func:`enter` and :func:`leave`; the user's own function
keeps NumPy's warnings.

``np.errstate`` costs about 2 µs per entry, as much as a small array operation, and
forward mode enters once per primitive. NumPy 2 keeps its error state in one context
variable holding an opaque object: :func:`enter` sets a ready-made quiet version of the
current object (remade only when the current one changes), a tenth of that cost.
:func:`plain_quiet` is the ``np.errstate`` it stands for (a test checks that they agree),
used where NumPy's internals differ.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["enter", "leave", "plain_quiet"]

_SETTINGS = {"divide": "ignore", "invalid": "ignore", "over": "ignore"}

try:  # NumPy ≥ 2.0: the state is _extobj_contextvar, a new object is made by _make_extobj
    from numpy._core._ufunc_config import _extobj_contextvar as _STATE
    from numpy._core.umath import _make_extobj
except ImportError:  # pragma: no cover - other NumPy versions take the plain path
    _STATE = _make_extobj = None

#: (the last error state seen, its quiet version): one entry, remade when the user's
#: state changes (each ``np.errstate`` makes a new object), so it never grows
_last: list = [None]


def plain_quiet() -> np.errstate:
    """The settings :func:`enter` makes, as an ``np.errstate`` (not yet entered)."""
    return np.errstate(**_SETTINGS)


def enter() -> Any:
    """Turn divide/invalid/overflow warnings off (other settings kept); returns what
    :func:`leave` needs to restore the state, None when they were off already."""
    if _STATE is None:  # pragma: no cover
        state = plain_quiet()
        state.__enter__()
        return state
    current = _STATE.get()
    last = _last[0]
    if last is None or last[0] is not current:
        if last is not None and current is last[1]:
            return None  # already quiet (a rule inside a rule)
        last = _last[0] = (current, _make_extobj(**_SETTINGS))
    return _STATE.set(last[1])


def leave(token: Any) -> None:
    """Restore the state :func:`enter` changed."""
    if token is None:
        return
    if _STATE is None:  # pragma: no cover
        token.__exit__(None, None, None)
    else:
        _STATE.reset(token)
