"""Python source from a program: the derivative code a person can read, paste and run.

Every equation becomes one assignment. Arithmetic is written with Python's
operators (they work on floats and arrays alike); elementwise functions become
``math.sin(v)`` when every argument is a Python float (5× faster than NumPy on
scalars) and ``np.sin(v)`` otherwise; any other primitive calls its
implementation, bound in the module's namespace as ``_prim_<name>``. Inputs keep
the user's parameter names, gradients are named ``<arg>_bar``, and each block of
derivative code starts with a comment naming the equation it is the adjoint (or
tangent) of. The source is registered with :mod:`linecache` under a
``<chainrule-jit ...>`` file name, so tracebacks and pdb show it.

Python's ``math`` raises where NumPy returns inf/nan (``log 0``, ``1/0.``,
overflow); the generated function then re-runs the program with the primitives'
own implementations, so results never depend on which code ran.
"""

from __future__ import annotations

import itertools
import keyword
import linecache
import math
import re
from typing import Any, Callable

import numpy as np

from chainrule.ir.printer import format_eqn
from chainrule.ir.program import Lit, Program, Var

__all__ = ["generate", "compile_program", "GeneratedFunction"]

_INFIX = {"add": "+", "sub": "-", "mul": "*", "div": "/", "matmul": "@",
          "greater": ">", "greater_equal": ">=", "less": "<", "less_equal": "<=",
          "equal": "==", "not_equal": "!="}
#: elementwise primitive -> (math name, numpy name)
_UNARY = {
    "exp": ("exp", "exp"), "log": ("log", "log"), "sin": ("sin", "sin"),
    "cos": ("cos", "cos"), "tan": ("tan", "tan"), "tanh": ("tanh", "tanh"),
    "sinh": ("sinh", "sinh"), "cosh": ("cosh", "cosh"), "arctan": ("atan", "arctan"),
    "log1p": ("log1p", "log1p"), "expm1": ("expm1", "expm1"), "sqrt": ("sqrt", "sqrt"),
    "arcsin": ("asin", "arcsin"), "arccos": ("acos", "arccos"),
}
_counter = itertools.count()


def _ident(name: str | None, used: set) -> str | None:
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


def _grad_argnums(name: str) -> tuple[int, ...] | None:
    m = re.match(r"(?:grad|value_and_grad)_of_.*_wrt_([\d_]+)$", name)
    return tuple(int(t) for t in m.group(1).split("_")) if m else None


class _Emitter:
    def __init__(self, prog: Program) -> None:
        self.prog = prog
        self.ns: dict[str, Any] = {"math": math, "np": np}
        self.consts: dict[int, str] = {}
        self.used = {"math", "np"}

    def const(self, value: Any, stem: str = "_c") -> str:
        name = self.consts.get(id(value))
        if name is None:
            name = _ident(f"{stem}{len(self.consts)}", self.used)
            self.consts[id(value)] = name
            self.ns[name] = value
        return name

    def atom(self, a: Any, names: dict) -> str:
        if isinstance(a, Var):
            return names[id(a)]
        v = a.value
        if type(v) in (int, bool) or (type(v) is float and math.isfinite(v)):
            return repr(v)
        return self.const(v)


def generate(prog: Program, name: str | None = None) -> tuple[str, dict]:
    """Python source for ``prog`` and the namespace it needs.

    Args:
        prog: the program (optimise it first for readable code).
        name: the function's name (default: the program's, made an identifier).

    Returns:
        ``(source, namespace)``: ``exec(source, namespace)`` defines the function.
    """
    em = _Emitter(prog)
    used = em.used
    fname = _ident(name or prog.name, set()) or "f"
    names: dict[int, str] = {}
    args = []
    for i, v in enumerate(prog.inputs):
        hint = v.hint or (prog.arg_names[i] if i < len(prog.arg_names) else None)
        n = _ident(hint, used) or _ident(f"x{i}", used)
        names[id(v)] = n
        args.append(n)
    # gradients are named after the argument they belong to: x -> x_bar
    out_hint: dict[int, str] = {}
    nums = _grad_argnums(prog.name)
    if nums is not None:
        grads = prog.outputs[1:] if prog.name.startswith("value_and") else prog.outputs
        for k, o in zip(nums, grads, strict=False):
            if isinstance(o, Var) and k < len(args) and id(o) not in out_hint:
                out_hint[id(o)] = f"{args[k]}_bar"

    k = 0
    for e in prog.eqns:
        for o in e.outvars:
            k += 1
            names[id(o)] = _ident(out_hint.get(id(o)), used) or _ident(f"v{k}", used)

    lines = [f"def {fname}({', '.join(args)}):", "    try:"]
    body: list[str] = []
    last_origin: Any = 0
    dead = _dead_after(prog)
    for n, e in enumerate(prog.eqns):
        origin = e.origin
        okey = (origin[0], id(origin[1])) if origin else None
        if okey != last_origin:
            if origin:
                kind, fwd = origin
                try:
                    text = format_eqn(fwd, names)
                except KeyError:
                    text = f"{fwd.prim.name}(...) (simplified away)"
                body.append(f"# {kind} of {' '.join(text.split())}")
            elif last_origin != 0 or not body:
                body.append("# forward pass" if nums is not None or last_origin != 0
                            else "# evaluation trace")
            last_origin = okey
        body.extend(_lines(em, e, names))
        if n in dead:  # free large intermediates as soon as they are dead (as eager does)
            body.append("del " + ", ".join(names[id(v)] for v in dead[n]))
    outs = [em.atom(o, names) for o in prog.outputs]
    body.append("return " + _structure(em, prog.out_tree, iter(outs)))
    lines += ["        " + b for b in body]
    # math raises where NumPy gives inf/nan: then run the primitives' implementations
    lines += ["    except (ArithmeticError, ValueError):",
              f"        return _fallback({', '.join(args)})"]
    return "\n".join(lines) + "\n", em.ns


#: arrays at least this large are deleted after their last use in generated code
_FREE_SIZE = 4096


def _dead_after(prog: Program) -> dict[int, list]:
    """equation index -> large variables last read there (equation results only)."""
    last: dict[int, tuple[int, Var]] = {}
    for n, e in enumerate(prog.eqns):
        for a in e.invars:
            if isinstance(a, Var):
                last[id(a)] = (n, a)
    for o in prog.outputs:
        if isinstance(o, Var):
            last[id(o)] = (len(prog.eqns), o)
    produced = {id(o) for e in prog.eqns for o in e.outvars}
    dead: dict[int, list] = {}
    for n, v in last.values():
        if id(v) in produced and v.aval.size >= _FREE_SIZE and n < len(prog.eqns):
            dead.setdefault(n, []).append(v)
    return dead


def _structure(em: _Emitter, td: Any, it) -> str:
    if td is None:
        return "(" + ", ".join(it) + ",)"
    kind = td.kind
    if kind == "leaf":
        return next(it)
    if kind == "none":
        return "None"
    parts = [_structure(em, c, it) for c in td.children]
    if kind == "tuple":
        return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"
    if kind == "list":
        return "[" + ", ".join(parts) + "]"
    if kind == "dict":
        return "{" + ", ".join(f"{k!r}: {p}" for k, p in zip(td.meta, parts, strict=False)) + "}"
    return em.const(td.meta, "_type") + "(" + ", ".join(parts) + ")"


def _lines(em: _Emitter, e, names: dict) -> list[str]:
    """The source lines of one equation (loops and branches inline their sub-programs)."""
    kind = _STRUCTURED.get(e.prim.name)
    if kind is not None and isinstance(e.params.get(kind[0]), Program):
        return kind[1](em, e, names)
    return [_line(em, e, names)]


def _block(em: _Emitter, prog: Program, names: dict, in_exprs: list,
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
            names[id(o)] = preset.get(id(o)) or _ident("t", em.used)
        lines.extend(_lines(em, e, names))
    return lines, [em.atom(o, names) for o in prog.outputs]


def _assign(targets: list, exprs: list) -> list[str]:
    if not targets:
        return []
    return [f"{', '.join(targets)} = {', '.join(exprs)}"]


def _emit_scan(em: _Emitter, e, names: dict) -> list[str]:
    """``for`` over the body, written inline: carry variables, per-step outputs in lists."""
    p = e.params
    body, nc, nk, lo, length, reverse = (p["body"], p["nc"], p["nk"], p["lo"], p["length"],
                                         p["reverse"])
    ins = [em.atom(a, names) for a in e.invars]
    consts, init, xs = ins[:nc], ins[nc:nc + nk], ins[nc + nk:]
    off = 1 if lo is not None else 0
    x_in = body.inputs[off + nc + nk:]
    carry = [_ident("c", em.used) for _ in range(nk)]
    t = _ident("step", em.used)
    lines = [f"# loop: {len(body.eqns)}-equation body {body.name!r}, {length} steps"
             + (", reversed" if reverse else "")]
    lines += _assign(carry, init)
    xnames = []
    for x, v in zip(xs, x_in, strict=True):
        xn = _ident("xs", em.used)
        lines.append(f"{xn} = {x}.tolist()" if v.aval.pyfloat else f"{xn} = {x}")
        xnames.append(xn)
    ny = len(body.outputs) - nk
    ynames = [_ident("ys", em.used) for _ in range(ny)]
    appends = [_ident(f"{y}_append", em.used) for y in ynames]
    for y, a in zip(ynames, appends, strict=True):
        lines += [f"{y} = []", f"{a} = {y}.append"]
    rng = f"range({length - 1}, -1, -1)" if reverse else f"range({length})"
    xt = [_ident("x", em.used) for _ in xnames]
    if xnames:  # iterate the slices directly (no indexing in the loop)
        its = [f"reversed({x})" if reverse else x for x in xnames]
        lines.append(f"for {t}, {', '.join(xt)} in zip({rng}, {', '.join(its)}):")
    else:
        lines.append(f"for {t} in {rng}:")
    idx = [] if lo is None else [t if lo == 0 else f"({t} + {lo})"]
    k_in = body.inputs[len(idx) + nc:len(idx) + nc + nk]
    # per-step outputs that are inputs (the stored carries) are appended first
    early = [isinstance(o, Var) and any(o is v for v in body.inputs) for o in body.outputs[nk:]]
    preset = _carry_in_place(body, k_in, nk, early, carry)
    inner, outs = _block(em, body, names, idx + consts + carry + xt, preset)
    pre = [f"{a}({o})" for a, o, e_ in zip(appends, outs[nk:], early, strict=True) if e_]
    inner = pre + inner
    inner += [f"{a}({o})" for a, o, e_ in zip(appends, outs[nk:], early, strict=True) if not e_]
    todo = [(c, o) for c, o in zip(carry, outs[:nk], strict=True) if c != o]
    inner += _assign([c for c, _ in todo], [o for _, o in todo])
    lines += ["    " + ln for ln in inner] or ["    pass"]
    if reverse:
        lines += [f"{y}.reverse()" for y in ynames]
    res = [names[id(o)] for o in e.outvars]
    lines += _assign(res[:nk], carry)
    for r, y, o in zip(res[nk:], ynames, e.outvars[nk:], strict=True):
        av = o.aval
        lines.append(f"{r} = np.array({y}, dtype={em.const(av.dtype, '_dt')})"
                     + (f".reshape({av.shape!r})" if av.ndim != 1 else ""))
    return lines


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


def _emit_while(em: _Emitter, e, names: dict) -> list[str]:
    p = e.params
    cprog, bprog, ncc, ncb = p["cond"], p["body"], p["ncc"], p["ncb"]
    ins = [em.atom(a, names) for a in e.invars]
    cc, cb, init = ins[:ncc], ins[ncc:ncc + ncb], ins[ncc + ncb:]
    carry = [_ident("c", em.used) for _ in init]
    lines = [f"# while loop: {len(bprog.eqns)}-equation body {bprog.name!r}"]
    lines += _assign(carry, init)
    lines.append("while True:")
    cl, co = _block(em, cprog, names, cc + carry)
    bl, bo = _block(em, bprog, names, cb + carry)
    inner = cl + [f"if not {co[0]}:", "    break"] + bl + _assign(carry, bo)
    lines += ["    " + ln for ln in inner]
    lines += _assign([names[id(o)] for o in e.outvars], carry)
    return lines


def _emit_cond(em: _Emitter, e, names: dict) -> list[str]:
    ins = [em.atom(a, names) for a in e.invars]
    res = [names[id(o)] for o in e.outvars]
    lines = [f"if {ins[0]}:"]
    for k, prog in ((0, e.params["true"]), (1, e.params["false"])):
        bl, bo = _block(em, prog, names, ins[1:])
        lines += ["    " + ln for ln in bl + _assign(res, bo)] or ["    pass"]
        if k == 0:
            lines.append("else:")
    return lines


#: structured primitives written inline: name -> (the sub-program parameter, emitter)
_STRUCTURED = {"scan": ("body", _emit_scan), "while_loop": ("body", _emit_while),
               "cond": ("true", _emit_cond)}


def _line(em: _Emitter, e, names: dict) -> str:
    name = e.prim.name
    ins = [em.atom(a, names) for a in e.invars]
    lhs = ", ".join(names[id(o)] for o in e.outvars)
    if getattr(e.prim, "multiple_results", False):
        lhs += "," if len(e.outvars) == 1 else ""
        if not e.outvars:
            lhs = "_"
    scalar = all(a.aval.pyfloat or (isinstance(a, Lit) and type(a.value) in (int, float))
                 for a in e.invars)
    if not e.params:
        if name in _INFIX and len(ins) == 2:
            return f"{lhs} = {ins[0]} {_INFIX[name]} {ins[1]}"
        if name == "neg":
            return f"{lhs} = -{ins[0]}"
        if name == "square":
            return f"{lhs} = {ins[0]} * {ins[0]}"
        if name == "abs":
            return f"{lhs} = abs({ins[0]})"
        if name == "pow":
            b = e.invars[1]
            if isinstance(b, Lit) and type(b.value) in (int, float) and \
                    float(b.value).is_integer():
                return f"{lhs} = {ins[0]} ** {ins[1]}"
            if scalar:
                return f"{lhs} = math.pow({ins[0]}, {ins[1]})"
            return f"{lhs} = {ins[0]} ** {ins[1]}"
        if name in _UNARY and len(ins) == 1:
            m, n = _UNARY[name]
            return f"{lhs} = math.{m}({ins[0]})" if scalar else f"{lhs} = np.{n}({ins[0]})"
    fn = em.const(e.prim.impl, f"_prim_{re.sub(r'[^0-9a-zA-Z_]', '_', name)}")
    args = list(ins)
    for k, v in e.params.items():
        if type(v) in (int, float, bool, str, type(None)) or (
                isinstance(v, tuple) and all(type(t) in (int, type(None)) for t in v)):
            args.append(f"{k}={v!r}")
        else:
            args.append(f"{k}={em.const(v, '_p')}")
    return f"{lhs} = {fn}({', '.join(args)})"


class GeneratedFunction:
    """The compiled function with its source; calling it runs the generated code."""

    __slots__ = ("fn", "source", "filename", "program")

    def __init__(self, fn: Callable, source: str, filename: str, program: Program) -> None:
        self.fn = fn
        self.source = source
        self.filename = filename
        self.program = program

    def __call__(self, *args: Any) -> Any:
        return self.fn(*args)


def compile_program(prog: Program, name: str | None = None) -> GeneratedFunction:
    """Generate, register with linecache, and compile ``prog`` into a Python function."""

    from chainrule.core.pytree import tree_unflatten

    src, ns = generate(prog, name)
    fname = src[4:src.index("(")]
    filename = f"<chainrule-jit {fname} #{next(_counter)}>"
    linecache.cache[filename] = (len(src), None, src.splitlines(True), filename)
    out_tree = prog.out_tree

    def _fallback(*args):
        with np.errstate(all="ignore"):
            outs = _eval_impls(prog, list(args))
        return tree_unflatten(out_tree, outs) if out_tree is not None else tuple(outs)

    ns["_fallback"] = _fallback
    exec(compile(src, filename, "exec"), ns)
    return GeneratedFunction(ns[fname], src, filename, prog)


def _eval_impls(prog: Program, args: list) -> list:
    """Run ``prog`` with each primitive's plain implementation (NumPy semantics)."""
    env = {id(v): x for v, x in zip(prog.inputs, args, strict=False)}

    def read(a):
        return env[id(a)] if isinstance(a, Var) else a.value

    for e in prog.eqns:
        out = e.prim.impl(*[read(a) for a in e.invars], **e.params)
        if len(e.outvars) == 1 and not getattr(e.prim, "multiple_results", False):
            env[id(e.outvars[0])] = out
        else:
            for v, o in zip(e.outvars, out, strict=False):
                env[id(v)] = o
    return [read(o) for o in prog.outputs]
