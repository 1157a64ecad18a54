"""The one tape API: every writer appends the same entries, and one driver sweeps them."""

import math

import numpy as onp
import pytest

import chainrule as cr
import chainrule.numpy as np
from chainrule.interpreters.reverse import Entry, paused_gc, pull_back, record_call


def _loop_and_branch(x, w):
    y = cr.fori_loop(0, 3, lambda i, c: np.sin(c) * w + 1.0, x)  # control.py's entries
    z = cr.cond(w > 0, lambda a: a * a, lambda a: -a, y)
    return np.sum(z * 2.0 - x[0]) + w ** 2  # the flat operators' and process's entries


def _plain(x, w):
    y = x
    for _ in range(3):
        y = onp.sin(y) * w + 1.0
    z = y * y if w > 0 else -y
    return onp.sum(z * 2.0 - x[0]) + w ** 2


X, W = onp.array([0.3, -1.2, 2.0]), 0.7


def test_every_writer_appends_one_entry_shape_whose_parents_come_first():
    with paused_gc():
        trace, out = record_call(_loop_and_branch, [X, W])
    tape = trace.tape
    assert tape[:2] == [None, None]  # the inputs' slots
    names = set()
    for k, raw in enumerate(tape[2:], start=2):
        entry = Entry(*raw)  # every entry has exactly the five named fields
        names.add(entry.prim.name)
        assert entry.parents, f"entry {k} ({entry.prim.name}) depends on nothing traced"
        for argnum, p in entry.parents:
            assert 0 <= p < k  # creation order is a topological order
            assert 0 <= argnum < len(entry.args)
    assert {"scan", "tuple_get", "mul", "sub", "sum", "pow"} <= names
    assert out.index == len(tape) - 1


def test_the_driver_gives_finite_difference_gradients_and_sweeps_again():
    with paused_gc():
        trace, out = record_call(_loop_and_branch, [X, W])
        first = pull_back(trace, [out], [1.0], 2)
        second = pull_back(trace, [out], [2.0], 2)  # the tape is not consumed
    h = 1e-6
    fd_x = [(_plain(X + h * e, W) - _plain(X - h * e, W)) / (2 * h) for e in onp.eye(3)]
    fd_w = (_plain(X, W + h) - _plain(X, W - h)) / (2 * h)
    onp.testing.assert_allclose(first[0], fd_x, rtol=1e-6)
    assert math.isclose(first[1], fd_w, rel_tol=1e-6)
    onp.testing.assert_allclose(second[0], 2 * first[0], rtol=1e-14)
    assert math.isclose(second[1], 2 * first[1], rel_tol=1e-14)
    # the public transformations go through the same driver
    g = cr.grad(lambda x, w: _loop_and_branch(x, w), argnums=(0, 1))(X, W)
    onp.testing.assert_array_equal(g[0], first[0])
    assert g[1] == first[1]


def test_outputs_that_are_not_on_the_tape_get_no_adjoint():
    with paused_gc():
        trace, out = record_call(lambda x: (x * 2.0, 5.0), [1.5])
        assert pull_back(trace, [out[1]], [1.0], 1) == [None]
        assert pull_back(trace, list(out), [1.0, 1.0], 1) == [2.0]


@pytest.mark.parametrize("n", [1, 3])
def test_repeated_outputs_sum_their_cotangents(n):
    with paused_gc():
        trace, out = record_call(np.sin, [0.25])
        (c,) = pull_back(trace, [out] * n, [1.0] * n, 1)
    assert math.isclose(c, n * math.cos(0.25), rel_tol=1e-15)
