"""Custom rules: primitive + defjvp/defvjp, custom_jvp, custom_vjp, in every mode and nesting."""

import numpy as onp
import pytest

import chainrule as cr
import chainrule.numpy as np
from chainrule.core.primitive import PRIMITIVES


@cr.primitive
def cube(x):
    return x ** 3


cr.defjvp(cube, lambda t, ans, x: t * 3 * x ** 2)
cr.defvjp(cube, lambda ans, x: lambda g: g * 3 * x ** 2)


@cr.primitive
def half_rules(x):
    return onp.sin(x)


cr.defvjp(half_rules, lambda ans, x: lambda g: g * np.cos(x))


def test_primitive_with_rules_checks_to_order_2():
    cr.check_grads(cube, (onp.array([0.3, -1.2]),), order=2)
    cr.check_grads(lambda x: np.sum(cube(np.sin(x))), (onp.array([0.3, 2.0]),), order=2)
    assert "cube" not in PRIMITIVES


def test_missing_rule_names_function_and_mode():
    assert cr.grad(half_rules)(0.4) == pytest.approx(onp.cos(0.4))
    with pytest.raises(NotImplementedError, match="half_rules.*JVP"):
        cr.jvp(half_rules, (0.4,), (1.0,))


@cr.custom_jvp
def safe_log1pexp(x):
    return np.log1p(np.exp(x))


@safe_log1pexp.defjvp
def _slj(primals, tangents):
    (x,), (t,) = primals, tangents
    return safe_log1pexp(x), t * (1 - 1 / (1 + np.exp(x)))


def test_custom_jvp_every_mode():
    x = onp.array([-1.0, 0.5, 3.0])
    cr.check_grads(lambda x: np.sum(safe_log1pexp(x)), (x,), order=2)
    h = cr.hessian(lambda x: np.sum(safe_log1pexp(x)))(x)
    s = 1 / (1 + onp.exp(-x))
    onp.testing.assert_allclose(onp.diag(h), s * (1 - s), rtol=1e-10)


def test_custom_jvp_is_used():
    @cr.custom_jvp
    def f(x, y):
        return x * y

    @f.defjvp
    def f_jvp(primals, tangents):
        (x, y), (tx, ty) = primals, tangents
        return x * y, 10 * tx + 100 * ty

    assert cr.grad(f, argnums=(0, 1))(2.0, 3.0) == (10.0, 100.0)
    assert cr.jvp(f, (2.0, 3.0), (1.0, 1.0))[1] == 110.0


@cr.custom_vjp
def clip_grad(x):
    return x


clip_grad.defvjp(lambda x: (x, None), lambda res, g: (np.clip(g, -1.0, 1.0),))


def test_custom_vjp_reverse_and_its_own_rule():
    assert cr.grad(lambda x: 10.0 * clip_grad(x))(2.0) == 1.0
    g = cr.grad(lambda x: np.sum(3.0 * clip_grad(x * x)))(onp.array([0.1, 2.0]))
    onp.testing.assert_allclose(g, [0.2, 4.0])


@cr.custom_vjp
def norm_sq(x):
    return np.sum(x * x)


norm_sq.defvjp(lambda x: (norm_sq(x), x), lambda x, g: (2.0 * g * x,))


def test_custom_vjp_under_forward_mode_and_hessian():
    x = onp.array([1.0, -2.0])
    cr.check_grads(norm_sq, (x,), order=2)
    onp.testing.assert_allclose(cr.hessian(norm_sq)(x), 2 * onp.eye(2))
    onp.testing.assert_allclose(cr.jacfwd(norm_sq)(x), 2 * x)


def test_custom_vjp_forward_mode_error_names_custom_jvp():
    @cr.custom_vjp
    def opaque(x):
        return onp.tanh(onp.asarray(x))  # plain NumPy: not differentiable by chainrule

    opaque.defvjp(lambda x: (opaque(x), x), lambda x, g: (g * (1 - np.tanh(x) ** 2),))
    assert cr.grad(lambda x: opaque(x))(0.2) == pytest.approx(1 - onp.tanh(0.2) ** 2)
    with pytest.raises(NotImplementedError, match="opaque.*custom_jvp"):
        cr.jvp(opaque, (0.2,), (1.0,))


def test_custom_rules_without_tracers_call_the_function():
    assert safe_log1pexp(0.0) == pytest.approx(onp.log(2.0))
    assert clip_grad(3.0) == 3.0
