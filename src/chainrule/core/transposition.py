"""Transposing a linear map, for VJP rules written as the transpose of a JVP rule.

Some primitives (``chainrule.numpy.linalg``'s factorisations) have one written
derivative, the JVP ``t ↦ J·t``, and get their VJP ``ȳ ↦ Jᵀ·ȳ`` by transposing it
mechanically: reverse mode over the JVP rule. Reverse mode is an interpreter, a layer
beside the NumPy namespace; it registers its transposer here
(:mod:`chainrule.interpreters.transposition`), and the rules call :func:`transpose`.

>>> import chainrule, numpy
>>> transpose(lambda t: 3.0 * t, 2.0, numpy.zeros(()))
6.0
"""

from __future__ import annotations

from typing import Any, Callable

__all__ = ["register", "transpose"]

_transposer: list = []


def register(transposer: Callable[[Callable, Any, Any], Any]) -> None:
    """Install ``transposer(linear, ct, like) -> Jᵀ·ct`` (None: ``linear`` ignores t)."""
    _transposer[:] = [transposer]


def transpose(linear: Callable[[Any], Any], ct: Any, like: Any) -> Any:
    """``Lᵀ·ct`` for the linear map ``L = linear`` of arguments shaped like ``like``.

    Args:
        linear: a function of one argument ``t`` (shaped like ``like``), linear in it,
            written with chainrule's primitives.
        ct: the cotangent of its output.
        like: an array of the argument's shape and dtype.

    Returns:
        The cotangent of ``t``, or None when the output does not depend on ``t``.
    """
    if not _transposer:
        raise RuntimeError("no transposer registered: import chainrule (its reverse-mode "
                           "interpreter registers one) before differentiating")
    return _transposer[0](linear, ct, like)
