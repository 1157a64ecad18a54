"""Recovering the non-zeros of a sparse matrix from its compressed products.

Given a pattern and a colouring (:mod:`chainrule.sparse.coloring`) and the
compressed matrix computed with the colouring's seeds, every structural non-zero is
read off directly (no linear solves):

* columns: ``B = J·V`` (m × p), ``J[i, j] = B[i, col(j)]``;
* rows: ``C = Wᵀ·J`` (p × n), ``J[i, j] = C[col(i), j]``;
* star: ``B = H·V`` (n × p); ``H[i, j] = B[i, col(j)]`` when j is the only non-zero
  of row i with its colour, else ``B[j, col(i)]`` (the star property guarantees one of
  the two).

The result is a ``scipy.sparse.csr_matrix`` when SciPy is installed, else a dense
NumPy array (:func:`assemble`).
"""

from __future__ import annotations

import numpy as np

from chainrule.sparse.coloring import Coloring
from chainrule.sparse.pattern import Pattern

__all__ = ["recover_columns", "recover_rows", "recover_star", "assemble", "have_scipy"]


def recover_columns(pattern: Pattern, coloring: Coloring, b: np.ndarray) -> np.ndarray:
    """The values at the pattern's entries (CSR order) from ``B = J·V`` (m × colours)."""
    return np.asarray(b)[pattern.rows(), coloring.colors[pattern.indices]]


def recover_rows(pattern: Pattern, coloring: Coloring, c: np.ndarray) -> np.ndarray:
    """The values at the pattern's entries (CSR order) from ``C = Wᵀ·J`` (colours × n)."""
    return np.asarray(c)[coloring.colors[pattern.rows()], pattern.indices]


def recover_star(pattern: Pattern, coloring: Coloring, b: np.ndarray) -> np.ndarray:
    """The values at a symmetric pattern's entries from ``B = H·V`` (n × colours)."""
    b = np.asarray(b)
    rows, cols, col = pattern.rows(), pattern.indices, coloring.colors
    p = max(coloring.n_colors, 1)
    counts = np.bincount(rows * p + col[cols], minlength=pattern.shape[0] * p)
    direct = counts[rows * p + col[cols]] == 1
    other = counts[cols * p + col[rows]] == 1
    if not np.all(direct | other):
        i, j = rows[~(direct | other)][0], cols[~(direct | other)][0]
        raise ValueError(
            f"hessian(sparsity=...): entry ({i}, {j}) cannot be recovered from this colouring "
            "(it is not a star colouring of a symmetric pattern); pass a symmetric pattern, "
            "e.g. chainrule.sparsity(f, x, hessian=True)")
    return np.where(direct, b[rows, col[cols]], b[cols, col[rows]])


def have_scipy() -> bool:
    try:
        import scipy.sparse  # noqa: F401
    except ImportError:
        return False
    return True


def assemble(pattern: Pattern, values: np.ndarray, dense: bool | None = None):
    """The matrix with ``values`` at the pattern's entries: SciPy CSR, or dense NumPy
    (``dense=True``, or when SciPy is not installed)."""
    if dense is None:
        dense = not have_scipy()
    if dense:
        out = np.zeros(pattern.shape, dtype=np.result_type(values, np.float64))
        out[pattern.rows(), pattern.indices] = values
        return out
    import scipy.sparse as sp

    return sp.csr_matrix((np.asarray(values), pattern.indices.copy(), pattern.indptr.copy()),
                         shape=pattern.shape)
