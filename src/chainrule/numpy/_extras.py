"""Composites found missing by autograd's test suite: each is written with chainrule's
primitives, so its derivatives (of any order) come for free.

``r_``/``c_`` (index tricks), ``linspace``, ``nan_to_num``, ``real_if_close``,
``partition``, ``rollaxis``, ``dsplit``, ``select``.
"""

from __future__ import annotations

import numpy as np

from chainrule.core.primitive import Tracer, concrete, dtype_of, shape_of
from chainrule.numpy import _assembly as asm
from chainrule.numpy import _elementwise as ew
from chainrule.numpy import _elementwise_more as ewm
from chainrule.numpy import _namespace as ns

__all__ = ["r_", "c_", "linspace", "nan_to_num", "real_if_close", "partition", "rollaxis",
           "dsplit", "select"]


def _traced(*xs) -> bool:
    return any(isinstance(x, Tracer) for x in xs)


class _Concatenator:
    """``np.r_`` / ``np.c_`` over traced pieces: slices become ``arange``/``linspace``,
    scalars 1-d arrays, then one differentiable concatenate."""

    def __init__(self, np_obj, column: bool) -> None:
        self._np = np_obj
        self._column = column

    def __getitem__(self, key):
        items = key if isinstance(key, tuple) else (key,)
        if not _traced(*items):
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


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    """``numpy.linspace``, differentiable in ``start`` and ``stop``."""
    if not _traced(start, stop):
        return np.linspace(start, stop, num, endpoint, retstep, dtype, axis)
    if axis != 0:
        raise NotImplementedError("chainrule.numpy.linspace: only axis=0 with traced ends")
    div = (num - 1 if endpoint else num) if num > 0 else 1
    w = np.arange(num, dtype=float) / (div if div > 0 else 1)
    nd_ = max(len(shape_of(start)), len(shape_of(stop)))
    w = w.reshape((num,) + (1,) * nd_)
    delta = stop - start
    y = start + delta * w
    if endpoint and num > 1:  # the last point is exactly ``stop``, as in NumPy
        y = ns.concatenate([y[:-1], ns.expand_dims(stop + 0.0 * start, 0)], axis=0)
    if dtype is not None:
        y = y.astype(dtype)
    return (y, delta / div) if retstep else y


def nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None):
    """``numpy.nan_to_num``: the derivative is 1 at finite entries, 0 at replaced ones."""
    if not _traced(x):
        return np.nan_to_num(x, copy=copy, nan=nan, posinf=posinf, neginf=neginf)
    dtype = dtype_of(x)
    if dtype.kind == "c":  # real and imaginary parts separately, as NumPy does
        parts = [nan_to_num(p(x), nan=nan, posinf=posinf, neginf=neginf)
                 for p in (ewm.real, ewm.imag)]
        return parts[0] + 1j * parts[1]
    if dtype.kind != "f":
        return x
    big, t = np.finfo(dtype).max, dtype.type  # the replacements in x's precision
    v = concrete(x)  # a value, or a staged one under jit: only comparisons of it are used
    fill = ns.where(v != v, t(nan), ns.where(v > 0, big if posinf is None else t(posinf),
                                             -big if neginf is None else t(neginf)))
    return ns.where(np.isfinite(v), x, fill)


def real_if_close(a, tol=100):
    """``numpy.real_if_close``: ``real(a)`` when every imaginary part is negligible."""
    if not _traced(a):
        return np.real_if_close(a, tol)
    if dtype_of(a).kind != "c":
        return a
    v = concrete(a)
    if isinstance(v, Tracer):
        raise TypeError(
            "real_if_close chooses its result's type from the values, which jit does not "
            "know; under jit use np.real(a) where the imaginary part is known to vanish, "
            "or keep the complex array")
    if np.real_if_close(v, tol).dtype.kind != "c":
        return ewm.real(a)
    return a


def partition(a, kth, axis=-1, kind="introselect", order=None):
    """``numpy.partition``: the same permutation NumPy picks, gathered differentiably
    (under ``jit``, where values are unknown, the sorted array: also a partition)."""
    if not _traced(a):
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
    if not _traced(a):
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


def select(condlist, choicelist, default=0):
    """``numpy.select``: the first true condition's choice, else ``default``."""
    if not _traced(*condlist, *choicelist, default):
        return np.select(condlist, choicelist, default)
    if len(condlist) != len(choicelist):
        raise ValueError("select: list of cases must be same length as list of conditions")
    out = default
    for cond, choice in zip(reversed(condlist), reversed(choicelist)):
        out = ns.where(concrete(cond), choice, out)
    return ew.add(out, 0.0) if not isinstance(out, Tracer) else out
