"""Structural sparsity by index-set propagation through a traced program.

Every variable ``v`` of the program gets, for each of its elements ``v_r``, the set
``S(v_r)`` of input elements it depends on: the structural non-zeros of row r of
``∂v/∂x``. Inputs start with ``S(x_j) = {j}``, constants with ``∅``, and each
equation ``y = op(a_1, ..., a_k)`` sets ``S(y_r) = ∪ S(a_i,s)`` over the pairs
``(r, s)`` where ``y_r`` structurally depends on ``a_i,s``, skipping arguments whose
derivative is zero (comparisons, ``stop_gradient``, ``where``'s condition). The
pairs come from the primitive's structure, never from numbers: elementwise ops pair
equal positions after broadcasting; ``reshape``/``transpose``/``broadcast_to``/
``getitem`` are gathers, found by running the op on an array of positions;
reductions pair each input with the output it reduces into; ``scatter_add``,
``concatenate``, ``cumsum`` and ``matmul`` (with the non-zeros of a constant
operand) have their own pairings; loops and branches run their sub-programs on index
sets (``scan`` unrolled step by step, ``while_loop`` to a fixed point, ``cond`` as
the union of both branches); any other primitive is treated as dense (every output
depends on every input element), which is always safe.

Index sets are stored as a compressed boolean row structure (:class:`Pattern`:
``indptr``/``indices`` as in CSR), and an equation is applied with one vectorised
gather-and-unique (:func:`combine`), so a program over 10⁵ elements propagates in
milliseconds per equation.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.ir.program import Lit

__all__ = ["Pattern", "combine", "propagate", "run", "vstack", "DENSE_LIMIT"]

#: the most index-set entries a dense (fallback) rule may create before giving up
DENSE_LIMIT = 50_000_000


class Pattern:
    """Index sets as boolean CSR: row r's columns are ``indices[indptr[r]:indptr[r+1]]``.

    Args:
        indptr: int64 array of length ``shape[0] + 1``.
        indices: int64 array of column indices, sorted within each row, no repeats.
        shape: (rows, columns).
    """

    __slots__ = ("indptr", "indices", "shape")

    def __init__(self, indptr: np.ndarray, indices: np.ndarray, shape: tuple[int, int]) -> None:
        self.indptr = np.asarray(indptr, dtype=np.int64)
        self.indices = np.asarray(indices, dtype=np.int64)
        self.shape = (int(shape[0]), int(shape[1]))

    @classmethod
    def empty(cls, n_rows: int, n_cols: int) -> "Pattern":
        return cls(np.zeros(n_rows + 1, np.int64), np.zeros(0, np.int64), (n_rows, n_cols))

    @classmethod
    def identity(cls, n: int) -> "Pattern":
        return cls(np.arange(n + 1), np.arange(n), (n, n))

    @classmethod
    def from_pairs(cls, rows: np.ndarray, cols: np.ndarray, shape: tuple) -> "Pattern":
        """The pattern with non-zeros at (rows[e], cols[e]) (repeats allowed)."""
        n_rows, n_cols = int(shape[0]), int(shape[1])
        key = _unique(np.asarray(rows, np.int64) * max(n_cols, 1) + np.asarray(cols, np.int64))
        r, c = np.divmod(key, max(n_cols, 1))
        indptr = np.zeros(n_rows + 1, np.int64)
        np.cumsum(np.bincount(r, minlength=n_rows), out=indptr[1:])
        return cls(indptr, c, (n_rows, n_cols))

    @classmethod
    def from_any(cls, obj: Any) -> "Pattern":
        """A :class:`Pattern` from a Pattern, a SciPy sparse matrix or a dense 0/1 matrix."""
        if isinstance(obj, Pattern):
            return obj
        if hasattr(obj, "tocoo"):
            coo = obj.tocoo()
            keep = coo.data != 0
            return cls.from_pairs(coo.row[keep], coo.col[keep], coo.shape)
        a = np.asarray(obj)
        if a.ndim != 2:
            raise ValueError(
                f"a sparsity pattern must be a 2-D matrix (rows: outputs, columns: inputs), "
                f"got an array of shape {a.shape}; use chainrule.sparsity(f, x) to detect one")
        r, c = np.nonzero(a)
        return cls.from_pairs(r, c, a.shape)

    @property
    def nnz(self) -> int:
        return int(self.indices.size)

    def rows(self) -> np.ndarray:
        """The row index of every stored entry (COO rows)."""
        return np.repeat(np.arange(self.shape[0]), np.diff(self.indptr))

    def transpose(self) -> "Pattern":
        return Pattern.from_pairs(self.indices, self.rows(), self.shape[::-1])

    @property
    def T(self) -> "Pattern":
        return self.transpose()

    def union(self, other: "Pattern") -> "Pattern":
        return Pattern.from_pairs(np.concatenate([self.rows(), other.rows()]),
                                  np.concatenate([self.indices, other.indices]), self.shape)

    def toarray(self) -> np.ndarray:
        out = np.zeros(self.shape, dtype=bool)
        out[self.rows(), self.indices] = True
        return out

    def to_scipy(self):
        import scipy.sparse as sp

        data = np.ones(self.nnz, dtype=bool)
        return sp.csr_matrix((data, self.indices, self.indptr), shape=self.shape)

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Pattern) and self.shape == other.shape
                and np.array_equal(self.indptr, other.indptr)
                and np.array_equal(self.indices, other.indices))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Pattern(shape={self.shape}, nnz={self.nnz})"


def _unique(keys: np.ndarray) -> np.ndarray:
    """Sorted distinct values (sort + compare: several times faster here than np.unique's
    hash path in NumPy 2)."""
    keys = np.sort(keys, kind="stable" if keys.size < 64 else None)
    if keys.size == 0:
        return keys
    keep = np.empty(keys.size, dtype=bool)
    keep[0] = True
    np.not_equal(keys[1:], keys[:-1], out=keep[1:])
    return keys[keep]


def combine(n_out: int, n_cols: int, contributions: list) -> Pattern:
    """``S(y_r) = ∪ S(a_s)`` over every pair ``(r, s)`` of every contribution.

    Args:
        n_out: the number of output rows.
        n_cols: the number of columns (input elements) of every pattern.
        contributions: ``(pattern, out_rows, in_rows)`` triples of equal-length
            integer arrays: output row ``out_rows[e]`` depends on ``pattern`` row
            ``in_rows[e]``.
    """
    keys = []
    for pat, out_rows, in_rows in contributions:
        out_rows = np.asarray(out_rows, np.int64).ravel()
        in_rows = np.asarray(in_rows, np.int64).ravel()
        lens = pat.indptr[in_rows + 1] - pat.indptr[in_rows]
        total = int(lens.sum())
        if total == 0:
            continue
        rep_out = np.repeat(out_rows, lens)
        starts = np.repeat(pat.indptr[in_rows] - (np.cumsum(lens) - lens), lens)
        cols = pat.indices[starts + np.arange(total)]
        keys.append(rep_out * max(n_cols, 1) + cols)
    if not keys:
        return Pattern.empty(n_out, n_cols)
    key = _unique(np.concatenate(keys))
    r, c = np.divmod(key, max(n_cols, 1))
    indptr = np.zeros(n_out + 1, np.int64)
    np.cumsum(np.bincount(r, minlength=n_out), out=indptr[1:])
    return Pattern(indptr, c, (n_out, n_cols))


# ---------------------------------------------------------------------------
# the pairings, one per kind of primitive
# ---------------------------------------------------------------------------

def _positions(shape: tuple) -> np.ndarray:
    return np.arange(int(np.prod(shape, dtype=int)), dtype=np.int64).reshape(shape)


def _elementwise_pairs(in_shape, out_shape):
    return np.arange(int(np.prod(out_shape, dtype=int))), \
        np.broadcast_to(_positions(in_shape), out_shape).ravel()


def _gather_pairs(eqn, in_shape, out_shape):
    gathered = np.asarray(eqn.prim.impl(_positions(in_shape), **eqn.params))
    return np.arange(gathered.size), gathered.ravel()


def _reduction_pairs(eqn, in_shape, out_shape):
    axis, keepdims = eqn.params.get("axis"), eqn.params.get("keepdims", False)
    nd = len(in_shape)
    if axis is None:
        axis = tuple(range(nd))
    elif isinstance(axis, (int, np.integer)):
        axis = (int(axis) % nd,)
    out_pos = _positions(out_shape)
    if not keepdims:
        out_pos = out_pos.reshape(tuple(1 if i in axis else d for i, d in enumerate(in_shape)))
    return np.broadcast_to(out_pos, in_shape).ravel(), _positions(in_shape).ravel()


def _scatter_pairs(eqn, in_shape, out_shape):
    target = _positions(tuple(eqn.params["shape"]))[eqn.params["index"].key]
    return np.broadcast_to(target, in_shape).ravel(), _positions(in_shape).ravel()


def _concat_pairs(eqn, i, in_shapes, out_shape):
    axis = int(eqn.params["axis"]) % len(out_shape)
    start = sum(s[axis] for s in in_shapes[:i])
    sl = (slice(None),) * axis + (slice(start, start + in_shapes[i][axis]),)
    target = _positions(out_shape)[sl]
    return np.broadcast_to(target, in_shapes[i]).ravel(), _positions(in_shapes[i]).ravel()


def _cumsum_pairs(eqn, in_shape, out_shape):
    axis = int(eqn.params["axis"]) % len(in_shape)
    pos = np.moveaxis(_positions(in_shape), axis, -1)
    n = pos.shape[-1]
    outs, ins = [], []
    for d in range(n):  # y[..., j] depends on x[..., j - d]
        outs.append(pos[..., d:].ravel())
        ins.append(pos[..., :n - d].ravel())
    return np.concatenate(outs), np.concatenate(ins)


def _matmul_pairs(eqn, i, in_shapes, out_shape):
    """Y = A·B for 1-D/2-D operands: Y[r,c] depends on A[r,k] where B[k,c] may be non-zero,
    and on B[k,c] where A[r,k] may be non-zero (a constant operand's zeros are structural)."""
    sa, sb = in_shapes
    if len(sa) > 2 or len(sb) > 2 or len(sa) == 0 or len(sb) == 0:
        return None
    a2 = sa if len(sa) == 2 else (1,) + sa
    b2 = sb if len(sb) == 2 else sb + (1,)

    def nz(j, shape2):
        v = eqn.invars[j]
        if isinstance(v, Lit):
            return np.asarray(v.value).reshape(shape2) != 0
        return np.ones(shape2, dtype=bool)

    out_pos = _positions((a2[0], b2[1]))
    if i == 0:  # pairs ((r, c), (r, k)) with nzB[k, c]
        k, c = np.nonzero(nz(1, b2))
        r = np.repeat(np.arange(a2[0]), k.size)
        kk, cc = np.tile(k, a2[0]), np.tile(c, a2[0])
        return out_pos[r, cc], r * a2[1] + kk
    r, k = np.nonzero(nz(0, a2))  # pairs ((r, c), (k, c)) with nzA[r, k]
    c = np.tile(np.arange(b2[1]), r.size)
    rr, kk = np.repeat(r, b2[1]), np.repeat(k, b2[1])
    return out_pos[rr, c], kk * b2[1] + c


def _differentiable(prim, i: int) -> bool:
    try:
        return prim.jvps[i] is not None
    except (IndexError, TypeError):
        return True


def _apply(eqn, pats: list, shapes: list, n_cols: int) -> list[Pattern]:
    """The patterns of an equation's outputs from those of its inputs."""
    prim = eqn.prim
    name = prim.name
    out_shapes = [tuple(v.aval.shape) for v in eqn.outvars]
    sizes = [int(np.prod(s, dtype=int)) for s in out_shapes]
    live = [i for i, p in enumerate(pats)
            if p is not None and p.nnz and _differentiable(eqn.prim, i)]
    if not live:
        return [Pattern.empty(n, n_cols) for n in sizes]
    out_shape = out_shapes[0]
    contribs = None
    if len(out_shapes) == 1:
        contribs = []
        for i in live:
            if prim.elementwise:
                pairs = _elementwise_pairs(shapes[i], out_shape)
            elif prim.gather and i == 0:
                pairs = _gather_pairs(eqn, shapes[i], out_shape)
            elif prim.batch == "reduction" and i == 0:
                pairs = _reduction_pairs(eqn, shapes[i], out_shape)
            elif name == "scatter_add" and i == 0:
                pairs = _scatter_pairs(eqn, shapes[i], out_shape)
            elif name == "concatenate":
                pairs = _concat_pairs(eqn, i, shapes, out_shape)
            elif name == "cumsum" and i == 0:
                pairs = _cumsum_pairs(eqn, shapes[i], out_shape)
            elif name == "matmul":
                pairs = _matmul_pairs(eqn, i, shapes, out_shape)
            else:
                pairs = None
            if pairs is None:
                contribs = None
                break
            contribs.append((pats[i], pairs[0], pairs[1]))
    if contribs is not None:
        return [combine(sizes[0], n_cols, contribs)]
    # dense fallback: every output element depends on every live input element
    cols = np.unique(np.concatenate([pats[i].indices for i in live]))
    outs = []
    for n in sizes:
        if n * cols.size > DENSE_LIMIT:
            raise MemoryError(
                f"sparsity: the primitive '{name}' has no index-set rule, so each of its {n} "
                f"outputs is taken to depend on all {cols.size} inputs it sees; that pattern "
                f"is too large to store. Compute the Jacobian densely (sparsity=None), or add a "
                "pairing for it in chainrule.sparse.pattern")
        outs.append(Pattern(np.arange(n + 1) * cols.size, np.tile(cols, n), (n, n_cols)))
    return outs


def vstack(pats: list[Pattern]) -> Pattern:
    """The rows of several patterns, one after the other."""
    n_cols = pats[0].shape[1]
    indptr = [np.zeros(1, np.int64)]
    off = 0
    for p in pats:
        indptr.append(p.indptr[1:] + off)
        off += p.nnz
    return Pattern(np.concatenate(indptr), np.concatenate([p.indices for p in pats]),
                   (sum(p.shape[0] for p in pats), n_cols))


def _rows(p: Pattern, start: int, stop: int) -> Pattern:
    lo, hi = p.indptr[start], p.indptr[stop]
    return Pattern(p.indptr[start:stop + 1] - lo, p.indices[lo:hi], (stop - start, p.shape[1]))


def _scan_rule(eqn, pats, shapes, n_cols):
    """Unroll the loop on index sets: the body's patterns, step by step (stopping early at a
    fixed point of the carry when there are no per-step inputs or outputs)."""
    prm = eqn.params
    body, nc, nk, lo, length = prm["body"], prm["nc"], prm["nk"], prm["lo"], prm["length"]
    consts, carry, xs = pats[:nc], pats[nc:nc + nk], pats[nc + nk:]
    x_sizes = [int(np.prod(s[1:], dtype=int)) for s in shapes[nc + nk:]]
    ys: list = []
    steps = range(length - 1, -1, -1) if prm.get("reverse") else range(length)
    for t in steps:
        ins = ([Pattern.empty(1, n_cols)] if lo is not None else []) + consts + carry
        ins += [_rows(x, t * k, (t + 1) * k) for x, k in zip(xs, x_sizes)]
        out = run(body, ins, n_cols)
        settled = not xs and len(out) == nk and all(a == b for a, b in zip(out, carry))
        carry = out[:nk]
        ys.append(out[nk:])
        if settled:
            break
    if prm.get("reverse"):
        ys.reverse()
    stacked = [vstack([y[j] for y in ys]) for j in range(len(body.outputs) - nk)]
    return list(carry) + stacked


def _while_rule(eqn, pats, shapes, n_cols, max_iter: int = 10_000):
    """Any number of iterations: the fixed point of ``S ← S ∪ body(S)`` on the carry."""
    prm = eqn.params
    ncc, ncb = prm["ncc"], prm["ncb"]
    consts, carry = pats[ncc:ncc + ncb], pats[ncc + ncb:]
    for _ in range(max_iter):
        out = run(prm["body"], consts + carry, n_cols)
        new = [a.union(b) for a, b in zip(carry, out)]
        if all(a == b for a, b in zip(new, carry)):
            return carry
        carry = new
    return None


def _cond_rule(eqn, pats, shapes, n_cols):
    """Either branch may run: the union of both branches' patterns (the predicate has a
    zero derivative)."""
    xs = pats[1:]
    t = run(eqn.params["true"], xs, n_cols)
    f = run(eqn.params["false"], xs, n_cols)
    return [a.union(b) for a, b in zip(t, f)]


_SUBPROGRAM_RULES = {"scan": _scan_rule, "while_loop": _while_rule, "cond": _cond_rule}


def run(program, in_pats: list, n_cols: int) -> list[Pattern]:
    """The index sets of ``program``'s outputs given those of its inputs.

    Args:
        program: a :class:`chainrule.ir.Program`.
        in_pats: one :class:`Pattern` (or None: a constant) per program input.
        n_cols: the number of columns (differentiated input elements).
    """

    def size(v) -> int:
        return int(np.prod(v.aval.shape, dtype=int))

    env: dict[int, Pattern] = {}
    for v, p in zip(program.inputs, in_pats):
        env[id(v)] = Pattern.empty(size(v), n_cols) if p is None else p
    for eqn in program.eqns:
        pats, shapes = [], []
        for a in eqn.invars:
            shapes.append(tuple(a.aval.shape))
            p = None if isinstance(a, Lit) else env.get(id(a))
            pats.append(Pattern.empty(size(a), n_cols) if p is None else p)
        outs = None
        sub = _SUBPROGRAM_RULES.get(eqn.prim.name)
        if sub is not None and any(p.nnz for p in pats):
            outs = sub(eqn, pats, shapes, n_cols)
        if outs is None:
            outs = _apply(eqn, [p if p.nnz else None for p in pats], shapes, n_cols)
        for v, p in zip(eqn.outvars, outs):
            env[id(v)] = p
    return [Pattern.empty(size(o), n_cols) if isinstance(o, Lit) else
            env.get(id(o), Pattern.empty(size(o), n_cols)) for o in program.outputs]


def propagate(program, input_index: int = 0) -> list[Pattern]:
    """The index sets of every output of ``program`` w.r.t. its input ``input_index``.

    Args:
        program: a :class:`chainrule.ir.Program` (from ``chainrule.make_ir``).
        input_index: which program input the columns stand for (the others count as
            constants).

    Returns:
        One :class:`Pattern` per program output, of shape ``(output size, input size)``.
    """
    x = program.inputs[input_index]
    n = int(np.prod(x.aval.shape, dtype=int))
    ins = [Pattern.identity(n) if i == input_index else None
           for i in range(len(program.inputs))]
    return run(program, ins, n)
