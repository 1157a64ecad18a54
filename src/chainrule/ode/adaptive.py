"""The value solve: choose the steps (PI step-size control), record the mesh.

The solvers run twice when a derivative is wanted: once here on plain NumPy values, where
the accept/reject decisions and step sizes are made, and once more over the accepted
steps with the traced values (``odeint``'s direct gradient). The step sizes are therefore
constants of the differentiated program — the standard discretise-then-optimise choice.

**Error control.** A step with error estimate ``err`` is accepted when the
root-mean-square of ``err_i / (atol + rtol·max(|y_i|, |y1_i|))`` is at most 1.

**Step size (PI control, Hairer–Wanner's DOPRI5 controller).** With ``q`` the order of the
error estimate's exponent, ``β = 0.04`` and the previous accepted ratio ``err_old``:

    h_new = h · clip(0.9 · err^(-1/q + 0.75β) · err_old^β, 0.2, 10)

(after a rejection: ``h · max(0.2, 0.9 · err^(-1/q + 0.75β))``, never larger than h). The
first step comes from Hairer's estimate from ``f(t0, y0)`` and one Euler probe.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as onp

from chainrule.ode.explicit import rk_step
from chainrule.ode.rosenbrock import ROSENBROCK_ORDER, rosenbrock_step
from chainrule.ode.tableaus import EXPLICIT

__all__ = ["Method", "METHODS", "Mesh", "solve_values", "fixed_mesh", "error_ratio",
           "find_root"]

_SAFETY, _BETA, _GROW, _SHRINK = 0.9, 0.04, 10.0, 0.2


@dataclass(frozen=True)
class Method:
    """A solver: its step function ``step(rhs, t, y, h, f0)`` and whether it adapts."""

    name: str
    step: Callable
    adaptive: bool
    error_order: int  # q: the step controller's exponent is 1/q
    order: int


def _explicit(name: str) -> Method:
    tab = EXPLICIT[name]
    return Method(name, lambda rhs, t, y, h, f0=None, jacobian=None: rk_step(rhs, tab, t, y, h,
                                                                             f0),
                  tab.adaptive, tab.order, tab.order)


METHODS = {name: _explicit(name) for name in EXPLICIT}
METHODS["rosenbrock23"] = Method("rosenbrock23", rosenbrock_step, True, ROSENBROCK_ORDER, 2)


@dataclass
class Mesh:
    """The accepted steps and where the outputs sit in them.

    ``steps[k] = (ja, jb, s, ds)``: step k starts at ``ts[ja] + s·(ts[jb] - ts[ja])`` and
    has size ``ds·(ts[jb] - ts[ja])`` (times as fractions of an interval of the output
    times, so that the replayed program depends on ``ts`` and is differentiable in it).
    ``outputs[j] = (k, θ)``: output j is the dense output of step k at ``θ``
    (output 0 is y0: ``(-1, 0)``). ``values``: the outputs from this solve (rows).
    ``event``: ``(k, θ)`` of a terminal event, if one was found.
    """

    steps: list = field(default_factory=list)
    outputs: list = field(default_factory=list)
    values: list = field(default_factory=list)
    event: tuple | None = None
    taken: list | None = None  # the accepted step objects (kept for the adjoint's y(t))
    n_rejected: int = 0
    n_rhs: int = 0


def error_ratio(err: onp.ndarray, y0: onp.ndarray, y1: onp.ndarray, rtol: float,
                atol: float) -> float:
    """RMS of the error over the mixed absolute/relative tolerance (1 = just acceptable)."""
    scale = atol + rtol * onp.maximum(onp.abs(y0), onp.abs(y1))
    return float(onp.sqrt(onp.mean((err / scale) ** 2)))


def _initial_step(rhs, t0, y0, f0, order, rtol, atol, span) -> float:
    """Hairer's starting step: h₀ from ‖y0‖/‖f0‖, refined by one explicit Euler probe."""
    scale = atol + rtol * onp.abs(y0)
    d0 = float(onp.sqrt(onp.mean((y0 / scale) ** 2)))
    d1 = float(onp.sqrt(onp.mean((f0 / scale) ** 2)))
    h0 = 1e-6 if d0 < 1e-5 or d1 < 1e-5 else 0.01 * d0 / d1
    h0 = min(h0, abs(span))
    direction = math.copysign(1.0, span)
    f1 = rhs(t0 + direction * h0, y0 + direction * h0 * f0)
    d2 = float(onp.sqrt(onp.mean(((f1 - f0) / scale) ** 2))) / h0
    if max(d1, d2) <= 1e-15:
        h1 = max(1e-6, h0 * 1e-3)
    else:
        h1 = (0.01 / max(d1, d2)) ** (1.0 / order)
    return min(100 * h0, h1, abs(span))


def find_root(g: Callable[[float], float], g0: float, g1: float, tol: float = 1e-15) -> float:
    """θ ∈ (0, 1] with g(θ) = 0, given g(0) = g0 and g(1) = g1 of opposite signs or g1 = 0
    (Illinois regula falsi: superlinear, and bracketing so it cannot fail)."""
    if g1 == 0.0:
        return 1.0
    a, b, ga, gb, side = 0.0, 1.0, g0, g1, 0
    for _ in range(200):
        c = (a * gb - b * ga) / (gb - ga)
        if not a < c < b:
            c = 0.5 * (a + b)
        gc = g(c)
        if gc == 0.0 or b - a < tol:
            return c
        if (gc > 0) == (gb > 0):
            b, gb = c, gc
            if side == -1:
                ga *= 0.5
            side = -1
        else:
            a, ga = c, gc
            if side == 1:
                gb *= 0.5
            side = 1
        if b - a < tol:
            break
    return b if abs(gb) < abs(ga) else a


def solve_values(method: Method, rhs: Callable, y0: onp.ndarray, ts: onp.ndarray, *,
                 rtol: float, atol: float, max_steps: int, dt: float | None = None,
                 event: Callable | None = None, first_step: float | None = None,
                 max_step: float | None = None, keep_steps: bool = False,
                 jacobian: Callable | None = None) -> Mesh:
    """Integrate ``y' = rhs(t, y)`` on values from ``ts[0]`` through ``ts``.

    Args:
        method: the solver.
        rhs: ``(t, y) -> y'`` on NumPy vectors.
        y0: the initial state (1-D).
        ts: output times, strictly increasing or strictly decreasing.
        rtol, atol: tolerances (adaptive methods).
        max_steps: the most steps (accepted and rejected) before a RuntimeError.
        dt: fixed-step methods: the largest step (each interval between output times is
            cut into equal steps no longer than dt); None: one step per interval.
        event: ``(t, y) -> float``; the solve stops at its first sign change, located on
            the dense output.
        first_step: the first step's size for adaptive methods (None: estimated).
        max_step: the largest step of the adaptive methods (None: no limit).
        keep_steps: keep the accepted steps (``mesh.taken``) for dense output later.
        jacobian: ``(t, y) -> (∂rhs/∂y, ∂rhs/∂t)`` for the Rosenbrock method when known.

    Returns:
        The :class:`Mesh`.
    """
    counted = [0]

    def f(t, y):
        counted[0] += 1
        return rhs(t, y)

    mesh = Mesh(outputs=[(-1, 0.0)], values=[y0], taken=[] if keep_steps else None)
    ev_prev = event(float(ts[0]), y0) if event is not None else None
    n_out = len(ts)
    if method.adaptive:
        if jacobian is not None:
            base = method.step
            method = Method(method.name, lambda r, t, y, h, f0=None: base(
                r, t, y, h, f0, jacobian=jacobian), True, method.error_order, method.order)
        _adaptive(method, f, y0, ts, rtol, atol, max_steps, event, ev_prev, mesh, first_step,
                  max_step)
    else:
        _fixed(method, f, y0, ts, dt, event, ev_prev, mesh, max_steps)
    if event is None and len(mesh.outputs) != n_out:  # pragma: no cover - defensive
        raise RuntimeError("odeint: not every output time was reached")
    mesh.n_rhs = counted[0]
    return mesh


def _emit(mesh: Mesh, step, k: int, ts: onp.ndarray, t_end: float, direction: float,
          rhs: Callable) -> None:
    """Record the outputs that fall inside step k (ending at t_end)."""
    j = len(mesh.outputs)
    while j < len(ts) and direction * (ts[j] - t_end) <= 0:
        theta = 1.0 if ts[j] == t_end else (ts[j] - step.t) / step.h
        mesh.outputs.append((k, theta))
        mesh.values.append(step.interpolate(theta, rhs))
        j += 1


def _check_event(mesh, step, k, event, ev_prev, rhs) -> tuple[bool, float]:
    """Whether the event function changes sign within the step; locates it if so."""
    t1 = step.t + step.h
    ev1 = float(event(t1, step.y1))
    if ev1 == 0.0 or (ev_prev != 0.0 and (ev1 > 0) != (ev_prev > 0)):
        if ev_prev == 0.0 and k == 0 and ev1 != 0.0:
            return False, ev1  # started on the surface: not a crossing
        theta = find_root(lambda th: float(event(step.t + th * step.h,
                                                 step.interpolate(th, rhs))), ev_prev, ev1)
        mesh.event = (k, theta)
        return True, ev1
    return False, ev1


def _fixed_steps(ts: onp.ndarray, dt: float | None):
    """The fixed-step schedule: ``(j, i, n)`` for step i of the n equal steps (each at
    most dt) that cut the interval ``[ts[j], ts[j+1]]``, in order."""
    for j in range(len(ts) - 1):
        span = ts[j + 1] - ts[j]
        n = 1 if dt is None else max(1, int(math.ceil(abs(span) / dt - 1e-9)))
        for i in range(n):
            yield j, i, n


def _fixed_entry(j: int, i: int, n: int) -> tuple:
    """The :class:`Mesh` record of step i of n in interval j."""
    return (j, j + 1, i / n, ((i + 1) / n if i < n - 1 else 1.0) - i / n)


def fixed_mesh(ts: onp.ndarray, dt: float | None, max_steps: int) -> Mesh:
    """The mesh of a fixed-step solve without solving: the steps and output positions
    depend on ``ts`` and ``dt`` only (``values`` stays empty). The direct
    gradient of the fixed-step methods replays this mesh on the traced values, so it
    needs no value solve first; :func:`solve_values` builds the same mesh while solving.
    """
    mesh = Mesh(outputs=[(-1, 0.0)])
    for j, i, n in _fixed_steps(ts, dt):
        mesh.steps.append(_fixed_entry(j, i, n))
        if len(mesh.steps) > max_steps:
            raise RuntimeError(f"odeint: more than max_steps={max_steps} steps; raise "
                               "max_steps or the step dt")
        if i == n - 1:
            mesh.outputs.append((len(mesh.steps) - 1, 1.0))
    return mesh


def _fixed(method, rhs, y0, ts, dt, event, ev_prev, mesh, max_steps) -> None:
    y, f0, k = y0, None, 0
    for j, i, n in _fixed_steps(ts, dt):
        span = ts[j + 1] - ts[j]
        t = ts[j] + (i / n) * span if i else ts[j]
        h = (ts[j + 1] - t) if i == n - 1 else span / n
        step = method.step(rhs, t, y, h, f0)
        mesh.steps.append(_fixed_entry(j, i, n))
        if mesh.taken is not None:
            mesh.taken.append(step)
        if k >= max_steps:
            raise RuntimeError(f"odeint: more than max_steps={max_steps} steps; raise "
                               "max_steps or the step dt")
        if event is not None:
            hit, ev_prev = _check_event(mesh, step, k, event, ev_prev, rhs)
            if hit:
                return
        y, f0 = step.y1, step.next_f0()
        k += 1
        if i == n - 1:
            mesh.outputs.append((k - 1, 1.0))
            mesh.values.append(y)


def _adaptive(method, rhs, y0, ts, rtol, atol, max_steps, event, ev_prev, mesh,
              first_step, max_step) -> None:
    t0, t_end = float(ts[0]), float(ts[-1])
    span = t_end - t0
    if span == 0.0:
        for _ in ts[1:]:
            mesh.outputs.append((-1, 0.0))
            mesh.values.append(y0)
        return
    direction = math.copysign(1.0, span)
    f0 = rhs(t0, y0)
    h = abs(first_step) if first_step else _initial_step(
        rhs, t0, y0, f0, method.error_order, rtol, atol, span)
    h_max = math.inf if max_step is None else float(max_step)
    expo = 1.0 / method.error_order - 0.75 * _BETA
    err_old, rejected, attempts = 1e-4, False, 0
    t, y, k = t0, y0, 0
    while direction * (t_end - t) > 0:
        attempts += 1
        h = min(h, h_max)
        if attempts > max_steps:
            raise RuntimeError(f"odeint: more than max_steps={max_steps} steps before "
                               f"t={t_end} (reached t={t}); the problem may be stiff (try "
                               "method='rosenbrock23') or raise max_steps")
        last = h >= abs(t_end - t) * (1 - 1e-12)
        if last:
            h = abs(t_end - t)
        if h <= 16 * onp.finfo(float).eps * max(abs(t), 1.0):
            raise RuntimeError(f"odeint: the step size fell to {h:.3g} at t={t}; the "
                               "solution may blow up there, or the tolerances are too tight")
        step = method.step(rhs, t, y, direction * h, f0)
        with onp.errstate(all="ignore"):
            err = error_ratio(step.err, y, step.y1, rtol, atol)
        if not math.isfinite(err):
            h *= _SHRINK
            rejected = True
            mesh.n_rejected += 1
            continue
        fac = max(err, 1e-300) ** expo
        if err <= 1.0:
            t_new = t_end if last else t + direction * h
            mesh.steps.append((0, len(ts) - 1, (t - t0) / span, (t_new - t) / span))
            if mesh.taken is not None:
                mesh.taken.append(step)
            if event is not None:
                hit, ev_prev = _check_event(mesh, step, k, event, ev_prev, rhs)
                if hit:
                    return
            _emit(mesh, step, k, ts, t_new, direction, rhs)
            grow = min(_GROW, max(_SHRINK, _SAFETY / fac * err_old ** _BETA))
            h_new = h * grow
            if rejected:
                h_new = min(h_new, h)
            err_old, rejected = max(err, 1e-4), False
            t, y, h, k = t_new, step.y1, h_new, k + 1
            f0 = step.next_f0()
        else:
            h *= max(_SHRINK, _SAFETY / fac)
            rejected = True
            mesh.n_rejected += 1
