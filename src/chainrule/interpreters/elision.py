"""Temporary elision: an operator on a dying operand writes its result into that buffer.

Plain NumPy evaluates ``100 * (a - b) ** 2`` with one allocation: the temporaries
``a - b`` and its square have no other owner, so each next operation overwrites them
("temporary elision", for arrays of 256 KiB and more). Under a tracer NumPy cannot see
this (the tracer owns the array), so eager reverse mode allocated a fresh buffer per
operation and walked a working set several times larger than the plain function's.

:func:`reusable_buffer` makes NumPy's decision one level up. The result of a binary
operator may overwrite an operand's array when

* the operand is a tracer nothing else references: a temporary of the expression, and
  the operator was called straight from the interpreter's binary-operator instruction
  (C code calling ``PyNumber_Add`` may hold borrowed references, so it is excluded, as
  NumPy excludes it);
* the array has no other owner (no tape residual, no view of it, no user variable),
  owns its memory, is writeable and at least 256 KiB;
* the tape does not keep the operand (its VJP rules do not read it), and the result
  has the operand's dtype and shape (checked by the caller).

Reference counts are calibrated at import against :func:`_probe_operator`, which holds
exactly the references the operator does, on CPython before 3.14 with the GIL only:
3.14 borrows stack references, so a temporary and a named value can have equal counts,
and free-threaded builds defer counts. Elsewhere the check always says no and every
result is computed into a fresh array, as before.
"""

from __future__ import annotations

import dis
import operator
import platform
import sys

import numpy as np

__all__ = ["ENABLED", "INPLACE", "MIN_BYTES", "MINE", "THEIRS", "fits", "fresh",
           "reusable_buffer"]

MIN_BYTES = 256 * 1024  # NumPy's NPY_MIN_ELIDE_BYTES
_getrefcount = sys.getrefcount
_getframe = sys._getframe
_ndarray = np.ndarray
_OPERATOR_OPCODES = frozenset(
    code for name, code in dis.opmap.items()
    if (name.startswith("BINARY_") and "SUBSCR" not in name and "SLICE" not in name)
    or name.startswith("INPLACE_")
)


def _counts(box) -> tuple[int, int]:
    """The reference counts :func:`reusable_buffer` compares, for calibration."""
    v = box._value
    return _getrefcount(box), _getrefcount(v)


def reusable_buffer(box, expected: tuple[int, int]):
    """``box``'s array when the operator called by the caller of our caller may overwrite it.

    ``expected`` is the calibrated pair of counts of a temporary tracer whose array has
    no other owner, as seen from here; ``None`` is returned whenever in doubt.
    """
    v = box._value
    if _getrefcount(box) != expected[0] or _getrefcount(v) != expected[1] \
            or v.nbytes < MIN_BYTES or v.base is not None or not v.flags.writeable:
        return None
    caller = _getframe(2)
    if caller.f_code.co_code[caller.f_lasti] not in _OPERATOR_OPCODES:
        return None
    return v


class _Box:
    __slots__ = ("_value",)


def _probe_operator(seen: list):
    """An operator shaped like ``reverse.binary_operator``'s: the same arguments and
    locals holding the same references when it asks for the counts."""

    def op(self, other):
        v = self._value
        w = other._value if type(other) is _Box else other
        seen.append((_counts(self), _counts(other) if type(other) is _Box else None))
        del v, w
        return _Box()

    return op


def _calibrate() -> tuple[tuple[int, int], tuple[int, int]] | None:
    """(counts of a temporary left operand, of a temporary right operand), or None
    when temporaries cannot be told from named values by their counts."""
    if platform.python_implementation() != "CPython" or sys.version_info >= (3, 14):
        return None
    if not getattr(sys, "_is_gil_enabled", lambda: True)():
        return None  # free-threaded builds share and defer reference counts
    seen: list = []
    _Box.__add__ = _probe_operator(seen)

    def fresh():
        b = _Box()
        b._value = np.empty(0)
        return b

    fresh() + fresh()  # noqa: B018 — both operands temporaries
    named = fresh()
    named + 1.0  # noqa: B018
    temp_left, temp_right = seen[0]
    named_left = seen[1][0]
    del _Box.__add__
    if temp_left[0] >= named_left[0]:
        return None
    return temp_left, temp_right


_EXPECTED = _calibrate()
ENABLED = _EXPECTED is not None
#: expected counts for the operator's own operand and for the other operand
MINE, THEIRS = _EXPECTED if ENABLED else ((-1, -1), (-1, -1))


def _local_count(a) -> int:
    return _getrefcount(a)


def _calibrate_fresh() -> int:
    a = np.empty(2)  # a new array held by one local, as ``fresh``'s callers hold theirs
    return _local_count(a)


_FRESH = _calibrate_fresh() if ENABLED else -1


def fresh(a) -> bool:
    """Is ``a`` an array that only the caller's one local variable references, owning
    its writeable memory (a rule's new result, safe to overwrite)? False when in doubt."""
    return _getrefcount(a) == _FRESH and type(a) is _ndarray and a.base is None \
        and a.flags.writeable


def _right(ufunc):
    """``other ∘ buf`` computed into ``buf`` (buf is the right operand)."""
    return lambda buf, other: ufunc(other, buf, out=buf)


#: per operator primitive: (kernel when the left operand's buffer is overwritten,
#: kernel when the right one's is); + and · commute exactly in IEEE arithmetic.
#: The in-place Python operators keep NumPy's fast paths (``**2`` squares).
INPLACE = {
    "add": (operator.iadd, operator.iadd),
    "mul": (operator.imul, operator.imul),
    "sub": (operator.isub, _right(np.subtract)),
    "div": (operator.itruediv, _right(np.true_divide)),
    "pow": (operator.ipow, _right(np.power)),
}


def fits(buf: np.ndarray, other) -> bool:
    """Does ``buf ∘ other`` have exactly ``buf``'s dtype and shape (so it can go into buf)?"""
    t = type(other)
    if t is float or t is int:
        return buf.dtype.kind in "fc"  # a Python scalar adopts the array's precision
    if t is _ndarray and other.dtype == buf.dtype:
        return other.shape == buf.shape or (
            other.ndim <= buf.ndim and np.broadcast_shapes(other.shape, buf.shape) == buf.shape
        )
    return False
