"""Reverse mode: the tape and the adjoint sweep (VJP).

During the forward pass every primitive applied to a :class:`VJPTracer` of this
trace appends one entry ``(prim, args, ans, params, parents)`` to
``trace.tape``: the primitive, the residuals its VJP rules read (``reads``,
declared with the primitive; arrays no rule reads are replaced by a shape-only
stub so they can be freed as soon as user code drops them), and the tape
positions of the arguments it depends on. Creation order is a topological
order, so the backward sweep walks the tape once, from the end, and for every
node ``v_j`` with a non-zero adjoint adds ``v̄_i += v̄_j · ∂v_j/∂v_i`` to each
parent ``v_i`` (sum over outgoing edges, the lecture's reverse invariant). Each
adjoint is dropped as soon as it has been propagated. Cost: O(#edges + #nodes),
no recursion, whatever the depth or sharing of the graph.

The collector is paused while a tape is recorded or swept: a tape is many small
objects that live exactly as long as the transformation, and generational scans
of them cost more than the derivative itself (see benchmarks/).
"""

from __future__ import annotations

import gc
import threading
from typing import Any

import numpy as np

from chainrule.core.stretched import times_number
from chainrule.core.primitive import (
    COMMUTATIVE,
    NO_RULE,
    Primitive,
    Trace,
    Tracer,
    params_key,
)
from chainrule.core import nan_checks
from chainrule.core.rule_origin import state as _rules
from chainrule.interpreters import elision, heap, quiet
from chainrule.interpreters.forward import missing_rule

__all__ = [
    "ReverseTrace", "VJPTracer", "ShapeStub", "backward", "sweep", "plain_value",
    "binary_operator",
    "indexing_operator", "pause_gc", "paused_gc", "resume_gc",
]

_new = object.__new__
_ndarray = np.ndarray


class VJPTracer(Tracer):
    """A value recorded on a tape: ``index`` is its position there."""

    __slots__ = ("index",)


class ShapeStub:
    """Stands in for a residual array that no VJP rule reads: only its shape and dtype."""

    __slots__ = ("shape", "dtype")

    def __init__(self, a: np.ndarray) -> None:
        self.shape = a.shape
        self.dtype = a.dtype

    @property
    def ndim(self) -> int:
        return len(self.shape)


def _appended(trace: "ReverseTrace", ans, entry: tuple) -> VJPTracer:
    """The tracer of ``ans``, whose tape entry ``entry`` is appended to ``trace``'s tape."""
    tape = trace.tape
    out = _new(VJPTracer)
    out._trace = trace
    out._value = ans
    out.index = len(tape)
    tape.append(entry)
    return out


class ReverseTrace(Trace):
    """``tape``: the recorded entries. ``shared``: when the values are variables of a
    program being staged (``jit(grad(f))``), the entry of each distinct (primitive,
    arguments, parameters), recorded once (see :meth:`_sharing_key`), and ``alive``
    the constants keyed by identity there; None until then."""

    __slots__ = ("tape", "shared", "alive")

    def __init__(self) -> None:
        super().__init__()
        if not heap.primed:  # freed sweep buffers stay in the heap for the next call
            heap.keep_freed_buffers()
        self.tape: list = []
        self.shared: dict | None = None
        self.alive: list | None = None

    def new_input(self, value: Any) -> VJPTracer:
        box = _new(VJPTracer)
        box._trace = self
        box._value = value
        box.index = len(self.tape)
        self.tape.append(None)
        return box

    def process(self, prim: Primitive, args: tuple, params: dict) -> Any:
        if len(args) == 1:  # one argument (exp, sum, reshape...): the short path
            a = args[0]
            if type(a) is VJPTracer and a._trace is self and prim.vjps[0] is not None:
                v = a._value
                if type(v) is _ndarray or type(v) is float:
                    return self._record_unary(prim, a, v, params)
        vals = list(args)
        parents = []
        lower = False
        rules = prim.vjps
        i = 0
        for a in args:
            if isinstance(a, Tracer):
                if a._trace is self:
                    v = vals[i] = a._value
                    if rules[i] is not None:
                        parents.append((i, a.index))
                    if isinstance(v, Tracer):
                        lower = True
                else:
                    lower = True
            i += 1
        key = None
        if lower and parents and any(getattr(v, "_program_var", False) for v in vals):
            key = self._sharing_key(prim, args, vals, params)
            out = self.shared.get(key)
            if out is not None:
                return out
        ans = prim(*vals, **params) if lower else prim.impl(*vals, **params)
        if not parents:
            return ans
        reads = prim.reads
        if reads is None:
            entry = (prim, vals, ans, params, parents)
        else:
            keep_ans, keep = reads.kept(parents)
            for j, v in enumerate(vals):
                if type(v) is _ndarray and not keep[j]:
                    vals[j] = ShapeStub(v)
            entry = (prim, vals, ans if keep_ans else None, params, parents)
        out = _appended(self, ans, entry)
        if key is not None:
            self.shared[key] = out
        return out

    def _record_unary(self, prim: Primitive, a: VJPTracer, v, params: dict) -> VJPTracer:
        """``prim(a)`` for a tracer ``a`` of this tape holding a plain value ``v``."""
        ans = prim.impl(v, **params)
        reads = prim.reads
        if reads is None:
            entry = (prim, [v], ans, params, [(0, a.index)])
        else:
            keep_ans, keep = reads.kept_first()
            entry = (prim, [v if keep[0] or type(v) is not _ndarray else ShapeStub(v)],
                     ans if keep_ans else None, params, [(0, a.index)])
        return _appended(self, ans, entry)

    def _sharing_key(self, prim, args, vals, params) -> tuple:
        """What makes ``prim(*args)`` the same value as an earlier entry while staging.

        While staging, the same primal value is often traced twice (``jvp`` in ``t``
        and a nested ``jvp`` in ``x`` of one network both evaluate the network), and
        the program's CSE merges the two forward copies, but not their adjoints: each
        copy would get its own adjoint block (matrix products included). Primitives
        are pure, so one entry per distinct (primitive, arguments, parameters) is the
        same program with the adjoints summed before they are propagated.
        """
        if self.shared is None:
            self.shared, self.alive = {}, []
        arg_keys = []
        for a, v in zip(args, vals):
            if isinstance(a, Tracer) and a._trace is self:
                arg_keys.append(a.index)
            elif type(v) is float:
                arg_keys.append(v.hex())  # exact, and tells -0.0 from 0.0
            else:
                self.alive.append(v)  # keyed by identity: keep the identity unique
                arg_keys.append(("id", id(v)))
        if prim.name in COMMUTATIVE:  # a·b and b·a are one value
            arg_keys.sort(key=hash)
        return (prim, params_key(params, self.alive), *arg_keys)


def binary_operator(prim: Primitive, reflected: bool):
    """The operator ``prim`` on tape tracers (``self op other``), recorded directly.

    This is the hottest path of eager reverse mode (``4*l``, ``1-l``, ``a*b``),
    so it is written out flat: a constant or a tracer of the same active tape as
    ``other`` is recorded here; anything else (values of other traces, nested
    tracers) goes through the general ``prim(a, b)``.
    """
    impl = prim.impl
    rules = prim.vjps
    mine, theirs = (1, 0) if reflected else (0, 1)
    mine_diff = rules[mine] is not None
    theirs_diff = rules[theirs] is not None
    reads = prim.reads
    kernels = elision.INPLACE.get(prim.name) if elision.ENABLED and reads is not None else None
    if kernels is not None:  # which kernel overwrites my buffer, which the other's
        into_mine, into_theirs = kernels[::-1] if reflected else kernels
    reusable, fits, MINE, THEIRS, big = (
        elision.reusable_buffer, elision.fits, elision.MINE, elision.THEIRS, elision.MIN_BYTES)
    # what the tape keeps, for the two parent lists op can record (a constant other
    # operand, a tracer one)
    kept_const = reads.kept([(mine, None)]) if reads is not None and mine_diff else None
    pair = [(mine, None)] * mine_diff + [(theirs, None)] * theirs_diff
    kept_pair = reads.kept(pair) if reads is not None and pair else None

    def op(self, other):
        trace = self._trace
        v = self._value
        if type(v) is float and mine_diff and trace.active:  # scalar programs: short path
            t = type(other)
            if t is float or t is int:
                w = other
                parents = [(mine, self.index)]
            elif t is VJPTracer and other._trace is trace and type(other._value) is float:
                w = other._value
                parents = [(mine, self.index), (theirs, other.index)] if theirs_diff \
                    else [(mine, self.index)]
            else:
                w = None
            if w is not None:
                vals = (w, v) if reflected else (v, w)
                tape = trace.tape
                out = _new(VJPTracer)
                out._trace = trace
                out._value = impl(*vals)
                out.index = len(tape)
                tape.append((prim, vals, out._value, _NO_PARAMS, parents))
                return out
        if type(other) is VJPTracer and other._trace is trace:
            w = other._value
            parents = []
            if mine_diff:
                parents.append((mine, self.index))
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
                (type(w) is not float and isinstance(w, Tracer)):
            return prim.bind_general(other, self) if reflected else prim.bind_general(self, other)
        ans = None
        if kernels is not None and parents and (type(v) is _ndarray and v.nbytes >= big
                                                or type(w) is _ndarray and w.nbytes >= big):
            # overwrite an operand that dies here and that the tape does not keep
            keep = kept[1]
            if type(v) is _ndarray and not keep[mine] \
                    and reusable(self, MINE) is not None and fits(v, w):
                ans = into_mine(v, w)
            elif type(w) is _ndarray and type(other) is VJPTracer and not keep[theirs] \
                    and reusable(other, THEIRS) is not None and fits(w, v):
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
        tape = trace.tape
        out = _new(VJPTracer)
        out._trace = trace
        out._value = ans
        out.index = len(tape)
        tape.append((prim, vals, ans if keep_ans else None, _NO_PARAMS, parents))
        return out

    return op


_NO_PARAMS: dict = {}


def indexing_operator(getitem, make_index, general):
    """``self[key]`` on tape tracers, recorded directly for an int or slice key of an
    array (``x[i]`` in a Python loop, ``x[1:]``); anything else goes to ``general``.

    The entry is the one :meth:`ReverseTrace.process` records for ``getitem``: its rule
    reads only the shape, so the array itself is not kept.
    """
    parents_of = [(0, None)]
    keep_ans = getitem.reads.kept(parents_of)[0]

    def op(self, key):
        t = type(key)
        v = self._value
        trace = self._trace
        if (t is slice or t is int) and type(v) is _ndarray and trace.active:
            ans = v[key]
            return _appended(trace, ans, (getitem, [ShapeStub(v)], ans if keep_ans else None,
                                          {"index": make_index(key)}, [(0, self.index)]))
        return general(self, key)

    return op


def backward(tape: list, seeds: dict[int, Any], n_inputs: int, plain: bool = False) -> list:
    """Sweep ``tape`` backwards from the adjoints in ``seeds`` (tape index -> ct): see
    :func:`sweep`. ``plain``: the caller found the outputs' values to be plain NumPy
    values or floats (no tracer of an outer transformation); such a sweep runs first with
    the rules' NaN checks deferred, and again with them when an input's adjoint holds a
    NaN or a tracer (:mod:`chainrule.core.nan_checks`)."""
    if plain and all(isinstance(ct, _PLAIN) for ct in seeds.values()):
        was = nan_checks.defer()
        try:
            out = sweep(tape, seeds, n_inputs)
        finally:
            nan_checks.restore(was)
        if all(c is None or isinstance(c, _PLAIN) and not nan_checks.has_nan(c) for c in out):
            return out
    return sweep(tape, seeds, n_inputs)


_PLAIN = (float, int, _ndarray, np.generic)


def plain_value(x) -> bool:
    """Is ``x`` a float or a NumPy value (no tracer, no other array library)?"""
    return isinstance(x, _PLAIN)


def sweep(tape: list, seeds: dict[int, Any], n_inputs: int) -> list:
    """Sweep ``tape`` backwards from the adjoints in ``seeds`` (tape index -> ct).

    Returns the adjoints of the first ``n_inputs`` tape entries (the inputs), with
    ``None`` for a symbolically zero adjoint.

    An adjoint array travels with a number: the adjoint of entry ``k`` is
    ``cts[k] · scale[k]``. VJP rules are linear in the cotangent, so a rule applied
    to ``cts[k]`` gives its contribution up to that number, and negations and
    scalings (``1 - x``, ``100·t``, the ``2`` of ``x²``) cost no pass over memory
    (``Primitive.vjp_scaled``). The number is applied once: when two contributions
    with different numbers meet, before a rule that is not linear, and at the inputs.
    ``state[k]`` says what may be done to ``cts[k]``: overwritten (``_OWNED``, an
    array this sweep made), only read (``_SHARED``), or copied before it is returned
    (``_FOREIGN``: a residual, or a view of one, that a scaled rule passed on).

    A Python-float adjoint that is exactly 0 is not propagated (its contributions are
    exactly 0, even through an infinite partial); rules guard their own NumPy values
    (``zero_safe``), with NumPy's floating-point warnings off from the first NumPy
    adjoint on (:mod:`chainrule.interpreters.quiet`).
    """
    n = len(tape)
    cts: list = [None] * n
    scale = [1.0] * n
    state = bytearray(n)
    for k, ct in seeds.items():
        cts[k] = ct
    labelled, outer = _rules.watching, _rules.current  # staging: label the rules' equations
    token = _LOUD  # NumPy's floating-point warnings: off once the sweep meets NumPy values
    try:
        for k in range(n - 1, n_inputs - 1, -1):
            g = cts[k]
            if g is None:
                continue
            cts[k] = None
            prim, args, ans, params, parents = tape[k]
            if labelled:
                _rules.current = ("adjoint", prim, args)
            if type(g) is _ndarray:
                if token is _LOUD:
                    token = quiet.enter()
                s = scale[k]
                if s != 1.0 and not prim.scales_cotangents:
                    g, s = _applied(g, s, state[k] == _OWNED and len(parents) == 1), 1.0
                _propagate_array(prim, args, ans, params, parents, g, s, state[k],
                                 cts, scale, state)
                continue
            if scale[k] != 1.0:  # 0-d arithmetic gives NumPy scalars: one can carry a number
                g = g * scale[k]
            if type(g) is float:
                if g == 0.0:
                    continue  # a plain zero contributes exactly 0 (also times ∞ or NaN)
            elif token is _LOUD:
                token = quiet.enter()
            rules = prim.vjps
            for argnum, p in parents:
                rule = rules[argnum]
                if rule is NO_RULE:
                    raise missing_rule(prim, argnum, "VJP (reverse-mode)")
                c = rule(g, ans, *args, **params) if params else rule(g, ans, *args)
                old = cts[p]
                if old is None:
                    cts[p] = c
                elif type(old) is float and type(c) is float:
                    cts[p] = old + c
                else:
                    _accumulate(cts, scale, state, p, c, 1.0, _SHARED)
    finally:
        if token is not _LOUD:
            quiet.leave(token)
        if labelled:
            _rules.current = outer
    out = cts[:n_inputs]
    for i, c in enumerate(out):
        if scale[i] != 1.0:
            out[i] = _applied(c, scale[i], state[i] == _OWNED)
        elif state[i] == _FOREIGN and type(c) is _ndarray and c.flags.writeable:
            out[i] = c.copy()  # never hand out a residual (x itself, for ½Σx²)
    return out


_SHARED, _OWNED, _FOREIGN = 0, 1, 2


_LOUD = object()  # backward(): warnings not turned off (yet)
_fresh = elision.fresh


def _propagate_array(prim, args, ans, params, parents, g, s, g_state, cts, scale, state):
    """The contributions of entry ``(prim, args, ans, params, parents)``'s adjoint ``g·s``
    (``g`` a plain array) to its parents' adjoints."""
    into = prim.vjp_into
    scaled = prim.vjp_scaled
    alone = len(parents) == 1
    for argnum, p in parents:
        if into is not None and state[p] == _OWNED:  # acc[idx] += g·s, in place
            r = s / scale[p]
            into(cts[p], g if r == 1.0 else _applied(g, r, alone and g_state == _OWNED),
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
            c_state = _FOREIGN if g_state == _FOREIGN else _SHARED
        elif _fresh(c) or into is not None and type(c) is _ndarray:  # a scatter's is new
            c_state = _OWNED
        else:  # a residual, a view of g or of one: read it, copy it before handing it out
            c_state = _FOREIGN if type(c) is _ndarray else _SHARED
        if k == 1.0 and cts[p] is None:  # the first contribution, as it is
            cts[p] = c
            state[p] = c_state
        else:
            _accumulate(cts, scale, state, p, c, k, c_state)


def _accumulate(cts, scale, state, p, c, k, c_state) -> None:
    """Add the contribution ``c·k`` to the adjoint of tape entry ``p``."""
    if k != 1.0 and (type(c) is not _ndarray or not 1e-150 < abs(k) < 1e150):
        # a number only travels with arrays, and only while it is far from 0 and ∞
        # (a zero must reach rules that turn 0·∞ into 0 as a zero array)
        c, k, c_state = c * k, 1.0, _SHARED
    old = cts[p]
    if old is None:
        cts[p], scale[p], state[p] = c, k, c_state
        return
    ko = scale[p]
    if type(c) is _ndarray and type(old) is _ndarray and old.shape == c.shape \
            and old.dtype == c.dtype:
        # keep the number nearer 1 (no drift over long chains), scale the other array
        old_owned, c_owned = state[p] == _OWNED, c_state == _OWNED
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
        state[p] = _OWNED if type(a) is _ndarray else _SHARED  # 0-d sums are NumPy scalars
        return
    new = _applied(old, ko, False) + _applied(c, k, False)
    cts[p], scale[p] = new, 1.0
    state[p] = _OWNED if _fresh(new) else _SHARED


def _spread(k: float) -> float:
    """How far the number ``k`` is from 1, by ratio."""
    k = abs(k)
    return k if k >= 1.0 else 1.0 / k


def _applied(c, k, may_overwrite: bool):
    """``c · k`` (``c`` itself when ``k`` is 1), overwriting ``c`` when allowed."""
    if k == 1.0:
        return c
    if may_overwrite and type(c) is _ndarray:
        c *= k
        return c
    return times_number(c, k)


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
