"""Matrix products: ``matmul`` with NumPy's broadcasting and 1-D conventions.

For 2-D operands, y = A·B has Ā = Ȳ·Bᵀ and B̄ = Aᵀ·Ȳ. Leading (batch)
dimensions broadcast, so cotangents are summed back to each operand's shape;
a 1-D left operand is a row vector and a 1-D right operand a column vector
whose added axis is removed from the result, as in ``numpy.matmul``.
"""

from __future__ import annotations

from chainrule.core.shape_rules import matmul_shape
from chainrule.core.primitive import Primitive, Reads, shape_of
from chainrule.numpy import _elementwise as ew
from chainrule.numpy._structural import reshape_p, transpose_p, unbroadcast


def _mT(x):
    """Swap the last two axes."""
    n = len(shape_of(x))
    return transpose_p(x, axes=tuple(range(n - 2)) + (n - 1, n - 2))


def _with_axis(x, pos: int):
    """Insert a unit axis at ``pos`` (-1: last, -2: before last)."""
    s = shape_of(x)
    s = s + (1,) if pos == -1 else s[:-1] + (1,) + s[-1:] if s else (1,)
    return reshape_p(x, shape=s)


def _drop_axis(x, pos: int):
    s = shape_of(x)
    return reshape_p(x, shape=s[:pos] + s[pos + 1:] if pos != -1 else s[:-1])


def _matmul_vjp_a(g, y, a, b):
    an, bn = len(shape_of(a)), len(shape_of(b))
    if an == 1 and bn == 1:
        return ew.real_for(g * b, a)
    if bn == 1:  # y[..., n] = Σ_k a[..., n, k] b[k]
        ga = _with_axis(g, -1) * b
    elif an == 1:  # y[..., m] = Σ_k a[k] b[..., k, m]
        ga = _drop_axis(matmul(b, _with_axis(g, -1)), -1)
    else:
        ga = matmul(g, _mT(b))
    return ew.real_for(unbroadcast(ga, shape_of(a)), a)


def _matmul_vjp_b(g, y, a, b):
    an, bn = len(shape_of(a)), len(shape_of(b))
    if an == 1 and bn == 1:
        return ew.real_for(g * a, b)
    if an == 1:  # b̄[..., k, m] = a[k] ȳ[..., m]
        gb = _with_axis(a, -1) * _with_axis(g, -2)
    elif bn == 1:  # b̄[k] = Σ a[..., n, k] ȳ[..., n]
        gb = _drop_axis(matmul(_mT(a), _with_axis(g, -1)), -1)
    else:
        gb = matmul(_mT(a), g)
    return ew.real_for(unbroadcast(gb, shape_of(b)), b)


matmul = Primitive(
    "matmul",
    lambda a, b: a @ b,
    jvps=(lambda t, y, a, b: matmul(t, b), lambda t, y, a, b: matmul(a, t)),
    vjps=(_matmul_vjp_a, _matmul_vjp_b),
    doc="Y = A·B; Ā = Ȳ·Bᵀ, B̄ = Aᵀ·Ȳ (batch axes broadcast, 1-D operands as in numpy)",
    reads=Reads((1,), (0,)),
    batch="matmul",
    symbol="@", fresh=True, abstract_eval=matmul_shape,
)
