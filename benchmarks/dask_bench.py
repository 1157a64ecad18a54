"""Value + gradient of the logistic loss over N rows × 10 features, on a 2-worker Dask
``LocalCluster``: chainrule's lazy gradient against the same gradient written by hand in
Dask, and against chainrule on NumPy arrays in memory where the data fit.

    f(w) = (1/N) Σ log(1 + e^{x_i·w}) - y_i x_i·w,    ∇f(w) = (1/N) Xᵀ(σ(Xw) - y)

The data are chainrule.examples.big_regression's: generated chunk by chunk (N/2 rows a
chunk, one per worker, at most 10⁶) where they are computed. When they take at most half
of the workers' memory they are persisted once and every pass only computes; otherwise
(10⁸ rows: 8.8 GB) each pass generates them again, for both Dask implementations alike
(generating a chunk then costs more than its arithmetic). Each case (a row size and an
implementation) runs in a fresh process with its own cluster; a cell is the median over
``--repeat`` passes after one warm-up pass (one pass, no warm-up, from 10⁸ rows). Each
pass computes the value and the gradient together (``dask.compute(value, grad)``); the
results are checked against the hand-written ones. "peak" is the largest worker's peak
resident memory over the whole case. "CPU per pass" is the CPU time of every process
involved (this one, which also runs the scheduler, and the workers), steadier than the
wall time on a busy machine: there a distributed pass mostly waits for its processes'
turns on the CPUs.

Run: PYTHONPATH=src python benchmarks/dask_bench.py [--rows 1e6,1e7,1e8] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(os.path.dirname(HERE), "src")
FEATURES = 10
CHUNK_ROWS = 1_000_000
IMPLS = ("chainrule-dask", "hand-dask", "chainrule-numpy")
#: in-memory NumPy only up to this many rows (the machine is shared)
NUMPY_MAX_ROWS = 10_000_000


def hand_value_and_grad(w, X, y):
    """The logistic loss and its gradient written by hand (Dask or NumPy arrays)."""
    z = X @ w
    value = (numpy.logaddexp(0.0, z) - y * z).mean()
    grad = X.T @ (1.0 / (1.0 + numpy.exp(-z)) - y) / X.shape[0]
    return value, grad


def run_case(impl: str, rows: int, repeat: int) -> dict:
    """Time one implementation on ``rows`` rows in this process."""
    import dask

    import chainrule as cr
    from chainrule.examples import big_regression as br
    from chainrule.optimize.distributed import persist

    w = numpy.linspace(-0.3, 0.3, FEATURES)
    X, y, _ = br.make_data(rows, FEATURES, min(CHUNK_ROWS, max(1, rows // 2)), seed=0)
    passes = 1 if rows >= 50_000_000 else repeat
    warm = rows < 50_000_000
    if impl == "chainrule-numpy":
        Xn, yn = dask.compute(X, y, scheduler="threads")
        fn = cr.value_and_grad(br.loss)
        times = []
        for i in range(passes + warm):
            if i == warm:
                cpu0 = time.process_time()
            t0 = time.perf_counter()
            value, grad = fn(w, Xn, yn)
            times.append(time.perf_counter() - t0)
        cpu = (time.process_time() - cpu0) / passes
        ref = hand_value_and_grad(w, Xn, yn)
        return dict(times=times[warm:], peak=None, value=float(value), grad=list(grad),
                    ref_value=float(ref[0]), ref_grad=list(ref[1]), persisted=None,
                    cpu=cpu)
    client, cluster = br.start_client("local", workers=2, memory_limit="4GB")
    try:
        persisted = rows * (FEATURES + 1) * 8 <= 0.5 * 2 * 4e9
        if persisted:
            X, y = persist(X, y, client=client)
            client.wait_for_workers(2)
            from distributed import wait

            wait([X, y])

        def one_pass():
            if impl == "chainrule-dask":
                value, grad = cr.value_and_grad(br.loss)(w, X, y)
            else:
                value, grad = hand_value_and_grad(w, X, y)
            return dask.compute(value, grad)

        times = []
        for i in range(passes + warm):
            if i == warm:
                cpu0, workers0 = time.process_time(), _workers_cpu(client)
            t0 = time.perf_counter()
            value, grad = one_pass()
            times.append(time.perf_counter() - t0)
        cpu = (time.process_time() - cpu0 + _workers_cpu(client) - workers0) / passes
        peak = max(br.workers_peak_memory(client).values())
        tasks = br.graph_size(*(cr.value_and_grad(br.loss)(w, X, y)
                                if impl == "chainrule-dask" else hand_value_and_grad(w, X, y)))
    finally:
        client.close()
        cluster.close()
    return dict(times=times[warm:], peak=peak, value=float(value), grad=list(grad),
                persisted=persisted, tasks=tasks, cpu=cpu)


def _workers_cpu(client) -> float:
    """The CPU seconds the cluster's worker processes have used so far."""
    def cpu():
        import resource

        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime

    return sum(client.run(cpu).values())


def _fresh(impl: str, rows: int, repeat: int) -> dict:
    env = dict(os.environ, PYTHONPATH=SRC + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("GLIBC_TUNABLES", None)
    out = subprocess.run([sys.executable, os.path.abspath(__file__), "--case", impl,
                          "--rows", str(rows), "--repeat", str(repeat)],
                         capture_output=True, text=True, env=env)
    if out.returncode != 0:
        return dict(error=(out.stderr.strip().splitlines() or ["failed"])[-1])
    return json.loads(out.stdout.strip().splitlines()[-1])


def _fmt_time(t: float | None) -> str:
    return "—" if t is None else f"{t * 1e3:.0f} ms" if t < 1 else f"{t:.2f} s"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rows", default="1e6,1e7,1e8", help="comma-separated row counts")
    p.add_argument("--repeat", type=int, default=3, help="timed passes per case below 5e7 rows")
    p.add_argument("--case", choices=IMPLS, help=argparse.SUPPRESS)
    args = p.parse_args()
    sizes = [int(float(r)) for r in args.rows.split(",")]
    if args.case:
        print(json.dumps(run_case(args.case, sizes[0], args.repeat)))
        return
    print(f"logistic loss, value + gradient, {FEATURES} features, chunks of N/2 rows (at most "
          f"{CHUNK_ROWS:,}), 2-worker LocalCluster (1 thread each)\n")
    print("| rows | data | chainrule (Dask) | hand (Dask) | chainrule/hand | chainrule NumPy "
          "| Dask/NumPy | CPU per pass (chainrule Dask, hand Dask, NumPy) | CPU Dask/NumPy "
          "| tasks (chainrule, hand) | peak worker memory (chainrule, hand) | ✓ |")
    print("|---:|---|---:|---:|---:|---:|---:|---|---:|---|---|---|")
    for rows in sizes:
        res = {}
        for impl in IMPLS:
            if impl == "chainrule-numpy" and rows > NUMPY_MAX_ROWS:
                continue
            res[impl] = _fresh(impl, rows, args.repeat)
            if "error" in res[impl]:
                print(f"  {impl} at {rows:,} rows failed: {res[impl]['error']}", file=sys.stderr)
                res.pop(impl)
        med = {k: statistics.median(v["times"]) for k, v in res.items()}
        c, h, n = (res.get(k) for k in IMPLS)
        ok = c is not None and h is not None and numpy.isclose(c["value"], h["value"], rtol=1e-9) \
            and numpy.allclose(c["grad"], h["grad"], rtol=1e-7, atol=1e-12)
        if n is not None:
            ok = ok and numpy.allclose(n["grad"], n["ref_grad"], rtol=1e-7, atol=1e-12)
        data = "persisted" if (c or h or {}).get("persisted") else "generated per pass"
        ratio = f"{med['chainrule-dask'] / med['hand-dask']:.2f}×" if c and h else "—"
        vs_np = (f"{med['chainrule-dask'] / med['chainrule-numpy']:.2f}×"
                 if c and n else "—")
        cpus = ", ".join("—" if r is None else _fmt_time(r["cpu"]) for r in (c, h, n))
        cpu_ratio = f"{c['cpu'] / n['cpu']:.2f}×" if c and n else "—"
        tasks = f"{c['tasks'] if c else '—'}, {h['tasks'] if h else '—'}"
        peak = ", ".join("—" if r is None else f"{r['peak'] / 2**20:.0f} MB" for r in (c, h))
        print(f"| {rows:,} | {data} | {_fmt_time(med.get('chainrule-dask'))} | "
              f"{_fmt_time(med.get('hand-dask'))} | {ratio} | "
              f"{_fmt_time(med.get('chainrule-numpy'))} | {vs_np} | {cpus} | {cpu_ratio} | "
              f"{tasks} | {peak} | "
              f"{'✓' if ok else '✗'} |", flush=True)


if __name__ == "__main__":
    main()
