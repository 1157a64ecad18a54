"""First-order methods: gradient descent with Armijo backtracking, heavy-ball momentum,
Nesterov's accelerated gradient, Adam, nonlinear conjugate gradients, and coordinate
descent on exact partial derivatives.

- ``gd``: x ← x − α∇f(x), α by backtracking from twice the last accepted step.
- ``momentum``, ``nesterov``, ``adam``: a fixed learning rate, the update rules of the
  stateful optimisers in :mod:`.optimizers` (heavy ball m ← βm + g, x ← x − ηm;
  Nesterov x ← x − η(g + βm); Adam), one gradient per iteration.
- ``cg``: p_{k+1} = −g_{k+1} + β_k p_k with Polak–Ribière+
  β = max(0, g_{k+1}ᵀ(g_{k+1} − g_k)/‖g_k‖²) or Fletcher–Reeves β = ‖g_{k+1}‖²/‖g_k‖²,
  a strong Wolfe search with c₂ = 0.4 (< ½, which keeps Fletcher–Reeves
  directions descent directions), and a restart with −g every n steps or when p is
  not a descent direction. With an exact line search (``c2`` → 0) it minimises a convex
  quadratic in at most n steps.
- ``coordinate``: cyclic coordinate descent; each ∂f/∂x_i is exact, from one forward-mode
  pass (JVP) along e_i, and the step along e_i is found by Armijo backtracking. A JVP
  is counted as one function and one gradient evaluation.
"""

from __future__ import annotations

import math

import numpy as onp

from chainrule.optimize.linesearch import LineSearchFailed, backtracking, wolfe_step
from chainrule.optimize.monitor import Monitor, Stop
from chainrule.optimize.objective import Objective
from chainrule.optimize.optimizers import GradientTransformation
from chainrule.optimize.optimizers import adam as adam_rule
from chainrule.optimize.optimizers import momentum as momentum_rule
from chainrule.optimize.result import OptimizeResult, Status

__all__ = ["gd", "stateful", "momentum", "nesterov", "adam", "cg", "coordinate"]


def _inf(v: onp.ndarray) -> float:
    return float(onp.max(onp.abs(v))) if v.size else 0.0


def gd(obj: Objective, x: onp.ndarray, mon: Monitor, gtol: float = 1e-5,
       ftol: float = 0.0, c1: float = 1e-4) -> OptimizeResult:
    """Steepest descent with Armijo backtracking.

    Args:
        obj: the objective.
        x: the starting point (flat).
        mon: the iteration monitor.
        gtol: stop when ‖g‖∞ ≤ gtol.
        ftol: stop when the relative reduction of f is ≤ ftol (0: off).
        c1: Armijo constant.

    Returns:
        the result.
    """
    f, g = obj.value_and_grad(x)
    gnorm = _inf(g)
    stop = mon.record(x, f, gnorm, count=False) or mon.gtol_met(gnorm, gtol)
    alpha = 1.0 / max(math.sqrt(g @ g), 1e-300)
    while stop is None:
        gg = g @ g
        try:
            alpha, f_new = backtracking(lambda a, x=x, g=g: obj.fun(x - a * g), f, -gg,
                                        2.0 * alpha, c1)
        except LineSearchFailed as err:
            stop = Stop(Status.PRECISION, f"line search failed: {err}")
            break
        if not f_new < f:
            stop = Stop(Status.PRECISION, f"no decrease of f along -g (f = {f:.17g} is at "
                                          "the limit of its precision)")
            break
        x = x - alpha * g
        f_old, f = f, f_new
        step = alpha * math.sqrt(gg)
        g = obj.grad(x)
        gnorm = _inf(g)
        stop = (mon.record(x, f, gnorm, step=step) or mon.gtol_met(gnorm, gtol)
                or mon.ftol_met(f_old, f, ftol))
    return mon.result(x, f, g, stop)


def stateful(obj: Objective, x: onp.ndarray, mon: Monitor, rule: GradientTransformation,
             gtol: float) -> OptimizeResult:
    """Iterate a stateful optimiser's update rule on the full gradient."""
    f, g = obj.value_and_grad(x)
    gnorm = _inf(g)
    stop = mon.record(x, f, gnorm, count=False) or mon.gtol_met(gnorm, gtol)
    state = rule.init(x)
    while stop is None:
        u, state = rule.update(g, state, x)
        x = x + u
        f, g = obj.value_and_grad(x)
        gnorm = _inf(g)
        stop = mon.record(x, f, gnorm, step=math.sqrt(u @ u)) or mon.gtol_met(gnorm, gtol)
    return mon.result(x, f, g, stop)


def momentum(obj: Objective, x: onp.ndarray, mon: Monitor, learning_rate: float = 1e-3,
             beta: float = 0.9, gtol: float = 1e-5) -> OptimizeResult:
    """Heavy-ball momentum with a fixed learning rate η (``learning_rate``) and β."""
    return stateful(obj, x, mon, momentum_rule(learning_rate, beta), gtol)


def nesterov(obj: Objective, x: onp.ndarray, mon: Monitor, learning_rate: float = 1e-3,
             beta: float = 0.9, gtol: float = 1e-5) -> OptimizeResult:
    """Nesterov's accelerated gradient with a fixed η and β."""
    return stateful(obj, x, mon, momentum_rule(learning_rate, beta, nesterov=True), gtol)


def adam(obj: Objective, x: onp.ndarray, mon: Monitor, learning_rate: float = 1e-3,
         b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8,
         gtol: float = 1e-5) -> OptimizeResult:
    """Adam with a fixed η on the full gradient."""
    return stateful(obj, x, mon, adam_rule(learning_rate, b1, b2, eps), gtol)


def cg(obj: Objective, x: onp.ndarray, mon: Monitor, gtol: float = 1e-5,
       beta: str = "pr+", c1: float = 1e-4, c2: float = 0.4,
       restart: int | None = None) -> OptimizeResult:
    """Nonlinear conjugate gradients.

    Args:
        obj: the objective.
        x: the starting point (flat).
        mon: the iteration monitor.
        gtol: stop when ‖g‖∞ ≤ gtol.
        beta: ``"pr+"`` (Polak–Ribière+) or ``"fr"`` (Fletcher–Reeves).
        c1: Armijo constant.
        c2: curvature constant (< ½ for Fletcher–Reeves).
        restart: restart with −g every this many steps (default n).

    Returns:
        the result.
    """
    rule = beta.lower()
    if rule not in ("pr+", "fr"):
        raise ValueError(f"minimize(method='cg'): option beta must be 'pr+' or 'fr', "
                         f"got {beta!r}")
    every = restart or x.size
    f, g = obj.value_and_grad(x)
    gnorm = _inf(g)
    stop = mon.record(x, f, gnorm, count=False) or mon.gtol_met(gnorm, gtol)
    p = -g
    f_old = f + 0.5 * math.sqrt(g @ g)
    since = 0
    while stop is None:
        d0 = g @ p
        if not d0 < 0.0:
            p, d0, since = -g, -(g @ g), 0
        alpha0 = min(1.0, 1.01 * 2.0 * (f - f_old) / d0)
        if not alpha0 > 0.0:
            alpha0 = 1.0
        try:
            alpha, x_new, f_new, g_new = wolfe_step(obj.value_and_grad, x, p, f, g, alpha0,
                                                   c1, c2)
        except LineSearchFailed as err:
            stop = Stop(Status.PRECISION, f"line search failed: {err}")
            break
        step = alpha * math.sqrt(p @ p)
        gg = g @ g
        if rule == "fr":
            b = (g_new @ g_new) / gg
        else:
            b = max(0.0, (g_new @ (g_new - g)) / gg)
        since += 1
        if since >= every:
            b, since = 0.0, 0
        f_old, x, f, g = f, x_new, f_new, g_new
        p = -g + b * p
        gnorm = _inf(g)
        stop = mon.record(x, f, gnorm, step=step) or mon.gtol_met(gnorm, gtol)
    return mon.result(x, f, g, stop)


def coordinate(obj: Objective, x: onp.ndarray, mon: Monitor, gtol: float = 1e-5,
               c1: float = 1e-4) -> OptimizeResult:
    """Cyclic coordinate descent with exact partials (one JVP each).

    Args:
        obj: the objective.
        x: the starting point (flat).
        mon: the iteration monitor (one iteration = one sweep over the coordinates).
        gtol: stop when every partial of a sweep is ≤ gtol in magnitude.
        c1: Armijo constant.

    Returns:
        the result (``jac`` is the full gradient at the end, from one reverse pass; the
        start is measured by one reverse pass too).
    """
    x = x.copy()
    n = x.size
    steps = onp.ones(n)
    f, g = obj.value_and_grad(x)
    gnorm = _inf(g)
    stop = mon.record(x, f, gnorm, count=False) or mon.gtol_met(gnorm, gtol)
    while stop is None:
        worst = 0.0
        moved = 0.0
        for i in range(n):
            f, d = obj.partial(x, i)
            worst = max(worst, abs(d))
            if d == 0.0:
                continue
            xi = x[i]

            def along(a, i=i, xi=xi, d=d):
                x[i] = xi - a * d
                return obj.fun(x)

            try:
                a, f = backtracking(along, f, -d * d, 2.0 * steps[i], c1)
            except LineSearchFailed:
                x[i] = xi
                continue
            x[i] = xi - a * d
            steps[i] = a
            moved += (a * d) ** 2
        stop = mon.record(x, f, worst, step=math.sqrt(moved)) or mon.gtol_met(worst, gtol)
    g = obj.grad(x)
    return mon.result(x, f, g, stop)
