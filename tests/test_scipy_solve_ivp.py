"""chainrule.scipy.integrate.solve_ivp, SciPy's API on chainrule.ode: values against
SciPy's solve_ivp and closed forms, t_eval / step-end outputs, a terminal event (time,
state, status, truncated output) and its first and second derivatives against the closed
form, dense output, derivatives in y0 and args against finite differences, and the errors
for what has no counterpart."""

import numpy as onp
import pytest

import chainrule as cr
import chainrule.numpy as np
from chainrule.scipy.integrate import solve_ivp

sp_integrate = pytest.importorskip("scipy.integrate")


def decay(t, y, k):
    return -k * y


def lotka_volterra(t, y, p):
    return [p[0] * y[0] - p[1] * y[0] * y[1], -p[2] * y[1] + p[3] * y[0] * y[1]]


LV_P = onp.array([1.0, 0.1, 1.5, 0.075])


def fall(t, y, g):
    return np.stack([y[1], -g])


def ground(t, y, g):
    return y[0]


ground.terminal = True


@pytest.mark.parametrize("method", ["RK45", "tsit5"])
def test_values_against_scipy(method):
    t_eval = onp.linspace(0.0, 10.0, 11)
    ref = sp_integrate.solve_ivp(lotka_volterra, (0.0, 10.0), [10.0, 5.0], args=(LV_P,),
                                 t_eval=t_eval, rtol=1e-12, atol=1e-12)
    got = solve_ivp(lotka_volterra, (0.0, 10.0), [10.0, 5.0], method=method, args=(LV_P,),
                    t_eval=t_eval, rtol=1e-11, atol=1e-11)
    assert got.y.shape == (2, 11) and got.success and got.status == 0
    onp.testing.assert_array_equal(got.t, t_eval)
    onp.testing.assert_allclose(got.y, ref.y, rtol=1e-8)
    # SciPy's default tolerances (rtol 1e-3, atol 1e-6): errors of the same size as SciPy's
    loose = solve_ivp(lotka_volterra, (0.0, 10.0), [10.0, 5.0], args=(LV_P,), t_eval=t_eval)
    theirs = sp_integrate.solve_ivp(lotka_volterra, (0.0, 10.0), [10.0, 5.0], args=(LV_P,),
                                    t_eval=t_eval)
    err_ours = onp.max(onp.abs(loose.y - ref.y) / onp.abs(ref.y))
    err_theirs = onp.max(onp.abs(theirs.y - ref.y) / onp.abs(ref.y))
    assert err_ours < 3 * err_theirs, (err_ours, err_theirs)


def test_step_end_outputs_backwards_and_stiff():
    r = solve_ivp(decay, (2.0, 0.0), [1.0, -2.0], args=(0.7,), rtol=1e-9, atol=1e-12)
    assert r.t[0] == 2.0 and r.t[-1] == 0.0 and onp.all(onp.diff(r.t) < 0) and len(r.t) > 3
    onp.testing.assert_allclose(r.y, onp.array([[1.0], [-2.0]]) * onp.exp(0.7 * (2.0 - r.t)),
                                rtol=1e-8)
    assert r.nfev > len(r.t) and r.njev == 0

    def robertson(t, y):
        return np.stack([-0.04 * y[0] + 1e4 * y[1] * y[2],
                         0.04 * y[0] - 1e4 * y[1] * y[2] - 3e7 * y[1] ** 2, 3e7 * y[1] ** 2])

    ref = sp_integrate.solve_ivp(robertson, (0.0, 40.0), [1.0, 0.0, 0.0], method="Radau",
                                 t_eval=[40.0], rtol=1e-10, atol=1e-12)
    got = solve_ivp(robertson, (0.0, 40.0), [1.0, 0.0, 0.0], method="BDF", t_eval=[40.0],
                    rtol=1e-7, atol=1e-10)
    onp.testing.assert_allclose(got.y, ref.y, rtol=1e-4, atol=1e-10)
    assert got.njev > 0 and got.nlu == 3 * got.njev


def test_terminal_event_and_its_derivatives():
    """A ball dropped from h: t* = √(2h/g), v* = −√(2gh); the output stops at t*."""
    def landing(h, g, **kw):
        return solve_ivp(fall, (0.0, 10.0), np.stack([h, 0.0]), events=ground, args=(g,),
                         rtol=1e-10, atol=1e-12, **kw)

    h, g = 2.0, 9.81
    r = landing(h, g, t_eval=onp.linspace(0.0, 1.0, 11))
    t_star = onp.sqrt(2 * h / g)
    assert r.status == 1 and r.message == "A termination event occurred."
    onp.testing.assert_allclose(r.t_events[0], [t_star], rtol=1e-10)
    onp.testing.assert_allclose(r.y_events[0], [[0.0, -onp.sqrt(2 * g * h)]], atol=1e-9)
    assert r.t[-1] <= t_star and len(r.t) == 7  # t_eval beyond t* is dropped, as in SciPy
    onp.testing.assert_allclose(r.y[0], h - g * r.t ** 2 / 2, rtol=1e-9)
    free = landing(h, g)  # without t_eval the last output is the event
    onp.testing.assert_allclose(free.t[-1], t_star, rtol=1e-10)
    x = onp.array([h, g])
    t_of = lambda x: landing(x[0], x[1]).t_events[0][0]  # noqa: E731
    exact = lambda x: np.sqrt(2 * x[0] / x[1])  # noqa: E731
    onp.testing.assert_allclose(cr.grad(t_of)(x), cr.grad(exact)(x), rtol=1e-8)
    onp.testing.assert_allclose(cr.hessian(t_of)(x), cr.hessian(exact)(x), rtol=1e-7)
    v_last = lambda x: landing(x[0], x[1]).y[1, -1]  # noqa: E731  (the state at t*)
    onp.testing.assert_allclose(cr.grad(v_last)(x), cr.grad(
        lambda x: -np.sqrt(2 * x[0] * x[1]))(x), rtol=1e-7)


def test_no_event_reached_and_dense_output():
    r = solve_ivp(decay, (0.0, 1.0), [1.0], events=ground, args=(0.5,), dense_output=True,
                  rtol=1e-10, atol=1e-12)
    assert r.status == 0 and r.t_events[0].shape == (0,) and r.y_events[0].shape == (0, 1)
    ts = onp.array([0.7, 0.0, 0.7, 1.0])  # unsorted, repeated and t0 included
    onp.testing.assert_allclose(r.sol(ts), onp.exp(-0.5 * ts)[None], rtol=1e-9)
    onp.testing.assert_allclose(r.sol(0.3), [onp.exp(-0.15)], rtol=1e-9)
    dense = lambda k: solve_ivp(decay, (0.0, 1.0), [1.0], args=(k,), dense_output=True,  # noqa: E731
                                rtol=1e-10, atol=1e-12).sol(0.8)[0]
    onp.testing.assert_allclose(cr.grad(dense)(0.5), -0.8 * onp.exp(-0.4), rtol=1e-7)
    d_t = cr.grad(lambda t: r.sol(t)[0])(0.8)  # the dense output's time derivative: f
    onp.testing.assert_allclose(d_t, -0.5 * onp.exp(-0.4), rtol=1e-7)


def test_gradients_in_y0_and_args_against_finite_differences():
    t_eval = onp.array([1.0, 3.0])

    def loss(y0, p):
        r = solve_ivp(lotka_volterra, (0.0, 3.0), y0, args=(p,), t_eval=t_eval, rtol=1e-11,
                      atol=1e-11)
        return np.sum(r.y[0] * r.y[1]) / 100.0

    y0 = onp.array([10.0, 5.0])
    g_y0, g_p = cr.grad(loss, argnums=(0, 1))(y0, LV_P)
    for x, g, which in ((y0, g_y0, 0), (LV_P, g_p, 1)):
        eps = 1e-5 if which == 0 else 1e-7
        fd = []
        for i in range(x.size):
            e = onp.zeros_like(x)
            e[i] = eps
            args_p = (x + e, LV_P) if which == 0 else (y0, x + e)
            args_m = (x - e, LV_P) if which == 0 else (y0, x - e)
            fd.append((loss(*args_p) - loss(*args_m)) / (2 * eps))
        onp.testing.assert_allclose(g, fd, rtol=1e-5)
    h = cr.hessian(lambda y: loss(y, LV_P))(y0)
    fd = onp.stack([(cr.grad(loss)(y0 + e, LV_P) - cr.grad(loss)(y0 - e, LV_P)) / 2e-5
                    for e in 1e-5 * onp.eye(2)], axis=1)
    onp.testing.assert_allclose(h, fd, rtol=1e-5, atol=1e-8)


def test_what_has_no_counterpart_is_named():
    def quiet(t, y):
        return -y

    with pytest.raises(NotImplementedError, match="method='DOP853'"):
        solve_ivp(quiet, (0.0, 1.0), [1.0], method="DOP853")
    with pytest.raises(NotImplementedError, match="min_step"):
        solve_ivp(quiet, (0.0, 1.0), [1.0], min_step=1e-3)

    def cross(t, y):
        return y[0] - 0.5

    with pytest.raises(NotImplementedError, match="terminal"):
        solve_ivp(quiet, (0.0, 1.0), [1.0], events=cross)
    cross.terminal, cross.direction = True, -1
    with pytest.raises(NotImplementedError, match="direction=-1"):
        solve_ivp(quiet, (0.0, 1.0), [1.0], events=cross)
    with pytest.raises(ValueError, match="y0 must be 1-D"):
        solve_ivp(quiet, (0.0, 1.0), onp.ones((2, 2)))
    with pytest.raises(ValueError, match=r"returned shape \(2,\)"):
        solve_ivp(lambda t, y: np.concatenate([y, y]), (0.0, 1.0), [1.0])
    with pytest.raises(ValueError, match="t_eval must be"):
        solve_ivp(quiet, (0.0, 1.0), [1.0], t_eval=[0.5, 0.2])
