"""The transformation API: argnums, pytrees, aux data, Jacobians, Hessians, names."""

import numpy as onp
import pytest

import chainrule as cr
import chainrule.numpy as np

RNG = onp.random.default_rng(42)


def rosen(x):
    return np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


def rosen_grad(x):
    g = onp.zeros_like(x)
    d = x[1:] - x[:-1] ** 2
    g[:-1] = -400 * x[:-1] * d - 2 * (1 - x[:-1])
    g[1:] += 200 * d
    return g


def rosen_hess(x):
    n = len(x)
    H = onp.zeros((n, n))
    for i in range(n - 1):
        H[i, i] += 1200 * x[i] ** 2 - 400 * x[i + 1] + 2
        H[i, i + 1] = H[i + 1, i] = -400 * x[i]
        H[i + 1, i + 1] += 200
    return H


def test_grad_value_and_grad_on_arrays():
    x = RNG.standard_normal(6)
    onp.testing.assert_allclose(cr.grad(rosen)(x), rosen_grad(x), rtol=1e-12)
    v, g = cr.value_and_grad(rosen)(x)
    assert v == pytest.approx(float(rosen(x)))
    onp.testing.assert_allclose(g, rosen_grad(x), rtol=1e-12)


def test_argnums_int_tuple_negative_and_kwargs():
    def f(a, b, c, scale=1.0):
        return scale * np.sum(a * b + c**2)

    a, b, c = RNG.standard_normal((3, 4))
    assert cr.grad(f)(a, b, c).shape == (4,)
    ga, gc = cr.grad(f, argnums=(0, 2))(a, b, c, scale=2.0)
    onp.testing.assert_allclose(ga, 2 * b)
    onp.testing.assert_allclose(gc, 4 * c)
    onp.testing.assert_allclose(cr.grad(f, argnums=-2)(a, b, c), a)


def test_pytree_arguments_and_outputs():
    params = {"w": RNG.standard_normal((3, 2)), "b": RNG.standard_normal(2), "extra": None}
    x = RNG.standard_normal((5, 3))

    def loss(p, x):
        return np.sum(np.tanh(x @ p["w"] + p["b"]) ** 2)

    g = cr.grad(loss)(params, x)
    assert set(g) == {"w", "b", "extra"} and g["extra"] is None
    eps = 1e-6
    for key in ("w", "b"):
        d = RNG.standard_normal(params[key].shape)
        plus = dict(params, **{key: params[key] + eps * d})
        minus = dict(params, **{key: params[key] - eps * d})
        fd = (loss(plus, x) - loss(minus, x)) / (2 * eps)
        assert onp.sum(g[key] * d) == pytest.approx(fd, rel=1e-6)
    # lists and tuples keep their type
    gl = cr.grad(lambda xs: xs[0] * xs[1][0])([2.0, (3.0,)])
    assert isinstance(gl, list) and isinstance(gl[1], tuple)
    assert gl[0] == 3.0 and gl[1][0] == 2.0


def test_has_aux():
    def f(x):
        return np.sum(x**2), {"norm": np.sqrt(np.sum(x**2))}

    x = onp.array([3.0, 4.0])
    g, aux = cr.grad(f, has_aux=True)(x)
    onp.testing.assert_allclose(g, 2 * x)
    assert aux["norm"] == pytest.approx(5.0)
    assert not isinstance(aux["norm"], cr.core.Tracer)
    (v, aux2), g2 = cr.value_and_grad(f, has_aux=True)(x)
    assert v == pytest.approx(25.0) and aux2["norm"] == pytest.approx(5.0)
    out, back, aux3 = cr.vjp(f, x, has_aux=True)
    onp.testing.assert_allclose(back(1.0)[0], 2 * x)


def test_jvp_and_vjp_with_pytrees_and_none_tangent():
    def f(d):
        return {"p": d["a"] * d["b"], "q": np.sin(d["a"])}

    d = {"a": onp.array([1.0, 2.0]), "b": onp.array([3.0, 4.0])}
    t = {"a": onp.array([1.0, 0.0]), "b": onp.array([0.0, 1.0])}
    out, tan = cr.jvp(f, (d,), (t,))
    onp.testing.assert_allclose(tan["p"], [3.0, 2.0])
    onp.testing.assert_allclose(tan["q"], [onp.cos(1.0), 0.0])
    _, back = cr.vjp(f, d)
    (ct,) = back({"p": onp.ones(2), "q": onp.zeros(2)})
    onp.testing.assert_allclose(ct["a"], d["b"])
    onp.testing.assert_allclose(ct["b"], d["a"])
    # None tangent = symbolic zero
    assert cr.jvp(lambda x, y: x * y, (2.0, 3.0), (None, 1.0)) == (6.0, 2.0)


@pytest.mark.parametrize("mode", ["fwd", "rev", "auto"])
def test_jacobians_agree(mode):
    A = RNG.standard_normal((3, 4))

    def f(x):
        return np.tanh(A @ x) * x[:3]

    x = RNG.standard_normal(4)
    J = cr.jacobian(f, mode=mode)(x)
    t = onp.tanh(A @ x)
    expected = (1 - t**2)[:, None] * A * x[:3, None]
    expected[:, :3] += onp.diag(t)
    onp.testing.assert_allclose(J, expected, rtol=1e-12)
    onp.testing.assert_allclose(cr.jacfwd(f)(x), cr.jacrev(f)(x), rtol=1e-12)


def test_jacobian_shapes_for_matrix_inputs_and_outputs():
    X = RNG.standard_normal((2, 3))
    J = cr.jacrev(lambda X: X.T * 2.0)(X)
    assert J.shape == (3, 2, 2, 3)
    J2 = cr.jacfwd(lambda X: X.T * 2.0)(X)
    onp.testing.assert_allclose(J, J2)
    assert J[1, 0, 0, 1] == 2.0 and J[1, 0, 1, 0] == 0.0
    Jt = cr.jacfwd(lambda a, b: a * b, argnums=(0, 1))(onp.ones(2), onp.full(2, 3.0))
    assert isinstance(Jt, tuple)
    onp.testing.assert_allclose(Jt[0], 3 * onp.eye(2))


def test_jacobian_auto_picks_by_n_versus_m():
    calls = {"n": 0}

    def wide(x):  # R^5 -> R^1: reverse
        calls["n"] += 1
        return np.sum(x**2, keepdims=True)

    cr.jacobian(wide)(onp.ones(5))
    assert calls["n"] == 1  # one recorded pass, one backward sweep
    calls["n"] = 0

    def tall(x):  # R^1 -> R^5: forward
        calls["n"] += 1
        return x * onp.arange(5.0)

    cr.jacobian(tall)(onp.ones(1))
    assert calls["n"] == 2  # the recording pass plus one JVP


def test_hessian_and_hvp_match_analytic():
    x = RNG.standard_normal(6)
    onp.testing.assert_allclose(cr.hessian(rosen)(x), rosen_hess(x), rtol=1e-12)
    v = RNG.standard_normal(6)
    onp.testing.assert_allclose(cr.hvp(rosen, (x,), (v,)), rosen_hess(x) @ v, rtol=1e-12)


def test_hvp_several_arguments():
    def f(a, b):
        return np.sum(a**2 * b)

    a, b = onp.array([1.0, 2.0]), onp.array([3.0, 4.0])
    ha, hb = cr.hvp(f, (a, b), (onp.ones(2), onp.zeros(2)))
    onp.testing.assert_allclose(ha, 2 * b)
    onp.testing.assert_allclose(hb, 2 * a)


def _mlp_tanh(W, b):
    h = np.tanh(onp.linspace(-1, 1, 12).reshape(4, 3) @ W + b)
    return np.sum(np.log1p(h**2)) + np.sum(np.exp(-W**2))


@pytest.mark.parametrize("f, shapes", [
    (rosen, [(7,)]),
    (_mlp_tanh, [(3, 5), (5,)]),
    (lambda a, b: np.sum(np.sin(a) * np.cosh(b)) / (1 + np.sum(a**2)), [(4,), (4,)]),
])
def test_hvp_reverse_over_forward_agrees_with_forward_over_reverse_and_differences(f, shapes):
    xs = tuple(RNG.standard_normal(s) for s in shapes)
    vs = tuple(RNG.standard_normal(s) for s in shapes)
    fast = cr.hvp(f, xs, vs)
    plain = cr.transforms.hvp_forward_over_reverse(f, xs, vs)
    fast, plain = (fast,) if len(xs) == 1 else fast, (plain,) if len(xs) == 1 else plain
    h = 1e-5  # central difference of the gradient along v
    grad = cr.grad(f, argnums=tuple(range(len(xs))))
    up = grad(*(x + h * v for x, v in zip(xs, vs, strict=True)))
    down = grad(*(x - h * v for x, v in zip(xs, vs, strict=True)))
    for a, b, u, d in zip(fast, plain, up, down, strict=True):
        onp.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
        onp.testing.assert_allclose(a, (u - d) / (2 * h), rtol=1e-6, atol=1e-8)


def test_hvp_of_a_custom_vjp_function_and_a_complex_argument():
    @cr.custom_vjp
    def cube(x):
        return x**3

    cube.defvjp(lambda x: (x**3, x), lambda x, g: (3 * x**2 * g,))
    x, v = onp.array([0.5, -1.5]), onp.array([1.0, 2.0])
    onp.testing.assert_allclose(cr.hvp(lambda x: np.sum(cube(x)), (x,), (v,)), 6 * x * v)
    # |z|⁴ = (x² + y²)² at z = 1 + 2i along 1: ∂²/∂x² = 4r² + 8x² = 28, ∂²/∂y∂x = 8xy = 16,
    # read back as one complex number in grad's convention (∂/∂x − i∂/∂y)
    z, w = onp.array([1.0 + 2.0j]), onp.array([1.0 + 0.0j])
    onp.testing.assert_allclose(cr.hvp(lambda z: np.sum(np.abs(z) ** 4), (z,), (w,)),
                                [28.0 - 16.0j])


def test_derivative_orders_and_elementwise_grad():
    assert cr.derivative(np.sin, order=4)(0.3) == pytest.approx(onp.sin(0.3))
    assert cr.derivative(np.exp, order=0)(1.0) == pytest.approx(onp.e)
    xs = onp.linspace(-2, 2, 7)
    onp.testing.assert_allclose(cr.elementwise_grad(np.tanh)(xs), 1 - onp.tanh(xs) ** 2)
    onp.testing.assert_allclose(cr.derivative(np.tanh)(xs), 1 - onp.tanh(xs) ** 2)


def test_stop_gradient():
    f = lambda x: x * cr.stop_gradient(x)  # noqa: E731
    assert cr.grad(f)(3.0) == 3.0
    assert cr.jvp(f, (3.0,), (1.0,)) == (9.0, 3.0)
    tree = cr.stop_gradient({"a": 1.0, "b": (2.0,)})
    assert tree == {"a": 1.0, "b": (2.0,)}


def test_transformed_functions_are_named():
    def f(x, y):
        return x * y

    assert cr.grad(f).__name__ == "grad_of_f_wrt_0"
    assert cr.grad(f, argnums=(0, 1)).__name__ == "grad_of_f_wrt_0_1"
    assert cr.jacfwd(f).__name__ == "jacfwd_of_f_wrt_0"
    assert cr.hessian(f).__name__ == "hessian_of_f_wrt_0"
    assert cr.derivative(np.sin, 2).__name__ == "derivative_2_of_sin"


def test_plain_numpy_code_is_differentiated():
    """Code written against numpy itself works through the dispatch protocols."""

    def f(x):
        return onp.sum(onp.sin(x) * onp.exp(x)) + onp.dot(x, x) + onp.max(x)

    x = onp.array([0.1, 0.5, -0.3])
    expected = onp.cos(x) * onp.exp(x) + onp.sin(x) * onp.exp(x) + 2 * x + (x == x.max())
    onp.testing.assert_allclose(cr.grad(f)(x), expected, rtol=1e-12)
    cr.check_grads(lambda x: onp.tanh(x) @ onp.ones(3), (x,))


def test_float32_stays_float32():
    x = onp.ones(3, dtype=onp.float32)
    g = cr.grad(lambda x: np.sum(np.sin(x) * 2.0))(x)
    assert g.dtype == onp.float32


def test_methods_and_operators_on_tracers():
    def f(x):
        y = x.reshape(2, 3).T
        z = (y @ y.T).sum(axis=0).mean() + abs(-x).max() + (x**2).prod() ** 0.0
        return z + len(x) + x.ndim + x.size - (2.0 - x)[0] / (1.0 + x[1]) + (x // 1.0).sum()

    x = onp.linspace(0.1, 0.6, 6)
    cr.check_grads(f, (x,), order=2)
    # iteration and comparisons
    g = cr.grad(lambda x: sum(xi * xi for xi in x if xi > 0.2))(x)
    onp.testing.assert_allclose(g, onp.where(x > 0.2, 2 * x, 0.0))


def test_ordered_and_default_dicts_are_pytrees():
    from collections import OrderedDict, defaultdict

    import numpy as onp

    def f(p):
        return p["b"] * 2.0 + p["a"] * p["b"]

    od = OrderedDict([("b", 3.0), ("a", 2.0)])
    g = cr.grad(f)(od)
    assert type(g) is OrderedDict and list(g) == ["b", "a"] and g == {"b": 4.0, "a": 3.0}
    dd = defaultdict(float, {"a": 2.0, "b": 3.0})
    g = cr.grad(f)(dd)
    assert type(g) is defaultdict and g.default_factory is float and g == {"a": 3.0, "b": 4.0}
    out = cr.jit(lambda x: OrderedDict([("z", x * 2.0), ("y", x)]))(onp.ones(2))
    assert type(out) is OrderedDict and list(out) == ["z", "y"]
    from chainrule.core.pytree import tree_flatten

    assert tree_flatten(od)[0] == [3.0, 2.0]  # insertion order, as in JAX
