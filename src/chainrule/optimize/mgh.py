"""The Moré–Garbow–Hillstrom unconstrained test problems (ACM TOMS 7(1), 1981), written
from the paper's definitions as residual vectors r(x); the objective is f = Σ rᵢ².

Each :class:`Problem` carries its number in the paper, the dimensions used here, the
standard starting point and the minimum values the paper reports (some problems have
several local minima; every listed value counts as solved). The residuals are written
with :mod:`chainrule.numpy` and without branching on values, so chainrule
differentiates them (and :func:`chainrule.jit` compiles them).

>>> p = PROBLEMS["rosenbrock"]
>>> p.number, p.n, round(float(p.f(p.start())), 10)
(1, 2, 24.2)
>>> len(PROBLEMS) >= 25
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as onp

import chainrule.numpy as np

__all__ = ["Problem", "PROBLEMS", "extended_rosenbrock"]


@dataclass(frozen=True)
class Problem:
    """One test problem.

    Attributes:
        number: its number in Moré, Garbow & Hillstrom (1981).
        name: a short name.
        n: the number of unknowns.
        m: the number of residuals.
        x0: the standard starting point.
        f_star: the published minimum value(s) of f = Σ rᵢ².
        residuals: x ↦ r(x) (length m).
    """

    number: int
    name: str
    n: int
    m: int
    x0: tuple
    f_star: tuple
    residuals: Callable

    def f(self, x):
        """f(x) = Σ rᵢ(x)²."""
        r = self.residuals(x)
        return np.sum(r * r)

    def start(self) -> onp.ndarray:
        """The standard starting point as a float array."""
        return onp.array(self.x0, dtype=float)

    def solved(self, f: float, rtol: float = 1e-5) -> bool:
        """Whether f is within rtol·max(1, |f*|) of a published minimum."""
        return any(abs(f - s) <= rtol * max(1.0, abs(s)) for s in self.f_star)


def _stack(*rows):
    return np.stack(rows)


def rosenbrock(x):
    return _stack(10.0 * (x[1] - x[0] ** 2), 1.0 - x[0])


def freudenstein_roth(x):
    return _stack(-13.0 + x[0] + ((5.0 - x[1]) * x[1] - 2.0) * x[1],
                  -29.0 + x[0] + ((x[1] + 1.0) * x[1] - 14.0) * x[1])


def powell_badly_scaled(x):
    return _stack(1e4 * x[0] * x[1] - 1.0, np.exp(-x[0]) + np.exp(-x[1]) - 1.0001)


def brown_badly_scaled(x):
    return _stack(x[0] - 1e6, x[1] - 2e-6, x[0] * x[1] - 2.0)


_I3 = onp.arange(1.0, 4.0)


def beale(x):
    return onp.array([1.5, 2.25, 2.625]) - x[0] * (1.0 - x[1] ** _I3)


_I10 = onp.arange(1.0, 11.0)


def jennrich_sampson(x):
    return 2.0 + 2.0 * _I10 - (np.exp(_I10 * x[0]) + np.exp(_I10 * x[1]))


def helical_valley(x):
    theta = np.arctan2(x[1], x[0]) / (2.0 * np.pi)
    theta = theta + np.where(theta < 0.0, 1.0, 0.0)  # the paper's branch of arctan, in [0, 1)
    return _stack(10.0 * (x[2] - 10.0 * theta), 10.0 * (np.sqrt(x[0] ** 2 + x[1] ** 2) - 1.0),
                  x[2])


_BARD_Y = onp.array([0.14, 0.18, 0.22, 0.25, 0.29, 0.32, 0.35, 0.39, 0.37, 0.58, 0.73, 0.96,
                     1.34, 2.10, 4.39])
_U15 = onp.arange(1.0, 16.0)
_V15 = 16.0 - _U15
_W15 = onp.minimum(_U15, _V15)


def bard(x):
    return _BARD_Y - (x[0] + _U15 / (_V15 * x[1] + _W15 * x[2]))


_GAUSS_Y = onp.array([0.0009, 0.0044, 0.0175, 0.0540, 0.1295, 0.2420, 0.3521, 0.3989, 0.3521,
                      0.2420, 0.1295, 0.0540, 0.0175, 0.0044, 0.0009])
_GAUSS_T = (8.0 - _U15) / 2.0


def gaussian(x):
    return x[0] * np.exp(-x[1] * (_GAUSS_T - x[2]) ** 2 / 2.0) - _GAUSS_Y


_MEYER_Y = onp.array([34780.0, 28610, 23650, 19630, 16370, 13720, 11540, 9744, 8261, 7030,
                      6005, 5147, 4427, 3820, 3307, 2872])
_MEYER_T = 45.0 + 5.0 * onp.arange(1.0, 17.0)


def meyer(x):
    return x[0] * np.exp(x[1] / (_MEYER_T + x[2])) - _MEYER_Y


_GULF_T = onp.arange(1.0, 100.0) / 100.0
_GULF_Y = 25.0 + (-50.0 * onp.log(_GULF_T)) ** (2.0 / 3.0)


def gulf(x):
    return np.exp(-np.abs(_GULF_Y - x[1]) ** x[2] / x[0]) - _GULF_T


_BOX_T = 0.1 * _I10


def box3(x):
    return (np.exp(-_BOX_T * x[0]) - np.exp(-_BOX_T * x[1])
            - x[2] * (onp.exp(-_BOX_T) - onp.exp(-10.0 * _BOX_T)))


def powell_singular(x):
    return _stack(x[0] + 10.0 * x[1], np.sqrt(5.0) * (x[2] - x[3]), (x[1] - 2.0 * x[2]) ** 2,
                  np.sqrt(10.0) * (x[0] - x[3]) ** 2)


def wood(x):
    return _stack(10.0 * (x[1] - x[0] ** 2), 1.0 - x[0], np.sqrt(90.0) * (x[3] - x[2] ** 2),
                  1.0 - x[2], np.sqrt(10.0) * (x[1] + x[3] - 2.0), (x[1] - x[3]) / np.sqrt(10.0))


_KO_Y = onp.array([0.1957, 0.1947, 0.1735, 0.1600, 0.0844, 0.0627, 0.0456, 0.0342, 0.0323,
                   0.0235, 0.0246])
_KO_U = onp.array([4.0, 2.0, 1.0, 0.5, 0.25, 0.167, 0.125, 0.1, 0.0833, 0.0714, 0.0625])


def kowalik_osborne(x):
    return _KO_Y - x[0] * (_KO_U ** 2 + _KO_U * x[1]) / (_KO_U ** 2 + _KO_U * x[2] + x[3])


_BD_T = onp.arange(1.0, 21.0) / 5.0


def brown_dennis(x):
    return ((x[0] + _BD_T * x[1] - onp.exp(_BD_T)) ** 2
            + (x[2] + x[3] * onp.sin(_BD_T) - onp.cos(_BD_T)) ** 2)


_OS1_Y = onp.array([0.844, 0.908, 0.932, 0.936, 0.925, 0.908, 0.881, 0.850, 0.818, 0.784,
                    0.751, 0.718, 0.685, 0.658, 0.628, 0.603, 0.580, 0.558, 0.538, 0.522,
                    0.506, 0.490, 0.478, 0.467, 0.457, 0.448, 0.438, 0.431, 0.424, 0.420,
                    0.414, 0.411, 0.406])
_OS1_T = 10.0 * onp.arange(33.0)


def osborne1(x):
    return _OS1_Y - (x[0] + x[1] * np.exp(-_OS1_T * x[3]) + x[2] * np.exp(-_OS1_T * x[4]))


_BIGGS_T = 0.1 * onp.arange(1.0, 14.0)
_BIGGS_Y = onp.exp(-_BIGGS_T) - 5.0 * onp.exp(-10.0 * _BIGGS_T) + 3.0 * onp.exp(-4.0 * _BIGGS_T)


def biggs_exp6(x):
    return (x[2] * np.exp(-_BIGGS_T * x[0]) - x[3] * np.exp(-_BIGGS_T * x[1])
            + x[5] * np.exp(-_BIGGS_T * x[4]) - _BIGGS_Y)


_OS2_Y = onp.array([
    1.366, 1.191, 1.112, 1.013, 0.991, 0.885, 0.831, 0.847, 0.786, 0.725, 0.746, 0.679,
    0.608, 0.655, 0.616, 0.606, 0.602, 0.626, 0.651, 0.724, 0.649, 0.649, 0.694, 0.644,
    0.624, 0.661, 0.612, 0.558, 0.533, 0.495, 0.500, 0.423, 0.395, 0.375, 0.372, 0.391,
    0.396, 0.405, 0.428, 0.429, 0.523, 0.562, 0.607, 0.653, 0.672, 0.708, 0.633, 0.668,
    0.645, 0.632, 0.591, 0.559, 0.597, 0.625, 0.739, 0.710, 0.729, 0.720, 0.636, 0.581,
    0.428, 0.292, 0.162, 0.098, 0.054])
_OS2_T = onp.arange(65.0) / 10.0


def osborne2(x):
    t = _OS2_T
    return _OS2_Y - (x[0] * np.exp(-t * x[4]) + x[1] * np.exp(-(t - x[8]) ** 2 * x[5])
                     + x[2] * np.exp(-(t - x[9]) ** 2 * x[6])
                     + x[3] * np.exp(-(t - x[10]) ** 2 * x[7]))


def watson(x):
    n = x.shape[0]
    t = onp.arange(1.0, 30.0) / 29.0
    j = onp.arange(n, dtype=float)
    powers = t[:, None] ** j[None, :]                              # t^(j-1), j = 1..n
    dpowers = onp.where(j > 0, j * t[:, None] ** onp.maximum(j - 1, 0), 0.0)
    r = dpowers @ x - (powers @ x) ** 2 - 1.0
    return np.concatenate([r, np.stack([x[0], x[1] - x[0] ** 2 - 1.0])])


def extended_rosenbrock(x):
    """MGH problem 21: r₂ᵢ₋₁ = 10(x₂ᵢ − x₂ᵢ₋₁²), r₂ᵢ = 1 − x₂ᵢ₋₁ (pairs are independent)."""
    a, b = x[0::2], x[1::2]
    return np.concatenate([10.0 * (b - a ** 2), 1.0 - a])


def extended_powell(x):
    a, b, c, d = x[0::4], x[1::4], x[2::4], x[3::4]
    return np.concatenate([a + 10.0 * b, np.sqrt(5.0) * (c - d), (b - 2.0 * c) ** 2,
                           np.sqrt(10.0) * (a - d) ** 2])


def penalty1(x):
    return np.concatenate([np.sqrt(1e-5) * (x - 1.0), np.stack([np.sum(x ** 2) - 0.25])])


def penalty2(x):
    n = x.shape[0]
    a = np.sqrt(1e-5)
    i = onp.arange(2.0, n + 1.0)
    y = onp.exp(i / 10.0) + onp.exp((i - 1.0) / 10.0)
    weights = onp.arange(n, 0.0, -1.0)
    return np.concatenate([
        np.stack([x[0] - 0.2]),
        a * (np.exp(x[1:] / 10.0) + np.exp(x[:-1] / 10.0) - y),
        a * (np.exp(x[1:] / 10.0) - onp.exp(-0.1)),
        np.stack([np.sum(weights * x ** 2) - 1.0])])


def variably_dimensioned(x):
    n = x.shape[0]
    s = np.sum(onp.arange(1.0, n + 1.0) * (x - 1.0))
    return np.concatenate([x - 1.0, np.stack([s, s ** 2])])


def trigonometric(x):
    n = x.shape[0]
    i = onp.arange(1.0, n + 1.0)
    return n - np.sum(np.cos(x)) + i * (1.0 - np.cos(x)) - np.sin(x)


def brown_almost_linear(x):
    n = x.shape[0]
    return np.concatenate([x[:-1] + np.sum(x) - (n + 1.0), np.stack([np.prod(x) - 1.0])])


def _boundary(x):
    n = x.shape[0]
    h = 1.0 / (n + 1.0)
    t = onp.arange(1.0, n + 1.0) * h
    return h, t


def discrete_boundary(x):
    h, t = _boundary(x)
    z = np.zeros(1)
    left = np.concatenate([z, x[:-1]])
    right = np.concatenate([x[1:], z])
    return 2.0 * x - left - right + h ** 2 * (x + t + 1.0) ** 3 / 2.0


def discrete_integral(x):
    h, t = _boundary(x)
    n = x.shape[0]
    c = (x + t + 1.0) ** 3
    lower = onp.tril(onp.ones((n, n)))                # j ≤ i
    upper = 1.0 - lower                               # j > i
    inner = (1.0 - t) * ((lower * t[None, :]) @ c) + t * ((upper * (1.0 - t)[None, :]) @ c)
    return x + h * inner / 2.0


def broyden_tridiagonal(x):
    z = np.zeros(1)
    left = np.concatenate([z, x[:-1]])
    right = np.concatenate([x[1:], z])
    return (3.0 - 2.0 * x) * x - left - 2.0 * right + 1.0


def broyden_banded(x):
    n = x.shape[0]
    i = onp.arange(n)[:, None]
    j = onp.arange(n)[None, :]
    band = ((j >= i - 5) & (j <= i + 1) & (j != i)).astype(float)
    return x * (2.0 + 5.0 * x ** 2) + 1.0 - band @ (x * (1.0 + x))


def linear_full_rank(x, m=20):
    n = x.shape[0]
    s = np.sum(x)
    return np.concatenate([x - 2.0 / m * s - 1.0, -2.0 / m * s - onp.ones(m - n)])


def linear_rank1(x, m=20):
    n = x.shape[0]
    s = np.sum(onp.arange(1.0, n + 1.0) * x)
    return onp.arange(1.0, m + 1.0) * s - 1.0


def linear_rank1_zero(x, m=20):
    n = x.shape[0]
    s = np.sum(onp.arange(2.0, n) * x[1:-1])
    i = onp.arange(1.0, m + 1.0)
    return np.where((i == 1) | (i == m), -1.0, (i - 1.0) * s - 1.0)


def chebyquad(x):
    n = x.shape[0]
    y = 2.0 * x - 1.0                                  # shifted Chebyshev on [0, 1]
    rows = [np.ones(n), y]
    for _ in range(2, n + 1):
        rows.append(2.0 * y * rows[-1] - rows[-2])
    means = np.stack([np.mean(rows[i]) for i in range(1, n + 1)])
    i = onp.arange(1.0, n + 1.0)
    integrals = onp.where(i % 2 == 0, -1.0 / onp.maximum(i * i - 1.0, 1.0), 0.0)
    return means - integrals


def _p(number, name, n, m, x0, f_star, residuals):
    return Problem(number, name, n, m, tuple(float(v) for v in x0), tuple(f_star), residuals)


_N = 10
_T = onp.arange(1.0, _N + 1.0) / (_N + 1.0)
_PROBLEM_LIST = [
    _p(1, "rosenbrock", 2, 2, (-1.2, 1.0), (0.0,), rosenbrock),
    _p(2, "freudenstein_roth", 2, 2, (0.5, -2.0), (0.0, 48.9842), freudenstein_roth),
    _p(3, "powell_badly_scaled", 2, 2, (0.0, 1.0), (0.0,), powell_badly_scaled),
    _p(4, "brown_badly_scaled", 2, 3, (1.0, 1.0), (0.0,), brown_badly_scaled),
    _p(5, "beale", 2, 3, (1.0, 1.0), (0.0,), beale),
    _p(6, "jennrich_sampson", 2, 10, (0.3, 0.4), (124.362,), jennrich_sampson),
    _p(7, "helical_valley", 3, 3, (-1.0, 0.0, 0.0), (0.0,), helical_valley),
    _p(8, "bard", 3, 15, (1.0, 1.0, 1.0), (8.21487e-3, 17.4286), bard),
    _p(9, "gaussian", 3, 15, (0.4, 1.0, 0.0), (1.12793e-8,), gaussian),
    _p(10, "meyer", 3, 16, (0.02, 4000.0, 250.0), (87.9458,), meyer),
    _p(11, "gulf", 3, 99, (5.0, 2.5, 0.15), (0.0,), gulf),
    _p(12, "box3", 3, 10, (0.0, 10.0, 20.0), (0.0,), box3),
    _p(13, "powell_singular", 4, 4, (3.0, -1.0, 0.0, 1.0), (0.0,), powell_singular),
    _p(14, "wood", 4, 6, (-3.0, -1.0, -3.0, -1.0), (0.0,), wood),
    _p(15, "kowalik_osborne", 4, 11, (0.25, 0.39, 0.415, 0.39), (3.07505e-4, 1.02734e-3),
       kowalik_osborne),
    _p(16, "brown_dennis", 4, 20, (25.0, 5.0, -5.0, -1.0), (85822.2,), brown_dennis),
    _p(17, "osborne1", 5, 33, (0.5, 1.5, -1.0, 0.01, 0.02), (5.46489e-5,), osborne1),
    _p(18, "biggs_exp6", 6, 13, (1.0, 2.0, 1.0, 1.0, 1.0, 1.0), (0.0, 5.65565e-3), biggs_exp6),
    _p(19, "osborne2", 11, 65, (1.3, 0.65, 0.65, 0.7, 0.6, 3.0, 5.0, 7.0, 2.0, 4.5, 5.5),
       (4.01377e-2,), osborne2),
    _p(20, "watson", 6, 31, onp.zeros(6), (2.28767e-3,), watson),
    _p(21, "extended_rosenbrock", _N, _N, onp.tile([-1.2, 1.0], _N // 2), (0.0,),
       extended_rosenbrock),
    _p(22, "extended_powell", 12, 12, onp.tile([3.0, -1.0, 0.0, 1.0], 3), (0.0,),
       extended_powell),
    _p(23, "penalty1", 4, 5, onp.arange(1.0, 5.0), (2.24997e-5,), penalty1),
    _p(24, "penalty2", 4, 8, onp.full(4, 0.5), (9.37629e-6,), penalty2),
    _p(25, "variably_dimensioned", _N, _N + 2, 1.0 - onp.arange(1.0, _N + 1.0) / _N, (0.0,),
       variably_dimensioned),
    _p(26, "trigonometric", _N, _N, onp.full(_N, 1.0 / _N), (0.0, 2.79506e-5), trigonometric),
    _p(27, "brown_almost_linear", _N, _N, onp.full(_N, 0.5), (0.0, 1.0), brown_almost_linear),
    _p(28, "discrete_boundary", _N, _N, _T * (_T - 1.0), (0.0,), discrete_boundary),
    _p(29, "discrete_integral", _N, _N, _T * (_T - 1.0), (0.0,), discrete_integral),
    _p(30, "broyden_tridiagonal", _N, _N, onp.full(_N, -1.0), (0.0,), broyden_tridiagonal),
    _p(31, "broyden_banded", _N, _N, onp.full(_N, -1.0), (0.0,), broyden_banded),
    _p(32, "linear_full_rank", _N, 20, onp.ones(_N), (10.0,), linear_full_rank),
    _p(33, "linear_rank1", _N, 20, onp.ones(_N), (20 * 19 / (2 * 41),), linear_rank1),
    _p(34, "linear_rank1_zero", _N, 20, onp.ones(_N), ((400 + 60 - 6) / (2 * 37),),
       linear_rank1_zero),
    _p(35, "chebyquad", 8, 8, onp.arange(1.0, 9.0) / 9.0, (3.51687e-3,), chebyquad),
]

PROBLEMS: dict[str, Problem] = {p.name: p for p in _PROBLEM_LIST}
