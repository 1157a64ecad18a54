"""jit: cache, codegen, composition with transforms, errors, retrace explanations."""

import linecache

import numpy as onp
import pytest

import chainrule as cr
import chainrule.numpy as np
from chainrule.interpreters.staging import ConcretizationError


def griewank(x1, x2):
    return (np.sin(x1 / x2) + x1 / x2 - np.exp(x2)) * (x1 / x2 - np.exp(x2))


def test_jit_grad_griewank_matches_eager_and_caches():
    g = cr.jit(cr.grad(griewank, argnums=(0, 1)))
    for _ in range(3):
        out = g(1.5, 0.5)
    onp.testing.assert_allclose(out, (3.0118433276739069, -13.723961509314076), rtol=1e-14)
    assert g.misses == 1


def test_grad_of_jit_both_orders():
    ref = cr.grad(griewank, argnums=(0, 1))(1.5, 0.5)
    onp.testing.assert_allclose(cr.grad(cr.jit(griewank), argnums=(0, 1))(1.5, 0.5), ref)
    onp.testing.assert_allclose(cr.jit(cr.grad(griewank, argnums=(0, 1)))(1.5, 0.5), ref)
    h = cr.hessian(cr.jit(lambda x: np.sum(np.sin(x) ** 3)))(onp.array([0.1, 0.7]))
    href = cr.hessian(lambda x: np.sum(np.sin(x) ** 3))(onp.array([0.1, 0.7]))
    onp.testing.assert_allclose(h, href)


def test_source_is_readable_and_runnable():
    src = cr.source(cr.grad(griewank, argnums=(0, 1)), 1.5, 0.5)
    assert src.startswith("import math\nimport numpy as np\n")
    assert "\ndef grad_of_griewank_wrt_0_1(x1, x2):\n" in src
    assert "x1_bar" in src and "x2_bar" in src
    assert "math.sin(" in src and "# adjoint of" in src
    ns: dict = {}
    exec(src, ns)  # runs as printed
    onp.testing.assert_allclose(ns["grad_of_griewank_wrt_0_1"](1.5, 0.5),
                                cr.grad(griewank, argnums=(0, 1))(1.5, 0.5))


def test_arrays_use_numpy_and_linecache():
    f = cr.jit(cr.grad(lambda x: np.sum(np.tanh(x) ** 2)))
    gen = f.lower(onp.ones(3))
    assert "np.tanh(" in gen.source
    assert linecache.getline(gen.filename, 1).startswith("def ")
    x = onp.array([0.1, -0.4, 2.0])
    onp.testing.assert_allclose(f(x), cr.grad(lambda x: np.sum(np.tanh(x) ** 2))(x))


def test_retrace_explained():
    f = cr.jit(lambda x: np.sum(x * x))
    f(onp.ones(3))
    assert "first call" in f.explain_retrace()
    f(onp.ones(3))
    assert f.misses == 1
    f(onp.ones(4))
    assert f.misses == 2
    assert "shape (3,)" in f.explain_retrace() and "shape (4,)" in f.explain_retrace()


def test_static_argnums():
    f = cr.jit(lambda x, n: x ** n, static_argnums=1)
    assert f(2.0, 3) == 8.0
    assert f(2.0, 2) == 4.0
    assert "static" in f.explain_retrace()


def test_value_dependent_control_flow_error():
    def f(x):
        while x > 1.0:
            x = x / 2
        return x

    with pytest.raises(ConcretizationError, match="test_jit.py.*while_loop"):
        cr.jit(f)(3.0)


def test_math_errors_fall_back_to_numpy_semantics():
    f = cr.jit(lambda x: np.log(x) + 1.0 / x)
    with onp.errstate(all="ignore"):
        assert f(0.0) == f(0.0)  or onp.isnan(f(0.0)) or onp.isinf(f(0.0))
        assert f(2.0) == pytest.approx(onp.log(2.0) + 0.5)


def test_pytree_arguments_and_outputs():
    def loss(p, x):
        return np.mean((np.tanh(x @ p["W"]) - 1.0) ** 2)

    rng = onp.random.default_rng(1)
    p = {"W": rng.normal(size=(3, 2))}
    x = rng.normal(size=(5, 3))
    g = cr.jit(cr.grad(loss))(p, x)
    onp.testing.assert_allclose(g["W"], cr.grad(loss)(p, x)["W"])


def test_numba_backend_is_not_silently_ignored():
    # outside the numba subset (or without Numba): an error, never a silent Python fallback
    with pytest.raises((NotImplementedError, ImportError), match="numba"):
        cr.jit(lambda x: np.arcsinh(x), backend="numba")(1.0)


def test_jit_fori_loop_compiles_to_a_python_for_loop():
    def logistic(x):
        return cr.fori_loop(0, 1000, lambda i, l: 4.0 * l * (1.0 - l), x)

    src = cr.source(cr.grad(logistic), 0.3)
    assert src.count("for step") == 2 and len(src.splitlines()) < 40
    g = cr.jit(cr.grad(logistic))
    assert g(0.3) == pytest.approx(cr.grad(logistic)(0.3), rel=1e-9)


def test_jit_closing_over_an_outer_tracer_runs_under_that_transformation():
    def func(x):
        def inner(y):
            return y * x

        return cr.jit(inner)(4.0) + cr.jit(inner)(5.0)

    assert cr.jvp(func, (5.0,), (1.0,)) == (45.0, 9.0)
    assert cr.grad(func)(5.0) == 9.0
    assert cr.grad(cr.grad(lambda x: func(x) * x))(2.0) == 18.0
    with pytest.raises(TypeError, match="Pass it as an argument"):
        cr.grad(lambda x: cr.make_ir(lambda y: y * x)(1.0) and x)(1.0)


def test_jit_in_a_staged_loop_body_closing_over_the_carry_is_inlined():
    def loop(init):
        def body(s):
            pos, count = s
            return cr.jit(lambda p: (p + 1, count + 1))(pos)

        return cr.while_loop(lambda s: s[0] < 10, body, (init, 0))[1]

    assert loop(2) == 8 and cr.jit(loop)(2) == 8 and cr.jit(loop)(5) == 5


def test_value_dependent_numpy_composites_under_jit():
    x = onp.array([3.0, onp.inf, -onp.inf, onp.nan, 1.0, 2.0])
    onp.testing.assert_array_equal(cr.jit(lambda x: np.nan_to_num(x, posinf=9.0))(x),
                                     onp.nan_to_num(x, posinf=9.0))
    g = cr.jit(cr.grad(lambda x: np.sum(np.nan_to_num(x) * 2.0)))(x)
    onp.testing.assert_array_equal(g, [2.0, 0.0, 0.0, 0.0, 2.0, 2.0])
    y = onp.array([3.0, 1.0, 2.0, 5.0, 4.0])
    part = cr.jit(lambda y: np.partition(y, 2))(y)
    assert part[2] == onp.partition(y, 2)[2]
    assert (part[:2] <= part[2]).all() and (part[3:] >= part[2]).all()
    onp.testing.assert_array_equal(
        cr.jit(lambda y: np.select([y > 2.5], [y * 2.0], default=y))(y),
        onp.select([y > 2.5], [y * 2.0], default=y))
    with pytest.raises(TypeError, match="real_if_close"):
        cr.jit(lambda z: np.real_if_close(z))(onp.array([1 + 1e-20j, 2 + 0j]))
