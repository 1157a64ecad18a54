"""The reverse sweep's scaled adjoints (``Primitive.vjp_scaled``, ``reverse.backward``).

Adjoint arrays travel with a number applied once, where it must be. These tests compare
every scaled rule with its plain rule, on the registry's own cases and on the constant
operands (``3·x``, ``x/4``, ``1 - x``, ``x²``) the scaled rules exist for, and check the
sweep's bookkeeping: long chains do not drift, and a gradient never aliases an input.
"""

import numpy as onp
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import chainrule as cr
import chainrule.numpy as np
from chainrule.core.primitive import PRIMITIVES
from op_specs import SPECS
from test_primitives import _args, _import_every_module

_import_every_module()
SCALED = sorted(name for name, p in PRIMITIVES.items() if p.vjp_scaled is not None)


def _without_scaled_rules(fn):
    """``fn()`` with every scaled rule switched off (the plain rules, number applied first)."""
    saved = {name: PRIMITIVES[name].vjp_scaled for name in SCALED}
    try:
        for name in SCALED:
            PRIMITIVES[name].vjp_scaled = None
        return fn()
    finally:
        for name, rules in saved.items():
            PRIMITIVES[name].vjp_scaled = rules


def _cotangents(out, rng):
    """A random cotangent, a stretched one (the adjoint of a sum) and one scaled by -3."""
    shape = onp.shape(out)
    g = rng.standard_normal(shape)
    return [g, onp.broadcast_to(rng.standard_normal(), shape), -3.0 * g]


def _same_vjps(f, args, rng):
    out, back = cr.vjp(f, *args)
    for ct in _cotangents(out, rng):
        scaled = back(ct)
        plain = _without_scaled_rules(lambda ct=ct: cr.vjp(f, *args)[1](ct))
        for a, b in zip(scaled, plain, strict=True):
            onp.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_scaled_rules_exist():
    assert {"neg", "sub", "mul", "div", "pow", "getitem"} <= set(SCALED)


@pytest.mark.parametrize("name", SCALED)
def test_scaled_rule_agrees_with_plain_rule_on_registry_cases(name):
    spec = SPECS[name]
    rng = onp.random.default_rng(7)
    for i, shapes in enumerate(spec.shapes):
        args = _args(spec, shapes, 100 + i)
        f = lambda *xs: spec.fn(*xs) * 2.5 - 1.0  # noqa: E731 — a scale before the rule
        _same_vjps(f, args, rng)


X = onp.random.default_rng(0).uniform(0.5, 2.0, (3, 4))
CONSTANT_OPERANDS = {
    "3x": lambda x: 3.0 * x,
    "x*3": lambda x: x * onp.float32(3.0),
    "x/4": lambda x: x / 4.0,
    "1-x": lambda x: 1.0 - x,
    "-x": lambda x: -x,
    "x^2": lambda x: x ** 2,
    "100(x^2-x)^2": lambda x: 100.0 * (x[:, 1:] - x[:, :-1] ** 2) ** 2 + (1.0 - x[:, :-1]) ** 2,
    "slices": lambda x: -x[1:] * 2.0 + x[:-1, ::2].sum() - x[0, 1] * 5.0,
    "shared": lambda x: (lambda y: y * 0.5 + y ** 2 - 2.0 * y)(4.0 * x),
    "zero": lambda x: 0.0 * np.sqrt(x - X) + x,  # 0·∞ at x = X: the zero must reach sqrt
}


@pytest.mark.parametrize("name", CONSTANT_OPERANDS)
def test_scaled_rules_with_constant_operands(name):
    _same_vjps(CONSTANT_OPERANDS[name], (X,), onp.random.default_rng(1))


def test_zero_scale_reaches_sqrt_as_zeros():
    g = cr.grad(lambda x: np.sum(0.0 * np.sqrt(x)) + np.sum(x))(onp.zeros(3))
    onp.testing.assert_array_equal(g, onp.ones(3))


def test_long_chain_scale_does_not_drift():
    """x ← x + 0.001·x·c for 5000 steps: each step meets numbers 1 and 0.001; the kept one
    must stay near 1, or the adjoint over/underflows (NaN)."""

    def f(x):
        for _ in range(5000):
            x = x + 0.001 * x * 0.5
        return np.sum(x)

    x = onp.linspace(-1.0, 1.0, 8)
    g = cr.grad(f)(x)
    onp.testing.assert_allclose(g, onp.full(8, 1.0005 ** 5000), rtol=1e-10)


def test_gradient_never_aliases_an_input_or_a_seed():
    x = onp.linspace(-1.0, 1.0, 5)
    g = cr.grad(lambda x: 0.5 * np.sum(x ** 2))(x)  # the rule's (x, 2·½) is x itself
    onp.testing.assert_array_equal(g, x)
    assert not onp.shares_memory(g, x)
    g += 1.0  # the caller owns its gradient
    onp.testing.assert_array_equal(x, onp.linspace(-1.0, 1.0, 5))
    seed = onp.ones(5)
    (ct,) = cr.vjp(lambda x: -x * 3.0, x)[1](seed)
    onp.testing.assert_array_equal(ct, -3.0 * seed)
    onp.testing.assert_array_equal(seed, onp.ones(5))


def test_float32_adjoints_stay_float32():
    x = X.astype(onp.float32)
    g = cr.grad(lambda x: np.sum(100.0 * (1.0 - x) ** 2 - x / 3.0))(x)
    assert g.dtype == onp.float32
    onp.testing.assert_allclose(g, -200.0 * (1.0 - x) - 1.0 / 3.0, rtol=1e-5)


_STEPS = [
    lambda x, k: k * x,
    lambda x, k: x * k,
    lambda x, k: x / (k if k else 1.0),
    lambda x, k: k - x,
    lambda x, k: x - k,
    lambda x, k: -x,
    lambda x, k: x ** 2,
    lambda x, k: x + x[..., :1] * k,  # a slice broadcast back
    lambda x, k: np.sin(x) * k,
    lambda x, k: x * x[::-1],
    lambda x, k: np.sum(x, axis=-1, keepdims=True) * k + x,
    lambda x, k: np.concatenate([x[..., 1:], x[..., :1] * k], axis=-1),
]


@given(st.lists(st.tuples(st.integers(0, len(_STEPS) - 1),
                          st.sampled_from([0.0, -1.0, 2.0, 0.5, -3.25])),
                min_size=1, max_size=8),
       st.sampled_from([(3,), (2, 3), (4, 1)]), st.integers(0, 2**16))
@settings(max_examples=60, deadline=None)
def test_random_chains_agree_with_plain_rules(steps, shape, seed):
    """Chains of scalings, negations, squares, slices and shared values: the scaled sweep
    gives the plain sweep's adjoints, up to rounding (values kept moderate, so that
    rounding is not amplified by cancellation; numbers near 0 and ∞ are tested above)."""
    rng = onp.random.default_rng(seed)
    x = rng.uniform(-1.5, 1.5, shape)

    def f(x):
        for i, k in steps:
            x = _STEPS[i](x, k)
        return x

    out, back = cr.vjp(f, x)
    assume(onp.all(onp.abs(out) < 1e4))
    for ct in _cotangents(out, rng):
        (scaled,) = back(ct)
        (plain,) = _without_scaled_rules(lambda ct=ct: cr.vjp(f, x)[1](ct))
        size = max(1.0, float(onp.max(onp.abs(plain))))
        onp.testing.assert_allclose(scaled, plain, rtol=1e-9, atol=1e-9 * size)
