"""Numba source from a program: ``jit(f, backend="numba")``, and ``"auto"``'s choice.

**Programs of scalars** are compiled whole. The supported subset is what scalar programs
and their gradients use: every value is a Python float (or int/bool), except the per-step
outputs of loops, which become 1-D NumPy arrays **preallocated** to the trip count
(``ys = np.empty(1000)``; ``ys[step] = c``) instead of the NumPy backend's per-step lists.
Each primitive is written by its template (:mod:`chainrule.ir.templates`): arithmetic
with operators, elementwise functions with :mod:`math`, maximum/minimum/sign with NumPy's
scalar ufuncs (NaN-propagating), where as a conditional expression; ``scan``
(``fori_loop``), ``while_loop`` and ``cond`` are written inline as ``for``/``while``/``if``.
The function is compiled with ``numba.njit(error_model="numpy")``, so ``1/0.`` gives
``inf`` and ``log(0.)`` ``-inf`` as NumPy does (no exception, no fallback). Anything
outside the subset raises :class:`NumbaUnsupported` naming it.

**Array programs** stay the NumPy backend's generated code, in which each region that
:mod:`chainrule.ir.fusion` finds (a chain of elementwise equations over one shape, and a
full sum of it) is one equation calling a Numba kernel: one loop computing every element
of the chain in registers (``t1 = e0 * e1; t2 = t1 - 0.5; o2[i] = t2``), an accumulator
for the sum, no temporary arrays. Products, reductions along an axis, indexing, NumPy's
vectorised functions (exp, log, tanh…) and anything else without a loop spelling stay
NumPy calls between the kernels. A loop over at least :data:`PARALLEL_MIN_SIZE` elements
runs on every core (``prange``). Kernels are cached on disk (:func:`kernel_cache_dir`),
so a later process loads them instead of compiling.

The loops and branches and the walk over a program are
:class:`chainrule.ir.emitter.Emitter`'s; this module is its Numba dialect (whole
programs) and, inside a fused loop, its element-by-element form (:class:`_LoopEmitter`).
:func:`choose_backend` is ``backend="auto"``'s rule.
"""

from __future__ import annotations

import hashlib
import importlib.util
import itertools
import linecache
import math
import os
import sys
import time
import weakref
from typing import Any, Callable

import numpy as np

from chainrule.ir.codegen import GeneratedFunction, Gradient, _structure, compile_program
from chainrule.ir.fusion import Region, broadcast_kind, fuse, operand_key, plan
from chainrule.ir.emitter import Emitter, StepIO, assign, ident
from chainrule.ir.program import Program, Var
from chainrule.ir.templates import BUILTINS, render, template

__all__ = ["NumbaUnsupported", "generate_numba", "compile_numba", "compile_fused", "import_numba",
           "FusedKernel", "kernel_source", "choose_backend", "compile_auto",
           "PARALLEL_MIN_SIZE", "AUTO_MIN_SIZE"]

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


class _NEmitter(Emitter):
    """The Numba dialect: scalars only, ``math`` functions, per-step outputs preallocated."""

    def __init__(self, where: str) -> None:
        super().__init__()
        self.where = where

    def fail(self, what: str) -> None:
        """Raise :class:`NumbaUnsupported` naming ``what`` and the function."""
        raise NumbaUnsupported(
            f"jit(backend='numba') cannot compile {self.where}: {what}. The numba backend "
            "supports programs of Python floats with arithmetic, math functions, "
            "maximum/minimum/sign/where, fori_loop/scan/while_loop/cond; use "
            "backend='numpy' for this function.")

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
            name = ident(f"_c{len(self.ns)}", self.used)  # a global: numba freezes it
            self.ns[name] = np.ascontiguousarray(v)
            return name
        self.fail(f"a literal {type(v).__name__} of shape {np.shape(v)}")
        return ""

    def check(self, e) -> None:
        """Loops and branches over scalars; a scan also over and into 1-D arrays."""
        name = e.prim.name
        if name == "scan":
            nc, nk, length = e.params["nc"], e.params["nk"], e.params["length"]
            for a in e.invars[:nc + nk]:
                if isinstance(a, Var) and not _scalar_aval(a.aval):
                    self.fail(f"a scan carry/constant of shape {a.aval.shape}")
            for a in e.invars[nc + nk:]:
                if a.aval.shape != (length,):
                    self.fail(f"a scanned-over array of shape {a.aval.shape} (1-D of length "
                              f"{length} is supported)")
            for o in e.outvars[nk:]:
                if o.aval.shape != (length,) or o.aval.dtype.kind not in _DTYPES:
                    self.fail(f"a loop output of shape {o.aval.shape} and dtype {o.aval.dtype}")
            return
        operands = e.invars if name == "while_loop" else list(e.invars) + list(e.outvars)
        for a in operands:
            if isinstance(a, Var) and not _scalar_aval(a.aval):
                self.fail(f"a {name} operand of shape {a.aval.shape}")

    def assignment(self, e, names: dict) -> str:
        """Operators and ``math`` functions on scalars; anything else is refused."""
        name = e.prim.name
        for o in e.outvars:
            if not _scalar_aval(o.aval):
                self.fail(f"primitive '{name}' makes a value of shape {o.aval.shape} "
                          f"(dtype {o.aval.dtype}); only scalars are supported outside loop "
                          "outputs")
        for a in e.invars:
            if not _scalar_aval(a.aval):
                self.fail(f"primitive '{name}' reads an array of shape {a.aval.shape}")
        ins = [self.atom(a, names) for a in e.invars]
        if len(e.outvars) != 1 or e.params:
            self.fail(f"primitive '{name}' (with parameters {sorted(e.params)}) has no scalar "
                      "numba spelling")
        lhs = names[id(e.outvars[0])]
        tpl = template(e.prim)
        spelling = None if tpl is None else tpl.in_loop()
        if spelling is None:
            self.fail(f"primitive '{name}' has no scalar numba spelling")
        return f"{lhs} = {render(spelling, ins, e)}"

    def scan_io(self, e, xs: list, t: str, rng: str, res: list) -> StepIO:
        """Slices read by index, per-step outputs stored into ``np.empty`` arrays."""
        ys = res[e.params["nk"]:]
        setup = [f"{y} = np.empty({e.params['length']}, {_DTYPES[o.aval.dtype.kind]})"
                 for y, o in zip(ys, e.outvars[e.params["nk"]:], strict=True)]
        xt = [ident("x", self.used) for _ in xs]
        return StepIO(setup, f"for {t} in {rng}:", xt,
                      [f"{n} = {x}[{t}]" for n, x in zip(xt, xs, strict=True)],
                      [f"{y}[{t}] = {{}}" for y in ys], ys)

    def scan_results(self, e, io: StepIO, res: list, carry: list) -> list[str]:
        """The arrays are the results already: only the carries are bound."""
        return assign(res[:len(carry)], carry)


_DTYPES = {"f": "np.float64", "i": "np.int64", "b": "np.bool_"}


def generate_numba(prog: Program, name: str | None = None) -> tuple[str, str, dict]:
    """``(kernel source, wrapper source, wrapper namespace)``; the kernel returns a flat tuple.

    Raises:
        NumbaUnsupported: naming the first primitive/value outside the supported subset.
    """
    fname = ident(name or prog.name, set(BUILTINS)) or "f"
    em = _NEmitter(f"{fname!r}")
    for i, v in enumerate(prog.inputs):
        if not _scalar_aval(v.aval):
            em.fail(f"argument {i} is an array of shape {v.aval.shape} (only Python-float "
                    "arguments are supported)")
    names: dict[int, str] = {}
    args = em.name_inputs(prog, names)
    em.name_results(prog, names, {})
    body = em.walk(prog.eqns, names)
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


class NumbaFunction(GeneratedFunction):
    """A program compiled by Numba: ``fn`` (the Python-callable wrapper), kernel, times."""

    __slots__ = ("kernel", "compile_s")

    def __init__(self, fn: Callable, source: str, filename: str, program: Program,
                 kernel: Any, compile_s: float) -> None:
        super().__init__(fn, source, filename, program)
        self.kernel = kernel
        self.compile_s = compile_s


def compile_numba(prog: Program, name: str | None, example_args: tuple,
                  gradient: Gradient | None = None) -> GeneratedFunction:
    """Compile ``prog`` with Numba: whole (a program of scalars) or its fused loops.

    A program whose arguments are all scalars is generated and ``numba.njit``-compiled
    whole (eagerly, on ``example_args``), or refused with :class:`NumbaUnsupported`. An
    array program stays NumPy code in which each fused elementwise region
    (:mod:`chainrule.ir.fusion`) is one Numba kernel: products, reductions along an axis,
    indexing and anything else without a loop spelling run as NumPy calls between them.
    """
    if any(not _scalar_aval(v.aval) for v in prog.inputs):
        return compile_fused(prog, name, gradient)
    return _compile_scalar(prog, name, example_args)


def _compile_scalar(prog: Program, name: str | None, example_args: tuple) -> NumbaFunction:
    """Generate, ``numba.njit`` and compile (eagerly, on ``example_args``) the program."""
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
            "); use backend='numpy'") from err
    compile_s = time.perf_counter() - t0
    wrap_ns["_kernel"] = kernel
    exec(compile(wrapper_src, filename + " wrapper", "exec"), wrap_ns)
    fn = wrap_ns[f"{fname}_call"]
    weakref.finalize(fn, linecache.cache.pop, filename, None)  # the source dies with fn
    return NumbaFunction(fn, kernel_src, filename, prog, kernel, compile_s)


# -- array programs: fused elementwise loops as Numba kernels ---------------------------

#: a fused loop over at least this many elements runs on every core (``prange``);
#: smaller ones run serially. Measured on 2 cores (Numba 0.68, OpenMP threading layer):
#: a 2-operation loop over 10⁶ float64 took 105 µs in parallel against 231 µs serially
#: when the machine was otherwise idle, but starting the threads costs milliseconds when
#: other processes hold the cores, so the bar is high
PARALLEL_MIN_SIZE = 1 << 20

#: compiled kernels by source and parallelism: equal loops compile once per process
_KERNELS: dict = {}


class _LoopEmitter(_NEmitter):
    """The Numba dialect inside a fused loop: each equation computes one element
    (``t3 = t1 * e0``), a full reduction adds into its accumulator (``acc4 += t3``), and
    a result read after the loop is stored into its array (``o3[i] = t3``)."""

    def __init__(self, where: str, region: Region) -> None:
        super().__init__(where)
        self.region = region
        self.wanted = {id(o) for o in region.outputs}
        self.setup: list[str] = []  # lines before the loop (output arrays, accumulators)
        self.results: dict[int, str] = {}  # id(output) -> what the kernel returns for it

    def atom(self, a: Any, names: dict) -> str:
        return names.get(operand_key(a)) or super().atom(a, names)

    def assignment(self, e, names: dict) -> str:
        o = e.outvars[0]
        ins = [self.atom(a, names) for a in e.invars]
        tpl = template(e.prim)
        if id(o) in self.region.reductions:
            acc = names[id(o)]
            self.setup.append(f"{acc} = {'0.0' if o.aval.dtype.kind == 'f' else '0'}")
            self.results[id(o)] = acc
            return f"{acc} {tpl.reduce}= {ins[0]}"
        return f"{names[id(o)]} = {render(tpl.in_loop(), ins, e)}"

    def after(self, n: int, e, names: dict) -> list[str]:
        o = e.outvars[0]
        if id(o) not in self.wanted or id(o) in self.region.reductions:
            return []
        out = "o" + names[id(o)][1:]
        self.setup.append(f"{out} = np.empty({self.region.size}, {_np_dtype(o.aval.dtype)})")
        self.results[id(o)] = out
        return [f"{out}[i] = {names[id(o)]}"]


def kernel_source(prog: Program, region: Region, fname: str, parallel: bool) -> str:
    """The Numba source of one fused loop: a function of the region's inputs (arrays
    flattened to 1-D, scalars as they are) returning its outputs as a tuple."""
    em = _LoopEmitter(f"{fname!r}", region)
    params, loads, names = [], [], {}
    index = {"full": "i", "row": "c", "col": "r"}
    kinds = [broadcast_kind(a.aval.shape, region.shape) for a in region.inputs]
    for k, (a, kind) in enumerate(zip(region.inputs, kinds, strict=True)):
        if kind == "scalar":
            params.append(f"s{k}")
            names[operand_key(a)] = f"s{k}"
        else:
            params.append(f"a{k}")
            names[operand_key(a)] = f"e{k}"
            loads.append(f"e{k} = a{k}[{index[kind]}]")
    eqns = [prog.eqns[n] for n in region.eqns]
    for j, e in enumerate(eqns):
        names[id(e.outvars[0])] = f"acc{j}" if id(e.outvars[0]) in region.reductions else f"t{j}"
    body = em.walk(eqns, names)
    outs = [em.results[id(o)] for o in region.outputs]
    loop = "prange" if parallel else "range"
    if {"row", "col"} & set(kinds):  # rows r and columns c of the last axis; i = r·C + c
        cols = region.shape[-1]
        header = [f"    for r in {loop}({region.size // cols}):",
                  f"        for c in range({cols}):", f"            i = r * {cols} + c"]
        indent = "            "
    else:
        header, indent = [f"    for i in {loop}({region.size}):"], "        "
    return "\n".join(
        [f"def {fname}({', '.join(params)}):"] + ["    " + ln for ln in em.setup] + header
        + [indent + ln for ln in loads + body]
        + ["    return (" + ", ".join(outs) + ("," if len(outs) == 1 else "") + ")"]) + "\n"


def _np_dtype(dt: np.dtype) -> str:
    return "np.bool_" if dt.kind == "b" else f"np.{dt.name}"


class FusedKernel:
    """The primitive of one fused loop (an equation of the rewritten program).

    Attributes:
        name: ``fused_<n>`` (the generated code calls it as ``_prim_fused_<n>``).
        source: the kernel's Numba source (one ``for`` loop).
        dispatcher: the ``numba.njit`` function.
        parallel: whether the loop runs on every core.
        impl: ``impl(*inputs) -> tuple`` (arrays flattened, results shaped back).
    """

    multiple_results = True
    #: its array results are new arrays, and it keeps no view of its arguments
    fresh_results = True
    #: the record fields in-place planning reads (it has no ufunc and is no reduction)
    ufunc = None
    fresh = False
    batch = None

    def __init__(self, name: str, source: str, dispatcher: Any, parallel: bool,
                 impl: Callable) -> None:
        self.name = name
        self.source = source
        self.dispatcher = dispatcher
        self.parallel = parallel
        self.impl = impl

    def __repr__(self) -> str:
        return f"<FusedKernel {self.name}{' parallel' if self.parallel else ''}>"


def _kernel_builder(numba: Any, counter: Any) -> Callable[[Program, Region], FusedKernel]:
    def build(prog: Program, region: Region) -> FusedKernel:
        parallel = region.size >= PARALLEL_MIN_SIZE
        src = kernel_source(prog, region, "fused", parallel)
        disp = _KERNELS.get((src, parallel))
        if disp is None:
            disp = _KERNELS[(src, parallel)] = _njit_kernel(numba, src, parallel)
        name = f"fused_{next(counter)}"
        return FusedKernel(name, src, disp, parallel, _caller(region, disp, name))
    return build


_KERNEL_HEADER = "import math\n\nimport numpy as np\nfrom numba import prange\n\n\n"


def kernel_cache_dir() -> str | None:
    """Where compiled kernels are kept between processes: ``$CHAINRULE_CACHE_DIR`` or
    ``~/.cache/chainrule`` (``$XDG_CACHE_HOME``), sub-folder ``numba-kernels``; None
    when it cannot be created (kernels are then compiled in every process)."""
    root = os.environ.get("CHAINRULE_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"),
        "chainrule")
    path = os.path.join(root, "numba-kernels")
    try:
        os.makedirs(path, exist_ok=True)
    except OSError:
        return None
    return path if os.access(path, os.W_OK) else None


def _njit_kernel(numba: Any, src: str, parallel: bool) -> Any:
    """``numba.njit`` of a kernel's source. The source is written to a file named by its
    hash in :func:`kernel_cache_dir` and compiled with ``cache=True``, so a later process
    loads the machine code instead of compiling again (≈ 0.2 s per kernel); without a
    writable cache it is compiled from memory."""
    options = {"error_model": "numpy", "parallel": parallel}
    folder = kernel_cache_dir()
    if folder is not None:
        digest = hashlib.sha1(f"{parallel}\n{src}".encode()).hexdigest()[:20]
        path = os.path.join(folder, f"kernel_{digest}.py")
        try:
            if not os.path.exists(path):
                tmp = f"{path}.{os.getpid()}.tmp"
                with open(tmp, "w") as fh:
                    fh.write(_KERNEL_HEADER + src)
                os.replace(tmp, path)  # atomic: another process sees all or nothing
            spec = importlib.util.spec_from_file_location(f"_chainrule_kernel_{digest}", path)
            module = importlib.util.module_from_spec(spec)
            sys.modules[spec.name] = module  # Numba's cache finds the function's module
            spec.loader.exec_module(module)
            return numba.njit(cache=True, **options)(module.fused)
        except OSError:
            pass
    ns = {"np": np, "math": math, "prange": numba.prange}
    filename = f"<chainrule-numba kernel #{next(_counter)}>"
    linecache.cache[filename] = (len(src), None, src.splitlines(True), filename)
    exec(compile(src, filename, "exec"), ns)
    return numba.njit(cache=False, **options)(ns["fused"])


def _caller(region: Region, disp: Any, name: str) -> Callable:
    """A Python function feeding the kernel flat arrays and shaping its results."""
    flat = len(region.shape) == 1
    args, call = [], []
    for k, a in enumerate(region.inputs):
        args.append(f"x{k}")
        if a.aval.shape == ():
            call.append(f"x{k}" if a.aval.pyfloat else f"x{k}[()]")
        else:
            call.append(f"x{k}" if a.aval.ndim == 1 else f"x{k}.reshape(-1)")
    rets = []
    for i, o in enumerate(region.outputs):
        if id(o) in region.reductions:
            rets.append(f"{_np_dtype(o.aval.dtype)}(r[{i}])")
        else:
            rets.append(f"r[{i}]" if flat else f"r[{i}].reshape({region.shape!r})")
    src = (f"def {name}({', '.join(args)}):\n"
           f"    r = _kernel({', '.join(call)})\n"
           f"    return ({', '.join(rets)}{',' if len(rets) == 1 else ''})\n")
    ns = {"_kernel": disp, "np": np}
    exec(compile(src, f"<chainrule-numba caller {name}>", "exec"), ns)
    return ns[name]


def compile_fused(prog: Program, name: str | None = None, gradient: Gradient | None = None,
                  min_size: int = 1) -> NumbaFunction:
    """``prog`` as generated NumPy code whose fused elementwise regions (at least
    ``min_size`` elements) are Numba kernels; ``.kernels`` lists them."""
    numba = import_numba()
    t0 = time.perf_counter()
    fused, kernels = fuse(prog, _kernel_builder(numba, itertools.count()), min_size)
    gen = compile_program(fused, name, gradient=gradient)
    out = NumbaFunction(gen.fn, gen.source, gen.filename, prog, tuple(kernels),
                        time.perf_counter() - t0)
    return out


# -- backend="auto" ------------------------------------------------------------------

#: ``backend="auto"`` fuses loops over at least this many elements (below it a kernel
#: call costs about what NumPy's temporaries do)
AUTO_MIN_SIZE = 4096
#: ``backend="auto"`` compiles a program of scalars whole when it loops at least this
#: many steps (a ``scan``/``fori_loop``) or has a ``while_loop``
AUTO_MIN_STEPS = 100


def numba_available() -> bool:
    """Whether Numba can be imported."""
    try:
        import_numba()
    except ImportError:
        return False
    return True


def choose_backend(prog: Program) -> str:
    """``"numba"`` or ``"numpy"``: the backend ``jit(f, backend="auto")`` uses for ``prog``.

    The rule: Numba when it is installed and either the program takes arrays and has a
    fused loop (:func:`chainrule.ir.fusion.plan`: ≥ 2 elementwise equations) over at least
    :data:`AUTO_MIN_SIZE` elements, or it takes only scalars and loops (a scan of at
    least :data:`AUTO_MIN_STEPS` steps, or a while loop); NumPy otherwise.
    """
    if not numba_available():
        return "numpy"
    if any(not _scalar_aval(v.aval) for v in prog.inputs):
        return "numba" if plan(prog, AUTO_MIN_SIZE) else "numpy"
    loops = any(e.prim.name == "while_loop" or (e.prim.name == "scan" and e.params.get(
        "length", 0) >= AUTO_MIN_STEPS) for e in prog.eqns)
    return "numba" if loops else "numpy"


def compile_auto(prog: Program, name: str | None, example_args: tuple,
                 gradient: Gradient | None = None) -> GeneratedFunction:
    """``prog`` compiled by the backend :func:`choose_backend` picks (a program of scalars
    that Numba cannot compile whole is NumPy code)."""
    if choose_backend(prog) == "numpy":
        return compile_program(prog, name, gradient=gradient)
    if any(not _scalar_aval(v.aval) for v in prog.inputs):
        return compile_fused(prog, name, gradient, AUTO_MIN_SIZE)
    try:
        return _compile_scalar(prog, name, example_args)
    except NumbaUnsupported:
        return compile_program(prog, name, gradient=gradient)
