"""The optimisation pictures and the ``chainrule optimize`` command: the numbers behind
them (paths, convergence, the lecture's least squares) and the command's output."""

import numpy as onp
import pytest

from chainrule.cli import main
from chainrule.optimize.report import lecture_least_squares, plot_rosenbrock, rosenbrock_runs


def test_rosenbrock_runs_record_paths_from_the_start():
    runs = rosenbrock_runs(["newton", "trust-exact", "l-bfgs-b"])
    for r in runs:
        assert r.solved and r.path.shape == (r.result.nit + 1, 2)
        onp.testing.assert_allclose(r.path[0], [-1.2, 1.0])
        onp.testing.assert_allclose(r.errors, onp.linalg.norm(r.path - 1.0, axis=1))
    newton = runs[0].errors
    tail = newton[(newton < 1e-2) & (newton > 1e-14)]
    assert onp.all(onp.log(tail[1:]) / onp.log(tail[:-1]) > 1.5)   # quadratic convergence


def test_lecture_least_squares_by_gradient_descent():
    ls = lecture_least_squares(steps=300)
    assert ls["fixed"].size == 300 and onp.all(onp.diff(ls["fixed"]) < 0)
    # f* from the normal equations; GD with step 1e-4 contracts with rate 1 − 2e-4·λ_min
    assert ls["fixed"][-1] - ls["f_star"] < 1e-3 * (ls["fixed"][0] - ls["f_star"])
    assert ls["armijo"][-1] == pytest.approx(ls["f_star"], rel=1e-9)


def test_plot_rosenbrock_draws_every_path(tmp_path):
    pytest.importorskip("matplotlib")
    runs = rosenbrock_runs(["bfgs", "cg"])
    fig = plot_rosenbrock(runs, tmp_path / "r.png")
    assert (tmp_path / "r.png").read_bytes()[:4] == b"\x89PNG"
    labels = [line.get_label() for line in fig.axes[0].lines]
    assert "bfgs" in labels and "cg" in labels


def test_tour_registers_the_section():
    from chainrule.tour import SECTIONS, section_optimize

    assert section_optimize in SECTIONS


def test_cli_optimize(capsys):
    assert main(["optimize", "--methods", "newton,BFGS"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:2] == ["method", "iterations"]
    assert out[1].split()[0] == "newton" and out[1].split()[1] == "22"
    assert out[2].split()[0] == "bfgs" and out[2].split()[-1] == "gtol"
    assert main(["optimize", "--problem", "beale", "--methods", "trust-exact"]) == 0
    assert "trust-exact" in capsys.readouterr().out
    assert main(["optimize", "--problem", "nowhere"]) == 1
    assert "use rosenbrock, least-squares or one of" in capsys.readouterr().err
    assert main(["optimize", "--methods", "simplex"]) == 1
    assert "unknown method 'simplex'" in capsys.readouterr().err
