"""chainrule.ode solvers: tableau consistency, the observed order of convergence of every
method and of the dense output, adaptive solutions against closed forms and SciPy,
pytree states, backwards integration, and the errors for bad input."""

import math

import numpy as onp
import pytest

import chainrule.numpy as np
from chainrule.ode import odeint
from chainrule.ode.adaptive import METHODS, find_root, fixed_mesh, solve_values
from chainrule.ode.tableaus import EXPLICIT, TSIT5


def exact(t):
    """y' = -y + sin t, y(0) = 1."""
    return 1.5 * onp.exp(-t) + 0.5 * (onp.sin(t) - onp.cos(t))


def rhs_flat(t, y):
    return -y + onp.sin(t)


@pytest.mark.parametrize("tab", list(EXPLICIT.values()), ids=lambda t: t.name)
def test_tableau_consistency(tab):
    for ci, row in zip(tab.c, tab.a):
        assert abs(sum(row) - ci) < 1e-14
    assert abs(sum(tab.b) - 1.0) < 1e-14
    if tab.e is not None:
        assert abs(sum(tab.e)) < 1e-14


def test_tsit5_interpolant_ends():
    assert onp.allclose(TSIT5.dense(1.0), TSIT5.b, atol=1e-12)
    assert onp.allclose(TSIT5.dense(0.0), 0.0)


@pytest.mark.parametrize("name,order,n0", [("euler", 1, 40), ("rk4", 4, 80), ("dopri5", 5, 10),
                                           ("tsit5", 5, 10), ("rosenbrock23", 2, 40)])
def test_order_of_convergence(name, order, n0):
    """log2 of the error ratio when the step halves: the order (tsit5's small error
    constants make it look better than fifth order before the asymptotic regime)."""
    method = METHODS[name]
    errors = []
    t_end = 2.0
    for n in (n0, 2 * n0, 4 * n0):
        h, y, t = t_end / n, onp.array([1.0]), 0.0
        for _ in range(n):
            y = method.step(rhs_flat, t, y, h).y1
            t += h
        errors.append(abs(y[0] - exact(t_end)))
    observed = [math.log2(errors[i] / errors[i + 1]) for i in range(2)]
    assert order - 0.3 < observed[-1] < order + 1.0, observed


@pytest.mark.parametrize("name", ["dopri5", "tsit5", "rosenbrock23", "rk4"])
def test_dense_output_order(name):
    """The interpolant's local error inside one step shrinks like h^(p+1), p >= 2."""
    method = METHODS[name]
    errs = []
    for h in (0.1, 0.05):
        step = method.step(rhs_flat, 0.3, onp.array([exact(0.3)]), h)
        errs.append(abs(step.interpolate(0.37, rhs_flat)[0] - exact(0.3 + 0.37 * h)))
    p = {"dopri5": 4, "tsit5": 4, "rk4": 3, "rosenbrock23": 2}[name]
    assert math.log2(errs[0] / errs[1]) > p + 0.6


@pytest.mark.parametrize("method", ["dopri5", "tsit5", "rosenbrock23"])
def test_adaptive_accuracy_against_closed_form(method):
    ts = onp.linspace(0.0, 5.0, 11)
    # the second-order Rosenbrock method's global error is a larger multiple of its
    # local tolerance than the fifth-order methods'
    rtol, factor = (1e-10, 200) if method != "rosenbrock23" else (1e-7, 1000)
    ys = odeint(lambda y, t: -y + np.sin(t), 1.0, ts, method=method, rtol=rtol, atol=rtol)
    assert onp.max(onp.abs(ys - exact(ts))) < factor * rtol


def lotka(y, t, a, b, c, d):
    return np.stack([a * y[0] - b * y[0] * y[1], -c * y[1] + d * y[0] * y[1]])


def test_against_scipy_solve_ivp():
    solve_ivp = pytest.importorskip("scipy.integrate").solve_ivp
    ts = onp.linspace(0.0, 15.0, 7)
    p = (1.0, 0.1, 1.5, 0.075)
    ref = solve_ivp(lambda t, y: [p[0] * y[0] - p[1] * y[0] * y[1],
                                  -p[2] * y[1] + p[3] * y[0] * y[1]],
                    (0, 15), [10.0, 5.0], t_eval=ts, rtol=1e-12, atol=1e-12, method="DOP853")
    for method in ("dopri5", "tsit5"):
        ys = odeint(lotka, onp.array([10.0, 5.0]), ts, *p, method=method, rtol=1e-11,
                    atol=1e-11)
        onp.testing.assert_allclose(ys, ref.y.T, rtol=1e-8)


def test_pytree_state_and_backwards_in_time():
    ts = onp.linspace(0.0, 3.0, 4)
    state = {"x": onp.array(1.0), "v": onp.array([0.0])}
    out = odeint(lambda s, t: {"x": s["v"][0], "v": np.reshape(-s["x"], (1,))}, state, ts,
                 rtol=1e-11, atol=1e-11)
    assert out["x"].shape == (4,) and out["v"].shape == (4, 1)
    onp.testing.assert_allclose(out["x"], onp.cos(ts), atol=1e-9)
    onp.testing.assert_allclose(out["v"][:, 0], -onp.sin(ts), atol=1e-9)
    back = odeint(lambda y, t: -y + np.sin(t), exact(3.0), ts[::-1], rtol=1e-11, atol=1e-11)
    onp.testing.assert_allclose(back, exact(ts[::-1]), atol=1e-8)


def test_fixed_step_dt_and_grid():
    ts = onp.array([0.0, 1.0, 2.0])
    coarse = odeint(lambda y, t: -y + np.sin(t), 1.0, ts, method="rk4", dt=0.01)
    onp.testing.assert_allclose(coarse, exact(ts), atol=1e-9)
    euler = odeint(lambda y, t: -y, 1.0, onp.array([0.0, 1.0]), method="euler", dt=0.1)
    assert abs(euler[1] - 0.9 ** 10) < 1e-14


@pytest.mark.parametrize("ts,dt", [([0.0, 1.0, 2.5], 0.3), ([2.0, 1.0, 0.0], 0.25),
                                   ([0.0, 0.5, 0.7], None)])
def test_fixed_mesh_is_the_value_solves_mesh(ts, dt):
    """The schedule the direct gradient replays without a value solve (fixed-step methods)
    is the mesh the value solve records."""
    ts = onp.array(ts)
    solved = solve_values(METHODS["rk4"], rhs_flat, onp.array([1.0]), ts, rtol=1e-6,
                          atol=1e-6, max_steps=1000, dt=dt)
    mesh = fixed_mesh(ts, dt, 1000)
    assert mesh.steps == solved.steps and mesh.outputs == solved.outputs
    with pytest.raises(RuntimeError, match="max_steps=3"):
        fixed_mesh(onp.array([0.0, 1.0]), 0.1, 3)


def test_find_root_illinois():
    theta = find_root(lambda x: x ** 3 - 0.2, -0.2, 0.8)
    assert abs(theta - 0.2 ** (1 / 3)) < 1e-14


def test_errors_name_the_argument():
    ts = onp.array([0.0, 1.0])
    f = lambda y, t: -y  # noqa: E731
    with pytest.raises(ValueError, match="method='rk45' is not one of"):
        odeint(f, 1.0, ts, method="rk45")
    with pytest.raises(ValueError, match="gradient='backprop'"):
        odeint(f, 1.0, ts, gradient="backprop")
    with pytest.raises(ValueError, match="strictly increasing or strictly decreasing"):
        odeint(f, 1.0, onp.array([0.0, 1.0, 0.5]))
    with pytest.raises(ValueError, match="func returned 2 values for a state of 1"):
        odeint(lambda y, t: np.stack([y, y]), 1.0, ts)
    with pytest.raises(RuntimeError, match="max_steps=5"):
        odeint(f, 1.0, onp.array([0.0, 100.0]), max_steps=5, rtol=1e-12)
    with pytest.raises(ValueError, match="rtol > 0"):
        odeint(f, 1.0, ts, rtol=0.0)
