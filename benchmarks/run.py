"""Benchmark chainrule against hand-written derivatives and its peers (benchmarks/README.md).

    python benchmarks/run.py [--workloads W1,W2,...] [--peers chainrule,hand,autograd,jax,torch]
                             [--quick] [--python PATH] [--json FILE] [--glibc-tunables]

Each case (a row of the table) runs in fresh subprocesses, one per library, in the default
environment (``GLIBC_TUNABLES`` removed: what users have); a cell is the median time of
repeated calls after a warm-up. ``--glibc-tunables`` also runs every cell with glibc's malloc
told to keep freed buffers and prints that table after the default one, never instead. Every
result is checked against the hand-written derivative: a cell that disagrees is marked ✗ and
the run exits with status 1.
"""

import argparse
import gc
import json
import os
import subprocess
import sys
import time
from functools import partial
from typing import Callable, NamedTuple

import numpy

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(os.path.dirname(HERE), "src")
GLIBC_TUNABLES = "glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=4294967296"
IMPL_NAMES = ["hand", "chainrule", "chainrule.jit", "chainrule.jit+fori", "chainrule.numba",
              "autograd", "jax", "jax.jit", "jax.jit+fori", "torch", "torch.func"]
GROUPS = {"chainrule": ["chainrule", "chainrule.jit", "chainrule.jit+fori", "chainrule.numba"],
          "jax": ["jax", "jax.jit", "jax.jit+fori"], "torch": ["torch", "torch.func"]}
# The implementations that share a subprocess: one library each, chainrule's jit apart
PROCESS_OF = {i: i.split(".")[0] for i in IMPL_NAMES}
PROCESS_OF.update({"chainrule.jit": "chainrule.jit", "chainrule.jit+fori": "chainrule.jit",
                   "chainrule.numba": "chainrule.numba"})  # jit(backend="numba")

# Timing: the median over samples after one warm-up call; a sample is >= ~1 ms of calls.
BUDGET = {False: 0.4, True: 0.05}  # seconds of samples per cell, by --quick
SLOW = {False: 1.0, True: 0.25}  # a call this slow is timed once, after the warm-up
FIRST_ONLY = 5.0  # a first call this slow (and not compiling) is the time: no warm-up
MIN_SAMPLES = {False: 5, True: 3}


# The cases -----------------------------------------------------------------------------------


class Case(NamedTuple):
    args: tuple  # NumPy arrays and Python floats
    hand: Callable  # hand(*args): the reference result
    build: Callable  # build(impl) -> the function of args to time for that implementation
    loops: bool = False  # written with `loop` (so jax.jit+fori differs from jax.jit)
    primal: Callable = None  # W2: build(impl) -> f itself, for the grad/f ratio
    rtol: float = 1e-6  # max |result - hand| / max |hand|, per array
    skip: dict = {}  # implementation -> why it is not run on this case


def make_case(name):
    import workloads as w

    on = lambda fn, **kw: lambda ad: partial(fn, ad.ns, **kw)  # fn with the impl's namespace
    rosen = on(w.rosenbrock)
    if name == "W1 f+grad":
        return Case(w.W1_POINT, w.griewank_hand,
                    lambda ad: ad.value_and_grad(on(w.griewank)(ad), argnums=(0, 1)))
    if name.startswith("W2 grad n="):
        n = int(float(name.split("=")[1]))
        return Case((w.rosenbrock_point(n),), w.rosenbrock_grad_hand,
                    lambda ad: ad.grad(rosen(ad)), primal=rosen)
    if name == "W3 Hessian n=100":
        return Case((w.rosenbrock_point(100),), w.rosenbrock_hessian_hand,
                    lambda ad: ad.hessian(rosen(ad)))
    if name == "W3 HVP n=1e5":
        x, v = w.rosenbrock_point(100_000), w.rosenbrock_point(100_000, seed=1)
        return Case((x, v), w.rosenbrock_hvp_hand, lambda ad: partial(ad.hvp, rosen(ad)))
    if name == "W4 grad":
        return Case((w.W4_X0,), w.logistic_hand,
                    lambda ad: ad.grad(partial(w.logistic, ad.ns, loop=ad.loop)), loops=True)
    if name.startswith("W5 step"):
        dtype = numpy.float32 if name.endswith("f32") else numpy.float64
        return Case(w.mlp_data(dtype), w.mlp_loss_grad_hand,
                    lambda ad: ad.value_and_grad(on(w.mlp_loss)(ad)),
                    rtol=1e-4 if dtype == numpy.float32 else 1e-6)
    if name == "W6 grad":
        return Case(w.pinn_data(), w.pinn_grad_hand,
                    lambda ad: ad.grad(partial(w.pinn_loss, ad.ns, ad.deriv)))
    if name == "W7 grad":
        return Case((w.W7_V0, w.W7_C, w.W7_THETA0), w.pendulum_hand,
                    lambda ad: ad.grad(partial(w.pendulum, ad.ns, loop=ad.loop), argnums=(0, 1)),
                    loops=True, skip={"jax.jit": "jit of the Python loop (1000 unrolled RK4 "
                                                 "steps) did not compile in 9 minutes; see "
                                                 "jax.jit+fori"})
    raise KeyError(name)


CASES = ["W1 f+grad", "W2 grad n=10", "W2 grad n=1e3", "W2 grad n=1e5", "W3 Hessian n=100",
         "W3 HVP n=1e5", "W4 grad", "W5 step f64", "W5 step f32", "W6 grad", "W7 grad"]
QUICK_CASES = ["W1 f+grad", "W2 grad n=1e5", "W3 HVP n=1e5", "W4 grad", "W5 step f64",
               "W6 grad", "W7 grad"]


# Inside the case's subprocess ------------------------------------------------------------------


class Hand:
    """The hand column: plain NumPy / math, no transformation."""

    ns = numpy
    array = jit = done = staticmethod(lambda x: x)


def measure(call, quick, compiles=False):
    """(first result, {"time": median seconds per call, "first": warm-up seconds, "calls"})"""
    gc.collect()
    t0 = time.perf_counter()
    out = call()
    first = time.perf_counter() - t0
    if first >= FIRST_ONLY and not compiles:  # calls=0: the first call only
        return out, {"time": first, "first": first, "calls": 0}
    t0 = time.perf_counter()
    call()
    one = time.perf_counter() - t0
    samples, calls = [one], 1
    if one < SLOW[quick]:
        k = max(1, int(1e-3 / one))
        n = int(min(max(BUDGET[quick] / (k * one), MIN_SAMPLES[quick]), 2000))
        samples = []
        for _ in range(n):
            t0 = time.perf_counter()
            for _ in range(k):
                call()
            samples.append((time.perf_counter() - t0) / k)
        calls = n * k
    return out, {"time": float(numpy.median(samples)), "first": first, "calls": calls}


def _leaves(tree):
    if isinstance(tree, (tuple, list)):
        return [leaf for t in tree for leaf in _leaves(t)]
    if isinstance(tree, dict):
        return [leaf for k in sorted(tree) for leaf in _leaves(tree[k])]
    if hasattr(tree, "detach"):  # torch
        tree = tree.detach().numpy()
    return [numpy.asarray(tree, dtype=numpy.float64)]


def max_rel_error(out, ref):
    outs, refs = _leaves(out), _leaves(ref)
    if len(outs) != len(refs):
        raise ValueError(f"result has {len(outs)} arrays, the hand derivative {len(refs)}")
    err = 0.0
    for o, r in zip(outs, refs, strict=True):
        if o.shape != r.shape:
            raise ValueError(f"result of shape {o.shape}, expected {r.shape}")
        err = max(err, float(numpy.max(numpy.abs(o - r)) / max(numpy.max(numpy.abs(r)), 1e-300)))
    return err


def run_impl(case, name, ref, quick):
    import peers

    if name in case.skip:
        return {"skip": case.skip[name]}
    if name == "hand":
        impl, fn = Hand, case.hand
    else:
        impl = peers.IMPLS[name]()
        if impl.loops_only and not case.loops:
            return {"skip": ""}
        fn = impl.jit(case.build(impl))
    args = impl.array(case.args)
    compiles = getattr(impl, "compiles", False)
    out, res = measure(lambda: impl.done(fn(*args)), quick, compiles)
    if name != "hand":
        res["err"] = max_rel_error(out, ref)
    if case.primal is not None:
        f = impl.jit(case.primal(impl))
        res["primal"] = measure(lambda: impl.done(f(*args)), quick, compiles)[1]["time"]
    return res


def _dist_version(name):
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return "?"


def run_case(name, impls, quick):
    import peers

    case = make_case(name)
    ref = case.hand(*case.args)
    results = {}
    for impl in impls:
        try:
            results[impl] = run_impl(case, impl, ref, quick)
        except peers.Unavailable as e:
            results[impl] = {"unavailable": str(e)}
        except Exception as e:  # noqa: BLE001 - one failing cell must not stop the table
            msg = str(e).strip().splitlines()[0] if str(e).strip() else ""
            results[impl] = {"error": f"{type(e).__name__}: {msg}"[:300]}
    versions = {"python": sys.version.split()[0]}
    for mod in ("numpy", "chainrule", "autograd", "jax", "torch"):
        if mod in sys.modules:
            versions[mod] = getattr(sys.modules[mod], "__version__", None) or _dist_version(mod)
    return {"case": name, "rtol": case.rtol, "results": results, "versions": versions}


# The parent: one subprocess per case, then the table -------------------------------------------


def fmt_time(t):
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if t >= scale:
            return f"{t / scale:.3g} {unit}"
    return f"{t * 1e9:.3g} ns"


def fmt_ratio(x):
    return f"{x:.2g}×" if x < 100 else f"{x:.0f}×"


def spawn(python, name, impls, quick, timeout, tunables=False):
    """Run implementations `impls` on case `name` in a fresh interpreter (default environment,
    or with GLIBC_TUNABLES when `tunables`)."""
    env = {k: v for k, v in os.environ.items() if k != "GLIBC_TUNABLES"}
    if tunables:
        env["GLIBC_TUNABLES"] = GLIBC_TUNABLES
    env["PYTHONPATH"] = os.pathsep.join(p for p in (SRC, env.get("PYTHONPATH")) if p)
    cmd = [python, os.path.abspath(__file__), "--case", name, "--peers", ",".join(impls)]
    try:
        proc = subprocess.run(cmd + ["--quick"] * quick, env=env, capture_output=True,
                              text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"case": name, "results": {i: {"error": f"timed out ({timeout:g} s)"}
                                          for i in impls}}
    for line in proc.stdout.splitlines()[::-1]:
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])
    tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
    return {"case": name, "results": {i: {"error": f"crashed (rc={proc.returncode}): {tail}"}
                                      for i in impls}}


def run_row(python, name, impls, quick, timeout, tunables=False):
    """One subprocess per library (hand, chainrule, chainrule.jit, autograd, jax, torch), so
    that a crash, a hang or the imports of one cannot touch the others' cells."""
    row = {"case": name, "results": {}, "versions": {}}
    for group in dict.fromkeys(PROCESS_OF[i] for i in impls):
        t0 = time.perf_counter()
        part = spawn(python, name, [i for i in impls if PROCESS_OF[i] == group], quick, timeout,
                     tunables)
        row["results"].update(part["results"])
        row["versions"].update(part.get("versions", {}))
        row["rtol"] = part.get("rtol", row.get("rtol"))
        print(f" {group} {time.perf_counter() - t0:.1f} s", end="", file=sys.stderr, flush=True)
    return row


def cell(res, rtol):
    if "skip" in res:
        return "—"
    if "unavailable" in res:
        return "n/a"
    if "error" in res:
        short = res["error"] if len(res["error"]) <= 48 else res["error"][:45] + "..."
        return f"error: {short}"
    text = fmt_time(res["time"])
    if "primal" in res:
        text += f" ({fmt_ratio(res['time'] / res['primal'])[:-1]})"
    if "err" in res:
        text += " ✓" if res["err"] <= rtol else " ✗ WRONG"
    return text


def table(rows, impls):
    """Markdown table; returns (text, notes, wrong cells)."""
    notes, wrong = [], []
    columns, left_out = [], {}
    for impl in impls:
        cells = [row["results"].get(impl, {}) for row in rows]
        why = {c["unavailable"] for c in cells if "unavailable" in c}
        if why and all("unavailable" in c for c in cells):
            left_out.setdefault(why.pop(), []).append(impl)
            continue
        notes.extend(f"{row['case']} / {impl}: not run, {c['skip']}"
                     for row, c in zip(rows, cells, strict=True) if c.get("skip"))
        if not all("skip" in c for c in cells):
            columns.append(impl)
    notes += [f"{', '.join(names)}: left out, {why}" for why, names in left_out.items()]
    header = ["case"] + [c for impl in columns for c in
                         ([impl, "chainrule/hand"] if impl == "chainrule" and "hand" in columns
                          else [impl])]
    lines = []
    for row in rows:
        rtol, res = row.get("rtol", 1e-6), row["results"]
        line = [row["case"]]
        for impl in columns:
            r = res.get(impl, {})
            line.append(cell(r, rtol))
            if r.get("err", 0.0) > rtol:
                wrong.append(f"{row['case']} / {impl}: max relative error {r['err']:.2g} "
                             f"(tolerance {rtol:g})")
            if "error" in r:
                notes.append(f"{row['case']} / {impl}: {r['error']}")
            if ".jit" in impl and r.get("first", 0) > 0.2:
                notes.append(f"{row['case']} / {impl}: first call (tracing + compiling) "
                             f"{fmt_time(r['first'])}")
            if r.get("calls") == 1:
                notes.append(f"{row['case']} / {impl}: one timed call (after the warm-up)")
            if r.get("calls") == 0:
                notes.append(f"{row['case']} / {impl}: timed by its first call only, "
                             f"no warm-up (a call over {FIRST_ONLY:g} s)")
            if impl == "chainrule" and "hand" in columns:
                h = res.get("hand", {})
                ok = "time" in r and "time" in h
                line.append(fmt_ratio(r["time"] / h["time"]) if ok else "")
        lines.append(line)
    widths = [max(len(x) for x in col) for col in zip(header, *lines, strict=True)]
    fmt_line = lambda xs: "| " + " | ".join(map(str.ljust, xs, widths)) + " |"
    sep = "|" + "|".join("-" * (w + 1) + ":" if i else "-" * (w + 2)
                         for i, w in enumerate(widths)) + "|"
    text = "\n".join([fmt_line(header), sep] + [fmt_line(line) for line in lines])
    return text, notes, wrong


def expand(names, allowed):
    out = []
    for n in names.split(","):
        n = n.strip()
        for m in GROUPS.get(n, [n]):
            if m not in allowed:
                sys.exit(f"unknown name {m!r}; choose among {', '.join(allowed)}")
            if m not in out:
                out.append(m)
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--workloads", default="W1,W2,W3,W4,W5,W6,W7",
                   help="comma-separated workload ids (default: all)")
    p.add_argument("--peers", help="comma-separated: hand, chainrule, autograd, jax (= jax, "
                   "jax.jit, jax.jit+fori), torch (= torch, torch.func), or single variants "
                   "(default: all; with --quick: hand and chainrule without jit)")
    p.add_argument("--quick", action="store_true",
                   help="one case per workload, fewer samples, hand and chainrule only unless "
                        "--peers names more")
    p.add_argument("--python", default=sys.executable,
                   help="interpreter for the cases, e.g. benchmarks/.peers/bin/python")
    p.add_argument("--json", help="also write the raw results to this file")
    p.add_argument("--timeout", type=float, default=300,
                   help="seconds per case and library")
    p.add_argument("--glibc-tunables", action="store_true",
                   help="also run every cell with GLIBC_TUNABLES=" + GLIBC_TUNABLES + " (freed "
                        "buffers kept by malloc) and print that table after the default one")
    p.add_argument("--case", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.case:  # we are the subprocess of one case, given exact implementation names
        print("RESULT " + json.dumps(run_case(a.case, a.peers.split(","), a.quick)), flush=True)
        return 0
    if a.peers:
        impls = expand(a.peers, IMPL_NAMES)
    else:
        impls = ["hand", "chainrule"] if a.quick else IMPL_NAMES
    wanted = {w.strip().upper() for w in a.workloads.split(",")}
    names = [c for c in (QUICK_CASES if a.quick else CASES) if c.split()[0] in wanted]
    rows, tuned_rows, start, load = [], [], time.perf_counter(), os.getloadavg()[0]
    missing = {}  # implementation -> its "unavailable" result, not asked again
    for i, name in enumerate(names, 1):
        t0 = time.perf_counter()
        print(f"[{i}/{len(names)}] {name}:", end="", file=sys.stderr, flush=True)
        row = run_row(a.python, name, [i for i in impls if i not in missing], a.quick, a.timeout)
        row["results"].update(missing)
        missing.update((i, r) for i, r in row["results"].items() if "unavailable" in r)
        rows.append(row)
        if a.glibc_tunables:
            print(" | tunables:", end="", file=sys.stderr, flush=True)
            tuned = run_row(a.python, name, [i for i in impls if i not in missing], a.quick,
                            a.timeout, tunables=True)
            tuned["results"].update(missing)
            tuned_rows.append(tuned)
        print(f" (total {time.perf_counter() - t0:.1f} s)", file=sys.stderr, flush=True)
    text, notes, wrong = table(rows, impls)
    if a.glibc_tunables:
        tuned_text, tuned_notes, tuned_wrong = table(tuned_rows, impls)
        wrong += [f"{w} (with GLIBC_TUNABLES)" for w in tuned_wrong]
    versions = {}
    for row in rows:
        versions.update(row.get("versions", {}))
    print(f"\n{'quick run' if a.quick else 'run'}: {len(rows)} case(s) in "
          f"{time.perf_counter() - start:.0f} s, median time per call; {os.cpu_count()} CPUs, "
          f"load average {load:.2f} at the start, {os.getloadavg()[0]:.2f} at the end")
    print(f"{', '.join(f'{k} {v}' for k, v in versions.items())}; interpreter {a.python}\n")
    cpus = os.cpu_count() or 1  # the run itself adds about 1 to the load average
    if load > 0.5 * cpus or os.getloadavg()[0] > 0.5 * cpus + 1:
        print("WARNING: other processes were using the CPUs; the times below are unreliable "
              "(multi-threaded BLAS suffers most).\n")
    print("Default environment (no GLIBC_TUNABLES):\n")
    print(text)
    if a.glibc_tunables:
        print(f"\nWith GLIBC_TUNABLES={GLIBC_TUNABLES} (freed buffers kept by malloc):\n")
        print(tuned_text)
        notes += [f"{n} (with GLIBC_TUNABLES)" for n in tuned_notes if n not in notes]
    print("\n✓ agrees with the hand-written derivative; ✗ does not. W2 cells: time of the "
          "gradient (grad/f).")
    for note in notes:
        print(f"- {note}")
    if a.json:
        with open(a.json, "w") as fh:
            json.dump({"rows": rows, "rows_glibc_tunables": tuned_rows, "quick": a.quick,
                       "python": a.python}, fh, indent=1)
    if wrong:
        print("\nWRONG RESULTS: these cells disagree with the hand-written derivative:")
        for w in wrong:
            print(f"  {w}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
