"""Loss functions: mean squared error, cross-entropies from logits, an L2 penalty.

The cross-entropies take logits (unnormalised scores), never probabilities, and are
written so that they stay finite and exact for logits of any size: no ``log(sigmoid(z))``.

>>> import numpy, chainrule.nn as nn
>>> float(nn.mse(numpy.array([1.0, 2.0]), numpy.array([1.0, 4.0])))
2.0
"""

from __future__ import annotations

from typing import Any

import numpy as _numpy

import chainrule.numpy as np
from chainrule.core.pytree import tree_leaves
from chainrule.nn.activations import log_softmax

__all__ = ["mse", "binary_cross_entropy", "softmax_cross_entropy", "l2_penalty", "one_hot"]


def mse(predictions: Any, targets: Any) -> Any:
    """Mean squared error, mean((predictions - targets)²) over every element.

    Args:
        predictions: the model's output.
        targets: the wanted output, broadcastable to ``predictions``.

    Returns:
        A scalar.
    """
    return np.mean((predictions - targets) ** 2)


def binary_cross_entropy(logits: Any, labels: Any) -> Any:
    """Binary cross-entropy of labels y ∈ [0, 1] under P(y = 1) = σ(z), averaged.

    ℓ(z, y) = -y·log σ(z) - (1 - y)·log(1 - σ(z)) = max(z, 0) - y·z + log(1 + e^{-|z|}),
    the last form exact and finite for every z; its derivative in z is σ(z) - y.

    Args:
        logits: z, any shape.
        labels: y, the same shape (0/1 or probabilities).

    Returns:
        The mean of ℓ over all elements.

    >>> import numpy, chainrule.nn as nn
    >>> round(float(nn.binary_cross_entropy(numpy.array([0.0]), numpy.array([1.0]))), 6)
    0.693147
    >>> float(nn.binary_cross_entropy(numpy.array([-1000.0]), numpy.array([1.0])))
    1000.0
    """
    return np.mean(np.maximum(logits, 0.0) - labels * logits + np.log1p(np.exp(-np.abs(logits))))


def one_hot(labels: Any, num_classes: int, dtype: Any = float) -> Any:
    """Integer class labels of shape (n,) as a (n, num_classes) array of zeros and ones.

    >>> import numpy, chainrule.nn as nn
    >>> nn.one_hot(numpy.array([2, 0]), 3).tolist()
    [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]
    """
    return (labels[..., None] == np.arange(num_classes)).astype(dtype)


def _dtype(x):
    dtype = getattr(x, "dtype", None)
    return dtype if dtype is not None else _numpy.asarray(x).dtype


def softmax_cross_entropy(logits: Any, labels: Any, axis: int = -1) -> Any:
    """Cross-entropy of class labels under p = softmax(z), averaged over the examples.

    ℓ(z, y) = -Σ_k y_k·log_softmax(z)_k; its gradient in z is softmax(z) - y (for one-hot
    y), finite for any logits because log_softmax subtracts the maximum first.

    Args:
        logits: z of shape (n, k) (class scores along ``axis``).
        labels: one-hot (or probability) rows of the same shape, or integer classes of
            shape (n,).
        axis: the class axis of ``logits``.

    Returns:
        The mean of ℓ over the examples.

    Raises:
        ValueError: when the labels' shape fits neither form.

    >>> import numpy, chainrule.nn as nn
    >>> z = numpy.array([[2.0, 0.0], [0.0, 0.0]])
    >>> round(float(nn.softmax_cross_entropy(z, numpy.array([0, 1]))), 6)
    0.410038
    """
    logp = log_softmax(logits, axis=axis)
    lshape, zshape = tuple(np.shape(labels)), tuple(np.shape(logits))
    if _numpy.issubdtype(_dtype(labels), _numpy.integer):
        axis = axis % len(zshape)
        if lshape != zshape[:axis] + zshape[axis + 1:]:
            raise ValueError(f"softmax_cross_entropy: integer labels must have the logits' "
                             f"shape without the class axis, {zshape[:axis] + zshape[axis + 1:]},"
                             f" got {lshape}")
        labels = np.moveaxis(one_hot(labels, zshape[axis], logp.dtype), -1, axis)
    elif lshape != zshape:
        raise ValueError(f"softmax_cross_entropy: labels must be one-hot rows of the logits' "
                         f"shape {zshape} or integer classes, got shape {lshape}")
    return -np.sum(labels * logp) * (1.0 / (np.size(logits) // zshape[axis]))


def l2_penalty(params: Any, scale: float = 1.0) -> Any:
    """scale/2 · Σ‖W‖² over the weight arrays of ``params`` (the leaves with ≥ 2 axes).

    Biases, scales and offsets (1-D leaves) are left out, as weight decay usually leaves
    them; add the penalty to a loss: ``loss(params) + l2_penalty(params, 1e-4)``.

    Args:
        params: a pytree of arrays.
        scale: the coefficient λ.

    Returns:
        λ/2 · Σ_W Σ_ij W_ij².

    >>> import numpy, chainrule.nn as nn
    >>> float(nn.l2_penalty({"W": numpy.ones((2, 2)), "b": numpy.ones(2)}, 0.5))
    1.0
    """
    total = 0.0
    for leaf in tree_leaves(params):
        if np.ndim(leaf) >= 2:
            total = total + np.sum(leaf * leaf)
    return 0.5 * scale * total
