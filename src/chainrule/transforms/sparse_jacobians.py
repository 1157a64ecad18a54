"""``sparsity(f, x)`` and the coloured Jacobians/Hessians behind ``jacobian(f, sparsity=...)``.

A sparse Jacobian costs as many products as its colouring has colours, whatever n
and m are: a tridiagonal J of any size needs 3 JVPs (columns j, j+3, j+6, ... never
share a row). The products run as one batched pass (``vmap`` of ``jvp``/``vjp``/HVP
over the seed matrix's columns), then :mod:`chainrule.sparse.recover` reads every
non-zero off the compressed matrix.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from chainrule.core.primitive import Tracer, concrete, shape_of
from chainrule.core.pytree import tree_flatten
from chainrule.jit import make_ir
from chainrule.sparse.coloring import Coloring, color_columns, color_rows, star_coloring
from chainrule.sparse.pattern import Pattern, propagate
from chainrule.sparse.recover import (
    assemble,
    have_scipy,
    recover_columns,
    recover_rows,
    recover_star,
)
from chainrule.transforms._args import _check_inexact, _chunks, _select_args
from chainrule.transforms.autodiff import grad, jvp, vjp
from chainrule.transforms.vmap import vmap

__all__ = ["sparsity", "sparse_jacobian", "sparse_hessian"]


def _one_array(f: Callable, args: tuple, kwargs: dict, argnums: Any, who: str):
    """(f of the one selected argument, that argument as a float array)."""
    if not isinstance(argnums, (int, np.integer)):
        raise TypeError(f"{who}: sparse derivatives take one array argument; argnums must be "
                        f"an int, got {argnums!r}")
    fs, selected, nums = _select_args(f, args, kwargs, argnums, who)
    _check_inexact(selected, nums, who, f)
    x = selected[0]
    if len(tree_flatten(x)[0]) != 1 or isinstance(x, (tuple, list, dict)):
        raise TypeError(f"{who}: sparse derivatives need argument {argnums} to be one array, "
                        f"got a pytree {type(x).__name__}; pass a flat array (ravel and "
                        "concatenate the parts)")
    if isinstance(x, Tracer):
        raise TypeError(f"{who}: sparse Jacobians return SciPy matrices of concrete values and "
                        "cannot run inside another transformation (grad, jvp, vmap, jit); "
                        "use the dense jacobian there")
    return fs, np.asarray(x, dtype=np.result_type(x, np.float64))


def _detect(fs: Callable, x: np.ndarray, hessian: bool) -> Pattern:
    fn = grad(fs) if hessian else fs
    prog = make_ir(fn)(x)
    pats = propagate(prog)
    if len(pats) != 1:
        raise TypeError(f"sparsity: the function returns {len(pats)} arrays; sparse "
                        "derivatives need one output array (concatenate the outputs)")
    pat = pats[0]
    return pat.union(pat.T) if hessian else pat


def sparsity(f: Callable, *args: Any, argnums: int = 0, hessian: bool = False, **kwargs: Any):
    """The structural non-zero pattern of ``f``'s Jacobian (or Hessian) at arguments like
    ``args``, found by propagating index sets through the traced program (no sampling).

    Args:
        f: a function of arrays; the argument ``argnums`` must be one array.
        *args: example arguments (only the shape of argument ``argnums`` matters for the
            pattern, unless control flow depends on values).
        argnums: which argument the columns stand for.
        hessian: the pattern of the Hessian of a scalar ``f`` (symmetric) instead.
        **kwargs: keyword arguments passed to ``f``.

    Returns:
        A boolean ``scipy.sparse.csr_matrix`` of shape ``(f(x).size, x.size)`` (or
        ``(x.size, x.size)``), or a dense boolean array when SciPy is not installed.

    Example:
        >>> import chainrule as cr, chainrule.numpy as np
        >>> p = cr.sparsity(lambda u: u[1:] - u[:-1], np.ones(4))
        >>> p.toarray().astype(int).tolist()
        [[1, 1, 0, 0], [0, 1, 1, 0], [0, 0, 1, 1]]
    """
    fs, x = _one_array(f, args, kwargs, argnums, "sparsity")
    pat = _detect(fs, x, hessian)
    return pat.to_scipy() if have_scipy() else pat.toarray()


class _Plan:
    """A pattern and its colourings, computed once per pattern (or per input shape)."""

    def __init__(self, pattern: Pattern) -> None:
        self.pattern = pattern
        self._colorings: dict[str, Coloring] = {}

    def coloring(self, kind: str) -> Coloring:
        c = self._colorings.get(kind)
        if c is None:
            make = {"columns": color_columns, "rows": color_rows, "star": star_coloring}[kind]
            c = self._colorings[kind] = make(self.pattern)
        return c


def _planner(sparsity_arg: Any, fs_hessian: bool) -> Callable:
    """``plan(fs, x) -> _Plan``: a fixed pattern, or one detected per input shape."""
    cache: dict = {}
    if sparsity_arg is True or (isinstance(sparsity_arg, str) and sparsity_arg == "auto"):
        def plan(fs, x):
            key = (x.shape, x.dtype.str)
            if key not in cache:
                cache[key] = _Plan(_detect(fs, x, fs_hessian))
            return cache[key]
        return plan
    fixed = _Plan(Pattern.from_any(sparsity_arg))
    return lambda fs, x: fixed


def _batched(fn: Callable, seeds: np.ndarray, chunk_size: int | None) -> np.ndarray:
    """``fn`` applied to every row of ``seeds`` by vmap (``chunk_size`` rows at a time)."""
    parts = [np.asarray(concrete(vmap(fn)(seeds[s:e])))
             for s, e in _chunks(seeds.shape[0], chunk_size, "jacobian")]
    return np.concatenate(parts, axis=0) if parts else np.zeros((0,) + seeds.shape[1:])


def _check_shape(pattern: Pattern, m: int, n: int, who: str) -> None:
    if pattern.shape != (m, n):
        raise ValueError(
            f"{who}: the sparsity pattern has shape {pattern.shape}, but the Jacobian of this "
            f"call is ({m}, {n}) (outputs × inputs, flattened); detect it with "
            "chainrule.sparsity(f, x) for inputs of this shape, or pass sparsity=True")


def sparse_jacobian(f: Callable, argnums: int, mode: str, sparsity_arg: Any,
                    chunk_size: int | None) -> Callable:
    """The function behind ``jacobian(f, sparsity=...)``: a 2-D (outputs × inputs, both
    flattened) SciPy CSR matrix (dense without SciPy). ``mode="auto"`` colours both the
    columns and the rows and runs the mode with fewer colours (forward on a tie).
    After each call ``.stats`` holds the mode, the number of colours and of products."""
    plan_of = _planner(sparsity_arg, False)
    stats: dict = {}

    def sparse_jacobian_f(*args, **kwargs):
        fs, x = _one_array(f, args, kwargs, argnums, "jacobian")
        plan = plan_of(fs, x)
        pat = plan.pattern
        if pat.shape[1] != x.size:
            raise ValueError(
                f"jacobian: the sparsity pattern has shape {pat.shape}, but the argument has "
                f"{x.size} elements (the pattern's columns); detect the pattern with "
                "chainrule.sparsity(f, x) for inputs of this shape, or pass sparsity=True")
        use = mode
        if use == "auto":
            use = "fwd" if plan.coloring("columns").n_colors <= \
                plan.coloring("rows").n_colors else "rev"
        n = x.size
        if use == "fwd":
            col = plan.coloring("columns")
            seeds = col.seeds().T.reshape((col.n_colors,) + x.shape)
            b = _batched(lambda v: jvp(fs, (x,), (v,))[1], seeds, chunk_size)
            b = b.reshape(col.n_colors, -1).T  # (m, colours)
            _check_shape(pat, b.shape[0], n, "jacobian")
            values = recover_columns(pat, col, b)
        else:
            col = plan.coloring("rows")
            out, back = vjp(fs, x)
            m = int(np.prod(shape_of(out), dtype=int))
            _check_shape(pat, m, n, "jacobian")
            seeds = col.seeds().T.reshape((col.n_colors,) + tuple(shape_of(out)))
            c = _batched(lambda w: back(w)[0], seeds, chunk_size).reshape(col.n_colors, n)
            values = recover_rows(pat, col, c)
        stats.clear()
        stats.update(mode=use, colors=col.n_colors, products=col.n_colors, nnz=pat.nnz)
        return assemble(pat, values)

    sparse_jacobian_f.stats = stats
    return sparse_jacobian_f


def sparse_hessian(f: Callable, argnums: int, sparsity_arg: Any,
                   chunk_size: int | None) -> Callable:
    """The function behind ``hessian(f, sparsity=...)``: one Hessian-vector product
    (forward over reverse) per colour of a star colouring, batched by vmap."""
    plan_of = _planner(sparsity_arg, True)
    stats: dict = {}

    def sparse_hessian_f(*args, **kwargs):
        fs, x = _one_array(f, args, kwargs, argnums, "hessian")
        plan = plan_of(fs, x)
        pat = plan.pattern
        _check_shape(pat, x.size, x.size, "hessian")
        col = plan.coloring("star")
        g = grad(fs)
        seeds = col.seeds().T.reshape((col.n_colors,) + x.shape)
        b = _batched(lambda v: jvp(g, (x,), (v,))[1], seeds, chunk_size)
        b = b.reshape(col.n_colors, x.size).T  # (n, colours)
        values = recover_star(pat, col, b)
        stats.clear()
        stats.update(mode="star", colors=col.n_colors, products=col.n_colors, nnz=pat.nnz)
        return assemble(pat, values)

    sparse_hessian_f.stats = stats
    return sparse_hessian_f
