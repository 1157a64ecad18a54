"""Printing: Unicode text as on paper, ASCII in the parser's notation, and LaTeX.

* :func:`text`: ``−2Aᵀ(y − Ax)``, ``X⁻ᵀ``, ``‖y − W₃W₂W₁X‖²``, ``(A + Aᵀ)x``;
* :func:`ascii`: ``-2*A'*(y - A*x)``, which :func:`~chainrule.symbolic.matrix.parse.parse`
  reads back;
* :func:`latex`: ``-2 A^{\\top} \\left(y - A x\\right)``.

Example:
    >>> from chainrule.symbolic.matrix.expr import matrix, vector
    >>> A, y, x = matrix("A", "m", "n"), vector("y", "m"), vector("x", "n")
    >>> e = -2 * A.T * (y - A * x)
    >>> text(e), ascii(e)
    ('−2Aᵀ(y − Ax)', "-2*A'*(y - A*x)")
    >>> latex(e)
    '-2 A^{\\\\top} \\\\left(y - A x\\\\right)'
"""

from __future__ import annotations

import re

from chainrule.symbolic.matrix.expr import (
    ELEMENTWISE, Add, Det, Diag, Elementwise, Expr, Hadamard, Identity, Inner, Inverse, LogDet,
    Mul, Norm, Number, Ones, Power, Sum, Symbol, Text, Trace, Transpose, Zero,
)
from chainrule.symbolic.matrix.simplify import make_mul, split_mul

__all__ = ["text", "ascii", "latex"]

ADD, MUL, POW, ATOM = 1, 2, 3, 4  # POW: a power, which a postfix ᵀ must parenthesise
_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
_SUP = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
_GREEK = {"δ": r"\delta", "Δ": r"\Delta", "alpha": r"\alpha", "beta": r"\beta",
          "gamma": r"\gamma", "lambda": r"\lambda", "mu": r"\mu", "sigma": r"\sigma",
          "theta": r"\theta"}


def text(e: Expr) -> str:
    """The expression as a person writes it, in Unicode (−2Aᵀ(y − Ax))."""
    return _Printer("text").show(e)[0]


def ascii(e: Expr) -> str:  # noqa: A001 - the name of the notation
    """The expression in the parser's ASCII notation (``-2*A'*(y - A*x)``)."""
    return _Printer("ascii").show(e)[0]


def latex(e: Expr) -> str:
    """The expression as LaTeX (KaTeX/MathJax compatible)."""
    return _Printer("latex").show(e)[0]


def _number(v: float) -> str:
    if float(v).is_integer():
        return str(int(v))
    return f"{v:.12g}"


class _Printer:
    def __init__(self, style: str):
        self.style = style

    # helpers ------------------------------------------------------------------------------
    def paren(self, s: str) -> str:
        return rf"\left({s}\right)" if self.style == "latex" else f"({s})"

    def at(self, e: Expr, level: int) -> str:
        s, p = self.show(e)
        return s if p >= level else self.paren(s)

    def minus(self) -> str:
        return "−" if self.style == "text" else "-"

    def name(self, name: str) -> str:
        m = re.fullmatch(r"([A-Za-zδΔ]+?)_?(\d+)", name)
        if self.style == "text":
            return m.group(1) + m.group(2).translate(_SUB) if m else name
        if self.style == "latex":
            if m:
                return f"{_GREEK.get(m.group(1), m.group(1))}_{{{m.group(2)}}}"
            return _GREEK.get(name, name if len(name) == 1 else rf"\mathit{{{name}}}")
        return {"δ": "delta", "Δ": "Delta"}.get(name, name)

    def sup(self, base: str, p: float) -> str:
        if self.style == "latex":
            return f"{base}^{{{_number(p)}}}"
        if self.style == "ascii":
            return f"{base}^{_number(p)}" if p >= 0 else f"{base}^({_number(p)})"
        if float(p).is_integer():
            return base + _number(p).translate(_SUP)
        return f"{base}^{_number(p)}"

    def func(self, name: str, arg: Expr) -> str:
        inner = self.show(arg)[0]
        if self.style == "latex":
            return rf"{name}\left({inner}\right)"
        return f"{name}({inner})"

    # nodes --------------------------------------------------------------------------------
    def show(self, e: Expr) -> tuple[str, int]:
        method = getattr(self, "_" + type(e).__name__.lower())
        return method(e)

    def _symbol(self, e: Symbol):
        return self.name(e.name), ATOM

    def _number(self, e: Number):
        if e.value == 0.5 and self.style != "ascii":
            return ("½" if self.style == "text" else r"\tfrac{1}{2}"), ATOM
        s = _number(e.value)
        if e.value < 0:
            return self.minus() + s.lstrip("-"), MUL
        return s, ATOM

    def _text(self, e: Text):
        return (e.latex if self.style == "latex" else e.text), ATOM

    def _identity(self, e: Identity):
        return "I", ATOM

    def _ones(self, e: Ones):
        return {"text": "𝟙", "ascii": "ones", "latex": r"\mathbf{1}"}[self.style], ATOM

    def _zero(self, e: Zero):
        return "0", ATOM

    def _add(self, e: Add):  # a sum inside a sum keeps its parentheses: (y − Ax) − Aδ
        out = self.at(e.terms[0], ADD + 1 if isinstance(e.terms[0], Add) else ADD)
        for t in e.terms[1:]:
            neg = _negated(t)
            if neg is not None:
                out += f" {self.minus()} {self.at(neg, MUL if neg is not t else ADD + 1)}"
            else:
                out += f" + {self.at(t, ADD + 1)}"
        return out, ADD

    def _mul(self, e: Mul):
        dens = [f for f in e.factors
                if isinstance(f, Power) and f.base.is_scalar and f.exponent < 0]
        if dens:  # ‖x‖⁻¹x is written x/‖x‖
            nums = [f for f in e.factors if f not in dens]
            num = Mul(tuple(nums)) if len(nums) > 1 else (nums[0] if nums else Number(1))
            den = [f.base if f.exponent == -1 else Power(f.base, -f.exponent) for f in dens]
            den_e = Mul(tuple(den)) if len(den) > 1 else den[0]
            neg = _negated(num)
            sign = self.minus() if neg is not None else ""
            top = self.show(neg if neg is not None else num)[0]
            if self.style == "latex":
                return rf"{sign}\frac{{{top}}}{{{self.show(den_e)[0]}}}", MUL
            top = self.at(neg if neg is not None else num, MUL)
            return f"{sign}{top}/{self.at(den_e, POW)}", MUL
        coeff, scalars, chain = split_mul(e)
        factors = scalars + chain  # scalar factors first, as written
        pieces = [self._factor(f, len(factors) > 1) for f in factors]
        if self.style == "ascii":
            body = "*".join(pieces)
            if coeff == -1:
                return ("-" + body if body else "-1"), MUL
            return ("*".join([_number(coeff)] * (coeff != 1) + pieces) or "1"), MUL
        sep = " " if self.style == "latex" else ""
        body = ""
        for k, piece in enumerate(pieces):
            if k and self.style == "text" and _needs_space(pieces[k - 1], piece):
                body += " "
            body += (sep if k else "") + piece
        if coeff == 1:
            return body or "1", MUL
        if coeff == -1:
            return (self.minus() + body if body else self.minus() + "1"), MUL
        c = _number(abs(coeff))
        if abs(coeff) == 0.5 and self.style != "ascii":
            c = "½" if self.style == "text" else r"\tfrac{1}{2}"
        if self.style == "text" and body[:1].isdigit():
            c += "·"
        elif self.style == "latex":
            c += " "
        return (self.minus() if coeff < 0 else "") + c + body, MUL

    def _factor(self, f: Expr, crowded: bool) -> str:
        s, p = self.show(f)
        if p >= POW or (p == MUL and not crowded and not isinstance(f, (Mul, Hadamard))):
            return s
        return self.paren(s)

    def _hadamard(self, e: Hadamard):
        op = {"text": " ⊙ ", "ascii": " .* ", "latex": r" \odot "}[self.style]
        return op.join(self.at(f, POW) for f in e.factors), MUL

    def _transpose(self, e: Transpose):
        a = e.arg
        if isinstance(a, Inverse):
            base = self.at(a.arg, ATOM)
            return {"text": base + "⁻ᵀ", "ascii": f"inv({self.show(a.arg)[0]})'",
                    "latex": base + r"^{-\top}"}[self.style], ATOM
        base = self.at(a, ATOM)
        return base + {"text": "ᵀ", "ascii": "'", "latex": r"^{\top}"}[self.style], ATOM

    def _inverse(self, e: Inverse):
        if self.style == "ascii":
            return f"inv({self.show(e.arg)[0]})", ATOM
        base = self.at(e.arg, ATOM)
        return base + ("⁻¹" if self.style == "text" else "^{-1}"), ATOM

    def _power(self, e: Power):
        base = self.at(e.base, ATOM)
        if isinstance(e.base, Power) or (isinstance(e.base, (Transpose, Inverse))
                                         and self.style != "ascii"):
            base = self.paren(self.show(e.base)[0])
        if e.base.is_scalar:
            return self.sup(base, e.exponent), POW
        p = _number(e.exponent)
        return {"text": f"{base}^∘{p}", "ascii": f"{base}.^{p}",
                "latex": f"{base}^{{\\circ {p}}}"}[self.style], POW

    def _norm(self, e: Norm):
        inner = self.show(e.arg)[0]
        return {"text": f"‖{inner}‖", "ascii": f"norm2({inner})",
                "latex": rf"\left\|{inner}\right\|"}[self.style], ATOM

    def _trace(self, e: Trace):
        return self.func(r"\operatorname{tr}" if self.style == "latex" else "tr", e.arg), ATOM

    def _det(self, e: Det):
        return self.func(r"\det" if self.style == "latex" else "det", e.arg), ATOM

    def _logdet(self, e: LogDet):
        if self.style == "ascii":
            return f"logdet({self.show(e.arg)[0]})", ATOM
        if isinstance(e.arg, Symbol):
            name = self.show(e.arg)[0]
            return (rf"\log\det {name}" if self.style == "latex" else f"log det {name}"), MUL
        return self.func(r"\log\det" if self.style == "latex" else "log det", e.arg), ATOM

    def _sum(self, e: Sum):
        return self.func(r"\operatorname{sum}" if self.style == "latex" else "sum", e.arg), ATOM

    def _diag(self, e: Diag):
        return self.func(r"\operatorname{diag}" if self.style == "latex" else "diag",
                         e.arg), ATOM

    def _elementwise(self, e: Elementwise):
        if e.func == "step" and self.style != "ascii":
            inner = self.show(e.arg)[0]
            return ((rf"\mathbf{{1}}\left[{inner} > 0\right]" if self.style == "latex"
                     else f"𝟙[{inner} > 0]"), ATOM)
        name = e.func if self.style == "ascii" else ELEMENTWISE[e.func][
            0 if self.style == "text" else 1]
        return self.func(name, e.arg), ATOM

    def _inner(self, e: Inner):
        a, b = self.show(e.a)[0], self.show(e.b)[0]
        return {"text": f"⟨{a}, {b}⟩", "ascii": f"inner({a}, {b})",
                "latex": rf"\left\langle {a}, {b} \right\rangle"}[self.style], ATOM


def _negated(t: Expr) -> Expr | None:
    """−t when t is written with a leading minus (a negative coefficient), else None."""
    if isinstance(t, Number) and t.value < 0:
        return Number(-t.value)
    if isinstance(t, Mul):
        coeff, scalars, chain = split_mul(t)
        if coeff < 0:
            return make_mul(-coeff, scalars, chain)
    return None


def _needs_space(left: str, right: str) -> bool:
    """Juxtaposed names that would run together (``beta x``) get a space."""
    lw = re.search(r"[A-Za-z]+$", left)
    rw = re.match(r"[A-Za-z]+", right)
    return bool(lw and rw and (len(lw.group()) > 1 or len(rw.group()) > 1))
