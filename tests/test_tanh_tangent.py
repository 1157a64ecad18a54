"""tanh's derivative rule c·(1 − y²) as one primitive (``tanh_tangent``).

Its derivatives are checked against finite differences with every primitive
(``op_specs``); here: the in-place implementation agrees with the plain formula, and
tanh's second and third derivatives through it match their closed forms.
"""

from __future__ import annotations

import numpy as onp
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import chainrule as cr
import chainrule.numpy as np
from chainrule.numpy._elementwise import _tanh_tangent_impl, tanh_tangent_p

_finite = st.floats(-3.0, 3.0, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(data=st.data(), dtype=st.sampled_from([onp.float64, onp.float32]),
       shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=4))
def test_in_place_implementation_equals_the_plain_formula(data, dtype, shapes):
    c_shape, y_shape = shapes.input_shapes
    c = data.draw(hnp.arrays(dtype, c_shape, elements=_finite.map(dtype)))
    y = data.draw(hnp.arrays(dtype, y_shape, elements=_finite.map(dtype)))
    want = c * (1 - y * y)
    got = _tanh_tangent_impl(c, y)
    assert onp.shape(got) == onp.shape(want) and onp.result_type(got) == onp.result_type(want)
    onp.testing.assert_allclose(got, want, rtol=4 * onp.finfo(dtype).eps, atol=0)


def test_python_numbers_and_a_number_times_an_array():
    assert _tanh_tangent_impl(2.0, 0.5) == 2.0 * (1 - 0.25)
    y = onp.array([0.1, -0.7])
    onp.testing.assert_array_equal(_tanh_tangent_impl(3.0, y), 3.0 * (1 - y * y))
    onp.testing.assert_array_equal(_tanh_tangent_impl(y, onp.float64(0.5)), y * 0.75)


def test_tanh_derivatives_through_the_fused_rule():
    """tanh' = 1 − y², tanh'' = −2y(1 − y²), tanh''' = (6y² − 2)(1 − y²); forward and
    reverse, nested."""
    x = onp.linspace(-2.0, 2.0, 9)
    y = onp.tanh(x)
    d1 = cr.jvp(np.tanh, (x,), (onp.ones_like(x),))[1]
    d2 = cr.jvp(lambda x: cr.jvp(np.tanh, (x,), (onp.ones_like(x),))[1], (x,),
                (onp.ones_like(x),))[1]
    d3 = cr.elementwise_grad(cr.elementwise_grad(cr.elementwise_grad(np.tanh)))(x)
    onp.testing.assert_allclose(d1, 1 - y**2, rtol=1e-14)
    onp.testing.assert_allclose(d2, -2 * y * (1 - y**2), rtol=1e-13, atol=1e-15)
    onp.testing.assert_allclose(d3, (6 * y**2 - 2) * (1 - y**2), rtol=1e-12, atol=1e-15)


def test_the_rule_records_one_primitive_per_tangent():
    """A nested jvp of tanh at two levels runs c·(1 − y²) as one primitive per level,
    not a square, a difference and a product at each."""
    def second(x):
        return cr.jvp(lambda x: cr.jvp(np.tanh, (x,), (1.0,))[1], (x,), (1.0,))[1]

    ir = cr.make_ir(second)(0.3)
    names = [eq.prim.name for eq in ir.eqns]
    assert names.count(tanh_tangent_p.name) >= 2 and "sub" not in names
    assert abs(second(0.3) - (-2 * onp.tanh(0.3) * (1 - onp.tanh(0.3) ** 2))) < 1e-15
