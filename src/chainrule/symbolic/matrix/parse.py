"""Reading matrix expressions from strings in the lecture's notation.

Grammar (usual precedence; ``^`` binds tighter than unary minus)::

    x' * A * x          ' transposes, * multiplies (matrix product, or scaling by a scalar)
    norm2(y - A*x)^2    ^ raises a scalar to a number (X^-1 is the inverse of a matrix)
    X .* Y   X .^ 2     elementwise product and power;  a / s divides by a scalar
    tr(X)  det(X)  logdet(X)  inv(X)  sum(X)  norm2(X)  inner(X, Y)  diag(x)
    exp log sin cos tanh sqrt sigmoid relu step   (elementwise; step is relu's indicator)

``norm2`` is the norm ‖·‖ (Euclidean for a vector, Frobenius for a matrix), so the lecture's
Σᵢ‖yᵢ − W₃W₂W₁xᵢ‖² over the columns of X and Y is ``norm2(Y - W3*W2*W1*X)^2``; ``sum`` of a
scalar is that scalar.

Shapes: a name declared in ``shapes`` has that shape; otherwise, by the usual convention, a
name starting with a capital letter is a matrix and any other name a column vector, except
the names in ``scalars``; ``I`` is the identity and ``ones`` the all-ones matrix 𝟙 of
whatever size fits. Dimensions nobody declared are inferred from the products and
sums (``A*x`` makes A's columns x's length) and named n, m, p, … in order of appearance.

Example:
    >>> from chainrule.symbolic.matrix.printing import text
    >>> e = parse("norm2(y - A*x)^2")
    >>> text(e), e.symbols()["A"].shape
    ('‖y − Ax‖²', ('m', 'n'))
    >>> parse("x' * A * x", symmetric=["A"]).symbols()["A"].symmetric
    True
"""

from __future__ import annotations

import re
from typing import Iterable, Mapping, Union

from chainrule.symbolic.matrix.expr import (
    ELEMENTWISE, Add, Det, Diag, Elementwise, Expr, Hadamard, Identity, Inner, Inverse, LogDet, Mul,
    Norm, Number, Ones, Power, ShapeError, Sum, Symbol, Trace, Transpose,
)

__all__ = ["parse", "ParseError"]

ShapeSpec = Union[str, int, tuple]


class ParseError(ValueError):
    """A formula that cannot be read: the message quotes it and says what was expected."""


_TOKEN = re.compile(r"\s*(?:(\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+)|([A-Za-z_][A-Za-z0-9_]*)"
                    r"|(\.\*|\./|\.\^|[-+*/^'(),⊙]))")
_FUNCS = {"tr": 1, "trace": 1, "det": 1, "logdet": 1, "inv": 1, "sum": 1, "norm2": 1, "diag": 1,
          "norm": 1, "inner": 2, **{f: 1 for f in ELEMENTWISE}}


def _tokenize(src: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    src = src.rstrip()
    while pos < len(src):
        m = _TOKEN.match(src, pos)
        if not m or m.end() == pos:
            raise ParseError(f"{src!r}: cannot read {src[pos:].strip()[:10]!r} at position "
                             f"{pos}; expected a name, a number or one of + - * / ^ ' .* .^ ( )")
        kind = "num" if m.group(1) else "name" if m.group(2) else "op"
        out.append((kind, m.group(m.lastindex)))
        pos = m.end()
    return out


class _Reader:
    """Recursive descent into a raw tree of tuples (shapes come later)."""

    def __init__(self, src: str):
        self.src, self.toks, self.k = src, _tokenize(src), 0

    def peek(self) -> str | None:
        return self.toks[self.k][1] if self.k < len(self.toks) else None

    def take(self, want: str | None = None) -> tuple[str, str]:
        if self.k >= len(self.toks):
            raise ParseError(f"{self.src!r}: unexpected end" + (f", expected {want!r}"
                                                                if want else ""))
        tok = self.toks[self.k]
        if want is not None and tok[1] != want:
            raise ParseError(f"{self.src!r}: expected {want!r}, found {tok[1]!r}")
        self.k += 1
        return tok

    def read(self):
        tree = self.sum()
        if self.k != len(self.toks):
            raise ParseError(f"{self.src!r}: unexpected {self.peek()!r} after a complete "
                             "expression (is an operator missing?)")
        return tree

    def sum(self):
        tree = self.product()
        while self.peek() in ("+", "-"):
            op = self.take()[1]
            tree = ("add", tree, self.product() if op == "+" else ("neg", self.product()))
        return tree

    def product(self):
        tree = self.unary()
        while self.peek() in ("*", "/", ".*", "⊙", "./"):
            op = self.take()[1]
            tree = ({"*": "mul", "/": "div", ".*": "had", "⊙": "had", "./": "ediv"}[op],
                    tree, self.unary())
        return tree

    def unary(self):
        if self.peek() == "-":
            self.take()
            return ("neg", self.unary())
        if self.peek() == "+":
            self.take()
            return self.unary()
        return self.power()

    def power(self):
        base = self.postfix()
        if self.peek() in ("^", ".^"):
            op = self.take()[1]
            sign = 1
            if self.peek() == "-":
                self.take()
                sign = -1
            if self.peek() == "(":
                self.take()
                if self.peek() == "-":
                    self.take()
                    sign = -sign
                kind, tok = self.take()
                self.take(")")
            else:
                kind, tok = self.take()
            if kind != "num":
                raise ParseError(f"{self.src!r}: the exponent after {op!r} must be a number, "
                                 f"found {tok!r}")
            return ("pow" if op == "^" else "epow", base, sign * float(tok))
        return base

    def postfix(self):
        tree = self.atom()
        while self.peek() == "'":
            self.take()
            tree = ("T", tree)
        return tree

    def atom(self):
        kind, tok = self.take()
        if kind == "num":
            return ("num", float(tok))
        if tok == "(":
            tree = self.sum()
            self.take(")")
            return ("paren", tree)
        if kind == "name":
            if self.peek() == "(":
                if tok not in _FUNCS:
                    raise ParseError(f"{self.src!r}: unknown function {tok!r}; known: "
                                     f"{', '.join(sorted(_FUNCS))}")
                self.take("(")
                args = [self.sum()]
                while self.peek() == ",":
                    self.take()
                    args.append(self.sum())
                self.take(")")
                if len(args) != _FUNCS[tok]:
                    raise ParseError(f"{self.src!r}: {tok} takes {_FUNCS[tok]} argument(s), "
                                     f"got {len(args)}")
                return ("call", tok, *args)
            return ("name", tok)
        raise ParseError(f"{self.src!r}: unexpected {tok!r}; expected a name, a number or '('")


class _Dims:
    """Union-find over dimensions: labels (declared names, 1) and unknowns (ints ≥ 0)."""

    def __init__(self):
        self.parent: dict = {}
        self.fresh = 0

    def new(self):
        self.fresh += 1
        return ("?", self.fresh)

    def find(self, d):
        self.parent.setdefault(d, d)
        while self.parent[d] != d:
            self.parent[d] = self.parent[self.parent[d]]
            d = self.parent[d]
        return d

    def unify(self, a, b, what: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return
        if isinstance(ra, tuple):
            self.parent[ra] = rb
        elif isinstance(rb, tuple):
            self.parent[rb] = ra
        else:
            raise ShapeError(f"{what}: dimensions {ra} and {rb} must agree")


def _declared(name: str, spec: ShapeSpec) -> tuple:
    if spec in ("scalar", (), 1):
        return (1, 1)
    if isinstance(spec, (str, int)):
        return (spec, 1)
    if isinstance(spec, tuple) and len(spec) == 2:
        return spec
    raise ValueError(f"shapes[{name!r}] = {spec!r}: expected 'scalar', a dimension (a vector "
                     "of that length) or a pair (rows, cols)")


def parse(src: str, shapes: Mapping[str, ShapeSpec] | None = None, *,  # noqa: C901
          symmetric: Iterable[str] = (), scalars: Iterable[str] = ()) -> Expr:
    """A matrix expression from the lecture's notation (see the module docstring).

    Args:
        src: the formula, e.g. ``"norm2(y - A*x)^2"``.
        shapes: declared shapes by name: ``"scalar"``, a dimension (a column vector of that
            length) or ``(rows, cols)``; undeclared dimensions are inferred.
        symmetric: names of symmetric (square) matrices.
        scalars: names that are scalars (instead of the vector convention for lower case).

    Returns:
        The expression tree (not simplified).

    Raises:
        ParseError: the text cannot be read.
        ShapeError: the shapes do not fit together.
    """
    if not isinstance(src, str) or not src.strip():
        raise ParseError(f"expected a formula such as \"norm2(y - A*x)^2\", got {src!r}")
    raw = _Reader(src).read()
    shapes = dict(shapes or {})
    symmetric, scalars = set(symmetric), set(scalars)
    dims = _Dims()
    sym_dims: dict[str, tuple] = {}

    def name_shape(name: str) -> tuple:
        if name not in sym_dims:
            if name in shapes:
                sym_dims[name] = _declared(name, shapes[name])
            elif name in scalars:
                sym_dims[name] = (1, 1)
            elif name[0].isupper():
                sym_dims[name] = (dims.new(), dims.new())
            else:
                sym_dims[name] = (dims.new(), 1)
            if name in symmetric:
                r, c = sym_dims[name]
                dims.unify(r, c, f"{name} is declared symmetric")
        return sym_dims[name]

    identities: list = []  # the dimensions of each I and ones, in order of appearance
    flexible: set = set()  # dimensions that may turn out to be 1 (those of ones)
    ones_cols: list = []

    def compatible(d1, d2) -> bool:
        r1, r2 = dims.find(d1), dims.find(d2)
        if (r1 == 1) == (r2 == 1):
            return True
        other = r2 if r1 == 1 else r1
        return any(dims.find(f) == other for f in flexible)

    def shape(t) -> tuple:  # pass 1: infer  # noqa: C901, PLR0912
        kind = t[0]
        if kind == "num":
            return (1, 1)
        if kind == "name" and t[1] == "I" and "I" not in shapes:
            d = dims.new()
            identities.append(d)
            return (d, d)
        if kind == "name" and t[1] == "ones" and "ones" not in shapes:
            r, c = dims.new(), dims.new()
            identities.extend((r, c))
            flexible.update((r, c))
            ones_cols.append(c)
            return (r, c)
        if kind == "name":
            return name_shape(t[1])
        if kind in ("neg", "paren"):
            return shape(t[1])
        if kind == "T":
            r, c = shape(t[1])
            return (c, r)
        if kind == "add":
            a, b = shape(t[1]), shape(t[2])
            _unify_same(a, b, f"{_show(t)}: a sum")
            return a
        if kind in ("had", "ediv"):
            a, b = shape(t[1]), shape(t[2])
            if _scalar(a) or _scalar(b):
                return b if _scalar(a) else a
            _unify_same(a, b, f"{_show(t)}: an elementwise product")
            return a
        if kind == "mul":
            a, b = shape(t[1]), shape(t[2])
            if _scalar(a):
                return b
            if _scalar(b):
                return a
            if not compatible(a[1], b[0]):
                raise ShapeError(f"{_show(t)}: cannot multiply a {_fmt(a, dims)} by a "
                                 f"{_fmt(b, dims)} value (transpose one, e.g. x' * y; or "
                                 "declare scalar names as scalars)")
            dims.unify(a[1], b[0], f"{_show(t)}: the inner dimensions of a product")
            return (a[0], b[1])
        if kind == "div":
            a, b = shape(t[1]), shape(t[2])
            if not _scalar(b):
                raise ShapeError(f"{_show(t)}: division by a {_fmt(b, dims)} value; only "
                                 "division by a scalar is defined (use inv(...))")
            return a
        if kind == "pow":
            a = shape(t[1])
            if not _scalar(a):
                if t[2] != -1:
                    raise ShapeError(f"{_show(t)}: ^ of a {_fmt(a, dims)} value; use .^ for "
                                     "an elementwise power (X^-1 is the inverse)")
                dims.unify(a[0], a[1], f"{_show(t)}: the inverse needs a square matrix")
            return a
        if kind == "epow":
            return shape(t[1])
        if kind == "call":
            f, args = t[1], [shape(a) for a in t[2:]]
            a = args[0]
            if f in ("tr", "trace", "det", "logdet", "inv"):
                dims.unify(a[0], a[1], f"{_show(t)}: {f} needs a square matrix")
                return a if f == "inv" else (1, 1)
            if f in ("sum", "norm2", "norm"):
                return (1, 1)
            if f == "diag":
                if not compatible(a[1], 1) or dims.find(a[0]) == 1:
                    raise ShapeError(f"{_show(t)}: diag needs a column vector")
                dims.unify(a[1], 1, f"{_show(t)}: diag needs a column vector")
                return (a[0], a[0])
            if f == "inner":
                _unify_same(a, args[1], f"{_show(t)}: an inner product")
                return (1, 1)
            return a
        raise AssertionError(kind)  # pragma: no cover

    def _unify_same(a, b, what):
        if not (compatible(a[0], b[0]) and compatible(a[1], b[1])):
            raise ShapeError(f"{what} of a {_fmt(a, dims)} and a {_fmt(b, dims)} value: the "
                             "shapes must agree")
        dims.unify(a[0], b[0], what)
        dims.unify(a[1], b[1], what)

    def _scalar(s) -> bool:
        return dims.find(s[0]) == 1 and dims.find(s[1]) == 1

    shape(raw)
    symbol_roots = {dims.find(d) for s in sym_dims.values() for d in s}
    for c in ones_cols:  # a ones whose width nothing fixes is the vector 𝟙
        if isinstance(dims.find(c), tuple) and dims.find(c) not in symbol_roots:
            dims.unify(c, 1, "ones")
    names = _name_dims(sym_dims, dims, identities)
    symbols = {n: Symbol(n, names[dims.find(r)], names[dims.find(c)], n in symmetric)
               for n, (r, c) in sym_dims.items()}
    for n in symmetric - set(symbols):
        raise ParseError(f"symmetric={n!r}: {n} does not occur in {src!r}")
    eyes = iter([names[dims.find(d)] for d in identities])
    return _build(raw, symbols, eyes)


def _fmt(s, dims: _Dims) -> str:
    def one(d):
        d = dims.find(d)
        return "?" if isinstance(d, tuple) else str(d)
    return f"{one(s[0])}×{one(s[1])}"


def _show(t) -> str:
    """A raw subtree back as text, for error messages."""
    kind = t[0]
    if kind == "num":
        return f"{t[1]:g}"
    if kind == "name":
        return t[1]
    if kind == "neg":
        return f"-{_show(t[1])}"
    if kind == "paren":
        return f"({_show(t[1])})"
    if kind == "T":
        return f"{_show(t[1])}'"
    if kind == "call":
        return f"{t[1]}({', '.join(_show(a) for a in t[2:])})"
    if kind in ("pow", "epow"):
        return f"{_show(t[1])}{'^' if kind == 'pow' else '.^'}{t[2]:g}"
    op = {"add": " + ", "mul": "*", "div": "/", "had": " .* ", "ediv": " ./ "}[kind]
    return f"({_show(t[1])}{op}{_show(t[2])})"


_POOL = ["n", "m", "p", "q", "r", "s", "k", "l"]


def _name_dims(sym_dims: dict[str, tuple], dims: _Dims, extra: list) -> dict:
    """Names for the inferred dimensions: n, m, p, … (matrices' columns first)."""
    taken = {dims.find(d) for s in sym_dims.values() for d in s
             if not isinstance(dims.find(d), tuple)}
    pool = [n for n in _POOL if n not in taken] + [f"d{k}" for k in range(1, 100)]
    names: dict = {1: 1, **{d: d for d in taken}}
    order = [s[1] for s in sym_dims.values() if s[1] != 1] + [s[0] for s in sym_dims.values()]
    order += extra
    for d in order:
        root = dims.find(d)
        if root not in names:
            names[root] = pool.pop(0)
    return names


def _build(t, symbols: dict[str, Symbol], eyes) -> Expr:  # noqa: C901, PLR0912
    kind = t[0]
    if kind == "num":
        v = t[1]
        return Number(int(v) if float(v).is_integer() else v)
    if kind == "name":
        if t[1] in symbols:
            return symbols[t[1]]
        if t[1] == "ones":
            return Ones(next(eyes), next(eyes))
        return Identity(next(eyes))
    if kind == "call":
        return _build_call(t[1], [_build(a, symbols, eyes) for a in t[2:]])
    args = [_build(a, symbols, eyes) for a in t[1:] if isinstance(a, tuple)]
    if kind == "neg":
        return Mul((Number(-1), args[0]))
    if kind == "paren":
        return args[0]
    if kind == "T":
        return Transpose(args[0])
    if kind == "add":  # a + b - c reads as one sum, (a + b) - c keeps its parentheses
        left = args[0].terms if t[1][0] == "add" else (args[0],)
        return Add((*left, args[1]))
    if kind == "mul":  # a*b*c reads as one product, (a*b)*c keeps its parentheses
        left = args[0].factors if t[1][0] == "mul" else (args[0],)
        return Mul((*left, args[1]))
    if kind == "div":
        return Mul((args[0], Power(args[1], -1)))
    if kind in ("had", "ediv"):
        a, b = args
        if kind == "ediv":
            b = Power(b, -1)
        if a.is_scalar or b.is_scalar:
            return Mul((a, b))
        return Hadamard((a, b))
    if kind == "pow":
        return Power(args[0], t[2]) if args[0].is_scalar else Inverse(args[0])
    if kind == "epow":
        return Power(args[0], t[2])
    raise AssertionError(kind)  # pragma: no cover


def _build_call(f: str, args: list[Expr]) -> Expr:
    a = args[0]
    simple = {"tr": Trace, "trace": Trace, "det": Det, "logdet": LogDet, "inv": Inverse,
              "sum": Sum, "norm2": Norm, "norm": Norm, "diag": Diag}
    if f in simple:
        return simple[f](a)
    if f == "inner":
        return Inner(a, args[1])
    return Elementwise(f, a)
