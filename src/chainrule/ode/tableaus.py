"""Butcher tableaus of the explicit Runge–Kutta methods and their dense output.

A method with ``s`` stages advances ``y' = f(t, y)`` by one step ``h``:

    k_i = f(t + c_i h, y + h Σ_{j<i} a_ij k_j),     y₁ = y + h Σ_i b_i k_i,

and, for the adaptive ones, estimates the local error as ``h Σ_i e_i k_i`` with
``e = b - b̂`` (``b̂`` the embedded lower-order weights). ``order`` is the order of ``y₁``;
the error estimate is of order ``order - 1`` (its exponent ``1/order`` drives the step
controller). ``fsal``: the last stage is ``f(t + h, y₁)``, reused as the next step's first.

Coefficients (facts from the literature, checked by ``tests/test_ode_solvers.py``: the
rows of ``a`` sum to ``c``, ``b`` and ``b̂`` sum to one, the observed orders):

* Euler (order 1) and the classical RK4 (order 4), fixed step.
* Dormand–Prince 5(4) (``dopri5``, the method of ``ode45``/``RK45``), with Shampine's
  midpoint weights for a quartic dense output (``y`` and ``f`` at both ends plus the
  midpoint, fitted exactly).
* Tsitouras 5(4) (``tsit5``, 2011), with its own quartic interpolation polynomials
  ``b_i(θ)`` (``y(t + θh) ≈ y + h Σ b_i(θ) k_i``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

__all__ = ["Tableau", "EULER", "RK4", "DOPRI5", "TSIT5", "EXPLICIT"]


@dataclass(frozen=True)
class Tableau:
    """An explicit Runge–Kutta method: ``c``, strictly lower ``a`` (rows), ``b``, error
    weights ``e`` (None: fixed step only), order, FSAL flag, and a dense-output rule."""

    name: str
    c: tuple
    a: tuple
    b: tuple
    order: int
    e: tuple | None = None
    fsal: bool = False
    # θ -> weights w_i(θ) with y(t+θh) ≈ y + h Σ w_i(θ) k_i (None: cubic Hermite)
    dense: Callable | None = field(default=None, compare=False)
    mid: tuple | None = None  # Shampine's midpoint weights (dopri5's quartic fit)

    @property
    def stages(self) -> int:
        return len(self.c)

    @property
    def adaptive(self) -> bool:
        return self.e is not None


EULER = Tableau("euler", (0.0,), ((),), (1.0,), order=1)

RK4 = Tableau(
    "rk4", (0.0, 0.5, 0.5, 1.0),
    ((), (0.5,), (0.0, 0.5), (0.0, 0.0, 1.0)),
    (1 / 6, 1 / 3, 1 / 3, 1 / 6), order=4)

_DP_B = (35 / 384, 0.0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84, 0.0)
_DP_BHAT = (5179 / 57600, 0.0, 7571 / 16695, 393 / 640, -92097 / 339200, 187 / 2100, 1 / 40)

DOPRI5 = Tableau(
    "dopri5", (0.0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1.0, 1.0),
    ((), (1 / 5,), (3 / 40, 9 / 40), (44 / 45, -56 / 15, 32 / 9),
     (19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729),
     (9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656),
     _DP_B[:6]),
    _DP_B, order=5, e=tuple(b - bh for b, bh in zip(_DP_B, _DP_BHAT)), fsal=True,
    mid=(6025192743 / 30085553152 / 2, 0.0, 51252292925 / 65400821598 / 2,
         -2691868925 / 45128329728 / 2, 187940372067 / 1594534317056 / 2,
         -1776094331 / 19743644256 / 2, 11237099 / 235043384 / 2))

_TS_B = (0.09646076681806523, 0.01, 0.4798896504144996, 1.379008574103742,
         -3.290069515436081, 2.324710524099774, 0.0)


def _tsit5_dense(th: float) -> tuple:
    """Tsitouras' interpolation weights b_i(θ) (quartic in θ, b_i(1) = b_i)."""
    t2 = th * th
    return (
        -1.0530884977290216 * th * (th - 1.3299890189751412)
        * (t2 - 1.4364028541716351 * th + 0.7139816917074209),
        0.1017 * t2 * (t2 - 2.1966568338249754 * th + 1.2949852507374631),
        2.490627285651252793 * t2 * (t2 - 2.38535645472061657 * th + 1.57803468208092486),
        -16.54810288924490272 * (th - 1.21712927295533244) * (th - 0.61620406037800089) * t2,
        47.37952196281928122 * (th - 1.203071208372362603) * (th - 0.658047292653547382) * t2,
        -34.87065786149660974 * (th - 1.2) * (th - 0.666666666666666667) * t2,
        2.5 * (th - 1.0) * (th - 0.6) * t2,
    )


TSIT5 = Tableau(
    "tsit5", (0.0, 0.161, 0.327, 0.9, 0.9800255409045097, 1.0, 1.0),
    ((), (0.161,), (-0.008480655492356989, 0.335480655492357),
     (2.897153057105493, -6.359448489975075, 4.3622954328695815),
     (5.325864828439257, -11.748883564062828, 7.4955393428898365, -0.09249506636175525),
     (5.86145544294642, -12.92096931784711, 8.159367898576159, -0.071584973281401,
      -0.028269050394068383),
     _TS_B[:6]),
    _TS_B, order=5,
    e=(-0.00178001105222577714, -0.0008164344596567469, 0.007880878010261995,
       -0.1447110071732629, 0.5823571654525552, -0.45808210592918697, 0.015151515151515152),
    fsal=True, dense=_tsit5_dense)

EXPLICIT = {t.name: t for t in (EULER, RK4, DOPRI5, TSIT5)}


def quartic_fit_matrix() -> np.ndarray:
    """Rows giving the θ², θ³, θ⁴ coefficients of the quartic p with p(0) = y₀,
    p'(0) = h f₀, p(1) = y₁, p'(1) = h f₁, p(½) = y_mid, as combinations of
    (y₁ - y₀ - h f₀, h f₁ - h f₀, y_mid - y₀ - h f₀ / 2)."""
    # unknowns (c2, c3, c4): p(1): c2 + c3 + c4; p'(1) - p'(0): 2c2 + 3c3 + 4c4;
    # p(½): c2/4 + c3/8 + c4/16
    m = np.array([[1.0, 1.0, 1.0], [2.0, 3.0, 4.0], [0.25, 0.125, 0.0625]])
    return np.linalg.inv(m)


QUARTIC = quartic_fit_matrix()
