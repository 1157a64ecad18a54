"""checkpoint(f): same derivatives, less memory (recompute in the backward pass)."""

import tracemalloc

import numpy as onp

import chainrule as cr
import chainrule.numpy as np


def _step(x):
    return x + 0.001 * np.sin(x) * np.cos(2.0 * x)


def _loop(x, n):
    for _ in range(n):
        x = _step(x)
    return x


def _blocks(x, n, k):
    block = cr.checkpoint(lambda x: _loop(x, k))
    for _ in range(n // k):
        x = block(x)
    return x


def _peak(fn, x):
    tracemalloc.start()
    try:
        g = fn(x)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return g, peak


def test_checkpointed_loop_same_gradient_third_of_the_memory():
    n, k = 10_000, 100  # √n blocks of √n steps
    x = onp.linspace(-1.0, 1.0, 256)
    plain, p_plain = _peak(cr.grad(lambda x: np.sum(_loop(x, n))), x)
    ckpt, p_ckpt = _peak(cr.grad(lambda x: np.sum(_blocks(x, n, k))), x)
    onp.testing.assert_array_equal(plain, ckpt)
    assert p_ckpt <= p_plain / 3, (p_ckpt, p_plain)


def test_checkpoint_in_every_mode():
    f = cr.checkpoint(lambda x, y: np.sin(x) * y + x * x)
    cr.check_grads(lambda x, y: np.sum(f(f(x, y), y)), (onp.array([0.3, 1.0]), 0.7), order=2)
    assert f(1.0, 2.0) == onp.sin(1.0) * 2.0 + 1.0
