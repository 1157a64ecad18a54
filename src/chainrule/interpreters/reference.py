"""The reference reverse interpreter: plain, short, and the meaning of reverse mode.

Reverse mode in two steps. The forward pass runs the user's function on
:class:`ReferenceTracer` values; every primitive applied to one of them appends
one :class:`~chainrule.interpreters.tape.Entry` (the fast interpreter's entry type,
here stored as itself) to the trace's tape: the primitive, the primal arguments, the
primal output, the parameters and the tape positions of the traced arguments.
Creation order is a topological order of the computation graph, so the backward
sweep visits the tape once, from the end, and for every entry ``v_j`` with an
adjoint ``v̄_j`` adds each argument's share

    v̄_i += VJP_i(v̄_j)      (= v̄_j · ∂v_j/∂v_i, the primitive's own rule)

to the adjoint of that argument (sum over outgoing edges). The adjoints of the
inputs are the cotangents.

This module is what :mod:`chainrule.interpreters.reverse` must agree with:
that one adds speed (residuals replaced by shape stubs, numbers carried beside
adjoint arrays, in-place accumulation, temporaries overwritten, the collector
paused); this one has none of it and keeps every residual. ``tests/
test_reference_interpreter.py`` runs the whole table of primitives through
both, first and second order. Nested transformations work as in the fast
interpreter: the rules are written with primitives, so a rule applied to the
tracers of an enclosing transformation is itself recorded by it.

Structured control flow (``scan``, ``fori_loop``, ``while_loop``, ``cond``) has
multi-output primitives whose tape handling lives in :mod:`chainrule.control`
and speaks to the fast interpreter only; here they raise ``NotImplementedError``.

Example:
    >>> import chainrule.numpy as np
    >>> out, back = vjp(lambda x, y: np.sin(x) * y, 0.5, 2.0)
    >>> [round(float(c), 6) for c in back(1.0)]
    [1.755165, 0.479426]
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from chainrule.core.primitive import NO_RULE, Primitive, Trace, Tracer, concrete, shape_of
from chainrule.core.pytree import tree_flatten, tree_unflatten
from chainrule.interpreters.tape import Entry

__all__ = ["Entry", "ReferenceTrace", "ReferenceTracer", "backward", "grad", "vjp"]


class ReferenceTracer(Tracer):
    """A value recorded on a reference tape; ``index`` is its position there."""

    __slots__ = ("index",)


class ReferenceTrace(Trace):
    """One reverse-mode transformation: ``tape`` holds an :class:`Entry` per recorded
    primitive application, and ``None`` for each input."""

    __slots__ = ("tape",)

    def __init__(self) -> None:
        super().__init__()
        self.tape: list = []

    def _tracer(self, value: Any) -> ReferenceTracer:
        out = ReferenceTracer()
        out._trace = self
        out._value = value
        out.index = len(self.tape)
        return out

    def new_input(self, value: Any) -> ReferenceTracer:
        box = self._tracer(value)
        self.tape.append(None)
        return box

    def process(self, prim: Primitive, args: tuple, params: dict) -> Any:
        if getattr(prim, "multiple_results", False):
            raise NotImplementedError(
                f"the reference reverse interpreter does not record {prim.name!r}: "
                "structured control flow is taped by chainrule.control for the fast "
                "interpreter only; use chainrule.vjp")
        vals = []
        parents = []
        for i, a in enumerate(args):
            if isinstance(a, Tracer) and a._trace is self:
                vals.append(a._value)
                if prim.vjps[i] is not None:
                    parents.append((i, a.index))
            else:
                vals.append(a)
        ans = prim(*vals, **params)  # the implementation, or an enclosing trace's turn
        if not parents:
            return ans
        out = self._tracer(ans)
        self.tape.append(Entry(prim, tuple(vals), ans, params, tuple(parents)))
        return out


def backward(tape: list, seeds: dict[int, Any], n_inputs: int) -> list:
    """Sweep ``tape`` once from the end, starting from ``seeds`` (tape position ->
    cotangent); returns the adjoints of the first ``n_inputs`` positions (the inputs),
    ``None`` where nothing reached an input."""
    adjoints: list = [None] * len(tape)
    for k, ct in seeds.items():
        adjoints[k] = _add(adjoints[k], ct)
    for k in range(len(tape) - 1, n_inputs - 1, -1):
        g = adjoints[k]
        if g is None:
            continue
        entry = tape[k]
        for argnum, p in entry.parents:
            rule = entry.prim.vjps[argnum]
            if rule is NO_RULE:
                raise NotImplementedError(
                    f"{entry.prim.name} has no VJP rule for argument {argnum}")
            adjoints[p] = _add(adjoints[p], rule(g, entry.ans, *entry.args, **entry.params))
    return adjoints[:n_inputs]


def _add(a: Any, b: Any) -> Any:
    """``a + b`` where ``None`` is an exact zero."""
    if a is None:
        return b
    if b is None:
        return a
    return a + b


def vjp(f: Callable, *primals: Any) -> tuple[Any, Callable]:
    """``(f(*primals), vjp_fn)`` with ``vjp_fn(ȳ)`` the cotangents ``ȳᵀ·J``, one per
    primal (pytrees allowed), computed by :func:`backward`.

    Args:
        f: a function of the primals.
        *primals: the point.

    Returns:
        The output (as plain values) and ``vjp_fn``, which returns a tuple shaped like
        ``primals``.
    """
    flat, tree = tree_flatten(primals)
    trace = ReferenceTrace()
    try:
        boxes = [trace.new_input(p) for p in flat]
        res = f(*tree_unflatten(tree, boxes))
    finally:
        trace.active = False
    out_flat, out_tree = tree_flatten(res)
    index = [o.index if isinstance(o, Tracer) and o._trace is trace else None
             for o in out_flat]
    values = [o._value if k is not None else o for o, k in zip(out_flat, index)]

    def vjp_fn(ct: Any) -> tuple:
        ct_flat, ct_tree = tree_flatten(ct)
        if ct_tree != out_tree:
            raise ValueError(f"vjp_fn: cotangent structure {ct_tree}, output {out_tree}")
        seeds: dict = {}
        for k, c in zip(index, ct_flat):
            if k is not None:
                seeds[k] = _add(seeds.get(k), c)
        cts = backward(trace.tape, seeds, len(flat))
        return tree_unflatten(tree, [_zero_like(p) if c is None else _shaped(c, p)
                                     for c, p in zip(cts, flat)])

    return tree_unflatten(out_tree, values), vjp_fn


def _zero_like(x: Any) -> Any:
    x = concrete(x)
    return 0.0 if isinstance(x, float) else np.zeros_like(x)


def _shaped(c: Any, like: Any) -> Any:
    """A cotangent of a real input is real (a complex rule may leave a ``+0j``)."""
    if shape_of(c) != shape_of(like):
        raise ValueError(f"cotangent of shape {shape_of(c)} for an input of {shape_of(like)}")
    if not isinstance(concrete(c), Tracer) and np.iscomplexobj(concrete(c)) \
            and not np.iscomplexobj(concrete(like)):
        return np.real(c)
    return c


def grad(f: Callable, argnum: int = 0) -> Callable:
    """The gradient of a real scalar function with respect to argument ``argnum``.

    Example:
        >>> import chainrule.numpy as np
        >>> float(grad(grad(lambda x: x * np.sin(x)))(0.0))
        2.0
    """

    def grad_f(*args: Any) -> Any:
        out, back = vjp(lambda x: f(*args[:argnum], x, *args[argnum + 1:]), args[argnum])
        return back(1.0)[0]

    return grad_f
