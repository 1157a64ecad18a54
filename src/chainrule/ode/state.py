"""Pytree states as flat vectors: the solvers work on one 1-D float array.

``ravel(tree) -> (vector, unravel)`` concatenates the leaves (each flattened); ``unravel``
cuts a vector back into the tree. Both are written with chainrule.numpy, so tracers pass
through (the direct gradient differentiates them like any other operation).
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as onp

from chainrule.core.primitive import Tracer, concrete, shape_of
from chainrule.core.pytree import tree_flatten, tree_unflatten
from chainrule.numpy import _namespace as cnp

__all__ = ["ravel", "LeafVector", "value_of", "values_of"]


def ravel(tree: Any) -> tuple[Any, Callable[[Any], Any]]:
    """The leaves of ``tree`` as one 1-D vector, and the function that undoes it."""
    leaves, treedef = tree_flatten(tree)
    if not leaves:
        raise ValueError("odeint: the state y0 has no array leaves; give an array or a "
                         "pytree (tuple, list, dict) of arrays")
    shapes = [tuple(shape_of(x)) for x in leaves]
    sizes = [int(onp.prod(s)) if s else 1 for s in shapes]
    parts = [cnp.reshape(x, (n,)) if isinstance(x, Tracer) else
             onp.reshape(onp.asarray(x, dtype=float), (n,)) for x, n in zip(leaves, sizes)]
    if len(parts) == 1:
        vec = parts[0]
    elif any(isinstance(p, Tracer) for p in parts):
        vec = cnp.concatenate(parts)
    else:
        vec = onp.concatenate(parts)
    offsets = onp.cumsum([0] + sizes)

    def unravel(v: Any) -> Any:
        if len(leaves) == 1:
            out = [v.reshape(shapes[0]) if shapes[0] != (sizes[0],) else v]
        else:
            out = [v[offsets[i]:offsets[i + 1]].reshape(s) for i, s in enumerate(shapes)]
        return tree_unflatten(treedef, out)

    return vec, unravel


class LeafVector:
    """A pytree state's leaves as one vector for the explicit Runge–Kutta steps, without
    concatenating them: ``+``, ``-`` and multiplication or division by a number act leaf
    by leaf. The direct gradient replays pytree states (e.g. a tuple of scalars) in this
    form, so each step records only the operations the method needs on each leaf, not the
    slicing and concatenation of a flat vector (equal results: the same arithmetic per
    entry).

    Example:
        >>> v = LeafVector((1.0, onp.array([2.0, 3.0])))
        >>> w = 0.5 * (v + v) - v / 2.0
        >>> float(w.leaves[0]), w.leaves[1].tolist()
        (0.5, [1.0, 1.5])
    """

    __slots__ = ("leaves",)
    __array_ufunc__ = None  # NumPy scalars defer to the reflected operators below

    def __init__(self, leaves: Any) -> None:
        self.leaves = tuple(leaves)

    def __add__(self, other: "LeafVector") -> "LeafVector":
        return LeafVector(a + b for a, b in zip(self.leaves, other.leaves))

    def __sub__(self, other: "LeafVector") -> "LeafVector":
        return LeafVector(a - b for a, b in zip(self.leaves, other.leaves))

    def __neg__(self) -> "LeafVector":
        return LeafVector(-a for a in self.leaves)

    def __mul__(self, number: Any) -> "LeafVector":
        return LeafVector(a * number for a in self.leaves)

    __rmul__ = __mul__

    def __truediv__(self, number: Any) -> "LeafVector":
        return LeafVector(a / number for a in self.leaves)


def value_of(x: Any) -> Any:
    """The plain NumPy value under any tracing (float64 array)."""
    v = concrete(x)
    if isinstance(v, Tracer):
        raise TypeError("chainrule.ode: the solvers choose their steps from values, so they "
                        "cannot be staged by jit/make_ir; call them outside jit")
    return onp.asarray(v, dtype=float)


def values_of(tree: Any) -> Any:
    """``value_of`` on every leaf of a pytree (non-numeric leaves kept)."""
    leaves, treedef = tree_flatten(tree)
    return tree_unflatten(treedef, [value_of(x) if _numeric(x) else x for x in leaves])


def _numeric(x: Any) -> bool:
    return isinstance(x, (Tracer, onp.ndarray, onp.generic, float, int))
