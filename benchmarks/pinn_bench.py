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

A second table times one training iteration: the loss and its gradient, then one Adam
step (η = 1e-3) on every parameter: chainrule (``chainrule.optimize.adam``) with
nested jvp and with the collapsed Taylor pass, eager and under ``chainrule.jit`` (the
gradient; the update is NumPy), PyTorch eager (``torch.optim.Adam``) and ``jax.jit`` of
the whole step (Adam written in ``jax.numpy``). The parameters after the step are
checked against NumPy's (hand derivative and Adam written out); ratios are to PyTorch.

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
STEP_CASES = ["step hand", "step nested jvp", "step nested jvp jit", "step taylor collapsed",
              "step taylor collapsed jit", "step torch eager", "step jax.jit"]
ADAM = {"lr": 1e-3, "b1": 0.9, "b2": 0.999, "eps": 1e-8}


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


def _chainrule_grad(case, value=False):
    import workloads as w

    import chainrule as cr
    import chainrule.numpy as cnp
    from chainrule.jet import directional_derivatives, jet

    transform = cr.value_and_grad if value else cr.grad
    if case == "nested reverse":
        def deriv(f, y, ones):
            out, back = cr.vjp(f, y)
            return out, back(ones)[0]
        return cr.grad(lambda p, t, x, o: w.pinn_loss(cnp, deriv, p, t, x, o))
    if case.startswith("nested jvp"):
        deriv = lambda f, y, ones: cr.jvp(f, (y,), (ones,))
        g = transform(lambda p, t, x, o: w.pinn_loss(cnp, deriv, p, t, x, o))
        return cr.jit(g) if case.endswith("jit") else g

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

    g = transform(collapsed_loss if case.startswith("taylor collapsed") else taylor_loss)
    return cr.jit(g) if case.endswith("jit") else g


def _peer_grad(case):
    import peers
    import workloads as w

    impl = peers.IMPLS["torch" if case == "torch eager" else "jax.jit"]()
    g = impl.jit(impl.grad(lambda p, t, x, o: w.pinn_loss(impl.ns, impl.deriv, p, t, x, o)))
    return impl, g


def _hand_step(data):
    """One training iteration in NumPy: the hand derivative, Adam written out."""
    import numpy
    import workloads as w

    params, t, x, ones = data
    state = {"k": 0, "m": None, "v": None}

    def step():
        g = [a for layer in w.pinn_grad_hand(params, t, x, ones) for a in layer]
        flat = [a for layer in params for a in layer]
        if state["m"] is None:
            state["m"] = [numpy.zeros_like(a) for a in flat]
            state["v"] = [numpy.zeros_like(a) for a in flat]
        state["k"] += 1
        k, (lr, b1, b2, eps) = state["k"], ADAM.values()
        for p, gi, m, v in zip(flat, g, state["m"], state["v"], strict=True):
            m *= b1
            m += (1 - b1) * gi
            v *= b2
            v += (1 - b2) * gi * gi
            p -= lr * (m / (1 - b1**k)) / (numpy.sqrt(v / (1 - b2**k)) + eps)
        return params

    return step


def _chainrule_step(case, data):
    import chainrule.optimize as opt

    vg = _chainrule_grad(case.removeprefix("step "), value=True)
    adam = opt.adam(ADAM["lr"], ADAM["b1"], ADAM["b2"], ADAM["eps"])
    params, t, x, ones = data
    state = {"params": params, "opt": adam.init(params)}

    def step():
        _, g = vg(state["params"], t, x, ones)
        updates, state["opt"] = adam.update(g, state["opt"], state["params"])
        state["params"] = opt.apply_updates(state["params"], updates)
        return state["params"]

    return step


def _torch_step(data):
    import peers
    import workloads as w

    impl = peers.IMPLS["torch"]()
    torch = impl.torch
    params, t, x, ones = impl.array(data)
    params = [tuple(a.clone().requires_grad_() for a in layer) for layer in params]
    adam = torch.optim.Adam([a for layer in params for a in layer], lr=ADAM["lr"],
                            betas=(ADAM["b1"], ADAM["b2"]), eps=ADAM["eps"])

    def step():
        adam.zero_grad(set_to_none=True)
        w.pinn_loss(impl.ns, impl.deriv, params, t, x, ones).backward()
        adam.step()
        return [tuple(a.detach().numpy() for a in layer) for layer in params]

    return step


def _jax_step(data):
    import peers
    import workloads as w

    impl = peers.IMPLS["jax.jit"]()
    jax, jnp = impl.jax, impl.ns
    params, t, x, ones = impl.array(data)
    lr, b1, b2, eps = ADAM.values()

    def deriv(f, y, v):
        return jax.jvp(f, (y,), (v,))

    @jax.jit
    def update(params, m, v, k):
        g = jax.grad(lambda p: w.pinn_loss(jnp, deriv, p, t, x, ones))(params)
        m = jax.tree.map(lambda m, g: b1 * m + (1 - b1) * g, m, g)
        v = jax.tree.map(lambda v, g: b2 * v + (1 - b2) * g * g, v, g)
        params = jax.tree.map(lambda p, m, v: p - lr * (m / (1 - b1**k))
                              / (jnp.sqrt(v / (1 - b2**k)) + eps), params, m, v)
        return params, m, v

    zeros = jax.tree.map(jnp.zeros_like, params)
    state = {"params": params, "m": zeros, "v": zeros, "k": 0}

    def step():
        state["k"] += 1
        state["params"], state["m"], state["v"] = jax.block_until_ready(
            update(state["params"], state["m"], state["v"], float(state["k"])))
        return state["params"]

    return step


def run_step_case(case: str) -> dict:
    """One training iteration: (median seconds, CPU seconds, relative difference of the
    parameters after the first step from NumPy's)."""
    import copy

    import numpy
    import workloads as w

    data = w.pinn_data()
    want = _hand_step(copy.deepcopy(data))()
    try:
        if case == "step hand":
            step = _hand_step(copy.deepcopy(data))
        elif case == "step torch eager":
            step = _torch_step(copy.deepcopy(data))
        elif case == "step jax.jit":
            step = _jax_step(copy.deepcopy(data))
        else:
            step = _chainrule_step(case, copy.deepcopy(data))
    except ImportError as e:  # a peer not installed: reported, not fatal
        return {"case": case, "error": f"{type(e).__name__}: {e}"}
    got = step()
    flat = lambda tree: numpy.concatenate([numpy.ravel(numpy.asarray(a)) for layer in tree
                                           for a in layer])
    err = float(numpy.linalg.norm(flat(got) - flat(want)) / numpy.linalg.norm(flat(want)))
    wall, cpu = _median_call(step, ())
    return {"case": case, "seconds": wall, "cpu": cpu, "error": err}


def run_case(case: str) -> dict:
    sys.path.insert(0, HERE)
    import numpy
    import workloads as w

    if case.startswith("step "):
        return run_step_case(case)

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


def _run_cases(cases, python, env) -> list:
    """Each case in a fresh process: its JSON row (or the last line of its error)."""
    rows = []
    for case in cases:
        proc = subprocess.run([python, __file__, "--case", case], env=env,
                              capture_output=True, text=True, timeout=600)
        try:
            rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        except (IndexError, json.JSONDecodeError):
            rows.append({"case": case, "error": proc.stderr.strip().splitlines()[-1:]})
    return rows


def _print_table(rows, base_case: str) -> None:
    """Wall and CPU time per call, each with its ratio to ``base_case``."""
    base = next((r for r in rows if r["case"] == base_case and "seconds" in r), None)
    label = f"× {base_case}"
    print(f"{'case':<27}{'ms / call':>10}{label:>22}{'CPU ms':>9}{'× (CPU)':>9}"
          f"{'rel. error':>12}")
    for r in rows:
        if "seconds" not in r:
            print(f"{r['case']:<27}  unavailable: {r['error']}")
            continue
        ratio = f"{r['seconds'] / base['seconds']:.2f}" if base else "—"
        cpu_ratio = f"{r['cpu'] / base['cpu']:.2f}" if base else "—"
        print(f"{r['case']:<27}{1e3 * r['seconds']:>10.1f}{ratio:>22}{1e3 * r['cpu']:>9.1f}"
              f"{cpu_ratio:>9}{r['error']:>12.1e}")


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
    p.add_argument("--tables", default="gradient,step",
                   help="which tables: gradient (W6 ways of getting u_t, u_xx), step (one "
                        "training iteration), comma-separated")
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
    tables = a.tables.split(",")
    load_start = os.getloadavg()[0]
    grads = _run_cases(CASES, a.python, env) if "gradient" in tables else []
    steps = _run_cases(STEP_CASES, a.python, env) if "step" in tables else []
    print("W6 Allen–Cahn PINN: mean(residual²), 2000 points, 4×64 tanh, float64; "
          f"load average {load_start:.1f} at the start, {os.getloadavg()[0]:.1f} at the end "
          f"({os.cpu_count()} CPUs)")
    if grads:
        print("\nThe gradient (rel. error: against the hand derivative)")
        _print_table(grads, "nested reverse")
    if steps:
        print("\nOne training iteration: loss, gradient, Adam step (rel. error: parameters "
              "after the first step against NumPy's)")
        _print_table(steps, "step torch eager")
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
