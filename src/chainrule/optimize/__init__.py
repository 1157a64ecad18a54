"""``chainrule.optimize``: optimisers driven by chainrule's exact derivatives.

- stateful optimisers for training loops (optax's shape): :func:`sgd`, :func:`momentum`,
  :func:`adam`, :func:`adamw`, :func:`rmsprop`, :func:`apply_updates`, gradient clipping,
  learning-rate schedules.
"""

from chainrule.optimize.optimizers import (
    GradientTransformation,
    adam,
    adamw,
    apply_updates,
    chain,
    clip,
    clip_by_global_norm,
    global_norm,
    momentum,
    rmsprop,
    sgd,
)
from chainrule.optimize.schedules import (
    constant_schedule,
    cosine_decay,
    exponential_decay,
    linear_schedule,
    piecewise_constant,
    warmup_cosine_decay,
)

__all__ = [
    "GradientTransformation",
    "adam",
    "adamw",
    "apply_updates",
    "chain",
    "clip",
    "clip_by_global_norm",
    "global_norm",
    "momentum",
    "rmsprop",
    "sgd",
    "constant_schedule",
    "cosine_decay",
    "exponential_decay",
    "linear_schedule",
    "piecewise_constant",
    "warmup_cosine_decay",
]
