"""Terminal events of chainrule.ode: the event time and state against closed forms, their
derivatives (through the event time) against the closed form and finite differences, for
adaptive and fixed-step methods, and the error when no event happens."""

import numpy as onp
import pytest

import chainrule as cr
import chainrule.numpy as np
from chainrule.ode import odeint_event


def fall(y, t, g):
    return np.stack([y[1], -g])


def ground(y, t, g):
    return y[0]


def landing(h0, v0, g, method="dopri5", dt=None):
    return odeint_event(fall, np.stack([h0, v0]), 0.0, ground, g, t_max=20.0, method=method,
                        rtol=1e-11, atol=1e-11, dt=dt)


def closed_form(h0, v0, g):
    return (v0 + np.sqrt(v0 ** 2 + 2 * g * h0)) / g


@pytest.mark.parametrize("method", ["dopri5", "tsit5", "rk4"])
def test_event_time_state_and_gradient(method):
    h0, v0, g = 1.5, 3.0, 9.81
    dt = 0.05 if method == "rk4" else None
    t_hit, y_hit = landing(h0, v0, g, method, dt)
    assert abs(t_hit - closed_form(h0, v0, g)) < 1e-9
    assert abs(y_hit[0]) < 1e-9 and abs(y_hit[1] + onp.sqrt(v0 ** 2 + 2 * g * h0)) < 1e-8
    grads = cr.grad(lambda *a: landing(*a, method, dt)[0], argnums=(0, 1, 2))(h0, v0, g)
    exact = cr.grad(closed_form, argnums=(0, 1, 2))(h0, v0, g)
    onp.testing.assert_allclose(grads, exact, rtol=1e-7)
    speed = cr.grad(lambda v: landing(h0, v, g, method, dt)[1][1])(v0)
    assert abs(speed - (-v0 / onp.sqrt(v0 ** 2 + 2 * g * h0))) < 1e-7
    tangent = cr.jvp(lambda v: landing(h0, v, g, method, dt)[0], (v0,), (1.0,))[1]
    assert abs(tangent - exact[1]) < 1e-7


def test_euler_event_against_finite_differences_of_the_scheme():
    """Explicit Euler with the crossing on the step's straight line: the gradient is that
    of the discrete scheme (smooth while the crossing stays in the same step)."""
    def drag(y, t, c):
        return np.stack([y[2], y[3], -c * y[2] * np.sqrt(y[2] ** 2 + y[3] ** 2),
                         -9.81 - c * y[3] * np.sqrt(y[2] ** 2 + y[3] ** 2)])

    def distance(c, vx):
        t, y = odeint_event(drag, np.stack([0.0, 2.0, vx, 5.0]), 0.0,
                            lambda y, t, c: y[1], c, t_max=10.0, method="euler", dt=1 / 60)
        return y[0]

    g = cr.grad(distance, argnums=(0, 1))(0.05, 12.0)
    eps = 1e-6
    fd_c = (distance(0.05 + eps, 12.0) - distance(0.05 - eps, 12.0)) / (2 * eps)
    fd_v = (distance(0.05, 12.0 + eps) - distance(0.05, 12.0 - eps)) / (2 * eps)
    assert abs(g[0] - fd_c) < 1e-6 * abs(fd_c) and abs(g[1] - fd_v) < 1e-6 * abs(fd_v)


def test_no_event_raises():
    with pytest.raises(RuntimeError, match="did not change sign"):
        odeint_event(fall, np.stack([1.0, 0.0]), 0.0, lambda y, t, g: y[0] + 100.0, 9.81,
                     t_max=1.0)


def drop(h, g, method="dopri5"):
    """A ball dropped from rest at height h: (t*, y*) when it reaches the ground."""
    return odeint_event(fall, np.stack([h, 0.0]), 0.0, ground, g, t_max=20.0, method=method,
                        rtol=1e-12, atol=1e-12, dt=0.05 if method == "rk4" else None)


@pytest.mark.parametrize("method", ["dopri5", "tsit5", "rk4", "rosenbrock23"])
def test_second_order_through_the_event_time_closed_form(method):
    """t* = √(2h/g) and the impact velocity v* = −√(2gh): their Hessians in (h, g), in
    reverse (hessian), forward (jacfwd∘jacfwd) and mixed mode, against the closed forms."""
    x = onp.array([2.0, 9.81])
    exact_t = cr.hessian(lambda x: np.sqrt(2 * x[0] / x[1]))(x)
    exact_v = cr.hessian(lambda x: -np.sqrt(2 * x[0] * x[1]))(x)
    t_star = lambda x: drop(x[0], x[1], method)[0]  # noqa: E731
    v_star = lambda x: drop(x[0], x[1], method)[1][1]  # noqa: E731
    for hess in (cr.hessian, lambda f: cr.jacfwd(cr.jacfwd(f)), lambda f: cr.jacfwd(cr.grad(f))):
        onp.testing.assert_allclose(hess(t_star)(x), exact_t, rtol=1e-9, atol=1e-12)
        onp.testing.assert_allclose(hess(v_star)(x), exact_v, rtol=1e-9, atol=1e-12)


def test_third_derivative_of_the_event_time():
    """Two traced Newton steps make the event time exact through third order:
    d³/dh³ √(2h/g) = (3/8)·√(2/g)·h^(−5/2)."""
    h, g = 2.0, 9.81
    third = cr.grad(cr.grad(cr.grad(lambda h: drop(h, g)[0])))(h)
    onp.testing.assert_allclose(third, 3 / 8 * onp.sqrt(2 / g) * h ** -2.5, rtol=1e-8)


def test_hessian_of_a_drag_landing_against_finite_differences_of_the_gradient():
    """Quadratic drag, no closed form: the Hessian of the landing distance in (c, vx)
    against central differences of the (exact) gradient, forward and reverse."""
    def drag(y, t, c):
        speed = np.sqrt(y[2] ** 2 + y[3] ** 2)
        return np.stack([y[2], y[3], -c * y[2] * speed, -9.81 - c * y[3] * speed])

    def distance(p):
        t, y = odeint_event(drag, np.stack([0.0, 2.0, p[1], 5.0]), 0.0,
                            lambda y, t, c: y[1], p[0], t_max=10.0, rtol=1e-11, atol=1e-11)
        return y[0] + 0.1 * t

    p = onp.array([0.05, 12.0])
    grad = cr.grad(distance)
    eps = onp.array([1e-5, 1e-4])
    fd = onp.stack([(grad(p + e) - grad(p - e)) / (2 * e[i])
                    for i, e in enumerate(onp.diag(eps))], axis=1)
    for hess in (cr.hessian, lambda f: cr.jacfwd(cr.jacfwd(f))):
        onp.testing.assert_allclose(hess(distance)(p), fd, rtol=2e-6)
