"""Weight initialisers: Glorot (Xavier), He (Kaiming) and LeCun, normal and uniform.

Each draws an array whose variance is ``scale / fan``, the fan chosen so that signals
(Glorot: signals and gradients) keep their size through the layers:

| initialiser | variance | suits |
| --- | --- | --- |
| glorot | 2 / (fan_in + fan_out) | tanh, sigmoid |
| he | 2 / fan_in | relu and its relatives |
| lecun | 1 / fan_in | selu, linear layers |

The normal variants draw N(0, variance); the uniform ones U(-a, a) with a = √(3·variance).
For a kernel of shape (k1, ..., kd, c_in, c_out) the fans are the receptive-field size
k1⋯kd times c_in (resp. c_out); for a matrix (n_in, n_out) they are n_in and n_out.

Every initialiser is ``init(rng, shape, dtype=float64) -> array`` with ``rng`` a seed or a
:class:`numpy.random.Generator`.

>>> import chainrule.nn as nn
>>> w = nn.he_normal(0, (1000, 500))
>>> w.shape, round(float(w.std()), 3)   # √(2/1000) = 0.0447
((1000, 500), 0.045)
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy

__all__ = ["as_rng", "fans", "glorot_normal", "glorot_uniform", "he_normal", "he_uniform",
           "lecun_normal", "lecun_uniform", "zeros", "ones"]


def as_rng(rng: int | numpy.random.Generator | None) -> numpy.random.Generator:
    """A :class:`numpy.random.Generator` from a seed (int), a Generator, or None (fresh).

    Raises:
        TypeError: for anything else.
    """
    if isinstance(rng, numpy.random.Generator):
        return rng
    if rng is None or isinstance(rng, (int, numpy.integer)):
        return numpy.random.default_rng(rng)
    raise TypeError(f"rng must be an int seed or a numpy.random.Generator, got "
                    f"{type(rng).__name__}; pass e.g. numpy.random.default_rng(0)")


def fans(shape: tuple[int, ...]) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight array of ``shape`` (see the module docstring).

    >>> import chainrule.nn as nn
    >>> nn.fans((3, 3, 16, 32))
    (144, 288)
    """
    shape = tuple(shape)
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive = math.prod(shape[:-2])
    return receptive * shape[-2], receptive * shape[-1]


def _variance_scaling(scale: float, mode: str, distribution: str) -> Callable:
    def init(rng, shape, dtype=numpy.float64):
        fan_in, fan_out = fans(shape)
        fan = {"in": fan_in, "avg": (fan_in + fan_out) / 2.0}[mode]
        variance = scale / max(fan, 1)
        gen = as_rng(rng)
        if distribution == "normal":
            w = gen.standard_normal(shape) * math.sqrt(variance)
        else:
            limit = math.sqrt(3.0 * variance)
            w = gen.uniform(-limit, limit, shape)
        return w.astype(dtype)

    return init


def _named(init: Callable, name: str, doc: str) -> Callable:
    init.__name__ = init.__qualname__ = name
    init.__doc__ = (f"{doc}\n\n    Args:\n        rng: a seed or a numpy.random.Generator.\n"
                    "        shape: the array's shape.\n        dtype: its dtype (default "
                    "float64).\n\n    Returns:\n        The drawn array.\n    ")
    return init


glorot_normal = _named(_variance_scaling(1.0, "avg", "normal"), "glorot_normal",
                       "N(0, 2 / (fan_in + fan_out)), Glorot & Bengio (2010).")
glorot_uniform = _named(_variance_scaling(1.0, "avg", "uniform"), "glorot_uniform",
                        "U(-a, a), a = √(6 / (fan_in + fan_out)), Glorot & Bengio (2010).")
he_normal = _named(_variance_scaling(2.0, "in", "normal"), "he_normal",
                   "N(0, 2 / fan_in), He et al. (2015).")
he_uniform = _named(_variance_scaling(2.0, "in", "uniform"), "he_uniform",
                    "U(-a, a), a = √(6 / fan_in), He et al. (2015).")
lecun_normal = _named(_variance_scaling(1.0, "in", "normal"), "lecun_normal",
                      "N(0, 1 / fan_in), LeCun et al. (1998).")
lecun_uniform = _named(_variance_scaling(1.0, "in", "uniform"), "lecun_uniform",
                       "U(-a, a), a = √(3 / fan_in), LeCun et al. (1998).")


def zeros(rng: Any, shape: tuple[int, ...], dtype: Any = numpy.float64) -> numpy.ndarray:
    """An array of zeros (biases); ``rng`` is ignored."""
    return numpy.zeros(shape, dtype)


def ones(rng: Any, shape: tuple[int, ...], dtype: Any = numpy.float64) -> numpy.ndarray:
    """An array of ones (scales); ``rng`` is ignored."""
    return numpy.ones(shape, dtype)
