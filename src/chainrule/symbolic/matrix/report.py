"""The lecture's matrix examples as an HTML report: derivations, closed forms, code, checks.

:func:`lecture_report` is the body of the ``chainrule tour`` section on matrix calculus.
Formulas are MathML, which browsers draw themselves (no script, no network), made from
their LaTeX by ``latex2mathml`` when it is installed; otherwise readable Unicode text.
"""

from __future__ import annotations

import html

import numpy as onp

import chainrule.numpy as cnp
from chainrule import transforms
from chainrule.symbolic.matrix.codegen import lambdify
from chainrule.symbolic.matrix.derivation import derive, math_html
from chainrule.symbolic.matrix.evaluate import dimension_sizes, evaluate, random_values
from chainrule.symbolic.matrix.parse import parse

__all__ = ["lecture_report", "STYLE"]

STYLE = """<style>
table.cr-derivation td { font-size: 15px; padding: 3px 8px; vertical-align: middle }
table.cr-derivation td.cr-reason { color: #555; font-size: 13px; max-width: 22em }
.cr-math { font-family: 'Cambria Math', 'STIX Two Math', serif }
</style>"""

#: (formula, variable, declarations, order, method, what the lecture calls it)
EXAMPLES = [
    ("norm2(y - A*x)^2", "x", {}, 2, "taylor", "least squares, by Taylor expansion"),
    ("norm2(y - A*x)^2", "x", {}, 1, "chain", "least squares, by the vector chain rule"),
    ("x' * A * x", "x", {}, 2, "taylor", "the quadratic form xᵀAx"),
    ("x' * A * x", "x", {"symmetric": ["A"]}, 2, "taylor", "xᵀAx with A symmetric"),
    ("norm2(Y - W3*W2*W1*X)^2", "W2", {}, 1, "taylor",
     "three-layer linear network, the middle layer"),
    ("norm2(Y - W3*W2*W1*X)^2", "W1", {}, 1, "taylor", "three-layer network, the first layer"),
    ("norm2(Y - W3*W2*W1*X)^2", "W3", {}, 1, "chain", "three-layer network, the last layer"),
    ("logdet(X)", "X", {}, 1, "taylor", "log det X"),
    ("x'*A*x + norm2(B*x)^4", "x", {}, 2, "taylor", "xᵀAx + ‖Bx‖⁴ (the benchmark's Hessian)"),
]


def _relative_error(got, want) -> float:
    got, want = onp.asarray(got, float), onp.asarray(want, float)
    return float(onp.max(onp.abs(got - want)) / max(onp.max(onp.abs(want)), 1e-300))


def check_against_reverse_mode(expr, wrt, gradient, hessian=None, seed=0) -> float:
    """The largest relative difference between the closed forms and reverse mode's
    ``grad`` / ``hessian`` (or ``hvp`` for a matrix variable) at random values."""
    values = random_values(expr, seed)
    sizes = dimension_sizes(expr, values)
    names = list(expr.symbols())
    k = names.index(wrt)
    args = [values[n] for n in names]

    def f(*a):
        return evaluate(expr, dict(zip(names, a)), xp=cnp)

    err = _relative_error(evaluate(gradient, values, sizes=sizes),
                          transforms.grad(f, argnums=k)(*args))
    if hessian is None:
        return err
    sym = expr.symbols()[wrt]
    if sym.rows != 1 and sym.cols != 1:
        v = onp.random.default_rng(seed + 1).standard_normal(onp.shape(values[wrt]))
        delta = "Δ"
        want = transforms.hvp(lambda a: f(*(args[:k] + [a] + args[k + 1:])), (args[k],), (v,))
        got = evaluate(hessian, {**values, delta: v}, sizes=sizes)
        return max(err, _relative_error(got, want[0] if isinstance(want, tuple) else want))
    got = evaluate(hessian, values, sizes=sizes)
    return max(err, _relative_error(got, transforms.hessian(f, argnums=k)(*args)))


def lecture_report(quick: bool = False) -> tuple[str, str, str, bool]:
    """The tour section: (title, HTML body, one-line summary, whether every check passed).

    Args:
        quick: leave out the generated code listings.
    """
    parts = [STYLE, "<p>Closed-form gradients and Hessians of the lecture's matrix examples, "
             "derived by <code>chainrule.symbolic.matrix</code> the way the lecture does it "
             "by hand, printed as a person writes them, turned into NumPy code, and checked "
             "against chainrule's reverse mode at random values. The same from the command "
             "line: <code>chainrule matrix-diff \"norm2(y - A*x)^2\" --wrt x --hessian</code>."
             "</p>"]
    worst, ok = 0.0, True
    for formula, wrt, decl, order, method, title in EXAMPLES:
        expr = parse(formula, **decl)
        d = derive(expr, wrt, method=method, order=order)
        err = check_against_reverse_mode(expr, wrt, d.gradient, d.hessian)
        worst = max(worst, err)
        good = err <= 1e-10
        ok &= good
        symmetric = ", ".join(decl.get("symmetric", []))
        parts.append(f"<h4>{html.escape(title)}: <code>{html.escape(formula)}</code>"
                     f"{f' ({symmetric} symmetric)' if symmetric else ''}"
                     f", with respect to {html.escape(wrt)}</h4>")
        parts.append(d.html())
        result = f"<p>∇f = {math_html(d.gradient)}"
        if d.hessian is not None:
            matrix_variable = d.wrt.rows != 1 and d.wrt.cols != 1
            result += f"; ∇²f{'[Δ]' if matrix_variable else ''} = {math_html(d.hessian)}"
        result += (f" — against reverse mode: relative difference {err:.1e} "
                   f"<span class='{'note' if good else 'bad'}'>"
                   f"({'ok' if good else 'CHECK FAILED'})</span></p>")
        parts.append(result)
        if not quick and method == "taylor":
            outputs = {"gradient": d.gradient}
            if d.hessian is not None and order == 2 and "Δ" not in d.hessian.symbols():
                outputs["hessian"] = d.hessian
            code = lambdify(outputs, like=expr, name=f"derivatives_wrt_{wrt}").source
            parts.append(f"<pre>{html.escape(code)}</pre>")
    summary = (f"{len(EXAMPLES)} derivations, closed forms agree with reverse mode to "
               f"{worst:.1e} relative")
    return "Matrix calculus: closed forms the lecture's way", "\n".join(parts), summary, ok
