"""Reverse mode over nested forward passes records each distinct application once.

``grad`` of a PINN-style loss evaluates the network inside every ``jvp`` (u and u_t,
then u_x and u_xx), and an inner and an outer tangent along the same direction are
equal values: the tape shares them (``ReverseTrace.nested_forward``). The plain
version, one entry per application, is the reference interpreter; both must agree,
and with finite differences.
"""

from __future__ import annotations

import numpy as onp
from hypothesis import given, settings, strategies as st

import chainrule as cr
import chainrule.numpy as np
from chainrule.interpreters import reference
from chainrule.interpreters.reverse import ReverseTrace


def _network(params, t, x):
    (W, b), *hidden, (Wo, bo) = params
    h = np.tanh(t * W[0] + x * W[1] + b)
    for Wh, bh in hidden:
        h = np.tanh(h @ Wh + bh)
    return h @ Wo + bo


def _residual_loss(jvp):
    """mean((u_t − 0.01·u_xx + u³ − u)²) with u_t, u_xx from ``jvp`` (nested for u_xx)."""

    def loss(params, t, x):
        ones = onp.ones_like(t)
        u, u_t = jvp(lambda t: _network(params, t, x), (t,), (ones,))

        def u_x(x):
            return jvp(lambda x: _network(params, t, x), (x,), (ones,))[1]

        u_xx = jvp(u_x, (x,), (ones,))[1]
        r = u_t - 0.01 * u_xx + u**3 - u
        return np.mean(r**2)

    return loss


def _data(sizes, n, seed):
    rng = onp.random.default_rng(seed)
    params = [(rng.standard_normal((a, b)) / onp.sqrt(a), 0.1 * rng.standard_normal(b))
              for a, b in zip(sizes[:-1], sizes[1:])]
    return params, rng.uniform(0, 1, (n, 1)), rng.uniform(-1, 1, (n, 1))


def _flat(tree):
    return onp.concatenate([onp.ravel(onp.asarray(a)) for a in cr.tree_flatten(tree)[0]])


def test_nested_jvp_loss_gradient_matches_reference_and_finite_differences():
    params, t, x = _data((2, 8, 8, 1), 7, 0)
    loss = _residual_loss(cr.jvp)
    fast = cr.grad(loss)(params, t, x)
    plain = reference.grad(loss)(params, t, x)
    onp.testing.assert_allclose(_flat(fast), _flat(plain), rtol=1e-12, atol=1e-14)
    cr.check_grads(lambda p: loss(p, t, x), (params,), order=1, modes=("rev",))


def test_the_tape_records_each_matrix_product_once():
    """u, u_t, u_x, u_xx of a network with h hidden products: 4 per product (value, two
    directions, the second derivative), not 6 (the value twice, u_x twice)."""
    params, t, x = _data((2, 8, 8, 8, 1), 5, 1)
    trace = ReverseTrace()
    boxes = cr.tree_unflatten(cr.tree_flatten(params)[1],
                              [trace.new_input(p) for p in cr.tree_flatten(params)[0]])
    _residual_loss(cr.jvp)(boxes, t, x)
    trace.active = False
    products = sum(1 for e in trace.tape if e is not None and e[0].name == "matmul")
    assert products == 4 * 3  # two hidden layers and the output layer


def test_plain_reverse_mode_records_no_sharing():
    """Without a forward pass inside it, a tape keeps one entry per application (and
    computes no sharing keys)."""
    trace = ReverseTrace()
    w = trace.new_input(onp.array([0.3, -0.2]))
    a = np.tanh(w) * 2.0
    b = np.tanh(w) * 2.0
    trace.active = False
    assert not trace.nested_forward()
    assert a.index != b.index


@settings(max_examples=8, deadline=None)
@given(width=st.integers(1, 6), depth=st.integers(1, 3), n=st.integers(1, 4),
       seed=st.integers(0, 2**16))
def test_shared_and_plain_tapes_agree_on_random_networks(width, depth, n, seed):
    params, t, x = _data((2,) + (width,) * depth + (1,), n, seed)
    loss = _residual_loss(cr.jvp)
    onp.testing.assert_allclose(_flat(cr.grad(loss)(params, t, x)),
                                _flat(reference.grad(loss)(params, t, x)),
                                rtol=1e-11, atol=1e-13)


def test_a_shared_array_found_again_after_an_operator_used_it():
    """``sin(p) + 1`` takes the large (≥ 256 KiB) temporary ``sin(p)`` inside a ``jvp``,
    where operators may overwrite dying operands (temporary elision) but not shared ones;
    the second ``sin(p)`` is found shared and must still hold sin p.
    d/dp [Σ(sin p + 1) + Σ sin(p)²] = cos p + sin 2p."""
    p = onp.linspace(-1.0, 1.0, 40_000)
    ones = onp.ones(3)

    def loss(p):
        _, d = cr.jvp(lambda s: s * np.sum(np.sin(p) + 1.0), (ones,), (ones,))
        e = np.sin(p)
        return np.sum(d) / 3.0 + np.sum(e * e)

    g = cr.grad(loss)(p)
    onp.testing.assert_allclose(g, onp.cos(p) + onp.sin(2.0 * p), rtol=1e-13, atol=1e-15)
    onp.testing.assert_allclose(g, reference.grad(loss)(p), rtol=1e-13, atol=1e-15)
