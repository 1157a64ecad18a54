"""Quasi-Newton methods: BFGS on the inverse Hessian, and L-BFGS (two-loop recursion)
with optional box bounds by projection.

BFGS keeps H ≈ ∇²f⁻¹ and after each step s = x_{k+1} − x_k, y = g_{k+1} − g_k updates

    H ← (I − ρsyᵀ) H (I − ρysᵀ) + ρssᵀ,  ρ = 1/(yᵀs),

which keeps H positive definite whenever yᵀs > 0 (guaranteed by the strong Wolfe line
search). Before the first update H₀ is scaled to (yᵀs / yᵀy)·I (Nocedal & Wright
eq. 6.20). L-BFGS applies the same update implicitly from the last m pairs (s, y)
with the two-loop recursion, at O(mn) per iteration; with bounds l ≤ x ≤ u the
direction is computed on the free variables (those not held at a bound by the
gradient) and the step is projected onto the box, with an Armijo search along the
projected path.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as onp

from chainrule.optimize.linesearch import LineSearchFailed, backtracking, wolfe_step
from chainrule.optimize.monitor import Monitor, Stop
from chainrule.optimize.objective import Objective
from chainrule.optimize.result import OptimizeResult, Status

__all__ = ["bfgs", "lbfgs"]


def _norm(v: onp.ndarray, order: float) -> float:
    return float(onp.max(onp.abs(v))) if order == math.inf else float(onp.linalg.norm(v, order))


def bfgs(obj: Objective, x: onp.ndarray, mon: Monitor, gtol: float = 1e-5,
         norm: float = math.inf, xtol: float = 0.0, ftol: float = 0.0, c1: float = 1e-4,
         c2: float = 0.9, hess_inv0: onp.ndarray | None = None) -> OptimizeResult:
    """BFGS with a strong Wolfe line search.

    Args:
        obj: the objective.
        x: the starting point (flat).
        mon: the iteration monitor.
        gtol: stop when ‖g‖ ≤ gtol.
        norm: the order of that norm (∞, as SciPy).
        xtol: stop when ‖Δx‖ ≤ xtol·(1 + ‖x‖) (0: off).
        ftol: stop when the relative reduction of f is ≤ ftol (0: off).
        c1: Armijo constant.
        c2: curvature constant.
        hess_inv0: the starting inverse Hessian (default: I, rescaled after step one).

    Returns:
        the result, with ``hess_inv``.
    """
    n = x.size
    f, g = obj.value_and_grad(x)
    H = onp.eye(n) if hess_inv0 is None else onp.array(hess_inv0, dtype=float)
    scale_first = hess_inv0 is None
    gnorm = _norm(g, norm)
    stop = mon.record(x, f, gnorm, count=False) or mon.gtol_met(gnorm, gtol)
    f_old = f + 0.5 * math.sqrt(g @ g)
    while stop is None:
        p = -(H @ g)
        d0 = g @ p
        if not d0 < 0.0:  # H lost positive definiteness to rounding: restart
            H = onp.eye(n)
            p, d0 = -g, -(g @ g)
        # the step at which the quadratic through f, φ'(0) would reach the last decrease
        # again, capped at the quasi-Newton step 1 (fewer evaluations on the MGH set than
        # always trying 1 first)
        alpha0 = min(1.0, 1.01 * 2.0 * (f - f_old) / d0)
        try:
            alpha, x_new, f_new, g_new = wolfe_step(obj.value_and_grad, x, p, f, g,
                                                   alpha0, c1, c2)
        except LineSearchFailed as err:
            stop = Stop(Status.PRECISION, f"line search failed: {err}")
            break
        s = x_new - x
        y = g_new - g
        f_old, x, f, g = f, x_new, f_new, g_new
        ys = y @ s
        if ys > 1e-300:
            if scale_first:
                H *= ys / (y @ y)
                scale_first = False
            rho = 1.0 / ys
            Hy = H @ y
            H += (rho * rho * (y @ Hy) + rho) * onp.outer(s, s) - rho * (
                onp.outer(Hy, s) + onp.outer(s, Hy))
        gnorm = _norm(g, norm)
        stop = (mon.record(x, f, gnorm, step=alpha * math.sqrt(p @ p))
                or mon.gtol_met(gnorm, gtol) or mon.ftol_met(f_old, f, ftol)
                or mon.xtol_met(math.sqrt(s @ s), math.sqrt(x @ x), xtol))
    return mon.result(x, f, g, stop, hess_inv=H)


def _two_loop(g: onp.ndarray, pairs: deque) -> onp.ndarray:
    """−H·g for the L-BFGS inverse Hessian of the stored pairs (s, y, 1/yᵀs)."""
    q = g.copy()
    coef = []
    for s, y, rho in reversed(pairs):
        a = rho * (s @ q)
        coef.append(a)
        q -= a * y
    if pairs:
        s, y, _ = pairs[-1]
        q *= (s @ y) / (y @ y)
    for (s, y, rho), a in zip(pairs, reversed(coef)):
        b = rho * (y @ q)
        q += (a - b) * s
    return -q


def _box(bounds, n: int) -> tuple[onp.ndarray, onp.ndarray] | None:
    """Bounds as (lower, upper) arrays, or None when there are none."""
    if bounds is None:
        return None
    if hasattr(bounds, "lb") and hasattr(bounds, "ub"):  # scipy.optimize.Bounds
        lo, hi = onp.broadcast_to(bounds.lb, n), onp.broadcast_to(bounds.ub, n)
    else:
        pairs = list(bounds)
        if len(pairs) != n or not all(len(b) == 2 for b in pairs):
            raise ValueError(f"minimize: bounds must be {n} (low, high) pairs, one per "
                             f"unknown (None for no bound), or a scipy.optimize.Bounds; got "
                             f"{len(pairs)} entries")
        lo = onp.array([-math.inf if b[0] is None else b[0] for b in pairs], dtype=float)
        hi = onp.array([math.inf if b[1] is None else b[1] for b in pairs], dtype=float)
    lo, hi = onp.asarray(lo, dtype=float).copy(), onp.asarray(hi, dtype=float).copy()
    if onp.any(lo > hi):
        k = int(onp.flatnonzero(lo > hi)[0])
        raise ValueError(f"minimize: bounds have lower > upper at index {k} "
                         f"({lo[k]} > {hi[k]})")
    return lo, hi


def lbfgs(obj: Objective, x: onp.ndarray, mon: Monitor, m: int = 10, gtol: float = 1e-5,
          ftol: float = 2.220446049250313e-09, c1: float = 1e-4, c2: float = 0.9,
          bounds=None) -> OptimizeResult:
    """L-BFGS (two-loop recursion) with a strong Wolfe search, or, with ``bounds``, its
    projected form.

    Args:
        obj: the objective.
        x: the starting point (flat).
        mon: the iteration monitor.
        m: the number of stored pairs.
        gtol: stop when the projected gradient's ∞-norm is ≤ gtol (SciPy's pgtol).
        ftol: stop when (f_k − f_{k+1}) / max(|f_k|, |f_{k+1}|, 1) ≤ ftol (SciPy's
            default, factr = 10⁷).
        c1: Armijo constant.
        c2: curvature constant.
        bounds: None, a sequence of (low, high) pairs (None for no bound), or a
            ``scipy.optimize.Bounds``.

    Returns:
        the result.
    """
    if m < 1:
        raise ValueError(f"minimize(method='l-bfgs-b'): option m must be ≥ 1, got {m}")
    box = _box(bounds, x.size)
    if box is not None:
        x = onp.clip(x, *box)
    f, g = obj.value_and_grad(x)
    pairs: deque = deque(maxlen=m)

    def projected_gradient(x, g):
        if box is None:
            return g
        return x - onp.clip(x - g, *box)

    gnorm = float(onp.max(onp.abs(projected_gradient(x, g))))
    stop = mon.record(x, f, gnorm, count=False) or mon.gtol_met(gnorm, gtol)
    while stop is None:
        if box is None:
            p = _two_loop(g, pairs)
            free = None
        else:
            lo, hi = box
            free = ~(((x <= lo) & (g > 0)) | ((x >= hi) & (g < 0)))
            gf = onp.where(free, g, 0.0)
            p = onp.where(free, _two_loop(gf, pairs), 0.0)
        d0 = g @ p
        if not d0 < 0.0:
            pairs.clear()
            p = -g if free is None else onp.where(free, -g, 0.0)
            d0 = g @ p
        alpha0 = 1.0 if pairs else min(1.0, 1.0 / math.sqrt(p @ p))
        try:
            if box is None:
                alpha, x_new, f_new, g_new = wolfe_step(obj.value_and_grad, x, p, f, g,
                                                       alpha0, c1, c2)
            else:
                def along(a, x=x, p=p):
                    return obj.fun(onp.clip(x + a * p, *box))

                alpha, f_new = backtracking(along, f, d0, alpha0, c1)
                x_new = onp.clip(x + alpha * p, *box)
                g_new = obj.grad(x_new)
        except LineSearchFailed as err:
            stop = Stop(Status.PRECISION, f"line search failed: {err}")
            break
        s, y = x_new - x, g_new - g
        f_old, x, f, g = f, x_new, f_new, g_new
        ys = y @ s
        if ys > 1e-10 * math.sqrt((y @ y) * (s @ s)):
            pairs.append((s, y, 1.0 / ys))
        gnorm = float(onp.max(onp.abs(projected_gradient(x, g))))
        stop = (mon.record(x, f, gnorm, step=math.sqrt(s @ s)) or mon.gtol_met(gnorm, gtol)
                or mon.ftol_met(f_old, f, ftol))
    return mon.result(x, f, g, stop)
