"""chainrule.scipy.stats: ``norm.logpdf``, ``norm.pdf``, ``norm.cdf``, ``norm.logcdf``."""

from __future__ import annotations

import math

from chainrule.numpy import _elementwise as ew
from chainrule.scipy.special import erfc

__all__ = ["norm"]

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
