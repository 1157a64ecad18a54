"""One step of an explicit Runge–Kutta method, and its dense output.

Written with Python's arithmetic operators only, so the same code advances plain NumPy
vectors (the value solve that chooses the steps) and chainrule tracers (the direct
gradient, which differentiates the accepted steps, nested to any order).
"""

from __future__ import annotations

from typing import Any, Callable

from chainrule.core.primitive import Tracer
from chainrule.ode.tableaus import QUARTIC, Tableau

__all__ = ["ExplicitStep", "rk_step", "interpolate"]


def _combine(weights: tuple, ks: list, scale: Any = 1.0) -> Any:
    """Σ (scale·w_i) k_i over the non-zero weights (scale a number, not an array)."""
    total = None
    for w, k in zip(weights, ks):
        if w != 0.0:
            term = (scale * w) * k
            total = term if total is None else total + term
    return total


class ExplicitStep:
    """A taken step: start ``t, y``, size ``h``, stages ``ks``, end ``y1``, error estimate."""

    __slots__ = ("tab", "t", "y", "h", "ks", "y1", "err", "f1")

    def __init__(self, tab, t, y, h, ks, y1, err, f1):
        self.tab, self.t, self.y, self.h, self.ks = tab, t, y, h, ks
        self.y1, self.err, self.f1 = y1, err, f1

    def next_f0(self) -> Any:
        """f at the end of the step when the method has it for free (FSAL), else None."""
        return self.f1

    def interpolate(self, theta: float, rhs: Callable | None = None) -> Any:
        """y(t + θh) from the step's stages (θ ∈ [0, 1])."""
        return interpolate(self, theta, rhs)


def rk_step(rhs: Callable, tab: Tableau, t: float, y: Any, h: float,
            f0: Any = None) -> ExplicitStep:
    """Advance ``y' = rhs(t, y)`` from ``(t, y)`` by ``h`` with tableau ``tab``.

    Args:
        rhs: ``(t, y) -> y'`` on flat vectors.
        tab: the method.
        t, y, h: start time, state, step (negative to go backwards).
        f0: ``rhs(t, y)`` when already known (the previous step's last stage).

    Returns:
        The step, with ``y1``, the error estimate ``h Σ e_i k_i`` (None for fixed-step
        methods) and, for FSAL methods, ``f(t + h, y1)``.
    """
    def increment(weights):  # h Σ w_i k_i; a number h folds into the weights (fewer ops)
        if isinstance(h, Tracer):  # (Σ w_i k_i)·h: a LeafVector multiplies leaf by leaf
            return _combine(weights, ks) * h
        return _combine(weights, ks, h)

    ks = [rhs(t, y) if f0 is None else f0]
    y1 = None
    for i in range(1, tab.stages):
        yi = y + increment(tab.a[i])
        if tab.fsal and i == tab.stages - 1:
            y1 = yi
        ks.append(rhs(t + tab.c[i] * h, yi))
    if y1 is None:
        y1 = y + increment(tab.b)
    err = increment(tab.e) if tab.e is not None else None
    return ExplicitStep(tab, t, y, h, ks, y1, err, ks[-1] if tab.fsal else None)


def interpolate(step: ExplicitStep, theta: float, rhs: Callable | None = None) -> Any:
    """Dense output inside a step.

    ``tsit5``: its own weights ``b_i(θ)``; ``dopri5``: the quartic through
    ``y, y1, h f(y), h f(y1)`` and Shampine's fifth-order midpoint value; ``euler``: the
    straight line (what an Euler step is); ``rk4``: the cubic Hermite polynomial through
    ``y, y1`` and their slopes (``rhs`` needed for the slope at the end).
    """
    if not isinstance(theta, Tracer):  # a traced θ takes the polynomial (its derivative)
        if theta == 0.0:
            return step.y
        if theta == 1.0:
            return step.y1
    tab, y, h, ks = step.tab, step.y, step.h, step.ks
    if tab.dense is not None:
        return y + h * _combine(tab.dense(theta), ks)
    if tab.mid is not None:
        hf0 = h * ks[0]
        d1 = step.y1 - y - hf0
        d2 = h * ks[-1] - hf0
        d3 = h * _combine(tab.mid, ks) - 0.5 * hf0
        powers = (theta ** 2, theta ** 3, theta ** 4)
        w = [sum(QUARTIC[j, col] * powers[j] for j in range(3)) for col in range(3)]
        return y + theta * hf0 + w[0] * d1 + w[1] * d2 + w[2] * d3
    if tab.order == 1:
        return y + theta * (step.y1 - y)
    if rhs is None:
        raise ValueError(f"dense output of {tab.name} needs rhs for the end slope")
    f1 = step.f1 if step.f1 is not None else rhs(step.t + h, step.y1)
    return hermite(y, step.y1, h * ks[0], h * f1, theta)


def hermite(y0: Any, y1: Any, hf0: Any, hf1: Any, theta: float) -> Any:
    """The cubic with values y0, y1 and derivatives (per unit θ) hf0, hf1 at θ = 0, 1."""
    t2, t3 = theta * theta, theta ** 3
    return ((2 * t3 - 3 * t2 + 1) * y0 + (t3 - 2 * t2 + theta) * hf0
            + (-2 * t3 + 3 * t2) * y1 + (t3 - t2) * hf1)
