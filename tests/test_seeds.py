"""The worked examples of the lecture notes, with their numbers."""

import math

import numpy as onp
import pytest

import chainrule as cr
import chainrule.numpy as np


def griewank(x1, x2):
    return (np.sin(x1 / x2) + x1 / x2 - np.exp(x2)) * (x1 / x2 - np.exp(x2))


def test_griewank_value_tangent_and_adjoints():
    y, y_dot = cr.jvp(griewank, (1.5, 0.5), (1.0, 0.0))
    # the lecture's table rounds every intermediate to 4 decimals: 1.4924 * 1.3513
    assert y == pytest.approx(2.0167, abs=1e-4)
    assert y_dot == pytest.approx(3.0118, abs=1e-4)
    x1_bar, x2_bar = cr.grad(griewank, argnums=(0, 1))(1.5, 0.5)
    assert x1_bar == pytest.approx(3.0118, abs=1e-4)
    assert x2_bar == pytest.approx(-13.7239, abs=1e-4)
    assert x1_bar == pytest.approx(y_dot, rel=1e-14)  # the two modes agree to rounding


def test_log_product_sine_forward_and_reverse():
    def f(x1, x2):
        return np.log(x1) + x1 * x2 - np.sin(x2)

    y, y_dot = cr.jvp(f, (2.0, 5.0), (1.0, 0.0))
    assert round(y, 3) == 11.652
    assert y_dot == pytest.approx(5.5)
    x1_bar, x2_bar = cr.grad(f, argnums=(0, 1))(2.0, 5.0)
    assert x1_bar == pytest.approx(5.5)
    assert round(x2_bar, 3) == 1.716


def test_x_plus_5_times_y():
    b, (dbdx, dbdy) = cr.value_and_grad(lambda x, y: (x + 5) * y, argnums=(0, 1))(2.0, 3.0)
    assert (b, dbdx, dbdy) == (21.0, 3.0, 7.0)


def test_dual_number_product():
    def foo(x, y):
        return x * y

    assert cr.jvp(foo, (3.0, 4.0), (1.0, 0.0)) == (12.0, 4.0)
    assert cr.jvp(foo, (3.0, 4.0), (0.0, 1.0)) == (12.0, 3.0)
    assert cr.grad(foo, argnums=(0, 1))(3.0, 4.0) == (4.0, 3.0)


def test_x_squared_plus_5():
    value, slope = cr.jvp(lambda x: x**2 + 5, (3.0,), (1.0,))
    assert (value, slope) == (14.0, 6.0)


def test_cos_of_x_squared():
    h, dh = cr.jvp(lambda x: np.cos(x**2), (5.0,), (1.0,))
    assert h == pytest.approx(math.cos(25))
    assert dh == pytest.approx(-math.sin(25) * 10)


def test_sin_cos_of_a_plus_b():
    da, db = cr.grad(lambda a, b: np.sin(a + b) * np.cos(a + b), argnums=(0, 1))(
        math.pi, math.pi / 2)
    assert da == pytest.approx(-1.0)
    assert db == pytest.approx(-1.0)


def test_xy_plus_sin_x():
    dx, dy = cr.grad(lambda x, y: x * y + np.sin(x), argnums=(0, 1))(math.pi, 1.0)
    assert dx == pytest.approx(0.0, abs=1e-12)
    assert dy == pytest.approx(math.pi)


def test_five_x_cubed_to_third_derivative():
    def f(x):
        a = x**3
        return 5 * a

    assert f(2.0) == 40.0
    assert cr.derivative(f)(2.0) == pytest.approx(60.0)
    assert cr.derivative(f, order=2)(2.0) == pytest.approx(60.0)
    assert cr.derivative(f, order=3)(2.0) == pytest.approx(30.0)
    # reverse over reverse gives the same second derivative
    assert cr.grad(cr.grad(f))(2.0) == pytest.approx(60.0)


def test_two_x_plus_x_squared_sums_both_paths():
    def f(x):
        a = 2 * x
        b = x**2
        return a + b

    assert cr.grad(f)(3.0) == pytest.approx(2 + 2 * 3.0)


def logistic(x, n=4):
    v = x
    for _ in range(n - 1):
        v = 4 * v * (1 - v)
    return v


def logistic_closed_form(x):
    return 64 * x * (1 - x) * (1 - 2 * x) ** 2 * (1 - 8 * x + 8 * x * x) ** 2


def logistic_derivative_by_hand(x):
    """The lecture's manual derivative of l4 (product rule over its four factors)."""
    p = 1 - 8 * x + 8 * x * x
    return (64 * (1 - x) * (1 - 2 * x) ** 2 * p**2
            - 64 * x * (1 - 2 * x) ** 2 * p**2
            - 256 * x * (1 - x) * (1 - 2 * x) * p**2
            + 128 * x * (1 - x) * (1 - 2 * x) ** 2 * p * (-8 + 16 * x))


@pytest.mark.parametrize("x", [0.1, 0.3, 0.77])
def test_logistic_map_l4_against_closed_form(x):
    assert logistic(x) == pytest.approx(logistic_closed_form(x), rel=1e-12)
    exact = logistic_derivative_by_hand(x)
    assert cr.grad(logistic)(x) == pytest.approx(exact, rel=1e-10)
    assert cr.derivative(logistic)(x) == pytest.approx(exact, rel=1e-10)
    assert cr.grad(logistic_closed_form)(x) == pytest.approx(exact, rel=1e-10)


def test_accumulate_loop():
    def foo(x, y):
        accum = x
        for _ in range(10):
            accum = accum * y
        return accum

    dx, dy = cr.grad(foo, argnums=(0, 1))(1.5, 1.1)
    assert dx == pytest.approx(1.1**10)
    assert dy == pytest.approx(10 * 1.5 * 1.1**9)


def test_least_squares_gradient():
    rng = onp.random.default_rng(0)
    A = rng.standard_normal((7, 4))
    y = rng.standard_normal(7)
    x = rng.standard_normal(4)

    def f(x):
        r = y - A @ x
        return 0.5 * np.sum(r * r)

    onp.testing.assert_allclose(cr.grad(f)(x), -A.T @ (y - A @ x), rtol=1e-12)
    onp.testing.assert_allclose(cr.hessian(f)(x), A.T @ A, rtol=1e-12)


def test_three_layer_linear_network_gradient_wrt_w2():
    rng = onp.random.default_rng(1)
    W1, W2, W3 = (rng.standard_normal(s) for s in [(5, 4), (3, 5), (2, 3)])
    X = rng.standard_normal((4, 6))  # columns are the samples x_i
    Y = rng.standard_normal((2, 6))

    def f(W1, W2, W3):
        R = Y - W3 @ W2 @ W1 @ X
        return np.sum(R**2)

    expected = sum(
        -2 * onp.outer(W3.T @ (Y[:, i] - W3 @ W2 @ W1 @ X[:, i]), W1 @ X[:, i])
        for i in range(6)
    )
    onp.testing.assert_allclose(cr.grad(f, argnums=1)(W1, W2, W3), expected, rtol=1e-10)


def test_notebook_forward_diff_examples():
    # ForwardDiff(2, 1) + ForwardDiff(3, 0) -> grad 1
    assert cr.jvp(lambda x, y: x + y, (2.0, 3.0), (1.0, 0.0)) == (5.0, 1.0)
    # f1 = x*y, f2 = 2x + 3y + xy with the tangent on y
    assert cr.jvp(lambda x, y: x * y, (2.0, 3.0), (0.0, 1.0)) == (6.0, 2.0)
    assert cr.jvp(lambda x, y: 2 * x + 3 * y + x * y, (2.0, 3.0), (0.0, 1.0)) == (19.0, 5.0)
    # x**y via exp(log(x)*y), and directly
    val, der = cr.jvp(lambda x, y: np.exp(np.log(x) * y), (2.0, 3.0), (1.0, 0.0))
    assert (val, der) == (pytest.approx(8.0), pytest.approx(12.0))
    assert cr.jvp(lambda x, y: x**y, (2.0, 3.0), (1.0, 0.0)) == (8.0, 12.0)


def test_notebook_reverse_diff_examples():
    assert cr.grad(lambda x, y: x + y + 3, argnums=(0, 1))(2.0, 3.0) == (1.0, 1.0)
    assert cr.grad(lambda x, y: 5 * x + 7 * y, argnums=(0, 1))(2.0, 3.0) == (5.0, 7.0)
    assert cr.grad(lambda x, y: x * y, argnums=(0, 1))(2.0, 3.0) == (3.0, 2.0)
