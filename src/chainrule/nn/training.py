"""``fit``: a mini-batch training loop over a loss of the parameters, with any optimiser of
:mod:`chainrule.optimize`.

Each epoch shuffles the examples (a seeded permutation), cuts them into batches of
``batch_size`` (the last one smaller when the size does not divide), and per batch takes
one step: (ℓ, g) = value_and_grad(loss)(params, x_b, y_b), (u, s) = optimizer.update(g, s,
params), params ← params + u. The history records per epoch the mean training loss
(weighted by batch size), the last ‖g‖, the validation loss and any metrics.

>>> import numpy, chainrule.nn as nn
>>> from chainrule.optimize import sgd
>>> x = numpy.linspace(-1, 1, 64)[:, None]
>>> y = 2 * x
>>> model = nn.Dense(1)
>>> loss = lambda p, x, y: nn.mse(model.apply(p, x), y)
>>> params, history = nn.fit(loss, model.init(0, (1,)), (x, y), sgd(0.5), epochs=30,
...                          batch_size=16, progress=False)
>>> round(float(params["W"][0, 0]), 4), history["loss"][-1] < 1e-8
(2.0, True)
"""

from __future__ import annotations

import math
import time
from typing import Any, Callable, Mapping

import numpy

from chainrule.core.progress import ProgressBar
from chainrule.core.pytree import tree_flatten, tree_map
from chainrule.jit import jit as cr_jit
from chainrule.optimize import GradientTransformation, apply_updates, global_norm
from chainrule.transforms import value_and_grad

__all__ = ["fit", "train_step", "batches"]


def _rows(data, name: str) -> tuple[Any, Any, int]:
    try:
        x, y = data
    except (TypeError, ValueError):
        raise TypeError(f"fit: {name} must be a pair (inputs, targets) of arrays with the "
                        f"examples along the first axis") from None
    n = len(tree_flatten(x)[0][0])
    for leaf in tree_flatten((x, y))[0]:
        if numpy.ndim(leaf) == 0 or len(leaf) != n:
            raise ValueError(f"fit: every array of {name} must have the same number of "
                             f"examples along its first axis ({n}), got shape "
                             f"{numpy.shape(leaf)}")
    if n == 0:
        raise ValueError(f"fit: {name} has no examples")
    return x, y, n


def _take(tree, index):
    return tree_map(lambda leaf: numpy.asarray(leaf)[index], tree)


def batches(n: int, batch_size: int, rng: numpy.random.Generator | None
            ) -> list[numpy.ndarray]:
    """Index arrays of the batches of one epoch: a permutation of range(n) by ``rng`` (in
    order when ``rng`` is None), cut into pieces of ``batch_size`` (the last may be
    smaller).

    >>> [b.tolist() for b in batches(5, 2, None)]
    [[0, 1], [2, 3], [4]]
    """
    order = numpy.arange(n) if rng is None else rng.permutation(n)
    return [order[k:k + batch_size] for k in range(0, n, batch_size)]


def train_step(loss: Callable, optimizer: GradientTransformation, jit: bool = False
               ) -> Callable:
    """One optimisation step on a batch, as :func:`fit` takes it.

    ``step(params, state, x, y) -> (params, state, loss, grad_norm)``: (ℓ, g) =
    value_and_grad(loss)(params, x, y), (u, state) = optimizer.update(g, state, params),
    params + u (in each parameter's dtype, see :func:`~chainrule.optimize.apply_updates`),
    and ‖g‖₂.

    Args:
        loss: ``loss(params, x, y) -> scalar``.
        optimizer: an optimiser of :mod:`chainrule.optimize`.
        jit: compile the whole step with :func:`chainrule.jit`.

    Returns:
        The step function; start its state with ``optimizer.init(params)``.
    """
    grad_fn = value_and_grad(loss)

    def step(params, state, x, y):
        value, grads = grad_fn(params, x, y)
        norm = global_norm(grads)  # before the update, which may reuse the gradients' memory
        updates, state = optimizer.update(grads, state, params)
        return apply_updates(params, updates), state, value, norm

    return cr_jit(step) if jit else step


def fit(loss: Callable, params: Any, data: Any, optimizer: GradientTransformation,
        epochs: int = 10, batch_size: int = 32, progress: bool = True,
        seed: int | None = 0, validation_data: Any = None,
        metrics: Mapping[str, Callable] | None = None, jit: bool = False,
        shuffle: bool = True, callback: Callable | None = None
        ) -> tuple[Any, dict[str, list]]:
    """Train ``params`` by mini-batch steps of ``optimizer`` on ``loss(params, x, y)``.

    Args:
        loss: ``loss(params, x_batch, y_batch) -> scalar`` (e.g. a network's
            :func:`~chainrule.nn.softmax_cross_entropy` plus an :func:`~chainrule.nn.l2_penalty`).
        params: the initial parameters (a pytree).
        data: ``(x, y)``, arrays (or pytrees of arrays) with the examples on the first axis.
        optimizer: an optimiser of :mod:`chainrule.optimize` (``init``/``update``), e.g.
            ``adam(1e-3)``.
        epochs: passes over the data.
        batch_size: examples per step (the whole set when larger than it).
        progress: show a tqdm bar (loss, ‖g‖, validation numbers), or without tqdm print
            a line every tenth of the epochs.
        seed: seed of the shuffling; the same seed gives the same run.
        validation_data: ``(x, y)`` held out: its loss (and metrics) recorded every epoch.
        metrics: ``{name: fn(params, x, y) -> number}`` recorded every epoch on the
            training data (``name``) and the validation data (``val_name``).
        jit: compile the step (loss, gradient and optimiser update) with
            :func:`chainrule.jit` (one trace per batch shape). Random layers
            (:func:`~chainrule.nn.Dropout`) want ``jit=False``.
        shuffle: shuffle every epoch (else the batches are in order).
        callback: ``callback(epoch, params, record)`` after every epoch, ``record`` that
            epoch's numbers.

    Returns:
        ``(params, history)``: the trained parameters and a dict of per-epoch lists,
        ``epoch``, ``loss`` (mean training loss over the epoch's batches), ``grad_norm``
        (‖g‖ of the epoch's last batch), ``time`` (seconds since the start), and
        ``val_loss``, metrics and ``val_`` metrics when asked for.

    Raises:
        ValueError, TypeError: for malformed data or settings, naming the argument.
    """
    if not isinstance(epochs, int) or epochs < 0:
        raise ValueError(f"fit: epochs must be a non-negative int, got {epochs!r}")
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"fit: batch_size must be a positive int, got {batch_size!r}")
    if not (hasattr(optimizer, "init") and hasattr(optimizer, "update")):
        raise TypeError(f"fit: optimizer must have init and update (e.g. "
                        f"chainrule.optimize.adam(1e-3)), got {type(optimizer).__name__}")
    x, y, n = _rows(data, "data")
    val = _rows(validation_data, "validation_data") if validation_data is not None else None
    metrics = dict(metrics or {})

    step = train_step(loss, optimizer, jit=jit)
    evaluate = {"loss": loss, **metrics}
    if jit:
        evaluate = {k: cr_jit(f) for k, f in evaluate.items()}
    rng = numpy.random.default_rng(seed) if shuffle else None
    state = optimizer.init(params)
    history: dict[str, list] = {"epoch": [], "loss": [], "grad_norm": [], "time": []}
    bar = ProgressBar("epoch", epochs, every=max(1, epochs // 10), unit="epoch",
                      enabled=progress, leave=False)
    start = time.perf_counter()
    try:
        for epoch in range(epochs):
            total, gnorm = 0.0, float("nan")
            for index in batches(n, batch_size, rng):
                params, state, value, g = step(params, state, _take(x, index), _take(y, index))
                value, gnorm = float(value), float(g)
                if not math.isfinite(value):
                    raise FloatingPointError(
                        f"fit: the loss became {value} in epoch {epoch + 1}; lower the "
                        f"learning rate or clip the gradients (chainrule.optimize.chain("
                        f"clip_by_global_norm(1.0), ...))")
                total += value * len(index)
                bar.update(0, loss=value, **{"|g|": gnorm})
            record = {"loss": total / n, "grad_norm": gnorm}
            for name in metrics:
                record[name] = float(evaluate[name](params, x, y))
            if val is not None:
                for name, fn in evaluate.items():
                    record[f"val_{name}"] = float(fn(params, val[0], val[1]))
            history["epoch"].append(epoch + 1)
            history["time"].append(time.perf_counter() - start)
            for key, value in record.items():
                history.setdefault(key, []).append(value)
            bar.update(1, **record)
            if callback is not None:
                callback(epoch + 1, params, record)
    finally:
        bar.close()
    return params, history
