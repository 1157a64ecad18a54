"""The printed form of a program: the lecture's evaluation trace.

Inputs are ``v-1, v0`` (``v_{-n+1} … v_0``), each equation one line
``v_i = op(args)`` with the arithmetic operators written infix, as in the lecture::

    inputs: v-1 = x1, v0 = x2
    v1 = v-1 / v0
    v2 = sin(v1)
    ...
    outputs: v6
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.ir.program import Lit, Program, Var

__all__ = ["pretty", "var_names", "format_atom", "format_eqn", "operator_form"]


def operator_form(prim: Any, args: list[str]) -> str | None:
    """``a + b`` or ``-a`` for a primitive printed as an operator (its ``symbol``: infix
    between two arguments, prefix before one), else None.

    >>> from chainrule.core.primitive import Primitive
    >>> plus = Primitive("plus_for_doc", lambda a, b: a + b, symbol="+", register=False)
    >>> operator_form(plus, ["v1", "v2"]), operator_form(plus, ["v1", "v2", "v3"])
    ('v1 + v2', None)
    """
    symbol = getattr(prim, "symbol", None)  # equations of generated code only: no symbol
    if symbol is None:
        return None
    if len(args) == 2:
        return f"{args[0]} {symbol} {args[1]}"
    return f"{symbol}{args[0]}" if len(args) == 1 else None


def var_names(prog: Program) -> dict[int, str]:
    """``id(var) -> name``: inputs ``v-{n-1}``…``v0``, results ``v1``, ``v2``, …"""
    names: dict[int, str] = {}
    n = len(prog.inputs)
    for i, v in enumerate(prog.inputs):
        names[id(v)] = f"v{i - n + 1}"
    k = 1
    for e in prog.eqns:
        for o in e.outvars:
            names[id(o)] = f"v{k}"
            k += 1
    return names


def format_atom(a: Any, names: dict[int, str]) -> str:
    if isinstance(a, Var):
        return names.get(id(a), "?")
    v = a.value if isinstance(a, Lit) else a
    if isinstance(v, np.ndarray):
        if v.ndim == 0:
            return repr(v.item())
        if v.size <= 4:
            return np.array2string(v, separator=", ")
        return f"const:{Lit(v).aval.short()}"
    if isinstance(v, np.generic):
        return repr(v.item())
    return repr(v)


def _format_param(v: Any) -> str:
    if isinstance(v, Program):
        return f"<{len(v.eqns)} eqns>"
    if callable(v):
        return getattr(v, "__name__", "fn")
    return repr(v)


def format_eqn(e, names: dict[int, str], types: bool = False) -> str:
    """One line of the trace: ``v3 = v1 - v2`` or ``v4 = sum(v3, axis=0)``."""
    args = [format_atom(a, names) for a in e.invars]
    name = e.prim.name
    params = {k: v for k, v in e.params.items() if not isinstance(v, Program)}
    rhs = None if params else operator_form(e.prim, args)
    if rhs is None:
        inner = args + [f"{k}={_format_param(v)}" for k, v in params.items()]
        rhs = f"{name}({', '.join(inner)})"
    lhs = ", ".join(names.get(id(o), "?") for o in e.outvars)
    if types:
        lhs = ", ".join(f"{names[id(o)]}:{o.aval.short()}" for o in e.outvars)
    return f"{lhs} = {rhs}"


def pretty(prog: Program, types: bool = False, indent: str = "") -> str:
    """The whole program, one equation per line (sub-programs indented below theirs)."""
    names = var_names(prog)
    hints = prog.arg_names
    ins = []
    for i, v in enumerate(prog.inputs):
        s = names[id(v)]
        if types:
            s += f":{v.aval.short()}"
        hint = v.hint or (hints[i] if i < len(hints) else None)
        ins.append(f"{s} = {hint}" if hint else s)
    lines = [f"{indent}inputs: {', '.join(ins)}"]
    for e in prog.eqns:
        lines.append(indent + format_eqn(e, names, types))
        for k, v in e.params.items():
            if isinstance(v, Program):
                lines.append(f"{indent}  {k}:")
                lines.append(pretty(v, types, indent + "    "))
    outs = ", ".join(format_atom(o, names) for o in prog.outputs)
    lines.append(f"{indent}outputs: {outs}")
    return "\n".join(lines)
