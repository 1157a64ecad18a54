"""Argument checking and calling the user's function, with errors that say what to do."""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

METHODS = ("forward", "backward", "central", "complex", "richardson")
"""Every method name accepted by the differencing functions."""


class ComplexStepError(TypeError, ValueError):
    """f cannot be evaluated at complex points (raised by ``method="complex"``)."""


def check_callable(f: Any, name: str = "f") -> Callable:
    if not callable(f):
        raise TypeError(
            f"{name} must be a callable (a function of x), got {type(f).__name__} {f!r:.60}; "
            f"pass the function itself, e.g. derivative(np.sin, 1.0), not its value"
        )
    return f


def check_method(method: Any, allowed: tuple[str, ...] = METHODS, where: str = "") -> str:
    if not isinstance(method, str) or method not in allowed:
        valid = ", ".join(repr(m) for m in allowed)
        raise ValueError(f"{where}method must be one of {valid}; got {method!r}")
    return method


def check_order(order: Any, where: str = "") -> int:
    if isinstance(order, bool) or not isinstance(order, numbers.Integral):
        raise TypeError(
            f"{where}order must be a positive integer (1 for f', 2 for f'', ...), "
            f"got {type(order).__name__} {order!r}"
        )
    if order < 1:
        raise ValueError(
            f"{where}order must be >= 1 (1 for f', 2 for f'', ...), got {order}; "
            f"for the value itself just call f(x)"
        )
    return int(order)


def check_accuracy(stencil: Any, method: str, where: str = "") -> int | None:
    """The truncation order asked for with ``stencil=`` (None for the method's default)."""
    if stencil is None:
        return None
    if isinstance(stencil, bool) or not isinstance(stencil, numbers.Integral) or stencil < 1:
        raise ValueError(
            f"{where}stencil must be a positive integer, the truncation order of the "
            f"difference formula (2, 4, 6, ... for central; 1, 2, 3, ... for forward or "
            f"backward), got {stencil!r}"
        )
    if method in ("central", "richardson") and stencil % 2:
        raise ValueError(
            f"{where}stencil={stencil} is odd, but central differences have even truncation "
            f"orders: use stencil={stencil + 1} (or method='forward' for odd orders)"
        )
    if method == "complex":
        raise ValueError(
            f"{where}stencil is not used by method='complex' (its formulas are fixed); "
            f"leave stencil=None"
        )
    return int(stencil)


def as_real_scalar(x: Any, name: str = "x", where: str = "") -> float:
    arr = np.asarray(x)
    if arr.dtype == object or not np.issubdtype(arr.dtype, np.number):
        raise TypeError(f"{where}{name} must be a real number, got {type(x).__name__} {x!r:.60}")
    if arr.size != 1:
        raise ValueError(
            f"{where}{name} must be a scalar, got an array of shape {arr.shape}; "
            f"use gradient() or jacobian() for functions of several variables"
        )
    if np.iscomplexobj(arr):
        raise TypeError(
            f"{where}{name} must be real, got the complex number {x!r}; "
            f"the complex step is taken for you with method='complex'"
        )
    value = float(arr.reshape(()))
    if not np.isfinite(value):
        raise ValueError(f"{where}{name} must be finite, got {value}")
    return value


def as_real_array(x: Any, name: str = "x", where: str = "") -> np.ndarray:
    try:
        arr = np.array(x, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"{where}{name} must be a real number, a list of numbers or a NumPy array, "
            f"got {type(x).__name__} {x!r:.60} ({exc})"
        ) from None
    if np.iscomplexobj(np.asarray(x)):
        raise TypeError(f"{where}{name} must be real; the complex step is taken for you")
    bad = ~np.isfinite(arr)
    if bad.any():
        where_bad = np.argwhere(bad)[:3].tolist()
        raise ValueError(
            f"{where}{name} must be finite everywhere; it has {int(bad.sum())} non-finite "
            f"entries (first at index {where_bad})"
        )
    return arr


def check_step(step: Any, shape: tuple[int, ...] = (), name: str = "step", where: str = ""):
    """None, or a positive finite step broadcast to ``shape`` (an ndarray, or a float)."""
    if step is None:
        return None
    try:
        arr = np.array(step, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(
            f"{where}{name} must be None (automatic) or a positive number, got {step!r:.60}"
        ) from None
    if not np.all(np.isfinite(arr)) or not np.all(arr > 0):
        raise ValueError(
            f"{where}{name} must be positive and finite, got {step!r:.60}; "
            f"pass step=None to let the step be chosen for you"
        )
    if shape == () and arr.size == 1:
        return float(arr.reshape(()))
    try:
        return np.broadcast_to(arr, shape).astype(float)
    except ValueError:
        raise ValueError(
            f"{where}{name} must be a scalar or broadcast to x's shape {shape}, "
            f"got shape {arr.shape}"
        ) from None


def to_output(y: Any, where: str = "") -> np.ndarray:
    """The value returned by f as an ndarray of numbers (TypeError otherwise)."""
    arr = np.asarray(y)
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_
    ):
        raise TypeError(
            f"{where}f must return a number or an array of numbers, got "
            f"{type(y).__name__} {y!r:.60}"
        )
    if arr.dtype == np.bool_ or np.issubdtype(arr.dtype, np.integer):
        arr = arr.astype(float)
    return arr


def call_complex(f: Callable, z: Any, where: str = "") -> np.ndarray:
    """``f(z)`` for a complex ``z``, refusing functions that drop the imaginary part."""
    hint = (
        "method='complex' evaluates f at a complex point x + ih, so f must be written "
        "with operations that accept complex numbers (NumPy ufuncs such as np.sin, "
        "np.exp, arithmetic, **) and must not call math.*, float(), abs(), np.abs, "
        "np.real or comparisons on x; otherwise use method='central' or 'richardson'"
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", np.exceptions.ComplexWarning)
            y = f(z)
    except np.exceptions.ComplexWarning as exc:
        raise ComplexStepError(
            f"{where}f discarded the imaginary part of its input ({exc}); {hint}"
        ) from None
    except (TypeError, ValueError) as exc:
        raise ComplexStepError(
            f"{where}f raised {type(exc).__name__} on complex input ({exc}); {hint}"
        ) from exc
    out = to_output(y, where)
    if not np.iscomplexobj(out):
        raise ComplexStepError(
            f"{where}f returned real values ({out.dtype}) for the complex input {z!r:.60}: "
            f"it discards the imaginary part, so the complex step sees no derivative; {hint}"
        )
    return out
