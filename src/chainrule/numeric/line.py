"""Derivatives of f along one line ``t -> f(x + t e)``: the engine behind every function.

A scalar derivative is the line through ``x`` with ``e = 1``; a partial derivative the line
along a coordinate axis; a directional derivative (one Jacobian-vector product) the line
along ``v``. Every method works on such a line, so ``derivative``, ``gradient``,
``jacobian`` and ``directional`` share one implementation of each formula.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from . import richardson as _richardson
from ._checks import call_complex, to_output
from .stencils import Stencil, stencil
from .steps import EPS

__all__ = ["Evaluator", "Line", "LineEstimate", "line_derivative", "default_accuracy", "pow2_step"]

OMEGA = (1.0 + 1.0j) / np.sqrt(2.0)
"""exp(i pi/4): the direction of the complex steps of the second-derivative formula."""


class Evaluator:
    """Calls ``f`` near a point ``x``, counts the calls and remembers ``f(x)``."""

    def __init__(self, f: Callable, x, where: str = ""):
        self.f = f
        self.x = x  # a float (scalar derivative) or a float ndarray
        self.scalar = not isinstance(x, np.ndarray)
        self.where = where
        self.nfev = 0
        self._f0 = None

    def __call__(self, point) -> np.ndarray:
        self.nfev += 1
        if np.iscomplexobj(point):
            return call_complex(self.f, point, self.where)
        return to_output(self.f(point), self.where)

    def f0(self) -> np.ndarray:
        if self._f0 is None:
            self._f0 = self(np.float64(self.x) if self.scalar else self.x.copy())
        return self._f0


class Line:
    """``t -> f(x + t e)`` where ``e`` is 1 (scalar x), a coordinate axis or a vector."""

    def __init__(self, ev: Evaluator, axis: int | None = None, direction=None):
        self.ev = ev
        self.axis = axis
        self.direction = direction

    def point(self, t):
        x = self.ev.x
        if self.ev.scalar:
            # a Python complex: math.* then raises TypeError (np.complex128 would only warn)
            return complex(x + t) if isinstance(t, complex) else np.float64(x + t)
        if self.axis is not None:
            y = x.astype(complex if isinstance(t, complex) else float, copy=True)
            y.flat[self.axis] += t
            return y
        return x + t * self.direction

    def __call__(self, t) -> np.ndarray:
        if not isinstance(t, complex) and t == 0:
            return self.ev.f0()
        return self.ev(self.point(t))


@dataclass
class LineEstimate:
    value: np.ndarray
    error: np.ndarray | None
    step: float


def default_accuracy(method: str) -> int:
    return 1 if method in ("forward", "backward") else 2


def apply_stencil(line: Line, st: Stencil, h: float) -> tuple[np.ndarray, np.ndarray]:
    """``sum w_k phi(s_k h) / h^d`` and the bound ``eps sum |w_k phi(s_k h)| / h^d``."""
    total = 0.0
    size = 0.0
    for s, w in zip(st.offsets, st.weights, strict=True):
        y = line(float(s * h))
        total = total + w * y
        size = size + abs(w) * np.abs(y)
    scale = h**st.order
    return total / scale, EPS * size / scale


def complex_first(line: Line, h: float) -> tuple[np.ndarray, np.ndarray]:
    """``Im phi(ih) / h``: error ``O(h^2)`` and no subtraction, so ~eps relative.

    The round-off estimate is ``2 eps (|phi'| + |phi|)``: the imaginary part is computed
    as accurately as f itself, whose rounding follows the size of its intermediate
    values (``~|phi|``) when they cancel (e.g. a polynomial near a critical point).
    """
    y = line(complex(0.0, h))
    value = y.imag / h
    return value, 2 * EPS * (np.abs(value) + np.abs(y.real))


def complex_second(line: Line, h: float) -> tuple[np.ndarray, np.ndarray]:
    """``Im[phi(wh) + phi(-wh)] / h^2`` with ``w = exp(i pi/4)``: error ``O(h^4)``.

    Since ``w^2 = i`` and ``w^4 = -1``, the Taylor series gives
    ``phi(wh) + phi(-wh) = 2 phi + i h^2 phi'' - h^4 phi''''/12 - i h^6 phi^(6)/360 ...``
    whose imaginary part is ``h^2 phi''`` up to ``O(h^6)``. The two imaginary parts
    (each ``~ h |phi'|/sqrt 2``) cancel, so round-off is ``~ eps |phi'| / h``: at the
    default ``h ~ eps^(1/5)`` the error is ``~ eps^(4/5) ~ 1e-13`` relative, not eps.
    """
    a = complex(OMEGA * h)
    yp = line(a)
    ym = line(-a)
    value = (yp.imag + ym.imag) / h**2
    return value, EPS * (np.abs(yp.imag) + np.abs(ym.imag)) / h**2


def pow2_step(h: float) -> float:
    """The power of two nearest ``h``: with it ``x + h / 2^i`` stays exact far longer."""
    return float(2.0 ** np.round(np.log2(h)))


def line_derivative(
    line: Line,
    order: int,
    method: str,
    h: float,
    accuracy: int | None = None,
    want_error: bool = False,
) -> LineEstimate:
    """The ``order``-th derivative of ``line`` at ``t = 0`` by ``method`` with step ``h``.

    The error estimate (``want_error``) costs a second evaluation at step ``2h`` for the
    difference and complex-step formulas; Richardson gets it from its table for free.
    """
    if method == "richardson":
        p = accuracy or 2
        st = stencil("central", order, p)
        res = _richardson.extrapolate(
            lambda s: apply_stencil(line, st, s),
            h,
            exponents=lambda j: p + 2 * (j - 1),
        )
        return LineEstimate(res.value, res.error, float(np.max(res.step)))
    if method == "complex":
        if order == 1:
            value, rounding = complex_first(line, h)
            # truncation ~ h^2 |phi'''| / 6 is far below eps for h ~ 1e-20
            return LineEstimate(value, rounding if want_error else None, h)
        value, rounding = complex_second(line, h)
        p = 4
        coarse = complex_second(line, 2 * h)[0] if want_error else None
    else:
        p = accuracy or default_accuracy(method)
        st = stencil(method, order, p)
        value, rounding = apply_stencil(line, st, h)
        coarse = apply_stencil(line, st, 2 * h)[0] if want_error else None
    if not want_error:
        return LineEstimate(value, None, h)
    error = np.abs(value - coarse) / (2.0**p - 1.0) + rounding
    return LineEstimate(value, error, h)
