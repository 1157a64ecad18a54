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


def nondiff(name: str, impl, **fields) -> Primitive:
    """A primitive whose derivative is 0; ``fields``: the rest of its record."""
    return Primitive(name, impl, jvps=ZERO, vjps=ZERO,
                     doc=f"{name}: piecewise constant, derivative 0 almost everywhere", **fields)


stop_gradient_p = Primitive(
    "stop_gradient", lambda x: x, jvps=ZERO, vjps=ZERO,
    doc="y = x, but no derivative flows through: ∂y/∂x is taken to be 0",
    batch="elementwise",
    partials=("0",),
)

greater = nondiff("greater", operator.gt, batch="elementwise", sympy="Gt")
greater_equal = nondiff("greater_equal", operator.ge, batch="elementwise", sympy="Ge")
less = nondiff("less", operator.lt, batch="elementwise", sympy="Lt")
less_equal = nondiff("less_equal", operator.le, batch="elementwise", sympy="Le")
equal = nondiff("equal", operator.eq, batch="elementwise", sympy="Eq")
not_equal = nondiff("not_equal", operator.ne, batch="elementwise", sympy="Ne")

#: the NumPy functions of zero derivative, each with the rest of its record: the batching
#: rule (``"loop"``: one call per example, for results whose shape depends on the values)
#: and the SymPy counterpart where there is one
NONDIFF_NUMPY = {
    "argmax": dict(batch="argreduction"), "argmin": dict(batch="argreduction"),
    "argsort": dict(batch="sort"), "round": dict(batch="elementwise"),
    "around": dict(batch="elementwise"), "isnan": dict(batch="elementwise"),
    "isinf": dict(batch="elementwise"), "isfinite": dict(batch="elementwise"),
    "logical_and": dict(batch="elementwise", sympy="And"),
    "logical_or": dict(batch="elementwise", sympy="Or"),
    "logical_not": dict(batch="elementwise", sympy="Not"),
    "logical_xor": dict(batch="elementwise"), "signbit": dict(batch="elementwise"),
    "heaviside": dict(batch="elementwise"), "count_nonzero": dict(batch="reduction"),
    "nonzero": dict(batch="loop"), "argwhere": dict(batch="loop"),
    "searchsorted": dict(batch="loop"), "digitize": dict(batch="loop"),
    "isclose": dict(batch="elementwise"), "allclose": dict(batch="loop"),
    "array_equal": dict(batch="loop"), "all": dict(batch="reduction"),
    "any": dict(batch="reduction"), "zeros_like": dict(batch="elementwise"),
    "ones_like": dict(batch="elementwise"), "empty_like": dict(batch="elementwise"),
    "full_like": dict(batch="loop"), "iscomplex": dict(batch="elementwise"),
    "isreal": dict(batch="elementwise"),
}

nondiff_funcs = {name: nondiff(name, getattr(np, name), **fields)
                 for name, fields in NONDIFF_NUMPY.items()}
