"""The trebuchet simulator (chainrule.examples.trebuchet): the reference's published
distances and gradient with its integrator settings, the gradient against finite
differences, and the accurate (adaptive) solve of the same model near the reference."""

import math

import pytest

import chainrule as cr
from chainrule.examples import trebuchet as tb


@pytest.mark.parametrize("wind,angle,weight", list(tb.REFERENCE["distances"]))
def test_reference_distances(wind, angle, weight):
    d = tb.shoot(wind, math.radians(angle), weight)
    assert round(float(d), 2) == tb.REFERENCE["distances"][(wind, angle, weight)]


def test_reference_gradient_and_finite_differences():
    wind, angle, weight = -2.0, math.radians(45.0), 200.0
    g = cr.grad(tb.shoot, argnums=(0, 1, 2))(wind, angle, weight)
    per_degree = (g[0], g[1] * math.pi / 180, g[2])
    for got, ref in zip(per_degree, tb.REFERENCE["gradient"]):
        assert abs(got - ref) < 0.01 * abs(ref) + 0.005, (per_degree, tb.REFERENCE["gradient"])
    for i, eps in enumerate((1e-5, 1e-7, 1e-4)):
        x = [wind, angle, weight]
        hi, lo = list(x), list(x)
        hi[i] += eps
        lo[i] -= eps
        fd = (tb.shoot(*hi) - tb.shoot(*lo)) / (2 * eps)
        assert abs(g[i] - fd) < 1e-5 * max(1.0, abs(fd)), (i, g[i], fd)


def test_adaptive_solve_lands_near_the_reference():
    for (wind, angle, weight), ref in tb.REFERENCE["distances"].items():
        accurate = float(tb.shoot(wind, math.radians(angle), weight, method="dopri5"))
        assert abs(accurate - ref) < 1.5, (wind, angle, weight, accurate)


def test_bad_input():
    with pytest.raises(ValueError, match="weight=-1.0 lb"):
        tb.shoot(0.0, 0.5, -1.0)
    with pytest.raises(ValueError, match="method='rk45'"):
        tb.shoot(0.0, 0.5, 100.0, method="rk45")


def test_short_training_lowers_the_miss_and_save_load(tmp_path):
    import numpy as onp

    pairs = onp.array([[-3.0, 40.0], [0.0, 70.0], [2.0, 90.0], [4.0, 30.0]])
    before = tb.relative_miss(tb.Controller.initial(0), pairs).mean()
    ctrl = tb.train(steps=2, seed=0, batch=12, progress=False)
    after = tb.relative_miss(ctrl, pairs).mean()
    assert after < 0.7 * before, (before, after)
    path = tmp_path / "controller.npz"
    ctrl.save(str(path))
    again = tb.Controller.load(str(path))
    assert again(1.0, 50.0) == ctrl(1.0, 50.0)
