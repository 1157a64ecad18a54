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

__all__ = ["ravel", "value_of", "values_of"]


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
