"""From a SymPy expression back to a chainrule function.

:func:`function` walks the expression tree once per call and evaluates every
node with the chainrule primitive of the same meaning (``sympy.sin`` ->
``chainrule.numpy.sin``, ``a*b**-1`` -> ``a / b``, ``Piecewise`` -> ``where``),
so the result is an ordinary chainrule function: ``grad``, ``jvp``, ``hessian``
and ``expression`` apply to it. No source code is generated (unlike
``sympy.lambdify``). Identical subexpressions (SymPy hash-conses them) are
evaluated once, so the cost is the size of the expression as a DAG; the walk
is iterative, so deep expressions do not hit Python's recursion limit.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as onp
import sympy as sp

import chainrule.numpy as cnp
from chainrule.transforms import stop_gradient
from chainrule.symbolic._trace import StopGradient

__all__ = ["function"]


def _fold(op: Callable, items: list) -> Any:
    acc = items[0]
    for v in items[1:]:
        acc = op(acc, v)
    return acc


def _number(node: sp.Basic) -> Any:
    if node.is_Integer:
        return int(node)
    if node is sp.S.ComplexInfinity or node is sp.S.NaN:
        return float("nan")
    if node.is_real is False:
        return complex(node)
    return float(node)


def _power(b, e_node: sp.Basic, e_val: Any) -> Any:
    if e_node == sp.S.Half:
        return cnp.sqrt(b)
    if e_node == -sp.S.Half:
        return 1.0 / cnp.sqrt(b)
    if e_node == -1:
        return 1.0 / b
    if e_node == 2:
        return cnp.square(b)
    return cnp.power(b, e_val)


_UNARY = {
    sp.exp: cnp.exp,
    sp.sin: cnp.sin,
    sp.cos: cnp.cos,
    sp.tan: cnp.tan,
    sp.tanh: cnp.tanh,
    sp.sinh: cnp.sinh,
    sp.cosh: cnp.cosh,
    sp.atan: cnp.arctan,
    sp.Abs: cnp.absolute,
    sp.sign: cnp.sign,
    sp.floor: cnp.floor,
    sp.ceiling: cnp.ceil,
    StopGradient: stop_gradient,
    sp.Not: cnp.logical_not,
}

_RELATIONS = {
    sp.StrictGreaterThan: cnp.greater,
    sp.GreaterThan: cnp.greater_equal,
    sp.StrictLessThan: cnp.less,
    sp.LessThan: cnp.less_equal,
    sp.Equality: cnp.equal,
    sp.Unequality: cnp.not_equal,
}


def _mul(node: sp.Mul, val: Callable) -> Any:
    """A product as numerator / denominator: factors ``b**-k`` divide."""
    num, den = [], []
    for a in node.args:
        if a.is_Pow and a.exp.is_Number and a.exp.is_negative:
            den.append(_power(val(a.base), -a.exp, _number(-a.exp)) if a.exp != -1
                       else val(a.base))
        elif a == -1:
            num.insert(0, -1)
        else:
            num.append(val(a))
    if num and isinstance(num[0], int) and num[0] == -1:
        rest = num[1:]
        top = -_fold(cnp.multiply, rest) if rest else -1.0
    else:
        top = _fold(cnp.multiply, num) if num else 1.0
    return top if not den else cnp.divide(top, _fold(cnp.multiply, den))


def _add(node: sp.Add, val: Callable) -> Any:
    """A sum, with ``a + (-1)*b`` evaluated as ``a - b``."""
    acc = None
    for a in node.args:
        coeff, rest = a.as_coeff_Mul()
        if coeff.is_negative and acc is not None:
            term = val(-a)
            acc = cnp.subtract(acc, term)
        else:
            term = val(a)
            acc = term if acc is None else cnp.add(acc, term)
    return acc


def _piecewise(node: sp.Piecewise, val: Callable) -> Any:
    out = None
    for expr, cond in reversed(node.args):
        if out is None or cond is sp.true:
            out = val(expr)
        else:
            out = cnp.where(val(cond), val(expr), out)
    return out


def _children(node: sp.Basic) -> tuple:
    """The subexpressions a node's evaluation reads (for the iterative walk)."""
    if node.is_Atom or isinstance(node, sp.Symbol):
        return ()
    if node.is_Mul:
        kids = []
        for a in node.args:
            if a.is_Pow and a.exp.is_Number and a.exp.is_negative:
                kids.append(a.base)
            elif a != -1:
                kids.append(a)
        return tuple(kids)
    if node.is_Add:
        return tuple(-a if a.as_coeff_Mul()[0].is_negative and i else a
                     for i, a in enumerate(node.args))
    if node.is_Pow:
        return (node.base, node.exp)
    if isinstance(node, sp.Piecewise):
        return tuple(x for pair in node.args for x in pair if x is not sp.true)
    return node.args


def _evaluate_node(node: sp.Basic, val: Callable, env: dict) -> Any:
    if isinstance(node, sp.Symbol):
        if node not in env:
            raise ValueError(
                f"chainrule.symbolic.function: the expression has the free symbol {node}, "
                f"which is not among the arguments {tuple(env)}; pass it in *symbols"
            )
        return env[node]
    if node is sp.true:
        return True
    if node is sp.false:
        return False
    if node.is_Number or node.is_NumberSymbol:
        return _number(node)
    if node.is_Add:
        return _add(node, val)
    if node.is_Mul:
        return _mul(node, val)
    if node.is_Pow:
        return _power(val(node.base), node.exp, val(node.exp))
    fn = _UNARY.get(node.func)
    if fn is not None:
        return fn(val(node.args[0]))
    return _evaluate_function(node, val)


def _evaluate_function(node: sp.Basic, val: Callable) -> Any:
    """A node that is not a symbol, number, sum, product, power or one-argument function:
    logarithms to a base, max/min, mod, piecewise, relations and logical connectives."""
    if node.func is sp.log:
        if len(node.args) == 2:
            return cnp.divide(cnp.log(val(node.args[0])), cnp.log(val(node.args[1])))
        return cnp.log(val(node.args[0]))
    if node.func in (sp.Max, sp.Min):
        op = cnp.maximum if node.func is sp.Max else cnp.minimum
        return _fold(op, [val(a) for a in node.args])
    if node.func is sp.Mod:
        return cnp.mod(val(node.args[0]), val(node.args[1]))
    if isinstance(node, sp.Piecewise):
        return _piecewise(node, val)
    rel = _RELATIONS.get(node.func)
    if rel is not None:
        return rel(val(node.args[0]), val(node.args[1]))
    if node.func in (sp.And, sp.Or):
        op = cnp.logical_and if node.func is sp.And else cnp.logical_or
        return _fold(op, [val(a) for a in node.args])
    raise NotImplementedError(
        f"chainrule.symbolic.function: no chainrule primitive for the SymPy node "
        f"{type(node).__name__} (in {node}); rewrite it with elementary functions "
        "(e.g. sympy.simplify / .rewrite(sympy.exp)) or add a case to "
        "chainrule.symbolic._bridge"
    )


def evaluate(expr: sp.Basic, env: dict) -> Any:
    """Evaluate a SymPy scalar expression with chainrule primitives (iteratively)."""
    memo: dict = {}

    def val(node):
        return memo[node]

    stack = [(expr, False)]
    while stack:
        node, ready = stack.pop()
        if node in memo:
            continue
        if ready:
            memo[node] = _evaluate_node(node, val, env)
            continue
        stack.append((node, True))
        for c in _children(node):
            if c not in memo:
                stack.append((c, False))
    return memo[expr]


def _bind(symbol_spec: Any, value: Any, env: dict) -> None:
    """Put the argument ``value`` for ``symbol_spec`` (a Symbol, or an array of them) in env."""
    if isinstance(symbol_spec, sp.Symbol):
        env[symbol_spec] = value
        return
    if isinstance(symbol_spec, sp.MatrixBase) and symbol_spec.shape[1] == 1:
        symbol_spec = list(symbol_spec)
    elif isinstance(symbol_spec, sp.MatrixBase):
        symbol_spec = symbol_spec.tolist()
    arr = onp.array(symbol_spec, dtype=object)
    for idx in onp.ndindex(arr.shape):
        s = arr[idx]
        if not isinstance(s, sp.Symbol):
            raise TypeError(f"chainrule.symbolic.function: argument entries must be "
                            f"sympy.Symbols, got {s!r} in {symbol_spec}")
        env[s] = value[idx]


def function(expr: Any, *symbols: Any) -> Callable:
    """A chainrule-differentiable function computing the SymPy expression ``expr``.

    Args:
        expr: a SymPy expression, or a ``sympy.Matrix``/``sympy.Array`` of them.
        *symbols: one entry per argument of the returned function: a ``sympy.Symbol``
            (a scalar argument) or a list/``sympy.Matrix`` of Symbols (an array
            argument, indexed like it; a column Matrix is a 1-D argument).

    Returns:
        ``fn(*args)`` evaluating ``expr`` with ``chainrule.numpy`` primitives: a scalar
        for a scalar expression, an array for a Matrix/Array (stacked, so it
        differentiates too); a column Matrix gives a 1-D array, as
        :func:`~chainrule.symbolic.expression` makes a column of a 1-D output.

    Example:
        >>> import sympy as sp, chainrule as cr
        >>> from chainrule.symbolic import function
        >>> x = sp.Symbol("x")
        >>> f = function(5 * x**3, x)
        >>> float(f(2.0)), cr.grad(f)(2.0)
        (40.0, 60.0)
    """
    if not isinstance(expr, sp.Basic) and not isinstance(expr, sp.MatrixBase):
        expr = sp.sympify(expr)
    shaped = isinstance(expr, (sp.MatrixBase, sp.NDimArray))
    if shaped:
        shape = expr.shape
        if isinstance(expr, sp.MatrixBase) and shape[1] == 1:
            shape = (shape[0],)  # a column Matrix is a vector, as in expression()
        elements = onp.array(expr.tolist(), dtype=object).reshape(shape)
    nargs = len(symbols)

    def fn(*args):
        if len(args) != nargs:
            raise TypeError(f"this function of {nargs} argument(s) {symbols} was called with "
                            f"{len(args)}")
        env: dict = {}
        for s, a in zip(symbols, args, strict=True):
            _bind(s, a, env)
        if not shaped:
            return evaluate(expr, env)
        flat = [evaluate(e, env) for e in elements.reshape(-1)]
        return cnp.reshape(cnp.stack([cnp.asarray(v) * 1.0 for v in flat]), shape)

    fn.__name__ = "sympy_function"
    fn.__doc__ = f"A SymPy expression in {symbols}, evaluated by chainrule primitives."
    return fn
