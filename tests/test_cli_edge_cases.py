"""The command line at the edges: a formula that is infinite at the point, formulas that
start with a minus sign, SymPy work that would run for minutes (a time limit), and the
time-limit helper itself."""

from __future__ import annotations

import threading
import time
import warnings

import numpy
import pytest
import sympy as sp

from chainrule.cli import main
from chainrule.core.time_limit import TimeLimitExceeded, call_with_time_limit
from chainrule.symbolic._diff import SymbolicDerivative


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def _row(out: str, technique: str) -> str:
    return next(line for line in out.splitlines() if line.startswith(technique))


def test_diff_at_a_point_where_f_is_infinite_prints_a_table_not_a_traceback(capsys):
    code, out, err = run(capsys, "diff", "log(x)", "--at", "x=0")
    assert code == 0, err
    assert "Traceback" not in out + err
    assert "note: f is -inf at this point" in out
    assert _row(out, "reverse AD").split()[2] == "inf"  # d/dx log x = 1/x -> +inf
    assert _row(out, "forward AD").split()[2:4] == ["inf", "0.0e+00"]  # agrees with reverse
    assert "n/a: ZeroDivisionError" in _row(out, "symbolic (SymPy)")


@pytest.mark.parametrize("formula, at, expected", [
    ("-x**2", "x=3", -6.0),
    ("-x*y + 1", "x=2,y=5", -5.0),
    ("-sin(x)", "x=0", -1.0),
    ("-1/x", "x=-2", 0.25),
])
def test_a_formula_with_a_leading_minus_is_not_an_option(capsys, formula, at, expected):
    code, out, err = run(capsys, "diff", formula, "--at", at)
    assert code == 0, err
    assert float(_row(out, "reverse AD").split()[2]) == pytest.approx(expected, rel=1e-12)


def test_leading_minus_formula_in_trace_and_graph_and_options_still_work(capsys):
    code, out, err = run(capsys, "trace", "-x*y", "--at", "x=1,y=-2", "--mode", "reverse")
    assert code == 0, err
    assert "v1  = -v-1" in out and "v̄-1 = -v̄1" in out
    code, out, err = run(capsys, "graph", "--at=x=2", "-x*x")
    assert code == 0, err
    assert out.lstrip().startswith("digraph")
    code, out, err = run(capsys, "diff", "-x", "--at", "x=1", "--digits", "-1")
    assert code == 2 and "--digits -1: use 0 to 16" in err


def test_sympy_past_its_time_limit_is_reported_and_the_rest_still_comes(capsys):
    formula = "x"
    for _ in range(40):  # SymPy's evalf of this Hessian ran for more than 5 minutes
        formula = f"sin({formula}+x)"
    t0 = time.perf_counter()
    code, out, err = run(capsys, "diff", formula, "--at", "x=0.5", "--order", "2",
                         "--sympy-timeout", "0.3")
    elapsed = time.perf_counter() - t0
    assert code == 0, err
    assert elapsed < 60
    hessian = out[out.index("Hessian"):]
    assert "SymPy took longer than the 0.3 s time limit" in _row(hessian, "symbolic (SymPy)")
    rev = float(_row(hessian, "reverse AD").split()[3])
    fd = float(_row(hessian, "finite differences (Richardson)").split()[3])
    assert rev == pytest.approx(fd, rel=1e-8)
    code, out, err = run(capsys, "diff", "x", "--at", "x=1", "--sympy-timeout", "0")
    assert code == 2 and "--sympy-timeout 0: give a positive number" in err


def test_symbolic_column_is_exact_within_the_limit(capsys):
    code, out, err = run(capsys, "diff", "sin(x1/x2) + x1/x2 - exp(x2)", "--at", "x1=1.5,x2=0.5",
                         "--order", "2")
    assert code == 0, err
    sym = _row(out[out.index("Hessian"):], "symbolic (SymPy)").split()
    assert float(sym[-3]) < 1e-12  # max |Δ| against reverse AD


def test_simplification_past_its_limit_keeps_the_unsimplified_formula():
    x = sp.Symbol("x")
    expr = x
    for _ in range(6):
        expr = sp.sin(expr) * sp.cos(expr) + sp.exp(-expr)
    d = SymbolicDerivative(sp.diff(expr, x), [x], "d_f")
    with pytest.warns(RuntimeWarning, match="kept the unsimplified formula"):
        same = d.simplified(time_limit=0.05)
    assert same is d
    quick = SymbolicDerivative(sp.diff(sp.sin(x) ** 2 + sp.cos(x) ** 2, x), [x], "d_one")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert quick.simplified(time_limit=30).expr == 0


def test_time_limit_on_the_main_thread_and_in_other_threads():
    assert call_with_time_limit(lambda: 6 * 7, 1.0) == 42
    with pytest.raises(TimeLimitExceeded, match="took longer than 0.1 s"):
        call_with_time_limit(lambda: time.sleep(5), 0.1)

    def swallow_everything():  # library code catching Exception does not swallow the limit
        while True:
            try:
                time.sleep(0.01)
            except Exception:  # noqa: BLE001
                pass

    t0 = time.perf_counter()
    with pytest.raises(TimeLimitExceeded):
        call_with_time_limit(swallow_everything, 0.1)
    assert time.perf_counter() - t0 < 5
    with pytest.raises(ZeroDivisionError):
        call_with_time_limit(lambda: 1 / 0, 1.0)
    seen: dict = {}

    def in_thread():
        try:
            call_with_time_limit(lambda: time.sleep(5), 0.1)
        except TimeLimitExceeded as err:
            seen["err"] = err
        seen["value"] = call_with_time_limit(lambda: numpy.float64(2.5), 1.0)

    worker = threading.Thread(target=in_thread)
    worker.start()
    worker.join(10)
    assert isinstance(seen["err"], TimeLimitExceeded) and seen["value"] == 2.5
