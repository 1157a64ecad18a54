"""The optimisation pictures of the lecture: Rosenbrock from (−1.2, 1) by every method
(paths on the contour plot, log₁₀‖x − x*‖ against iteration: Newton's quadratic and
BFGS's superlinear convergence visible) and the lecture's least-squares problem
f(x) = ‖y − Ax‖², A 500×100, by gradient descent with its loss curve. Used by the tour
(``chainrule tour``) and the ``chainrule optimize`` command; Matplotlib is optional
(the numbers come without it).

>>> runs = rosenbrock_runs(["newton", "bfgs"])
>>> [(r.method, r.solved) for r in runs]
[('newton', True), ('bfgs', True)]
"""

from __future__ import annotations

import base64
import html
import io
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as onp

import chainrule.numpy as np
from chainrule import transforms
from chainrule.jit import jit as jit_compile
from chainrule.core.plotting import pyplot
from chainrule.optimize.methods import METHODS, minimize
from chainrule.optimize.optimizers import apply_updates, sgd
from chainrule.optimize.result import OptimizeResult

__all__ = ["Run", "rosenbrock", "rosenbrock_runs", "lecture_least_squares", "table",
           "plot_rosenbrock", "plot_loss", "tour_section", "ROSENBROCK_OPTIONS"]

ROSENBROCK_START = (-1.2, 1.0)

# fixed-step methods need a step the valley tolerates; the rest use their defaults
ROSENBROCK_OPTIONS = {
    "momentum": {"learning_rate": 1e-3, "beta": 0.9},
    "nesterov": {"learning_rate": 1e-3, "beta": 0.9},
    "adam": {"learning_rate": 2e-2},
}


def rosenbrock(x: Any) -> Any:
    """f(x) = Σ 100(x_{i+1} − x_i²)² + (1 − x_i)², minimum 0 at x* = (1, …, 1)."""
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


@dataclass
class Run:
    """One method's run: its path, errors ‖x_k − x*‖ and result."""

    method: str
    result: OptimizeResult
    path: onp.ndarray
    errors: onp.ndarray
    seconds: float
    solved: bool = field(default=False)


def rosenbrock_runs(methods: Sequence[str] | None = None, maxiter: int = 20000,
                    gtol: float = 1e-10) -> list[Run]:
    """Minimise Rosenbrock from (−1.2, 1) by each method, recording the path.

    Args:
        methods: the methods (default: all of :data:`chainrule.optimize.METHODS`).
        maxiter: the iteration budget of each.
        gtol: the gradient tolerance (first-order methods stop at max(gtol, 1e-5)).

    Returns:
        one :class:`Run` per method; ``solved`` means ‖x − x*‖ ≤ 1e-4.
    """
    runs = []
    for method in methods or list(METHODS):
        path = [onp.array(ROSENBROCK_START)]
        opts = dict(ROSENBROCK_OPTIONS.get(method, {}), maxiter=maxiter)
        first_order = method in ("gd", "momentum", "nesterov", "adam", "coordinate")
        opts["gtol"] = max(gtol, 1e-5) if first_order else gtol
        t0 = time.perf_counter()
        r = minimize(rosenbrock, onp.array(ROSENBROCK_START), method=method, options=opts,
                     callback=lambda x, path=path: path.append(onp.array(x)))
        seconds = time.perf_counter() - t0
        p = onp.array(path)
        errors = onp.linalg.norm(p - 1.0, axis=1)
        runs.append(Run(method, r, p, errors, seconds, bool(errors[-1] <= 1e-4)))
    return runs


def table(runs: list[Run]) -> list[dict]:
    """One row per run: iterations, evaluations, final error, time."""
    return [{"method": r.method, "iterations": r.result.nit,
             "f evals": r.result.nfev, "grad evals": r.result.njev,
             "Hessian (·v) evals": r.result.nhev, "|x - x*|": f"{r.errors[-1]:.1e}",
             "ms": f"{r.seconds * 1e3:.1f}", "stopped by": r.result.message.split(":")[0]}
            for r in runs]


def lecture_least_squares(steps: int = 500, step_size: float = 1e-4, seed: int = 0) -> dict:
    """The lecture's problem: f(x) = ‖y − Ax‖², A (500×100), y, x₀ standard normal, by
    gradient descent with the fixed step 10⁻⁴ for 500 steps (the lecture's loop, here
    with chainrule's gradient and the stateful ``sgd``), and by ``minimize(method="gd")``
    with Armijo backtracking for comparison; f* from the normal equations.

    Returns:
        ``fixed`` and ``armijo`` loss curves, ``f_star``, and the final x of each.
    """
    rng = onp.random.default_rng(seed)
    A = rng.normal(size=(500, 100))
    y = rng.normal(size=500)
    x0 = rng.normal(size=100)

    def loss(x):
        r = y - A @ x
        return r @ r

    step = jit_compile(transforms.value_and_grad(loss))
    opt = sgd(step_size)
    x, state, fixed = x0, opt.init(x0), []
    for _ in range(steps):
        value, g = step(x)
        fixed.append(float(value))
        updates, state = opt.update(g, state, x)
        x = apply_updates(x, updates)
    armijo = minimize(loss, x0, method="gd", options={"maxiter": steps, "gtol": 1e-8})
    x_star = onp.linalg.solve(A.T @ A, A.T @ y)   # the normal equations (A has full rank)
    return {"fixed": onp.array(fixed), "armijo": onp.array(armijo.history.f),
            "f_star": float(loss(x_star)), "x_fixed": x, "x_armijo": armijo.x,
            "x_star": x_star}


def _figure_html(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f"<img alt='figure' src='data:image/png;base64,{data}'>"


def plot_rosenbrock(runs: list[Run], path: str | Path | None = None) -> Any:
    """Contour plot with every path, and log₁₀‖x − x*‖ against iteration.

    Returns:
        the Matplotlib figure (saved to ``path`` when given).
    """
    plt = pyplot(required=True)

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 5.2))
    u, v = onp.meshgrid(onp.linspace(-2.0, 2.0, 160), onp.linspace(-1.0, 3.0, 160))
    z = 100.0 * (v - u ** 2) ** 2 + (1.0 - u) ** 2
    ax1.contour(u, v, onp.log10(z + 1e-3), levels=25, cmap="Greys", linewidths=0.6)
    colors = plt.cm.tab20(onp.linspace(0.0, 1.0, max(len(runs), 2)))
    for run, c in zip(runs, colors):
        ax1.plot(run.path[:, 0], run.path[:, 1], ".-", color=c, lw=1, ms=2, label=run.method)
        k = onp.arange(run.errors.size)
        ok = run.errors > 0
        ax2.plot(k[ok], onp.log10(run.errors[ok]), "-", color=c, lw=1.3, label=run.method)
    ax1.plot([1.0], [1.0], "k*", ms=12)
    ax1.plot(*ROSENBROCK_START, "ko", ms=6)
    ax1.set(xlim=(-2, 2), ylim=(-1, 3), xlabel="x₁", ylabel="x₂",
            title="Rosenbrock from (−1.2, 1): every method's path")
    ax2.set(xscale="symlog", xlabel="iteration", ylabel="log₁₀ ‖x − x*‖",
            title="convergence (Newton quadratic, BFGS superlinear)")
    ax2.axhline(-10, color="k", lw=0.5, ls=":")
    ax2.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=110)
    return fig


def plot_loss(ls: dict, path: str | Path | None = None) -> Any:
    """The lecture's least-squares loss curves, f(x_k) − f* on a log scale."""
    plt = pyplot(required=True)

    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    for key, label in (("fixed", "GD, fixed step 1e-4 (the lecture's loop)"),
                       ("armijo", "GD, Armijo backtracking")):
        ax.semilogy(onp.maximum(ls[key] - ls["f_star"], 1e-16), label=label)
    ax.set(xlabel="iteration", ylabel="f(x_k) − f*",
           title="least squares ‖y − Ax‖², A 500×100")
    ax.legend()
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=110)
    return fig


def _html_table(rows: list[dict]) -> str:
    head = "".join(f"<th>{html.escape(k)}</th>" for k in rows[0])
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in r.values())
                   + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def tour_section(out: Path, quick: bool = False) -> tuple[str, str, str, bool]:
    """The tour's optimisation section: (title, HTML, one-line summary, ok).

    The checks: Newton reaches ‖x − x*‖ ≤ 1e-10 within 25 iterations, BFGS within 40,
    every method ends within 1e-4 of x* (first-order methods in the quick tour get a
    smaller budget and are only shown), and the lecture's fixed-step GD decreases the
    loss towards f*.
    """
    runs = rosenbrock_runs(maxiter=300 if quick else 20000)
    first = {r.method: next((k for k, e in enumerate(r.errors) if e <= 1e-10), None)
             for r in runs}
    ok = (first["newton"] is not None and first["newton"] <= 25
          and first["bfgs"] is not None and first["bfgs"] <= 40)
    slow = ("gd", "momentum", "nesterov", "adam", "coordinate")
    ok &= all(r.solved for r in runs if not (quick and r.method in slow))
    ls = lecture_least_squares(steps=200 if quick else 500)
    ok &= bool(ls["fixed"][-1] < ls["fixed"][0] and ls["armijo"][-1] >= ls["f_star"] - 1e-6)
    parts = [
        "<p>Each method of <code>chainrule.optimize.minimize</code> from (−1.2, 1) on "
        "Rosenbrock's function, every derivative from chainrule (gradients by reverse mode, "
        "Hessian-vector products forward over reverse, the Hessian only for newton and "
        "trust-exact). Iterations to ‖x − x*‖ ≤ 1e-10: newton "
        f"{first['newton']}, bfgs {first['bfgs']}.</p>",
        _html_table(table(runs))]
    try:
        parts.append(_figure_html(plot_rosenbrock(runs)))
        parts.append("<p>The lecture's least-squares problem f(x) = ‖y − Ax‖² (A 500×100, "
                     "standard normal data) by gradient descent: the lecture's loop with the "
                     "fixed step 1e-4 (chainrule's gradient, the stateful <code>sgd</code>) "
                     f"reaches f − f* = {ls['fixed'][-1] - ls['f_star']:.3g} after "
                     f"{ls['fixed'].size} steps; Armijo backtracking reaches "
                     f"{ls['armijo'][-1] - ls['f_star']:.3g}.</p>")
        parts.append(_figure_html(plot_loss(ls)))
        import matplotlib.pyplot as plt

        plt.close("all")
    except ImportError:
        parts.append("<p class='note'>figures need Matplotlib "
                     "(pip install chainrule[plot])</p>")
    solved = sum(r.solved for r in runs)
    summary = (f"{solved}/{len(runs)} methods reach x* on Rosenbrock; newton 1e-10 in "
               f"{first['newton']} iterations, bfgs in {first['bfgs']}; lecture least squares "
               f"f - f* = {ls['fixed'][-1] - ls['f_star']:.3g} after {ls['fixed'].size} GD steps")
    return "Optimisation: every method on Rosenbrock, GD on least squares", "\n".join(
        parts), summary, bool(ok)
