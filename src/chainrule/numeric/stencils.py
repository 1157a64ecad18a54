"""Finite-difference weights for any derivative order on any set of offsets.

The weights ``w`` of a stencil with offsets ``s_0, ..., s_{m-1}`` (in units of the step
``h``) approximate the ``d``-th derivative as::

    f^(d)(x) ~= sum_k w_k f(x + s_k h) / h^d

They are the solution of the Taylor (Vandermonde) system ``sum_k w_k s_k^j = d! [j == d]``
for ``j = 0, ..., m-1``: the combination reproduces the ``d``-th Taylor coefficient and
cancels every other one up to degree ``m-1``. We solve it in exact rational arithmetic
(:class:`fractions.Fraction`), so the weights are exact for any order (no ill-conditioned
floating-point Vandermonde solve), exact zeros are dropped (the centre of a first-derivative
central stencil costs no function evaluation) and the results are cached.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from math import factorial

import numpy as np

__all__ = ["Stencil", "fd_weights", "stencil", "central_offsets", "one_sided_offsets"]


def _solve_exact(matrix: list[list[Fraction]], rhs: list[Fraction]) -> list[Fraction]:
    """Gauss-Jordan elimination over the rationals (the system is small and nonsingular)."""
    n = len(rhs)
    a = [row[:] + [b] for row, b in zip(matrix, rhs, strict=True)]
    for col in range(n):
        pivot = next(r for r in range(col, n) if a[r][col] != 0)
        a[col], a[pivot] = a[pivot], a[col]
        p = a[col][col]
        a[col] = [v / p for v in a[col]]
        for r in range(n):
            if r != col and a[r][col] != 0:
                factor = a[r][col]
                a[r] = [v - factor * w for v, w in zip(a[r], a[col], strict=True)]
    return [a[r][n] for r in range(n)]


@lru_cache(maxsize=256)
def fd_weights(offsets: tuple, order: int) -> tuple[Fraction, ...]:
    """Exact weights of the ``order``-th derivative on the given integer/rational offsets.

    Args:
        offsets: distinct offsets ``s_k`` (ints or Fractions), in units of the step.
        order: derivative order ``d``; needs ``len(offsets) > d``.

    Returns:
        The weights ``w_k`` as Fractions, so that ``sum w_k f(x + s_k h) / h^d`` is
        ``f^(d)(x) + O(h^(len(offsets) - d))`` (one order more for symmetric stencils).

    Example:
        >>> [str(w) for w in fd_weights((-1, 0, 1), 2)]
        ['1', '-2', '1']
        >>> [str(w) for w in fd_weights((-2, -1, 0, 1, 2), 1)]
        ['1/12', '-2/3', '0', '2/3', '-1/12']
    """
    s = [Fraction(o) for o in offsets]
    if len(set(s)) != len(s):
        raise ValueError(f"fd_weights: offsets must be distinct, got {offsets!r}")
    if len(s) <= order:
        raise ValueError(
            f"fd_weights: a derivative of order {order} needs at least {order + 1} offsets, "
            f"got {len(s)}"
        )
    m = len(s)
    vander = [[sk**j for sk in s] for j in range(m)]
    rhs = [Fraction(factorial(order)) if j == order else Fraction(0) for j in range(m)]
    return tuple(_solve_exact(vander, rhs))


def central_offsets(order: int, accuracy: int) -> tuple[int, ...]:
    """Offsets ``-m..m`` of the central stencil with truncation error ``O(h^accuracy)``.

    ``m = (order - 1) // 2 + accuracy // 2``: 3 points for the first and second
    derivatives at accuracy 2, 5 points for the third and fourth, and so on.
    """
    m = (order - 1) // 2 + accuracy // 2
    return tuple(range(-m, m + 1))


def one_sided_offsets(order: int, accuracy: int, sign: int = 1) -> tuple[int, ...]:
    """Offsets ``0, 1, ..., order + accuracy - 1`` (times ``sign``): a one-sided stencil
    with truncation error ``O(h^accuracy)``."""
    return tuple(sign * k for k in range(order + accuracy))


@dataclass(frozen=True)
class Stencil:
    """A finite-difference stencil: ``f^(d)(x) ~= sum w_k f(x + s_k h) / h^d``.

    Attributes:
        offsets: the offsets ``s_k`` with a nonzero weight (floats).
        weights: the matching weights ``w_k`` (floats, from exact rationals).
        order: the derivative order ``d``.
        accuracy: the truncation order ``p`` (error ``O(h^p)``).
        kind: ``"central"``, ``"forward"`` or ``"backward"``.
    """

    offsets: np.ndarray
    weights: np.ndarray
    order: int
    accuracy: int
    kind: str

    @property
    def npoints(self) -> int:
        """Number of function evaluations the stencil costs."""
        return len(self.offsets)

    @property
    def abs_weight_sum(self) -> float:
        """``sum |w_k|``: the factor by which the stencil amplifies rounding errors."""
        return float(np.sum(np.abs(self.weights)))


@lru_cache(maxsize=256)
def stencil(kind: str, order: int, accuracy: int) -> Stencil:
    """The stencil of a given kind, derivative order and truncation order.

    Args:
        kind: ``"central"`` (``accuracy`` must be even), ``"forward"`` or ``"backward"``.
        order: derivative order ``d >= 1``.
        accuracy: truncation order ``p >= 1``.

    Returns:
        A :class:`Stencil` with the zero-weight offsets removed.

    Example:
        >>> s = stencil("central", 1, 2)
        >>> s.offsets.tolist(), s.weights.tolist()
        ([-1.0, 1.0], [-0.5, 0.5])
        >>> stencil("forward", 1, 1).weights.tolist()
        [-1.0, 1.0]
    """
    if kind == "central":
        if accuracy < 2 or accuracy % 2:
            raise ValueError(
                f"stencil: a central stencil has an even accuracy order (2, 4, 6, ...), "
                f"got {accuracy}; pass stencil=2 or stencil=4, say"
            )
        offs = central_offsets(order, accuracy)
    elif kind in ("forward", "backward"):
        if accuracy < 1:
            raise ValueError(f"stencil: accuracy order must be >= 1, got {accuracy}")
        offs = one_sided_offsets(order, accuracy, 1 if kind == "forward" else -1)
    else:
        raise ValueError(
            f"stencil: kind must be 'central', 'forward' or 'backward', got {kind!r}"
        )
    w = fd_weights(offs, order)
    keep = [(o, wk) for o, wk in zip(offs, w, strict=True) if wk != 0]
    offsets = np.array([float(o) for o, _ in keep])
    weights = np.array([float(wk) for _, wk in keep])
    offsets.flags.writeable = False  # cached and shared: keep them immutable
    weights.flags.writeable = False
    return Stencil(
        offsets=offsets,
        weights=weights,
        order=order,
        accuracy=accuracy,
        kind=kind,
    )
