"""Which derivative rule is running: how a staged equation learns where it comes from.

``jit`` labels every equation a derivative rule adds to its program with the forward
equation it belongs to: ``("adjoint", eqn)`` for the VJP rules of a reverse sweep,
``("tangent", eqn)`` for the JVP rules of forward mode; generated code prints them as
comments (``# adjoint of t_3 = sin(x)``) and trace tables group rows by them.

The interpreters say which rule runs by setting :data:`state`'s ``current`` around it,
and only while a program is being staged in this thread (``state.watching`` > 0, counted
by :func:`chainrule.interpreters.staging.stage`): an eager derivative reads the counter
once per sweep and pays nothing more.

>>> state.watching, state.current
(0, None)
"""

from __future__ import annotations

import threading

__all__ = ["state"]


class _State(threading.local):
    #: programs being staged in this thread: the interpreters label their rules only then
    watching: int = 0
    #: the rule running now: ``("adjoint", primitive, arguments)`` of a tape entry, or
    #: ``("tangent", result)`` of a forward-mode application; None outside any rule
    current: tuple | None = None


#: this thread's staging counter and running rule
state = _State()
