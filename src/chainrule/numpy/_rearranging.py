"""Arrays put together, taken apart and reordered, written with chainrule's primitives
(their derivatives, of any order, come from those of concatenate, take and friends).

``r_``/``c_`` (index tricks), ``block``, ``delete``, ``dsplit``, ``rollaxis``,
``partition``.
"""

from __future__ import annotations

import numpy as np

from chainrule.core.primitive import Tracer, concrete, shape_of
from chainrule.numpy import _assembly as asm
from chainrule.numpy import _namespace as ns

__all__ = ["r_", "c_", "block", "delete", "dsplit", "rollaxis", "partition"]


class _Concatenator:
    """``np.r_`` / ``np.c_`` over traced pieces: slices become ``arange``/``linspace``,
    scalars 1-d arrays, then one differentiable concatenate."""

    def __init__(self, np_obj, column: bool) -> None:
        self._np = np_obj
        self._column = column

    def __getitem__(self, key):
        items = key if isinstance(key, tuple) else (key,)
        if not ns.any_traced(*items):
            return self._np[key]
        if items and isinstance(items[0], str):
            raise NotImplementedError(
                "chainrule.numpy.r_/c_: a directive string ('0,2', 'r', 'c') with traced "
                "values is not supported; use chainrule.numpy.concatenate(..., axis=...)")
        pieces = []
        for it in items:
            if isinstance(it, slice):
                it = self._np[it]
            pieces.append(asm.atleast_2d(it).T if self._column and len(shape_of(it)) < 2
                          else asm.atleast_1d(it))
        return ns.concatenate(pieces, axis=-1 if self._column else 0)

    def __len__(self) -> int:
        return 0


r_ = _Concatenator(np.r_, column=False)
c_ = _Concatenator(np.c_, column=True)


def partition(a, kth, axis=-1, kind="introselect", order=None):
    """``numpy.partition``: the same permutation NumPy picks, gathered differentiably
    (under ``jit``, where values are unknown, the sorted array: also a partition)."""
    if not ns.any_traced(a):
        return np.partition(a, kth, axis=axis, kind=kind, order=order)
    if axis is None:
        a, axis = ns.ravel(a), -1
    v = concrete(a)
    if isinstance(v, Tracer):  # staged (jit): a sorted array is a valid partition too
        return asm.sort(a, axis=axis)
    idx = np.argpartition(v, kth, axis=axis, kind=kind)
    return asm.take_along_axis(a, idx, axis=axis)


def rollaxis(a, axis, start=0):
    """``numpy.rollaxis`` as the equivalent ``moveaxis``."""
    if not ns.any_traced(a):
        return np.rollaxis(a, axis, start)
    n = len(shape_of(a))
    axis = axis % n
    start = start + n if start < 0 else start
    if not 0 <= start <= n:
        raise np.exceptions.AxisError(f"rollaxis: start {start} out of range for {n} axes")
    if axis < start:
        start -= 1
    return ns.moveaxis(a, axis, start) if axis != start else a


def dsplit(ary, indices_or_sections):
    """``numpy.dsplit``: split along the third axis."""
    if len(shape_of(ary)) < 3:
        raise ValueError("dsplit only works on arrays of 3 or more dimensions")
    return asm.split(ary, indices_or_sections, axis=2)


def delete(arr, obj, axis=None):
    """``arr`` without the entries ``obj`` (an int, slice or index array) along ``axis``."""
    if axis is None:
        arr, axis = ns.reshape(arr, (-1,)), 0
    ax = ns.normalize_axis(axis, len(shape_of(arr)))[0]
    keep = np.delete(np.arange(shape_of(arr)[ax]), obj)
    return asm.take(arr, keep, axis=ax)


def block(arrays):
    """Assemble nested lists of blocks: the innermost lists along the last axis, each
    level out one axis earlier (as ``numpy.block``)."""
    def depth(x) -> int:
        return 1 + depth(x[0]) if isinstance(x, list) else 0

    levels = depth(arrays)
    nd = max(levels, *(len(shape_of(b)) for b in _leaves(arrays)))

    def assemble(x, level: int):
        if not isinstance(x, list):
            s = shape_of(x)
            return ns.reshape(x, (1,) * (nd - len(s)) + s)
        return ns.concatenate([assemble(b, level + 1) for b in x], axis=nd - levels + level)

    return assemble(arrays, 0)


def _leaves(x):
    return [b for item in x for b in _leaves(item)] if isinstance(x, list) else [x]
