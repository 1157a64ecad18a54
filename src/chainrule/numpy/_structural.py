"""Shape algebra of broadcasting: sum, reshape, broadcast_to, transpose.

These four linear primitives are what every other rule uses to move a tangent
or cotangent between shapes, so they live together. Conventions:

* ``sum(x, axis, keepdims)``: ``axis`` is ``None`` or a tuple of non-negative
  ints; its VJP broadcasts the cotangent back over the summed axes.
* ``broadcast_to(x, shape)``: its VJP is :func:`unbroadcast`, the sum over the
  axes broadcasting created or stretched.
* :func:`unbroadcast` ``(g, shape)`` reduces a cotangent of a broadcast result
  to an argument of ``shape``; :func:`broadcast_like` ``(t, ans)`` stretches a
  tangent to the output's shape.
* A *stretched* array is one number broadcast to a shape (every stride 0), as the
  adjoint of a sum or mean is (:mod:`chainrule.core.stretched`): ``unbroadcast`` sums
  it as a number, without a pass over memory.
"""

from __future__ import annotations

import numpy as np

from chainrule.core import backends
from chainrule.core import shape_rules
from chainrule.core.shape_rules import reduction_shape
from chainrule.core.primitive import Primitive, Reads, shape_of
from chainrule.core.stretched import stretched, stretched_value

_SHAPES_ONLY = Reads(())

__all__ = [
    "sum_p",
    "reshape_p",
    "broadcast_to_p",
    "transpose_p",
    "unbroadcast",
    "broadcast_like",
    "normalize_axis",
    "expand_reduced",
]


def normalize_axis(axis, ndim: int) -> tuple | None:
    """``None`` or an int/sequence of ints -> ``None`` or a sorted tuple of ints >= 0."""
    if axis is None:
        return None
    if isinstance(axis, (int, np.integer)):
        axis = (axis,)
    out = []
    for a in axis:
        a = int(a)
        if not -ndim <= a < max(ndim, 1):
            raise ValueError(f"axis {a} is out of bounds for an array of dimension {ndim}")
        out.append(a % ndim if ndim else 0)
    return tuple(sorted(set(out)))


def unbroadcast(g, shape: tuple):
    """Sum ``g`` over the axes that broadcasting added to or stretched from ``shape``."""
    gshape = shape_of(g)
    if gshape == shape:
        return g
    v = stretched_value(g)
    if v is not None:  # Σ of copies of one number: that number times the count
        return stretched(v * (g.size // max(1, _count(shape))), shape)
    lead = len(gshape) - len(shape)
    axes = tuple(range(lead)) + tuple(
        i + lead for i, d in enumerate(shape) if d == 1 and gshape[i + lead] != 1
    )
    if axes:
        g = sum_p(g, axis=axes, keepdims=True)
    if lead or shape_of(g) != shape:
        g = reshape_p(g, shape=shape)
    return g


def _count(shape: tuple) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


def broadcast_like(t, ans):
    """Stretch tangent ``t`` to the shape of ``ans`` when broadcasting made it larger."""
    shape = shape_of(ans)
    if shape_of(t) == shape:
        return t
    if type(t) is float and type(ans) is np.ndarray and ans.dtype.kind in "fc":
        t = ans.dtype.type(t)  # a Python float adopts the array's precision, as in NumPy
    return broadcast_to_p(t, shape=shape)


def _sum_impl(x, axis=None, keepdims=False):
    if type(x) is np.ndarray:  # the method skips np.sum's dispatch (a third of a small sum)
        return x.sum(axis=axis, keepdims=keepdims)
    return np.sum(x, axis=axis, keepdims=keepdims)


def expand_reduced(g, shape: tuple, axis, keepdims: bool):
    """Broadcast ``g``, the result of a reduction over ``axis``, back to ``shape``."""
    if axis is not None and not keepdims:
        g = reshape_p(g, shape=tuple(1 if i in axis else d for i, d in enumerate(shape)))
    return broadcast_to_p(g, shape=shape)


def _sum_vjp(g, ans, x, axis=None, keepdims=False):
    if type(x) is not np.ndarray and backends.is_foreign(x) and backends.is_foreign(g):
        if axis is not None and not keepdims:  # a Dask sum's adjoint, in x's chunks
            g = reshape_p(g, shape=tuple(1 if i in axis else d for i, d in enumerate(x.shape)))
        return backends.broadcast_chunked(g, x)
    return expand_reduced(g, shape_of(x), axis, keepdims)


sum_p = Primitive(
    "sum",
    _sum_impl,
    jvps=(lambda t, ans, x, **p: sum_p(t, **p),),
    vjps=(_sum_vjp,),
    linear=True,
    reads=_SHAPES_ONLY,
    doc="y = Σ_axis x. JVP: Σ_axis ẋ. VJP: x̄ = broadcast of ȳ over the summed axes.",
    batch="reduction",
    partials=("1",),
    abstract_eval=reduction_shape("sum"),
)

reshape_p = Primitive(
    "reshape",
    lambda x, shape: np.reshape(x, shape) if type(x) is np.ndarray or not backends.is_foreign(x)
    else backends.reshape(x, shape),
    jvps=(lambda t, ans, x, shape: reshape_p(t, shape=shape),),
    vjps=(lambda g, ans, x, shape: reshape_p(g, shape=shape_of(x)),),
    linear=True,
    reads=_SHAPES_ONLY,
    doc="y = x viewed with a new shape. VJP: ȳ reshaped to x's shape.",
    batch="reshape", gather=True, abstract_eval=shape_rules.reshape_shape,
)


def _broadcast_to_impl(x, shape):
    if type(x) is float or type(x) is np.float64:  # a number: stretch it without nditer
        return stretched(x, shape)
    return np.broadcast_to(x, shape)


broadcast_to_p = Primitive(
    "broadcast_to",
    _broadcast_to_impl,
    jvps=(lambda t, ans, x, shape: broadcast_to_p(t, shape=shape),),
    vjps=(lambda g, ans, x, shape: unbroadcast(g, shape_of(x)),),
    linear=True,
    reads=_SHAPES_ONLY,
    doc="y = x broadcast to `shape`. VJP: ȳ summed over the broadcast axes.",
    batch="broadcast_to", gather=True, abstract_eval=shape_rules.broadcast_to_shape,
)

transpose_p = Primitive(
    "transpose",
    lambda x, axes: np.transpose(x, axes),
    jvps=(lambda t, ans, x, axes: transpose_p(t, axes=axes),),
    vjps=(lambda g, ans, x, axes: transpose_p(g, axes=tuple(np.argsort(axes))),),
    linear=True,
    reads=_SHAPES_ONLY,
    doc="y = x with axes permuted by `axes`. VJP: ȳ permuted by the inverse permutation.",
    batch="transpose", gather=True, abstract_eval=shape_rules.transpose_shape,
)
