"""A real classifier: handwritten digits (scikit-learn's bundled 8×8 images) with an MLP.

1797 images of 8×8 pixels (0–16), ten classes; 80 % train, 20 % test (stratified). The
network is 64-128-10 with ReLU, trained on the softmax cross-entropy from logits plus a
small L2 penalty, by Adam in mini-batches with :func:`chainrule.nn.fit`. The data ship
with scikit-learn (no download); scikit-learn is an optional dependency of chainrule.
The figures: loss and accuracy per epoch, and the test set's confusion matrix.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy

import chainrule.nn as nn
import chainrule.numpy as np
from chainrule.examples import ExampleResult, pyplot, save_figures
from chainrule.optimize import adam

__all__ = ["run", "load_data", "confusion_matrix"]


def load_data(seed: int = 0, test_fraction: float = 0.2):
    """(x_train, y_train, x_test, y_test): pixels scaled to [0, 1], integer labels.

    Raises:
        ImportError: without scikit-learn, saying how to install it.
    """
    try:
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split
    except ImportError:
        raise ImportError("the digits example needs scikit-learn's bundled digits data: "
                          "pip install chainrule[examples] (or scikit-learn)") from None
    data = load_digits()
    x = data.data / 16.0
    x_train, x_test, y_train, y_test = train_test_split(
        x, data.target, test_size=test_fraction, random_state=seed, stratify=data.target)
    return x_train, y_train, x_test, y_test


def confusion_matrix(labels, predicted, classes: int = 10) -> numpy.ndarray:
    """C[i, j] = how many examples of class i were predicted as j."""
    matrix = numpy.zeros((classes, classes), dtype=int)
    numpy.add.at(matrix, (numpy.asarray(labels), numpy.asarray(predicted)), 1)
    return matrix


def run(out: str | Path | None = None, quick: bool = False, seed: int = 0,
        progress: bool = False, epochs: int | None = None, batch_size: int = 32,
        learning_rate: float = 2e-3, hidden: int = 128, weight_decay: float = 1e-4,
        jit: bool = True) -> ExampleResult:
    """Train the 64-``hidden``-10 MLP on the digits and test it.

    Args:
        out: directory for the figures.
        quick: fewer epochs (for tests and the tour).
        seed: seed of the split, the weights and the shuffling.
        progress: show the training progress.
        epochs: passes over the training set (default 30, quick 20).
        batch_size: examples per Adam step.
        learning_rate: Adam's step.
        hidden: hidden units.
        weight_decay: λ of the L2 penalty λ/2 Σ‖W‖².
        jit: compile the training step with ``cr.jit``.

    Returns:
        The result; ``numbers`` has ``test_accuracy``, ``train_accuracy``, ``seconds``
        (wall time of loading and training), ``epochs`` and the ``confusion`` matrix.

    Raises:
        ImportError: without scikit-learn.
    """
    epochs = epochs if epochs is not None else (20 if quick else 30)
    start = time.perf_counter()
    x_train, y_train, x_test, y_test = load_data(seed)
    model = nn.MLP([hidden, 10], "relu")
    params = model.init(seed, (64,))

    def loss(p, x, y):
        return nn.softmax_cross_entropy(model.apply(p, x), y) + nn.l2_penalty(p, weight_decay)

    def accuracy(p, x, y):
        return np.mean(np.argmax(model.apply(p, x), axis=-1) == y)

    params, history = nn.fit(loss, params, (x_train, y_train), adam(learning_rate),
                             epochs=epochs, batch_size=batch_size, progress=progress,
                             seed=seed, validation_data=(x_test, y_test),
                             metrics={"accuracy": accuracy}, jit=jit)
    seconds = time.perf_counter() - start
    predicted = numpy.argmax(numpy.asarray(model.apply(params, x_test)), axis=-1)
    test_accuracy = float(numpy.mean(predicted == y_test))
    confusion = confusion_matrix(y_test, predicted)
    numbers = {"test_accuracy": test_accuracy, "train_accuracy": history["accuracy"][-1],
               "seconds": seconds, "epochs": epochs, "train_examples": len(y_train),
               "test_examples": len(y_test), "jit": jit, "confusion": confusion.tolist()}
    result = ExampleResult(
        "digits", numbers,
        f"64-{hidden}-10 ReLU MLP: test accuracy {100 * test_accuracy:.1f} % "
        f"({int(numpy.sum(predicted == y_test))}/{len(y_test)}) after {epochs} epochs in "
        f"{seconds:.1f} s ({'jit' if jit else 'eager'})", test_accuracy >= 0.97)
    plt = pyplot()
    if plt is not None:
        result.figures = _figures(plt, history, confusion)
    return save_figures(result, out)


def _figures(plt, history, confusion):
    fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(15, 4.3))
    ax1.plot(history["epoch"], history["loss"], label="training")
    ax1.plot(history["epoch"], history["val_loss"], label="test")
    ax1.set(xlabel="epoch", ylabel="cross-entropy + L2", yscale="log", title="loss")
    ax1.legend()
    ax2.plot(history["epoch"], 100 * numpy.array(history["accuracy"]), label="training")
    ax2.plot(history["epoch"], 100 * numpy.array(history["val_accuracy"]), label="test")
    ax2.axhline(97, color="gray", ls="--", lw=1, label="97 %")
    ax2.set(xlabel="epoch", ylabel="accuracy (%)", title="accuracy", ylim=(80, 100.5))
    ax2.legend()
    im = ax3.imshow(confusion, cmap="Blues")
    for i in range(confusion.shape[0]):
        for j in range(confusion.shape[1]):
            if confusion[i, j]:
                ax3.text(j, i, str(confusion[i, j]), ha="center", va="center", fontsize=8,
                         color="white" if confusion[i, j] > confusion.max() / 2 else "black")
    ax3.set(xlabel="predicted", ylabel="true digit", title="test confusion matrix",
            xticks=range(10), yticks=range(10))
    fig.colorbar(im, ax=ax3, fraction=0.046)
    fig.tight_layout()
    return {"training": fig}
