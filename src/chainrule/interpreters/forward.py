"""Forward mode: dual numbers generalised to arrays (JVP).

A :class:`JVPTracer` carries a primal value and its tangent ``v̇ = ∂v/∂x · ẋ``.
For a primitive ``y = f(a_1, ..., a_k)`` the output tangent is the sum over the
arguments that carry a tangent of their JVP rules,
``ẏ = Σ_i ∂f/∂a_i · ȧ_i`` (sum over incoming edges, the lecture's forward
invariant). Arguments without a tangent contribute a symbolic zero: no rule runs
and, when no argument has a tangent, the result is the plain primal value.
"""

from __future__ import annotations

from typing import Any

from chainrule.core.primitive import NO_RULE, Primitive, Trace, Tracer
from chainrule.core.rule_origin import state as _rules
from chainrule.interpreters import heap, quiet
from chainrule.interpreters.rule_errors import missing_rule

__all__ = ["JVPTrace", "JVPTracer", "missing_rule"]


class JVPTracer(Tracer):
    __slots__ = ("tangent",)

    def __init__(self, trace: "JVPTrace", primal: Any, tangent: Any) -> None:
        self._trace = trace
        self._value = primal
        self.tangent = tangent


class JVPTrace(Trace):
    __slots__ = ()
    #: how many forward traces have been made: a reverse trace that sees it grow while it
    #: records has forward passes nested inside it (see ``ReverseTrace.nested_forward``)
    made = 0

    def __init__(self) -> None:
        super().__init__()
        JVPTrace.made += 1
        if not heap.primed:  # freed buffers stay in the heap for the next call
            heap.keep_freed_buffers()

    def process(self, prim: Primitive, args: tuple, params: dict) -> Any:
        primals = list(args)
        tangents = []
        lower = False
        floats = True  # Python floats: no NumPy warnings to silence
        for i, a in enumerate(args):
            if isinstance(a, Tracer):
                if a._trace is self:
                    v = primals[i] = a._value
                    tangents.append((i, a.tangent))
                    floats = floats and type(a.tangent) is float
                    if isinstance(v, Tracer):
                        lower = True
                else:
                    lower = True
        ans = prim(*primals, **params) if lower else prim.impl(*primals, **params)
        if lower and _rules.watching:  # a program is being staged: label the rules' equations
            return self._labelled(prim, tangents, ans, primals, params)
        if floats:  # Python floats: no NumPy warnings
            out = self._tangent(prim, tangents, ans, primals, params)
        else:  # partials at a masked branch's invalid points: no NumPy warnings
            token = quiet.enter()
            try:
                out = self._tangent(prim, tangents, ans, primals, params)
            finally:
                quiet.leave(token)
        if out is None:
            return ans
        return JVPTracer(self, ans, out)

    def _labelled(self, prim: Primitive, tangents: list, ans, primals: list, params: dict):
        """:meth:`process`'s tangent while staging, its rules labelled as the tangent of
        ``ans`` (:mod:`chainrule.core.rule_origin`)."""
        outer, _rules.current = _rules.current, ("tangent", ans)
        token = quiet.enter()
        try:
            out = self._tangent(prim, tangents, ans, primals, params)
        finally:
            quiet.leave(token)
            _rules.current = outer
        return ans if out is None else JVPTracer(self, ans, out)

    @staticmethod
    def _tangent(prim: Primitive, tangents: list, ans, primals: list, params: dict):
        """Σ over the arguments with a tangent of their JVP rules (None: all zero)."""
        out = None
        rules = prim.jvps
        for i, t in tangents:
            rule = rules[i]
            if rule is None or type(t) is float and t == 0.0:
                continue  # a plain zero tangent contributes exactly 0 (even times ∞)
            if rule is NO_RULE:
                raise missing_rule(prim, i, "JVP (forward-mode)")
            c = rule(t, ans, *primals, **params)
            out = c if out is None else out + c
        return out
