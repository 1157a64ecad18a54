"""Operations with a zero derivative almost everywhere.

They are primitives (so a staging trace records them) whose every rule is a
symbolic zero, so under ``jvp``/``vjp`` they return plain values: comparisons,
rounding, sign, arg-reductions, ``stop_gradient``.
"""

from __future__ import annotations

import operator

import numpy as np

from chainrule.core.primitive import Primitive
from chainrule.core.shape_rules import elementwise_shape, reduction_shape


class _ZeroRules:
    """Rule table of any length whose every entry is a symbolic zero."""

    __slots__ = ()

    def __getitem__(self, i: int) -> None:
        return None


ZERO = _ZeroRules()


def nondiff(name: str, impl, **fields) -> Primitive:
    """A primitive whose derivative is 0; ``fields``: the rest of its record (its written
    partials are 0)."""
    fields.setdefault("partials", ("0", "0"))
    return Primitive(name, impl, jvps=ZERO, vjps=ZERO,
                     doc=f"{name}: piecewise constant, derivative 0 almost everywhere", **fields)


stop_gradient_p = Primitive(
    "stop_gradient", lambda x: x, jvps=ZERO, vjps=ZERO,
    doc="y = x, but no derivative flows through: ∂y/∂x is taken to be 0",
    batch="elementwise",
    partials=("0",),
    abstract_eval=elementwise_shape("first"),
)

greater = nondiff("greater", operator.gt,
                  batch="elementwise", sympy="Gt", abstract_eval=elementwise_shape("bool"))
greater_equal = nondiff("greater_equal", operator.ge,
                        batch="elementwise", sympy="Ge", abstract_eval=elementwise_shape("bool"))
less = nondiff("less", operator.lt,
               batch="elementwise", sympy="Lt", abstract_eval=elementwise_shape("bool"))
less_equal = nondiff("less_equal", operator.le,
                     batch="elementwise", sympy="Le", abstract_eval=elementwise_shape("bool"))
equal = nondiff("equal", operator.eq,
                batch="elementwise", sympy="Eq", abstract_eval=elementwise_shape("bool"))
not_equal = nondiff("not_equal", operator.ne,
                    batch="elementwise", sympy="Ne", abstract_eval=elementwise_shape("bool"))


#: the NumPy functions of zero derivative, each with the rest of its record: the batching
#: rule (``"loop"``: one call per example, for results whose shape depends on the values)
#: and the SymPy counterpart where there is one
def _elementwise(dtype: str, ufunc: str | None = None, **fields) -> dict:
    return dict(batch="elementwise", abstract_eval=elementwise_shape(dtype, ufunc), **fields)


NONDIFF_NUMPY = {
    "argmax": dict(batch="argreduction"), "argmin": dict(batch="argreduction"),
    "argsort": dict(batch="sort"), "round": _elementwise("first"),
    "around": _elementwise("first"), "isnan": _elementwise("bool"),
    "isinf": _elementwise("bool"), "isfinite": _elementwise("bool"),
    "logical_and": _elementwise("bool", sympy="And"),
    "logical_or": _elementwise("bool", sympy="Or"),
    "logical_not": _elementwise("bool", sympy="Not"),
    "logical_xor": _elementwise("bool"), "signbit": _elementwise("bool"),
    "heaviside": _elementwise("promote", "heaviside"), "count_nonzero": dict(batch="reduction"),
    "nonzero": dict(batch="loop"), "argwhere": dict(batch="loop"),
    "searchsorted": dict(batch="loop"), "digitize": dict(batch="loop"),
    "isclose": _elementwise("bool"), "allclose": dict(batch="loop"),
    "array_equal": dict(batch="loop"),
    "all": dict(batch="reduction", abstract_eval=reduction_shape("bool")),
    "any": dict(batch="reduction", abstract_eval=reduction_shape("bool")),
    "zeros_like": _elementwise("first"), "ones_like": _elementwise("first"),
    "empty_like": _elementwise("first"), "full_like": dict(batch="loop"),
    "iscomplex": _elementwise("bool"), "isreal": _elementwise("bool"),
}

nondiff_funcs = {name: nondiff(name, getattr(np, name), **fields)
                 for name, fields in NONDIFF_NUMPY.items()}
