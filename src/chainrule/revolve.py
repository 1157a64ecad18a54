"""Binomial checkpointing (Griewank's revolve): reverse mode through n steps of a loop
while storing at most ``c`` states, with the fewest recomputed steps.

Reverse mode needs each step's input state in reverse order. Storing all n states costs n
states of memory; storing none costs O(n²) recomputation. With ``c`` checkpoint slots (the
initial state occupies one), the least number of forward steps (step evaluations without
taping) that any schedule needs is Griewank's binomial optimum

    t(n, c) = r·n − C(c + r, c + 1),   r the least integer with n ≤ C(c + r, c),

plus one taped step per step (the n reverse steps). The schedule reaching it is
recursive: to reverse steps ``[a, b)`` holding the state at ``a`` with ``c`` slots,
advance ``k`` steps, store the state at ``a + k``, reverse ``[a + k, b)`` with ``c − 1``
slots, free that slot and reverse ``[a, a + k)`` with ``c`` slots, the split ``k``
minimising ``k + t(b − a − k, c − 1) + t(k, c)`` (this recursion's optimum is the closed
form above; the cost is convex in ``k``, so a bisection finds it). With one slot every
state is recomputed from the start: ``t(n, 1) = n(n − 1)/2``.

The forward (primal) pass runs the schedule's first sweep: it stores the checkpoints that
sweep stores, tapes the last step, and keeps nothing else; the backward pass continues the
schedule. Forward mode runs the loop with tangents (no storage question arises).

``revolve_scan`` takes the loop constants explicitly; ``checkpoint_scan`` and
``checkpoint_loop`` (and ``scan``/``fori_loop`` with ``checkpoints=c``) find the traced
values a body closes over by staging it once, as ``scan`` does.
"""

from __future__ import annotations

from math import comb
from typing import Any, Callable, Iterator

import numpy as np

from chainrule.core.primitive import Tracer, dtype_of, shape_of
from chainrule.core.pytree import tree_flatten, tree_unflatten
from chainrule.custom import _Call, _zeros
from chainrule.interpreters.staging import abstractify, stage_sub
from chainrule.ir.evaluate import eval_flat
from chainrule.ir.program import AVal
from chainrule.numpy import _namespace as ns
from chainrule.transforms import jvp as _jvp
from chainrule.transforms import vjp as _vjp

__all__ = ["binomial_cost", "repetition_number", "schedule", "iter_schedule", "revolve_scan",
           "checkpoint_scan", "checkpoint_loop"]


def repetition_number(n: int, c: int) -> int:
    """The least r with ``n ≤ C(c + r, c)``: the most times any step is evaluated
    forward (without taping) under the optimal schedule."""
    r = 0
    while comb(c + r, c) < n:
        r += 1
    return r


def binomial_cost(n: int, c: int) -> int:
    """Griewank's minimum number of forward step evaluations to reverse ``n`` steps with
    ``c`` checkpoint slots (the initial state counts as one): ``r·n − C(c + r, c + 1)``.

    Example:
        >>> binomial_cost(10_000, 20), binomial_cost(3, 1), binomial_cost(5, 5)
        (37976, 3, 4)
    """
    _check_sizes(n, c)
    if n <= 1:
        return 0
    r = repetition_number(n, c)
    return r * n - comb(c + r, c + 1)


def _check_sizes(n: int, c: int) -> None:
    if int(n) != n or n < 0:
        raise ValueError(f"revolve: the number of steps must be a non-negative integer, got {n}")
    if int(c) != c or c < 1:
        raise ValueError(f"revolve: checkpoints must be an integer >= 1 (the initial state "
                         f"takes one slot), got {c}")


def _best_split(length: int, c: int) -> int:
    """The k in [1, length - 1] minimising k + t(length - k, c - 1) + t(k, c)."""
    def cost(k: int) -> int:
        return k + binomial_cost(length - k, c - 1) + binomial_cost(k, c)

    lo, hi = 1, length - 1  # the cost is convex in k: first k where it stops falling
    while lo < hi:
        mid = (lo + hi) // 2
        if cost(mid + 1) >= cost(mid):
            hi = mid
        else:
            lo = mid + 1
    return lo


def schedule(n: int, c: int) -> list[tuple]:
    """The optimal schedule as actions on step indices.

    ``("advance", i, j, store)``: run steps i … j−1 from the stored state at i (``store``:
    keep the state at j in a slot, else it is the current state); ``("reverse", i)``: tape
    step i from the state at i and pull the cotangent through it; ``("free", i)``: drop the
    stored state at i. The state at 0 is stored from the start.

    Example:
        >>> schedule(3, 2)
        [('advance', 0, 1, True), ('advance', 1, 2, False), ('reverse', 2), ('reverse', 1), \
('free', 1), ('reverse', 0)]
    """
    return list(iter_schedule(n, c))


def iter_schedule(n: int, c: int) -> Iterator[tuple]:
    """:func:`schedule` generated lazily (memory O(c), not O(n))."""
    _check_sizes(n, c)

    def reverse(a: int, b: int, slots: int) -> Iterator[tuple]:
        if b - a == 1:
            yield ("reverse", a)
        elif slots == 1:
            for j in range(b - 1, a - 1, -1):
                if j > a:
                    yield ("advance", a, j, False)
                yield ("reverse", j)
        else:
            m = a + _best_split(b - a, slots)
            yield ("advance", a, m, True)
            yield from reverse(m, b, slots - 1)
            yield ("free", m)
            yield from reverse(a, m, slots)

    if n > 0:
        yield from reverse(0, n, c)


class _Executor:
    """Runs a schedule for ``step(consts, carry, x) -> (carry, y)`` on flat leaf lists."""

    def __init__(self, step: Callable, n: int, c: int) -> None:
        self.step, self.n, self.c = step, n, c

    def advance(self, consts, carry, xs, i, j, ys=None):
        for k in range(i, j):
            carry, y = self.step(consts, carry, xs[k])
            if ys is not None:
                ys[k] = y
        return carry

    def tape(self, consts, state, x):
        def taped(k, s, xx):
            carry, y = self.step(k, s, xx)
            return list(carry), list(y)
        return _vjp(taped, consts, state, x)

    def forward(self, consts, init, xs):
        """The first sweep: checkpoints, every step's output, the last step taped.

        Returns:
            ``(final carry, ys, state)`` with ``state`` what the backward pass continues
            from (the schedule's rest, the stored states, the last step's tape).
        """
        actions = iter_schedule(self.n, self.c)
        saved = {0: init}
        ys: list = [()] * self.n
        current = None
        for act in actions:
            if act[0] == "reverse":
                break
            _, i, j, store = act
            state = self.advance(consts, saved[i], xs, i, j, ys)
            if store:
                saved[j] = state
            else:
                current = (j, state)
        last = self.n - 1
        start = saved[last] if last in saved else current[1]
        (carry_n, y_last), back = self.tape(consts, start, xs[last])
        ys[last] = y_last
        return carry_n, ys, [actions, saved, current, back]

    def backward(self, consts, xs, state, carry_bar, ys_bar):
        """The rest of the schedule: cotangents of the constants, the initial carry and the
        per-step inputs. ``state`` is emptied as it is consumed."""
        actions, saved, current, back = state
        state.clear()
        consts_bar = None
        xs_bar: list = [()] * self.n

        def pull(i, back, carry_bar):
            nonlocal consts_bar
            k_bar, carry_bar, x_bar = back((list(carry_bar), list(ys_bar[i])))
            if x_bar:
                xs_bar[i] = x_bar
            consts_bar = k_bar if consts_bar is None else [a + b for a, b in
                                                           zip(consts_bar, k_bar)]
            return carry_bar

        carry_bar = pull(self.n - 1, back, carry_bar)
        del back
        for act in actions:
            if act[0] == "advance":
                _, i, j, store = act
                state = self.advance(consts, saved[i], xs, i, j)
                if store:
                    saved[j] = state
                else:
                    current = (j, state)
                del state
            elif act[0] == "free":
                del saved[act[1]]
            else:
                i = act[1]
                start = saved[i] if i in saved else current[1]
                current = None
                carry_bar = pull(i, self.tape(consts, start, xs[i])[1], carry_bar)
                del start
        return consts_bar, carry_bar, xs_bar


def revolve_scan(step: Callable, consts: list, init: list, xs: list | None, length: int,  # noqa: C901
                 checkpoints: int) -> tuple[list, list]:
    """``scan`` with the loop constants explicit and binomial checkpointing in reverse mode.

    Args:
        step: ``(consts, carry, x) -> (carry, ys)`` on flat lists of leaves; a pure function
            of its arguments (it must not read traced values from its closure).
        consts: the loop constants (leaves; differentiable).
        init: the initial carry (leaves).
        xs: one list of leaves per step (per-step inputs, differentiable), or None.
        length: the number of steps.
        checkpoints: the most states stored at once (the initial carry counts as one).

    Returns:
        ``(final carry leaves, [ys leaves of each step])``.
    """
    _check_sizes(length, checkpoints)
    xs = [()] * length if xs is None else [list(x) for x in xs]
    nk, nc = len(consts), len(init)
    nx = len(xs[0]) if length else 0
    if length == 0:
        return list(init), []
    ex = _Executor(step, length, checkpoints)
    flat_in = list(consts) + list(init) + [leaf for x in xs for leaf in x]
    pos = [i for i, v in enumerate(flat_in) if isinstance(v, Tracer)]
    if not pos:
        carry, ys = list(init), []
        for k in range(length):
            carry, y = step(list(consts), carry, xs[k])
            ys.append(list(y))
        return carry, ys

    def split(full):
        k = list(full[:nk])
        c = list(full[nk:nk + nc])
        rest = full[nk + nc:]
        if not nx:
            return k, c, [()] * length
        return k, c, [list(rest[i * nx:(i + 1) * nx]) for i in range(length)]

    def fill(vals):
        full = list(flat_in)
        for p, v in zip(pos, vals):
            full[p] = v
        return full

    stash: dict = {}
    layout: list = []  # (shape, dtype) of every output leaf: the carry's, then each y's

    def pack(leaves, plain):
        """All output leaves as one float vector: one node on the tape, so the backward
        pass receives every cotangent at once and runs the schedule once."""
        if not layout:
            layout.extend((tuple(shape_of(v)), dtype_of(v)) for v in leaves)
        if plain:
            return np.concatenate([np.reshape(np.asarray(v, dtype=float), (-1,))
                                   for v in leaves])
        return ns.concatenate([ns.reshape(ns.asarray(v) * 1.0, (-1,)) for v in leaves])

    def unpack(vec):
        out, off = [], 0
        for shape, dtype in layout:
            size = int(np.prod(shape)) if shape else 1
            piece = vec[off:off + size]
            off += size
            piece = piece.reshape(shape) if shape else piece[0]
            out.append(piece if dtype.kind in "fc" else ns.astype(piece, dtype))
        return out

    def run(vals):
        hit = stash.get("key")
        if hit is not None and len(hit) == len(vals) and all(a is b for a, b in zip(hit, vals)):
            return stash["out"]
        k, c, x = split(fill(vals))
        carry_n, ys, state = ex.forward(k, c, x)
        leaves = list(carry_n) + [leaf for y in ys for leaf in y]
        out = [pack(leaves, not any(isinstance(v, Tracer) for v in leaves))]
        stash.update(key=tuple(vals), out=out, state=state)
        return out

    def vjp_all(vals, cts):
        if not (stash.get("key") is not None and all(a is b for a, b in
                                                     zip(stash["key"], vals))):
            stash.pop("key", None)
            run(vals)  # nested differentiation: the forward sweep again at this level
        k, _, x = split(fill(vals))
        ct = unpack(cts[0] if cts[0] is not None else np.zeros(sum(
            int(np.prod(sh)) if sh else 1 for sh, _ in layout)))
        carry_bar = ct[:nc]
        ny = (len(ct) - nc) // length
        ys_bar = ([ct[nc + i * ny:nc + (i + 1) * ny] for i in range(length)] if ny
                  else [()] * length)
        # the stored states and the last step's tape are handed over (freed as used)
        state = stash.pop("state")
        stash.pop("key", None)
        k_bar, c_bar, x_bar = ex.backward(k, x, state, carry_bar, ys_bar)
        full_bar = list(k_bar) + list(c_bar) + [leaf for xb in x_bar for leaf in xb]
        return [full_bar[p] for p in pos]

    def jvp_all(vals, tans):
        def plain(*v):
            k, c, x = split(fill(list(v)))
            outs = []
            for i in range(length):
                c, y = step(k, list(c), x[i])
                outs.extend(y)
            return [pack(list(c) + outs, False)]

        tans = [_zeros(v) if t is None else t for v, t in zip(vals, tans)]
        return _jvp(plain, tuple(vals), tuple(tans))[1]

    call = _Call(f"revolve({getattr(step, '__name__', 'step')}, c={checkpoints})", run,
                 jvp_all, vjp_all)
    flat_out = unpack(call([flat_in[p] for p in pos])[0])
    carry = flat_out[:nc]
    ny = (len(flat_out) - nc) // length
    return carry, [flat_out[nc + i * ny:nc + (i + 1) * ny] for i in range(length)]


def _stage(body: Callable, avals: list, name: str) -> tuple[Callable, list]:
    """Stage ``body`` (flat leaves -> flat leaves) once; returns the step as a function of
    (captured constants, leaves) and the captured traced values."""
    prog, caps = stage_sub(body, avals, name=name)

    def run(consts: list, leaves: list) -> list:
        return eval_flat(prog, list(leaves) + list(consts))

    return run, caps


def checkpoint_scan(f: Callable, init: Any, xs: Any = None, length: int | None = None, *,
                    checkpoints: int) -> tuple[Any, Any]:
    """``scan(f, init, xs)`` whose reverse mode stores at most ``checkpoints`` carries and
    recomputes the others with the binomial (revolve) schedule.

    Args:
        f: ``(carry, x) -> (carry, y)``.
        init: the initial carry (a pytree).
        xs: a pytree of arrays sliced along their first axis, or None with ``length``.
        length: the number of steps when ``xs`` is None.
        checkpoints: the most carries stored at once (the initial one counts).

    Returns:
        ``(final carry, ys stacked along a new leading axis)``.

    Example:
        >>> import chainrule as cr, chainrule.numpy as np
        >>> def loss(x):
        ...     c, _ = cr.revolve.checkpoint_scan(lambda c, _: (np.sin(c) * 1.1, None), x,
        ...                                       length=50, checkpoints=4)
        ...     return c
        >>> plain = lambda x: cr.scan(lambda c, _: (np.sin(c) * 1.1, None), x, length=50)[0]
        >>> bool(abs(cr.grad(loss)(0.3) - cr.grad(plain)(0.3)) < 1e-12)
        True
    """
    xl, xtree = tree_flatten(xs)
    n = length if not xl else int(shape_of(xl[0])[0])
    if n is None:
        raise TypeError("checkpoint_scan: give xs (arrays to slice) or length")
    kl, ktree = tree_flatten(init)
    box: dict = {}

    def flat_body(*flat):
        carry = tree_unflatten(ktree, list(flat[:len(kl)]))
        x = tree_unflatten(xtree, list(flat[len(kl):]))
        c, y = f(carry, x)
        cl, _ = tree_flatten(c)
        yl, box["ytree"] = tree_flatten(y)
        box["ny"] = len(yl)
        return cl + yl

    k_av = [abstractify(x) for x in kl]
    x_av = [_slice_aval(abstractify(x)) for x in xl]
    run, caps = _stage(flat_body, k_av + x_av, getattr(f, "__name__", "body"))
    nk = len(kl)

    def step(consts, carry, x):
        out = run(consts, list(carry) + list(x))
        return out[:nk], out[nk:]

    per_step = [[ns.getitem(leaf, i) for leaf in xl] for i in range(n)] if xl else None
    carry, ys = revolve_scan(step, caps, kl, per_step, n, checkpoints)
    carry = tree_unflatten(ktree, carry)
    if not box["ny"] or n == 0:
        return carry, tree_unflatten(box["ytree"], []) if box.get("ny") == 0 else None
    stacked = [ns.stack([y[j] for y in ys]) for j in range(box["ny"])]
    return carry, tree_unflatten(box["ytree"], stacked)


def checkpoint_loop(lower: int, upper: int, body_fun: Callable, init_val: Any, *,
                    checkpoints: int) -> Any:
    """``fori_loop(lower, upper, body_fun, init_val)`` with binomial checkpointing: reverse
    mode stores at most ``checkpoints`` carries (the initial one counts) and recomputes the
    rest with Griewank's minimal number of step evaluations.

    Args:
        lower, upper: the index range (Python ints).
        body_fun: ``(i, val) -> val``.
        init_val: the initial carry (a pytree).
        checkpoints: the most carries stored at once.

    Returns:
        The final carry.

    Example:
        >>> import chainrule as cr, chainrule.numpy as np
        >>> f = lambda a: cr.checkpoint_loop(0, 100, lambda i, x: x + 0.01 * a * np.cos(x),
        ...                                  0.0, checkpoints=5)
        >>> g = lambda a: cr.fori_loop(0, 100, lambda i, x: x + 0.01 * a * np.cos(x), 0.0)
        >>> bool(abs(cr.grad(f)(2.0) - cr.grad(g)(2.0)) < 1e-12)
        True
    """
    lo, hi = int(lower), int(upper)
    idx = np.arange(lo, max(hi, lo))
    carry, _ = checkpoint_scan(lambda c, i: (body_fun(i, c), None), init_val, idx,
                               checkpoints=checkpoints)
    return carry


def _slice_aval(av: AVal) -> AVal:
    return AVal(av.shape[1:], av.dtype, av.ndim == 1 and av.dtype == np.float64)


