"""Bad input gets a clear error: what was passed, what was expected, what to do."""

import math

import numpy as onp
import pytest

import chainrule as cr
import chainrule.numpy as np


def test_grad_of_non_scalar_output_suggests_jacobian():
    with pytest.raises(TypeError, match=r"shape \(3,\).*jacobian.*elementwise_grad"):
        cr.grad(lambda x: x * 2)(onp.ones(3))


def test_grad_of_integer_input():
    with pytest.raises(TypeError, match=r"floating-point.*argument 0.*int.*3\.0"):
        cr.grad(lambda x: x * x)(3)
    with pytest.raises(TypeError, match="argument 1"):
        cr.grad(lambda x, y: x * y, argnums=(0, 1))(1.0, onp.arange(3))


def test_bad_argnums():
    with pytest.raises(ValueError, match="argnums=3.*2 positional"):
        cr.grad(lambda x, y: x * y, argnums=3)(1.0, 2.0)


def test_numpy_function_without_rule_is_named():
    x = onp.ones((2, 2))
    with pytest.raises(TypeError, match=r"numpy\.linalg\.cond.*no derivative rule"):
        cr.grad(lambda x: onp.linalg.cond(x))(x)
    with pytest.raises(TypeError, match=r"chainrule\.numpy\.unwrap"):
        cr.grad(lambda x: np.sum(np.unwrap(x)))(onp.ones(3))
    with pytest.raises(TypeError, match=r"numpy\.frexp was applied.*no derivative rule"):
        cr.grad(lambda x: onp.sum(onp.frexp(x)[0]))(onp.ones(3))


def test_tangent_shape_and_dtype_mismatch():
    with pytest.raises(ValueError, match=r"tangent 0 has shape \(2,\).*\(3,\)"):
        cr.jvp(lambda x: x, (onp.ones(3),), (onp.ones(2),))
    with pytest.raises(TypeError, match="floating point"):
        cr.jvp(lambda x: x, (onp.ones(3),), (onp.ones(3, dtype=int),))
    with pytest.raises(TypeError, match=r"tuples or lists.*jvp\(f, \(x,\), \(v,\)\)"):
        cr.jvp(lambda x: x, onp.ones(3), onp.ones(3))


def test_in_place_assignment_points_to_at():
    def f(x):
        x[0] = 1.0
        return np.sum(x)

    with pytest.raises(TypeError, match=r"at\(x\)\[i\]\.set\(v\)"):
        cr.grad(f)(onp.ones(3))


def test_float_conversion_and_math_module():
    with pytest.raises(TypeError, match="drop its derivative"):
        cr.grad(lambda x: float(x))(1.0)
    with pytest.raises(TypeError, match="chainrule.numpy functions"):
        cr.grad(lambda x: math.sin(x))(1.0)


def test_cotangent_shape_mismatch():
    _, back = cr.vjp(lambda x: x * 2, onp.ones(3))
    with pytest.raises(ValueError, match=r"cotangent has shape \(2,\)"):
        back(onp.ones(2))


def test_out_argument_is_refused():
    with pytest.raises(TypeError, match="out= is not supported"):
        cr.grad(lambda x: np.sum(x, out=onp.zeros(())))(onp.ones(2))


def test_numpy_semantics_kept_on_python_floats():
    """Python raises on log(0), 1/0, (-8)**(1/3); NumPy answers -inf, inf, nan."""
    with onp.errstate(all="ignore"):
        assert np.log(0.0) == -onp.inf
        assert np.divide(1.0, 0.0) == onp.inf
        assert onp.isnan(np.power(-8.0, 1 / 3))
        assert np.exp(1000.0) == onp.inf
        assert cr.grad(lambda x: np.sqrt(x))(0.0) == onp.inf


def test_conversion_to_integers_is_allowed_and_has_no_derivative():
    def f(x):
        return np.sum(x * onp.int64(x)) + int(x[0]) * x[1]

    x = onp.array([1.5, 2.5])
    onp.testing.assert_allclose(cr.grad(f)(x), [1.0 + 0.0, 2.0 + 1.0])
    with pytest.raises(TypeError, match="float"):
        cr.grad(lambda x: float(x) * x)(1.5)
    with pytest.raises(TypeError, match="int"):
        cr.jit(lambda x: int(x) * x)(1.5)
