"""Reverse mode as the transposer of linear maps (:mod:`chainrule.core.transposition`).

A fresh tape records ``linear`` at a zero input of ``like``'s shape (a fresh trace, so it
works under any outer transformation) and one backward sweep from ``ct`` gives ``Lᵀ·ct``.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from chainrule.core import transposition
from chainrule.core.primitive import Tracer, dtype_of
from chainrule.interpreters.reverse import ReverseTrace, backward

__all__ = ["transpose_by_reverse_mode"]


def transpose_by_reverse_mode(linear: Callable[[Any], Any], ct: Any, like: Any) -> Any:
    """``Lᵀ·ct`` by one reverse sweep over ``linear``; None when its output ignores t."""
    trace = ReverseTrace()
    try:
        t = trace.new_input(np.zeros(np.shape(like), dtype=dtype_of(like)))
        out = linear(t)
    finally:
        trace.active = False
    if not (isinstance(out, Tracer) and out._trace is trace):
        return None
    return backward(trace.tape, {out.index: ct}, 1)[0]


transposition.register(transpose_by_reverse_mode)
