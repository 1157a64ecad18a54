"""Accuracy study of chainrule.numeric: the truncation / round-off V curve, the error of
``step=None`` per method with its cost, and numdifftools side by side (when installed).

Run with ``PYTHONPATH=src python benchmarks/fd_accuracy.py [--out DIR] [--no-plot]``.
Prints text tables; saves ``DIR/fd_vcurve.png`` when Matplotlib is importable.

Error = max |estimate - exact| / max |exact| over the components of the derivative.
nfev = calls of f (numdifftools may evaluate several points in one call: we count points).
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))

from chainrule.numeric import derivative, gradient  # noqa: E402

# ------------------------------------------------------------------ the test functions


def _griewank(x):
    u, w = x[0] / x[1], np.exp(x[1])
    return (np.sin(u) + u - w) * (u - w)


def _griewank_grad(x):
    x1, x2 = x
    u, w = x1 / x2, np.exp(x2)
    f_u = (np.cos(u) + 1) * (u - w) + (np.sin(u) + u - w)
    f_w = -(u - w) - (np.sin(u) + u - w)
    return np.array([f_u / x2, -f_u * x1 / x2**2 + f_w * w])


def _rosen(x):
    return np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


def _rosen_grad(x):
    g = np.zeros_like(x)
    g[:-1] += -400 * x[:-1] * (x[1:] - x[:-1] ** 2) - 2 * (1 - x[:-1])
    g[1:] += 200 * (x[1:] - x[:-1] ** 2)
    return g


_rng = np.random.default_rng(0)
_W1 = _rng.normal(size=(8, 4)) / 2
_B1 = _rng.normal(size=8) / 4
_W2 = _rng.normal(size=8) / 3


def _net(x):
    """A fixed-weight tanh network R^4 -> R: w2 . tanh(W1 x + b1)."""
    return _W2 @ np.tanh(_W1 @ x + _B1)


def _net_grad(x):
    return _W1.T @ (_W2 * (1 - np.tanh(_W1 @ x + _B1) ** 2))


# (name, f, x, exact derivative, scalar?)
CASES = [
    ("exp at 1", np.exp, 1.0, np.e, True),
    ("sin*cos at 0.7", lambda t: np.sin(t) * np.cos(t), 0.7, np.cos(1.4), True),
    ("Griewank (1.5,0.5)", _griewank, np.array([1.5, 0.5]),
     _griewank_grad(np.array([1.5, 0.5])), False),
    ("Rosenbrock n=10", _rosen, np.linspace(-1.2, 1.1, 10),
     _rosen_grad(np.linspace(-1.2, 1.1, 10)), False),
    ("tanh net R^4", _net, np.array([0.3, -0.7, 1.1, 0.2]),
     _net_grad(np.array([0.3, -0.7, 1.1, 0.2])), False),
]

METHODS = ("forward", "central", "complex", "richardson")


class Counted:
    """Wraps f and counts the points it is evaluated at."""

    def __init__(self, f, scalar, vectorised=False):
        self.f, self.scalar, self.vectorised, self.n = f, scalar, vectorised, 0

    def __call__(self, x):
        self.n += np.size(x) if (self.scalar and self.vectorised) else 1
        return self.f(x)


def error(est, exact):
    est, exact = np.asarray(est), np.asarray(exact)
    return float(np.max(np.abs(est - exact)) / np.max(np.abs(exact)))


def ours(f, x, exact, scalar, method, step=None):
    """Our error and evaluation count (without full_output: it would add evaluations)."""
    c = Counted(f, scalar)
    fn = derivative if scalar else gradient
    est = fn(c, x, method=method, step=step)
    return error(est, exact), c.n


# ------------------------------------------------------------------ (a) V curve


def v_curve(steps):
    table = {}
    for name, f, x, exact, scalar in CASES:
        for method in ("forward", "central", "complex"):
            errs = []
            for h in steps:
                with np.errstate(all="ignore"):
                    if scalar:
                        est = derivative(f, x, method=method, step=h)
                    else:
                        est = gradient(f, x, method=method, step=h)
                errs.append(error(est, exact))
            table[name, method] = errs
    return table


def print_v_curve(steps, table):
    print("(a) error against the step h: truncation (right) meets round-off (left)")
    for name, *_ in CASES:
        print(f"\n  {name}")
        print(f"  {'h':>7} {'forward':>10} {'central':>10} {'complex':>10}")
        for i, h in enumerate(steps):
            row = " ".join(f"{table[name, m][i]:10.1e}" for m in ("forward", "central", "complex"))
            print(f"  {h:7.0e} {row}")
        best = {m: steps[int(np.argmin(table[name, m]))] for m in ("forward", "central")}
        print(f"  best h: forward {best['forward']:.0e}, central {best['central']:.0e} "
              f"(theory ~eps^(1/2) = 1.5e-08, ~eps^(1/3) = 6.1e-06 times the scale)")


def print_defaults():
    print("\n(a') step=None: error (function evaluations)")
    print(f"  {'function':<20}" + "".join(f"{m:>19}" for m in METHODS))
    for name, f, x, exact, scalar in CASES:
        cells = []
        for m in METHODS:
            err, n = ours(f, x, exact, scalar, m)
            cells.append(f"{err:10.1e} ({n:4d})")
        print(f"  {name:<20}" + "".join(f"{c:>19}" for c in cells))


# ------------------------------------------------------------------ (b) numdifftools


def numdifftools_table():
    try:
        import numdifftools as nd
    except ImportError:
        print("\n(b) numdifftools is not installed: comparison skipped "
              "(pip install numdifftools)")
        return None
    print(f"\n(b) against numdifftools {nd.__version__}: error (function evaluations)")
    # numdifftools extrapolates by default (many steps); it has no automatic single step,
    # so the fair pairs are: complex step, extrapolation at its default budget, and
    # extrapolation at our budget (num_steps = 8, like our Richardson sequence).
    pairs = [
        # (label, our method, numdifftools options)
        ("complex step", "complex", dict(method="complex")),
        ("extrapolated, nd default", "richardson", dict(method="central")),
        ("extrapolated, equal budget", "richardson", dict(method="central", num_steps=8)),
        ("vs nd forward, equal budget", "richardson", dict(method="forward", num_steps=16)),
    ]
    print(f"  {'function':<20}{'pair':<28}{'chainrule':>19}{'numdifftools':>20}")
    summary = []
    for name, f, x, exact, scalar in CASES:
        for label, method, opts in pairs:
            err, n = ours(f, x, exact, scalar, method)
            c = Counted(f, scalar, vectorised=True)
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                if scalar:
                    est = nd.Derivative(c, **opts)(x)
                else:
                    est = nd.Gradient(c, **opts)(x)
            nd_err = error(est, exact)
            summary.append((name, label, err, n, nd_err, c.n))
            print(f"  {name:<20}{label:<28}{err:10.1e} ({n:4d}){nd_err:13.1e} ({c.n:4d})")
    strict = [r for r in summary if r[2] <= r[4] and r[3] <= r[5]]
    tie = 1e-14  # both at the rounding floor: a few ulps of difference is noise
    loose = [r for r in summary if (r[2] <= r[4] or max(r[2], r[4]) < tie) and r[3] <= r[5]]
    print(f"\n  chainrule error <= numdifftools' error, with <= its evaluations: "
          f"{len(strict)}/{len(summary)} rows; counting ties below {tie:.0e} "
          f"(both at the rounding floor): {len(loose)}/{len(summary)}")
    for name, label, e, n, ne, nn in summary:
        if (name, label, e, n, ne, nn) not in strict:
            print(f"    not strictly: {name}, {label}: {e:.1e} ({n}) vs {ne:.1e} ({nn})")
    return summary


# ------------------------------------------------------------------ (c) the plot


def plot(steps, table, out):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("\n(c) Matplotlib is not installed: no plot (pip install matplotlib)")
        return None
    fig, axes = plt.subplots(1, len(CASES), figsize=(4 * len(CASES), 3.6), sharey=True)
    floor = 1e-17
    for ax, (name, *_rest) in zip(axes, CASES, strict=True):
        for m, style in (("forward", "o-"), ("central", "s-"), ("complex", "^-")):
            ax.loglog(steps, np.maximum(table[name, m], floor), style, ms=3, label=m)
        eps = np.finfo(float).eps
        for h, color in ((eps ** 0.5, "C0"), (eps ** (1 / 3), "C1")):
            ax.axvline(h, color=color, ls=":", lw=1)  # the step=None rules (scale 1)
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("step h")
        ax.invert_xaxis()
        ax.grid(True, which="major", alpha=0.3)
    axes[0].set_ylabel("relative error")
    axes[0].legend(fontsize=8)
    fig.suptitle("Finite differences: truncation (large h) vs round-off (small h); "
                 "dotted: the default steps eps^(1/2), eps^(1/3)")
    fig.tight_layout()
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, "fd_vcurve.png")
    fig.savefig(path, dpi=110)
    plt.close(fig)
    print(f"\n(c) V-curve plot saved to {path}")
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    here = os.path.dirname(os.path.abspath(__file__))
    parser.add_argument("--out", default=os.path.join(here, "results"),
                        help="folder for the PNG (default benchmarks/results/)")
    parser.add_argument("--no-plot", action="store_true", help="skip the PNG")
    args = parser.parse_args(argv)
    steps = [10.0**-k for k in range(1, 17)]
    table = v_curve(steps)
    print_v_curve(steps, table)
    print_defaults()
    numdifftools_table()
    if not args.no_plot:
        plot(steps, table, args.out)


if __name__ == "__main__":
    main()
