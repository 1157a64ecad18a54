"""Statements from equations, written once for every source backend.

:class:`Emitter` turns a program's equations into lines of Python-syntax source:
plain equations through the dialect's :meth:`~Emitter.assignment`, and ``scan``,
``while_loop`` and ``cond`` inline as ``for``/``while``/``if`` over their
sub-programs. A dialect (a subclass: :mod:`chainrule.ir.codegen` for Python,
:mod:`chainrule.ir.numba_codegen` for Numba) says how a value and an equation are
spelled, what it refuses, and how a loop reads its slices and keeps its per-step
outputs; the loop and branch structure is the same for all.
"""

from __future__ import annotations

import keyword
import math
import re
from abc import ABC, abstractmethod
from typing import Any, NamedTuple

import numpy as np

from chainrule.ir.program import Program, Var

__all__ = ["Emitter", "StepIO", "assign", "ident"]


def ident(name: str | None, used: set) -> str | None:
    """``name`` made a fresh Python identifier (recorded in ``used``); None for no name."""
    if not name:
        return None
    s = re.sub(r"\W", "_", name)
    if not s or s[0].isdigit() or keyword.iskeyword(s):
        s = "_" + s
    base, k = s, 1
    while s in used:
        s = f"{base}_{k}"
        k += 1
    used.add(s)
    return s


def assign(targets: list, exprs: list) -> list[str]:
    """``a, b = x, y`` as a line (no line for no targets)."""
    if not targets:
        return []
    return [f"{', '.join(targets)} = {', '.join(exprs)}"]


class StepIO(NamedTuple):
    """How one scan reads its slices and keeps its per-step outputs (the dialect's part).

    Attributes:
        setup: lines before the loop (converted inputs, empty output containers).
        header: the ``for`` line, binding the step counter (and the slices, if it can).
        slices: the names the body reads the current slice of each scanned input from.
        prefix: lines opening every step (reading the slices the header did not bind).
        stores: per output, a ``str.format`` template saving the step's value ``{}``.
        ys: the names of the per-step output containers.
    """

    setup: list
    header: str
    slices: list
    prefix: list
    stores: list
    ys: list


class Emitter(ABC):
    """Lines of source for equations; subclasses supply the dialect's spelling.

    Attributes:
        used: the identifiers taken so far (fresh names avoid them).
        ns: the namespace the generated source runs in (``math``, ``np`` and constants).
    """

    def __init__(self) -> None:
        self.used: set = {"math", "np"}
        self.ns: dict[str, Any] = {"math": math, "np": np}

    @abstractmethod
    def atom(self, a: Any, names: dict) -> str:
        """The expression for a variable or literal."""

    @abstractmethod
    def assignment(self, e, names: dict) -> str:
        """The line computing a plain (not loop or branch) equation."""

    @abstractmethod
    def scan_io(self, e, xs: list, t: str, rng: str, res: list) -> StepIO:
        """How scan ``e`` (inputs ``xs``, step ``t`` over ``rng``, results ``res``) steps."""

    @abstractmethod
    def scan_results(self, e, io: StepIO, res: list, carry: list) -> list[str]:
        """Lines after scan ``e``'s loop binding its results ``res`` (carries first)."""

    @abstractmethod
    def check(self, e) -> None:
        """Refuse (raise for) a loop or branch ``e`` that the dialect cannot write.

        Called before the operands are written, for a scan after (a literal the dialect
        cannot spell is then named as such).
        """

    def name_inputs(self, prog: Program, names: dict) -> list[str]:
        """Name ``prog``'s inputs after the user's parameters (``x<i>`` where unnamed)."""
        args = []
        for i, v in enumerate(prog.inputs):
            hint = v.hint or (prog.arg_names[i] if i < len(prog.arg_names) else None)
            n = ident(hint, self.used) or ident(f"x{i}", self.used)
            names[id(v)] = n
            args.append(n)
        return args

    def name_results(self, prog: Program, names: dict, hints: dict) -> None:
        """Name the equation results ``v1, v2, ...``, or ``hints[id(var)]`` where given."""
        k = 0
        for e in prog.eqns:
            for o in e.outvars:
                k += 1
                names[id(o)] = ident(hints.get(id(o)), self.used) or ident(f"v{k}", self.used)

    def walk(self, eqns: list, names: dict) -> list[str]:
        """The lines of a program's equations, in order: the one walk every dialect shares
        (each equation's own lines come from :meth:`lines`, framed by the dialect's
        :meth:`before` and :meth:`after`)."""
        out: list[str] = []
        for n, e in enumerate(eqns):
            out.extend(self.before(n, e, names))
            out.extend(self.lines(e, names))
            out.extend(self.after(n, e, names))
        return out

    def before(self, n: int, e, names: dict) -> list[str]:
        """Lines before equation ``n`` of the top level (a comment saying where it is from)."""
        return []

    def after(self, n: int, e, names: dict) -> list[str]:
        """Lines after equation ``n`` of the top level (freeing what died, storing a result)."""
        return []

    def lines(self, e, names: dict) -> list[str]:
        """The source lines of one equation (loops and branches inline their sub-programs)."""
        kind = _STRUCTURED.get(e.prim.name)
        if kind is not None and isinstance(e.params.get(kind[0]), Program):
            return kind[1](self, e, names)
        return [self.assignment(e, names)]

    def block(self, prog: Program, names: dict, in_exprs: list,
              preset: dict | None = None) -> tuple[list, list]:
        """Lines computing ``prog`` with its inputs bound to ``in_exprs``; its output exprs.

        ``preset`` names some equation results directly (a loop writes its new carry into
        the carry variable when the old value is dead by then: no copy per step).
        """
        for v, x in zip(prog.inputs, in_exprs, strict=True):
            names[id(v)] = x
        lines: list[str] = []
        preset = preset or {}
        for e in prog.eqns:
            for o in e.outvars:
                names[id(o)] = preset.get(id(o)) or ident("t", self.used)
            lines.extend(self.lines(e, names))
        return lines, [self.atom(o, names) for o in prog.outputs]

    def emit_scan(self, e, names: dict) -> list[str]:
        """``for`` over the body, written inline: carry variables, per-step outputs kept."""
        p = e.params
        body, nc, nk, lo, length, reverse = (p["body"], p["nc"], p["nk"], p["lo"],
                                             p["length"], p["reverse"])
        ins = [self.atom(a, names) for a in e.invars]
        self.check(e)
        consts, init, xs = ins[:nc], ins[nc:nc + nk], ins[nc + nk:]
        carry = [ident("c", self.used) for _ in range(nk)]
        t = ident("step", self.used)
        lines = [f"# loop: {len(body.eqns)}-equation body {body.name!r}, {length} steps"
                 + (", reversed" if reverse else "")]
        lines += assign(carry, init)
        res = [names[id(o)] for o in e.outvars]
        rng = f"range({length - 1}, -1, -1)" if reverse else f"range({length})"
        io = self.scan_io(e, xs, t, rng, res)
        lines += io.setup + [io.header]
        idx = [] if lo is None else [t if lo == 0 else f"({t} + {lo})"]
        k_in = body.inputs[len(idx) + nc:len(idx) + nc + nk]
        # per-step outputs that are inputs (the stored carries) are stored first
        early = [isinstance(o, Var) and any(o is v for v in body.inputs)
                 for o in body.outputs[nk:]]
        preset = _carry_in_place(body, k_in, nk, early, carry)
        inner, outs = self.block(body, names, idx + consts + carry + io.slices, preset)
        stores = [s.format(o) for s, o in zip(io.stores, outs[nk:], strict=True)]
        inner = (io.prefix + [s for s, e_ in zip(stores, early, strict=True) if e_] + inner
                 + [s for s, e_ in zip(stores, early, strict=True) if not e_])
        todo = [(c, o) for c, o in zip(carry, outs[:nk], strict=True) if c != o]
        inner += assign([c for c, _ in todo], [o for _, o in todo])
        lines += ["    " + ln for ln in inner] or ["    pass"]
        return lines + self.scan_results(e, io, res, carry)

    def emit_while(self, e, names: dict) -> list[str]:
        """``while True`` with the condition's program and a ``break`` before the body."""
        p = e.params
        cprog, bprog, ncc, ncb = p["cond"], p["body"], p["ncc"], p["ncb"]
        self.check(e)
        ins = [self.atom(a, names) for a in e.invars]
        cc, cb, init = ins[:ncc], ins[ncc:ncc + ncb], ins[ncc + ncb:]
        carry = [ident("c", self.used) for _ in init]
        lines = [f"# while loop: {len(bprog.eqns)}-equation body {bprog.name!r}"]
        lines += assign(carry, init)
        lines.append("while True:")
        cl, co = self.block(cprog, names, cc + carry)
        bl, bo = self.block(bprog, names, cb + carry)
        inner = cl + [f"if not {co[0]}:", "    break"] + bl + assign(carry, bo)
        lines += ["    " + ln for ln in inner]
        lines += assign([names[id(o)] for o in e.outvars], carry)
        return lines

    def emit_cond(self, e, names: dict) -> list[str]:
        """``if``/``else`` with each branch's program inline."""
        self.check(e)
        ins = [self.atom(a, names) for a in e.invars]
        res = [names[id(o)] for o in e.outvars]
        lines = [f"if {ins[0]}:"]
        for k, prog in ((0, e.params["true"]), (1, e.params["false"])):
            bl, bo = self.block(prog, names, ins[1:])
            lines += ["    " + ln for ln in bl + assign(res, bo)] or ["    pass"]
            if k == 0:
                lines.append("else:")
        return lines


#: structured primitives written inline: name -> (the sub-program parameter, emitter)
_STRUCTURED = {"scan": ("body", Emitter.emit_scan), "while_loop": ("body", Emitter.emit_while),
               "cond": ("true", Emitter.emit_cond)}


def _carry_in_place(body: Program, k_in: list, nk: int, early: list, carry: list) -> dict:
    """Carry outputs that can be computed straight into their carry variable.

    Output ``j`` (an equation result) may be written into carry variable ``j`` when
    no later equation reads carry input ``j``, no other output is carry input ``j``
    or depends on the overwrite, and the result is a single-output equation's.
    """
    producer: dict[int, int] = {}
    for n, e in enumerate(body.eqns):
        if len(e.outvars) == 1:
            producer[id(e.outvars[0])] = n
    last_read: dict[int, int] = {}
    for n, e in enumerate(body.eqns):
        for a in e.invars:
            if isinstance(a, Var):
                last_read[id(a)] = n
    outs = body.outputs
    preset: dict[int, str] = {}
    for j in range(nk):
        o, kin = outs[j], k_in[j]
        n = producer.get(id(o)) if isinstance(o, Var) else None
        if n is None or id(o) in preset:
            continue
        if last_read.get(id(kin), -1) > n:
            continue
        late_use = any(q is kin for i, q in enumerate(outs)
                       if i != j and not (i >= nk and early[i - nk]))
        if late_use or sum(q is o for q in outs[:nk]) > 1:
            continue
        preset[id(o)] = carry[j]
    return preset
