"""ODE gradients: W7 (RK4, 1000 steps, damped pendulum; d theta(T)/d(v0, c)) and a
dopri5 solve of a 100-dimensional system (y' = tanh(W y) - y/2, t in [0, 1], rtol =
atol = 1e-6; d sum y(1)^2 / dW, 10^4 parameters), by chainrule.ode's direct gradient
(differentiated steps), its checkpointed variant and the continuous adjoint, against
hand-written NumPy (W7), PyTorch eager (torchdiffeq-style hand code: the same RK4 loop,
and an adaptive dopri5 whose steps autograd records) and JAX (``jax.jit`` of a
``lax.fori_loop`` RK4; ``jax.experimental.ode.odeint``, dopri5 with its adjoint).

Every cell runs in a fresh process (the default environment), best of ``--repeat``
timings after one warm-up call; gradients are checked against the first chainrule column.

    PYTHONPATH=src python benchmarks/ode_bench.py [--python benchmarks/.peers/bin/python]
"""

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as onp

sys.path.insert(0, os.path.dirname(__file__))
from workloads import W7_C, W7_DT, W7_STEPS, W7_THETA0, W7_V0, pendulum_hand  # noqa: E402

N, SEED, TOL = 100, 0, 1e-6


def system_matrix():
    return onp.random.default_rng(SEED).standard_normal((N, N)) / onp.sqrt(N)


def y_start():
    return onp.linspace(-1.0, 1.0, N)


# ---- the cells (each runs inside its own process) -------------------------------------------


def chainrule_w7(gradient, checkpoints=None):
    import chainrule as cr
    import chainrule.numpy as np
    from chainrule.ode import odeint

    def theta_end(v0, c):
        f = lambda y, t, c: np.stack([y[1], -np.sin(y[0]) - c * y[1]])  # noqa: E731
        ts = onp.array([0.0, W7_DT * W7_STEPS])
        ys = odeint(f, np.stack([W7_THETA0, v0]), ts, c, method="rk4", dt=W7_DT,
                    gradient=gradient, checkpoints=checkpoints)
        return ys[1, 0]

    g = cr.grad(theta_end, argnums=(0, 1))
    return lambda: [float(x) for x in g(W7_V0, W7_C)]


def chainrule_w7_tuple():
    """W7 with the state as a tuple (theta, omega) of scalars, as the eager W7 is written."""
    import chainrule as cr
    import chainrule.numpy as np
    from chainrule.ode import odeint

    def theta_end(v0, c):
        f = lambda y, t, c: (y[1], -np.sin(y[0]) - c * y[1])  # noqa: E731
        ts = onp.array([0.0, W7_DT * W7_STEPS])
        theta, _ = odeint(f, (W7_THETA0, v0), ts, c, method="rk4", dt=W7_DT)
        return theta[1]

    g = cr.grad(theta_end, argnums=(0, 1))
    return lambda: [float(x) for x in g(W7_V0, W7_C)]


def chainrule_eager_w7():
    """The same RK4 steps as a Python loop on chainrule scalars (benchmarks/run.py's W7)."""
    import chainrule as cr
    import chainrule.numpy as np
    from workloads import pendulum

    g = cr.grad(lambda v0, c: pendulum(np, v0, c), argnums=(0, 1))
    return lambda: [float(x) for x in g(W7_V0, W7_C)]


def hand_w7():
    return lambda: [float(x) for x in pendulum_hand(W7_V0, W7_C)]


def torch_w7():
    import torch

    def run():
        v0 = torch.tensor(W7_V0, dtype=torch.float64, requires_grad=True)
        c = torch.tensor(W7_C, dtype=torch.float64, requires_grad=True)
        th, om, dt = torch.tensor(W7_THETA0, dtype=torch.float64), v0, W7_DT

        def rhs(th, om):
            return om, -torch.sin(th) - c * om
        for _ in range(W7_STEPS):
            a1, b1 = rhs(th, om)
            a2, b2 = rhs(th + 0.5 * dt * a1, om + 0.5 * dt * b1)
            a3, b3 = rhs(th + 0.5 * dt * a2, om + 0.5 * dt * b2)
            a4, b4 = rhs(th + dt * a3, om + dt * b3)
            th, om = (th + dt / 6 * (a1 + 2 * a2 + 2 * a3 + a4),
                      om + dt / 6 * (b1 + 2 * b2 + 2 * b3 + b4))
        th.backward()
        return [float(v0.grad), float(c.grad)]
    return run


def jax_w7():
    import jax
    import jax.numpy as jnp
    jax.config.update("jax_enable_x64", True)

    def theta_end(v0, c):
        dt = W7_DT

        def rhs(y):
            return jnp.stack([y[1], -jnp.sin(y[0]) - c * y[1]])

        def step(i, y):
            k1 = rhs(y)
            k2 = rhs(y + 0.5 * dt * k1)
            k3 = rhs(y + 0.5 * dt * k2)
            k4 = rhs(y + dt * k3)
            return y + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        return jax.lax.fori_loop(0, W7_STEPS, step, jnp.stack([W7_THETA0, v0]))[0]

    g = jax.jit(jax.grad(theta_end, argnums=(0, 1)))
    return lambda: [float(x) for x in g(W7_V0, W7_C)]


def chainrule_big(gradient, checkpoints=None):
    import chainrule as cr
    import chainrule.numpy as np
    from chainrule.ode import odeint
    y0, ts = y_start(), onp.array([0.0, 1.0])

    def loss(w):
        ys = odeint(lambda y, t, w: np.tanh(w @ y) - 0.5 * y, y0, ts, w, rtol=TOL, atol=TOL,
                    gradient=gradient, checkpoints=checkpoints)
        return np.sum(ys[1] ** 2)

    g = cr.grad(loss)
    return lambda: g(system_matrix()).ravel()[:5].tolist()


def torch_big():
    import torch

    from chainrule.ode.tableaus import DOPRI5  # the same coefficients, as floats
    w = torch.tensor(system_matrix(), requires_grad=True)

    def f(y):
        return torch.tanh(w @ y) - 0.5 * y

    def run():
        w.grad = None
        y, t, h, f0 = torch.tensor(y_start()), 0.0, 0.01, None
        f0 = f(y)
        while t < 1.0:
            h = min(h, 1.0 - t)
            ks = [f0]
            for i in range(1, 7):
                yi = y + h * sum(a * k for a, k in zip(DOPRI5.a[i], ks) if a)
                ks.append(f(yi))
            y1 = y + h * sum(b * k for b, k in zip(DOPRI5.b, ks) if b)
            err = h * sum(e * k for e, k in zip(DOPRI5.e, ks) if e)
            scale = TOL + TOL * torch.maximum(y.abs(), y1.abs())
            ratio = float(torch.sqrt(torch.mean((err / scale) ** 2)))
            if ratio <= 1.0:
                t, y, f0 = t + h, y1, ks[-1]
            h *= min(10.0, max(0.2, 0.9 * max(ratio, 1e-10) ** -0.2))
        torch.sum(y ** 2).backward()
        return w.grad.numpy().ravel()[:5].tolist()
    return run


def jax_big():
    import jax
    import jax.numpy as jnp
    from jax.experimental.ode import odeint
    jax.config.update("jax_enable_x64", True)
    y0, ts = jnp.asarray(y_start()), jnp.array([0.0, 1.0])

    def loss(w):
        ys = odeint(lambda y, t, w: jnp.tanh(w @ y) - 0.5 * y, y0, ts, w, rtol=TOL, atol=TOL)
        return jnp.sum(ys[1] ** 2)

    g = jax.jit(jax.grad(loss))
    return lambda: onp.asarray(g(jnp.asarray(system_matrix()))).ravel()[:5].tolist()


CASES = {
    "W7 rk4 1000 steps": {
        "hand NumPy": (None, "hand_w7()"),
        "chainrule eager loop (no odeint)": (None, "chainrule_eager_w7()"),
        "chainrule direct": (None, "chainrule_w7('direct')"),
        "chainrule direct, tuple state": (None, "chainrule_w7_tuple()"),
        "chainrule direct, 20 checkpoints": (None, "chainrule_w7('direct', 20)"),
        "chainrule adjoint": (None, "chainrule_w7('adjoint')"),
        "torch eager": ("torch", "torch_w7()"),
        "jax.jit fori_loop": ("jax", "jax_w7()"),
    },
    "dopri5 n=100": {
        "chainrule direct": (None, "chainrule_big('direct')"),
        "chainrule direct, 20 checkpoints": (None, "chainrule_big('direct', 20)"),
        "chainrule adjoint": (None, "chainrule_big('adjoint')"),
        "torch eager dopri5": ("torch", "torch_big()"),
        "jax odeint (adjoint), jit": ("jax", "jax_big()"),
    },
}


def cell(expr, repeat):
    fn = eval(expr)
    t0 = time.perf_counter()
    out = fn()
    first = time.perf_counter() - t0
    best = first
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    print(json.dumps({"first": first, "best": best, "out": out}))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default=sys.executable,
                        help="interpreter for the torch/jax cells (where they are installed)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cell", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.cell:
        return cell(args.cell, args.repeat)
    env = dict(os.environ)
    src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")
    env["PYTHONPATH"] = os.path.abspath(src) + os.pathsep + env.get("PYTHONPATH", "")
    for case, cells in CASES.items():
        print(f"\n{case}")
        print(f"{'implementation':36s} {'first call':>11s} {'best':>10s}  "
              "gradient (first entries)")
        ref = None
        for name, (needs, expr) in cells.items():
            python = args.python if needs else sys.executable
            proc = subprocess.run([python, __file__, "--cell", expr, "--repeat",
                                   str(args.repeat)], capture_output=True, text=True, env=env,
                                  timeout=1800)
            if proc.returncode:
                last = (proc.stderr.strip().splitlines() or ["failed"])[-1]
                print(f"{name:36s} {'—':>11s} {'—':>10s}  ({last[:70]})")
                continue
            res = json.loads(proc.stdout.strip().splitlines()[-1])
            out = onp.array(res["out"])
            ref = out if ref is None else ref
            rel = onp.max(onp.abs(out - ref)) / onp.max(onp.abs(ref))
            print(f"{name:36s} {res['first'] * 1e3:9.1f}ms {res['best'] * 1e3:8.1f}ms  "
                  f"{onp.array2string(out[:3], precision=6)}  (rel. diff {rel:.1e})")


if __name__ == "__main__":
    main()
