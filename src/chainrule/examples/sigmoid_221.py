"""The lecture's 2-2-1 sigmoid network, traced by hand and trained on XOR.

The lecture writes the network as an expression graph (no biases):

    t0 = a·w000 + b·w010,  c = σ(t0)
    t1 = a·w001 + b·w011,  d = σ(t1)
    t2 = c·w100 + d·w101,  f = σ(t2)

and backpropagation as reverse-mode AD on it: ∂s/∂u = Σ_f ∂f/∂u · ∂s/∂f over the nodes f
that use u. Here s = ½(f - y)² for one example. The forward and reverse trace tables of s
(``cr.trace_table``) show every v_i and adjoint v̄_i; the adjoints of the weights are the
backpropagation formulas δ₂ = (f - y) f (1 - f), w̄100 = δ₂ c, w̄101 = δ₂ d,
w̄000 = δ₂ w100 c (1 - c) a, … (checked). Trained with Adam on the four XOR examples, the
network learns XOR without biases; the figure shows its output over the unit square.
"""

from __future__ import annotations

import html
from pathlib import Path

import numpy

import chainrule as cr
import chainrule.numpy as np
from chainrule.core.progress import ProgressBar
from chainrule.examples import ExampleResult, pyplot, save_figures
from chainrule.nn import sigmoid
from chainrule.optimize import adam, apply_updates

__all__ = ["run", "network", "example_loss", "backprop_by_hand", "WEIGHTS", "XOR_INPUTS",
           "XOR_TARGETS"]

#: the weights in the lecture's naming: w_{layer, input, unit}
WEIGHTS = ("w000", "w010", "w001", "w011", "w100", "w101")
XOR_INPUTS = numpy.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_TARGETS = numpy.array([0.0, 1.0, 1.0, 0.0])


def network(a, b, w000, w010, w001, w011, w100, w101):
    """f(a, b) of the 2-2-1 sigmoid network, in the lecture's order of operations."""
    t0 = a * w000 + b * w010
    c = sigmoid(t0)
    t1 = a * w001 + b * w011
    d = sigmoid(t1)
    t2 = c * w100 + d * w101
    return sigmoid(t2)


def example_loss(a, b, y, w000, w010, w001, w011, w100, w101):
    """s = ½ (f(a, b) - y)², the squared error of one example."""
    e = network(a, b, w000, w010, w001, w011, w100, w101) - y
    return 0.5 * e * e


def backprop_by_hand(a, b, y, w000, w010, w001, w011, w100, w101) -> dict[str, float]:
    """∂s/∂w for every weight by the textbook backpropagation formulas."""
    sig = lambda t: 1.0 / (1.0 + numpy.exp(-t))
    c, d = sig(a * w000 + b * w010), sig(a * w001 + b * w011)
    f = sig(c * w100 + d * w101)
    delta2 = (f - y) * f * (1 - f)
    delta_c, delta_d = delta2 * w100 * c * (1 - c), delta2 * w101 * d * (1 - d)
    return {"w000": delta_c * a, "w010": delta_c * b, "w001": delta_d * a,
            "w011": delta_d * b, "w100": delta2 * c, "w101": delta2 * d}


def _batch_loss(w, x, y):
    """Σ_i ½ (f(x_i) - y_i)² over the examples, w = the six weights as a vector."""
    f = network(x[:, 0], x[:, 1], *(w[k] for k in range(6)))
    return 0.5 * np.sum((f - y) ** 2)


def run(out: str | Path | None = None, quick: bool = False, seed: int = 0,
        progress: bool = False, steps: int | None = None, learning_rate: float = 0.1,
        point: tuple[float, float, float] = (1.0, 1.0, 0.0)) -> ExampleResult:
    """Trace tables of the 2-2-1 network at its initial weights, then training on XOR.

    Args:
        out: directory for the figures and the tables (``sigmoid_221_tables.md``).
        quick: fewer steps (for tests and the tour).
        seed: seed of the initial weights (N(0, 2²)). Without biases XOR is hard to
            reach: from most starts Adam stalls at a saddle (outputs near ½); seed 0
            converges.
        progress: a progress bar with the loss (without tqdm: a line every tenth of the
            steps).
        steps: full-batch Adam steps (default 1500, quick 1000).
        learning_rate: Adam's step.
        point: the example (a, b, y) the tables trace.

    Returns:
        The result; ``numbers`` has the initial and trained ``weights``, the ``outputs`` on
        the XOR inputs, ``max_error`` on them, ``loss``, and ``table_gradient_error`` (the
        reverse table's w̄ against :func:`backprop_by_hand`).
    """
    steps = steps if steps is not None else (1000 if quick else 1500)
    w0 = 2.0 * numpy.random.default_rng(seed).standard_normal(6)
    a, b, y = point
    forward = cr.trace_table(example_loss, a, b, y, *w0, mode="forward", wrt="w100")
    reverse = cr.trace_table(example_loss, a, b, y, *w0, mode="reverse")
    by_hand = backprop_by_hand(a, b, y, *w0)
    table_error = float(max(abs(float(reverse[f"{name}_bar"]) - by_hand[name]) for name in WEIGHTS))
    tangent_error = float(abs(float(forward["y_dot"]) - by_hand["w100"]))

    grad = cr.grad(_batch_loss)
    opt = adam(learning_rate)
    w = w0.copy()
    state = opt.init(w)
    losses = [float(_batch_loss(w, XOR_INPUTS, XOR_TARGETS))]
    bar = ProgressBar("step", steps, every=max(1, steps // 10), enabled=progress)
    for _ in range(steps):
        updates, state = opt.update(grad(w, XOR_INPUTS, XOR_TARGETS), state, w)
        w = apply_updates(w, updates)
        losses.append(float(_batch_loss(w, XOR_INPUTS, XOR_TARGETS)))
        bar.update(loss=losses[-1])
    bar.close()
    outputs = numpy.asarray(network(XOR_INPUTS[:, 0], XOR_INPUTS[:, 1], *w))
    max_error = float(numpy.max(numpy.abs(outputs - XOR_TARGETS)))
    numbers = {"initial_weights": dict(zip(WEIGHTS, map(float, w0), strict=True)),
               "weights": dict(zip(WEIGHTS, map(float, w), strict=True)),
               "outputs": [float(o) for o in outputs], "max_error": max_error,
               "loss": losses[-1], "steps": steps, "table_gradient_error": table_error,
               "table_tangent_error": tangent_error,
               "traced_point": {"a": a, "b": b, "y": y}}
    ok = max_error < 0.1 and table_error < 1e-12 and tangent_error < 1e-12
    weights_text = ", ".join(f"{n} = {v:.2f}" for n, v in zip(WEIGHTS, w, strict=True))
    result = ExampleResult(
        "sigmoid_221", numbers,
        f"XOR outputs {[round(float(o), 3) for o in outputs]} after {steps} Adam steps "
        f"({weights_text}); trace-table adjoints = backprop formulas to {table_error:.0e}", ok)
    rows = "".join(f"<tr><td>{n}</td><td>{v0:.4f}</td><td>{v:.4f}</td></tr>"
                   for n, v0, v in zip(WEIGHTS, w0, w, strict=True))
    result.html = (f"<p>Tables of s = ½(f − y)² at (a, b, y) = {html.escape(str(point))} and "
                   f"the initial weights; forward mode seeds ẇ100 = 1.</p>"
                   f"{forward.to_html()}{reverse.to_html()}"
                   f"<table class='cr-compare'><tr><th>weight</th><th>initial</th>"
                   f"<th>after training on XOR</th></tr>{rows}</table>")
    if out is not None:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        path = out / "sigmoid_221_tables.md"
        path.write_text(f"{forward.to_markdown()}\n\n{reverse.to_markdown()}\n",
                        encoding="utf-8")
        result.files.append(path)
    plt = pyplot()
    if plt is not None:
        result.figures = {"xor": _figure(plt, w, losses)}
    return save_figures(result, out)


def _figure(plt, w, losses):
    grid = numpy.linspace(-0.25, 1.25, 121)
    ga, gb = numpy.meshgrid(grid, grid)
    f = numpy.asarray(network(ga, gb, *w))
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.4))
    im = ax1.contourf(ga, gb, f, levels=numpy.linspace(0, 1, 21), cmap="RdBu_r")
    ax1.contour(ga, gb, f, levels=[0.5], colors="k", linewidths=1)
    fig.colorbar(im, ax=ax1, label="f(a, b)")
    for (a, b), t in zip(XOR_INPUTS, XOR_TARGETS, strict=True):
        ax1.plot(a, b, "o", ms=11, mfc="white" if t else "black", mec="k")
    ax1.set(xlabel="a", ylabel="b", title="trained 2-2-1 network on XOR (f = ½ in black)")
    ax2.semilogy(losses)
    ax2.set(xlabel="Adam step", ylabel="Σ ½ (f - y)²", title="training loss")
    ax2.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    return fig
