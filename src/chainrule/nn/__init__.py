"""chainrule.nn: a small functional network library, in the style of JAX's stax.

A model is a :class:`Layer`: ``params = model.init(rng, input_shape)`` (a pytree: dicts and
lists of arrays) and ``model.apply(params, x)``. Everything is plain chainrule NumPy, so
``cr.grad``, ``cr.jit``, ``cr.vmap`` and ``cr.hessian`` take a loss of the parameters as it
is. Training loops use the stateful optimisers of :mod:`chainrule.optimize` through
:func:`fit`.

>>> import numpy, chainrule as cr, chainrule.nn as nn
>>> model = nn.serial(nn.Dense(4), nn.Activation("tanh"), nn.Dense(1))
>>> params = model.init(0, (2,))
>>> x, y = numpy.ones((3, 2)), numpy.zeros((3, 1))
>>> grads = cr.grad(lambda p: nn.mse(model.apply(p, x), y))(params)
>>> [g["W"].shape for g in grads if g]
[(2, 4), (4, 1)]
"""

from chainrule.nn.activations import (
    gelu,
    leaky_relu,
    log_softmax,
    relu,
    sigmoid,
    softmax,
    softplus,
    tanh,
)
from chainrule.nn.initializers import (
    fans,
    glorot_normal,
    glorot_uniform,
    he_normal,
    he_uniform,
    lecun_normal,
    lecun_uniform,
    ones,
    zeros,
)
from chainrule.nn.layers import (
    MLP,
    Activation,
    Conv1D,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    Layer,
    LayerNorm,
    serial,
)
from chainrule.nn.training import batches, fit, train_step
from chainrule.nn.losses import (
    binary_cross_entropy,
    l2_penalty,
    mse,
    one_hot,
    softmax_cross_entropy,
)

__all__ = [
    "Layer", "Dense", "MLP", "Conv1D", "Conv2D", "Dropout", "LayerNorm", "Activation",
    "Flatten", "serial",
    "relu", "leaky_relu", "sigmoid", "tanh", "softplus", "gelu", "softmax", "log_softmax",
    "mse", "binary_cross_entropy", "softmax_cross_entropy", "l2_penalty", "one_hot",
    "glorot_normal", "glorot_uniform", "he_normal", "he_uniform", "lecun_normal",
    "lecun_uniform", "zeros", "ones", "fans", "fit", "train_step", "batches",
]
