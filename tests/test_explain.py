"""Golden tests of the trace tables and graphs against the lecture's numbers.

The lecture (seeds/003, Griewank & Walther ch. 1) prints its tables with 4 decimals,
computed from rounded intermediates: its y = 2.0167 and x̄2 = -13.7239 are the exact
2.016647 and -13.723962 rounded after rounding errors, so values are compared to the
lecture's printed digits with a tolerance of 1.5 units in the last printed place.
(Its tangent slide's closing lines "y = 2.0100, ẏ = 3.0110" are typos for 2.0167, 3.0118.)
"""

import numpy as onp
import pytest

import chainrule as cr
import chainrule.numpy as np
from chainrule.explain.render import format_value, to_latex
from chainrule.tour import griewank_lecture, lecture_000


def close(got, printed: str) -> bool:
    decimals = len(printed.partition(".")[2])
    return abs(float(got) - float(printed)) <= 1.5 * 10.0 ** -decimals


GRIEWANK_PRIMAL = [("v-1", "1.5000"), ("v0", "0.5000"), ("v1", "3.0000"), ("v2", "0.1411"),
                   ("v3", "1.6487"), ("v4", "1.3513"), ("v5", "1.4924"), ("v6", "2.0167"),
                   ("y", "2.0167")]

GRIEWANK_TANGENT = [("v-1_dot", "1.0000"), ("v0_dot", "0.0000"), ("v1_dot", "2.0000"),
                    ("v2_dot", "-1.9800"), ("v3_dot", "0.0000"), ("v4_dot", "2.0000"),
                    ("v5_dot", "0.0200"), ("v6_dot", "3.0118"), ("y_dot", "3.0118")]

# the lecture's adjoint trace, one accumulation per line, as printed
GRIEWANK_ADJOINT = [("v6_bar", "1.0000"), ("v5_bar", "1.3513"), ("v4_bar", "1.4924"),
                    ("v4_bar", "2.8437"), ("v2_bar", "1.3513"), ("v3_bar", "-2.8437"),
                    ("v1_bar", "2.8437"), ("v0_bar", "-4.6884"), ("v1_bar", "1.5059"),
                    ("v0_bar", "-13.7239"), ("v-1_bar", "3.0118"), ("x2_bar", "-13.7239"),
                    ("x1_bar", "3.0118")]


def adjoint_rows(table):
    return [(r.key, r.value) for r in table.rows if r.kind == "adjoint"]


def test_griewank_primal_table():
    t = cr.trace_table(griewank_lecture, 1.5, 0.5)
    assert [r.key for r in t.rows] == [k for k, _ in GRIEWANK_PRIMAL]
    for key, printed in GRIEWANK_PRIMAL:
        assert close(t[key], printed), (key, t[key], printed)
    text = str(t)
    assert "v1  = v-1 / v0 = 1.5000 / 0.5000 = 3.0000" in text
    assert "v2  = sin(v1)  = sin(3.0000)     = 0.1411" in text
    assert text.splitlines()[1].startswith("v-1 = x1")


def test_griewank_tangent_table():
    t = cr.trace_table(griewank_lecture, 1.5, 0.5, mode="forward", wrt=0)
    for key, printed in GRIEWANK_TANGENT + GRIEWANK_PRIMAL:
        assert close(t[key], printed), (key, t[key], printed)
    rules = {r.key: r.formula for r in t.rows}
    from chainrule.explain.render import to_text

    assert to_text(rules["v1_dot"]) == "(v̇-1 - v1 * v̇0) / v0"
    assert to_text(rules["v2_dot"]) == "cos(v1) * v̇1"
    assert to_text(rules["v3_dot"]) == "v3 * v̇0"
    assert to_text(rules["v4_dot"]) == "v̇1 - v̇3"
    assert to_text(rules["v6_dot"]) == "v̇5 * v4 + v5 * v̇4"
    assert "v̇2  = cos(v1) * v̇1" in str(t) and "-0.9900 * 2.0000" in str(t)
    # tangent lines follow their primal lines, as in the lecture
    keys = [r.key for r in t.rows]
    assert keys.index("v2_dot") == keys.index("v2") + 1


def test_griewank_adjoint_table_in_the_lecture_order_of_accumulations():
    t = cr.trace_table(griewank_lecture, 1.5, 0.5, mode="reverse")
    got = adjoint_rows(t)
    # the same accumulations, each variable's successive values as in the lecture
    for var in ("v0_bar", "v1_bar", "v4_bar", "v-1_bar", "x1_bar", "x2_bar"):
        want = [p for k, p in GRIEWANK_ADJOINT if k == var]
        have = [v for k, v in got if k == var]
        assert len(have) == len(want), (var, have, want)
        assert all(close(h, w) for h, w in zip(have, want, strict=True)), (var, have, want)
    assert sorted(k for k, _ in got) == sorted(k for k, _ in GRIEWANK_ADJOINT)
    # equations are walked in reverse: v̄6 first, the inputs' adjoints last
    assert got[0][0] == "v6_bar" and [k for k, _ in got[-2:]] == ["x2_bar", "x1_bar"]
    text = str(t)
    assert "v̄4  = v̄4 + v̄5" in text and "1.4924 + 1.3513" in text
    assert "v̄1  = v̄1 + v̄2 * cos(v1) = 2.8437 + 1.3513 * (-0.9900) =" in text
    assert "v̄0  = v̄0 - v̄1 * v1 / v0" in text
    gx1, gx2 = cr.grad(griewank_lecture, argnums=(0, 1))(1.5, 0.5)
    assert t["x1_bar"] == pytest.approx(gx1, rel=1e-14)
    assert t["x2_bar"] == pytest.approx(gx2, rel=1e-14)


def test_chained_source_gives_the_same_numbers_after_cse():
    def f(x1, x2):
        return (np.sin(x1 / x2) + x1 / x2 - np.exp(x2)) * (x1 / x2 - np.exp(x2))

    t = cr.trace_table(f, 1.5, 0.5, mode="reverse")
    assert sum(1 for r in t.rows if r.kind == "primal" and "/" in r.formula) == 1  # CSE
    assert close(t["x2_bar"], "-13.7239") and close(t["y"], "2.0167")
    raw = cr.trace_table(f, 1.5, 0.5, optimize=False)
    assert sum(1 for r in raw.rows if "/" in r.formula) == 3


SEED0_PRIMAL = [("v-1", "2"), ("v0", "5"), ("v1", "0.693"), ("v2", "10"), ("v3", "-0.959"),
                ("v4", "10.693"), ("v5", "11.652"), ("y", "11.652")]
SEED0_TANGENT = [("v-1_dot", "1"), ("v0_dot", "0"), ("v1_dot", "0.5"), ("v2_dot", "5"),
                 ("v3_dot", "0"), ("v4_dot", "5.5"), ("v5_dot", "5.5"), ("y_dot", "5.5")]
SEED0_ADJOINT = [("v5_bar", "1"), ("v4_bar", "1"), ("v3_bar", "-1"), ("v1_bar", "1"),
                 ("v2_bar", "1"), ("v0_bar", "-0.284"), ("v-1_bar", "5"), ("v0_bar", "1.716"),
                 ("v-1_bar", "5.5"), ("x2_bar", "1.716"), ("x1_bar", "5.5")]


def test_seed000_three_tables():
    p = cr.trace_table(lecture_000, 2.0, 5.0)
    for key, printed in SEED0_PRIMAL:
        assert close(p[key], printed), (key, p[key], printed)
    f = cr.trace_table(lecture_000, 2.0, 5.0, mode="forward")
    for key, printed in SEED0_TANGENT:
        assert close(f[key], printed), (key, f[key], printed)
    from chainrule.explain.render import to_text

    assert to_text(next(r.formula for r in f.rows if r.key == "v1_dot")) == "v̇-1 / v-1"
    r = cr.trace_table(lecture_000, 2.0, 5.0, mode="reverse")
    got = adjoint_rows(r)
    assert sorted(k for k, _ in got) == sorted(k for k, _ in SEED0_ADJOINT)
    for var in ("v0_bar", "v-1_bar"):
        want = [p for k, p in SEED0_ADJOINT if k == var]
        have = [v for k, v in got if k == var]
        assert all(close(h, w) for h, w in zip(have, want, strict=True)), (var, have, want)
    assert "v̄-1 = v̄-1 + v̄1 / v-1 = 5.0000 + 1.0000 / 2.0000  =  5.5000" in str(r)


def test_exports_markdown_latex_html():
    t = cr.trace_table(griewank_lecture, 1.5, 0.5, mode="reverse")
    md = t.to_markdown()
    assert md.count("\n| ") == len(t.rows) + 2  # header, separator, rows
    assert r"$\bar{v}_{4}$" in md and r"$\bar{v}_{1} + \bar{v}_{2} \cdot \cos(v_{1})$" in md
    tex = t.to_latex()
    assert tex.startswith(r"\begin{array}") and tex.rstrip().endswith(r"\end{array}")
    assert r"\bar{x}_{1} & = & \bar{v}_{-1} & = & 3.0118 \\" in tex
    h = t._repr_html_()
    assert h.startswith("<table") and "<sub>-1</sub>" in h and "3.0118" in h
    assert to_latex("@[d:v:1]**2") == r"\dot{v}_{1}^2"


def test_digits_and_array_summaries():
    t = cr.trace_table(griewank_lecture, 1.5, 0.5, digits=6)
    assert "2.016647" in str(t)
    x = onp.linspace(0.1, 1.0, 5)
    r = cr.trace_table(lambda x: np.sum(np.sin(x) * x), x, mode="reverse")
    assert "f64[5]" in str(r)
    onp.testing.assert_allclose(r["x_bar"], onp.sin(x) + x * onp.cos(x))
    fw = cr.trace_table(lambda x: np.sum(np.sin(x) * x), x, mode="forward")
    assert fw["y_dot"] == pytest.approx(onp.sum(onp.sin(x) + x * onp.cos(x)))
    assert format_value(onp.zeros((2, 3))) == "f64[2,3]"
    assert format_value(1e-9) == "1.0000e-09"


def test_forward_wrt_second_input_and_errors():
    t = cr.trace_table(lecture_000, 2.0, 5.0, mode="forward", wrt=1)
    assert close(t["y_dot"], "1.716")
    with pytest.raises(ValueError, match="mode='sideways' is not one of"):
        cr.trace_table(lecture_000, 2.0, 5.0, mode="sideways")
    with pytest.raises(ValueError, match="wrt=5 must be the position of an input"):
        cr.trace_table(lecture_000, 2.0, 5.0, mode="forward", wrt=5)
    with pytest.raises(KeyError, match="no variable 'v99'"):
        cr.trace_table(lecture_000, 2.0, 5.0)["v99"]


def test_graph_dot_edges_are_local_partials():
    g = cr.graph(griewank_lecture, 1.5, 0.5, show="adjoint")
    assert len(g.nodes) == 8 and len(g.edges) == 10
    dot = g.dot
    assert dot.startswith("digraph")
    assert '"v0" -> "v1" [label="-v1 / v0 = -6.0000"]' in dot
    assert '"v1" -> "v2" [label="cos(v1) = -0.9900"]' in dot
    assert "v̄4 = 2.8437" in dot and "v̄0 = -13.7240" in dot
    layers = {n.key: n.layer for n in g.nodes}
    assert layers == {"v-1": 0, "v0": 0, "v1": 1, "v2": 2, "v3": 1, "v4": 2, "v5": 3, "v6": 4}


def test_graph_save_dot_svg_png(tmp_path):
    g = cr.graph(lecture_000, 2.0, 5.0)
    assert g.save(tmp_path / "g.dot").read_text() == g.dot
    try:
        svg = g.save(tmp_path / "g.svg").read_text()
    except ImportError as err:  # neither Graphviz nor Matplotlib: the message says so
        assert "Graphviz" in str(err) and "Matplotlib" in str(err)
        return
    assert "<svg" in svg and g._repr_svg_().count("<svg") == 1
    assert g.save(tmp_path / "g.png").read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(ValueError, match="use a .dot"):
        g.save(tmp_path / "g.txt")


def test_matplotlib_drawing_without_graphviz(tmp_path, monkeypatch):
    import chainrule.explain.compgraph as graph_mod

    monkeypatch.setattr(graph_mod.shutil, "which", lambda name: None)
    g = cr.graph(griewank_lecture, 1.5, 0.5, show="adjoint")
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="neither is installed"):
            g.svg()
        return
    assert "<svg" in g.svg()
    assert g.save(tmp_path / "m.png").read_bytes()[:4] == b"\x89PNG"
    pos = g.layout()
    assert pos["v-1"][0] == pos["v0"][0] == 0.0 and pos["v6"][0] == 4.0


def test_power_with_a_constant_exponent_reads_like_the_lecture():
    t = cr.trace_table(lambda x: 3 * x**2 + x**3, 2.0, mode="reverse")
    assert "v̄0 = v̄3 * 3 * v0**2" in str(t) and "v̄0 = v̄0 + v̄1 * 2 * v0" in str(t)
    assert t["x_bar"] == 24.0
    assert cr.trace_table(lecture_000, 2.0, 5.0, mode="forward", wrt="x2")["y_dot"] == \
        pytest.approx(2 - onp.cos(5.0))  # ∂/∂x2 = x1 - cos x2


def test_tour_sections_are_pluggable(tmp_path, capsys):
    from chainrule.tour import Section, run

    def mine(ctx):
        t = cr.trace_table(lecture_000, 2.0, 5.0, mode="reverse")
        return Section("my section", t.to_html(), "one table")

    def broken(ctx):
        raise RuntimeError("boom")

    assert run(tmp_path, sections=[mine, broken]) == 1  # a failing section fails the tour
    page = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "my section" in page and "RuntimeError: boom" in page
    out = capsys.readouterr().out
    assert "[ok] my section" in out and "[FAIL] broken" in out
