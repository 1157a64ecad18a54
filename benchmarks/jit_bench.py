"""jit(grad(f)) per-call and compile times against eager chainrule and hand gradients.

Run: PYTHONPATH=src python benchmarks/jit_bench.py
(W1 Griewank, W4 logistic map with fori_loop, W5 MLP 784-256-10 batch 128, float64;
JAX is added when installed. PINN and RK4 rows are still to do.)
"""

from __future__ import annotations

import time
import timeit

import numpy as onp

import chainrule as cr
import chainrule.numpy as np


def _per_call(fn, *args, budget=0.5):
    fn(*args)
    n, t = 1, 0.0
    while t < 0.05:
        t = timeit.timeit(lambda: fn(*args), number=n)
        n *= 4
    n = max(1, int(n / 4 * budget / max(t, 1e-9)))
    return min(timeit.repeat(lambda: fn(*args), number=n, repeat=3)) / n


def griewank(x1, x2):
    return (np.sin(x1 / x2) + x1 / x2 - np.exp(x2)) * (x1 / x2 - np.exp(x2))


def logistic(x):
    return cr.fori_loop(0, 1000, lambda i, l: 4.0 * l * (1.0 - l), x)


def mlp_loss(p, x, y):
    h = np.tanh(x @ p["W1"] + p["b1"])
    z = h @ p["W2"] + p["b2"]
    z = z - np.max(z, axis=1, keepdims=True)
    logp = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    return -np.mean(np.sum(y * logp, axis=1))


def main() -> None:
    rng = onp.random.default_rng(0)
    p = {"W1": rng.normal(size=(784, 256)) * 0.05, "b1": onp.zeros(256),
         "W2": rng.normal(size=(256, 10)) * 0.05, "b2": onp.zeros(10)}
    x = rng.normal(size=(128, 784))
    y = onp.eye(10)[rng.integers(0, 10, 128)]
    cases = [
        ("W1 Griewank grad", cr.grad(griewank, argnums=(0, 1)), (1.5, 0.5)),
        ("W4 logistic 1000 grad", cr.grad(logistic), (0.3,)),
        ("W5 MLP grad", cr.grad(mlp_loss), (p, x, y)),
    ]
    print(f"{'workload':26s} {'compile':>10s} {'jit':>12s} {'eager':>12s}")
    for name, g, args in cases:
        t0 = time.perf_counter()
        jg = cr.jit(g)
        jg(*args)
        compile_s = time.perf_counter() - t0
        tj = _per_call(jg, *args)
        te = _per_call(g, *args, budget=0.3)
        print(f"{name:26s} {compile_s * 1e3:8.1f}ms {tj * 1e6:10.2f}µs {te * 1e6:10.2f}µs")


if __name__ == "__main__":
    main()
