"""Indexing and assembly: getitem, its scatter-add adjoint, concatenate.

``y = x[idx]`` is linear in x. Its VJP scatters the cotangent into zeros of x's
shape: a plain assignment for basic indices and boolean masks (no position is
hit twice), ``numpy.add.at`` for integer-array indices, where repeated indices
accumulate. The scatter is itself a primitive whose VJP is the gather again,
so indexing differentiates to any order.
"""

from __future__ import annotations

import numpy as np

from chainrule.core import backends
from chainrule.core.primitive import (
    ArgRules,
    Primitive,
    Reads,
    Tracer,
    concrete,
    dtype_of,
    shape_of,
)
from chainrule.numpy._elementwise import real_for
from chainrule.numpy._structural import broadcast_like


def _is_staging(k) -> bool:
    """Whether ``k`` is a value that jit/make_ir is recording (not known yet): a variable
    of a program being built (``Tracer._program_var``)."""
    return isinstance(k, Tracer) and k._program_var


def _staged_index_error(k) -> TypeError:
    """The error for an index array whose values jit/make_ir does not know yet."""
    if k.dtype.kind == "b":
        return TypeError(
            "x[mask] with a mask computed from traced values selects a number of elements "
            "that depends on the values, which chainrule.jit cannot stage (the program has "
            "fixed shapes). Use chainrule.numpy.where(mask, x, 0.0) (then sum or mean), or "
            "call the function without jit.")
    return TypeError(
        "x[idx] with an index array computed from traced values cannot be staged by "
        "chainrule.jit as an index; use chainrule.numpy.take_along_axis(x, idx, axis) (or "
        "chainrule.numpy.sort for sorted values), which stages a gather, or call the "
        "function without jit.")


def _foreign_index_error(k) -> TypeError:
    """The error for a Dask or CuPy array used as an index of a differentiated value."""
    return TypeError(
        f"x[idx] with idx a {type(k).__module__}.{type(k).__name__}: chainrule needs index "
        "arrays as NumPy values (the positions they select decide the shape of the "
        "derivative; a lazy mask's count is not known before it is computed). Use "
        "chainrule.numpy.where(mask, x, 0.0) (then sum or mean) for a mask, or compute the "
        "index to NumPy first.")


class Index:
    """A normalised index: a tuple of ints, slices, None, Ellipsis and integer/bool arrays."""

    __slots__ = ("key", "accumulates", "_signature")

    def __init__(self, key) -> None:
        if type(key) is slice or type(key) is int:  # the common case, as it is
            self.key, self.accumulates, self._signature = (key,), False, None
            return
        if not isinstance(key, tuple):
            key = (key,)
        norm = []
        accumulates = False
        for k in key:
            if isinstance(k, Tracer):
                k = concrete(k)
                if _is_staging(k):
                    raise _staged_index_error(k)
            if isinstance(k, (list, np.ndarray)):
                k = np.asarray(k)
                if k.dtype.kind == "f":
                    raise IndexError(
                        f"arrays used as indices must be of integer or boolean type, got {k.dtype}"
                    )
                if k.dtype.kind in "iu":
                    accumulates = True
            elif isinstance(k, np.integer):
                k = int(k)
            elif backends.is_foreign(k):
                raise _foreign_index_error(k)
            norm.append(k)
        self.key = tuple(norm)
        self.accumulates = accumulates
        self._signature = None

    def signature(self) -> tuple:
        """The index as a hashable value: equal signatures select the same elements."""
        if self._signature is None:
            self._signature = tuple(
                ("slice", k.start, k.stop, k.step) if type(k) is slice
                else ("array", k.dtype.str, k.shape, k.tobytes()) if type(k) is np.ndarray
                else k
                for k in self.key
            )
        return self._signature

    def __eq__(self, other) -> bool:
        return type(other) is Index and self.signature() == other.signature()

    def __hash__(self) -> int:
        return hash(self.signature())

    def __repr__(self) -> str:
        return f"Index({self.key!r})"


def _complement(key: tuple, shape: tuple) -> list | None:
    """Slabs covering what the basic index ``key`` (ints, step-1 slices, one Ellipsis)
    does not select in an array of ``shape``, or ``None`` for any other index.

    Axis by axis: the part before and after the selected range, with the axes already
    visited restricted to their ranges. Filling the slabs and the selection touches
    every element once (``zeros`` + assignment touch the selection twice).
    """
    if any(k is Ellipsis for k in key):
        at = next(i for i, k in enumerate(key) if k is Ellipsis)
        key = key[:at] + (slice(None),) * (len(shape) - len(key) + 1) + key[at + 1:]
    if len(key) > len(shape):
        return None
    slabs, prefix = [], ()
    for k, n in zip(key, shape):
        if type(k) is int:
            start = k + n if k < 0 else k
            stop = start + 1
        elif type(k) is slice and k.step in (None, 1):
            start, stop, _ = k.indices(n)
            stop = max(stop, start)
        else:
            return None
        if start > 0:
            slabs.append(prefix + (slice(0, start),))
        if stop < n:
            slabs.append(prefix + (slice(stop, n),))
        prefix += (slice(start, stop),)
    return slabs


def _scatter_impl(g, index: Index, shape: tuple, scale: float = 1.0):
    """zeros(shape) with [index] += g·scale (the scale applied while copying)."""
    dtype = np.result_type(dtype_of(g), np.float64) if dtype_of(g).kind in "iub" else dtype_of(g)
    if type(g) is not np.ndarray and backends.is_foreign(g):  # Dask, CuPy: no in-place writes
        return backends.scatter_add(g if scale == 1.0 else g * scale, index.key, shape, dtype)
    slabs = None if index.accumulates else _complement(index.key, shape)
    if slabs is None:
        out = np.zeros(shape, dtype=dtype)
        g = g if scale == 1.0 else g * scale
        if index.accumulates:
            np.add.at(out, index.key, g)
        else:
            out[index.key] = g
        return out
    out = np.empty(shape, dtype=dtype)
    view = out[index.key]
    if scale == 1.0 or type(view) is not np.ndarray:  # all ints: one element, no view
        out[index.key] = g if scale == 1.0 else g * scale
    else:
        np.multiply(g, scale, out=view)
    for slab in slabs:
        out[slab] = 0
    return out


def _scatter_into(acc, g, x, index: Index) -> None:
    """acc[idx] += g in place (repeated integer indices accumulate)."""
    if index.accumulates:
        np.add.at(acc, index.key, g)
    else:
        acc[index.key] += g


getitem_p = Primitive(
    "getitem",
    lambda x, index: x[index.key] if type(x) is np.ndarray or not backends.is_foreign(x)
    else backends.gather(x, index.key),
    jvps=(lambda t, y, x, index: getitem_p(t, index=index),),
    vjps=(lambda g, y, x, index: scatter_add_p(g, index=index, shape=shape_of(x)),),
    linear=True,
    doc="y = x[idx]; x̄ = zeros with x̄[idx] += ȳ",
    reads=Reads(()),
    vjp_into=_scatter_into,
    vjp_scaled=(lambda g, s, y, x, index: (_scatter_impl(g, index, shape_of(x), s), 1.0),),
    batch="getitem", gather=True,
)

scatter_add_p = Primitive(
    "scatter_add",
    _scatter_impl,
    jvps=(lambda t, y, g, index, shape: scatter_add_p(t, index=index, shape=shape),),
    vjps=(lambda c, y, g, index, shape: getitem_p(c, index=index),),
    linear=True,
    doc="y = zeros(shape) with y[idx] += g; ḡ = ȳ[idx]",
    reads=Reads(()),
    batch="scatter_add", fresh=True,
)


def _part_index(i: int, arrays, axis: int) -> Index:
    """The slice along ``axis`` that argument ``i`` of a concatenation fills."""
    start = sum(shape_of(a)[axis] for a in arrays[:i])
    stop = start + shape_of(arrays[i])[axis]
    return Index((slice(None),) * axis + (slice(start, stop),))


def _concat_jvp(i, t, y, *arrays, axis):
    """Tangent of argument i, placed in zeros of the output's shape."""
    return scatter_add_p(broadcast_like(t, arrays[i]), index=_part_index(i, arrays, axis),
                         shape=shape_of(y))


concatenate_p = Primitive(
    "concatenate",
    lambda *arrays, axis: np.concatenate(arrays, axis=axis),
    jvps=ArgRules(_concat_jvp),
    vjps=ArgRules(lambda i, g, y, *arrays, axis: real_for(
        getitem_p(g, index=_part_index(i, arrays, axis)), arrays[i])),
    linear=True,
    doc="y = [x_1 | x_2 | ...] along axis; x̄_i = the matching slice of ȳ",
    reads=Reads(every=()),
    batch="concatenate",
)
