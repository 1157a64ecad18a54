"""chainrule.examples: each example's headline number from a short run, its figures on
disk, discovery by name, the ``chainrule example`` command and the tour's section."""

import re
import sys

import numpy
import pytest

import chainrule as cr
from chainrule import examples
from chainrule.cli import main
from chainrule.examples import least_squares, sigmoid_221

LECTURE_EXAMPLES = ["digits", "least_squares", "linear_regression", "shallow_relu",
                    "sigmoid_221"]


def test_examples_are_found_by_name():
    assert set(LECTURE_EXAMPLES) <= set(examples.available())
    with pytest.raises(ValueError, match="no example named 'nope'; available: "):
        examples.load("nope")


def test_a_new_module_is_an_example_without_editing_the_package(tmp_path, monkeypatch):
    (tmp_path / "toy_example.py").write_text(
        "from chainrule.examples import ExampleResult\n"
        "def run(out=None, quick=False, seed=0, progress=False):\n"
        "    return ExampleResult('toy_example', {'answer': 42}, 'the answer')\n")
    (tmp_path / "_helper.py").write_text("X = 1\n")
    monkeypatch.setattr(examples, "__path__", [*examples.__path__, str(tmp_path)])
    assert "toy_example" in examples.available() and "_helper" not in examples.available()
    assert examples.run("toy_example").numbers == {"answer": 42}
    monkeypatch.delitem(sys.modules, "chainrule.examples.toy_example", raising=False)


def test_linear_regression_reaches_w_2_b_0_and_saves_its_figure(tmp_path):
    result = examples.run("linear_regression", out=tmp_path, quick=True)
    assert result.ok
    assert abs(result.numbers["w"] - 2.0) < 1e-3 and abs(result.numbers["b"]) < 1e-3
    assert result.numbers["loss"] < 1e-6 < result.numbers["initial_loss"]
    assert result.numbers["gradient_error_vs_closed_form"] < 1e-12
    if examples.pyplot() is None:
        assert result.files == [] and "Matplotlib is not installed" in result.notes[0]
    else:
        for suffix in ("png", "svg"):
            path = tmp_path / f"linear_regression_path.{suffix}"
            assert path in result.files and path.stat().st_size > 1000


def test_without_matplotlib_the_numbers_come_with_a_note(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    result = examples.run("least_squares", out=tmp_path, quick=True, steps=40)
    assert result.figures == {} and result.files == []
    assert result.notes == ["no figures: Matplotlib is not installed (pip install "
                            "chainrule[plot])"]
    assert result.numbers["relative_error"] < 1e-2


def test_least_squares_meets_the_normal_equations_at_the_predicted_rate():
    result = least_squares.run(quick=True)
    n = result.numbers
    assert result.ok and n["relative_error"] < 1e-6
    A, y, _ = least_squares.problem(seed=0)
    s = numpy.linalg.svd(A, compute_uv=False)
    assert n["L"] == pytest.approx(s[0] ** 2) and n["mu"] == pytest.approx(s[-1] ** 2)
    # linear convergence no slower than the 1/L bound (1 - μ/L)² per step
    assert n["rate_measured"] <= n["rate_bound"] < 1
    # the lecture's loop (step 1e-4 on ‖y - Ax‖², i.e. 2e-4 on f) contracts the gap by at
    # most (1 - 2e-4 μ)² per step: slower than 1/L, as the bound says
    lecture_bound = n["initial_gap"] * (1 - 2 * least_squares.LECTURE_STEP * n["mu"]) ** (
        2 * n["steps"])
    assert n["gap"] < n["lecture_step_gap"] <= lecture_bound
    # conjugate gradients: fewer iterations than gradient descent, as accurate
    assert n["cg_iterations"] < n["steps"] and n["cg_relative_error"] < 1e-6
    # the gradient -Aᵀ(y - Ax), independently of the example's own check
    x = numpy.random.default_rng(5).standard_normal(100)
    numpy.testing.assert_allclose(cr.grad(least_squares.loss)(x, A, y), -A.T @ (y - A @ x),
                                  rtol=1e-12, atol=1e-9)
    x_star = numpy.linalg.lstsq(A, y, rcond=None)[0]
    assert n["f_star"] == pytest.approx(0.5 * numpy.sum((y - A @ x_star) ** 2), rel=1e-12)


def test_shallow_relu_fits_the_target():
    result = examples.run("shallow_relu", quick=True)
    assert result.ok and result.numbers["rmse"] < 0.05
    assert result.numbers["loss"] < 1e-3
    assert ("fit" in result.figures) == (examples.pyplot() is not None)


def test_sigmoid_221_tables_are_backprop_and_it_learns_xor(tmp_path):
    result = sigmoid_221.run(out=tmp_path, quick=True)
    n = result.numbers
    assert result.ok
    numpy.testing.assert_allclose(n["outputs"], [0, 1, 1, 0], atol=0.1)
    assert n["table_gradient_error"] < 1e-12 and n["table_tangent_error"] < 1e-12
    # the trained weights are those the network's outputs come from
    w = [n["weights"][k] for k in sigmoid_221.WEIGHTS]
    f = sigmoid_221.network(sigmoid_221.XOR_INPUTS[:, 0], sigmoid_221.XOR_INPUTS[:, 1], *w)
    numpy.testing.assert_allclose(f, n["outputs"], rtol=1e-14)
    # the hand formulas against AD and finite differences at another point
    point = (0.0, 1.0, 1.0, 0.3, -0.8, 1.1, 0.4, -1.7, 2.2)
    by_hand = sigmoid_221.backprop_by_hand(*point)
    ad = cr.grad(sigmoid_221.example_loss, argnums=tuple(range(3, 9)))(*point)
    numpy.testing.assert_allclose(ad, [by_hand[k] for k in sigmoid_221.WEIGHTS], rtol=1e-12)
    cr.check_grads(sigmoid_221.example_loss, point, order=2)
    tables = (tmp_path / "sigmoid_221_tables.md").read_text()
    assert "Forward tangent trace" in tables and "w_{100}" in tables
    assert "expit" in result.html
    assert (tmp_path / "sigmoid_221_xor.png").exists() == (examples.pyplot() is not None)


def test_digits_reaches_97_percent_in_under_30_seconds():
    pytest.importorskip("sklearn")
    result = examples.run("digits", quick=True)
    n = result.numbers
    assert result.ok and n["test_accuracy"] >= 0.97 and n["seconds"] < 30
    confusion = numpy.array(n["confusion"])
    assert confusion.sum() == n["test_examples"] == 360
    assert numpy.trace(confusion) == round(n["test_accuracy"] * 360)


def test_digits_without_sklearn_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match=r"pip install chainrule\[examples\]"):
        examples.run("digits", quick=True)


def test_command_lists_runs_and_rejects(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    assert main(["example"]) == 0
    listing = capsys.readouterr().out
    assert all(name in listing for name in LECTURE_EXAMPLES)
    assert main(["example", "linear_regression", "--quick", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^linear_regression: w = (1\.99|2\.00)", out, re.M) and "wrote" in out
    assert (tmp_path / "linear_regression_path.svg").exists()
    assert main(["example", "nope"]) == 1
    assert "no example named 'nope'" in capsys.readouterr().err


def test_tour_section_embeds_the_figures(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    from chainrule.tour import TourContext, section_learning

    monkeypatch.setattr(examples, "TOUR_EXAMPLES", ("linear_regression", "least_squares"))
    section = section_learning(TourContext(tmp_path, quick=True))
    assert section.ok and re.search(r"linear_regression: w = (1\.99|2\.00)", section.summary)
    assert "<img src='least_squares_convergence.svg'" in section.html
