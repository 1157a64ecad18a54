"""Gradients and Hessians by the Taylor-expansion method.

For a scalar f and a perturbation δ of the variable x,

    f(x + δ) = f(x) + ⟨∇f(x), δ⟩ + ½⟨δ, ∇²f(x) δ⟩ + O(‖δ‖³).

:func:`differential` computes the term of order δ (the differential df = Df(x)[δ]) by the
product rule and the differentials of the building blocks: d(X⁻¹) = −X⁻¹ dX X⁻¹,
d log det X = tr(X⁻¹dX), d det X = det X tr(X⁻¹dX), d‖u‖² = 2⟨u, du⟩,
d f(U) = f′(U) ⊙ dU for an elementwise f. :func:`collect` then writes it as ⟨G, δ⟩ with the
identities

    ⟨C, P E Q⟩ = ⟨PᵀCQᵀ, E⟩       (cyclic property of the trace)
    ⟨C, Eᵀ⟩ = ⟨Cᵀ, E⟩               ⟨C, H ⊙ E⟩ = ⟨C ⊙ H, E⟩
    ⟨c, tr E⟩ = ⟨cI, E⟩            ⟨c, sum E⟩ = ⟨c𝟙, E⟩
    ⟨C, s M⟩ = ⟨⟨C, M⟩, s⟩  (s a scalar)

and G is the gradient. For the Hessian the gradient is perturbed again: its differential
d(∇f) is linear in δ and written as Hδ (:func:`hessian`); for a matrix variable the Hessian
is a fourth-order tensor and :func:`hvp` gives its product with a direction instead.

Example:
    >>> from chainrule.symbolic.matrix.parse import parse
    >>> from chainrule.symbolic.matrix.printing import text
    >>> f = parse("norm2(y - A*x)^2")
    >>> text(gradient(f, "x")), text(hessian(f, "x"))
    ('−2Aᵀ(y − Ax)', '2AᵀA')
"""

from __future__ import annotations

from typing import Union

from chainrule.symbolic.matrix.expr import (
    Add, Det, Diag, Elementwise, Expr, Hadamard, Identity, Inner, Inverse, LogDet, Mul, Norm,
    Number, Ones, Power, ShapeError, Sum, Symbol, Trace, Transpose, Zero, Text,
)
from chainrule.symbolic.matrix.simplify import make_mul, simplify, split_mul

__all__ = ["differential", "collect", "gradient", "hessian", "hvp", "perturbation",
           "read_off_matrix", "resolve"]

Wrt = Union[str, Symbol]


def resolve(expr: Expr, wrt: Wrt) -> Symbol:
    """The symbol of ``expr`` named (or given by) ``wrt``; a clear error when it is absent."""
    symbols = expr.symbols()
    name = wrt.name if isinstance(wrt, Symbol) else wrt
    if not isinstance(name, str) or name not in symbols:
        raise ValueError(f"wrt={wrt!r}: not a symbol of the expression; it has "
                         f"{', '.join(symbols) or 'no symbols'}")
    return symbols[name]


def perturbation(x: Symbol, name: str | None = None) -> Symbol:
    """The perturbation of ``x``: δ for a vector or scalar, Δ for a matrix (same shape)."""
    if name is None:
        name = "Δ" if (x.rows != 1 and x.cols != 1) else "δ"
    return Symbol(name, x.rows, x.cols)


def _one(u: Expr) -> Expr:
    return Number(1) if u.is_scalar else Ones(*u.shape)


def _elementwise_derivative(func: str, u: Expr, fu: Expr) -> Expr | None:
    """f′(u), entry by entry, written with the tree's own nodes (None: zero almost everywhere)."""
    one = _one(u)
    prod = Mul if u.is_scalar else Hadamard
    table = {
        "exp": lambda: fu,
        "log": lambda: Power(u, -1),
        "sin": lambda: Elementwise("cos", u),
        "cos": lambda: Mul((Number(-1), Elementwise("sin", u))),
        "tanh": lambda: Add((one, Mul((Number(-1), Power(fu, 2))))),
        "sqrt": lambda: Mul((Number(0.5), Power(u, -0.5))),
        "sigmoid": lambda: prod((fu, Add((one, Mul((Number(-1), fu)))))),
        "relu": lambda: Elementwise("step", u),
        "step": lambda: None,
    }
    return table[func]()


def differential(e: Expr, x: Symbol, dx: Expr) -> Expr | None:  # noqa: C901
    """The term of ``e(x + dx)`` of order one in ``dx`` (None when it is zero).

    Args:
        e: the expression.
        x: the variable.
        dx: the perturbation (same shape as ``x``).

    Returns:
        An expression linear in ``dx`` (not simplified), or None.
    """
    memo: dict[Expr, Expr | None] = {}

    def d(e: Expr) -> Expr | None:
        if e in memo:
            return memo[e]
        memo[e] = out = _d(e)
        return out

    def _d(e: Expr) -> Expr | None:  # noqa: C901, PLR0912
        if e == x:
            return dx
        if not e.children() or not e.contains(x):
            return None
        if isinstance(e, Add):
            terms = tuple(t for t in (d(t) for t in e.terms) if t is not None)
            return Add(terms) if len(terms) > 1 else (terms[0] if terms else None)
        if isinstance(e, (Mul, Hadamard)):
            terms = []  # the last factor first: xᵀAδ + δᵀAx reads Aᵀx + Ax, as on paper
            for k in reversed(range(len(e.factors))):
                f = e.factors[k]
                df = d(f)
                if df is not None:
                    terms.append(e.rebuild(e.factors[:k] + (df,) + e.factors[k + 1:]))
            return Add(tuple(terms)) if len(terms) > 1 else (terms[0] if terms else None)
        if isinstance(e, Inner):
            da, db = d(e.a), d(e.b)
            terms = ([Inner(da, e.b)] if da is not None else []) + (
                [Inner(e.a, db)] if db is not None else [])
            return Add(tuple(terms)) if len(terms) > 1 else terms[0]
        u = e.children()[0]
        du = d(u)
        if du is None:
            return None
        if isinstance(e, (Transpose, Trace, Sum, Diag)):
            return e.rebuild((du,))
        if isinstance(e, Inverse):
            return Mul((Number(-1), e, du, e))
        if isinstance(e, LogDet):
            return Trace(Mul((Inverse(u), du)))
        if isinstance(e, Det):
            return Mul((e, Trace(Mul((Inverse(u), du)))))
        if isinstance(e, Norm):
            return Mul((Power(e, -1), Inner(u, du)))
        if isinstance(e, Power):
            p = e.exponent
            if isinstance(u, Norm):  # d‖v‖ᵖ = p‖v‖ᵖ⁻²⟨v, dv⟩, no square root in sight
                dv = d(u.arg)
                return Mul((Number(p), Power(u, p - 2), Inner(u.arg, dv)))
            if u.is_scalar:
                return Mul((Number(p), Power(u, p - 1), du))
            return Hadamard((Mul((Number(p), Power(u, p - 1))), du))
        if isinstance(e, Elementwise):
            fp = _elementwise_derivative(e.func, u, e)
            if fp is None:
                return None
            return Mul((fp, du)) if u.is_scalar else Hadamard((fp, du))
        raise TypeError(f"no differential for {type(e).__name__}")  # pragma: no cover

    return d(e)


def _rule_pull(C: Expr, E: Expr, delta: Expr) -> tuple[list[tuple[Expr, Expr]], str]:
    """One identity moving ⟨C, E⟩ towards ⟨G, δ⟩: the new pairs and the identity used."""
    if isinstance(E, Transpose):
        return [(simplify(Transpose(C)), E.arg)], "⟨C, Eᵀ⟩ = ⟨Cᵀ, E⟩"
    if isinstance(E, Add):
        return ([(C, t) for t in E.terms if t.contains(delta)],
                "⟨C, E₁ + E₂⟩ = ⟨C, E₁⟩ + ⟨C, E₂⟩")
    if isinstance(E, Mul):
        coeff, scalars, chain = split_mul(E)
        for k, s in enumerate(scalars):
            if s.contains(delta):
                rest = make_mul(coeff, scalars[:k] + scalars[k + 1:], chain)
                return [(simplify(Inner(C, rest)), s)], "⟨C, sM⟩ = ⟨⟨C, M⟩, s⟩ for a scalar s"
        for k, f in enumerate(chain):
            if f.contains(delta):
                P, Q = chain[:k], chain[k + 1:]
                Pt = tuple(Transpose(p) for p in reversed(P))
                Qt = () if not Q else (Transpose(Q[0] if len(Q) == 1 else Mul(Q)),)
                new = simplify(Mul((Number(coeff),) + scalars + Pt + (C,) + Qt))
                return [(new, f)], "⟨C, PEQ⟩ = ⟨PᵀCQᵀ, E⟩ (cyclic property of the trace)"
    if isinstance(E, Hadamard):
        for k, f in enumerate(E.factors):
            if f.contains(delta):
                others = E.factors[:k] + E.factors[k + 1:]
                return ([(simplify(Hadamard((C,) + others)), f)],
                        "⟨C, H ⊙ E⟩ = ⟨C ⊙ H, E⟩")
    if isinstance(E, Trace):
        return [(simplify(Mul((C, Identity(E.arg.shape[0])))), E.arg)], "⟨c, tr E⟩ = ⟨cI, E⟩"
    if isinstance(E, Sum):
        return [(simplify(Mul((C, Ones(*E.arg.shape)))), E.arg)], "⟨c, sum E⟩ = ⟨c𝟙, E⟩"
    if isinstance(E, Inner):
        a, b = (E.a, E.b) if E.b.contains(delta) else (E.b, E.a)
        return [(simplify(Mul((C, a))), b)], "⟨c, ⟨A, E⟩⟩ = ⟨cA, E⟩"
    raise NotImplementedError(f"cannot collect ⟨C, E⟩ for E a {type(E).__name__}: the "
                              "derivative of this building block is not supported")


def collect(linear: Expr, delta: Symbol,
            steps: list[tuple[str, Expr]] | None = None) -> Expr:
    """G with ``linear`` = ⟨G, δ⟩, for a scalar expression linear in δ.

    Args:
        linear: the order-δ term (a scalar, linear in ``delta``).
        delta: the perturbation symbol.
        steps: if given, receives (identity, the whole term after applying it) per step.

    Returns:
        G, simplified.
    """
    pending: list[tuple[Expr, Expr]] = [(Number(1), linear)]
    done: list[Expr] = []
    while pending:
        C, E = pending.pop(0)
        if not E.contains(delta):  # a term that cancelled to zero
            continue
        if E == delta:
            done.append(C)
            continue
        new, rule = _rule_pull(C, E, delta)
        pending[0:0] = new
        if steps is not None:
            shown = [Inner(g, delta) for g in done] + [Inner(c, e) for c, e in pending]
            steps.append((rule, shown[0] if len(shown) == 1 else Add(tuple(shown))))
    if not done:
        return Zero(*delta.shape)
    return simplify(Add(tuple(done)) if len(done) > 1 else done[0])


def _scalar_function(expr: Expr, what: str) -> None:
    if not expr.is_scalar:
        raise ShapeError(f"{what} of a {expr.shape[0]}×{expr.shape[1]} expression: it needs a "
                         "scalar function (wrap it in sum(...), tr(...) or norm2(...)^2)")
    if any(isinstance(n, Text) for n in expr.walk()):
        raise ValueError(f"{what}: the expression holds display-only text")


def gradient(expr: Expr, wrt: Wrt) -> Expr:
    """∇f in closed matrix form, simplified (same shape as ``wrt``).

    Args:
        expr: a scalar expression.
        wrt: the variable (its name or symbol). For a symmetric matrix the entries are
            treated as independent (the gradient AD computes at a symmetric point).

    Returns:
        The gradient, e.g. −2Aᵀ(y − Ax) for ‖y − Ax‖².
    """
    _scalar_function(expr, "gradient")
    x = resolve(expr, wrt)
    delta = perturbation(x)
    lin = differential(expr, x, delta)
    if lin is None:
        return Zero(*x.shape)
    return collect(simplify(lin), delta)


def read_off_matrix(E: Expr, delta: Symbol, transpose_tried: bool = False) -> Expr:  # noqa: C901, PLR0912
    """M with ``E`` = Mδ, for a column (or scalar) expression linear in a vector δ.

    Products, sums, Hadamard products and scalar factors are read directly; anything else
    goes through the adjoint: ⟨c, E⟩ = ⟨Mᵀc, δ⟩ is collected for a symbol c and Mᵀ read off
    that."""
    if E == delta:
        return Identity(delta.shape[0]) if not delta.is_scalar else Number(1)
    if isinstance(E, Add):
        return Add(tuple(read_off_matrix(t, delta) for t in E.terms if t.contains(delta)))
    if isinstance(E, Transpose):
        inner = E.arg
        if isinstance(inner, Mul):
            coeff, scalars, chain = split_mul(inner)
            flipped = tuple(Transpose(f) for f in reversed(chain))
            return read_off_matrix(simplify(make_mul(coeff, scalars, flipped)), delta)
        if isinstance(inner, (Add, Hadamard)):
            return read_off_matrix(simplify(inner.rebuild(tuple(Transpose(t)
                                                                 for t in inner.children()))),
                                   delta, transpose_tried)
    if isinstance(E, Mul):
        coeff, scalars, chain = split_mul(E)
        for k, s in enumerate(scalars):
            if s.contains(delta):  # E = s(δ)·V = V aᵀδ with s = ⟨a, δ⟩
                rest = make_mul(coeff, scalars[:k] + scalars[k + 1:], chain)
                a = collect(s, delta)
                return Mul((rest, Transpose(a)))
        for k, f in enumerate(chain):
            if not f.contains(delta):
                continue
            P, Q = chain[:k], chain[k + 1:]
            if f.is_column:  # E = c P f (Q a scalar)
                return Mul((Number(coeff),) + scalars + Q + P + (read_off_matrix(f, delta),))
            if f.is_row:  # E = c P (f Q), f Q a scalar ⟨a, δ⟩
                a = collect(simplify(Mul((f,) + Q)), delta)
                return Mul((Number(coeff),) + scalars + P + (Transpose(a),))
    if isinstance(E, Hadamard):
        for k, f in enumerate(E.factors):
            if f.contains(delta) and f.is_column:
                h = E.factors[:k] + E.factors[k + 1:]
                return Mul((Diag(h[0] if len(h) == 1 else Hadamard(h)),
                            read_off_matrix(f, delta)))
    if E.is_scalar and delta.is_scalar:
        return collect(E, delta)
    if not transpose_tried and E.is_column:
        c = Symbol("c̄", E.shape[0], 1)
        adjoint = simplify(collect(simplify(Inner(c, E)), delta))  # Mᵀc
        return Transpose(read_off_matrix(adjoint, c, transpose_tried=True))
    raise NotImplementedError(f"cannot write {type(E).__name__} as Hδ; use hvp() for the "
                              "Hessian-vector product instead")


def hessian(expr: Expr, wrt: Wrt) -> Expr:
    """∇²f in closed matrix form for a vector or scalar variable.

    Args:
        expr: a scalar expression.
        wrt: a vector or scalar variable (its name or symbol).

    Returns:
        The Hessian (n × n), e.g. A + Aᵀ for xᵀAx, or 2A when A is symmetric.

    Raises:
        NotImplementedError: for a matrix variable (a fourth-order tensor): use :func:`hvp`.
    """
    _scalar_function(expr, "hessian")
    x = resolve(expr, wrt)
    if x.rows != 1 and x.cols != 1:
        raise NotImplementedError(f"hessian wrt the {x.rows}×{x.cols} matrix {x.name}: it is a "
                                  "fourth-order tensor; use hvp(expr, wrt) for its product "
                                  "with a direction")
    if x.is_row:
        raise NotImplementedError(f"hessian wrt the row vector {x.name}: declare it as a "
                                  "column vector")
    g = gradient(expr, x)
    delta = perturbation(x)
    dg = differential(g, x, delta)
    n = x.rows
    if dg is None:
        return Zero(n, n) if not x.is_scalar else Number(0)
    return simplify(read_off_matrix(simplify(dg), delta))


def hvp(expr: Expr, wrt: Wrt, direction: str | None = None) -> Expr:
    """The Hessian-vector product ∇²f[V] = d(∇f)[V] in closed form, for any variable shape.

    Args:
        expr: a scalar expression.
        wrt: the variable (its name or symbol).
        direction: the name of the direction symbol (default ``v``, or ``V`` for a matrix;
            symmetric when ``wrt`` is).

    Returns:
        An expression in the variables and the direction (same shape as ``wrt``).
    """
    _scalar_function(expr, "hvp")
    x = resolve(expr, wrt)
    if direction is None:
        direction = "V" if (x.rows != 1 and x.cols != 1) else "v"
    if direction in expr.symbols():
        raise ValueError(f"direction={direction!r}: already a symbol of the expression; "
                         "pass another name")
    v = Symbol(direction, x.rows, x.cols, x.symmetric)  # S + tV stays symmetric
    dg = differential(gradient(expr, x), x, v)
    return Zero(*x.shape) if dg is None else simplify(dg)
