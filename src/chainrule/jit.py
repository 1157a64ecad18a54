"""``make_ir``, ``jit`` and ``source``: staging + passes + Python codegen + a cache.

``jit(f)`` traces ``f`` once per input *signature* (the pytree structure of the
arguments, each leaf's shape and dtype or "Python float", and the values of the
static arguments), optimises the program (folding, identities, CSE, DCE),
generates Python source for it and caches the compiled function; later calls
with the same signature run the generated code. Called with values that other
transformations are tracing (``grad(jit(f))``), it evaluates its cached program
by binding its primitives, so those transformations see every operation.
"""

from __future__ import annotations

import functools
import inspect
import warnings
from typing import Any, Callable, Sequence

import numpy as np

from chainrule.core.backends import is_foreign
from chainrule.core.primitive import PRIMITIVES, Tracer
from chainrule.core.pytree import tree_flatten, tree_unflatten
from chainrule.interpreters.staging import CapturedTracerError, abstractify, stage
from chainrule.ir.codegen import GeneratedFunction, Gradient, compile_program
from chainrule.ir.evaluate import eval_flat
from chainrule.ir.passes import optimize as _optimize
from chainrule.ir.program import Program
from chainrule.ir.standalone import standalone_source

__all__ = ["make_ir", "jit", "source", "Jitted"]


def _static(static_argnums: int | Sequence[int]) -> tuple[int, ...]:
    return (static_argnums,) if isinstance(static_argnums, int) else tuple(static_argnums)


def _static_names(static_argnames: str | Sequence[str]) -> tuple[str, ...]:
    return (static_argnames,) if isinstance(static_argnames, str) else tuple(static_argnames)


def _positional_names(f: Callable) -> list[str] | None:
    """The names of ``f``'s positional parameters (None when Python cannot tell)."""
    try:
        params = inspect.signature(f).parameters.values()
    except (TypeError, ValueError):
        return None
    return [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]


def _resolve_statics(f: Callable, nums: tuple[int, ...], names: tuple[str, ...]
                     ) -> tuple[tuple[int, ...], tuple[str, ...]]:
    """Static positions and names, each completed from the other through ``f``'s
    signature (as JAX does), so a static parameter is static however it is passed."""
    for n in nums:
        if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
            raise TypeError(f"jit: static_argnums must be ints (argument positions), got {n!r}")
    for n in names:
        if not isinstance(n, str):
            raise TypeError(f"jit: static_argnames must be strings (parameter names), got "
                            f"{n!r}")
    params = _positional_names(f)
    if params is None:
        return tuple(nums), tuple(names)
    nums = tuple(sorted({int(n) for n in nums} | {params.index(n) for n in names
                                                   if n in params}))
    names = tuple(dict.fromkeys(names + tuple(params[n] for n in nums if n < len(params))))
    return nums, names


_TRACEABLE = (float, int, complex, np.ndarray, np.generic, Tracer)


def _traceable(leaf: Any) -> bool:
    """A number, a NumPy array or scalar, a tracer, or another library's array (anything
    with a shape and a dtype: Dask, CuPy)."""
    return isinstance(leaf, _TRACEABLE) or (hasattr(leaf, "shape") and hasattr(leaf, "dtype"))


def _untraceable(where: str, value: Any, fname: str, hint: str) -> TypeError:
    short = repr(value)
    short = short if len(short) < 50 else short[:47] + "..."
    return TypeError(
        f"jit({fname}): {where} is a {type(value).__name__} ({short}), which jit cannot "
        "trace: it traces numbers and arrays (and pytrees of them), whose values may change "
        f"between calls without recompiling. Mark it static: {hint}; a static argument is "
        "passed as it is and is part of the cache key (it must be hashable; each new value "
        "compiles again)")


def make_ir(f: Callable, static_argnums: int | Sequence[int] = (),
            optimize: bool = False) -> Callable[..., Program]:
    """``make_ir(f)(*args)``: the program ``f`` runs on arguments shaped like ``args``.

    Args:
        f: any function of arrays/floats, or a transformation of one (``grad(f)``).
        static_argnums: argument positions passed as they are (not traced).
        optimize: run the passes (folding, identities, CSE, DCE) on the program.

    Returns:
        A function of the example arguments returning the :class:`Program`, whose
        printed form is the lecture's evaluation trace.

    Example:
        >>> import chainrule as cr, chainrule.numpy as np
        >>> print(cr.make_ir(lambda x: np.sin(x) * x)(1.0))
        inputs: v0 = x
        v1 = sin(v0)
        v2 = v1 * v0
        outputs: v2
    """
    statics = _static(static_argnums)

    @functools.wraps(f)
    def make_ir_f(*args: Any, **kwargs: Any) -> Program:
        prog = stage(f, args, kwargs, statics)
        return _optimize(prog) if optimize else prog

    return make_ir_f


def _leaf_sig(x: Any) -> Any:
    t = type(x)
    if t is float:
        return float
    if t is np.ndarray:
        return (x.shape, x.dtype.str)
    if is_foreign(x):  # Dask, CuPy: their own compiled function (no in-place writes)
        return (t.__module__, t.__name__) + abstractify(x).key()
    return abstractify(x).key()


def _describe(sig: Any) -> str:
    if sig is float:
        return "a Python float"
    if isinstance(sig, tuple) and len(sig) == 2:
        return f"an array of shape {sig[0]} and dtype {np.dtype(sig[1])}"
    if isinstance(sig, tuple) and len(sig) == 3:
        return f"shape {sig[0]}, dtype {np.dtype(sig[1])}" + (" (float)" if sig[2] else "")
    if isinstance(sig, tuple) and len(sig) == 5:
        return f"a {sig[0]}.{sig[1]} of shape {sig[2]} and dtype {np.dtype(sig[3])}"
    return repr(sig)


class Jitted:
    """A function compiled by :func:`jit`; call it like the original.

    Attributes:
        cache: signature -> compiled function (:class:`GeneratedFunction`).
        misses: how many times a call had to trace.
    """

    #: compiled signatures kept per function; past it the oldest is dropped (and a warning
    #: says the function is being recompiled too often)
    max_cache_size = 64
    #: the number of compilations after which a warning says so (once per function)
    recompile_warning_after = 32

    def __init__(self, f: Callable, static_argnums: tuple = (), backend: str = "numpy",
                 static_argnames: tuple = ()):
        if backend == "numba":
            from chainrule.ir.numba_codegen import import_numba

            import_numba()  # ImportError now (not at the first call) if Numba is missing
        elif backend == "python":  # the NumPy backend's first name
            backend = "numpy"
        elif backend not in ("numpy", "auto"):
            raise ValueError(f"jit: backend must be 'numpy', 'numba' or 'auto', got "
                             f"{backend!r}")
        self.f = f
        self.static_argnums, self.static_argnames = _resolve_statics(
            f, tuple(static_argnums), tuple(static_argnames))
        self.backend = backend
        self.cache: dict = {}
        self.misses = 0
        self._last_miss: str | None = None
        self._float_cache: dict = {}  # (float, float, ...) -> generated function
        functools.update_wrapper(self, f)

    # -- signatures --------------------------------------------------------
    def _signature(self, args: tuple, kwargs: dict) -> tuple[Any, list | None]:
        statics = self.static_argnums
        if not statics and not kwargs:
            sig = []
            for a in args:
                t = type(a)
                if t is float:
                    sig.append(float)
                elif t is np.ndarray:
                    sig.append((a.shape, a.dtype.str))
                else:
                    break
            else:
                return tuple(sig), None
        dyn = tuple(a for i, a in enumerate(args) if i not in statics)
        static_kw, dyn_kw = self._split_kwargs(kwargs)
        leaves, tree = tree_flatten(dyn + (dyn_kw,) if dyn_kw else dyn)
        static_vals = tuple(args[i] for i in statics if i < len(args))
        kw = tuple(sorted(static_kw.items()))
        try:
            hash((static_vals, kw))
        except TypeError as err:
            raise TypeError(
                f"jit({self.__name__}): static arguments must be hashable (they are part of "
                f"the cache key), got {static_vals + kw!r}; pass arrays as ordinary "
                "(traced) arguments, or a tuple instead of a list"
            ) from err
        try:
            sig = tuple(_leaf_sig(x) for x in leaves)
        except Exception:  # noqa: BLE001 - a leaf NumPy cannot read: say which argument
            self._check_traceable(args, dyn_kw)
            raise
        return ("tree", tree, sig, static_vals, kw), leaves

    def _split_kwargs(self, kwargs: dict) -> tuple[dict, dict]:
        """(static keyword arguments, traced ones): ``static_argnames`` are static."""
        if not kwargs:
            return {}, {}
        static = {k: v for k, v in kwargs.items() if k in self.static_argnames}
        return static, {k: v for k, v in kwargs.items() if k not in static}

    def _check_traceable(self, args: tuple, dyn_kw: dict) -> None:
        """A clear error for an argument jit cannot trace (a string, a function...)."""
        params = _positional_names(self.f) or []
        for i, a in enumerate(args):
            if i in self.static_argnums:
                continue
            for leaf in tree_flatten(a)[0]:
                if not _traceable(leaf):
                    name = params[i] if i < len(params) else None
                    hint = f"jit({self.__name__}, static_argnums={i})" + (
                        f" or static_argnames={name!r}" if name else "")
                    where = f"argument {i}" + (f" ({name})" if name else "")
                    raise _untraceable(where, leaf, self.__name__, hint)
        for k, v in dyn_kw.items():
            for leaf in tree_flatten(v)[0]:
                if not _traceable(leaf):
                    raise _untraceable(f"keyword argument {k!r}", leaf, self.__name__,
                                       f"jit({self.__name__}, static_argnames={k!r})")

    def explain_retrace(self) -> str | None:
        """Why the last cache miss happened (None if there was none)."""
        return self._last_miss

    def _explain(self, sig: Any) -> str:
        if not self.cache:
            return "first call: nothing cached yet"
        best = None
        for old in reversed(self.cache):  # on a tie, the most recent signature
            why = _diff(old, sig)
            if best is None or len(why) < len(best):
                best = why
        return "; ".join(best) if best else "signature differs"

    # -- compilation -------------------------------------------------------
    def _compile(self, args: tuple, kwargs: dict, leaves: list | None = None
                 ) -> GeneratedFunction:
        static_kw, dyn_kw = self._split_kwargs(kwargs)
        self._check_traceable(args, dyn_kw)
        if dyn_kw:  # traced keyword arguments: one more (dict) argument of a wrapper
            f = self.f

            def with_keywords(*a):
                return f(*a[:-1], **a[-1], **static_kw)

            with_keywords.__name__ = getattr(f, "__name__", "f")
            prog = stage(with_keywords, tuple(args) + (dyn_kw,), None, self.static_argnums)
        else:
            prog = stage(self.f, args, static_kw, self.static_argnums)
        prog = _optimize(prog)
        name = getattr(self.f, "__name__", None)
        gradient = None
        if getattr(self.f, "derivative_kind", None) in ("grad", "value_and_grad"):
            gradient = Gradient(self.f.argnums, self.f.derivative_kind == "value_and_grad")
        flat = tuple(args) if leaves is None else tuple(leaves)
        if any(is_foreign(x) for x in flat):
            return compile_program(prog, name, reuse_buffers=False)
        if self.backend == "numpy" or any(isinstance(x, Tracer) for x in flat):
            # (traced by an outer transformation: only the program is needed)
            return compile_program(prog, name, gradient=gradient)
        from chainrule.ir import numba_codegen

        if self.backend == "numba":
            return numba_codegen.compile_numba(prog, name, flat, gradient)
        return numba_codegen.compile_auto(prog, name, flat, gradient)

    def lower(self, *args: Any, **kwargs: Any) -> GeneratedFunction:
        """The compiled function for these arguments (tracing it if needed)."""
        sig, _ = self._signature(args, kwargs)
        entry = self.cache.get(sig)
        if entry is None:
            self._miss(sig)
            entry = self._store(sig, self._compile(args, kwargs, self._signature(
                args, kwargs)[1]))
        return entry

    def _miss(self, sig: Any) -> None:
        self.misses += 1
        self._last_miss = self._explain(sig)
        if self.misses == self.recompile_warning_after:
            warnings.warn(
                f"jit({self.__name__}) has been compiled {self.misses} times, once per new "
                f"input signature (last change: {self._last_miss}). Each compilation traces "
                "and generates code again; pass arrays of fixed shapes, or mark arguments "
                "that take few values static (static_argnums/static_argnames), or call the "
                "function without jit", RuntimeWarning, stacklevel=3)

    def _store(self, sig: Any, entry: GeneratedFunction) -> GeneratedFunction:
        """Cache ``entry``, dropping the oldest one past :attr:`max_cache_size`."""
        self.cache[sig] = entry
        if len(self.cache) > self.max_cache_size:
            del self.cache[next(iter(self.cache))]
            self._float_cache.clear()
        return entry

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not kwargs:
            fn = self._float_cache.get(tuple(map(type, args)))
            if fn is not None:
                return fn(*args)
        sig, leaves = self._signature(args, kwargs)
        entry = self.cache.get(sig)
        if entry is None:
            self._miss(sig)
            try:
                entry = self._store(sig, self._compile(args, kwargs, leaves))
            except CapturedTracerError:
                # f closes over a value an enclosing jvp/grad/vmap is tracing: run it
                # as it is, under that transformation (exact, only not compiled)
                return self.f(*args, **kwargs)
        if leaves is None:
            if all(s is float for s in sig):
                self._float_cache[tuple(map(type, args))] = entry.fn
            return entry.fn(*args)
        if any(isinstance(x, Tracer) for x in leaves):
            prog = entry.program
            outs = eval_flat(prog, leaves)
            return tree_unflatten(prog.out_tree, outs)
        return entry.fn(*leaves)


def _diff(old: Any, new: Any) -> list[str]:
    """What differs between two signatures, in words."""
    def parts(sig):
        if sig and sig[0] == "tree":
            return sig[1], sig[2], sig[3], sig[4]
        return None, sig, (), ()
    t0, l0, s0, k0 = parts(old)
    t1, l1, s1, k1 = parts(new)
    out = []
    if t0 != t1 and t0 is not None and t1 is not None:
        out.append(f"argument structure changed from {t0} to {t1}")
    if len(l0) != len(l1):
        out.append(f"number of array arguments changed from {len(l0)} to {len(l1)}")
    else:
        for i, (a, b) in enumerate(zip(l0, l1, strict=False)):
            if a != b:
                out.append(f"argument leaf {i} changed from {_describe(a)} to {_describe(b)}")
    if s0 != s1:
        out.append(f"static arguments changed from {s0!r} to {s1!r}")
    if k0 != k1:
        out.append(f"keyword arguments changed from {k0!r} to {k1!r}")
    return out


def jit(f: Callable, static_argnums: int | Sequence[int] = (),
        backend: str = "numpy", static_argnames: str | Sequence[str] = ()) -> Jitted:
    """Trace once per input signature, optimise, generate Python, cache, run that.

    Arguments (positional or keyword) that are numbers or arrays, or pytrees of them, are
    traced: their values may change without recompiling. Any other argument (a string, a
    function, an option) must be declared static.

    The cache holds :attr:`Jitted.max_cache_size` (64) signatures per function, dropping
    the oldest past that; after :attr:`Jitted.recompile_warning_after` (32) compilations a
    ``RuntimeWarning`` says the function is being recompiled too often, and why.

    Args:
        f: the function (any transformation of one too: ``jit(grad(f))``).
        static_argnums: argument positions that are not traced: their values are
            part of the cache key (use them for sizes, flags, Python objects).
        static_argnames: parameter names that are not traced, however they are passed
            (by keyword or by position); completed from ``static_argnums`` and the other
            way round through ``f``'s signature.
        backend: ``"numpy"`` (generated Python/NumPy source; ``"python"`` is the same),
            ``"numba"`` or ``"auto"`` (Numba needs ``pip install chainrule[jit]``).
            ``"numba"`` compiles a program of Python floats whole with ``numba.njit``
            (outside that subset it raises
            :class:`~chainrule.ir.numba_codegen.NumbaUnsupported` naming the primitive),
            and writes an array program as NumPy code in which each chain of elementwise
            operations over one shape (and a full sum of it) is one fused Numba loop,
            on every core above ``PARALLEL_MIN_SIZE`` elements; products, reductions
            along an axis, indexing and anything else stay NumPy calls. ``"auto"``
            uses Numba when it is installed and the program gains from it
            (:func:`~chainrule.ir.numba_codegen.choose_backend`: a fused loop over at
            least ``AUTO_MIN_SIZE`` elements, or a loop of scalars), else NumPy.

    Returns:
        A :class:`Jitted` callable; ``.explain_retrace()`` says why the last call
        traced again, ``.lower(*args).source`` is the generated code. Called inside
        another transformation (``grad``/``jvp``/``vmap`` of a function calling a
        jitted one), it composes with it; where ``f`` closes over a value that
        transformation is tracing, ``f`` runs uncompiled under it (exact; only the
        speed-up is lost, and nothing is cached).

    Raises:
        ConcretizationError: on Python control flow that depends on an argument's
            value (``if x > 0``), naming the line; use ``chainrule.cond`` & co.
    """
    return Jitted(f, _static(static_argnums), backend, _static_names(static_argnames))


def source(f: Callable, *args: Any, static_argnums: int | Sequence[int] = (),
           static_argnames: str | Sequence[str] = (), **kwargs: Any) -> str:
    """The Python source ``jit(f)`` runs for these arguments (derivative code for grad(f)).

    Args:
        f: a function or a transformation of one (``grad(f)``).
        *args: example arguments (their shapes and dtypes select the program).

    Returns:
        The generated code as a module that runs as printed: its imports, its constants
        written out (arrays element by element), then the function, which takes the
        arguments' leaves (``exec`` it and call the function to get the same numbers;
        where ``math`` raises on a domain error the jitted function falls back to
        NumPy's inf/nan, the printed one raises).

    Raises:
        ValueError: the program holds a constant that cannot be written as Python (a
            function defined inside another function, e.g. a ``custom_vjp`` rule).

    Example:
        >>> import chainrule as cr, chainrule.numpy as np
        >>> print(cr.source(cr.grad(lambda x: np.sin(x) * x), 3.0))
        import math
        import numpy as np
        <BLANKLINE>
        <BLANKLINE>
        def grad_of__lambda__wrt_0(x):
            # forward pass
            v1 = math.sin(x)
            # adjoint of v1 = sin(x)
            v2 = math.cos(x)
            v3 = x * v2
            x_bar = v1 + v3
            return x_bar
        <BLANKLINE>
    """
    entry = jit(f, static_argnums, static_argnames=static_argnames).lower(*args, **kwargs)
    return standalone_source(entry.source, entry.fn.__globals__, PRIMITIVES)
