"""The stiff Robertson problem with the Rosenbrock method: the solution against SciPy's
Radau at tight tolerance, mass conservation, and the gradient in the (log) rate constants
by the direct method and the adjoint against central differences of the Radau solution."""

import numpy as onp
import pytest

import chainrule as cr
import chainrule.numpy as np
from chainrule.ode import odeint

solve_ivp = pytest.importorskip("scipy.integrate").solve_ivp

LOGK = onp.log([0.04, 3e7, 1e4])
Y0 = onp.array([1.0, 0.0, 0.0])
TS = onp.array([0.0, 0.4, 2.0])


def robertson(y, t, logk):
    k1, k2, k3 = np.exp(logk[0]), np.exp(logk[1]), np.exp(logk[2])
    return np.stack([-k1 * y[0] + k3 * y[1] * y[2],
                     k1 * y[0] - k3 * y[1] * y[2] - k2 * y[1] ** 2,
                     k2 * y[1] ** 2])


def radau(logk, ts=TS):
    k1, k2, k3 = onp.exp(logk)
    rhs = lambda t, y: [-k1 * y[0] + k3 * y[1] * y[2],  # noqa: E731
                        k1 * y[0] - k3 * y[1] * y[2] - k2 * y[1] ** 2, k2 * y[1] ** 2]
    return solve_ivp(rhs, (ts[0], ts[-1]), Y0, method="Radau", t_eval=ts, rtol=1e-12,
                     atol=1e-16).y.T


def solve(logk, gradient="direct", ts=TS):
    return odeint(robertson, Y0, ts, logk, method="rosenbrock23", rtol=1e-6, atol=1e-10,
                  gradient=gradient)


def test_robertson_solution():
    ys = solve(LOGK)
    ref = radau(LOGK)
    onp.testing.assert_allclose(ys, ref, rtol=2e-5, atol=1e-12)
    onp.testing.assert_allclose(ys.sum(axis=1), 1.0, atol=1e-12)  # the rates conserve mass


def test_explicit_method_meets_its_step_limit():
    with pytest.raises(RuntimeError, match="may be stiff"):
        odeint(robertson, Y0, onp.array([0.0, 40.0]), LOGK, max_steps=2000)


def test_robertson_gradient_direct_adjoint_finite_differences():
    weights = onp.array([1.0, 1e4, -2.0])
    ts = onp.array([0.0, 0.5])  # short, to keep the test fast; stiff from the start
    loss = lambda lk, how: np.sum(solve(lk, how, ts)[-1] * weights)  # noqa: E731
    direct = cr.grad(loss)(LOGK, "direct")
    adjoint = cr.grad(loss)(LOGK, "adjoint")
    eps = 1e-4
    fd = onp.array([(radau(LOGK + e, ts)[-1] - radau(LOGK - e, ts)[-1]) @ weights / (2 * eps)
                    for e in onp.eye(3) * eps])
    onp.testing.assert_allclose(direct, fd, rtol=1e-4, atol=1e-8)
    onp.testing.assert_allclose(adjoint, fd, rtol=1e-4, atol=1e-8)
