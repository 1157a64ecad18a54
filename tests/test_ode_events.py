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
