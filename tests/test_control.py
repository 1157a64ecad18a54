"""Structured control flow: values and derivatives, eager and under jit."""

import numpy as onp
import pytest

import chainrule as cr
import chainrule.numpy as np


def logistic(x, n=50):
    return cr.fori_loop(0, n, lambda i, l: 4.0 * l * (1.0 - l), x)


def test_fori_loop_grad_eager_and_jit():
    ref = cr.grad(logistic)(0.3)
    assert cr.jit(cr.grad(logistic))(0.3) == pytest.approx(ref, rel=1e-12)
    assert cr.grad(cr.jit(logistic))(0.3) == pytest.approx(ref, rel=1e-12)
    assert cr.jvp(logistic, (0.3,), (1.0,))[1] == pytest.approx(ref, rel=1e-12)


def test_cond_eager_and_staged():
    def f(x):
        return cr.cond(x > 0, lambda v: np.sin(v), lambda v: v * v, x)

    for x in (0.7, -0.7):
        assert cr.jit(f)(x) == pytest.approx(f(x))
        assert cr.jit(cr.grad(f))(x) == pytest.approx(cr.grad(f)(x))
    assert cr.grad(f)(0.7) == pytest.approx(onp.cos(0.7))


def test_scan_cumulative_product():
    def f(x):
        carry, ys = cr.scan(lambda c, xi: (c * xi, c * xi), 1.0, x)
        return carry + np.sum(ys)

    x = onp.array([0.5, 1.5, 2.0])
    assert cr.jit(f)(x) == pytest.approx(f(x))
    onp.testing.assert_allclose(cr.jit(cr.grad(f))(x), cr.grad(f)(x))


def test_while_loop_both_modes_eager_and_error_under_jit():
    def f(x):
        return cr.while_loop(lambda v: v < 10.0, lambda v: v * 1.5, x)

    assert cr.grad(f)(1.0) == pytest.approx(1.5 ** 6)
    assert cr.jvp(f, (1.0,), (1.0,))[1] == pytest.approx(1.5 ** 6)
    with pytest.raises(TypeError, match="fori_loop"):
        cr.jit(f)(1.0)
