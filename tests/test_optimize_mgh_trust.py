"""Trust-region methods on the hard Moré–Garbow–Hillstrom problems, to their published
minima (regressions: each failed before its fix)."""

import numpy as onp
import pytest

from chainrule.optimize import minimize, scipy_objective
from chainrule.optimize.mgh import PROBLEMS
from chainrule.optimize.trust_region import lanczos_tr

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
