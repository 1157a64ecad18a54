"""The trebuchet simulator (chainrule.examples.trebuchet): the reference's published
distances and gradient with its integrator settings, the gradient against finite
differences, and the accurate (adaptive) solve of the same model near the reference."""

import math

import numpy as onp
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


def test_operating_band_is_increasing_and_reaches_every_target():
    angle = math.radians(tb.RELEASE_ANGLE_DEG)
    for wind in (-5.0, 0.0, 5.0):
        d = onp.array([float(tb.shoot(wind, angle, w))
                       for w in onp.linspace(*tb.WEIGHT_BAND_LB, 13)])
        assert onp.all(onp.diff(d) > 0), (wind, d)
        assert d[0] < tb.TARGET_RANGE[0] and d[-1] > tb.TARGET_RANGE[1], (wind, d)


def test_inverse_pairs_are_exact_labels_with_the_simulator_slope():
    rows = tb.inverse_pairs([-5.0, 2.5], levels=4, coarse=8)
    assert len(rows) == 8
    angle = math.radians(tb.RELEASE_ANGLE_DEG)
    for wind, target, weight, slope in rows:
        assert tb.WEIGHT_BAND_LB[0] < weight < tb.WEIGHT_BAND_LB[1]
        assert float(tb.shoot(wind, angle, weight)) == pytest.approx(target, abs=1e-9)
        fd = (float(tb.shoot(wind, angle, weight + 1e-4))
              - float(tb.shoot(wind, angle, weight - 1e-4))) / 2e-4
        assert slope == pytest.approx(fd, rel=0.03), (wind, target, slope, fd)
    # the targets spread over [18, 102] m at both winds
    for wind in (-5.0, 2.5):
        targets = rows[rows[:, 0] == wind, 1]
        assert targets.min() == pytest.approx(18.0, abs=0.5)
        assert targets.max() == pytest.approx(102.0, abs=0.5)


def test_short_training_hits_held_out_targets_and_save_load(tmp_path):
    ctrl = tb.train(winds=5, levels=6, hidden=8, seconds=4.0, progress=False)
    info = ctrl.training
    assert info["examples"] == 30 and info["fine_tuning_iterations"] >= 1
    # the linearised miss of pretraining is the simulated miss to first order
    assert info["rms_miss_pretrained"] == pytest.approx(info["rms_linearised_miss"], rel=0.05)
    # fine-tuning through the simulator lowers the simulated miss on the examples
    assert info["rms_miss_tuned"] < info["rms_miss_pretrained"]
    pairs = tb._pairs(onp.random.default_rng(10_000), 20)
    for wind, target in pairs:
        angle, weight = ctrl(wind, target)
        assert angle == math.radians(tb.RELEASE_ANGLE_DEG)
        assert tb.WEIGHT_BAND_LB[0] < weight < tb.WEIGHT_BAND_LB[1]
    miss = tb.relative_miss(ctrl, pairs)
    untrained = tb.relative_miss(tb.Controller.initial(0, 8), pairs)
    assert miss.mean() < 5e-3 and miss.mean() < 0.05 * untrained.mean(), (
        miss.mean(), untrained.mean())
    path = tmp_path / "controller.npz"
    ctrl.save(str(path))
    again = tb.Controller.load(str(path))
    assert again(1.0, 50.0) == ctrl(1.0, 50.0)
