"""Sparse Jacobians by colouring against dense jacfwd; per-example gradients by vmap.

Run: PYTHONPATH=src python benchmarks/sparse_bench.py [--quick] [--glibc-tunables]

1. The residual of the 1-D Allen-Cahn equation eps·u'' + u - u³ on n grid points (its
   Jacobian is tridiagonal), at n = 10³, 10⁴, 10⁵: dense ``jacfwd`` (n JVPs in batched
   passes of at most 1000) against ``jacobian(f, sparsity=P)`` (3 JVPs in one batched
   pass), with the one-off costs of pattern detection and colouring shown separately.
   At n = 10⁵ the dense Jacobian (80 GB) is not formed: its time is extrapolated from
   one timed chunk of 1000 columns (marked ``~``).
2. Per-example gradients of an MLP loss: ``vmap(grad(loss), in_axes=(None, 0, 0))``
   against a Python loop of ``grad(loss)``.

Times are medians of repeated calls after a warm-up; ratios are from this one run. The run
is in the default environment (``GLIBC_TUNABLES`` removed: what users have);
``--glibc-tunables`` then runs the tables again in a fresh process with glibc's allocator
told to keep freed buffers, printed after the default ones.
"""

from __future__ import annotations

import os
import sys
import time

import subprocess

import numpy as onp

import chainrule as cr
import chainrule.numpy as np

TUNABLES = "glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=4294967296"

CHUNK = 1000


def allen_cahn(u, eps=0.01):
    h = 1.0 / (u.shape[0] + 1)
    up = np.concatenate([np.zeros(1), u, np.zeros(1)])
    return eps * (up[:-2] - 2 * up[1:-1] + up[2:]) / h ** 2 + u - u ** 3


def median_time(fn, *args, repeat: int = 5, budget: float = 1.0) -> float:
    t0 = time.perf_counter()
    fn(*args)
    first = time.perf_counter() - t0
    reps = max(1, min(repeat, int(budget / max(first, 1e-9))))
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - t0)
    return float(onp.median(times))


def once(fn, *args) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - t0, out


def fmt(t: float) -> str:
    if t >= 1:
        return f"{t:.2f} s"
    if t >= 1e-3:
        return f"{t * 1e3:.1f} ms"
    return f"{t * 1e6:.0f} µs"


def _ratio(r: float) -> str:
    return f"{r:,.0f}×" if r >= 10 else f"{r:.1f}×"


def jacobian_rows(sizes, quick: bool):
    rows = []
    cr.jacobian(allen_cahn, sparsity=True)(onp.ones(10))  # warm-up: imports, first traces
    for n in sizes:
        u = onp.random.default_rng(n).uniform(-1, 1, n)
        t_detect, P = once(cr.sparsity, allen_cahn, u)
        jac = cr.jacobian(allen_cahn, sparsity=P)
        t_first, J = once(jac, u)  # colours the pattern, then 3 JVPs
        t_sparse = median_time(jac, u)
        if n <= 10_000 and not (quick and n > 1000):
            t_dense = median_time(cr.jacfwd(allen_cahn, chunk_size=CHUNK), u, repeat=3)
            dense = f"{fmt(t_dense)}"
            Jd = cr.jacfwd(allen_cahn, chunk_size=CHUNK)(u) if n <= 1000 else None
            if Jd is not None:
                assert onp.allclose(J.toarray(), Jd)
        else:  # time one chunk of CHUNK JVPs, extrapolate to n / CHUNK chunks
            from chainrule.transforms.jacobians import _unit_rows
            from chainrule.transforms.vmap import vmap

            seeds = _unit_rows([u], 0, CHUNK)[0]
            push = vmap(lambda t, u=u: cr.jvp(allen_cahn, (u,), (t,))[1])
            t_dense = median_time(push, seeds, repeat=3) * n / CHUNK
            dense = f"~{fmt(t_dense)}"
        rows.append((n, dense, fmt(t_sparse), jac.stats["products"], fmt(t_detect),
                     fmt(t_first - t_sparse), t_dense / t_sparse,
                     t_dense / (t_detect + t_first)))
    head = ("n", "dense jacfwd", "coloured", "JVPs", "detect", "colour", "ratio",
            "ratio incl. detect+colour")
    print("\nTridiagonal Jacobian of the Allen-Cahn residual (per call, median)")
    print(" | ".join(head))
    for r in rows:
        print(" | ".join([f"{r[0]:,}", r[1], r[2], str(r[3]), r[4], r[5], _ratio(r[6]),
                          _ratio(r[7])]))
    return rows


def mlp_loss(p, x, y):
    h = np.tanh(x @ p["W1"] + p["b1"])
    return np.sum((h @ p["W2"] + p["b2"] - y) ** 2)


def per_example_rows(batches):
    rng = onp.random.default_rng(0)
    p = {"W1": rng.standard_normal((32, 64)) * 0.1, "b1": onp.zeros(64),
         "W2": rng.standard_normal((64, 4)) * 0.1, "b2": onp.zeros(4)}
    g = cr.grad(mlp_loss)
    vg = cr.vmap(g, in_axes=(None, 0, 0))
    print("\nPer-example gradients, MLP 32-64-4 (tanh, squared error)")
    print("batch | Python loop of grad | vmap(grad) | ratio")
    rows = []
    for b in batches:
        xs, ys = rng.standard_normal((b, 32)), rng.standard_normal((b, 4))

        def loop(xs=xs, ys=ys):
            return [g(p, x, y) for x, y in zip(xs, ys)]

        t_loop = median_time(loop, repeat=3)
        t_vmap = median_time(vg, p, xs, ys)
        got, want = vg(p, xs, ys), loop()
        assert onp.allclose(got["W1"][-1], want[-1]["W1"])
        print(f"{b:,} | {fmt(t_loop)} | {fmt(t_vmap)} | {_ratio(t_loop / t_vmap)}")
        rows.append((b, t_loop, t_vmap))
    return rows


def main() -> None:
    quick = "--quick" in sys.argv
    tuned = os.environ.get("GLIBC_TUNABLES") == TUNABLES and "--child" in sys.argv
    if "--child" not in sys.argv and "GLIBC_TUNABLES" in os.environ:  # the default environment
        env = {k: v for k, v in os.environ.items() if k != "GLIBC_TUNABLES"}
        os.execve(sys.executable, [sys.executable] + sys.argv, env)
    print(f"{'With GLIBC_TUNABLES=' + TUNABLES if tuned else 'Default environment'}, "
          f"load average {os.getloadavg()[0]:.2f}")
    jacobian_rows([1000, 10_000] if quick else [1000, 10_000, 100_000], quick)
    per_example_rows([100, 1000] if quick else [100, 1000, 10_000])
    if "--glibc-tunables" in sys.argv and not tuned:
        print(flush=True)
        subprocess.run([sys.executable] + sys.argv + ["--child"],
                       env=dict(os.environ, GLIBC_TUNABLES=TUNABLES), check=True)


if __name__ == "__main__":
    main()
