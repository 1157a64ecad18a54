"""Activation functions: elementwise nonlinearities and the (log-)softmax.

Each is written in :mod:`chainrule.numpy`, so it differentiates to any order, keeps the
input's floating precision (float32 stays float32) and works under ``jit`` and ``vmap``.
The exponential ones are written so that large inputs give finite values and gradients.

>>> import numpy, chainrule.nn as nn
>>> nn.relu(numpy.array([-1.0, 2.0])).tolist()
[0.0, 2.0]
>>> [round(float(v), 4) for v in nn.softmax(numpy.array([1.0, 2.0, 3.0]))]
[0.09, 0.2447, 0.6652]
"""

from __future__ import annotations

import math
from typing import Any, Callable

import chainrule.numpy as np
from chainrule.scipy import special

__all__ = ["relu", "leaky_relu", "sigmoid", "tanh", "softplus", "gelu", "softmax",
           "log_softmax", "ACTIVATIONS", "get_activation"]

_SQRT_HALF = 1.0 / math.sqrt(2.0)


def relu(x: Any) -> Any:
    """relu(x) = max(x, 0); its derivative is 1 for x > 0 and 0 for x < 0."""
    return np.maximum(x, 0.0)


def leaky_relu(x: Any, negative_slope: float = 0.01) -> Any:
    """leaky_relu(x) = x for x ≥ 0 and negative_slope·x below; derivative 1 or the slope.

    >>> import numpy, chainrule.nn as nn
    >>> nn.leaky_relu(numpy.array([-2.0, 3.0]), 0.1).tolist()
    [-0.2, 3.0]
    """
    return np.where(x >= 0, x, negative_slope * x)


def sigmoid(x: Any) -> Any:
    """σ(x) = 1 / (1 + e^{-x}), σ' = σ(1 - σ); exact 0 and 1 in the far tails, no overflow.

    >>> import chainrule.nn as nn
    >>> float(nn.sigmoid(0.0))
    0.5
    """
    return special.expit(x)


def tanh(x: Any) -> Any:
    """tanh(x) = (e^x - e^{-x}) / (e^x + e^{-x}), tanh' = 1 - tanh²."""
    return np.tanh(x)


def softplus(x: Any) -> Any:
    """softplus(x) = log(1 + e^x), a smooth relu; its derivative is σ(x).

    Computed as ``logaddexp(x, 0)``: finite for any x.

    >>> import chainrule.nn as nn
    >>> round(float(nn.softplus(0.0)), 6), float(nn.softplus(1000.0))
    (0.693147, 1000.0)
    """
    return np.logaddexp(x, 0.0)


def gelu(x: Any, approximate: bool = False) -> Any:
    """gelu(x) = x·Φ(x) = x/2·(1 + erf(x/√2)), Φ the standard normal distribution function.

    Args:
        x: the input.
        approximate: use Hendrycks & Gimpel's tanh form
            x/2·(1 + tanh(√(2/π)(x + 0.044715 x³))) instead of erf.

    >>> import chainrule.nn as nn
    >>> round(float(nn.gelu(1.0)), 6), round(float(nn.gelu(1.0, approximate=True)), 6)
    (0.841345, 0.841192)
    """
    if approximate:
        c = math.sqrt(2.0 / math.pi)
        return 0.5 * x * (1.0 + np.tanh(c * (x + 0.044715 * x**3)))
    return 0.5 * x * (1.0 + special.erf(x * _SQRT_HALF))


def softmax(x: Any, axis: int = -1) -> Any:
    """softmax(x)_i = e^{x_i} / Σ_j e^{x_j} along ``axis`` (the maximum subtracted first)."""
    return special.softmax(x, axis=axis)


def log_softmax(x: Any, axis: int = -1) -> Any:
    """log_softmax(x)_i = x_i - log Σ_j e^{x_j} along ``axis``, finite for any finite x.

    >>> import numpy, chainrule.nn as nn
    >>> nn.log_softmax(numpy.array([1000.0, 0.0])).tolist()
    [0.0, -1000.0]
    """
    return special.log_softmax(x, axis=axis)


#: the activations by name, for ``MLP(widths, "relu")`` and the command line
ACTIVATIONS = {"relu": relu, "leaky_relu": leaky_relu, "sigmoid": sigmoid, "tanh": tanh,
               "softplus": softplus, "gelu": gelu}


def get_activation(activation: str | Callable) -> Callable:
    """The activation function named ``activation`` (or ``activation`` itself if callable).

    Raises:
        ValueError: for an unknown name, listing the known ones.
    """
    if callable(activation):
        return activation
    try:
        return ACTIVATIONS[activation]
    except (KeyError, TypeError):
        raise ValueError(f"activation must be a callable or one of {sorted(ACTIVATIONS)}, "
                         f"got {activation!r}") from None
