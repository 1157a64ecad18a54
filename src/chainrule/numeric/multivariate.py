"""``gradient``, ``jacobian`` and ``directional``: first derivatives of functions of arrays."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ._checks import (
    METHODS,
    as_real_array,
    check_callable,
    check_method,
    check_step,
)
from .line import Evaluator, Line, default_accuracy, line_derivative, pow2_step
from .result import DerivativeResult
from .scalar import _plain
from .steps import default_step, representable_step

__all__ = ["gradient", "jacobian", "directional"]


def coordinate_steps(method: str, x: np.ndarray, step, order: int = 1) -> np.ndarray:
    """Per-coordinate steps: the user's, or the method's rule applied to each ``x_i``."""
    if step is not None:
        return np.broadcast_to(np.asarray(step, dtype=float), x.shape)
    h = np.asarray(default_step(method, order, default_accuracy(method), x), dtype=float)
    if method == "richardson":
        return np.vectorize(pow2_step, otypes=[float])(h)
    if method == "complex":
        return h
    return np.asarray(representable_step(x, h), dtype=float)


def _partials(f, x, method, step, want_error, where):
    """All partial derivatives: value (out.shape + x.shape), error, steps, nfev."""
    ev = Evaluator(f, x, where)
    h = coordinate_steps(method, x, step)
    cols, errs, used = [], [], np.zeros(x.shape)
    for j in range(x.size):
        est = line_derivative(Line(ev, axis=j), 1, method, float(h.flat[j]), None, want_error)
        cols.append(est.value)
        errs.append(est.error)
        used.flat[j] = est.step
    if not cols:  # x has no entries: the Jacobian is empty
        out_shape = ev.f0().shape
        empty = np.zeros(out_shape + x.shape)
        return empty, empty.copy(), used, ev.nfev
    out_shape = np.shape(cols[0])
    value = np.stack(cols, axis=-1).reshape(out_shape + x.shape)
    error = np.stack(errs, axis=-1).reshape(out_shape + x.shape) if want_error else None
    return value, error, used, ev.nfev


def gradient(
    f: Callable,
    x: Any,
    method: str = "central",
    step: Any = None,
    full_output: bool = False,
) -> np.ndarray | float | DerivativeResult:
    """The gradient of a scalar function of an array by one partial derivative per entry.

    Partial ``i`` is the derivative of ``t -> f(x + t e_i)`` at 0 by ``method`` (the
    formulas of :func:`~chainrule.numeric.derivative`), each with its own step:
    ``h_i = eps^(1/(p+1)) * max(1, |x_i|)`` by default (forward ``~1.5e-8``, error
    ``O(h)``; central ``~6e-6``, error ``O(h^2)``; complex ``1e-20``, exact to rounding;
    Richardson starts at ``max(1, |x_i|) / 8``). Costs ``n + 1`` evaluations (forward,
    backward), ``2n`` (central), ``n`` (complex) or up to ``16 n`` (Richardson).

    Args:
        f: ``R^n -> R``; it receives a float array shaped like ``x`` and returns a scalar.
        x: the point: a float, a (nested) list or an array of any shape.
        method: ``"forward"``, ``"backward"``, ``"central"``, ``"complex"`` or
            ``"richardson"``.
        step: None, one step for every entry, or an array of steps broadcast to ``x``.
        full_output: return a :class:`DerivativeResult` with per-entry error estimates.

    Returns:
        The gradient, shaped like ``x`` (a float for a scalar ``x``).

    Example:
        >>> import numpy as np
        >>> g = gradient(lambda x: np.sum(x**2), [1.0, 2.0, 3.0], method="complex")
        >>> g.tolist()
        [2.0, 4.0, 6.0]
    """
    where = "gradient(): "
    f = check_callable(f)
    method = check_method(method, METHODS, where)
    x = as_real_array(x, where=where)
    step = check_step(step, x.shape, where=where)
    value, error, used, nfev = _partials(f, x, method, step, full_output, where)
    if value.shape != x.shape:
        if value.size == x.size:  # f returned a one-element array: fine
            value = value.reshape(x.shape)
            error = None if error is None else error.reshape(x.shape)
        else:
            raise ValueError(
                f"{where}f must return a scalar, but it returned an array of shape "
                f"{value.shape[: value.ndim - x.ndim]}; use jacobian() for vector-valued "
                f"functions, or reduce the output (e.g. np.sum) first"
            )
    if not full_output:
        return _plain(value)
    return DerivativeResult(_plain(value), _plain(error), _plain(used), nfev, method)


def _direction_step(method: str, x: np.ndarray, v: np.ndarray) -> float:
    """One step along ``v``: the method's rule at scale ``max(1, |x|_inf)`` over ``|v|_inf``."""
    xscale = float(np.max(np.abs(x))) if x.size else 0.0
    h = default_step(method, 1, default_accuracy(method), xscale) / float(np.max(np.abs(v)))
    return pow2_step(h) if method == "richardson" else h


def jacobian(
    f: Callable,
    x: Any,
    method: str = "central",
    step: Any = None,
    direction: Any = None,
    full_output: bool = False,
) -> np.ndarray | float | DerivativeResult:
    """The Jacobian of ``f`` at ``x``, one column per perturbed entry of ``x``; or ``J v``.

    Column ``j`` is the derivative of ``t -> f(x + t e_j)`` at 0 (steps as in
    :func:`gradient`). With ``direction=v`` only the product ``J v`` is formed, as the
    derivative of ``t -> f(x + t v)`` at 0: one evaluation (complex), two (forward,
    backward: ``(f(x + hv) - f(x)) / h``; central: ``(f(x + hv) - f(x - hv)) / 2h``), with
    ``h`` the method's step for ``max(1, |x|_inf)`` divided by ``|v|_inf``.

    Args:
        f: a function of an array (shaped like ``x``) returning a number or an array.
        x: the point (float, list or array of any shape).
        method: ``"forward"``, ``"backward"``, ``"central"``, ``"complex"`` or
            ``"richardson"``.
        step: None, or the step(s): per entry of ``x`` (broadcast), or one float along
            ``direction``.
        direction: None for the full Jacobian, or ``v`` shaped like ``x`` for ``J v``.
        full_output: return a :class:`DerivativeResult` with error estimates.

    Returns:
        An array of shape ``out.shape + x.shape`` (``J[..., j] = d out / d x_j``), or
        with ``direction``, ``J v`` shaped like ``f``'s output (a float for scalars).

    Example:
        >>> import numpy as np
        >>> f = lambda x: np.array([x[0] * x[1], np.sin(x[0])])
        >>> J = jacobian(f, [1.0, 2.0], method="complex")
        >>> np.allclose(J, [[2.0, 1.0], [np.cos(1.0), 0.0]], rtol=1e-15)
        True
        >>> np.allclose(jacobian(f, [1.0, 2.0], direction=[1.0, 0.0]), J[:, 0])
        True
    """
    where = "jacobian(): "
    f = check_callable(f)
    method = check_method(method, METHODS, where)
    x = as_real_array(x, where=where)
    if direction is not None:
        return _directional(f, x, direction, method, step, full_output, where)
    step = check_step(step, x.shape, where=where)
    value, error, used, nfev = _partials(f, x, method, step, full_output, where)
    if not full_output:
        return value
    return DerivativeResult(value, error, _plain(used), nfev, method)


def _directional(f, x, v, method, step, full_output, where):
    v = as_real_array(v, name="direction", where=where)
    if v.shape != x.shape:
        raise ValueError(
            f"{where}the direction must have x's shape {x.shape}, got shape {v.shape}"
        )
    step = check_step(step, where=where)
    if step is not None and not isinstance(step, float):
        raise ValueError(f"{where}step along a direction must be one number, got {step!r}")
    ev = Evaluator(f, x, where)
    if not np.any(v):  # zero direction: the product is zero; f(x) gives its shape
        value = np.zeros(ev.f0().shape)
        est_error, h = np.zeros(value.shape), 0.0
    else:
        h = step if step is not None else _direction_step(method, x, v)
        est = line_derivative(Line(ev, direction=v), 1, method, h, None, full_output)
        value, est_error, h = est.value, est.error, est.step
    if not full_output:
        return _plain(value)
    return DerivativeResult(_plain(value), _plain(est_error), h, ev.nfev, method)


def directional(
    f: Callable,
    x: Any,
    v: Any,
    method: str = "central",
    step: float | None = None,
    full_output: bool = False,
) -> np.ndarray | float | DerivativeResult:
    """The directional derivative ``D_v f(x) = d/dt f(x + t v)`` at ``t = 0`` (= ``J v``).

    Same formulas and step rule as :func:`jacobian` with ``direction=v``: one or two
    evaluations of ``f`` (up to 16 for Richardson), independent of the size of ``x``.

    Args:
        f: a function of an array shaped like ``x``.
        x: the point.
        v: the direction, shaped like ``x`` (not normalised: the result scales with it).
        method: ``"forward"``, ``"backward"``, ``"central"``, ``"complex"`` or
            ``"richardson"``.
        step: None, or the step ``h`` along ``v`` (the points are ``x + k h v``).
        full_output: return a :class:`DerivativeResult` with an error estimate.

    Returns:
        ``D_v f(x)``, shaped like ``f``'s output (a float for scalar outputs).

    Example:
        >>> import numpy as np
        >>> d = directional(lambda x: np.sum(x**3), [1.0, 2.0], [1.0, -1.0], method="complex")
        >>> d  # 3 * 1**2 - 3 * 2**2
        -9.0
    """
    where = "directional(): "
    f = check_callable(f)
    method = check_method(method, METHODS, where)
    x = as_real_array(x, where=where)
    return _directional(f, x, v, method, step, full_output, where)
