"""chainrule.optimize.least_squares: each method and loss against SciPy's
least_squares and closed forms; dense and matrix-free Jacobians; the MGH problems."""

import numpy as onp
import pytest

import chainrule.numpy as np
from chainrule.optimize import least_squares
from chainrule.optimize.mgh import PROBLEMS

scipy_optimize = pytest.importorskip("scipy.optimize")

RNG = onp.random.default_rng(0)
T = onp.linspace(0.0, 3.0, 60)
Y = 2.5 * onp.exp(-1.3 * T) + 0.4 + 0.02 * RNG.normal(size=T.size)
Y[::10] += 2.0          # outliers: the robust losses matter


def decay(p):
    return p[0] * np.exp(-p[1] * T) + p[2] - Y


@pytest.mark.parametrize("loss", ["linear", "soft_l1", "huber", "cauchy"])
@pytest.mark.parametrize("method", ["lm", "gauss-newton", "trf"])
@pytest.mark.parametrize("jac", [None, "matrix-free"])
def test_robust_fits_match_scipy(loss, method, jac):
    ref = scipy_optimize.least_squares(
        lambda p: p[0] * onp.exp(-p[1] * T) + p[2] - Y, onp.ones(3), loss=loss, f_scale=0.1,
        xtol=1e-14, ftol=1e-14, gtol=1e-14)
    r = least_squares(decay, onp.ones(3), method=method, loss=loss, f_scale=0.1, jac=jac,
                      ftol=1e-14, xtol=1e-14, gtol=1e-12)
    assert r.success, r.message
    onp.testing.assert_allclose(r.x, ref.x, atol=1e-6)
    assert r.cost == pytest.approx(ref.cost, rel=1e-10)
    onp.testing.assert_allclose(r.fun, decay(r.x))
    if jac is None and loss == "linear":   # SciPy reports J scaled by the loss otherwise
        onp.testing.assert_allclose(r.jac, ref.jac, rtol=1e-6, atol=1e-8)
    assert r.optimality <= 1e-6


def test_robust_loss_resists_outliers():
    plain = least_squares(decay, onp.ones(3))
    robust = least_squares(decay, onp.ones(3), loss="soft_l1", f_scale=0.05)
    truth = onp.array([2.5, 1.3, 0.4])
    assert onp.abs(robust.x - truth).max() < 0.1 < onp.abs(plain.x - truth).max()


def test_linear_least_squares_is_solved_exactly():
    A = RNG.normal(size=(50, 8))
    b = RNG.normal(size=50)
    expected = onp.linalg.lstsq(A, b, rcond=None)[0]
    for method in ("lm", "gauss-newton", "trf"):
        r = least_squares(lambda x: A @ x - b, onp.zeros(8), method=method, gtol=1e-12)
        onp.testing.assert_allclose(r.x, expected, atol=1e-8)
    r = least_squares(lambda x: A @ x - b, onp.zeros(8), method="gauss-newton")
    assert r.nit == 1


def test_pytree_parameters():
    def residual(p):
        return p["a"] * np.exp(-p["k"] * T) + p["c"] - Y

    r = least_squares(residual, {"a": 1.0, "k": 1.0, "c": 1.0})
    flat = least_squares(decay, onp.ones(3))
    onp.testing.assert_allclose([r.x["a"], r.x["k"], r.x["c"]], flat.x, atol=1e-8)


@pytest.mark.parametrize("name", ["rosenbrock", "freudenstein_roth", "beale", "bard",
                                  "gaussian", "box3", "kowalik_osborne", "osborne1",
                                  "osborne2", "watson", "penalty1", "brown_almost_linear",
                                  "linear_rank1", "chebyquad", "meyer"])
def test_mgh_residual_problems_by_levenberg_marquardt(name):
    p = PROBLEMS[name]
    r = least_squares(p.residuals, p.start(), method="lm")
    assert p.solved(2.0 * r.cost), (2.0 * r.cost, p.f_star, r.message)


def test_callback_and_budget():
    seen = []
    r = least_squares(PROBLEMS["meyer"].residuals, PROBLEMS["meyer"].start(), max_nfev=5,
                      callback=lambda x: seen.append(x))
    assert r.status == 1 and r.message.startswith("maxfev") and r.nfev == 5
    assert len(seen) == r.nit


@pytest.mark.parametrize("kwargs, error, match", [
    ({"method": "dogbox"}, ValueError, "unknown method 'dogbox'; choose one of lm"),
    ({"loss": "arctan"}, ValueError, "unknown loss 'arctan'"),
    ({"f_scale": 0.0}, ValueError, "f_scale must be positive"),
    ({"jac": "3-point"}, ValueError, "jac must be None or 'auto'"),
])
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        least_squares(decay, onp.ones(3), **kwargs)


@pytest.mark.filterwarnings("ignore:invalid value encountered in log")
def test_non_finite_start_is_refused():
    with pytest.raises(ValueError, match="must be a non-empty finite array"):
        least_squares(lambda x: np.log(x), onp.array([-1.0, 1.0]))
    with pytest.raises(ValueError, match="x0 contains NaN"):
        least_squares(decay, onp.array([1.0, onp.nan, 1.0]))
