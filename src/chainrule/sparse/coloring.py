"""Greedy graph colourings that compress a sparse Jacobian or Hessian into few products.

* **Column colouring** (forward mode, distance-2 colouring of the bipartite graph):
  columns j and k conflict when some row has non-zeros in both. Columns of one
  colour c are structurally orthogonal, so ``B = J·V`` with ``V[:, c] = Σ_{col(j)=c}
  e_j`` holds every entry: ``J[i, j] = B[i, col(j)]``. One JVP per colour.
* **Row colouring** (reverse mode): the same on ``Jᵀ``; one VJP per colour.
* **Star colouring** (symmetric Hessians): a distance-1 colouring of the adjacency
  graph in which every path on four vertices uses at least three colours
  (Gebremedhin, Manne & Pothen, SIAM Review 2005, Algorithm 4.1). With
  ``B = H·V``, each off-diagonal ``H[i, j]`` is read directly either as
  ``B[i, col(j)]`` or, by symmetry, as ``B[j, col(i)]``. An arrowhead Hessian needs
  2 colours this way, where a column colouring needs n.

The colourings are greedy in a given vertex order; :func:`color_columns` tries the
natural and the largest-first orders and keeps the one with fewer colours.
"""

from __future__ import annotations

import numpy as np

from chainrule.sparse.pattern import Pattern, combine

__all__ = ["Coloring", "column_conflicts", "greedy_coloring", "color_columns", "color_rows",
           "star_coloring", "is_star_coloring"]


class Coloring:
    """A colouring: ``colors[v]`` in ``0 .. n_colors - 1``; ``kind`` names what was coloured."""

    __slots__ = ("colors", "n_colors", "kind")

    def __init__(self, colors: np.ndarray, kind: str) -> None:
        self.colors = np.asarray(colors, dtype=np.int64)
        self.n_colors = int(self.colors.max()) + 1 if self.colors.size else 0
        self.kind = kind

    def seeds(self) -> np.ndarray:
        """The seed matrix ``V`` (vertices × colours): ``V[v, colors[v]] = 1``."""
        v = np.zeros((self.colors.size, self.n_colors))
        v[np.arange(self.colors.size), self.colors] = 1.0
        return v

    def __repr__(self) -> str:
        return f"Coloring({self.kind}, {self.colors.size} vertices, {self.n_colors} colors)"


def column_conflicts(pattern: Pattern) -> Pattern:
    """The column-intersection graph: j ~ k when a row has non-zeros in both (``PᵀP``)."""
    n = pattern.shape[1]
    return combine(n, n, [(pattern, pattern.indices, pattern.rows())])


def _orders(adj: Pattern) -> list[np.ndarray]:
    n = adj.shape[0]
    degree = np.diff(adj.indptr)
    return [np.arange(n), np.argsort(-degree, kind="stable")]


def greedy_coloring(adj: Pattern, order: np.ndarray) -> np.ndarray:
    """Smallest colour not used by an already-coloured neighbour, vertex by vertex."""
    n = adj.shape[0]
    indptr, indices = adj.indptr.tolist(), adj.indices.tolist()
    colors = [-1] * n
    mark = [-1] * (max(np.diff(adj.indptr).max(initial=0), 0) + 2)
    for v in order.tolist():
        for w in indices[indptr[v]:indptr[v + 1]]:
            c = colors[w]
            if c >= 0:
                mark[c] = v
        c = 0
        while mark[c] == v:
            c += 1
        colors[v] = c
    return np.asarray(colors, dtype=np.int64)


def _best(pattern: Pattern, kind: str) -> Coloring:
    """Greedy colourings of the column-intersection graph; stop early at the lower bound
    (the most non-zeros in one row: those columns need distinct colours)."""
    adj = column_conflicts(pattern)
    bound = int(np.diff(pattern.indptr).max(initial=0))
    best = None
    for order in _orders(adj):
        col = Coloring(greedy_coloring(adj, order), kind)
        if best is None or col.n_colors < best.n_colors:
            best = col
        if best.n_colors <= bound:
            break
    return best


def color_columns(pattern) -> Coloring:
    """Structurally orthogonal column groups of a Jacobian pattern (forward mode)."""
    return _best(Pattern.from_any(pattern), "columns")


def color_rows(pattern) -> Coloring:
    """Structurally orthogonal row groups of a Jacobian pattern (reverse mode)."""
    return _best(Pattern.from_any(pattern).T, "rows")


def _adjacency(pattern: Pattern) -> list[list[int]]:
    """Neighbour lists of the symmetric pattern's graph (no self loops)."""
    sym = pattern.union(pattern.T)
    rows, cols = sym.rows(), sym.indices
    keep = rows != cols
    sym = Pattern.from_pairs(rows[keep], cols[keep], sym.shape)
    indptr, indices = sym.indptr.tolist(), sym.indices.tolist()
    return [indices[indptr[v]:indptr[v + 1]] for v in range(sym.shape[0])]


def star_coloring(pattern) -> Coloring:
    """A star colouring of a symmetric pattern (GMP 2005, Algorithm 4.1), natural and
    largest-first orders, the one with fewer colours kept."""
    pat = Pattern.from_any(pattern)
    if pat.shape[0] != pat.shape[1]:
        raise ValueError(f"star colouring needs a square (Hessian) pattern, got shape "
                         f"{pat.shape}; for a Jacobian use color_columns / color_rows")
    nbrs = _adjacency(pat)
    n = len(nbrs)
    degree = np.array([len(a) for a in nbrs], dtype=np.int64)
    best = None
    for order in (np.arange(n), np.argsort(-degree, kind="stable")):
        colors = [-1] * n
        dmax = int(degree.max(initial=0))
        forbidden = [-1] * (dmax * (dmax + 1) + 2)
        for v in order.tolist():
            for w in nbrs[v]:
                cw = colors[w]
                if cw >= 0:
                    forbidden[cw] = v
                for x in nbrs[w]:
                    cx = colors[x]
                    if x == v or cx < 0:
                        continue
                    if cw < 0:
                        forbidden[cx] = v
                    else:
                        for y in nbrs[x]:
                            if y != w and colors[y] == cw:
                                forbidden[cx] = v
                                break
            c = 0
            while c < len(forbidden) and forbidden[c] == v:
                c += 1
            colors[v] = c
        col = Coloring(np.asarray(colors), "star")
        if best is None or col.n_colors < best.n_colors:
            best = col
    return best


def is_star_coloring(pattern, coloring: Coloring) -> bool:
    """Distance-1 proper, and no path on four vertices is bicoloured."""
    nbrs = _adjacency(Pattern.from_any(pattern))
    c = coloring.colors
    for v, adj in enumerate(nbrs):
        if any(c[w] == c[v] for w in adj):
            return False
    for w, adj_w in enumerate(nbrs):  # path v - w - x - y with c[v] = c[x], c[w] = c[y]
        for x in adj_w:
            for v in adj_w:
                if v != x and c[v] == c[x]:
                    if any(y != w and c[y] == c[w] for y in nbrs[x]):
                        return False
    return True
