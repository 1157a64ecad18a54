"""Pytrees: nested tuples, lists and dicts whose leaves are arrays or scalars.

``tree_flatten(x)`` returns ``(leaves, treedef)``; ``tree_unflatten(treedef,
leaves)`` rebuilds the structure. ``None`` is an empty subtree (no leaves), dict
keys are visited in sorted order, as in JAX, and namedtuples keep their type.
As in JAX, an ``OrderedDict`` keeps its insertion order and a ``defaultdict`` its
default factory (its keys sorted).
"""

from __future__ import annotations

import sys
from collections import OrderedDict, defaultdict
from typing import Any, Callable

import numpy

__all__ = ["tree_flatten", "tree_unflatten", "tree_map", "tree_leaves", "tree_structure", "TreeDef",
           "ravel_pytree"]


class TreeDef:
    """The structure of a pytree with its leaves taken out."""

    __slots__ = ("kind", "meta", "children")

    def __init__(self, kind: str, meta: Any = None, children: tuple = ()) -> None:
        # "leaf", "none", "tuple", "list", "dict", "namedtuple", "odict", "ddict"
        self.kind = kind
        self.meta = meta
        self.children = children

    @property
    def num_leaves(self) -> int:
        if self.kind == "leaf":
            return 1
        return sum(c.num_leaves for c in self.children)

    def node(self, children: list) -> Any:
        """This node (not a leaf or None) rebuilt around ``children``."""
        kind = self.kind
        if kind == "tuple":
            return tuple(children)
        if kind == "list":
            return list(children)
        if kind == "dict":
            return dict(zip(self.meta, children))
        if kind == "odict":
            return OrderedDict(zip(self.meta, children))
        if kind == "ddict":
            return defaultdict(self.meta[0], zip(self.meta[1], children))
        return self.meta(*children)

    def __eq__(self, other: object) -> bool:
        return self is other or (
            isinstance(other, TreeDef)
            and self.kind == other.kind
            and self.meta == other.meta
            and self.children == other.children
        )

    def __hash__(self) -> int:
        meta = tuple(self.meta) if isinstance(self.meta, list) else self.meta
        return hash((self.kind, meta, self.children))

    def __repr__(self) -> str:
        if self.kind == "leaf":
            return "*"
        if self.kind == "none":
            return "None"
        inner = ", ".join(map(repr, self.children))
        if self.kind == "dict":
            inner = ", ".join(f"{k!r}: {c!r}" for k, c in zip(self.meta, self.children))
            return "{" + inner + "}"
        if self.kind == "list":
            return "[" + inner + "]"
        if self.kind == "namedtuple":
            return f"{self.meta.__name__}({inner})"
        if self.kind in ("odict", "ddict"):
            keys = self.meta if self.kind == "odict" else self.meta[1]
            return f"{'OrderedDict' if self.kind == 'odict' else 'defaultdict'}(" + ", ".join(
                f"{k!r}: {c!r}" for k, c in zip(keys, self.children)) + ")"
        return "(" + inner + ("," if len(self.children) == 1 else "") + ")"


LEAF = TreeDef("leaf")
_NONE = TreeDef("none")


def _flatten(x: Any, leaves: list) -> TreeDef:
    t = type(x)
    if t is tuple:
        return TreeDef("tuple", None, tuple(_flatten(c, leaves) for c in x))
    if t is list:
        return TreeDef("list", None, tuple(_flatten(c, leaves) for c in x))
    if t is dict:
        keys = sorted(x)
        return TreeDef("dict", tuple(keys), tuple(_flatten(x[k], leaves) for k in keys))
    if t is OrderedDict:
        return TreeDef("odict", tuple(x), tuple(_flatten(v, leaves) for v in x.values()))
    if t is defaultdict:
        keys = sorted(x)
        return TreeDef("ddict", (x.default_factory, tuple(keys)),
                       tuple(_flatten(x[k], leaves) for k in keys))
    if x is None:
        return _NONE
    if isinstance(x, tuple) and hasattr(t, "_fields"):
        return TreeDef("namedtuple", t, tuple(_flatten(c, leaves) for c in x))
    leaves.append(x)
    return LEAF


def tree_flatten(x: Any) -> tuple[list, TreeDef]:
    """Split a pytree into its list of leaves and its structure."""
    leaves: list = []
    try:
        return leaves, _flatten(x, leaves)
    except RecursionError:
        raise ValueError(
            "tree_flatten: the pytree is nested too deeply for Python's recursion limit "
            f"({sys.getrecursionlimit()}), or a container holds itself. Nested tuples, "
            "lists and dicts describe structure (parameters, layers); keep long sequences "
            "of numbers in an array, or flatten the nesting") from None


def _build(td: TreeDef, it) -> Any:
    kind = td.kind
    if kind == "leaf":
        return next(it)
    if kind == "none":
        return None
    return td.node([_build(c, it) for c in td.children])


def tree_unflatten(treedef: TreeDef, leaves) -> Any:
    """Rebuild the pytree of structure ``treedef`` from ``leaves``."""
    return _build(treedef, iter(leaves))


def tree_leaves(x: Any) -> list:
    """The leaves of ``x``, in ``tree_flatten``'s order."""
    return tree_flatten(x)[0]


def tree_structure(x: Any) -> TreeDef:
    """The structure of ``x`` (its ``TreeDef``), without the leaves."""
    return tree_flatten(x)[1]


def tree_map(fn: Callable, tree: Any, *rest: Any) -> Any:
    """Apply ``fn`` leaf by leaf to one or more pytrees of the same structure."""
    leaves, td = tree_flatten(tree)
    others = []
    for r in rest:
        rl, rtd = tree_flatten(r)
        if rtd != td:
            raise ValueError(f"tree_map: structures differ: {td} and {rtd}")
        others.append(rl)
    return tree_unflatten(td, [fn(*xs) for xs in zip(leaves, *others)])


def ravel_pytree(tree: Any) -> tuple[Any, Callable[[Any], Any]]:
    """The leaves of ``tree`` as one 1-D vector, and the function that cuts a vector back
    into the tree.

    The vector concatenates the flattened leaves in ``tree_flatten``'s order; ``unravel``
    reshapes its consecutive pieces to the leaves' shapes. Both use NumPy functions only,
    so traced values pass through them (NumPy dispatches to chainrule's rules) and they
    are differentiated like any other operation.

    Args:
        tree: a pytree of arrays or scalars (at least one leaf).

    Returns:
        ``(vector, unravel)``.

    Raises:
        ValueError: ``tree`` has no leaves.

    >>> vec, unravel = ravel_pytree({"W": numpy.ones((2, 2)), "b": numpy.zeros(2)})
    >>> vec.tolist()
    [1.0, 1.0, 1.0, 1.0, 0.0, 0.0]
    >>> unravel(numpy.arange(6.0))["W"].tolist()
    [[0.0, 1.0], [2.0, 3.0]]
    """
    leaves, treedef = tree_flatten(tree)
    if not leaves:
        raise ValueError("ravel_pytree: the tree has no array leaves; give an array or a "
                         "pytree (tuple, list, dict) of arrays")
    shapes = [numpy.shape(leaf) for leaf in leaves]
    ends = numpy.cumsum([int(numpy.prod(shape)) for shape in shapes]).tolist()
    parts = [numpy.reshape(leaf, (-1,)) for leaf in leaves]
    vector = parts[0] if len(parts) == 1 else numpy.concatenate(parts)

    def unravel(v: Any) -> Any:
        if len(shapes) == 1:  # one leaf: no slice
            return tree_unflatten(treedef, [v if len(shapes[0]) == 1 else
                                            numpy.reshape(v, shapes[0])])
        starts = [0] + ends[:-1]
        return tree_unflatten(treedef, [numpy.reshape(v[a:b], shape)
                                        for a, b, shape in zip(starts, ends, shapes)])

    return vector, unravel
