"""chainrule.scipy.special: erf, erfc, gammaln, digamma, polygamma, expit, logit,
logsumexp, softmax, log_softmax, xlogy, xlog1py.

Primitives: erf (2/√π·e^{-x²}), erfc, gammaln (ψ), digamma (ψ₁), polygamma(n, ·)
(ψ_{n+1}), expit (y(1 - y)). The rest are composites; ``logsumexp`` subtracts the
(constant) maximum first, so huge inputs give finite values and gradients, and
``xlogy``/``xlog1py`` are 0 with a zero derivative in x where x = 0 (no NaN from
the untaken branch).
"""

from __future__ import annotations

import math

import numpy as np

from chainrule.core.primitive import Primitive, Reads, concrete
from chainrule.numpy import _elementwise as ew
from chainrule.numpy import _namespace as ns
from chainrule.numpy._nondiff import stop_gradient_p

__all__ = ["erf", "erfc", "gammaln", "digamma", "polygamma", "expit", "logit", "logsumexp",
           "softmax", "log_softmax", "xlogy", "xlog1py"]

try:  # pragma: no cover - depends on the environment
    import scipy.special as _sp
except ImportError:  # pragma: no cover
    _sp = None

_SQRT_PI = math.sqrt(math.pi)


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


def _impl(name, fallback):
    return getattr(_sp, name) if _sp is not None else fallback


erf_p = Primitive("erf", _impl("erf", _erf_np),
                  jvps=(lambda t, y, x: t * (2 / _SQRT_PI) * ew.exp(-x * x),),
                  vjps=(lambda g, y, x: g * (2 / _SQRT_PI) * ew.exp(-x * x),),
                  reads=Reads((0,)), doc="y = erf x; y' = 2/√π·e^{-x²}")
erfc_p = Primitive("erfc", _impl("erfc", _erfc_np),
                   jvps=(lambda t, y, x: t * (-2 / _SQRT_PI) * ew.exp(-x * x),),
                   vjps=(lambda g, y, x: g * (-2 / _SQRT_PI) * ew.exp(-x * x),),
                   reads=Reads((0,)), doc="y = erfc x; y' = -2/√π·e^{-x²}")
polygamma_p = Primitive(
    "polygamma",
    lambda x, n: _same_precision(
        _sp.polygamma(n, x) if _sp is not None else _polygamma_np(n, x), x),
    jvps=(lambda t, y, x, n: t * polygamma_p(x, n=n + 1),),
    vjps=(lambda g, y, x, n: g * polygamma_p(x, n=n + 1),),
    reads=Reads((0,)), doc="y = ψ^(n)(x); y' = ψ^(n+1)(x)")
gammaln_p = Primitive("gammaln", _impl("gammaln", _gammaln_np),
                      jvps=(lambda t, y, x: t * polygamma_p(x, n=0),),
                      vjps=(lambda g, y, x: g * polygamma_p(x, n=0),),
                      reads=Reads((0,)), doc="y = ln Γ(x); y' = ψ(x)")
expit_p = Primitive("expit", lambda x: _sp.expit(x) if _sp is not None else
                    0.5 * (1 + np.tanh(0.5 * np.asarray(x)))[()],
                    jvps=(lambda t, y, x: t * (y * (1 - y)),),
                    vjps=(lambda g, y, x: g * (y * (1 - y)),),
                    reads=Reads((-1,)), doc="y = 1/(1 + e^{-x}); y' = y(1 - y)")


def erf(x):
    return erf_p(x)


def erfc(x):
    return erfc_p(x)


def gammaln(x):
    return gammaln_p(x)


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
    """x·log y, 0 where x = 0 (also for y = 0); no NaN flows from the untaken branch."""
    zero = concrete(x) == 0
    if not np.any(zero):
        return x * ew.log(y)
    return ew.where_p(zero, 0.0, x * ew.log(ew.where_p(zero, 1.0, y)))


def xlog1py(x, y):
    """x·log(1 + y), 0 where x = 0."""
    zero = concrete(x) == 0
    if not np.any(zero):
        return x * ew.log1p(y)
    return ew.where_p(zero, 0.0, x * ew.log1p(ew.where_p(zero, 0.0, y)))
