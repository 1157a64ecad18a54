"""Trust-region machinery shared by trust-ncg, trust-krylov, trust-exact and the ``trf``
least-squares method.

At x the model is m(p) = f + gᵀp + ½pᵀBp, minimised over ‖p‖ ≤ Δ. The step is accepted
when the actual reduction is a fair fraction of the predicted one,
ρ = (f(x) − f(x + p)) / (m(0) − m(p)) > η, and Δ shrinks (×¼ when ρ < ¼) or grows
(×2, up to Δ_max, when ρ > ¾ and the step reached the boundary), the rules of
Nocedal & Wright's Algorithm 4.1. The subproblem solvers:

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
- :func:`more_sorensen`: Moré and Sorensen's iteration for the same subproblem on
  Cholesky factorisations of B + λI only, stopped at an approximate solution (‖p‖
  within 10% of Δ, or a boundary step along an estimated near-null vector); what
  ``trust-exact`` uses (see :mod:`.trust_methods` for why not :func:`exact_tr`).

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

__all__ = ["steihaug_cg", "lanczos_tr", "exact_tr", "more_sorensen", "EigenModel",
           "update_radius", "forcing_tolerance"]


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


def _null_vector_estimate(L: onp.ndarray) -> tuple[onp.ndarray, float]:
    """A unit z with ‖Lᵀz‖ small, for the Cholesky factor L (lower) of a positive
    definite A = LLᵀ, and the estimate ‖Lᵀz‖ of A's smallest singular value's root.

    The condition estimator of Cline, Moler, Stewart and Wilkinson: solve Ly = e with the
    signs eₖ = ±1 chosen one row at a time, each the one that makes |yₖ| plus the
    partial sums of the rows below it the larger (looking one column ahead), then
    Lᵀz = y; a large z against a modest y means Lᵀ is nearly singular along z
    (‖Lᵀz‖/‖z‖ = ‖y‖/‖z‖).
    """
    n = L.shape[0]
    y = onp.empty(n)
    partial_sums = onp.zeros(n)  # Σ_{i<k} L[k, i]·y[i]
    for k in range(n):
        below = L[k + 1:, k]
        plus = (1.0 - partial_sums[k]) / L[k, k]
        minus = (-1.0 - partial_sums[k]) / L[k, k]
        sums_plus = partial_sums[k + 1:] + below * plus
        sums_minus = partial_sums[k + 1:] + below * minus
        if abs(plus) + onp.abs(sums_plus).sum() >= abs(minus) + onp.abs(sums_minus).sum():
            y[k], partial_sums[k + 1:] = plus, sums_plus
        else:
            y[k], partial_sums[k + 1:] = minus, sums_minus
    z = onp.linalg.solve(L.T, y)
    z_norm = math.sqrt(z @ z)
    return z / z_norm, math.sqrt(y @ y) / z_norm


def _indefinite_direction(A: onp.ndarray) -> tuple[float, onp.ndarray]:
    """For a symmetric A that is not positive definite: δ ≥ 0 and v with vᵀAv = −δ.

    The Cholesky factorisation runs until its first non-positive pivot, at row k:
    A + δeₖeₖᵀ then has a singular leading (k+1)×(k+1) block, whose null vector
    (vₖ = 1, L₍ₖ₎ᵀv₍<ₖ₎ = −lₖ, from the factor so far) is v. So A's smallest eigenvalue
    is at most −δ/‖v‖², and λ* ≥ λ + δ/‖v‖² for A = B + λI.
    """
    n = A.shape[0]
    L = onp.zeros_like(A)
    for k in range(n):
        pivot = A[k, k] - L[k, :k] @ L[k, :k]
        if pivot <= 0.0:
            v = onp.zeros(n)
            v[k] = 1.0
            if k:
                v[:k] = onp.linalg.solve(L[:k, :k].T, -L[k, :k])
            return -pivot, v
        L[k, k] = math.sqrt(pivot)
        L[k + 1:, k] = (A[k + 1:, k] - L[k + 1:, :k] @ L[k, :k]) / L[k, k]
    raise ValueError("_indefinite_direction: the matrix is positive definite")


def _safeguard(lam_lo: float, lam_hi: float) -> float:
    """A λ inside [λ_L, λ_U] when Newton's leaves it: their geometric mean, kept at least
    1% of the bracket above λ_L."""
    return max(math.sqrt(lam_lo * lam_hi), lam_lo + 0.01 * (lam_hi - lam_lo))


def more_sorensen(g: onp.ndarray, B: onp.ndarray, radius: float, lam_lower: float = 0.0,
                  boundary_tol: float = 0.1, hard_tol: float = 0.2, maxiter: int = 60
                  ) -> tuple[onp.ndarray, float, bool, float]:
    """Moré and Sorensen's iteration for min gᵀp + ½pᵀBp over ‖p‖ ≤ Δ, on Cholesky
    factorisations of B + λI only.

    λ ≥ 0 is bracketed in [λ_L, λ_U] (from ‖g‖/Δ and bounds on B's eigenvalues: its
    diagonal, Gershgorin's discs, ‖B‖_F and ‖B‖_∞), starts at 0 when λ_L = 0 (else
    inside the bracket) and is moved by
    Newton's method on 1/Δ − 1/‖p(λ)‖, p(λ) = −(B + λI)⁻¹g; a failed factorisation raises
    λ_L past λ by what its first non-positive pivot shows (:func:`_indefinite_direction`).
    The iteration stops at an approximate solution:

    - ‖p‖ ≤ Δ with λ = 0 (the Newton step, interior), or
    - |‖p‖ − Δ| ≤ σ₁Δ (σ₁ = ``boundary_tol``), or
    - ‖p‖ < Δ with λ > 0 and a unit z with ‖Rz‖ small (R the Cholesky factor, z from a
      condition estimate) such that the boundary step p + τz, ‖p + τz‖ = Δ, has
      τ²‖Rz‖² ≤ σ₂(‖Rp‖² + λΔ²) (σ₂ = ``hard_tol``): then its model value is within a
      factor (1 − σ₂) of the optimal one. This covers the hard case (g orthogonal to the
      eigenvectors of B's smallest eigenvalue) and the nearly hard one.

    The last rule is why this iteration, not the exact eigen solution of
    :func:`exact_tr`, drives ``trust-exact``: the exact solution of the subproblem
    keeps every symmetry that f and the iterate share (it is equivariant: when x lies
    on a subspace that a permutation of the variables leaves f invariant on, so does
    x + p), while the step along the estimated z has no such constraint; a problem whose
    standard start lies on such a subspace (Biggs EXP6, x₁ = x₅, x₃ = x₆) can then leave
    it for a lower minimum than the subspace's own.

    Args:
        g: the gradient.
        B: the (model) Hessian, symmetric.
        radius: Δ.
        lam_lower: a known lower bound on λ (the last call's λ_L when Δ has shrunk at
            the same x: λ decreases as Δ grows).
        boundary_tol: σ₁.
        hard_tol: σ₂.
        maxiter: the most factorisations; after them the eigen solution is returned.

    Returns:
        (p, m(p) − f, whether p is on the boundary, λ_L).

    >>> import numpy as onp
    >>> p, m, hits, lam_lo = more_sorensen(onp.array([1.0, 1.0]), onp.diag([2.0, 4.0]), 10.0)
    >>> onp.round(p, 12).tolist(), hits                         # the Newton step, inside
    ([-0.5, -0.25], False)
    >>> p, m, hits, lam_lo = more_sorensen(onp.array([1.0, 1.0]), onp.diag([2.0, 4.0]), 0.1)
    >>> hits, bool(abs(onp.linalg.norm(p) - 0.1) <= 0.01)
    (True, True)
    """
    n = g.size
    gnorm = math.sqrt(g @ g)
    diag = onp.diag(B)
    abs_rows = onp.abs(B).sum(axis=1)
    norm = min(float(abs_rows.max()), math.sqrt(float((B * B).sum())))  # ≥ every |λᵢ(B)|
    off = abs_rows - onp.abs(diag)  # Gershgorin: λᵢ(B) ∈ [min(Bᵢᵢ − offᵢ), max(Bᵢᵢ + offᵢ)]
    lam_lo = max(0.0, lam_lower, -float(diag.min()),
                 gnorm / radius - min(float((diag + off).max()), norm))
    lam_hi = max(0.0, gnorm / radius + min(-float((diag - off).min()), norm))
    eye = onp.eye(n)
    lam = 0.0 if lam_lo == 0.0 else _safeguard(lam_lo, lam_hi)
    for _ in range(maxiter):
        try:
            L = onp.linalg.cholesky(B + lam * eye)
        except onp.linalg.LinAlgError:  # B + λI is not positive definite: λ* > λ
            delta, v = _indefinite_direction(B + lam * eye)
            lam_lo = max(lam_lo, lam + delta / (v @ v))
            lam = _safeguard(lam_lo, lam_hi)
            continue
        y = onp.linalg.solve(L, -g)
        p = onp.linalg.solve(L.T, y)
        p_norm = math.sqrt(p @ p)
        if p_norm <= radius and lam == 0.0:
            return p, g @ p + 0.5 * (p @ (B @ p)), False, lam_lo
        if p_norm >= radius:
            lam_lo = lam
            if p_norm - radius <= boundary_tol * radius:
                return p, g @ p + 0.5 * (p @ (B @ p)), True, lam_lo
        else:
            lam_hi = lam
            z, rz = _null_vector_estimate(L)
            tau = min(_to_boundary(p, z, radius), key=abs)
            if tau * tau * rz * rz <= hard_tol * (y @ y + lam * radius * radius):
                p = p + tau * z
                return p, g @ p + 0.5 * (p @ (B @ p)), True, lam_lo
            lam_lo = max(lam_lo, lam - rz * rz)
        w = onp.linalg.solve(L, p)
        nxt = lam + (p_norm * p_norm / (w @ w)) * (p_norm - radius) / radius
        if not lam_lo < nxt < lam_hi:
            nxt = _safeguard(lam_lo, lam_hi)
        if nxt == lam:
            break
        lam = nxt
    p, m, hits = exact_tr(g, B, radius)
    return p, m, hits, lam_lo


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
