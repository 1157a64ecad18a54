"""chainrule.scipy.integrate.odeint: values against SciPy's odeint (and the NumPy RK45
fallback against SciPy), first derivatives in y0, t and args (adjoint in reverse mode,
sensitivities in forward mode) against closed forms and finite differences, and the
errors for bad input and for second order."""

import warnings

import numpy as onp
import pytest

import chainrule as cr
import chainrule.numpy as np
import chainrule.scipy.integrate as ci
from chainrule.scipy.integrate import odeint

try:
    from scipy.integrate import odeint as sp_odeint
except ImportError:  # pragma: no cover
    sp_odeint = None

needs_scipy = pytest.mark.skipif(sp_odeint is None, reason="SciPy is not installed")

R = onp.random.RandomState(0).randn
Y0, ARG1, ARG2 = R(3), R(3), R(3)
T = onp.linspace(0.1, 0.2, 4)


def autograd_func(y, t, arg1, arg2):
    """HIPS autograd's test_odeint system."""
    return -np.sqrt(t) - y + arg1 - np.mean((y + arg2) ** 2)


def decay(y, t, k):
    return -k * y


def lotka_volterra(y, t, p):
    a, b, c, d = p[0], p[1], p[2], p[3]
    return np.stack([a * y[0] - b * y[0] * y[1], -c * y[1] + d * y[0] * y[1]])


def pendulum(y, t, damping, g_over_l):
    theta, omega = y[0], y[1]
    return np.stack([omega, -damping * omega - g_over_l * np.sin(theta)])


LV_P = onp.array([1.0, 0.1, 1.5, 0.075])
LV_Y0 = onp.array([10.0, 5.0])


@pytest.fixture(params=["scipy", "rk45"])
def solver(request, monkeypatch):
    """Run a test with SciPy's LSODA, then with the NumPy RK45 fallback."""
    if request.param == "scipy":
        if sp_odeint is None:  # pragma: no cover
            pytest.skip("SciPy is not installed")
    else:
        monkeypatch.setattr(ci, "_scipy_odeint", lambda: None)
    return request.param


# ---------------------------------------------------------------------------
# values
# ---------------------------------------------------------------------------

@needs_scipy
@pytest.mark.parametrize("use_fallback", [False, True])
def test_values_match_scipy(use_fallback, monkeypatch):
    if use_fallback:
        monkeypatch.setattr(ci, "_scipy_odeint", lambda: None)
    cases = [
        (autograd_func, Y0, T, (ARG1, ARG2)),
        (lotka_volterra, LV_Y0, onp.linspace(0.0, 10.0, 11), (LV_P,)),
        (pendulum, onp.array([2.5, 0.0]), onp.linspace(0.0, 8.0, 9), (0.25, 5.0)),
        (decay, onp.array([1.0, -2.0]), onp.array([3.0, 2.0, 0.5]), (0.7,)),  # backwards
    ]
    for func, y0, t, args in cases:
        ref = sp_odeint(func, y0, t, args, rtol=1e-12, atol=1e-12)
        got = odeint(func, y0, t, args)
        assert got.shape == (len(t),) + y0.shape
        onp.testing.assert_array_equal(got[0], y0)
        onp.testing.assert_allclose(got, ref, rtol=1e-6, atol=1e-7)


def test_shapes_scalar_and_matrix_state():
    t = onp.array([0.0, 0.5, 1.0])
    y = odeint(decay, 2.0, t, (0.5,))
    assert y.shape == (3,)
    onp.testing.assert_allclose(y, 2.0 * onp.exp(-0.5 * t), rtol=1e-6)
    a = onp.array([[0.0, 1.0], [-1.0, 0.0]])
    y0 = onp.eye(2)
    ym = odeint(lambda y, t, a: a @ y, y0, t, a)  # args not a tuple: (a,), as in SciPy
    assert ym.shape == (3, 2, 2)
    rot = onp.array([[onp.cos(1.0), onp.sin(1.0)], [-onp.sin(1.0), onp.cos(1.0)]])
    onp.testing.assert_allclose(ym[-1], rot, atol=1e-6)


def test_fallback_tolerance_controls_the_error(monkeypatch):
    monkeypatch.setattr(ci, "_scipy_odeint", lambda: None)
    t = onp.linspace(0.0, 10.0, 6)
    exact = LV_Y0
    loose = odeint(lotka_volterra, exact, t, (LV_P,), rtol=1e-4, atol=1e-4)
    tight = odeint(lotka_volterra, exact, t, (LV_P,), rtol=1e-10, atol=1e-10)
    ref = odeint(lotka_volterra, exact, t, (LV_P,), rtol=1e-13, atol=1e-13)
    err_loose = onp.max(onp.abs(loose - ref) / onp.abs(ref))
    err_tight = onp.max(onp.abs(tight - ref) / onp.abs(ref))
    assert err_tight < 1e-7 < err_loose < 1e-1


def test_repeated_and_single_times(solver):
    """Repeated times are allowed, as in SciPy."""
    y0 = onp.array([1.0, 2.0])
    one = odeint(decay, y0, onp.array([0.3]), (0.5,))
    onp.testing.assert_array_equal(one, y0[None])
    onp.testing.assert_array_equal(odeint(decay, y0, onp.array([0.3, 0.3]), (0.5,)),
                                   onp.stack([y0, y0]))
    for t in (onp.array([0.0, 1.0, 1.0, 2.0]), onp.array([0.0, 0.0, 1.0, 2.0])):
        y = odeint(decay, y0, t, (0.5,))
        onp.testing.assert_allclose(y, y0 * onp.exp(-0.5 * t)[:, None], rtol=1e-6)
        g = cr.grad(lambda k, t=t: np.sum(odeint(decay, y0, t, (k,))))(0.5)
        expected = -onp.sum(t[:, None] * y0 * onp.exp(-0.5 * t)[:, None])
        onp.testing.assert_allclose(g, expected, rtol=1e-6)


# ---------------------------------------------------------------------------
# derivatives
# ---------------------------------------------------------------------------

def test_autograd_case(solver):
    """autograd's test_odeint: combo_check(odeint, [1, 2, 3]) — y0, t and args."""
    cr.check_grads(lambda y0, t, a1, a2: odeint(autograd_func, y0, t, (a1, a2)),
                   (Y0, T, ARG1, ARG2), order=1, modes=("fwd", "rev"))


def test_exponential_decay_closed_form(solver):
    """y(tᵢ) = y0·e^{-k(tᵢ - t₀)}: ∂/∂y0 = e^{-k(tᵢ-t₀)}, ∂/∂k = -(tᵢ-t₀)·y(tᵢ),
    ∂/∂tᵢ = -k·y(tᵢ) (i ≥ 1), ∂/∂t₀ = k·y(tᵢ) (i ≥ 1)."""
    y0, k = 2.0, 0.7
    t = onp.array([0.5, 1.0, 2.0, 3.5])
    y = y0 * onp.exp(-k * (t - t[0]))
    f = lambda y0, t, k: odeint(decay, y0, t, (k,))  # noqa: E731
    d_y0 = onp.exp(-k * (t - t[0]))
    d_k = -(t - t[0]) * y
    d_t = onp.diag(-k * y)
    d_t[1:, 0] = k * y[1:]
    d_t[0, 0] = 0.0
    for jac in (cr.jacrev, cr.jacfwd):
        j_y0, j_t, j_k = jac(f, argnums=(0, 1, 2))(y0, t, k)
        onp.testing.assert_allclose(j_y0, d_y0, rtol=1e-6)
        onp.testing.assert_allclose(j_k, d_k, rtol=1e-6, atol=1e-8)
        onp.testing.assert_allclose(j_t, d_t, rtol=1e-6, atol=1e-8)
    gk = cr.grad(lambda k: f(y0, t, k)[-1])(k)
    onp.testing.assert_allclose(gk, d_k[-1], rtol=1e-6)


def test_lotka_volterra_gradient(solver):
    t = onp.linspace(0.0, 4.0, 5)

    def loss(y0, p):
        ys = odeint(lotka_volterra, y0, t, (p,))
        return np.sum(ys[1:, 0] * ys[1:, 1]) / 100.0

    g_y0, g_p = cr.grad(loss, argnums=(0, 1))(LV_Y0, LV_P)
    eps = 1e-6
    for x, g, which in ((LV_Y0, g_y0, 0), (LV_P, g_p, 1)):
        fd = onp.zeros_like(x)
        for i in range(x.size):
            e = onp.zeros_like(x)
            e[i] = eps * max(1.0, abs(x[i]))
            plus = (x + e, LV_P) if which == 0 else (LV_Y0, x + e)
            minus = (x - e, LV_P) if which == 0 else (LV_Y0, x - e)
            fd[i] = (float(loss(*plus)) - float(loss(*minus))) / (2 * e[i])
        onp.testing.assert_allclose(g, fd, rtol=1e-4)


def test_pendulum_all_arguments(solver):
    t = onp.linspace(0.0, 3.0, 4)
    cr.check_grads(lambda y0, t, c, w: odeint(pendulum, y0, t, (c, w)),
                   (onp.array([1.2, 0.3]), t, 0.25, 5.0), order=1, modes=("fwd", "rev"))


def test_nested_args_and_fixed_leaves():
    """args as nested tuples and dicts; an int leaf is held fixed."""
    def func(y, t, params, power):
        (a, b), extra = params
        return a * y - b * y ** power + extra["c"] * np.sin(t)

    t = onp.array([0.0, 0.4, 1.0])
    y0 = onp.array([1.0, 0.5])

    def f(y0, a, b, c):
        return odeint(func, y0, t, (((a, b), {"c": c}), 2))

    cr.check_grads(f, (y0, 0.5, onp.array([0.1, 0.2]), onp.array(0.3)), order=1)
    params = ((0.5, onp.array([0.1, 0.2])), {"c": onp.array(0.3)})
    g = cr.grad(lambda p: np.sum(odeint(func, y0, t, (p, 2))))(params)
    assert cr.tree_structure(g) == cr.tree_structure(params)
    g_b = cr.grad(lambda b: np.sum(f(y0, 0.5, b, onp.array(0.3))))(onp.array([0.1, 0.2]))
    onp.testing.assert_allclose(g[0][1], g_b, rtol=1e-10)


def test_decreasing_time(solver):
    t = onp.array([2.0, 1.5, 0.2])
    cr.check_grads(lambda y0, t, k: odeint(decay, y0, t, (k,)) + t[:, None],
                   (onp.array([1.0, 2.0]), t, 0.3), order=1)


def test_jacobians_agree_and_jvp_matches_vjp():
    t = onp.linspace(0.0, 2.0, 3)
    f = lambda y0, p: odeint(lotka_volterra, y0, t, (p,))  # noqa: E731
    jf = cr.jacfwd(f, argnums=(0, 1))(LV_Y0, LV_P)
    jr = cr.jacrev(f, argnums=(0, 1))(LV_Y0, LV_P)
    for a, b in zip(jf, jr):
        onp.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


def test_jit_and_vmap():
    t = onp.array([0.0, 0.5, 1.0])
    f = lambda k: odeint(decay, 1.0, t, (k,))[-1]  # noqa: E731
    onp.testing.assert_allclose(cr.jit(f)(0.5), onp.exp(-0.5), rtol=1e-6)
    onp.testing.assert_allclose(cr.jit(cr.grad(f))(0.5), -onp.exp(-0.5), rtol=1e-6)
    g_t = cr.jit(cr.grad(lambda t: odeint(decay, 1.0, t, (0.5,))[-1]))(t)
    onp.testing.assert_allclose(g_t, [0.5 * onp.exp(-0.5), 0.0, -0.5 * onp.exp(-0.5)],
                                rtol=1e-6)
    ks = onp.array([0.5, 1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # vmap's per-example loop
        onp.testing.assert_allclose(cr.vmap(f)(ks), onp.exp(-ks), rtol=1e-6)
        onp.testing.assert_allclose(cr.vmap(cr.grad(f))(ks), -onp.exp(-ks), rtol=1e-6)


# ---------------------------------------------------------------------------
# errors
# ---------------------------------------------------------------------------

def test_bad_times():
    y0 = onp.ones(2)
    with pytest.raises(ValueError, match="t must be monotonically"):
        odeint(decay, y0, onp.array([0.0, 2.0, 1.0]), (0.5,))
    with pytest.raises(ValueError, match="t must be a non-empty 1-D"):
        odeint(decay, y0, onp.zeros((2, 2)), (0.5,))
    with pytest.raises(ValueError, match="t must be a non-empty 1-D"):
        odeint(decay, y0, onp.array([]), (0.5,))
    with pytest.raises(ValueError, match="finite"):
        odeint(decay, y0, onp.array([0.0, onp.nan]), (0.5,))


def test_func_returning_the_wrong_shape():
    with pytest.raises(ValueError, match=r"returned shape \(3,\) but y0 has shape \(2,\)"):
        odeint(lambda y, t: np.concatenate([y, y[:1]]), onp.ones(2), onp.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="returned shape"):
        cr.grad(lambda y0: np.sum(odeint(lambda y, t: np.sum(y), y0, onp.array([0.0, 1.0]))))(
            onp.ones(2))


def test_bad_arguments():
    t = onp.array([0.0, 1.0])
    with pytest.raises(TypeError, match="func must be callable"):
        odeint(None, onp.ones(2), t)
    with pytest.raises(ValueError, match="y0 must be real"):
        odeint(decay, onp.ones(2) + 1j, t, (0.5,))
    with pytest.raises(ValueError, match="rtol must be a non-negative scalar"):
        odeint(decay, onp.ones(2), t, (0.5,), rtol=-1.0)
    with pytest.raises(ValueError, match="hmax must be positive"):
        odeint(decay, onp.ones(2), t, (0.5,), hmax=0.0)


def test_closure_over_a_traced_value():
    t = onp.array([0.0, 1.0])
    with pytest.raises(ValueError, match="pass that variable in args"):
        cr.grad(lambda k: odeint(lambda y, t: -k * y, 1.0, t)[-1])(0.5)


def test_too_many_steps(solver):
    with pytest.raises(RuntimeError, match="mxstep"):
        odeint(lotka_volterra, LV_Y0, onp.array([0.0, 50.0]), (LV_P,), mxstep=5)


@pytest.mark.parametrize("second", ["hessian", "grad_grad", "jacfwd_jacfwd", "grad_jvp"])
def test_second_order_raises(second):
    t = onp.array([0.0, 1.0])
    f = lambda k: odeint(decay, 1.0, t, (k,))[-1]  # noqa: E731
    run = {
        "hessian": lambda: cr.hessian(f)(0.5),
        "grad_grad": lambda: cr.grad(cr.grad(f))(0.5),
        "jacfwd_jacfwd": lambda: cr.jacfwd(cr.jacfwd(f))(0.5),
        "grad_jvp": lambda: cr.grad(lambda k: cr.jvp(f, (k,), (1.0,))[1])(0.5),
    }[second]
    with pytest.raises(NotImplementedError, match="first order only"):
        run()
