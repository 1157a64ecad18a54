"""chainrule.scipy.special: erf, erfc, erfinv, gamma, gammaln, beta, betaln,
multigammaln, digamma/psi, polygamma, expit, logit, ndtr, log_ndtr, ndtri, entr,
rel_entr, logsumexp, softmax, log_softmax, xlogy, xlog1py.

Primitives: erf (2/√π·e^{-x²}), erfc, erfinv (√π/2·e^{y²}), gamma (Γ·ψ), gammaln (ψ),
digamma (ψ₁), polygamma(n, ·) (ψ_{n+1}), expit (y(1 - y)). The rest are composites;
``logsumexp`` subtracts the (constant) maximum first, so huge inputs give finite values
and gradients, and ``xlogy``/``xlog1py`` are 0 with a zero derivative in x where x = 0
(no NaN from the untaken branch).
"""

from __future__ import annotations

import math

import numpy as np

from chainrule.core.shape_rules import elementwise_shape
from chainrule.core.primitive import Primitive, Reads, anywhere, concrete, mask
from chainrule.numpy import _elementwise as ew
from chainrule.numpy import _ufuncs as uf
from chainrule.numpy import _namespace as ns
from chainrule.numpy._nondiff import stop_gradient_p
from chainrule.scipy._rules import scipy_special

__all__ = ["erf", "erfc", "erfinv", "erfcinv", "gamma", "gammaln", "gammasgn", "rgamma",
           "beta", "betaln", "multigammaln", "digamma", "psi", "polygamma", "factorial", "poch",
           "expit", "log_expit", "logit", "ndtr", "log_ndtr", "ndtri", "entr", "rel_entr",
           "kl_div", "logsumexp", "softmax", "log_softmax", "xlogy", "xlog1py"]

try:  # pragma: no cover - depends on the environment
    import scipy.special as _sp
except ImportError:  # pragma: no cover
    _sp = None

_SQRT_PI = math.sqrt(math.pi)
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


def _erf_np(x):
    return np.vectorize(math.erf, otypes=[float])(x)[()]


def _erfc_np(x):
    return np.vectorize(math.erfc, otypes=[float])(x)[()]


def _gammaln_np(x):
    return np.vectorize(math.lgamma, otypes=[float])(x)[()]


def _same_precision(y, x):
    """``y`` in ``x``'s floating precision (SciPy returns float64 for some float32 inputs)."""
    dtype = getattr(x, "dtype", None)
    if dtype is not None and dtype.kind == "f" and getattr(y, "dtype", dtype) != dtype:
        return np.asarray(y).astype(dtype)
    return y


def _polygamma_np(n, x):
    """ψ^(n)(x) for x > 0: recurrence up to x ≥ 10, then the asymptotic series."""
    x = np.asarray(x, dtype=float)
    acc = np.zeros_like(x)
    while np.any(x < 10):
        small = x < 10
        if n == 0:
            acc = acc - np.where(small, 1 / x, 0)
        else:
            acc = acc + np.where(small, (-1) ** (n + 1) * math.factorial(n) / x ** (n + 1), 0)
        x = np.where(small, x + 1, x)
    b2k = [1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6]
    if n == 0:
        s = np.log(x) - 1 / (2 * x)
        for k, b in enumerate(b2k, 1):
            s = s - b / (2 * k * x ** (2 * k))
    else:
        f = math.factorial
        s = f(n - 1) / x ** n + f(n) / (2 * x ** (n + 1))
        for k, b in enumerate(b2k, 1):
            s = s + b * f(2 * k + n - 1) / (f(2 * k) * x ** (2 * k + n))
        s = s * (-1) ** (n + 1)
    return (acc + s)[()]


def _slope_rules(slope):
    """``(jvps, vjps)`` of y = f(x) with f'(x) = ``slope(y, x, **params)``: the
    (co)tangent times the slope, 0 where it is 0 (also where the slope is not finite)."""
    def rule(c, y, x, **params):
        return ew.zero_safe(c, c * slope(y, x, **params))
    return (rule,), (rule,)


def _impl(name, fallback):
    return getattr(_sp, name) if _sp is not None else fallback


erf_p = Primitive("erf", _impl("erf", _erf_np),
                  *_slope_rules(lambda y, x: (2 / _SQRT_PI) * ew.exp(-x * x)),
                  reads=Reads((0,)), doc="y = erf x; y' = 2/√π·e^{-x²}",
                  batch="elementwise", abstract_eval=elementwise_shape("inexact"),
                  partials=("2 / sqrt(pi) * exp(-{a0}**2)",), sympy="erf")
erfc_p = Primitive("erfc", _impl("erfc", _erfc_np),
                   *_slope_rules(lambda y, x: (-2 / _SQRT_PI) * ew.exp(-x * x)),
                   reads=Reads((0,)), doc="y = erfc x; y' = -2/√π·e^{-x²}",
                   batch="elementwise", abstract_eval=elementwise_shape("inexact"),
                   partials=("-2 / sqrt(pi) * exp(-{a0}**2)",), sympy="erfc")
polygamma_p = Primitive(
    "polygamma",
    lambda x, n: _same_precision(
        _sp.polygamma(n, x) if _sp is not None else _polygamma_np(n, x), x),
    *_slope_rules(lambda y, x, n: polygamma_p(x, n=n + 1)),
    reads=Reads((0,)), doc="y = ψ^(n)(x); y' = ψ^(n+1)(x)",
    batch="elementwise", abstract_eval=elementwise_shape("inexact"),
    partials=("polygamma({n} + 1, {a0})",), sympy=lambda sp, x, n: sp.polygamma(n, x))
gammaln_p = Primitive("gammaln", _impl("gammaln", _gammaln_np),
                      *_slope_rules(lambda y, x: polygamma_p(x, n=0)),
                      reads=Reads((0,)), doc="y = ln Γ(x); y' = ψ(x)",
                      batch="elementwise", abstract_eval=elementwise_shape("inexact"),
                      partials=("digamma({a0})",), sympy=lambda sp, x: sp.log(sp.Abs(sp.gamma(x))))


def _gamma_np(x):
    return np.vectorize(math.gamma, otypes=[float])(x)[()]


def _erf_inverse_np(p, tail_room):
    """y with erf(y) = p, without SciPy: safeguarded Newton on |p| in the bracket [0, 27].

    ``tail_room`` is 1 - |p|, passed in exactly (erfcinv knows it better than 1 - |p|).
    The residual is erf(y) - |p|, and ln tail_room - ln erfc(y) for |p| > ½ so that the
    tail keeps its relative accuracy (and Newton converges fast there: ln erfc is nearly
    quadratic); a Newton step leaving the bracket is replaced by
    bisection, so every iterate stays finite. tail_room = 0 gives ±∞."""
    p, room = np.asarray(p, dtype=float), np.asarray(tail_room, dtype=float)
    a = np.abs(p)
    tail = room < 0.5
    lo, hi = np.zeros_like(a), np.full_like(a, 27.0)
    y = np.minimum(a * _SQRT_PI / 2, 3.0)
    with np.errstate(all="ignore"):
        for _ in range(100):
            log_erfc = np.log(_erfc_np(y))
            residual = np.where(tail, np.log(room) - log_erfc, _erf_np(y) - a)
            slope = 2 / _SQRT_PI * np.exp(-y * y - np.where(tail, log_erfc, 0.0))
            lo, hi = np.where(residual < 0, y, lo), np.where(residual > 0, y, hi)
            newton = y - residual / slope
            inside = (newton > lo) & (newton < hi)
            stepped = np.where(residual == 0, y, np.where(inside, newton, 0.5 * (lo + hi)))
            if np.array_equal(stepped, y):
                break
            y = stepped
        y = np.where(room == 0, np.inf, np.where(room < 0, np.nan, y))
    return np.copysign(y, p)[()]


def _erfinv_np(p):
    """erf⁻¹ p without SciPy."""
    return _erf_inverse_np(p, 1.0 - np.abs(p))


def _erfcinv_np(q):
    """erfc⁻¹ q = erf⁻¹(1 - q) without SciPy, with 1 - |1 - q| formed exactly."""
    q = np.asarray(q, dtype=float)
    with np.errstate(invalid="ignore"):
        room = np.where((q < 0) | (q > 2), -1.0, np.where(q <= 1, q, 2.0 - q))
    return _erf_inverse_np(1.0 - q, room)


def _log_ndtr_np(x):
    """ln Φ(x) without SciPy: ln(½ erfc(-x/√2)) (ln(1 - ½ erfc(x/√2)) for x > 0), and
    below x = -20 the asymptotic series
    -x²/2 - ln(-x) - ½ln 2π + ln(1 - 1/x² + 3/x⁴ - 15/x⁶ + 105/x⁸ - 945/x¹⁰)
    (relative error < 1e-13)."""
    x = np.asarray(x, dtype=float)
    far = x < -20.0
    with np.errstate(all="ignore"):
        xs = np.where(far, 0.0, x) / math.sqrt(2.0)
        near = np.where(xs > 0, np.log1p(-0.5 * _erfc_np(xs)), np.log(0.5 * _erfc_np(-xs)))
        z = np.where(far, x, -30.0)
        r = 1.0 / (z * z)
        series = (-0.5 * z * z - np.log(-z) - _LOG_SQRT_2PI
                  + np.log1p(r * (-1.0 + r * (3.0 + r * (-15.0 + r * (105.0 - r * 945.0))))))
    return np.where(far, series, near)[()]


def _rgamma_np(x):
    """1/Γ(x) without SciPy: 0 at the poles x = 0, -1, -2, …"""
    def one(v):
        return 0.0 if v <= 0 and v == math.floor(v) else 1.0 / math.gamma(v)
    return np.vectorize(one, otypes=[float])(x)[()]


def _rgamma_slope(y, x):
    """d/dx 1/Γ(x) = -ψ(x)/Γ(x), with its limit (-1)ⁿ·n! = cos(πn)·Γ(n + 1) at the poles
    x = -n."""
    xc = concrete(x)
    pole = mask(np.logical_and(xc <= 0, xc == np.floor(xc)))
    if not anywhere(pole):
        return -y * polygamma_p(x, n=0)
    n = -ew.where_p(pole, xc, 0.0)
    at_pole = ew.cos(np.pi * n) * gamma_p(n + 1.0)
    return ew.where_p(pole, at_pole, -y * polygamma_p(ew.where_p(pole, 0.5, x), n=0))


gamma_p = Primitive("gamma", _impl("gamma", _gamma_np),
                    *_slope_rules(lambda y, x: (y * polygamma_p(x, n=0))),
                    reads=Reads((0, -1)), doc="y = Γ(x); y' = Γ(x)·ψ(x)",
                    batch="elementwise", abstract_eval=elementwise_shape("inexact"),
                    partials=("{y} * digamma({a0})",), sympy="gamma")
erfinv_p = Primitive("erfinv", _impl("erfinv", _erfinv_np),
                     *_slope_rules(lambda y, x: (_SQRT_PI / 2) * ew.exp(y * y)),
                     reads=Reads((-1,)), doc="y = erf⁻¹ x; y' = √π/2·e^{y²}",
                     batch="elementwise", abstract_eval=elementwise_shape("inexact"),
                     partials=("sqrt(pi) / 2 * exp({y}**2)",), sympy="erfinv")
erfcinv_p = Primitive("erfcinv", _impl("erfcinv", _erfcinv_np),
                      *_slope_rules(lambda y, x: (-_SQRT_PI / 2) * ew.exp(y * y)),
                      reads=Reads((-1,)), doc="y = erfc⁻¹ x; y' = -√π/2·e^{y²}",
                      batch="elementwise", abstract_eval=elementwise_shape("inexact"),
                      partials=("-sqrt(pi) / 2 * exp({y}**2)",),
                      sympy=lambda sp, x: sp.erfinv(1 - x))
log_ndtr_p = Primitive("log_ndtr", _impl("log_ndtr", _log_ndtr_np),
                       *_slope_rules(lambda y, x: ew.exp(-0.5 * x * x - _LOG_SQRT_2PI - y)),
                       reads=Reads((0, -1)),
                       doc="y = ln Φ(x); y' = φ(x)/Φ(x) = e^{-x²/2 - y}/√(2π)",
                       batch="elementwise", abstract_eval=elementwise_shape("inexact"),
                       partials=("exp(-{a0}**2 / 2 - {y}) / sqrt(2 * pi)",),
                       sympy=lambda sp, x: sp.log((1 + sp.erf(x / sp.sqrt(2))) / 2))
rgamma_p = Primitive("rgamma", _impl("rgamma", _rgamma_np),
                     *_slope_rules(lambda y, x: _rgamma_slope(y, x)),
                     reads=Reads((0, -1)), doc="y = 1/Γ(x); y' = -ψ(x)·y ((-1)ⁿn! at x = -n)",
                     batch="elementwise", abstract_eval=elementwise_shape("inexact"),
                     partials=("-digamma({a0}) * {y}",), sympy=lambda sp, x: 1 / sp.gamma(x))
gammasgn_p = Primitive("gammasgn", _impl("gammasgn", lambda x: np.sign(_gamma_np(x))),
                       jvps=(None,), vjps=(None,),
                       doc="y = sign Γ(x): piecewise constant, derivative 0",
                       batch="elementwise", abstract_eval=elementwise_shape("inexact"),
                       partials=("0",), sympy=lambda sp, x: sp.sign(sp.gamma(x)))
expit_p = Primitive("expit", lambda x: _sp.expit(x) if _sp is not None else
                    0.5 * (1 + np.tanh(0.5 * np.asarray(x)))[()],
                    *_slope_rules(lambda y, x: (y * (1 - y))),
                    reads=Reads((-1,)), doc="y = 1/(1 + e^{-x}); y' = y(1 - y)",
                    batch="elementwise", abstract_eval=elementwise_shape("inexact"),
                    partials=("{y} * (1 - {y})",), sympy=lambda sp, x: 1 / (1 + sp.exp(-x)))


def erf(x):
    return erf_p(x)


def erfc(x):
    return erfc_p(x)


def gammaln(x):
    return gammaln_p(x)


def gamma(x):
    return gamma_p(x)


def erfinv(x):
    return erfinv_p(x)


def betaln(a, b):
    """ln B(a, b) = ln Γ(a) + ln Γ(b) - ln Γ(a + b) (a, b > 0)."""
    return gammaln(a) + gammaln(b) - gammaln(a + b)


def beta(a, b):
    """B(a, b) = e^{ln B(a, b)} (a, b > 0)."""
    return ew.exp(betaln(a, b))


def multigammaln(a, d):
    """ln Γ_d(a) = d(d-1)/4·ln π + Σ_{j=1..d} ln Γ(a + (1 - j)/2)."""
    d = int(d)
    out = d * (d - 1) / 4.0 * math.log(math.pi)
    for j in range(1, d + 1):
        out = out + gammaln(a + (1 - j) / 2.0)
    return out


def ndtr(x):
    """The standard normal CDF, ½·erfc(-x/√2)."""
    return 0.5 * erfc(-x / math.sqrt(2.0))


def log_ndtr(x):
    """ln of the standard normal CDF, accurate far into the lower tail."""
    return log_ndtr_p(x)


def ndtri(p):
    """The standard normal quantile, -√2·erfc⁻¹(2p) (accurate for tiny p)."""
    return -math.sqrt(2.0) * erfcinv(2.0 * p)


def erfcinv(x):
    return erfcinv_p(x)


def rgamma(x):
    """1/Γ(x), an entire function: 0 at the poles of Γ."""
    return rgamma_p(x)


def gammasgn(x):
    """The sign of Γ(x) (derivative 0)."""
    return gammasgn_p(x)


def factorial(n, exact=False):
    """n! = Γ(n + 1) (``exact=True`` takes SciPy's integer path; no derivative)."""
    if exact:
        return scipy_special("factorial").factorial(concrete(n), exact=True)
    return gamma(n + 1.0)


def poch(z, m):
    """The rising factorial (z)_m = Γ(z + m)/Γ(z)."""
    return gamma(z + m) * rgamma(z)


def kl_div(x, y):
    """x·ln(x/y) - x + y (x, y > 0), y at x = 0, ∞ elsewhere."""
    return rel_entr(x, y) - x + y


def log_expit(x):
    """ln σ(x) = -ln(1 + e^{-x}), finite for every x."""
    return -uf.logaddexp(0.0, -x)


def entr(x):
    """-x·ln x (0 at 0, -∞ for x < 0, where the derivative is 0: the logarithm sees 1
    there, so no NaN reaches the derivative, compiled or not)."""
    negative = mask(concrete(x) < 0)
    if not anywhere(negative):
        return -xlogy(x, x)
    safe = ew.where_p(negative, 1.0, x)
    return ew.where_p(negative, -np.inf, -xlogy(safe, safe))


def rel_entr(x, y):
    """x·ln(x/y) for x, y > 0; 0 where x = 0 and y ≥ 0; ∞ elsewhere."""
    return xlogy(x, x) - xlogy(x, y)


def digamma(x):
    return polygamma_p(x, n=0)


psi = digamma


def polygamma(n, x):
    return polygamma_p(x, n=int(n))


def expit(x):
    return expit_p(x)


def logit(x):
    return ew.log(x) - ew.log1p(-x)


def logsumexp(a, axis=None, b=None, keepdims=False, return_sign=False):
    """log Σ b·eᵃ over ``axis``, stable for huge a (the shift by max a is a constant)."""
    if return_sign:
        raise NotImplementedError("chainrule.scipy.special.logsumexp: return_sign=True")
    m = np.max(concrete(a), axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    e = ew.exp(a - m)
    if b is not None:
        e = e * b
    s = ns.sum(e, axis=axis, keepdims=True)
    out = ew.log(s) + stop_gradient_p(m)
    if not keepdims:
        out = ns.squeeze(out, axis=axis) if axis is not None else ns.reshape(out, ())
    return out


def log_softmax(x, axis=None):
    return x - logsumexp(x, axis=axis, keepdims=True)


def softmax(x, axis=None):
    return ew.exp(log_softmax(x, axis=axis))


def xlogy(x, y):
    """x·log y, 0 where x = 0 (also for y ≤ 0). ∂/∂x = log y and ∂/∂y = x/y hold at
    x = 0 too (log y, 0); where x = 0 and y ≤ 0 both are 0 (y is replaced by 1 there)."""
    hole = mask(np.logical_and(np.equal(concrete(x), 0), np.less_equal(concrete(y), 0)))
    if not anywhere(hole):
        return x * ew.log(y)
    return x * ew.log(ew.where_p(hole, 1.0, y))


def xlog1py(x, y):
    """x·log(1 + y), 0 where x = 0 (also for y ≤ -1); ∂/∂x = log(1 + y) at x = 0 too."""
    hole = mask(np.logical_and(np.equal(concrete(x), 0), np.less_equal(concrete(y), -1)))
    if not anywhere(hole):
        return x * ew.log1p(y)
    return x * ew.log1p(ew.where_p(hole, 0.0, y))


# the families in their own modules (they use the functions above in their rules)
from chainrule.scipy import _bessel, _incomplete  # noqa: E402
from chainrule.scipy._bessel import (  # noqa: E402, F401
    i0, i0e, i1, i1e, iv, ive, j0, j1, jn, jv, k0, k0e, k1, k1e, kv, kve, y0, y1, yn, yv)
from chainrule.scipy._incomplete import (  # noqa: E402, F401
    betainc, betaincinv, exp1, expi, gammainc, gammaincc, gammainccinv, gammaincinv, stdtr,
    stdtrit, zeta)

__all__ += _incomplete.__all__ + _bessel.__all__
