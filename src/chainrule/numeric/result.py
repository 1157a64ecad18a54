"""The result object returned with ``full_output=True``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["DerivativeResult"]


@dataclass(frozen=True)
class DerivativeResult:
    """A finite-difference derivative with its error estimate.

    Attributes:
        value: the derivative (a float, or an array shaped like f's output / like x).
        error: estimated absolute error, same shape as ``value``: truncation (from
            comparing two steps, or the Richardson table) plus a round-off bound.
        step: the step(s) used (for Richardson: the step of the best table entry).
        nfev: number of calls of f (or of ``grad``) made, the error estimate included.
        method: the method name.
    """

    value: Any
    error: Any
    step: Any
    nfev: int
    method: str

    def __repr__(self) -> str:
        def fmt(v):
            return np.array2string(np.asarray(v), precision=6) if np.ndim(v) else f"{v:.6g}"

        return (
            f"DerivativeResult(value={fmt(self.value)}, error={fmt(self.error)}, "
            f"step={fmt(self.step)}, nfev={self.nfev}, method={self.method!r})"
        )
