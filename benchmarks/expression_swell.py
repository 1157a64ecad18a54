"""Expression swell, measured: "AD is not symbolic differentiation".

For sin(sin(…sin(x))) (n nested sines, n = 1…12) and the logistic map
l_1 = x, l_{k+1} = 4 l_k (1 - l_k) (l_1…l_6), prints

* ``|f|``       — tree size of the traced function itself (nodes, no sharing);
* ``|f'| tree`` — tree size of SymPy's derivative of it (``sympy.diff``);
* ``|f'| dag``  — the same derivative after ``sympy.cse`` (each common
  subexpression once): the best a symbolic system can do by sharing;
* ``|f'| expand`` (logistic only) — the derivative multiplied out (``sympy.expand``),
  the "simplified" polynomial form;
* ``AD fwd``    — primitives on chainrule's reverse tape (the forward pass);
* ``AD rules``  — VJP rule applications in the backward sweep (tape edges);
* ``AD ops``    — every primitive operation reverse-mode AD executes, forward
  pass and backward rules together (counted by a trace under the tape);
* ``IR grad``   — equations of the staged program of ``grad(f)`` after the IR's
  passes (``make_ir(grad(f), optimize=True)``; its seed ``ones_like`` included);
* ``AD as tree`` — the same AD program written out as one formula (``grad(f)``
  traced into SymPy): AD's arithmetic is the chain rule too; what keeps it small is
  that every intermediate is a named value, used many times and computed once.

Sizes are SymPy nodes (``x - y`` is ``Add(x, Mul(-1, y))``: 5 nodes); AD counts
are chainrule primitives. Run: ``PYTHONPATH=src python benchmarks/expression_swell.py``.
"""

from __future__ import annotations

import sys
import time

import sympy as sp

import chainrule as cr
from chainrule.symbolic import (
    ad_cost,
    dag_size,
    expression,
    expression_size,
    logistic_map,
    nested_sin,
)


try:  # the staged IR (issue 5); the table is printed without it where it is missing
    from chainrule.jit import make_ir
except ImportError:  # pragma: no cover
    make_ir = None


def row(f, expand: bool = False) -> dict:
    x = sp.Symbol("x", real=True)
    e = expression(f, x)
    d = sp.diff(e, x)
    cost = ad_cost(f, 0.3)
    r = {
        "f": f.__name__,
        "|f|": expression_size(e),
        "|f'| tree": expression_size(d),
        "|f'| dag": dag_size(d),
        "AD fwd": cost.forward,
        "AD rules": cost.rules,
        "AD ops": cost.total,
    }
    if make_ir is not None:
        r["IR grad"] = len(make_ir(cr.grad(f), optimize=True)(0.3))
    r["AD as tree"] = expression_size(expression(cr.grad(f), x))
    if expand:
        r["|f'| expand"] = expression_size(sp.expand(d))
    return r


def print_table(rows: list[dict], out=sys.stdout) -> None:
    cols = list(rows[0])
    widths = [max(len(c), *(len(str(r[c])) for r in rows)) for c in cols]
    out.write("  ".join(c.rjust(w) for c, w in zip(cols, widths, strict=True)) + "\n")
    for r in rows:
        out.write("  ".join(str(r[c]).rjust(w) for c, w in zip(cols, widths, strict=True)) + "\n")


def main() -> None:
    t0 = time.perf_counter()
    print("nested sines: f = sin(sin(...sin(x)))")
    print_table([row(nested_sin(n)) for n in range(1, 13)])
    print()
    print("logistic map: l1 = x, l_{k+1} = 4 l_k (1 - l_k)")
    print_table([row(logistic_map(n), expand=True) for n in range(1, 7)])
    print(f"\n({time.perf_counter() - t0:.1f} s)")


if __name__ == "__main__":
    main()
