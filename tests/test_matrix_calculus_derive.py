"""chainrule.symbolic.matrix: the derivation steps (Taylor expansion and vector chain rule)."""

from __future__ import annotations

import numpy as onp
import pytest

from chainrule.symbolic.matrix import derive, evaluate, gradient, parse, simplify, text
from chainrule.symbolic.matrix.evaluate import dimension_sizes, random_values

LECTURE = [
    ("norm2(y - A*x)^2", "x"),
    ("x' * A * x", "x"),
    ("norm2(Y - W3*W2*W1*X)^2", "W1"),
    ("norm2(Y - W3*W2*W1*X)^2", "W2"),
    ("norm2(Y - W3*W2*W1*X)^2", "W3"),
    ("logdet(X)", "X"),
    ("sum(tanh(W2*tanh(W1*x)))", "W1"),
    ("x'*A*x + norm2(B*x)^4", "x"),
    ("tr(A*X*B)", "X"),
    ("sum(exp(A*x) .* y) / (a'*x)", "x"),
]


def test_taylor_steps_of_least_squares_are_the_lecture_s():
    d = derive(parse("norm2(y - A*x)^2"), "x")
    lines = [(s.reason, text(s.rhs)) for s in d.steps]
    assert lines[1] == ("perturb x by δ", "‖y − A(x + δ)‖²")
    assert lines[2] == ("split off the perturbation", "‖(y − Ax) − Aδ‖²")
    assert lines[3] == ("expand and keep the terms of order δ",
                        "‖y − Ax‖² − 2⟨y − Ax, Aδ⟩ + O(‖δ‖²)")
    assert lines[-2][1] == "⟨−2Aᵀ(y − Ax), δ⟩"
    assert "cyclic property of the trace" in lines[-2][0]
    assert lines[-1] == ("read off the gradient", "−2Aᵀ(y − Ax)")


def test_taylor_steps_of_the_middle_layer_are_the_lecture_s():
    d = derive(parse("norm2(Y - W3*W2*W1*X)^2"), "W2")
    shown = [text(s.rhs) for s in d.steps]
    assert shown[1] == "‖Y − W₃(W₂ + Δ)W₁X‖²"
    assert shown[2] == "‖(Y − W₃W₂W₁X) − W₃ΔW₁X‖²"  # the lecture's regrouping
    assert shown[3] == "‖Y − W₃W₂W₁X‖² − 2⟨Y − W₃W₂W₁X, W₃ΔW₁X⟩ + O(‖Δ‖²)"
    assert shown[-2] == "⟨−2W₃ᵀ(Y − W₃W₂W₁X)(W₁X)ᵀ, Δ⟩"
    assert shown[-1] == "−2W₃ᵀ(Y − W₃W₂W₁X)(W₁X)ᵀ"


def test_second_order_taylor_reads_the_hessian_off_the_quadratic_term():
    d = derive(parse("x' * A * x", symmetric=["A"]), "x", order=2)
    shown = [text(s.rhs) for s in d.steps]
    assert shown[-3:] == ["2Aδ + O(‖δ‖²)", "½⟨δ, 2Aδ⟩", "2A"]
    assert text(d.hessian) == "2A"
    m = derive(parse("logdet(X)"), "X", order=2)
    assert text(m.hessian) == "−(X⁻¹ΔX⁻¹)ᵀ"  # a matrix variable: the HVP in direction Δ


def test_chain_rule_steps_show_each_jacobian():
    d = derive(parse("norm2(y - A*x)^2"), "x", method="chain")
    shown = [(text(s.lhs) if s.lhs is not None else None, text(s.rhs)) for s in d.steps]
    assert shown == [("u₁", "y − Ax"), ("f", "‖u₁‖²"), ("∇_u₁ f", "2u₁"), ("J_u₁", "−A"),
                     ("∇_x f", "−2Aᵀu₁"), ("∇f(x)", "−2Aᵀ(y − Ax)")]
    m = derive(parse("norm2(Y - W3*W2*W1*X)^2"), "W2", method="chain")
    assert ("dU₁", "−W₃ΔW₁X") in [(text(s.lhs), text(s.rhs)) for s in m.steps]


@pytest.mark.parametrize("formula,wrt", LECTURE)
@pytest.mark.parametrize("method", ["taylor", "chain"])
def test_every_derivation_ends_at_the_gradient(formula, wrt, method):
    """The last step equals gradient(): in value, and for the Taylor method in print."""
    expr = parse(formula)
    d = derive(expr, wrt, method=method)
    g = gradient(expr, wrt)
    last = d.steps[-1].rhs
    values = random_values(expr)
    sizes = dimension_sizes(expr, values)
    onp.testing.assert_allclose(evaluate(last, values, sizes=sizes),
                                evaluate(g, values, sizes=sizes), rtol=1e-11, atol=1e-12)
    if method == "taylor":
        assert simplify(last) == g
        collected = d.steps[-2].rhs  # ⟨G, δ⟩ (one term per place x occurs)
        assert "δ" in text(collected) or "Δ" in text(collected)


def test_text_latex_and_html_renderings():
    d = derive(parse("norm2(y - A*x)^2"), "x", order=2)
    t = d.text()
    assert t.splitlines()[1] == "    f(x) = ‖y − Ax‖²"
    tex = d.latex()
    assert tex.startswith("\\begin{aligned}") and r"-2 A^{\top} \left(y - A x\right)" in tex
    page = d.html()
    assert "data-tex=" in page and "−2Aᵀ(y − Ax)" in page  # readable without KaTeX


def test_bad_arguments_are_named():
    e = parse("x'*x")
    with pytest.raises(ValueError, match="method='newton'"):
        derive(e, "x", method="newton")
    with pytest.raises(ValueError, match="order=3"):
        derive(e, "x", order=3)
    with pytest.raises(ValueError, match="method='taylor'"):
        derive(e, "x", method="chain", order=2)


def test_matrix_diff_command(capsys):
    from chainrule.cli import main

    assert main(["matrix-diff", "norm2(Y - W3*W2*W1*X)^2", "--wrt", "W2", "--code"]) == 0
    out = capsys.readouterr().out
    assert "gradient: −2W₃ᵀ(Y − W₃W₂W₁X)(W₁X)ᵀ" in out
    assert "⟨−2W₃ᵀ(Y − W₃W₂W₁X)(W₁X)ᵀ, Δ⟩" in out and "t1 = W1 @ X" in out
    assert main(["matrix-diff", "x' * A * x", "--wrt", "x", "--hessian",
                 "--symmetric", "A"]) == 0
    out = capsys.readouterr().out
    assert "gradient: 2Ax" in out and "hessian: 2A" in out
    assert main(["matrix-diff", "norm2(y - A*x)^2", "--wrt", "x", "--method", "chain",
                 "--format", "latex"]) == 0
    assert r"J_{u_{1}} &= -A" in capsys.readouterr().out
    assert main(["matrix-diff", "c*norm2(x)^2", "--wrt", "x", "--scalar", "c",
                 "--shape", "x=k"]) == 0
    assert "gradient: 2cx" in capsys.readouterr().out
    assert main(["matrix-diff", "x * y", "--wrt", "x"]) == 1
    assert "transpose one" in capsys.readouterr().err


def test_tour_section_renders_the_lecture_examples_offline_readable(tmp_path):
    from chainrule.tour import run, section_matrix_calculus

    assert run(tmp_path, quick=True, sections=[section_matrix_calculus]) == 0
    page = (tmp_path / "index.html").read_text(encoding="utf-8")
    for printed in ("−2Aᵀ(y − Ax)", "−2W₃ᵀ(Y − W₃W₂W₁X)(W₁X)ᵀ", "X⁻ᵀ", "2A", "Aᵀ + A",
                    "−2W₂ᵀW₃ᵀ(Y − W₃W₂W₁X)Xᵀ", "−2(Y − W₃W₂W₁X)(W₂W₁X)ᵀ"):
        assert f"alttext='{printed}'" in page  # MathML, its plain text beside it
    assert "<script" not in page and "https:" not in page  # drawn offline, nothing loaded
    assert "CHECK FAILED" not in page


def test_formulas_are_plain_text_without_latex2mathml(monkeypatch):
    import sys

    from chainrule.symbolic.matrix import gradient, parse
    from chainrule.symbolic.matrix.derivation import math_html

    g = gradient(parse("norm2(y - A*x)^2"), "x")
    assert "<math" in math_html(g)
    monkeypatch.setitem(sys.modules, "latex2mathml.converter", None)
    assert math_html(g).endswith(">−2Aᵀ(y − Ax)</span>")
