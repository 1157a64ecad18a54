"""Tests of chainrule.numeric: accuracy targets, API shapes, error messages.

Accuracy is measured on randomized sets with fixed seeds. "Relative" error here is
``|error| / max(|f'(x)|, 1)``: the functions have derivatives of moderate scale, and a
pure relative error is meaningless where ``f'(x)`` crosses zero.
"""

from __future__ import annotations

import doctest
import math

import numpy as np
import pytest

import chainrule.numeric as cn
from chainrule.numeric import (
    DerivativeResult,
    derivative,
    directional,
    fd_weights,
    gradient,
    hessian,
    hvp,
    jacobian,
    stencil,
)

# --------------------------------------------------------------------------- test sets


def smooth_cases(n: int, seed: int):
    """(f, f', x) triples: exp, sin*cos, polynomials, log and sqrt on (0.5, 5), ..."""
    rng = np.random.default_rng(seed)
    cases = []
    for i in range(n):
        k = i % 8
        if k == 0:
            a, x = rng.uniform(-2, 2), rng.uniform(-2, 2)
            cases.append((lambda t, a=a: np.exp(a * t), lambda t, a=a: a * np.exp(a * t), x))
        elif k == 1:
            a, x = rng.uniform(0.5, 3), rng.uniform(-3, 3)
            cases.append((
                lambda t, a=a: np.sin(a * t) * np.cos(t),
                lambda t, a=a: a * np.cos(a * t) * np.cos(t) - np.sin(a * t) * np.sin(t),
                x,
            ))
        elif k == 2:
            p = np.polynomial.Polynomial(rng.normal(size=6))
            cases.append((p, p.deriv(), rng.uniform(-2, 2)))
        elif k == 3:
            cases.append((np.log, lambda t: 1 / t, rng.uniform(0.5, 5)))
        elif k == 4:
            cases.append((
                lambda t: 1 / (1 + t * t), lambda t: -2 * t / (1 + t * t) ** 2,
                rng.uniform(-3, 3),
            ))
        elif k == 5:
            cases.append((np.tanh, lambda t: 1 - np.tanh(t) ** 2, rng.uniform(-3, 3)))
        elif k == 6:
            cases.append((np.sqrt, lambda t: 0.5 / np.sqrt(t), rng.uniform(0.5, 5)))
        else:
            cases.append((
                lambda t: t * np.exp(-t * t / 10),
                lambda t: np.exp(-t * t / 10) * (1 - t * t / 5),
                rng.uniform(-10, 10),
            ))
    return cases


CASES = smooth_cases(240, seed=20240601)


def rel(err, true):
    return np.max(np.abs(err) / np.maximum(np.abs(true), 1.0))


def rosen(x):
    return np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


def rosen_grad(x):
    g = np.zeros_like(x)
    g[:-1] += -400 * x[:-1] * (x[1:] - x[:-1] ** 2) - 2 * (1 - x[:-1])
    g[1:] += 200 * (x[1:] - x[:-1] ** 2)
    return g


def rosen_hess(x):
    n = len(x)
    H = np.zeros((n, n))
    for i in range(n - 1):
        H[i, i] += 1200 * x[i] ** 2 - 400 * x[i + 1] + 2
        H[i, i + 1] += -400 * x[i]
        H[i + 1, i] += -400 * x[i]
        H[i + 1, i + 1] += 200
    return H


def griewank(x):
    x1, x2 = x[0], x[1]
    return (np.sin(x1 / x2) + x1 / x2 - np.exp(x2)) * (x1 / x2 - np.exp(x2))


# --------------------------------------------------------------------------- stencils


def test_stencil_weights_known_values():
    assert [str(w) for w in fd_weights((-1, 0, 1), 1)] == ["-1/2", "0", "1/2"]
    assert [str(w) for w in fd_weights((-1, 0, 1), 2)] == ["1", "-2", "1"]
    assert [str(w) for w in fd_weights((-2, -1, 0, 1, 2), 1)] == [
        "1/12", "-2/3", "0", "2/3", "-1/12"]
    assert [str(w) for w in fd_weights((-3, -2, -1, 0, 1, 2, 3), 1)] == [
        "-1/60", "3/20", "-3/4", "0", "3/4", "-3/20", "1/60"]
    assert [str(w) for w in fd_weights((0, 1, 2), 1)] == ["-3/2", "2", "-1/2"]
    assert [str(w) for w in fd_weights((-2, -1, 0, 1, 2), 4)] == ["1", "-4", "6", "-4", "1"]


def test_stencil_drops_zero_weights_and_sizes():
    s = stencil("central", 1, 2)
    assert s.offsets.tolist() == [-1.0, 1.0] and s.npoints == 2
    assert stencil("central", 2, 2).npoints == 3
    assert stencil("central", 3, 2).offsets.tolist() == [-2.0, -1.0, 1.0, 2.0]
    assert stencil("central", 1, 4).npoints == 4
    assert stencil("forward", 1, 1).offsets.tolist() == [0.0, 1.0]
    assert stencil("backward", 1, 1).weights.tolist() == [1.0, -1.0]
    assert stencil("backward", 2, 1).npoints == 3
    with pytest.raises(ValueError, match="writable|read-only"):
        s.weights[0] = 3.0


@pytest.mark.parametrize("order,accuracy", [(1, 2), (2, 4), (3, 6), (6, 8), (9, 4)])
def test_stencil_taylor_conditions_high_order(order, accuracy):
    """The weights satisfy the Taylor system exactly, at any order."""
    offs = tuple(range(-((order - 1) // 2 + accuracy // 2), (order - 1) // 2 + accuracy // 2 + 1))
    w = fd_weights(offs, order)
    for j in range(len(offs)):
        moment = sum(wk * s**j for wk, s in zip(w, offs, strict=True))
        assert moment == (math.factorial(order) if j == order else 0)


def test_stencil_bad_arguments():
    with pytest.raises(ValueError, match="at least 3 offsets"):
        fd_weights((0, 1), 2)
    with pytest.raises(ValueError, match="distinct"):
        fd_weights((0, 1, 1), 1)
    with pytest.raises(ValueError, match="even accuracy"):
        stencil("central", 1, 3)


# --------------------------------------------------------------------------- derivative


def test_central_default_step_accuracy():
    errors = [rel(derivative(f, x) - df(x), df(x)) for f, df, x in CASES]
    assert max(errors) <= 1e-9, max(errors)


def test_complex_step_accuracy():
    errors = [rel(derivative(f, x, method="complex") - df(x), df(x)) for f, df, x in CASES]
    assert max(errors) <= 1e-14, max(errors)


def test_richardson_accuracy_and_error_estimate_coverage():
    errors, covered, nfev = [], 0, []
    for f, df, x in CASES:
        r = derivative(f, x, method="richardson", full_output=True)
        err = abs(r.value - df(x))
        errors.append(rel(err, df(x)))
        covered += err <= r.error
        nfev.append(r.nfev)
    coverage = covered / len(CASES)
    assert max(errors) <= 1e-12, max(errors)
    assert coverage >= 0.95, coverage
    assert max(nfev) <= 16


def test_central_error_estimate_is_honest():
    covered, ratio = 0, []
    for f, df, x in CASES:
        r = derivative(f, x, full_output=True)
        err = abs(r.value - df(x))
        covered += err <= r.error
        ratio.append(r.error / max(err, 1e-16))
    assert covered / len(CASES) >= 0.9
    assert np.median(ratio) < 1e3  # bounds, but not absurdly loose


def test_one_sided_default_step_accuracy():
    for method in ("forward", "backward"):
        errors = [rel(derivative(f, x, method=method) - df(x), df(x)) for f, df, x in CASES]
        assert 1e-10 < max(errors) <= 1e-6, (method, max(errors))


@pytest.mark.parametrize("method", ["forward", "backward", "central"])
def test_higher_accuracy_stencils_are_more_accurate(method):
    acc = (2, 4) if method == "central" else (1, 3)
    errors = [
        [rel(derivative(f, x, method=method, stencil=p) - df(x), df(x)) for f, df, x in CASES]
        for p in acc
    ]
    # the step rule scales with max(1, |x|), not with f's own scale: on sin(a x) cos(x)
    # at |x| ~ 3 the higher-order step is too large, so the worst case gains less
    assert np.median(errors[1]) < np.median(errors[0]) / 20
    assert max(errors[1]) < max(errors[0])
    assert np.median(errors[1]) < (1e-12 if method == "central" else 1e-9)


@pytest.mark.parametrize(
    "method,order,tol",
    [
        ("central", 2, 1e-7), ("central", 3, 1e-5), ("central", 4, 1e-3),
        ("richardson", 2, 1e-10), ("richardson", 3, 1e-8), ("richardson", 4, 1e-7),
        ("complex", 2, 1e-11), ("forward", 2, 1e-3),
    ],
)
def test_higher_order_derivatives_of_exp_and_sin(method, order, tol):
    rng = np.random.default_rng(order)
    sin_derivs = [np.sin, np.cos, lambda t: -np.sin(t), lambda t: -np.cos(t)]
    for x in rng.uniform(-2, 2, 10):
        got = derivative(np.exp, x, order=order, method=method)
        assert rel(got - np.exp(x), np.exp(x)) <= tol
        got = derivative(np.sin, x, order=order, method=method)
        assert rel(got - sin_derivs[order % 4](x), 1.0) <= tol


def test_higher_order_with_stencil_four():
    for x in np.linspace(-1.5, 1.5, 7):
        assert abs(derivative(np.exp, x, order=2, stencil=4) - np.exp(x)) <= 1e-9 * np.exp(x)
        assert abs(derivative(np.sin, x, order=3, stencil=4) + np.cos(x)) <= 1e-7


def test_complex_second_derivative_beats_real_central():
    x = 0.7
    c = abs(derivative(np.exp, x, order=2, method="complex") - np.exp(x))
    r = abs(derivative(np.exp, x, order=2) - np.exp(x))
    assert c < r / 100


def test_array_output_elementwise():
    f = lambda t: np.array([np.sin(t), t**3, np.exp(2 * t)])
    x = 0.4
    want = np.array([np.cos(x), 3 * x**2, 2 * np.exp(2 * x)])
    for method in ("central", "complex", "richardson"):
        got = derivative(f, x, method=method)
        assert got.shape == (3,)
        assert rel(got - want, want) < 1e-9
    r = derivative(f, x, method="richardson", full_output=True)
    assert r.error.shape == (3,) and np.all(np.abs(r.value - want) <= r.error)


def test_full_output_fields_and_nfev():
    r = derivative(np.sin, 1.0, full_output=True)
    assert isinstance(r, DerivativeResult) and r.method == "central"
    assert isinstance(r.value, float) and r.error > 0
    assert r.step == pytest.approx(np.finfo(float).eps ** (1 / 3), rel=1e-3)
    assert r.nfev == 4  # x +- h and x +- 2h for the error estimate
    assert derivative(np.sin, 1.0, method="complex", full_output=True).nfev == 1
    assert derivative(np.sin, 1.0, method="forward", full_output=True).nfev == 3
    assert "DerivativeResult(value=0.540302" in repr(r)


def test_evaluation_counts_plain():
    calls = []

    def f(t):
        calls.append(t)
        return np.sin(t)

    derivative(f, 1.0)
    assert len(calls) == 2
    calls.clear()
    derivative(f, 1.0, order=2)
    assert len(calls) == 3
    calls.clear()
    derivative(f, 1.0, method="complex")
    assert len(calls) == 1 and isinstance(calls[0], complex)


def test_user_step_is_used_and_large_x():
    assert derivative(lambda t: t**2, 3.0, step=0.5) == pytest.approx(6.0, abs=1e-14)
    r = derivative(np.log, 1e8, full_output=True)
    assert r.step > 1e2  # relative step for large |x|
    assert abs(r.value - 1e-8) < 1e-16


def test_richardson_survives_leaving_the_domain():
    with np.errstate(invalid="ignore", divide="ignore"):
        r = derivative(np.log, 0.1, method="richardson", full_output=True)
    assert abs(r.value - 10.0) < 1e-9 and abs(r.value - 10.0) <= r.error


def test_scalar_input_types():
    for x in (1, 1.0, np.float32(1.0), np.array(1.0), [1.0]):
        assert derivative(np.exp, x, method="complex") == pytest.approx(np.e, rel=1e-15)
    assert derivative(math.exp, 1.0) == pytest.approx(np.e, rel=1e-9)


# --------------------------------------------------------------------------- gradient etc.


@pytest.mark.parametrize(
    "method,tol",
    [("forward", 1e-6), ("backward", 1e-6), ("central", 1e-9), ("complex", 1e-14),
     ("richardson", 1e-12)],
)
def test_gradient_rosenbrock(method, tol):
    rng = np.random.default_rng(7)
    for n in (2, 5, 10):
        x = rng.uniform(-2, 2, n)
        g = gradient(rosen, x, method=method)
        assert g.shape == (n,)
        assert np.max(np.abs(g - rosen_grad(x))) <= tol * np.max(np.abs(rosen_grad(x)))


def test_gradient_griewank_lecture_example():
    g = gradient(griewank, [1.5, 0.5], method="complex")
    assert g[0] == pytest.approx(3.0118, abs=1e-4) and g[1] == pytest.approx(-13.7239, abs=1e-4)
    for method in ("central", "richardson"):
        assert np.allclose(gradient(griewank, [1.5, 0.5], method=method), g, rtol=1e-9)


def test_gradient_matrix_shaped_input_and_full_output():
    A = np.arange(6.0).reshape(2, 3) / 5
    f = lambda X: np.sum(np.sin(X) * A)
    r = gradient(f, np.ones((2, 3)), full_output=True)
    assert r.value.shape == (2, 3) and r.error.shape == (2, 3) and r.step.shape == (2, 3)
    assert np.allclose(r.value, np.cos(1.0) * A, atol=1e-10)
    assert r.nfev == 4 * 6  # x +- h e_i, and x +- 2h e_i for the error estimate
    assert gradient(lambda x: x**3, 2.0) == pytest.approx(12.0, rel=1e-9)


def test_gradient_forward_shares_f_of_x():
    calls = []
    f = lambda x: calls.append(1) or np.sum(x**2)
    gradient(f, np.ones(4), method="forward")
    assert len(calls) == 5


def test_gradient_rejects_vector_output():
    with pytest.raises(ValueError, match="jacobian"):
        gradient(lambda x: x**2, [1.0, 2.0])


def tanh_net(x):
    W1 = np.array([[0.5, -0.3, 0.8], [0.1, 0.9, -0.4]])
    return np.tanh(W1 @ x + np.array([0.1, -0.2]))


def tanh_net_jac(x):
    W1 = np.array([[0.5, -0.3, 0.8], [0.1, 0.9, -0.4]])
    return (1 - tanh_net(x) ** 2)[:, None] * W1


@pytest.mark.parametrize("method", ["central", "complex", "richardson", "forward"])
def test_jacobian_vector_functions(method):
    tol = {"central": 1e-9, "complex": 1e-15, "richardson": 1e-12, "forward": 1e-7}[method]
    rng = np.random.default_rng(3)
    for _ in range(5):
        x = rng.normal(size=3)
        J = jacobian(tanh_net, x, method=method)
        assert J.shape == (2, 3)
        assert np.max(np.abs(J - tanh_net_jac(x))) <= tol


def test_jacobian_shapes():
    f = lambda X: np.stack([X * 2.0, X**2])  # (2, 2, 3) output from (2, 3) input
    X = np.arange(6.0).reshape(2, 3)
    J = jacobian(f, X, method="complex")
    assert J.shape == (2, 2, 3, 2, 3)
    eye = np.eye(6).reshape(2, 3, 2, 3)
    assert np.allclose(J[0], 2 * eye) and np.allclose(J[1], 2 * X[:, :, None, None] * eye)
    assert jacobian(np.sin, 0.3, method="complex").shape == ()
    assert jacobian(lambda x: np.sum(x), np.zeros((0,))).shape == (0,)


@pytest.mark.parametrize("method,nfev", [("complex", 1), ("central", 2), ("forward", 2)])
def test_jacobian_direction_product(method, nfev):
    rng = np.random.default_rng(11)
    x, v = rng.normal(size=3), rng.normal(size=3)
    calls = []
    f = lambda y: calls.append(1) or tanh_net(y)
    Jv = jacobian(f, x, method=method, direction=v)
    assert len(calls) == nfev and Jv.shape == (2,)
    tol = 1e-15 if method == "complex" else 1e-7 if method == "forward" else 1e-9
    assert np.max(np.abs(Jv - tanh_net_jac(x) @ v)) <= tol
    assert np.allclose(directional(tanh_net, x, v, method=method), Jv, rtol=1e-6)


def test_directional_scalar_and_zero_direction():
    x = np.array([0.3, -1.2, 2.0])
    v = np.array([1.0, 2.0, -0.5])
    d = directional(rosen, x, v, method="richardson", full_output=True)
    assert abs(d.value - rosen_grad(x) @ v) <= max(1e-11 * abs(d.value), d.error)
    assert isinstance(directional(rosen, x, v), float)
    assert directional(rosen, x, np.zeros(3)) == 0.0
    with pytest.raises(ValueError, match="shape"):
        directional(rosen, x, np.ones(2))


# --------------------------------------------------------------------------- hessian, hvp


@pytest.mark.parametrize(
    "method,tol",
    [("central", 1e-6), ("forward", 1e-4), ("backward", 1e-4), ("complex", 1e-9),
     ("richardson", 1e-11)],
)
def test_hessian_rosenbrock(method, tol):
    rng = np.random.default_rng(5)
    for _ in range(3):
        x = rng.uniform(-2, 2, 5)
        H = hessian(rosen, x, method=method)
        Ht = rosen_hess(x)
        assert H.shape == (5, 5) and np.array_equal(H, H.T)
        assert np.max(np.abs(H - Ht)) <= tol * np.max(np.abs(Ht))


@pytest.mark.parametrize("method,tol", [("central", 1e-9), ("complex", 1e-14), ("forward", 1e-6)])
def test_hessian_from_gradient(method, tol):
    x = np.random.default_rng(6).uniform(-2, 2, 5)
    calls = []
    g = lambda y: calls.append(1) or rosen_grad(y)
    H = hessian(None, x, method=method, grad=g)
    Ht = rosen_hess(x)
    assert np.max(np.abs(H - Ht)) <= tol * np.max(np.abs(Ht))
    assert len(calls) == {"central": 10, "complex": 5, "forward": 6}[method]


def test_hessian_shapes_and_counts():
    A = np.array([[2.0, 0.5, 0.0], [0.5, 1.0, -1.0], [0.0, -1.0, 3.0]])
    f = lambda X: 0.5 * X.ravel() @ A @ X.ravel()
    calls = []
    fc = lambda X: calls.append(1) or f(X)
    H = hessian(fc, np.ones((3, 1)))
    assert H.shape == (3, 1, 3, 1) and len(calls) == 2 * 9 + 1
    assert np.allclose(H.reshape(3, 3), A, atol=1e-6)
    assert hessian(lambda t: t**4, 1.0) == pytest.approx(12.0, rel=1e-6)


def test_hvp_rosenbrock():
    rng = np.random.default_rng(8)
    for _ in range(5):
        x, v = rng.uniform(-2, 2, 5), rng.normal(size=5)
        want = rosen_hess(x) @ v
        scale = np.max(np.abs(want))
        assert np.max(np.abs(hvp(rosen, x, v) - want)) <= 1e-6 * scale
        assert np.max(np.abs(hvp(None, x, v, grad=rosen_grad) - want)) <= 1e-9 * scale
    assert np.array_equal(hvp(rosen, x, np.zeros(5)), np.zeros(5))


def test_hvp_rejects_vector_output():
    with pytest.raises(ValueError, match=r"hvp\(\): f must return a scalar"):
        hvp(lambda x: x**2, [1.0, 2.0], [1.0, 0.0])


def test_hvp_counts():
    calls = []
    x, v = np.ones(4), np.arange(4.0)
    hvp(lambda y: calls.append(1) or rosen(y), x, v)
    assert len(calls) == 4 * 4
    calls.clear()
    hvp(None, x, v, grad=lambda y: calls.append(1) or rosen_grad(y))
    assert len(calls) == 2


# --------------------------------------------------------------------------- errors


def test_error_not_callable():
    with pytest.raises(TypeError, match="f must be a callable"):
        derivative(3.0, 1.0)
    with pytest.raises(TypeError, match="f must be a callable"):
        gradient(np.sin(1.0), [1.0])
    with pytest.raises(TypeError, match="grad must be a callable"):
        hessian(rosen, [1.0, 2.0], grad=1.0)


def test_error_unknown_method_lists_valid_ones():
    for fn in (lambda m: derivative(np.sin, 1.0, method=m),
               lambda m: gradient(rosen, [1.0, 2.0], method=m),
               lambda m: hessian(rosen, [1.0, 2.0], method=m)):
        with pytest.raises(ValueError, match="'forward', 'backward', 'central', 'complex', "
                                             "'richardson'; got 'centered'"):
            fn("centered")


def test_error_order():
    with pytest.raises(ValueError, match="order must be >= 1"):
        derivative(np.sin, 1.0, order=0)
    with pytest.raises(TypeError, match="positive integer"):
        derivative(np.sin, 1.0, order=1.5)
    with pytest.raises(ValueError, match="order 1 and 2 only.*richardson"):
        derivative(np.sin, 1.0, order=3, method="complex")


def test_error_bad_x():
    with pytest.raises(ValueError, match="x must be finite"):
        derivative(np.sin, np.nan)
    with pytest.raises(ValueError, match="finite everywhere.*1 non-finite"):
        gradient(rosen, [1.0, np.inf])
    with pytest.raises(ValueError, match="scalar.*gradient"):
        derivative(np.sin, [1.0, 2.0])
    with pytest.raises(TypeError, match="x must be real"):
        derivative(np.sin, 1j)
    with pytest.raises(TypeError, match="x must be a real number"):
        derivative(np.sin, "one")


def test_error_bad_step_and_stencil():
    with pytest.raises(ValueError, match="step must be positive"):
        derivative(np.sin, 1.0, step=-1e-3)
    with pytest.raises(ValueError, match="broadcast"):
        gradient(rosen, [1.0, 2.0, 3.0], step=[1e-3, 1e-3])
    with pytest.raises(ValueError, match="stencil=3 is odd.*stencil=4"):
        derivative(np.sin, 1.0, stencil=3)
    with pytest.raises(ValueError, match="stencil must be a positive integer"):
        derivative(np.sin, 1.0, method="forward", stencil=0)
    with pytest.raises(ValueError, match="not used by method='complex'"):
        derivative(np.sin, 1.0, method="complex", stencil=4)


def test_error_complex_step_needs_complex_f():
    with pytest.raises(TypeError, match="raised TypeError on complex input.*math"):
        derivative(math.sin, 1.0, method="complex")
    with pytest.raises(ValueError, match="real values.*imaginary part"):
        derivative(lambda t: np.abs(t) ** 2, 1.0, method="complex")
    with pytest.raises(TypeError, match="real values.*imaginary part"):  # both work
        hessian(lambda x: np.sum(np.abs(x)), [1.0, 2.0], method="complex")
    with pytest.raises(ValueError, match="discarded the imaginary part"):
        gradient(lambda x: np.sum(np.asarray(x, dtype=float) ** 2), [1.0, 2.0],
                 method="complex")


def test_error_f_returns_garbage():
    with pytest.raises(TypeError, match="f must return a number"):
        derivative(lambda t: "text", 1.0)


# --------------------------------------------------------------------------- docs


@pytest.mark.parametrize(
    "module", ["stencils", "steps", "richardson", "scalar", "multivariate", "second"]
)
def test_docstring_examples(module):
    mod = __import__(f"chainrule.numeric.{module}", fromlist=[module])
    failures, tried = doctest.testmod(mod, optionflags=doctest.ELLIPSIS)
    assert failures == 0
    assert tried > 0 or module == "richardson"


def test_public_api():
    assert set(cn.__all__) >= {
        "derivative", "gradient", "jacobian", "directional", "hessian", "hvp",
        "DerivativeResult",
    }
    for name in ("derivative", "gradient", "jacobian", "directional", "hessian", "hvp"):
        doc = getattr(cn, name).__doc__
        assert "Args:" in doc and "Returns:" in doc and ">>>" in doc
