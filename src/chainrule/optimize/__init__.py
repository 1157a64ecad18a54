"""``chainrule.optimize``: optimisers driven by chainrule's exact derivatives.

- :func:`minimize` (SciPy's conventions; every method of the lecture: gd, momentum,
  nesterov, adam, cg, coordinate, bfgs, l-bfgs-b, newton, newton-cg, trust-ncg,
  trust-krylov, trust-exact) returning an :class:`OptimizeResult` with a ``history``;
- :func:`least_squares` (Levenberg–Marquardt, Gauss–Newton, trust region; robust losses;
  the Jacobian by ``jacobian(mode="auto")`` or matrix-free);
- :func:`scipy_objective`: chainrule's derivatives for ``scipy.optimize.minimize``;
- stateful optimisers for training loops (optax's shape): :func:`sgd`, :func:`momentum`,
  :func:`adam`, :func:`adamw`, :func:`rmsprop`, :func:`apply_updates`, gradient clipping,
  learning-rate schedules.
"""

from chainrule.optimize.least_squares_solvers import least_squares
from chainrule.optimize.methods import METHODS, minimize
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
from chainrule.optimize.result import History, OptimizeResult
from chainrule.optimize.schedules import (
    constant_schedule,
    cosine_decay,
    exponential_decay,
    linear_schedule,
    piecewise_constant,
    warmup_cosine_decay,
)
from chainrule.optimize.scipy_bridge import scipy_objective

__all__ = [
    "METHODS",
    "History",
    "OptimizeResult",
    "minimize",
    "least_squares",
    "scipy_objective",
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
