"""A shallow ReLU network fitting a function of one variable.

The lecture's f(W) = Σ_i ‖y_i - W₂ σ(W₁ x_i)‖², σ(z) = max(z, 0), with biases so that
the kinks of the hidden units can sit anywhere: ŷ(x) = Σ_j v_j·max(w_j x + b_j, 0) + c,
a piecewise-linear function with one kink per hidden unit. Trained with Adam on the
mean squared error by :func:`chainrule.nn.fit`, it bends into sin(πx) + x²/2 on
[-1, 1]; the figure shows the fit as training goes and the loss curve.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy

import chainrule.nn as nn
from chainrule.examples import ExampleResult, pyplot, save_figures
from chainrule.optimize import adam

__all__ = ["run", "target"]


def target(x):
    """The function to fit: sin(πx) + x²/2."""
    return numpy.sin(math.pi * x) + 0.5 * x**2


def run(out: str | Path | None = None, quick: bool = False, seed: int = 0,
        progress: bool = False, hidden: int = 32, epochs: int | None = None,
        learning_rate: float = 0.005, n: int = 64) -> ExampleResult:
    """Train a 1-``hidden``-1 ReLU network on n points of :func:`target`.

    Args:
        out: directory for the figures.
        quick: fewer epochs (for tests and the tour).
        seed: seed of the weights.
        progress: show the training progress.
        hidden: hidden units.
        epochs: full-batch Adam steps (default 2000, quick 800).
        learning_rate: Adam's step.
        n: training points, evenly spaced on [-1, 1].

    Returns:
        The result; ``numbers`` has ``rmse`` on 401 test points, ``loss`` and ``epochs``.
    """
    epochs = epochs if epochs is not None else (800 if quick else 2000)
    x = numpy.linspace(-1.0, 1.0, n)[:, None]
    y = target(x)
    model = nn.MLP([hidden, 1], "relu")
    params = model.init(seed, (1,))
    x_test = numpy.linspace(-1.0, 1.0, 401)[:, None]
    show = sorted({0, epochs // 40, epochs // 10, epochs // 3, epochs})
    snapshots = {0: model.apply(params, x_test)[:, 0]}

    def keep(epoch, params, record):
        if epoch in show:
            snapshots[epoch] = model.apply(params, x_test)[:, 0]

    loss = lambda p, x, y: nn.mse(model.apply(p, x), y)
    params, history = nn.fit(loss, params, (x, y), adam(learning_rate), epochs=epochs,
                             batch_size=n, progress=progress, seed=seed, callback=keep)
    fit = model.apply(params, x_test)[:, 0]
    rmse = float(numpy.sqrt(numpy.mean((fit - target(x_test[:, 0])) ** 2)))
    numbers = {"rmse": rmse, "loss": history["loss"][-1], "epochs": epochs, "hidden": hidden,
               "seconds": history["time"][-1] if history["time"] else 0.0}
    result = ExampleResult("shallow_relu", numbers,
                           f"1-{hidden}-1 ReLU network: test RMSE {rmse:.3f} after {epochs} "
                           f"Adam steps", rmse < 0.05)
    plt = pyplot()
    if plt is not None:
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
        ax1.plot(x[:, 0], y[:, 0], "k.", ms=4, label="training points")
        cmap = plt.get_cmap("viridis")
        for k, (epoch, values) in enumerate(sorted(snapshots.items())):
            ax1.plot(x_test[:, 0], values, color=cmap(k / max(1, len(snapshots) - 1)),
                     label=f"after {epoch} steps")
        ax1.set(xlabel="x", ylabel="y", title="the fit as training goes")
        ax1.legend(fontsize=8)
        ax2.semilogy(history["epoch"], history["loss"])
        ax2.set(xlabel="Adam step (full batch)", ylabel="mean squared error",
                title="training loss")
        ax2.grid(True, which="both", alpha=0.3)
        fig.tight_layout()
        result.figures = {"fit": fig}
    return save_figures(result, out)
