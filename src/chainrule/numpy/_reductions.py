"""Reductions beyond ``sum``: product, maximum, minimum.

Conventions: ``axis`` is ``None`` or a sorted tuple of non-negative ints (the
public wrappers normalise it); the VJP broadcasts the reduced cotangent back
over the reduced axes with :func:`expand_reduced`.

* ``prod``: ∂(Πx)/∂x_i = Π_{j≠i} x_j, computed as y/x_i when no factor is zero
  and exactly (product of the other factors) when one is; with two or more zeros
  every partial is 0.
* ``max``/``min``: the cotangent goes to the elements equal to the extremum,
  split equally between ties.
"""

from __future__ import annotations

import numpy as np

from chainrule.core.shape_rules import reduction_shape
from chainrule.core.primitive import (
    ANS,
    Primitive,
    Reads,
    anywhere,
    concrete,
    dtype_of,
    shape_of,
)
from chainrule.numpy._elementwise import where_p
from chainrule.numpy._structural import expand_reduced, sum_p


def _prod_partials(ans, x, axis, keepdims):
    """Π_{j≠i} x_j for every i, in chainrule ops (so it differentiates again)."""
    xc = concrete(x)
    zero = xc == 0
    if not anywhere(zero):
        return expand_reduced(ans, shape_of(x), axis, keepdims) / x
    nzeros = np.sum(zero, axis=axis, keepdims=True)
    others = prod_p(where_p(zero, 1.0, x), axis=axis, keepdims=True)
    full = others / where_p(zero, 1.0, x)  # product of the others when no zero is excluded
    return where_p(zero, where_p(nzeros == 1, others, 0.0), where_p(nzeros == 0, full, 0.0))


prod_p = Primitive(
    "prod",
    lambda x, axis=None, keepdims=False: np.prod(x, axis=axis, keepdims=keepdims),
    jvps=(lambda t, y, x, axis=None, keepdims=False:
          sum_p(t * _prod_partials(y, x, axis, keepdims), axis=axis, keepdims=keepdims),),
    vjps=(lambda g, y, x, axis=None, keepdims=False:
          expand_reduced(g, shape_of(x), axis, keepdims) * _prod_partials(y, x, axis, keepdims),),
    doc="y = Π_axis x; x̄_i = ȳ·Π_{j≠i} x_j (exact with zero factors)",
    reads=Reads((0, ANS)),
    batch="reduction",
    abstract_eval=reduction_shape("sum"),
)


def _tie_weights(ans, x, axis, keepdims):
    """1/k on the k elements that attain the extremum along ``axis``, 0 elsewhere."""
    xc = concrete(x)
    yc = concrete(ans)
    if axis is not None and not keepdims:
        yc = np.expand_dims(yc, axis)
    dtype = dtype_of(x)
    hit = (xc == yc) * np.ones((), dtype if dtype.kind == "f" else np.float64)  # x's precision
    return hit / hit.sum(axis=axis, keepdims=True)


def _extremum_reduction(name, np_fn):
    return Primitive(
        name,
        lambda x, axis=None, keepdims=False: np_fn(x, axis=axis, keepdims=keepdims),
        jvps=(lambda t, y, x, axis=None, keepdims=False:
              sum_p(t * _tie_weights(y, x, axis, keepdims), axis=axis, keepdims=keepdims),),
        vjps=(lambda g, y, x, axis=None, keepdims=False:
              expand_reduced(g, shape_of(x), axis, keepdims) * _tie_weights(y, x, axis, keepdims),),
        doc=f"y = {name}_axis x; x̄ = ȳ on the elements equal to y, split equally between ties",
        reads=Reads((0, ANS)), batch="reduction", abstract_eval=reduction_shape("first"),
    )


max_p = _extremum_reduction("max", np.max)
min_p = _extremum_reduction("min", np.min)
