"""jit(grad(f)): per-call and compile times against eager chainrule, hand gradients, jax.jit.

Run: PYTHONPATH=src python benchmarks/jit_bench.py [--glibc-tunables]
(with ``benchmarks/.peers/bin/python`` instead of ``python`` to get the jax.jit column).

The ``chainrule.jit numba`` column is ``jit(grad(f), backend="numba")`` (needs
``pip install numba`` in the interpreter that runs this): programs of Python floats (W1, W4,
W7) compiled whole, array programs (W5, W6) as NumPy code with each elementwise chain fused
into one Numba loop; its compile time includes tracing and Numba's LLVM compile (fused
kernels are cached on disk, so a second run loads them).

Workloads (definitions from ``benchmarks/workloads.py``, float64): W1 Griewank, W4 logistic
map 1000 steps with ``fori_loop``, W5 MLP 784-256-10 batch 128, W6 Allen-Cahn PINN
(u_t, u_xx by nested jvp), W7 RK4 damped pendulum 1000 steps with ``fori_loop``. Each case
runs in a fresh process in the default environment (``GLIBC_TUNABLES`` removed: what users
have); the parent prints one table. ``--glibc-tunables`` runs every case a second time with
glibc's allocator told to keep freed buffers and prints that table after the first.
``--case NAME`` runs one case and prints its JSON.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import timeit

HERE = os.path.dirname(os.path.abspath(__file__))
TUNABLES = "glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=4294967296"
CASES = ["W1", "W4", "W5", "W6", "W7"]
NAMES = {"W1": "W1 Griewank grad", "W4": "W4 logistic 1000 fori", "W5": "W5 MLP grad",
         "W6": "W6 PINN grad", "W7": "W7 RK4 1000 fori grad"}


def _per_call(fn, *args, budget=0.4):
    fn(*args)
    n, t = 1, 0.0
    while t < 0.02:
        t = timeit.timeit(lambda: fn(*args), number=n)
        if t >= 0.02:
            break
        n *= 4
    n = max(1, int(n * budget / max(t, 1e-9) / 3))
    return min(timeit.repeat(lambda: fn(*args), number=n, repeat=3)) / n


def _setup(case: str):
    """(chainrule gradient fn, hand fn, args, jax builder or None)."""
    sys.path.insert(0, HERE)
    import workloads as w

    import chainrule as cr
    import chainrule.numpy as cnp

    def fori(n, body, s):
        return cr.fori_loop(0, n, lambda i, v: body(v), s)

    if case == "W1":
        g = cr.grad(lambda a, b: w.griewank(cnp, a, b), argnums=(0, 1))
        return g, w.griewank_hand, w.W1_POINT, lambda jax, jnp: jax.grad(
            lambda a, b: w.griewank(jnp, a, b), argnums=(0, 1))
    if case == "W4":
        g = cr.grad(lambda x: w.logistic(cnp, x, loop=fori))

        def jx(jax, jnp):
            def loop(n, body, s):
                return jax.lax.fori_loop(0, n, lambda i, v: body(v), s)
            return jax.grad(lambda x: w.logistic(jnp, x, loop=loop))
        return g, w.logistic_hand, (w.W4_X0,), jx
    if case == "W5":
        import numpy

        params, X, Y = w.mlp_data(numpy.float64)
        g = cr.grad(lambda p, x, y: w.mlp_loss(cnp, p, x, y))
        return g, w.mlp_loss_grad_hand, (params, X, Y), lambda jax, jnp: jax.grad(
            lambda p, x, y: w.mlp_loss(jnp, p, x, y))
    if case == "W6":
        params, t, x, ones = w.pinn_data()

        def cderiv(f, y, v):
            return cr.jvp(f, (y,), (v,))

        g = cr.grad(lambda p, t, x, o: w.pinn_loss(cnp, cderiv, p, t, x, o))

        def jx(jax, jnp):
            def jderiv(f, y, v):
                return jax.jvp(f, (y,), (v,))
            return jax.grad(lambda p, t, x, o: w.pinn_loss(jnp, jderiv, p, t, x, o))
        return g, w.pinn_grad_hand, (params, t, x, ones), jx
    if case == "W7":
        g = cr.grad(lambda v0, c: w.pendulum(cnp, v0, c, loop=fori), argnums=(0, 1))

        def jx(jax, jnp):
            def loop(n, body, s):
                return jax.lax.fori_loop(0, n, lambda i, v: body(v), s)
            return jax.grad(lambda v0, c: w.pendulum(jnp, v0, c, loop=loop), argnums=(0, 1))
        return g, w.pendulum_hand, (w.W7_V0, w.W7_C), jx
    raise ValueError(case)


def run_case(case: str) -> dict:
    import chainrule as cr

    g, hand, args, jax_builder = _setup(case)
    t0 = time.perf_counter()
    jg = cr.jit(g)
    jg(*args)
    res = {"case": case, "compile_s": time.perf_counter() - t0}
    res["jit_s"] = _per_call(jg, *args)
    res["hand_s"] = _per_call(hand, *args)
    res["eager_s"] = _per_call(g, *args, budget=0.3)
    try:  # the numba backend: scalar programs whole, array programs' fused loops
        t0 = time.perf_counter()
        ng = cr.jit(g, backend="numba")
        ng(*args)
        res["numba_compile_s"] = time.perf_counter() - t0
        res["numba_s"] = _per_call(ng, *args)
    except (ImportError, NotImplementedError) as err:
        res["numba_error"] = f"{type(err).__name__}: {str(err)[:120]}"
    try:
        import jax

        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp
    except ImportError:
        return res
    jf = jax.jit(jax_builder(jax, jnp))
    t0 = time.perf_counter()
    jax.block_until_ready(jf(*args))
    res["jax_compile_s"] = time.perf_counter() - t0
    res["jax_s"] = _per_call(lambda *a: jax.block_until_ready(jf(*a)), *args)
    return res


def _fmt(s: float | None) -> str:
    if s is None:
        return "—"
    if s >= 1e-3:
        return f"{s * 1e3:.2f} ms"
    return f"{s * 1e6:.1f} µs"


def main(tunables: bool = False) -> None:
    env = {k: v for k, v in os.environ.items() if k != "GLIBC_TUNABLES"}
    if tunables:
        env["GLIBC_TUNABLES"] = TUNABLES
    print(f"\n{'With GLIBC_TUNABLES=' + TUNABLES if tunables else 'Default environment'}, "
          f"load average {os.getloadavg()[0]:.2f}:\n")
    rows = []
    for case in CASES:
        out = subprocess.run([sys.executable, __file__, "--case", case], env=env,
                             capture_output=True, text=True)
        if out.returncode != 0:
            print(f"{case}: failed\n{out.stderr[-2000:]}", file=sys.stderr)
            continue
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    head = ("| workload | compile | jit(grad) | eager grad | hand | jit/hand | jax.jit "
            "| jit/jax | jax compile | chainrule.jit numba | numba/hand | numba/jax "
            "| numba compile |")
    print(head)
    print("|" + " --- |" * 13)
    for r in rows:
        jx = r.get("jax_s")
        nb = r.get("numba_s")
        vs_jax = "—" if jx is None else f"{r['jit_s'] / jx:.2f}"
        nb_jax = "—" if jx is None or nb is None else f"{nb / jx:.2f}"
        nb_hand = "—" if nb is None else f"{nb / r['hand_s']:.2f}"
        print(f"| {NAMES[r['case']]} | {_fmt(r['compile_s'])} | {_fmt(r['jit_s'])} | "
              f"{_fmt(r['eager_s'])} | {_fmt(r['hand_s'])} | {r['jit_s'] / r['hand_s']:.2f} | "
              f"{_fmt(jx)} | {vs_jax} | "
              f"{_fmt(r.get('jax_compile_s'))} | {_fmt(nb)} | {nb_hand} | {nb_jax} | "
              f"{_fmt(r.get('numba_compile_s'))} |")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--case":
        print(json.dumps(run_case(sys.argv[2])))
    else:
        main()
        if "--glibc-tunables" in sys.argv:
            main(tunables=True)
