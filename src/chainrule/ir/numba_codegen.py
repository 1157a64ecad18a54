"""Numba source from a program: ``jit(f, backend="numba")`` for scalar and loop-heavy code.

The supported subset is what scalar programs and their gradients use: every value is a
Python float (or int/bool), except the per-step outputs of loops, which become 1-D NumPy
arrays **preallocated** to the trip count (``ys = np.empty(1000)``; ``ys[step] = c``)
instead of the Python backend's per-step lists. Arithmetic is written with operators,
elementwise functions with :mod:`math`; ``scan`` (``fori_loop``), ``while_loop`` and
``cond`` are written inline as ``for``/``while``/``if``. The function is compiled with
``numba.njit(cache=False, error_model="numpy")``, so ``1/0.`` gives ``inf`` and
``log(0.)`` ``-inf`` as NumPy does (no exception, no fallback).

Anything outside the subset (an array argument, a primitive without a scalar spelling)
raises :class:`NumbaUnsupported` naming it: the backend never falls back to Python
silently.
"""

from __future__ import annotations

import itertools
import math
import time
from typing import Any, Callable

import numpy as np

from chainrule.ir.codegen import _INFIX, _UNARY, _assign, _ident, _structure
from chainrule.ir.program import Program, Var

__all__ = ["NumbaUnsupported", "generate_numba", "compile_numba", "import_numba"]

_counter = itertools.count()


class NumbaUnsupported(NotImplementedError):
    """The program uses something ``backend="numba"`` cannot compile."""


def import_numba():
    """``numba``, or ImportError saying how to install it."""
    try:
        import numba
    except ImportError as err:
        raise ImportError(
            "jit(f, backend='numba') needs Numba, which is not installed: "
            "pip install chainrule[jit]  (or: pip install numba)") from err
    return numba


def _scalar_aval(av) -> bool:
    return av.pyfloat or (av.shape == () and av.dtype.kind in "fib")


class _NEmitter:
    def __init__(self, where: str) -> None:
        self.used: set = {"math", "np"}
        self.where = where
        self.ns: dict[str, Any] = {"math": math, "np": np}

    def fail(self, what: str) -> None:
        raise NumbaUnsupported(
            f"jit(backend='numba') cannot compile {self.where}: {what}. The numba backend "
            "supports programs of Python floats with arithmetic, math functions, "
            "fori_loop/scan/while_loop/cond; use backend='python' for this function.")

    def atom(self, a: Any, names: dict) -> str:
        if isinstance(a, Var):
            return names[id(a)]
        v = a.value
        if type(v) in (int, bool):
            return repr(v)
        if type(v) is float or (isinstance(v, np.generic) and np.ndim(v) == 0
                                and np.asarray(v).dtype.kind in "fib"):
            v = v.item() if isinstance(v, np.generic) else v
            if isinstance(v, float) and not math.isfinite(v):
                return "math.nan" if math.isnan(v) else ("math.inf" if v > 0 else "-math.inf")
            return repr(v)
        if isinstance(v, np.ndarray) and v.ndim == 1 and v.dtype.kind in "fib":
            name = _ident(f"_c{len(self.ns)}", self.used)  # a global: numba freezes it
            self.ns[name] = np.ascontiguousarray(v)
            return name
        self.fail(f"a literal {type(v).__name__} of shape {np.shape(v)}")
        return ""


def _check_var(em: _NEmitter, v: Var, prim: str) -> None:
    if not _scalar_aval(v.aval):
        em.fail(f"primitive '{prim}' makes a value of shape {v.aval.shape} "
                f"(dtype {v.aval.dtype}); only scalars are supported outside loop outputs")


def _lines(em: _NEmitter, e, names: dict) -> list[str]:
    name = e.prim.name
    if name == "scan" and isinstance(e.params.get("body"), Program):
        return _emit_scan(em, e, names)
    if name == "while_loop" and isinstance(e.params.get("body"), Program):
        return _emit_while(em, e, names)
    if name == "cond" and isinstance(e.params.get("true"), Program):
        return _emit_cond(em, e, names)
    for o in e.outvars:
        _check_var(em, o, name)
    for a in e.invars:
        if not _scalar_aval(a.aval):
            em.fail(f"primitive '{name}' reads an array of shape {a.aval.shape}")
    ins = [em.atom(a, names) for a in e.invars]
    if len(e.outvars) != 1 or e.params:
        em.fail(f"primitive '{name}' (with parameters {sorted(e.params)}) has no scalar "
                "numba spelling")
    lhs = names[id(e.outvars[0])]
    if name in _INFIX and name != "matmul" and len(ins) == 2:
        return [f"{lhs} = {ins[0]} {_INFIX[name]} {ins[1]}"]
    if name == "neg":
        return [f"{lhs} = -{ins[0]}"]
    if name == "square":
        return [f"{lhs} = {ins[0]} * {ins[0]}"]
    if name == "abs":
        return [f"{lhs} = abs({ins[0]})"]
    if name == "pow":
        return [f"{lhs} = {ins[0]} ** {ins[1]}"]
    if name in _UNARY and len(ins) == 1:
        return [f"{lhs} = math.{_UNARY[name][0]}({ins[0]})"]
    em.fail(f"primitive '{name}' has no scalar numba spelling")
    return []


def _block(em: _NEmitter, prog: Program, names: dict, in_exprs: list,
           preset: dict | None = None) -> tuple[list, list]:
    for v, x in zip(prog.inputs, in_exprs, strict=True):
        names[id(v)] = x
    preset = preset or {}
    lines: list[str] = []
    for e in prog.eqns:
        for o in e.outvars:
            names[id(o)] = preset.get(id(o)) or _ident("t", em.used)
        lines.extend(_lines(em, e, names))
    return lines, [em.atom(o, names) for o in prog.outputs]


_DTYPES = {"f": "np.float64", "i": "np.int64", "b": "np.bool_"}


def _emit_scan(em: _NEmitter, e, names: dict) -> list[str]:
    """``for`` over the body; per-step outputs into arrays preallocated to the trip count."""
    from chainrule.ir.codegen import _carry_in_place

    p = e.params
    body, nc, nk, lo, length, reverse = (p["body"], p["nc"], p["nk"], p["lo"], p["length"],
                                         p["reverse"])
    ins = [em.atom(a, names) for a in e.invars]
    consts, init, xs = ins[:nc], ins[nc:nc + nk], ins[nc + nk:]
    for a in e.invars[:nc + nk]:
        if isinstance(a, Var) and not _scalar_aval(a.aval):
            em.fail(f"a scan carry/constant of shape {a.aval.shape}")
    for a in e.invars[nc + nk:]:
        if a.aval.shape != (length,):
            em.fail(f"a scanned-over array of shape {a.aval.shape} (1-D of length {length} "
                    "is supported)")
    for o in e.outvars[nk:]:
        if o.aval.shape != (length,) or o.aval.dtype.kind not in _DTYPES:
            em.fail(f"a loop output of shape {o.aval.shape} and dtype {o.aval.dtype}")
    off = 1 if lo is not None else 0
    carry = [_ident("c", em.used) for _ in range(nk)]
    t = _ident("step", em.used)
    lines = [f"# loop: {len(body.eqns)}-equation body {body.name!r}, {length} steps"
             + (", reversed" if reverse else "")]
    lines += _assign(carry, init)
    res = [names[id(o)] for o in e.outvars]
    ynames = res[nk:]
    for y, o in zip(ynames, e.outvars[nk:], strict=True):
        lines.append(f"{y} = np.empty({length}, {_DTYPES[o.aval.dtype.kind]})")
    rng = f"range({length - 1}, -1, -1)" if reverse else f"range({length})"
    lines.append(f"for {t} in {rng}:")
    xt = [_ident("x", em.used) for _ in xs]
    pre_x = [f"{n} = {x}[{t}]" for n, x in zip(xt, xs, strict=True)]
    idx = [] if lo is None else [t if lo == 0 else f"({t} + {lo})"]
    k_in = body.inputs[off + nc:off + nc + nk]
    early = [isinstance(o, Var) and any(o is v for v in body.inputs) for o in body.outputs[nk:]]
    preset = _carry_in_place(body, k_in, nk, early, carry)
    inner, outs = _block(em, body, names, idx + consts + carry + xt, preset)
    stores = [f"{y}[{t}] = {o}" for y, o in zip(ynames, outs[nk:], strict=True)]
    pre = [s for s, e_ in zip(stores, early, strict=True) if e_]
    post = [s for s, e_ in zip(stores, early, strict=True) if not e_]
    inner = pre_x + pre + inner + post
    todo = [(c, o) for c, o in zip(carry, outs[:nk], strict=True) if c != o]
    inner += _assign([c for c, _ in todo], [o for _, o in todo])
    lines += ["    " + ln for ln in inner] or ["    pass"]
    lines += _assign(res[:nk], carry)
    return lines


def _emit_while(em: _NEmitter, e, names: dict) -> list[str]:
    p = e.params
    cprog, bprog, ncc, ncb = p["cond"], p["body"], p["ncc"], p["ncb"]
    for a in e.invars:
        if isinstance(a, Var) and not _scalar_aval(a.aval):
            em.fail(f"a while_loop operand of shape {a.aval.shape}")
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


def _emit_cond(em: _NEmitter, e, names: dict) -> list[str]:
    for a in list(e.invars) + list(e.outvars):
        if isinstance(a, Var) and not _scalar_aval(a.aval):
            em.fail(f"a cond operand of shape {a.aval.shape}")
    ins = [em.atom(a, names) for a in e.invars]
    res = [names[id(o)] for o in e.outvars]
    lines = [f"if {ins[0]}:"]
    for k, prog in ((0, e.params["true"]), (1, e.params["false"])):
        bl, bo = _block(em, prog, names, ins[1:])
        lines += ["    " + ln for ln in bl + _assign(res, bo)] or ["    pass"]
        if k == 0:
            lines.append("else:")
    return lines


def generate_numba(prog: Program, name: str | None = None) -> tuple[str, str, dict]:
    """``(kernel source, wrapper source, wrapper namespace)``; the kernel returns a flat tuple.

    Raises:
        NumbaUnsupported: naming the first primitive/value outside the supported subset.
    """
    fname = _ident(name or prog.name, set()) or "f"
    em = _NEmitter(f"{fname!r}")
    names: dict[int, str] = {}
    args = []
    for i, v in enumerate(prog.inputs):
        if not _scalar_aval(v.aval):
            em.fail(f"argument {i} is an array of shape {v.aval.shape} (only Python-float "
                    "arguments are supported)")
        hint = v.hint or (prog.arg_names[i] if i < len(prog.arg_names) else None)
        n = _ident(hint, em.used) or _ident(f"x{i}", em.used)
        names[id(v)] = n
        args.append(n)
    k = 0
    for e in prog.eqns:
        for o in e.outvars:
            k += 1
            names[id(o)] = _ident(f"v{k}", em.used)
    body: list[str] = []
    for e in prog.eqns:
        body.extend(_lines(em, e, names))
    outs = [em.atom(o, names) for o in prog.outputs]
    body.append("return (" + ", ".join(outs) + ("," if len(outs) == 1 else "") + ")")
    kernel = "\n".join([f"def {fname}({', '.join(args)}):"] + ["    " + b for b in body]) + "\n"
    # the wrapper rebuilds the output structure (numba returns a flat tuple)
    rs = [f"_r[{i}]" for i in range(len(outs))]
    wrap_ns: dict = {}
    struct = _structure(_ConstSink(wrap_ns), prog.out_tree, iter(rs))
    wrapper = (f"def {fname}_call({', '.join(args)}):\n"
               f"    _r = _kernel({', '.join(args)})\n"
               f"    return {struct}\n")
    wrap_ns["_kernel_ns"] = em.ns
    return kernel, wrapper, wrap_ns


class _ConstSink:
    """The ``em.const`` that :func:`codegen._structure` needs for namedtuple types."""

    def __init__(self, ns: dict) -> None:
        self.ns = ns

    def const(self, value: Any, stem: str = "_c") -> str:
        name = f"{stem}{len(self.ns)}"
        self.ns[name] = value
        return name


class NumbaFunction:
    """A program compiled by Numba: ``fn`` (the Python-callable wrapper), sources, times."""

    __slots__ = ("fn", "source", "filename", "program", "kernel", "compile_s")

    def __init__(self, fn: Callable, source: str, filename: str, program: Program,
                 kernel: Any, compile_s: float) -> None:
        self.fn = fn
        self.source = source
        self.filename = filename
        self.program = program
        self.kernel = kernel
        self.compile_s = compile_s

    def __call__(self, *args: Any) -> Any:
        return self.fn(*args)


def compile_numba(prog: Program, name: str | None, example_args: tuple) -> NumbaFunction:
    """Generate, ``numba.njit`` and compile (eagerly, on ``example_args``) the program."""
    import linecache

    numba = import_numba()
    kernel_src, wrapper_src, wrap_ns = generate_numba(prog, name)
    fname = kernel_src[4:kernel_src.index("(")]
    filename = f"<chainrule-numba {fname} #{next(_counter)}>"
    linecache.cache[filename] = (len(kernel_src), None, kernel_src.splitlines(True), filename)
    ns = wrap_ns.pop("_kernel_ns")
    exec(compile(kernel_src, filename, "exec"), ns)
    t0 = time.perf_counter()
    try:
        kernel = numba.njit(cache=False, error_model="numpy")(ns[fname])
        kernel(*example_args)  # compile now, so errors surface at the first call
    except Exception as err:  # numba's typing errors: say which program and keep the cause
        raise NumbaUnsupported(
            f"jit(backend='numba'): Numba could not compile the generated code for "
            f"{fname!r} ({type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"
            "); use backend='python'") from err
    compile_s = time.perf_counter() - t0
    wrap_ns["_kernel"] = kernel
    exec(compile(wrapper_src, filename + " wrapper", "exec"), wrap_ns)
    return NumbaFunction(wrap_ns[f"{fname}_call"], kernel_src, filename, prog, kernel,
                         compile_s)
