"""Elementwise primitives: the lecture's unary functions and broadcasting binary ops.

Unary ``y = f(x)`` has one rule ``scale(c, y, x) = c · f'(x)`` used for both
modes (elementwise, so the Jacobian is diagonal and J = Jᵀ). Binary ops
broadcast: a JVP contribution is stretched to the output's shape and a VJP
cotangent is summed back to the argument's shape (:func:`unbroadcast`).
Every rule is written with chainrule primitives, so it differentiates again, and
passes its product c·∂f through :func:`zero_safe`, so that an exactly zero (co)tangent
contributes exactly 0 where ∂f is infinite or NaN (a masked branch's invalid points).

Complex numbers follow JAX's convention (the one place it is written down):

* The JVP is the R-linear map ż ↦ ẏ = ∂f/∂z·ż + ∂f/∂z̄·conj(ż).
* The VJP is its transpose for the pairing ⟨u, v⟩ = Re Σ u·v, with **no conjugation**:
  ⟨vjp(ȳ), ż⟩ = ⟨ȳ, jvp(ż)⟩ for every ż. For a holomorphic f this is the C-linear
  transpose, so the rules carry no conjugates: ``vjp(sin)(ȳ) = ȳ·cos z``, the same
  ``c · f'(x)`` rule as for real x (``check_grads`` tests exactly this pairing).
* Hence ``grad`` of a real-valued f of a complex z returns ∂f/∂x - i·∂f/∂y, the
  *conjugate* of the steepest-ascent direction (as ``jax.grad`` does): ``grad(|z|²)``
  = 2·conj(z); to ascend, step along ``conj(grad(f)(z))``.
* A real operand's cotangent is the real part of what flows back (a real value has no
  imaginary direction): :func:`_ub` takes it when a complex cotangent meets a real
  argument, so real inputs always get real gradients. Real tangents into complex ops
  need nothing.
* The non-holomorphic ops have the transposed rules: ``real``: z̄ = Re ȳ; ``imag``:
  z̄ = -i·Re ȳ; ``conj``: z̄ = conj ȳ; ``abs``: ż ↦ Re(conj(z)·ż)/|z|, z̄ = Re ȳ·conj(z)/|z|;
  ``angle`` (= arctan2(Im z, Re z)): ż ↦ Im(conj(z)·ż)/|z|², z̄ = -i·Re ȳ·conj(z)/|z|².

Real values pay nothing for this: every complex branch sits behind ``type(x) is float``
or one dtype read.
"""

from __future__ import annotations

import math
import operator

import numpy as np

from chainrule.core.primitive import (
    ANS, Primitive, Reads, Tracer, concrete, dtype_of, mask, shape_of)
from chainrule.core.backends import is_foreign, per_block
from chainrule.core.stretched import stretched, stretched_value, times_number
from chainrule.core import nan_checks
from chainrule.core.shape_rules import elementwise_shape
from chainrule.numpy._structural import broadcast_like, unbroadcast

__all__: list[str] = []  # the public names are re-exported by chainrule.numpy


def _float_fast(math_fn, np_fn):
    """``math_fn`` on Python floats (5× faster than a NumPy scalar call), else ``np_fn``.

    Where ``math`` raises (log 0, sqrt of a negative, overflow) NumPy's answer
    (-inf, nan, inf) is returned instead, without a warning (Python would have raised),
    so results never depend on the input type.
    """

    def impl(x):
        if type(x) is float:
            try:
                return math_fn(x)
            except (ValueError, OverflowError):
                with np.errstate(all="ignore"):
                    return np_fn(x)
        return np_fn(x)

    impl.__name__ = np_fn.__name__
    return impl


def _scalar_safe(py_op, np_op):
    """A Python operator (fast on floats, NumPy's on arrays) with NumPy's answers on
    Python scalars where Python raises (x/0, overflow) or turns complex ((-8)**(1/3)),
    without a warning there."""

    def impl(a, b):
        try:
            r = py_op(a, b)
        except (ZeroDivisionError, OverflowError):
            with np.errstate(all="ignore"):
                return np_op(np.float64(a), b)
        if type(r) is complex and type(a) is not complex and type(b) is not complex:
            with np.errstate(all="ignore"):
                return np_op(np.float64(a), b)
        return r

    impl.__name__ = np_op.__name__
    return impl


_ndarray = np.ndarray
_READS = {"x": Reads((0,)), "y": Reads((ANS,)), "": Reads(())}


def unary(name: str, impl, scale, doc: str, reads: str, guarded: bool = True,
          staged: bool = False, **fields) -> Primitive:
    """A unary elementwise primitive whose derivative is ``scale(c, y, x) = c·f'(x)``.

    ``reads`` says whether ``scale`` uses the input (``"x"``), the output (``"y"``)
    or neither (``""``), so the tape keeps only that residual. ``guarded`` rules pass
    their result through :func:`zero_safe` (a zero (co)tangent gives 0 even where
    f'(x) is infinite or NaN); only rules whose factor is a constant skip it.
    ``staged``: the guard is recorded in staged programs too (for f' infinite at a
    point where f is finite, √x at 0). ``fields`` are the rest of the primitive's
    record (:class:`~chainrule.core.primitive.Primitive`: ``symbol``, ``sympy``,
    ``partials``, ...); it batches elementwise and has the elementwise shape rule.
    """
    fields.setdefault("abstract_eval", elementwise_shape("inexact", fields.get("ufunc")))
    if not guarded:
        rule = scale
    else:
        def rule(c, y, x):
            r = scale(c, y, x)
            return r if type(r) is float and r == r else zero_safe(c, r, staged)
    return Primitive(name, impl, jvps=(rule,), vjps=(rule,), doc=doc, reads=_READS[reads],
                     batch="elementwise", **fields)


def _extreme(c):
    """Is the (co)tangent 0 or infinite (elementwise; NumPy values)?"""
    return np.logical_or(np.equal(c, 0), np.isinf(c))


def _lazy(x) -> bool:
    """Whether ``x`` is an array of another library (Dask, CuPy), whose values the rules
    do not look at."""
    return type(x) is not np.ndarray and is_foreign(x)


def _zero_safe_impl(c, r):
    """``r``, with 0 wherever ``r`` is NaN and ``c`` is 0 or infinite (NumPy values), of
    the shape of ``c`` and ``r`` broadcast together (``r``'s own, inside a rule)."""
    if type(r) is float and type(c) is float:
        return r if r == r or c != 0 and c - c == 0 else 0.0
    if _lazy(r) or _lazy(c):  # Dask, CuPy: no value to look at while the graph is built
        blocks = per_block(_zero_safe_impl, c, r, dtype=r.dtype)  # Dask: looked at per block
        if blocks is not None:
            return blocks
        return np.where(np.logical_and(np.isnan(r), _extreme(c)), 0, r)
    if nan_checks.found_nan(r):  # large ones deferred: see core.nan_checks
        return np.where(np.logical_and(np.isnan(r), _extreme(c)), 0, r)
    c_shape, shape = getattr(c, "shape", ()), getattr(r, "shape", ())
    if c_shape and c_shape != shape and np.broadcast_shapes(c_shape, shape) != shape:
        return np.array(np.broadcast_to(r, np.broadcast_shapes(c_shape, shape)))
    return r


def _zero_safe_mask(c, r):
    """Where :func:`zero_safe` replaces ``r`` by 0 (a plain or staged mask)."""
    return mask(np.logical_and(np.isnan(concrete(r)), _extreme(concrete(c))))


zero_safe_p = Primitive(
    "zero_safe",
    _zero_safe_impl,
    jvps=(None, lambda t, y, c, r: broadcast_like(where_p(_zero_safe_mask(c, r), 0.0, t), y)),
    vjps=(None, lambda g, y, c, r: _ub(where_p(_zero_safe_mask(c, r), 0.0, g), r)),
    reads=Reads((), (0, 1)),
    doc="y = r, except y = 0 where r is NaN and the (co)tangent c is 0 or ±∞: inside a "
        "derivative rule r = c·∂f, where 0·∞ = 0 (a zero c, or a zero partial meeting an "
        "infinite c, contributes exactly 0); no derivative in c",
    batch="elementwise",
    sympy=lambda sp, c, r: r,
)


def _plain_value(x):
    """The NumPy value under every level of tracing (batched, under ``vmap``), or None
    for a variable of a program that ``jit``/``make_ir`` is recording (no value yet)."""
    while isinstance(x, Tracer):
        if x._program_var:
            return None
        x = x._value
    return x


def zero_safe(c, r, staged: bool = False):
    """The result ``r = c·∂f`` of a derivative rule, made 0 where ``r`` is NaN and the
    incoming (co)tangent ``c`` is exactly 0 or infinite (the convention 0·∞ = 0).

    This is the "double where" inside the rules: a zero cotangent from the untaken
    branch of a ``where`` (or a zero tangent) meets a partial that is infinite or NaN
    at that point (log at 0, 1/x at 0, √x at 0, exp of a huge x) and must contribute
    0, not 0·∞ = NaN. An infinite cotangent meeting a zero partial (√(x²) at 0, in
    reverse mode) contributes 0 too, as forward mode finds (there the zero comes
    first). Only NaN entries are replaced, never a finite value: a traced ``c`` that
    happens to be 0 keeps its own derivative (a Hessian needs it). On traced values
    the primitive is recorded only where the plain value of ``r`` holds a NaN.
    Staged values (``jit``, ``make_ir``) have no values yet: the primitive is recorded
    only when ``staged`` is True (rules whose partial is infinite where the function
    is finite: √x, ∛x, x^b with b < 1 at 0), so that compiled derivative code stays
    the lecture's program and as fast as it was; elsewhere compiled code follows
    IEEE arithmetic (0·∞ = NaN), as JAX does.

    >>> zero_safe(0.0, 0.0 * float("inf")), zero_safe(2.0, 3.0)
    (0.0, 3.0)
    """
    if type(c) is float:
        if c != 0 and c - c == 0:  # a finite non-zero number: nothing to replace
            return r
        if type(r) is float:
            return r if r == r else 0.0
    if isinstance(r, Tracer):
        value = _plain_value(r)
        if value is None:  # staged by jit/make_ir: no value yet
            return zero_safe_p(c, r) if staged else r
        return zero_safe_p(c, r) if _lazy(value) or nan_checks.has_nan(value) else r
    if isinstance(c, Tracer):  # r does not depend on it: nothing to guard
        return r
    return _zero_safe_impl(c, r)


def _negated(c):
    """-c, as a number when c is stretched from one (see ``stretched_value``)."""
    v = stretched_value(c)
    return -c if v is None else stretched(-v, c.shape)


_times = times_number  # c·k; a stretched c times a number k stays stretched


def _times_partial(c, p):
    """c·p for a (co)tangent ``c`` and a partial derivative ``p`` (:func:`zero_safe`
    unless ``p`` is a finite non-zero number)."""
    r = _times(c, p)
    t = type(p)
    if (t is float or t is int) and p and math.isfinite(p):
        return r
    return zero_safe(c, r)


def _times_array(c, k, a):
    """c·(k·a) for a number k, in one pass over memory when c is stretched to a's shape."""
    v = stretched_value(c)
    if v is not None and shape_of(a) == c.shape:
        return (v * k) * a
    return c * (k * a)


negative = unary("neg", operator.neg,
                 lambda c, y, x: -c if type(c) is float else _negated(c), "y = -x; ẏ = -ẋ", "",
                 guarded=False,
                 symbol="-", ufunc="negative", partials=("-1",), sympy=lambda sp, x: -x)
negative.vjp_scaled = (lambda g, s, y, x: (g, -s),)
exp = unary("exp", _float_fast(math.exp, np.exp), lambda c, y, x: c * y, "y = exp x; y' = y", "y",
            ufunc="exp", latex=r"\exp", partials=("{y}",), tangent="{y} * {t0}", sympy="exp")
log = unary("log", _float_fast(math.log, np.log), lambda c, y, x: divide(c, x),
            "y = ln x; y' = 1/x", "x",
            ufunc="log", latex=r"\log", partials=("1 / {a0}",), sympy="log")
sin = unary("sin", _float_fast(math.sin, np.sin), lambda c, y, x: c * cos(x), "y' = cos x", "x",
            ufunc="sin", latex=r"\sin", partials=("cos({a0})",), sympy="sin")
cos = unary("cos", _float_fast(math.cos, np.cos), lambda c, y, x: -c * sin(x), "y' = -sin x", "x",
            ufunc="cos", latex=r"\cos", partials=("-sin({a0})",), sympy="cos")
tan = unary("tan", _float_fast(math.tan, np.tan), lambda c, y, x: c * (1 + y * y),
            "y = tan x; y' = 1 + y²", "y",
            ufunc="tan", latex=r"\tan", partials=("1 + {y}**2",), sympy="tan")
tanh = unary("tanh", _float_fast(math.tanh, np.tanh), lambda c, y, x: tanh_tangent_p(c, y),
             "y = tanh x; y' = 1 - y² (the product c·(1 − y²) is one primitive, "
             "tanh_tangent)", "y",
             ufunc="tanh", latex=r"\tanh", partials=("1 - {y}**2",), sympy="tanh")
sinh = unary("sinh", _float_fast(math.sinh, np.sinh), lambda c, y, x: c * cosh(x),
             "y' = cosh x", "x",
             ufunc="sinh", latex=r"\sinh", partials=("cosh({a0})",), sympy="sinh")
cosh = unary("cosh", _float_fast(math.cosh, np.cosh), lambda c, y, x: c * sinh(x),
             "y' = sinh x", "x",
             ufunc="cosh", latex=r"\cosh", partials=("sinh({a0})",), sympy="cosh")
arctan = unary("arctan", _float_fast(math.atan, np.arctan), lambda c, y, x: divide(c, 1 + x * x),
               "y = arctan x; y' = 1/(1 + x²)", "x",
               ufunc="arctan", latex=r"\arctan", partials=("1 / (1 + {a0}**2)",), sympy="atan")
log1p = unary("log1p", _float_fast(math.log1p, np.log1p), lambda c, y, x: divide(c, 1 + x),
              "y = ln(1 + x); y' = 1/(1 + x)", "x",
              ufunc="log1p", partials=("1 / (1 + {a0})",), sympy=lambda sp, x: sp.log(1 + x))
expm1 = unary("expm1", _float_fast(math.expm1, np.expm1), lambda c, y, x: c * (y + 1),
              "y = eˣ - 1; y' = y + 1", "y",
              ufunc="expm1", partials=("{y} + 1",), sympy=lambda sp, x: sp.exp(x) - 1)
square = unary("square", lambda x: x * x, lambda c, y, x: c * (2 * x), "y = x²; y' = 2x", "x",
               ufunc="square", partials=("2 * {a0}",), sympy=lambda sp, x: x**2)
sqrt = unary("sqrt", _float_fast(math.sqrt, np.sqrt),
             lambda c, y, x: divide(c, 2 * y), "y = √x; y' = 1/(2y)", "y", staged=True,
             ufunc="sqrt", partials=("1 / (2 * {y})",), sympy="sqrt")


def _is_complex(x) -> bool:
    return type(x) is not float and dtype_of(x).kind == "c"


def _conj_phase(z):
    """conj(z)/|z|, and 0 at z = 0: the complex analogue of sign's subgradient choice."""
    zero = z == 0
    return where_p(zero, 0.0, divide(conj_p(z), where_p(zero, 1.0, absolute(z))))


def _abs_jvp(t, y, x):
    if type(x) is float or dtype_of(x).kind != "c":
        return zero_safe(t, t * sign(x))
    return real_p(_conj_phase(x) * t)


def _abs_vjp(g, y, x):
    if type(x) is float or dtype_of(x).kind != "c":
        return zero_safe(g, g * sign(x))
    return _real_ct(g) * _conj_phase(x)


absolute = Primitive(
    "abs", abs, jvps=(_abs_jvp,), vjps=(_abs_vjp,), reads=_READS["x"],
    doc="y = |x|; y' = sign x (the subgradient 0 at x = 0); complex z: "
        "ẏ = Re(conj(z)·ż)/|z|, z̄ = Re ȳ·conj(z)/|z| (0 at z = 0, like sign)",
        batch="elementwise", ufunc="absolute", partials=("sign({a0})",), sympy="Abs")


def _real_ct(g):
    """The cotangent of a real value: the real part of ``g``."""
    return real_p(g) if _is_complex(g) else g


real_p = Primitive(
    "real", np.real,
    jvps=(lambda t, y, x: real_p(t),),
    vjps=(lambda g, y, x: _real_ct(g),),
    linear=True,
    reads=Reads(()),
    doc="y = Re z; ẏ = Re ż; z̄ = Re ȳ (y is real)",
    batch="elementwise",
    sympy="re",
    abstract_eval=elementwise_shape("real"),
)
conj_p = Primitive(
    "conj", np.conjugate,
    jvps=(lambda t, y, x: conj_p(t),),
    vjps=(lambda g, y, x: conj_p(g),),
    linear=True,
    reads=Reads(()),
    doc="y = conj z; ż ↦ conj ż; z̄ = conj ȳ (Re Σ ȳ·conj ż = Re Σ conj ȳ·ż)",
    batch="elementwise",
    sympy="conjugate",
    abstract_eval=elementwise_shape("promote"),
)


def _bin(name, impl, jvp_a, jvp_b, vjp_a, vjp_b, doc, reads, scaled=None, **fields):
    fields.setdefault("abstract_eval", elementwise_shape("promote", fields.get("ufunc")))
    return Primitive(name, impl, jvps=(jvp_a, jvp_b), vjps=(vjp_a, vjp_b), doc=doc,
                     reads=Reads(*reads), vjp_scaled=scaled, batch="elementwise", **fields)


# Scaled VJP rules (``Primitive.vjp_scaled``): for an adjoint array g carrying the
# number s, (c, k) with c·k the contribution, or None for the plain rule. They apply
# where no summing over broadcast axes and no real part is needed.


def _number(b):
    """``b`` as a Python float when it is a real number (Python or 0-d NumPy), else None."""
    t = type(b)
    if t is float or t is int:
        return float(b)
    if isinstance(b, np.floating | np.integer) and t is not np.bool_:
        return float(b)
    return None


def _as_is(g, a) -> bool:
    """Is the cotangent ``g`` of argument ``a`` (an array, or the tape's shape-only stub of
    one) already of its form: its shape, complex only if ``a`` is?"""
    return getattr(a, "shape", None) == g.shape and (g.dtype.kind != "c" or a.dtype.kind == "c")


def _scaled_times_number(g, s, a, k):
    """(g, s·k) for ḡ·k with k a finite non-zero number: the cotangent of a·k or a/k
    (k = 1/divisor); for k = 0 the plain rule makes the zero (0·∞ = 0 there)."""
    return (g, s * k) if k and math.isfinite(k) and _as_is(g, a) else None


def _scaled_square_da(g, s, y, a, b):
    """y = a²: ā = ȳ·2a as (g·a, 2s), or (a, 2sv) when g is the number v stretched."""
    if _number(b) != 2.0 or type(a) is not _ndarray or not _as_is(g, a) or a.dtype != g.dtype:
        return None
    v = stretched_value(g)
    if v is not None and v.dtype.kind == "f" and v != 0 and math.isfinite(v):
        return (a, 2.0 * s * float(v))
    return (zero_safe(g, g * a), 2.0 * s)


def _ub(c, a):
    """Cotangent ``c`` summed to the shape of argument ``a`` (a no-op on scalars);
    its real part when ``c`` is complex and ``a`` is real (see the module docstring)."""
    if type(c) is float:
        return c
    if (c.dtype if type(c) is _ndarray else dtype_of(c)).kind == "c" \
            and dtype_of(a).kind != "c":
        c = real_p(c)
    return unbroadcast(c, shape_of(a))


def real_for(c, a):
    """Cotangent ``c`` of argument ``a``: its real part when ``a`` is real and ``c`` complex."""
    if type(c) is not float and dtype_of(c).kind == "c" and dtype_of(a).kind != "c":
        return real_p(c)
    return c


add = _bin(
    "add", operator.add,
    lambda t, y, a, b: broadcast_like(t, y),
    lambda t, y, a, b: broadcast_like(t, y),
    lambda g, y, a, b: g if type(g) is float else _ub(g, a),
    lambda g, y, a, b: g if type(g) is float else _ub(g, b),
    "y = a + b; ā = ȳ, b̄ = ȳ (each summed to its argument's shape)",
    ((), ()),
    symbol="+", commutative=True, ufunc="add", partials=("1", "1"), sympy=lambda sp, a, b: a + b,
)
subtract = _bin(
    "sub", operator.sub,
    lambda t, y, a, b: broadcast_like(t, y),
    lambda t, y, a, b: broadcast_like(-t, y),
    lambda g, y, a, b: g if type(g) is float else _ub(g, a),
    lambda g, y, a, b: -g if type(g) is float else _ub(_negated(g), b),
    "y = a - b; ā = ȳ, b̄ = -ȳ",
    ((), ()),
    scaled=(None, lambda g, s, y, a, b: (g, -s) if _as_is(g, b) else None),
    symbol="-", ufunc="subtract", partials=("1", "-1"), sympy=lambda sp, a, b: a - b,
)
multiply = _bin(
    "mul", operator.mul,
    lambda t, y, a, b: _times_partial(t, b),
    lambda t, y, a, b: _times_partial(t, a),
    lambda g, y, a, b: (r if (r := g * b) == r else zero_safe(g, r))
    if type(g) is float and type(b) is float else _ub(_times_partial(g, b), a),
    lambda g, y, a, b: (r if (r := a * g) == r else zero_safe(g, r))
    if type(g) is float and type(a) is float else _ub(_times_partial(g, a), b),
    "y = a·b; ā = ȳ·b, b̄ = ȳ·a",
    ((1,), (0,)),
    scaled=(lambda g, s, y, a, b: _scaled_times_number(g, s, a, _number(b)),
            lambda g, s, y, a, b: _scaled_times_number(g, s, b, _number(a))),
    symbol="*", commutative=True, ufunc="multiply", partials=("{a1}", "{a0}"),
    tangent="{t0} * {a1} + {a0} * {t1}", sympy=lambda sp, a, b: a * b,
)
divide = _bin(
    "div", _scalar_safe(operator.truediv, np.true_divide),
    lambda t, y, a, b: zero_safe(t, divide(t, b)),
    lambda t, y, a, b: zero_safe(t, -t * divide(y, b)),
    lambda g, y, a, b: (r if (r := g / b) == r else zero_safe(g, r))
    if type(g) is float and type(b) is float and b else _ub(zero_safe(g, divide(g, b)), a),
    lambda g, y, a, b: (r if (r := -g * (y / b)) == r else zero_safe(g, r))
    if type(g) is float and type(b) is float and type(y) is float and b
    else _ub(zero_safe(g, -g * divide(y, b)), b),
    "y = a/b; ā = ȳ/b, b̄ = -ȳ·y/b",
    ((1,), (1, ANS)),
    scaled=(lambda g, s, y, a, b: _scaled_times_number(g, s, a, 1.0 / k)
            if (k := _number(b)) else None, None),
    symbol="/", ufunc="true_divide", partials=("1 / {a1}", "-{y} / {a1}"),
    tangent="({t0} - {y} * {t1}) / {a1}", sympy=lambda sp, a, b: a / b,
)


def _tanh_tangent_impl(c, y):
    """``c·(1 − y²)`` in three passes and one temporary (``c * (1 - y * y)`` makes three)."""
    if type(y) is not _ndarray or type(c) is not _ndarray and type(c) is not float:
        return c * (1 - y * y)
    s = y * y
    if type(s) is not _ndarray:  # 0-d: NumPy scalars
        return c * (1 - s)
    np.subtract(1.0, s, out=s)
    if type(c) is _ndarray and (c.shape != s.shape or c.dtype != s.dtype):
        return c * s
    s *= c
    return s


def _tanh_tangent_curvature(c, y):
    """∂/∂y of c·(1 − y²): −2·c·y (two passes; the −2 rides along as a number)."""
    return (c * y) * -2.0


tanh_tangent_p = Primitive(
    "tanh_tangent",
    _tanh_tangent_impl,
    jvps=(lambda t, ans, c, y: broadcast_like(tanh_tangent_p(t, y), ans),
          lambda t, ans, c, y: broadcast_like(t * _tanh_tangent_curvature(c, y), ans)),
    vjps=(lambda g, ans, c, y: _ub(tanh_tangent_p(g, y), c),
          lambda g, ans, c, y: _ub(_tanh_tangent_curvature(g * c, y), y)),
    reads=Reads((1,), (0, 1)), batch="elementwise", abstract_eval=elementwise_shape("inexact"),
    partials=("1 - {a1}**2", "-2 * {a0} * {a1}"), sympy=lambda sp, c, y: c * (1 - y**2),
    doc="z = c·(1 − y²), tanh's derivative rule from its saved output y (tanh' = 1 − y², "
        "tanh'' = −2y(1 − y²)): one primitive, so a second derivative (nested jvp, "
        "forward over reverse) runs ż = ċ·(1 − y²) − 2cy·ẏ, not the product, the square "
        "and the difference at two levels; c̄ = z̄·(1 − y²), ȳ = −2·z̄·c·y",
)


def _pow_da(c, y, a, b):
    """c · b·a^(b-1), exact 0 where b == 0 (the derivative of a⁰ = 1)."""
    if isinstance(b, (int, float)) and not isinstance(b, bool):
        if b == 0:
            return c * 0.0
        if b == 1:
            return c
        if b == 2:
            return zero_safe(c, _times_array(c, 2, a))
        return zero_safe(c, _times_array(c, b, power(a, b - 1)), b < 1)
    zero = concrete(b) == 0
    return where_p(zero, 0.0, zero_safe(c, c * b * power(a, where_p(zero, 1.0, b - 1)), True))


def _pow_db(c, y, a, b):
    """c · y·ln a, with the limit 0 at a = 0 (0^b for b > 0 does not depend on b)."""
    zero = a == 0
    if type(zero) is bool:
        return c * 0.0 if zero else zero_safe(c, c * y * log(a))
    return where_p(zero, 0.0, zero_safe(c, c * y * log(where_p(zero, 1.0, a))))


power = _bin(
    "pow", _scalar_safe(operator.pow, np.power),
    lambda t, y, a, b: broadcast_like(_pow_da(t, y, a, b), y),
    lambda t, y, a, b: broadcast_like(_pow_db(t, y, a, b), y),
    lambda g, y, a, b: _ub(_pow_da(g, y, a, b), a),
    lambda g, y, a, b: _ub(_pow_db(g, y, a, b), b),
    "y = a^b; ā = ȳ·b·a^(b-1), b̄ = ȳ·y·ln a (0 at a = 0)",
    ((0, 1), (0, 1, ANS)),
    scaled=(_scaled_square_da, None),
    symbol="**", fresh=True, partials=("{a1} * {a0}**({a1} - 1)", "{y} * log({a0})"),
    sympy=lambda sp, a, b: a**b,
)


def _split_mask(a, b, first: bool):
    """Where ``a`` wins a max: 1; ties 0.5 each; else 0 (plain values, no derivative)."""
    a, b = concrete(a), concrete(b)
    win = np.greater(a, b) if first else np.less(a, b)
    mask = np.where(win, 1.0, np.where(a == b, 0.5, 0.0))
    dtype = np.result_type(*(v if type(v) in (float, int) else dtype_of(v) for v in (a, b)))
    return mask.astype(dtype) if dtype.kind == "f" and dtype != dtype_of(mask) else mask


def _extremum(name, impl, first, **fields):
    return _bin(
        name, impl,
        lambda t, y, a, b: broadcast_like(t * _split_mask(a, b, first), y),
        lambda t, y, a, b: broadcast_like(t * _split_mask(b, a, first), y),
        lambda g, y, a, b: _ub(g * _split_mask(a, b, first), a),
        lambda g, y, a, b: _ub(g * _split_mask(b, a, first), b),
        f"y = {name}(a, b); the winner gets ȳ, ties split it equally",
        ((0, 1), (0, 1)), **fields,
    )


maximum = _extremum("maximum", np.maximum, True, ufunc="maximum", sympy="Max")
minimum = _extremum("minimum", np.minimum, False, ufunc="minimum", sympy="Min")

mod = _bin(
    "mod", _scalar_safe(operator.mod, np.mod),
    lambda t, y, a, b: broadcast_like(t, y),
    lambda t, y, a, b: broadcast_like(zero_safe(t, -t * floor(a / b)), y),
    lambda g, y, a, b: _ub(g, a),
    lambda g, y, a, b: _ub(zero_safe(g, -g * floor(a / b)), b),
    "y = a mod b = a - b·⌊a/b⌋; ā = ȳ, b̄ = -ȳ·⌊a/b⌋ (almost everywhere)",
    ((), (0, 1)),
    sympy="Mod",
    partials=("1", "-floor({a0} / {a1})"),
)

where_p = Primitive(
    "where",
    np.where,
    jvps=(
        None,
        lambda t, y, c, a, b: broadcast_like(where_p(c, broadcast_like(t, y), 0.0), y),
        lambda t, y, c, a, b: broadcast_like(where_p(c, 0.0, broadcast_like(t, y)), y),
    ),
    vjps=(
        None,
        lambda g, y, c, a, b: _ub(where_p(c, g, 0.0), a),
        lambda g, y, c, a, b: _ub(where_p(c, 0.0, g), b),
    ),
    doc="y = a where c else b; ā = ȳ where c else exactly 0 (and b̄ the other way round)",
    reads=Reads((), (0,), (0,)),
    partials=("0", "{a0}", "1 - {a0}"),
    sympy=lambda sp, c, a, b: a if c == sp.true else b if c == sp.false
    else sp.Piecewise((a, c), (b, True)),
    batch="elementwise",
    abstract_eval=elementwise_shape("branches"),
)


def _clip_masks(x, lo, hi):
    """Which of x, lo, hi ``min(max(x, lo), hi)`` takes at each element (plain masks).

    Following NumPy's definition, ``hi`` wins wherever ``max(x, lo) > hi`` (also
    when ``lo > hi``), else ``lo`` wins where ``x < lo``, else ``x``.
    """
    x = concrete(x)
    m = x if lo is None else np.maximum(x, concrete(lo))
    to_hi = np.zeros(np.shape(m), dtype=bool) if hi is None else m > concrete(hi)
    below = np.zeros(np.shape(x), dtype=bool) if lo is None else x < concrete(lo)
    keep = np.logical_not(to_hi)  # ufuncs, not ~/&: staged masks dispatch to primitives
    return np.logical_and(keep, np.logical_not(below)), np.logical_and(keep, below), to_hi


def _clip_rule(which: int, tangent_mode: bool):
    def rule(c, y, x, lo, hi):
        mask = _clip_masks(x, lo, hi)[which]
        if tangent_mode:
            return broadcast_like(where_p(mask, c, 0.0), y)
        return _ub(where_p(mask, c, 0.0), (x, lo, hi)[which])
    return rule


def _sympy_clip(minimum, y, hi):
    return y if hi is None else minimum(y, hi)


clip = Primitive(
    "clip",
    lambda x, lo, hi: np.clip(x, lo, hi),
    jvps=tuple(_clip_rule(i, True) for i in range(3)),
    vjps=tuple(_clip_rule(i, False) for i in range(3)),
    doc="y = min(max(x, lo), hi); ȳ goes to whichever of x, lo, hi y equals",
    batch="elementwise",
    sympy=lambda sp, x, lo, hi: _sympy_clip(sp.Min, x if lo is None else sp.Max(x, lo), hi),
    abstract_eval=elementwise_shape("promote"),
)


# zero-derivative elementwise ops: they are primitives (so staging sees them) whose
# rules are symbolically zero, so under differentiation they return plain values.
def _nondiff(name, impl, nargs=1, **fields):
    return Primitive(name, impl, jvps=(None,) * nargs, vjps=(None,) * nargs,
                     doc=f"{name}: piecewise constant, derivative 0 almost everywhere",
                     batch="elementwise", abstract_eval=elementwise_shape(ufunc=name),
                     partials=("0",) * nargs, **fields)


sign = _nondiff("sign", np.sign, sympy="sign")
floor = _nondiff("floor", np.floor, sympy="floor")
ceil = _nondiff("ceil", np.ceil, sympy="ceiling")
rint = _nondiff("rint", np.rint)
trunc = _nondiff("trunc", np.trunc, sympy=lambda sp, x: sp.sign(x) * sp.floor(sp.Abs(x)))
floor_divide = _nondiff("floor_divide", _scalar_safe(operator.floordiv, np.floor_divide), 2,
                        sympy=lambda sp, a, b: sp.floor(a / b))
