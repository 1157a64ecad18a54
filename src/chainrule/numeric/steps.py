"""Step-size selection: balance truncation error against round-off.

A difference formula of truncation order ``p`` for the ``d``-th derivative has error::

    |error| ~= C_t h^p  +  C_r eps / h^d
              (Taylor)     (round-off: f known to ~eps, divided by h^d)

which is smallest at ``h* ~ (eps)^(1/(p+d))`` times the scale on which f varies, giving
an error ``~ eps^(p/(p+d))``. Without knowing that scale we take ``max(1, |x|)``:
relative steps for large ``|x|`` (so ``x + h != x``), absolute ones near zero.

=============================  ==============================  ====================
formula                        default step                    typical error
=============================  ==============================  ====================
forward/backward, d=1, p=1     eps^(1/2) max(1,|x|) ~ 1.5e-8   ~ 1e-8
central, d=1, p=2              eps^(1/3) max(1,|x|) ~ 6.1e-6   ~ 1e-11
central, d=1, p=4              eps^(1/5) max(1,|x|) ~ 7.4e-4   ~ 1e-13
central, d=2, p=2              eps^(1/4) max(1,|x|) ~ 1.2e-4   ~ 1e-8
complex step, d=1              1e-20 max(1,|x|)                ~ eps (no cancellation)
complex (45 degree), d=2       eps^(1/5) max(1,|x|)            ~ 1e-12
Richardson (initial step)      2^(d-4) max(1,|x|)              ~ 1e-14 (d=1)
=============================  ==============================  ====================
"""

from __future__ import annotations

import numpy as np

__all__ = ["EPS", "optimal_step", "default_step", "representable_step", "COMPLEX_STEP"]

EPS = float(np.finfo(float).eps)
COMPLEX_STEP = 1e-20
"""Relative complex step: any value far below sqrt(eps) gives the same (exact-to-eps)
first derivative, since Im f(x + ih) / h has no subtraction."""
RICHARDSON_STEP = 0.125
"""Relative initial step of the Richardson sequence for f' (doubled per extra order):
large, since the table removes the truncation error; the sequence halves it at most 7
times. Tuned on a randomized set (exp, sin cos, polynomials, log, sqrt, tanh, rational):
larger first steps leave the disc where the Taylor series converges and break the
error estimate; smaller ones let round-off dominate."""


def optimal_step(accuracy: int, order: int, x=0.0) -> np.ndarray | float:
    """``eps^(1/(accuracy + order)) * max(1, |x|)``, elementwise for array ``x``.

    Args:
        accuracy: truncation order ``p`` of the formula (error ``O(h^p)``).
        order: derivative order ``d`` (round-off grows like ``eps / h^d``).
        x: the point (scalar or array); the step is relative for ``|x| > 1``.

    Returns:
        The step, a float for scalar ``x`` and an array otherwise.

    Example:
        >>> round(optimal_step(2, 1, 0.0), 9)  # central, first derivative
        6.055e-06
        >>> optimal_step(1, 1, 100.0) == EPS ** 0.5 * 100
        True
    """
    h = EPS ** (1.0 / (accuracy + order)) * np.maximum(1.0, np.abs(x))
    return float(h) if np.ndim(h) == 0 else h


def default_step(method: str, order: int, accuracy: int, x=0.0) -> np.ndarray | float:
    """The step ``step=None`` means for a method (see the module table)."""
    if method == "complex":
        if order == 1:
            scale = COMPLEX_STEP * np.maximum(1.0, np.abs(x))
            return float(scale) if np.ndim(scale) == 0 else scale
        return optimal_step(4, 1, x)  # 45-degree formula: O(h^4), round-off ~ eps / h
    if method == "richardson":
        # higher derivatives amplify round-off by 1/h^d: start them at larger steps
        h = RICHARDSON_STEP * 2.0 ** (order - 1) * np.maximum(1.0, np.abs(x))
        return float(h) if np.ndim(h) == 0 else h
    return optimal_step(accuracy, order, x)


def representable_step(x, h):
    """Adjust ``h`` so that ``x + h`` is exact in floating point: ``h <- (x + h) - x``.

    The difference quotient divides by ``h`` but f sees ``fl(x + h)``; making them agree
    removes an error of relative size ``eps |x| / h`` (Press et al., Numerical Recipes).
    """
    x = np.asarray(x, dtype=float)
    h = np.asarray(h, dtype=float)
    adjusted = (x + h) - x
    adjusted = np.where(adjusted > 0, adjusted, h)  # never collapse a step to zero
    return float(adjusted) if adjusted.ndim == 0 else adjusted
