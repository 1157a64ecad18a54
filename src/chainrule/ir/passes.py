"""Program passes: constant folding, algebraic identities, CSE, dead-code elimination.

* **Folding**: an equation whose arguments are all constants is evaluated now;
  ``ones_like``/``zeros_like`` of a variable become constants of its shape.
* **Uniform constants**: an array constant whose entries are all equal (``ones_like``
  broadcast to a shape, then scaled: the seed of a sum's adjoint) becomes one number
  where the other argument of an elementwise ``+ - · /`` already has the result's shape
  and dtype: ``v·[100, 100, …]`` reads one array, not two, and ``v·[1, 1, …]`` is ``v``.
* **Identities**: ``x·1 = 1·x = x/1 = x``, ``x + 0 = 0 + x = x - 0 = x``, ``--x = x``,
  ``x·0 = 0`` on Python floats (the zeros that symbolically-zero tangents leave),
  each applied only when the result has the variable's own shape and dtype (no
  broadcasting is lost).
* **CSE** (hash-consing): two equations with the same primitive, arguments and
  parameters compute the same value; the second one reuses the first (``a + b``
  and ``b + a``, ``a·b`` and ``b·a`` included).
* **DCE**: equations whose results no output needs are dropped (all primitives
  are pure).

:func:`simplify` does the first three in one forward sweep, then DCE.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from chainrule.core.primitive import PRIMITIVES, params_key
from chainrule.ir.program import Eqn, Lit, Program, Var, atom_key

__all__ = ["dce", "cse", "fold", "simplify", "optimize"]

_UNFOLDABLE = frozenset({"random"})


def _is_const(a: Any, value: float) -> bool:
    if not isinstance(a, Lit):
        return False
    v = a.value
    if type(v) in (float, int) or isinstance(v, np.generic):
        return v == value
    if isinstance(v, np.ndarray) and v.size <= 16:
        return bool(np.all(v == value))
    return False


def _same_type(a: Any, out: Var) -> bool:
    """Can ``a`` stand for ``out`` (same shape, dtype and Python-float-ness)?"""
    return a.aval.shape == out.aval.shape and a.aval.dtype == out.aval.dtype


def _identity(e: Eqn) -> Any:
    """The atom ``e`` reduces to by an algebraic identity, or None."""
    name = e.prim.name
    ins = e.invars
    out = e.outvars[0] if len(e.outvars) == 1 else None
    if out is None or e.params:
        return None
    cand = None
    if name == "mul":
        a, b = ins
        if _is_const(b, 1.0):
            cand = a
        elif _is_const(a, 1.0):
            cand = b
        elif (_is_const(a, 0.0) or _is_const(b, 0.0)) and out.aval.pyfloat:
            cand = Lit(0.0)
    elif name == "add":
        a, b = ins
        if _is_const(b, 0.0):
            cand = a
        elif _is_const(a, 0.0):
            cand = b
    elif name == "sub":
        if _is_const(ins[1], 0.0):
            cand = ins[0]
    elif name == "div":
        if _is_const(ins[1], 1.0):
            cand = ins[0]
    elif name in ("pow",):
        if _is_const(ins[1], 1.0):
            cand = ins[0]
    elif name == "zero_safe":  # replaces NaNs only where its (co)tangent is 0 or ∞
        c = ins[0]
        if isinstance(c, Lit) and type(c.value) in (int, float) and c.value != 0 \
                and np.isfinite(c.value):
            cand = ins[1]
    if cand is not None and _same_type(cand, out):
        return cand
    return None


_ELEMENTWISE_BINARY = frozenset({"add", "sub", "mul", "div"})


def _uniform_number(a: Any) -> Any:
    """The one number every entry of the array constant ``a`` holds, or None: a Python
    float for float64 (the same arithmetic), else a NumPy scalar of the array's dtype."""
    if not isinstance(a, Lit) or type(a.value) is not np.ndarray or a.value.size < 2 \
            or a.value.dtype.kind not in "fc":
        return None
    v = a.value
    first = v.flat[0]
    if not (all(st == 0 for st in v.strides) or bool(np.all(v == first))):  # NaN: never
        return None
    return first.item() if v.dtype == np.float64 else first


def _narrowed(e: Eqn) -> Eqn | None:
    """``e`` with a uniform array constant replaced by its number, or None: only where
    the other argument has the result's shape and dtype (so nothing is broadcast or
    promoted differently)."""
    if e.prim.name not in _ELEMENTWISE_BINARY or e.params or len(e.outvars) != 1:
        return None
    out = e.outvars[0]
    for i in (0, 1):
        k = _uniform_number(e.invars[i])
        other = e.invars[1 - i]
        if k is not None and _same_type(other, out) and not isinstance(other, Lit):
            ins = list(e.invars)
            ins[i] = Lit(k)
            return Eqn(e.prim, ins, e.outvars, e.params, e.origin)
    return None


def _fold(e: Eqn) -> Any:
    """Constant outputs of ``e`` (a list), or None."""
    name = e.prim.name
    if name in ("ones_like", "zeros_like") and len(e.invars) == 1 and not e.params:
        av = e.outvars[0].aval
        fill = 1.0 if name == "ones_like" else 0.0
        src = e.invars[0]
        if av.pyfloat or (av.ndim == 0 and src.aval.pyfloat):
            return [fill]
        if av.size <= 1 or av.ndim == 0:
            return [np.full(av.shape, fill, av.dtype)]
        return None
    if name in _UNFOLDABLE:
        return None
    for a in e.invars:
        if not isinstance(a, Lit):
            return None
    if any(isinstance(v, Program) for v in e.params.values()):
        return None
    try:
        with np.errstate(all="ignore"):
            out = e.prim.impl(*[a.value for a in e.invars], **e.params)
    except Exception:
        return None
    return list(out) if len(e.outvars) > 1 else [out]


def _exact_scale(k: Any) -> bool:
    """Is multiplying by the number ``k`` exact (±2^n, so it commutes with rounding)?"""
    return type(k) in (int, float) and k != 0 and math.isfinite(k) \
        and abs(math.frexp(k)[0]) == 0.5


_SCALINGS = frozenset({"neg", "add", "mul"})


def _scaling(a: Any, defs: dict) -> tuple[Any, float] | None:
    """``(c, k)`` when the variable ``a`` is ``k·c``: -c, c + c, or c·k for a finite
    non-zero number k, of a floating-point c."""
    e = defs.get(id(a)) if isinstance(a, Var) else None
    if e is None or e.prim.name not in _SCALINGS or a.aval.dtype.kind not in "fc":
        return None
    name, ins = e.prim.name, e.invars
    if name == "neg":
        return ins[0], -1.0
    if name == "add" and ins[0] is ins[1]:
        return ins[0], 2.0
    if name == "mul":
        for c, k in (ins, ins[::-1]):
            if isinstance(k, Lit) and type(k.value) in (int, float) and k.value != 0 \
                    and math.isfinite(k.value) and isinstance(c, Var) and _same_type(c, a):
                return c, float(k.value)
    return None


def _fold_scaling(e: Eqn, defs: dict) -> Eqn | None:
    """``e`` with a negation or scaling of an argument folded into it, or None:
    a + (-c) = a - c, a - (-c) = a + c, -(k·c) = (-k)·c, k·(j·c) = (kj)·c when k or j
    is ±2ⁿ (then kj is exact and scaling by it commutes with rounding, so the one
    rounding of k·(j·c) is that of (kj)·c), and (k·c) + (k·c) = (2k)·c. Every rewrite
    gives the same numbers (short of an intermediate overflowing); the folded equation
    usually becomes dead."""
    name, ins = e.prim.name, e.invars
    if e.params or len(e.outvars) != 1 or name not in ("add", "sub", "neg", "mul"):
        return None
    out = e.outvars[0]
    if name in ("add", "sub"):
        a, b = ins
        sb = _scaling(b, defs)
        if sb is not None and sb[1] == -1.0 and _same_type(sb[0], b):
            return Eqn(PRIMITIVES["sub" if name == "add" else "add"], [a, sb[0]], [out], {},
                       e.origin)
        sa = _scaling(a, defs)
        if name == "add" and sa is not None and sa[1] == -1.0 and _same_type(sa[0], a):
            return Eqn(PRIMITIVES["sub"], [b, sa[0]], [out], {}, e.origin)
        if name == "add" and a is b and sa is not None:
            return _scaled(sa[0], 2.0 * sa[1], e)
        return None
    if name == "neg":
        sa = _scaling(ins[0], defs)
        return None if sa is None else _scaled(sa[0], -sa[1], e)
    for c, k in (ins, ins[::-1]):  # mul by a number of a scaled value, one of them ±2ⁿ
        if isinstance(k, Lit) and type(k.value) in (int, float) and k.value != 0 \
                and math.isfinite(k.value):
            sc = _scaling(c, defs)
            if sc is not None and (_exact_scale(k.value) or _exact_scale(sc[1])):
                return _scaled(sc[0], float(k.value) * sc[1], e)
    return None


def _scaled(c: Var, k: float, e: Eqn) -> Eqn | None:
    out = e.outvars[0]
    if not _same_type(c, out):
        return None
    if k == -1.0:
        return Eqn(PRIMITIVES["neg"], [c], [out], {}, e.origin)
    return Eqn(PRIMITIVES["mul"], [c, Lit(k)], [out], {}, e.origin)


def simplify(prog: Program, fold: bool = True, identities: bool = True,
             cse: bool = True) -> Program:
    """Constant folding, algebraic identities and CSE in one forward sweep."""
    subst: dict[int, Any] = {}
    seen: dict = {}
    alive: list = []  # unhashable parameters, keyed by identity: held as long as `seen`
    eqns = []
    remap: dict[int, Eqn] = {}  # old equation -> the one that now computes its value
    defs: dict[int, Eqn] = {}  # variable -> the (new) equation computing it

    def look(a):
        return subst.get(id(a), a) if isinstance(a, Var) else a

    for e in prog.eqns:
        ins = [look(a) for a in e.invars]
        new = Eqn(e.prim, ins, e.outvars, e.params, e.origin)
        if fold:
            consts = _fold(new)
            if consts is not None:
                for v, c in zip(e.outvars, consts, strict=False):
                    subst[id(v)] = Lit(c)
                continue
        if identities:
            new = _narrowed(new) or new
            ins = new.invars
            red = _identity(new)
            if red is not None:
                subst[id(e.outvars[0])] = red
                continue
            if e.prim.name == "neg" and isinstance(ins[0], Var):
                inner = seen.get(("neg-of", id(ins[0])))
                if inner is not None:
                    subst[id(e.outvars[0])] = inner
                    continue
            new = _fold_scaling(new, defs) or new
            ins = new.invars
        if cse:
            try:
                arg_keys = [atom_key(a) for a in ins]
                if new.prim.commutative:  # a·b and b·a are one subexpression
                    arg_keys.sort(key=hash)
                key = (new.prim, tuple(arg_keys), params_key(e.params, alive))
                hash(key)
            except TypeError:
                key = None
            if key is not None:
                prev = seen.get(key)
                if prev is not None:
                    for v, p in zip(e.outvars, prev[0], strict=False):
                        subst[id(v)] = p
                    remap[id(e)] = prev[1]
                    continue
                seen[key] = (e.outvars, new)
        if new.prim.name == "neg" and isinstance(ins[0], Var):
            seen[("neg-of", id(e.outvars[0]))] = ins[0]
        remap[id(e)] = new
        eqns.append(new)
        for o in new.outvars:
            defs[id(o)] = new
    for e in eqns:
        if e.origin is not None:
            e.origin = (e.origin[0], remap.get(id(e.origin[1]), e.origin[1]))
    outputs = [look(o) for o in prog.outputs]
    return prog.replace(eqns=eqns, outputs=outputs)


def fold(prog: Program) -> Program:
    """Constant folding only."""
    return simplify(prog, fold=True, identities=False, cse=False)


def cse(prog: Program) -> Program:
    """Common-subexpression elimination only (hash-consing)."""
    return simplify(prog, fold=False, identities=False, cse=True)


def dce(prog: Program) -> Program:
    """Drop the equations that no output depends on."""
    live = {id(o) for o in prog.outputs if isinstance(o, Var)}
    kept = []
    for e in reversed(prog.eqns):
        if any(id(v) in live for v in e.outvars):
            kept.append(e)
            for a in e.invars:
                if isinstance(a, Var):
                    live.add(id(a))
    kept.reverse()
    return prog.replace(eqns=kept)


def _optimize_subprograms(prog: Program) -> Program:
    """Optimise the sub-programs (loop bodies, branches) held in equations' params."""
    eqns, changed = [], False
    for e in prog.eqns:
        subs = {k: optimize(v) for k, v in e.params.items() if isinstance(v, Program)}
        if subs:
            changed = True
            e = Eqn(e.prim, e.invars, e.outvars, {**e.params, **subs}, e.origin)
        eqns.append(e)
    return prog.replace(eqns=eqns) if changed else prog


def optimize(prog: Program) -> Program:
    """Folding, identities and CSE in one forward sweep, then DCE.

    One round reaches the fixed point: every equation is keyed and rewritten after its
    arguments' substitutions, so chains of folds, identities and repeats resolve in the
    same sweep, and removing dead equations enables nothing new. Sub-programs (loop
    bodies, branches) are optimised too; their inputs are kept.
    """
    return dce(simplify(_optimize_subprograms(prog)))
