"""Memory: caches die with what they cache (no growth over many calls of loops whose
bodies close over arrays), jit's per-function cache is bounded and warns when a function
is recompiled too often, and ``checkpoint`` saves memory (peak measured by tracemalloc)."""

from __future__ import annotations

import gc
import linecache
import tracemalloc
import warnings

import numpy

import chainrule as cr
import chainrule.numpy as np

MiB = 2 ** 20


def _growth(fn, calls: int) -> float:
    """Bytes still allocated after ``calls`` calls of ``fn(k)`` (after two warm-ups)."""
    fn(-1)
    fn(-2)
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        for k in range(calls):
            fn(k)
        gc.collect()
        return tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()


def _grad_of_loop_closing_over_a_fresh_array(k):
    big = numpy.full(131072, 1.0 + k)  # 1 MiB, a constant of the staged body

    def body(i, c):
        return c * 0.5 + big * 1e-3

    g = cr.grad(lambda x: np.sum(cr.fori_loop(0, 3, body, x)))(numpy.ones(131072))
    assert g[0] == 0.125  # d/dx of x/8 + const


def test_loop_gradients_closing_over_arrays_do_not_keep_them():
    """Each call stages a new body whose constant is a new 1 MiB array; the compiled and
    derived-program caches used to keep every one (about 1 MiB per call)."""
    growth = _growth(_grad_of_loop_closing_over_a_fresh_array, 20)
    assert growth < 2 * MiB, f"{growth / MiB:.1f} MiB kept after 20 calls"


def _vmap_of_loop_closing_over_a_fresh_array(k):
    big = numpy.full(65536, 1.0 + k)  # 0.5 MiB

    def body(i, c):
        return c * 0.5 + big * 1e-3

    out = cr.vmap(lambda x: cr.fori_loop(0, 2, body, x))(numpy.ones((2, 65536)))
    numpy.testing.assert_allclose(out[1, :2], 0.25 + 1.5e-3 * (1.0 + k), rtol=1e-12)


def test_vmap_of_loops_closing_over_arrays_do_not_keep_them():
    growth = _growth(_vmap_of_loop_closing_over_a_fresh_array, 20)
    assert growth < 2 * MiB, f"{growth / MiB:.1f} MiB kept after 20 calls"


def _small_loop_gradient(k):
    assert cr.grad(lambda x: cr.fori_loop(0, 3, lambda i, c: c * 0.5 + 1e-3, x))(1.0) == 0.125


def test_many_small_loop_gradients_do_not_accumulate_programs_or_source():
    """Without any captured array a call used to leave ~11 KB behind (cached programs and
    their generated source in linecache)."""
    growth = _growth(_small_loop_gradient, 100)
    assert growth < 256 * 1024, f"{growth / 1024:.0f} KiB kept after 100 calls"
    gc.collect()
    generated = [k for k in linecache.cache if k.startswith("<chainrule-jit")]
    assert len(generated) < 400, len(generated)


def test_jit_cache_is_bounded_per_function_and_warns_on_recompiling():
    f = cr.jit(lambda x: np.sum(x * x))
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        for n in range(1, 101):
            assert f(numpy.ones(n)) == n
    assert len(f.cache) == f.max_cache_size == 64
    assert f.misses == 100
    recompiles = [w for w in seen if "has been compiled 32 times" in str(w.message)]
    assert len(recompiles) == 1 and issubclass(recompiles[0].category, RuntimeWarning)
    assert "argument leaf 0 changed from an array of shape (31,)" in str(recompiles[0].message)
    assert f(numpy.ones(100)) == 100 and f.misses == 100  # recent shapes are still cached
    assert f(numpy.ones(1)) == 1 and f.misses == 101  # the oldest was dropped


def test_a_function_compiled_a_few_times_does_not_warn():
    f = cr.jit(lambda x: x + 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for n in range(8):
            numpy.testing.assert_array_equal(f(numpy.zeros(n + 1)), numpy.ones(n + 1))
    assert f.misses == 8


# --- checkpoint --------------------------------------------------------------------------

def _step(x):
    return x + 0.001 * np.sin(x) * np.cos(2.0 * x)


def _peak(fn, x):
    gc.collect()
    tracemalloc.start()
    try:
        out = fn(x)
        return out, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_checkpointing_every_step_uses_less_memory_than_none():
    """A newcomer checkpoints each step of a loop: the tape then keeps one array per step
    (the step's input, which is the previous step's output) instead of the step's
    intermediates (four arrays here). It used to keep about four arrays per call (a zero
    array per output, the forward result twice, the cotangent after the sweep)."""
    steps, x = 100, numpy.linspace(-1.0, 1.0, 8192)
    checkpointed = cr.checkpoint(_step)

    def loop(step):
        def f(x):
            for _ in range(steps):
                x = step(x)
            return np.sum(x)
        return cr.grad(f)

    plain, p_plain = _peak(loop(_step), x)
    ckpt, p_ckpt = _peak(loop(checkpointed), x)
    numpy.testing.assert_array_equal(plain, ckpt)
    per_step_plain = p_plain / steps / x.nbytes
    per_step_ckpt = p_ckpt / steps / x.nbytes
    assert per_step_ckpt < 1.3 and per_step_ckpt < per_step_plain / 2.5, (
        per_step_plain, per_step_ckpt)


def test_checkpoint_with_several_inputs_and_outputs_keeps_its_derivatives():
    def block(x, y):
        return {"s": np.sin(x) * y, "c": np.cos(y) + x * x}

    ck = cr.checkpoint(block)

    def f(block_fn):
        def g(x, y):
            for _ in range(3):
                out = block_fn(x, y)
                x, y = out["s"], out["c"]
            return np.sum(x * y)
        return g

    x, y = numpy.array([0.3, -0.7]), numpy.array([1.1, 0.4])
    for a, b in zip(cr.grad(f(block), argnums=(0, 1))(x, y),
                    cr.grad(f(ck), argnums=(0, 1))(x, y)):
        numpy.testing.assert_allclose(b, a, rtol=1e-13, atol=1e-15)
    v = (numpy.array([1.0, 0.5]), numpy.array([-0.2, 0.3]))
    numpy.testing.assert_allclose(cr.jvp(f(ck), (x, y), v)[1], cr.jvp(f(block), (x, y), v)[1],
                                  rtol=1e-13)
    h_plain = cr.hessian(lambda x: f(block)(x, y))(x)
    numpy.testing.assert_allclose(cr.hessian(lambda x: f(ck)(x, y))(x), h_plain, rtol=1e-12,
                                  atol=1e-14)
    numpy.testing.assert_allclose(cr.jit(cr.grad(f(ck)))(x, y), cr.grad(f(block))(x, y),
                                  rtol=1e-13)
