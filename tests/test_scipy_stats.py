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
Q = onp.array([1e-12, 0.03, 0.5, 0.9, 1 - 1e-9])
WIDE = onp.r_[-2.0, X, 40.0]
for _name, _args in [("norm", (0.3, 1.7)), ("t", (3.5, 0.2, 1.3)), ("gamma", (2.5, 0.1, 1.5)),
                     ("chi2", (3.0, 0.0, 2.0)), ("beta", (2.0, 3.5, -1.0, 4.0)),
                     ("laplace", (0.5, 2.0)), ("expon", (0.1, 2.0)), ("logistic", (0.2, 1.5)),
                     ("cauchy", (-0.3, 0.8)), ("uniform", (-1.0, 3.0))]:
    _methods = ["logpdf", "pdf", "cdf", "sf", "logcdf", "logsf", "ppf"]
    if _name not in ("laplace", "logistic", "cauchy", "uniform"):
        _methods.append("isf")
    VALUES[f"{_name} distribution functions"] = (
        lambda m, n=_name, a=_args, ms=tuple(_methods):
        [getattr(getattr(m, n), k)(Q if k in ("ppf", "isf") else WIDE, *a) for k in ms])
VALUES["poisson cdf, sf"] = lambda m: [m.poisson.cdf(onp.array([-1.0, 0.0, 2.5, 7.0]), 3.1),
                                       m.poisson.sf(onp.array([-1.0, 0.0, 2.5, 7.0]), 3.1)]
VALUES["mvn entropy, singular"] = lambda m: [
    m.multivariate_normal.entropy(MU, S),
    m.multivariate_normal.logpdf(P, MU, onp.diag([1.0, 2.0, 0.0]), allow_singular=True)]


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
    "cdfs": (lambda x, loc, s: np.sum(
        cs.gamma.cdf(x, 2.5, loc, s) + cs.beta.sf(x, 2.0, 3.0, loc, 4 * s)
        + cs.t.logcdf(x, 3.0, loc, s) + cs.chi2.logsf(x, 2.0, loc, s)
        + cs.laplace.cdf(x, loc, s) + cs.logistic.logsf(x, loc, s)
        + cs.cauchy.cdf(x, loc, s) + cs.uniform.cdf(x, loc - 2, 5 * s)),
             (onp.array([0.3, 0.9, 1.7]), -0.2, 1.3)),
    "quantiles": (lambda q, loc, s: np.sum(
        cs.gamma.ppf(q, 2.5, loc, s) + cs.beta.isf(q, 2.0, 3.0) + cs.t.ppf(q, 3.0, loc, s)
        + cs.chi2.isf(q, 2.0) + cs.laplace.ppf(q, loc, s) + cs.norm.isf(q, loc, s)
        + cs.logistic.ppf(q, loc, s) + cs.cauchy.ppf(q)),
                  (onp.array([0.1, 0.45, 0.8]), -0.2, 1.3)),
    "poisson cdf": (lambda mu: np.sum(cs.poisson.cdf(onp.array([0.0, 1.0, 4.0]), mu))
                    + np.sum(cs.poisson.sf(onp.array([0.0, 3.0]), mu)), (2.3,)),
    "mvn entropy": (lambda c: cs.multivariate_normal.entropy(MU, c @ c.T + onp.eye(3)), (S,)),
}


def test_distribution_functions_in_a_shape_parameter_raise_a_clear_error():
    with pytest.raises(NotImplementedError, match="derivative in `a`"):
        cr.grad(lambda a: cs.gamma.cdf(1.3, a))(2.0)
    with pytest.raises(NotImplementedError, match="derivative in `df`"):
        cr.grad(lambda df: cs.t.cdf(0.3, df))(3.0)


def test_distribution_functions_are_flat_outside_the_support():
    x = onp.array([-1.0, 0.5, 5.0])
    g = cr.elementwise_grad(lambda x: cs.beta.cdf(x, 2.0, 3.0, 0.0, 2.0))(x)
    assert g[0] == 0.0 and g[2] == 0.0 and g[1] > 0
    assert cr.grad(lambda x: cs.gamma.cdf(x, 2.0))(-1.0) == 0.0


def test_module_style_imports():
    import chainrule.scipy.stats.norm as norm

    assert norm is cs.norm


def test_dirichlet_rvs_follows_the_random_state():
    a = cs.dirichlet.rvs(ALPHA, size=3, random_state=4)
    onp.testing.assert_allclose(a, ss.dirichlet.rvs(ALPHA, size=3, random_state=4))
    assert a.shape == (3, 3) and onp.allclose(a.sum(axis=1), 1.0)


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


JIT_CASES = {
    "gamma.cdf": lambda x: cs.gamma.cdf(x, 2.0),
    "gamma.logpdf": lambda x: cs.gamma.logpdf(x, 2.0),
    "beta.logpdf": lambda x: cs.beta.logpdf(x / 3, 2.0, 3.0),
    "beta.sf": lambda x: cs.beta.sf(x / 3, 2.0, 3.0),
    "laplace.cdf": lambda x: cs.laplace.cdf(x, 0.2),
    "laplace.ppf": lambda x: cs.laplace.ppf(x / 2.5 + 0.2),
    "cauchy.ppf": lambda x: cs.cauchy.ppf(x / 2.5 + 0.2),
    "expon": lambda x: cs.expon.cdf(x) + cs.expon.logpdf(x + 1.0),
    "uniform.logpdf": lambda x: cs.uniform.logpdf(x, -1.0, 2.5),
    "poisson.cdf": lambda x: cs.poisson.cdf(3 * x, 2.0) + cs.poisson.sf(2 * x, 1.5),
    "poisson.logpmf": lambda mu: cs.poisson.logpmf(onp.array([0.0, 1.0, 2.0, -1.0]), mu + 1),
    "chi2.logsf": lambda x: cs.chi2.logsf(x, 3.0),
}


@pytest.mark.parametrize("name", sorted(JIT_CASES))
def test_jit_and_vmap_agree_with_eager(name):
    """The support masks are staged under jit (no concrete values there) and batched
    under vmap: values and derivatives equal the eager ones."""
    f = JIT_CASES[name]
    x = onp.array([-0.5, 0.5, 1.0, 2.0])
    eager, d_eager = f(x), cr.elementwise_grad(f)(x)
    onp.testing.assert_allclose(cr.jit(f)(x), eager)
    onp.testing.assert_allclose(cr.jit(cr.elementwise_grad(f))(x), d_eager)
    onp.testing.assert_allclose(cr.vmap(lambda v: np.sum(f(v)))(x[:, None]),
                                [onp.sum(f(v)) for v in x[:, None]])
