"""The NaN check inside the rules (zero_safe): the fast one agrees with numpy.isnan."""

import numpy as onp
from hypothesis import given, settings
from hypothesis import strategies as st

from chainrule.numpy._elementwise import _has_nan, _has_nan_plain

SPECIAL = [onp.nan, onp.inf, -onp.inf, 0.0, -0.0, 1e308, -1e308, 5e-324]


@settings(max_examples=300, deadline=None)
@given(size=st.sampled_from([0, 1, 2, 10, 256, 257, 1000, 5000]),
       dtype=st.sampled_from([onp.float64, onp.float32, onp.float16, onp.complex128,
                              onp.complex64, onp.int64, onp.bool_]),
       specials=st.lists(st.tuples(st.integers(0, 10**6), st.sampled_from(SPECIAL),
                                   st.booleans()), max_size=4),
       view=st.sampled_from(["flat", "strided", "2d"]), seed=st.integers(0, 2**16))
def test_the_fast_nan_check_agrees_with_isnan(size, dtype, specials, view, seed):
    rng = onp.random.default_rng(seed)
    a = rng.standard_normal(2 * size) * 10
    if onp.dtype(dtype).kind == "c":
        a = a + 1j * rng.standard_normal(2 * size)
    for i, v, imaginary in specials:
        if size:
            a[i % (2 * size)] = v * 1j if imaginary and onp.iscomplexobj(a) else v
    with onp.errstate(invalid="ignore", over="ignore"):
        a = a.astype(dtype)
    r = {"flat": a[:size], "strided": a[::2], "2d": a[:size - size % 2].reshape(-1, 2)}[view]
    fast, plain = _has_nan(r), _has_nan_plain(r)
    assert plain is bool(onp.isnan(r).any()) if r.dtype.kind in "fc" else plain is False
    if r.dtype.kind == "c" and onp.isinf(r).any():  # Σ|r|² of a complex ∞ is NaN: the
        assert fast or not plain                     # exact path runs, never the reverse
    else:
        assert fast is plain


def test_numbers_and_numpy_scalars():
    assert _has_nan(float("nan")) and not _has_nan(1.5)
    assert _has_nan(onp.float64("nan")) and not _has_nan(onp.float32(2.0))
    assert not _has_nan(3) and not _has_nan("x")
