"""Richardson extrapolation of a step-dependent estimate, Ridders-style.

An estimate ``D(h) = D + c_1 h^e1 + c_2 h^e2 + ...`` evaluated at the geometric sequence
``h_i = h_0 / r^i`` is extrapolated in a Neville table::

    A[i][0] = D(h_i)
    A[i][j] = A[i][j-1] + (A[i][j-1] - A[i-1][j-1]) / (r^e_j - 1)

where column ``j`` has the terms ``h^e1 ... h^ej`` removed. For central differences
``e_j = 2j`` (only even powers appear). Each entry's error is estimated as in Ridders'
method (Numerical Recipes ``dfridr``) by its distance to the two entries it was built
from, plus a propagated bound on the round-off in the samples; the entry with the
smallest estimate is returned. The sequence stops early once the diagonal grows worse
than ``safe`` times the best estimate (round-off has taken over).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = ["RichardsonResult", "extrapolate", "richardson_table"]

RATIO = 2.0
NUM_STEPS = 8
SAFE = 2.0
ERROR_FACTOR = 1.0


@dataclass
class RichardsonResult:
    """Outcome of :func:`extrapolate` (arrays shaped like the estimate)."""

    value: np.ndarray
    error: np.ndarray
    step: np.ndarray
    table: list  # rows of the Neville table (each row a list of arrays)
    steps: list  # the h_i actually used


def richardson_table(samples: list, ratio: float, exponents: Callable[[int], float]) -> list:
    """The full Neville table of a list of estimates ``D(h_0), D(h_0/r), ...``.

    Example:
        >>> # D(h) = 1 + h^2: one step of extrapolation is exact
        >>> t = richardson_table([1 + 1.0**2, 1 + 0.5**2], 2.0, lambda j: 2 * j)
        >>> float(t[1][1])
        1.0
    """
    table: list = []
    for i, d in enumerate(samples):
        row = [np.asarray(d)]
        for j in range(1, i + 1):
            fac = ratio ** exponents(j) - 1.0
            row.append(row[j - 1] + (row[j - 1] - table[i - 1][j - 1]) / fac)
        table.append(row)
    return table


CONVERGED = 1e-8
"""Relative error below which the table may stop early when it starts to drift."""


def extrapolate(
    estimate: Callable[[float], tuple[np.ndarray, np.ndarray]],
    h0: float,
    *,
    exponents: Callable[[int], float] = lambda j: 2 * j,
    ratio: float = RATIO,
    num_steps: int = NUM_STEPS,
    safe: float = SAFE,
    min_steps: int = 3,
) -> RichardsonResult:
    """Richardson-extrapolate ``estimate(h)`` over ``h_i = h0 / ratio^i``.

    Args:
        estimate: ``h -> (D(h), roundoff(h))``, two arrays of the same shape: the
            estimate at step ``h`` and a bound on its round-off error.
        h0: the first (largest) step (a scale factor when ``estimate`` applies its own
            per-coordinate steps).
        exponents: ``j -> e_j``, the power of ``h`` removed by column ``j`` (``2j`` for
            central differences of accuracy 2, ``j`` for one-sided ones).
        ratio: ``r > 1``, the factor between successive steps.
        num_steps: the maximum number of steps (rows of the table).
        safe: stop when the diagonal's change exceeds ``safe`` times the best error.
        min_steps: rows always computed before stopping early.

    Returns:
        A :class:`RichardsonResult` with the best entry per element, its error estimate
        and its step.
    """
    h0 = float(h0)
    table: list = []
    rounding: list = []
    steps: list = []
    best = best_err = best_step = None
    for i in range(num_steps):
        h = h0 / ratio**i
        d, r = estimate(h)
        d = np.asarray(d)
        r = np.asarray(r, dtype=float)
        if not np.all(np.isfinite(d)):
            # the step left f's domain (or overflowed): restart the table below it
            table, rounding, steps = [], [], []
            continue
        steps.append(h)
        k = len(table)
        row, rrow = [d], [r]
        for j in range(1, k + 1):
            fac = ratio ** exponents(j) - 1.0
            row.append(row[j - 1] + (row[j - 1] - table[k - 1][j - 1]) / fac)
            rrow.append(rrow[j - 1] * (1.0 + 1.0 / fac) + rounding[k - 1][j - 1] / fac)
        table.append(row)
        rounding.append(rrow)
        if best is None:
            best = d.copy()
            best_err = np.full(d.shape, np.inf)
            best_step = np.full(d.shape, h)
        for j in range(1, k + 1):
            err = np.maximum(
                np.abs(row[j] - row[j - 1]), np.abs(row[j] - table[k - 1][j - 1])
            )
            err = ERROR_FACTOR * err + rrow[j]
            better = err < best_err
            if np.any(better):
                best = np.where(better, row[j], best)
                best_err = np.where(better, err, best_err)
                best_step = np.where(better, h, best_step)
        if k >= 1 and len(table) >= min_steps:
            drift = np.abs(row[k] - table[k - 1][k - 1])
            # stop early only in the round-off regime: the table has converged to a
            # small relative error and is now drifting; a large error means the steps
            # are still too long for f (e.g. cos(x²) at x = 5), so keep halving them
            converged = best_err <= CONVERGED * np.maximum(np.abs(best), 1.0)
            if np.all((drift >= safe * best_err) & converged):
                break
    if best is None:  # no step gave a finite estimate
        nan = np.full(np.shape(d), np.nan)
        return RichardsonResult(nan, np.full(nan.shape, np.inf), nan, [], [])
    if len(table) == 1:  # a single finite row: no extrapolation possible
        best_err = np.full(best.shape, np.inf)
    return RichardsonResult(best, best_err, best_step, table, steps)
