"""The expression tree: matrix expressions over symbols with declared shapes.

Every value is a matrix of shape ``(rows, cols)``: a column vector is ``(n, 1)``, a row
vector ``(1, n)`` and a scalar ``(1, 1)``. Dimensions are names (``"m"``, ``"n"``) or
integers; only the dimension ``1`` has a meaning of its own.

A product :class:`Mul` multiplies its scalar-shaped factors as numbers and chains the
others as matrix products (a ``1 × 1`` factor commutes with everything, so this agrees
with the matrix product wherever both are defined). Nodes are frozen dataclasses:
structurally equal expressions are equal and hash alike, which the simplifier and the code
generator's common-subexpression sharing rely on.

Example:
    >>> A, x = matrix("A", "m", "n"), vector("x", "n")
    >>> (A * x).shape
    ('m', 1)
    >>> (x.T * x).is_scalar
    True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Iterator, Union

Dim = Union[int, str]
Shape = tuple[Dim, Dim]

__all__ = [
    "Add", "Det", "Diag", "Dim", "Elementwise", "Expr", "Hadamard", "Identity", "Inner",
    "Inverse", "LogDet", "Mul", "Norm", "Number", "Ones", "Power", "Shape", "ShapeError",
    "Sum", "Symbol", "Text", "Trace", "Transpose", "Zero", "ELEMENTWISE", "matrix", "scalar",
    "vector", "as_expr",
]


class ShapeError(ValueError):
    """Shapes that do not fit: the message names the operation, the shapes and a fix."""


def _fmt(shape: Shape) -> str:
    return f"{shape[0]}×{shape[1]}"


@dataclass(frozen=True)
class Expr:
    """Base of every node: shape queries and operators that build (unsimplified) trees."""

    @property
    def shape(self) -> Shape:  # pragma: no cover - every node overrides it
        raise NotImplementedError

    @property
    def is_scalar(self) -> bool:
        """Whether the value is ``1 × 1``."""
        return self.shape == (1, 1)

    @property
    def is_column(self) -> bool:
        """Whether the value is a column vector ``n × 1`` (n ≠ 1)."""
        return self.shape[1] == 1 and self.shape[0] != 1

    @property
    def is_row(self) -> bool:
        """Whether the value is a row vector ``1 × n`` (n ≠ 1)."""
        return self.shape[0] == 1 and self.shape[1] != 1

    def children(self) -> tuple[Expr, ...]:
        """The sub-expressions (none for leaves)."""
        return ()

    def rebuild(self, children: tuple[Expr, ...]) -> Expr:
        """The same node over new children."""
        return self

    def walk(self) -> Iterator[Expr]:
        """Every node, parents before children (shared nodes once per occurrence)."""
        stack = [self]
        while stack:
            e = stack.pop()
            yield e
            stack.extend(reversed(e.children()))

    def symbols(self) -> dict[str, Symbol]:
        """The symbols by name, in order of first appearance."""
        out: dict[str, Symbol] = {}
        for e in self.walk():
            if isinstance(e, Symbol):
                out.setdefault(e.name, e)
        return out

    def contains(self, s: Expr) -> bool:
        """Whether ``s`` occurs in this expression."""
        return any(e == s for e in self.walk())

    def substitute(self, mapping: dict[Expr, Expr]) -> Expr:
        """This expression with each key replaced by its value (no simplification)."""
        if self in mapping:
            return mapping[self]
        kids = self.children()
        return self.rebuild(tuple(k.substitute(mapping) for k in kids)) if kids else self

    # operators build raw nodes; simplify() tidies them
    def __add__(self, other) -> Expr:  # a + b + c is one sum
        left = self.terms if isinstance(self, Add) else (self,)
        return Add((*left, as_expr(other)))

    def __radd__(self, other) -> Expr:
        return Add((as_expr(other), self))

    def __sub__(self, other) -> Expr:
        left = self.terms if isinstance(self, Add) else (self,)
        return Add((*left, -as_expr(other)))

    def __rsub__(self, other) -> Expr:
        return Add((as_expr(other), -self))

    def __neg__(self) -> Expr:
        return Mul((Number(-1), self))

    def __mul__(self, other) -> Expr:  # a * b * c is one product
        left = self.factors if isinstance(self, Mul) else (self,)
        return Mul((*left, as_expr(other)))

    def __rmul__(self, other) -> Expr:
        right = self.factors if isinstance(self, Mul) else (self,)
        return Mul((as_expr(other), *right))

    __matmul__ = __mul__

    def __truediv__(self, other) -> Expr:
        other = as_expr(other)
        if not other.is_scalar:
            raise ShapeError(f"division by a {_fmt(other.shape)} value: only division by a "
                             "scalar is defined (use inv(...) for a matrix inverse)")
        return Mul((self, Power(other, -1)))

    def __pow__(self, p) -> Expr:
        if not self.is_scalar:
            raise ShapeError(f"power of a {_fmt(self.shape)} value: ^ needs a scalar base; "
                             "use Power(...) (.^ in the parser) for an elementwise power")
        return Power(self, p)

    @property
    def T(self) -> Expr:
        """The transpose."""
        return Transpose(self)


def as_expr(v) -> Expr:
    """An :class:`Expr` from an expression or a Python number."""
    if isinstance(v, Expr):
        return v
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return Number(v)
    raise TypeError(f"expected a matrix expression or a number, got {type(v).__name__}")


# --- leaves -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Symbol(Expr):
    """A named value of declared shape; ``symmetric`` for a symmetric square matrix."""

    name: str
    rows: Dim = 1
    cols: Dim = 1
    symmetric: bool = False

    def __post_init__(self):
        if self.symmetric and self.rows != self.cols:
            raise ShapeError(f"symbol {self.name}: declared symmetric but its shape "
                             f"{self.rows}×{self.cols} is not square")

    @property
    def shape(self) -> Shape:
        return (self.rows, self.cols)


def matrix(name: str, rows: Dim, cols: Dim | None = None, symmetric: bool = False) -> Symbol:
    """A matrix symbol (square when ``cols`` is left out)."""
    return Symbol(name, rows, rows if cols is None else cols, symmetric)


def vector(name: str, n: Dim) -> Symbol:
    """A column-vector symbol of length ``n``."""
    return Symbol(name, n, 1)


def scalar(name: str) -> Symbol:
    """A scalar symbol."""
    return Symbol(name, 1, 1)


@dataclass(frozen=True)
class Number(Expr):
    """A numeric constant (a scalar)."""

    value: float

    @property
    def shape(self) -> Shape:
        return (1, 1)


@dataclass(frozen=True)
class Identity(Expr):
    """The ``n × n`` identity matrix I."""

    n: Dim

    @property
    def shape(self) -> Shape:
        return (self.n, self.n)


@dataclass(frozen=True)
class _Filled(Expr):
    """A constant matrix of a declared shape, every entry the same."""

    rows: Dim
    cols: Dim

    @property
    def shape(self) -> Shape:
        return (self.rows, self.cols)


@dataclass(frozen=True)
class Ones(_Filled):
    """The all-ones matrix 𝟙 of a shape (the identity of the Hadamard product)."""


@dataclass(frozen=True)
class Zero(_Filled):
    """The zero matrix of a shape."""


@dataclass(frozen=True)
class Text(Expr):
    """A display-only leaf (``f(x)``, ``O(‖δ‖²)``) used in derivation steps; not evaluable."""

    text: str
    latex: str
    rows: Dim = 1
    cols: Dim = 1

    @property
    def shape(self) -> Shape:
        return (self.rows, self.cols)


# --- sums and products ------------------------------------------------------------------

@dataclass(frozen=True)
class Add(Expr):
    """A sum of terms of one shape."""

    terms: tuple[Expr, ...]

    def __post_init__(self):
        shapes = {t.shape for t in self.terms}
        if len(shapes) > 1:
            raise ShapeError("sum of values of different shapes "
                             f"{', '.join(_fmt(s) for s in sorted(shapes, key=str))}: "
                             "terms of a sum must have one shape")

    @property
    def shape(self) -> Shape:
        return self.terms[0].shape

    def children(self):
        return self.terms

    def rebuild(self, children):
        return Add(tuple(children))


def chain_shape(factors: tuple[Expr, ...]) -> Shape:
    """The shape of a product: scalar factors scale, the others chain as matrix products."""
    chain = [f for f in factors if not f.is_scalar]
    for a, b in zip(chain, chain[1:]):
        if a.shape[1] != b.shape[0]:
            raise ShapeError(f"product of a {_fmt(a.shape)} and a {_fmt(b.shape)} value: inner "
                             f"dimensions {a.shape[1]} and {b.shape[0]} differ (transpose one "
                             "of them, e.g. x' * y for an inner product)")
    if not chain:
        return (1, 1)
    return (chain[0].shape[0], chain[-1].shape[1])


@dataclass(frozen=True)
class Mul(Expr):
    """A product: scalar-shaped factors multiply as numbers, the rest as a matrix chain."""

    factors: tuple[Expr, ...]

    def __post_init__(self):
        chain_shape(self.factors)

    @property
    def shape(self) -> Shape:
        return chain_shape(self.factors)

    def children(self):
        return self.factors

    def rebuild(self, children):
        return Mul(tuple(children))


@dataclass(frozen=True)
class Hadamard(Expr):
    """The elementwise (Hadamard) product A ⊙ B of values of one shape."""

    factors: tuple[Expr, ...]

    def __post_init__(self):
        shapes = {f.shape for f in self.factors}
        if len(shapes) > 1:
            raise ShapeError("elementwise product of values of shapes "
                             f"{', '.join(_fmt(s) for s in sorted(shapes, key=str))}: "
                             "the shapes must agree")

    @property
    def shape(self) -> Shape:
        return self.factors[0].shape

    def children(self):
        return self.factors

    def rebuild(self, children):
        return Hadamard(tuple(children))


@dataclass(frozen=True)
class Inner(Expr):
    """The inner product ⟨A, B⟩ = tr(AᵀB) of values of one shape (a scalar)."""

    a: Expr
    b: Expr

    def __post_init__(self):
        if self.a.shape != self.b.shape:
            raise ShapeError(f"inner product of a {_fmt(self.a.shape)} and a "
                             f"{_fmt(self.b.shape)} value: the shapes must agree")

    @property
    def shape(self) -> Shape:
        return (1, 1)

    def children(self):
        return (self.a, self.b)

    def rebuild(self, children):
        return Inner(*children)


# --- one-argument nodes -----------------------------------------------------------------

@dataclass(frozen=True)
class _Unary(Expr):
    arg: Expr

    def children(self):
        return (self.arg,)

    def rebuild(self, children):
        return type(self)(children[0])


def _square(node: str, e: Expr) -> None:
    if e.shape[0] != e.shape[1]:
        raise ShapeError(f"{node} of a {_fmt(e.shape)} value: it needs a square matrix")


@dataclass(frozen=True)
class Transpose(_Unary):
    """Aᵀ."""

    @property
    def shape(self) -> Shape:
        return (self.arg.shape[1], self.arg.shape[0])


@dataclass(frozen=True)
class Inverse(_Unary):
    """A⁻¹ of a square matrix."""

    def __post_init__(self):
        _square("inverse", self.arg)

    @property
    def shape(self) -> Shape:
        return self.arg.shape


@dataclass(frozen=True)
class _Scalar(_Unary):
    """A scalar (1×1) function of its argument."""

    @property
    def shape(self) -> Shape:
        return (1, 1)


@dataclass(frozen=True)
class _SquareScalar(_Scalar):
    """A scalar function of a square matrix; ``what`` names it in the shape error."""

    what: ClassVar[str] = ""

    def __post_init__(self):
        _square(self.what, self.arg)


@dataclass(frozen=True)
class Trace(_SquareScalar):
    """tr A of a square matrix."""

    what: ClassVar[str] = "trace"


@dataclass(frozen=True)
class Det(_SquareScalar):
    """det A of a square matrix."""

    what: ClassVar[str] = "det"


@dataclass(frozen=True)
class LogDet(_SquareScalar):
    """log det A of a square matrix (log |det A| when evaluated)."""

    what: ClassVar[str] = "log det"


@dataclass(frozen=True)
class Sum(_Scalar):
    """The sum of all entries, 𝟙ᵀA𝟙."""


@dataclass(frozen=True)
class Norm(_Scalar):
    """‖A‖: the Euclidean norm of a vector, the Frobenius norm of a matrix."""


@dataclass(frozen=True)
class Diag(_Unary):
    """diag(v): the square matrix with the vector v on its diagonal."""

    def __post_init__(self):
        if not (self.arg.is_column or self.arg.is_scalar):
            raise ShapeError(f"diag of a {_fmt(self.arg.shape)} value: it needs a column vector")

    @property
    def shape(self) -> Shape:
        return (self.arg.shape[0], self.arg.shape[0])


@dataclass(frozen=True)
class Power(Expr):
    """``base`` to a numeric power, elementwise (an ordinary power for a scalar base)."""

    base: Expr
    exponent: float

    @property
    def shape(self) -> Shape:
        return self.base.shape

    def children(self):
        return (self.base,)

    def rebuild(self, children):
        return Power(children[0], self.exponent)


#: elementwise functions: name → (text, LaTeX, NumPy source of f(u) with {u})
ELEMENTWISE: dict[str, tuple[str, str, str]] = {
    "exp": ("exp", r"\exp", "np.exp({u})"),
    "log": ("log", r"\log", "np.log({u})"),
    "sin": ("sin", r"\sin", "np.sin({u})"),
    "cos": ("cos", r"\cos", "np.cos({u})"),
    "tanh": ("tanh", r"\tanh", "np.tanh({u})"),
    "sqrt": ("sqrt", r"\operatorname{sqrt}", "np.sqrt({u})"),
    "sigmoid": ("σ", r"\sigma", "_sigmoid({u})"),
    "relu": ("relu", r"\operatorname{relu}", "np.maximum({u}, 0.0)"),
    "step": ("step", r"\operatorname{step}", "np.heaviside({u}, 0.0)"),
}


@dataclass(frozen=True)
class Elementwise(Expr):
    """A function applied entry by entry: one of :data:`ELEMENTWISE` (``step`` = relu′)."""

    func: str
    arg: Expr

    def __post_init__(self):
        if self.func not in ELEMENTWISE:
            raise ValueError(f"elementwise function {self.func!r}: expected one of "
                             f"{', '.join(ELEMENTWISE)}")

    @property
    def shape(self) -> Shape:
        return self.arg.shape

    def children(self):
        return (self.arg,)

    def rebuild(self, children):
        return Elementwise(self.func, children[0])
