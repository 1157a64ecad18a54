"""Primitives, tracers and trace levels: the kernel every interpreter stands on.

A *primitive* is one differentiable operation: its NumPy implementation and, side
by side, one JVP rule and one VJP rule per positional argument. Rules are plain
functions ``rule(t_or_g, ans, *args, **params)``:

* a JVP rule maps the tangent ``t`` of one argument to its contribution to the
  output tangent (the contributions of all arguments are summed);
* a VJP rule maps the output cotangent ``g`` to the cotangent of one argument,
  already reduced to that argument's shape.

``ans`` is the primal output and ``args`` are the primal inputs, so residuals are
whatever the rule reads from them. ``None`` in a rule slot means "this argument has
a zero derivative" (the tangent is symbolically zero, nothing is recorded);
:data:`NO_RULE` means the rule is missing and differentiating raises.

A *trace* is one running transformation (``jvp``, ``vjp``, staging, ...). Every
transformation gets a fresh trace with a level higher than every trace already
open, so nested transformations never confuse each other's perturbations: a
primitive is processed by the highest-level trace among its arguments, and values
of lower levels are constants to it.
"""

from __future__ import annotations

import itertools
from typing import Any, Callable

import numpy as np

from chainrule.core.backends import is_foreign
from chainrule.core.shape_rules import elementwise_shape

__all__ = [
    "ANS",
    "NO_RULE",
    "Reads",
    "PRIMITIVES",
    "Primitive",
    "Trace",
    "Tracer",
    "concrete",
    "find_trace",
]


class _NoRule:
    """Marker for a derivative rule that has not been written."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "NO_RULE"


NO_RULE = _NoRule()

#: in a :class:`Reads` declaration: the rule reads the primal output
ANS = -1


class Reads:
    """Which residuals a primitive's VJP rules read, so the tape keeps only those.

    ``per_rule[i]`` lists what the VJP rule of argument ``i`` reads: argument
    indices, and :data:`ANS` for the output; ``every=`` gives one list for every
    argument (variadic primitives). Arrays that no rule of the recorded
    parents reads are replaced on the tape by a shape-only stub, so they can be
    freed during the forward pass (reverse mode's memory is its residuals).
    """

    __slots__ = ("per_rule", "every", "_cache", "_first")

    def __init__(self, *per_rule: tuple, every: tuple | None = None) -> None:
        self.per_rule = per_rule
        self.every = every
        self._cache: dict = {}
        self._first = None

    def kept_first(self) -> tuple[bool, "_Keep"]:
        """:meth:`kept` for argument 0 alone (one-argument primitives), cached."""
        if self._first is None:
            self._first = self.kept(((0, None),))
        return self._first

    def kept(self, parents) -> tuple[bool, frozenset]:
        key = tuple([i for i, _ in parents])
        hit = self._cache.get(key)
        if hit is None:
            need: set = set()
            for i in key:
                need.update(self.every if self.every is not None else self.per_rule[i])
            hit = self._cache[key] = (ANS in need, _Keep(need))
        return hit


class _Keep:
    """``keep[j]``: is argument j read by some recorded rule?"""

    __slots__ = ("need",)

    def __init__(self, need: set) -> None:
        self.need = frozenset(need)

    def __getitem__(self, j: int) -> bool:
        return j in self.need


#: every primitive ever defined, by name (the systematic tests walk this)
PRIMITIVES: dict[str, "Primitive"] = {}

_levels = itertools.count(1)


class Trace:
    """One running transformation. Subclasses implement :meth:`process`."""

    __slots__ = ("level", "active")

    def __init__(self) -> None:
        self.level = next(_levels)
        self.active = True

    def process(self, prim: "Primitive", args: tuple, params: dict) -> Any:
        raise NotImplementedError

    def leaked(self, tracer: "Tracer") -> Exception:
        return RuntimeError(
            f"a traced value escaped its transformation: {tracer!r} belongs to a "
            f"{type(self).__name__} that has already finished. This happens when a value "
            "computed inside grad/jvp/vjp is stored in a global or a closure and used "
            "afterwards; return it from the function instead."
        )


class Tracer:
    """A value being traced by one trace; ``_value`` is the primal one level down.

    Operators, NumPy methods and the ``__array_ufunc__``/``__array_function__``
    protocols are installed by :mod:`chainrule.numpy`, which owns the primitives.
    """

    __slots__ = ("_trace", "_value")
    __array_priority__ = 1000.0
    #: True on tracers that stand for a value not known yet (staging, jit): they are
    #: as concrete as a value gets, so :func:`concrete` stops at them
    _staged = False
    #: True on tracers that are variables of a program being built (staging): equal
    #: equations give equal variables, so a trace above may record one only once
    _program_var = False

    @property
    def shape(self) -> tuple:
        return shape_of(self._value)

    @property
    def ndim(self) -> int:
        return len(shape_of(self._value))

    @property
    def size(self) -> int:
        n = 1
        for d in shape_of(self._value):
            n *= d
        return n

    @property
    def dtype(self):
        return dtype_of(self._value)

    def __len__(self) -> int:
        shape = self.shape
        if not shape:
            raise TypeError("len() of a 0-d traced value")
        return shape[0]

    def __bool__(self) -> bool:
        return bool(concrete(self))

    def __float__(self) -> float:
        raise self._conversion_error("float")

    def __int__(self) -> int:
        """int(x) is piecewise constant (derivative 0), so a known value converts."""
        v = concrete(self)
        if isinstance(v, Tracer):  # staged: no value yet
            raise self._conversion_error("int")
        return int(v)

    def __complex__(self) -> complex:
        raise self._conversion_error("complex")

    def __index__(self) -> int:
        raise self._conversion_error("an index")

    def __array__(self, dtype=None, copy=None):
        if dtype is not None and np.dtype(dtype).kind in "iub":
            v = concrete(self)  # integers and booleans carry no derivative
            if not isinstance(v, Tracer):
                return np.asarray(v).astype(dtype)
        raise TypeError(
            f"a traced value ({self!r}) was converted to a plain NumPy array, which would "
            "drop its derivative. This happens when a NumPy function that chainrule does not "
            "know is called on it. Use the function from chainrule.numpy, wrap the value in "
            "chainrule.stop_gradient(...) if its derivative is not needed, or define the "
            "operation with chainrule.primitive + defjvp/defvjp."
        )

    def _conversion_error(self, what: str) -> TypeError:
        return TypeError(
            f"converting a traced value to {what} would drop its derivative "
            f"({self!r}). Keep it an array: use chainrule.numpy functions (not math.*), or "
            "chainrule.stop_gradient(x) when the derivative is not wanted."
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(level={self._trace.level}, value={concrete(self)!r})"

    __hash__ = object.__hash__


def concrete(x: Any) -> Any:
    """The plain value under every level of tracing.

    Under staging (``make_ir``, ``jit``) the value is not known yet: this returns the
    staging tracer, so rules that compute masks from it stage those computations.
    """
    while isinstance(x, Tracer) and not x._staged:
        x = x._value
    return x


def mask(condition: Any) -> Any:
    """A boolean mask computed from :func:`concrete` values: a NumPy array when the
    values are known, the staged mask itself while ``jit``/``make_ir`` records the
    function (a ``where`` on it is then staged too), and a Dask or CuPy mask as it is."""
    if type(condition) is not np.ndarray and (isinstance(condition, Tracer)
                                               or is_foreign(condition)):
        return condition
    return np.asarray(condition, dtype=bool)


def anywhere(m: Any) -> bool:
    """Whether a mask from :func:`concrete` values has a True element; True for a staged
    mask, whose value is not known yet, so that rules record their general (``where``)
    branch instead of the shortcut, and for a Dask or CuPy mask (its values are not
    computed, nor copied from the GPU, to take a shortcut)."""
    if type(m) is np.ndarray:
        return bool(m.any())
    return True if isinstance(m, Tracer) or is_foreign(m) else bool(np.any(m))


def everywhere(m: Any) -> bool:
    """Whether every element of the mask is True; False for a staged, Dask or CuPy mask."""
    if type(m) is np.ndarray:
        return bool(m.all())
    return False if isinstance(m, Tracer) or is_foreign(m) else bool(np.all(m))


def shape_of(x: Any) -> tuple:
    """Shape of an array, scalar or tracer, without converting it."""
    if isinstance(x, float):
        return ()
    try:
        return x.shape
    except AttributeError:
        return np.shape(x)


_FLOAT64 = np.dtype(np.float64)


def dtype_of(x: Any) -> np.dtype:
    if type(x) is float:
        return _FLOAT64
    x = concrete(x)
    try:
        return x.dtype
    except AttributeError:
        return np.result_type(x)


def find_trace(args) -> Trace | None:
    """The highest-level trace among ``args`` (None when none is traced).

    ``Primitive.__call__`` inlines this loop (it is the hottest path); constructs that
    dispatch by hand (structured control flow) call it.
    """
    trace = None
    for a in args:
        if isinstance(a, Tracer):
            t = a._trace
            if trace is None or t.level > trace.level:
                trace = t
    return trace


class Primitive:
    """One differentiable operation: implementation and rules, side by side.

    Args:
        name: the name printed in traces and error messages (``sin``, ``mul``...).
        impl: the NumPy implementation, called on plain values.
        jvps: one JVP rule per positional argument (``None`` = zero derivative).
        vjps: one VJP rule per positional argument (``None`` = zero derivative).
        linear: True when the operation is linear in all its array arguments
            (its JVP is the operation applied to the tangents).
        reads: a :class:`Reads` naming the residuals the VJP rules use (None: all).
        vjp_into: optional ``into(acc, g, *args, **params)`` adding the cotangent of
            argument 0 into an array ``acc`` in place (scatters: no zeros, no copy).
        vjp_scaled: optional, one entry per argument (``None``: none): a VJP rule
            ``rule(g, s, ans, *args, **params) -> (c, k)`` or ``None``, for a plain
            array ``g`` and a number ``s``, with ``c·k`` the cotangent of ``g·s``.
            It keeps numbers out of array passes (``-x``, ``100·x``, ``x²`` give
            ``(g, -s)``, ``(g, 100s)``, ``(g·x, 2s)``); ``None`` falls back to ``vjps``.
        shape_impl: optional stand-in for ``impl`` that staging (``jit``, ``make_ir``)
            runs on placeholder inputs to learn the output's shape and dtype, for
            operations that have no shape rule (``abstract_eval``) and cannot run on
            arbitrary values (a solver that rejects the all-ones placeholder as
            singular); it returns arrays of the right shapes.
        abstract_eval: the shape rule ``rule(*avals, **params)``: the abstract value
            (:class:`~chainrule.core.abstract.AVal`: shape, dtype) of the output, or a
            list of them, from those of the arguments, without running ``impl``
            (:mod:`chainrule.core.shape_rules` has the common ones; an elementwise
            primitive with a ``ufunc`` gets the ufunc's). None: staging runs ``impl`` on
            placeholder arrays of the arguments' shapes (the generic fallback).
        batch: the name of the batching rule (``"elementwise"``, ``"reduction"``,
            ... a rule of :mod:`chainrule.interpreters.batching`), ``"loop"`` to run
            it once per example on purpose, None when nobody has decided yet.
        commutative: the two arguments can be swapped exactly (IEEE ``+`` and ``·``):
            common-subexpression elimination keys them unordered.
        symbol: the operator that prints it: infix for two arguments (``"+"``), prefix
            for one (``"-"``); None: printed as a call ``name(a, b)``.
        latex: the LaTeX command for the function's name (``r"\\sin"``); None:
            ``\\operatorname{name}``.
        partials: for trace tables, one written partial derivative per argument,
            ``{a0}``, ``{a1}`` for the arguments and ``{y}`` for the result
            (``("cos({a0})",)``); display only, values come from the rules.
        tangent: the whole tangent rule as the lecture writes it when it differs from
            ``Σ ∂y/∂a_i · ȧ_i`` (``"{t0} * {a1} + {a0} * {t1}"``), ``{t0}`` the tangents.
        sympy: the SymPy counterpart of an elementwise primitive: the name of a
            function of the ``sympy`` module (``"sin"``), or ``rule(sp, *scalars)``
            on SymPy scalars with ``sp`` the module (``lambda sp, x: sp.log(1 + x)``).
        ufunc: the name of the NumPy ufunc that computes it (``"sin"``,
            ``"multiply"``): generated code calls ``np.<ufunc>`` and may write into a
            dying operand with ``out=``.
        fresh: its result is new memory, never a view of an argument, so generated code
            may reuse it as an ``out=`` buffer (default: True when it has a ``ufunc``).
        gather: every output element is one input element (reshape, transpose,
            indexing): sparsity patterns follow the elements.
        register: False for a primitive kept out of :data:`PRIMITIVES` (the user's own).

    Every VJP rule is linear in the cotangent, so the reverse sweep may carry a
    number ``s`` beside an adjoint array and apply it once, where it must
    (:func:`chainrule.interpreters.reverse.backward`). ``scales_cotangents`` is False
    for primitives whose rules are the user's (``custom_vjp`` may clip a gradient).
    """

    __slots__ = ("name", "impl", "jvps", "vjps", "linear", "doc", "reads", "vjp_into",
                 "vjp_scaled", "shape_impl", "abstract_eval", "batch", "commutative",
                 "symbol", "latex", "partials", "tangent", "sympy", "ufunc", "fresh",
                 "gather", "__weakref__")
    scales_cotangents = True

    def __init__(
        self,
        name: str,
        impl: Callable,
        jvps: Any = (),
        vjps: Any = (),
        linear: bool = False,
        doc: str | None = None,
        reads: "Reads | None" = None,
        vjp_into: Callable | None = None,
        vjp_scaled: tuple | None = None,
        shape_impl: Callable | None = None,
        *,
        abstract_eval: Callable | None = None,
        batch: str | None = None,
        commutative: bool = False,
        symbol: str | None = None,
        latex: str | None = None,
        partials: tuple[str, ...] | None = None,
        tangent: str | None = None,
        sympy: "str | Callable | None" = None,
        ufunc: str | None = None,
        fresh: bool | None = None,
        gather: bool = False,
        register: bool = True,
    ) -> None:
        self.name = name
        self.impl = impl
        self.jvps = jvps
        self.vjps = vjps
        self.linear = linear
        self.doc = doc
        self.reads = reads
        self.vjp_into = vjp_into
        self.vjp_scaled = vjp_scaled
        self.shape_impl = shape_impl
        if abstract_eval is None and ufunc is not None and batch == "elementwise":
            abstract_eval = elementwise_shape(ufunc=ufunc)  # NumPy's ufunc knows the dtype
        self.abstract_eval = abstract_eval
        self.batch = batch
        self.commutative = commutative
        self.symbol = symbol
        self.latex = latex
        self.partials = partials
        self.tangent = tangent
        self.sympy = sympy
        self.ufunc = ufunc
        self.fresh = ufunc is not None if fresh is None else fresh
        self.gather = gather
        if register:
            PRIMITIVES[name] = self

    def __call__(self, *args, **params):
        trace = None
        for a in args:
            if isinstance(a, Tracer):
                t = a._trace
                if trace is None or t.level > trace.level:
                    trace = t
        if trace is None:
            return self.impl(*args, **params)
        if not trace.active:
            raise trace.leaked(next(a for a in args if isinstance(a, Tracer)))
        return trace.process(self, args, params)

    @property
    def __name__(self) -> str:
        return self.name

    @property
    def elementwise(self) -> bool:
        """Whether it acts element by element on broadcast arguments."""
        return self.batch == "elementwise"

    def bind_general(self, *args, **params):
        """``self(*args, **params)`` (named for the fast paths that fall back to it)."""
        return Primitive.__call__(self, *args, **params)

    def __repr__(self) -> str:
        return f"Primitive({self.name})"


class ArgRules:
    """Rules for a variadic primitive: ``rules[i]`` is ``rule`` with argnum ``i`` bound."""

    __slots__ = ("rule", "_cache")

    def __init__(self, rule: Callable) -> None:
        self.rule = rule
        self._cache: dict[int, Callable] = {}

    def __getitem__(self, i: int) -> Callable:
        fn = self._cache.get(i)
        if fn is None:
            rule = self.rule

            def fn(ct, ans, *args, **params):
                return rule(i, ct, ans, *args, **params)

            self._cache[i] = fn
        return fn


def params_key(params: dict, keep_alive: list) -> tuple:
    """``params`` as a hashable key: equal keys mean equal parameters.

    Unhashable values (arrays, lists) are keyed by identity and appended to
    ``keep_alive``, which the caller holds so that no identity is reused while the key
    is in use.
    """
    if not params:
        return ()
    items = []
    for k in sorted(params):
        v = params[k]
        try:
            hash(v)
        except TypeError:
            keep_alive.append(v)
            v = ("id", id(v))
        items.append((k, v))
    return tuple(items)
