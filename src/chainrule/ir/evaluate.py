"""Running a program: ``eval_ir(program, *args)``.

Each equation binds its primitive (``prim(*args, **params)``), so evaluating a
program under ``grad``/``jvp`` differentiates it, and evaluating it on plain
values runs NumPy.
"""

from __future__ import annotations

from typing import Any

from chainrule.core.pytree import tree_flatten, tree_unflatten
from chainrule.ir.program import Lit, Program, Var

__all__ = ["eval_ir", "eval_flat"]


def eval_flat(prog: Program, flat_args: list) -> list:
    """The program's flat outputs for flat inputs (the leaves, in order)."""
    if len(flat_args) != len(prog.inputs):
        raise TypeError(
            f"eval_ir: the program {prog.name!r} has {len(prog.inputs)} input(s), got "
            f"{len(flat_args)} value(s)"
        )
    env: dict[int, Any] = {id(v): x for v, x in zip(prog.inputs, flat_args, strict=False)}

    def read(a):
        return env[id(a)] if isinstance(a, Var) else a.value

    for e in prog.eqns:
        out = e.prim(*[read(a) for a in e.invars], **e.params)
        if len(e.outvars) == 1 and not getattr(e.prim, "multiple_results", False):
            env[id(e.outvars[0])] = out
        else:
            for v, o in zip(e.outvars, out, strict=False):
                env[id(v)] = o
    return [read(o) if isinstance(o, (Var, Lit)) else o for o in prog.outputs]


def eval_ir(prog: Program, *args: Any) -> Any:
    """Run ``prog`` on arguments shaped like the ones it was traced with.

    Args:
        prog: a program from :func:`chainrule.make_ir` (or a pass).
        *args: the non-static arguments, pytrees as in the traced call.

    Returns:
        The result, with the structure of the traced function's result.
    """
    flat, tree = tree_flatten(tuple(args))
    if prog.in_tree is not None and tree != prog.in_tree:
        raise TypeError(f"eval_ir: arguments have structure {tree}, the program expects "
                        f"{prog.in_tree}")
    outs = eval_flat(prog, flat)
    if prog.out_tree is None:
        return outs
    return tree_unflatten(prog.out_tree, outs)
