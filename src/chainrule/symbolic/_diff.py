"""Exact derivatives of chainrule functions, by SymPy.

``diff(f)`` traces ``f`` into a SymPy expression once, differentiates it with
``sympy.diff`` (the lecture's symbolic differentiation: the rules of calculus
applied to the formula) and evaluates the result through the chainrule bridge,
so the derivative is itself a chainrule function.
"""

from __future__ import annotations

import warnings
from typing import Any, Callable

import sympy as sp

from chainrule.core.time_limit import TimeLimitExceeded, call_with_time_limit
from chainrule.symbolic._bridge import function
from chainrule.symbolic._trace import trace_symbols

__all__ = ["SymbolicDerivative", "diff", "gradient", "hessian"]


class SymbolicDerivative:
    """A derivative as a formula: callable (through chainrule), with its SymPy form.

    Attributes:
        expr: the derivative as a SymPy expression (or Matrix for array outputs).
        symbols: the symbols standing for the arguments, in order.
    """

    def __init__(self, expr: Any, symbols: list, name: str) -> None:
        self.expr = expr
        self.symbols = list(symbols)
        self.__name__ = name
        self._fn: Callable | None = None

    def __call__(self, *args: Any) -> Any:
        """Evaluate the derivative at ``args`` (differentiable again by chainrule)."""
        if self._fn is None:
            self._fn = function(self.expr, *self.symbols)
        return self._fn(*args)

    def latex(self) -> str:
        """The derivative as LaTeX (``sympy.latex``)."""
        return sp.latex(self.expr)

    def simplified(self, time_limit: float | None = 10.0) -> "SymbolicDerivative":
        """The same derivative with ``sympy.simplify`` applied to its formula.

        Args:
            time_limit: seconds ``sympy.simplify`` may take (None: no limit). Deeply
                nested formulas can take minutes; past the limit the unsimplified
                derivative is returned and a :class:`RuntimeWarning` says so.

        Returns:
            The simplified derivative (or this one, unsimplified, after the warning).
        """
        def work():
            return (self.expr.applyfunc(sp.simplify) if isinstance(self.expr, sp.MatrixBase)
                    else sp.simplify(self.expr))

        try:
            simple = call_with_time_limit(work, time_limit)
        except TimeLimitExceeded:
            warnings.warn(f"{self.__name__}: sympy.simplify took longer than {time_limit:g} s; "
                          "kept the unsimplified formula (pass time_limit=None to wait)",
                          RuntimeWarning, stacklevel=2)
            return self
        return SymbolicDerivative(simple, self.symbols, self.__name__)

    def _repr_latex_(self) -> str:
        return f"${self.latex()}$"

    def __repr__(self) -> str:
        return f"<{self.__name__}: {self.expr}>"


def _scalar_symbols(args: list, who: str) -> list:
    for i, a in enumerate(args):
        if not isinstance(a, sp.Symbol):
            raise TypeError(
                f"chainrule.symbolic.{who}: argument {i} is an array of symbols ({a}); "
                f"{who} differentiates with respect to scalar arguments. Write f with one "
                "scalar argument per variable, or use expression(f, ('x', n)) and "
                "sympy.diff on its result."
            )
    return args


def diff(f: Callable, argnum: int = 0, order: int = 1, names: tuple | None = None
         ) -> SymbolicDerivative:
    """The exact ``order``-th derivative of ``f`` with respect to argument ``argnum``.

    Args:
        f: a chainrule function of scalar arguments.
        argnum: which argument to differentiate with respect to.
        order: how many times (0 gives ``f`` itself as a formula).
        names: the argument names (default: ``f``'s parameter names).

    Returns:
        A :class:`SymbolicDerivative`: call it like ``f``; ``.expr`` is the SymPy
        expression, ``.latex()`` its LaTeX, ``.simplified()`` a simplified copy.

    Example:
        >>> import chainrule.numpy as np
        >>> from chainrule.symbolic import diff
        >>> d = diff(lambda x: np.cos(x**2))
        >>> d.expr
        -2*x*sin(x**2)
        >>> round(float(d(5.0)), 4)
        1.3235
    """
    if not isinstance(order, int) or order < 0:
        raise ValueError(f"chainrule.symbolic.diff: order must be an int >= 0, got {order!r}")
    expr, args = trace_symbols(f, tuple(names or ()), "diff")
    args = _scalar_symbols(args, "diff")
    if not 0 <= argnum < len(args):
        raise ValueError(f"chainrule.symbolic.diff: argnum={argnum} but the function has "
                         f"{len(args)} argument(s) {tuple(args)}")
    d = sp.diff(expr, args[argnum], order) if order else expr
    fname = getattr(f, "__name__", "f")
    return SymbolicDerivative(d, args, f"diff_of_{fname}_wrt_{argnum}_order_{order}")


def _scalar_expression(f: Callable, nargs: int | None, who: str) -> tuple[Any, list]:
    names = None if nargs is None else tuple(f"x{i + 1}" for i in range(nargs))
    expr, args = trace_symbols(f, names or (), who)
    args = _scalar_symbols(args, who)
    if isinstance(expr, (sp.MatrixBase, sp.NDimArray)) or not isinstance(expr, sp.Basic):
        raise TypeError(f"chainrule.symbolic.{who} needs a scalar-valued function; "
                        f"{getattr(f, '__name__', f)} returned {expr}")
    return expr, args


def gradient(f: Callable, nargs: int | None = None) -> sp.Matrix:
    """The gradient of a scalar function of scalars, as a SymPy column Matrix.

    Args:
        f: a chainrule function of ``nargs`` scalar arguments, scalar-valued.
        nargs: the number of arguments, named ``x1 ... xn``; default: ``f``'s
            parameters, named after them.

    Returns:
        ``Matrix([∂f/∂x1, ..., ∂f/∂xn])``.
    """
    expr, args = _scalar_expression(f, nargs, "gradient")
    return sp.Matrix([sp.diff(expr, a) for a in args])


def hessian(f: Callable, nargs: int | None = None) -> sp.Matrix:
    """The Hessian of a scalar function of scalars, as a symmetric SymPy Matrix.

    Args:
        f: a chainrule function of ``nargs`` scalar arguments, scalar-valued.
        nargs: as in :func:`gradient`.

    Returns:
        ``Matrix([[∂²f/∂xi∂xj]])``.
    """
    expr, args = _scalar_expression(f, nargs, "hessian")
    return sp.hessian(expr, args)
