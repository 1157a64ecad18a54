"""Line searches shared by the line-search methods (gd, cg, bfgs, l-bfgs-b, newton,
newton-cg).

Along a descent direction p from x, φ(α) = f(x + αp), φ'(α) = ∇f(x + αp)·p < 0 at 0.

- :func:`strong_wolfe` finds α with the sufficient decrease (Armijo) condition
  φ(α) ≤ φ(0) + c₁αφ'(0) and the strong curvature condition |φ'(α)| ≤ c₂|φ'(0)|
  (Nocedal & Wright, Algorithms 3.5 and 3.6): a bracketing phase that extrapolates
  with the cubic through the last two points, then a zoom that interpolates with the
  cubic through the bracket's ends (safeguarded, bisection as the fallback). Every trial
  evaluates f and ∇f together (one reverse pass). On a quadratic the cubic is exact,
  so one interpolation lands on the exact minimiser along p.
- :func:`backtracking` finds α with the Armijo condition alone, starting from α₀ and
  shrinking by the minimiser of the quadratic through φ(0), φ'(0), φ(α)
  (safeguarded to [0.1α, 0.5α]); trials evaluate f only.

>>> import numpy as onp
>>> phi = lambda a: ((a - 3.0) ** 2, 2 * (a - 3.0), None)   # φ(α) = (α − 3)²
>>> a, f, d, _ = strong_wolfe(phi, 9.0, -6.0, 1.0, c2=1e-3)
>>> round(a, 12), round(f, 12)
(3.0, 0.0)
"""

from __future__ import annotations

import math
from typing import Any, Callable

__all__ = ["strong_wolfe", "wolfe_step", "backtracking", "cubic_minimizer", "LineSearchFailed"]


class LineSearchFailed(Exception):
    """No step satisfying the conditions was found (the search is at the limit of the
    precision of f, or p is not a descent direction)."""


def cubic_minimizer(a: float, fa: float, da: float, b: float, fb: float, db: float
                    ) -> float | None:
    """The minimiser of the cubic interpolating (a, fa, da) and (b, fb, db)
    (Nocedal & Wright eq. 3.59), or None when the cubic has no local minimum."""
    if a == b:
        return None
    d1 = da + db - 3.0 * (fa - fb) / (a - b)
    disc = d1 * d1 - da * db
    if not disc >= 0.0 or not math.isfinite(disc):
        return None
    d2 = math.copysign(math.sqrt(disc), b - a)
    denom = db - da + 2.0 * d2
    if denom == 0.0:
        return None
    x = b - (b - a) * (db + d2 - d1) / denom
    return x if math.isfinite(x) else None


def strong_wolfe(phi: Callable[[float], tuple[float, float, Any]], f0: float, d0: float,
                 alpha0: float, c1: float = 1e-4, c2: float = 0.9, alpha_max: float = 1e10,
                 maxiter: int = 30) -> tuple[float, float, float, Any]:
    """A step satisfying the strong Wolfe conditions.

    Args:
        phi: α ↦ (φ(α), φ'(α), payload); the payload (e.g. the new x and gradient) is
            handed back for the accepted α so that the caller recomputes nothing.
        f0: φ(0).
        d0: φ'(0) (must be negative).
        alpha0: the first trial step.
        c1: the sufficient-decrease constant.
        c2: the curvature constant (0.9 for quasi-Newton and Newton, 0.1 for CG).
        alpha_max: the longest step tried.
        maxiter: the most trials.

    Returns:
        (α, φ(α), φ'(α), payload).

    Raises:
        LineSearchFailed: when ``d0 >= 0`` or no acceptable step is found.
    """
    if not d0 < 0.0:
        raise LineSearchFailed(f"not a descent direction: phi'(0) = {d0:.3e}")
    a_prev, f_prev, d_prev = 0.0, f0, d0
    a = min(alpha0, alpha_max)
    best = None
    for i in range(maxiter):
        f, d, pay = phi(a)
        if not (math.isfinite(f) and math.isfinite(d)):  # stepped out of the domain
            return _zoom(phi, a_prev, f_prev, d_prev, a, math.inf, math.nan, f0, d0, c1, c2,
                         maxiter - i - 1, best)
        if f > f0 + c1 * a * d0 or (i > 0 and f >= f_prev):
            return _zoom(phi, a_prev, f_prev, d_prev, a, f, d, f0, d0, c1, c2,
                         maxiter - i - 1, best)
        best = (a, f, d, pay)
        if abs(d) <= -c2 * d0:
            return best
        if d >= 0.0:
            return _zoom(phi, a, f, d, a_prev, f_prev, d_prev, f0, d0, c1, c2,
                         maxiter - i - 1, best)
        if a >= alpha_max:
            return best
        guess = cubic_minimizer(a_prev, f_prev, d_prev, a, f, d)
        low, high = a + 1.1 * (a - a_prev), a + 10.0 * (a - a_prev)
        nxt = high if guess is None or guess > high else max(guess, low)
        a_prev, f_prev, d_prev = a, f, d
        a = min(nxt, alpha_max)
    if best is not None:
        return best
    raise LineSearchFailed(f"no step satisfying the strong Wolfe conditions in {maxiter} "
                           "trials")


def _zoom(phi, lo, f_lo, d_lo, hi, f_hi, d_hi, f0, d0, c1, c2, budget, best):
    """Nocedal & Wright's Algorithm 3.6: shrink [lo, hi] (lo satisfies the sufficient
    decrease condition and has the lowest φ so far) until a strong Wolfe point."""
    for _ in range(max(budget, 1)):
        width = hi - lo
        guess = None
        if math.isfinite(f_hi) and math.isfinite(d_hi):
            guess = cubic_minimizer(lo, f_lo, d_lo, hi, f_hi, d_hi)
        a_min, a_max = min(lo, hi), max(lo, hi)
        margin = 0.1 * abs(width)
        if guess is None or not (a_min + margin <= guess <= a_max - margin):
            guess = lo + 0.5 * width
        a = guess
        f, d, pay = phi(a)
        if not (math.isfinite(f) and math.isfinite(d)) or f > f0 + c1 * a * d0 or f >= f_lo:
            hi, f_hi, d_hi = a, f, d
        else:
            best = (a, f, d, pay)
            if abs(d) <= -c2 * d0:
                return best
            if d * (hi - lo) >= 0.0:
                hi, f_hi, d_hi = lo, f_lo, d_lo
            lo, f_lo, d_lo = a, f, d
        if abs(hi - lo) <= 1e-16 * max(1.0, abs(lo)):
            break
    if best is not None and best[0] > 0.0 and best[1] < f0:
        return best  # sufficient decrease without the curvature condition: still progress
    raise LineSearchFailed("the strong Wolfe search bracketed no acceptable step (f is at "
                           "the limit of its precision along p)")


def backtracking(fun: Callable[[float], float], f0: float, d0: float, alpha0: float,
                 c1: float = 1e-4, maxiter: int = 60) -> tuple[float, float]:
    """A step satisfying the Armijo condition φ(α) ≤ φ(0) + c₁αφ'(0).

    Args:
        fun: α ↦ φ(α).
        f0: φ(0).
        d0: φ'(0) (must be negative).
        alpha0: the first trial step.
        c1: the sufficient-decrease constant.
        maxiter: the most trials.

    Returns:
        (α, φ(α)).

    Raises:
        LineSearchFailed: when ``d0 >= 0`` or the step shrank ``maxiter`` times.
    """
    if not d0 < 0.0:
        raise LineSearchFailed(f"not a descent direction: phi'(0) = {d0:.3e}")
    a = alpha0
    for _ in range(maxiter):
        f = fun(a)
        if math.isfinite(f) and f <= f0 + c1 * a * d0:
            return a, f
        if math.isfinite(f):
            denom = 2.0 * (f - f0 - d0 * a)
            guess = -d0 * a * a / denom if denom > 0 else 0.5 * a
            a = min(max(guess, 0.1 * a), 0.5 * a)
        else:
            a = 0.1 * a
    raise LineSearchFailed(f"backtracking: no sufficient decrease after {maxiter} "
                           "reductions of the step")


def wolfe_step(value_and_grad: Callable, x, p, f0: float, g0, alpha0: float,
               c1: float = 1e-4, c2: float = 0.9, maxiter: int = 30):
    """The strong Wolfe search along p from x on a function given as ``value_and_grad``.

    Args:
        value_and_grad: x ↦ (f(x), ∇f(x)) (one pass).
        x: the current point.
        p: the direction.
        f0: f(x).
        g0: ∇f(x).
        alpha0: the first trial step.
        c1: the sufficient-decrease constant.
        c2: the curvature constant.
        maxiter: the most trials.

    Returns:
        (α, x + αp, f(x + αp), ∇f(x + αp)).

    Raises:
        LineSearchFailed: see :func:`strong_wolfe`.
    """
    def phi(a):
        xa = x + a * p
        fa, ga = value_and_grad(xa)
        return fa, float(ga @ p), (xa, ga)

    a, fa, _, (xa, ga) = strong_wolfe(phi, f0, float(g0 @ p), alpha0, c1, c2,
                                      maxiter=maxiter)
    return a, xa, fa, ga
