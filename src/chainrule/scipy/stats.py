"""chainrule.scipy.stats: distributions with SciPy's conventions (``loc``/``scale``,
``-inf`` log-density outside the support).

Densities are differentiable in the point and in every parameter. Distribution
functions (cdf, sf, their logs) and quantiles (ppf, isf) are differentiable in the
point, ``loc`` and ``scale``; in a shape parameter (``a``, ``b``, ``df``) they raise a
clear error, as the incomplete gamma/beta functions under them do (the ``mu`` of
``poisson.cdf`` is the bound of an incomplete gamma function, so it differentiates).

``norm``, ``t``, ``gamma``, ``chi2``, ``beta``: logpdf, pdf, cdf, logcdf, sf, logsf, ppf,
isf; ``laplace``, ``expon``, ``logistic``, ``cauchy``, ``uniform``: logpdf, pdf, cdf,
sf, ppf; ``poisson``: logpmf, pmf, cdf, sf; ``multivariate_normal``: logpdf, pdf (also
``allow_singular``), entropy; ``dirichlet``: logpdf, pdf, rvs.
"""

from __future__ import annotations

import math
import sys

import numpy as np

from chainrule.core.primitive import anywhere, concrete, everywhere, mask
from chainrule.numpy import _assembly as asm
from chainrule.numpy import _elementwise as ew
from chainrule.numpy import _namespace as ns
from chainrule.numpy import linalg
from chainrule.scipy import special
from chainrule.scipy._incomplete import beta_log_density, gamma_log_density, t_log_density

__all__ = ["norm", "t", "gamma", "beta", "chi2", "laplace", "expon", "logistic", "cauchy",
           "uniform", "poisson", "multivariate_normal", "dirichlet"]

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
        return 0.5 * special.erfc(-(x - loc) / (scale * math.sqrt(2.0)))

    @staticmethod
    def logcdf(x, loc=0.0, scale=1.0):
        return ew.log(norm.cdf(x, loc, scale))

    @staticmethod
    def sf(x, loc=0.0, scale=1.0):
        return 0.5 * special.erfc((x - loc) / (scale * math.sqrt(2.0)))

    @staticmethod
    def logsf(x, loc=0.0, scale=1.0):
        return ew.log(norm.sf(x, loc, scale))

    @staticmethod
    def ppf(q, loc=0.0, scale=1.0):
        return loc + scale * special.ndtri(q)

    @staticmethod
    def isf(q, loc=0.0, scale=1.0):
        return loc - scale * special.ndtri(q)


def _on_support(inside, logdensity, y, safe):
    """``logdensity(y)`` where ``inside``, ``-inf`` elsewhere; ``y`` is replaced by ``safe``
    outside, so that no NaN reaches the derivative from points that do not count."""
    inside = mask(concrete(inside))
    if everywhere(inside):
        return logdensity(y)
    return ew.where_p(inside, logdensity(ew.where_p(inside, y, safe)), -np.inf)


def _with_pdf(cls):
    """Give a class with ``logpdf`` its ``pdf = exp(logpdf)``; with ``cdf`` and ``sf``,
    ``logcdf = ln cdf`` and ``logsf = ln sf``."""
    cls.pdf = staticmethod(lambda *args, **kw: ew.exp(cls.logpdf(*args, **kw)))
    if hasattr(cls, "cdf") and not hasattr(cls, "logcdf"):
        cls.logcdf = staticmethod(lambda *args, **kw: ew.log(cls.cdf(*args, **kw)))
    if hasattr(cls, "sf") and not hasattr(cls, "logsf"):
        cls.logsf = staticmethod(lambda *args, **kw: ew.log(cls.sf(*args, **kw)))
    return cls


def _clipped(y, low, high=None):
    """``y`` clipped to [low, high] through a where, so that a distribution function is
    flat (derivative 0) outside the support and its inner function never sees the
    outside."""
    yc = concrete(y)
    below = mask(yc < low)
    above = None if high is None else mask(yc > high)
    if not (anywhere(below) or above is not None and anywhere(above)):
        return y
    y = ew.where_p(below, low, y)
    return y if above is None else ew.where_p(above, high, y)


@_with_pdf
class t:
    """Student's t with ``df`` degrees of freedom."""

    @staticmethod
    def logpdf(x, df, loc=0.0, scale=1.0):
        return t_log_density(df, (x - loc) / scale) - ew.log(scale)

    @staticmethod
    def cdf(x, df, loc=0.0, scale=1.0):
        return special.stdtr(df, (x - loc) / scale)

    @staticmethod
    def sf(x, df, loc=0.0, scale=1.0):
        return special.stdtr(df, (loc - x) / scale)

    @staticmethod
    def ppf(q, df, loc=0.0, scale=1.0):
        return loc + scale * special.stdtrit(df, q)

    @staticmethod
    def isf(q, df, loc=0.0, scale=1.0):
        return loc - scale * special.stdtrit(df, q)


@_with_pdf
class gamma:
    """Gamma with shape ``a``: density ∝ y^(a-1)·e^(-y), y = (x - loc)/scale > 0."""

    @staticmethod
    def logpdf(x, a, loc=0.0, scale=1.0):
        y = (x - loc) / scale
        return _on_support(concrete(y) > 0,
                           lambda y: gamma_log_density(a, y) - ew.log(scale), y, 1.0)

    @staticmethod
    def cdf(x, a, loc=0.0, scale=1.0):
        return special.gammainc(a, _clipped((x - loc) / scale, 0.0))

    @staticmethod
    def sf(x, a, loc=0.0, scale=1.0):
        return special.gammaincc(a, _clipped((x - loc) / scale, 0.0))

    @staticmethod
    def ppf(q, a, loc=0.0, scale=1.0):
        return loc + scale * special.gammaincinv(a, q)

    @staticmethod
    def isf(q, a, loc=0.0, scale=1.0):
        return loc + scale * special.gammainccinv(a, q)


def _chi2_as_gamma(method):
    """chi2(df, loc, scale) is gamma(df/2, loc, 2·scale): the same ``method``."""
    def f(x, df, loc=0.0, scale=1.0):
        return getattr(gamma, method)(x, df / 2.0, loc, 2.0 * scale)
    f.__name__ = method
    return staticmethod(f)


@_with_pdf
class chi2:
    """Chi-squared with ``df`` degrees of freedom: gamma(df/2, scale 2)."""

    logpdf = _chi2_as_gamma("logpdf")
    cdf = _chi2_as_gamma("cdf")
    sf = _chi2_as_gamma("sf")
    ppf = _chi2_as_gamma("ppf")
    isf = _chi2_as_gamma("isf")


@_with_pdf
class beta:
    """Beta(a, b) on (loc, loc + scale)."""

    @staticmethod
    def logpdf(x, a, b, loc=0.0, scale=1.0):
        y = (x - loc) / scale
        yc = concrete(y)
        return _on_support(np.logical_and(yc > 0, yc < 1),
                           lambda y: beta_log_density(a, b, y) - ew.log(scale), y, 0.5)

    @staticmethod
    def cdf(x, a, b, loc=0.0, scale=1.0):
        return special.betainc(a, b, _clipped((x - loc) / scale, 0.0, 1.0))

    @staticmethod
    def sf(x, a, b, loc=0.0, scale=1.0):
        """I_{1-y}(b, a), accurate where the cdf is near 1."""
        return special.betainc(b, a, _clipped(1.0 - (x - loc) / scale, 0.0, 1.0))

    @staticmethod
    def ppf(q, a, b, loc=0.0, scale=1.0):
        return loc + scale * special.betaincinv(a, b, q)

    @staticmethod
    def isf(q, a, b, loc=0.0, scale=1.0):
        return loc + scale * (1.0 - special.betaincinv(b, a, q))


@_with_pdf
class laplace:
    """Laplace: density e^(-|x - loc|/scale) / (2·scale)."""

    @staticmethod
    def logpdf(x, loc=0.0, scale=1.0):
        return -ew.absolute(x - loc) / scale - ew.log(2.0 * scale)

    @staticmethod
    def cdf(x, loc=0.0, scale=1.0):
        """½e^{y} for y = (x - loc)/scale < 0, 1 - ½e^{-y} above (each side's own form)."""
        y = (x - loc) / scale
        left = mask(concrete(y) < 0)
        return ew.where_p(left, 0.5 * ew.exp(ew.where_p(left, y, 0.0)),
                          1.0 - 0.5 * ew.exp(-ew.where_p(left, 0.0, y)))

    @staticmethod
    def sf(x, loc=0.0, scale=1.0):
        return laplace.cdf(2.0 * loc - x, loc, scale)

    @staticmethod
    def ppf(q, loc=0.0, scale=1.0):
        """loc + scale·ln 2q below q = ½, loc - scale·ln 2(1 - q) above."""
        low = mask(concrete(q) < 0.5)
        return loc + scale * ew.where_p(low, ew.log(2.0 * ew.where_p(low, q, 0.25)),
                                        -ew.log(2.0 - 2.0 * ew.where_p(low, 0.75, q)))


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
        inside = mask(concrete(y) >= 0)
        return ew.where_p(inside, -ew.expm1(-ew.where_p(inside, y, 0.0)), 0.0)

    @staticmethod
    def sf(x, loc=0.0, scale=1.0):
        return ew.exp(-_clipped((x - loc) / scale, 0.0))

    @staticmethod
    def ppf(q, loc=0.0, scale=1.0):
        return loc - scale * ew.log1p(-q)

    @staticmethod
    def isf(q, loc=0.0, scale=1.0):
        return loc - scale * ew.log(q)


@_with_pdf
class logistic:
    """Logistic: cdf σ(y) = 1/(1 + e^{-y}), y = (x - loc)/scale."""

    @staticmethod
    def logpdf(x, loc=0.0, scale=1.0):
        y = (x - loc) / scale
        return special.log_expit(y) + special.log_expit(-y) - ew.log(scale)

    @staticmethod
    def cdf(x, loc=0.0, scale=1.0):
        return special.expit((x - loc) / scale)

    @staticmethod
    def sf(x, loc=0.0, scale=1.0):
        return special.expit((loc - x) / scale)

    @staticmethod
    def logcdf(x, loc=0.0, scale=1.0):
        return special.log_expit((x - loc) / scale)

    @staticmethod
    def logsf(x, loc=0.0, scale=1.0):
        return special.log_expit((loc - x) / scale)

    @staticmethod
    def ppf(q, loc=0.0, scale=1.0):
        return loc + scale * special.logit(q)


@_with_pdf
class cauchy:
    """Cauchy: density 1/(π·scale·(1 + y²)), cdf ½ + atan(y)/π."""

    @staticmethod
    def logpdf(x, loc=0.0, scale=1.0):
        y = (x - loc) / scale
        return -math.log(math.pi) - ew.log(scale) - ew.log1p(y * y)

    @staticmethod
    def cdf(x, loc=0.0, scale=1.0):
        return 0.5 + ew.arctan((x - loc) / scale) / math.pi

    @staticmethod
    def sf(x, loc=0.0, scale=1.0):
        return 0.5 - ew.arctan((x - loc) / scale) / math.pi

    @staticmethod
    def ppf(q, loc=0.0, scale=1.0):
        """loc - scale·cot(πq), as -cot(πq) below ½ and cot(π(1 - q)) above (accurate in
        both tails)."""
        low = mask(concrete(q) < 0.5)
        tail = ew.where_p(low, q, 1.0 - q)
        return loc + scale * ew.where_p(low, -1.0, 1.0) / ew.tan(math.pi * tail)


@_with_pdf
class uniform:
    """Uniform on [loc, loc + scale]."""

    @staticmethod
    def logpdf(x, loc=0.0, scale=1.0):
        y = concrete((x - loc) / scale)
        inside = mask(np.logical_and(y >= 0, y <= 1))
        r = -ew.log(scale) + 0.0 * x
        return r if everywhere(inside) else ew.where_p(inside, r, -np.inf)

    @staticmethod
    def cdf(x, loc=0.0, scale=1.0):
        return _clipped((x - loc) / scale, 0.0, 1.0)

    @staticmethod
    def sf(x, loc=0.0, scale=1.0):
        return 1.0 - uniform.cdf(x, loc, scale)

    @staticmethod
    def ppf(q, loc=0.0, scale=1.0):
        return loc + scale * q


class poisson:
    """Poisson with mean ``mu``: log P(k) = k·ln mu - mu - ln k!."""

    @staticmethod
    def logpmf(k, mu, loc=0):
        k = k - loc
        kc = concrete(k)
        inside = np.logical_and(kc >= 0, kc == np.floor(kc))
        return _on_support(inside, lambda k: special.xlogy(k, mu) - mu - special.gammaln(k + 1.0),
                           k, 0.0)

    @staticmethod
    def pmf(k, mu, loc=0):
        return ew.exp(poisson.logpmf(k, mu, loc))

    @staticmethod
    def cdf(k, mu, loc=0):
        """P(K ≤ k) = Q(⌊k⌋ + 1, mu) for k ≥ 0 (0 below); d/dmu = -pmf(⌊k⌋, mu)."""
        kf = np.floor(concrete(k - loc) * 1.0)
        below = mask(kf < 0)
        r = special.gammaincc(ew.where_p(below, 0.0, kf) + 1.0, mu)
        return ew.where_p(below, 0.0, r) if anywhere(below) else r

    @staticmethod
    def sf(k, mu, loc=0):
        """P(K > k) = P(⌊k⌋ + 1, mu) for k ≥ 0 (1 below)."""
        kf = np.floor(concrete(k - loc) * 1.0)
        below = mask(kf < 0)
        r = special.gammainc(ew.where_p(below, 0.0, kf) + 1.0, mu)
        return ew.where_p(below, 1.0, r) if anywhere(below) else r


@_with_pdf
class multivariate_normal:
    """Normal in k dimensions: -½(k ln 2π + ln det Σ + (x - μ)ᵀ Σ⁻¹ (x - μ)), by Cholesky
    (``x`` may hold points in its leading axes). ``allow_singular=True`` uses SciPy's
    pseudo-inverse form: the eigenvalues of Σ above 10⁶·ε·max|λ| count, with rank r in
    place of k and the pseudo-determinant in place of det Σ."""

    @staticmethod
    def logpdf(x, mean=None, cov=1.0, allow_singular=False):
        d = x if mean is None else x - mean
        k = d.shape[-1] if hasattr(d, "shape") and len(d.shape) else 1
        cov = cov * np.eye(k) if np.ndim(concrete(cov)) == 0 else cov
        points = ns.reshape(d, (-1, k))
        outside = None
        if allow_singular:
            maha, logdet, k, outside = _pseudo_mahalanobis(points, cov)
        else:
            chol = linalg.cholesky(cov)
            z = linalg.solve(chol, ns.transpose(points, (1, 0)))
            maha = ns.sum(z * z, axis=0)
            logdet = 2.0 * ns.sum(ew.log(asm.diagonal(chol)))
        r = -0.5 * (k * math.log(2.0 * math.pi) + logdet + maha)
        if outside is not None and outside.any():
            r = ew.where_p(outside, -np.inf, r)
        lead = tuple(d.shape[:-1]) if hasattr(d, "shape") else ()
        return ns.reshape(r, lead)

    @staticmethod
    def entropy(mean=None, cov=1.0):
        """½·k·(1 + ln 2π) + ½·ln det Σ (``mean`` does not enter)."""
        k = int(np.shape(concrete(cov))[-1]) if np.ndim(concrete(cov)) else 1
        if np.ndim(concrete(cov)) == 0:
            return 0.5 * k * (1.0 + math.log(2.0 * math.pi)) + 0.5 * ew.log(cov)
        _, logdet = linalg.slogdet(cov)
        return 0.5 * k * (1.0 + math.log(2.0 * math.pi)) + 0.5 * logdet


def _pseudo_mahalanobis(points, cov):
    """(Σ_j ((x - μ)·u_j)²/λ_j per point, Σ_j ln λ_j, r, outside) over the r eigenpairs
    (λ_j, u_j) of Σ with λ_j above SciPy's cut-off 10⁶·ε·max|λ|; ``outside`` marks the
    points with a component of that size in the null space (density 0 there)."""
    lam, vecs = linalg.eigh(cov)
    lam_c = np.asarray(concrete(lam))
    cut = 1e6 * np.finfo(float).eps * np.max(np.abs(lam_c))
    keep, null = np.flatnonzero(lam_c > cut), np.flatnonzero(lam_c <= cut)
    lam_k = asm.take(lam, keep, axis=0)
    proj = points @ asm.take(vecs, keep, axis=1)
    maha = ns.sum(proj * proj / lam_k, axis=-1)
    off = np.asarray(concrete(points)) @ np.asarray(concrete(vecs))[:, null]
    outside = np.linalg.norm(off, axis=-1) > cut
    return maha, ns.sum(ew.log(lam_k)), len(keep), outside


@_with_pdf
class dirichlet:
    """Dirichlet(α) on the simplex: Σ(α_i - 1) ln x_i + ln Γ(Σα) - Σ ln Γ(α_i)."""

    @staticmethod
    def logpdf(x, alpha):
        return (ns.sum((alpha - 1.0) * ew.log(x), axis=-1) + special.gammaln(ns.sum(alpha))
                - ns.sum(special.gammaln(alpha)))

    @staticmethod
    def rvs(alpha, size=1, random_state=None):
        """Samples (``size`` rows) as SciPy draws them: from ``random_state`` (a Generator,
        a RandomState or a seed), NumPy's global generator when None. Not differentiable:
        the values are plain arrays."""
        if random_state is None:
            source = np.random
        elif hasattr(random_state, "dirichlet"):
            source = random_state
        else:
            source = np.random.RandomState(random_state)
        return source.dirichlet(np.asarray(concrete(alpha)), size)


# ``import chainrule.scipy.stats.norm as norm`` (JAX's and autograd's module layout) gives
# the same object as ``chainrule.scipy.stats.norm``: each distribution is registered under
# its dotted name.
for _name in __all__:
    sys.modules.setdefault(f"{__name__}.{_name}", globals()[_name])
del _name
