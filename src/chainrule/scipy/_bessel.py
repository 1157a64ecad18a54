"""Bessel functions of real order v and argument x, differentiable in x (SciPy values).

The derivative in x follows the recurrences (DLMF 10.6.2, 10.29.2)

    J_v' = (J_{v-1} - J_{v+1})/2        Y_v' = (Y_{v-1} - Y_{v+1})/2
    I_v' = (I_{v-1} + I_{v+1})/2        K_v' = -(K_{v-1} + K_{v+1})/2

and for the exponentially scaled ive(v, x) = I_v(x)·e^{-|x|}, kve(v, x) = K_v(x)·e^{x}:

    ive' = (ive_{v-1} + ive_{v+1})/2 - sign(x)·ive      kve' = kve - (kve_{v-1} + kve_{v+1})/2

Each rule calls its own family at v ± 1, so derivatives of every order follow. The
derivative in the order v raises a clear error. ``j0 … k1e`` and ``jn``/``yn`` are the
integer-order members.
"""

from __future__ import annotations

from chainrule.core.primitive import ANS, Primitive, Reads
from chainrule.numpy import _elementwise as ew
from chainrule.scipy._rules import scipy_primitive

__all__ = ["jv", "yv", "iv", "ive", "kv", "kve", "jn", "yn", "j0", "j1", "y0", "y1",
           "i0", "i1", "i0e", "i1e", "k0", "k1", "k0e", "k1e"]

_READS = Reads((), (0, 1, ANS))

jv_p = scipy_primitive("jv", "v x", (None, lambda y, v, x: 0.5 * (jv_p(v - 1, x) - jv_p(v + 1, x))),
                       "y = J_v(x); ∂y/∂x = (J_{v-1} - J_{v+1})/2", _READS, sympy="besselj")
yv_p = scipy_primitive("yv", "v x", (None, lambda y, v, x: 0.5 * (yv_p(v - 1, x) - yv_p(v + 1, x))),
                       "y = Y_v(x); ∂y/∂x = (Y_{v-1} - Y_{v+1})/2", _READS, sympy="bessely")
iv_p = scipy_primitive("iv", "v x", (None, lambda y, v, x: 0.5 * (iv_p(v - 1, x) + iv_p(v + 1, x))),
                       "y = I_v(x); ∂y/∂x = (I_{v-1} + I_{v+1})/2", _READS, sympy="besseli")
kv_p = scipy_primitive(
    "kv", "v x", (None, lambda y, v, x: -0.5 * (kv_p(v - 1, x) + kv_p(v + 1, x))),
    "y = K_v(x); ∂y/∂x = -(K_{v-1} + K_{v+1})/2", _READS, sympy="besselk")
ive_p = scipy_primitive(
    "ive", "v x",
    (None, lambda y, v, x: 0.5 * (ive_p(v - 1, x) + ive_p(v + 1, x)) - ew.sign(x) * y),
    "y = I_v(x)e^{-|x|}; ∂y/∂x = (ive_{v-1} + ive_{v+1})/2 - sign(x)·y", _READS)
kve_p = scipy_primitive(
    "kve", "v x", (None, lambda y, v, x: y - 0.5 * (kve_p(v - 1, x) + kve_p(v + 1, x))),
    "y = K_v(x)e^{x}; ∂y/∂x = y - (kve_{v-1} + kve_{v+1})/2", _READS,
    sympy=lambda sp, v, x: sp.besselk(v, x) * sp.exp(x))


def jv(v, x):
    """J_v(x), the Bessel function of the first kind."""
    return jv_p(v, x)


def yv(v, x):
    """Y_v(x), the Bessel function of the second kind."""
    return yv_p(v, x)


def iv(v, x):
    """I_v(x), the modified Bessel function of the first kind."""
    return iv_p(v, x)


def ive(v, x):
    """I_v(x)·e^{-|x|}."""
    return ive_p(v, x)


def kv(v, x):
    """K_v(x), the modified Bessel function of the second kind."""
    return kv_p(v, x)


def kve(v, x):
    """K_v(x)·e^{x}."""
    return kve_p(v, x)


jn, yn = jv, yv


def _of_order(family: Primitive, v: float, name: str, math: str):
    """The member of ``family`` with the fixed order ``v``, as a function of x."""
    def member(x):
        return family(v, x)
    member.__name__ = member.__qualname__ = name
    member.__doc__ = f"{math}: {family.name}({v:g}, x)."
    return member


j0, j1 = _of_order(jv_p, 0.0, "j0", "J₀(x)"), _of_order(jv_p, 1.0, "j1", "J₁(x)")
y0, y1 = _of_order(yv_p, 0.0, "y0", "Y₀(x)"), _of_order(yv_p, 1.0, "y1", "Y₁(x)")
i0, i1 = _of_order(iv_p, 0.0, "i0", "I₀(x)"), _of_order(iv_p, 1.0, "i1", "I₁(x)")
i0e = _of_order(ive_p, 0.0, "i0e", "I₀(x)·e^{-|x|}")
i1e = _of_order(ive_p, 1.0, "i1e", "I₁(x)·e^{-|x|}")
k0, k1 = _of_order(kv_p, 0.0, "k0", "K₀(x)"), _of_order(kv_p, 1.0, "k1", "K₁(x)")
k0e = _of_order(kve_p, 0.0, "k0e", "K₀(x)·e^{x}")
k1e = _of_order(kve_p, 1.0, "k1e", "K₁(x)·e^{x}")
