"""chainrule.symbolic.matrix: closed-form gradients and Hessians of matrix expressions.

The lecture derives analytic derivatives by hand, by the vector chain rule and by the
Taylor-expansion method, on least squares ‖y − Ax‖², on xᵀAx and on the three-layer linear
network ‖Y − W₃W₂W₁X‖², and then says to leave the boring job to computers. This package
does that job and writes the answer as a person writes it on paper:

    >>> from chainrule.symbolic.matrix import parse, gradient, hessian, text
    >>> text(gradient(parse("norm2(y - A*x)^2"), "x"))
    '−2Aᵀ(y − Ax)'
    >>> text(hessian(parse("x' * A * x", symmetric=["A"]), "x"))
    '2A'
    >>> text(gradient(parse("norm2(Y - W3*W2*W1*X)^2"), "W2"))
    '−2W₃ᵀ(Y − W₃W₂W₁X)(W₁X)ᵀ'
    >>> text(gradient(parse("logdet(X)"), "X"))
    'X⁻ᵀ'

Modules, by content: :mod:`~.expr` (the tree, shapes declared per symbol), :mod:`~.parse`
(the lecture's notation, shapes inferred), :mod:`~.simplify`, :mod:`~.printing` (Unicode,
ASCII, LaTeX), :mod:`~.differentiate` (gradient, Hessian, Hessian-vector product),
:mod:`~.derivation` (the steps of the Taylor-expansion method and of the vector chain rule),
:mod:`~.evaluate` (the plain evaluator, NumPy or chainrule.numpy) and :mod:`~.codegen`
(lean NumPy functions from the closed forms).

Why an own expression tree rather than SymPy's ``MatrixSymbol``: both were tried on the
lecture's examples (SymPy 1.14). SymPy gets least squares and xᵀAx right
(``-2*A.T*(-A*x + y)``, ``A*x + A.T*x``) but gives the middle layer as
``2*W3.T*(W3*W2*W1*X - Y)*X.T*W1.T`` (sign pushed inside, (W₁X)ᵀ expanded), cannot declare
a symmetric matrix, returns ``0`` for ∂ log det X/∂X, and answers Hadamard and elementwise
expressions with ``ArrayDiagonal``/``ArrayAdd`` tensor objects. A small tree of our own
(twenty node types) gives the printed forms above, supports the lecture's notation and
symmetric declarations, shows the Taylor-expansion steps the lecture does by hand, and needs
no SymPy at all.
"""

from chainrule.symbolic.matrix.codegen import lambdify, numpy_source
from chainrule.symbolic.matrix.derivation import Derivation, Step, derive
from chainrule.symbolic.matrix.differentiate import gradient, hessian, hvp
from chainrule.symbolic.matrix.evaluate import evaluate
from chainrule.symbolic.matrix.expr import (
    Expr, ShapeError, Symbol, matrix, scalar, vector,
)
from chainrule.symbolic.matrix.parse import ParseError, parse
from chainrule.symbolic.matrix.printing import ascii, latex, text
from chainrule.symbolic.matrix.simplify import simplify

__all__ = [
    "Derivation", "Expr", "ParseError", "ShapeError", "Step", "Symbol", "ascii", "derive",
    "evaluate", "gradient", "hessian", "hvp", "lambdify", "latex", "matrix", "numpy_source",
    "parse", "scalar", "simplify",
    "text", "vector",
]
