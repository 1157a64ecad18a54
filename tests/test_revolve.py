"""Binomial checkpointing (chainrule.revolve): Griewank's closed form against an
exhaustive dynamic programme, the schedule's step count and slot use, the number of step
evaluations actually made, gradients against plain reverse mode and finite differences,
and the peak memory (tracemalloc) against c + 1 states and against plain reverse mode."""

import functools
import tracemalloc
from math import comb

import numpy as onp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import chainrule as cr
import chainrule.numpy as np
from chainrule import revolve


@functools.lru_cache(maxsize=None)
def optimal_by_search(n: int, c: int) -> int:
    """The fewest forward steps over every split, by exhaustive recursion (no formula)."""
    if n <= 1:
        return 0
    if c == 1:
        return sum(range(n))
    return min(k + optimal_by_search(n - k, c - 1) + optimal_by_search(k, c)
               for k in range(1, n))


@pytest.mark.parametrize("c", [1, 2, 3, 4, 6])
def test_binomial_cost_is_the_optimum_of_the_recursion(c):
    for n in range(1, 60):
        assert revolve.binomial_cost(n, c) == optimal_by_search(n, c), (n, c)


def test_binomial_cost_closed_form_values():
    # r·n − C(c+r, c+1) with r minimal such that n <= C(c+r, c)
    assert revolve.repetition_number(10_000, 20) == 4  # C(23, 20) = 1771 < 1e4 <= C(24, 20)
    assert revolve.binomial_cost(10_000, 20) == 4 * 10_000 - comb(24, 21)
    assert revolve.binomial_cost(3, 1) == 3 and revolve.binomial_cost(5, 5) == 4
    assert revolve.binomial_cost(comb(7, 3), 3) == 4 * comb(7, 3) - comb(7, 4)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 200), st.integers(1, 8))
def test_schedule_reverses_each_step_once_with_at_most_c_states(n, c):
    stored, advances, reversed_ = {0}, 0, []
    peak = 1
    current = None
    for act in revolve.schedule(n, c):
        if act[0] == "advance":
            _, i, j, store = act
            assert i in stored
            advances += j - i
            if store:
                stored.add(j)
            else:
                current = j
        elif act[0] == "free":
            stored.remove(act[1])
        else:
            i = act[1]
            assert i in stored or current == i
            reversed_.append(i)
        peak = max(peak, len(stored))
    assert reversed_ == list(range(n - 1, -1, -1))
    assert peak <= c
    assert advances == revolve.binomial_cost(n, c)


def _counted_step(counter):
    def step(consts, carry, x):
        counter[0] += 1
        (a,), (y,) = consts, carry
        return [y + 0.01 * a * np.sin(y) + x[0]], [y * y]
    return step


@pytest.mark.parametrize("n,c", [(1, 1), (7, 1), (30, 3), (100, 5), (231, 20), (500, 4)])
def test_step_evaluations_are_the_binomial_number(n, c):
    counter = [0]
    step = _counted_step(counter)
    xs = [[0.001 * k] for k in range(n)]

    def loss(a, y0):
        carry, ys = revolve.revolve_scan(step, [a], [y0], xs, n, c)
        return carry[0] + 0.5 * sum(y[0] for y in ys)

    def plain(a, y0):
        y, total = y0, 0.0
        for k in range(n):
            total = total + 0.5 * y * y
            y = y + 0.01 * a * np.sin(y) + xs[k][0]
        return y + total

    g = cr.grad(loss, argnums=(0, 1))(0.7, 0.3)
    # forward steps of the schedule plus one taped step per step
    assert counter[0] == revolve.binomial_cost(n, c) + n
    ref = cr.grad(plain, argnums=(0, 1))(0.7, 0.3)
    onp.testing.assert_allclose(g, ref, rtol=1e-12)


def test_checkpoint_loop_closure_and_finite_differences():
    w = onp.array([0.3, -0.2, 0.5])

    def f(a, c=3):
        return np.sum(cr.checkpoint_loop(0, 40, lambda i, x: x + 0.05 * np.tanh(a * x + w),
                                         onp.ones(3) * 0.1, checkpoints=c))

    def plain(a):
        return np.sum(cr.fori_loop(0, 40, lambda i, x: x + 0.05 * np.tanh(a * x + w),
                                   onp.ones(3) * 0.1))

    assert abs(cr.grad(f)(1.3) - cr.grad(plain)(1.3)) < 1e-13
    cr.check_grads(f, (1.3,), order=2, modes=("fwd", "rev"))


def test_fori_loop_and_scan_checkpoints_option():
    def with_fori(a, c):
        return cr.fori_loop(0, 25, lambda i, x: x * np.cos(a * x) + 0.01 * i, 0.5,
                            checkpoints=c)

    g_all = cr.grad(lambda a: with_fori(a, None))(0.8)
    for c in (1, 2, 6):
        assert abs(cr.grad(with_fori)(0.8, c) - g_all) < 1e-13
    xs = onp.linspace(0.0, 1.0, 12)

    def with_scan(a, c):
        carry, ys = cr.scan(lambda s, x: (s * a + x, s * x), 1.0, xs, checkpoints=c)
        return carry + np.sum(ys ** 2)

    ref = cr.grad(lambda a: with_scan(a, None))(0.9)
    assert abs(cr.grad(lambda a: with_scan(a, 3))(0.9) - ref) < 1e-12 * abs(ref)
    # forward mode and the Hessian through a checkpointed loop
    h = cr.hessian(lambda a: with_scan(a, 3))(0.9)
    h_ref = cr.hessian(lambda a: with_scan(a, None))(0.9)
    assert abs(h - h_ref) < 1e-10 * abs(h_ref)


def test_bad_checkpoints_raise():
    with pytest.raises(ValueError, match="checkpoints must be an integer >= 1"):
        revolve.schedule(10, 0)
    with pytest.raises(ValueError, match="checkpoints must be an integer >= 1"):
        cr.grad(lambda a: cr.checkpoint_loop(0, 3, lambda i, x: x * a, 1.0, checkpoints=0))(1.0)


def _peak_bytes(fn, *args):
    """(peak bytes allocated while fn runs, its result)."""
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        out = fn(*args)
        return tracemalloc.get_traced_memory()[1] - base, out
    finally:
        tracemalloc.stop()


def test_peak_memory_10k_steps_20_checkpoints():
    n, c, m = 10_000, 20, 20_000
    y0 = onp.linspace(0.0, 1.0, m)
    state = y0.nbytes
    counter = [0]

    def step(consts, carry, x):
        counter[0] += 1
        return [carry[0] + 1e-4 * consts[0] * carry[0]], []

    def loss(a):
        carry, _ = revolve.revolve_scan(step, [a], [y0], None, n, c)
        return np.sum(carry[0])

    peak, g = _peak_bytes(cr.grad(loss), 0.5)
    assert peak <= 2 * (c + 1) * state, peak / state
    assert counter[0] == revolve.binomial_cost(n, c) + n
    exact = onp.sum(y0) * n * 1e-4 * (1 + 0.5e-4) ** (n - 1)
    assert abs(g - exact) < 1e-10 * exact

    # plain reverse mode keeps every state: 200 steps already cost more than 200 states
    def plain(a, steps=200):
        y = y0
        for _ in range(steps):
            y = y + 1e-4 * a * y
        return np.sum(y)

    assert _peak_bytes(cr.grad(plain), 0.5)[0] > 200 * state
