"""NumPy's elementwise functions beyond the unary table of :mod:`._elementwise`.

Inverse trigonometric and hyperbolic functions, other bases, two-argument ufuncs,
complex parts, and elementwise functions written with them: sign bits and remainders
(``copysign``, ``fmod``), clean-ups (``nan_to_num``, ``real_if_close``) and
choices (``select``, ``piecewise``).

Primitives (one unary rule ``c · f'(x)`` for both modes, as in :mod:`._elementwise`):
exp2, log2, log10, cbrt, arcsin, arccos, arcsinh, arccosh, arctanh, sinc, arctan2,
real, imag, conj. Everything else is a composite of primitives and differentiates for
free: reciprocal, fabs, positive, deg2rad, rad2deg, logaddexp(2), hypot, float_power,
fmax, fmin, angle.

NaN-safety: ``sinc`` has derivative 0 at 0 (its limit), ``hypot`` and ``logaddexp`` are
written so that no intermediate overflows, and ``fmax``/``fmin`` pass the cotangent to
the non-NaN argument.

Complex parts follow JAX's convention (the module docstring of :mod:`._elementwise`):
``real``: z̄ = Re ȳ; ``imag``: z̄ = -i·Re ȳ; ``conj``: z̄ = conj ȳ; ``angle`` is the
composite arctan2(Im z, Re z), so its rules follow from theirs.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from chainrule.core.backends import per_block
from chainrule.core.primitive import (
    ANS, Primitive, Reads, Tracer, anywhere, concrete, dtype_of, mask, shape_of)
from chainrule.core.shape_rules import elementwise_shape
from chainrule.numpy import _elementwise as ew
from chainrule.numpy._elementwise import (  # noqa: F401  (real_p, conj_p: re-exported)
    _float_fast,
    _is_complex,
    _real_ct,
    _ub,
    conj_p,
    divide,
    real_p,
    unary,
    where_p,
)
from chainrule.numpy._structural import broadcast_like
from chainrule.numpy._nondiff import equal as _nd_equal
from chainrule.numpy._nondiff import nondiff_funcs
from chainrule.numpy import _namespace as ns

__all__ = [
    "exp2", "log2", "log10", "cbrt", "arcsin", "arccos", "arcsinh", "arccosh", "arctanh",
    "sinc", "arctan2", "real", "imag", "conj", "conjugate", "reciprocal", "fabs", "positive",
    "deg2rad", "rad2deg", "radians", "degrees", "logaddexp", "logaddexp2", "hypot",
    "float_power", "fmax", "fmin", "angle", "sign", "copysign", "fmod", "nan_to_num",
    "real_if_close", "select", "piecewise",
]

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)

exp2 = unary("exp2", np.exp2, lambda c, y, x: c * (y * _LN2), "y = 2ˣ; y' = y·ln 2", "y",
             sympy=lambda sp, x: 2**x, partials=("log(2) * {y}",))
log2 = unary("log2", _float_fast(math.log2, np.log2), lambda c, y, x: divide(c, x * _LN2),
             "y = log₂ x; y' = 1/(x ln 2)", "x",
             sympy=lambda sp, x: sp.log(x, 2), partials=("1 / ({a0} * log(2))",))
log10 = unary("log10", _float_fast(math.log10, np.log10),
              lambda c, y, x: divide(c, x * _LN10), "y = log₁₀ x; y' = 1/(x ln 10)", "x",
              sympy=lambda sp, x: sp.log(x, 10), partials=("1 / ({a0} * log(10))",))
cbrt = unary("cbrt", np.cbrt, lambda c, y, x: divide(c, 3 * y * y),
             "y = ∛x; y' = 1/(3y²)", "y", staged=True,
             sympy=lambda sp, x: sp.real_root(x, 3), partials=("1 / (3 * {y}**2)",))
arcsin = unary("arcsin", _float_fast(math.asin, np.arcsin),
               lambda c, y, x: divide(c, ew.sqrt(1 - x * x)), "y' = 1/√(1 - x²)", "x",
               sympy="asin", partials=("1 / sqrt(1 - {a0}**2)",))
arccos = unary("arccos", _float_fast(math.acos, np.arccos),
               lambda c, y, x: -divide(c, ew.sqrt(1 - x * x)), "y' = -1/√(1 - x²)", "x",
               sympy="acos", partials=("-1 / sqrt(1 - {a0}**2)",))
arcsinh = unary("arcsinh", _float_fast(math.asinh, np.arcsinh),
                lambda c, y, x: divide(c, ew.sqrt(x * x + 1)), "y' = 1/√(x² + 1)", "x",
                sympy="asinh", partials=("1 / sqrt({a0}**2 + 1)",))
arccosh = unary("arccosh", _float_fast(math.acosh, np.arccosh),
                lambda c, y, x: divide(c, ew.sqrt(x * x - 1)), "y' = 1/√(x² - 1)", "x",
                sympy="acosh", partials=("1 / sqrt({a0}**2 - 1)",))
arctanh = unary("arctanh", _float_fast(math.atanh, np.arctanh),
                lambda c, y, x: divide(c, 1 - x * x), "y' = 1/(1 - x²)", "x",
                sympy="atanh", partials=("1 / (1 - {a0}**2)",))


#: |x| below which sinc' is its Taylor series (truncation error < 1e-17 there)
_SINC_SERIES = 0.01
_PI2 = np.pi**2


def _sinc_slope(x):
    """sinc'(x) = (cos πx - sinc x)/x; for |x| < 0.01 its Taylor series
    -π²x/3 + π⁴x³/30 - π⁶x⁵/840 + π⁸x⁷/45360, which has the right limit (0), second
    derivative (-π²/3) and higher derivatives at 0, where the quotient cancels."""
    small = concrete(x)
    small = mask(np.less(np.abs(small), _SINC_SERIES))
    if not anywhere(small):
        return divide(ew.cos(np.pi * x) - sinc(x), x)
    safe = where_p(small, 1.0, x)
    x2 = x * x * _PI2
    series = x * _PI2 * (-1 / 3 + x2 * (1 / 30 - x2 * (1 / 840 - x2 / 45360)))
    return where_p(small, series, divide(ew.cos(np.pi * safe) - sinc(safe), safe))


sinc = unary("sinc", np.sinc, lambda c, y, x: c * _sinc_slope(x),
             "y = sin(πx)/(πx); y' = (cos(πx) - y)/x (its Taylor series near 0)", "x",
             sympy=lambda sp, x: sp.sinc(sp.pi * x), partials=("(cos(pi * {a0}) - {y}) / {a0}",))


def _atan2_rule(which: int, tangent: bool):
    def rule(c, ans, a, b):
        r2 = a * a + b * b
        d = divide(b, r2) if which == 0 else -divide(a, r2)
        r = ew.zero_safe(c, c * d)
        return broadcast_like(r, ans) if tangent else _ub(r, (a, b)[which])
    return rule


arctan2 = Primitive(
    "arctan2", np.arctan2,
    jvps=(_atan2_rule(0, True), _atan2_rule(1, True)),
    vjps=(_atan2_rule(0, False), _atan2_rule(1, False)),
    doc="y = atan2(a, b); ∂y/∂a = b/(a² + b²), ∂y/∂b = -a/(a² + b²)",
    reads=Reads((0, 1), (0, 1)),
    batch="elementwise",
    sympy="atan2",
    abstract_eval=elementwise_shape(ufunc="arctan2"),
    partials=("{a1} / ({a0}**2 + {a1}**2)", "-{a0} / ({a0}**2 + {a1}**2)"),
)


imag_p = Primitive(
    "imag", np.imag,
    jvps=(lambda t, y, x: imag_p(t),),
    vjps=(lambda g, y, x: -times_i_p(_real_ct(g)) if _is_complex(x) else _real_ct(g) * 0.0,),
    linear=True,
    reads=Reads((0,)),
    doc="y = Im z; ẏ = Im ż; z̄ = -i·Re ȳ (Re Σ z̄·ż = Σ Re ȳ·Im ż; 0 for a real z)",
    batch="elementwise",
    sympy="im",
    abstract_eval=elementwise_shape("real"),
)
times_i_p = Primitive(
    "times_i", lambda g: g * 1j,
    jvps=(lambda t, y, g: times_i_p(t),),
    vjps=(lambda c, y, g: -imag_p(c) if not _is_complex(g) else times_i_p(c),),
    linear=True,
    reads=Reads((0,)),
    doc="y = i·g (the transpose of Im, up to sign); ḡ = i·ȳ, or Re(i·ȳ) = -Im ȳ for a real g",
    batch="elementwise",
    sympy=lambda sp, x: sp.I * x,
    abstract_eval=elementwise_shape("complex"),
)


def real(val):
    """Real part (the identity on real arrays)."""
    return real_p(val)


def imag(val):
    """Imaginary part (zero, with a zero derivative, on real arrays)."""
    return imag_p(val)


def conj(x):
    """Complex conjugate (the identity on real arrays)."""
    return conj_p(x) if _is_complex(x) else x


conjugate = conj


def reciprocal(x):
    """1/x."""
    return divide(1.0, x)


def fabs(x):
    """|x| for real x (the subgradient 0 at 0), in floating point as NumPy's."""
    return ew.absolute(x if dtype_of(x).kind in "fc" else x * 1.0)


def positive(x):
    """+x."""
    return x


def deg2rad(x):
    return x * (np.pi / 180.0)


def rad2deg(x):
    return x * (180.0 / np.pi)


radians = deg2rad
degrees = rad2deg


def _softmax_weight(a, b, y, power, plain_power=None):
    """∂y/∂a for y = log_B(Bᵃ + Bᵇ): B^(a - y) (``power`` is exp or exp2, ``plain_power``
    its NumPy ufunc), a smooth function of the primals, so it differentiates again.
    Where y is infinite a - y has no value: the limits 1 (a alone is y), 0 (a < y) and
    ½ (a = b = ±∞, along a = b). On Dask values (not traced) it runs block by block,
    so that the shortcut (no infinite y) is taken per block."""
    if plain_power is not None and not isinstance(y, Tracer) and ew._lazy(y):
        blocks = per_block(_softmax_weight, a, b, y, plain_power, dtype=y.dtype)
        if blocks is not None:
            return blocks
    inf = mask(np.isinf(concrete(y)))
    if not anywhere(inf):
        return power(a - y)
    a_, b_, y_ = concrete(a), concrete(b), concrete(y)
    limit = np.where(np.equal(a_, b_), 0.5, np.where(np.equal(a_, y_), 1.0, 0.0))
    return where_p(inf, limit, power(where_p(inf, 0.0, a) - where_p(inf, 0.0, y)))


def _logaddexp_rule(which: int, tangent: bool, power, plain_power):
    def rule(c, y, a, b):
        args = (a, b)
        weight = _softmax_weight(args[which], args[1 - which], y, power, plain_power)
        r = ew.zero_safe(c, c * weight)
        return broadcast_like(r, y) if tangent else _ub(r, args[which])
    return rule


def _logaddexp_primitive(name: str, impl, power, plain_power, base: str,
                         **fields) -> Primitive:
    rules = [_logaddexp_rule(i, tangent, power, plain_power)
             for tangent in (True, False) for i in (0, 1)]
    return Primitive(
        name, impl,
        jvps=tuple(rules[:2]),
        vjps=tuple(rules[2:]),
        reads=Reads((0, 1, ANS), (0, 1, ANS)), batch="elementwise",
        abstract_eval=elementwise_shape(ufunc=name),
        doc=f"y = log_{base}({base}ᵃ + {base}ᵇ); ∂y/∂a = {base}^(a - y) (½ each at a = b = ±∞)",
        **fields)


logaddexp_p = _logaddexp_primitive("logaddexp", np.logaddexp, ew.exp, np.exp, "e",
                                   sympy=lambda sp, a, b: sp.log(sp.exp(a) + sp.exp(b)),
                                   partials=("exp({a0} - {y})", "exp({a1} - {y})"))
logaddexp2_p = _logaddexp_primitive("logaddexp2", np.logaddexp2, exp2, np.exp2, "2",
                                    sympy=lambda sp, a, b: sp.log(2**a + 2**b, 2),
                                    partials=("2**({a0} - {y})", "2**({a1} - {y})"))


def logaddexp(a, b):
    """log(eᵃ + eᵇ) without overflow (NumPy's), smooth at a = b to every order; its
    derivative is finite at a = b = ±∞ too (½ each)."""
    return logaddexp_p(a, b)


def logaddexp2(a, b):
    """log₂(2ᵃ + 2ᵇ), like :func:`logaddexp`."""
    return logaddexp2_p(a, b)


def sign(x):
    """sign x: derivative 0 for real x; for complex z (NumPy 2: z/|z|, 0 at 0) the
    derivative of z/|z|."""
    if type(x) is float or dtype_of(x).kind != "c" or not isinstance(x, Tracer):
        return ew.sign(x)
    zero = _nd_equal(concrete(x), 0)
    z = where_p(zero, 1.0, x)
    return where_p(zero, 0.0, ew.divide(z, ew.absolute(z)))


def hypot(a, b):
    """√(a² + b²), scaled by max(|a|, |b|) so that no square overflows."""
    m = ew.maximum(ew.absolute(a), ew.absolute(b))
    zero = concrete(m) == 0
    if anywhere(zero):  # staged: not known, take the safe form
        s = where_p(zero, 1.0, m)
        return where_p(zero, 0.0, s * ew.sqrt(ew.square(a / s) + ew.square(b / s)))
    return m * ew.sqrt(ew.square(a / m) + ew.square(b / m))


def float_power(a, b):
    """a^b computed in float64 (or complex128)."""
    a = a if dtype_of(a).kind in "fc" and dtype_of(a).itemsize >= 8 else a * np.float64(1.0)
    return ew.power(a, b)


def _nan_pick(a, b, pick):
    # ufuncs, not operators: on staged values they dispatch to the logical_* primitives
    an, bn = np.isnan(concrete(a)), np.isnan(concrete(b))
    a_only = np.logical_and(an, np.logical_not(bn))
    b_only = np.logical_and(bn, np.logical_not(an))
    return where_p(a_only, b, where_p(b_only, a, pick(a, b)))


def fmax(a, b):
    """Maximum that ignores NaN: ȳ goes to the non-NaN argument."""
    return _nan_pick(a, b, ew.maximum)


def fmin(a, b):
    """Minimum that ignores NaN: ȳ goes to the non-NaN argument."""
    return _nan_pick(a, b, ew.minimum)


def angle(z, deg=False):
    """Argument of z: arctan2(Im z, Re z)."""
    r = arctan2(imag(z), real(z))
    return rad2deg(r) if deg else r


# ---- written with the primitives above and where: sign bits, remainders, clean-ups, choices ----

_isnan, _signbit = nondiff_funcs["isnan"], nondiff_funcs["signbit"]


def copysign(x1, x2):
    """``|x1|`` with the sign bit of ``x2`` (-0.0 counts as negative)."""
    magnitude = ew.absolute(x1 * 1.0)  # floating, as NumPy's
    return ew.where_p(_signbit(x2), -magnitude, magnitude)


def fmod(x1, x2):
    """C's remainder ``x1 - x2·trunc(x1/x2)`` (the sign of ``x1``)."""
    if not isinstance(x1, Tracer) and not isinstance(x2, Tracer) \
            and dtype_of(x1).kind in "iub" and dtype_of(x2).kind in "iub":
        return np.fmod(x1, x2)  # integers: NumPy's, exactly (and nothing to differentiate)
    q = ew.divide(concrete(x1), concrete(x2))
    return x1 - x2 * ew.where_p(q >= 0, ew.floor(q), ew.ceil(q))  # trunc, derivative 0


def nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None):
    """``numpy.nan_to_num``: the derivative is 1 at finite entries, 0 at replaced ones."""
    if not ns.any_traced(x):
        return np.nan_to_num(x, copy=copy, nan=nan, posinf=posinf, neginf=neginf)
    dtype = dtype_of(x)
    if dtype.kind == "c":  # real and imaginary parts separately, as NumPy does
        parts = [nan_to_num(p(x), nan=nan, posinf=posinf, neginf=neginf)
                 for p in (real, imag)]
        return parts[0] + 1j * parts[1]
    if dtype.kind != "f":
        return x
    big, t = np.finfo(dtype).max, dtype.type  # the replacements in x's precision
    v = concrete(x)  # a value, or a staged one under jit: only comparisons of it are used
    fill = ns.where(v != v, t(nan), ns.where(v > 0, big if posinf is None else t(posinf),
                                             -big if neginf is None else t(neginf)))
    return ns.where(np.isfinite(v), x, fill)


def real_if_close(a, tol=100):
    """``numpy.real_if_close``: ``real(a)`` when every imaginary part is negligible."""
    if not ns.any_traced(a):
        return np.real_if_close(a, tol)
    if dtype_of(a).kind != "c":
        return a
    v = concrete(a)
    if isinstance(v, Tracer):
        raise TypeError(
            "real_if_close chooses its result's type from the values, which jit does not "
            "know; under jit use np.real(a) where the imaginary part is known to vanish, "
            "or keep the complex array")
    if np.real_if_close(v, tol).dtype.kind != "c":
        return real(a)
    return a


def select(condlist, choicelist, default=0):
    """``numpy.select``: the first true condition's choice, else ``default``."""
    if not ns.any_traced(*condlist, *choicelist, default):
        return np.select(condlist, choicelist, default)
    if len(condlist) != len(choicelist):
        raise ValueError("select: list of cases must be same length as list of conditions")
    out = default
    for cond, choice in zip(reversed(condlist), reversed(choicelist)):
        out = ns.where(concrete(cond), choice, out)
    return ew.add(out, 0.0) if not isinstance(out, Tracer) else out


def piecewise(x, condlist, funclist, *args, **kw):
    """``funclist[i](x)`` where ``condlist[i]`` (the last one wins); one extra function is
    the default where no condition holds; numbers are constants."""
    if isinstance(condlist, np.ndarray) and condlist.dtype == bool and condlist.ndim == \
            len(shape_of(x)):
        condlist = [condlist]
    conds = [concrete(c) for c in condlist]
    if len(funclist) == len(conds) + 1:
        conds.append(np.logical_not(functools.reduce(np.logical_or, conds)))
    elif len(funclist) != len(conds):
        raise ValueError("piecewise: give one function per condition (and one default)")
    y = ew.multiply(x, 0.0)
    for c, fn in zip(conds, funclist):
        value = fn(x, *args, **kw) if callable(fn) else fn
        y = ew.where_p(c, value, y)
    return y
