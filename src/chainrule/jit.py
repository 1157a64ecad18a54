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
from typing import Any, Callable, Sequence

import numpy as np

from chainrule.core.backends import is_foreign
from chainrule.core.primitive import Tracer
from chainrule.core.pytree import tree_flatten, tree_unflatten
from chainrule.interpreters.staging import CapturedTracerError, abstractify, stage
from chainrule.ir.codegen import GeneratedFunction, compile_program
from chainrule.ir.evaluate import eval_flat
from chainrule.ir.passes import optimize as _optimize
from chainrule.ir.program import Program

__all__ = ["make_ir", "jit", "source", "Jitted"]


def _static(static_argnums: int | Sequence[int]) -> tuple[int, ...]:
    return (static_argnums,) if isinstance(static_argnums, int) else tuple(static_argnums)


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

    def __init__(self, f: Callable, static_argnums: tuple = (), backend: str = "python"):
        if backend == "numba":
            from chainrule.ir.numba_codegen import import_numba

            import_numba()  # ImportError now (not at the first call) if Numba is missing
        elif backend != "python":
            raise ValueError(f"jit: backend must be 'python' or 'numba', got {backend!r}")
        self.f = f
        self.static_argnums = static_argnums
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
        leaves, tree = tree_flatten(dyn)
        static_vals = tuple(args[i] for i in statics if i < len(args))
        try:
            hash(static_vals)
        except TypeError as err:
            raise TypeError(
                f"jit({self.__name__}): static arguments must be hashable (they are part of "
                f"the cache key), got {static_vals!r}"
            ) from err
        kw = tuple(sorted(kwargs.items()))
        return ("tree", tree, tuple(_leaf_sig(x) for x in leaves), static_vals, kw), leaves

    def explain_retrace(self) -> str | None:
        """Why the last cache miss happened (None if there was none)."""
        return self._last_miss

    def _explain(self, sig: Any) -> str:
        if not self.cache:
            return "first call: nothing cached yet"
        best = None
        for old in self.cache:
            why = _diff(old, sig)
            if best is None or len(why) < len(best):
                best = why
        return "; ".join(best) if best else "signature differs"

    # -- compilation -------------------------------------------------------
    def _compile(self, args: tuple, kwargs: dict, leaves: list | None = None
                 ) -> GeneratedFunction:
        prog = _optimize(stage(self.f, args, kwargs, self.static_argnums))
        name = getattr(self.f, "__name__", None)
        flat = tuple(args) if leaves is None else tuple(leaves)
        if any(is_foreign(x) for x in flat):
            return compile_program(prog, name, reuse_buffers=False)
        if self.backend == "numba":
            from chainrule.ir.numba_codegen import compile_numba

            if any(isinstance(x, Tracer) for x in flat):
                # traced by an outer transformation: only the program is needed
                return compile_program(prog, name)
            return compile_numba(prog, name, flat)
        return compile_program(prog, name)

    def lower(self, *args: Any, **kwargs: Any) -> GeneratedFunction:
        """The compiled function for these arguments (tracing it if needed)."""
        sig, _ = self._signature(args, kwargs)
        entry = self.cache.get(sig)
        if entry is None:
            self.misses += 1
            self._last_miss = self._explain(sig)
            entry = self.cache[sig] = self._compile(args, kwargs, self._signature(
                args, kwargs)[1])
        return entry

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not kwargs:
            fn = self._float_cache.get(tuple(map(type, args)))
            if fn is not None:
                return fn(*args)
        sig, leaves = self._signature(args, kwargs)
        entry = self.cache.get(sig)
        if entry is None:
            self.misses += 1
            self._last_miss = self._explain(sig)
            try:
                entry = self.cache[sig] = self._compile(args, kwargs, leaves)
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
        backend: str = "python") -> Jitted:
    """Trace once per input signature, optimise, generate Python, cache, run that.

    Args:
        f: the function (any transformation of one too: ``jit(grad(f))``).
        static_argnums: argument positions that are not traced: their values are
            part of the cache key (use them for sizes, flags, Python objects).
        backend: ``"python"`` (generated Python/NumPy source) or ``"numba"``
            (``numba.njit`` of generated scalar source, for Python-float programs and
            their loops; needs ``pip install chainrule[jit]``). A program outside the
            numba subset raises :class:`~chainrule.ir.numba_codegen.NumbaUnsupported`
            naming the primitive; it never falls back to Python silently.

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
    return Jitted(f, _static(static_argnums), backend)


def source(f: Callable, *args: Any, static_argnums: int | Sequence[int] = (),
           **kwargs: Any) -> str:
    """The Python source ``jit(f)`` runs for these arguments (derivative code for grad(f)).

    Args:
        f: a function or a transformation of one (``grad(f)``).
        *args: example arguments (their shapes and dtypes select the program).

    Returns:
        The generated source, readable and runnable with ``import math, numpy as np``.

    Example:
        >>> import chainrule as cr, chainrule.numpy as np
        >>> print(cr.source(cr.grad(lambda x: x * x), 3.0).splitlines()[0])
        def grad_of__lambda__wrt_0(x):
    """
    return jit(f, static_argnums).lower(*args, **kwargs).source
