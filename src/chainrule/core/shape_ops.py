"""The shape primitives the interpreters' rules are written with, registered by
:mod:`chainrule.numpy`.

A batching rule moves a batch axis with ``reshape``, ``broadcast_to``, ``transpose``,
``getitem`` (with numpy's ``Index`` key) and ``concatenate``, and selects per example with
``where``. Those primitives, with their own derivative rules, are defined in
``chainrule.numpy``, a layer beside the interpreters; it registers them here once, so the
interpreters use them without importing the namespace (imports run one way, see
``ARCHITECTURE.md``).

>>> import chainrule.numpy  # registers them
>>> ops().reshape.name, ops().getitem.name, ops().where.name
('reshape', 'getitem', 'where')
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

__all__ = ["register", "ops"]

_NAMES = ("reshape", "broadcast_to", "transpose", "getitem", "concatenate", "where", "Index")

_registered = SimpleNamespace()


def register(**entries: Any) -> None:
    """Register the shape primitives (keyword per name of :data:`_NAMES`)."""
    unknown = set(entries) - set(_NAMES)
    if unknown:
        raise TypeError(f"shape_ops.register: unknown names {sorted(unknown)}; "
                        f"expected some of {_NAMES}")
    for name, value in entries.items():
        setattr(_registered, name, value)


def ops() -> SimpleNamespace:
    """The registered shape primitives (``.reshape``, ``.getitem``, ``.Index``, ...)."""
    missing = [n for n in _NAMES if not hasattr(_registered, n)]
    if missing:
        raise RuntimeError(f"the shape primitives {missing} are not registered: import "
                           "chainrule.numpy (or chainrule) before using the interpreters")
    return _registered
