"""Safe parsing of formulas typed on the command line: ``"sin(x1/x2) + x1/x2 - exp(x2)"``.

The text is parsed with Python's :mod:`ast` and checked against a whitelist:
numbers, variable names, ``+ - * / **`` (``^`` is read as ``**``), unary ``-``/``+``,
parentheses, and calls of the functions in :data:`FUNCTIONS` with positional
arguments. Anything else (attributes, subscripts, keywords, strings, lambdas,
comparisons, names starting with ``_`` ...) is rejected with an
:class:`ExpressionError` that says what is allowed. Nothing is ever passed to
``eval``/``exec``/``compile``: the checked tree is walked by a small interpreter
that calls ``chainrule.numpy``, so the result is differentiable by every technique.
"""

from __future__ import annotations

import ast
import inspect
import math
import re
import warnings
from typing import Any, Callable

import chainrule.numpy as cnp

__all__ = ["FUNCTIONS", "CONSTANTS", "Expression", "ExpressionError", "parse", "parse_point"]

#: function names allowed in formulas -> name in chainrule.numpy
FUNCTIONS: dict[str, str] = {
    "sin": "sin", "cos": "cos", "tan": "tan", "exp": "exp", "log": "log", "ln": "log",
    "sqrt": "sqrt", "tanh": "tanh", "sinh": "sinh", "cosh": "cosh", "arctan": "arctan",
    "atan": "arctan", "abs": "abs", "log1p": "log1p", "expm1": "expm1", "square": "square",
}
#: named constants
CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e}

_BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
_UNARY = {ast.USub: "-", ast.UAdd: "+"}
_OPS = {"+": lambda m: m.add, "-": lambda m: m.subtract, "*": lambda m: m.multiply,
        "/": lambda m: m.divide, "**": lambda m: m.power}
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
MAX_LENGTH = 2000
MAX_DEPTH = 100

ALLOWED = (
    "numbers, variable names (a letter, then letters, digits or _), + - * / ** (or ^), "
    "unary minus, parentheses, the constants pi and e, and the functions "
    + ", ".join(sorted(FUNCTIONS)) + " (one argument each)"
)


class ExpressionError(ValueError):
    """A formula that is not allowed; the message says what was found and what is allowed."""


def _reject(what: str, text: str) -> ExpressionError:
    return ExpressionError(f"cannot use {what} in {text!r}: allowed are {ALLOWED}")


class Expression:
    """A checked formula: ``variables`` in order of first appearance, callable on numbers.

    Attributes:
        text: the formula as typed.
        variables: the variable names it uses, in order of first appearance.
    """

    def __init__(self, text: str, tree: ast.expr, variables: tuple[str, ...]) -> None:
        self.text = text
        self.tree = tree
        self.variables = variables

    def __repr__(self) -> str:
        return f"Expression({self.text!r}, variables={self.variables})"

    def evaluate(self, env: dict[str, Any]) -> Any:
        """The formula's value with ``env[name]`` for each variable (chainrule.numpy ops)."""
        def ev(node: ast.expr) -> Any:
            if isinstance(node, ast.Constant):
                return node.value
            if isinstance(node, ast.Name):
                if node.id in env:
                    return env[node.id]
                return CONSTANTS[node.id]
            if isinstance(node, ast.UnaryOp):
                v = ev(node.operand)
                return cnp.negative(v) if isinstance(node.op, ast.USub) else v
            if isinstance(node, ast.BinOp):  # NumPy semantics: 1/0 is inf, not an exception
                return _OPS[_BINOPS[type(node.op)]](cnp)(ev(node.left), ev(node.right))
            assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            return getattr(cnp, FUNCTIONS[node.func.id])(ev(node.args[0]))

        return ev(self.tree)

    def function(self, variables: tuple[str, ...] | list[str] | None = None) -> Callable:
        """A Python function of the variables (in ``variables`` order), named ``f``.

        Its signature names the variables, so traces and tables show ``x1``, ``x2``.
        """
        names = tuple(variables) if variables is not None else self.variables
        missing = [v for v in self.variables if v not in names]
        if missing:
            raise ExpressionError(f"{self.text!r} uses {', '.join(missing)} but no value was "
                                  f"given for it; give every variable a value "
                                  f"(--at {','.join(v + '=...' for v in self.variables)})")

        def f(*args: Any) -> Any:
            return self.evaluate(dict(zip(names, args, strict=True)))

        f.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
            [inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD) for n in names])
        f.__name__ = "f"
        f.__doc__ = f"f({', '.join(names)}) = {self.text}"
        return f


def _check(node: ast.AST, text: str, found: list[str], depth: int = 0) -> None:
    if depth > MAX_DEPTH:
        raise ExpressionError(f"{text[:60]!r}... nests deeper than {MAX_DEPTH} levels")
    if isinstance(node, ast.Constant):
        v = node.value
        if type(v) not in (int, float):
            raise _reject(f"the constant {v!r}", text)
        try:
            node.value = float(v)
        except OverflowError:
            raise ExpressionError(f"the number {str(v)[:30]}... in {text[:60]!r} is too large "
                                  f"for a float") from None
        return
    if isinstance(node, ast.Name):
        if node.id in FUNCTIONS:
            raise ExpressionError(f"{node.id!r} in {text!r} is a function: call it, as in "
                                  f"{node.id}(x)")
        if not _NAME.fullmatch(node.id):
            raise _reject(f"the name {node.id!r}", text)
        if node.id not in CONSTANTS and node.id not in found:
            found.append(node.id)
        return
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        _check(node.operand, text, found, depth + 1)
        return
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
        _check(node.left, text, found, depth + 1)
        _check(node.right, text, found, depth + 1)
        return
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            what = node.func.id if isinstance(node.func, ast.Name) else ast.dump(node.func)[:40]
            raise _reject(f"a call of {what!r}", text)
        if node.keywords or len(node.args) != 1 or isinstance(node.args[0], ast.Starred):
            raise ExpressionError(f"{node.func.id}(...) in {text!r} takes exactly one "
                                  f"positional argument")
        _check(node.args[0], text, found, depth + 1)
        return
    raise _reject(f"{type(node).__name__} ({_describe(node)})", text)


def _describe(node: ast.AST) -> str:
    try:
        return ast.unparse(node)[:40]
    except Exception:  # noqa: BLE001 - unparse of an odd node: the type name will do
        return type(node).__name__


def parse(text: str) -> Expression:
    """Check and parse a formula.

    Args:
        text: e.g. ``"sin(x1/x2) + x1/x2 - exp(x2)"`` (``^`` means power).

    Returns:
        An :class:`Expression`.

    Raises:
        ExpressionError: for anything outside the whitelist (the message lists it).

    Example:
        >>> e = parse("ln(x1) + x1*x2 - sin(x2)")
        >>> e.variables
        ('x1', 'x2')
        >>> round(float(e.function()(2.0, 5.0)), 4)
        11.6521
    """
    if not isinstance(text, str):
        raise ExpressionError(f"a formula must be a string, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"the formula is {len(text)} characters long; at most "
                              f"{MAX_LENGTH} are accepted")
    if not text.strip():
        raise ExpressionError(f"the formula is empty; write one with {ALLOWED}")
    try:
        # ^ is power, with power's precedence (Python's ^ binds looser than +): no string
        # literal is allowed, so replacing every ^ before parsing cannot change a name
        with warnings.catch_warnings():  # "invalid escape sequence" etc.: rejected below anyway
            warnings.simplefilter("ignore")
            module = ast.parse(text.strip().replace("^", "**"), mode="eval")
    except SyntaxError as err:
        raise ExpressionError(f"{text!r} is not a formula ({err.msg}); allowed are "
                              f"{ALLOWED}") from None
    except (ValueError, RecursionError, MemoryError, OverflowError) as err:
        raise ExpressionError(f"{text[:60]!r} cannot be parsed ({type(err).__name__}); "
                              f"allowed are {ALLOWED}") from None
    found: list[str] = []
    _check(module.body, text, found)
    return Expression(text, module.body, tuple(found))


def parse_point(text: str) -> dict[str, float]:
    """``"x1=1.5,x2=0.5"`` -> ``{"x1": 1.5, "x2": 0.5}`` (values: numbers, ±pi, ±e).

    Raises:
        ExpressionError: on anything else, naming the bad part.
    """
    point: dict[str, float] = {}
    for part in [p.strip() for p in str(text).split(",") if p.strip()]:
        name, sep, value = part.partition("=")
        name, value = name.strip(), value.strip()
        if not sep or not _NAME.fullmatch(name):
            raise ExpressionError(f"--at: {part!r} is not name=value; write e.g. "
                                  f"--at x1=1.5,x2=0.5")
        if name in point:
            raise ExpressionError(f"--at: {name} is given twice")
        sign = -1.0 if value.startswith("-") else 1.0
        bare = value.lstrip("+-")
        if bare in CONSTANTS:
            point[name] = sign * CONSTANTS[bare]
            continue
        try:
            point[name] = float(value)
        except ValueError:
            raise ExpressionError(f"--at: the value {value!r} of {name} is not a number") \
                from None
    if not point:
        raise ExpressionError("--at: no values given; write e.g. --at x1=1.5,x2=0.5")
    return point
