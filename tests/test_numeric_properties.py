"""Property-based tests of chainrule.numeric (hypothesis)."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st

from chainrule.numeric import derivative, fd_weights, gradient, jacobian
from chainrule.numeric.steps import EPS

coefficients = st.lists(
    st.floats(-10, 10, allow_nan=False, allow_infinity=False), min_size=1, max_size=9
)
points = st.floats(-2, 2, allow_nan=False, allow_infinity=False)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(-6, 6), min_size=2, max_size=7, unique=True).map(sorted),
    st.integers(1, 5),
)
def test_weights_solve_the_taylor_system(offsets, order):
    """For any distinct offsets the weights reproduce d! x^d / x^j moments exactly."""
    if len(offsets) <= order:
        return
    w = fd_weights(tuple(offsets), order)
    for j in range(len(offsets)):
        moment = sum(wk * Fraction(s) ** j for wk, s in zip(w, offsets, strict=True))
        assert moment == (math.factorial(order) if j == order else 0)


@settings(max_examples=80, deadline=None)
@given(coefficients, points, st.sampled_from([2, 4, 6]), st.integers(1, 3))
@example(coefs=[0.0, 5e-324], x=0.0, accuracy=2, order=1)  # f underflows
def test_central_stencil_is_exact_on_polynomials(coefs, x, accuracy, order):
    """A central stencil of accuracy p is exact (to rounding) for polynomials of degree
    <= p + d - 1 (+1 by symmetry), whatever the step: no truncation error at all."""
    degree = accuracy + order - 1
    p = np.polynomial.Polynomial(coefs[: degree + 1])
    h = 0.5
    got = derivative(p, x, order=order, step=h, stencil=accuracy)
    want = p.deriv(order)(x)
    # round-off only: |f| values (<= sum |c| 2.5^k) times sum |w| / h^d, a few ulps each
    scale = sum(abs(c) for c in coefs) * 2.5 ** len(coefs)
    # ... and values below the normal range lose bits to underflow (coefs = [0, 5e-324])
    tiny = np.finfo(float).tiny
    assert abs(got - want) <= 1e3 * (EPS * scale + tiny) / h**order


@settings(max_examples=80, deadline=None)
@given(coefficients, points, st.floats(1e-4, 1e-1))
def test_forward_backward_average_is_central(coefs, x, h):
    p = np.polynomial.Polynomial(coefs)
    fwd = derivative(p, x, method="forward", step=h)
    bwd = derivative(p, x, method="backward", step=h)
    cen = derivative(p, x, method="central", step=h)
    size = max(abs(p(x + h)), abs(p(x)), abs(p(x - h)), 1e-300)
    assert abs((fwd + bwd) / 2 - cen) <= 8 * EPS * size / h


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.floats(-1.5, 1.5), min_size=1, max_size=5),
    # (|a| > 1e-3: below ~1e-288 the imaginary part h f' underflows at h = 1e-20)
    st.lists(st.one_of(st.just(0.0), st.floats(1e-3, 1), st.floats(-1, -1e-3)),
             min_size=5, max_size=5),
)
def test_complex_gradient_matches_analytic_and_jacobian(x, a):
    """The complex-step gradient of sum a_i sin(x_i) exp(x_i) is exact to a few ulps,
    and equals the one-row Jacobian."""
    x = np.array(x)
    a = np.array(a[: x.size])
    f = lambda y: np.sum(a * np.sin(y) * np.exp(y))
    want = a * np.exp(x) * (np.cos(x) + np.sin(x))
    g = gradient(f, x, method="complex")
    assert np.all(np.abs(g - want) <= 8 * EPS * np.maximum(np.abs(want), np.exp(x) * np.abs(a)))
    assert np.array_equal(jacobian(f, x, method="complex"), g)


@settings(max_examples=40, deadline=None)
@given(points, st.floats(0.2, 3.0))
def test_richardson_error_estimate_on_random_exponentials(x, a):
    r = derivative(lambda t: np.exp(a * t), x, method="richardson", full_output=True)
    want = a * np.exp(a * x)
    assert abs(r.value - want) <= 1e-12 * max(abs(want), 1.0)
    assert r.error <= 1e-10 * max(abs(want), 1.0)
