"""Fitting y = 2x by gradient descent: the lecture's first learning example.

The data are points (x_i, 2x_i); the model is ŷ = w·x + b and the loss the mean squared
error L(w, b) = 1/n Σ (w x_i + b - y_i)². Gradient descent w ← w - η ∂L/∂w,
b ← b - η ∂L/∂b, with the partials from ``cr.grad``, walks from (w, b) = (-1, 1) to the
minimum (2, 0). The figures show the loss surface with the path, and the loss per step.
"""

from __future__ import annotations

from pathlib import Path

import numpy

import chainrule as cr
import chainrule.numpy as np
from chainrule.core.progress import ProgressBar
from chainrule.examples import ExampleResult, pyplot, save_figures
from chainrule.optimize import apply_updates, sgd

__all__ = ["run", "loss"]


def loss(params, x, y):
    """L(w, b) = mean((w x + b - y)²)."""
    return np.mean((params["w"] * x + params["b"] - y) ** 2)


def run(out: str | Path | None = None, quick: bool = False, seed: int = 0,
        progress: bool = False, steps: int | None = None, learning_rate: float = 0.1,
        n: int = 50) -> ExampleResult:
    """Fit y = 2x by gradient descent from (w, b) = (-1, 1).

    Args:
        out: directory for the figures (None: keep them in memory only).
        quick: fewer steps (for tests and the tour).
        seed: seed of the sample points x ~ U(-1, 1).
        progress: a progress bar with the loss, w and b (without tqdm: a line every
            tenth of the steps).
        steps: gradient steps (default 200, quick 120).
        learning_rate: η.
        n: number of points.

    Returns:
        The result; ``numbers`` has ``w``, ``b``, ``loss``, ``steps`` and the gradient at
        the start, checked against the closed form ∂L/∂w = 2/n Σ (w x + b - y) x.
    """
    steps = steps if steps is not None else (120 if quick else 200)
    x = numpy.random.default_rng(seed).uniform(-1.0, 1.0, n)
    y = 2.0 * x
    params = {"w": -1.0, "b": 1.0}
    grad = cr.grad(loss)
    r = params["w"] * x + params["b"] - y
    g0 = grad(params, x, y)
    grad_error = max(abs(float(g0["w"]) - 2 * float(numpy.mean(r * x))),
                     abs(float(g0["b"]) - 2 * float(numpy.mean(r))))
    opt = sgd(learning_rate)
    state = opt.init(params)
    path, losses = [(params["w"], params["b"])], [float(loss(params, x, y))]
    bar = ProgressBar("step", steps, every=max(1, steps // 10), enabled=progress)
    for _ in range(steps):
        updates, state = opt.update(grad(params, x, y), state, params)
        params = apply_updates(params, updates)
        path.append((float(params["w"]), float(params["b"])))
        losses.append(float(loss(params, x, y)))
        bar.update(loss=losses[-1], w=path[-1][0], b=path[-1][1])
    bar.close()
    w, b = path[-1]
    ok = abs(w - 2.0) < 1e-3 and abs(b) < 1e-3 and grad_error < 1e-12
    numbers = {"w": w, "b": b, "loss": losses[-1], "steps": steps,
               "learning_rate": learning_rate, "initial_loss": losses[0],
               "gradient_error_vs_closed_form": grad_error}
    result = ExampleResult("linear_regression", numbers,
                           f"w = {w:.6f}, b = {b:.2e} after {steps} steps (loss {losses[-1]:.1e})",
                           ok)
    plt = pyplot()
    if plt is not None:
        result.figures = _figures(plt, x, y, numpy.array(path), losses)
    return save_figures(result, out)


def _figures(plt, x, y, path, losses):
    ws, bs = numpy.meshgrid(numpy.linspace(-1.5, 3.0, 121), numpy.linspace(-1.2, 1.6, 101))
    # the loss on the grid, by its expansion in the data's moments
    surface = (ws**2 * numpy.mean(x * x) + 2 * ws * bs * numpy.mean(x) + bs**2
               - 2 * ws * numpy.mean(x * y) - 2 * bs * numpy.mean(y) + numpy.mean(y * y))
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    cs = ax1.contour(ws, bs, surface, levels=numpy.geomspace(1e-3, surface.max(), 14),
                     cmap="viridis")
    ax1.clabel(cs, fontsize=7, fmt="%.2g")
    ax1.plot(path[:, 0], path[:, 1], ".-", color="C3", ms=3, lw=1, label="gradient descent")
    ax1.plot([2.0], [0.0], "k*", ms=12, label="minimum (2, 0)")
    ax1.set(xlabel="w", ylabel="b", title="loss surface L(w, b) and the path")
    ax1.legend(loc="upper left")
    ax2.semilogy(losses, color="C0")
    ax2.set(xlabel="step", ylabel="L(w, b)", title="loss per step")
    ax2.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    return {"path": fig}
