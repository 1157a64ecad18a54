"""``make demo``: the lecture's worked examples, computed in both modes of AD and
checked against finite differences. Run with ``python -m chainrule.demo``."""

from __future__ import annotations

import math
import time

import numpy as onp

import chainrule as cr
import chainrule.numeric as fd
import chainrule.numpy as np


def griewank(x1, x2):
    return (np.sin(x1 / x2) + x1 / x2 - np.exp(x2)) * (x1 / x2 - np.exp(x2))


def log_prod_sin(x1, x2):
    return np.log(x1) + x1 * x2 - np.sin(x2)


def logistic(x, n=4):
    v = x
    for _ in range(n - 1):
        v = 4 * v * (1 - v)
    return v


def rosenbrock(x):
    return np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


def _row(name, at, fwd, rev, numeric):
    def fmt(v):
        return ", ".join(f"{float(c):+.4f}" for c in onp.atleast_1d(v))

    agree = onp.allclose(fwd, rev, rtol=1e-12) and onp.allclose(rev, numeric, rtol=1e-6)
    print(f"{name:<34} {at:<16} {fmt(fwd):<22} {fmt(rev):<22} {fmt(numeric):<22} "
          f"{'yes' if agree else 'NO'}")


def _both_modes(f, point):
    n = len(point)
    fwd = [cr.jvp(f, point, tuple(1.0 if j == i else 0.0 for j in range(n)))[1]
           for i in range(n)]
    rev = cr.grad(f, argnums=tuple(range(n)))(*point)
    numeric = fd.gradient(lambda v: f(*v), onp.array(point), method="richardson")
    return onp.array(fwd), onp.array(rev), numeric


def main() -> None:
    print("chainrule: the lecture's worked examples\n")
    print(f"{'function':<34} {'at':<16} {'forward mode':<22} {'reverse mode':<22} "
          f"{'finite diff.':<22} agree")
    cases = [
        ("(sin(x1/x2)+x1/x2-e^x2)(x1/x2-e^x2)", griewank, (1.5, 0.5)),
        ("ln x1 + x1 x2 - sin x2", log_prod_sin, (2.0, 5.0)),
        ("(x + 5) y", lambda x, y: (x + 5) * y, (2.0, 3.0)),
        ("x y", lambda x, y: x * y, (3.0, 4.0)),
        ("sin(a+b) cos(a+b)", lambda a, b: np.sin(a + b) * np.cos(a + b),
         (math.pi, math.pi / 2)),
    ]
    for name, f, point in cases:
        _row(name, str(tuple(round(p, 4) for p in point)), *_both_modes(f, point))
    for name, f, x in [("x^2 + 5", lambda x: x**2 + 5, 3.0),
                       ("cos(x^2)", lambda x: np.cos(x**2), 5.0),
                       ("logistic map l4(x)", logistic, 0.3)]:
        fwd = cr.derivative(f)(x)
        rev = cr.grad(f)(x)
        _row(name, str(x), fwd, rev, fd.derivative(f, x, method="richardson"))

    print("\nHigher order: 5x^3 at x = 2 ->",
          ", ".join(f"d{k} = {cr.derivative(lambda x: 5 * x**3, order=k)(2.0):g}"
                    for k in (1, 2, 3)), "(lecture: 60, 60, 30)")
    print("Perturbation confusion: grad(x -> x * grad(y -> x + y)(x))(5) =",
          cr.grad(lambda x: x * cr.grad(lambda y: x + y)(x))(5.0), "(must be 1)")
    D = cr.derivative
    print("                        D(x -> x * D(y -> x y)(1))(4) =",
          D(lambda x: x * D(lambda y: x * y)(1.0))(4.0), "(must be 8)")

    rng = onp.random.default_rng(0)
    x = rng.standard_normal(100)
    H = cr.hessian(rosenbrock)(x)
    v = rng.standard_normal(100)
    print(f"\nRosenbrock n = 100: Hessian {H.shape}, symmetric: {onp.allclose(H, H.T)}, "
          f"H·v (forward-over-reverse, never forms H) matches: "
          f"{onp.allclose(cr.hvp(rosenbrock, (x,), (v,)), H @ v)}")

    print("\nCost of a gradient, n inputs -> 1 output (the lecture's n-versus-m rule):")
    for n in (10, 100, 1000):
        x = rng.standard_normal(n)
        t0 = time.perf_counter()
        cr.grad(rosenbrock)(x)
        t_rev = time.perf_counter() - t0
        t0 = time.perf_counter()
        cr.jacfwd(rosenbrock)(x)
        t_fwd = time.perf_counter() - t0
        print(f"  n = {n:5d}: reverse mode {t_rev * 1e3:8.2f} ms (one sweep), "
              f"forward mode {t_fwd * 1e3:8.2f} ms ({n} passes)")
    A = rng.standard_normal((7, 4))
    y = rng.standard_normal(7)
    x = rng.standard_normal(4)
    g = cr.grad(lambda x: 0.5 * np.sum((y - A @ x) ** 2))(x)
    print("\nLeast squares 1/2||y - Ax||^2: AD gradient equals -A^T(y - Ax):",
          onp.allclose(g, -A.T @ (y - A @ x)))
    cr.check_grads(griewank, (1.5, 0.5), order=2)
    print("check_grads(griewank, order=2, both modes): passed")


if __name__ == "__main__":
    main()
