"""Derivatives through chainrule.ode.odeint: the direct gradient (differentiated steps)
against closed forms, finite differences (first and second order, forward and reverse),
the adjoint gradient against the direct one (the issue's target: 1e-6 relative at
rtol = 1e-10), checkpointed replay against the plain one, and the closure rules."""

import importlib

import numpy as onp
import pytest

import chainrule as cr
import chainrule.numpy as np
from chainrule.ode import odeint


def decay(y, t, k):
    return -k * y


def pendulum(y, t, p):
    return np.stack([y[1], -p[0] * y[1] - p[1] * np.sin(y[0])])


P = onp.array([0.25, 4.0])
Y0 = onp.array([1.2, -0.3])


@pytest.mark.parametrize("method", ["dopri5", "tsit5", "rosenbrock23"])
def test_direct_gradient_and_hessian_closed_form(method):
    ts = onp.array([0.0, 0.7, 2.0])
    # the second-order Rosenbrock method gets a tighter tolerance and a looser bound
    tol, err = (1e-10, 1e-7) if method != "rosenbrock23" else (1e-8, 1e-5)
    sol = lambda k, y0: odeint(decay, y0, ts, k, method=method, rtol=tol, atol=tol)[2]  # noqa: E731
    gk, gy = cr.grad(sol, argnums=(0, 1))(0.6, 1.5)
    assert abs(gk - (-2.0 * 1.5 * onp.exp(-1.2))) < 10 * err
    assert abs(gy - onp.exp(-1.2)) < err
    # second order through the solver's steps (forward over reverse)
    hk = cr.jvp(lambda k: cr.grad(sol)(k, 1.5), (0.6,), (1.0,))[1]
    assert abs(hk - 4.0 * 1.5 * onp.exp(-1.2)) < 100 * err
    # the output time: d y(t)/dt = -k y(t)
    gt = cr.grad(lambda t2: odeint(decay, 1.5, np.stack([0.0, 0.7, t2]), 0.6, method=method,
                                   rtol=tol, atol=tol)[2])(2.0)
    assert abs(gt - (-0.6 * 1.5 * onp.exp(-1.2))) < 10 * err


def test_check_grads_fixed_step_both_modes_order_two():
    ts = onp.linspace(0.0, 2.0, 5)

    def f(p, y0):
        return np.sum(odeint(pendulum, y0, ts, p, method="rk4", dt=0.05) ** 2)

    cr.check_grads(f, (P, Y0), order=2, modes=("fwd", "rev"))


def test_check_grads_adaptive_tight_tolerance():
    ts = onp.array([0.0, 1.5])

    def f(p):
        return odeint(pendulum, Y0, ts, p, rtol=1e-12, atol=1e-12)[1, 0]

    cr.check_grads(f, (P,), order=1, modes=("fwd", "rev"))


@pytest.mark.parametrize("method", ["euler", "rk4", "dopri5", "tsit5", "rosenbrock23"])
def test_hessian_direct_every_method_against_differences_of_the_gradient(method):
    """Second order through gradient="direct" for every method, in reverse-over-reverse,
    forward-over-reverse and forward-over-forward, against central differences of the
    gradient. The adaptive methods hold their step sizes constant while the differences
    re-solve and move them, so they agree to about the tolerance (loosest for the
    second-order Rosenbrock method at its looser tolerance)."""
    stiff = method == "rosenbrock23"  # second order: many steps, so a shorter, looser solve
    ts = onp.array([0.0, 0.3, 0.6]) if stiff else onp.array([0.0, 0.8, 1.6])
    fixed = method in ("euler", "rk4")
    tol = 1e-7 if stiff else 1e-10

    def loss(x):
        ys = odeint(pendulum, x[:2], ts, x[2:], method=method, rtol=tol, atol=tol,
                    dt=0.1 if fixed else None)
        return np.sum(ys[1:, 0] ** 2) + np.sum(ys[-1] * ys[1])

    x = onp.concatenate([Y0, P])
    grad = cr.grad(loss)
    eps = 1e-5
    fd = onp.stack([(grad(x + e) - grad(x - e)) / (2 * eps) for e in eps * onp.eye(4)], axis=1)
    rtol = 3e-4 if stiff else 1e-7  # measured: 3e-5 (rosenbrock23), 1e-10 to 7e-10 (others)
    hessians = [cr.hessian(loss)] if stiff else [cr.hessian(loss), cr.jacrev(cr.jacrev(loss))]
    if method in ("rk4", "dopri5"):
        hessians.append(cr.jacfwd(cr.jacfwd(loss)))
    for hess in hessians:
        onp.testing.assert_allclose(hess(x), fd, rtol=rtol, atol=rtol * onp.max(onp.abs(fd)))


def test_adjoint_hessian_falls_back_to_the_direct_method():
    """gradient="adjoint" is first-order reverse mode; differentiated again (hessian,
    grad of grad) or batched, its reverse pass is the direct one, so it equals the direct
    Hessian instead of dropping the outer derivative."""
    ts = onp.array([0.0, 1.2])

    def loss(p, gradient):
        return np.sum(odeint(pendulum, Y0, ts, p, rtol=1e-9, atol=1e-9, gradient=gradient)[1] ** 2)

    direct = cr.hessian(loss)(P, "direct")
    onp.testing.assert_allclose(cr.hessian(loss)(P, "adjoint"), direct, rtol=1e-12)
    onp.testing.assert_allclose(cr.jacrev(cr.grad(loss))(P, "adjoint"), direct, rtol=1e-9)


@pytest.mark.parametrize("method", ["dopri5", "tsit5"])
def test_adjoint_matches_direct_at_rtol_1e10(method):
    ts = onp.array([0.0, 0.5, 1.7, 3.0])
    w = onp.array([[1.0, -0.5], [0.3, 2.0], [-1.0, 0.7], [0.4, 0.1]])

    def loss(y0, ts, p, gradient):
        ys = odeint(pendulum, y0, ts, p, method=method, rtol=1e-10, atol=1e-10,
                    gradient=gradient)
        return np.sum(w * ys) + np.sum(ys[-1] ** 2)

    direct = cr.grad(loss, argnums=(0, 1, 2))(Y0, ts, P, "direct")
    adjoint = cr.grad(loss, argnums=(0, 1, 2))(Y0, ts, P, "adjoint")
    for d, a in zip(direct, adjoint):
        rel = onp.max(onp.abs(d - a)) / onp.max(onp.abs(d))
        assert rel < 1e-6, (d, a, rel)
    # and both against central differences of the (accurate) solution in p
    eps = 1e-5
    for i in range(2):
        e = onp.zeros(2)
        e[i] = eps
        fd = (loss(Y0, ts, P + e, "direct") - loss(Y0, ts, P - e, "direct")) / (2 * eps)
        assert abs(fd - adjoint[2][i]) < 1e-6 * max(1.0, abs(fd))


def test_adjoint_forward_mode_uses_the_direct_method():
    ts = onp.array([0.0, 1.0])
    sol = lambda k: odeint(decay, 2.0, ts, k, gradient="adjoint", rtol=1e-10, atol=1e-10)  # noqa: E731
    _, tangent = cr.jvp(sol, (0.3,), (1.0,))
    assert abs(tangent[1] - (-2.0 * onp.exp(-0.3))) < 1e-8


def test_adjoint_pytree_state_and_args():
    ts = onp.array([0.0, 1.0, 2.0])

    def f(s, t, params):
        return {"x": s["v"], "v": -params["k"] * s["x"] - params["c"] * s["v"]}

    def loss(params, gradient):
        out = odeint(f, {"x": 1.0, "v": 0.0}, ts, params, gradient=gradient, rtol=1e-10,
                     atol=1e-10)
        return np.sum(out["x"] ** 2) + out["v"][2]

    params = {"k": 2.0, "c": 0.3}
    d = cr.grad(loss)(params, "direct")
    a = cr.grad(loss)(params, "adjoint")
    for key in params:
        assert abs(d[key] - a[key]) < 1e-6 * abs(d[key])


@pytest.mark.parametrize("method", ["dopri5", "rk4"])
def test_checkpointed_direct_gradient_equals_plain(method):
    ts = onp.linspace(0.0, 4.0, 3)

    def loss(p, c):
        return np.sum(odeint(pendulum, Y0, ts, p, method=method, dt=0.02, checkpoints=c,
                             rtol=1e-8, atol=1e-8) ** 2)

    plain = cr.grad(loss)(P, None)
    for c in (2, 5):
        onp.testing.assert_allclose(cr.grad(loss)(P, c), plain, rtol=1e-12)


def test_closures_direct_ok_adjoint_and_checkpoints_raise():
    ts = onp.array([0.0, 1.0])
    g = cr.grad(lambda k: odeint(lambda y, t: -k * y, 1.0, ts, rtol=1e-10, atol=1e-10)[1])(0.5)
    assert abs(g + onp.exp(-0.5)) < 1e-8
    with pytest.raises(ValueError, match="pass it through \\*args"):
        cr.grad(lambda k: odeint(lambda y, t: -k * y, 1.0, ts, gradient="adjoint")[1])(0.5)
    with pytest.raises(ValueError, match="pass it through \\*args"):
        cr.grad(lambda k: odeint(lambda y, t: -k * y, 1.0, ts, checkpoints=2)[1])(0.5)


@pytest.mark.parametrize("method,dt", [("rk4", 0.05), ("dopri5", None), ("tsit5", None)])
def test_pytree_state_replays_leafwise_like_the_flat_vector(method, dt):
    """A tuple state is replayed leaf by leaf (no slicing and concatenating); its values,
    gradient and Hessian are those of the same system on one state vector, and agree
    with finite differences."""
    ts = onp.array([0.0, 0.8, 1.5])

    def as_vector(p):
        ys = odeint(pendulum, np.stack([Y0[0], p[0] * Y0[1]]), ts, p, method=method, dt=dt,
                    rtol=1e-9, atol=1e-9)
        return np.sum(ys[:, 0] ** 2) + ys[2, 1]

    def as_tuple(p):
        rates = lambda y, t, p: (y[1], -p[0] * y[1] - p[1] * np.sin(y[0]))  # noqa: E731
        th, om = odeint(rates, (Y0[0], p[0] * Y0[1]), ts, p, method=method, dt=dt,
                        rtol=1e-9, atol=1e-9)
        return np.sum(th ** 2) + om[2]

    assert float(as_tuple(P)) == pytest.approx(float(as_vector(P)), rel=1e-13)
    g_tuple, g_vector = cr.grad(as_tuple)(P), cr.grad(as_vector)(P)
    onp.testing.assert_allclose(g_tuple, g_vector, rtol=1e-11)
    onp.testing.assert_allclose(cr.hessian(as_tuple)(P), cr.hessian(as_vector)(P),
                                rtol=1e-9)
    eps = 1e-6
    fd = [(float(as_tuple(P + eps * e)) - float(as_tuple(P - eps * e))) / (2 * eps)
          for e in onp.eye(2)]
    onp.testing.assert_allclose(g_tuple, fd, rtol=1e-6)


def test_pytree_state_with_wrong_leaf_shapes_is_named():
    with pytest.raises(ValueError, match="structure and shapes"):
        cr.grad(lambda k: odeint(lambda y, t, k: (y[1], np.ones(2) * k), (1.0, 0.0),
                                 onp.array([0.0, 1.0]), k, method="rk4", dt=0.1)[0][1])(1.0)


def _count_scans(monkeypatch) -> list:
    """Scan every stretch of two or more steps, and count the scans."""
    module = importlib.import_module("chainrule.ode.odeint")  # the module, not the function
    count = [0]
    original = module._Solver.scanned_run

    def counted(self, *a):
        count[0] += 1
        return original(self, *a)

    monkeypatch.setattr(module, "MIN_FUSED_STEPS", 2)
    monkeypatch.setattr(module._Solver, "scanned_run", counted)
    return count


@pytest.mark.parametrize("method,dt", [("rk4", 0.05), ("dopri5", None), ("tsit5", None)])
def test_fused_replay_equals_the_step_by_step_replay(method, dt, monkeypatch):
    """The replay's scan over stretches of steps (the fast path) against the plain
    step-by-step loop: values, gradients and Hessians."""
    from chainrule.ode.odeint import _Solver
    ts = onp.linspace(0.0, 2.0, 3)

    def loss(x):
        ys = odeint(pendulum, x[:2], ts, x[2:], method=method, dt=dt, rtol=1e-9, atol=1e-9)
        return np.sum(ys ** 2)

    x = onp.concatenate([Y0, P])
    hessian = cr.jacrev(cr.grad(loss))  # reverse over reverse: the fused path in both
    scans = _count_scans(monkeypatch)
    fused = (loss(x), cr.grad(loss)(x), hessian(x))
    assert scans[0] >= 2
    monkeypatch.setattr(_Solver, "fuse", False)
    plain = (loss(x), cr.grad(loss)(x), hessian(x))
    for a, b in zip(fused, plain):
        onp.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_fused_replay_of_a_tuple_state_equals_the_step_by_step_replay(monkeypatch):
    """A pytree state replayed leaf by leaf: the scanned stretches against the plain loop.
    Forward mode (jacfwd, hessian) always takes the plain loop: a scan's primal outputs
    come back batched there, and a second solve chained after the first could not read
    its values (the chained case is test_scipy_integrate's tcrit test)."""
    from chainrule.ode.odeint import _Solver
    ts = onp.linspace(0.0, 2.0, 3)

    def loss(v0, c):
        th, om = odeint(lambda y, t, c: (y[1], -np.sin(y[0]) - c * y[1]), (1.0, v0), ts, c,
                        method="dopri5", rtol=1e-9, atol=1e-9)
        return np.sum(th ** 2) + om[-1]

    hessian = cr.grad(cr.grad(loss))
    scans = _count_scans(monkeypatch)
    fused = (loss(0.3, 0.2), cr.grad(loss, argnums=(0, 1))(0.3, 0.2), hessian(0.3, 0.2))
    assert scans[0] >= 2
    monkeypatch.setattr(_Solver, "fuse", False)
    plain = (loss(0.3, 0.2), cr.grad(loss, argnums=(0, 1))(0.3, 0.2), hessian(0.3, 0.2))
    for a, b in zip(fused, plain):
        onp.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
