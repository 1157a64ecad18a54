"""Temporary elision in eager reverse mode: dying operands are overwritten, nothing else."""

import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import chainrule as cr
import chainrule.numpy as cnp
from chainrule.interpreters import _fastpath

BIG = 40_000  # 320 KiB of float64: above the 256 KiB elision threshold


def _data(t):
    return t._value.__array_interface__["data"][0]


def _spy(t, seen):
    seen.append(_data(t))
    return t


def test_enabled_on_cpython_before_3_14_with_the_gil():
    expected = sys.implementation.name == "cpython" and sys.version_info < (3, 14) \
        and getattr(sys, "_is_gil_enabled", lambda: True)()
    assert _fastpath.ELISION_ENABLED is expected


@pytest.mark.skipif(not _fastpath.ELISION_ENABLED, reason="elision is off on this interpreter")
def test_a_temporary_operand_is_overwritten():
    seen = []

    def f(x):
        y = _spy(x * 2.0, seen) + 1.0  # the temporary x*2 dies in "+ 1"
        seen.append(_data(y))
        return cnp.sum(y * y)

    x = np.linspace(0.0, 1.0, BIG)
    value, g = cr.value_and_grad(f)(x)
    assert seen[0] == seen[1]
    np.testing.assert_allclose(value, np.sum((2 * x + 1) ** 2))
    np.testing.assert_allclose(g, 4 * (2 * x + 1))


def test_named_values_and_kept_residuals_are_never_overwritten():
    x = np.linspace(-1.0, 1.0, BIG)
    x_before = x.copy()

    def f(x):
        t = x * 2.0
        u = t + 1.0  # t is named: stays 2x
        v = (x * 3.0) * (x * 5.0)  # mul keeps both operands for its VJP
        w = 1.0 - x  # x is an input: never written
        return cnp.sum(t * u + v + w * w), t

    (value, t), g = cr.value_and_grad(f, has_aux=True)(x)
    np.testing.assert_array_equal(x, x_before)
    np.testing.assert_array_equal(t, 2.0 * x)
    np.testing.assert_allclose(value, np.sum(2 * x * (2 * x + 1) + 15 * x * x + (1 - x) ** 2))
    np.testing.assert_allclose(g, 8 * x + 2 + 30 * x - 2 * (1 - x))


def test_a_broadcast_or_wider_result_does_not_reuse_the_smaller_operand():
    x = np.linspace(0.0, 1.0, BIG)
    col = np.linspace(1.0, 2.0, 3)[:, None]
    f32 = np.ones(BIG, dtype=np.float32)

    def f(x):
        a = (x * 1.0) * col  # shape (3, BIG): larger than the temporary
        b = (x * 1.0) + f32  # float64: same dtype as the temporary, fine
        c = (f32 * x) * 1.0
        return cnp.sum(a) + cnp.sum(b) + cnp.sum(c)

    value, g = cr.value_and_grad(f)(x)
    np.testing.assert_allclose(value, np.sum(x * col) + np.sum(x + 1) + np.sum(x))
    np.testing.assert_allclose(g, np.full(BIG, col.sum() + 2.0))


def test_rosenbrock_gradient_at_elision_size():
    rng = np.random.default_rng(3)
    x = rng.uniform(-2.0, 2.0, 100_000)

    def f(x):
        return cnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)

    d = x[1:] - x[:-1] ** 2
    expected = np.zeros_like(x)
    expected[:-1] = -400.0 * d * x[:-1] - 2.0 * (1.0 - x[:-1])
    expected[1:] += 200.0 * d
    np.testing.assert_allclose(cr.grad(f)(x), expected, rtol=1e-12, atol=1e-9)


_OPS = [
    lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a * b,
    lambda a, b: a / (1.5 + b * b), lambda a, b: a ** 2 - b,
    lambda a, b: 0.5 - a, lambda a, b: 3.0 * b, lambda a, b: (a * 0.5) ** 3,
]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(_OPS) - 1), st.integers(0, 9), st.integers(0, 9)),
                min_size=1, max_size=12))
def test_random_programs_match_numpy_and_forward_mode(program):
    """Values from every step of a random program, each step reading any earlier one:
    reverse mode (eliding) agrees with plain NumPy and with forward mode (not eliding)."""

    def run(x):
        vals = [x, x * 0.5]
        for op, i, j in program:
            vals.append(_OPS[op](vals[i % len(vals)], vals[j % len(vals)]))
        return sum(v.sum() for v in vals[1:])

    x = np.linspace(-0.9, 0.9, BIG)
    value, g = cr.value_and_grad(run)(x)
    np.testing.assert_allclose(value, run(x), rtol=1e-12)
    direction = np.cos(np.arange(BIG))
    _, dot = cr.jvp(run, (x,), (direction,))
    np.testing.assert_allclose(np.dot(g, direction), dot, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("key", [
    (slice(1, None),), (slice(None, -1),), (Ellipsis, slice(2, 4)), (1,), (-1, slice(0, 2)),
    (slice(5, 2),), (slice(None), 1, Ellipsis), (slice(-3, None), slice(1, 2), 0),
    (Ellipsis,), (), (slice(None, None, 2),), (np.array([0, 0, 2]),), (None, 1),
    (np.array([True, False, True, False, True]),),
])
def test_scatter_writes_zeros_exactly_outside_the_selection(key):
    from chainrule.numpy._indexing import Index, scatter_add_p

    shape = (5, 4, 3)
    g = np.random.default_rng(0).normal(size=np.zeros(shape)[key].shape)
    expected = np.zeros(shape)
    np.add.at(expected, key, g)
    np.testing.assert_array_equal(scatter_add_p.impl(g, Index(key), shape), expected)


def test_stretched_cotangents_stay_numbers_and_sum_by_count():
    from chainrule.numpy._structural import stretched_value, unbroadcast

    g = np.broadcast_to(np.float32(2.0), (3, 4))
    assert stretched_value(g) == 2.0 and stretched_value(np.ones((3, 4))) is None
    summed = unbroadcast(g, (4,))
    assert summed.dtype == np.float32
    np.testing.assert_array_equal(summed, np.full(4, 6.0))
    x = np.linspace(0.0, 1.0, 7)
    # the adjoint of a mean is stretched; scaling and negating it keep it exact
    np.testing.assert_allclose(cr.grad(lambda x: cnp.mean(-(3.0 * x) ** 2))(x), -18 * x / 7)
    np.testing.assert_allclose(cr.grad(lambda x: cnp.sum(1.0 - x * 2.5))(x), np.full(7, -2.5))
