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

import numpy as np

from chainrule.core.pytree import tree_flatten, tree_unflatten
from chainrule.core.primitive import Tracer
from chainrule.custom import _Indexed, _placeholder, _UserPrimitive, _zeros
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

        return _Recomputed(f"checkpoint({getattr(f, '__name__', 'f')})", run)(
            [flat[k] for k in pos])

    return wrapped


class _Recomputed:
    """One call of a checkpointed function on traced leaves: one primitive per output leaf.

    What the tape keeps of it is the primitives' arguments and results, which are the
    call's inputs and outputs (shared with the steps before and after it), and the
    outputs' shapes; the forward values are computed once and not kept anywhere else.
    The backward pass runs ``vjp`` of the function again at the inputs (once per output
    leaf, a rule being linear in its cotangent; the inputs' shares are computed together).
    """

    def __init__(self, name: str, run: Callable) -> None:
        self.name, self.run = name, run
        self.avals: list = []  # (shape, dtype) of each output leaf
        self.last: tuple | None = None  # (inputs, flat outputs) of the latest evaluation

    def run_flat(self, *xs):
        return tree_flatten(self.run(list(xs)))[0]

    def outputs(self, xs: tuple) -> list:
        """``run_flat(*xs)``, reusing the latest evaluation at the same input objects."""
        last = self.last
        if last is not None and len(last[0]) == len(xs) and all(
                a is b for a, b in zip(last[0], xs)):
            return last[1]
        outs = self.run_flat(*xs)
        if len(outs) > 1:  # the other leaves' primitives ask next, with the same inputs
            self.last = (xs, outs)
        return outs

    def zeros(self, j: int):
        shape, dtype = self.avals[j]
        return np.zeros(shape, dtype) if shape else dtype.type(0)

    def __call__(self, traced: list):
        n = len(traced)
        vals = tuple(_placeholder(x) for x in traced)
        with np.errstate(all="ignore"):
            first, out_tree = tree_flatten(self.run(list(vals)))
        self.avals = [(np.shape(o), np.result_type(o)) for o in first]
        self.last = (vals, first)  # the primitives' impls below take these, not a rerun
        cached: dict = {}
        m = len(first)

        def memo(kind, key, compute, user, users):
            """``compute()``'s list, shared by ``users`` rules (a VJP gives every input's
            share at once, a JVP every output's); dropped once each has taken its share,
            so the tape does not keep it after the sweep has passed."""
            if users == 1:
                return compute()
            hit = cached.get(kind)
            if hit is None or not all(a is b for a, b in zip(hit[0], key)):
                hit = cached[kind] = (tuple(key), compute(), set())
            hit[2].add(user)
            if len(hit[2]) == users:
                del cached[kind]
            return hit[1]

        results = []
        for j in range(m):
            def impl(*xs, j=j):
                out = self.outputs(xs)[j]
                if j == m - 1:
                    self.last = None
                return out

            def jvp_i(i, t, ans, *xs, j=j):
                def compute():
                    ts = [t if k == i else _zeros(x) for k, x in enumerate(xs)]
                    return _jvp(self.run_flat, xs, tuple(ts))[1]
                return memo(("jvp", i), xs + (t,), compute, j, m)[j]

            def vjp_i(i, g, ans, *xs, j=j):
                def compute():
                    _, back = _vjp(self.run_flat, *xs)
                    return back([g if k == j else self.zeros(k) for k in range(len(self.avals))])
                return memo(("vjp", j), xs + (g,), compute, i, n)[i]

            prim = _UserPrimitive(self.name, impl, _Indexed(jvp_i, n), _Indexed(vjp_i, n))
            results.append(prim(*traced))
        self.last = None  # the tape holds the outputs now; nothing else keeps them
        return tree_unflatten(out_tree, results)


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
