"""HIPS autograd's tests of autograd.scipy (stats, special), run against chainrule.scipy
through the adapter of ``test_autograd_suite`` (both modes, second order, where autograd
checked reverse mode to first or second order). The signal, integrate and linalg parts
live in test_scipy_signal, test_scipy_integrate and test_scipy_linalg."""

import numpy as onp
import pytest
from test_autograd_suite import combo_check, unary_ufunc_check

import chainrule.numpy as np
import chainrule.scipy.stats.multivariate_normal as mvn  # noqa: F401  (a module path users import)
from chainrule.scipy import special, stats

pytest.importorskip("scipy.special")  # a test extra: always there under `make test`

rng = onp.random.RandomState(1)


def R(*shape):
    return rng.randn(*shape)


def U(lo, hi, shape=None):
    return rng.uniform(lo, hi, shape)


def symmetrize_matrix_arg(fun, argnum):
    def symmetrized(*args, **kwargs):
        args = list(args)
        args[argnum] = 0.5 * (args[argnum] + np.swapaxes(args[argnum], -1, -2))
        return fun(*args, **kwargs)
    return symmetrized


def make_psd(m):
    return m.T @ m + onp.eye(m.shape[0])


# --- stats -------------------------------------------------------------------------------

POS4, POS4b = R(4) ** 2 + 1.1, R(4) ** 2 + 1.1

STATS_CASES = [
    ("chi2.pdf", stats.chi2.pdf, [0], ([R(4) ** 2 + 1.1], [1.0, 2.0, 3.0])),
    ("chi2.cdf", stats.chi2.cdf, [0], ([R(4) ** 2 + 1.1], [1.0, 2.0, 3.0])),
    ("chi2.logpdf", stats.chi2.logpdf, [0], ([R(4) ** 2 + 1.1], [1.0, 2.0, 3.0])),
    ("beta.cdf", stats.beta.cdf, [0], ([U(0.0, 1.0, 4)], [POS4], [POS4b])),
    ("beta.pdf", stats.beta.pdf, [0, 1, 2], ([U(0.0, 1.0, 4)], [POS4], [POS4b])),
    ("beta.logpdf", stats.beta.logpdf, [0, 1, 2], ([U(0.0, 1.0, 4)], [POS4], [POS4b])),
    ("gamma.cdf", stats.gamma.cdf, [0], ([POS4], [POS4b])),
    ("gamma.pdf", stats.gamma.pdf, [0, 1], ([POS4], [POS4b])),
    ("gamma.logpdf", stats.gamma.logpdf, [0, 1], ([POS4], [POS4b])),
    *[(f"norm.{m}", getattr(stats.norm, m), [0, 1, 2], ([R(4)], [R(4)], [R(4) ** 2 + 1.1]))
      for m in ("pdf", "cdf", "sf", "logpdf", "logcdf", "logsf")],
    *[(f"norm.{m}", getattr(stats.norm, m), [0, 1, 2],
       ([U(0.05, 0.95, 4)], [R(4)], [R(4) ** 2 + 1.1])) for m in ("ppf", "isf")],
    *[(f"norm.{m} broadcast", getattr(stats.norm, m), [0, 1, 2],
       ([R(4, 3)], [R(1, 3)], [R(4, 1) ** 2 + 1.1]))
      for m in ("pdf", "cdf", "sf", "logpdf", "logcdf", "logsf")],
    *[(f"norm.{m} broadcast", getattr(stats.norm, m), [0, 1, 2],
       ([U(0.05, 0.95, (4, 3))], [R(1, 3)], [R(4, 1) ** 2 + 1.1])) for m in ("ppf", "isf")],
    *[(f"poisson.{m}", getattr(stats.poisson, m), [1], ([onp.round(R(4) ** 2)], [POS4]))
      for m in ("cdf", "logpmf", "pmf")],
    *[(f"poisson.{m} broadcast", getattr(stats.poisson, m), [1],
       ([onp.round(R(4, 3) ** 2)], [R(4, 1) ** 2 + 1.1])) for m in ("cdf", "logpmf", "pmf")],
    *[(f"t.{m}", getattr(stats.t, m), nums, ([R(4)], [R(4) ** 2 + 2.1], [R(4)], [R(4) ** 2 + 2.1]))
      for m, nums in (("pdf", [0, 1, 2, 3]), ("cdf", [0, 2]), ("logpdf", [0, 1, 2, 3]),
                      ("logcdf", [0, 2]))],
    *[(f"t.{m} broadcast", getattr(stats.t, m), nums,
       ([R(4, 3)], [R(1, 3) ** 2 + 2.1], [R(4, 3)], [R(4, 1) ** 2 + 2.1]))
      for m, nums in (("pdf", [0, 1, 2, 3]), ("cdf", [0, 2]), ("logpdf", [0, 1, 2, 3]),
                      ("logcdf", [0, 2]))],
    ("mvn.pdf", symmetrize_matrix_arg(stats.multivariate_normal.pdf, 2), [0, 1, 2],
     ([R(4)], [R(4)], [make_psd(R(4, 4))])),
    ("mvn.logpdf", symmetrize_matrix_arg(stats.multivariate_normal.logpdf, 2), [0, 1, 2],
     ([R(4)], [R(4)], [make_psd(R(4, 4))])),
    ("mvn.entropy", symmetrize_matrix_arg(stats.multivariate_normal.entropy, 1), [0, 1],
     ([10 * R(4)], [make_psd(R(4, 4))])),
    ("mvn.pdf broadcast", symmetrize_matrix_arg(stats.multivariate_normal.pdf, 2), [0, 1, 2],
     ([R(5, 4)], [R(4)], [make_psd(R(4, 4))])),
    ("mvn.logpdf broadcast", symmetrize_matrix_arg(stats.multivariate_normal.logpdf, 2),
     [0, 1, 2], ([R(5, 4)], [R(4)], [make_psd(R(4, 4))])),
]


@pytest.mark.parametrize("label,fun,argnums,args", STATS_CASES, ids=[c[0] for c in STATS_CASES])
def test_stats(label, fun, argnums, args):
    combo_check(fun, argnums, *args)


def test_mvn_singular_covariance():
    cov = onp.zeros((4, 4))
    cov[0, 0] = cov[1, 1] = 1.0
    for method in (stats.multivariate_normal.pdf, stats.multivariate_normal.logpdf):
        def f(x, mean, method=method):
            x = np.concatenate([x[:2], mean[2:]])
            return symmetrize_matrix_arg(method, 2)(x, mean, cov, allow_singular=True)
        point = onp.concatenate((R(2), onp.zeros(2)))
        combo_check(f, [0, 1], [point], [onp.concatenate((R(2), onp.zeros(2)))])


ALPHA = rng.random_sample(4) ** 2 + 1.2
X_SIMPLEX = stats.dirichlet.rvs(ALPHA, size=1)[0, :]


def _normalize(x):
    return x / np.sum(x)


def test_dirichlet():
    combo_check(lambda x, a: stats.dirichlet.pdf(_normalize(x), a), [0], [X_SIMPLEX], [ALPHA])
    combo_check(stats.dirichlet.pdf, [1], [X_SIMPLEX], [ALPHA])
    combo_check(lambda x, a: stats.dirichlet.logpdf(_normalize(x), a), [0], [X_SIMPLEX], [ALPHA])
    combo_check(stats.dirichlet.logpdf, [1], [X_SIMPLEX], [ALPHA])


# --- special -----------------------------------------------------------------------------


@pytest.mark.parametrize("args,kwargs", [
    (([onp.array([1.1]), R(4), R(3, 4)],), dict(axis=[None, 0], keepdims=[True, False])),
    (([R(3, 4), R(4, 5, 6), R(1, 5)],), dict(axis=[None, 0, 1], keepdims=[True, False])),
    (([R(4)],), dict(b=[onp.exp(R(4))], axis=[None, 0], keepdims=[True, False])),
    (([R(3, 4)],), dict(b=[onp.exp(R(3, 4))], axis=[None, 0, 1], keepdims=[True, False])),
    (([R(2, 3, 4)],), dict(b=[onp.exp(R(2, 3, 4))], axis=[None, 0, 1], keepdims=[True, False])),
])
def test_logsumexp(args, kwargs):
    combo_check(special.logsumexp, [0], *args, **kwargs)


SPECIAL_COMBO = [
    ("beta", special.beta, [0, 1], ([R(4) ** 2 + 1.1], [R(4) ** 2 + 1.1])),
    ("betainc", special.betainc, [2], ([R(4) ** 2 + 1.1], [R(4) ** 2 + 1.1], [U(0.0, 1.0, 4)])),
    ("betaln", special.betaln, [0, 1], ([R(4) ** 2 + 1.1], [R(4) ** 2 + 1.1])),
    ("gammainc", special.gammainc, [1], ([1.0], R(4) ** 2 + 1.3)),
    ("gammaincc", special.gammaincc, [1], ([1.0], R(4) ** 2 + 1.3)),
    ("polygamma", special.polygamma, [1], ([0], R(4) ** 2 + 1.3)),
    ("jn", special.jn, [1], ([2], R(4) ** 2 + 1.3)),
    ("yn", special.yn, [1], ([2], R(4) ** 2 + 1.3)),
    ("multigammaln", special.multigammaln, [0], ([U(4.0, 5.0), U(4.0, 5.0, (2, 3))], [1, 2, 3])),
    ("iv", special.iv, [1], (U(1.0, 50.0, 4), R(4) ** 2 + 1.3)),
    ("ive", special.ive, [1], (U(1.0, 50.0, 4), R(4) ** 2 + 1.3)),
]


@pytest.mark.parametrize("label,fun,argnums,args", SPECIAL_COMBO,
                         ids=[c[0] for c in SPECIAL_COMBO])
def test_special(label, fun, argnums, args):
    combo_check(fun, argnums, *args)


UNARY = [("psi", (0.3, 2.0), False), ("digamma", (0.3, 2.0), False),
         ("gamma", (0.3, 2.0), False), ("gammaln", (0.3, 2.0), False),
         ("gammasgn", (0.3, 2.0), False), ("rgamma", (0.3, 2.0), False),
         ("j0", (0.2, 20.0), False), ("j1", (0.2, 20.0), False), ("y0", (0.2, 20.0), False),
         ("y1", (0.2, 20.0), False), ("i0", (0.2, 20.0), False), ("i1", (0.2, 20.0), False),
         ("erf", (-3.0, 3.0), True), ("erfc", (-3.0, 3.0), True),
         ("erfinv", (-0.95, 0.95), False), ("erfcinv", (0.05, 1.95), False),
         ("logit", (0.10, 0.90), False), ("expit", (-4.05, 4.95), False)]


@pytest.mark.parametrize("name,lims,test_complex", UNARY, ids=[u[0] for u in UNARY])
def test_unary_special(name, lims, test_complex):
    unary_ufunc_check(getattr(special, name), lims=lims, test_complex=test_complex)
