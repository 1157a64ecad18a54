"""Batching (``vmap``): run a function written for one example on a whole batch at once.

A :class:`BatchTracer` stands for ``B`` values of the same per-example shape; it
stores them stacked along a leading *batch axis* (axis 0, always: every rule moves
the batch axis to the front, so rules need no bookkeeping of where it is). Its
``shape`` is the per-example shape, so user code and derivative rules that read
shapes see what they would see without ``vmap``.

A *batching rule* ``rule(prim, vals, batched, size, params) -> value`` receives the
stacked values (``batched[i]`` says whether argument i carries the batch axis;
unbatched arguments are shared by every example) and returns the stacked output.
It is written with chainrule primitives, so batching composes with every other
transformation in any order. A primitive without a rule is run once per example
and the results stacked (:func:`loop_fallback`): correct, slower, and announced by
a warning once per primitive.

Batched values are *staged* tracers (``_staged = True``): :func:`concrete` stops at
them, so derivative rules that compute masks from their primal inputs compute them
with primitives, batched, instead of reading a stacked array with the wrong axes.
"""

from __future__ import annotations

import warnings
import weakref
from typing import Any, Callable

import numpy as np

from chainrule.core import shape_ops
from chainrule.core.primitive import Primitive, Trace, Tracer, concrete, shape_of
from chainrule.ir.evaluate import eval_flat
from chainrule.interpreters.staging import stage

__all__ = ["BatchTrace", "BatchTracer", "RULES", "loop_fallback", "batch_rule_of"]


class BatchTracer(Tracer):
    """``B`` stacked values; ``_value`` has shape ``(B, *shape)``."""

    __slots__ = ()
    _staged = True

    def __init__(self, trace: "BatchTrace", value: Any) -> None:
        self._trace = trace
        self._value = value

    @property
    def shape(self) -> tuple:
        return tuple(shape_of(self._value)[1:])

    @property
    def ndim(self) -> int:
        return len(shape_of(self._value)) - 1

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=int))

    def __bool__(self) -> bool:
        v = concrete(self._value) if isinstance(self._value, Tracer) else self._value
        if isinstance(v, Tracer):  # staged one level down: let it raise its own error
            return bool(v)
        flat = np.asarray(v).reshape(self._trace.size, -1)
        truths = {bool(np.all(row)) if row.size == 1 else _ambiguous(self) for row in flat}
        if len(truths) == 1:
            return truths.pop()
        raise ValueError(
            f"under vmap, a Python `if`/`while` (or bool()) depends on a batched value "
            f"(per-example shape {self.shape}) whose truth differs between examples. One "
            "branch cannot be taken for the whole batch: use chainrule.numpy.where for an "
            "elementwise choice, or chainrule.cond, or loop over the examples in Python."
        )

    def __repr__(self) -> str:
        return f"BatchTracer(level={self._trace.level}, batch={self._trace.size}, " \
               f"shape={self.shape})"


def _ambiguous(t: BatchTracer) -> bool:
    raise ValueError(f"the truth value of an array with per-example shape {t.shape} is "
                     "ambiguous (also under vmap); use .any() or .all()")


class BatchTrace(Trace):
    """One ``vmap``: ``size`` is the batch size ``B``."""

    __slots__ = ("size",)

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def process(self, prim: Primitive, args: tuple, params: dict) -> Any:
        vals, batched = [], []
        for a in args:
            ours = isinstance(a, BatchTracer) and a._trace is self
            vals.append(a._value if ours else a)
            batched.append(ours)
        out = RULES.get(prim.batch, loop_fallback)(prim, vals, batched, self.size, params)
        if isinstance(out, (tuple, list)):
            return type(out)(BatchTracer(self, o) for o in out)
        return BatchTracer(self, out)


# ---------------------------------------------------------------------------
# helpers: primitives used by the rules
# ---------------------------------------------------------------------------

def _prims():
    """(reshape, broadcast_to, transpose, getitem, concatenate, the registry with ``Index``
    and ``where``): numpy's primitives, registered in :mod:`chainrule.core.shape_ops`."""
    o = shape_ops.ops()
    return o.reshape, o.broadcast_to, o.transpose, o.getitem, o.concatenate, o


def _per_example_shape(v, is_batched: bool) -> tuple:
    s = tuple(shape_of(v))
    return s[1:] if is_batched else s


def _expand_to_rank(v, rank: int):
    """A batched value ``(B, *s)`` reshaped to ``(B, 1, ..., 1, *s)`` of per-example rank."""
    reshape_p = _prims()[0]
    s = tuple(shape_of(v))
    pad = rank - (len(s) - 1)
    if pad <= 0:
        return v
    return reshape_p(v, shape=(s[0],) + (1,) * pad + s[1:])


def _materialize_batch(v, is_batched: bool, size: int):
    """``v`` with a batch axis of ``size`` (an unbatched value is broadcast)."""
    if is_batched:
        return v
    broadcast_to_p = _prims()[1]
    s = tuple(shape_of(v))
    return broadcast_to_p(v, shape=(size,) + s)


# ---------------------------------------------------------------------------
# rules
# ---------------------------------------------------------------------------

def elementwise_rule(prim, vals, batched, size, params):
    """Elementwise (broadcasting) ops: align per-example ranks, then apply once.

    Batched arguments ``(B, *s_i)`` get unit axes after the batch axis up to the
    output's per-example rank ``r``; unbatched ones broadcast from the right as usual.
    """
    rank = max(len(_per_example_shape(v, b)) for v, b in zip(vals, batched))
    args = [_expand_to_rank(v, rank) if b else v for v, b in zip(vals, batched)]
    return prim(*args, **params)


def _shift_axis(axis, nd: int):
    if axis is None:
        return tuple(range(1, nd + 1))
    if isinstance(axis, (int, np.integer)):
        return int(axis) % max(nd, 1) + 1
    return tuple(int(a) % max(nd, 1) + 1 for a in axis)


def reduction_rule(prim, vals, batched, size, params):
    """``axis`` reductions (sum, prod, max, min, all, any, ...): shift axes past the batch
    axis; ``axis=None`` reduces every per-example axis."""
    x = vals[0]
    nd = len(shape_of(x)) - 1
    p = dict(params)
    p["axis"] = _shift_axis(p.get("axis"), nd)
    return prim(x, *vals[1:], **p)


def argreduction_rule(prim, vals, batched, size, params):
    """argmax/argmin/cumsum-style ops whose ``axis=None`` means the flattened array."""
    reshape_p = _prims()[0]
    x = vals[0]
    p = dict(params)
    if p.get("axis") is None:
        x = reshape_p(x, shape=(size, -1))
        p["axis"] = 1
    else:
        p["axis"] = _shift_axis(p["axis"], len(shape_of(x)) - 1)
    return prim(x, *vals[1:], **p)


def sort_rule(prim, vals, batched, size, params):
    """sort/argsort: ``axis`` defaults to -1 (absent); ``axis=None`` sorts the flattened array."""
    p = dict(params)
    p.setdefault("axis", -1)
    if len(shape_of(vals[0])) == 1 and p["axis"] is not None:
        # 0-d examples: NumPy sorts them as 1-element vectors (argsort of a scalar is [0])
        p["axis"] = 1
        return prim(_prims()[0](vals[0], shape=(size, 1)), **p)
    return argreduction_rule(prim, vals, batched, size, p)


def along_axis_rule(prim, vals, batched, size, params):
    """Gathers/scatters along an axis by an index array (take_along_axis and its adjoint):
    both operands get the batch axis, the axis (and a ``shape`` parameter) shift by one."""
    args = [_materialize_batch(v, b, size) for v, b in zip(vals, batched)]
    p = dict(params)
    p["axis"] = int(p["axis"]) + 1
    if "shape" in p:
        p["shape"] = (size,) + tuple(p["shape"])
    return prim(*args, **p)


def reshape_rule(prim, vals, batched, size, params):
    return prim(vals[0], shape=(size,) + tuple(params["shape"]))


def broadcast_to_rule(prim, vals, batched, size, params):
    shape = tuple(params["shape"])
    return prim(_expand_to_rank(vals[0], len(shape)), shape=(size,) + shape)


def transpose_rule(prim, vals, batched, size, params):
    axes = params.get("axes")
    nd = len(shape_of(vals[0])) - 1
    axes = tuple(reversed(range(nd))) if axes is None else tuple(axes)
    return prim(vals[0], axes=(0,) + tuple(int(a) % nd + 1 for a in axes))


def _batched_key(key: tuple):
    """``(slice(None),) + key`` when that keeps the batch axis first, else None.

    NumPy moves the axes of advanced indices (integer arrays, with the ints among
    them) to the front when they are separated by a slice; a leading slice then
    stays in place only if the advanced indices are adjacent.
    """
    adv = [i for i, k in enumerate(key) if isinstance(k, np.ndarray)]
    if adv:
        ints = [i for i, k in enumerate(key) if isinstance(k, (int, np.integer))]
        pos = sorted(adv + ints)
        if pos[-1] - pos[0] + 1 != len(pos):
            return None
    return (slice(None),) + key


def _concrete_batch(t: BatchTracer) -> np.ndarray:
    v = t._value
    v = concrete(v) if isinstance(v, Tracer) else v
    if isinstance(v, Tracer):
        raise TypeError(f"vmap: an index computed from a batched value ({t!r}) cannot be "
                        "staged (jit/make_ir); index with constants, or use numpy.where")
    return np.asarray(v)


def _batched_index_parts(key: tuple):
    """Index parts computed from batched values (masks, positions): (positions in key,
    their stacked values)."""
    where = [i for i, k in enumerate(key) if isinstance(k, BatchTracer)]
    return where, [_concrete_batch(key[i]) for i in where]


def getitem_rule(prim, vals, batched, size, params):
    """``x[idx]`` per example: a leading full slice keeps the batch axis in front. An index
    computed from batched values (``x[x > 0]``) is shared when it is the same for every
    example, and applied example by example otherwise."""
    ix = _prims()[5]
    where, parts = _batched_index_parts(params["index"].key)
    if where:
        key = list(params["index"].key)
        if all(np.array_equal(p[0], p[k]) for p in parts for k in range(1, len(p))):
            for i, p in zip(where, parts):
                key[i] = p[0]
            return getitem_rule(prim, vals, batched, size, {"index": ix.Index(tuple(key))})
        if not batched[0]:
            vals = [_materialize_batch(vals[0], False, size)]
        outs = []
        for b in range(size):
            for i, p in zip(where, parts):
                key[i] = p[b]
            xb = prim(vals[0], index=ix.Index((b,)))
            outs.append(prim(xb, index=ix.Index(tuple(key))))
        return _stack(outs)
    key = _batched_key(params["index"].key)
    if key is None:
        return loop_fallback(prim, vals, batched, size, params)
    return prim(vals[0], index=ix.Index(key))


def scatter_add_rule(prim, vals, batched, size, params):
    ix = _prims()[5]
    key = _batched_key(params["index"].key)
    if key is None:
        return loop_fallback(prim, vals, batched, size, params)
    shape = (size,) + tuple(params["shape"])
    target = np.empty(shape, dtype=bool)[key].shape
    g = vals[0]
    if tuple(shape_of(g)) != target:
        g = _prims()[1](_expand_to_rank(g, len(target) - 1), shape=target)
    return prim(g, index=ix.Index(key), shape=shape)


def concatenate_rule(prim, vals, batched, size, params):
    args = [_materialize_batch(v, b, size) for v, b in zip(vals, batched)]
    nd = len(shape_of(args[0])) - 1
    return prim(*args, axis=int(params["axis"]) % nd + 1)


def matmul_rule(prim, vals, batched, size, params):
    """``a @ b`` per example: 1-D operands become a row (a) or a column (b), both are
    padded to the same rank with the batch axis (or a unit axis) in front, and the
    axes added for 1-D operands are dropped from the result."""
    reshape_p = _prims()[0]
    (a, b), (ba, bb) = vals, batched
    sa, sb = _per_example_shape(a, ba), _per_example_shape(b, bb)
    if len(sa) == 0 or len(sb) == 0:  # NumPy refuses 0-d operands: so does every example
        return loop_fallback(prim, vals, batched, size, params)
    a2 = sa if len(sa) > 1 else (1,) + sa
    b2 = sb if len(sb) > 1 else sb + (1,)
    rank = max(len(a2), len(b2))
    a2 = (1,) * (rank - len(a2)) + a2
    b2 = (1,) * (rank - len(b2)) + b2
    a = reshape_p(a, shape=((size,) if ba else (1,)) + a2)
    b = reshape_p(b, shape=((size,) if bb else (1,)) + b2)
    out = prim(a, b)
    s = tuple(shape_of(out))
    final = s[:-2] + ((s[-2],) if len(sa) > 1 else ()) + ((s[-1],) if len(sb) > 1 else ())
    return reshape_p(out, shape=final) if final != s else out


def stacked_rule(prim, vals, batched, size, params):
    """Operations already batched over leading axes (``inv``, ``det``, ``cholesky``, ``qr``,
    ``svd``, ``eigh``: they act on the last two axes): the batch axis is one more."""
    return prim(vals[0], *vals[1:], **params)


def stacked_broadcast_rule(prim, vals, batched, size, params):
    """Operations of several arrays that share their leading (batch) axes and act on the
    trailing ones (``solve_triangular``, ``solve_sylvester``): unbatched arguments are
    broadcast to the batch, which is then one more leading axis of every argument."""
    return prim(*[_materialize_batch(v, b, size) for v, b in zip(vals, batched)], **params)


def axis_param_rule(prim, vals, batched, size, params):
    """Ops with an ``axis`` (int) or ``axes`` (tuple or None: all) parameter, such as the FFTs:
    the parameter is shifted past the batch axis."""
    p = dict(params)
    nd = len(shape_of(vals[0])) - 1
    if "axes" in p:
        p["axes"] = _shift_axis(p["axes"], nd)
        p["axes"] = (p["axes"],) if isinstance(p["axes"], int) else p["axes"]
    if "axis" in p:
        p["axis"] = _shift_axis(p["axis"], nd)
    return prim(*vals, **p)


def einsum_rule(prim, vals, batched, size, params):
    """A fresh subscript letter for the batch axis, on batched operands and the output."""
    ins, out = params["ins"], params["out"]
    used = set("".join(ins) + out)
    letter = next(c for c in "zyxwvutsrqponmlkjihgfedcbaZYXWVUTSRQPONMLKJIHGFEDCBA"
                  if c not in used)
    new_ins = tuple(letter + s if b else s for s, b in zip(ins, batched))
    return prim(*vals, ins=new_ins, out=letter + out)


# ---- staged control flow: sub-programs run batched -------------------------------------

def _run_batched(prog, vals: list, batched: list, size: int) -> list:
    """``prog``'s outputs on stacked inputs (batch axis first), all outputs batched."""
    trace = BatchTrace(size)
    try:
        boxed = [BatchTracer(trace, v) if b else v for v, b in zip(vals, batched)]
        outs = eval_flat(prog, boxed)
    finally:
        trace.active = False
    return [o._value if isinstance(o, BatchTracer) and o._trace is trace
            else _materialize_batch(o, False, size) for o in outs]


# Program -> {(batching, size): batched program}, keyed weakly: it dies with the program
_PROGRAMS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _batched_program(prog, batched: tuple, size: int):
    """``prog`` staged again on batched inputs (``batched[i]``: input i gets a leading batch
    axis); every output is batched. Cached per (program, batching, size) while ``prog``
    is alive."""
    table = _PROGRAMS.get(prog)
    if table is None:
        table = _PROGRAMS[prog] = {}
    hit = table.get((batched, size))
    if hit is not None:
        return hit
    examples = tuple(np.zeros(((size,) if b else ()) + tuple(v.aval.shape), v.aval.dtype)
                     for v, b in zip(prog.inputs, batched))
    new = stage(lambda *ins: _run_batched(prog, list(ins), list(batched), size), examples)
    table[(batched, size)] = new
    return new


def _swap01(v):
    nd = len(shape_of(v))
    return _prims()[2](v, axes=(1, 0) + tuple(range(2, nd)))


def scan_rule(prim, vals, batched, size, params):
    """``scan`` with a batched body: the carry is batched for every example, per-step inputs
    ``xs`` (batch, length, ...) are scanned along their second axis, and the stacked
    outputs come back as (batch, length, ...)."""
    nc, nk, lo = params["nc"], params["nk"], params["lo"]
    consts, carry, xs = vals[:nc], vals[nc:nc + nk], vals[nc + nk:]
    bc, bx = batched[:nc], batched[nc + nk:]
    carry = [_materialize_batch(v, b, size) for v, b in zip(carry, batched[nc:nc + nk])]
    xs = [_swap01(v) if b else v for v, b in zip(xs, bx)]
    axes = ((False,) if lo is not None else ()) + tuple(bc) + (True,) * nk + tuple(bx)
    body = _batched_program(params["body"], axes, size)
    outs = prim(*consts, *carry, *xs, **dict(params, body=body))
    return tuple(outs[:nk]) + tuple(_swap01(y) for y in outs[nk:])


def cond_rule(prim, vals, batched, size, params):
    """``cond``: with a batched predicate both branches run on the batch and each example
    selects its own (``where``); otherwise one ``cond`` of the batched branches."""
    pred, xs, bxs = vals[0], vals[1:], batched[1:]
    if batched[0]:
        t = _run_batched(params["true"], list(xs), list(bxs), size)
        f = _run_batched(params["false"], list(xs), list(bxs), size)
        outs = []
        for a, b in zip(t, f):
            rank = max(len(shape_of(a)), len(shape_of(b))) - 1
            p = _expand_to_rank(pred, rank)
            outs.append(_prims()[5].where(p, a, b))
        return tuple(outs)
    xs = [_materialize_batch(v, b, size) for v, b in zip(xs, bxs)]
    axes = (True,) * len(xs)
    return tuple(prim(pred, *xs, true=_batched_program(params["true"], axes, size),
                      false=_batched_program(params["false"], axes, size)))


def loop_fallback(prim, vals, batched, size, params):
    """Run ``prim`` once per example and stack the results (correct for any primitive)."""
    getitem_p, ix = _prims()[3], _prims()[5]
    if prim.name not in _warned:
        _warned.add(prim.name)
        warnings.warn(
            f"vmap: the primitive '{prim.name}' has no batching rule, so it runs once per "
            f"example in a Python loop (correct but slow). Give it one: its batch= field "
            "names a rule of chainrule.interpreters.batching.RULES (batch=\"elementwise\" "
            "for an elementwise operation).",
            RuntimeWarning, stacklevel=4)
    outs = []
    for k in range(size):
        args = [getitem_p(v, index=ix.Index((k,))) if b else v for v, b in zip(vals, batched)]
        outs.append(prim(*args, **params))

    if isinstance(outs[0], (tuple, list)):
        return type(outs[0])(_stack([o[j] for o in outs]) for j in range(len(outs[0])))
    return _stack(outs)


def _stack(items: list):
    """The per-example results stacked along a new batch axis 0."""
    reshape_p, _, _, _, concatenate_p, _ = _prims()
    shapes = {tuple(shape_of(o)) for o in items}
    if len(shapes) > 1:
        raise ValueError(
            f"vmap: the examples give results of different shapes {sorted(shapes)} (e.g. a "
            "boolean mask that selects a different number of elements per example); vmap "
            "needs one shape for the batch. Use numpy.where instead of a mask, or a Python loop")
    return concatenate_p(*[reshape_p(o, shape=(1,) + tuple(shape_of(o))) for o in items],
                         axis=0)


_warned: set = set()

#: the batching rules, by the name a primitive gives in its ``batch`` field
RULES: dict[str, Callable] = {
    "elementwise": elementwise_rule,
    "reduction": reduction_rule,
    "argreduction": argreduction_rule,
    "sort": sort_rule,
    "along_axis": along_axis_rule,
    "stacked": stacked_rule,
    "stacked_broadcast": stacked_broadcast_rule,
    "axis_param": axis_param_rule,
    "scan": scan_rule,
    "cond": cond_rule,
    "einsum": einsum_rule,
    "reshape": reshape_rule,
    "broadcast_to": broadcast_to_rule,
    "transpose": transpose_rule,
    "getitem": getitem_rule,
    "scatter_add": scatter_add_rule,
    "concatenate": concatenate_rule,
    "matmul": matmul_rule,
    "loop": loop_fallback,
}


def batch_rule_of(prim: Primitive) -> Callable | None:
    """The batching rule of a primitive (None: it uses the loop fallback)."""
    rule = RULES.get(prim.batch)
    return None if rule is loop_fallback else rule
