"""Structured control flow: values and derivatives, eager and under jit."""

import numpy as onp
import pytest

import chainrule as cr
import chainrule.numeric
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
    assert cr.jit(f)(1.0) == pytest.approx(f(1.0))
    assert cr.grad(cr.jit(f))(1.0) == pytest.approx(1.5 ** 6)
    with pytest.raises(TypeError, match="fori_loop"):
        cr.jit(cr.grad(f))(1.0)


def test_loops_are_primitives_with_a_staged_body():
    prog = cr.make_ir(logistic)(0.3)
    assert prog.primitive_counts() == {"scan": 1}
    sub = prog.eqns[0].params["body"]
    assert len(sub.eqns) == 3  # the body staged once, not 50 times


def test_jit_grad_fori_source_has_one_loop_per_pass():
    prog = cr.make_ir(cr.grad(logistic), optimize=True)(0.3)
    assert prog.primitive_counts() == {"scan": 2}  # forward (storing), backward


def rk4_theta(v0, c, n=100, h=0.01):
    def body(i, s):
        th, om = s

        def f(th, om):
            return om, -np.sin(th) - c * om

        k1 = f(th, om)
        k2 = f(th + 0.5 * h * k1[0], om + 0.5 * h * k1[1])
        k3 = f(th + 0.5 * h * k2[0], om + 0.5 * h * k2[1])
        k4 = f(th + h * k3[0], om + h * k3[1])
        return (th + h / 6 * (k1[0] + 2 * k2[0] + 2 * k3[0] + k4[0]),
                om + h / 6 * (k1[1] + 2 * k2[1] + 2 * k3[1] + k4[1]))

    return cr.fori_loop(0, n, body, (1.0, v0))[0]


def test_pytree_carry_and_closure_capture_all_modes():
    g = cr.grad(rk4_theta, argnums=(0, 1))
    ref = chainrule.numeric.gradient(lambda p: rk4_theta(float(p[0]), float(p[1])),
                                     onp.array([0.3, 0.2]))
    onp.testing.assert_allclose(g(0.3, 0.2), ref, rtol=1e-6)
    onp.testing.assert_allclose(cr.jit(g)(0.3, 0.2), g(0.3, 0.2), rtol=1e-12)
    t = cr.jvp(rk4_theta, (0.3, 0.2), (1.0, 0.0))[1]
    assert t == pytest.approx(ref[0], rel=1e-6)
    cr.check_grads(rk4_theta, (0.3, 0.2), order=2)


def test_scan_with_array_carry_and_consts_check_grads():
    w = onp.array([[0.5, -0.2], [0.1, 0.3]])

    def f(x, xs):
        def step(c, xi):
            c = np.tanh(w @ c + xi * x)
            return c, np.sum(c * c)
        c, ys = cr.scan(step, x, xs)
        return np.sum(c) + np.sum(ys)

    x = onp.array([0.3, -0.4])
    xs = onp.array([0.5, 1.0, -0.7])
    cr.check_grads(f, (x, xs), order=2)
    for a, b in zip(cr.jit(cr.grad(f, argnums=(0, 1)))(x, xs),
                    cr.grad(f, argnums=(0, 1))(x, xs)):
        onp.testing.assert_allclose(a, b, rtol=1e-12)


def test_cond_under_jit_runs_one_branch_and_differentiates():
    calls = []

    def loud(v):
        calls.append(1)
        return np.log(v)

    def f(x):
        return cr.cond(x > 0, lambda v: np.sin(v) * v, lambda v: v * v * v, x)

    jf = cr.jit(f)
    assert "if" in cr.source(f, 0.5) or "cond" in cr.source(f, 0.5)
    for x in (0.7, -0.7):
        assert jf(x) == pytest.approx(f(x))
        assert cr.jit(cr.grad(f))(x) == pytest.approx(cr.grad(f)(x))
        assert cr.jit(cr.grad(cr.grad(f)))(x) == pytest.approx(cr.grad(cr.grad(f))(x))
        assert cr.jvp(cr.jit(f), (x,), (1.0,))[1] == pytest.approx(cr.grad(f)(x))
    g = cr.jit(lambda x: cr.cond(x > 0, lambda v: v, loud, x))
    g(1.0)
    calls.clear()
    g(2.0)
    assert calls == []  # the staged branch is not re-run in Python, and log(-) never


def test_while_loop_reverse_mode_with_captured_parameter():
    def f(a):
        return cr.while_loop(lambda v: v[0] < 5.0, lambda v: (v[0] + 1.0, v[1] * a), (0.0, 1.0))[1]

    assert cr.grad(f)(1.3) == pytest.approx(5 * 1.3 ** 4)
    assert cr.jvp(f, (1.3,), (1.0,))[1] == pytest.approx(5 * 1.3 ** 4)


def test_nested_loops_and_branch_in_a_loop_under_jit():
    def f(x):
        def outer(i, c):
            inner = cr.fori_loop(0, 3, lambda j, d: d * 0.9 + np.sin(d) * 0.1, c)
            return cr.cond(inner > 0, lambda v: v * 1.1, lambda v: v - 0.1, inner)
        return cr.fori_loop(0, 4, outer, x)

    for x in (0.4, -0.3):
        ref = cr.grad(f)(x)
        assert cr.jit(f)(x) == pytest.approx(f(x), rel=1e-12)
        assert cr.jit(cr.grad(f))(x) == pytest.approx(ref, rel=1e-12)
    cr.check_grads(f, (0.4,), order=2)
    src = cr.source(cr.grad(f), 0.4)
    assert "while" not in src and src.count("if ") >= 2


def test_loop_index_and_python_ints_are_weakly_typed():
    """i·x keeps a float32 carry float32 (as in a Python loop and in JAX)."""
    x = onp.linspace(0.5, 1.0, 4).astype(onp.float32)

    def f(x):
        return cr.fori_loop(0, 3, lambda i, c: c * (i + 1) * 0.5, x)

    for fn in (f, cr.jit(f)):
        assert fn(x).dtype == onp.float32
        assert cr.grad(lambda x, fn=fn: np.sum(fn(x)))(x).dtype == onp.float32
    onp.testing.assert_allclose(f(x), x * 0.75, rtol=1e-6)
    assert cr.jit(lambda x, n: x * n)(x, 3).dtype == onp.float32
