"""chainrule.scipy.stats: densities of common distributions, differentiable in the point
and in every parameter, with SciPy's conventions (``loc``/``scale``, ``-inf`` log-density
outside the support).

``norm`` (logpdf, pdf, cdf, logcdf, sf, logsf), ``t``, ``gamma``, ``beta``, ``chi2``,
``laplace`` (logpdf, pdf), ``expon`` (logpdf, pdf, cdf), ``poisson`` (logpmf, pmf),
``multivariate_normal`` and ``dirichlet`` (logpdf, pdf).
"""

from __future__ import annotations

import math

import numpy as np

from chainrule.core.primitive import concrete
from chainrule.numpy import _assembly as asm
from chainrule.numpy import _elementwise as ew
from chainrule.numpy import _namespace as ns
from chainrule.numpy import linalg
from chainrule.scipy.special import erfc, gammaln

__all__ = ["norm", "t", "gamma", "beta", "chi2", "laplace", "expon", "poisson",
           "multivariate_normal", "dirichlet"]

_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


class norm:
    """The normal distribution's functions, differentiable in x, loc and scale."""

    @staticmethod
    def logpdf(x, loc=0.0, scale=1.0):
        z = (x - loc) / scale
        return -0.5 * z * z - ew.log(scale) - _LOG_SQRT_2PI

    @staticmethod
    def pdf(x, loc=0.0, scale=1.0):
        return ew.exp(norm.logpdf(x, loc, scale))

    @staticmethod
    def cdf(x, loc=0.0, scale=1.0):
        return 0.5 * erfc(-(x - loc) / (scale * math.sqrt(2.0)))

    @staticmethod
    def logcdf(x, loc=0.0, scale=1.0):
        return ew.log(norm.cdf(x, loc, scale))

    @staticmethod
    def sf(x, loc=0.0, scale=1.0):
        return 0.5 * erfc((x - loc) / (scale * math.sqrt(2.0)))

    @staticmethod
    def logsf(x, loc=0.0, scale=1.0):
        return ew.log(norm.sf(x, loc, scale))


def _on_support(inside, logdensity, y, safe):
    """``logdensity(y)`` where ``inside``, ``-inf`` elsewhere; ``y`` is replaced by ``safe``
    outside, so that no NaN reaches the derivative from points that do not count."""
    inside = np.asarray(concrete(inside), dtype=bool)
    if inside.all():
        return logdensity(y)
    return ew.where_p(inside, logdensity(ew.where_p(inside, y, safe)), -np.inf)


def _with_pdf(cls):
    """Give a class with ``logpdf`` its ``pdf = exp(logpdf)``."""
    cls.pdf = staticmethod(lambda *args, **kw: ew.exp(cls.logpdf(*args, **kw)))
    return cls


@_with_pdf
class t:
    """Student's t with ``df`` degrees of freedom."""

    @staticmethod
    def logpdf(x, df, loc=0.0, scale=1.0):
        z = (x - loc) / scale
        return (gammaln((df + 1.0) / 2.0) - gammaln(df / 2.0) - 0.5 * ew.log(df * math.pi)
                - ew.log(scale) - (df + 1.0) / 2.0 * ew.log1p(z * z / df))


@_with_pdf
class gamma:
    """Gamma with shape ``a``: density ∝ y^(a-1)·e^(-y), y = (x - loc)/scale > 0."""

    @staticmethod
    def logpdf(x, a, loc=0.0, scale=1.0):
        y = (x - loc) / scale
        return _on_support(concrete(y) > 0, lambda y: (a - 1.0) * ew.log(y) - y - gammaln(a)
                           - ew.log(scale), y, 1.0)


@_with_pdf
class chi2:
    """Chi-squared with ``df`` degrees of freedom: gamma(df/2, scale 2)."""

    @staticmethod
    def logpdf(x, df, loc=0.0, scale=1.0):
        return gamma.logpdf(x, df / 2.0, loc, 2.0 * scale)


@_with_pdf
class beta:
    """Beta(a, b) on (loc, loc + scale)."""

    @staticmethod
    def logpdf(x, a, b, loc=0.0, scale=1.0):
        y = (x - loc) / scale
        yc = concrete(y)
        return _on_support((yc > 0) & (yc < 1), lambda y: (a - 1.0) * ew.log(y)
                           + (b - 1.0) * ew.log1p(-y) - gammaln(a) - gammaln(b)
                           + gammaln(a + b) - ew.log(scale), y, 0.5)


@_with_pdf
class laplace:
    """Laplace: density e^(-|x - loc|/scale) / (2·scale)."""

    @staticmethod
    def logpdf(x, loc=0.0, scale=1.0):
        return -ew.absolute(x - loc) / scale - ew.log(2.0 * scale)


@_with_pdf
class expon:
    """Exponential: density e^(-y)/scale for y = (x - loc)/scale ≥ 0."""

    @staticmethod
    def logpdf(x, loc=0.0, scale=1.0):
        y = (x - loc) / scale
        return _on_support(concrete(y) >= 0, lambda y: -y - ew.log(scale), y, 0.0)

    @staticmethod
    def cdf(x, loc=0.0, scale=1.0):
        y = (x - loc) / scale
        inside = np.asarray(concrete(y) >= 0)
        return ew.where_p(inside, -ew.expm1(-ew.where_p(inside, y, 0.0)), 0.0)


class poisson:
    """Poisson with mean ``mu``: log P(k) = k·ln mu - mu - ln k!."""

    @staticmethod
    def logpmf(k, mu, loc=0):
        k = k - loc
        kc = np.asarray(concrete(k))
        inside = (kc >= 0) & (kc == np.floor(kc))
        return _on_support(inside, lambda k: ew.where_p(np.asarray(concrete(k)) == 0, 0.0,
                                                        k * ew.log(mu)) - mu - gammaln(k + 1.0),
                           k, 0.0)

    @staticmethod
    def pmf(k, mu, loc=0):
        return ew.exp(poisson.logpmf(k, mu, loc))


@_with_pdf
class multivariate_normal:
    """Normal in k dimensions: -½(k ln 2π + ln det Σ + (x - μ)ᵀ Σ⁻¹ (x - μ)), by Cholesky
    (``x`` may hold points in its leading axes)."""

    @staticmethod
    def logpdf(x, mean=None, cov=1.0):
        d = x if mean is None else x - mean
        k = d.shape[-1] if hasattr(d, "shape") and len(d.shape) else 1
        cov = cov * np.eye(k) if np.ndim(concrete(cov)) == 0 else cov
        chol = linalg.cholesky(cov)
        z = linalg.solve(chol, ns.transpose(ns.reshape(d, (-1, k)), (1, 0)))
        maha = ns.sum(z * z, axis=0)
        logdet = 2.0 * ns.sum(ew.log(asm.diagonal(chol)))
        r = -0.5 * (k * math.log(2.0 * math.pi) + logdet + maha)
        lead = tuple(d.shape[:-1]) if hasattr(d, "shape") else ()
        return ns.reshape(r, lead)


@_with_pdf
class dirichlet:
    """Dirichlet(α) on the simplex: Σ(α_i - 1) ln x_i + ln Γ(Σα) - Σ ln Γ(α_i)."""

    @staticmethod
    def logpdf(x, alpha):
        return (ns.sum((alpha - 1.0) * ew.log(x), axis=-1) + gammaln(ns.sum(alpha))
                - ns.sum(gammaln(alpha)))
