"""Closed-form derivatives from chainrule.symbolic.matrix against reverse mode and by hand.

Cases (each in a fresh process, float64, median of repeated calls after a warm-up, the
implementations measured interleaved so that the machine's load drifts over all alike):

* ``ls``: least squares ‖y − Ax‖², A 500×100: the gradient −2Aᵀ(y − Ax) as generated NumPy
  code (``lambdify``), written by hand, and by ``cr.grad``;
* ``net``: the lecture's three-layer linear network ‖Y − W₃W₂W₁X‖² (X 100×1000, hidden
  64 and 64, 10 outputs): the gradients in W₁, W₂, W₃ together, the same three ways;
* ``hess``: the Hessian of xᵀAx + ‖Bx‖⁴ (n = 200, B 300×200): generated closed form, by
  hand, and ``cr.hessian``.

The last columns are generated/hand (target ≤ 1.1) and chainrule/generated. The exit status
is 1 when a generated result disagrees with the hand-written one.

Run: PYTHONPATH=src python benchmarks/matrix_calculus_bench.py [--cases ls,net,hess]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import timeit

import numpy as np

CASES = ("ls", "net", "hess")


def _median_times(fns: dict, repeat: int = 15) -> dict:
    """Median time per call of each function, measured interleaved (one batch of each per
    round), so that a change in the machine's load affects all of them alike."""
    number = {}
    for key, fn in fns.items():
        fn()
        number[key] = max(1, int(0.02 / max(timeit.timeit(fn, number=1), 1e-7)))
    samples: dict = {key: [] for key in fns}
    for _ in range(repeat):
        for key, fn in fns.items():
            samples[key].append(timeit.timeit(fn, number=number[key]) / number[key])
    return {key: statistics.median(v) for key, v in samples.items()}


def _case_ls():
    import chainrule as cr
    import chainrule.numpy as cnp
    from chainrule.symbolic.matrix import gradient, lambdify, parse

    rng = np.random.default_rng(0)
    A, x, y = rng.standard_normal((500, 100)), rng.standard_normal(100), rng.standard_normal(500)
    f = parse("norm2(y - A*x)^2")
    generated = lambdify(gradient(f, "x"), args=["A", "x", "y"], name="grad_f")

    def hand(A, x, y):
        return -2.0 * (A.T @ (y - A @ x))

    def loss(A, x, y):
        r = y - A @ x
        return cnp.sum(r * r)

    reverse = cr.grad(loss, argnums=1)
    return generated, hand, reverse, (A, x, y)


def _case_net():
    import chainrule as cr
    import chainrule.numpy as cnp
    from chainrule.symbolic.matrix import gradient, lambdify, parse

    rng = np.random.default_rng(0)
    W1 = rng.standard_normal((64, 100)) / 10
    W2 = rng.standard_normal((64, 64)) / 8
    W3 = rng.standard_normal((10, 64)) / 8
    X, Y = rng.standard_normal((100, 1000)), rng.standard_normal((10, 1000))
    f = parse("norm2(Y - W3*W2*W1*X)^2")
    names = ["W1", "W2", "W3", "X", "Y"]
    generated = lambdify({w: gradient(f, w) for w in ("W1", "W2", "W3")}, args=names,
                         name="grad_net")

    def hand(W1, W2, W3, X, Y):  # products ordered by hand for these shapes
        H1 = W1 @ X
        H2 = W2 @ H1
        R = Y - W3 @ H2
        G1 = -2.0 * (W2.T @ (W3.T @ (R @ X.T)))
        G2 = -2.0 * (W3.T @ (R @ H1.T))
        return G1, G2, -2.0 * (R @ H2.T)

    def loss(W1, W2, W3, X, Y):
        R = Y - W3 @ (W2 @ (W1 @ X))
        return cnp.sum(R * R)

    reverse = cr.grad(loss, argnums=(0, 1, 2))
    return generated, hand, reverse, (W1, W2, W3, X, Y)


def _case_hess():
    import chainrule as cr
    import chainrule.numpy as cnp
    from chainrule.symbolic.matrix import hessian, lambdify, parse

    rng = np.random.default_rng(0)
    n, m = 200, 300
    A, B, x = rng.standard_normal((n, n)), rng.standard_normal((m, n)) / 10, rng.standard_normal(n)
    f = parse("x'*A*x + norm2(B*x)^4")
    generated = lambdify(hessian(f, "x"), args=["A", "B", "x"], like=f, name="hess_f")

    def hand(A, B, x):
        u = B @ x
        v = B.T @ u
        return A + A.T + 4.0 * (u @ u) * (B.T @ B) + 8.0 * np.outer(v, v)

    def fun(x, A, B):
        u = B @ x
        s = cnp.sum(u * u)
        return x @ (A @ x) + s * s

    H = cr.hessian(fun)
    return generated, hand, (lambda A, B, x: H(x, A, B)), (A, B, x)


def run_case(name: str) -> dict:
    """Time one case in this process; the generated code is checked against the hand one."""
    generated, hand, reverse, args = {"ls": _case_ls, "net": _case_net,
                                      "hess": _case_hess}[name]()
    want = hand(*args)
    got = generated(*args)
    ad = reverse(*args)
    ok = all(np.allclose(g, w, rtol=1e-10, atol=1e-10) for g, w in
             zip(np.atleast_1d(got) if not isinstance(got, tuple) else got,
                 np.atleast_1d(want) if not isinstance(want, tuple) else want))
    ok &= all(np.allclose(a, w, rtol=1e-8, atol=1e-8) for a, w in
              zip(ad if isinstance(ad, tuple) else (ad,), want if isinstance(want, tuple)
                  else (want,)))
    times = _median_times({"generated": lambda: generated(*args), "hand": lambda: hand(*args),
                           "chainrule": lambda: reverse(*args)})
    return {"case": name, "ok": bool(ok), "source": generated.source, **times}


def _fmt(t: float) -> str:
    return f"{t * 1e6:.1f} µs" if t < 1e-3 else f"{t * 1e3:.2f} ms"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--case", help=argparse.SUPPRESS)  # the child process
    parser.add_argument("--show-code", action="store_true", help="print the generated code")
    args = parser.parse_args(argv)
    if args.case:
        print(json.dumps(run_case(args.case)))
        return 0
    titles = {"ls": "least squares grad, A 500×100", "net": "3-layer linear net grads",
              "hess": "Hessian xᵀAx + ‖Bx‖⁴, n=200"}
    print("| case | generated | hand | chainrule reverse | generated/hand | "
          "chainrule/generated |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    status = 0
    for name in args.cases.split(","):
        out = subprocess.run([sys.executable, __file__, "--case", name], capture_output=True,
                             text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        status |= not r["ok"]
        print(f"| {titles[name]} | {_fmt(r['generated'])} | {_fmt(r['hand'])} | "
              f"{_fmt(r['chainrule'])} | {r['generated'] / r['hand']:.2f} | "
              f"{r['chainrule'] / r['generated']:.1f}{'' if r['ok'] else ' DISAGREE'} |")
        if args.show_code:
            print("\n```python\n" + r["source"] + "```\n")
    return status


if __name__ == "__main__":
    sys.exit(main())
