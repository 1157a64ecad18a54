"""The NaN check inside the rules (zero_safe): the fast one agrees with numpy.isnan."""

import numpy as onp
from hypothesis import given, settings
from hypothesis import strategies as st

from chainrule.core.nan_checks import has_nan as _has_nan
from chainrule.core.nan_checks import has_nan_plain as _has_nan_plain

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


# A sweep over plain arrays defers the rules' NaN checks to its end ---------------------------

import math  # noqa: E402

import pytest  # noqa: E402

import chainrule as cr  # noqa: E402
import chainrule.numpy as np  # noqa: E402
from chainrule.transforms import autodiff  # noqa: E402
from chainrule.interpreters import reverse  # noqa: E402

X = onp.array([-1.0, 0.0, 0.0, 0.25, 4.0])

EDGES = {
    # the untaken branch's partial is ∞ or NaN at 0 and below: the adjoint there is 0
    "sqrt under where": (lambda x: np.sum(np.where(x > 0, np.sqrt(np.abs(x)), 0.0)),
                         [0.0, 0.0, 0.0, 1.0, 0.25]),
    "log under where": (lambda x: np.sum(np.where(x > 0, np.log(np.abs(x) + (x == 0)), x)),
                        [1.0, 1.0, 1.0, 4.0, 0.25]),
    # a NaN that reaches the adjoint: d√x/dx at -1 is NaN (√ of a negative number)
    "sqrt of a negative": (lambda x: np.sum(np.sqrt(x)), [math.nan, math.inf, math.inf, 1.0,
                                                          0.25]),
    # 0·∞ made at x = 0 by √'s rule, then dropped by the inner where's adjoint
    "dropped": (lambda x: np.sum(np.where(x > 0, np.sqrt(np.where(x > 0, x, 0.0)), 0.0)),
                [0.0, 0.0, 0.0, 1.0, 0.25]),
    # no NaN anywhere: an MLP-like chain
    "smooth": (lambda x: np.sum(np.tanh(x * 2.0) ** 2 + np.exp(-x * x)), None),
}


@pytest.mark.parametrize("name", list(EDGES))
def test_a_deferred_sweep_gives_the_plain_sweeps_numbers(name, monkeypatch):
    f, want = EDGES[name]
    with onp.errstate(all="ignore"):
        fast = cr.grad(f)(X)
        monkeypatch.setattr(autodiff, "plain_value", lambda x: False)
        plain = cr.grad(f)(X)
    onp.testing.assert_array_equal(fast, plain)
    if want is not None:
        onp.testing.assert_array_equal(fast, want)
    else:  # central differences
        h = 1e-6
        fd = [(f(X + h * e) - f(X - h * e)) / (2 * h) for e in onp.eye(len(X))]
        onp.testing.assert_allclose(fast, fd, rtol=1e-6, atol=1e-8)


def test_the_second_sweep_runs_only_when_an_adjoint_holds_a_nan(monkeypatch):
    sweeps, deferrals = [], []
    plain_sweep, defer = reverse.sweep, reverse.nan_checks.defer
    monkeypatch.setattr(reverse, "sweep", lambda *a: sweeps.append(1) or plain_sweep(*a))
    monkeypatch.setattr(reverse.nan_checks, "defer", lambda: deferrals.append(1) or defer())
    for name, n_sweeps in [("smooth", 1), ("dropped", 1), ("sqrt under where", 2)]:
        sweeps.clear()
        cr.grad(EDGES[name][0])(X)
        assert len(sweeps) == n_sweeps, name  # the NaN of 0·∞ reaches x̄ through |x|'
    deferrals.clear()
    cr.hessian(EDGES["sqrt under where"][0])(X)  # sweeps over traced values
    cr.jit(cr.grad(EDGES["smooth"][0]))(X)
    cr.vmap(cr.grad(EDGES["smooth"][0]))(onp.stack([X, X]))
    assert deferrals == []
    _, pullback = cr.vjp(EDGES["smooth"][0], X)
    pullback(1.0)
    assert deferrals == [1]
