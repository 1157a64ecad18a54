"""The plain evaluator: an expression's value at given arrays, with NumPy or chainrule.numpy.

The reference every generated function is tested against, and, run with
``chainrule.numpy``, the way the derived closed forms are checked against chainrule's own
reverse mode (``cr.grad`` of :func:`evaluate`). Column and row vectors are 1-D arrays,
scalars 0-d, matrices 2-D.

Example:
    >>> import numpy as np
    >>> from chainrule.symbolic.matrix.parse import parse
    >>> float(evaluate(parse("x' * A * x"), {"x": np.ones(2), "A": np.eye(2)}))
    2.0
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as onp

from chainrule.symbolic.matrix.expr import (
    Add, Det, Diag, Elementwise, Expr, Hadamard, Identity, Inner, Inverse, LogDet, Mul, Norm,
    Number, Ones, Power, Sum, Symbol, Text, Trace, Transpose, Zero,
)

__all__ = ["evaluate", "dimension_sizes", "random_values"]


def dimension_sizes(expr: Expr, values: Mapping[str, Any]) -> dict:
    """The size of each named dimension, read off the arrays given for the symbols.

    Raises:
        ValueError: a symbol has no value, or an array's shape contradicts the declaration.
    """
    sizes: dict = {1: 1}
    for name, s in expr.symbols().items():
        if name not in values:
            raise ValueError(f"no value for the symbol {name!r}; pass one for each of "
                             f"{', '.join(expr.symbols())}")
        shape = onp.shape(values[name])
        want = [d for d in s.shape if d != 1]
        if len(shape) != len(want):
            raise ValueError(f"{name}: expected a {len(want)}-d array (declared "
                             f"{s.rows}×{s.cols}), got shape {shape}")
        for d, size in zip(want, shape):
            if sizes.setdefault(d, size) != size:
                raise ValueError(f"{name}: dimension {d} is {sizes[d]} elsewhere but {size} "
                                 f"here (shape {shape})")
    return sizes


def random_values(expr: Expr, seed: int = 0) -> dict[str, onp.ndarray]:
    """Standard normal values for every symbol of ``expr``, to check formulas at.

    Named dimensions get the sizes 3, 4, 5, … (in name order); a square matrix gets
    3n·I added (well conditioned, positive definite when symmetric), and a symbol
    declared symmetric is symmetrised.

    Args:
        expr: the expression.
        seed: the random seed.

    Returns:
        {symbol name: array}, shaped as :func:`evaluate` takes them.

    >>> from chainrule.symbolic.matrix.parse import parse
    >>> {k: v.shape for k, v in random_values(parse("x' * A * x")).items()}
    {'x': (3,), 'A': (3, 3)}
    """
    rng = onp.random.default_rng(seed)
    dims = sorted({d for s in expr.symbols().values() for d in s.shape if d != 1}, key=str)
    size = {d: 3 + k for k, d in enumerate(dims)}
    values = {}
    for name, s in expr.symbols().items():
        shape = tuple(size[d] for d in s.shape if d != 1)
        v = rng.standard_normal(shape)
        if len(shape) == 2 and shape[0] == shape[1]:
            v = v + 3 * shape[0] * onp.eye(shape[0])
            if s.symmetric:
                v = (v + v.T) / 2
        values[name] = v
    return values


def _size(sizes: dict, d) -> int:
    return d if isinstance(d, int) else sizes[d]


def evaluate(expr: Expr, values: Mapping[str, Any], xp: Any = None,
             sizes: Mapping | None = None) -> Any:
    """The value of ``expr`` at ``values`` (name → array).

    Args:
        expr: the expression.
        values: an array per symbol (vectors 1-D).
        xp: the array module: ``numpy`` (default) or ``chainrule.numpy`` (differentiable).
        sizes: dimension sizes for dimensions no symbol of ``expr`` carries (a derivative
            such as 2I or a zero gradient); see :func:`dimension_sizes`.

    Returns:
        An array (0-d for a scalar expression).
    """
    xp = onp if xp is None else xp
    sizes = {**(sizes or {}), **dimension_sizes(expr, values)}
    memo: dict[Expr, Any] = {}

    def ev(e: Expr):
        if e not in memo:
            memo[e] = _ev(e)
        return memo[e]

    def shape(e: Expr) -> tuple:
        return tuple(_size(sizes, d) for d in e.shape if d != 1)

    def _ev(e: Expr):
        leaf = _leaf_value(e, values, sizes, xp)
        if leaf is not None:
            return leaf
        if isinstance(e, (Add, Hadamard)):
            parts = e.terms if isinstance(e, Add) else e.factors
            out = ev(parts[0])
            for t in parts[1:]:
                out = out + ev(t) if isinstance(e, Add) else out * ev(t)
            return out
        if isinstance(e, Mul):
            return _product(e, ev, xp)
        if isinstance(e, Text):
            raise ValueError(f"{e.text!r} is display-only text and has no value")
        return _operation_value(e, ev(e.children()[0]), ev, xp, shape(e))

    return ev(expr)


def _leaf_value(e: Expr, values: Mapping[str, Any], sizes: Mapping, xp: Any) -> Any:
    """The value of a symbol, number, identity, ones or zero (None for other nodes)."""
    if isinstance(e, Symbol):
        return values[e.name]
    if isinstance(e, Number):
        return float(e.value)
    if isinstance(e, Identity):
        return xp.eye(_size(sizes, e.n))
    if isinstance(e, (Ones, Zero)):
        shape = tuple(_size(sizes, d) for d in e.shape if d != 1)
        return xp.ones(shape) if isinstance(e, Ones) else xp.zeros(shape)
    return None


def _operation_value(e: Expr, a: Any, ev, xp: Any, shape: tuple) -> Any:
    """The value of a one-operand node (transpose, inverse, trace, …) of value ``a``."""
    if isinstance(e, Transpose):
        return xp.transpose(a) if len(shape) == 2 else a
    if isinstance(e, Inner):
        return xp.sum(a * ev(e.b))
    simple = {Inverse: lambda: xp.linalg.inv(a), Trace: lambda: xp.trace(a),
              Det: lambda: xp.linalg.det(a), LogDet: lambda: xp.linalg.slogdet(a)[1],
              Sum: lambda: xp.sum(a), Norm: lambda: xp.sqrt(xp.sum(a * a)),
              Diag: lambda: xp.diag(a), Power: lambda: a ** e.exponent}
    if type(e) in simple:
        return simple[type(e)]()
    if isinstance(e, Elementwise):
        if e.func == "sigmoid":
            return 1.0 / (1.0 + xp.exp(-a))
        if e.func == "relu":
            return xp.maximum(a, 0.0)
        if e.func == "step":
            return xp.heaviside(a, 0.0)
        return getattr(xp, e.func)(a)
    raise TypeError(f"cannot evaluate {type(e).__name__}")  # pragma: no cover


def _product(e: Mul, ev, xp):
    """Scalars multiply; the chain multiplies left to right, column × row as an outer product."""
    scale = 1.0
    value, shape = None, None
    for f in e.factors:
        if f.is_scalar:
            scale = scale * ev(f)
            continue
        v = ev(f)
        if value is None:
            value, shape = v, f.shape
        elif shape[1] == 1 and f.shape[0] == 1:
            value = xp.outer(value, v) if shape[0] != 1 and f.shape[1] != 1 else value * v
            shape = (shape[0], f.shape[1])
        else:
            value, shape = value @ v, (shape[0], f.shape[1])
    return scale if value is None else scale * value
