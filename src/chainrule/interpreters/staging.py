"""Staging: trace a function into a :class:`~chainrule.ir.Program` instead of running it.

A :class:`StagingTracer` stands for a value that is not known yet: it carries only
an abstract value (shape, dtype, Python-float-ness) and the program variable that
will hold it. Every primitive applied to one appends an equation
``v_i = prim(args)`` to the trace and returns a fresh tracer; the output's
abstract value is found by running the implementation on placeholder values of
the right shapes. Staging is one more trace level, so it nests under the other
transformations: staging ``grad(f)`` records the forward pass *and* the reverse
sweep, because the reverse trace computes its values by binding primitives on the
staged tracers one level down.

Python control flow that depends on a staged value (``if x > 0:``) cannot be
recorded: converting a staged value to ``bool``/``float``/``int`` raises
:class:`ConcretizationError`, naming the user's line and the structured
alternatives (``chainrule.cond``, ``fori_loop``, ``while_loop``, ``scan``).
"""

from __future__ import annotations

import inspect
import linecache
import os
import sys
from typing import Any, Callable

import numpy as np

from chainrule.core.primitive import Primitive, Trace, Tracer
from chainrule.core.rule_origin import state as _rules
from chainrule.core.pytree import tree_flatten, tree_unflatten
from chainrule.ir.program import AVal, Eqn, Lit, Program, Var, atom_key, aval_of

__all__ = ["StagingTrace", "StagingTracer", "ConcretizationError", "stage", "stage_sub",
           "abstractify", "user_frame"]

_PKG_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class ConcretizationError(TypeError):
    """A staged value was needed as a concrete Python value (``if``, ``float()``...)."""


def user_frame() -> tuple[str, int, str]:
    """(file, line, source text) of the innermost frame outside chainrule."""
    f = sys._getframe(1)
    while f is not None:
        fn = f.f_code.co_filename
        if not os.path.abspath(fn).startswith(_PKG_DIR) and not fn.startswith("<chainrule"):
            text = linecache.getline(fn, f.f_lineno).strip()
            return fn, f.f_lineno, text
        f = f.f_back
    return "<unknown>", 0, ""


class CapturedTracerError(TypeError):
    """A staged function closed over a value of an enclosing transformation: the
    program would depend on it, so it cannot be staged on its own."""


class StagingTracer(Tracer):
    """A staged value: ``_value`` is its :class:`AVal`, ``var`` its program variable."""

    __slots__ = ("var",)
    _staged = True
    _program_var = True

    def __init__(self, trace: "StagingTrace", var: Var) -> None:
        self._trace = trace
        self._value = var.aval
        self.var = var

    def _concretization_error(self, what: str) -> ConcretizationError:
        fn, line, text = user_frame()
        return ConcretizationError(
            f"{fn}:{line}: `{text}` needs the {what} of a traced value "
            f"({self._value.short()}), which is not known while chainrule.jit / make_ir traces "
            "the function (the program is recorded once for every input of this shape). "
            "Value-dependent Python control flow cannot be staged: use "
            "chainrule.cond(pred, true_fn, false_fn, *operands) for a branch, "
            "chainrule.fori_loop / while_loop / scan for a loop, chainrule.numpy.where for an "
            "elementwise choice, mark the argument static (jit(f, static_argnums=...)), or "
            "call the function without jit (eager mode)."
        )

    def __bool__(self) -> bool:
        raise self._concretization_error("truth value")

    def __float__(self) -> float:
        raise self._concretization_error("float value")

    def __int__(self) -> int:
        raise self._concretization_error("int value")

    def __index__(self) -> int:
        raise self._concretization_error("integer value (as an index)")

    def __complex__(self) -> complex:
        raise self._concretization_error("complex value")

    def __repr__(self) -> str:
        return f"StagingTracer({self._value.short()})"


def _placeholder(aval: AVal) -> Any:
    """A value of the right shape and type, for shape inference by evaluation."""
    if aval.pyfloat:
        return 1.0 if aval.dtype.kind == "f" else 1
    return np.ones(aval.shape, aval.dtype)


#: constants a shape rule receives as themselves (Python numbers are weakly typed; None is an
#: absent operand), and the Python numbers among them
_CONSTANTS = frozenset({float, int, complex, bool, type(None)})
_NUMBERS = frozenset({float, int, complex, bool})


def _evaluated_avals(prim: Primitive, invars: list, params: dict) -> tuple[bool, list]:
    """(several outputs?, the output variables) found by running the implementation on
    placeholders: for primitives without a shape rule, and for Python numbers alone
    (whether the result is a Python number is the implementation's choice)."""
    dummies = [_placeholder(a.aval) if isinstance(a, Var) else a.value for a in invars]
    impl = prim.shape_impl or prim.impl
    with np.errstate(all="ignore"):
        try:
            out = impl(*dummies, **params)
        except np.linalg.LinAlgError:  # a matrix of ones is singular: use identities
            dummies = [_identity_like(d) if isinstance(v, Var) else d
                       for d, v in zip(dummies, invars)]
            out = impl(*dummies, **params)
    multi = isinstance(out, (tuple, list))
    return multi, [Var(aval_of(o)) for o in (out if multi else [out])]


def _identity_like(a: Any) -> Any:
    """Identity matrices of ``a``'s shape (for linear algebra's shape inference)."""
    if np.ndim(a) < 2:
        return a
    return np.broadcast_to(np.eye(a.shape[-2], a.shape[-1], dtype=a.dtype), a.shape).copy()


def abstractify(x: Any) -> AVal:
    """The abstract value of a concrete value or of a tracer of any level."""
    while isinstance(x, Tracer):
        if isinstance(x, StagingTracer):
            return x._value
        if x._staged:  # e.g. a vmap BatchTracer: its own shape is the per-example one
            return AVal(x.shape, x.dtype)
        x = x._value
    return aval_of(x)


class StagingTrace(Trace):
    """Records every primitive applied to its tracers as an :class:`Eqn`."""

    __slots__ = ("eqns", "by_key", "captured")

    def __init__(self, lift: bool = False) -> None:
        super().__init__()
        self.eqns: list[Eqn] = []
        self.by_key: dict = {}
        #: when staging a sub-program (a loop body, a branch): id(outer value) ->
        #: (its new input Var, the value); values of other traces become inputs
        self.captured: dict | None = {} if lift else None

    def new_input(self, aval: AVal, hint: str | None = None) -> StagingTracer:
        return StagingTracer(self, Var(aval, hint))

    def _atom(self, a: Any) -> Any:
        if isinstance(a, StagingTracer) and a._trace is self:
            return a.var
        if self.captured is not None and isinstance(a, Tracer):
            hit = self.captured.get(id(a))
            if hit is None:
                hit = self.captured[id(a)] = (Var(abstractify(a)), a)
            return hit[0]
        if isinstance(a, StagingTracer):
            if a._trace is self:
                return a.var
            raise CapturedTracerError(
                "a value staged by an enclosing jit/make_ir was used inside a nested one; "
                "pass it to the inner function as an argument instead"
            )
        if isinstance(a, Tracer):
            raise CapturedTracerError(
                f"a value being differentiated by an enclosing transformation ({a!r}) was "
                "captured by a function that is being staged (jit/make_ir) inside it. Pass it "
                "as an argument of the staged function instead of closing over it."
            )
        return Lit(a)

    def process(self, prim: Primitive, args: tuple, params: dict) -> Any:
        invars = [self._atom(a) for a in args]
        abstract = [a.value if type(a) is Lit and type(a.value) in _CONSTANTS else a.aval
                    for a in invars]
        if prim.abstract_eval is not None and not all(
                type(a) in _NUMBERS or a.pyfloat for a in abstract if a is not None):
            out = prim.abstract_eval(*abstract, **params)
            multi = isinstance(out, (tuple, list))
            outvars = [Var(o) for o in out] if multi else [Var(out)]
        else:
            multi, outvars = _evaluated_avals(prim, invars, params)
        eqn = Eqn(prim, invars, outvars, params, origin=self._origin())
        self.eqns.append(eqn)
        try:
            self.by_key[(prim, tuple(atom_key(a) for a in invars))] = eqn
        except TypeError:
            pass
        tracers = [StagingTracer(self, v) for v in outvars]
        return tuple(tracers) if multi else tracers[0]

    def _origin(self) -> Any:
        """("adjoint"|"tangent", the forward equation) when staged by a derivative rule:
        the rule the interpreters say is running (:mod:`chainrule.core.rule_origin`)."""
        running = _rules.current
        if running is None:
            return None
        if running[0] == "adjoint":  # a VJP rule of the tape entry (prim, args)
            _, prim, args = running
            key = (prim, tuple(atom_key(self._atom_or_none(a)) for a in args))
            fwd = self.by_key.get(key)
            return ("adjoint", fwd) if fwd is not None else None
        ans = running[1]  # a JVP rule of the application that gave ans
        if isinstance(ans, StagingTracer) and ans._trace is self:
            fwd = next((e for e in reversed(self.eqns) if ans.var in e.outvars), None)
            return ("tangent", fwd) if fwd is not None else None
        return None

    def _atom_or_none(self, a: Any) -> Any:
        if self.captured is not None and isinstance(a, Tracer) and a._trace is not self:
            hit = self.captured.get(id(a))  # a lookup must not capture anything
            return hit[0] if hit is not None else Lit(None)
        try:
            return self._atom(a)
        except (RuntimeError, TypeError):
            return Lit(None)


def _arg_hints(f: Callable, n_args: int) -> list[str | None]:
    try:
        sig = inspect.signature(f)
    except (TypeError, ValueError):
        return [None] * n_args
    names = []
    for p in sig.parameters.values():
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            names.append(p.name)
        elif p.kind == p.VAR_POSITIONAL:
            names.extend(f"{p.name}{i}" for i in range(n_args - len(names)))
    names += [None] * (n_args - len(names))
    return names[:n_args]


def stage(f: Callable, args: tuple, kwargs: dict | None = None,
          static_argnums: tuple = ()) -> Program:
    """Trace ``f(*args, **kwargs)`` into a :class:`Program`.

    Args:
        f: the function (it may be a transformation of one: ``grad(g)``).
        args: example arguments; only their shapes and dtypes are used, except for
            the positions in ``static_argnums``, which are passed as they are.
        kwargs: keyword arguments, passed as they are (static).
        static_argnums: positions of arguments that are not traced.

    Returns:
        The program; its inputs are the leaves of the non-static arguments.
    """
    kwargs = kwargs or {}
    dyn = [a for i, a in enumerate(args) if i not in static_argnums]
    leaves, in_tree = tree_flatten(tuple(dyn))
    hints_by_arg = _arg_hints(f, len(args))
    dyn_hints = [h for i, h in enumerate(hints_by_arg) if i not in static_argnums]
    hints: list = []
    for a, h in zip(dyn, dyn_hints, strict=False):
        n = len(tree_flatten(a)[0])
        if n == 1 and not isinstance(a, (tuple, list, dict)):
            hints.append(h)
        else:
            hints.extend(f"{h}_{j}" if h else None for j in range(n))
    trace = StagingTrace()
    _rules.watching += 1
    try:
        boxes = [trace.new_input(abstractify(x), h) for x, h in zip(leaves, hints, strict=False)]
        dyn_vals = list(tree_unflatten(in_tree, boxes))
        full = []
        for i, a in enumerate(args):
            full.append(a if i in static_argnums else dyn_vals.pop(0))
        out = f(*full, **kwargs)
    finally:
        trace.active = False
        _rules.watching -= 1
    out_leaves, out_tree = tree_flatten(out)
    outputs = []
    for o in out_leaves:
        if isinstance(o, StagingTracer) and o._trace is trace:
            outputs.append(o.var)
        elif isinstance(o, Tracer) and o._trace.active:
            raise CapturedTracerError(
                f"an output of {getattr(f, '__name__', 'the function')} ({o!r}) is computed "
                "from a value an enclosing transformation is tracing, not from its "
                "arguments; pass that value as an argument of the staged function")
        elif isinstance(o, Tracer):
            raise trace.leaked(o)
        else:
            outputs.append(Lit(o))
    name = getattr(f, "__name__", type(f).__name__)
    return Program([b.var for b in boxes], trace.eqns, outputs, in_tree=in_tree,
                   out_tree=out_tree, name=name, arg_names=tuple(hints))


def stage_sub(f: Callable, avals: list, hints: list | None = None,
              name: str = "body") -> tuple[Program, list]:
    """Stage a sub-program (a loop body, a branch) on abstract inputs.

    ``f`` takes one argument per aval and returns a flat list of results. Values of
    other traces that ``f`` closes over (an enclosing ``grad``'s tracers, an
    enclosing ``jit``'s staged values) become extra inputs after the given ones:
    closure conversion, so the sub-program is closed.

    Returns:
        ``(program, captured)``: the program's inputs are ``len(avals)`` inputs, then
        one per captured value; ``captured`` lists those values, in order.
    """
    trace = StagingTrace(lift=True)
    hints = hints or [None] * len(avals)
    _rules.watching += 1
    try:
        boxes = [trace.new_input(av, h) for av, h in zip(avals, hints, strict=True)]
        outs = list(f(*boxes))
    finally:
        trace.active = False
        _rules.watching -= 1
    outputs = []
    for o in outs:
        if isinstance(o, StagingTracer) and o._trace is trace:
            outputs.append(o.var)
        elif isinstance(o, Tracer):  # an outer value returned unchanged
            outputs.append(trace._atom(o))
        else:
            outputs.append(Lit(o))
    caps = list(trace.captured.values())
    prog = Program([b.var for b in boxes] + [v for v, _ in caps], trace.eqns, outputs,
                   name=name)
    return prog, [x for _, x in caps]
