"""chainrule.scipy.stats against SciPy's values, and its derivatives (in the point and in
every parameter) against finite differences, to second order."""

import numpy as onp
import pytest

import chainrule as cr
import chainrule.numpy as np
import chainrule.scipy.stats as cs

ss = pytest.importorskip("scipy.stats")  # a test extra: always there under `make test`

R = onp.random.default_rng(0)
X = R.uniform(-1.0, 3.0, 6)
POS = onp.array([0.2, 0.7, 1.5, 3.0])
S = onp.array([[2.0, 0.3, 0.1], [0.3, 1.0, -0.2], [0.1, -0.2, 0.5]])
P = R.standard_normal((4, 3))
MU = onp.array([0.1, -0.2, 0.3])
ALPHA = onp.array([1.5, 2.0, 0.7])
SIMPLEX = onp.array([0.2, 0.5, 0.3])

VALUES = {
    "norm": lambda m: [m.norm.sf(X, 0.3, 1.7), m.norm.logsf(X, 0.3, 1.7), m.norm.logcdf(X)],
    "t": lambda m: [m.t.logpdf(X, 3.5, 0.2, 1.3), m.t.pdf(X, 4.0)],
    "gamma": lambda m: [m.gamma.logpdf(onp.r_[-0.5, POS], 2.5, 0.0, 1.5), m.gamma.pdf(POS, 0.8)],
    "chi2": lambda m: [m.chi2.logpdf(POS, 3.0), m.chi2.pdf(POS, 1.5, 0.1, 2.0)],
    "beta": lambda m: [m.beta.logpdf(onp.r_[POS / 3.5, 1.2], 2.0, 3.5),
                       m.beta.pdf(POS / 4, 0.7, 1.3)],
    "laplace": lambda m: [m.laplace.logpdf(X, 0.5, 2.0), m.laplace.pdf(X)],
    "expon": lambda m: [m.expon.logpdf(onp.r_[-1.0, POS], 0.0, 2.0), m.expon.cdf(X, 0.1, 2.0)],
    "poisson": lambda m: [m.poisson.logpmf(onp.array([0.0, 1.0, 4.0, 2.5, -1.0]), 2.3),
                          m.poisson.pmf(onp.array([0, 3, 7]), 3.1)],
    "multivariate_normal": lambda m: [m.multivariate_normal.logpdf(P, MU, S),
                                      m.multivariate_normal.logpdf(P[0], MU, S),
                                      m.multivariate_normal.pdf(P[:2], MU, 0.7)],
    "dirichlet": lambda m: [m.dirichlet.logpdf(SIMPLEX, ALPHA), m.dirichlet.pdf(SIMPLEX, ALPHA)],
}


@pytest.mark.parametrize("name", sorted(VALUES))
def test_values_match_scipy(name):
    for ours, theirs in zip(VALUES[name](cs), VALUES[name](ss), strict=True):
        assert onp.shape(ours) == onp.shape(theirs)
        onp.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


DERIVATIVES = {
    "t": (lambda x, df, s: np.sum(cs.t.logpdf(x, df, 0.2, s)), (X, 3.5, 1.3)),
    "gamma": (lambda x, a, s: np.sum(cs.gamma.logpdf(x, a, 0.1, s)), (POS, 2.5, 1.5)),
    "chi2": (lambda x, df: np.sum(cs.chi2.pdf(x, df)), (POS, 3.0)),
    "beta": (lambda x, a, b: np.sum(cs.beta.logpdf(x, a, b)), (POS / 3.5, 2.0, 3.5)),
    "laplace": (lambda x, loc, s: np.sum(cs.laplace.logpdf(x, loc, s)), (X, 0.05, 2.0)),
    "expon": (lambda x, s: np.sum(cs.expon.logpdf(x, 0.0, s) + cs.expon.cdf(x, 0.0, s)),
              (POS, 2.0)),
    "poisson": (lambda mu: np.sum(cs.poisson.logpmf(onp.array([0.0, 1.0, 4.0]), mu)), (2.3,)),
    "multivariate_normal": (lambda x, mu, c: np.sum(cs.multivariate_normal.logpdf(
        x, mu, c @ c.T + 0.5 * onp.eye(3))), (P, MU, S)),
    "dirichlet": (lambda x, a: cs.dirichlet.logpdf(x, a), (SIMPLEX, ALPHA)),
    "norm": (lambda x, loc, s: np.sum(cs.norm.logsf(x, loc, s)), (X, 0.3, 1.7)),
}


@pytest.mark.parametrize("name", sorted(DERIVATIVES))
def test_derivatives_against_finite_differences(name):
    f, args = DERIVATIVES[name]
    cr.check_grads(f, args, order=2)


def test_outside_the_support_is_minus_inf_with_a_finite_gradient():
    x = onp.array([-1.0, 0.5])
    assert cs.gamma.logpdf(x, 2.0)[0] == -onp.inf
    g = cr.grad(lambda a: np.sum(np.where(onp.isfinite(cs.gamma.logpdf(x, 2.0)),
                                          cs.gamma.logpdf(x, a), 0.0)))(2.0)
    assert onp.isfinite(g)
