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
  (reshape, transpose, indexing...), so no other name can see its buffer;
* this equation is ``a``'s last use, and ``r`` has ``a``'s shape and dtype.

Only the top level of a program is planned; loop bodies and branches keep fresh results.
"""

from __future__ import annotations

from chainrule.ir.program import Program, Var

__all__ = ["UFUNCS", "plan"]

#: elementwise primitives computed by one NumPy ufunc (name in ``np``), usable with out=
UFUNCS = {
    "add": "add", "sub": "subtract", "mul": "multiply", "div": "true_divide",
    "neg": "negative", "exp": "exp", "log": "log", "sin": "sin", "cos": "cos",
    "tan": "tan", "tanh": "tanh", "sinh": "sinh", "cosh": "cosh", "arctan": "arctan",
    "log1p": "log1p", "expm1": "expm1", "sqrt": "sqrt", "square": "square",
    "abs": "absolute", "maximum": "maximum", "minimum": "minimum",
}
#: primitives whose result never shares memory with an argument
_FRESH = frozenset(UFUNCS) | {"matmul", "pow"}
#: primitives that read their arguments without keeping a view of them
_NO_VIEW = _FRESH | {"sum", "mean", "prod", "max", "min"}


def plan(prog: Program) -> dict[int, int]:
    """``{equation index: argument position}``: the argument whose buffer the
    equation's result may be written into (see the module docstring)."""
    fresh: set[int] = set()  # ids of variables holding memory no other name sees
    for e in prog.eqns:
        if e.prim.name not in _NO_VIEW:
            for a in e.invars:
                fresh.discard(id(a))  # a view of it may exist from here on
        if e.prim.name in _FRESH and len(e.outvars) == 1 and not e.params:
            fresh.add(id(e.outvars[0]))
    last = prog.last_reads()  # outputs are read after every equation: never overwritten
    out: dict[int, int] = {}
    for n, e in enumerate(prog.eqns):
        if e.prim.name not in UFUNCS or e.params or len(e.outvars) != 1:
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
