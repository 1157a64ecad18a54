"""Measuring expression swell: formula sizes against the size of the AD program.

* :func:`expression_size` — nodes of the expression as a *tree*: every use of a
  subexpression counted again, as when the formula is written out. Nodes are
  SymPy's own (``srepr``): ``x - y`` is ``Add(x, Mul(-1, y))``, 5 nodes; atoms
  (symbols, numbers) count 1.
* :func:`dag_size` — the same formula with sharing: after ``sympy.cse``, the
  nodes of every common subexpression once plus those of the reduced result
  (the introduced names count as atoms).
* :func:`ad_cost` — the operations of reverse-mode AD on the same function:
  primitives recorded on the tape in the forward pass, VJP rule applications in
  the backward sweep (one per tape edge), and all primitive operations executed
  by forward and backward pass together, counted by a trace under the tape.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Callable, NamedTuple

import sympy as sp

from chainrule.core.primitive import Primitive, Trace, Tracer
from chainrule.interpreters.reverse import Entry, paused_gc, pull_back, record_call

__all__ = ["expression_size", "dag_size", "ad_cost", "ADCost"]


def _elements(expr: Any) -> list:
    if isinstance(expr, (sp.MatrixBase, sp.NDimArray)):
        return list(sp.flatten(expr.tolist()))
    if isinstance(expr, (list, tuple)):
        return [e for x in expr for e in _elements(x)]
    return [sp.sympify(expr)]


def expression_size(expr: Any) -> int:
    """Number of nodes of ``expr`` as a tree (no sharing).

    Args:
        expr: a SymPy expression, a Matrix/Array (sizes of the entries summed) or a
            list of them.

    Returns:
        The node count: 1 for an atom, 1 + the sizes of the arguments otherwise.

    Example:
        >>> import sympy as sp
        >>> x = sp.Symbol("x")
        >>> expression_size(sp.sin(x) * sp.sin(x) + x)  # Add(Pow(sin(x), 2), x)
        6
    """
    memo: dict = {}
    total = 0
    for root in _elements(expr):
        stack = [(root, False)]
        while stack:
            node, ready = stack.pop()
            if node in memo:
                continue
            if ready:
                memo[node] = 1 + sum(memo[a] for a in node.args)
                continue
            stack.append((node, True))
            stack.extend((a, False) for a in node.args if a not in memo)
        total += memo[root]
    return total


def dag_size(expr: Any) -> int:
    """Number of nodes of ``expr`` with common subexpressions shared (``sympy.cse``).

    Args:
        expr: as in :func:`expression_size`.

    Returns:
        Σ tree sizes of the CSE replacements + tree size of the reduced expression(s).
    """
    replacements, reduced = sp.cse(_elements(expr))
    return sum(expression_size(rhs) for _, rhs in replacements) + expression_size(reduced)


class ADCost(NamedTuple):
    """Operation counts of reverse-mode AD for one function at one point."""

    forward: int   #: primitives recorded on the tape (the forward pass)
    rules: int     #: VJP rule applications in the backward sweep (tape edges walked)
    total: int     #: primitive operations executed, forward and backward together
    by_primitive: dict  #: ``total`` per primitive name


class _CountTracer(Tracer):
    __slots__ = ()


class _CountingTrace(Trace):
    """Evaluates primitives as usual, counting them (sits under the reverse tape)."""

    __slots__ = ("counts",)

    def __init__(self) -> None:
        super().__init__()
        self.counts: Counter = Counter()

    def box(self, value: Any) -> _CountTracer:
        t = _CountTracer.__new__(_CountTracer)
        t._trace = self
        t._value = value
        return t

    def process(self, prim: Primitive, args: tuple, params: dict) -> Any:
        self.counts[prim.name] += 1
        vals = [a._value if isinstance(a, Tracer) and a._trace is self else a for a in args]
        return self.box(prim.impl(*vals, **params))


def ad_cost(f: Callable, *primals: Any) -> ADCost:
    """Count the operations of reverse-mode AD of scalar ``f`` at ``primals``.

    The tape is recorded and swept by reverse mode's own driver
    (:func:`~chainrule.interpreters.reverse.record_call`,
    :func:`~chainrule.interpreters.reverse.pull_back`, as ``chainrule.vjp`` does), on
    inputs boxed by a counting trace, so
    every primitive the forward pass and the backward rules execute is counted.
    Operations on constants alone (no derivative involved) are not counted.

    Args:
        f: a chainrule function with a scalar output.
        *primals: the point (floats or arrays).

    Returns:
        An :class:`ADCost`.
    """
    counting = _CountingTrace()
    try:
        with paused_gc():
            tape_trace, out = record_call(f, [counting.box(p) for p in primals])
            forward_total = sum(counting.counts.values())
            n_in = len(primals)
            recorded = tape_trace.tape[n_in:]
            rules = sum(len(Entry(*entry).parents) for entry in recorded)
            pull_back(tape_trace, [out], [1.0], n_in)
    finally:
        counting.active = False
    total = sum(counting.counts.values())
    assert total >= forward_total
    return ADCost(len(recorded), rules, total, dict(counting.counts))
