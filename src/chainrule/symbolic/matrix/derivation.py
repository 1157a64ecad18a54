"""The derivation shown, step by step, as the lecture does it by hand.

``derive(f, x, method="taylor")``: perturb x by δ (splitting it off an affine argument,
‖(y − Ax) − Aδ‖²), expand f(x + δ), keep the terms of order δ, move everything off δ with
the trace and transpose identities until the term reads ⟨G, δ⟩, and read off ∇f = G; with
``order=2`` perturb the gradient as well and read the Hessian off the term of order δ²
(½⟨δ, ∇²f δ⟩).

``derive(f, x, method="chain")``: name the intermediate values u₁ = …, u₂ = … on the way
from x to f, take the gradient of the outer function, and apply the vector chain rule
∇_{uⱼ₋₁} f = J_{uⱼ}ᵀ ∇_{uⱼ} f link by link, each Jacobian shown (as a matrix for vectors, as
the linear map du ↦ … for matrices).

Example:
    >>> from chainrule.symbolic.matrix.parse import parse
    >>> print(derive(parse("norm2(y - A*x)^2"), "x").text())
    the function:
        f(x) = ‖y − Ax‖²
    perturb x by δ:
        f(x + δ) = ‖y − A(x + δ)‖²
    split off the perturbation:
        f(x + δ) = ‖(y − Ax) − Aδ‖²
    expand and keep the terms of order δ:
        f(x + δ) = ‖y − Ax‖² − 2⟨y − Ax, Aδ⟩ + O(‖δ‖²)
    ⟨C, sM⟩ = ⟨⟨C, M⟩, s⟩ for a scalar s:
        = ⟨−2, ⟨y − Ax, Aδ⟩⟩
    ⟨c, ⟨A, E⟩⟩ = ⟨cA, E⟩:
        = ⟨−2(y − Ax), Aδ⟩
    ⟨C, PEQ⟩ = ⟨PᵀCQᵀ, E⟩ (cyclic property of the trace):
        = ⟨−2Aᵀ(y − Ax), δ⟩
    read off the gradient:
        ∇f(x) = −2Aᵀ(y − Ax)
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

from chainrule.symbolic.matrix.differentiate import (
    Wrt, collect, differential, gradient, hessian, hvp, perturbation, read_off_matrix, resolve,
)
from chainrule.symbolic.matrix.expr import (
    Add, Det, Elementwise, Expr, Inner, Inverse, LogDet, Mul, Norm, Number, Power, Sum, Symbol,
    Text, Trace,
)
from chainrule.symbolic.matrix.printing import latex, text
from chainrule.symbolic.matrix.simplify import simplify

__all__ = ["Step", "Derivation", "derive"]


@dataclass(frozen=True)
class Step:
    """One line of a derivation: ``lhs = rhs``, and the reason."""

    reason: str
    lhs: Expr | None
    rhs: Expr


@dataclass
class Derivation:
    """The steps of a derivation and its results.

    Attributes:
        method: ``"taylor"`` or ``"chain"``.
        expr: the function.
        wrt: the variable.
        steps: the lines, in order.
        gradient: ∇f, closed form.
        hessian: ∇²f (order 2, vector variable), or the Hessian-vector product ∇²f[Δ]
            (order 2, matrix variable), else None.
    """

    method: str
    expr: Expr
    wrt: Symbol
    steps: list[Step] = field(default_factory=list)
    gradient: Expr | None = None
    hessian: Expr | None = None

    def text(self) -> str:
        """The steps as Unicode text (the reason, then the line, indented)."""
        out = []
        for s in self.steps:
            out.append(f"{s.reason}:")
            lhs = f"{text(s.lhs)} " if s.lhs is not None else ""
            out.append(f"    {lhs}= {text(s.rhs)}")
        return "\n".join(out)

    def latex(self) -> str:
        """The steps as one LaTeX ``aligned`` block, reasons as ``\\text`` on the right."""
        rows = [f"{latex(s.lhs) if s.lhs is not None else ''} &= {latex(s.rhs)} "
                rf"&& \text{{{_latex_text(s.reason)}}}" for s in self.steps]
        return "\\begin{aligned}\n" + " \\\\\n".join(rows) + "\n\\end{aligned}"

    def html(self) -> str:
        """The steps as an HTML table, each formula as :func:`math_html` writes it."""
        rows = []
        for s in self.steps:
            lhs = math_html(s.lhs) if s.lhs is not None else ""
            rows.append(f"<tr><td class='cr-reason'>{html.escape(s.reason)}</td>"
                        f"<td style='text-align:right'>{lhs}</td><td>=</td>"
                        f"<td>{math_html(s.rhs)}</td></tr>")
        return "<table class='cr-derivation'>" + "".join(rows) + "</table>"

    def __str__(self) -> str:
        return self.text()


def math_html(e: Expr) -> str:
    """A formula for HTML: MathML made from its LaTeX (drawn by the browser itself, offline)
    when ``latex2mathml`` is installed, else readable Unicode text; the LaTeX is kept in
    ``data-tex`` for copying."""
    tex, plain = latex(e), text(e)
    body = _mathml(tex, plain) or html.escape(plain)
    return f"<span class='cr-math' data-tex='{html.escape(tex, quote=True)}'>{body}</span>"


def _mathml(tex: str, plain: str) -> str | None:
    """``tex`` as inline MathML, or None without ``latex2mathml`` or for LaTeX it cannot
    convert."""
    try:
        from latex2mathml.converter import convert
    except ImportError:
        return None
    try:
        mathml = convert(tex)
    except Exception:  # noqa: BLE001 - an unsupported command: the Unicode text instead
        return None
    return mathml.replace("<math ", f"<math alttext='{html.escape(plain, quote=True)}' ", 1)


def _latex_text(s: str) -> str:
    return s.replace("\\", r"\textbackslash ").replace("{", r"\{").replace("}", r"\}")


def _label(kind: str, x: Symbol, delta: Symbol | None = None, shape=(1, 1)) -> Text:
    """Display labels such as f(x + δ) in both notations."""
    xt, xl = text(x), latex(x)
    dt, dl = (text(delta), latex(delta)) if delta is not None else ("", "")
    table = {
        "f": ("f(%s)" % xt, "f(%s)" % xl),
        "f+": (f"f({xt} + {dt})", f"f({xl} + {dl})"),
        "grad": (f"∇f({xt})", rf"\nabla f({xl})"),
        "grad+": (f"∇f({xt} + {dt}) − ∇f({xt})", rf"\nabla f({xl} + {dl}) - \nabla f({xl})"),
        "hess": (f"∇²f({xt})", rf"\nabla^2 f({xl})"),
        "hvp": (f"∇²f({xt})[{dt}]", rf"\nabla^2 f({xl})[{dl}]"),
        "O1": (f"O(‖{dt}‖²)", rf"O(\|{dl}\|^2)"),
        "O2": (f"O(‖{dt}‖³)", rf"O(\|{dl}\|^3)"),
        "quad": (f"½⟨{dt}, ∇²f({xt}){dt}⟩", rf"\tfrac12\langle {dl}, \nabla^2 f({xl}){dl}\rangle"),
    }
    return Text(*table[kind], *shape)


def derive(expr: Expr, wrt: Wrt, method: str = "taylor", order: int = 1) -> Derivation:
    """The derivation of ∇f (and with ``order=2`` of ∇²f), step by step.

    Args:
        expr: a scalar expression.
        wrt: the variable (its name or symbol).
        method: ``"taylor"`` (the Taylor-expansion method) or ``"chain"`` (the vector chain
            rule, order 1).
        order: 1 for the gradient, 2 for the gradient and the Hessian (``"taylor"`` only).

    Returns:
        A :class:`Derivation` (``.text()``, ``.latex()``, ``.html()``, ``.gradient``,
        ``.hessian``).
    """
    if method not in ("taylor", "chain"):
        raise ValueError(f"method={method!r}: expected 'taylor' or 'chain'")
    if order not in (1, 2):
        raise ValueError(f"order={order!r}: expected 1 (gradient) or 2 (gradient and Hessian)")
    if method == "chain" and order == 2:
        raise ValueError("method='chain' derives the gradient (order=1); use method='taylor' "
                         "for the Hessian")
    x = resolve(expr, wrt)
    g = gradient(expr, x)
    d = Derivation(method, expr, x, gradient=g)
    if method == "taylor":
        _taylor(d, order)
    else:
        _chain(d)
    return d


def _taylor(d: Derivation, order: int) -> None:
    expr, x, steps = d.expr, d.wrt, d.steps
    delta = perturbation(x)
    steps.append(Step("the function", _label("f", x), expr))
    steps.append(Step(f"perturb {text(x)} by {text(delta)}", _label("f+", x, delta),
                      expr.substitute({x: Add((x, delta))})))
    split = _split_perturbation(expr, x, delta)
    if split is not None:
        steps.append(Step("split off the perturbation", _label("f+", x, delta), split))
    lin = differential(expr, x, delta)
    shown = simplify(lin, lower_inner=False) if lin is not None else Number(0)
    steps.append(Step(f"expand and keep the terms of order {text(delta)}",
                      _label("f+", x, delta),
                      Add((expr, *_terms(shown), _label("O1", x, delta)))))
    if lin is not None:
        moves: list[tuple[str, Expr]] = []
        collect(shown, delta, moves)
        steps.extend(Step(reason, None, state) for reason, state in moves)
    steps.append(Step("read off the gradient", _label("grad", x), d.gradient))
    if order == 1:
        return
    dg = differential(d.gradient, x, delta)
    dg = simplify(dg) if dg is not None else Number(0)
    steps.append(Step(f"perturb the gradient: its term of order {text(delta)} is "
                      f"∇²f {text(delta)}", _label("grad+", x, delta, x.shape),
                      Add((*_terms(dg), _label("O1", x, delta, x.shape)))))
    steps.append(Step(f"so the term of order {text(delta)}² of f({text(x)} + {text(delta)}) is",
                      _label("quad", x, delta), Mul((Number(0.5), Inner(delta, dg)))))
    if x.rows != 1 and x.cols != 1:
        d.hessian = hvp(d.expr, x, direction=delta.name)
        steps.append(Step("the Hessian is a fourth-order tensor; its action on "
                          f"{text(delta)}", _label("hvp", x, delta), d.hessian))
        return
    d.hessian = hessian(d.expr, x)
    steps.append(Step("read off the Hessian", _label("hess", x), d.hessian))


#: nodes that apply a function to their argument: the vector chain rule names the argument
_FUNCTIONS = (Elementwise, Norm, Power, Inverse, LogDet, Det, Trace, Sum)


def _intermediates(expr: Expr, x: Symbol) -> list[Expr]:
    """The values the chain rule names, innermost first: the argument of each function
    (exp, ‖·‖², tr, …) on the way from the root to x, while x sits in one child only."""
    path = [expr]
    while path[-1] != x:
        holding = [c for c in path[-1].children() if c.contains(x)]
        if len(holding) != 1 or path[-1].children().count(holding[0]) > 1:
            break
        path.append(holding[0])
    out = []
    for parent, node in zip(path, path[1:]):
        if node == x or not isinstance(parent, _FUNCTIONS):
            continue
        if isinstance(node, Norm) and isinstance(parent, Power):
            continue  # ‖v‖ᵖ is one function of v
        out.append(node)
    return out[::-1]


def _chain(d: Derivation) -> None:
    expr, x, steps = d.expr, d.wrt, d.steps
    nodes = _intermediates(expr, x)  # innermost first
    taken = set(expr.symbols())
    names: list[Symbol] = []
    for j, node in enumerate(nodes, start=1):
        base = "U" if (node.shape[0] != 1 and node.shape[1] != 1) else "u"
        name = f"{base}{j}"
        while name in taken:
            name += "'"
        names.append(Symbol(name, *node.shape))
    # u_j = ℓ_j(u_{j−1}) with u_0 = x; f = ℓ_f(u_L)
    chain_vars = [x] + names
    local: list[Expr] = []
    for j, node in enumerate(nodes):
        local.append(node if j == 0 else node.substitute({nodes[j - 1]: chain_vars[j]}))
    outer = expr.substitute({nodes[-1]: chain_vars[-1]}) if nodes else expr
    for u, e in zip(names, local):
        steps.append(Step("name an intermediate value", u, e))
    last = chain_vars[-1]
    steps.append(Step("the outer function", Text("f", "f"), outer))
    g = gradient(outer, last)
    steps.append(Step(f"its gradient in {text(last)}", _grad_label(last), g))
    for j in range(len(nodes), 0, -1):
        u, prev = chain_vars[j], chain_vars[j - 1]
        delta = perturbation(prev, "δ" if prev.shape[0] == 1 or prev.shape[1] == 1 else "Δ")
        du = simplify(differential(local[j - 1], prev, delta))
        if (u.is_column or u.is_scalar) and (prev.is_column or prev.is_scalar):
            J = simplify(read_off_matrix(du, delta))
            steps.append(Step(f"the Jacobian of {text(u)} in {text(prev)}",
                              Text(f"J_{text(u)}", f"J_{{{latex(u)}}}"), J))
        else:
            steps.append(Step(f"the Jacobian of {text(u)} in {text(prev)}, as the linear map "
                              f"d{text(prev)} = {text(delta)} ↦ d{text(u)}",
                              Text(f"d{text(u)}", rf"\mathrm{{d}}{latex(u)}"), du))
        g = collect(simplify(Inner(g, du)), delta)
        steps.append(Step(f"chain rule: ∇_{text(prev)} f = J_{text(u)}ᵀ ∇_{text(u)} f",
                          _grad_label(prev), g))
    for u, e in zip(reversed(names), reversed(local)):  # substitute back, outside in
        g = g.substitute({u: e})
    g = simplify(g)
    steps.append(Step("substitute the intermediate values back", _label("grad", x), g))


def _split_perturbation(expr: Expr, x: Symbol, delta: Symbol) -> Expr | None:
    """h(u + du) when the innermost function's argument u is affine in x (so that
    u(x + δ) = u + du exactly): ‖(y − Ax) − Aδ‖², as the lecture writes it."""
    nodes = _intermediates(expr, x)
    if not nodes:
        return None
    u = nodes[-1]
    du = differential(u, x, delta)
    if du is None or simplify(du).contains(x):
        return None
    du = simplify(du)
    neg = du.factors[1:] if isinstance(du, Mul) and du.factors[0] == Number(-1) else None
    moved = Add((u, Mul((Number(-1), *neg)))) if neg else Add((u, du))
    return expr.substitute({u: moved})


def _terms(e: Expr) -> tuple[Expr, ...]:
    return e.terms if isinstance(e, Add) else (e,)


def _grad_label(u: Symbol) -> Text:
    return Text(f"∇_{text(u)} f", rf"\nabla_{{{latex(u)}}} f")
