"""A linearly implicit method for stiff problems: the Rosenbrock method of ``ode23s``.

Shampine and Reichelt's modified Rosenbrock (W-)method of order 2, L-stable, with a
third-order error estimate and a free dense output. With ``d = 1/(2 + √2)``,
``W = I - h d J`` (``J = ∂f/∂y`` at the step's start, by forward-mode AD) and
``T = h d ∂f/∂t``:

    k₁ = W⁻¹ (f(t, y) + T)
    k₂ = W⁻¹ (f(t + h/2, y + h k₁/2) - k₁) + k₁,       y₁ = y + h k₂
    k₃ = W⁻¹ (f(t + h, y₁) - (6 + √2)(k₂ - F₁) - 2 (k₁ - F₀) + T)
    error ≈ h (k₁ - 2 k₂ + k₃) / 6
    y(t + θh) ≈ y + h (θ(1 - θ) k₁ + θ(θ - 2d) k₂) / (1 - 2d)

No Newton iteration: three linear solves with one matrix per step, all differentiable,
so the direct gradient goes through them like through any other operation.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as onp

from chainrule.core.primitive import Tracer
from chainrule.numpy import _namespace as cnp
from chainrule.numpy import linalg as clinalg
from chainrule.transforms import jvp

__all__ = ["RosenbrockStep", "rosenbrock_step", "ROSENBROCK_ORDER"]

_D = 1.0 / (2.0 + math.sqrt(2.0))
_E32 = 6.0 + math.sqrt(2.0)
ROSENBROCK_ORDER = 3  # the order of the error estimate's exponent (err ~ h³)


class RosenbrockStep:
    """A taken Rosenbrock step (same interface as :class:`~chainrule.ode.explicit.ExplicitStep`)."""

    __slots__ = ("t", "y", "h", "k1", "k2", "y1", "err", "f1")

    def __init__(self, t, y, h, k1, k2, y1, err, f1):
        self.t, self.y, self.h, self.k1, self.k2 = t, y, h, k1, k2
        self.y1, self.err, self.f1 = y1, err, f1

    def next_f0(self) -> Any:
        return self.f1

    def interpolate(self, theta: float, rhs: Callable | None = None) -> Any:
        if theta == 1.0 and not isinstance(theta, Tracer):
            return self.y1
        w1 = theta * (1.0 - theta) / (1.0 - 2.0 * _D)
        w2 = theta * (theta - 2.0 * _D) / (1.0 - 2.0 * _D)
        return self.y + self.h * (w1 * self.k1 + w2 * self.k2)


def jacobian_columns(f: Callable, y: Any, n: int) -> Any:
    """∂f/∂y by forward mode, one JVP per column (no batching, so it nests under every
    transformation, including the direct gradient's tracers)."""
    eye = onp.eye(n)
    cols = [jvp(f, (y,), (eye[i],))[1] for i in range(n)]
    if any(isinstance(c, Tracer) for c in cols):
        return cnp.stack(cols, axis=1)
    return onp.stack(cols, axis=1)


def rosenbrock_step(rhs: Callable, t: float, y: Any, h: float, f0: Any = None,
                    jacobian: Callable | None = None) -> RosenbrockStep:
    """One step of the ``ode23s`` Rosenbrock method (see the module docstring).

    ``jacobian(t, y) -> (∂f/∂y, ∂f/∂t)`` when the caller knows them (the adjoint's linear
    system); else both come from forward-mode AD of ``rhs``.
    """
    n = int(onp.shape(y)[0])
    if jacobian is not None:
        jac, dfdt = jacobian(t, y)
    else:
        jac = jacobian_columns(lambda v: rhs(t, v), y, n)
        dfdt = jvp(lambda s: rhs(s, y), (t,), (1.0,))[1]
    w = onp.eye(n) - (h * _D) * jac
    f0 = rhs(t, y) if f0 is None else f0
    tt = (h * _D) * dfdt
    k1 = clinalg.solve(w, f0 + tt)
    f_half = rhs(t + 0.5 * h, y + (0.5 * h) * k1)
    k2 = clinalg.solve(w, f_half - k1) + k1
    y1 = y + h * k2
    f1 = rhs(t + h, y1)
    k3 = clinalg.solve(w, f1 - _E32 * (k2 - f_half) - 2.0 * (k1 - f0) + tt)
    err = (h / 6.0) * (k1 - 2.0 * k2 + k3)
    return RosenbrockStep(t, y, h, k1, k2, y1, err, f1)
