"""Abstract values: what is known of a value before it is computed (shape and dtype).

Staging (``jit``, ``make_ir``) gives every program variable an :class:`AVal`, and a
primitive's shape rule (``Primitive.abstract_eval``) maps the abstract values of its
arguments to that of its result, without running the implementation.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["AVal", "aval_of"]


class AVal:
    """The abstract value of a variable: shape and dtype (``pyfloat``: a Python scalar,
    float or, with an integer dtype, int; weakly typed, as NumPy treats them)."""

    __slots__ = ("shape", "dtype", "pyfloat")

    def __init__(self, shape: tuple, dtype: Any, pyfloat: bool = False) -> None:
        self.shape = tuple(shape)
        self.dtype = np.dtype(dtype)
        self.pyfloat = pyfloat

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    def key(self) -> tuple:
        return (self.shape, self.dtype.str, self.pyfloat)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AVal) and self.key() == other.key()

    def __hash__(self) -> int:
        return hash(self.key())

    def short(self) -> str:
        """``f64[3,4]`` (arrays) or ``float`` (Python floats)."""
        if self.pyfloat:
            return "float" if self.dtype.kind == "f" else "int"
        kind = {"f": "f", "c": "c", "i": "i", "u": "u", "b": "bool"}.get(self.dtype.kind, "?")
        name = kind if kind == "bool" else f"{kind}{self.dtype.itemsize * 8}"
        return f"{name}[{','.join(map(str, self.shape))}]"

    def __repr__(self) -> str:
        return f"AVal({self.short()})"


def aval_of(x: Any) -> AVal:
    """The abstract value of a concrete value."""
    if type(x) is float:
        return AVal((), np.float64, True)
    if isinstance(x, (bool, np.bool_)):
        return AVal((), np.bool_)
    if type(x) is int:  # weak, like a Python float: 2·x keeps x's precision
        return AVal((), np.int64, True)
    if isinstance(x, int):
        return AVal((), np.int64)
    if isinstance(x, complex):
        return AVal((), np.complex128)
    if type(x) is not np.ndarray and hasattr(x, "shape") and hasattr(x, "dtype"):
        return AVal(tuple(x.shape), np.dtype(x.dtype))  # Dask, CuPy: not copied to NumPy
    a = np.asarray(x)
    return AVal(a.shape, a.dtype)
