"""chainrule.scipy.special's newer functions: values against SciPy (and the SciPy-free
fallbacks against SciPy), derivatives against finite differences to second order."""

import numpy as onp
import pytest

import chainrule as cr
import chainrule.numpy as np
import chainrule.scipy.special as cs
from chainrule.scipy import _rules
from chainrule.scipy.special import (
    _erfcinv_np,
    _erfinv_np,
    _gamma_np,
    _log_ndtr_np,
    _rgamma_np,
)

sp = pytest.importorskip("scipy.special")  # a test extra: always there under `make test`

X = onp.array([0.3, 1.2, 2.5, 4.0])
P = onp.array([-0.95, -0.3, 0.0, 0.4, 0.999])

VALUES = {
    "gamma": lambda m: m.gamma(onp.r_[X, -0.5]),
    "erfinv": lambda m: m.erfinv(P),
    "beta": lambda m: m.beta(X, X[::-1]),
    "betaln": lambda m: m.betaln(X, 2.5),
    "multigammaln": lambda m: m.multigammaln(X + 1.0, 3),
    "psi": lambda m: m.psi(X),
    "ndtr": lambda m: m.ndtr(onp.r_[-X, X]),
    "log_ndtr": lambda m: m.log_ndtr(onp.r_[-X, X]),
    "ndtri": lambda m: m.ndtri(X / 5.0),
    "entr": lambda m: m.entr(onp.r_[0.0, X, -1.0]),
    "rel_entr": lambda m: m.rel_entr(onp.r_[0.0, X], onp.r_[1.0, X[::-1]]),
    "erfcinv": lambda m: m.erfcinv(onp.r_[1e-300, 1e-20, P + 1.0, 2.0]),
    "log_ndtr tails": lambda m: m.log_ndtr(onp.r_[-1e3, -40.0, -X, X, 40.0]),
    "ndtri tails": lambda m: m.ndtri(onp.r_[1e-300, 1e-20, 0.5, 1 - 1e-12]),
    "rgamma, gammasgn": lambda m: [m.rgamma(onp.r_[X, -0.5, -2.0, 0.0]),
                                   m.gammasgn(onp.r_[X, -0.5, -1.5])],
    "incomplete": lambda m: [m.gammainc(2.5, X), m.gammaincc(0.7, X),
                             m.betainc(2.0, 0.6, X / 5.0), m.stdtr(3.5, -X)],
    "inverses": lambda m: [m.gammaincinv(2.5, X / 5.0), m.gammainccinv(0.7, X / 5.0),
                           m.betaincinv(2.0, 0.6, X / 5.0), m.stdtrit(3.5, X / 5.0)],
    "integrals": lambda m: [m.exp1(X), m.expi(X), m.zeta(3.0, X), m.zeta(2.0)],
    "bessel": lambda m: [m.jv(1.5, X), m.yv(2.0, X), m.iv(0.5, -X), m.ive(3.0, X),
                         m.kv(1.5, X), m.kve(0.0, X), m.jn(2, X), m.yn(1, X)],
    "bessel orders 0, 1": lambda m: [getattr(m, f)(X) for f in (
        "j0", "j1", "y0", "y1", "i0", "i1", "i0e", "i1e", "k0", "k1", "k0e", "k1e")],
    "gamma family": lambda m: [m.factorial(X), m.poch(X, 1.5), m.kl_div(X, X[::-1]),
                               m.log_expit(onp.r_[-800.0, X, 800.0])],
}


@pytest.mark.parametrize("name", sorted(VALUES))
def test_values_match_scipy(name):
    ours, theirs = VALUES[name](cs), VALUES[name](sp)
    if not isinstance(ours, list):
        ours, theirs = [ours], [theirs]
    for a, b in zip(ours, theirs, strict=True):
        assert onp.shape(a) == onp.shape(b)
        onp.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-13)


def test_more_fallbacks_without_scipy_match_scipy():
    q = onp.r_[1e-300, 1e-30, 1e-10, onp.linspace(0.0, 2.0, 201), 2 - 1e-12]
    onp.testing.assert_allclose(_erfcinv_np(q), sp.erfcinv(q), rtol=1e-12, atol=0)
    x = onp.r_[-1e3, -300.0, -40.0, -20.5, -20.0, onp.linspace(-19.0, 9.0, 141)]
    onp.testing.assert_allclose(_log_ndtr_np(x), sp.log_ndtr(x), rtol=1e-12)
    z = onp.r_[X, -0.5, -2.0, 0.0, -3.0]
    onp.testing.assert_allclose(_rgamma_np(z), sp.rgamma(z), rtol=1e-12, atol=1e-300)


def test_rgamma_has_its_finite_slope_at_the_poles():
    g = cr.elementwise_grad(cs.rgamma)(onp.array([0.0, -1.0, -2.0, -3.0]))
    onp.testing.assert_allclose(g, [1.0, -1.0, 2.0, -6.0])


def test_log_ndtr_is_finite_far_in_the_tail():
    assert onp.isclose(cr.grad(cs.log_ndtr)(-40.0), 40.02496884721)  # φ/Φ ≈ -x - 1/x


def test_shape_parameters_raise_a_clear_error():
    with pytest.raises(NotImplementedError, match=r"gammainc: the derivative in `a`"):
        cr.grad(lambda a: cs.gammainc(a, 1.2))(2.0)
    with pytest.raises(NotImplementedError, match=r"jv: the derivative in `v`"):
        cr.jvp(lambda v: cs.jv(v, 1.2), (1.0,), (1.0,))


def test_scipy_only_functions_say_how_to_get_scipy(monkeypatch):
    monkeypatch.setattr(_rules, "_sp", None)
    with pytest.raises(ImportError, match="pip install scipy"):
        cs.j0(1.0)


def test_fallbacks_without_scipy_match_scipy():
    onp.testing.assert_allclose(_erfinv_np(P), sp.erfinv(P), rtol=1e-12, atol=1e-14)
    hard = onp.r_[onp.linspace(-0.999, 0.999, 401), 1 - 1e-12, 1e-300, 0.0, -1e-9]
    onp.testing.assert_allclose(_erfinv_np(hard), sp.erfinv(hard), rtol=1e-12, atol=0)
    onp.testing.assert_allclose(_gamma_np(onp.r_[X, -0.5]), sp.gamma(onp.r_[X, -0.5]),
                                rtol=1e-12)
    assert _erfinv_np(onp.array([1.0, -1.0])).tolist() == [onp.inf, -onp.inf]


@pytest.mark.parametrize("f,args", [
    (lambda x: np.sum(cs.gamma(x) + cs.erfinv(x / 5.0)), (X,)),
    (lambda a, b: np.sum(cs.beta(a, b) + cs.betaln(b, a)), (X, X[::-1])),
    (lambda a: cs.multigammaln(a, 3), (3.7,)),
    (lambda x: np.sum(cs.ndtr(x) + cs.log_ndtr(-x) + cs.ndtri(x / 5.0)), (X,)),
    (lambda x, y: np.sum(cs.entr(x) + cs.rel_entr(x, y)), (X, X[::-1])),
], ids=["gamma_erfinv", "beta", "multigammaln", "ndtr", "entropy"])
def test_derivatives_against_finite_differences(f, args):
    cr.check_grads(f, args, order=2)


@pytest.mark.parametrize("f", [lambda x: cs.xlogy(x, x * x + 1.0), cs.entr, cs.rgamma,
                               lambda x: cs.rel_entr(x * x, 1.0 + x * x),
                               lambda x: cs.xlog1py(x, x * x)],
                         ids=["xlogy", "entr", "rgamma", "rel_entr", "xlog1py"])
def test_masked_functions_under_jit(f):
    x = onp.array([-1.0, 0.0, 0.5, 2.0])
    with onp.errstate(all="ignore"):
        onp.testing.assert_allclose(cr.jit(f)(x), f(x))
        onp.testing.assert_allclose(cr.jit(cr.elementwise_grad(f))(x),
                                    cr.elementwise_grad(f)(x))
