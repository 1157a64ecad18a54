"""What an optimiser returns: :class:`OptimizeResult` (SciPy's fields) and its
:class:`History` (one row per iteration).

>>> r = OptimizeResult(x=1.0, fun=2.0, success=True)
>>> r.fun, r["x"]
(2.0, 1.0)
"""

from __future__ import annotations

from typing import Any

import numpy as onp

__all__ = ["OptimizeResult", "History", "Status"]


class Status:
    """The ``status`` codes (as SciPy's where SciPy has the same idea)."""

    CONVERGED = 0
    MAXITER = 1
    PRECISION = 2
    NONFINITE = 3
    CALLBACK = 4


class OptimizeResult(dict):
    """The result of an optimisation, a dict whose keys are also attributes.

    Fields (SciPy's): ``x`` (shaped like ``x0``), ``fun``, ``jac`` (the gradient, shaped
    like ``x0``), ``hess_inv`` (BFGS's inverse-Hessian approximation, where there is one),
    ``hess`` (the last Hessian, for methods that form it), ``nit``, ``nfev``, ``njev``,
    ``nhev``, ``status`` (0 converged, 1 iteration or evaluation budget spent, 2 no
    further progress possible, 3 non-finite value, 4 stopped by the callback),
    ``success``, ``message`` (which stopping rule fired, with its numbers); plus
    ``method`` and ``history`` (:class:`History`).
    """

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"OptimizeResult has no field {name!r}; it has "
                                 f"{', '.join(sorted(self))}") from None

    __setattr__ = dict.__setitem__
    __delattr__ = dict.__delitem__

    def __repr__(self) -> str:
        keys = [k for k in ("message", "success", "status", "fun", "x", "nit", "nfev", "njev",
                            "nhev") if k in self]
        width = max(map(len, keys)) if keys else 0
        lines = []
        for k in keys:
            text = repr(self[k]).replace("\n", "\n" + " " * (width + 2))
            lines.append(f"{k.rjust(width)}: {text}")
        return "\n".join(lines)

    def __dir__(self) -> list[str]:
        return list(self.keys())


class History:
    """Per-iteration record: f, ‖g‖, step length, trust radius, time since the start.

    Each attribute is a list with one entry per iteration (entry 0 is the starting
    point); ``step`` and ``radius`` are NaN where a method has none.
    :meth:`as_arrays` gives them as NumPy arrays.
    """

    __slots__ = ("f", "gnorm", "step", "radius", "time")

    def __init__(self) -> None:
        self.f: list[float] = []
        self.gnorm: list[float] = []
        self.step: list[float] = []
        self.radius: list[float] = []
        self.time: list[float] = []

    def append(self, f: float, gnorm: float, step: float, radius: float, t: float) -> None:
        """Add one iteration's row."""
        self.f.append(f)
        self.gnorm.append(gnorm)
        self.step.append(step)
        self.radius.append(radius)
        self.time.append(t)

    def __len__(self) -> int:
        return len(self.f)

    def as_arrays(self) -> dict[str, onp.ndarray]:
        """The columns as float arrays."""
        return {k: onp.asarray(getattr(self, k), dtype=float) for k in self.__slots__}

    def __repr__(self) -> str:
        if not self.f:
            return "History(empty)"
        return (f"History({len(self)} rows: f {self.f[0]:.3e} -> {self.f[-1]:.3e}, "
                f"|g| {self.gnorm[0]:.2e} -> {self.gnorm[-1]:.2e})")
