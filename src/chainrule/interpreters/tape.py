"""The reverse-mode tape: one entry type and one way to append to it.

A tape is a list in creation order. An input takes one slot holding ``None``; every
other slot holds an entry: a primitive application whose output depends on earlier
slots, the tuple ``(prim, args, ans, params, parents)`` whose fields :class:`Entry`
names (``Entry(*tape[k])`` reads one by name). The tape stores plain tuples: building a
NamedTuple costs ~0.45 µs more per entry, which made the logistic-map gradient (W4,
3000 entries) 40% slower. The reverse sweep (:mod:`chainrule.interpreters.reverse`) walks it once
from the end. Everything that writes a tape, the reverse trace, its flat operators
(:mod:`chainrule.interpreters._fastpath`) and the structured control-flow primitives
(:mod:`chainrule.control`), goes through :func:`record`.

Example:
    >>> import numpy as np
    >>> from chainrule.interpreters.reverse import ReverseTrace
    >>> import chainrule.numpy as cnp
    >>> trace = ReverseTrace()
    >>> x = trace.new_input(np.array([1.0, 2.0]))
    >>> y = cnp.sin(x)
    >>> entry = Entry(*trace.tape[y.index])
    >>> entry.prim.name, entry.parents
    ('sin', [(0, 0)])
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from chainrule.core.primitive import Primitive, Tracer

__all__ = ["Entry", "VJPTracer", "ShapeStub", "record"]


class Entry(NamedTuple):
    """The fields of one primitive application on the tape (stored as a plain tuple)."""

    prim: Primitive
    #: the primal arguments, values one level down (plain values, or the tracers of an
    #: enclosing transformation); an array no VJP rule of ``prim`` reads is a ShapeStub
    args: Any
    #: the primal output, or None when no rule reads it
    ans: Any
    params: dict
    #: ``(argument number, tape position)`` of each traced argument with a VJP rule
    parents: list


class VJPTracer(Tracer):
    """A value recorded on a tape: ``index`` is its position there."""

    __slots__ = ("index",)


class ShapeStub:
    """Stands in for a residual array that no VJP rule reads: only its shape and dtype."""

    __slots__ = ("shape", "dtype")

    def __init__(self, a: np.ndarray) -> None:
        self.shape = a.shape
        self.dtype = a.dtype

    @property
    def ndim(self) -> int:
        return len(self.shape)


_new = object.__new__


def record(trace: Any, value: Any, prim: Primitive, args: Any, ans: Any, params: dict,
           parents: list) -> VJPTracer:
    """Append the entry ``(prim, args, ans, params, parents)`` (see :class:`Entry`) to
    ``trace.tape`` and return the tracer of ``value`` (the output, kept by the entry as
    ``ans`` when a rule reads it) at that position."""
    tape = trace.tape
    out = _new(VJPTracer)
    out._trace = trace
    out._value = value
    out.index = len(tape)
    tape.append((prim, args, ans, params, parents))
    return out
