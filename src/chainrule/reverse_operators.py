"""Reverse mode's operators on its tape tracers, bound to :mod:`chainrule.numpy`'s primitives.

``x * y``, ``1 - x``, ``x[i]`` on a :class:`~chainrule.interpreters.reverse.VJPTracer`
are the hottest calls of eager reverse mode, so the reverse interpreter's fast paths
write them out flat (:func:`~chainrule.interpreters._fastpath.binary_operator`,
:func:`~chainrule.interpreters._fastpath.indexing_operator`). The interpreter does not
know the NumPy namespace and the namespace does not know the interpreter (neither
imports the other); this module, one layer above both, puts the two together. It
is imported by :mod:`chainrule`'s ``__init__``, so the operators are in place
whenever ``chainrule`` or ``chainrule.numpy`` has been imported.

Example:
    >>> import chainrule as cr
    >>> from chainrule.interpreters.reverse import VJPTracer
    >>> VJPTracer.__mul__ is not cr.core.Tracer.__mul__
    True
"""

from __future__ import annotations

from chainrule.interpreters._fastpath import binary_operator, indexing_operator
from chainrule.interpreters.tape import VJPTracer
from chainrule.numpy._indexing import Index, getitem_p
from chainrule.numpy._tracer_methods import REVERSE_OPERATORS, general_getitem


def install() -> None:
    """Put the flat operators on :class:`VJPTracer` (the general ones stay on ``Tracer``)."""
    for name, (prim, reflected) in REVERSE_OPERATORS.items():
        setattr(VJPTracer, name, binary_operator(prim, reflected))
    VJPTracer.__getitem__ = indexing_operator(getitem_p, Index, general_getitem)


install()
