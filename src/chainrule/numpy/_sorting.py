"""Sorting and gathers along an axis, as primitives whose indices are arguments.

* ``take_along_axis(a, idx, axis)``: ``y[..., j, ...] = a[..., idx[..., j, ...], ...]``.
  Linear in ``a``; its VJP scatters ȳ back with :func:`put_along_axis_add`
  (repeated indices accumulate), whose VJP is the gather again.
* ``sort(x, axis)``: ``y = take_along_axis(x, argsort(x), axis)``. The permutation
  is piecewise constant, so ẏ = ẋ gathered by it and x̄ = ȳ scattered by it.

The index array is a (non-differentiable) argument, not a parameter, and the
permutation comes from the ``argsort`` primitive, so staging (``jit``, ``make_ir``)
records it and ``vmap`` batches it like any other value.
"""

from __future__ import annotations

import numpy as np

from chainrule.core.primitive import Primitive, Reads, dtype_of, shape_of
from chainrule.numpy._nondiff import nondiff_funcs


def _put_along_axis_add_impl(g, idx, shape, axis):
    out = np.zeros(shape, dtype=np.result_type(dtype_of(g), np.float64)
                   if dtype_of(g).kind in "iub" else dtype_of(g))
    idx = np.asarray(idx)
    grids = list(np.ix_(*[np.arange(n) for n in idx.shape]))
    grids[axis] = idx
    np.add.at(out, tuple(grids), g)
    return out


take_along_axis_p = Primitive(
    "take_along_axis",
    lambda a, idx, axis: np.take_along_axis(a, np.asarray(idx), axis=axis),
    jvps=(lambda t, y, a, idx, axis: take_along_axis_p(t, idx, axis=axis), None),
    vjps=(lambda g, y, a, idx, axis:
          put_along_axis_add_p(g, idx, shape=shape_of(a), axis=axis), None),
    linear=True,
    reads=Reads((1,), ()),
    doc="y = a gathered along axis by idx; ā = ȳ scattered back (repeats accumulate)",
    batch="along_axis",
)

put_along_axis_add_p = Primitive(
    "put_along_axis_add",
    _put_along_axis_add_impl,
    jvps=(lambda t, y, g, idx, shape, axis:
          put_along_axis_add_p(t, idx, shape=shape, axis=axis), None),
    vjps=(lambda c, y, g, idx, shape, axis: take_along_axis_p(c, idx, axis=axis), None),
    linear=True,
    reads=Reads((1,), ()),
    doc="y = zeros(shape) with y[..., idx, ...] += g along axis; ḡ = ȳ gathered by idx",
    batch="along_axis",
)


def _perm(x, axis):
    return nondiff_funcs["argsort"](x, axis=axis, kind="stable")


sort_p = Primitive(
    "sort",
    lambda x, axis: np.sort(x, axis=axis, kind="stable"),
    jvps=(lambda t, y, x, axis: take_along_axis_p(t, _perm(x, axis), axis=axis),),
    vjps=(lambda g, y, x, axis:
          put_along_axis_add_p(g, _perm(x, axis), shape=shape_of(x), axis=axis),),
    reads=Reads((0,)),
    doc="y = x sorted along axis (stable); ẏ = ẋ permuted the same way, x̄ = ȳ unpermuted",
    batch="sort",
)
