"""The Allen–Cahn physics-informed networks: residuals against finite differences of the
network, short trainings that lower the loss, and the example's files."""

import json

import numpy as onp
import pytest

import chainrule as cr
from chainrule.pinn.allen_cahn import ContinuousPINN, DiscretePINN, lbfgs, relative_l2
from chainrule.pde import reference_solution

REFERENCE = reference_solution(dt=1e-3)


def small_discrete(q=4):
    return DiscretePINN(q=q, points=30, width=12, depth=2, seed=1, reference=REFERENCE)


def small_continuous(causal=0.0):
    return ContinuousPINN(windows=2, width=10, depth=2, harmonics=2, points_x=32,
                          initial_points=64, times_per_window=3, causal=causal, seed=1,
                          reference=REFERENCE)


def test_discrete_loss_matches_finite_differences_of_the_network():
    """Rebuild Raissi's SSE with u_xx and u_x from central differences of the network."""
    pinn = small_discrete()
    params = pinn.init()
    net = lambda x: onp.asarray(pinn.model.apply(params, x))
    h = 1e-4
    X = pinn.inputs
    U = net(X)
    U_x = (net(X + h) - net(X - h)) / (2 * h)
    U_xx = (net(X + h) - 2 * U + net(X - h)) / h**2
    n, q = len(pinn.x_data), pinn.q
    f = 1e-4 * U_xx[:n, :q] + 5 * (U[:n, :q] - U[:n, :q] ** 3)
    U0 = U[:n] - pinn.dt * f @ pinn.irk_t
    want = onp.sum((U0 - pinn.u_data) ** 2) + onp.sum((U[n] - U[n + 1]) ** 2) + onp.sum(
        (U_x[n] - U_x[n + 1]) ** 2)
    assert float(pinn.loss(params)) == pytest.approx(want, rel=1e-6)


def test_continuous_residual_matches_finite_differences_of_the_network():
    pinn = small_continuous()
    params = pinn.init()
    rng = onp.random.default_rng(0)
    t = rng.uniform(0.0, 0.5, (7, 1))
    x = rng.uniform(-1.0, 1.0, (7, 1))
    u = lambda t, x: onp.asarray(pinn.u(params, 0, t, x))
    h = 1e-4
    u_t = (u(t + h, x) - u(t - h, x)) / (2 * h)
    u_xx = (u(t, x + h) - 2 * u(t, x) + u(t, x - h)) / h**2
    want = u_t - 1e-4 * u_xx + 5 * u(t, x) ** 3 - 5 * u(t, x)
    got = onp.asarray(pinn.residual(params, 0, t, x))
    onp.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)


def test_continuous_window_loss_with_causal_weights_by_hand():
    """Slices at t0 + (i+1)Δ/n on the staggered grid, weights exp(−c Σ_{j<i} L_j)."""
    pinn = small_continuous(causal=50.0)
    params = pinn.init()
    x_ic = pinn.x_ic[:, 0]
    initial = onp.sin(onp.pi * x_ic)
    n, nx = 3, 32
    ts = onp.linspace(0.0, 0.5, n + 1)[1:]
    slices = []
    for i, ti in enumerate(ts):
        x = -1.0 + 2.0 * onp.arange(nx) / nx + (i / n) * (2.0 / nx)
        r = onp.asarray(pinn.residual(params, 0, onp.full((nx, 1), ti), x[:, None]))
        slices.append(onp.mean(r**2))
    slices = onp.array(slices)
    weights = onp.exp(-50.0 * (onp.cumsum(slices) - slices))
    u0 = onp.asarray(pinn.u(params, 0, onp.zeros((64, 1)), x_ic[:, None]))[:, 0]
    want = 100.0 * onp.mean((u0 - initial) ** 2) + onp.mean(weights * slices)
    assert float(pinn.window_loss(0, initial)(params)) == pytest.approx(want, rel=1e-12)


def test_even_embedding_gives_even_networks():
    pinn = ContinuousPINN(windows=2, width=6, depth=1, harmonics=3, even=True, seed=2,
                          reference=REFERENCE)
    params = pinn.init()
    assert params[0]["W"].shape == (4, 6)
    t, x = onp.full((5, 1), 0.3), onp.linspace(0.1, 0.9, 5)[:, None]
    onp.testing.assert_allclose(onp.asarray(pinn.u(params, 0, t, x)),
                                onp.asarray(pinn.u(params, 0, t, -x)), atol=1e-14)


def test_continuous_network_is_exactly_periodic_in_x():
    pinn = small_continuous()
    params = pinn.init()
    t = onp.array([[0.2], [0.4]])
    left, right = (onp.asarray(pinn.u(params, 0, t, onp.full_like(t, s))) for s in (-1.0, 1.0))
    onp.testing.assert_allclose(left, right, atol=1e-14)


def test_gradient_of_the_discrete_loss_against_finite_differences():
    pinn = small_discrete(q=2)
    params = pinn.init()
    g = cr.grad(pinn.loss)(params)
    rng = onp.random.default_rng(3)
    direction = [{k: rng.standard_normal(onp.shape(v)) for k, v in layer.items()}
                 for layer in params]
    shifted = lambda s: [{k: v + s * direction[i][k] for k, v in layer.items()}
                         for i, layer in enumerate(params)]
    h = 1e-6
    fd = (float(pinn.loss(shifted(h))) - float(pinn.loss(shifted(-h)))) / (2 * h)
    ad = sum(float(onp.sum(g[i][k] * direction[i][k])) for i in range(len(params))
             for k in params[i])
    assert ad == pytest.approx(fd, rel=1e-5)


def test_short_discrete_training_lowers_the_loss():
    pinn = small_discrete()
    params = pinn.init()
    before = float(pinn.loss(params))
    res = pinn.train(params, max_seconds=60, max_iterations=40, jit=False, record_every=5)
    assert res.history["loss"][-1] < 0.5 * before
    assert res.history["iteration"][-1] == res.iterations <= 40
    assert len(res.history["error"]) == len(res.history["loss"])
    assert res.history["error"][-1] == pytest.approx(pinn.error(res.params))


def test_short_continuous_training_lowers_the_loss():
    pinn = small_continuous()
    params = pinn.init()
    x = pinn.x_ic[:, 0]
    loss = pinn.window_loss(0, x**2 * onp.cos(onp.pi * x))
    before = float(loss(params))
    res = lbfgs(loss, params, max_iterations=30, max_seconds=60)
    assert float(loss(res.params)) < 0.2 * before


@pytest.mark.parametrize("solver", ["chainrule", "scipy"])
def test_lbfgs_solves_a_quadratic_exactly(solver):
    A = onp.array([[3.0, 1.0, 0.0], [1.0, 2.0, 0.5], [0.0, 0.5, 4.0]])
    b = onp.array([1.0, -1.0, 2.0])
    res = lbfgs(lambda p: 0.5 * p["x"] @ (A @ p["x"]) - b @ p["x"], {"x": onp.zeros(3)},
                max_iterations=50, solver=solver)
    onp.testing.assert_allclose(res.params["x"], onp.linalg.solve(A, b), atol=1e-8)
    assert res.history["loss"][-1] == pytest.approx(-0.5 * b @ onp.linalg.solve(A, b))


def test_lbfgs_solvers_agree_on_a_short_training():
    """chainrule.optimize's L-BFGS and SciPy's L-BFGS-B: both lower the loss alike."""
    pinn = small_discrete()
    params = pinn.init()
    before = float(pinn.loss(params))
    finals = [lbfgs(pinn.loss, params, max_iterations=30, solver=s).history["loss"][-1]
              for s in ("chainrule", "scipy")]
    assert all(f < 0.6 * before for f in finals)  # 30.5 → 15.4 (chainrule), 15.6 (SciPy)
    assert max(finals) / min(finals) < 3.0


def test_relative_l2():
    assert relative_l2([1.0, 2.0], [1.0, 1.0]) == pytest.approx(1 / onp.sqrt(2))


def test_command_writes_the_files(tmp_path, capsys):
    from chainrule.cli import main

    status = main(["pinn", "allen-cahn", "--method", "discrete", "--quick", "--minutes", "0.03",
                   "--out", str(tmp_path), "--no-progress"])
    assert status == 0  # quick runs check the pipeline, not the accuracy
    printed = capsys.readouterr().out
    assert "relative L2 error" in printed and "allen_cahn_discrete.npz" in printed
    data = onp.load(tmp_path / "allen_cahn_discrete.npz")
    assert data["x"].shape == (512,) and data["t"].shape == (201,)
    assert data["u_ref"].shape == (201, 512) and data["u_pinn"].shape == (512,)
    onp.testing.assert_allclose(data["t"][[0, 1, -1]], [0.0, 0.005, 1.0])
    onp.testing.assert_allclose(data["u_ref"][0], data["x"] ** 2 * onp.cos(onp.pi * data["x"]),
                                atol=1e-15)
    hist = json.loads((tmp_path / "allen_cahn_discrete_history.json").read_text())
    assert hist["numbers"]["error"] == pytest.approx(
        relative_l2(data["u_pinn"], data["u_ref"][180]))
    assert hist["convergence"]["dt_change"][-1] < 1e-10
    assert len(hist["history"]["loss"]) == len(hist["history"]["error"]) >= 2
    numbers = hist["numbers"]
    assert numbers["iterations"] == hist["history"]["iteration"][-1] >= 1
    assert numbers["seconds_per_iteration"] == pytest.approx(
        numbers["seconds"] / numbers["iterations"])
    for name in ("convergence", "discrete_heatmaps", "discrete_history"):
        assert (tmp_path / f"allen_cahn_{name}.png").stat().st_size > 1000


def test_example_rejects_bad_arguments():
    from chainrule.examples import allen_cahn

    with pytest.raises(ValueError, match="method must be"):
        allen_cahn.run(method="spectral")
    with pytest.raises(ValueError, match="minutes must be positive"):
        allen_cahn.run(minutes=0)


def test_float32_discrete_loss_and_gradient_match_float64():
    """dtype='float32' evaluates the same loss at single precision (the Taylor pass stays
    float32 throughout) and hands L-BFGS a gradient that agrees to float32 rounding."""
    wide = DiscretePINN(q=4, points=30, width=12, depth=2, seed=1, reference=REFERENCE)
    single = DiscretePINN(q=4, points=30, width=12, depth=2, seed=1, reference=REFERENCE,
                          dtype="float32")
    params = wide.init()
    value = single.loss(params)
    assert value.dtype == onp.float32
    assert float(value) == pytest.approx(float(wide.loss(params)), rel=1e-5)
    g64, g32 = cr.grad(wide.loss)(params), cr.jit(cr.grad(single.loss))(params)
    flat = lambda g: onp.concatenate([onp.ravel(v) for layer in g for v in layer.values()])
    assert flat(g32).dtype == onp.float64  # the parameters' dtype, as L-BFGS holds them
    onp.testing.assert_allclose(flat(g32), flat(g64), rtol=0,
                                atol=2e-5 * onp.max(onp.abs(flat(g64))))
    with pytest.raises(ValueError, match="dtype must be 'float32' or 'float64'"):
        DiscretePINN(q=4, points=30, width=12, depth=2, reference=REFERENCE, dtype="float16")


def test_command_trains_the_discrete_network_in_float32(tmp_path, capsys):
    from chainrule.cli import main

    status = main(["pinn", "allen-cahn", "--method", "discrete", "--quick", "--minutes", "0.02",
                   "--dtype", "float32", "--out", str(tmp_path), "--no-progress"])
    assert status == 0
    assert "L-BFGS iterations" in capsys.readouterr().out
    hist = json.loads((tmp_path / "allen_cahn_discrete_history.json").read_text())
    losses = hist["history"]["loss"]
    assert losses[-1] < losses[0]  # a few float32 iterations already lower the loss
    u = onp.load(tmp_path / "allen_cahn_discrete.npz")["u_pinn"]
    assert hist["numbers"]["error"] == pytest.approx(relative_l2(u, REFERENCE[2][180]),
                                                     rel=1e-3)
