"""Reverse mode: the tape and the adjoint sweep (VJP).

During the forward pass every primitive applied to a :class:`VJPTracer` of this
trace appends one tracer to ``trace.tape``; the tracer remembers the primitive,
its primal arguments and parameters (the residuals) and the tape positions of
the arguments it depends on. Creation order is a topological order, so the
backward sweep walks the tape once, from the end, and for every node ``v_j``
with a non-zero adjoint adds ``v̄_i += v̄_j · ∂v_j/∂v_i`` to each parent ``v_i``
(sum over outgoing edges, the lecture's reverse invariant). Each adjoint is
dropped as soon as it has been propagated. Cost: O(#edges + #nodes), no
recursion, whatever the depth or sharing of the graph.

The collector is paused while a tape is recorded or swept: a tape is many small
objects that live exactly as long as the transformation, and generational scans
of them cost more than the derivative itself (see benchmarks/).
"""

from __future__ import annotations

import gc
from typing import Any

from chainrule.core.primitive import NO_RULE, Primitive, Trace, Tracer
from chainrule.interpreters.forward import missing_rule

__all__ = ["ReverseTrace", "VJPTracer", "backward", "paused_gc"]


class VJPTracer(Tracer):
    __slots__ = ("prim", "args", "params", "parents", "index")

    def __init__(self, trace, value, prim, args, params, parents, index) -> None:
        self._trace = trace
        self._value = value
        self.prim = prim
        self.args = args
        self.params = params
        self.parents = parents
        self.index = index


class ReverseTrace(Trace):
    __slots__ = ("tape",)

    def __init__(self) -> None:
        super().__init__()
        self.tape: list[VJPTracer] = []

    def new_input(self, value: Any) -> VJPTracer:
        tape = self.tape
        box = VJPTracer(self, value, None, (), None, (), len(tape))
        tape.append(box)
        return box

    def process(self, prim: Primitive, args: tuple, params: dict) -> Any:
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
        ans = prim(*vals, **params) if lower else prim.impl(*vals, **params)
        if not parents:
            return ans
        tape = self.tape
        node = VJPTracer(self, ans, prim, vals, params, parents, len(tape))
        tape.append(node)
        return node


def backward(tape: list, seeds: dict[int, Any], n_inputs: int) -> list:
    """Sweep ``tape`` backwards from the adjoints in ``seeds`` (tape index -> ct).

    Returns the adjoints of the first ``n_inputs`` tape entries (the inputs), with
    ``None`` for a symbolically zero adjoint.
    """
    cts: list = [None] * len(tape)
    for k, ct in seeds.items():
        cts[k] = ct
    for k in range(len(tape) - 1, n_inputs - 1, -1):
        g = cts[k]
        if g is None:
            continue
        cts[k] = None
        node = tape[k]
        prim = node.prim
        rules = prim.vjps
        args = node.args
        ans = node._value
        params = node.params
        for argnum, p in node.parents:
            rule = rules[argnum]
            if rule is NO_RULE:
                raise missing_rule(prim, argnum, "VJP (reverse-mode)")
            c = rule(g, ans, *args, **params)
            old = cts[p]
            cts[p] = c if old is None else old + c
    return cts[:n_inputs]


class paused_gc:
    """Context manager: no generational collection while a tape is alive and hot."""

    __slots__ = ("was_enabled",)

    def __enter__(self) -> None:
        self.was_enabled = gc.isenabled()
        if self.was_enabled:
            gc.disable()

    def __exit__(self, *exc) -> None:
        if self.was_enabled:
            gc.enable()
