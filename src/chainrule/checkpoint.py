"""``checkpoint(f)``: recompute f's forward pass during the backward pass instead of storing it.

A call of a checkpointed function is recorded on the tape as one node whose
residuals are only its inputs and output; its intermediates are not kept. When
the backward sweep reaches the node it runs ``vjp(f, *inputs)`` again (a fresh
tape, alive only for this node) and pulls the cotangent through it. Splitting a
loop of n steps into √n checkpointed blocks stores O(√n) states instead of O(n)
intermediates, for one extra forward pass.

Outputs may be pytrees (one node per output leaf, sharing one forward evaluation),
keyword arguments are passed through as constants. A function that closes over a
value being differentiated (a tracer in its closure or defaults) is differentiated
as it stands, without recomputation: its derivative is right, only the memory saving
is lost.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

from chainrule.core.pytree import tree_flatten, tree_unflatten
from chainrule.core.primitive import Tracer
from chainrule.custom import _Call, _zeros
from chainrule.transforms import jvp as _jvp
from chainrule.transforms import vjp as _vjp

__all__ = ["checkpoint"]


def checkpoint(f: Callable | None = None, *, prevent_cse: bool = True, policy: Any = None,
               static_argnums: int | tuple = (), concrete: bool = False) -> Callable:
    """``f`` with its forward pass recomputed in the backward pass (memory for time).

    Args:
        f: a function of arrays (pytrees allowed) returning a pytree of arrays.
        prevent_cse, policy, concrete: accepted for JAX compatibility (``jax.checkpoint``
            / ``jax.remat``); everything but the inputs is recomputed.
        static_argnums: arguments that are not arrays to differentiate (Python values
            the function branches on); they are passed through as constants.

    Returns:
        A function with f's values and derivatives (JAX's ``checkpoint`` / ``remat``).

    Example:
        >>> import chainrule as cr, chainrule.numpy as np
        >>> step = cr.checkpoint(lambda x: np.sin(x) * x)
        >>> g = cr.grad(lambda x: step(step(x)))(0.5)
        >>> bool(abs(g - cr.grad(lambda x: np.sin(np.sin(x) * x) * (np.sin(x) * x))(0.5)) < 1e-12)
        True
    """

    if f is None:  # used as @checkpoint(static_argnums=...) or partial(checkpoint, ...)
        return lambda g: checkpoint(g, prevent_cse=prevent_cse, policy=policy,
                                    static_argnums=static_argnums, concrete=concrete)
    static = (static_argnums,) if isinstance(static_argnums, int) else tuple(static_argnums)

    @functools.wraps(f)
    def wrapped(*args, **kwargs):
        if static:
            n = len(args)
            fixed = {i % n: args[i] for i in static if -n <= i < n}
            rest = tuple(a for i, a in enumerate(args) if i not in fixed)

            def f_rest(*dyn, **kw):
                it = iter(dyn)
                return f(*[fixed[i] if i in fixed else next(it) for i in range(n)], **kw)

            return checkpoint(f_rest)(*rest, **kwargs)
        flat, tree = tree_flatten(args)
        pos = [k for k, x in enumerate(flat) if isinstance(x, Tracer)]
        if not pos or _captures_tracer(f) or _has_tracer(kwargs):
            return f(*args, **kwargs)

        def run(xs):
            full = list(flat)
            for k, x in zip(pos, xs):
                full[k] = x
            return f(*tree_unflatten(tree, full), **kwargs)

        def run_flat(*xs):
            return tree_flatten(run(list(xs)))[0]

        def jvp_all(xs, ts):
            ts = [_zeros(x) if t is None else t for x, t in zip(xs, ts)]
            return _jvp(run_flat, tuple(xs), tuple(ts))[1]

        def vjp_all(xs, cts):
            _, back = _vjp(run_flat, *xs)
            return back([_zeros(o) if c is None else c for c, o in zip(cts, call.out_like)])

        call = _Call(f"checkpoint({getattr(f, '__name__', 'f')})", run, jvp_all, vjp_all)
        return call([flat[k] for k in pos])

    return wrapped


def _has_tracer(tree) -> bool:
    try:
        return any(isinstance(x, Tracer) for x in tree_flatten(tree)[0])
    except Exception:
        return False


def _captures_tracer(f) -> bool:
    """Whether ``f`` (or a function it closes over) holds a tracer in its closure/defaults."""
    seen: set = set()
    stack = [f]
    while stack:
        g = stack.pop()
        if id(g) in seen:
            continue
        seen.add(id(g))
        g = getattr(g, "__wrapped__", g)
        cells = getattr(g, "__closure__", None) or ()
        values = [c.cell_contents for c in cells if _filled(c)]
        values += list(getattr(g, "__defaults__", None) or ())
        for v in values:
            if callable(v) and hasattr(v, "__closure__"):
                stack.append(v)
            elif _has_tracer(v):
                return True
    return False


def _filled(cell) -> bool:
    try:
        _ = cell.cell_contents
    except ValueError:
        return False
    return True


remat = checkpoint  # JAX's other name for it
