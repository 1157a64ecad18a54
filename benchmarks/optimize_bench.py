"""chainrule.optimize against SciPy on the Moré–Garbow–Hillstrom test set (workload W8).

Run: PYTHONPATH=src python benchmarks/optimize_bench.py [--methods bfgs,trust-ncg]
     [--repeat 3] [--detail] [--rosenbrock]

For each method, every problem of :mod:`chainrule.optimize.mgh` (35 problems, standard
starts) is solved by ``chainrule.optimize.minimize`` and by ``scipy.optimize.minimize``
with the same method, both with gtol = 1e-5 (SciPy's default, except its trust-region
methods, whose default 1e-4 is overridden; Newton-CG in SciPy stops on xtol only), SciPy given
chainrule's exact derivatives through ``scipy_objective`` (value and gradient in one
pass, HVPs forward over reverse, the Hessian where the method needs it; the same
compiled programs). A problem counts as solved when f is within 1e-5·max(1, |f*|) of a
published minimum. Evaluations are f + g (nfev + njev); times are the median of
``--repeat`` solves after one warm-up solve that compiles the derivative programs (so
both sides time the algorithm, not the tracing). Each method runs in a fresh process.

``--rosenbrock`` adds the issue's targets: Rosenbrock n = 2 from (−1.2, 1) by newton
and bfgs to ‖x − x*‖ ≤ 1e-10, and MGH's extended Rosenbrock at n = 10⁴ by l-bfgs-b and
trust-ncg (cold: the first solve, tracing included).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
import warnings
from functools import partial
from pathlib import Path

METHODS = ["bfgs", "l-bfgs-b", "newton-cg", "trust-ncg", "trust-krylov", "trust-exact", "cg"]
SCIPY_NAME = {"bfgs": "BFGS", "l-bfgs-b": "L-BFGS-B", "newton-cg": "Newton-CG",
              "trust-ncg": "trust-ncg", "trust-krylov": "trust-krylov",
              "trust-exact": "trust-exact", "cg": "CG"}


def _timed(solve, repeat):
    solve()  # warm-up: compiles the derivative programs
    times, res = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        res = solve()
        times.append(time.perf_counter() - t0)
    return res, statistics.median(times)


def run_method(method: str, repeat: int) -> list[dict]:
    """Every problem by ``method``, ours and SciPy's, in this process."""
    import scipy.optimize as so

    from chainrule.optimize import minimize, scipy_objective
    from chainrule.optimize.mgh import PROBLEMS

    warnings.simplefilter("ignore")
    rows = []
    for p in PROBLEMS.values():
        x0 = p.start()
        obj = scipy_objective(p.f)
        kw = {"jac": obj.jac}
        if method in ("newton-cg", "trust-ncg", "trust-krylov"):
            kw["hessp"] = obj.hessp
        if method == "trust-exact":
            kw["hess"] = obj.hess
        # SciPy's trust-region methods default to gtol = 1e-4; give them ours (1e-5)
        scipy_options = {"gtol": 1e-5} if method.startswith("trust") else {}
        row = {"problem": p.name, "number": p.number, "n": p.n}
        solvers = {
            "scipy": partial(so.minimize, obj.fun, x0, method=SCIPY_NAME[method],
                             options=scipy_options, **kw),
            "ours": partial(minimize, p.f, x0, method=method)}
        for side, solve in solvers.items():
            try:
                res, t = _timed(solve, repeat)
                fun = float(res.fun)
                row[side] = {"f": fun, "solved": bool(p.solved(fun)),
                             "evals": int(res.nfev) + int(res.get("njev", 0)),
                             "nhev": int(res.get("nhev", 0)), "nit": int(res.nit),
                             "time": t}
            except Exception as err:  # noqa: BLE001 - a crash counts as not solved
                row[side] = {"f": float("nan"), "solved": False, "evals": 0, "nhev": 0,
                             "nit": 0, "time": float("nan"), "error": repr(err)}
        rows.append(row)
    return rows


def _error_to_one(errors: list, x) -> None:
    errors.append(float(((x - 1.0) ** 2).sum() ** 0.5))


def rosenbrock_targets() -> list[str]:
    """The issue's Rosenbrock targets, measured."""
    import numpy as onp

    import chainrule.numpy as np
    from chainrule.optimize import minimize
    from chainrule.optimize.mgh import extended_rosenbrock

    def rosen(x):
        return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)

    lines = []
    for method, limit in (("newton", 25), ("bfgs", 40)):
        errors: list[float] = []
        r = minimize(rosen, onp.array([-1.2, 1.0]), method=method,
                     callback=partial(_error_to_one, errors), options={"gtol": 1e-12})
        first = next((k + 1 for k, e in enumerate(errors) if e <= 1e-10), None)
        lines.append(f"rosenbrock n=2 {method}: |x - x*| <= 1e-10 after {first} iterations "
                     f"(target <= {limit}); {r.message}")

    def ext(x):
        r = extended_rosenbrock(x)
        return np.sum(r * r)

    x0 = onp.tile([-1.2, 1.0], 5000)
    for method in ("l-bfgs-b", "trust-ncg"):
        t0 = time.perf_counter()
        r = minimize(ext, x0, method=method)
        t = time.perf_counter() - t0
        lines.append(f"extended rosenbrock n=10^4 {method}: {t:.2f} s cold (target < 2 s), "
                     f"f = {r.fun:.2e}, nit {r.nit}, f+g {r.nfev + r.njev}, {r.message}")
    return lines


def table(method: str, rows: list[dict], detail: bool) -> list[str]:
    ours_solved = [r for r in rows if r["ours"]["solved"]]
    scipy_solved = [r for r in rows if r["scipy"]["solved"]]
    both = [r for r in rows if r["ours"]["solved"] and r["scipy"]["solved"]]
    missed = [r["problem"] for r in rows if r["scipy"]["solved"] and not r["ours"]["solved"]]

    def med(side, key):
        vals = [r[side][key] for r in both]
        return statistics.median(vals) if vals else float("nan")

    out = [f"| {method} | {len(ours_solved)} | {len(scipy_solved)} | "
           f"{med('ours', 'evals'):.0f} | {med('scipy', 'evals'):.0f} | "
           f"{med('ours', 'time') * 1e3:.2f} | {med('scipy', 'time') * 1e3:.2f} | "
           f"{', '.join(missed) or '—'} |"]
    if detail:
        for r in rows:
            o, s = r["ours"], r["scipy"]
            out.append(f"|   {r['number']:2d} {r['problem']} | {'✓' if o['solved'] else '✗'} "
                       f"{o['f']:.4g} | {'✓' if s['solved'] else '✗'} {s['f']:.4g} | "
                       f"{o['evals']} | {s['evals']} | {o['time'] * 1e3:.2f} | "
                       f"{s['time'] * 1e3:.2f} | |")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--detail", action="store_true", help="one row per problem too")
    ap.add_argument("--rosenbrock", action="store_true", help="also the Rosenbrock targets")
    ap.add_argument("--json", help="keep the raw numbers in this file")
    ap.add_argument("--one", help=argparse.SUPPRESS)  # internal: run one method, print JSON
    args = ap.parse_args()
    if args.one:
        print(json.dumps(run_method(args.one, args.repeat)))
        return 0
    src = str(Path(__file__).resolve().parents[1] / "src")
    env = dict(__import__("os").environ)
    env["PYTHONPATH"] = src + (":" + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    results = {}
    print("| method | solved (ours) | solved (SciPy) | median f+g ours | median f+g SciPy | "
          "median ms ours | median ms SciPy | SciPy solved, ours not |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for method in args.methods.split(","):
        proc = subprocess.run([sys.executable, __file__, "--one", method, "--repeat",
                               str(args.repeat)], capture_output=True, text=True, env=env,
                              check=False)
        if proc.returncode != 0:
            print(f"| {method} | failed: {proc.stderr.strip().splitlines()[-1:]} |")
            continue
        rows = json.loads(proc.stdout.strip().splitlines()[-1])
        results[method] = rows
        print("\n".join(table(method, rows, args.detail)), flush=True)
    print("\nmedians over the problems both solved; times per solve after a warm-up solve")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    if args.rosenbrock:
        print()
        for line in rosenbrock_targets():
            print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
