"""Terminal events: integrate until ``event(y, t) = 0``, differentiably in the event time.

The value solve checks the event function's sign at the end of every accepted step; at a
change it finds the root θ₀ of ``g(θ) = event(y(t + θh), t + θh)`` on the step's dense
output ``y(t + θh)`` (Illinois regula falsi, to rounding). The direct gradient then
replays the steps up to that one on the traced values, so ``g`` becomes a function of
the parameters p too, and the event time is its root ``θ*(p)``: by the implicit function
theorem ``dθ*/dp = −(∂g/∂p)/(∂g/∂θ)``, and the higher derivatives follow from
differentiating that again. Both come out of Newton's method run on the traced values
from the (constant) value root, with its slope ``∂g/∂θ`` (a forward-mode derivative in θ)
traced as well:

    θ_{k+1} = θ_k − g(θ_k) / g'(θ_k),       t* = t + θ* h,    y* = y(t + θ* h).

The value does not move (``g(θ₀) ≈ 0``), and since the error of Newton's method squares
at each step (``θ_k − θ*(p) = O(|p − p₀|^(2^k))``), the derivatives of θ_k at p₀ are
those of θ*(p) through order ``2^k − 1``: :data:`NEWTON_STEPS` = 2 makes the event time
and state exact through third derivatives, in forward and reverse mode and nested. They
are the derivatives of the discrete solution's crossing (on its dense output).
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as onp

from chainrule.checkpoint import _captures_tracer
from chainrule.core.primitive import Tracer
from chainrule.core.pytree import tree_leaves
from chainrule.numpy import _namespace as cnp
from chainrule.ode.adaptive import METHODS
from chainrule.ode.odeint import _flat_rhs, _Solver
from chainrule.ode.state import ravel, value_of, values_of
from chainrule.transforms import jvp

__all__ = ["odeint_event", "crossing", "event_correction", "NEWTON_STEPS"]


def event_correction(event_at: Callable, slope: onp.ndarray, t_hat: Any, y_hat: Any) -> tuple:
    """``(t*, y*)`` from a crossing ``(t̂, ŷ)``, by one Newton step with a constant slope:
    ``t* = t̂ − event(ŷ, t̂)/ġ``, ``y* = ŷ + ẏ (t* − t̂)`` with ``ġ`` and ``ẏ`` values at the
    root. Exact first derivatives only (the slopes' own derivatives are left out); for
    crossings whose interpolant is not a step object (the trebuchet's Hermite stages).
    :func:`crossing` is exact to third order.

    Args:
        event_at: ``(t, y) -> scalar`` on flat states (traced values allowed).
        slope: dŷ/dt of the dense output at the crossing (values): the direction along
            which the crossing moves, so the derivative is that of the discrete solution.
        t_hat, y_hat: the crossing (possibly traced).
    """
    t_val, y_val = float(value_of(t_hat)), value_of(y_hat)
    rate = float(value_of(jvp(lambda s: event_at(s, y_val + (s - t_val) * slope),
                              (t_val,), (1.0,))[1]))
    if rate == 0.0 or not onp.isfinite(rate):
        raise ZeroDivisionError("odeint_event: the event function is tangent to zero at "
                                f"t={t_val} (its time derivative is {rate}); the event time "
                                "has no derivative there")
    t_star = t_hat - event_at(t_hat, y_hat) / rate
    return t_star, y_hat + slope * (t_star - t_hat)


#: Newton steps on the traced crossing: derivatives exact through order 2**NEWTON_STEPS - 1
NEWTON_STEPS = 2


def crossing(event_at: Callable, step: Any, theta: float, rhs: Callable) -> tuple:
    """``(t*, y*)``: the root of ``event_at(t, y)`` along a (possibly traced) step's dense
    output, from its value root θ (see the module docstring).

    Args:
        event_at: ``(t, y) -> scalar`` on flat states (traced values allowed).
        step: the replayed step that holds the crossing.
        theta: the crossing's position in the step found on values.
        rhs: the step's right-hand side (for dense outputs that need the end slope).
    """
    def g(th):
        return event_at(step.t + th * step.h, step.interpolate(th, rhs))

    for _ in range(NEWTON_STEPS):
        value, slope = jvp(g, (theta,), (1.0,))
        rate = float(value_of(slope))
        if rate == 0.0 or not onp.isfinite(rate):
            raise ZeroDivisionError(
                "odeint_event: the event function is tangent to zero at "
                f"t={float(value_of(step.t + theta * step.h))} (its rate along the solution "
                f"is {rate}); the event time has no derivative there")
        theta = theta - value / slope
    return step.t + theta * step.h, step.interpolate(theta, rhs)


def odeint_event(func: Callable, y0: Any, t0: Any, event: Callable, *args: Any,
                 t_max: float, method: str = "dopri5", rtol: float = 1.4e-8,
                 atol: float = 1.4e-8, max_steps: int = 100_000,
                 dt: float | None = None) -> tuple[Any, Any]:
    """Solve ``dy/dt = func(y, t, *args)`` from ``(t0, y0)`` until ``event(y, t, *args)``
    changes sign; return the event time and the state there.

    Args:
        func: ``(y, t, *args) -> dy/dt`` (chainrule.numpy; ``y`` has y0's structure).
        y0: the initial state (array or pytree).
        t0: the initial time.
        event: ``(y, t, *args) -> scalar``; the solve stops at its first sign change.
        *args: extra arguments of ``func`` and ``event`` (differentiable).
        t_max: the end of the search (a RuntimeError when no event happens before it).
        method, rtol, atol, max_steps, dt: as in :func:`chainrule.ode.odeint`.

    Returns:
        ``(t_event, y_event)``, differentiable in ``y0``, ``t0`` and ``args`` by the
        direct method (forward, reverse, nested; exact through third derivatives).

    Example:
        >>> import chainrule as cr, chainrule.numpy as np
        >>> from chainrule.ode import odeint_event
        >>> fall = lambda y, t, g: np.stack([y[1], -g])          # height, velocity
        >>> hit = lambda y, t, g: y[0]                            # the ground
        >>> t_hit = lambda v0: odeint_event(fall, np.stack([0.0, v0]), 0.0, hit, 9.81,
        ...                                 t_max=10.0)[0]
        >>> round(float(t_hit(4.905)), 10), round(float(cr.grad(t_hit)(4.905)), 10)
        (1.0, 0.2038735984)
    """
    if method not in METHODS:
        raise ValueError(f"odeint_event: method={method!r} is not one of {sorted(METHODS)}")
    if not float(value_of(t_max)) != float(value_of(t0)):
        raise ValueError("odeint_event: t_max must differ from t0")
    y0_vec, unravel = ravel(y0)
    flat = _flat_rhs(func, unravel)
    solver = _Solver(METHODS[method], flat, rtol, atol, int(max_steps), dt, None)
    args_val = values_of(args)

    def event_flat(t, y, a):
        out = event(unravel(y), t, *a)
        if onp.ndim(value_of(out)) != 0:
            raise ValueError(f"odeint_event: event must return a scalar, got shape "
                             f"{onp.shape(value_of(out))}")
        return out

    ts_val = onp.array([float(value_of(t0)), float(value_of(t_max))])
    mesh = solver.mesh(value_of(y0_vec), ts_val, args_val,
                       event=lambda t, y: float(value_of(event_flat(t, y, args_val))))
    if mesh.event is None:
        raise RuntimeError(f"odeint_event: the event function did not change sign between "
                           f"t0={ts_val[0]} and t_max={ts_val[1]}; raise t_max or check the "
                           "event function")
    k_event, theta = mesh.event
    traced = any(isinstance(x, Tracer) for x in (y0_vec, t0)) or mesh.traced or any(
        isinstance(x, Tracer) for x in tree_leaves(args)) or _captures_tracer(func)
    ts = cnp.stack([t0, ts_val[1]]) if isinstance(t0, Tracer) else ts_val
    y, f0 = (y0_vec if traced else value_of(y0_vec)), None
    for k in range(k_event + 1):
        step, rhs = solver.step_at(mesh, k, y, f0, ts, args if traced else args_val)
        y, f0 = step.y1, step.next_f0()
    a = args if traced else args_val
    t_star, y_star = crossing(lambda t, v: event_flat(t, v, a), step, theta, rhs)
    return t_star, unravel(y_star)
