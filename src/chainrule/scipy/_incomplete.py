"""Incomplete gamma and beta integrals, Student's t CDF, exponential integrals and the
Hurwitz zeta function: SciPy's values, derivatives in the integration bound.

    gammainc(a, x) = P(a, x) = γ(a, x)/Γ(a)        ∂P/∂x = x^{a-1} e^{-x} / Γ(a)
    gammaincc(a, x) = Q(a, x) = 1 - P(a, x)         ∂Q/∂x = -∂P/∂x
    betainc(a, b, x) = I_x(a, b)                     ∂I/∂x = x^{a-1}(1-x)^{b-1} / B(a, b)
    stdtr(df, t) = P(T ≤ t), T ~ Student's t(df)     ∂/∂t = the t density at t
    exp1(x) = ∫_x^∞ e^{-s}/s ds                      exp1' = -e^{-x}/x
    expi(x) = -∫_{-x}^∞ e^{-s}/s ds                  expi' = e^{x}/x
    zeta(x, q) = Σ_k (k + q)^{-x}                    ∂ζ/∂q = -x·ζ(x + 1, q)

Their inverses in the bound (the quantile functions) have the reciprocal derivative,
evaluated at the answer: gammaincinv(a, p) = x with P(a, x) = p, ∂x/∂p = 1/∂P/∂x(a, x);
likewise gammainccinv, betaincinv and stdtrit.

The powers are taken as exp(xlogy(a - 1, x) + …), so a = 1 (or b = 1) has a finite
derivative at the ends of the interval. Derivatives in the shape parameters (a, b, df,
the exponent x of zeta) are not implemented and raise a clear error when asked for.
"""

from __future__ import annotations

import math

import numpy as np

from chainrule.core.primitive import Reads
from chainrule.numpy import _elementwise as ew
from chainrule.scipy import special as _special
from chainrule.scipy._rules import scipy_primitive

__all__ = ["gammainc", "gammaincc", "betainc", "stdtr", "gammaincinv", "gammainccinv",
           "betaincinv", "stdtrit", "exp1", "expi", "zeta"]


def _weak(v):
    """A NumPy scalar as a Python float, so that a constant parameter does not promote a
    float32 argument's derivative to float64 (tracers and arrays pass through)."""
    return float(v) if isinstance(v, np.generic) else v


def gamma_log_density(a, x):
    """ln(x^{a-1} e^{-x} / Γ(a)), the log-derivative of P(a, ·)."""
    return _special.xlogy(a - 1.0, x) - x - _weak(_special.gammaln(a))


def _gamma_density(a, x):
    """x^{a-1} e^{-x} / Γ(a), the derivative of P(a, ·)."""
    return ew.exp(gamma_log_density(a, x))


def beta_log_density(a, b, x):
    """ln(x^{a-1}(1-x)^{b-1} / B(a, b)), the log-derivative of I_·(a, b)."""
    return (_special.xlogy(a - 1.0, x) + _special.xlog1py(b - 1.0, -x)
            - _weak(_special.betaln(a, b)))


def t_log_density(df, t):
    """ln of Student's t density with ``df`` degrees of freedom."""
    return (_weak(_special.gammaln((df + 1.0) / 2.0) - _special.gammaln(df / 2.0)
                  - 0.5 * ew.log(df * math.pi)) - (df + 1.0) / 2.0 * ew.log1p(t * t / df))


gammainc_p = scipy_primitive(
    "gammainc", "a x", (None, lambda y, a, x: _gamma_density(a, x)),
    "gammainc(a, x) = P(a, x); ∂P/∂x = x^{a-1}e^{-x}/Γ(a)", Reads((), (0, 1)),
    sympy=lambda sp, a, x: sp.lowergamma(a, x) / sp.gamma(a))
gammaincc_p = scipy_primitive(
    "gammaincc", "a x", (None, lambda y, a, x: -_gamma_density(a, x)),
    "gammaincc(a, x) = Q(a, x); ∂Q/∂x = -x^{a-1}e^{-x}/Γ(a)", Reads((), (0, 1)),
    sympy=lambda sp, a, x: sp.uppergamma(a, x) / sp.gamma(a))
betainc_p = scipy_primitive(
    "betainc", "a b x", (None, None, lambda y, a, b, x: ew.exp(beta_log_density(a, b, x))),
    "betainc(a, b, x) = I_x(a, b); ∂I/∂x = x^{a-1}(1-x)^{b-1}/B(a, b)", Reads((), (), (0, 1, 2)),
    sympy=lambda sp, a, b, x: sp.betainc_regularized(a, b, 0, x))
stdtr_p = scipy_primitive(
    "stdtr", "df t", (None, lambda y, df, t: ew.exp(t_log_density(df, t))),
    "stdtr(df, t) = P(T ≤ t); ∂/∂t = Γ((df+1)/2)/(Γ(df/2)√(df π))·(1 + t²/df)^{-(df+1)/2}",
    Reads((), (0, 1)))
gammaincinv_p = scipy_primitive(
    "gammaincinv", "a p", (None, lambda x, a, p: ew.exp(-gamma_log_density(a, x))),
    "x = gammaincinv(a, p), P(a, x) = p; ∂x/∂p = Γ(a)·x^{1-a}·e^{x}", Reads((), (0, -1)))
gammainccinv_p = scipy_primitive(
    "gammainccinv", "a q", (None, lambda x, a, q: -ew.exp(-gamma_log_density(a, x))),
    "x = gammainccinv(a, q), Q(a, x) = q; ∂x/∂q = -Γ(a)·x^{1-a}·e^{x}", Reads((), (0, -1)))
betaincinv_p = scipy_primitive(
    "betaincinv", "a b p", (None, None, lambda x, a, b, p: ew.exp(-beta_log_density(a, b, x))),
    "x = betaincinv(a, b, p), I_x(a, b) = p; ∂x/∂p = B(a, b)·x^{1-a}(1-x)^{1-b}",
    Reads((), (), (0, 1, -1)))
stdtrit_p = scipy_primitive(
    "stdtrit", "df p", (None, lambda t, df, p: ew.exp(-t_log_density(df, t))),
    "t = stdtrit(df, p), stdtr(df, t) = p; ∂t/∂p = 1/(the t density at t)", Reads((), (0, -1)))
exp1_p = scipy_primitive("exp1", "x", (lambda y, x: -ew.exp(-x) / x,),
                      "exp1(x) = E₁(x); E₁' = -e^{-x}/x", Reads((0,)),
                      partials=("-exp(-{a0}) / {a0}",), sympy=lambda sp, x: sp.expint(1, x))
expi_p = scipy_primitive("expi", "x", (lambda y, x: ew.exp(x) / x,),
                      "expi(x) = Ei(x); Ei' = e^{x}/x", Reads((0,)),
                      partials=("exp({a0}) / {a0}",), sympy="Ei")
zeta_p = scipy_primitive("zeta", "x q", (None, lambda y, x, q: -x * zeta_p(x + 1.0, q)),
                      "zeta(x, q) = Σ (k + q)^{-x}; ∂ζ/∂q = -x·ζ(x + 1, q)", Reads((), (0, 1)),
                      sympy="zeta")


def gammainc(a, x):
    """The regularised lower incomplete gamma function P(a, x) (a > 0, x ≥ 0)."""
    return gammainc_p(a, x)


def gammaincc(a, x):
    """The regularised upper incomplete gamma function Q(a, x) = 1 - P(a, x)."""
    return gammaincc_p(a, x)


def betainc(a, b, x):
    """The regularised incomplete beta function I_x(a, b) (0 ≤ x ≤ 1)."""
    return betainc_p(a, b, x)


def stdtr(df, t):
    """Student's t cumulative distribution function with ``df`` degrees of freedom."""
    return stdtr_p(df, t)


def gammaincinv(a, p):
    """x with P(a, x) = p: the gamma quantile."""
    return gammaincinv_p(a, p)


def gammainccinv(a, q):
    """x with Q(a, x) = q."""
    return gammainccinv_p(a, q)


def betaincinv(a, b, p):
    """x with I_x(a, b) = p: the beta quantile."""
    return betaincinv_p(a, b, p)


def stdtrit(df, p):
    """t with stdtr(df, t) = p: Student's t quantile."""
    return stdtrit_p(df, p)


def exp1(x):
    """The exponential integral E₁(x)."""
    return exp1_p(x)


def expi(x):
    """The exponential integral Ei(x)."""
    return expi_p(x)


def zeta(x, q=None):
    """The Hurwitz zeta function ζ(x, q); the Riemann ζ(x) when ``q`` is None."""
    return zeta_p(x, 1.0 if q is None else q)
