"""``chainrule tour``: every worked example of the lecture, computed and explained.

Each section is a function ``section(ctx) -> Section`` in :data:`SECTIONS`; the tour
runs them in order, writes one HTML report (``DIR/index.html``, graphs also as
separate SVG files) and prints a one-line summary per section. A later capability
adds its own section by appending to :data:`SECTIONS` (or passing ``sections=``).
"""

from __future__ import annotations

import html
import math
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as onp

import chainrule as cr
import chainrule.numpy as np
from chainrule.explain import graph, trace_table
from chainrule import examples
from chainrule.examples import Section
from chainrule.explain.compare import compare

__all__ = ["Section", "TourContext", "SECTIONS", "run", "griewank_lecture", "lecture_000"]


@dataclass
class TourContext:
    """What sections share: the output directory and options."""

    out: Path
    quick: bool = False
    graphs: list[Path] = field(default_factory=list)

    def graph_html(self, g, stem: str) -> str:
        """The graph inline as SVG (saved to ``stem.svg`` too), or its DOT text as a fallback."""
        try:
            path = g.save(self.out / f"{stem}.svg")
            self.graphs.append(path)
            svg = path.read_text()
            start = svg.find("<svg")
            return f'<div class="graph">{svg[start:] if start >= 0 else svg}</div>'
        except ImportError as err:
            (self.out / f"{stem}.dot").write_text(g.dot)
            return (f"<p class='note'>{html.escape(str(err))}</p>"
                    f"<pre>{html.escape(g.dot)}</pre>")


# --- the lecture's functions, written as the lecture writes them -----------------------------

def griewank_lecture(x1, x2):
    """y = (sin(x1/x2) + x1/x2 - e^x2)(x1/x2 - e^x2), in the lecture's order v1..v6."""
    v1 = x1 / x2
    v2 = np.sin(v1)
    v3 = np.exp(x2)
    v4 = v1 - v3
    v5 = v2 + v4
    return v5 * v4


def lecture_000(x1, x2):
    """f = ln x1 + x1 x2 - sin x2, in the lecture's order v1..v5."""
    v1 = np.log(x1)
    v2 = x1 * x2
    v3 = np.sin(x2)
    v4 = v1 + v2
    return v4 - v3


def _compare_html(f, point, names) -> tuple[str, bool, str]:
    cmp = compare(f, point, names)
    ref = cmp.gradient[0].value
    worst = max((r.discrepancy for r in cmp.gradient[1:] if r.discrepancy is not None),
                default=0.0)
    ok = ref is not None and worst < 1e-5 * max(1.0, float(onp.max(onp.abs(ref))))
    return cmp.to_html(), ok, f"gradient {onp.round(ref, 4).tolist()}, max |Δ| {worst:.1e}"


def _worked_example(ctx: TourContext, title: str, f: Callable, point: tuple,
                    names: tuple, stem: str, expected: dict[str, str]) -> Section:
    parts = [f"<p>{html.escape(f.__doc__ or '')} at "
             f"{', '.join(f'{n} = {p}' for n, p in zip(names, point, strict=True))}.</p>"]
    comp_html, ok, summary = _compare_html(f, point, names)
    parts.append(comp_html)
    tables = {m: trace_table(f, *point, mode=m) for m in ("primal", "forward", "reverse")}
    for t in tables.values():
        parts.append(t.to_html())
    for key, want in expected.items():  # the lecture's numbers, as printed (to its rounding)
        got = float(tables["reverse" if key.endswith("_bar") else "forward"][key])
        decimals = len(want.partition(".")[2])
        if abs(got - float(want)) > 1.5 * 10.0 ** -decimals:
            ok = False
            summary += f"; {key} = {got:.4f} but the lecture has {want}"
            parts.append(f"<p class='bad'>{key} = {got:.4f}, the lecture has {want}</p>")
    parts.append("<h4>Computational graph</h4>")
    parts.append(ctx.graph_html(graph(f, *point), f"{stem}_graph"))
    parts.append("<h4>Computational graph with adjoints</h4>")
    parts.append(ctx.graph_html(graph(f, *point, show="adjoint"), f"{stem}_adjoint"))
    return Section(title, "\n".join(parts), summary, ok)


def section_griewank(ctx: TourContext) -> Section:
    """Griewank & Walther's example at (1.5, 0.5): the three tables, graphs, every technique."""
    return _worked_example(
        ctx, "y = (sin(x1/x2) + x1/x2 − e^x2)(x1/x2 − e^x2) at (1.5, 0.5)", griewank_lecture,
        (1.5, 0.5), ("x1", "x2"), "griewank",
        {"y_dot": "3.0118", "x1_bar": "3.0118", "x2_bar": "-13.7239", "v4_bar": "2.8437"})


def section_lecture_000(ctx: TourContext) -> Section:
    """ln x1 + x1·x2 − sin x2 at (2, 5): the 'try it' exercise."""
    return _worked_example(
        ctx, "f = ln x1 + x1·x2 − sin x2 at (2, 5)", lecture_000, (2.0, 5.0), ("x1", "x2"),
        "lecture000", {"y_dot": "5.5", "x1_bar": "5.5", "x2_bar": "1.716"})


def section_more_examples(ctx: TourContext) -> Section:
    """The other worked examples of the lecture, every technique compared."""
    from chainrule.demo import logistic

    cases = [
        ("(x + 5) y", lambda x, y: (x + 5) * y, (2.0, 3.0), ("x", "y")),
        ("x y", lambda x, y: x * y, (3.0, 4.0), ("x", "y")),
        ("sin(a+b) cos(a+b)", lambda a, b: np.sin(a + b) * np.cos(a + b),
         (math.pi, math.pi / 2), ("a", "b")),
        ("x² + 5", lambda x: x**2 + 5, (3.0,), ("x",)),
        ("cos(x²)", lambda x: np.cos(x**2), (5.0,), ("x",)),
        ("logistic map l4(x)", logistic, (0.3,), ("x",)),
    ]
    parts, lines, ok = [], [], True
    for name, f, point, names in cases:
        body, good, summary = _compare_html(f, point, names)
        ok &= good
        lines.append(f"{name}: {summary}")
        parts.append(f"<h4>{html.escape(name)} at {point}</h4>{body}")
    D = cr.derivative
    d = [float(D(lambda x: 5 * x**3, order=k)(2.0)) for k in (1, 2, 3)]
    pc1 = float(cr.grad(lambda x: x * cr.grad(lambda y: x + y)(x))(5.0))
    pc2 = float(D(lambda x: x * D(lambda y: x * y)(1.0))(4.0))
    ok &= d == [60.0, 60.0, 30.0] and pc1 == 1.0 and pc2 == 8.0
    parts.append(
        "<h4>Higher order and perturbation confusion</h4><ul>"
        f"<li>5x³ at x = 2: derivatives {d} (lecture: 60, 60, 30)</li>"
        f"<li>grad(x ↦ x·grad(y ↦ x + y)(x))(5) = {pc1} (must be 1)</li>"
        f"<li>D(x ↦ x·D(y ↦ x·y)(1))(4) = {pc2} (must be 8)</li></ul>")
    return Section("More worked examples", "\n".join(parts),
                   f"{len(cases)} examples, all techniques agree: {ok}", ok)


def swell_rows(fs: list[Callable]) -> list[dict]:
    """Expression swell: symbolic derivative sizes against AD program sizes, per function."""
    import sympy as sp

    from chainrule.symbolic import ad_cost, dag_size, expression, expression_size

    rows = []
    for f in fs:
        x = sp.Symbol("x", real=True)
        e = expression(f, x)
        d = sp.diff(e, x)
        cost = ad_cost(f, 0.3)
        rows.append({"f": f.__name__, "|f| tree": expression_size(e),
                     "|f'| tree": expression_size(d), "|f'| dag": dag_size(d),
                     "AD ops (fwd + bwd)": cost.total,
                     "grad IR lines": len(cr.make_ir(cr.grad(f), optimize=True)(0.3))})
    return rows


def section_expression_swell(ctx: TourContext) -> Section:
    """Symbolic derivative size vs AD program size for sin(sin(…)) and the logistic map."""
    try:
        import sympy  # noqa: F401
    except ImportError:
        return Section("Expression swell", "<p class='note'>needs SymPy "
                       "(pip install chainrule[symbolic])</p>", "skipped: SymPy not installed")
    from chainrule.symbolic import logistic_map, nested_sin  # SymPy is optional

    n_sin = 6 if ctx.quick else 10
    n_log = 4 if ctx.quick else 6
    parts = ["<p>Tree size of the symbolic derivative (SymPy, no sharing), the same with "
             "common subexpressions shared, against the operations reverse-mode AD performs "
             "and the lines of the optimised gradient program.</p>"]
    summary = []
    for title, fs in (("sin(sin(…sin(x)))", [nested_sin(n) for n in range(1, n_sin + 1)]),
                      ("logistic map l_{k+1} = 4 l_k (1 − l_k)",
                       [logistic_map(n) for n in range(1, n_log + 1)])):
        rows = swell_rows(fs)
        head = "".join(f"<th>{html.escape(c)}</th>" for c in rows[0])
        body = "".join("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in r.values())
                       + "</tr>" for r in rows)
        parts.append(f"<h4>{html.escape(title)}</h4><table class='cr-compare'><tr>{head}</tr>"
                     f"{body}</table>")
        last = rows[-1]
        summary.append(f"{last['f']}: |f'| tree {last[chr(124) + 'f' + chr(39) + '| tree']} vs "
                       f"AD ops {last['AD ops (fwd + bwd)']}")
    return Section("Expression swell: AD is not symbolic differentiation", "\n".join(parts),
                   "; ".join(summary))


def section_allen_cahn(ctx: TourContext) -> Section:
    """Allen–Cahn: the spectral reference, Taylor mode and a physics-informed network."""
    from chainrule.examples.allen_cahn import tour_section

    return tour_section(ctx)


def section_learning(ctx: TourContext) -> Section:
    """The learning examples (chainrule.examples): numbers, tables and figures."""
    return examples.tour_section(ctx)


def section_matrix_calculus(ctx: TourContext) -> Section:
    """Closed-form gradients and Hessians of the lecture's matrix examples, derived."""
    try:
        from chainrule.symbolic.matrix.report import lecture_report  # symbolic needs SymPy
    except ImportError as err:
        return Section("Matrix calculus", f"<p class='note'>{html.escape(str(err))}</p>",
                       "skipped: SymPy not installed")
    return Section(*lecture_report(quick=ctx.quick))


def section_optimize(ctx: TourContext) -> Section:
    """Every optimiser on Rosenbrock (paths, convergence) and GD on the lecture's least squares."""
    from chainrule.optimize.report import tour_section

    return Section(*tour_section(ctx.out, ctx.quick))


def section_dask(ctx: TourContext) -> Section:
    """A gradient over Dask data, lazy, equal to NumPy's; L-BFGS over it."""
    from chainrule.examples.big_regression import tour_section

    return Section(*tour_section(ctx.out, ctx.quick))


#: the tour's sections, in order; later capabilities append theirs
SECTIONS: list[Callable[[TourContext], Section]] = [
    section_griewank,
    section_lecture_000,
    section_more_examples,
    section_expression_swell,
    section_optimize,
    section_learning,
    section_allen_cahn,
    section_matrix_calculus,
    section_dask,
]

_CSS = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; color: #222 }
h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; margin-top: 2em }
table { border-collapse: collapse; margin: .5em 0 }
td, th { padding: 2px 8px; border-bottom: 1px solid #eee; font-size: 13px }
table.cr-trace td { font-family: monospace; white-space: nowrap }
table.cr-trace tr.cr-tangent { background: #f3f8ff }
table.cr-trace tr.cr-adjoint { background: #fff6ef }
caption { text-align: left; font-weight: bold; font-family: system-ui, sans-serif;
          font-size: 15px; padding: .8em 0 .3em }
.graph svg { max-width: 100%; height: auto }
.bad { color: #b00 } .note { color: #666 }
"""


def _page(sections: list[Section], seconds: float) -> str:
    toc = "".join(f"<li><a href='#s{k}'>{html.escape(s.title)}</a> — "
                  f"{'ok' if s.ok else 'CHECK FAILED'}</li>" for k, s in enumerate(sections))
    body = "".join(f"<h2 id='s{k}'>{html.escape(s.title)}</h2>\n{s.html}\n"
                   for k, s in enumerate(sections))
    return ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>chainrule tour</title>"
            f"<style>{_CSS}</style></head><body><h1>chainrule: the lecture's worked examples"
            f"</h1><p>Generated in {seconds:.1f} s by <code>chainrule tour</code>.</p>"
            f"<ul>{toc}</ul>{body}</body></html>")


def run(out: str | Path = "out", quick: bool = False,
        sections: list[Callable[[TourContext], Section]] | None = None) -> int:
    """Run the tour: compute every section, write ``out/index.html``, print a summary.

    Args:
        out: the output directory (created if needed).
        quick: smaller tables (for tests).
        sections: the sections to run (default :data:`SECTIONS`).

    Returns:
        0 when every section's checks passed, 1 otherwise.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    ctx = TourContext(out, quick)
    t0 = time.perf_counter()
    done: list[Section] = []
    for sec in sections if sections is not None else SECTIONS:
        s0 = time.perf_counter()
        try:
            s = sec(ctx)
        except Exception as err:  # noqa: BLE001 - one broken section must not hide the others
            s = Section(getattr(sec, "__name__", "section"),
                        f"<pre class='bad'>{html.escape(traceback.format_exc())}</pre>",
                        f"FAILED: {type(err).__name__}: {err}", ok=False)
        done.append(s)
        print(f"[{'ok' if s.ok else 'FAIL'}] {s.title} ({time.perf_counter() - s0:.1f} s): "
              f"{s.summary}")
    page = out / "index.html"
    page.write_text(_page(done, time.perf_counter() - t0), encoding="utf-8")
    print(f"report: {page} ({len(ctx.graphs)} graphs)")
    return 0 if all(s.ok for s in done) else 1
