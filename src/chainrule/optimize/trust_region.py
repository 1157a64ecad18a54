"""Trust-region machinery shared by trust-ncg, trust-krylov, trust-exact and the ``trf``
least-squares method.

At x the model is m(p) = f + gᵀp + ½pᵀBp, minimised over ‖p‖ ≤ Δ. The step is accepted
when the actual reduction is a fair fraction of the predicted one,
ρ = (f(x) − f(x + p)) / (m(0) − m(p)) > η, and Δ shrinks (×¼ when ρ < ¼) or grows
(×2, up to Δ_max, when ρ > ¾ and the step reached the boundary), the rules of
Nocedal & Wright's Algorithm 4.1. Three subproblem solvers:

- :func:`steihaug_cg`: Steihaug–Toint truncated conjugate gradients on products B·v
  only; stops at the boundary, on negative curvature (at whichever end of the chord
  along that direction has the lower model value), or when ‖r‖ ≤ min(½, √‖g‖)·‖g‖.
- :func:`lanczos_tr`: the Lanczos process builds an orthonormal basis Q_k of the Krylov
  space and a tridiagonal T_k = Q_kᵀBQ_k; the subproblem restricted to that space,
  min ‖g‖e₁ᵀh + ½hᵀT_kh over ‖h‖ ≤ Δ, is solved exactly, p = Q_kh (the generalised
  Lanczos method of Gould, Lucidi, Roma and Toint). Unlike Steihaug–Toint it follows
  negative curvature along the boundary to the subproblem's minimiser.
- :func:`exact_tr`: the exact subproblem solution on an explicit B (the Moré–Sorensen
  characterisation): p(λ) = −(B + λI)⁻¹g with B + λI positive semi-definite, λ ≥ 0,
  λ(Δ − ‖p‖) = 0; λ from Newton's method on the secular equation
  1/Δ − 1/‖p(λ)‖ = 0, evaluated in B's eigenbasis, with the hard case (g orthogonal to
  the eigenvectors of the smallest eigenvalue) handled by a step along them.

>>> import numpy as onp
>>> B = onp.diag([1.0, -2.0])
>>> p, m, hits = exact_tr(onp.array([1.0, 0.0]), B, 1.0)   # hard case: g ⟂ negative curvature
>>> onp.round(onp.abs(p), 6).tolist(), hits
([0.333333, 0.942809], True)
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as onp

__all__ = ["steihaug_cg", "lanczos_tr", "exact_tr", "EigenModel", "update_radius",
           "forcing_tolerance"]


def forcing_tolerance(gnorm: float, power: float = 0.5) -> float:
    """The inexact-Newton residual tolerance min(½, ‖g‖^power)·‖g‖: power ½ gives
    superlinear convergence, power 1 quadratic (Dembo, Eisenstat & Steihaug)."""
    return min(0.5, gnorm ** power) * gnorm


def update_radius(radius: float, rho: float, hits_boundary: bool, max_radius: float) -> float:
    """Nocedal & Wright's Algorithm 4.1 radius rule."""
    if rho < 0.25:
        return 0.25 * radius
    if rho > 0.75 and hits_boundary:
        return min(2.0 * radius, max_radius)
    return radius


def _to_boundary(z: onp.ndarray, d: onp.ndarray, radius: float) -> tuple[float, float]:
    """The two τ (negative, positive) with ‖z + τd‖ = Δ."""
    a = d @ d
    b = 2.0 * (z @ d)
    c = z @ z - radius * radius
    root = math.sqrt(max(b * b - 4.0 * a * c, 0.0))
    return (-b - root) / (2.0 * a), (-b + root) / (2.0 * a)


def _on_boundary(g, z, bz, d, bd, radius, both: bool):
    """The boundary point z + τd with the lower model value (both roots when the
    curvature along d is negative, the forward one otherwise), with m(p) − f."""
    best = None
    for tau in _to_boundary(z, d, radius)[0 if both else 1:]:
        p, bp = z + tau * d, bz + tau * bd
        m = g @ p + 0.5 * (p @ bp)
        if best is None or m < best[1]:
            best = (p, m, True)
    return best


def steihaug_cg(g: onp.ndarray, hessp: Callable[[onp.ndarray], onp.ndarray], radius: float,
                tol: float, maxiter: int | None = None) -> tuple[onp.ndarray, float, bool]:
    """Steihaug–Toint CG for min gᵀp + ½pᵀBp, ‖p‖ ≤ Δ.

    Args:
        g: the gradient.
        hessp: v ↦ B·v.
        radius: Δ.
        tol: stop when the residual ‖Bp + g‖ ≤ tol.
        maxiter: the most CG steps (default 2n).

    Returns:
        (p, m(p) − f, whether p is on the boundary).
    """
    z = onp.zeros_like(g)
    bz = onp.zeros_like(g)  # B·z, kept to evaluate the model without another product
    r = g.copy()
    d = -r
    rr = r @ r
    if math.sqrt(rr) < tol:
        return z, 0.0, False
    for _ in range(maxiter or 2 * g.size):
        bd = hessp(d)
        curv = d @ bd
        if curv <= 0.0:  # negative curvature: the better end of the chord through d
            return _on_boundary(g, z, bz, d, bd, radius, both=True)
        alpha = rr / curv
        z_next = z + alpha * d
        if z_next @ z_next >= radius * radius:
            return _on_boundary(g, z, bz, d, bd, radius, both=False)
        z, bz = z_next, bz + alpha * bd
        r = r + alpha * bd
        rr_next = r @ r
        if math.sqrt(rr_next) < tol:
            break
        d = -r + (rr_next / rr) * d
        rr = rr_next
    return z, g @ z + 0.5 * (z @ bz), False


class EigenModel:
    """B = V diag(λ) Vᵀ, factorised once so that the subproblem can be re-solved for
    several radii (a rejected step) at O(n²) each."""

    def __init__(self, B: onp.ndarray, symmetric: bool = False) -> None:
        self.lam, self.V = onp.linalg.eigh(B if symmetric else 0.5 * (B + B.T))

    def solve(self, g: onp.ndarray, radius: float) -> tuple[onp.ndarray, float, bool]:
        """(p, m(p) − f, on the boundary) for min gᵀp + ½pᵀBp, ‖p‖ ≤ Δ."""
        gt = self.V.T @ g
        pt, hits = _secular(gt, self.lam, radius)
        return self.V @ pt, gt @ pt + 0.5 * (self.lam * pt) @ pt, hits


def _secular(gt: onp.ndarray, lam: onp.ndarray, radius: float) -> tuple[onp.ndarray, bool]:
    """The exact subproblem in B's eigenbasis (gt = Vᵀg, lam ascending)."""
    scale = max(abs(lam[-1]), abs(lam[0]), 1e-300)
    l1 = lam[0]
    if l1 > 1e-14 * scale:
        pt = -gt / lam
        if pt @ pt <= radius * radius:
            return pt, False
    lo = max(0.0, -l1)
    gnorm = math.sqrt(gt @ gt)
    # hard case: g has (numerically) no component along the eigenvectors of λ₁
    low = lam <= l1 + 1e-12 * scale
    if l1 <= 0.0:  # only then can ‖p(λ)‖ stay below Δ as λ → −λ₁
        g_low = math.sqrt(gt[low] @ gt[low])
        if g_low <= 1e-10 * max(gnorm, 1e-300):
            with onp.errstate(divide="ignore", invalid="ignore"):
                pt = onp.where(low, 0.0, -gt / (lam + lo))
            norm2 = pt @ pt
            if norm2 <= radius * radius:
                tau = math.sqrt(radius * radius - norm2)
                k = int(onp.flatnonzero(low)[0])
                pt[k] = tau
                return pt, True
    hi = lo + gnorm / radius + scale  # ‖p(hi)‖ ≤ ‖g‖/(hi − lo) < Δ
    lmb = lo + max(1e-12 * scale, 1e-3 * (hi - lo))

    def norm_and_slope(lmb: float) -> tuple[float, float]:
        w = lam + lmb
        q = gt / w
        n2 = q @ q
        return math.sqrt(n2), -(q @ (q / w)) / math.sqrt(n2)

    for _ in range(100):
        pn, dpn = norm_and_slope(lmb)
        phi = 1.0 / radius - 1.0 / pn
        if abs(pn - radius) <= 1e-10 * radius:
            break
        if phi > 0.0:  # ‖p(λ)‖ > Δ: λ is too small
            lo = lmb
        else:
            hi = lmb
        # Newton on φ(λ) = 1/Δ − 1/‖p(λ)‖ (decreasing, convex): φ' = ‖p‖'/‖p‖²
        step = phi / (dpn / (pn * pn))
        nxt = lmb - step
        if not (lo < nxt < hi):
            nxt = 0.5 * (lo + hi)
        if nxt == lmb:
            break
        lmb = nxt
    return -gt / (lam + lmb), True


def exact_tr(g: onp.ndarray, B: onp.ndarray, radius: float) -> tuple[onp.ndarray, float, bool]:
    """The exact minimiser of gᵀp + ½pᵀBp over ‖p‖ ≤ Δ (B symmetric, any inertia).

    Args:
        g: the gradient.
        B: the (model) Hessian.
        radius: Δ.

    Returns:
        (p, m(p) − f, whether p is on the boundary).
    """
    return EigenModel(B).solve(g, radius)


class _InteriorNewton:
    """The interior candidate h = −T_k⁻¹‖g‖e₁ on the growing Lanczos tridiagonal T_k,
    from its LDLᵀ factorisation extended by one pivot per step (O(1) to extend, O(k) for
    h): d₀ = α₀, lᵢ = βᵢ/dᵢ₋₁, dᵢ = αᵢ − lᵢβᵢ. T_k is positive definite exactly when every
    pivot is positive, and stays indefinite once it is not (Cauchy interlacing), so the
    Lanczos solver uses this until the first non-positive pivot or the first candidate
    outside the region (‖h_k‖ grows with k, as the conjugate-gradient iterates' norms
    do), then the eigen solution of :class:`EigenModel` on T_k for good."""

    def __init__(self, gnorm: float) -> None:
        self.pivots: list[float] = []
        self.multipliers: list[float] = []  # lᵢ, i ≥ 1
        self.forward = -gnorm               # zₖ of L z = −‖g‖e₁, the newest one
        self.zs: list[float] = []

    def extend(self, alpha: float, beta: float) -> bool:
        """Add αₖ (and βₖ, the coupling to the previous row; ignored for k = 0); whether
        T_k is still positive definite."""
        if self.pivots:
            ell = beta / self.pivots[-1]
            self.multipliers.append(ell)
            self.forward = -ell * self.forward
            pivot = alpha - ell * beta
        else:
            pivot = alpha
        self.pivots.append(pivot)
        self.zs.append(self.forward)
        return pivot > 0.0

    def solution(self) -> onp.ndarray:
        """h with T_k h = −‖g‖e₁ (back substitution Lᵀh = D⁻¹z)."""
        k = len(self.pivots)
        h = onp.empty(k)
        h[-1] = self.zs[-1] / self.pivots[-1]
        for i in range(k - 2, -1, -1):
            h[i] = self.zs[i] / self.pivots[i] - self.multipliers[i] * h[i + 1]
        return h


def lanczos_tr(g: onp.ndarray, hessp: Callable[[onp.ndarray], onp.ndarray], radius: float,
               tol: float, maxiter: int | None = None, boundary_tol: float | None = None
               ) -> tuple[onp.ndarray, float, bool]:
    """The trust-region subproblem on the Lanczos (Krylov) subspace, solved exactly there.

    While T_k is positive definite and its Newton point lies inside the region, that
    point is the subspace solution and comes from an LDLᵀ factorisation extended one
    pivot per step (:class:`_InteriorNewton`); after that, from T_k's eigen
    decomposition (:class:`EigenModel`) at each step.

    Args:
        g: the gradient.
        hessp: v ↦ B·v.
        radius: Δ.
        tol: stop when the model gradient in the full space, |β_{k+1}·h_k|, is ≤ tol.
        maxiter: the most Lanczos steps (default n).
        boundary_tol: the tolerance instead of ``tol`` while the subspace solution lies
            on the boundary (default ``tol``): a boundary step is seldom the last one, so
            it need not be solved as closely as an interior (Newton) step.

    Returns:
        (p, m(p) − f, whether p is on the boundary).
    """
    n = g.size
    gnorm = math.sqrt(g @ g)
    if gnorm < tol:
        return onp.zeros_like(g), 0.0, False
    kmax = min(maxiter or n, n)
    Q = onp.empty((kmax, n))
    T = onp.zeros((kmax, kmax))  # T_k is its leading (k+1)×(k+1) block
    q, q_prev, beta = g / gnorm, onp.zeros(n), 0.0
    hits = False
    interior: _InteriorNewton | None = _InteriorNewton(gnorm)
    for k in range(kmax):
        Q[k] = q
        w = hessp(q) - beta * q_prev
        alpha = q @ w
        w -= alpha * q
        w -= Q[:k + 1].T @ (Q[:k + 1] @ w)  # full reorthogonalisation
        T[k, k] = alpha
        if k:
            T[k - 1, k] = T[k, k - 1] = beta
        beta_next = math.sqrt(w @ w)
        if interior is not None and interior.extend(alpha, beta):
            h = interior.solution()
            model = 0.5 * gnorm * h[0]  # T h = −‖g‖e₁: ‖g‖h₀ + ½hᵀTh = ½‖g‖h₀
            if h @ h > radius * radius:
                interior = None
        else:
            interior = None
        if interior is None:
            e1g = onp.zeros(k + 1)
            e1g[0] = gnorm
            h, model, hits = EigenModel(T[:k + 1, :k + 1], symmetric=True).solve(e1g, radius)
        limit = boundary_tol if hits and boundary_tol is not None else tol
        if abs(beta_next * h[-1]) <= limit or beta_next <= 1e-14 * max(1.0, abs(alpha)):
            break
        q_prev, q, beta = q, w / beta_next, beta_next
    return Q[:h.size].T @ h, model, hits
