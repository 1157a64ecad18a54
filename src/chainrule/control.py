"""Structured control flow: ``cond``, ``fori_loop``, ``scan``, ``while_loop``.

These are *staged constructs*, not primitives yet: each runs its Python
functions on whatever values it is given, so every transformation (jvp, vjp,
staging) sees the operations of the iterations actually taken, and derivatives
in both modes and at any order come from the primitives' own rules.

* ``fori_loop`` and ``scan`` have a trip count known before the loop runs, so
  under ``jit``/``make_ir`` they unroll into the program (compile time grows with
  the trip count).
* ``cond`` with a predicate that is known runs one branch; under staging, where
  the predicate is not known, it runs both branches and selects with ``where``
  (both branches must then give results of the same structure and shapes).
* ``while_loop`` runs in eager mode under any derivative (reverse mode stores
  the iterates, so the trip count is known after the forward pass); its
  predicate must be known, so under ``jit`` it raises, pointing at ``fori_loop``.
"""

from __future__ import annotations

from typing import Any, Callable

from chainrule.core.primitive import Tracer, concrete
from chainrule.core.pytree import tree_flatten, tree_unflatten

__all__ = ["cond", "fori_loop", "scan", "while_loop"]


def _is_staged(x: Any) -> bool:
    return isinstance(concrete(x), Tracer)


def cond(pred: Any, true_fn: Callable, false_fn: Callable, *operands: Any) -> Any:
    """``true_fn(*operands)`` if ``pred`` else ``false_fn(*operands)``.

    Args:
        pred: a boolean scalar (possibly traced).
        true_fn, false_fn: functions of the operands returning pytrees of the same
            structure.
        *operands: the arguments passed to the branch.

    Returns:
        The taken branch's result. Under staging both branches are recorded and the
        result is selected elementwise with ``where(pred, a, b)``.
    """
    if not _is_staged(pred):
        return true_fn(*operands) if bool(concrete(pred)) else false_fn(*operands)
    from chainrule.numpy._elementwise import where_p

    a, ta = tree_flatten(true_fn(*operands))
    b, tb = tree_flatten(false_fn(*operands))
    if ta != tb:
        raise TypeError(f"cond: the branches return different structures: {ta} and {tb}")
    return tree_unflatten(ta, [where_p(pred, x, y) for x, y in zip(a, b, strict=True)])


def fori_loop(lower: int, upper: int, body_fun: Callable, init_val: Any) -> Any:
    """``val = body_fun(i, val)`` for ``i`` in ``range(lower, upper)``; returns ``val``.

    Args:
        lower, upper: Python ints (the trip count must be known).
        body_fun: ``(i, val) -> val`` with the same structure.
        init_val: the initial carry (a pytree).
    """
    try:
        lo, hi = int(lower), int(upper)
    except TypeError as err:
        raise TypeError(
            f"fori_loop: lower and upper must be known integers, got {lower!r}, {upper!r}; "
            "mark them static under jit (static_argnums) or use while_loop in eager mode"
        ) from err
    val = init_val
    for i in range(lo, hi):
        val = body_fun(i, val)
    return val


def scan(f: Callable, init: Any, xs: Any, length: int | None = None) -> tuple[Any, Any]:
    """``carry, y = f(carry, x)`` for each ``x`` along the leading axis of ``xs``.

    Returns:
        ``(final carry, ys stacked along a new leading axis)``.
    """
    from chainrule.numpy import _namespace as ns
    from chainrule.core.primitive import shape_of

    leaves, tree = tree_flatten(xs)
    n = length if not leaves else shape_of(leaves[0])[0]
    carry = init
    ys = []
    for i in range(n):
        x = tree_unflatten(tree, [ns.getitem(leaf, i) for leaf in leaves])
        carry, y = f(carry, x)
        ys.append(y)
    if not ys:
        return carry, None
    y_leaves = [tree_flatten(y) for y in ys]
    ytree = y_leaves[0][1]
    stacked = [ns.stack([yl[0][k] for yl in y_leaves]) for k in range(len(y_leaves[0][0]))]
    return carry, tree_unflatten(ytree, stacked)


def while_loop(cond_fun: Callable, body_fun: Callable, init_val: Any) -> Any:
    """``while cond_fun(val): val = body_fun(val)``; returns ``val``.

    Differentiable in forward and reverse mode in eager mode (the iterates are
    recorded, the trip count is known after the forward pass). Under ``jit`` the
    predicate is not known: use ``fori_loop`` with a bound, or call eagerly.
    """
    val = init_val
    while True:
        p = cond_fun(val)
        if _is_staged(p):
            raise TypeError(
                "while_loop under jit/make_ir: the loop condition depends on a traced value, "
                "so the trip count is unknown while tracing. Use fori_loop(lo, hi, ...) with "
                "a known bound (and cond inside the body), or call the function eagerly."
            )
        if not bool(concrete(p)):
            return val
        val = body_fun(val)
