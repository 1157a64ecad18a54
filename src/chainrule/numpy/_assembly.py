"""Shape and assembly: stacking, splitting, tiling, flipping, padding, triangles, diagonals.

All of these are composites of four linear primitives (``reshape``,
``broadcast_to``, ``transpose``, ``getitem``/``concatenate``), so they need no
rules of their own. Most are a single gather: the function is applied to an
array of *positions* (``numpy.arange(x.size)`` reshaped like x) with NumPy itself,
and the result indexes x: ``pad``, ``roll``, ``repeat``, ``tile``, ``take``, ``sort``
all become ``x.ravel()[positions]``, whose VJP scatters with ``numpy.add.at``
semantics (repeated positions accumulate).

Multi-output functions (``split``, ``array_split``, ``meshgrid``) return lists of
single-output composites.

``at(x)[i].set(v)`` / ``.add(v)`` are functional updates (traced arrays cannot be
assigned to in place).
"""

from __future__ import annotations

import numpy as np

from chainrule.core.primitive import Tracer, concrete, shape_of
from chainrule.numpy import _elementwise as ew
from chainrule.numpy import _namespace as ns
from chainrule.numpy._indexing import Index, getitem_p, scatter_add_p
from chainrule.numpy._sorting import sort_p, take_along_axis_p

__all__ = [
    "atleast_1d", "atleast_2d", "atleast_3d", "hstack", "vstack", "dstack", "column_stack",
    "row_stack", "split", "array_split", "hsplit", "vsplit", "tile", "repeat", "flip",
    "fliplr", "flipud", "roll", "rot90", "pad", "triu", "tril", "diag", "diagonal", "trace",
    "meshgrid", "broadcast_arrays", "take", "take_along_axis", "sort", "flatten", "at",
    "append", "copy",
]


def _positions(x) -> np.ndarray:
    return np.arange(int(np.prod(shape_of(x)))).reshape(shape_of(x))


def _gather(x, positions: np.ndarray):
    """x.ravel()[positions] (positions an integer array of any shape)."""
    return getitem_p(ns.ravel(x), index=Index((np.asarray(positions, dtype=np.intp),)))


def _nd(x) -> int:
    return len(shape_of(x))


def atleast_1d(*arys):
    res = [a if _nd(a) >= 1 else ns.reshape(a, (1,)) for a in arys]
    return res[0] if len(res) == 1 else tuple(res)


def atleast_2d(*arys):
    res = []
    for a in arys:
        n = _nd(a)
        res.append(a if n >= 2 else ns.reshape(a, (1, 1) if n == 0 else (1,) + shape_of(a)))
    return res[0] if len(res) == 1 else tuple(res)


def atleast_3d(*arys):
    res = []
    for a in arys:
        s = shape_of(a)
        if len(s) == 0:
            a = ns.reshape(a, (1, 1, 1))
        elif len(s) == 1:
            a = ns.reshape(a, (1, s[0], 1))
        elif len(s) == 2:
            a = ns.reshape(a, s + (1,))
        res.append(a)
    return res[0] if len(res) == 1 else tuple(res)


def hstack(tup):
    arrs = [atleast_1d(a) for a in tup]
    return ns.concatenate(arrs, axis=0 if _nd(arrs[0]) == 1 else 1)


def vstack(tup):
    return ns.concatenate([atleast_2d(a) for a in tup], axis=0)


row_stack = vstack


def dstack(tup):
    return ns.concatenate([atleast_3d(a) for a in tup], axis=2)


def column_stack(tup):
    cols = [ns.reshape(a, (-1, 1)) if _nd(a) < 2 else a for a in tup]
    return ns.concatenate(cols, axis=1)


def append(arr, values, axis=None):
    if axis is None:
        return ns.concatenate([ns.ravel(arr), ns.ravel(values)], axis=0)
    return ns.concatenate([arr, values], axis=axis)


def _split_bounds(n: int, sections, strict: bool):
    if isinstance(sections, (int, np.integer)):
        k = int(sections)
        if strict and n % k:
            raise ValueError("array split does not result in an equal division")
        q, r = divmod(n, k)
        sizes = [q + 1] * r + [q] * (k - r)
        bounds = np.cumsum([0] + sizes)
        return list(zip(bounds[:-1], bounds[1:]))
    cuts = [0] + [min(int(c), n) for c in sections] + [n]
    return list(zip(cuts[:-1], cuts[1:]))


def array_split(ary, indices_or_sections, axis=0):
    """Split along ``axis`` into sub-arrays (views of slices: each one a getitem)."""
    ax = int(axis) % _nd(ary)
    pre = (slice(None),) * ax
    return [ns.getitem(ary, pre + (slice(int(a), int(b)),))
            for a, b in _split_bounds(shape_of(ary)[ax], indices_or_sections, False)]


def split(ary, indices_or_sections, axis=0):
    ax = int(axis) % _nd(ary)
    _split_bounds(shape_of(ary)[ax], indices_or_sections, True)
    return array_split(ary, indices_or_sections, axis)


def hsplit(ary, indices_or_sections):
    return split(ary, indices_or_sections, axis=1 if _nd(ary) > 1 else 0)


def vsplit(ary, indices_or_sections):
    return split(ary, indices_or_sections, axis=0)


def tile(A, reps):
    return _gather(A, np.tile(_positions(A), reps))


def repeat(a, repeats, axis=None):
    if isinstance(repeats, Tracer):
        repeats = concrete(repeats)
    return _gather(a, np.repeat(_positions(a), repeats, axis=axis))


def flip(m, axis=None):
    return _gather(m, np.flip(_positions(m), axis=axis))


def fliplr(m):
    return flip(m, 1)


def flipud(m):
    return flip(m, 0)


def roll(a, shift, axis=None):
    return _gather(a, np.roll(_positions(a), shift, axis=axis))


def rot90(m, k=1, axes=(0, 1)):
    return _gather(m, np.rot90(_positions(m), k, axes))


def pad(array, pad_width, mode="constant", **kwargs):
    """``numpy.pad``: every mode that copies elements (constant, edge, reflect, symmetric,
    wrap) is a gather; constant fill values are added where no element was copied."""
    if mode not in ("constant", "edge", "reflect", "symmetric", "wrap"):
        raise NotImplementedError(
            f"chainrule.numpy.pad: mode={mode!r} is not supported; use constant, edge, "
            "reflect, symmetric or wrap")
    pos = _positions(array)
    if mode != "constant":
        return _gather(array, np.pad(pos, pad_width, mode=mode, **kwargs))
    ppos = np.pad(pos, pad_width, mode="constant", constant_values=-1)
    inside = ppos >= 0
    body = ew.where_p(inside, _gather(array, np.where(inside, ppos, 0)), 0.0)
    cv = kwargs.get("constant_values", 0)
    if np.all(np.asarray(cv) == 0):
        return body
    fill = np.pad(np.zeros(shape_of(array)), pad_width, mode="constant", constant_values=cv)
    return body + fill


def _tri_mask(shape, k, upper: bool):
    n, m = shape[-2], shape[-1]
    return np.triu(np.ones((n, m), dtype=bool), k) if upper else np.tril(np.ones((n, m), bool), k)


def triu(m, k=0):
    return ew.where_p(_tri_mask(shape_of(m), k, True), m, 0.0)


def tril(m, k=0):
    return ew.where_p(_tri_mask(shape_of(m), k, False), m, 0.0)


def diagonal(a, offset=0, axis1=0, axis2=1):
    """Diagonal of the (axis1, axis2) planes, as a new last axis (numpy.diagonal)."""
    return _gather(a, np.diagonal(_positions(a), offset, axis1, axis2))


def diag(v, k=0):
    """1-D v: a 2-D array with v on diagonal k; 2-D v: its k-th diagonal."""
    if _nd(v) == 2:
        return diagonal(v, k)
    if _nd(v) != 1:
        raise ValueError("diag: input must be 1-D or 2-D")
    n = shape_of(v)[0] + abs(k)
    rows = np.arange(shape_of(v)[0]) + max(-k, 0)
    cols = np.arange(shape_of(v)[0]) + max(k, 0)
    return scatter_add_p(v, index=Index((rows, cols)), shape=(n, n))


def trace(a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    ns._no_out(out, "trace")
    return ns.sum(diagonal(a, offset, axis1, axis2), axis=-1)


def meshgrid(*xi, copy=True, sparse=False, indexing="xy"):
    n = len(xi)
    shape = [shape_of(x)[0] if _nd(x) else 1 for x in xi]
    if indexing == "xy" and n > 1:
        shape[0], shape[1] = shape[1], shape[0]
    out = []
    for i, x in enumerate(xi):
        s = [1] * n
        pos = i
        if indexing == "xy" and n > 1 and i < 2:
            pos = 1 - i
        s[pos] = shape[pos]
        r = ns.reshape(x, tuple(s))
        out.append(r if sparse else ns.broadcast_to(r, tuple(shape)))
    return tuple(out)


def broadcast_arrays(*args):
    shape = np.broadcast_shapes(*[shape_of(a) for a in args])
    return tuple(ns.broadcast_to(a, shape) if shape_of(a) != shape
                 else a if isinstance(a, Tracer) else np.asarray(a) for a in args)


def take(a, indices, axis=None, mode=None):
    idx = np.asarray(concrete(indices))
    if axis is None:
        return _gather(a, np.ravel(_positions(a))[idx])
    return _gather(a, np.take(_positions(a), idx, axis=axis))


def take_along_axis(arr, indices, axis):
    """``numpy.take_along_axis``: a gather by an integer array, differentiable in ``arr``."""
    if axis is None:
        return take_along_axis_p(ns.ravel(arr), indices, axis=0)
    return take_along_axis_p(arr, indices, axis=int(axis) % max(_nd(arr), 1))


def sort(a, axis=-1, kind=None, order=None):
    """Sorted copy along ``axis`` (stable); the derivative follows the permutation."""
    if order is not None:
        raise NotImplementedError("chainrule.numpy.sort: order= (structured arrays) is not "
                                  "supported")
    if axis is None:
        a, axis = ns.ravel(a), 0
    return sort_p(a, axis=int(axis) % max(_nd(a), 1))


def flatten(a, order="C"):
    return ns.ravel(a, order)


def copy(a, order="K", subok=False):
    return a if isinstance(a, Tracer) else np.copy(a, order=order, subok=subok)


class _At:
    """``at(x)[index]``: functional updates of a (possibly traced) array."""

    __slots__ = ("x",)

    def __init__(self, x) -> None:
        self.x = x

    def __getitem__(self, key) -> "_AtIndex":
        return _AtIndex(self.x, key)


class _AtIndex:
    __slots__ = ("x", "index")

    def __init__(self, x, key) -> None:
        self.x = x
        self.index = Index(key)

    def _placed(self, v):
        """v broadcast to x[index]'s shape and scattered (added) into zeros of x's shape."""
        target = np.empty(shape_of(self.x), dtype=bool)[self.index.key].shape
        if shape_of(v) != target:
            v = ns.broadcast_to(v, target)
        return scatter_add_p(v, index=self.index, shape=shape_of(self.x))

    def get(self):
        """x[index]."""
        return getitem_p(self.x, index=self.index)

    def add(self, v):
        """x with v added at index (repeated integer indices accumulate, like np.add.at)."""
        return self.x + self._placed(v)

    def subtract(self, v):
        return self.add(-v)

    def multiply(self, v):
        """x with the entries at index multiplied by v (indices must not repeat)."""
        mask = np.zeros(shape_of(self.x), dtype=bool)
        mask[self.index.key] = True
        factor = self._placed(v)
        return ew.where_p(mask, self.x * factor, self.x)

    def set(self, v):
        """x with the entries at index replaced by v (a new array; x is unchanged)."""
        mask = np.zeros(shape_of(self.x), dtype=bool)
        mask[self.index.key] = True
        if self.index.accumulates:
            counts = np.zeros(shape_of(self.x), dtype=int)
            np.add.at(counts, self.index.key, 1)
            if np.any(counts > 1):
                raise ValueError(
                    "at(x)[i].set(v): the index repeats a position, so which value is set is "
                    "ambiguous; use .add(v), or an index without repeats")
        return ew.where_p(mask, self._placed(v), self.x)


def at(x) -> _At:
    """Functional indexed updates: ``at(x)[i].set(v)``, ``.add(v)``, ``.multiply(v)``, ``.get()``.

    Example:
        >>> import chainrule as cr, chainrule.numpy as np
        >>> cr.grad(lambda x: np.sum(np.at(x)[1].set(x[0] ** 2)))(np.array([3.0, 1.0]))
        array([7., 0.])
    """
    return _At(x)
