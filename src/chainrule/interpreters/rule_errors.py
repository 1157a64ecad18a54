"""The error an interpreter raises when a primitive has no rule for the derivative it needs.

>>> from chainrule.numpy._elementwise import sin
>>> print(missing_rule(sin, 0, "VJP (reverse-mode)"))  # doctest: +NORMALIZE_WHITESPACE
the primitive 'sin' has no VJP (reverse-mode) rule for its argument 0. Add one with
chainrule.defjvp/defvjp, or differentiate in the other mode.
"""

from __future__ import annotations

from chainrule.core.primitive import Primitive

__all__ = ["missing_rule"]


def missing_rule(prim: Primitive, argnum: int, kind: str) -> NotImplementedError:
    """The error for ``prim`` lacking its ``kind`` rule for argument ``argnum``."""
    return NotImplementedError(
        f"the primitive '{prim.name}' has no {kind} rule for its argument {argnum}. "
        f"Add one with chainrule.defjvp/defvjp, or differentiate in the other mode."
    )
