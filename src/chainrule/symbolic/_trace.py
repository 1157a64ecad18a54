"""Tracing a chainrule function into a SymPy expression.

A :class:`SymPyTrace` is one more interpreter of the primitive set: its tracers
carry SymPy values instead of numbers, and ``process`` maps every chainrule
primitive to the SymPy function of the same meaning (``sin`` -> ``sympy.sin``,
``div`` -> ``/``, ``sum`` -> ``sympy.Add`` over an axis, ...). Running ``f`` on
tracers whose values are symbols therefore *is* the symbolic expression of
``f``: the evaluation trace of the lecture, with every intermediate substituted
into its uses.

Values are SymPy scalars (``sympy.Expr``, or a relational for a comparison) or
small arrays held as NumPy ``object`` arrays of SymPy scalars, so the structural
primitives (reshape, transpose, indexing, matmul) are NumPy's own; the result is
handed back as a ``sympy.Matrix`` (1-D and 2-D) or a ``sympy.Array``.
"""

from __future__ import annotations

import functools
import inspect
import operator
from typing import Any, Callable

import numpy as np
import sympy as sp

from chainrule.core.primitive import Primitive, Trace, Tracer
from chainrule.numpy import (_contract, _indexing, _linalg, _nondiff, _reductions, _scans,
                             _structural, linalg)
from chainrule.core.pytree import tree_flatten, tree_unflatten
from chainrule.numpy._contract import _spec

__all__ = ["SymPyTrace", "SymTracer", "StopGradient", "expression", "trace_symbols",
           "ARRAY_RULES"]


class StopGradient(sp.Function):
    """``stop_gradient(x)`` in SymPy: the value x, with derivative 0 (``fdiff`` is 0)."""

    nargs = 1

    def fdiff(self, argindex: int = 1):
        return sp.S.Zero

    def _eval_evalf(self, prec):
        return self.args[0]._eval_evalf(prec)

    def _latex(self, printer):
        return r"\operatorname{stop\_gradient}\left(%s\right)" % printer._print(self.args[0])


class SymTracer(Tracer):
    """A traced value whose ``_value`` is a SymPy scalar or an object array of them."""

    __slots__ = ()
    #: a symbol is a value not known yet: ``concrete`` stops here, so derivative rules
    #: that compute masks from their inputs (``x == 0``) trace those comparisons too
    _staged = True

    def __init__(self, trace: "SymPyTrace", value: Any) -> None:
        self._trace = trace
        self._value = value

    @property
    def shape(self) -> tuple:
        v = self._value
        return v.shape if isinstance(v, np.ndarray) else ()

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(np.float64)

    def __bool__(self) -> bool:
        raise TypeError(
            f"the truth value of a symbolic value ({self._value}) is not known while tracing "
            "into SymPy: an `if` or `while` on a traced value takes one branch for every x, "
            "which a symbolic expression cannot do. Use chainrule.numpy.where(cond, a, b) "
            "(it becomes a sympy.Piecewise), or trace a function without the branch."
        )

    def __repr__(self) -> str:
        return f"SymTracer({self._value})"


# ---------------------------------------------------------------------------
# conversions
# ---------------------------------------------------------------------------

def to_sympy_scalar(v: Any) -> Any:
    """A Python/NumPy number as a SymPy number (integral floats become Integers)."""
    if isinstance(v, sp.Basic):
        return v
    if isinstance(v, (bool, np.bool_)):
        return sp.true if v else sp.false
    if isinstance(v, (int, np.integer)):
        return sp.Integer(int(v))
    if isinstance(v, (float, np.floating)):
        f = float(v)
        if f.is_integer() and abs(f) < 2.0**53:
            return sp.Integer(int(f))
        return sp.Float(f)
    if isinstance(v, (complex, np.complexfloating)):
        return sp.Float(v.real) + sp.I * sp.Float(v.imag)
    raise TypeError(
        f"cannot use {type(v).__name__} {v!r} in a SymPy expression; expected a number, an "
        "array of numbers or a traced value"
    )


_to_object = np.frompyfunc(to_sympy_scalar, 1, 1)


def _normalize(v: Any) -> Any:
    """Object arrays stay arrays unless 0-d (then their scalar); numbers become SymPy."""
    if isinstance(v, np.ndarray):
        if v.ndim == 0:
            return to_sympy_scalar(v[()])
        if v.dtype != object:
            return _to_object(v).astype(object)
        return v
    return to_sympy_scalar(v)


def _as_array(v: Any) -> np.ndarray:
    """Any value as an object array (a scalar as a 0-d one)."""
    if isinstance(v, np.ndarray):
        return v if v.dtype == object else _to_object(v).astype(object)
    a = np.empty((), dtype=object)
    a[()] = v
    return a


def to_user(v: Any) -> Any:
    """An internal value as the user sees it: SymPy scalar, Matrix (1-D, 2-D) or Array."""
    v = _normalize(v)
    if isinstance(v, np.ndarray):
        if v.ndim == 1:
            return sp.Matrix(list(v))
        if v.ndim == 2:
            return sp.Matrix(v.tolist())
        return sp.Array(v.tolist())
    return v


# ---------------------------------------------------------------------------
# the primitive -> SymPy table
# ---------------------------------------------------------------------------

def _elementwise(fn: Callable, nargs: int) -> Callable:
    """``fn`` on SymPy scalars, lifted to broadcast over object arrays."""
    lifted = np.frompyfunc(fn, nargs, 1)

    def rule(*args, **params):
        if not any(isinstance(a, np.ndarray) for a in args):
            return fn(*args)
        return lifted(*args)

    return rule


def _reduce(fn: Callable) -> Callable:
    """A reduction over ``axis`` (None: all) that applies ``fn(*elements)`` per output."""

    def rule(x, axis=None, keepdims=False):
        x = _as_array(x)
        axes = tuple(range(x.ndim)) if axis is None else tuple(axis)
        rest = [i for i in range(x.ndim) if i not in axes]
        moved = np.transpose(x, rest + list(axes)).reshape([x.shape[i] for i in rest] + [-1])
        out = np.empty(moved.shape[:-1], dtype=object)
        for idx in np.ndindex(out.shape):
            out[idx] = fn(*moved[idx])
        if keepdims:
            out = out.reshape([1 if i in axes else d for i, d in enumerate(x.shape)])
        return out

    return rule


def _scatter_add(g, index, shape):
    out = np.full(shape, sp.S.Zero, dtype=object)
    if index.accumulates:
        np.add.at(out, index.key, g)
    else:
        out[index.key] = g
    return out


def _filled(value: Any) -> Callable:
    """``ones_like`` and friends: a constant of the argument's shape."""

    def rule(x, *args, **params):
        fill = to_sympy_scalar(args[0] if args else params.get("fill_value", value))
        if isinstance(x, np.ndarray):
            return np.full(x.shape, fill, dtype=object)
        return fill

    return rule


def _per_matrix(fn: Callable) -> Callable:
    """A SymPy Matrix function applied to the last two axes (batched by a loop)."""

    def rule(*args):
        arrays = [_as_array(a) for a in args]
        batch = arrays[0].shape[:-2]
        outs = {}
        for idx in np.ndindex(batch):
            mats = [sp.Matrix(a[idx].tolist()) if a[idx].ndim == 2 else sp.Matrix(list(a[idx]))
                    for a in arrays]
            r = fn(*mats)
            outs[idx] = np.array(r.tolist(), dtype=object) if isinstance(r, sp.MatrixBase) \
                else r
        first = outs[next(iter(outs))]
        out = np.empty(batch + np.shape(first), dtype=object)
        for idx, r in outs.items():
            out[idx] = r
        return out

    return rule


def _solve(a, b):
    vec = _as_array(b).ndim == 1
    out = _per_matrix(lambda A, B: A.LUsolve(B))(a, b)
    return out.reshape(out.shape[:-1]) if vec else out


def _scan(fn: Callable) -> Callable:
    def rule(x, axis):
        x = np.moveaxis(_as_array(x), axis, -1)
        out = np.empty(x.shape, dtype=object)
        for idx in np.ndindex(x.shape[:-1]):
            acc = None
            for k, v in enumerate(x[idx]):
                acc = v if acc is None else fn(acc, v)
                out[idx + (k,)] = acc
        return np.moveaxis(out, -1, axis)

    return rule


def _einsum(*operands, ins, out):
    return np.einsum(_spec(ins, out), *[_as_array(o) for o in operands], optimize=False)


def _matmul(a, b):
    return np.matmul(_as_array(a), _as_array(b))


#: the array-structured primitives (reductions, shapes, indexing, linear algebra) and
#: ``stop_gradient``, keyed by the primitive objects: rules on object arrays of SymPy
#: values. Elementwise primitives carry their counterpart in their own ``sympy`` field.
ARRAY_RULES: dict[Primitive, Callable] = {
    _nondiff.stop_gradient_p: _elementwise(StopGradient, 1),
    _reductions.sum_p: _reduce(sp.Add),
    _reductions.prod_p: _reduce(sp.Mul),
    _reductions.max_p: _reduce(sp.Max),
    _reductions.min_p: _reduce(sp.Min),
    _structural.reshape_p: lambda x, shape: _as_array(x).reshape(shape),
    _structural.broadcast_to_p: lambda x, shape: np.broadcast_to(_as_array(x), shape).copy(),
    _structural.transpose_p: lambda x, axes: np.transpose(_as_array(x), axes),
    _indexing.getitem_p: lambda x, index: _as_array(x)[index.key],
    _indexing.scatter_add_p: _scatter_add,
    _indexing.concatenate_p: lambda *xs, axis: np.concatenate([_as_array(x) for x in xs],
                                                               axis=axis),
    _linalg.matmul: _matmul,
    _scans.cumsum_p: _scan(operator.add),
    _scans.cumprod_p: _scan(operator.mul),
    linalg.inv_p: _per_matrix(lambda A: A.inv()),
    linalg.det_p: _per_matrix(lambda A: A.det()),
    linalg.logabsdet_p: _per_matrix(lambda A: sp.log(sp.Abs(A.det()))),
    linalg.slogdet_sign_p: _per_matrix(lambda A: sp.sign(A.det())),
    linalg.solve_p: _solve,
    linalg.norm2_p: lambda x, axis=None, keepdims=False: _elementwise(sp.sqrt, 1)(
        _reduce(sp.Add)(_elementwise(lambda v: sp.Abs(v) ** 2, 1)(_as_array(x)), axis,
                        keepdims)),
    _contract.einsum_p: _einsum,
    _nondiff.nondiff_funcs["zeros_like"]: _filled(0),
    _nondiff.nondiff_funcs["empty_like"]: _filled(0),
    _nondiff.nondiff_funcs["ones_like"]: _filled(1),
    _nondiff.nondiff_funcs["full_like"]: _filled(None),
}


def _counterpart(prim: Primitive) -> Callable | None:
    """The rule on SymPy values of a primitive: its own ``sympy`` field (a function of
    the ``sympy`` module by name, or ``rule(sp, *scalars)``) lifted elementwise, else its
    array rule, else None."""
    rule = ARRAY_RULES.get(prim)
    if rule is not None or prim.sympy is None:
        return rule
    fn = prim.sympy
    fn = getattr(sp, fn) if isinstance(fn, str) else functools.partial(fn, sp)
    return lambda *args, **params: _elementwise(functools.partial(fn, **params), len(args))(
        *args)


class SymPyTrace(Trace):
    """Evaluates primitives on SymPy values (see the module docstring)."""

    __slots__ = ()

    def process(self, prim: Primitive, args: tuple, params: dict) -> Any:
        rule = _counterpart(prim)
        if rule is None:
            raise NotImplementedError(
                f"chainrule.symbolic cannot trace the primitive '{prim.name}' into SymPy: it "
                "has no SymPy counterpart yet. Give an elementwise primitive one in its "
                "sympy= field (a sympy function's name, or rule(sp, *scalars)); an array "
                "operation a rule in chainrule.symbolic._trace.ARRAY_RULES; or write the "
                "function with supported operations."
            )
        vals = []
        for a in args:
            if isinstance(a, Tracer):
                if a._trace is not self:
                    raise TypeError(
                        f"chainrule.symbolic: the primitive '{prim.name}' received a value "
                        f"of an enclosing transformation ({a!r}); a function traced into "
                        "SymPy may contain grad/jvp/vjp, but expression() cannot be called "
                        "inside them. Call expression()/diff() outside the transformation."
                    )
                vals.append(a._value)
            elif isinstance(a, (list, tuple)) or a is None:
                vals.append(a)
            else:
                vals.append(_normalize(a))
        return SymTracer(self, _normalize(rule(*vals, **params)))


# ---------------------------------------------------------------------------
# entry point
# ---------------------------------------------------------------------------

def _symbol_array(name: str, shape: tuple) -> np.ndarray:
    out = np.empty(shape, dtype=object)
    for idx in np.ndindex(shape):
        out[idx] = sp.Symbol(name + "".join(f"_{i}" for i in idx), real=True)
    return out


def make_argument(spec: Any) -> Any:
    """One argument spec as a SymPy value (scalar symbol or object array of symbols).

    Accepted: a name ``"x"`` (a real scalar symbol), a ``sympy.Symbol`` (used as
    given), ``("x", n)`` or ``("x", (m, n))`` (an array of symbols ``x_0, ...`` or
    ``x_0_1, ...``), a ``sympy.Matrix`` (a column vector becomes a 1-D array) or a
    list of symbols (a 1-D array).
    """
    if isinstance(spec, str):
        return sp.Symbol(spec, real=True)
    if isinstance(spec, sp.Basic) and not isinstance(spec, sp.MatrixBase):
        return spec
    if isinstance(spec, tuple) and len(spec) == 2 and isinstance(spec[0], str):
        name, shape = spec
        shape = (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(shape)
        return _symbol_array(name, shape)
    if isinstance(spec, sp.MatrixBase):
        if spec.shape[1] == 1:
            return np.array(list(spec), dtype=object)
        return np.array(spec.tolist(), dtype=object)
    if isinstance(spec, (list, np.ndarray)):
        return _normalize(np.array(spec, dtype=object))
    raise TypeError(
        f"chainrule.symbolic: cannot make a symbolic argument from {spec!r}; expected a name "
        "'x', a sympy.Symbol, ('x', shape) for an array of symbols, or a sympy.Matrix"
    )


def default_names(f: Callable, who: str) -> tuple[str, ...]:
    """The names of ``f``'s positional parameters (one scalar symbol each)."""
    try:
        params = inspect.signature(f).parameters.values()
    except (TypeError, ValueError):
        params = None
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    if params is None or any(p.kind == inspect.Parameter.VAR_POSITIONAL for p in params):
        raise TypeError(
            f"chainrule.symbolic.{who}: cannot read the argument names of {f!r}; pass them, "
            f"e.g. {who}(f, 'x', 'y')"
        )
    return tuple(p.name for p in params
                 if p.kind in kinds and p.default is inspect.Parameter.empty)


def trace_symbols(f: Callable, specs: tuple, who: str = "expression") -> tuple[Any, list]:
    """Trace ``f`` on symbolic arguments; returns ``(output, arguments)`` in user form."""
    if not callable(f):
        raise TypeError(f"chainrule.symbolic.{who}: expected a function, got {f!r}")
    if not specs:
        specs = default_names(f, who)
    args = [make_argument(s) for s in specs]
    trace = SymPyTrace()
    try:
        res = f(*[SymTracer(trace, a) for a in args])
    finally:
        trace.active = False
    flat, tree = tree_flatten(res)
    out = []
    for o in flat:
        if isinstance(o, Tracer):
            if o._trace is not trace:
                raise TypeError(f"chainrule.symbolic.{who}: {f!r} returned {o!r}, a value of "
                                "another transformation")
            o = o._value
        out.append(to_user(o))
    return tree_unflatten(tree, out), [to_user(a) for a in args]


def expression(f: Callable, *names: Any) -> Any:
    """The SymPy expression of a chainrule function.

    ``f`` is run once on symbolic arguments, every primitive mapped to its SymPy
    counterpart, so ``expression(f)`` is ``f`` written as a formula.

    Args:
        f: a function written with ``chainrule.numpy`` (or plain operators).
        *names: one spec per argument: ``"x"`` (a real scalar symbol), a
            ``sympy.Symbol``, ``("x", n)`` / ``("x", (m, n))`` for an array of symbols,
            or a ``sympy.Matrix``. Omitted: one real scalar per parameter of ``f``,
            named after it.

    Returns:
        A SymPy expression; a ``sympy.Matrix`` for a 1-D/2-D array output (a vector
        is a column), a ``sympy.Array`` beyond; pytrees of them for pytree outputs.

    Example:
        >>> import chainrule.numpy as np
        >>> from chainrule.symbolic import expression
        >>> expression(lambda x1, x2: np.log(x1) + x1 * x2 - np.sin(x2))
        x1*x2 + log(x1) - sin(x2)
    """
    return trace_symbols(f, names)[0]
