"""One training step of an MLP: chainrule eager and ``jit`` against hand-written NumPy,
PyTorch eager and ``jax.jit`` (the peers when installed).

    python benchmarks/nn_bench.py [--python PATH] [--cases digits,W5-f64,W5-f32]
                                  [--impls hand,chainrule,chainrule.jit,torch,jax.jit]
                                  [--train] [--quick]

A step is what ``chainrule.nn.fit`` does per batch: the softmax cross-entropy and its
gradient in every parameter, ‖g‖₂, and the SGD update params - η g. Cases:

- ``digits``: 64-128-10, ReLU, batch 32, float64 (the digits example's network);
- ``W5-f64`` / ``W5-f32``: 784-256-10, tanh, batch 128 (workload W5 of the benchmarks).

chainrule's step is ``chainrule.nn.train_step(loss, chainrule.optimize.sgd(η))`` on an
``nn.MLP`` (``jit=True`` for the jit column). Each (case, implementation) runs in a fresh
process, in the default environment (``GLIBC_TUNABLES`` removed); a cell is the median
time per step after a warm-up, and every result (loss, new parameters) is checked against
the hand-written step. ``--train`` also times the digits example end to end (eager and
jit, with this interpreter, which needs scikit-learn) to its test accuracy.
``--python benchmarks/.peers/bin/python`` runs the steps with the interpreter that has
PyTorch and JAX, so that all columns share one NumPy.
"""

import argparse
import json
import math
import os
import subprocess
import sys
import time

import numpy

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(os.path.dirname(HERE), "src")
CASES = {"digits": ((64, 128, 10), "relu", 32, numpy.float64),
         "W5-f64": ((784, 256, 10), "tanh", 128, numpy.float64),
         "W5-f32": ((784, 256, 10), "tanh", 128, numpy.float32)}
IMPLS = ["hand", "chainrule", "chainrule.jit", "torch", "jax.jit"]
LR = 0.01
#: wall time, or the CPU time of the process (all its threads): steadier on a loaded machine
CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}
TORCH_THREADS = 2  # 1 with --clock cpu (the CPU time of all threads counts)


def data(case, seed=0):
    """(params as [W1, b1, W2, b2], X, Y one-hot) for ``case``."""
    (n_in, n_hid, n_out), _, batch, dtype = CASES[case]
    rng = numpy.random.default_rng(seed)
    params = [rng.standard_normal((n_in, n_hid)) / math.sqrt(n_in),
              0.1 * rng.standard_normal(n_hid),
              rng.standard_normal((n_hid, n_out)) / math.sqrt(n_hid),
              0.1 * rng.standard_normal(n_out)]
    X = rng.standard_normal((batch, n_in))
    Y = numpy.eye(n_out)[rng.integers(0, n_out, batch)]
    return [p.astype(dtype) for p in params], X.astype(dtype), Y.astype(dtype)


# --- the implementations: make(case) -> (step(), result of one step as NumPy) -----------


def hand_step(activation):
    def step(params, X, Y):
        W1, b1, W2, b2 = params
        a = X @ W1 + b1
        h = numpy.tanh(a) if activation == "tanh" else numpy.maximum(a, 0)
        z = h @ W2 + b2
        z = z - z.max(axis=1, keepdims=True)
        e = numpy.exp(z)
        s = e.sum(axis=1, keepdims=True)
        n = X.shape[0]
        loss = -numpy.sum(Y * (z - numpy.log(s))) / n
        gz = (e / s - Y) / n
        gh = gz @ W2.T
        gh = gh * (1 - h * h) if activation == "tanh" else gh * (a > 0)
        grads = [X.T @ gh, gh.sum(0), h.T @ gz, gz.sum(0)]
        gnorm = math.sqrt(sum(float(numpy.vdot(g, g)) for g in grads))
        return [p - LR * g for p, g in zip(params, grads)], loss, gnorm

    return step


def make(case, impl):
    _, activation, _, dtype = CASES[case]
    params, X, Y = data(case)
    if impl == "hand":
        step = hand_step(activation)
        return lambda: step(params, X, Y), lambda out: (out[0], out[1])
    if impl.startswith("chainrule"):
        import chainrule.nn as nn
        from chainrule.optimize import sgd

        model = nn.MLP([params[0].shape[1], params[2].shape[1]], activation)
        loss = lambda p, x, y: nn.softmax_cross_entropy(model.apply(p, x), y)
        step = nn.train_step(loss, sgd(LR), jit=impl == "chainrule.jit")
        tree = [{"W": params[0], "b": params[1]}, {"W": params[2], "b": params[3]}]
        state = sgd(LR).init(tree)
        flat = lambda out: ([out[0][0]["W"], out[0][0]["b"], out[0][1]["W"], out[0][1]["b"]],
                            out[2])
        return lambda: step(tree, state, X, Y), flat
    if impl == "torch":
        import torch

        torch.set_num_threads(TORCH_THREADS)
        tp = [torch.from_numpy(p) for p in params]
        tx, ty = torch.from_numpy(X), torch.from_numpy(Y)
        act = torch.tanh if activation == "tanh" else torch.relu

        def step():
            ps = [p.detach().requires_grad_() for p in tp]
            z = act(tx @ ps[0] + ps[1]) @ ps[2] + ps[3]
            loss = -(ty * torch.log_softmax(z, dim=1)).sum() / tx.shape[0]
            grads = torch.autograd.grad(loss, ps)
            with torch.no_grad():
                gnorm = torch.sqrt(sum((g * g).sum() for g in grads))
                new = [p - LR * g for p, g in zip(ps, grads)]
            return new, loss.detach(), gnorm

        return step, lambda out: ([p.numpy() for p in out[0]], float(out[1]))
    if impl == "jax.jit":
        import jax

        jax.config.update("jax_platforms", "cpu")
        if dtype == numpy.float64:
            jax.config.update("jax_enable_x64", True)
        jnp = jax.numpy
        jp = [jnp.asarray(p) for p in params]
        jx, jy = jnp.asarray(X), jnp.asarray(Y)
        act = jnp.tanh if activation == "tanh" else jax.nn.relu

        def loss(ps, x, y):
            z = act(x @ ps[0] + ps[1]) @ ps[2] + ps[3]
            return -(y * jax.nn.log_softmax(z, axis=1)).sum() / x.shape[0]

        @jax.jit
        def step(ps, x, y):
            value, grads = jax.value_and_grad(loss)(ps, x, y)
            gnorm = jnp.sqrt(sum((g * g).sum() for g in grads))
            return [p - LR * g for p, g in zip(ps, grads)], value, gnorm

        call = lambda: jax.block_until_ready(step(jp, jx, jy))
        return call, lambda out: ([numpy.asarray(p) for p in out[0]], float(out[1]))
    raise KeyError(impl)


def measure(call, budget, clock=time.perf_counter):
    for _ in range(3):  # warm-up (jit compiles on the first)
        out = call()
    t0 = clock()
    call()
    one = clock() - t0
    k = max(1, int(2e-3 / max(one, 1e-9)))
    samples = []
    deadline = time.perf_counter() + budget
    while len(samples) < 5 or (time.perf_counter() < deadline and len(samples) < 200):
        t0 = clock()
        for _ in range(k):
            call()
        samples.append((clock() - t0) / k)
    return out, float(numpy.median(samples)), len(samples) * k


def child(case, impl, budget, clock):
    global TORCH_THREADS
    TORCH_THREADS = 1 if clock == "cpu" else 2
    try:
        call, to_numpy = make(case, impl)
    except ImportError as e:
        return {"unavailable": str(e).splitlines()[0]}
    out, seconds, calls = measure(call, budget, CLOCKS[clock])
    new, loss = to_numpy(out)
    params, X, Y = data(case)
    ref_new, ref_loss, _ = hand_step(CASES[case][1])(params, X, Y)
    err = max(abs(float(loss) - ref_loss) / abs(ref_loss),
              *(float(numpy.max(numpy.abs(a - b)) / numpy.max(numpy.abs(b)))
                for a, b in zip(new, ref_new)))
    dtypes = sorted({str(numpy.asarray(p).dtype) for p in new})
    return {"time": seconds, "calls": calls, "err": float(err), "dtypes": dtypes}


def child_train(jit):
    from chainrule.examples import digits

    result = digits.run(jit=jit)
    return {"time": result.numbers["seconds"], "accuracy": result.numbers["test_accuracy"]}


def spawn(python, args, timeout=600):
    env = {k: v for k, v in os.environ.items() if k != "GLIBC_TUNABLES"}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (SRC, HERE, env.get("PYTHONPATH")) if p)
    try:
        proc = subprocess.run([python, os.path.abspath(__file__), *args], env=env,
                              capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out ({timeout} s)"}
    for line in proc.stdout.splitlines()[::-1]:
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
    return {"error": f"crashed (rc={proc.returncode}): {tail}"}


def _ratio(times, a, b):
    return f"{times[a] / times[b]:.2f}×" if times.get(a) and times.get(b) else "—"


def fmt(t):
    return f"{t * 1e3:.3g} ms" if t >= 1e-3 else f"{t * 1e6:.3g} µs"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--cases", default=",".join(CASES))
    ap.add_argument("--impls", default=",".join(IMPLS))
    ap.add_argument("--train", action="store_true", help="also time the digits example")
    ap.add_argument("--quick", action="store_true", help="shorter timing (0.3 s per cell)")
    ap.add_argument("--clock", choices=tuple(CLOCKS), default="wall",
                    help="wall (default) or cpu: the process's CPU time, steadier when the "
                         "machine is shared (with one BLAS thread: OPENBLAS_NUM_THREADS=1)")
    ap.add_argument("--child", nargs=2, metavar=("CASE", "IMPL"), help=argparse.SUPPRESS)
    ap.add_argument("--child-train", choices=("eager", "jit"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    budget = 0.3 if args.quick else 1.5
    if args.child:
        print("RESULT " + json.dumps(child(*args.child, budget, args.clock)))
        return 0
    if args.child_train:
        print("RESULT " + json.dumps(child_train(args.child_train == "jit")))
        return 0
    cases, impls = args.cases.split(","), args.impls.split(",")
    print(f"one training step (loss, gradient, ‖g‖, SGD update); median {args.clock} time per "
          f"step; each cell a fresh process; python {args.python}")
    head = f"{'case':8s}" + "".join(f"{i:>15s}" for i in impls)
    print(head + "   jit/hand  eager/hand  jit/torch")
    bad = False
    for case in cases:
        row = {i: spawn(args.python, ["--child", case, i, "--clock", args.clock]
                        + ["--quick"] * args.quick) for i in impls}
        cells = []
        for i in impls:
            r = row[i]
            if "time" in r:
                tol = 1e-4 if case.endswith("f32") else 1e-9
                ok = r["err"] <= tol
                bad |= not ok
                cells.append(fmt(r["time"]) + ("" if ok else " ✗"))
            else:
                cells.append("—")
        t = {i: row[i].get("time") for i in impls}
        print(f"{case:8s}" + "".join(f"{c:>15s}" for c in cells)
              + f"   {_ratio(t, 'chainrule.jit', 'hand'):>8s}  "
              f"{_ratio(t, 'chainrule', 'hand'):>10s}  {_ratio(t, 'chainrule.jit', 'torch'):>9s}")
        for i in impls:
            r = row[i]
            if "time" not in r:
                print(f"    {i}: {r.get('unavailable') or r.get('error')}")
            elif r["err"] > (1e-4 if case.endswith("f32") else 1e-9):
                print(f"    {i}: differs from the hand-written step by {r['err']:.1e}")
            elif case.endswith("f32") and r["dtypes"] != ["float32"]:
                print(f"    {i}: parameters came back as {r['dtypes']}")
    if args.train:
        print("\ndigits example end to end (load, 30 epochs of Adam, batch 32; wall time):")
        for mode in ("eager", "jit"):
            r = spawn(sys.executable, ["--child-train", mode])  # needs scikit-learn
            if "time" in r:
                print(f"  {mode:5s}: {r['time']:.1f} s, test accuracy {100 * r['accuracy']:.1f} %")
            else:
                print(f"  {mode:5s}: {r.get('error')}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
