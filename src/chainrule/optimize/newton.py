"""Newton's method with the exact Hessian, and truncated Newton (Newton-CG) on
Hessian-vector products only; both with the strong Wolfe line search.

- ``newton`` solves (H + τI)p = −g, where τ = 0 when the Cholesky factorisation of H
  exists and otherwise the smallest of β, 2β, 4β, … (β = 10⁻³·max|H_ii|, at least
  10⁻³, starting from −min H_ii + β when a diagonal entry is not positive) that makes
  it succeed: a modified Cholesky factorisation (Nocedal & Wright, Algorithm 3.3), so p
  is a descent direction even where H is indefinite.
- ``newton-cg`` runs conjugate gradients on Hp = −g with products H·v from forward over
  reverse mode, stopping when ‖Hp + g‖ ≤ min(½, √‖g‖)·‖g‖ (superlinear convergence) or
  at the first direction of non-positive curvature (then the last iterate, or −g at the
  start, is the direction).
"""

from __future__ import annotations

import math
from functools import partial

import numpy as onp

from chainrule.optimize.linesearch import LineSearchFailed, wolfe_step
from chainrule.optimize.monitor import Monitor, Stop
from chainrule.optimize.objective import Objective
from chainrule.optimize.result import OptimizeResult, Status
from chainrule.optimize.trust_region import forcing_tolerance

__all__ = ["newton", "newton_cg", "modified_cholesky_solve"]


def modified_cholesky_solve(H: onp.ndarray, g: onp.ndarray) -> tuple[onp.ndarray, float]:
    """p = −(H + τI)⁻¹g with the smallest τ of Algorithm 3.3 that makes H + τI positive
    definite.

    Args:
        H: a symmetric matrix.
        g: the right-hand side (the gradient).

    Returns:
        (p, τ).

    >>> p, tau = modified_cholesky_solve(onp.diag([2.0, -1.0]), onp.array([2.0, 1.0]))
    >>> bool(tau > 1.0 and p[0] < 0 and p[1] < 0)
    True
    """
    H = 0.5 * (H + H.T)
    diag = onp.diag(H)
    beta = max(1e-3 * float(onp.max(onp.abs(diag))) if diag.size else 0.0, 1e-3)
    tau = 0.0 if diag.min() > 0.0 else -float(diag.min()) + beta
    eye = onp.eye(H.shape[0])
    for _ in range(80):
        try:
            L = onp.linalg.cholesky(H + tau * eye if tau else H)
        except onp.linalg.LinAlgError:
            tau = max(2.0 * tau, beta)
            continue
        z = onp.linalg.solve(L, -g) if g.size > 0 else g
        return onp.linalg.solve(L.T, z), tau
    raise onp.linalg.LinAlgError("modified Cholesky: no shift made the Hessian positive "
                                 "definite (non-finite entries?)")


def newton(obj: Objective, x: onp.ndarray, mon: Monitor, gtol: float = 1e-8,
           xtol: float = 0.0, c1: float = 1e-4, c2: float = 0.9) -> OptimizeResult:
    """Newton's method with the exact Hessian, modified Cholesky and a line search.

    Args:
        obj: the objective.
        x: the starting point (flat).
        mon: the iteration monitor.
        gtol: stop when ‖g‖∞ ≤ gtol.
        xtol: stop when ‖Δx‖ ≤ xtol·(1 + ‖x‖) (0: off).
        c1: Armijo constant.
        c2: curvature constant.

    Returns:
        the result, with ``hess`` (the last Hessian).
    """
    f, g = obj.value_and_grad(x)
    gnorm = float(onp.max(onp.abs(g)))
    stop = mon.record(x, f, gnorm, count=False) or mon.gtol_met(gnorm, gtol)
    H = None
    while stop is None:
        H = obj.hess(x)
        if not onp.all(onp.isfinite(H)):
            stop = Stop(Status.NONFINITE, f"non-finite Hessian at iteration {mon.nit}")
            break
        p, _ = modified_cholesky_solve(H, g)
        try:
            alpha, x_new, f_new, g_new = wolfe_step(obj.value_and_grad, x, p, f, g, 1.0,
                                                   c1, c2)
        except LineSearchFailed as err:
            stop = Stop(Status.PRECISION, f"line search failed: {err}")
            break
        step = alpha * math.sqrt(p @ p)
        x, f, g = x_new, f_new, g_new
        gnorm = float(onp.max(onp.abs(g)))
        stop = (mon.record(x, f, gnorm, step=step) or mon.gtol_met(gnorm, gtol)
                or mon.xtol_met(step, math.sqrt(x @ x), xtol))
    return mon.result(x, f, g, stop, hess=H)


def truncated_cg(g: onp.ndarray, hessp, tol: float, maxiter: int) -> onp.ndarray:
    """Approximately solve Hp = −g by CG, stopping at ‖Hp + g‖ ≤ tol or at non-positive
    curvature (a descent direction either way)."""
    z = onp.zeros_like(g)
    r = g.copy()
    d = -r
    rr = r @ r
    for i in range(maxiter):
        hd = hessp(d)
        curv = d @ hd
        if curv <= 1e-16 * (d @ d):
            return -g if i == 0 else z
        alpha = rr / curv
        z = z + alpha * d
        r = r + alpha * hd
        rr_next = r @ r
        if math.sqrt(rr_next) <= tol:
            break
        d = -r + (rr_next / rr) * d
        rr = rr_next
    return z


def newton_cg(obj: Objective, x: onp.ndarray, mon: Monitor, gtol: float = 1e-5,
              xtol: float = 0.0, c1: float = 1e-4, c2: float = 0.9,
              cg_maxiter: int | None = None) -> OptimizeResult:
    """Truncated Newton: CG on Hessian-vector products, then a strong Wolfe search.

    Args:
        obj: the objective.
        x: the starting point (flat).
        mon: the iteration monitor.
        gtol: stop when ‖g‖∞ ≤ gtol.
        xtol: stop when ‖Δx‖ ≤ xtol·(1 + ‖x‖) (0: off).
        c1: Armijo constant.
        c2: curvature constant.
        cg_maxiter: the most CG steps per iteration (default 2n).

    Returns:
        the result.
    """
    f, g = obj.value_and_grad(x)
    gnorm = float(onp.max(onp.abs(g)))
    stop = mon.record(x, f, gnorm, count=False) or mon.gtol_met(gnorm, gtol)
    maxcg = cg_maxiter or 2 * x.size
    while stop is None:
        p = truncated_cg(g, partial(obj.hessp, x),
                         forcing_tolerance(math.sqrt(g @ g)), maxcg)
        try:
            alpha, x_new, f_new, g_new = wolfe_step(obj.value_and_grad, x, p, f, g, 1.0,
                                                   c1, c2)
        except LineSearchFailed as err:
            stop = Stop(Status.PRECISION, f"line search failed: {err}")
            break
        step = alpha * math.sqrt(p @ p)
        x, f, g = x_new, f_new, g_new
        gnorm = float(onp.max(onp.abs(g)))
        stop = (mon.record(x, f, gnorm, step=step) or mon.gtol_met(gnorm, gtol)
                or mon.xtol_met(step, math.sqrt(x @ x), xtol))
    return mon.result(x, f, g, stop)
