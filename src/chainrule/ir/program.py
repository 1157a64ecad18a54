"""The program representation: a typed, first-order program in A-normal form.

A :class:`Program` is the lecture's evaluation trace as data: inputs
``v_{-n+1} … v_0``, then one equation ``v_i = op(args)`` per line, each naming a
primitive, its arguments (variables or constants) and its non-array parameters,
then the outputs. Every variable carries an abstract value (:class:`AVal`: shape,
dtype, and whether it is a Python float), which is all that code generation and
the passes need. This module knows nothing of tracing: staging builds programs,
passes rewrite them, :mod:`chainrule.ir.evaluate` runs them, codegen prints them
as Python.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.core.abstract import AVal, aval_of

__all__ = ["AVal", "Var", "Lit", "Eqn", "Program", "aval_of", "atom_key"]


class Var:
    """A program variable. ``hint`` is a name from the user's code, when known."""

    __slots__ = ("aval", "hint", "__weakref__")

    def __init__(self, aval: AVal, hint: str | None = None) -> None:
        self.aval = aval
        self.hint = hint

    def __repr__(self) -> str:
        return f"Var({self.aval.short()}{', ' + self.hint if self.hint else ''})"


class Lit:
    """A constant argument (a Python scalar or an array captured from the user's code)."""

    __slots__ = ("value", "aval")

    def __init__(self, value: Any) -> None:
        self.value = value
        self.aval = aval_of(value)

    def is_scalar(self) -> bool:
        return type(self.value) in (float, int, bool, complex) or (
            isinstance(self.value, np.generic)
        )

    def __repr__(self) -> str:
        return f"Lit({self.value!r})"


def atom_key(a: Any) -> Any:
    """A hashable key for an argument: the variable itself, or a constant's value."""
    if isinstance(a, Var):
        return ("v", id(a))
    v = a.value if isinstance(a, Lit) else a
    if type(v) in (float, int, bool, complex):
        return ("c", type(v), v)
    if isinstance(v, np.generic):
        return ("g", v.dtype.str, v.item())
    if isinstance(v, np.ndarray) and v.size <= 16:
        return ("a", v.dtype.str, v.shape, v.tobytes())
    return ("o", id(v))


class Eqn:
    """One line ``outvars = prim(*invars, **params)``.

    Args:
        prim: the primitive (anything with ``name`` and ``impl``).
        invars: the arguments, each a :class:`Var` or a :class:`Lit`.
        outvars: the results (one :class:`Var` for almost every primitive).
        params: the non-array parameters (axis, shape, sub-programs...).
        origin: where the line came from, for comments ("adjoint of v3 = sin(v1)").
    """

    __slots__ = ("prim", "invars", "outvars", "params", "origin")

    def __init__(self, prim: Any, invars: list, outvars: list, params: dict,
                 origin: str | None = None) -> None:
        self.prim = prim
        self.invars = list(invars)
        self.outvars = list(outvars)
        self.params = dict(params)
        self.origin = origin

    def __repr__(self) -> str:
        return f"Eqn({self.prim.name}, {self.invars}, {self.outvars})"


class Program:
    """A first-order program: ``inputs``, ``eqns`` in order, ``outputs``.

    ``outputs`` are variables or :class:`Lit` constants. ``in_tree``/``out_tree``
    (optional) are the pytree structures of the original function's arguments and
    result, so a program can be called like the function it was traced from.
    ``name`` is the function's name and ``arg_names`` its parameter names.
    """

    __slots__ = ("inputs", "eqns", "outputs", "in_tree", "out_tree", "name", "arg_names",
                 "__weakref__")  # weakly referenced: caches of derived programs die with it

    def __init__(self, inputs: list, eqns: list, outputs: list, in_tree: Any = None,
                 out_tree: Any = None, name: str = "f", arg_names: tuple = ()) -> None:
        self.inputs = list(inputs)
        self.eqns = list(eqns)
        self.outputs = list(outputs)
        self.in_tree = in_tree
        self.out_tree = out_tree
        self.name = name
        self.arg_names = tuple(arg_names)

    def replace(self, **changes: Any) -> "Program":
        fields = {k: getattr(self, k) for k in self.__slots__ if k != "__weakref__"}
        fields.update(changes)
        return Program(**fields)

    def __len__(self) -> int:
        return len(self.eqns)

    def primitive_counts(self) -> dict[str, int]:
        """How many equations use each primitive."""
        counts: dict[str, int] = {}
        for e in self.eqns:
            counts[e.prim.name] = counts.get(e.prim.name, 0) + 1
        return counts

    def last_reads(self) -> dict[int, tuple[int, "Var"]]:
        """``id(var) -> (index of the last equation reading it, var)``; outputs are read
        after the last equation (index ``len(eqns)``)."""
        last: dict[int, tuple[int, Var]] = {}
        for n, e in enumerate(self.eqns):
            for a in e.invars:
                if isinstance(a, Var):
                    last[id(a)] = (n, a)
        for o in self.outputs:
            if isinstance(o, Var):
                last[id(o)] = (len(self.eqns), o)
        return last

    def names(self) -> dict[int, str]:
        """``id(var) -> "v_i"``: inputs v_{-n+1}…v_0, equation results v_1, v_2, …"""
        from chainrule.ir.printer import var_names

        return var_names(self)

    def pretty(self, types: bool = False) -> str:
        from chainrule.ir.printer import pretty

        return pretty(self, types=types)

    def __str__(self) -> str:
        return self.pretty()

    def __repr__(self) -> str:
        return (f"<Program {self.name}: {len(self.inputs)} inputs, {len(self.eqns)} equations, "
                f"{len(self.outputs)} outputs>")

    def _repr_pretty_(self, p, cycle) -> None:  # IPython
        p.text(self.pretty())
