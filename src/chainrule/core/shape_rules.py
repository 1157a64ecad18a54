"""Shape rules shared by many primitives: the abstract value of a result from those of
the arguments, without running the implementation (``Primitive.abstract_eval``).

A rule is ``rule(*avals, **params) -> AVal`` (or a list of them, one per output); each
argument is an :class:`AVal`, a Python number (a constant: weakly typed, as NumPy
promotes it), or None (an absent optional operand). Staging (``jit``, ``make_ir``)
calls it for every equation with an array argument; an equation whose arguments are
all Python numbers is evaluated on them instead (one scalar operation), because
whether its result is a Python number or a NumPy scalar is the implementation's
choice, not the operation's.

Dtypes follow NumPy's promotion, Python numbers weakly typed (``float32 + 2.0`` is
float32): a primitive computed by a NumPy ufunc asks the ufunc
(``ufunc.resolve_dtypes``); other elementwise primitives name their kind of result.

>>> rule = elementwise_shape("inexact")
>>> rule(AVal((3, 1), np.int64), AVal((4,), np.float32))
AVal(f64[3,4])
>>> elementwise_shape("promote", ufunc="add")(AVal((2,), np.float32), AVal((), np.float64, True))
AVal(f32[2])
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from chainrule.core.abstract import AVal, aval_of

__all__ = ["elementwise_shape", "reduction_shape", "reshape_shape", "broadcast_to_shape",
           "transpose_shape", "matmul_shape", "DTYPE_KINDS"]

#: a Python number (weakly typed) as NumPy's promotion takes it, by dtype kind
_WEAK_VALUE = {"f": 1.0, "i": 1, "c": 1j, "b": True, "u": 1}
_WEAK_TYPE = {"f": float, "i": int, "c": complex}
_BOOL = np.dtype(bool)
_FLOAT16 = np.dtype(np.float16)


def _operand(a: Any) -> Any:
    """What NumPy's promotion takes for an abstract argument: a dtype, or a Python number
    (weak) for a constant or a variable known to hold one."""
    if type(a) is not AVal:
        return a
    return _WEAK_VALUE.get(a.dtype.kind, a.dtype) if a.pyfloat else a.dtype


def _shape(a: Any) -> tuple:
    return a.shape if type(a) is AVal else ()


def _as_aval(a: Any) -> AVal:
    return a if type(a) is AVal else aval_of(a)


def _promoted(avals) -> np.dtype:
    return np.result_type(*[_operand(a) for a in avals])


def _inexact(dt: np.dtype) -> np.dtype:
    """The dtype NumPy's float loops give an argument of dtype ``dt`` (int8 → float16, …)."""
    return dt if dt.kind in "fc" else np.result_type(dt, _FLOAT16)


#: how an elementwise primitive's result dtype follows from its arguments' dtypes
DTYPE_KINDS: dict[str, Callable[[list], np.dtype]] = {
    # NumPy's promotion of all the arguments (a + b, a ** b, where(c, a, b): c is a mask)
    "promote": _promoted,
    # a float function: integers become floats as NumPy's float loops make them
    "inexact": lambda avals: _inexact(_promoted(avals)),
    # a truth value (comparisons, isnan, logical operations)
    "bool": lambda avals: _BOOL,
    # a real number from real or complex arguments (abs, real, imag)
    "real": lambda avals: np.finfo(_inexact(_promoted(avals))).dtype,
    # the dtype of the first argument (zeros_like, round, …)
    "first": lambda avals: np.result_type(_operand(avals[0])),
    # the promotion of every argument but the first (where's condition is a mask)
    "branches": lambda avals: _promoted(avals[1:]),
    # a complex number (times i)
    "complex": lambda avals: np.result_type(_promoted(avals), 1j),
}


def _ufunc_dtype(ufunc: np.ufunc, avals) -> np.dtype:
    types: list[Any] = []
    for a in avals:
        if type(a) is not AVal:
            types.append(type(a) if type(a) in (float, int, complex) else np.result_type(a))
        else:
            types.append(_WEAK_TYPE.get(a.dtype.kind, a.dtype) if a.pyfloat else a.dtype)
    return ufunc.resolve_dtypes((*types, None))[-1]


def elementwise_shape(dtype: str = "promote", ufunc: "str | Callable | None" = None
                      ) -> Callable:
    """The shape rule of an elementwise primitive: the arguments' shapes broadcast, the
    dtype by ``DTYPE_KINDS[dtype]``, or by a ufunc when given: the NumPy ufunc of that
    name, or ``ufunc()`` (a ufunc of an optional library, looked up when needed; where
    it turns out to be a plain function, ``dtype`` decides).
    Arguments that are None (a missing clip bound) are left out."""
    kind = DTYPE_KINDS[dtype]
    fn = getattr(np, ufunc) if isinstance(ufunc, str) else ufunc

    def rule(*avals, **params) -> AVal:
        avals = [a for a in avals if a is not None]
        shape = np.broadcast_shapes(*[_shape(a) for a in avals])
        if "dtype" in params and params["dtype"] is not None:
            return AVal(shape, params["dtype"])
        u = fn if fn is None or isinstance(fn, np.ufunc) else fn()
        if not isinstance(u, np.ufunc):  # a plain function after all: the kind decides
            return AVal(shape, kind(avals))
        return AVal(shape, _ufunc_dtype(u, avals))

    rule.__name__ = f"elementwise_shape_{ufunc if isinstance(ufunc, str) else dtype}"
    return rule


def reduction_shape(dtype: str = "first") -> Callable:
    """The shape rule of a reduction over ``axis`` (None: all axes), ``keepdims`` keeping
    the reduced axes as 1s; the dtype by ``DTYPE_KINDS[dtype]``, except that ``"sum"``
    gives NumPy's accumulator for integers and booleans (the platform integer)."""
    def rule(x: AVal, axis: Any = None, keepdims: bool = False, **params) -> AVal:
        x = _as_aval(x)
        nd = len(x.shape)
        axes = range(nd) if axis is None else (
            (axis,) if isinstance(axis, (int, np.integer)) else axis)
        axes = {int(a) % nd for a in axes} if nd else set()
        shape = tuple(1 if i in axes else d for i, d in enumerate(x.shape)
                      if keepdims or i not in axes)
        if dtype == "sum" and x.dtype.kind in "bi":
            dt = np.result_type(x.dtype, np.int_)  # NumPy sums small integers in its long
        elif dtype == "sum" and x.dtype.kind == "u":
            dt = np.result_type(x.dtype, np.uint)
        elif dtype == "sum":
            dt = x.dtype
        else:
            dt = DTYPE_KINDS[dtype]([x])
        return AVal(shape, dt)

    rule.__name__ = f"reduction_shape_{dtype}"
    return rule


def reshape_shape(x: AVal, shape: tuple) -> AVal:
    """``reshape``: the new shape, one ``-1`` taking what the others leave.

    >>> reshape_shape(AVal((2, 6), np.float32), shape=(3, -1))
    AVal(f32[3,4])
    """
    x = _as_aval(x)
    shape = tuple(int(d) for d in ((shape,) if isinstance(shape, (int, np.integer)) else shape))
    if -1 in shape:
        known = 1
        for d in shape:
            known *= d if d != -1 else 1
        shape = tuple(x.size // known if d == -1 else d for d in shape)
    return AVal(shape, x.dtype)


def broadcast_to_shape(x: AVal, shape: tuple) -> AVal:
    """``broadcast_to``: the target shape, the argument's dtype."""
    return AVal(tuple(shape), _as_aval(x).dtype)


def transpose_shape(x: AVal, axes: tuple | None) -> AVal:
    """``transpose``: the axes permuted (reversed when ``axes`` is None)."""
    x = _as_aval(x)
    order = range(len(x.shape))[::-1] if axes is None else axes
    return AVal(tuple(x.shape[int(a)] for a in order), x.dtype)


def matmul_shape(a: AVal, b: AVal) -> AVal:
    """``a @ b``: batch axes broadcast, a 1-D ``a`` is a row and a 1-D ``b`` a column
    whose added axis is dropped (NumPy's rules; 0-d operands are refused, by NumPy too).

    >>> matmul_shape(AVal((5, 2, 3), np.float64), AVal((3,), np.float32))
    AVal(f64[5,2])
    """
    a, b = _as_aval(a), _as_aval(b)
    if not a.shape or not b.shape:
        raise ValueError("matmul: an operand is 0-d (NumPy's matmul needs at least 1 axis)")
    sa = a.shape if len(a.shape) > 1 else (1,) + a.shape
    sb = b.shape if len(b.shape) > 1 else b.shape + (1,)
    if sa[-1] != sb[-2]:
        raise ValueError(f"matmul: the inner dimensions of {a.shape} and {b.shape} differ")
    lead = np.broadcast_shapes(sa[:-2], sb[:-2])
    out = lead + (sa[-2],) * (len(a.shape) > 1) + (sb[-1],) * (len(b.shape) > 1)
    return AVal(out, _promoted([a, b]))
