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

An array that an elementwise operation reads for the last time, and that no other
name can see, receives that operation's result (``v9 = np.tanh(v8, out=v8)``; see
:mod:`chainrule.ir.inplace`): no allocation, and a working set that stays in cache.

Loops and branches are written inline by :class:`chainrule.ir.emitter.Emitter`; this
module is its Python dialect (a scan keeps its per-step outputs in lists).
"""

from __future__ import annotations

import itertools
import linecache
import math
import re
import weakref
from typing import Any, Callable, NamedTuple

import numpy as np

from chainrule.core.pytree import tree_unflatten
from chainrule.ir.emitter import Emitter, StepIO, assign, ident
from chainrule.ir.inplace import plan as plan_inplace
from chainrule.ir.inplace import scatter_onto
from chainrule.ir.printer import format_eqn
from chainrule.ir.program import Lit, Program, Var
from chainrule.ir.templates import BUILTINS, render, template

__all__ = ["generate", "compile_program", "GeneratedFunction", "Gradient"]

_counter = itertools.count()


class _PyEmitter(Emitter):
    """The Python dialect: constants in the namespace, ``math`` on floats, lists per step."""

    def __init__(self) -> None:
        super().__init__()
        self.consts: dict[int, str] = {}
        #: id(equation) -> the argument whose buffer its result overwrites (inplace.plan)
        self.inplace: dict[int, int] = {}
        #: equation index -> the large variables it reads for the last time (freed after it)
        self.dead: dict[int, list] = {}
        #: whether the program is a gradient (its first lines are "# forward pass")
        self.gradient = False
        self._origin: Any = 0  # the origin of the last equation written (0: none yet)

    def before(self, n: int, e, names: dict) -> list[str]:
        """``# adjoint of v2 = sin(x)`` where the equations' origin changes."""
        origin = e.origin
        key = (origin[0], id(origin[1])) if origin else None
        if key == self._origin:
            return []
        out = []
        if origin:
            out.append(f"# {origin[0]} of {_origin_text(origin[1], names)}")
        elif self._origin != 0 or n == 0:
            out.append("# forward pass" if self.gradient or self._origin != 0
                       else "# evaluation trace")
        self._origin = key
        return out

    def after(self, n: int, e, names: dict) -> list[str]:
        """Large intermediates are freed as soon as they are dead (as eager code does)."""
        if n in self.dead:
            return ["del " + ", ".join(names[id(v)] for v in self.dead[n])]
        return []

    def const(self, value: Any, stem: str = "_c") -> str:
        """A namespace name bound to ``value`` (one per object)."""
        name = self.consts.get(id(value))
        if name is None:
            name = ident(f"{stem}{len(self.consts)}", self.used)
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

    def check(self, e) -> None:
        """Python writes every loop and branch."""

    def assignment(self, e, names: dict) -> str:
        """Operators, ``math``/``np`` functions, else the primitive's implementation."""
        name = e.prim.name
        ins = [self.atom(a, names) for a in e.invars]
        lhs = ", ".join(names[id(o)] for o in e.outvars)
        if getattr(e.prim, "multiple_results", False):
            lhs += "," if len(e.outvars) == 1 else ""
            if not e.outvars:
                lhs = "_"
        into = self.inplace.get(id(e))
        if into is not None and e.prim.ufunc is not None:  # the ufunc of the primitive's record
            return f"{lhs} = np.{e.prim.ufunc}({', '.join(ins)}, out={ins[into]})"
        tpl = template(e.prim)
        if tpl is not None and not e.params:
            scalar = all(a.aval.pyfloat or (isinstance(a, Lit) and type(a.value) in (int, float))
                         for a in e.invars)
            spelling = tpl.scalar if scalar else tpl.array
            if spelling is not None:
                return f"{lhs} = {render(spelling, ins, e)}"
        fn = self.const(e.prim.impl if into is None else e.prim.into,  # into: in place
                        f"_prim_{re.sub(r'[^0-9a-zA-Z_]', '_', name)}")
        args = list(ins)
        for k, v in e.params.items():
            if type(v) in (int, float, bool, str, type(None)) or (
                    isinstance(v, tuple) and all(type(t) in (int, type(None)) for t in v)):
                args.append(f"{k}={v!r}")
            else:
                args.append(f"{k}={self.const(v, '_p')}")
        return f"{lhs} = {fn}({', '.join(args)})"

    def scan_io(self, e, xs: list, t: str, rng: str, res: list) -> StepIO:
        """Slices iterated directly (floats as ``tolist()``), per-step outputs appended."""
        body = e.params["body"]
        x_in = body.inputs[len(body.inputs) - len(xs):]
        setup, xnames = [], []
        for x, v in zip(xs, x_in, strict=True):
            xn = ident("xs", self.used)
            setup.append(f"{xn} = {x}.tolist()" if v.aval.pyfloat else f"{xn} = {x}")
            xnames.append(xn)
        ys = [ident("ys", self.used) for _ in res[e.params["nk"]:]]
        appends = [ident(f"{y}_append", self.used) for y in ys]
        for y, a in zip(ys, appends, strict=True):
            setup += [f"{y} = []", f"{a} = {y}.append"]
        xt = [ident("x", self.used) for _ in xnames]
        if xnames:  # iterate the slices directly (no indexing in the loop)
            its = [f"reversed({x})" if e.params["reverse"] else x for x in xnames]
            header = f"for {t}, {', '.join(xt)} in zip({rng}, {', '.join(its)}):"
        else:
            header = f"for {t} in {rng}:"
        return StepIO(setup, header, xt, [], [f"{a}({{}})" for a in appends], ys)

    def scan_results(self, e, io: StepIO, res: list, carry: list) -> list[str]:
        """The lists (reversed back for a reversed scan) become arrays of the output's shape."""
        lines = [f"{y}.reverse()" for y in io.ys] if e.params["reverse"] else []
        lines += assign(res[:len(carry)], carry)
        for r, y, o in zip(res[len(carry):], io.ys, e.outvars[len(carry):], strict=True):
            av = o.aval
            lines.append(f"{r} = np.array({y}, dtype={self.const(av.dtype, '_dt')})"
                         + (f".reshape({av.shape!r})" if av.ndim != 1 else ""))
        return lines


class Gradient(NamedTuple):
    """What a program computes when it is a gradient: ``argnums`` (the arguments it
    differentiates with respect to) and ``with_value`` (its first output is f)."""

    argnums: tuple
    with_value: bool = False


def generate(prog: Program, name: str | None = None, reuse_buffers: bool = True,
             gradient: Gradient | None = None) -> tuple[str, dict]:
    """Python source for ``prog`` and the namespace it needs.

    Args:
        prog: the program (optimise it first for readable code).
        name: the function's name (default: the program's, made an identifier).
        reuse_buffers: compute results into dying intermediates (``out=``); False for
            arrays that cannot be written in place (Dask, CuPy through NumPy's ufuncs).
        gradient: when ``prog`` is a gradient, which arguments it is with respect to: its
            outputs are then named ``<argument>_bar``.

    Returns:
        ``(source, namespace)``: ``exec(source, namespace)`` defines the function.
    """
    em = _PyEmitter()
    fname = ident(name or prog.name, set(BUILTINS)) or "f"
    names: dict[int, str] = {}
    args = em.name_inputs(prog, names)
    # gradients are named after the argument they belong to: x -> x_bar
    out_hint: dict[int, str] = {}
    if gradient is not None:
        grads = prog.outputs[1:] if gradient.with_value else prog.outputs
        for k, o in zip(gradient.argnums, grads, strict=False):
            if isinstance(o, Var) and k < len(args) and id(o) not in out_hint:
                out_hint[id(o)] = f"{args[k]}_bar"
    em.name_results(prog, names, out_hint)
    if reuse_buffers:
        prog = scatter_onto(prog)
        em.inplace = {id(prog.eqns[n]): i for n, i in plan_inplace(prog).items()}

    lines = [f"def {fname}({', '.join(args)}):", "    try:"]
    em.dead = _dead_after(prog)
    em.gradient = gradient is not None
    body = em.walk(prog.eqns, names)
    outs = [em.atom(o, names) for o in prog.outputs]
    body.append("return " + _structure(em, prog.out_tree, iter(outs)))
    lines += ["        " + b for b in body]
    # math raises where NumPy gives inf/nan: then run the primitives' implementations
    lines += ["    except (ArithmeticError, ValueError):",
              f"        return _fallback({', '.join(args)})"]
    return "\n".join(lines) + "\n", em.ns


def _origin_text(fwd, names: dict) -> str:
    """The equation a block of lines comes from (``v2 = v1 * x``), its variables named as
    in the generated code; one computed elsewhere (in the program that was
    differentiated) is written ``…``, and a result with no name here is left out."""
    known = _Named(names)
    try:
        text = " ".join(format_eqn(fwd, known).split())
    except KeyError:
        return f"{fwd.prim.name}(…) (simplified away)"
    return re.sub(r"^…(, …)* = ", "", text)


class _Named(dict):
    """``names`` where a missing variable reads ``…``."""

    def get(self, key, default=None):
        return super().get(key, "…")


#: arrays at least this large are deleted after their last use in generated code
_FREE_SIZE = 4096


def _dead_after(prog: Program) -> dict[int, list]:
    """equation index -> large variables last read there (equation results only)."""
    produced = {id(o) for e in prog.eqns for o in e.outvars}
    dead: dict[int, list] = {}
    for n, v in prog.last_reads().values():
        if id(v) in produced and v.aval.size >= _FREE_SIZE and n < len(prog.eqns):
            dead.setdefault(n, []).append(v)
    return dead


def _structure(em: _PyEmitter, td: Any, it) -> str:
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
    if kind == "namedtuple":
        return em.const(td.meta, "_type") + "(" + ", ".join(parts) + ")"
    return em.const(td.node, "_node") + "([" + ", ".join(parts) + "])"  # OrderedDict & co


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


def compile_program(prog: Program, name: str | None = None, reuse_buffers: bool = True,
                    gradient: Gradient | None = None) -> GeneratedFunction:
    """Generate, register with linecache, and compile ``prog`` into a Python function
    (``reuse_buffers`` and ``gradient`` as for :func:`generate`)."""
    src, ns = generate(prog, name, reuse_buffers, gradient)
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
    fn = ns[fname]
    # the source stays readable in tracebacks while the function lives, and no longer
    weakref.finalize(fn, linecache.cache.pop, filename, None)
    return GeneratedFunction(fn, src, filename, prog)


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
