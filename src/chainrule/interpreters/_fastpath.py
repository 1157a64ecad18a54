"""The reverse interpreter's fast paths, all in one place.

:mod:`chainrule.interpreters.reference` is reverse mode as its meaning: record every
primitive application, sweep the tape once from the end adding each rule's share. The
fast interpreter (:mod:`chainrule.interpreters.reverse`) computes the same numbers
(``tests/test_reference_interpreter.py`` runs the whole op table through both) and
adds the tricks below. Each says what it saves: the best CPU time per call with the trick
switched off against on, one BLAS thread, on the shared 2-core machine (loaded, so ±5%;
2026-12-06), for W2 (Rosenbrock n = 10⁵ gradient), W4 (logistic map), W5 (MLP loss +
gradient), W7 (pendulum), unless it says it was measured when introduced.

Recording (the forward pass):

1. **Float short paths.** ``x * y``, ``1 - x`` on Python floats are recorded by the
   flat operator :func:`binary_operator` (no ``Primitive.__call__`` dispatch, no
   parameter dict, the entry appended inline), one-argument primitives by
   :func:`record_unary`: when introduced, W4 3.8 → 3.4 ms, W1 20 → 19 µs; calling
   ``record`` from the float path instead of writing it out costs W4 ~20%.
2. **Shape stubs.** An argument array that no VJP rule reads (``Primitive.reads``) is
   replaced on the tape by a :class:`~chainrule.interpreters.tape.ShapeStub`, so user
   code that drops it frees it during the forward pass: the working set of a chain of
   n operations is that of the plain function, not n residuals. Time: within noise
   (W2 ±5%); it is a memory bound.
3. **Temporary elision** (:func:`reusable_buffer`): NumPy overwrites a dying temporary
   operand of 256 KiB or more (``100 * (a - b) ** 2`` allocates once); under a tracer
   it cannot see the temporary, so the operator makes that decision itself from
   reference counts and the caller's instruction. W2 354 → 335 µs (5%).
4. **A primed heap** (:func:`chainrule.interpreters.heap.keep_freed_buffers`, in its own
   module because forward mode, Taylor mode and examples prime it too): glibc gives freed
   memory at the top of its heap back to the system, so each call faulted its buffers in
   again: ~620 page faults per W5 call, a third of its time when introduced, now 0
   (``tests/test_heap.py``).
5. **The collector paused** (:func:`pause_gc`) while a tape is recorded and swept: a
   tape is many small objects that live as long as the call, and generational scans of
   them cost more than the derivative of a scalar program: W4 3.34 → 2.80 ms (16%),
   W7 203 → 166 ms (18%), W5 6%.

Sweeping (:func:`propagate_array`, :func:`accumulate`):

6. **Scaled adjoints.** An adjoint array travels with a number (every VJP rule is
   linear in its cotangent, ``Primitive.vjp_scaled``), so ``1 - x``, ``100·t`` and the
   2 of ``x²`` cost no pass over memory; the number is applied where two contributions
   meet or at the inputs: W2 422 → 335 µs (21%), W5 7%.
7. **In-place accumulation.** An adjoint the sweep made itself (``OWNED``, told by
   :func:`fresh`) is added into (``+=``, scatter rules through ``Primitive.vjp_into``)
   or scaled in place instead of reallocated: W2 360 → 335 µs (7%), W4 5%.
8. **Deferred NaN checks** (:func:`sweep_deferring_nan_checks`): the rules' 0·∞ = 0
   guards look for NaNs in large results once, at the inputs' adjoints, not per rule:
   an elementwise-heavy gradient on 10 entries 91 → 82 µs when introduced; the end check
   is skipped when nothing was deferred (W5: the 50 µs check of its 784×256 gradient).

NumPy's warnings are switched off for the sweep through a cached error state
(:mod:`chainrule.interpreters.quiet`, shared with forward mode: a tenth of the 2 µs of
``np.errstate``), and the reverse driver leaves the collector paused across recording and
sweeping (a collection in between scanned the hot tape: W4 +17%).
"""

from __future__ import annotations

import dis
import gc
import operator
import platform
import sys
import threading
from typing import Any, Callable

import numpy as np

from chainrule.core import nan_checks
from chainrule.core.primitive import NO_RULE, Primitive, Tracer
from chainrule.core.stretched import times_number
from chainrule.interpreters.forward import JVPTrace
from chainrule.interpreters.rule_errors import missing_rule
from chainrule.interpreters.tape import ShapeStub, VJPTracer, record

__all__ = [
    "ELISION_ENABLED", "INPLACE", "MIN_ELIDE_BYTES", "binary_operator",
    "indexing_operator", "record_unary", "reusable_buffer",
    "fits", "fresh", "pause_gc", "resume_gc", "paused_gc", "propagate_array",
    "accumulate", "applied", "sweep_deferring_nan_checks", "plain_value",
    "SHARED", "OWNED", "FOREIGN",
]

_ndarray = np.ndarray
_new = object.__new__
_NO_PARAMS: dict = {}


# 1. Float short paths ------------------------------------------------------------------


def record_unary(trace: Any, prim: Primitive, a: VJPTracer, v: Any, params: dict) -> VJPTracer:
    """``prim(a)`` for a tracer ``a`` of ``trace`` holding a plain array or float ``v``
    (what ``ReverseTrace.process`` records, without its general loop)."""
    ans = prim.impl(v, **params)
    reads = prim.reads
    if reads is None:
        return record(trace, ans, prim, [v], ans, params, [(0, a.index)])
    keep_ans, keep = reads.kept_first()
    return record(trace, ans, prim, [v if keep[0] or type(v) is not _ndarray else ShapeStub(v)],
                  ans if keep_ans else None, params, [(0, a.index)])


def _operator_plan(prim: Primitive, reflected: bool) -> tuple:
    """What :func:`binary_operator`'s ``op`` needs to know about ``prim``, worked out once:
    (my argument number, the other's, are they differentiable, the in-place kernels
    (into my buffer, into the other's) or None, what the tape keeps with a constant
    other operand, with a traced one)."""
    rules = prim.vjps
    mine, theirs = (1, 0) if reflected else (0, 1)
    mine_diff, theirs_diff = rules[mine] is not None, rules[theirs] is not None
    reads = prim.reads
    kernels = INPLACE.get(prim.name) if ELISION_ENABLED and reads is not None else None
    if kernels is not None and reflected:
        kernels = kernels[::-1]
    kept_const = reads.kept([(mine, None)]) if reads is not None and mine_diff else None
    pair = [(mine, None)] * mine_diff + [(theirs, None)] * theirs_diff
    kept_pair = reads.kept(pair) if reads is not None and pair else None
    return mine, theirs, mine_diff, theirs_diff, kernels, kept_const, kept_pair


def binary_operator(prim: Primitive, reflected: bool) -> Callable:
    """The operator ``prim`` on tape tracers (``self op other``), recorded directly.

    This is the hottest path of eager reverse mode (``4*l``, ``1-l``, ``a*b``), so it is
    written out flat: a constant or a tracer of the same active tape as ``other`` is
    recorded here; anything else (values of other traces, nested tracers) goes through
    the general ``prim(a, b)``. Large dying operands are overwritten (trick 3).
    """
    impl = prim.impl
    mine, theirs, mine_diff, theirs_diff, kernels, kept_const, kept_pair = \
        _operator_plan(prim, reflected)
    into_mine, into_theirs = kernels if kernels is not None else (None, None)

    def op(self, other):
        trace = self._trace
        v = self._value
        if type(v) is float and mine_diff and trace.active:  # scalar programs: short path
            t = type(other)
            if t is float or t is int:
                w, parents = other, [(mine, self.index)]
            elif t is VJPTracer and other._trace is trace and type(other._value) is float:
                w = other._value
                parents = [(mine, self.index), (theirs, other.index)] if theirs_diff \
                    else [(mine, self.index)]
            else:
                w = None
            if w is not None:  # record(...) written out: a call costs W4 +20%
                vals = (w, v) if reflected else (v, w)
                tape = trace.tape
                out = _new(VJPTracer)
                out._trace = trace
                out._value = ans = impl(*vals)
                out.index = len(tape)
                tape.append((prim, vals, ans, _NO_PARAMS, parents))
                return out
        if type(other) is VJPTracer and other._trace is trace:
            w = other._value
            parents = [(mine, self.index)] if mine_diff else []
            if theirs_diff:
                parents.append((theirs, other.index))
            kept = kept_pair
        elif isinstance(other, Tracer):
            return prim(other, self) if reflected else prim(self, other)
        else:
            w = other
            parents = [(mine, self.index)] if mine_diff else None
            kept = kept_const
        if not trace.active or (type(v) is not float and isinstance(v, Tracer)) or \
                (type(w) is not float and isinstance(w, Tracer)) or \
                JVPTrace.made - trace.forward_made > 1:  # nested jvps: share (nested_forward)
            return prim.bind_general(other, self) if reflected else prim.bind_general(self, other)
        ans = None
        if kernels is not None and parents and trace.shared is None and (
                type(v) is _ndarray and v.nbytes >= _BIG
                or type(w) is _ndarray and w.nbytes >= _BIG):
            # overwrite an operand that dies here and that the tape does not keep
            keep = kept[1]
            if type(v) is _ndarray and not keep[mine] \
                    and reusable_buffer(self, _MINE) is not None and fits(v, w):
                ans = into_mine(v, w)
            elif type(w) is _ndarray and type(other) is VJPTracer and not keep[theirs] \
                    and reusable_buffer(other, _THEIRS) is not None and fits(w, v):
                ans = into_theirs(w, v)
        vals = [w, v] if reflected else [v, w]
        if ans is None:
            ans = impl(*vals)
        if not parents:
            return ans
        keep_ans = True
        if kept is not None and type(ans) is _ndarray:
            keep_ans, keep = kept
            for j in (0, 1):
                if type(vals[j]) is _ndarray and not keep[j]:
                    vals[j] = ShapeStub(vals[j])
        return record(trace, ans, prim, vals, ans if keep_ans else None, _NO_PARAMS, parents)

    return op


def indexing_operator(getitem: Primitive, make_index: Callable, general: Callable) -> Callable:
    """``self[key]`` on tape tracers, recorded directly for an int or slice key of an
    array (``x[i]`` in a Python loop, ``x[1:]``); anything else goes to ``general``.

    The entry is the one ``ReverseTrace.process`` records for ``getitem``: its rule
    reads only the shape, so the array itself is not kept.
    """
    keep_ans = getitem.reads.kept([(0, None)])[0]

    def op(self, key):
        t = type(key)
        v = self._value
        trace = self._trace
        if (t is slice or t is int) and type(v) is _ndarray and trace.active \
                and not trace.nested_forward():
            ans = v[key]
            return record(trace, ans, getitem, [ShapeStub(v)], ans if keep_ans else None,
                          {"index": make_index(key)}, [(0, self.index)])
        return general(self, key)

    return op


# 3. Temporary elision --------------------------------------------------------------------
#
# The result of a binary operator may overwrite an operand's array when
# * the operand is a tracer nothing else references: a temporary of the expression, and
#   the operator was called straight from the interpreter's binary-operator instruction
#   (C code calling ``PyNumber_Add`` may hold borrowed references, so it is excluded, as
#   NumPy excludes it);
# * the array has no other owner (no tape residual, no view of it, no user variable),
#   owns its memory, is writeable and at least 256 KiB;
# * the tape does not keep the operand (its VJP rules do not read it), and the result
#   has the operand's dtype and shape (checked by the caller, :func:`fits`).
# Reference counts are calibrated at import against :func:`_probe_operator`, which holds
# exactly the references ``op`` does, on CPython before 3.14 with the GIL only: 3.14
# borrows stack references, so a temporary and a named value can have equal counts, and
# free-threaded builds defer counts. Elsewhere the check always says no and every result
# is computed into a fresh array.

MIN_ELIDE_BYTES = _BIG = 256 * 1024  # NumPy's NPY_MIN_ELIDE_BYTES
_getrefcount = sys.getrefcount
_getframe = sys._getframe
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
            or v.nbytes < _BIG or v.base is not None or not v.flags.writeable:
        return None
    caller = _getframe(2)
    if caller.f_code.co_code[caller.f_lasti] not in _OPERATOR_OPCODES:
        return None
    return v


class _Box:
    __slots__ = ("_value",)


def _probe_operator(seen: list):
    """An operator shaped like :func:`binary_operator`'s: the same arguments and locals
    holding the same references when it asks for the counts."""

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

    def fresh_box():
        b = _Box()
        b._value = np.empty(0)
        return b

    fresh_box() + fresh_box()  # noqa: B018 — both operands temporaries
    named = fresh_box()
    named + 1.0  # noqa: B018
    temp_left, temp_right = seen[0]
    named_left = seen[1][0]
    del _Box.__add__
    if temp_left[0] >= named_left[0]:
        return None
    return temp_left, temp_right


_EXPECTED = _calibrate()
ELISION_ENABLED = _EXPECTED is not None
#: expected counts for the operator's own operand and for the other operand
_MINE, _THEIRS = _EXPECTED if ELISION_ENABLED else ((-1, -1), (-1, -1))


def _local_count(a) -> int:
    return _getrefcount(a)


def _calibrate_fresh() -> int:
    a = np.empty(2)  # a new array held by one local, as ``fresh``'s callers hold theirs
    return _local_count(a)


_FRESH = _calibrate_fresh() if ELISION_ENABLED else -1


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


# 5. The collector paused -----------------------------------------------------------------

_gc_lock = threading.Lock()
_gc_pauses = 0  # how many pauses (in any thread) are open now
_gc_was_enabled = False  # the collector's state when the first of them opened


def pause_gc() -> None:
    """Open a pause of the generational collector (close it with :func:`resume_gc`).

    Pauses are counted process-wide under a lock: the first one records whether the
    collector was enabled and disables it; the last one to close re-enables it, and
    only if it was enabled before. So overlapping pauses in several threads (or nested
    ones) never leave the collector disabled, nor re-enable it while another thread's
    tape is still hot, nor enable a collector the user had disabled.
    """
    global _gc_pauses, _gc_was_enabled
    with _gc_lock:
        if _gc_pauses == 0:
            _gc_was_enabled = gc.isenabled()
            if _gc_was_enabled:
                gc.disable()
        _gc_pauses += 1


def resume_gc() -> None:
    """Close a pause opened by :func:`pause_gc`."""
    global _gc_pauses
    with _gc_lock:
        _gc_pauses -= 1
        if _gc_pauses == 0 and _gc_was_enabled:
            gc.enable()


class paused_gc:
    """Context manager: no generational collection while a tape is alive and hot
    (:func:`pause_gc` … :func:`resume_gc`)."""

    __slots__ = ()

    def __enter__(self) -> None:
        pause_gc()

    def __exit__(self, *exc) -> None:
        resume_gc()


# 6, 7. Scaled adjoints, accumulated in place ---------------------------------------------
#
# The adjoint of tape entry k is ``cts[k] · scale[k]``. ``state[k]`` says what may be
# done to ``cts[k]``: overwritten (OWNED, an array this sweep made), only read (SHARED),
# or copied before it is returned (FOREIGN: a residual, or a view of one, that a scaled
# rule passed on).

SHARED, OWNED, FOREIGN = 0, 1, 2


def propagate_array(entry: tuple, g: np.ndarray, s: float, g_state: int, cts: list,
                    scale: list, state: bytearray) -> None:
    """The contributions of ``entry``'s adjoint ``g·s`` (``g`` a plain array) to its
    parents' adjoints."""
    prim, args, ans, params, parents = entry
    into = prim.vjp_into
    scaled = prim.vjp_scaled
    alone = len(parents) == 1
    for argnum, p in parents:
        if into is not None and state[p] == OWNED:  # acc[idx] += g·s, in place
            r = s / scale[p]
            into(cts[p], g if r == 1.0 else applied(g, r, alone and g_state == OWNED),
                 *args, **params)
            continue
        rule = scaled[argnum] if scaled is not None else None
        out = rule(g, s, ans, *args, **params) if rule is not None else None
        if out is None:
            rule = prim.vjps[argnum]
            if rule is NO_RULE:
                raise missing_rule(prim, argnum, "VJP (reverse-mode)")
            c, k = rule(g, ans, *args, **params), s
        else:
            c, k = out
            out = None
        if c is g:
            c_state = FOREIGN if g_state == FOREIGN else SHARED
        elif fresh(c) or into is not None and type(c) is _ndarray:  # a scatter's is new
            c_state = OWNED
        else:  # a residual, a view of g or of one: read it, copy it before handing it out
            c_state = FOREIGN if type(c) is _ndarray else SHARED
        if k == 1.0 and cts[p] is None:  # the first contribution, as it is
            cts[p] = c
            state[p] = c_state
        else:
            accumulate(cts, scale, state, p, c, k, c_state)


def accumulate(cts: list, scale: list, state: bytearray, p: int, c: Any, k: float,
               c_state: int) -> None:
    """Add the contribution ``c·k`` to the adjoint of tape entry ``p``."""
    if k != 1.0 and (type(c) is not _ndarray or not 1e-150 < abs(k) < 1e150):
        # a number only travels with arrays, and only while it is far from 0 and ∞
        # (a zero must reach rules that turn 0·∞ into 0 as a zero array)
        c, k, c_state = c * k, 1.0, SHARED
    old = cts[p]
    if old is None:
        cts[p], scale[p], state[p] = c, k, c_state
        return
    ko = scale[p]
    if type(c) is _ndarray and type(old) is _ndarray and old.shape == c.shape \
            and old.dtype == c.dtype:
        _add_arrays(cts, scale, state, p, c, k, c_state)
        return
    new = applied(old, ko, False) + applied(c, k, False)
    cts[p], scale[p] = new, 1.0
    state[p] = OWNED if fresh(new) else SHARED


def _add_arrays(cts, scale, state, p, c, k, c_state) -> None:
    """``cts[p]·scale[p] + c·k`` for two arrays of one shape and dtype: the number nearer
    1 is kept (no drift over long chains), the other array scaled, and an owned buffer
    added into."""
    old, ko = cts[p], scale[p]
    old_owned, c_owned = state[p] == OWNED, c_state == OWNED
    if _spread(ko) <= _spread(k):
        a, a_owned, b, b_owned, ka, r = old, old_owned, c, c_owned, ko, k / ko
    else:
        a, a_owned, b, b_owned, ka, r = c, c_owned, old, old_owned, k, ko / k
    if r != 1.0:
        if b_owned:
            b *= r
        else:
            b, b_owned = b * r, type(b) is _ndarray
    if a_owned:
        a += b
    elif b_owned:
        b += a
        a = b
    else:
        a = a + b
    cts[p], scale[p] = a, ka
    state[p] = OWNED if type(a) is _ndarray else SHARED  # 0-d sums are NumPy scalars


def _spread(k: float) -> float:
    """How far the number ``k`` is from 1, by ratio."""
    k = abs(k)
    return k if k >= 1.0 else 1.0 / k


def applied(c: Any, k: float, may_overwrite: bool) -> Any:
    """``c · k`` (``c`` itself when ``k`` is 1), overwriting ``c`` when allowed."""
    if k == 1.0:
        return c
    if may_overwrite and type(c) is _ndarray:
        c *= k
        return c
    return times_number(c, k)


# 8. Deferred NaN checks --------------------------------------------------------------------

_PLAIN = (float, int, _ndarray, np.generic)


def plain_value(x: Any) -> bool:
    """Is ``x`` a float or a NumPy value (no tracer, no other array library)?

    >>> plain_value(1.0), plain_value(np.ones(2)), plain_value("x")
    (True, True, False)
    """
    return isinstance(x, _PLAIN)


def sweep_deferring_nan_checks(sweep: Callable, tape: list, seeds: dict, n_inputs: int):
    """``sweep(tape, seeds, n_inputs)`` with the rules' checks of large results deferred
    (:mod:`chainrule.core.nan_checks`), or None when that result cannot be kept (an
    input's adjoint holds a NaN, or is not a plain value): then the caller sweeps again
    with every check in place."""
    was = nan_checks.defer()
    try:
        out = sweep(tape, seeds, n_inputs)
        skipped = nan_checks.skipped()
    finally:
        nan_checks.restore(was)
    for c in out:
        if c is not None and not (isinstance(c, _PLAIN)
                                  and not (skipped and nan_checks.has_nan(c))):
            return None
    return out
