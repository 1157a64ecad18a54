"""Structured control flow: ``cond``, ``fori_loop``, ``scan``, ``while_loop``.

Each construct stages its Python body **once**, on abstract values, into a
:class:`~chainrule.ir.Program` and binds a primitive whose parameters hold that
program:

* ``scan`` (``fori_loop`` is a scan with an index and no ``xs``): the carry
  ``c_{t+1}, y_t = body(c_t, x_t)``. Its JVP is the scan of the body's JVP
  (the tangent carry rides along the primal one). Its VJP stores the carries
  ``c_0 … c_{T-1}`` during the forward loop (a scan that also emits its input
  carry), then runs the body's VJP backwards over them, accumulating the
  cotangents of loop constants in the carry:
  ``c̄_t = (∂c_{t+1}/∂c_t)ᵀ c̄_{t+1} + (∂y_t/∂c_t)ᵀ ȳ_t``.
* ``while_loop``: a ``while`` over the staged condition and body. Under a
  derivative it runs the condition on the concrete values to count the trips
  ``n`` and is then differentiated as a scan of length ``n`` (so reverse mode
  works; the trip count is known after the forward pass). Under ``jit`` of a
  derivative the count is not known while tracing, which raises.
* ``cond``: both branches are staged; the primitive runs the taken one only
  (under ``jit`` the generated code is an ``if``). Its JVP/VJP are ``cond`` of
  the branches' JVP/VJP.

Carries are pytrees: the primitives take and return the flat list of leaves
(multi-output equations; under ``jvp``/``vjp`` each leaf is its own tracer).
With no tracer among the inputs (plain eager calls) the constructs simply run
their Python functions in a loop; values an enclosing transformation traces
and that a body reads from its closure become extra inputs of the body
(closure conversion), so they are differentiated too.
"""

from __future__ import annotations

import weakref
from typing import Any, Callable, Sequence

import numpy as np

from chainrule.core.primitive import Primitive, Tracer, concrete, dtype_of, find_trace, shape_of
from chainrule.core.pytree import tree_flatten, tree_unflatten
from chainrule import revolve
from chainrule.interpreters.forward import JVPTrace, JVPTracer
from chainrule.interpreters.reverse import ReverseTrace, record
from chainrule.interpreters.staging import StagingTracer, abstractify, stage_sub
from chainrule.ir.evaluate import eval_flat
from chainrule.ir.codegen import compile_program
from chainrule.ir.passes import optimize
from chainrule.ir.program import AVal, Program, Var
from chainrule.numpy import _namespace as ns
from chainrule.transforms import jvp, vjp

__all__ = ["cond", "fori_loop", "scan", "while_loop"]



# ---------------------------------------------------------------------------
# helpers: compiled sub-programs, abstract values
# ---------------------------------------------------------------------------

# Keyed weakly by the program: an entry lives exactly as long as its program (which
# holds the constants a body closed over), so nothing here outlives the loops using it.
_COMPILED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # Program -> function
_DERIVED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # Program -> {key: Program}


def compiled(prog: Program) -> Callable:
    """The generated Python function of a sub-program (compiled once, cached while the
    program is alive)."""
    fn = _COMPILED.get(prog)
    if fn is None:
        # sub-programs return flat outputs: a stale out_tree (from staging a function that
        # returned a list, kept by ``replace(outputs=...)``) would cut them short
        flat = prog.replace(out_tree=None)
        fn = _COMPILED[prog] = compile_program(optimize(flat), prog.name).fn
    return fn


def _derived(key: tuple, prog: Program, make: Callable[[], Program]) -> Program:
    """A program derived from ``prog`` (its JVP, its VJP...), built once while ``prog``
    is alive."""
    table = _DERIVED.get(prog)
    if table is None:
        table = _DERIVED[prog] = {}
    hit = table.get(key)
    if hit is None:
        hit = table[key] = make()
    return hit


def _is_float(aval: AVal) -> bool:
    return aval.dtype.kind in "fc"


def _aval(x: Any) -> AVal:
    return abstractify(x)


def _zeros(aval: AVal) -> Any:
    if aval.pyfloat:
        return 0.0
    return np.zeros(aval.shape, aval.dtype)


def _slice_aval(av: AVal) -> AVal:
    """One step's slice of a stacked leaf (a 1-D float64 array slices into Python floats)."""
    return AVal(av.shape[1:], av.dtype, av.ndim == 1 and av.dtype == np.float64)


def _slices(x: Any) -> Any:
    if type(x) is np.ndarray and x.ndim == 1 and x.dtype == np.float64:
        return x.tolist()
    return x


def _stack(ys: list, aval: AVal, length: int) -> np.ndarray:
    if not ys:
        return np.zeros((length,) + aval.shape, aval.dtype)
    return np.asarray(ys, dtype=aval.dtype).reshape((length,) + aval.shape)


class Pack:
    """The cotangent of a multi-output equation: one entry per output (None = zero)."""

    __slots__ = ("items",)

    def __init__(self, items: list) -> None:
        self.items = items

    def __add__(self, other: "Pack") -> "Pack":
        return Pack([b if a is None else a if b is None else a + b
                     for a, b in zip(self.items, other.items, strict=True)])

    __radd__ = __add__

    def __mul__(self, k: float) -> "Pack":  # a cotangent times a number (reverse.backward)
        return Pack([None if a is None else a * k for a in self.items])


def _get_impl(tup: Any, index: int, n: int) -> Any:
    return tup[index]


def _get_vjp(g: Any, ans: Any, tup: Any, index: int, n: int) -> Pack:
    items: list = [None] * n
    items[index] = g
    return Pack(items)


#: projection of one output of a loop/branch on the reverse-mode tape
tuple_get_p = Primitive("tuple_get", _get_impl, jvps=[None], vjps=[_get_vjp],
                        doc="item `index` of a multi-output equation (tape bookkeeping)",
                        batch="loop")


class _ControlPrimitive(Primitive):
    """A primitive with a sub-program: custom JVP and tape handling, multi-output."""

    __slots__ = ()
    multiple_results = True
    scales_cotangents = False  # a body may hold a custom_vjp, not linear in its cotangent

    def __call__(self, *args, **params):
        trace = find_trace(args)
        if trace is None:
            return self.impl(*args, **params)
        if not trace.active:
            raise trace.leaked(next(a for a in args if isinstance(a, Tracer)))
        if isinstance(trace, JVPTrace):
            return self.jvp_call(trace, args, params)
        if isinstance(trace, ReverseTrace):
            return self.vjp_call(trace, args, params)
        return trace.process(self, args, params)

    @staticmethod
    def split(trace: Any, args: tuple, attr: str) -> tuple[list, list, bool]:
        """Primal values, this trace's per-argument payloads (or None), lower-level flag."""
        vals, extra, lower = [], [], False
        for a in args:
            if isinstance(a, Tracer) and a._trace is trace:
                v = a._value
                vals.append(v)
                extra.append(getattr(a, attr))
                lower = lower or isinstance(v, Tracer)
            else:
                vals.append(a)
                extra.append(None)
                lower = lower or isinstance(a, Tracer)
        return vals, extra, lower


def _record(trace: ReverseTrace, prim: Primitive, vals: list, ans: tuple, params: dict,
            parents: list, outs: list) -> list:
    """Put one multi-output equation on the tape, then one ``tuple_get`` entry per float
    output (the tracer of that output); other outputs are returned as they are."""
    idx = record(trace, ans, prim, vals, ans, dict(params, _memo={}), parents).index
    n = len(outs)
    return [record(trace, o, tuple_get_p, [outs], None, {"index": k, "n": n}, [(0, idx)])
            if dtype_of(o).kind in "fc" else o for k, o in enumerate(outs)]


def _cotangents(g: Pack, outs: list) -> list:
    return [_zeros(_aval(o)) if c is None else c for c, o in zip(g.items, outs, strict=True)]


# ---------------------------------------------------------------------------
# scan: the loop primitive (fori_loop is a scan with an index)
# ---------------------------------------------------------------------------

def _scan_impl(*args, body: Program, nc: int, nk: int, lo: int | None, length: int,
               reverse: bool) -> tuple:
    fn = compiled(body)
    consts = list(args[:nc])
    carry = tuple(args[nc:nc + nk])
    xs = [_slices(x) for x in args[nc + nk:]]
    ny = len(body.outputs) - nk
    ys: list = [[] for _ in range(ny)]
    steps = range(length - 1, -1, -1) if reverse else range(length)
    for t in steps:
        ins = [lo + t] if lo is not None else []
        out = fn(*ins, *consts, *carry, *[x[t] for x in xs])
        carry = out[:nk]
        for j in range(ny):
            ys[j].append(out[nk + j])
    if reverse:
        for y in ys:
            y.reverse()
    stacked = tuple(_stack(y, o.aval, length) for y, o in zip(ys, body.outputs[nk:],
                                                               strict=True))
    return tuple(carry) + stacked


def _scan_abstract(*avals, body: Program, nc: int, nk: int, lo: int | None, length: int,
                   reverse: bool) -> list:
    ys = [AVal((length,) + o.aval.shape, o.aval.dtype) for o in body.outputs[nk:]]
    return [o.aval for o in body.outputs[:nk]] + ys


def _scan_jvp(trace: JVPTrace, args: tuple, params: dict) -> tuple:
    body, nc, nk = params["body"], params["nc"], params["nk"]
    lo = params["lo"]
    vals, tans, _ = _ControlPrimitive.split(trace, args, "tangent")
    nx = len(vals) - nc - nk
    avals = [_aval(v) for v in vals]
    cm = tuple(t is not None and _is_float(avals[j]) for j, t in enumerate(tans[:nc]))
    km = tuple(_is_float(avals[nc + j]) for j in range(nk))
    xm = tuple(t is not None and _is_float(avals[nc + nk + j])
               for j, t in enumerate(tans[nc + nk:]))
    ny = len(body.outputs) - nk
    ym = tuple(_is_float(o.aval) for o in body.outputs[nk:])
    jbody = _derived(("jvp", lo is not None, nc, nk, cm, km, xm), body,
                     lambda: _jvp_body(body, lo is not None, nc, nk, nx, cm, km, xm, ym))
    pick = [t for t, m in zip(tans[:nc], cm, strict=True) if m]
    kd = [_zeros(avals[nc + j]) if tans[nc + j] is None else tans[nc + j]
          for j in range(nk) if km[j]]
    xd = [t for t, m in zip(tans[nc + nk:], xm, strict=True) if m]
    new = (vals[:nc] + pick + vals[nc:nc + nk] + kd + vals[nc + nk:] + xd)
    nkd = sum(km)
    outs = scan_p(*new, **dict(params, body=jbody, nc=nc + len(pick), nk=nk + nkd))
    carry, cdot = outs[:nk], list(outs[nk:nk + nkd])
    ys, ydot = outs[nk + nkd:nk + nkd + ny], list(outs[nk + nkd + ny:])
    res = [JVPTracer(trace, c, cdot.pop(0)) if m else c for c, m in zip(carry, km, strict=True)]
    res += [JVPTracer(trace, y, ydot.pop(0)) if m else y for y, m in zip(ys, ym, strict=True)]
    return tuple(res)


def _jvp_body(body, has_i, nc, nk, nx, cm, km, xm, ym) -> Program:
    """The body's JVP: inputs [i] c ċ k k̇ x ẋ, outputs k' k̇' y ẏ (masked blocks)."""
    ins = body.inputs
    off = 1 if has_i else 0
    ncd, nkd, nxd = sum(cm), sum(km), sum(xm)
    c_av = [v.aval for v in ins[off:off + nc]]
    k_av = [v.aval for v in ins[off + nc:off + nc + nk]]
    x_av = [v.aval for v in ins[off + nc + nk:]]
    avals = ([ins[0].aval] if has_i else []) + c_av + [a for a, m in zip(c_av, cm) if m] + \
        k_av + [a for a, m in zip(k_av, km) if m] + x_av + [a for a, m in zip(x_av, xm) if m]

    def f(*flat):
        flat = list(flat)
        i = [flat.pop(0)] if has_i else []
        c, cd = flat[:nc], flat[nc:nc + ncd]
        flat = flat[nc + ncd:]
        k, kd = flat[:nk], flat[nk:nk + nkd]
        flat = flat[nk + nkd:]
        x, xd = flat[:nx], flat[nx:nx + nxd]

        def g(cs, ks, xs_):
            cc, kk, xx = list(c), list(k), list(x)
            for src, dst, m in ((cs, cc, cm), (ks, kk, km), (xs_, xx, xm)):
                it = iter(src)
                for j, on in enumerate(m):
                    if on:
                        dst[j] = next(it)
            return eval_flat(body, i + cc + kk + xx)

        sel = ([a for a, m in zip(c, cm) if m], [a for a, m in zip(k, km) if m],
               [a for a, m in zip(x, xm) if m])
        out, dot = jvp(g, sel, (list(cd), list(kd), list(xd)))
        return (out[:nk] + [d for d, m in zip(dot[:nk], km) if m] + out[nk:]
                + [d for d, m in zip(dot[nk:], ym) if m])

    prog, caps = stage_sub(f, avals, name=f"jvp_of_{body.name}")
    assert not caps, f"a closed body staged a capture: {caps}"
    return prog


def _scan_vjp_call(trace: ReverseTrace, args: tuple, params: dict) -> tuple:
    body, nc, nk = params["body"], params["nc"], params["nk"]
    vals, _, _ = _ControlPrimitive.split(trace, args, "index")
    parents = [(j, a.index) for j, a in enumerate(args)
               if isinstance(a, Tracer) and a._trace is trace and a.dtype.kind in "fc"]
    # forward loop that also emits its input carry at every step (the stored iterates)
    off = 1 if params["lo"] is not None else 0
    fwd = _derived(("fwd", nc, nk), body, lambda: body.replace(
        outputs=body.outputs + body.inputs[off + nc:off + nc + nk],
        name=f"{body.name}_storing"))
    outs = scan_p(*vals, **dict(params, body=fwd))
    n_out = len(body.outputs)
    if not parents:
        return tuple(outs[:n_out])
    return tuple(_record(trace, scan_p, vals, tuple(outs), params, parents,
                         list(outs[:n_out])))


def _scan_vjp_rule(argnum, g, ans, *args, body, nc, nk, lo, length, reverse, _memo):
    if _memo.get("g") is not g:
        n_out = len(body.outputs)
        outs, stored = list(ans[:n_out]), list(ans[n_out:])
        gl = _cotangents(g, outs)
        avals = [_aval(a) for a in args]
        nx = len(args) - nc - nk
        cm = tuple(_is_float(a) for a in avals[:nc])
        km = tuple(_is_float(a) for a in avals[nc:nc + nk])
        xm = tuple(_is_float(a) for a in avals[nc + nk:])
        ym = tuple(_is_float(o.aval) for o in body.outputs[nk:])
        bbody = _derived(("vjp", nc, nk, cm, km, xm), body,
                         lambda: _vjp_body(body, lo is not None, nc, nk, nx, cm, km, xm, ym))
        cbar = [c for c, m in zip(gl[:nk], km, strict=True) if m]
        acc = [_zeros(a) for a, m in zip(avals[:nc], cm, strict=True) if m]
        ybar = [c for c, m in zip(gl[nk:], ym, strict=True) if m]
        new = list(args[:nc]) + cbar + acc + stored + list(args[nc + nk:]) + ybar
        res = list(scan_p(*new, body=bbody, nc=nc, nk=len(cbar) + len(acc), lo=lo,
                          length=length, reverse=not reverse))
        kbar, cacc, xbar = res[:len(cbar)], res[len(cbar):len(cbar) + len(acc)], \
            res[len(cbar) + len(acc):]
        cts = []
        for j in range(len(args)):
            blk = cacc if j < nc else kbar if j < nc + nk else xbar
            mask = cm[j] if j < nc else km[j - nc] if j < nc + nk else xm[j - nc - nk]
            cts.append(blk.pop(0) if mask else _zeros(avals[j]))
        _memo["g"], _memo["cts"] = g, cts
    return _memo["cts"][argnum]


def _vjp_body(body, has_i, nc, nk, nx, cm, km, xm, ym) -> Program:
    """Backward step: inputs [i] c k̄ ā k_t x_t ȳ_t, outputs k̄_prev ā+c̄ x̄ (masked)."""
    ins = body.inputs
    off = 1 if has_i else 0
    c_av = [v.aval for v in ins[off:off + nc]]
    k_av = [v.aval for v in ins[off + nc:off + nc + nk]]
    x_av = [v.aval for v in ins[off + nc + nk:]]
    y_av = [o.aval for o in body.outputs[nk:]]
    kb_av = [a for a, m in zip(k_av, km) if m]
    acc_av = [a for a, m in zip(c_av, cm) if m]
    avals = ([ins[0].aval] if has_i else []) + c_av + kb_av + acc_av + k_av + x_av + \
        [a for a, m in zip(y_av, ym) if m]
    nkb, nacc = len(kb_av), len(acc_av)

    def f(*flat):
        flat = list(flat)
        i = [flat.pop(0)] if has_i else []
        c = flat[:nc]
        flat = flat[nc:]
        kb, acc = flat[:nkb], flat[nkb:nkb + nacc]
        flat = flat[nkb + nacc:]
        k, x, yb = flat[:nk], flat[nk:nk + nx], flat[nk + nx:]

        def g(cs, ks, xs_):
            cc, kk, xx = list(c), list(k), list(x)
            for src, dst, m in ((cs, cc, cm), (ks, kk, km), (xs_, xx, xm)):
                it = iter(src)
                for j, on in enumerate(m):
                    if on:
                        dst[j] = next(it)
            out = eval_flat(body, i + cc + kk + xx)
            return ([o for o, m in zip(out[:nk], km) if m],
                    [o for o, m in zip(out[nk:], ym) if m])

        sel = ([a for a, m in zip(c, cm) if m], [a for a, m in zip(k, km) if m],
               [a for a, m in zip(x, xm) if m])
        _, back = vjp(g, *sel)
        dc, dk, dx = back((list(kb), list(yb)))
        return list(dk) + [a + d for a, d in zip(acc, dc)] + list(dx)

    prog, caps = stage_sub(f, avals, name=f"vjp_of_{body.name}")
    assert not caps, f"a closed body staged a capture: {caps}"
    return prog


class _ScanPrimitive(_ControlPrimitive):
    __slots__ = ()

    def jvp_call(self, trace, args, params):
        return _scan_jvp(trace, args, params)

    def vjp_call(self, trace, args, params):
        return _scan_vjp_call(trace, args, params)


#: ``carry, ys = scan(body, consts, carry, xs)``; params: body, nc, nk, lo, length, reverse
scan_p = _ScanPrimitive("scan", _scan_impl, jvps=[], vjps=None,
                        doc="loop over a staged body: carry and stacked per-step outputs",
                        abstract_eval=_scan_abstract, batch="scan")


class _Rules:
    """``rules[i]``: the scan's VJP rule for argument ``i`` (one backward loop for all)."""

    __slots__ = ("fn",)

    def __init__(self, fn: Callable) -> None:
        self.fn = fn

    def __getitem__(self, i: int) -> Callable:
        fn = self.fn

        def rule(g, ans, *args, **params):
            return fn(i, g, ans, *args, **params)

        return rule


class _NoJVP:
    """JVP rules are not used: the primitive handles forward mode itself."""

    def __getitem__(self, i: int) -> Callable:
        return _no_rule_call


def _no_rule_call(*args: Any, **params: Any) -> Any:
    raise AssertionError("control-flow primitives handle their derivatives in jvp_call and "
                         "vjp_call, not through per-argument rules")


scan_p.vjps = _Rules(_scan_vjp_rule)
scan_p.jvps = _NoJVP()


# ---------------------------------------------------------------------------
# while_loop
# ---------------------------------------------------------------------------

def _while_impl(*args, cond: Program, body: Program, ncc: int, ncb: int) -> tuple:
    cfn, bfn = compiled(cond), compiled(body)
    cc, cb = args[:ncc], args[ncc:ncc + ncb]
    carry = tuple(args[ncc + ncb:])
    while cfn(*cc, *carry)[0]:
        carry = bfn(*cb, *carry)
    return tuple(carry)


def _while_count(args, cond: Program, body: Program, ncc: int, ncb: int) -> int:
    vals = [concrete(a) for a in args]
    if any(isinstance(v, StagingTracer) for v in vals):
        raise TypeError(
            "while_loop under a derivative inside jit/make_ir: the trip count depends on "
            "traced values, so it is not known while tracing. Use fori_loop(lo, hi, ...) "
            "with a known bound (and cond inside the body), or differentiate eagerly "
            "(grad(f) without jit, or grad(jit(f)))."
        )
    cfn, bfn = compiled(cond), compiled(body)
    cc, cb = vals[:ncc], vals[ncc:ncc + ncb]
    carry = tuple(vals[ncc + ncb:])
    n = 0
    while cfn(*cc, *carry)[0]:
        carry = bfn(*cb, *carry)
        n += 1
    return n


class _WhilePrimitive(_ControlPrimitive):
    __slots__ = ()

    def _as_scan(self, args, params):
        n = _while_count(args, **params)
        ncc, ncb = params["ncc"], params["ncb"]
        nk = len(args) - ncc - ncb
        return scan_p(*args[ncc:], body=params["body"], nc=ncb, nk=nk, lo=None, length=n,
                      reverse=False)

    def jvp_call(self, trace, args, params):
        return self._as_scan(args, params)

    def vjp_call(self, trace, args, params):
        return self._as_scan(args, params)


while_p = _WhilePrimitive("while_loop", _while_impl, jvps=_NoJVP(), vjps=_NoJVP(),
                          doc="while over a staged condition and body",
                          abstract_eval=lambda *avals, cond, body, ncc, ncb: [
                              o.aval for o in body.outputs], batch="loop")


# ---------------------------------------------------------------------------
# cond
# ---------------------------------------------------------------------------

def _cond_impl(pred, *xs, true: Program, false: Program) -> tuple:
    return tuple(compiled(true if pred else false)(*xs))


def _of_selected(prog: Program, xs: list, mask: tuple, out_mask: tuple | None = None):
    """``prog`` as a function of the inputs where ``mask`` is set (the others fixed at
    ``xs``), returning the outputs where ``out_mask`` is set (all when None)."""
    def g(sel):
        full, it = list(xs), iter(sel)
        for j, m in enumerate(mask):
            if m:
                full[j] = next(it)
        out = eval_flat(prog, full)
        return out if out_mask is None else [o for o, m in zip(out, out_mask) if m]

    return g


def _branch_jvp(prog: Program, mask: tuple) -> Program:
    avals = [v.aval for v in prog.inputs]
    n = len(avals)
    om = tuple(_is_float(o.aval) for o in prog.outputs)

    def f(*flat):
        xs, dots = list(flat[:n]), list(flat[n:])
        g = _of_selected(prog, xs, mask)
        out, dot = jvp(g, ([x for x, m in zip(xs, mask) if m],), (dots,))
        return out + [d for d, m in zip(dot, om) if m]

    return stage_sub(f, avals + [a for a, m in zip(avals, mask) if m],
                     name=f"jvp_of_{prog.name}")[0]


def _branch_vjp(prog: Program, mask: tuple) -> Program:
    avals = [v.aval for v in prog.inputs]
    n = len(avals)
    om = tuple(_is_float(o.aval) for o in prog.outputs)

    def f(*flat):
        xs, gs = list(flat[:n]), list(flat[n:])
        g = _of_selected(prog, xs, mask, om)
        _, back = vjp(g, [x for x, m in zip(xs, mask) if m])
        return list(back(gs)[0])

    return stage_sub(f, avals + [o.aval for o, m in zip(prog.outputs, om) if m],
                     name=f"vjp_of_{prog.name}")[0]


class _CondPrimitive(_ControlPrimitive):
    __slots__ = ()

    def jvp_call(self, trace, args, params):
        vals, tans, _ = self.split(trace, args, "tangent")
        t, f = params["true"], params["false"]
        mask = tuple(tn is not None and _is_float(_aval(v))
                     for v, tn in zip(vals[1:], tans[1:], strict=True))
        jt = _derived(("jvp", mask), t, lambda: _branch_jvp(t, mask))
        jf = _derived(("jvp", mask), f, lambda: _branch_jvp(f, mask))
        outs = cond_p(*vals, *[tn for tn, m in zip(tans[1:], mask) if m], true=jt, false=jf)
        n = len(t.outputs)
        prim, dots = outs[:n], list(outs[n:])
        return tuple(JVPTracer(trace, p, dots.pop(0)) if _is_float(o.aval) else p
                     for p, o in zip(prim, t.outputs, strict=True))

    def vjp_call(self, trace, args, params):
        vals, _, _ = self.split(trace, args, "index")
        parents = [(j, a.index) for j, a in enumerate(args)
                   if j > 0 and isinstance(a, Tracer) and a._trace is trace
                   and a.dtype.kind in "fc"]
        outs = cond_p(*vals, **params)
        if not parents:
            return tuple(outs)
        return tuple(_record(trace, cond_p, vals, tuple(outs), params, parents, list(outs)))


def _cond_vjp_rule(argnum, g, ans, pred, *xs, true, false, _memo):
    if _memo.get("g") is not g:
        mask = tuple(_is_float(_aval(x)) for x in xs)
        bt = _derived(("vjp", mask), true, lambda: _branch_vjp(true, mask))
        bf = _derived(("vjp", mask), false, lambda: _branch_vjp(false, mask))
        gl = [c for c, o in zip(_cotangents(g, list(ans)), true.outputs, strict=True)
              if _is_float(o.aval)]
        res = list(cond_p(pred, *xs, *gl, true=bt, false=bf))
        _memo["g"] = g
        _memo["cts"] = [None] + [res.pop(0) if m else _zeros(_aval(x))
                                 for x, m in zip(xs, mask, strict=True)]
    return _memo["cts"][argnum]


cond_p = _CondPrimitive("cond", _cond_impl, jvps=_NoJVP(), vjps=_Rules(_cond_vjp_rule),
                        doc="run one of two staged branches",
                        abstract_eval=lambda pred, *avals, true, false: [
                            o.aval for o in true.outputs], batch="cond")


# ---------------------------------------------------------------------------
# public constructs
# ---------------------------------------------------------------------------

def _has_tracer(leaves: list) -> bool:
    return any(isinstance(x, Tracer) for x in leaves)


def _check_carry(who: str, tree: Any, out_tree: Any, in_av: list, out_av: list) -> None:
    if tree != out_tree:
        raise TypeError(f"{who}: the body must return a carry of the same structure as the "
                        f"initial value: got {out_tree}, expected {tree}")
    for j, (a, b) in enumerate(zip(in_av, out_av, strict=True)):
        if a.shape != b.shape or a.dtype != b.dtype:
            raise TypeError(
                f"{who}: carry leaf {j} enters the body as {a.short()} but leaves it as "
                f"{b.short()}; a loop carry must keep its shape and dtype (cast the initial "
                "value, e.g. 0.0 instead of 0)")


def _check_eager_carry(who: str, tree: Any, in_av: list, val: Any) -> None:
    """The check :func:`_check_carry` makes on a staged body, made on one eager step's
    result, so plain calls reject what ``jit`` rejects, with the same message."""
    leaves, out_tree = tree_flatten(val)
    if out_tree != tree:
        _check_carry(who, tree, out_tree, in_av, [])
    _check_carry(who, tree, out_tree, in_av, [_aval(x) for x in leaves])


def _scan_length(xl: list, length: int | None) -> int | None:
    """The number of steps of ``scan``: the common leading length of the ``xs`` leaves
    (each must be an array with a leading axis), which ``length`` must match if given."""
    n = None
    for j, leaf in enumerate(xl):
        value = concrete(leaf)
        if isinstance(value, (str, bytes)):
            raise TypeError(
                f"scan: xs must be arrays (or a pytree of arrays) sliced along their first "
                f"axis, but leaf {j} of xs is a {type(value).__name__} ({value!r:.40}); "
                "convert it to an array first (e.g. np.array([ord(c) for c in s])), or close "
                "over it")
        try:
            shape = tuple(shape_of(leaf))
        except Exception:  # noqa: BLE001 - any object NumPy cannot read as an array
            shape = None
        if not shape:
            raise TypeError(
                f"scan: leaf {j} of xs is {type(value).__name__} "
                f"{'of shape ()' if shape == () else 'which is not an array'}, with no "
                "leading axis to scan over; give arrays of shape (length, ...), or pass "
                "xs=None and length=n")
        if n is not None and shape[0] != n:
            raise ValueError(f"scan: the xs leaves have different leading lengths ({n} and "
                             f"{shape[0]} at leaf {j}); all are sliced together")
        n = shape[0]
    if n is not None and length is not None and int(length) != n:
        raise ValueError(f"scan: length={length} but xs has leading length {n}")
    return length if n is None else n


def cond(pred: Any, true_fn: Callable, false_fn: Callable, *operands: Any) -> Any:
    """``true_fn(*operands)`` if ``pred`` else ``false_fn(*operands)``.

    A known predicate runs one branch (after tracing both on abstract values, so a
    plain call rejects branches of different structures, shapes or dtypes as ``jit``
    does, with the same message; a branch that only runs on concrete values is just
    run). A predicate that ``jit`` traces stages both branches into a ``cond``
    equation; the generated code is an ``if`` and the untaken branch never runs.
    Differentiable in both modes (w.r.t. the operands and values the branches close
    over; the predicate is piecewise constant).

    Args:
        pred: a boolean scalar (possibly traced).
        true_fn: function of the operands returning a pytree.
        false_fn: function of the operands returning a pytree of the same structure,
            shapes and dtypes.
        *operands: the arguments passed to the branch taken.

    Returns:
        The taken branch's result.
    """
    pred_shape = _pred_shape(pred)
    if pred_shape != ():
        raise TypeError(
            f"cond: pred must be a scalar (a bool or a 0-d array), got an array of shape "
            f"{pred_shape}; reduce it first (np.all(pred), np.any(pred)) or, to choose "
            "elementwise, use np.where(pred, x, y)")
    leaves, tree = tree_flatten(operands)
    if not isinstance(concrete(pred), Tracer):
        # stage both branches on abstract values, as jit does, so a plain call rejects
        # what jit rejects; a branch that cannot be staged (Python control flow on the
        # operands' values) is only run
        try:
            staged = _stage_branches(true_fn, false_fn, tree, leaves)
        except Exception:  # noqa: BLE001 - staging is only a check here
            staged = None
        if staged is not None:
            _check_branches(*staged[:2])
        return true_fn(*operands) if bool(concrete(pred)) else false_fn(*operands)
    progs, trees, caps = _stage_branches(true_fn, false_fn, tree, leaves)
    _check_branches(progs, trees)
    # both branches take operands + the true branch's captures + the false branch's
    n = len(leaves)
    pt, pf = progs
    ct, cf = caps
    pt = pt.replace(inputs=pt.inputs + [Var(_aval(x)) for x in cf])
    pf = pf.replace(inputs=pf.inputs[:n] + [Var(_aval(x)) for x in ct] + pf.inputs[n:])
    outs = cond_p(pred, *leaves, *ct, *cf, true=pt, false=pf)
    return tree_unflatten(trees[0], list(outs))


def _pred_shape(pred: Any) -> tuple:
    try:
        return tuple(shape_of(pred))
    except Exception:  # noqa: BLE001 - an object without a shape: bool() decides
        return ()


def _stage_branches(true_fn: Callable, false_fn: Callable, tree: Any, leaves: list
                    ) -> tuple[list, list, list]:
    """Both branches staged on the operands' abstract values: (programs, output
    structures, captured values)."""
    avals = [_aval(x) for x in leaves]
    progs, trees, caps = [], [], []
    for fn in (true_fn, false_fn):
        box = {}

        def flat_fn(*xs, fn=fn, box=box):
            out, box["tree"] = tree_flatten(fn(*tree_unflatten(tree, list(xs))))
            return out

        p, c = stage_sub(flat_fn, avals, name=getattr(fn, "__name__", "branch"))
        progs.append(p)
        trees.append(box["tree"])
        caps.append(c)
    return progs, trees, caps


def _check_branches(progs: list, trees: list) -> None:
    if trees[0] != trees[1]:
        raise TypeError(f"cond: the branches return different structures: {trees[0]} and "
                        f"{trees[1]}; both must return the same structure of arrays")
    for a, b in zip(progs[0].outputs, progs[1].outputs, strict=True):
        if a.aval.shape != b.aval.shape or a.aval.dtype != b.aval.dtype:
            raise TypeError(f"cond: the branches return {a.aval.short()} and "
                            f"{b.aval.short()}; both must give the same shapes and dtypes")


def switch(index: Any, branches: Sequence[Callable], *operands: Any) -> Any:
    """``branches[index](*operands)``, with ``index`` clamped to ``[0, len(branches) - 1]``
    (JAX's ``lax.switch``).

    A known index calls one branch; an index that ``jit`` traces stages the choice as
    nested :func:`cond` equations, so only the taken branch runs.
    """
    if not branches:
        raise ValueError("switch(index, branches, *operands): branches is empty; give at "
                         "least one function")
    i = concrete(index)
    if not isinstance(i, Tracer):
        return branches[min(max(int(i), 0), len(branches) - 1)](*operands)
    if len(branches) == 1:
        return branches[0](*operands)
    rest = lambda *ops: switch(index - 1, branches[1:], *ops)  # noqa: E731
    return cond(index <= 0, branches[0], rest, *operands)


def fori_loop(lower: int, upper: int, body_fun: Callable, init_val: Any, *,
              checkpoints: int | None = None) -> Any:
    """``val = body_fun(i, val)`` for ``i`` in ``range(lower, upper)``; returns ``val``.

    With a traced carry the body is staged once into a ``scan`` equation (under
    ``jit`` a Python ``for`` loop over the body's generated code). Forward mode
    runs the body's JVP in the loop; reverse mode stores the carry of every step
    and runs the body's VJP backwards over them.

    Args:
        lower: first index.
        upper: one past the last index. Known bounds make a ``scan``; traced bounds
            (under ``jit``) a ``while_loop`` (forward mode only under ``jit``, as in JAX).
        body_fun: ``(i, val) -> val`` with the same structure, shapes and dtypes.
        init_val: the initial carry (a pytree, e.g. ``(theta, omega)``).
        checkpoints: reverse mode stores at most this many carries and recomputes the
            others with the binomial schedule (``chainrule.revolve``); None: store all.

    Returns:
        The final carry.
    """
    if checkpoints is not None:
        return revolve.checkpoint_loop(lower, upper, body_fun, init_val,
                                       checkpoints=checkpoints)
    try:
        lo, hi = int(lower), int(upper)
    except Exception:  # traced bounds: a while_loop over (i, val), as JAX does
        def body(state):
            i, val = state
            return i + 1, body_fun(i, val)

        return while_loop(lambda state: state[0] < upper, body, (lower, init_val))[1]
    leaves, tree = tree_flatten(init_val)
    if not _has_tracer(leaves):
        val, avals = init_val, [_aval(x) for x in leaves]
        for i in range(lo, hi):
            val = body_fun(i, val)
            _check_eager_carry("fori_loop", tree, avals, val)
        return val
    avals = [_aval(x) for x in leaves]
    box = {}

    def flat_body(i, *carry):
        out, box["tree"] = tree_flatten(body_fun(i, tree_unflatten(tree, list(carry))))
        return out

    prog, caps = stage_sub(flat_body, [AVal((), np.int64, True)] + avals,
                           ["i"] + [None] * len(avals),
                           name=getattr(body_fun, "__name__", "body"))
    _check_carry("fori_loop", tree, box["tree"], avals, [o.aval for o in prog.outputs])
    # closure captures are loop constants: move them in front of the carry
    n = len(leaves)
    prog = prog.replace(inputs=[prog.inputs[0]] + prog.inputs[1 + n:] + prog.inputs[1:1 + n])
    outs = scan_p(*caps, *leaves, body=prog, nc=len(caps), nk=n, lo=lo,
                  length=max(hi - lo, 0), reverse=False)
    return tree_unflatten(tree, list(outs))


def scan(f: Callable, init: Any, xs: Any = None, length: int | None = None,
         reverse: bool = False, unroll: int = 1, *,
         checkpoints: int | None = None) -> tuple[Any, Any]:
    """``carry, y = f(carry, x)`` for each ``x`` along the leading axis of ``xs``.

    Args:
        f: ``(carry, x) -> (carry, y)``; the carry keeps its structure and shapes.
        init: the initial carry (a pytree).
        xs: a pytree of arrays sliced along their first axis (or None with ``length``).
        length: the number of steps when ``xs`` is None.
        reverse: run from the last slice to the first (``ys`` stay in ``xs``'s order).
        unroll: accepted for JAX compatibility; it does not change the result.
        checkpoints: reverse mode stores at most this many carries and recomputes the
            others with the binomial schedule (``chainrule.revolve``); None: store all.

    Returns:
        ``(final carry, ys stacked along a new leading axis)``.
    """
    if checkpoints is not None and not reverse:
        return revolve.checkpoint_scan(f, init, xs, length, checkpoints=checkpoints)
    xl, xtree = tree_flatten(xs)
    n = _scan_length(xl, length)
    if n is None:
        raise TypeError("scan: give xs (arrays to slice) or length")
    kl, ktree = tree_flatten(init)
    if not _has_tracer(kl + xl):
        carry, ys, k_av = init, [], [_aval(x) for x in kl]
        for i in (range(n - 1, -1, -1) if reverse else range(n)):
            x = tree_unflatten(xtree, [ns.getitem(leaf, i) for leaf in xl])
            carry, y = f(carry, x)
            _check_eager_carry("scan", ktree, k_av, carry)
            ys.append(y)
        if reverse:
            ys.reverse()
        if not ys:
            return carry, None
        y_leaves = [tree_flatten(y) for y in ys]
        stacked = [ns.stack([yl[0][k] for yl in y_leaves]) for k in range(len(y_leaves[0][0]))]
        return carry, tree_unflatten(y_leaves[0][1], stacked)
    k_av = [_aval(x) for x in kl]
    x_av = [_slice_aval(_aval(x)) for x in xl]
    nk, nx = len(kl), len(xl)
    box = {}

    def flat_body(*flat):
        carry = tree_unflatten(ktree, list(flat[:nk]))
        x = tree_unflatten(xtree, list(flat[nk:]))
        c, y = f(carry, x)
        cl, box["ctree"] = tree_flatten(c)
        yl, box["ytree"] = tree_flatten(y)
        box["ny"] = len(yl)
        return cl + yl

    prog, caps = stage_sub(flat_body, k_av + x_av, name=getattr(f, "__name__", "body"))
    _check_carry("scan", ktree, box["ctree"], k_av, [o.aval for o in prog.outputs[:nk]])
    prog = prog.replace(inputs=prog.inputs[nk + nx:] + prog.inputs[:nk + nx])
    outs = scan_p(*caps, *kl, *xl, body=prog, nc=len(caps), nk=nk, lo=None, length=n,
                  reverse=bool(reverse))
    return tree_unflatten(ktree, list(outs[:nk])), tree_unflatten(box["ytree"], list(outs[nk:]))


def while_loop(cond_fun: Callable, body_fun: Callable, init_val: Any) -> Any:
    """``while cond_fun(val): val = body_fun(val)``; returns ``val``.

    With a traced carry, the condition and body are staged once into a
    ``while_loop`` equation (under ``jit``: a Python ``while``). Differentiable in
    forward and reverse mode: the trip count is found on the values first, then
    the loop is differentiated as a ``scan`` of that length (reverse mode stores
    the iterates). Under ``jit`` of a derivative the trip count is unknown while
    tracing: that raises (use ``fori_loop`` with a bound).

    Args:
        cond_fun: ``val -> bool`` scalar.
        body_fun: ``val -> val`` (same structure, shapes and dtypes).
        init_val: the initial carry (a pytree).

    Returns:
        The carry once ``cond_fun`` is false.
    """
    leaves, tree = tree_flatten(init_val)
    if not _has_tracer(leaves):
        val, avals = init_val, [_aval(x) for x in leaves]
        while True:
            p = cond_fun(val)
            if isinstance(concrete(p), Tracer):
                leaves = tree_flatten(val)[0]
                break
            if not bool(concrete(p)):
                return val
            val = body_fun(val)
            _check_eager_carry("while_loop", tree, avals, val)
        init_val = val  # a captured staged value made the predicate unknown: stage the rest
    avals = [_aval(x) for x in leaves]
    box = {}

    def flat_cond(*carry):
        return [cond_fun(tree_unflatten(tree, list(carry)))]

    def flat_body(*carry):
        out, box["tree"] = tree_flatten(body_fun(tree_unflatten(tree, list(carry))))
        return out

    n = len(leaves)
    cprog, ccaps = stage_sub(flat_cond, avals, name=getattr(cond_fun, "__name__", "cond"))
    bprog, bcaps = stage_sub(flat_body, avals, name=getattr(body_fun, "__name__", "body"))
    _check_carry("while_loop", tree, box["tree"], avals, [o.aval for o in bprog.outputs])
    cprog = cprog.replace(inputs=cprog.inputs[n:] + cprog.inputs[:n])
    bprog = bprog.replace(inputs=bprog.inputs[n:] + bprog.inputs[:n])
    outs = while_p(*ccaps, *bcaps, *leaves, cond=cprog, body=bprog, ncc=len(ccaps),
                   ncb=len(bcaps))
    return tree_unflatten(tree, list(outs))
