"""Buffer reuse for generated array code: which results may overwrite a dying argument.

``v11 = v3 * v10`` where ``v10`` is read for the last time can be computed as
``np.multiply(v3, v10, out=v10)``: no allocation, and the working set of the program
stays the size of its live values, so it stays in cache (what NumPy's temporary
elision does for expressions, and XLA's buffer assignment for its programs).

A result ``r = f(..., a, ...)`` of an elementwise ufunc primitive may overwrite ``a`` when

* ``a`` is an array produced in this program by a primitive that returns fresh
  memory (elementwise ufuncs, products, reductions), never one of the program's
  inputs (the caller's arrays) or outputs, and never a possible view of another value;
* no equation anywhere takes ``a`` into a primitive that may return a view of it
  (reshape, transpose, indexing...), so no other name can see its buffer (a compiled
  loop, a primitive with ``fresh_results = True``, keeps no view, and its array results
  are fresh);
* this equation is ``a``'s last use, and ``r`` has ``a``'s shape and dtype.

Only the top level of a program is planned; loop bodies and branches keep fresh results.

A sum of scattered adjoints ``x̄ = scatter(a, I) + scatter(b, J)`` (the adjoint of ``x``
read through two slices, ``x[1:]`` and ``x[:-1]``) is rewritten by :func:`scatter_onto` as
``x̄ = scatter(a, I); x̄[J] += b``: one zero-filled array, one pass over ``b``'s slice, and
no third array for the sum (:data:`SCATTER_ONTO`, planned like an in-place ufunc on its
first argument).
"""

from __future__ import annotations

from chainrule.ir.program import Eqn, Program, Var

__all__ = ["SCATTER_ONTO", "plan", "scatter_onto"]


def add_scattered(acc, g, index):
    """``acc + scatter_add(g, index, acc.shape)`` as a new array (``index``: a basic
    index, every position once)."""
    out = acc.copy()
    out[index.key] += g
    return out


def add_scattered_into(acc, g, index):
    """:func:`add_scattered` written into ``acc`` itself (an array no other name sees)."""
    acc[index.key] += g
    return acc


class _ScatterOnto:
    """The equation ``out = acc + scatter_add(g, index, acc.shape)`` of generated code:
    ``impl`` makes a new array, ``into`` adds into ``acc`` (when :func:`plan` lets it)."""

    name = "scatter_add_onto"
    ufunc = None
    fresh = True  # a new array (NumPy inputs)
    impl = staticmethod(add_scattered)
    into = staticmethod(add_scattered_into)


#: the equation :func:`scatter_onto` writes (not a primitive: it is never differentiated)
SCATTER_ONTO = _ScatterOnto()


def plan(prog: Program) -> dict[int, int]:
    """``{equation index: argument position}``: the argument whose buffer the
    equation's result may be written into (see the module docstring)."""
    fresh: set[int] = set()  # ids of variables holding memory no other name sees
    for e in prog.eqns:
        if getattr(e.prim, "fresh_results", False):  # a compiled loop: new arrays, no views
            fresh.update(id(o) for o in e.outvars if o.aval.shape)
            continue
        if not (e.prim.fresh or e.prim.batch == "reduction"):  # reductions keep no view
            for a in e.invars:
                fresh.discard(id(a))  # a view of it may exist from here on
        if len(e.outvars) == 1 and e.prim.fresh:
            fresh.add(id(e.outvars[0]))
    last = prog.last_reads()  # outputs are read after every equation: never overwritten
    out: dict[int, int] = {}
    for n, e in enumerate(prog.eqns):
        if e.prim is SCATTER_ONTO:
            a = e.invars[0]
            if isinstance(a, Var) and id(a) in fresh and last[id(a)][0] == n:
                out[n] = 0
            continue
        if e.prim.ufunc is None or e.params or len(e.outvars) != 1:
            continue
        aval = e.outvars[0].aval
        if aval.pyfloat or not aval.shape:
            continue
        for i, a in enumerate(e.invars):
            if isinstance(a, Var) and id(a) in fresh and last[id(a)][0] == n \
                    and a.aval.shape == aval.shape and a.aval.dtype == aval.dtype:
                out[n] = i
                break
    return out


def scatter_onto(prog: Program) -> Program:
    """``prog`` with each ``c = scatter_add(g, I) + a`` (either order), where the scatter's
    result is read only there, has a basic index (each position once) and ``a`` has the
    result's shape and dtype, written as ``c = SCATTER_ONTO(a, g, index=I)``."""
    reads: dict[int, int] = {}
    for e in prog.eqns:
        for a in e.invars:
            if isinstance(a, Var):
                reads[id(a)] = reads.get(id(a), 0) + 1
    for o in prog.outputs:
        if isinstance(o, Var):
            reads[id(o)] = reads.get(id(o), 0) + 2
    scatters = {id(e.outvars[0]): e for e in prog.eqns
                if e.prim.name == "scatter_add" and not e.params["index"].accumulates}
    merged: dict[int, Eqn] = {}  # id(add equation) -> its rewrite
    dropped: set[int] = set()  # ids of the scatter equations folded into one
    for e in prog.eqns:
        if e.prim.name != "add" or e.params or len(e.outvars) != 1:
            continue
        out = e.outvars[0].aval
        for acc, s in (e.invars, e.invars[::-1]):
            sc = scatters.get(id(s)) if isinstance(s, Var) else None
            if sc is None or reads[id(s)] != 1 or id(sc) in dropped or not isinstance(acc, Var) \
                    or acc.aval.shape != out.shape or acc.aval.dtype != out.dtype \
                    or s.aval.dtype != out.dtype or acc is s:
                continue
            merged[id(e)] = Eqn(SCATTER_ONTO, [acc, sc.invars[0]], e.outvars,
                                {"index": sc.params["index"]}, e.origin)
            dropped.add(id(sc))
            break
    if not merged:
        return prog
    eqns = [merged.get(id(e), e) for e in prog.eqns if id(e) not in dropped]
    return prog.replace(eqns=eqns)
