"""Stateful optimisers (optax's shape): each update rule against a plain NumPy reading of
its formula, schedules against closed forms, clipping, pytrees, and a training step under
``jit`` giving the same numbers as the eager step."""

import math

import numpy as onp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import chainrule as cr
import chainrule.numpy as np
from chainrule.optimize import (
    adam,
    adamw,
    apply_updates,
    chain,
    clip,
    clip_by_global_norm,
    cosine_decay,
    exponential_decay,
    linear_schedule,
    momentum,
    piecewise_constant,
    rmsprop,
    sgd,
    warmup_cosine_decay,
)

RNG = onp.random.default_rng(3)
GRADS = [RNG.normal(size=4) for _ in range(6)]
THETA = RNG.normal(size=4)


def run(opt, grads=GRADS, params=THETA):
    state = opt.init(params)
    p = params
    for g in grads:
        u, state = opt.update(g, state, p)
        p = apply_updates(p, u)
    return p


def reference(kind, lr=0.1, beta=0.9, b1=0.9, b2=0.999, eps=1e-8, rho=0.9, wd=0.0):
    """The update rules written out in NumPy, one loop each."""
    p = THETA.copy()
    m = onp.zeros(4)
    v = onp.zeros(4)
    for k, g in enumerate(GRADS, start=1):
        if kind == "sgd":
            p = p - lr * g
        elif kind == "heavy":
            m = beta * m + g
            p = p - lr * m
        elif kind == "nesterov":
            m = beta * m + g
            p = p - lr * (g + beta * m)
        elif kind == "rmsprop":
            v = rho * v + (1 - rho) * g**2
            p = p - lr * g / (onp.sqrt(v) + eps)
        elif kind == "adam":
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g**2
            p = p - lr * (m / (1 - b1**k)) / (onp.sqrt(v / (1 - b2**k)) + eps) - lr * wd * p
    return p


@pytest.mark.parametrize("opt, kind, kw", [
    (sgd(0.1), "sgd", {}),
    (momentum(0.1, beta=0.9), "heavy", {}),
    (sgd(0.1, momentum=0.9, nesterov=True), "nesterov", {}),
    (rmsprop(0.1, decay=0.9), "rmsprop", {}),
    (adam(0.1), "adam", {}),
    (adamw(0.1, weight_decay=0.05), "adam", {"wd": 0.05}),
])
def test_update_rules_match_their_formulas(opt, kind, kw):
    onp.testing.assert_allclose(run(opt), reference(kind, **kw), rtol=1e-13, atol=1e-15)


def test_adam_first_step_is_the_sign_of_the_gradient():
    g = onp.array([3.0, -0.001, 2e4])
    u, _ = adam(0.01).update(g, adam(0.01).init(onp.zeros(3)), onp.zeros(3))
    onp.testing.assert_allclose(u, -0.01 * onp.sign(g), rtol=1e-4)


def test_pytree_params_keep_their_structure_and_minimise():
    def loss(p):
        return np.sum((p["w"] - onp.array([1.0, 2.0])) ** 2) + np.sum((p["b"][0] + 1.0) ** 2)

    params = {"w": onp.zeros(2), "b": [onp.zeros(3)]}
    for opt in (adam(0.05), momentum(0.05), rmsprop(0.01), adamw(0.05, weight_decay=0.0),
                sgd(0.2)):
        p, state = params, opt.init(params)
        for _ in range(400):
            u, state = opt.update(cr.grad(loss)(p), state, p)
            p = apply_updates(p, u)
        assert set(p) == {"w", "b"} and isinstance(p["b"], list)
        onp.testing.assert_allclose(p["w"], [1.0, 2.0], atol=2e-2)
        onp.testing.assert_allclose(p["b"][0], -1.0, atol=2e-2)


def test_schedules_closed_forms():
    assert float(exponential_decay(1.0, 0.5, 4)(6)) == pytest.approx(0.5 ** 1.5)
    assert float(exponential_decay(1.0, 0.5, 4, staircase=True)(6)) == pytest.approx(0.5)
    assert float(cosine_decay(2.0, 10, alpha=0.1)(5)) == pytest.approx(2.0 * (0.9 * 0.5 + 0.1))
    assert float(cosine_decay(2.0, 10)(30)) == pytest.approx(0.0, abs=1e-15)
    assert float(linear_schedule(1.0, 0.0, 4)(1)) == pytest.approx(0.75)
    w = warmup_cosine_decay(0.1, 1.0, 4, 14, end_value=0.2)
    assert float(w(2)) == pytest.approx(0.55)
    assert float(w(9)) == pytest.approx(0.2 + 0.8 * 0.5 * (1 + math.cos(math.pi * 0.5)))
    pc = piecewise_constant(1.0, {3: 0.5, 6: 0.1})
    assert [float(pc(k)) for k in (0, 3, 5, 6, 9)] == pytest.approx([1, 0.5, 0.5, 0.05, 0.05])


def test_schedule_drives_the_step_size():
    s = exponential_decay(0.1, 0.5, 1)
    p = run(sgd(s), grads=[onp.ones(4)] * 3)
    onp.testing.assert_allclose(p, THETA - (0.05 + 0.025 + 0.0125))


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(-50, 50), min_size=1, max_size=6), st.floats(0.1, 10))
def test_clip_by_global_norm_caps_the_norm_and_keeps_the_direction(values, max_norm):
    g = {"a": onp.array(values), "b": onp.array([1.5])}
    out, _ = clip_by_global_norm(max_norm).update(g, (), None)
    norm = math.sqrt(sum(v * v for v in values) + 2.25)
    scale = min(1.0, max_norm / norm)
    onp.testing.assert_allclose(out["a"], onp.array(values) * scale, rtol=1e-12)
    onp.testing.assert_allclose(out["b"], [1.5 * scale], rtol=1e-12)


def test_clip_and_chain():
    g = onp.array([-5.0, 0.3, 7.0])
    opt = chain(clip(1.0), sgd(0.5))
    u, _ = opt.update(g, opt.init(g), g)
    onp.testing.assert_allclose(u, [0.5, -0.15, -0.5])


def test_training_step_under_jit_matches_eager():
    rng = onp.random.default_rng(0)
    x, y = rng.normal(size=(16, 3)), rng.normal(size=16)
    params = {"w": rng.normal(size=(3, 4)), "v": rng.normal(size=4)}

    def loss(p, x, y):
        return np.mean((np.tanh(x @ p["w"]) @ p["v"] - y) ** 2)

    opt = chain(clip_by_global_norm(0.5), adamw(warmup_cosine_decay(0.0, 0.05, 3, 20)))

    def step(p, s, x, y):
        value, g = cr.value_and_grad(loss)(p, x, y)
        u, s = opt.update(g, s, p)
        return apply_updates(p, u), s, value

    fast = cr.jit(step)
    p1 = p2 = params
    s1 = s2 = opt.init(params)
    for _ in range(8):
        p1, s1, l1 = step(p1, s1, x, y)
        p2, s2, l2 = fast(p2, s2, x, y)
    assert fast.misses <= 2  # traced once per input signature, not per step
    assert float(l1) == pytest.approx(float(l2), rel=1e-13)
    for k in p1:
        onp.testing.assert_allclose(p1[k], p2[k], rtol=1e-12)


@pytest.mark.parametrize("make, match", [
    (lambda: adam(-1.0), "learning_rate must be positive"),
    (lambda: adam("fast"), "learning_rate must be a number or a schedule"),
    (lambda: sgd(0.1, momentum=1.5), "momentum must lie in"),
    (lambda: clip_by_global_norm(0.0), "max_norm must be positive"),
    (lambda: chain(adam(0.1), "sgd"), "argument 1 must be an optimiser"),
])
def test_bad_arguments_are_named(make, match):
    with pytest.raises((ValueError, TypeError), match=match):
        make()


def test_mismatched_gradients_and_missing_params_are_explained():
    opt = adamw(0.1)
    state = opt.init({"a": onp.zeros(2), "b": onp.zeros(2)})
    with pytest.raises(ValueError, match="grads have 1 leaves"):
        opt.update({"a": onp.zeros(2)}, state, None)
    with pytest.raises(ValueError, match="weight decay needs the parameters"):
        opt.update({"a": onp.zeros(2), "b": onp.zeros(2)}, state)


@pytest.mark.parametrize("make", [
    lambda: sgd(0.1), lambda: sgd(exponential_decay(0.1, 0.5, 10), momentum=0.9, nesterov=True),
    lambda: adam(0.1), lambda: adamw(0.1, weight_decay=0.01),
    lambda: rmsprop(cosine_decay(0.1, 10), momentum=0.9),
    lambda: chain(clip_by_global_norm(0.1), adam(0.1)),
])
def test_float32_parameters_stay_float32(make):
    params = {"w": onp.ones(3, onp.float32), "b": onp.float32(0.5) * onp.ones((), onp.float32)}
    grads = {"w": onp.full(3, 0.25, onp.float32), "b": onp.ones((), onp.float32)}
    opt = make()
    state = opt.init(params)
    for _ in range(2):
        updates, state = opt.update(grads, state, params)
        params = apply_updates(params, updates)
    assert {k: v.dtype for k, v in params.items()} == {"w": onp.float32, "b": onp.float32}
    assert onp.all(params["w"] < 1.0)


def test_apply_updates_keeps_each_parameters_dtype():
    params = {"w": onp.ones(2, onp.float32), "v": onp.ones(2)}
    updates = {"w": onp.array([0.5, 0.25]), "v": onp.array([0.5, 0.25], onp.float32)}
    new = apply_updates(params, updates)
    assert new["w"].dtype == onp.float32 and new["v"].dtype == onp.float64
    onp.testing.assert_array_equal(new["w"], [1.5, 1.25])
