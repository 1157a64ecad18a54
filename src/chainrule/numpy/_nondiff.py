"""Operations with a zero derivative almost everywhere.

They are primitives (so a staging trace records them) whose every rule is a
symbolic zero, so under ``jvp``/``vjp`` they return plain values: comparisons,
rounding, sign, arg-reductions, ``stop_gradient``.
"""

from __future__ import annotations

import operator

import numpy as np

from chainrule.core.primitive import Primitive


class _ZeroRules:
    """Rule table of any length whose every entry is a symbolic zero."""

    __slots__ = ()

    def __getitem__(self, i: int) -> None:
        return None


ZERO = _ZeroRules()


def nondiff(name: str, impl) -> Primitive:
    return Primitive(name, impl, jvps=ZERO, vjps=ZERO,
                     doc=f"{name}: piecewise constant, derivative 0 almost everywhere")


stop_gradient_p = Primitive(
    "stop_gradient", lambda x: x, jvps=ZERO, vjps=ZERO,
    doc="y = x, but no derivative flows through: ∂y/∂x is taken to be 0",
)

greater = nondiff("greater", operator.gt)
greater_equal = nondiff("greater_equal", operator.ge)
less = nondiff("less", operator.lt)
less_equal = nondiff("less_equal", operator.le)
equal = nondiff("equal", operator.eq)
not_equal = nondiff("not_equal", operator.ne)

NONDIFF_NUMPY = (
    "argmax", "argmin", "argsort", "round", "around", "isnan", "isinf", "isfinite",
    "logical_and", "logical_or", "logical_not", "logical_xor", "signbit", "heaviside",
    "count_nonzero", "nonzero", "argwhere", "searchsorted", "digitize", "isclose",
    "allclose", "array_equal", "all", "any", "zeros_like", "ones_like", "empty_like",
    "full_like", "iscomplex", "isreal",
)

nondiff_funcs = {name: nondiff(name, getattr(np, name)) for name in NONDIFF_NUMPY}
