"""The written form of each primitive's local partial derivatives, as the lecture writes them.

These strings are for display only: values always come from the primitives' own
JVP and VJP rules. ``{a0}``, ``{a1}`` stand for the arguments, ``{y}`` for the
result, ``{t0}``, ``{t1}`` for the argument tangents. A primitive missing here is
shown with the generic ``∂v_j/∂v_i``.
"""

from __future__ import annotations

__all__ = ["PARTIALS", "TANGENTS", "partial_template", "tangent_template"]

#: primitive name -> one template per positional argument: ∂ result / ∂ argument
PARTIALS: dict[str, tuple[str, ...]] = {
    "add": ("1", "1"),
    "sub": ("1", "-1"),
    "mul": ("{a1}", "{a0}"),
    "div": ("1 / {a1}", "-{y} / {a1}"),
    "neg": ("-1",),
    "sin": ("cos({a0})",),
    "cos": ("-sin({a0})",),
    "tan": ("1 + {y}**2",),
    "exp": ("{y}",),
    "log": ("1 / {a0}",),
    "sqrt": ("1 / (2 * {y})",),
    "tanh": ("1 - {y}**2",),
    "sinh": ("cosh({a0})",),
    "cosh": ("sinh({a0})",),
    "square": ("2 * {a0}",),
    "pow": ("{a1} * {a0}**({a1} - 1)", "{y} * log({a0})"),
    "log1p": ("1 / (1 + {a0})",),
    "expm1": ("{y} + 1",),
    "arctan": ("1 / (1 + {a0}**2)",),
    "abs": ("sign({a0})",),
    "sum": ("1",),
    "stop_gradient": ("0",),
}

#: whole tangent rules where the lecture writes them differently from Σ ∂v_j/∂v_i · v̇_i
TANGENTS: dict[str, str] = {
    "mul": "{t0} * {a1} + {a0} * {t1}",
    "div": "({t0} - {y} * {t1}) / {a1}",
    "exp": "{y} * {t0}",
}


def partial_template(prim_name: str, argnum: int) -> str | None:
    """The template of ∂prim/∂arg ``argnum``, or None when the table has none."""
    row = PARTIALS.get(prim_name)
    if row is None or argnum >= len(row):
        return None
    return row[argnum]


def tangent_template(prim_name: str) -> str | None:
    """The lecture's whole tangent rule for ``prim_name``, or None (build it from partials)."""
    return TANGENTS.get(prim_name)
