"""chainrule.scipy.integrate.odeint, SciPy's front end on chainrule.ode: values against
SciPy's odeint and closed forms, SciPy's arguments (tfirst, tcrit, h0, hmax, mxstep,
full_output, repeated times, list-valued func), first and second derivatives in y0, t and
args (forward and reverse) against closed forms and finite differences, jit and vmap, and
the errors for bad or unsupported input."""

import numpy as onp
import pytest

import chainrule as cr
import chainrule.numpy as np
from chainrule.scipy.integrate import odeint

sp_integrate = pytest.importorskip("scipy.integrate")

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
    return [a * y[0] - b * y[0] * y[1], -c * y[1] + d * y[0] * y[1]]  # a list, as in SciPy


def pendulum(y, t, damping, g_over_l):
    theta, omega = y[0], y[1]
    return np.stack([omega, -damping * omega - g_over_l * np.sin(theta)])


LV_P = onp.array([1.0, 0.1, 1.5, 0.075])
LV_Y0 = onp.array([10.0, 5.0])


def central(f, x, eps=1e-6):
    """Central differences of f (any output shape) in every entry of the array x."""
    x = onp.asarray(x, dtype=float)
    cols = []
    for i in range(x.size):
        e = onp.zeros(x.size)
        e[i] = eps
        e = e.reshape(x.shape)
        cols.append((onp.asarray(f(x + e)) - onp.asarray(f(x - e))) / (2 * eps))
    return onp.stack(cols, axis=-1)


# ---------------------------------------------------------------------------
# values
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("method", ["dopri5", "tsit5"])
def test_values_match_scipy(method):
    cases = [
        (autograd_func, Y0, T, (ARG1, ARG2)),
        (lotka_volterra, LV_Y0, onp.linspace(0.0, 10.0, 11), (LV_P,)),
        (pendulum, onp.array([2.5, 0.0]), onp.linspace(0.0, 8.0, 9), (0.25, 5.0)),
        (decay, onp.array([1.0, -2.0]), onp.array([3.0, 2.0, 0.5]), (0.7,)),  # backwards
    ]
    for func, y0, t, args in cases:
        ref = sp_integrate.odeint(func, y0, t, args, rtol=1e-12, atol=1e-12)
        default = sp_integrate.odeint(func, y0, t, args)  # SciPy at its default tolerances
        got = odeint(func, y0, t, args, method=method)
        assert got.shape == (len(t),) + y0.shape
        onp.testing.assert_array_equal(got[0], y0)
        err_ours = onp.max(onp.abs(got - ref) / (1 + onp.abs(ref)))
        err_scipy = onp.max(onp.abs(default - ref) / (1 + onp.abs(ref)))
        assert err_ours < 1e-6 and err_ours < 20 * max(err_scipy, 1e-8), (err_ours, err_scipy)
        tight = odeint(func, y0, t, args, rtol=1e-12, atol=1e-12, method=method)
        onp.testing.assert_allclose(tight, ref, rtol=1e-9, atol=1e-10)


def test_tfirst_vector_tolerances_and_stiff_method():
    t = onp.linspace(0.0, 10.0, 6)
    ref = sp_integrate.odeint(lotka_volterra, LV_Y0, t, (LV_P,), rtol=1e-12, atol=1e-12)
    got = odeint(lambda s, y, p: lotka_volterra(y, s, p), LV_Y0, t, (LV_P,), tfirst=True,
                 atol=onp.array([1e-10, 1e-10]), rtol=onp.array([1e-10, 1e-10]))
    onp.testing.assert_allclose(got, ref, rtol=1e-7)

    def robertson(y, t):
        return np.stack([-0.04 * y[0] + 1e4 * y[1] * y[2],
                         0.04 * y[0] - 1e4 * y[1] * y[2] - 3e7 * y[1] ** 2, 3e7 * y[1] ** 2])

    t = onp.array([0.0, 1.0, 10.0, 100.0])
    y0 = onp.array([1.0, 0.0, 0.0])
    ref = sp_integrate.odeint(robertson, y0, t, rtol=1e-10, atol=1e-12)
    got, info = odeint(robertson, y0, t, rtol=1e-7, atol=1e-10, method="rosenbrock23",
                       full_output=1)
    onp.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-9)
    assert info["nst"][-1] < 2000  # the statistics' solve uses the Jacobian too


def test_shapes_scalar_and_matrix_state():
    t = onp.array([0.0, 0.5, 1.0])
    y = odeint(decay, 2.0, t, (0.5,))
    assert y.shape == (3,)
    onp.testing.assert_allclose(y, 2.0 * onp.exp(-0.5 * t), rtol=1e-7)
    a = onp.array([[0.0, 1.0], [-1.0, 0.0]])
    ym = odeint(lambda y, t, a: a @ y, onp.eye(2), t, a)  # args not a tuple: (a,), as SciPy
    assert ym.shape == (3, 2, 2)
    rot = onp.array([[onp.cos(1.0), onp.sin(1.0)], [-onp.sin(1.0), onp.cos(1.0)]])
    onp.testing.assert_allclose(ym[-1], rot, atol=1e-7)


def test_repeated_and_single_times():
    """Repeated times are allowed, as in SciPy; derivatives in a repeated time are those
    of y(t) (here y0·e^{-kt}: first and second order)."""
    y0 = onp.array([1.0, 2.0])
    onp.testing.assert_array_equal(odeint(decay, y0, onp.array([0.3]), (0.5,)), y0[None])
    onp.testing.assert_array_equal(odeint(decay, y0, onp.array([0.3, 0.3]), (0.5,)),
                                   onp.stack([y0, y0]))
    for t in (onp.array([0.0, 1.0, 1.0, 2.0]), onp.array([0.0, 0.0, 1.0, 2.0])):
        y = odeint(decay, y0, t, (0.5,))
        onp.testing.assert_allclose(y, y0 * onp.exp(-0.5 * t)[:, None], rtol=1e-7)
        g = cr.grad(lambda k, t=t: np.sum(odeint(decay, y0, t, (k,))))(0.5)
        expected = -onp.sum(t[:, None] * y0 * onp.exp(-0.5 * t)[:, None])
        onp.testing.assert_allclose(g, expected, rtol=1e-6)
    t = onp.array([0.0, 1.0, 1.0, 2.0])
    row2 = lambda t: odeint(decay, 1.0, t, (0.5,))[2]  # noqa: E731
    onp.testing.assert_allclose(cr.grad(row2)(t), [0.5 * onp.exp(-0.5), 0, -0.5 * onp.exp(-0.5),
                                                   0], rtol=1e-6, atol=1e-6)
    onp.testing.assert_allclose(cr.hessian(row2)(t)[2, 2], 0.25 * onp.exp(-0.5), rtol=1e-6)


def test_tcrit_h0_hmax_and_full_output():
    """A kink at t = 1 (the rate switches off): stepping across it costs accuracy, tcrit
    ends a piece there; hmax bounds every step; full_output counts the steps."""
    def switched(y, t):
        return np.where(t < 1.0, -y, 0.0 * y)

    t = onp.array([0.0, 0.5, 2.0])
    exact = onp.array([1.0, onp.exp(-0.5), onp.exp(-1.0)])
    y = odeint(switched, 1.0, t, tcrit=[1.0], rtol=1e-10, atol=1e-12)
    onp.testing.assert_allclose(y, exact, rtol=1e-9)
    pieces = lambda k: odeint(decay, 1.0, t, (k,), tcrit=[0.3, 1.0], rtol=1e-10,  # noqa: E731
                              atol=1e-12)[-1]
    onp.testing.assert_allclose(cr.grad(pieces)(0.5), -2.0 * onp.exp(-1.0), rtol=1e-8)
    onp.testing.assert_allclose(cr.hessian(pieces)(0.5), 4.0 * onp.exp(-1.0), rtol=1e-7)
    y, info = odeint(decay, 1.0, onp.linspace(0.0, 2.0, 5), (1.0,), hmax=0.05, h0=1e-3,
                     full_output=1)
    assert info["message"] == "Integration successful."
    assert onp.all(info["hu"] <= 0.05 + 1e-15) and info["nst"][-1] >= 40
    assert onp.all(onp.diff(info["nst"]) > 0) and info["tcur"][-1] == 2.0
    onp.testing.assert_allclose(y, onp.exp(-onp.linspace(0.0, 2.0, 5)), rtol=1e-7)
    _, few = odeint(decay, 1.0, onp.linspace(0.0, 2.0, 5), (1.0,), full_output=1)
    assert few["nst"][-1] < info["nst"][-1]


# ---------------------------------------------------------------------------
# derivatives
# ---------------------------------------------------------------------------

def test_autograd_case_first_and_second_order():
    """autograd's test_odeint: y0, t and args, forward and reverse, to second order."""
    cr.check_grads(lambda y0, t, a1, a2: odeint(autograd_func, y0, t, (a1, a2), rtol=1e-10,
                                                atol=1e-10),
                   (Y0, T, ARG1, ARG2), order=2, modes=("fwd", "rev"))


def test_exponential_decay_closed_form():
    """y(tᵢ) = y0·e^{-k(tᵢ - t₀)}: ∂/∂y0 = e^{-k(tᵢ-t₀)}, ∂/∂k = -(tᵢ-t₀)·y(tᵢ),
    ∂/∂tᵢ = -k·y(tᵢ) (i ≥ 1), ∂/∂t₀ = k·y(tᵢ) (i ≥ 1); ∂²/∂k² = (tᵢ-t₀)²·y(tᵢ)."""
    y0, k = 2.0, 0.7
    t = onp.array([0.5, 1.0, 2.0, 3.5])
    y = y0 * onp.exp(-k * (t - t[0]))
    f = lambda y0, t, k: odeint(decay, y0, t, (k,), rtol=1e-10, atol=1e-10)  # noqa: E731
    d_t = onp.diag(-k * y)
    d_t[1:, 0] = k * y[1:]
    d_t[0, 0] = 0.0
    for jac in (cr.jacrev, cr.jacfwd):
        j_y0, j_t, j_k = jac(f, argnums=(0, 1, 2))(y0, t, k)
        onp.testing.assert_allclose(j_y0, onp.exp(-k * (t - t[0])), rtol=1e-8)
        onp.testing.assert_allclose(j_k, -(t - t[0]) * y, rtol=1e-8, atol=1e-10)
        onp.testing.assert_allclose(j_t, d_t, rtol=1e-8, atol=1e-8)
    for hess in (cr.hessian, lambda g: cr.jacfwd(cr.jacfwd(g)), lambda g: cr.grad(cr.grad(g))):
        onp.testing.assert_allclose(hess(lambda k: f(y0, t, k)[-1])(k),
                                    (t[-1] - t[0]) ** 2 * y[-1], rtol=1e-7)


@pytest.mark.parametrize("gradient", ["direct", "adjoint"])
def test_lotka_volterra_gradient_against_finite_differences(gradient):
    t = onp.linspace(0.0, 4.0, 5)

    def loss(y0, p):
        ys = odeint(lotka_volterra, y0, t, (p,), rtol=1e-11, atol=1e-11, gradient=gradient)
        return np.sum(ys[1:, 0] * ys[1:, 1]) / 100.0

    g_y0, g_p = cr.grad(loss, argnums=(0, 1))(LV_Y0, LV_P)
    onp.testing.assert_allclose(g_y0, central(lambda y: loss(y, LV_P), LV_Y0, 1e-5),
                                rtol=1e-6)
    onp.testing.assert_allclose(g_p, central(lambda p: loss(LV_Y0, p), LV_P, 1e-7), rtol=1e-5)


def test_hessian_in_y0_and_args_against_finite_differences_of_the_gradient():
    t = onp.linspace(0.0, 3.0, 4)

    def loss(y0, c, w):
        ys = odeint(pendulum, y0, t, (c, w), rtol=1e-9, atol=1e-9)
        return np.sum(ys[:, 0] ** 2)

    y0, c, w = onp.array([1.2, 0.3]), 0.25, 5.0
    grad_y0 = cr.grad(loss)
    fd = central(lambda y: grad_y0(y, c, w), y0, 1e-5)
    for hess in (cr.hessian(loss), cr.jacrev(cr.jacrev(loss))):
        onp.testing.assert_allclose(hess(y0, c, w), fd, rtol=1e-5, atol=1e-7)
    mixed = cr.jacfwd(cr.grad(loss, argnums=1), argnums=2)(y0, c, w)  # ∂²/∂c∂w
    fd_mixed = (cr.grad(loss, argnums=1)(y0, c, w + 1e-5)
                - cr.grad(loss, argnums=1)(y0, c, w - 1e-5)) / 2e-5
    onp.testing.assert_allclose(mixed, fd_mixed, rtol=1e-5)


def test_nested_args_and_fixed_leaves():
    """args as nested tuples and dicts; an int leaf is held fixed."""
    def func(y, t, params, power):
        (a, b), extra = params
        return a * y - b * y ** power + extra["c"] * np.sin(t)

    t = onp.array([0.0, 0.4, 1.0])
    y0 = onp.array([1.0, 0.5])

    def f(y0, a, b, c):
        return odeint(func, y0, t, (((a, b), {"c": c}), 2), rtol=1e-10, atol=1e-10)

    cr.check_grads(f, (y0, 0.5, onp.array([0.1, 0.2]), onp.array(0.3)), order=1)
    params = ((0.5, onp.array([0.1, 0.2])), {"c": onp.array(0.3)})
    g = cr.grad(lambda p: np.sum(odeint(func, y0, t, (p, 2))))(params)
    assert cr.tree_structure(g) == cr.tree_structure(params)
    g_b = cr.grad(lambda b: np.sum(f(y0, 0.5, b, onp.array(0.3))))(onp.array([0.1, 0.2]))
    onp.testing.assert_allclose(g[0][1], g_b, rtol=1e-6)


def test_decreasing_time_and_closures():
    t = onp.array([2.0, 1.5, 0.2])
    cr.check_grads(lambda y0, t, k: odeint(decay, y0, t, (k,), rtol=1e-10, atol=1e-10)
                   + t[:, None], (onp.array([1.0, 2.0]), t, 0.3), order=2)
    t = onp.array([0.0, 1.0])
    by_args = cr.grad(lambda k: odeint(decay, 1.0, t, (k,))[-1])(0.5)
    closed = cr.grad(lambda k: odeint(lambda y, t: -k * y, 1.0, t)[-1])(0.5)
    onp.testing.assert_allclose(closed, by_args, rtol=1e-12)


def test_jit_and_vmap_agree_with_eager():
    t = onp.array([0.0, 0.5, 1.0])
    f = lambda k: odeint(decay, 1.0, t, (k,))[-1]  # noqa: E731
    onp.testing.assert_allclose(cr.jit(f)(0.5), f(0.5), rtol=1e-14)
    onp.testing.assert_allclose(cr.jit(cr.grad(f))(0.5), cr.grad(f)(0.5), rtol=1e-12)
    onp.testing.assert_allclose(cr.jit(cr.hessian(f))(0.5), onp.exp(-0.5), rtol=1e-6)
    g_t = cr.jit(cr.grad(lambda t: odeint(decay, 1.0, t, (0.5,))[-1]))(t)
    onp.testing.assert_allclose(g_t, [0.5 * onp.exp(-0.5), 0.0, -0.5 * onp.exp(-0.5)],
                                rtol=1e-6, atol=1e-12)
    ks = onp.array([0.5, 1.0])
    onp.testing.assert_allclose(cr.vmap(f)(ks), onp.exp(-ks), rtol=1e-7)
    onp.testing.assert_allclose(cr.vmap(cr.grad(f))(ks), -onp.exp(-ks), rtol=1e-6)
    with pytest.raises(ValueError, match="pass that variable in args"):
        cr.jit(lambda k: odeint(lambda y, t: -k * y, 1.0, t)[-1])(0.5)


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


def test_bad_and_unsupported_arguments():
    t = onp.array([0.0, 1.0])
    with pytest.raises(TypeError, match="func must be callable"):
        odeint(None, onp.ones(2), t)
    with pytest.raises(ValueError, match="y0 must be real"):
        odeint(decay, onp.ones(2) + 1j, t, (0.5,))
    with pytest.raises(ValueError, match="rtol must be non-negative"):
        odeint(decay, onp.ones(2), t, (0.5,), rtol=-1.0)
    with pytest.raises(ValueError, match="hmax must be >= 0"):
        odeint(decay, onp.ones(2), t, (0.5,), hmax=-1.0)
    with pytest.raises(NotImplementedError, match="hmin=0.01"):
        odeint(decay, onp.ones(2), t, (0.5,), hmin=0.01)
    with pytest.raises(NotImplementedError, match="mxordn=5, mxords=2"):
        odeint(decay, onp.ones(2), t, (0.5,), mxordn=5, mxords=2)


def test_too_many_steps():
    with pytest.raises(RuntimeError, match="mxstep=5"):
        odeint(lotka_volterra, LV_Y0, onp.array([0.0, 50.0]), (LV_P,), mxstep=5)
