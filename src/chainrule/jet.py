r"""Taylor mode: the first K derivatives along a direction in one forward pass.

Push a truncated Taylor series :math:`x(t) = \sum_{k=0}^{K} x_k t^k` through the
function, primitive by primitive. Each primitive maps the coefficients of its inputs to
those of its output by the classical recurrences of automatic differentiation
(Griewank & Walther, *Evaluating Derivatives*, ch. 13):

* linear operations (sum, reshape, indexing, …) act on each coefficient;
* products are Cauchy products, :math:`(ab)_k = \sum_{j=0}^{k} a_j b_{k-j}` (also for
  ``matmul`` and ``einsum``), quotients :math:`c_k = (a_k - \sum_{j=1}^{k} b_j c_{k-j})/b_0`;
* a function with :math:`y' = d\,x'` has :math:`y_k = \frac1k\sum_{j=1}^{k} j\,x_j\,d_{k-j}`,
  where the series of :math:`d` is itself known: :math:`d = y` for ``exp``,
  :math:`d = 1 - y^2` for ``tanh``, :math:`d = (\cos, -\sin)` for ``sin``/``cos``,
  :math:`d = 1/x` for ``log`` …

The cost is O(K²) coefficient operations per primitive, against the exponential growth
of nesting first-order modes K times. The coefficient arithmetic is written with
chainrule's own primitives, so a transformation below the Taylor pass (``grad`` of a
loss that uses jet-computed derivatives, ``jvp``, ``vmap``, ``jit``) records it as usual.

Series follow ``jax.experimental.jet``'s convention: the ``series`` of an input and of
the output list *derivatives*, ``[x'(0), x''(0), …]`` (the k-th entry is ``k!·x_k``).
"""

from __future__ import annotations

import math
from typing import Any, Callable, Sequence

import numpy as onp

from chainrule.core.primitive import Primitive, Trace, Tracer, dtype_of, shape_of
from chainrule.core.pytree import tree_flatten, tree_unflatten
from chainrule.interpreters import heap
import chainrule.numpy as np
from chainrule.numpy._contract import einsum_p
from chainrule.numpy._namespace import sum_p

__all__ = ["jet", "directional_derivatives", "second_derivative", "laplacian", "TAYLOR_RULES"]

# A series is a list [y_0, y_1, ..., y_K] of normalised Taylor coefficients; entries
# after the first may be None, a symbolic zero (most coefficients of a network's first
# layer are).


class JetTracer(Tracer):
    __slots__ = ("series",)

    def __init__(self, trace: "JetTrace", primal: Any, series: list) -> None:
        self._trace = trace
        self._value = primal
        self.series = series  # normalised coefficients 1..K (None = 0)


class JetTrace(Trace):
    __slots__ = ("order",)

    def __init__(self, order: int) -> None:
        super().__init__()
        self.order = order
        if not heap.primed:  # freed coefficient arrays stay in the heap for the next call
            heap.keep_freed_buffers()

    def process(self, prim: Primitive, args: tuple, params: dict) -> Any:
        primals = list(args)
        series = [None] * len(args)
        for i, a in enumerate(args):
            if isinstance(a, Tracer) and a._trace is self:
                primals[i] = a._value
                series[i] = [a._value] + a.series
        ans = prim(*primals, **params)
        carried = [i for i, s in enumerate(series) if s is not None]
        rule = TAYLOR_RULES.get(prim.name)
        if rule is not None:
            out = rule(self.order, ans, primals, series, **params)
        elif all(prim.jvps[i] is None for i in carried):
            return ans  # piecewise constant or not differentiable: zero coefficients
        elif prim.linear:
            out = _linear(prim, self.order, ans, primals, series, params)
        else:
            raise NotImplementedError(
                f"chainrule.jet has no Taylor rule for the primitive '{prim.name}'. Taylor "
                "mode covers the elementwise functions, arithmetic, matmul/einsum, the "
                "reductions and the structural operations; differentiate through this one "
                "with nested jvp (chainrule.derivative / chainrule.jvp) instead."
            )
        if all(c is None for c in out[1:]):
            return ans
        return JetTracer(self, ans, list(out[1:]))


# -- series arithmetic -------------------------------------------------------------------


def _fit(c, shape):
    """A coefficient broadcast to the output's shape (binary operations broadcast)."""
    return c if c is None or shape_of(c) == shape else np.broadcast_to(c, shape)


def _plus(a, b):
    if a is None:
        return b
    return a if b is None else a + b


def _combine(terms) -> Any:
    """``Σ c·a`` over ``(c, a)`` pairs, skipping symbolic zeros (``a`` None, ``c`` 0).

    Coefficients ±1 become additions and subtractions, so a recurrence costs one array
    operation per product it needs and no more (they dominate a network's Taylor pass).
    """
    acc = None
    for c, a in sorted((t for t in terms if t[1] is not None and t[0] != 0),
                       key=lambda t: t[0] != 1):
        if acc is None:
            acc = a if c == 1 else (-a if c == -1 else a * c)
        elif c == 1:
            acc = acc + a
        elif c == -1:
            acc = acc - a
        else:
            acc = acc + a * c
    return acc


def _products(a: list, b: list, pairs, product=None):
    """``(c, a_i·b_j)`` for ``(c, i, j)`` in pairs where neither factor is a symbolic zero."""
    for c, i, j in pairs:
        if a[i] is not None and b[j] is not None:
            yield c, (a[i] * b[j] if product is None else product(a[i], b[j]))


def _cauchy(a: list, b: list, k: int, product=None):
    """``Σ_{j=0}^{k} a_j b_{k-j}`` skipping symbolic zeros."""
    return _combine(_products(a, b, ((1, j, k - j) for j in range(k + 1)), product))


def _self_cauchy(y: list, k: int) -> tuple[float, Any]:
    """``Σ_{i=0}^{k} y_i y_{k−i}`` as ``(s, a)`` with the sum ``s·a``: the symmetric terms
    are formed once (``2 y_0 y_1`` is one product, scale 2)."""
    pairs = [(2, i, k - i) for i in range((k + 1) // 2)] + ([(1, k // 2, k // 2)] if k % 2 == 0
                                                           else [])
    terms = list(_products(y, y, pairs))
    if terms and all(c == terms[0][0] for c, _ in terms):
        return terms[0][0], _combine((1, a) for _, a in terms)
    return 1, _combine(terms)


def _weighted(x: list, d: list, k: int, dscale: list | None = None):
    """``(1/k) Σ_{j=1}^{k} j x_j d_{k-j}``: coefficient k of y when y' = d·x' (d_i stands
    for ``dscale[i]·d[i]`` when scales are given)."""
    return _combine(_products(x, d, (
        (j / k * (1 if dscale is None else dscale[k - j]), j, k - j) for j in range(1, k + 1))))


def _scale(c, s):
    return None if c is None else c * s


def series_mul(a: list, b: list, K: int, product=None, first=None) -> list:
    out = [first if first is not None else (a[0] * b[0] if product is None else
                                            product(a[0], b[0]))]
    return out + [_cauchy(a, b, k, product) for k in range(1, K + 1)]


def series_div(a: list, b: list, K: int, first=None) -> list:
    """``c = a / b``: ``c_k = (a_k − Σ_{j=1}^{k} b_j c_{k−j}) / b_0``."""
    c = [a[0] / b[0] if first is None else first]
    for k in range(1, K + 1):
        acc = _combine([(1, a[k])] + list(_products(b, c, ((-1, j, k - j)
                                                            for j in range(1, k + 1)))))
        c.append(None if acc is None else acc / b[0])
    return c


def series_integrate(x: list, d: list, K: int, first) -> list:
    """y with y' = d·x' and y_0 = first (d needed to order K−1)."""
    return [first] + [_weighted(x, d, k) for k in range(1, K + 1)]


def series_exp(x: list, K: int, first=None) -> list:
    y = [np.exp(x[0]) if first is None else first]
    for k in range(1, K + 1):
        y.append(_weighted(x, y, k))
    return y


def series_log(x: list, K: int, first=None) -> list:
    """y' = x'/x: ``y_k = (x_k − (1/k) Σ_{j=1}^{k−1} j y_j x_{k−j}) / x_0``."""
    y = [np.log(x[0]) if first is None else first]
    for k in range(1, K + 1):
        acc = _combine([(1, x[k])] + list(_products(y, x, ((-j / k, j, k - j)
                                                            for j in range(1, k)))))
        y.append(None if acc is None else acc / x[0])
    return y


def series_sqrt(x: list, K: int, first=None) -> list:
    """y² = x: ``y_k = (x_k − Σ_{j=1}^{k−1} y_j y_{k−j}) / (2 y_0)``."""
    y = [np.sqrt(x[0]) if first is None else first]
    for k in range(1, K + 1):
        acc = _combine([(1, x[k])] + list(_products(y, y, ((-1, j, k - j)
                                                            for j in range(1, k)))))
        y.append(None if acc is None else acc / (2.0 * y[0]))
    return y


def series_power(x: list, p, K: int, first=None) -> list:
    """y = x^p for a constant p: x·y' = p·y·x' gives
    ``y_k = Σ_{j=1}^{k} (p·j − (k − j)) x_j y_{k−j} / (k x_0)`` (needs x_0 ≠ 0)."""
    y = [x[0] ** p if first is None else first]
    for k in range(1, K + 1):
        acc = _combine(_products(x, y, ((p * j - (k - j), j, k - j) for j in range(1, k + 1))))
        y.append(None if acc is None else acc / (k * x[0]))
    return y


def series_integer_power(x: list, n: int, K: int, first) -> list:
    """x^n for an integer n ≥ 0 by repeated Cauchy products (exact at x_0 = 0)."""
    y = [first] + [None] * K
    if n == 0:
        return y
    y = x
    for _ in range(n - 1):
        y = series_mul(y, x, K)
    return [first] + y[1:]


def series_sincos(x: list, K: int, first_sin=None, first_cos=None) -> tuple[list, list]:
    """s' = c·x', c' = −s·x' (c kept as ``−1 ×`` its computed terms until the end)."""
    s = [np.sin(x[0]) if first_sin is None else first_sin]
    c = [np.cos(x[0]) if first_cos is None else first_cos]
    cscale = [1]
    for k in range(1, K + 1):
        s.append(_weighted(x, c, k, cscale))
        c.append(_weighted(x, s, k))
        cscale.append(-1)
    return s, [c[0]] + [None if v is None else -v for v in c[1:]]


def series_sinhcosh(x: list, K: int, first_sinh=None, first_cosh=None) -> tuple[list, list]:
    """sh' = ch·x', ch' = sh·x'."""
    s = [np.sinh(x[0]) if first_sinh is None else first_sinh]
    c = [np.cosh(x[0]) if first_cosh is None else first_cosh]
    for k in range(1, K + 1):
        s.append(_weighted(x, c, k))
        c.append(_weighted(x, s, k))
    return s, c


def _quadratic_derivative(x: list, K: int, first, sign: float) -> list:
    """y with y' = (1 + sign·y²)·x' (tanh: sign −1, tan: +1); the series of the
    derivative, ``d_k = δ_{k0} + sign·Σ_i y_i y_{k−i}``, is built as y is."""
    y = [first]
    square = first * first
    d = [1.0 - square if sign < 0 else 1.0 + square]  # no pass for the sign
    dscale = [1]
    for k in range(1, K + 1):
        y.append(_weighted(x, d, k, dscale))
        if k < K:
            s, a = _self_cauchy(y, k)
            d.append(a)
            dscale.append(sign * s)
    return y


def series_tanh(x: list, K: int, first=None) -> list:
    """tanh' = 1 − tanh²."""
    return _quadratic_derivative(x, K, np.tanh(x[0]) if first is None else first, -1.0)


def series_tan(x: list, K: int, first=None) -> list:
    """tan' = 1 + tan²."""
    return _quadratic_derivative(x, K, np.tan(x[0]) if first is None else first, 1.0)


def _const(value, K):
    return [value] + [None] * K


def _add_const(x: list, c) -> list:
    return [x[0] + c] + x[1:]


def _neg(x: list) -> list:
    return [None if v is None else -v for v in x]


# -- rules -------------------------------------------------------------------------------
# rule(K, ans, primals, series, **params) -> [ans, y_1, ..., y_K]; series[i] is None for
# an argument without one (a constant to this pass).


def _unary(fn):
    def rule(K, ans, primals, series, **params):
        return fn(series[0], K, ans)

    return rule


def _derivative_rule(dseries):
    """Rule for y = f(x) with y' = g(x)·x', g's series built from x's by ``dseries``."""

    def rule(K, ans, primals, series, **params):
        x = series[0]
        return series_integrate(x, dseries(x[:K], K - 1), K, ans)

    return rule


def _recip(s: list, K: int) -> list:
    return series_div(_const(1.0, K), s, K)


def _sq(x: list, K: int) -> list:
    return series_mul(x, x, K)


def _log_base(base):
    scale = 1.0 / math.log(base)

    def rule(K, ans, primals, series, **params):
        y = series_log(series[0], K, ans)
        return [ans] + [_scale(c, scale) for c in y[1:]]

    return rule


def _expm1(K, ans, primals, series, **params):
    y = series_exp(series[0], K, ans + 1.0)
    return [ans] + y[1:]


def _exp2(K, ans, primals, series, **params):
    x = [_scale(c, math.log(2.0)) for c in series[0]]
    return series_exp(x, K, ans)


def _sin(K, ans, primals, series, **params):
    return series_sincos(series[0], K, first_sin=ans)[0]


def _cos(K, ans, primals, series, **params):
    return series_sincos(series[0], K, first_cos=ans)[1]


def _sinh(K, ans, primals, series, **params):
    return series_sinhcosh(series[0], K, first_sinh=ans)[0]


def _cosh(K, ans, primals, series, **params):
    return series_sinhcosh(series[0], K, first_cosh=ans)[1]


def _abs(K, ans, primals, series, **params):
    s = np.sign(primals[0])
    return [ans] + [_scale(c, s) for c in series[0][1:]]


def _cbrt(K, ans, primals, series, **params):
    return series_power(series[0], 1.0 / 3.0, K, ans)


def _square(K, ans, primals, series, **params):
    return series_mul(series[0], series[0], K, first=ans)


def _sinc(K, ans, primals, series, **params):
    """sinc(x) = sin(πx)/(πx) for x_0 ≠ 0."""
    x0 = primals[0]
    if onp.any(onp.asarray(_known(x0)) == 0):
        raise NotImplementedError(
            "chainrule.jet: the Taylor rule of sinc needs x ≠ 0 (at 0 the quotient is "
            "0/0); write the even power series of sinc there or use nested jvp"
        )
    px = [_scale(c, math.pi) for c in series[0]]
    s = series_sincos(px, K)[0]
    return series_div(s, px, K, ans)


def _known(x):
    while isinstance(x, Tracer) and not x._staged:
        x = x._value
    return x


def _neg_rule(K, ans, primals, series, **params):
    return [ans] + _neg(series[0])[1:]


def _binary_series(primals, series, K):
    return [s if s is not None else _const(p, K) for p, s in zip(primals, series)]


def _add(K, ans, primals, series, **params):
    a, b = series
    shape = shape_of(ans)
    return [ans] + [_fit(_plus(None if a is None else a[k], None if b is None else b[k]), shape)
                    for k in range(1, K + 1)]


def _sub(K, ans, primals, series, **params):
    a, b = series
    shape = shape_of(ans)
    out = [ans]
    for k in range(1, K + 1):
        ak = None if a is None else a[k]
        bk = None if b is None else b[k]
        c = ak if bk is None else (-bk if ak is None else ak - bk)
        out.append(_fit(c, shape))
    return out


def _mul(K, ans, primals, series, **params):
    a, b = _binary_series(primals, series, K)
    return [ans] + [_fit(c, shape_of(ans)) for c in series_mul(a, b, K, first=ans)[1:]]


def _div(K, ans, primals, series, **params):
    a, b = _binary_series(primals, series, K)
    if series[1] is None:  # a constant denominator: linear
        return [ans] + [_fit(None if c is None else c / b[0], shape_of(ans)) for c in a[1:]]
    return [ans] + [_fit(c, shape_of(ans)) for c in series_div(a, b, K, ans)[1:]]


def _matmul(K, ans, primals, series, **params):
    a, b = _binary_series(primals, series, K)
    return series_mul(a, b, K, product=np.matmul, first=ans)


def _pow(K, ans, primals, series, **params):
    base, expo = series
    if expo is None:
        p = _known(primals[1])
        if isinstance(p, Tracer):
            raise NotImplementedError("chainrule.jet: x**p with a staged p; use exp(p*log(x))")
        pa = onp.asarray(p)
        shape = shape_of(ans)
        if pa.ndim == 0 and float(pa) == int(pa) and 0 <= int(pa) <= 16:
            y = series_integer_power(base, int(pa), K, ans)
        else:
            y = series_power(base, primals[1], K, ans)
        return [ans] + [_fit(c, shape) for c in y[1:]]
    a, b = _binary_series(primals, series, K)
    z = series_mul(b, series_log(a, K), K)
    return [ans] + [_fit(c, shape_of(ans)) for c in series_exp(z, K, ans)[1:]]


def _arctan2(K, ans, primals, series, **params):
    """z = arctan2(y, x): z' = (x·y' − y·x') / (x² + y²)."""
    y, x = _binary_series(primals, series, K)
    dy = [None if y[k + 1] is None else (k + 1) * y[k + 1] for k in range(K)] + [None]
    dx = [None if x[k + 1] is None else (k + 1) * x[k + 1] for k in range(K)] + [None]
    num = _sub_series(series_mul(x, _zero_first(dy), K - 1), series_mul(y, _zero_first(dx),
                                                                       K - 1))
    num[0] = x[0] * _or_zero(dy[0], x[0]) - y[0] * _or_zero(dx[0], y[0])
    den = _add_series(series_mul(x, x, K - 1), series_mul(y, y, K - 1))
    q = series_div(num, den, K - 1)
    shape = shape_of(ans)
    return [ans] + [_fit(None if q[k - 1] is None else q[k - 1] / k, shape)
                    for k in range(1, K + 1)]


def _zero_first(s):
    return [0.0 if s[0] is None else s[0]] + s[1:]


def _or_zero(c, like):
    return np.zeros_like(like) if c is None else c


def _add_series(a, b):
    return [_plus(x, y) for x, y in zip(a, b)]


def _sub_series(a, b):
    return [x if y is None else (-y if x is None else x - y) for x, y in zip(a, b)]


def _select(cond, a, b, K, ans):
    shape = shape_of(ans)
    out = [ans]
    for k in range(1, K + 1):
        ak = None if a is None else a[k]
        bk = None if b is None else b[k]
        if ak is None and bk is None:
            out.append(None)
            continue
        out.append(np.where(cond, _or_zero(ak, ans) if ak is None else _fit(ak, shape),
                            _or_zero(bk, ans) if bk is None else _fit(bk, shape)))
    return out


def _tanh_tangent(K, ans, primals, series, **params):
    """z = c·(1 − y²) (tanh's derivative rule): a Cauchy product with the series of 1 − y²."""
    c, y = _binary_series(primals, series, K)
    square = series_mul(y, y, K)
    slope = [1.0 - square[0]] + _neg(square[1:])
    return [ans] + [_fit(v, shape_of(ans)) for v in series_mul(c, slope, K, first=ans)[1:]]


def _where(K, ans, primals, series, **params):
    return _select(primals[0], series[1], series[2], K, ans)


def _maximum(K, ans, primals, series, **params):
    return _select(primals[0] >= primals[1], series[0], series[1], K, ans)


def _minimum(K, ans, primals, series, **params):
    return _select(primals[0] <= primals[1], series[0], series[1], K, ans)


def _clip(K, ans, primals, series, **params):
    x, lo, hi = primals
    below = _select(x < lo, series[1], series[0], K, ans)
    return _select(x > hi, series[2], below, K, ans)


def _mod(K, ans, primals, series, **params):
    """a mod b = a − floor(a/b)·b, floor piecewise constant."""
    a, b = series
    q = np.floor(primals[0] / primals[1])
    out = [ans]
    for k in range(1, K + 1):
        c = None if a is None else a[k]
        if b is not None and b[k] is not None:
            c = _plus(c, -(q * b[k]))
        out.append(_fit(c, shape_of(ans)))
    return out


def _einsum(K, ans, primals, series, ins, out):
    full = _binary_series(primals, series, K)
    n = len(full)
    result = [ans]
    for k in range(1, K + 1):
        total = None
        for parts in _compositions(k, n):
            ops = [full[i][parts[i]] for i in range(n)]
            if any(o is None for o in ops):
                continue
            total = _plus(total, einsum_p(*ops, ins=ins, out=out))
        result.append(total)
    return result


def _compositions(k: int, n: int):
    """All n-tuples of non-negative integers summing to k."""
    if n == 1:
        yield (k,)
        return
    for j in range(k + 1):
        for rest in _compositions(k - j, n - 1):
            yield (j,) + rest


def _extremum(K, ans, primals, series, axis=None, keepdims=False):
    """max/min: the coefficients of the extremal entries (averaged over ties, as the JVP)."""
    x = primals[0]
    hit = np.where(x == _expand(ans, x, axis, keepdims), 1.0, 0.0)
    count = sum_p(hit, axis=axis, keepdims=keepdims)
    return [ans] + [None if c is None else sum_p(c * hit, axis=axis, keepdims=keepdims) / count
                    for c in series[0][1:]]


def _expand(ans, x, axis, keepdims):
    if keepdims or axis is None:
        return ans
    shape = list(shape_of(x))
    for a in sorted(axis if isinstance(axis, tuple) else (axis,)):
        shape[a] = 1
    return np.reshape(ans, tuple(shape))


def _norm2(K, ans, primals, series, axis, keepdims):
    """‖x‖ = sqrt(Σ x²)."""
    sq = series_mul(series[0], series[0], K)
    summed = [sum_p(c, axis=axis, keepdims=keepdims) if c is not None else None for c in sq]
    return series_sqrt(summed, K, ans)


def _sort(K, ans, primals, series, axis):
    order = np.argsort(primals[0], axis=axis)
    return [ans] + [None if c is None else np.take_along_axis(c, order, axis=axis)
                    for c in series[0][1:]]


def _linear(prim: Primitive, K: int, ans, primals, series, params) -> list:
    """A primitive linear in its differentiable arguments acts on each coefficient."""
    out = [ans]
    for k in range(1, K + 1):
        if all(s is None or s[k] is None for s in series):
            out.append(None)
            continue
        args = [
            p if s is None and prim.jvps[i] is None
            else (np.zeros_like(p) if s is None or s[k] is None else s[k])
            for i, (p, s) in enumerate(zip(primals, series))
        ]
        out.append(prim(*args, **params))
    return out


TAYLOR_RULES: dict[str, Callable] = {
    "neg": _neg_rule,
    "add": _add,
    "sub": _sub,
    "mul": _mul,
    "div": _div,
    "pow": _pow,
    "square": _square,
    "matmul": _matmul,
    "einsum": _einsum,
    "exp": _unary(series_exp),
    "expm1": _expm1,
    "exp2": _exp2,
    "log": _unary(series_log),
    "log2": _log_base(2.0),
    "log10": _log_base(10.0),
    "log1p": _derivative_rule(lambda x, K: _recip(_add_const(x, 1.0), K)),
    "sqrt": _unary(series_sqrt),
    "cbrt": _cbrt,
    "sin": _sin,
    "cos": _cos,
    "tan": _unary(series_tan),
    "sinh": _sinh,
    "cosh": _cosh,
    "tanh": _unary(series_tanh),
    "tanh_tangent": _tanh_tangent,
    "arcsin": _derivative_rule(
        lambda x, K: series_power(_add_const(_neg(_sq(x, K)), 1.0), -0.5, K)),
    "arccos": _derivative_rule(
        lambda x, K: _neg(series_power(_add_const(_neg(_sq(x, K)), 1.0), -0.5, K))),
    "arctan": _derivative_rule(lambda x, K: _recip(_add_const(_sq(x, K), 1.0), K)),
    "arcsinh": _derivative_rule(lambda x, K: series_power(_add_const(_sq(x, K), 1.0), -0.5, K)),
    "arccosh": _derivative_rule(lambda x, K: series_power(_add_const(_sq(x, K), -1.0), -0.5, K)),
    "arctanh": _derivative_rule(lambda x, K: _recip(_add_const(_neg(_sq(x, K)), 1.0), K)),
    "arctan2": _arctan2,
    "abs": _abs,
    "sinc": _sinc,
    "where": _where,
    "maximum": _maximum,
    "minimum": _minimum,
    "clip": _clip,
    "mod": _mod,
    "max": _extremum,
    "min": _extremum,
    "norm2": _norm2,
    "sort": _sort,
}


# -- public API --------------------------------------------------------------------------


def jet(f: Callable, primals: Sequence, series: Sequence) -> tuple[Any, Any]:
    """Taylor-mode forward pass: ``(f(x), [y', y'', …, y^(K)])`` for ``y(t) = f(x(t))``.

    Args:
        f: a function of ``len(primals)`` array arguments.
        primals: the point, a tuple or list of arrays.
        series: one list per argument of K derivatives of the input curve,
            ``[x'(0), x''(0), …, x^(K)(0)]`` (each shaped like its primal; ``None`` for
            a zero entry, or for a whole argument held constant). For f along a line
            ``x + t·v`` pass ``[v, 0, …, 0]``.

    Returns:
        ``(primal_out, series_out)``: f's output and, for each of its leaves, the list of
        its K derivatives along the curve (the structure of ``f``'s output with a list
        at each leaf).

    Raises:
        ValueError: when the series disagree in length or in shape with the primals.
        NotImplementedError: naming a primitive that has no Taylor rule.

    Example: the derivatives of sin at 0.5 to order 4, in one pass:

        >>> import chainrule.numpy as np
        >>> y, (d1, d2, d3, d4) = jet(np.sin, (0.5,), ([1.0, 0.0, 0.0, 0.0],))
        >>> [round(float(v), 6) for v in (y, d1, d2, d3, d4)]
        [0.479426, 0.877583, -0.479426, -0.877583, 0.479426]
    """
    if not isinstance(primals, (tuple, list)) or not isinstance(series, (tuple, list)):
        raise TypeError(
            "jet(f, primals, series): primals and series must be tuples or lists with one "
            "entry per argument; for one argument write jet(f, (x,), ([v, 0.0],))"
        )
    if len(primals) != len(series):
        raise ValueError(f"jet: {len(primals)} primal(s) but {len(series)} series; give one "
                         "series (a list of K derivatives, or None) per argument")
    orders = {len(s) for s in series if s is not None}
    if len(orders) != 1:
        raise ValueError(f"jet: every series must list the same number K ≥ 1 of derivatives; "
                         f"got lengths {sorted(orders) or 'none'}")
    K = orders.pop()
    if K < 1:
        raise ValueError("jet: series must have at least one term (K ≥ 1)")
    trace = JetTrace(K)
    try:
        boxes = []
        for i, (p, s) in enumerate(zip(primals, series)):
            if s is None:
                boxes.append(p)
                continue
            coeffs = []
            for k, v in enumerate(s, start=1):
                if v is not None and shape_of(v) != shape_of(p):
                    raise ValueError(
                        f"jet: term {k} of series {i} has shape {shape_of(v)} but its primal "
                        f"has shape {shape_of(p)}; each term must match its primal's shape")
                coeffs.append(None if v is None or _is_zero(v) else v / math.factorial(k))
            boxes.append(JetTracer(trace, p, coeffs))
        out = f(*boxes)
    finally:
        trace.active = False
    leaves, tree = tree_flatten(out)
    primal_out, series_out = [], []
    for o in leaves:
        if isinstance(o, JetTracer) and o._trace is trace:
            primal_out.append(o._value)
            series_out.append([np.zeros_like(o._value) if c is None else c * math.factorial(k)
                               for k, c in enumerate(o.series, start=1)])
        else:
            primal_out.append(o)
            series_out.append([np.zeros_like(o) for _ in range(K)])
    return tree_unflatten(tree, primal_out), tree_unflatten(tree, series_out)


def _is_zero(v) -> bool:
    v = _known(v)
    return not isinstance(v, Tracer) and not onp.any(onp.asarray(v))


def _unit(x, coordinate):
    """The direction that moves ``x[..., coordinate]`` (every entry when None), in x's
    floating dtype (float64 for integer x), so that float32 stays float32."""
    shape = shape_of(x)
    dtype = dtype_of(x) if onp.issubdtype(dtype_of(x), onp.floating) else onp.float64
    if coordinate is None:
        return onp.ones(shape, dtype)
    if not shape:
        raise ValueError("coordinate must be None for a scalar argument")
    v = onp.zeros(shape, dtype)
    v[..., coordinate] = 1.0
    return v


def directional_derivatives(f: Callable, order: int, coordinate: int | None = None,
                            argnum: int = 0) -> Callable:
    """``x ↦ [f, ∂f, ∂²f, …, ∂^order f]`` along one coordinate, in one Taylor pass.

    Args:
        f: the function.
        order: the highest derivative wanted (≥ 1).
        coordinate: index into the last axis of argument ``argnum`` that moves; None
            moves every entry (a scalar argument, or a column of independent points).
            For a function applied row by row (a network on an ``(N, d)`` batch) this
            gives each row's derivative in that input coordinate.
        argnum: which positional argument moves.

    Returns:
        A function of f's arguments returning the list of ``order + 1`` arrays.

    >>> import chainrule.numpy as np
    >>> d = directional_derivatives(lambda x: x[..., 0] ** 3 * x[..., 1], 3, coordinate=0)
    >>> [float(v) for v in d(np.array([2.0, 5.0]))]
    [40.0, 60.0, 60.0, 30.0]
    """
    if not isinstance(order, int) or order < 1:
        raise ValueError(f"order must be a positive integer; got {order!r}")

    def derivatives_of_f(*args):
        direction = _unit(args[argnum], coordinate)
        series = [None] * len(args)
        series[argnum] = [direction] + [None] * (order - 1)
        y, ys = jet(f, tuple(args), tuple(series))
        return [y] + list(ys)

    return derivatives_of_f


def second_derivative(f: Callable, coordinate: int | None = None, argnum: int = 0) -> Callable:
    """``x ↦ ∂²f/∂x_c²``: one Taylor pass of order 2 (see :func:`directional_derivatives`).

    >>> import chainrule.numpy as np
    >>> float(second_derivative(np.sin)(0.5)) == float(-np.sin(0.5))
    True
    """
    d = directional_derivatives(f, 2, coordinate, argnum)
    return lambda *args: d(*args)[2]


def laplacian(f: Callable, argnum: int = 0) -> Callable:
    """``x ↦ Σ_c ∂²f/∂x_c²`` over the last axis of argument ``argnum``: one order-2 Taylor
    pass per coordinate (row-wise for a function applied to each row of a batch).

    For ``f = (x₀² + x₁² + x₂²)·x₀`` the Laplacian is ``6x₀ + 2x₀ + 2x₀``:

    >>> import chainrule.numpy as np
    >>> float(laplacian(lambda x: np.sum(x**2) * x[0])(np.array([1.0, 2.0, 3.0])))
    10.0
    """

    def laplacian_of_f(*args):
        d = shape_of(args[argnum])[-1]
        total = None
        for c in range(d):
            total = _plus(total, second_derivative(f, c, argnum)(*args))
        return total

    return laplacian_of_f
