"""chainrule.symbolic.matrix: closed-form gradients and Hessians.

One table of expressions from the Matrix Cookbook (Petersen & Pedersen) and the lecture.
Every row's derived gradient (and Hessian, or Hessian-vector product for a matrix variable)
is evaluated at random values and compared with chainrule's reverse mode (``cr.grad``,
``cr.hessian``, ``cr.hvp``) to 1e-10 relative, and with a central difference; where the row
gives the printed form a person writes, the printed closed form must be exactly that.
"""

from __future__ import annotations

import numpy as onp
import pytest

import chainrule as cr
import chainrule.numpy as cnp
from chainrule.symbolic.matrix.evaluate import dimension_sizes
from chainrule.symbolic.matrix import (
    ParseError, ShapeError, ascii, evaluate, gradient, hessian, hvp, latex, parse, simplify,
    text,
)

# (formula, wrt, declarations, printed gradient or None, printed Hessian / HVP or None)
TABLE = [
    # the lecture
    ("norm2(y - A*x)^2", "x", {}, "−2Aᵀ(y − Ax)", "2AᵀA"),
    ("0.5*norm2(y - A*x)^2", "x", {}, "−Aᵀ(y − Ax)", "AᵀA"),
    ("x' * A * x", "x", {}, "(Aᵀ + A)x", "Aᵀ + A"),
    ("x' * A * x", "x", {"symmetric": ["A"]}, "2Ax", "2A"),
    ("norm2(Y - W3*W2*W1*X)^2", "W1", {}, "−2W₂ᵀW₃ᵀ(Y − W₃W₂W₁X)Xᵀ", None),
    ("norm2(Y - W3*W2*W1*X)^2", "W2", {}, "−2W₃ᵀ(Y − W₃W₂W₁X)(W₁X)ᵀ", "2W₃ᵀW₃VW₁X(W₁X)ᵀ"),
    ("norm2(Y - W3*W2*W1*X)^2", "W3", {}, "−2(Y − W₃W₂W₁X)(W₂W₁X)ᵀ", None),
    ("sum(norm2(Y - W3*W2*W1*X))", "W2", {},
     "−W₃ᵀ(Y − W₃W₂W₁X)(W₁X)ᵀ/‖Y − W₃W₂W₁X‖", None),
    ("x'*A*x + norm2(B*x)^4", "x", {}, "(Aᵀ + A)x + 4‖Bx‖²BᵀBx",
     "Aᵀ + A + 4‖Bx‖²BᵀB + 8BᵀBx(BᵀBx)ᵀ"),
    # Matrix Cookbook, linear and quadratic forms
    ("a' * x", "x", {}, "a", "0"),
    ("x' * a", "x", {}, "a", None),
    ("a' * X * b", "X", {}, "abᵀ", None),
    ("a' * X' * b", "X", {}, "baᵀ", None),
    ("a' * X * a", "X", {}, "aaᵀ", None),
    ("b' * X' * X * c", "X", {}, "X(bcᵀ + cbᵀ)", "V(bcᵀ + cbᵀ)"),
    ("(B*x + b)' * C * (D*x + d)", "x", {}, "DᵀCᵀ(Bx + b) + BᵀC(Dx + d)", "DᵀCᵀB + BᵀCD"),
    ("x' * x", "x", {}, "2x", "2I"),
    ("norm2(x - a)", "x", {}, "(x − a)/‖x − a‖", "I/‖x − a‖ − (x − a)(x − a)ᵀ/‖x − a‖³"),
    ("norm2(x)^4", "x", {}, "4‖x‖²x", "4‖x‖²I + 8xxᵀ"),
    ("(a'*x) * (b'*x)", "x", {}, "(aᵀx)b + (bᵀx)a", "baᵀ + abᵀ"),
    ("x'*A*x / (x'*x)", "x", {"symmetric": ["A"]}, "2Ax/(xᵀx) − 2(xᵀAx)x/(xᵀx)²", None),
    ("log(x'*A*x)", "x", {}, "(Aᵀ + A)x/(xᵀAx)",
     "(Aᵀ + A)/(xᵀAx) − (Aᵀ + A)x((Aᵀ + A)x)ᵀ/(xᵀAx)²"),
    # traces
    ("tr(X)", "X", {}, "I", "0"),
    ("tr(A*X)", "X", {}, "Aᵀ", None),
    ("tr(X*A)", "X", {}, "Aᵀ", None),
    ("tr(A*X*B)", "X", {}, "AᵀBᵀ", None),
    ("tr(A*X'*B)", "X", {}, "BA", None),
    ("tr(X'*A*X)", "X", {}, "(Aᵀ + A)X", "(Aᵀ + A)V"),
    ("tr(X'*X)", "X", {}, "2X", "2V"),
    ("tr(A*X*B*X)", "X", {}, None, None),
    ("tr(X*A*X')", "X", {}, "X(A + Aᵀ)", "V(A + Aᵀ)"),
    # determinants and inverses
    ("logdet(X)", "X", {}, "X⁻ᵀ", "−(X⁻¹VX⁻¹)ᵀ"),
    ("logdet(X)", "X", {"symmetric": ["X"]}, "X⁻¹", None),
    ("det(X)", "X", {}, "det(X)X⁻ᵀ", None),
    ("det(A*X*B)", "X", {"shapes": {"A": ("n", "n"), "B": ("n", "n")}}, None, None),
    ("a' * inv(X) * b", "X", {}, "−X⁻ᵀa(X⁻¹b)ᵀ", None),
    ("tr(A * X^-1 * B)", "X", {}, None, None),
    ("tr(inv(X))", "X", {}, "−X⁻ᵀX⁻ᵀ", None),
    # elementwise functions, Hadamard products, sums
    ("sum(exp(A*x))", "x", {}, "Aᵀexp(Ax)", "Aᵀdiag(exp(Ax))A"),
    ("log(sum(exp(x)))", "x", {}, "exp(x)/sum(exp(x))",
     "diag(exp(x))/sum(exp(x)) − exp(x)exp(x)ᵀ/sum(exp(x))²"),
    ("sum(tanh(A*x) .* y)", "x", {}, None, None),
    ("sum(sigmoid(W*x))", "W", {}, "(σ(Wx) ⊙ (𝟙 − σ(Wx)))xᵀ", None),
    ("sum(relu(W*x) .* y)", "W", {}, "(y ⊙ 𝟙[Wx > 0])xᵀ", None),
    ("sum(relu(W*x) .* y)", "x", {}, "Wᵀ(y ⊙ 𝟙[Wx > 0])", "0"),
    ("sum(X .* X)", "X", {}, "2X", None),
    ("sum(A .* X)", "X", {}, "A", None),
    ("sum(sin(x) .* cos(x))", "x", {}, "cos(x)^∘2 − sin(x)^∘2", "−4diag(cos(x) ⊙ sin(x))"),
    ("sum(sqrt(x .* x) .* a)", "x", {}, None, None),
    ("exp(a' * x)", "x", {}, "exp(aᵀx)a", "exp(aᵀx)aaᵀ"),
    ("c * norm2(x)^2", "c", {"scalars": ["c"]}, "‖x‖²", "0"),
    ("norm2(sigmoid(W2*tanh(W1*x)) - y)^2", "W1", {}, None, None),
]

SIZES = [4, 3, 5, 2, 6, 3, 4]


def _values(expr, rng, spd=False):
    names = sorted({d for s in expr.symbols().values() for d in s.shape if d != 1}, key=str)
    size = {d: SIZES[k % len(SIZES)] for k, d in enumerate(names)}
    values = {}
    for name, s in expr.symbols().items():
        shape = tuple(size[d] for d in s.shape if d != 1)
        v = rng.standard_normal(shape)
        if len(shape) == 2 and shape[0] == shape[1]:
            v = v + 3 * shape[0] * onp.eye(shape[0])  # well away from singular
            if s.symmetric:
                v = (v + v.T) / 2
        values[name] = v
    return values


def _close(got, want, rel=1e-10):
    got, want = onp.asarray(got, float), onp.asarray(want, float)
    assert got.shape == want.shape, (got.shape, want.shape)
    scale = max(onp.max(onp.abs(want)), 1e-3) if want.size else 1.0  # a zero Hessian too
    assert onp.max(onp.abs(got - want), initial=0.0) <= rel * scale, (got, want)


def _ids():
    return [f"{f}|{w}{'|sym' if d.get('symmetric') else ''}" for f, w, d, _, _ in TABLE]


def test_table_has_at_least_thirty_expressions():
    assert len(TABLE) >= 30


@pytest.mark.parametrize("formula,wrt,decl,want_g,want_h", TABLE, ids=_ids())
def test_gradient_and_hessian_against_reverse_mode(formula, wrt, decl, want_g, want_h):
    expr = parse(formula, **decl)
    names = list(expr.symbols())
    rng = onp.random.default_rng(len(formula))
    values = _values(expr, rng)
    k = names.index(wrt)

    def f(*args):
        return evaluate(expr, dict(zip(names, args)), xp=cnp)

    args = [values[n] for n in names]
    sizes = dimension_sizes(expr, values)
    g = gradient(expr, wrt)
    if want_g is not None:
        assert text(g) == want_g
    g_val = evaluate(g, values, sizes=sizes)
    _close(g_val, cr.grad(f, argnums=k)(*args))

    # a central difference along a random direction, as an independent oracle
    v = rng.standard_normal(onp.shape(values[wrt]))
    h = 1e-6

    def at(t):
        moved = list(args)
        moved[k] = args[k] + t * v
        return float(evaluate(expr, dict(zip(names, moved))))

    fd = (at(h) - at(-h)) / (2 * h)
    assert abs(fd - float(onp.sum(g_val * v))) <= 1e-5 * max(1.0, abs(fd))

    sym = expr.symbols()[wrt]
    if sym.rows != 1 and sym.cols != 1:
        if sym.symmetric:  # the Hessian acts on symmetric directions
            v = (v + v.T) / 2
        hv = hvp(expr, wrt)
        if want_h is not None:
            assert text(hv) == want_h
        got = evaluate(hv, {**values, "V": v}, sizes=sizes)
        want = cr.hvp(lambda a: f(*(args[:k] + [a] + args[k + 1:])), (args[k],), (v,))
        _close(got, want[0] if isinstance(want, tuple) else want)
        return
    H = hessian(expr, wrt)
    if want_h is not None:
        assert text(H) == want_h
    _close(evaluate(H, values, sizes=sizes), cr.hessian(f, argnums=k)(*args))


def test_printed_forms_in_latex_and_ascii_round_trip():
    f = parse("norm2(Y - W3*W2*W1*X)^2")
    g = gradient(f, "W2")
    assert latex(g) == (r"-2 W_{3}^{\top} \left(Y - W_{3} W_{2} W_{1} X\right) "
                        r"\left(W_{1} X\right)^{\top}")
    assert ascii(g) == "-2*W3'*(Y - W3*W2*W1*X)*(W1*X)'"
    assert latex(gradient(parse("logdet(X)"), "X")) == r"X^{-\top}"
    for formula, wrt, decl, _, _ in TABLE:
        e = parse(formula, **decl)
        for d in (e, gradient(e, wrt)):
            shapes = {n: s.shape for n, s in e.symbols().items()}
            again = parse(ascii(d), shapes=shapes, **{k: v for k, v in decl.items()
                                                     if k != "shapes"})
            assert simplify(again) == simplify(d), ascii(d)


def test_shapes_are_inferred_and_checked():
    e = parse("norm2(y - A*x)^2")
    assert {n: s.shape for n, s in e.symbols().items()} == {
        "y": ("m", 1), "A": ("m", "n"), "x": ("n", 1)}
    with pytest.raises(ShapeError, match="transpose one"):
        parse("x * y")
    with pytest.raises(ShapeError, match="square"):
        parse("tr(A)", shapes={"A": ("m", "n")})
    with pytest.raises(ShapeError, match="must agree"):
        parse("x + A*y", shapes={"A": ("m", "n"), "x": "n"})
    with pytest.raises(ParseError, match="unknown function"):
        parse("foo(x)")
    with pytest.raises(ParseError, match="exponent"):
        parse("x'*x ^ y")
    with pytest.raises(ValueError, match="not a symbol"):
        gradient(parse("x'*x"), "z")
    with pytest.raises(ShapeError, match="scalar function"):
        gradient(parse("A*x"), "x")
    with pytest.raises(NotImplementedError, match="hvp"):
        hessian(parse("logdet(X)"), "X")
