"""W6 (Allen–Cahn PINN residual gradient): Taylor mode against nested first-order modes.

Run: PYTHONPATH=src python benchmarks/pinn_bench.py
(``--python benchmarks/.peers/bin/python`` adds PyTorch eager and ``jax.jit`` columns).

The workload (``benchmarks/workloads.py``): MLP u(t, x) with 4 hidden layers of 64 tanh
units, 2000 collocation points, residual r = u_t − 1e-4·u_xx + 5u³ − 5u, the gradient of
mean(r²) with respect to every parameter. The ways of getting u_t and u_xx:

* ``nested reverse``: u_x = vjp of u in x with ones, u_xx = vjp of that (the PyTorch
  ``create_graph=True`` idiom), then reverse mode over the whole;
* ``nested jvp``: two nested forward passes for u_xx (the default in ``run.py``);
* ``taylor``: one order-2 Taylor pass along x (``chainrule.jet``) gives u and u_xx, one
  jvp along t gives u_t;
* ``taylor jit``: the same under ``chainrule.jit``;
* ``hand``: the derivative written out in NumPy (``workloads.pinn_grad_hand``);
* peers: PyTorch eager (nested reverse, ``create_graph``) and ``jax.jit`` (nested jvp).

Each case runs in a fresh process (default environment); one call's median wall time
and CPU time are printed with their ratios to ``nested reverse``. Every gradient is
checked against the hand derivative (relative error printed).

``--discrete`` times instead one L-BFGS iteration of the discrete-time Allen–Cahn network
(``chainrule.pinn.DiscretePINN``: q = 100, 4 × 200 tanh, 200 points, 141 301 parameters):
the loss and gradient (eager and under ``jit``), and whole iterations of
``chainrule.pinn.allen_cahn.lbfgs`` with memories of 50 and 10 pairs, timed as iterations
61–100 of a run (the memory full; the difference is the optimiser's own cost: the
direction from m pairs of 141 301 numbers).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import timeit

HERE = os.path.dirname(os.path.abspath(__file__))
CASES = ["hand", "nested reverse", "nested jvp", "taylor", "taylor collapsed",
         "taylor collapsed jit", "torch eager", "jax.jit"]


def _median_call(fn, args, budget=3.0):
    """(median wall seconds, median CPU seconds of this process) of one call."""
    fn(*args)
    once = timeit.timeit(lambda: fn(*args), number=1)
    n = max(3, min(30, int(budget / max(once, 1e-6))))
    wall, cpu = [], []
    for _ in range(n):
        w0, c0 = time.perf_counter(), time.process_time()
        fn(*args)
        wall.append(time.perf_counter() - w0)
        cpu.append(time.process_time() - c0)
    return sorted(wall)[n // 2], sorted(cpu)[n // 2]


def _chainrule_grad(case):
    import workloads as w

    import chainrule as cr
    import chainrule.numpy as cnp
    from chainrule.jet import directional_derivatives, jet

    if case == "nested reverse":
        def deriv(f, y, ones):
            out, back = cr.vjp(f, y)
            return out, back(ones)[0]
        return cr.grad(lambda p, t, x, o: w.pinn_loss(cnp, deriv, p, t, x, o))
    if case == "nested jvp":
        deriv = lambda f, y, ones: cr.jvp(f, (y,), (ones,))
        return cr.grad(lambda p, t, x, o: w.pinn_loss(cnp, deriv, p, t, x, o))

    def taylor_loss(p, t, x, ones):
        u, _, u_xx = directional_derivatives(lambda x: w.pinn_u(cnp, p, t, x), 2)(x)
        u_t = cr.jvp(lambda t: w.pinn_u(cnp, p, t, x), (t,), (ones,))[1]
        r = u_t - w.W6_EPS * u_xx + 5.0 * u**3 - 5.0 * u
        return cnp.mean(r**2)

    def collapsed_loss(p, t, x, ones):
        # along the curve (t − τ²/(2ε), x + τ): d²u/dτ² = u_xx − u_t/ε, so one order-2
        # Taylor pass gives u and u_t − ε·u_xx = −ε·d²u/dτ²
        u, (_, d2) = jet(lambda t, x: w.pinn_u(cnp, p, t, x), (t, x),
                         ([None, -ones / w.W6_EPS], [ones, None]))
        r = -w.W6_EPS * d2 + 5.0 * u**3 - 5.0 * u
        return cnp.mean(r**2)

    g = cr.grad(collapsed_loss if case.startswith("taylor collapsed") else taylor_loss)
    return cr.jit(g) if case.endswith("jit") else g


def _peer_grad(case):
    import peers
    import workloads as w

    impl = peers.IMPLS["torch" if case == "torch eager" else "jax.jit"]()
    g = impl.jit(impl.grad(lambda p, t, x, o: w.pinn_loss(impl.ns, impl.deriv, p, t, x, o)))
    return impl, g


def run_case(case: str) -> dict:
    sys.path.insert(0, HERE)
    import numpy
    import workloads as w

    data = w.pinn_data()
    want = w.pinn_grad_hand(*data)
    if case == "hand":
        fn, args, done = w.pinn_grad_hand, data, lambda g: g
    elif case in ("torch eager", "jax.jit"):
        try:
            impl, fn = _peer_grad(case)
        except Exception as e:  # noqa: BLE001 - a peer not installed: reported, not fatal
            return {"case": case, "error": f"{type(e).__name__}: {e}"}
        args, done = impl.array(data), impl.done
    else:
        fn, args, done = _chainrule_grad(case), data, lambda g: g
    got = done(fn(*args))
    flat = lambda tree: numpy.concatenate([numpy.ravel(numpy.asarray(
        a.detach().numpy() if hasattr(a, "detach") else a)) for layer in tree for a in layer])
    err = float(numpy.linalg.norm(flat(got) - flat(want)) / numpy.linalg.norm(flat(want)))
    wall, cpu = _median_call(lambda *a: done(fn(*a)), args)
    return {"case": case, "seconds": wall, "cpu": cpu, "error": err}


DISCRETE_CASES = ["loss+grad eager", "loss+grad jit", "L-BFGS iteration m=50",
                  "L-BFGS iteration m=10"]


def run_discrete_case(case: str) -> dict:
    """CPU and wall milliseconds of one call (one iteration) of a discrete-network case."""
    import chainrule as cr
    from chainrule.pinn.allen_cahn import DiscretePINN, _blas_limit, lbfgs

    limit = _blas_limit(1)  # as in training
    pinn = DiscretePINN()
    params = pinn.init()
    vg = cr.value_and_grad(pinn.loss)
    if case.startswith("loss+grad"):
        fn = cr.jit(vg) if case.endswith("jit") else vg
        wall, cpu = _median_call(fn, (params,))
        per = {"seconds": wall, "cpu": cpu}
    else:
        m = int(case.rsplit("=", 1)[1])
        jitted = cr.jit(vg)
        jitted(params)  # compiled before timing

        def run(iterations):  # from the same start, so the first 60 iterations repeat
            w0, c0 = time.perf_counter(), time.process_time()
            res = lbfgs(pinn.loss, params, max_iterations=iterations, value_and_grad=jitted,
                        history_size=m, blas_threads=None)
            return time.perf_counter() - w0, time.process_time() - c0, res.iterations

        (w1, c1, n1), (w2, c2, n2) = run(60), run(100)  # iterations 61–100: memory full
        per = {"seconds": (w2 - w1) / (n2 - n1), "cpu": (c2 - c1) / (n2 - n1)}
    if limit is not None:
        limit.restore_original_limits()
    return {"case": case, **per}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--case", help="run one case in this process and print its JSON")
    p.add_argument("--python", default=sys.executable, help="interpreter for the cases")
    p.add_argument("--discrete", action="store_true",
                   help="time one L-BFGS iteration of the discrete Allen-Cahn network instead")
    a = p.parse_args()
    if a.case:
        print(json.dumps(run_discrete_case(a.case) if a.discrete else run_case(a.case)))
        return
    env = dict(os.environ)
    env["PYTHONPATH"] = os.path.join(os.path.dirname(HERE), "src") + os.pathsep + env.get(
        "PYTHONPATH", "")
    if a.discrete:
        discrete_table(a.python, env)
        return
    rows = []
    load_start = os.getloadavg()[0]
    for case in CASES:
        proc = subprocess.run([a.python, __file__, "--case", case], env=env,
                              capture_output=True, text=True, timeout=600)
        try:
            rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        except (IndexError, json.JSONDecodeError):
            rows.append({"case": case, "error": proc.stderr.strip().splitlines()[-1:]})
    base = next((r["seconds"] for r in rows if r["case"] == "nested reverse" and "seconds" in r),
                None)
    print("W6 Allen–Cahn PINN: gradient of mean(residual²), 2000 points, 4×64 tanh, float64; "
          f"load average {load_start:.1f} at the start, {os.getloadavg()[0]:.1f} at the end "
          f"({os.cpu_count()} CPUs)")
    cpu_base = next((r["cpu"] for r in rows if r["case"] == "nested reverse" and "cpu" in r),
                    None)
    print(f"{'case':<22}{'ms / call':>10}{'× nested reverse':>18}{'CPU ms':>9}{'× (CPU)':>9}"
          f"{'rel. error':>12}")
    for r in rows:
        if "seconds" not in r:
            print(f"{r['case']:<22}  unavailable: {r['error']}")
            continue
        ratio = f"{r['seconds'] / base:.2f}" if base else "—"
        cpu_ratio = f"{r['cpu'] / cpu_base:.2f}" if cpu_base else "—"
        print(f"{r['case']:<22}{1e3 * r['seconds']:>10.1f}{ratio:>18}{1e3 * r['cpu']:>9.1f}"
              f"{cpu_ratio:>9}{r['error']:>12.1e}")
    print("CPU ms: this process's CPU time (all its threads); on a busy machine it is the "
          "steadier figure, wall time the one users see.")


def discrete_table(python: str, env: dict) -> None:
    """Print the ``--discrete`` table (each case in a fresh process)."""
    load_start = os.getloadavg()[0]
    rows = []
    for case in DISCRETE_CASES:
        proc = subprocess.run([python, __file__, "--discrete", "--case", case], env=env,
                              capture_output=True, text=True, timeout=900)
        try:
            rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        except (IndexError, json.JSONDecodeError):
            rows.append({"case": case, "error": proc.stderr.strip().splitlines()[-1:]})
    print("Discrete-time Allen-Cahn network (q = 100, 4×200 tanh, 200 points, 141 301 "
          f"parameters, float64, 1 BLAS thread); load average {load_start:.1f} at the start, "
          f"{os.getloadavg()[0]:.1f} at the end ({os.cpu_count()} CPUs)")
    print(f"{'case':<24}{'ms (wall)':>10}{'CPU ms':>9}")
    for r in rows:
        if "cpu" not in r:
            print(f"{r['case']:<24}  failed: {r['error']}")
            continue
        print(f"{r['case']:<24}{1e3 * r['seconds']:>10.1f}{1e3 * r['cpu']:>9.1f}")
    print("An iteration is one loss+grad (rarely more: the line search) plus the L-BFGS "
          "direction; its CPU ms minus the jit loss+grad's is the optimiser's share.")


if __name__ == "__main__":
    main()
