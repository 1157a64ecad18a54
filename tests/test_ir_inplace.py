"""Generated array code writes results into dying buffers, and only into those."""

import numpy as onp
from hypothesis import given, settings
from hypothesis import strategies as st

import chainrule as cr
import chainrule.numpy as np
from chainrule.ir import inplace, optimize


def test_chain_of_elementwise_ops_reuses_one_buffer():
    def f(x):
        return np.sum(np.tanh(x * 2.0 + 1.0) * 3.0)

    x = onp.linspace(-1.0, 1.0, 6)
    src = cr.source(f, x)
    assert "np.add(v1, 1.0, out=v1)" in src and "np.tanh(v2, out=v2)" in src
    assert cr.jit(f)(x) == onp.sum(onp.tanh(x * 2.0 + 1.0) * 3.0)


def test_inputs_outputs_and_viewed_values_are_never_overwritten():
    def f(x):
        y = x * 2.0
        yt = y.T  # a view of y: y must keep its values
        z = y + 1.0  # y's last use, but yt still sees its buffer
        w = np.exp(x)  # x is the caller's array
        return yt, z * w, w

    x = onp.arange(6.0).reshape(2, 3)
    prog = optimize(cr.make_ir(f)(x))
    planned = {prog.eqns[n].prim.name for n in inplace.plan(prog)}
    assert planned == {"mul"}  # z * w into z; not y + 1 (viewed) nor into the output w
    x_before = x.copy()
    yt, zw, w = cr.jit(f)(x)
    onp.testing.assert_array_equal(x, x_before)
    onp.testing.assert_array_equal(yt, (2 * x).T)
    onp.testing.assert_array_equal(zw, (2 * x + 1) * onp.exp(x))
    onp.testing.assert_array_equal(w, onp.exp(x))


def test_a_broadcast_result_does_not_go_into_the_smaller_argument():
    def f(x, row):
        r = np.sin(row) * 1.0  # shape (3,), dies in the product of shape (2, 3)
        return np.sum(r * x)

    x, row = onp.ones((2, 3)), onp.arange(3.0)
    prog = optimize(cr.make_ir(f)(x, row))
    for n, i in inplace.plan(prog).items():
        assert prog.eqns[n].invars[i].aval.shape == prog.eqns[n].outvars[0].aval.shape
    assert cr.jit(f)(x, row) == onp.sum(onp.sin(row) * x)


_UNARY = [np.sin, np.tanh, np.exp, lambda v: -v, lambda v: v.T.T,
          lambda v: v.reshape(-1).reshape(3, 4)]
_BINARY = [lambda a, b: a + b, lambda a, b: a * b, lambda a, b: a - b,
           lambda a, b: a / (2.0 + b * b)]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(0, 5), st.integers(0, 20), st.integers(0, 20)),
                min_size=1, max_size=15))
def test_random_programs_and_their_gradients_agree_with_eager(program):
    def f(x):
        vals = [x, x * 0.5]
        for unary, op, i, j in program:
            a, b = vals[i % len(vals)], vals[j % len(vals)]
            vals.append(_UNARY[op](a) if unary else _BINARY[op % 4](a, b))
        return sum(np.sum(v * (k + 1.0)) for k, v in enumerate(vals[1:])), vals[-1]

    x = onp.linspace(-0.9, 0.9, 12).reshape(3, 4)
    value, last = f(x)
    j_value, j_last = cr.jit(f)(x)
    onp.testing.assert_allclose(j_value, value, rtol=1e-13)
    onp.testing.assert_allclose(j_last, last, rtol=1e-13)
    g = cr.grad(lambda x: f(x)[0])
    onp.testing.assert_allclose(cr.jit(g)(x), g(x), rtol=1e-12, atol=1e-14)
