"""Loop fusion: which equations of an array program one compiled loop can compute.

A chain of elementwise equations over arrays of one shape, ``v2 = sin(v1)``,
``v3 = v2 * x``, ``v4 = v3 + 1``, costs NumPy one pass over memory and one temporary
array per equation. Computed element by element in one loop (``t = sin(v1[i]);
t = t * x[i]; out[i] = t + 1``), it makes one pass and no temporaries; a full sum of
the chain's last value becomes an accumulator in the same loop (``acc += t``).
:func:`plan` finds those groups (:class:`Region`); :func:`fuse` replaces each by one
equation whose primitive a backend builds (:mod:`chainrule.ir.numba_codegen` compiles
each region into a Numba kernel). Everything else (products, reductions along an axis,
indexing, broadcasting between different shapes, loops) stays as it was: NumPy runs it.

An equation joins the open region of its output's shape when

* its primitive has a spelling inside a loop (``Template.in_loop``: arithmetic,
  comparisons, sin, cos, sqrt, where, maximum…) and no parameters, and NumPy's own loop
  for it is not vectorised (``Template.numpy_simd``: exp, log, tanh… are 3–15× faster in
  NumPy's AVX code than one ``math`` call per element, so they stay NumPy calls between
  two fused loops); or it is a full
  reduction (``Template.reduce``, the sum over every axis) of an array of that shape;
* each argument has that shape, or is a row (``(n,)`` against ``(m, n)``: a bias) or a
  column (``(m, 1)``: a reduction kept as a column) of it, or a scalar (other
  broadcasting is left to NumPy), of a real or integer or boolean dtype;
* it does not read a reduction of the same region (that sum is complete only after
  the loop).

A region is computed where its last equation was: an equation outside it that reads one
of its values closes it first, so every value is computed before it is read. Its
outputs are the values read outside it (or returned by the program). Only regions of at
least two equations are kept (one equation alone gains nothing over NumPy's own loop).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from chainrule.ir.program import Eqn, Lit, Program, Var
from chainrule.ir.templates import template

__all__ = ["Region", "plan", "fuse", "operand_key", "broadcast_kind"]

#: dtype kinds a fused loop computes with (real, integer, boolean)
_KINDS = "fiub"


@dataclass
class Region:
    """One fused loop.

    Attributes:
        shape: the shape every array of the loop has.
        eqns: the equations, in program order (indices into the program's equations).
        inputs: the arguments read from outside (variables and array constants of
            ``shape``, and scalars), each once, in order of first use.
        outputs: the results read after the loop (arrays of ``shape``, reductions'
            scalars).
        reductions: ids of the results that are full reductions (accumulators).
    """

    shape: tuple
    eqns: list = field(default_factory=list)
    inputs: list = field(default_factory=list)
    outputs: list = field(default_factory=list)
    reductions: set = field(default_factory=set)

    @property
    def size(self) -> int:
        n = 1
        for d in self.shape:
            n *= d
        return n


def broadcast_kind(shape: tuple, full: tuple) -> str | None:
    """How an argument of ``shape`` is read in a loop over ``full``: ``"full"`` (same
    shape), ``"scalar"``, ``"row"`` (one value per last index: ``(n,)``, ``(1, n)``),
    ``"col"`` (one value per row: ``(m, 1)``, keepdims reductions), or None (another
    broadcast, left to NumPy).

    >>> [broadcast_kind(s, (4, 3)) for s in [(4, 3), (), (3,), (1, 3), (4, 1), (2, 3)]]
    ['full', 'scalar', 'row', 'row', 'col', None]
    """
    if shape == full:
        return "full"
    if shape == ():
        return "scalar"
    if len(shape) > len(full):
        return None
    padded = (1,) * (len(full) - len(shape)) + tuple(shape)
    if padded[-1] == full[-1] and all(d == 1 for d in padded[:-1]):
        return "row"
    if padded[-1] == 1 and padded[:-1] == tuple(full[:-1]):
        return "col"
    return None


def _loop_operand(a: Any, shape: tuple) -> bool:
    """An argument a loop over ``shape`` can read: an array of that shape, a row or a
    column of it (:func:`broadcast_kind`), or a scalar."""
    av = a.aval
    if av.dtype.kind not in _KINDS:
        return False
    kind = broadcast_kind(av.shape, shape)
    if kind == "scalar":
        return isinstance(a, Var) or Lit.is_scalar(a)
    return kind is not None


def _kind(e: Eqn) -> tuple[str, tuple] | None:
    """``("element", shape)``, ``("reduce", shape)`` or None (not fusable)."""
    tpl = template(e.prim)
    if tpl is None or len(e.outvars) != 1 or getattr(e.prim, "multiple_results", False):
        return None
    out = e.outvars[0].aval
    if out.dtype.kind not in _KINDS:
        return None
    if tpl.reduce is not None:
        if len(e.invars) != 1 or e.params.get("keepdims") or out.shape != ():
            return None
        a = e.invars[0]
        shape = a.aval.shape
        axis = e.params.get("axis")
        axes = None if axis is None else tuple(
            sorted(k % len(shape) for k in (axis if isinstance(axis, tuple) else (axis,))))
        if isinstance(a, Var) and shape and a.aval.dtype.kind in _KINDS and \
                set(e.params) <= {"axis", "keepdims"} and axes in (None, tuple(range(len(shape)))):
            return ("reduce", shape)
        return None
    if tpl.in_loop() is None or tpl.numpy_simd or e.params or not out.shape:
        return None
    if all(_loop_operand(a, out.shape) for a in e.invars):
        return ("element", out.shape)
    return None


def plan(prog: Program, min_size: int = 1) -> list[Region]:
    """The fused regions of ``prog``'s top level (each of ≥ 2 equations over arrays of at
    least ``min_size`` elements), in program order of their last equation."""
    open_: dict[tuple, Region] = {}
    made: dict[int, Region] = {}  # id(result) -> the open region computing it
    done: list[Region] = []

    def close(r: Region) -> None:
        del open_[r.shape]
        for n in r.eqns:
            for o in prog.eqns[n].outvars:
                made.pop(id(o), None)
        done.append(r)

    for n, e in enumerate(prog.eqns):
        kind = _kind(e)
        reads = [made[id(a)] for a in e.invars if isinstance(a, Var) and id(a) in made]
        if kind is None or kind[1] == () or (kind[0] == "element" and
                                             _size(kind[1]) < min_size):
            for r in {id(r): r for r in reads}.values():
                close(r)
            continue
        shape = kind[1]
        for a in e.invars:
            r = made.get(id(a)) if isinstance(a, Var) else None
            if r is not None and (r.shape != shape or id(a) in r.reductions):
                close(r)  # a value this loop cannot read element by element
        r = open_.get(shape)
        if r is None:
            r = open_[shape] = Region(shape)
        r.eqns.append(n)
        out = e.outvars[0]
        made[id(out)] = r
        if kind[0] == "reduce":
            r.reductions.add(id(out))
    for r in list(open_.values()):
        close(r)
    kept = [r for r in done if len(r.eqns) >= 2 and r.size >= min_size]
    _bind(prog, kept)
    return sorted(kept, key=lambda r: r.eqns[-1])


def _size(shape: tuple) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


def _bind(prog: Program, regions: list[Region]) -> None:
    """Fill in each region's inputs and outputs."""
    owner = {n: r for r in regions for n in r.eqns}
    inside: dict[int, Region] = {}
    for r in regions:
        for n in r.eqns:
            inside[id(prog.eqns[n].outvars[0])] = r
    needed: dict[int, set] = {id(r): set() for r in regions}
    for n, e in enumerate(prog.eqns):
        for a in e.invars:
            r = inside.get(id(a)) if isinstance(a, Var) else None
            if r is not None and owner.get(n) is not r:
                needed[id(r)].add(id(a))
    for o in prog.outputs:
        r = inside.get(id(o)) if isinstance(o, Var) else None
        if r is not None:
            needed[id(r)].add(id(o))
    for r in regions:
        seen: set = set()
        for n in r.eqns:
            e = prog.eqns[n]
            for a in e.invars:
                if isinstance(a, Var) and inside.get(id(a)) is r:
                    continue
                if isinstance(a, Lit) and a.aval.shape == ():
                    continue  # written into the loop as a number
                key = operand_key(a)
                if key not in seen:
                    seen.add(key)
                    r.inputs.append(a)
            o = e.outvars[0]
            if id(o) in needed[id(r)]:
                r.outputs.append(o)


def operand_key(a: Any) -> int:
    """What identifies a loop's input: the variable, or an array constant's value (two
    literals holding one array are one input)."""
    return id(a) if isinstance(a, Var) else id(a.value)


def fuse(prog: Program, kernel: Callable[[Program, Region], Any],
         min_size: int = 1) -> tuple[Program, list]:
    """``prog`` with each region of :func:`plan` replaced by one equation.

    Args:
        prog: the program (optimised).
        kernel: ``kernel(prog, region)`` returns the primitive computing the region: an
            object with ``name``, ``impl(*inputs) -> tuple(outputs)`` and
            ``multiple_results = True``.
        min_size: the least number of elements a fused loop runs over.

    Returns:
        ``(program, kernels)``: the rewritten program and the kernel primitives.
    """
    regions = plan(prog, min_size)
    if not regions:
        return prog, []
    at = {r.eqns[-1]: r for r in regions}
    skip = {n for r in regions for n in r.eqns[:-1]}
    eqns, kernels = [], []
    for n, e in enumerate(prog.eqns):
        if n in skip:
            continue
        r = at.get(n)
        if r is None:
            eqns.append(e)
            continue
        k = kernel(prog, r)
        kernels.append(k)
        eqns.append(Eqn(k, r.inputs, r.outputs, {}, e.origin))  # commented as its last
    return prog.replace(eqns=eqns), kernels
