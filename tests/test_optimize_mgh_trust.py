"""Trust-region methods on the hard Moré–Garbow–Hillstrom problems, to their published
minima (regressions: each failed before its fix)."""

import numpy as onp
import pytest

from chainrule.optimize import minimize, scipy_objective
from chainrule.optimize.mgh import PROBLEMS
from chainrule.optimize.trust_region import exact_tr, lanczos_tr, more_sorensen

MEYER_F_STAR = 87.9458  # Moré, Garbow & Hillstrom (1981), problem 10


@pytest.mark.parametrize("method", ["trust-krylov", "trust-ncg"])
def test_trust_krylov_methods_solve_meyer_despite_hessian_condition_1e16(method):
    # before: trust-krylov stopped at f = 138.76 ("trust radius fell below the precision
    # of x"), trust-ncg ran out of iterations at f ≈ 2e3
    p = PROBLEMS["meyer"]
    r = minimize(p.f, p.start(), method=method)
    assert abs(r.fun - MEYER_F_STAR) <= 1e-5 * MEYER_F_STAR
    onp.testing.assert_allclose(r.x, [5.6096e-3, 6181.35, 345.224], rtol=1e-4)


def test_truncated_lanczos_step_on_meyer_is_below_noise_until_the_forcing_term_shrinks():
    # an iterate of the old run: ‖g‖ = 8.25, Hessian eigenvalues 0.026, 4.3e4, 2.1e14.
    # With η = ½ (and ¼) the Lanczos process stops after the stiff direction: a 4e-14
    # step predicting 1.7e-13, below the rounding noise of f ≈ 138.76, so every retry
    # was rejected; with η = 1/16 (two squarings) the step reaches the boundary and
    # decreases f by 3.13 as the model predicts
    p = PROBLEMS["meyer"]
    obj = scipy_objective(p.f)
    x = onp.array([0.006053957985295494, 6117.957936889802, 343.0842857337453])
    g = obj.jac(x)
    gnorm = onp.linalg.norm(g)
    assert gnorm == pytest.approx(8.2509, rel=1e-4)
    for eta in (0.5, 0.25):
        step, model, _ = lanczos_tr(g, lambda v: obj.hessp(x, v), 2.0, eta * gnorm)
        assert onp.linalg.norm(step) < 1e-12 and -model < 1e-12
    step, model, hits = lanczos_tr(g, lambda v: obj.hessp(x, v), 2.0, gnorm / 16)
    assert hits and onp.linalg.norm(step) == pytest.approx(2.0)
    assert -model == pytest.approx(3.188, rel=1e-3)
    assert obj.fun(x) - obj.fun(x + step) == pytest.approx(3.135, rel=1e-3)


def test_exact_tr_stays_on_biggs_symmetric_subspace_more_sorensen_leaves_it():
    # f is symmetric under swapping (x₁, x₃) with (x₅, x₆) and the standard start has
    # x₁ = x₅, x₃ = x₆: the exact subproblem solution keeps the symmetry (Δ = 1, the
    # first step), the Moré–Sorensen boundary step along its near-null vector does not
    p = PROBLEMS["biggs_exp6"]
    obj = scipy_objective(p.f)
    x0 = p.start()
    g, H = obj.jac(x0), obj.hess(x0)
    step, model, hits = exact_tr(g, H, 1.0)
    assert hits and step[0] == pytest.approx(step[4]) and step[2] == pytest.approx(step[5])
    ms_step, ms_model, ms_hits, _ = more_sorensen(g, H, 1.0)
    assert ms_hits and abs(ms_step[0] - ms_step[4]) > 0.1
    assert onp.linalg.norm(ms_step) <= 1.1
    assert ms_model <= 0.8 * model             # within σ₂ = 0.2 of the best decrease
    assert obj.fun(x0 + ms_step) < obj.fun(x0 + step)


def test_trust_exact_solves_biggs_exp6_from_the_standard_start():
    # before: the exact eigen steps ended on f = 0.24268 after ~570 iterations
    p = PROBLEMS["biggs_exp6"]
    r = minimize(p.f, p.start(), method="trust-exact")
    assert r.fun < 1e-6 and r.nit <= 60, (r.fun, r.nit, r.message)


def test_trust_exact_stops_when_the_predicted_decrease_is_below_rounding():
    # Brown & Dennis (f* = 85822.2): the last steps predict ~1e-13 where f's rounding
    # error is ~2e-11; the run stops there instead of shrinking Δ to 1e-15
    p = PROBLEMS["brown_dennis"]
    r = minimize(p.f, p.start(), method="trust-exact")
    assert p.solved(r.fun) and r.nit <= 15, (r.nit, r.message)
    assert "below the rounding error of f" in r.message
