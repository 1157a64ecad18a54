"""Reverse mode: the tape, the adjoint sweep (VJP) and the one driver every
transformation uses.

During the forward pass every primitive applied to a :class:`VJPTracer` of this trace
appends one :class:`~chainrule.interpreters.tape.Entry` ``(prim, args, ans, params,
parents)`` to ``trace.tape`` (:func:`~chainrule.interpreters.tape.record`): the
primitive, the residuals its VJP rules read, and the tape positions of the arguments it
depends on. Creation order is a topological order, so the backward sweep walks the tape
once, from the end, and for every node ``v_j`` with a non-zero adjoint adds
``v̄_i += v̄_j · ∂v_j/∂v_i`` to each parent ``v_i`` (sum over outgoing edges, the
lecture's reverse invariant). Each adjoint is dropped as soon as it has been propagated.
Cost: O(#edges + #nodes), no recursion, whatever the depth or sharing of the graph.

:func:`record_call` and :func:`pull_back` are the flat VJP driver (record ``f`` on a new
tape; sweep it from cotangents of its outputs): ``vjp``, ``grad``/``value_and_grad``,
``custom_vjp``, the linear solvers' transposed JVPs and the operation counts of
``chainrule.symbolic`` all go through them. The plain version of this module is
:mod:`chainrule.interpreters.reference`; the tricks that make this one fast (shape stubs,
scaled adjoints, in-place accumulation, temporary elision, deferred NaN checks, the
paused collector, a primed heap) live in :mod:`chainrule.interpreters._fastpath`.

Example:
    >>> import chainrule.numpy as np
    >>> with paused_gc():
    ...     trace, out = record_call(lambda x, y: np.sin(x) * y, [0.5, 2.0])
    ...     cts = pull_back(trace, [out], [1.0], 2)
    >>> [round(float(c), 6) for c in cts]
    [1.755165, 0.479426]
"""

from __future__ import annotations

import weakref
from typing import Any, Callable, Sequence

import numpy as np

from chainrule.core.primitive import NO_RULE, Primitive, Trace, Tracer, params_key
from chainrule.core.rule_origin import state as _rules
from chainrule.interpreters import _fastpath as fast
from chainrule.interpreters import heap, quiet
from chainrule.interpreters.forward import JVPTrace
from chainrule.interpreters._fastpath import pause_gc, paused_gc, plain_value, resume_gc
from chainrule.interpreters.rule_errors import missing_rule
from chainrule.interpreters.tape import Entry, ShapeStub, VJPTracer, record

__all__ = [
    "Entry", "ReverseTrace", "VJPTracer", "ShapeStub", "record", "record_call", "pull_back",
    "backward", "sweep", "plain_value", "pause_gc", "paused_gc", "resume_gc",
]

_new = object.__new__
_ndarray = np.ndarray


class ReverseTrace(Trace):
    """``tape``: the recorded entries. ``shared``: when the values are variables of a
    program being staged (``jit(grad(f))``), or once a forward trace runs above this one
    (:meth:`nested_forward`), the entry of each distinct (primitive, arguments,
    parameters), recorded once (see :meth:`_sharing_key`), and ``alive`` the constants
    keyed by identity there; None until then."""

    __slots__ = ("tape", "shared", "alive", "forward_made")

    def __init__(self) -> None:
        super().__init__()
        if not heap.primed:  # freed sweep buffers stay in the heap for the next call
            heap.keep_freed_buffers()
        self.tape: list = []
        self.shared: dict | None = None
        self.alive: list | None = None
        self.forward_made = JVPTrace.made

    def new_input(self, value: Any) -> VJPTracer:
        box = _new(VJPTracer)
        box._trace = self
        box._value = value
        box.index = len(self.tape)
        self.tape.append(None)
        return box

    def nested_forward(self) -> bool:
        """Whether forward traces were made since this one: then, from now on, each
        distinct (primitive, arguments, parameters) is recorded once.

        ``grad`` of a loss built from nested ``jvp``s (u_t, u_x and u_xx of one network)
        evaluates the same network in every ``jvp``, and an inner and an outer tangent
        along one direction are the same values: without sharing the tape holds, and
        sweeps, each copy (the PINN residual: 24 matrix products recorded instead of 20).
        Primitives are pure, so one entry per distinct application is the same
        derivative with fewer operations. Plain ``grad`` never pays for the keys;
        operators on tape tracers (``c * y`` inside a JVP rule) share only under two
        forward traces or more (an HVP's one ``jvp`` keeps their in-place fast path).
        """
        if self.shared is None and JVPTrace.made != self.forward_made:
            self.shared, self.alive = {}, []
        return self.shared is not None

    def process(self, prim: Primitive, args: tuple, params: dict) -> Any:
        if len(args) == 1 and self.shared is None and JVPTrace.made == self.forward_made:
            # one argument (exp, sum, reshape...), no sharing (nested_forward): short path
            a = args[0]
            if type(a) is VJPTracer and a._trace is self and prim.vjps[0] is not None:
                v = a._value
                if type(v) is _ndarray or type(v) is float:
                    return fast.record_unary(self, prim, a, v, params)
        vals = list(args)
        parents = []
        lower = False
        rules = prim.vjps
        for i, a in enumerate(args):
            if isinstance(a, Tracer):
                if a._trace is self:
                    v = vals[i] = a._value
                    if rules[i] is not None:
                        parents.append((i, a.index))
                    if isinstance(v, Tracer):
                        lower = True
                else:
                    lower = True
        key = None
        if parents and not lower and self.nested_forward():
            key = self._sharing_key(prim, args, vals, params)
            hit = self.shared.get(key)
            if hit is not None:
                return self._shared_entry(prim, vals, params, key, hit)
        elif parents and lower and any(getattr(v, "_program_var", False) for v in vals):
            key = self._sharing_key(prim, args, vals, params)
            out = self.shared.get(key)
            if out is not None:
                return out
        ans = prim(*vals, **params) if lower else prim.impl(*vals, **params)
        if not parents:
            return ans
        kept_ans = ans
        if prim.reads is not None:  # residuals no rule reads become shape stubs
            keep_ans, keep = prim.reads.kept(parents)
            for j, v in enumerate(vals):
                if type(v) is _ndarray and not keep[j]:
                    vals[j] = ShapeStub(v)
            kept_ans = ans if keep_ans else None
        out = record(self, ans, prim, vals, kept_ans, params, parents)
        if key is not None:
            self.shared[key] = out if lower else (out.index, _weak(ans))
        return out

    def _shared_entry(self, prim, vals, params, key, hit) -> VJPTracer:
        """A tracer of the recorded entry ``hit = (index, value or weak reference)``.

        Eager sharing holds no values alive (plain ``grad`` frees what no rule reads,
        and an HVP would fault in fresh pages for every array held): a value collected
        since is computed again, into the same entry, so later keys still match.
        """
        index, ref = hit  # (no operator overwrites a shared array: see binary_operator)
        ans = ref() if type(ref) is weakref.ref else ref
        if ans is None:
            ans = prim.impl(*vals, **params)
            self.shared[key] = (index, _weak(ans))
        out = _new(VJPTracer)
        out._trace = self
        out._value = ans
        out.index = index
        return out

    def _sharing_key(self, prim, args, vals, params) -> tuple:
        """What makes ``prim(*args)`` the same value as an earlier entry while staging.

        While staging, the same primal value is often traced twice (``jvp`` in ``t``
        and a nested ``jvp`` in ``x`` of one network both evaluate the network), and
        the program's CSE merges the two forward copies, but not their adjoints: each
        copy would get its own adjoint block (matrix products included). Primitives
        are pure, so one entry per distinct (primitive, arguments, parameters) is the
        same program with the adjoints summed before they are propagated.
        """
        if self.shared is None:
            self.shared, self.alive = {}, []
        arg_keys = []
        for a, v in zip(args, vals):
            if isinstance(a, Tracer) and a._trace is self:
                arg_keys.append(a.index)
            elif type(v) is float:
                arg_keys.append(v.hex())  # exact, and tells -0.0 from 0.0
            else:
                self.alive.append(v)  # keyed by identity: keep the identity unique
                arg_keys.append(("id", id(v)))
        if prim.commutative:  # a·b and b·a are one value
            arg_keys.sort(key=hash)
        return (prim, params_key(params, self.alive), *arg_keys)


def _weak(value):
    """A weak reference to an array (a number as it is: it cannot have one)."""
    return weakref.ref(value) if type(value) is _ndarray else value


def record_call(fn: Callable[..., Any], inputs: Sequence) -> tuple[ReverseTrace, Any]:
    """Record ``fn(*boxes)`` on a new tape, ``boxes`` the tape's first ``len(inputs)``
    slots, holding ``inputs``: returns (the trace, ``fn``'s result, whose tracers of that
    trace name tape positions).

    Callers hold the collector paused (:func:`paused_gc`) while they record and sweep,
    in one pause when they sweep at once: a collection between the two scans the whole
    hot tape (the logistic-map gradient, W4, is 17% slower with two pauses)."""
    trace = ReverseTrace()
    boxes = [trace.new_input(v) for v in inputs]
    try:
        return trace, fn(*boxes)
    finally:
        trace.active = False


def pull_back(trace: ReverseTrace, outputs: Sequence, cts: Sequence, n_inputs: int) -> list:
    """The adjoints of the first ``n_inputs`` tape slots (the inputs of
    :func:`record_call`) given the cotangents ``cts`` of ``outputs`` (flat lists; an
    output that is not a tracer of ``trace`` contributes nothing), ``None`` where nothing
    reaches an input. May be called any number of times on one tape (with the collector
    paused, see :func:`record_call`)."""
    seeds: dict = {}
    plain = True
    for o, c in zip(outputs, cts):
        if isinstance(o, Tracer) and o._trace is trace:
            k = o.index
            seeds[k] = c if k not in seeds else seeds[k] + c
            o = o._value
        plain = plain and plain_value(o)
    if not seeds:
        return [None] * n_inputs
    return backward(trace.tape, seeds, n_inputs, plain)


def backward(tape: list, seeds: dict[int, Any], n_inputs: int, plain: bool = False) -> list:
    """Sweep ``tape`` backwards from the adjoints in ``seeds`` (tape index -> ct): see
    :func:`sweep`. ``plain``: the caller found the outputs' values to be plain NumPy
    values or floats (no tracer of an outer transformation); such a sweep runs first with
    the rules' NaN checks of large results deferred, and again with them when an input's
    adjoint holds a NaN or a tracer (:mod:`chainrule.core.nan_checks`)."""
    if plain and all(map(plain_value, seeds.values())):
        out = fast.sweep_deferring_nan_checks(sweep, tape, seeds, n_inputs)
        if out is not None:
            return out
    return sweep(tape, seeds, n_inputs)


def sweep(tape: list, seeds: dict[int, Any], n_inputs: int) -> list:
    """Sweep ``tape`` backwards from the adjoints in ``seeds`` (tape index -> ct).

    Returns the adjoints of the first ``n_inputs`` tape entries (the inputs), with
    ``None`` for a symbolically zero adjoint. An adjoint array travels with a number
    (``cts[k] · scale[k]``) and a state (may it be overwritten?): see
    :mod:`chainrule.interpreters._fastpath`, which propagates it. A Python-float adjoint
    that is exactly 0 is not propagated (its contributions are exactly 0, even through
    an infinite partial); rules guard their own NumPy values (``zero_safe``), with
    NumPy's floating-point warnings off from the first NumPy adjoint on
    (:mod:`chainrule.interpreters.quiet`).
    """
    n = len(tape)
    cts: list = [None] * n
    scale = [1.0] * n
    state = bytearray(n)
    for k, ct in seeds.items():
        cts[k] = ct
    labelled, outer = _rules.watching, _rules.current  # staging: label the rules' equations
    token = _LOUD  # NumPy's floating-point warnings: off once the sweep meets NumPy values
    try:
        for k in range(n - 1, n_inputs - 1, -1):
            g = cts[k]
            if g is None:
                continue
            cts[k] = None
            prim, args, ans, params, parents = tape[k]
            if labelled:
                _rules.current = ("adjoint", prim, args)
            if type(g) is _ndarray:
                if token is _LOUD:
                    token = quiet.enter()
                s = scale[k]
                if s != 1.0 and not prim.scales_cotangents:
                    g, s = fast.applied(g, s, state[k] == fast.OWNED and len(parents) == 1), 1.0
                fast.propagate_array(tape[k], g, s, state[k], cts, scale, state)
                continue
            if scale[k] != 1.0:  # 0-d arithmetic gives NumPy scalars: one can carry a number
                g = g * scale[k]
            if type(g) is float:
                if g == 0.0:
                    continue  # a plain zero contributes exactly 0 (also times ∞ or NaN)
            elif token is _LOUD:
                token = quiet.enter()
            rules = prim.vjps  # a number, or a value of an outer transformation
            for argnum, p in parents:
                rule = rules[argnum]
                if rule is NO_RULE:
                    raise missing_rule(prim, argnum, "VJP (reverse-mode)")
                c = rule(g, ans, *args, **params) if params else rule(g, ans, *args)
                old = cts[p]
                if old is None:
                    cts[p] = c
                elif type(old) is float and type(c) is float:
                    cts[p] = old + c
                else:
                    fast.accumulate(cts, scale, state, p, c, 1.0, fast.SHARED)
    finally:
        if token is not _LOUD:
            quiet.leave(token)
        if labelled:
            _rules.current = outer
    return _handed_out(cts[:n_inputs], scale, state)


_LOUD = object()  # sweep(): warnings not turned off (yet)


def _handed_out(out: list, scale: list, state: bytearray) -> list:
    """The inputs' adjoints as the sweep returns them: each number applied, and never a
    residual itself (``x`` for ½Σx²)."""
    for i, c in enumerate(out):
        if scale[i] != 1.0:
            out[i] = fast.applied(c, scale[i], state[i] == fast.OWNED)
        elif state[i] == fast.FOREIGN and type(c) is _ndarray and c.flags.writeable:
            out[i] = c.copy()
    return out
