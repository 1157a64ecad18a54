"""``solve_ivp``: SciPy's initial value problem API on :mod:`chainrule.ode`, differentiable.

``solve_ivp(fun, t_span, y0, method="RK45", t_eval=None, dense_output=False,
events=None, args=None, **options)`` solves ``dy/dt = fun(t, y, *args)`` from
``y(t_span[0]) = y0`` and returns SciPy's ``OdeResult`` fields: ``t``, ``y`` (shape
``(n, len(t))``), ``sol``, ``t_events``, ``y_events``, ``nfev``, ``njev``, ``nlu``,
``status``, ``message``, ``success``. Methods: ``"RK45"`` is Dormand–Prince 5(4)
(``dopri5``, SciPy's own RK45); the stiff ones, ``"Radau"``, ``"BDF"`` and ``"LSODA"``, are
chainrule's L-stable Rosenbrock method (``rosenbrock23``: another stiff method than
SciPy's, agreeing to the tolerances); chainrule's names (``"dopri5"``, ``"tsit5"``,
``"rosenbrock23"``) are accepted too. The tolerances default to SciPy's (rtol 1e-3,
atol 1e-6).

Everything returned is differentiable (forward, reverse, any order) in ``y0``, ``t_span``,
``t_eval`` and the float arrays in ``args``: without ``t_eval`` the output times are the
solver's accepted step ends (chosen on values, held constant), and a terminal event's time
is differentiable (:func:`chainrule.ode.odeint_event`).

Example:
    >>> import numpy as onp, chainrule as cr
    >>> from chainrule.scipy.integrate import solve_ivp
    >>> r = solve_ivp(lambda t, y, k: -k * y, (0.0, 1.0), [1.0], args=(0.5,), t_eval=[1.0],
    ...               rtol=1e-10, atol=1e-12)
    >>> round(float(r.y[0, -1]), 8), r.status
    (0.60653066, 0)
    >>> g = cr.grad(lambda k: solve_ivp(lambda t, y, k: -k * y, (0.0, 1.0), [1.0],
    ...             args=(k,), t_eval=[1.0], rtol=1e-10, atol=1e-12).y[0, -1])
    >>> round(float(g(0.5)), 8)  # d/dk e^{-k}
    -0.60653066
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from chainrule.core.primitive import Tracer, shape_of
from chainrule.numpy import _namespace as cnp
from chainrule.ode import odeint as ode_odeint
from chainrule.ode import odeint_event
from chainrule.ode.adaptive import METHODS, solve_values
from chainrule.ode.explicit import rk_step
from chainrule.ode.state import value_of, values_of
from chainrule.ode.tableaus import RK4
from chainrule.optimize.result import OptimizeResult

__all__ = ["solve_ivp", "OdeResult", "DenseSolution", "rows_at"]

#: SciPy's method names -> chainrule.ode's methods
IVP_METHODS = {"RK45": "dopri5", "Radau": "rosenbrock23", "BDF": "rosenbrock23",
               "LSODA": "rosenbrock23", "dopri5": "dopri5", "tsit5": "tsit5",
               "rosenbrock23": "rosenbrock23"}

#: options whose only effect in SciPy is on how the Jacobian is formed (here: by AD)
_JACOBIAN_OPTIONS = ("jac", "jac_sparsity", "lband", "uband")

_REACHED = "The solver successfully reached the end of the integration interval."
_EVENT = "A termination event occurred."


class OdeResult(OptimizeResult):
    """What :func:`solve_ivp` returns: a dict whose keys are also attributes (SciPy's)."""

    def __repr__(self) -> str:
        return "\n".join(f"{k:>8s}: {self[k]!r}" for k in
                         ("message", "success", "status", "t", "y", "nfev") if k in self)


def solve_ivp(fun: Callable, t_span: Any, y0: Any, method: str = "RK45",
              t_eval: Any = None, dense_output: bool = False, events: Any = None,
              vectorized: bool = False, args: tuple | None = None,
              **options: Any) -> OdeResult:
    """Solve ``dy/dt = fun(t, y, *args)``, ``y(t_span[0]) = y0`` (SciPy's ``solve_ivp``).

    Args:
        fun: ``fun(t, y, *args) -> dy/dt`` on a 1-D ``y`` (chainrule.numpy; a list is
            accepted).
        t_span: ``(t0, t_end)``.
        y0: the initial state, 1-D.
        method: ``"RK45"``, ``"Radau"``/``"BDF"``/``"LSODA"`` (stiff: chainrule's
            Rosenbrock method) or one of chainrule.ode's adaptive methods.
        t_eval: times at which to report the solution (None: the accepted step ends).
        dense_output: also return ``sol``, a :class:`DenseSolution`.
        events: one terminal event ``event(t, y, *args)`` (with ``event.terminal =
            True``); the solve stops where it changes sign.
        vectorized: accepted; ``fun`` is always called with one state.
        args: extra arguments of fun and the event.
        **options: ``rtol`` (1e-3), ``atol`` (1e-6), ``first_step``, ``max_step``;
            ``jac``, ``jac_sparsity``, ``lband``, ``uband`` are accepted and not used
            (Jacobians come from forward-mode AD).

    Returns:
        An :class:`OdeResult`.

    Raises:
        NotImplementedError: a method, option or event kind that has no counterpart here,
            naming it.
    """
    if not callable(fun):
        raise TypeError(f"solve_ivp: fun must be callable as fun(t, y, *args), got "
                        f"{type(fun).__name__}")
    if method not in IVP_METHODS:
        raise NotImplementedError(
            f"solve_ivp: method={method!r} is not available; use 'RK45' (or 'tsit5') for "
            "non-stiff problems and 'Radau'/'BDF'/'LSODA' (chainrule's Rosenbrock method) "
            f"for stiff ones; available: {sorted(IVP_METHODS)}")
    solver = IVP_METHODS[method]
    args = () if args is None else (args if isinstance(args, tuple) else (args,))
    rtol, atol = options.pop("rtol", 1e-3), options.pop("atol", 1e-6)
    first_step, max_step = options.pop("first_step", None), options.pop("max_step", np.inf)
    for name in _JACOBIAN_OPTIONS:
        options.pop(name, None)
    if options:
        raise NotImplementedError(f"solve_ivp: option(s) {sorted(options)} are not supported "
                                  "(rtol, atol, first_step, max_step are)")
    if len(t_span) != 2:
        raise ValueError(f"solve_ivp: t_span must be (t0, t_end), got {t_span!r}")
    t0, t_end = t_span[0], t_span[1]
    t0_val, t_end_val = float(value_of(t0)), float(value_of(t_end))
    if t0_val == t_end_val:
        raise ValueError("solve_ivp: t_span's two ends must differ")
    y0 = cnp.asarray(y0)
    if len(shape_of(y0)) != 1:
        raise ValueError(f"solve_ivp: y0 must be 1-D, got shape {tuple(shape_of(y0))}")
    if not isinstance(y0, Tracer):
        y0 = np.asarray(y0, dtype=float)
    n = int(shape_of(y0)[0])
    direction = 1.0 if t_end_val > t0_val else -1.0
    rhs = _state_rhs(fun, n)
    settings = dict(method=solver, rtol=rtol, atol=atol, first_step=first_step,
                    max_step=None if max_step == np.inf else max_step)
    event = _single_terminal_event(events)
    t_star = y_star = None
    if event is not None:
        try:
            t_star, y_star = odeint_event(rhs, y0, t0, lambda y, t, *a: event(t, y, *a), *args,
                                          t_max=t_end_val, method=solver, rtol=rtol, atol=atol)
        except RuntimeError as e:
            if "did not change sign" not in str(e):
                raise
    stop = t_end_val if t_star is None else float(value_of(t_star))
    mesh = _value_mesh(rhs, y0, t0_val, stop, args, settings)
    if t_eval is None:
        ends = [t0_val + (s + ds) * (stop - t0_val) for _, _, s, ds in mesh.steps]
        times = [e for e in ends if direction * (stop - e) > 0] + \
            [t_end if t_star is None else t_star]
    else:
        t_eval = cnp.asarray(t_eval)
        te = np.atleast_1d(np.asarray(value_of(t_eval)))
        if te.ndim != 1 or np.any(direction * np.diff(te) <= 0) or np.any(
                direction * (te - t0_val) < 0) or np.any(direction * (te - t_end_val) > 0):
            raise ValueError("solve_ivp: t_eval must be 1-D, sorted in the direction of "
                             "integration, strictly monotonic and inside t_span")
        times = [t_eval[i] for i in range(len(te)) if direction * (te[i] - stop) <= 0]
    rows = rows_at(rhs, y0, t0, times, args, settings)
    if t_eval is None:
        times, rows = [t0] + times, [y0] + rows
    t_out = cnp.stack(times) if any(isinstance(t, Tracer) for t in times) else \
        np.array([float(t) for t in times])
    y = _columns(rows, n)
    accepted = len(mesh.steps)
    attempts = accepted + mesh.n_rejected
    stiff = solver == "rosenbrock23"
    result = OdeResult(
        t=t_out, y=y,
        sol=DenseSolution(rhs, y0, t0, args, settings) if dense_output else None,
        t_events=None if event is None else [
            np.zeros(0) if t_star is None else cnp.reshape(t_star, (1,))],
        y_events=None if event is None else [
            np.zeros((0, n)) if y_star is None else cnp.reshape(y_star, (1, n))],
        nfev=int(mesh.n_rhs), njev=attempts if stiff else 0, nlu=3 * attempts if stiff else 0,
        status=0 if t_star is None else 1, message=_REACHED if t_star is None else _EVENT,
        success=True)
    return result


def _state_rhs(fun: Callable, n: int) -> Callable:
    """chainrule.ode's ``(y, t, *args)`` order, the result checked to be y's shape."""
    def rhs(y, t, *a):
        out = fun(t, y, *a)
        if not isinstance(out, (Tracer, np.ndarray)):
            out = cnp.asarray(out)
        if tuple(shape_of(out)) != (n,):
            raise ValueError(f"solve_ivp: fun(t, y, *args) returned shape "
                             f"{tuple(shape_of(out))} for y of shape ({n},); it must return "
                             "dy/dt with y's shape")
        return out
    return rhs


def _single_terminal_event(events: Any) -> Callable | None:
    if events is None:
        return None
    if isinstance(events, (list, tuple)):
        if len(events) != 1:
            raise NotImplementedError(f"solve_ivp: {len(events)} events given; one terminal "
                                      "event is supported")
        events = events[0]
    if not getattr(events, "terminal", False):
        raise NotImplementedError("solve_ivp: only a terminal event is supported; set "
                                  "event.terminal = True (non-terminal events are not "
                                  "recorded here)")
    if getattr(events, "direction", 0) != 0:
        raise NotImplementedError(f"solve_ivp: event.direction={events.direction!r} is not "
                                  "supported; leave it 0 (any sign change)")
    return events


def _value_mesh(rhs: Callable, y0: Any, t0: float, stop: float, args: tuple,
                settings: dict) -> Any:
    """The accepted steps of a value solve from t0 to stop (output times, statistics)."""
    args_val = values_of(args)

    def f(t, y):
        out = rhs(y, t, *args_val)
        if isinstance(y, Tracer) or isinstance(t, Tracer):
            return out  # the Rosenbrock method's forward-mode Jacobian
        return np.asarray(value_of(out), dtype=float)

    return solve_values(METHODS[settings["method"]], f, np.asarray(value_of(y0), dtype=float),
                        np.array([t0, stop]), rtol=settings["rtol"], atol=settings["atol"],
                        max_steps=100_000, first_step=settings["first_step"],
                        max_step=settings["max_step"])


def rows_at(rhs: Callable, y0: Any, t0: Any, times: list, args: tuple,
            settings: dict) -> list:
    """``y(times[i])`` for times sorted (repeats allowed) in the direction of integration
    from ``t0``: one strictly monotonic solve; a time equal to the one before it (or to
    t0) is that row advanced by a classical RK4 step of size zero (same value, derivative
    ``f`` in that time, exact through fourth order)."""
    distinct, last = [], float(value_of(t0))
    for t in times:
        if float(value_of(t)) != last:
            distinct.append(t)
            last = float(value_of(t))
    if distinct:
        ts = cnp.stack([t0] + distinct) if any(isinstance(t, Tracer)
                                                for t in [t0] + distinct) else \
            np.array([float(t) for t in [t0] + distinct])
        solved = ode_odeint(rhs, y0, ts, *args, **settings)
    rows, k, prev_t, prev_y = [], 0, t0, y0
    for t in times:
        if float(value_of(t)) == float(value_of(prev_t)):
            step = rk_step(lambda s, v: rhs(v, s, *args), RK4, prev_t, prev_y, t - prev_t)
            rows.append(step.y1)
        else:
            k += 1
            rows.append(solved[k])
        prev_t, prev_y = t, rows[-1]
    return rows


def _columns(rows: list, n: int) -> Any:
    """SciPy's ``y``: the rows as columns, shape (n, len(rows))."""
    if not rows:
        return np.zeros((n, 0))
    if any(isinstance(r, Tracer) for r in rows):
        return cnp.stack(rows, axis=1)
    return np.stack([np.asarray(r, dtype=float) for r in rows], axis=1)


class DenseSolution:
    """``sol(t)``: the solution at any time(s) of the interval (SciPy's ``OdeSolution``
    call), by a new differentiable solve from ``t0`` to the requested times.

    Returns shape ``(n,)`` for a scalar t, ``(n, len(t))`` for an array.
    """

    def __init__(self, rhs: Callable, y0: Any, t0: Any, args: tuple, settings: dict) -> None:
        self.rhs, self.y0, self.t0, self.args, self.settings = rhs, y0, t0, args, settings

    def __call__(self, t: Any) -> Any:
        t = cnp.asarray(t)
        scalar = len(shape_of(t)) == 0
        tv = np.atleast_1d(np.asarray(value_of(t), dtype=float))
        t0 = float(value_of(self.t0))
        direction = 1.0 if tv[np.argmax(np.abs(tv - t0))] >= t0 else -1.0
        if np.any(direction * (tv - t0) < 0):
            raise ValueError("DenseSolution: the times must lie on one side of t0 (the "
                             "direction of integration)")
        order = np.argsort(direction * tv, kind="stable")
        times = [t] if scalar else [t[int(i)] for i in order]
        rows = rows_at(self.rhs, self.y0, self.t0, times, self.args, self.settings)
        if scalar:
            return rows[0]
        back = np.argsort(order, kind="stable")
        return _columns([rows[int(i)] for i in back], len(rows[0]))
