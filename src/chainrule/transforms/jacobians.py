"""Jacobians and Hessians: every row or column of J from batched ``jvp``/``vjp`` passes.

``jacfwd`` pushes the identity's rows through ``jvp`` (one batched pass, ``vmap``),
``jacrev`` pulls them back through one recorded ``vjp``, ``jacobian`` picks the cheaper
by the n-versus-m rule, and ``hessian`` is ``jacfwd(jacrev(f))``.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from chainrule.core.primitive import dtype_of, shape_of
from chainrule.core.pytree import tree_flatten, tree_unflatten
from chainrule.numpy import _namespace as _ns
from chainrule.transforms._args import (
    _check_complex, _check_inexact, _chunks, _named, _select_args, _split_aux,
)
from chainrule.transforms.autodiff import jvp, vjp
from chainrule.transforms.sparse_jacobians import sparse_hessian, sparse_jacobian
from chainrule.transforms.vmap import vmap

__all__ = ["jacfwd", "jacrev", "jacobian", "hessian"]



def _sizes(leaves) -> list[int]:
    return [int(np.prod(shape_of(x), dtype=int)) for x in leaves]


def _unit_rows(leaves, start: int, stop: int) -> list:
    """Rows ``start:stop`` of the identity over all elements of ``leaves``, cut per leaf.

    Leaf k of size n_k gets an array of shape ``(stop - start, *leaf_k.shape)``: the
    batch of unit directions (seeds) that ``vmap`` pushes through ``jvp`` or ``vjp``.
    """
    rows = stop - start
    out, off = [], 0
    for leaf, n in zip(leaves, _sizes(leaves)):
        dt = dtype_of(leaf)
        block = np.zeros((rows, n), dtype=dt if dt.kind in "fc" else np.float64)
        lo, hi = max(start, off), min(stop, off + n)
        if lo < hi:
            block[np.arange(lo - start, hi - start), np.arange(lo - off, hi - off)] = 1
        out.append(block.reshape((rows,) + tuple(shape_of(leaf))))
        off += n
    return out


def _stacked(pieces: list):
    return pieces[0] if len(pieces) == 1 else _ns.concatenate(pieces, axis=0)


def _pushforward_rows(fs, selected, chunk_size, who):
    """J·e_j for every input element j, batched by vmap: (out, out_tree, per output leaf an
    array of shape (n, *out_i))."""
    in_flat, in_tree = tree_flatten(selected)
    primal: list = []

    def push(*tangent_leaves):
        out, t = jvp(fs, selected, tree_unflatten(in_tree, list(tangent_leaves)))
        primal[:] = [out]
        return t

    parts = []
    for s, e in _chunks(sum(_sizes(in_flat)), chunk_size, who):
        parts.append(tree_flatten(vmap(push)(*_unit_rows(in_flat, s, e)))[0])
    out = primal[0] if primal else fs(*selected)
    out_leaves, out_tree = tree_flatten(out)
    rows = [_stacked([p[i] for p in parts]) if parts else None for i in range(len(out_leaves))]
    return out_leaves, out_tree, rows


def _pullback_rows(out, back, chunk_size, who):
    """eᵢᵀ·J for every output element i, batched by vmap: per input leaf an array of shape
    (m, *in_k)."""
    out_leaves, out_tree = tree_flatten(out)

    def pull(*ct_leaves):
        return back(tree_unflatten(out_tree, list(ct_leaves)))

    parts = []
    for s, e in _chunks(sum(_sizes(out_leaves)), chunk_size, who):
        parts.append(tree_flatten(vmap(pull)(*_unit_rows(out_leaves, s, e)))[0])
    return [_stacked([p[k] for p in parts]) if parts else None
            for k in range(len(parts[0]) if parts else 0)]


def _arrange(block, out_leaves, out_tree, in_flat, in_tree, single):
    """Jacobian blocks ``block(i, k)`` -> the output pytree of (input pytree) of arrays."""
    per_out = []
    for i in range(len(out_leaves)):
        tree = tree_unflatten(in_tree, [block(i, k) for k in range(len(in_flat))])
        per_out.append(tree[0] if single else tree)
    return tree_unflatten(out_tree, per_out)


def _offsets(leaves) -> list[int]:
    return [int(v) for v in np.cumsum([0] + _sizes(leaves))]


def jacfwd(f: Callable, argnums: int | Sequence[int] = 0, chunk_size: int | None = None,
           has_aux: bool = False, holomorphic: bool = False):
    """The Jacobian by forward mode: J·e_j for every input element j (best when n < m).

    The n JVPs run as one batched pass: ``vmap`` of ``jvp`` over the identity's rows
    (``chunk_size`` rows at a time, to bound memory at ``chunk_size`` tangents).
    The result has shape ``out.shape + in.shape`` for each (output leaf, input leaf),
    arranged as the output's pytree of (the argument's pytree, or a tuple of them when
    ``argnums`` is a tuple).

    Args:
        f: the function.
        argnums: the argument (int) or arguments (tuple) to differentiate.
        chunk_size: at most this many JVPs per batched pass (None: all at once).
        has_aux: ``f`` returns ``(out, aux)``; the result is ``(jacobian, aux)``.
        holomorphic: ``f`` is complex-differentiable in complex inputs (checked).
    """
    single = isinstance(argnums, (int, np.integer))

    def jacfwd_f(*args, **kwargs):
        fs, selected, nums = _select_args(f, args, kwargs, argnums, "jacfwd")
        _check_inexact(selected, nums, "jacfwd", f)
        if holomorphic:
            _check_complex(selected, "jacfwd", f)
        if has_aux:
            out_aux = _split_aux(fs(*selected), f)
            fs_aux = fs
            fs = lambda *a: _split_aux(fs_aux(*a), f)[0]  # noqa: E731
        in_flat, in_tree = tree_flatten(selected)
        out_leaves, out_tree, rows = _pushforward_rows(fs, selected, chunk_size, "jacfwd")
        offs = _offsets(in_flat)

        def block(i, k):
            out_shape, in_shape = tuple(shape_of(out_leaves[i])), tuple(shape_of(in_flat[k]))
            if rows[i] is None:
                return np.zeros(out_shape + in_shape)
            b = rows[i][offs[k]:offs[k + 1]]  # (n_k, *out_i)
            if out_shape:
                b = _ns.moveaxis(b, 0, -1)
            return _ns.reshape(b, out_shape + in_shape)

        jac = _arrange(block, out_leaves, out_tree, in_flat, in_tree, single)
        return (jac, out_aux[1]) if has_aux else jac

    return _named(jacfwd_f, "jacfwd", f, argnums)


def jacrev(f: Callable, argnums: int | Sequence[int] = 0, chunk_size: int | None = None,
           has_aux: bool = False, holomorphic: bool = False):
    """The Jacobian by reverse mode: one recorded forward pass, then eᵢᵀ·J for every output
    element i as one batched backward sweep (``vmap`` of the VJP; best when m < n).
    Shapes, ``chunk_size``, ``has_aux`` and ``holomorphic`` as in :func:`jacfwd`."""
    single = isinstance(argnums, (int, np.integer))

    def jacrev_f(*args, **kwargs):
        fs, selected, nums = _select_args(f, args, kwargs, argnums, "jacrev")
        _check_inexact(selected, nums, "jacrev", f)
        if holomorphic:
            _check_complex(selected, "jacrev", f)
        if has_aux:
            out, back, aux = vjp(fs, *selected, has_aux=True)
            return _jacrev_from(out, back, selected, single, chunk_size), aux
        out, back = vjp(fs, *selected)
        return _jacrev_from(out, back, selected, single, chunk_size)

    return _named(jacrev_f, "jacrev", f, argnums)


def _jacrev_from(out, back, selected, single, chunk_size=None):
    in_flat, in_tree = tree_flatten(selected)
    out_leaves, out_tree = tree_flatten(out)
    rows = _pullback_rows(out, back, chunk_size, "jacrev")
    offs = _offsets(out_leaves)

    def block(i, k):
        out_shape, in_shape = tuple(shape_of(out_leaves[i])), tuple(shape_of(in_flat[k]))
        if not rows:
            return np.zeros(out_shape + in_shape)
        return _ns.reshape(rows[k][offs[i]:offs[i + 1]], out_shape + in_shape)

    return _arrange(block, out_leaves, out_tree, in_flat, in_tree, single)


def jacobian(f: Callable, argnums: int | Sequence[int] = 0, mode: str = "auto",
             chunk_size: int | None = None, sparsity: Any = None):
    """The Jacobian, by ``mode`` ``"fwd"``, ``"rev"`` or ``"auto"``.

    ``auto`` applies the lecture's n-versus-m rule: forward mode costs one pass per
    input (n), reverse mode one sweep per output (m), so it runs forward when n < m
    and reverse otherwise. It records the forward pass once to learn m and reuses
    that tape when reverse wins.

    With ``sparsity`` (a pattern from :func:`chainrule.sparsity`, any 0/1 matrix, or
    ``True`` to detect it once per input shape), the Jacobian is computed from as many
    compressed products as there are colours (see
    :mod:`chainrule.transforms.sparse_jacobians`) and returned as a 2-D
    ``scipy.sparse.csr_matrix`` (outputs × inputs, flattened; a dense array without
    SciPy); ``auto`` then picks the mode with fewer colours, and the function's
    ``.stats`` says which mode ran and how many products it took.

    Args:
        f: the function.
        argnums: the argument (int) or arguments (tuple) to differentiate.
        mode: ``"auto"``, ``"fwd"`` or ``"rev"``.
        chunk_size: at most this many products per batched pass (None: all at once).
        sparsity: None (dense), a pattern, or True.
    """
    if mode not in ("auto", "fwd", "rev"):
        raise ValueError(f"jacobian: mode must be 'auto', 'fwd' or 'rev', got {mode!r}")
    if sparsity is not None and sparsity is not False:
        return _named(sparse_jacobian(f, argnums, mode, sparsity, chunk_size), "jacobian", f,
                      argnums)
    if mode == "fwd":
        return jacfwd(f, argnums, chunk_size)
    if mode == "rev":
        return jacrev(f, argnums, chunk_size)
    single = isinstance(argnums, (int, np.integer))

    def jacobian_f(*args, **kwargs):
        fs, selected, nums = _select_args(f, args, kwargs, argnums, "jacobian")
        _check_inexact(selected, nums, "jacobian", f)
        out, back = vjp(fs, *selected)
        n = sum(_sizes(tree_flatten(selected)[0]))
        m = sum(_sizes(tree_flatten(out)[0]))
        if n < m:
            return jacfwd(f, argnums, chunk_size)(*args, **kwargs)
        return _jacrev_from(out, back, selected, single, chunk_size)

    return _named(jacobian_f, "jacobian", f, argnums)


def hessian(f: Callable, argnums: int | Sequence[int] = 0, chunk_size: int | None = None,
            sparsity: Any = None, has_aux: bool = False, holomorphic: bool = False):
    """The Hessian of a scalar function: forward over reverse, ``jacfwd(jacrev(f))``, the
    n Hessian-vector products batched by ``vmap``.

    Shape ``x.shape + x.shape`` for an array argument. With ``sparsity`` (a pattern from
    ``chainrule.sparsity(f, x, hessian=True)``, or True to detect it), H is recovered
    from one Hessian-vector product per colour of a star colouring (symmetric).
    """
    if sparsity is not None and sparsity is not False:
        return _named(sparse_hessian(f, argnums, sparsity, chunk_size), "hessian", f, argnums)
    if has_aux or holomorphic:
        h = jacfwd(jacrev(f, argnums, has_aux=has_aux, holomorphic=holomorphic), argnums,
                   chunk_size, has_aux=has_aux, holomorphic=holomorphic)
        return _named(h, "hessian", f, argnums)
    h = jacfwd(jacrev(f, argnums), argnums, chunk_size)
    return _named(h, "hessian", f, argnums)
