"""chainrule.scipy.special's newer functions: values against SciPy (and the SciPy-free
fallbacks against SciPy), derivatives against finite differences to second order."""

import numpy as onp
import pytest

import chainrule as cr
import chainrule.numpy as np
import chainrule.scipy.special as cs
from chainrule.scipy.special import _erfinv_np, _gamma_np

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
}


@pytest.mark.parametrize("name", sorted(VALUES))
def test_values_match_scipy(name):
    onp.testing.assert_allclose(VALUES[name](cs), VALUES[name](sp), rtol=1e-10, atol=1e-13)


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
