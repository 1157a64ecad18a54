"""Array libraries other than NumPy: Dask (lazy, chunked, distributed) and CuPy (GPU).

chainrule's values are whatever the array library of the inputs makes them: a
primitive applied to Dask arrays returns a Dask array (a task graph, nothing
computed), one applied to CuPy arrays a CuPy array. NumPy's ``__array_function__``
and ``__array_ufunc__`` protocols send most implementations (``np.sin(x)``,
``np.sum(x)``, ``x @ w``) to the right library by themselves. The few places that
cannot rely on them are here, written against the array API standard through
``array-api-compat`` (its :func:`array_namespace` names the library of an array):

* a scatter-add (the adjoint of indexing), which NumPy spells with in-place writes
  into ``numpy.zeros`` and ``numpy.add.at``: for another library, zeros of its own
  and one assignment per layer of distinct positions (:func:`scatter_add`);
* a gather with integer indices in several axes, or a reshape that is not a merge
  or split of axes, which Dask does not take (:func:`gather`, :func:`reshape`);
* value-dependent shortcuts (``if not any(x == 0)``): a lazy array's values are not
  known until it is computed, so rules take their general branch, as they do under
  ``jit`` (:func:`is_foreign`), or, for Dask arrays, run their NumPy implementation
  block by block, which takes the shortcut in each block (:func:`per_block`).

NumPy arrays never come here: callers test ``type(x) is numpy.ndarray`` first, so the
NumPy path costs nothing more.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from chainrule.core.stretched import stretched_value

__all__ = ["is_foreign", "namespace", "computed", "like", "broadcast_chunked", "per_block",
           "scatter_add", "gather", "reshape"]

_PLAIN = (np.ndarray, np.generic, float, int, complex, bool)


def _compat():
    try:
        import array_api_compat
    except ImportError as e:
        raise ImportError(
            "chainrule needs array-api-compat to differentiate Dask arrays (and any array "
            "that does not name its namespace by __array_namespace__): "
            "pip install chainrule[dask] (or pip install array-api-compat)") from e
    return array_api_compat


#: type -> is it an array type of another library (decided once per type)
_FOREIGN: dict[type, bool] = {}


def is_foreign(x: Any) -> bool:
    """Whether ``x`` is an array of another library than NumPy (Dask, CuPy, ...).

    Example:
        >>> import numpy
        >>> is_foreign(numpy.ones(3)), is_foreign(2.0)
        (False, False)
    """
    t = type(x)
    known = _FOREIGN.get(t)
    if known is None:
        known = _FOREIGN[t] = not issubclass(t, _PLAIN) and hasattr(x, "shape") and \
            _is_array_api_obj(x)
    return known


def _is_array_api_obj(x: Any) -> bool:
    try:
        import array_api_compat
    except ImportError:  # without it, arrays that name their own namespace, and Dask's
        return hasattr(x, "__array_namespace__") or hasattr(x, "__dask_graph__")
    return array_api_compat.is_array_api_obj(x)


def namespace(*arrays: Any):
    """The array API namespace of ``arrays``: ``array_api_compat.array_namespace`` where
    array-api-compat is installed; without it, the namespace the arrays name themselves
    (``__array_namespace__``, the array API standard's method: CuPy 13 and later,
    NumPy 2), NumPy for NumPy arrays and numbers, and an ImportError saying what to
    install for arrays that name none (Dask's).

    Example:
        >>> import numpy
        >>> namespace(numpy.ones(2)).__name__ in ("numpy", "array_api_compat.numpy")
        True
    """
    try:
        import array_api_compat
    except ImportError:
        return _named_namespace(arrays)
    return array_api_compat.array_namespace(*arrays)


def _named_namespace(arrays: tuple) -> Any:
    """:func:`namespace` without array-api-compat."""
    spaces: dict[int, Any] = {}
    for a in arrays:
        if isinstance(a, _PLAIN):
            continue
        own = getattr(a, "__array_namespace__", None)
        if own is None:
            _compat()  # raises the ImportError that names the extra
        space = own()
        spaces[id(space)] = space
    if len(spaces) > 1:
        names = ", ".join(sorted(getattr(space, "__name__", "?") for space in spaces.values()))
        raise TypeError(f"chainrule: the arrays of one operation come from several array "
                        f"libraries ({names}); convert them to one")
    return next(iter(spaces.values()), np)


def _is_dask_array(x: Any) -> bool:
    """Whether ``x`` is a Dask array (without importing Dask or array-api-compat)."""
    return hasattr(x, "__dask_graph__") and hasattr(x, "chunks")


def computed(*values: Any) -> tuple:
    """``values`` with every array as NumPy: the Dask arrays among them computed in one
    ``dask.compute`` call (one pass over the data: tasks they share run once), CuPy
    arrays copied from the GPU. Other values are returned as they are.

    An optimiser that needs the loss and its gradient as numbers calls this once per
    iteration, so that the value and the gradient come from one distributed pass.

    Example:
        >>> import numpy
        >>> computed(1.5, numpy.ones(2))
        (1.5, array([1., 1.]))
    """
    lazy = [i for i, v in enumerate(values) if hasattr(v, "__dask_graph__")
            and not isinstance(v, _PLAIN)]
    out = list(values)
    if lazy:
        import dask

        for i, v in zip(lazy, dask.compute(*[values[i] for i in lazy])):
            out[i] = v
    for i, v in enumerate(out):
        if not isinstance(v, _PLAIN) and is_foreign(v):  # CuPy and the like: to the host
            out[i] = np.asarray(v.get() if hasattr(v, "get") else v)
    return tuple(out)


def like(c: np.ndarray, x: Any) -> Any:
    """The NumPy array ``c`` as an array of ``x``'s library (chunked like ``x`` for Dask).

    A cotangent can come out of the reverse sweep as NumPy although its input is a Dask
    or CuPy array (the adjoint of ``sum(x)`` is the seed broadcast to x's shape); the
    user gets it in the input's library. An array stretched from one number (every
    stride 0) is broadcast there from that number, never copied whole.
    """
    xp = namespace(x)
    v = stretched_value(c)
    out = xp.broadcast_to(xp.asarray(v), c.shape) if v is not None else xp.asarray(c)
    chunks = getattr(x, "chunks", None)
    if chunks is not None and tuple(out.shape) == tuple(x.shape):
        out = out.rechunk(chunks)
    return out


def broadcast_chunked(g: Any, x: Any) -> Any:
    """``g`` broadcast to the shape of ``x``, block by block of ``x`` when ``x`` is a Dask
    array: each block is made beside x's block, where the next operation with
    ``x``-shaped arrays runs (a plain broadcast would make one chunk of the whole shape,
    split again by every later operation, or blocks with no place on the cluster)."""
    if _is_dask_array(x):
        import dask.array as da

        return da.map_blocks(_broadcast_block, x, g, dtype=g.dtype)
    return namespace(g).broadcast_to(g, tuple(x.shape))


def per_block(kernel: Callable, *args: Any, dtype: Any) -> Any:
    """``kernel(*args)`` computed block by block, or None where that does not apply.

    For the elementwise work of a derivative rule whose NumPy implementation looks at the
    values (a NaN check, an infinity check) to take a shortcut: on a Dask array the
    shortcut cannot be taken for the whole array (its values are not known while the
    graph is built), so the general branch (masks and ``where``, several passes over the
    data) would be recorded; run block by block, the NumPy implementation takes the
    shortcut in every block where it holds (one pass, usually). Applies when the arrays
    among ``args`` are Dask arrays (0-d ones too) of one shape and chunking; numbers and
    functions are passed to every block. None otherwise (no Dask array, several shapes,
    a NumPy array beside them, another library), and the caller takes its general branch.

    Args:
        kernel: a function of NumPy blocks and numbers, elementwise (block i of the result
            depends on block i of the arrays only).
        args: its arguments.
        dtype: the result's dtype.

    Returns:
        A Dask array chunked like the arrays, or None.
    """
    arrays = [a for a in args if getattr(a, "ndim", 0) or hasattr(a, "__dask_graph__")]
    if not arrays or not all(_is_dask_array(a) for a in arrays):
        return None
    first = arrays[0]
    if any(a.shape != first.shape or a.chunks != first.chunks for a in arrays[1:]):
        return None
    import dask.array as da

    return da.map_blocks(kernel, *args, dtype=dtype, meta=np.empty((0,) * first.ndim, dtype))


def _broadcast_block(block: Any, g: Any) -> Any:
    """``g`` broadcast to the shape of ``block`` (read-only, no copy)."""
    return np.broadcast_to(g, block.shape)


def _selection_shape(shape: tuple, key: tuple) -> tuple:
    """The shape of ``x[key]`` for an ``x`` of ``shape``, without allocating ``x``."""
    return np.broadcast_to(np.empty((), dtype=np.int8), shape)[key].shape


def _is_basic(key: tuple) -> bool:
    return all(k is None or k is Ellipsis or type(k) is int or type(k) is slice for k in key)


def scatter_add(g: Any, key: tuple, shape: tuple, dtype) -> Any:
    """``zeros(shape)`` with ``[key] += g``, in ``g``'s array library, without writing into
    an existing array (``g`` may be lazy).

    A basic index (ints, slices, ``None``, ``Ellipsis``) hits each position once: one
    assignment into zeros. Any other index (integer arrays, which may repeat a position,
    boolean masks) goes through the flattened array: the selected flat positions are
    known (the index is a NumPy value), and split into layers in which no position
    repeats (the k-th occurrence of each position forms layer k); each layer is one
    assignment, and the layers are summed, so repeated positions accumulate exactly as
    with ``numpy.add.at``.

    Args:
        g: the values to add, shaped like the selection ``zeros(shape)[key]``.
        key: a normalised index: a tuple of ints, slices, ``None``, ``Ellipsis`` and
            NumPy integer or boolean arrays.
        shape: the shape of the result.
        dtype: its dtype.

    Returns:
        An array of ``g``'s library.
    """
    xp = namespace(g)
    target = _selection_shape(shape, key)
    if tuple(g.shape) != target:
        g = xp.broadcast_to(g, target)
    if _is_basic(key):
        kept = tuple(k for k in key if k is not None)
        if len(kept) != len(key):  # None adds a length-1 axis to the selection only
            g = xp.reshape(g, _selection_shape(shape, kept))
        out = xp.zeros(shape, dtype=dtype)
        out[kept] = g
        return out
    size = int(np.prod(shape, dtype=np.int64))
    positions = _positions(shape, key).ravel()
    flat_g = xp.reshape(g, (positions.size,))
    order = np.argsort(positions, kind="stable")
    ordered = positions[order]
    first = np.ones(ordered.size, dtype=bool)
    first[1:] = ordered[1:] != ordered[:-1]
    starts = np.maximum.accumulate(np.where(first, np.arange(ordered.size), 0))
    rank = np.empty(ordered.size, dtype=np.intp)
    rank[order] = np.arange(ordered.size) - starts  # occurrence number of each element
    out = None
    for k in range(int(rank.max()) + 1 if rank.size else 0):
        members = np.flatnonzero(rank == k)
        layer = xp.zeros((size,), dtype=dtype)
        layer[positions[members]] = flat_g[members]
        out = layer if out is None else out + layer
    if out is None:
        out = xp.zeros((size,), dtype=dtype)
    return xp.reshape(out, shape)


def _positions(shape: tuple, key: tuple) -> np.ndarray:
    """The flat positions ``x[key]`` selects in an ``x`` of ``shape`` (a NumPy array of the
    selection's shape; it costs one integer per element of ``x``)."""
    return np.arange(int(np.prod(shape, dtype=np.int64))).reshape(shape)[key]


def _needs_positions(key: tuple) -> bool:
    """Whether ``key`` indexes with several arrays or one of other than one dimension,
    which Dask does not take (it takes one 1-D integer or boolean array at a time)."""
    arrays = [k for k in key if type(k) is np.ndarray]
    return len(arrays) > 1 or (len(arrays) == 1 and arrays[0].ndim != 1)


def gather(x: Any, key: tuple) -> Any:
    """``x[key]`` for an array of another library. An index Dask does not take (integer
    arrays in several axes, or of several dimensions, boolean masks of several axes) is
    applied to the flattened array as the flat positions it selects."""
    if not _needs_positions(key):
        return x[key]
    xp = namespace(x)
    positions = _positions(tuple(x.shape), key)
    flat = xp.reshape(x, (-1,))[positions.ravel()]
    return xp.reshape(flat, positions.shape)


def reshape(x: Any, shape: tuple) -> Any:
    """``x`` reshaped, for an array of another library: Dask reshapes only by merging or
    splitting axes evenly, so any other reshape goes through the flattened array."""
    xp = namespace(x)
    try:
        return xp.reshape(x, shape)
    except NotImplementedError:  # Dask: not a merge or a split of axes
        return xp.reshape(xp.reshape(x, (-1,)), shape)
