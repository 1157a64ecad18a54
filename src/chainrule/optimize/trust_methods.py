"""The trust-region methods: one loop (:func:`trust_region`), three subproblem
solvers from :mod:`.trust_region`.

- ``trust-ncg``: Steihaug–Toint CG on Hessian-vector products;
- ``trust-krylov``: the Lanczos subspace, solved exactly there, on Hessian-vector
  products;
- ``trust-exact``: Moré and Sorensen's iteration on Cholesky factorisations of the
  Hessian (:func:`.trust_region.more_sorensen`): ‖p‖ within 10% of Δ, or a boundary
  step p + τz along an estimated near-null vector z of B + λI whose model value is
  within 20% of the optimum. Not the exact eigen solution (:func:`.trust_region.exact_tr`):
  that one is equivariant under any permutation of the variables that leaves f and x
  unchanged, so from a start on such a symmetric subspace every iterate stays on it.
  Biggs EXP6's standard start has x₁ = x₅, x₃ = x₆, and f is symmetric under swapping
  (x₁, x₃) with (x₅, x₆); the exact steps stay there and end, after ~570 iterations, on
  the subspace's stationary value f = 0.24268 (Hessian positive semi-definite, a flat
  valley), while the first Moré–Sorensen step (λ overshoots λ*, the z step is taken)
  leaves it and reaches f ≈ 0 in 33 iterations, as SciPy's does. The run also stops when
  the model's best decrease is below the rounding error of f (ε|f|): ρ is noise there,
  and shrinking Δ only shrinks the prediction further.

A trial step costs one evaluation of f; ∇f is evaluated only at accepted points.

The Krylov solvers stop at the inexact-Newton residual ‖Bp + g‖ ≤ η‖g‖: Steihaug–Toint
with η = min(½, √‖g‖); the Lanczos solver with η = min(½, ‖g‖) for an interior step
(quadratic convergence once the region stops binding: the last iterations are Newton
steps, each solved closely) and min(½, √‖g‖) on the boundary. When such a step is
rejected while strictly inside the region, the shrunken region (¼Δ) still contains it
and the same model would hand back the same step; so each rejected interior step
squares η for the retry (η → η² → η⁴ …, back to the forcing term at the next accepted
point). On badly conditioned problems the first
Krylov directions are the stiff ones: the truncated step there predicts a decrease
below the rounding noise of f (Meyer's problem, Hessian condition ~1e16: a step of
4e-14 predicting 2e-13 where f ≈ 139 carries noise ~1e-11), and without the squaring
every retry repeats it until Δ underflows.
"""

from __future__ import annotations

import math
from functools import partial

import numpy as onp

from chainrule.optimize.monitor import Monitor, Stop
from chainrule.optimize.objective import Objective
from chainrule.optimize.result import OptimizeResult, Status
from chainrule.optimize.trust_region import (
    forcing_tolerance,
    lanczos_tr,
    more_sorensen,
    steihaug_cg,
    update_radius,
)

__all__ = ["trust_region"]

_EPS = float(onp.finfo(float).eps)


def trust_region(obj: Objective, x: onp.ndarray, mon: Monitor, subproblem: str,
                 gtol: float = 1e-5, initial_trust_radius: float = 1.0,
                 max_trust_radius: float = 1000.0, eta: float = 0.15) -> OptimizeResult:
    """Minimise by trust regions.

    Args:
        obj: the objective.
        x: the starting point (flat).
        mon: the iteration monitor.
        subproblem: ``"cg"`` (Steihaug–Toint), ``"lanczos"`` or ``"exact"``.
        gtol: stop when ‖g‖₂ ≤ gtol (as SciPy's trust-region methods).
        initial_trust_radius: Δ₀.
        max_trust_radius: Δ_max.
        eta: accept a step when ρ > η.

    Returns:
        the result (with ``hess`` for ``exact``).
    """
    if not 0.0 <= eta < 0.25:
        raise ValueError(f"minimize: option eta must lie in [0, 0.25), got {eta}")
    if not 0.0 < initial_trust_radius <= max_trust_radius:
        raise ValueError("minimize: need 0 < initial_trust_radius <= max_trust_radius, got "
                         f"{initial_trust_radius} and {max_trust_radius}")
    radius = float(initial_trust_radius)
    f, g = obj.value_and_grad(x)
    gnorm = math.sqrt(g @ g)
    stop = mon.record(x, f, gnorm, radius=radius, count=False) or mon.gtol_met(gnorm, gtol, "2")
    H = None
    stale = True  # H is not (yet) the Hessian at x
    lam_lower = 0.0  # trust-exact: a lower bound on λ for a retry at the same x
    power = 1.0 if subproblem == "lanczos" else 0.5  # of the interior forcing term
    forcing = forcing_tolerance(gnorm, power) / gnorm if gnorm > 0.0 else 0.5  # η
    while stop is None:
        if subproblem == "exact":
            if stale:
                H, stale, lam_lower = obj.hess(x), False, 0.0
                if not onp.all(onp.isfinite(H)):
                    stop = Stop(Status.NONFINITE, f"non-finite Hessian at iteration {mon.nit}")
                    break
                H = 0.5 * (H + H.T)
            p, m, hits, lam_lower = more_sorensen(g, H, radius, lam_lower)
        elif subproblem == "cg":
            p, m, hits = steihaug_cg(g, partial(obj.hessp, x), radius, forcing * gnorm)
        else:
            p, m, hits = lanczos_tr(g, partial(obj.hessp, x), radius, forcing * gnorm,
                                    boundary_tol=forcing_tolerance(gnorm))
        predicted = -m
        if not predicted > 0.0:
            stop = Stop(Status.PRECISION, f"the model predicts no decrease ({predicted:.3e}) "
                                          "at this precision")
            break
        if subproblem == "exact" and predicted <= _EPS * abs(f):
            stop = Stop(Status.PRECISION, f"the model's best decrease {predicted:.3e} is "
                                          f"below the rounding error of f = {f:.6e}")
            break
        x_trial = x + p
        f_trial = obj.fun(x_trial)
        rho = (f - f_trial) / predicted if math.isfinite(f_trial) else -math.inf
        step = math.sqrt(p @ p)
        radius = update_radius(radius, rho, hits, max_trust_radius)
        if rho > eta:
            x, f = x_trial, f_trial
            g = obj.grad(x)
            gnorm = math.sqrt(g @ g)
            stale = True
            forcing = forcing_tolerance(gnorm, power) / gnorm if gnorm > 0.0 else 0.5
        else:
            step = 0.0
            if not hits:  # the retry would return the same step: solve the model closer
                forcing *= forcing
        stop = (mon.record(x, f, gnorm, step=step, radius=radius)
                or mon.gtol_met(gnorm, gtol, "2"))
        if stop is None and radius < 1e-15 * (1.0 + math.sqrt(x @ x)):
            stop = Stop(Status.PRECISION, f"trust radius {radius:.3e} fell below the "
                                          "precision of x")
    extra = {"hess": H} if subproblem == "exact" else {}
    return mon.result(x, f, g, stop, **extra)
