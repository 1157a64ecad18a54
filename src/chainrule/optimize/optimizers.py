"""Stateful optimisers for training loops, in optax's shape.

An optimiser is a pair of pure functions, ``init(params) -> state`` and
``update(grads, state, params) -> (updates, state)``; :func:`apply_updates` adds the
updates to the parameters. Parameters, gradients, updates and states are pytrees
(nested tuples, lists, dicts of arrays), and every function is written with
:mod:`chainrule.numpy` without branching on values, so a whole training step runs
under :func:`chainrule.jit`. With g the gradient and η_k the learning rate (a number or a
schedule of the step count k = 1, 2, …):

- ``sgd``:       u = −η g  (with ``momentum`` β: m ← β m + g, u = −η m; Nesterov:
  u = −η (g + β m))
- ``momentum``:  the heavy ball, ``sgd`` with β = 0.9 by default
- ``rmsprop``:   v ← ρ v + (1 − ρ) g², u = −η g / (√v + ε)
- ``adam``:      m ← β₁ m + (1 − β₁) g, v ← β₂ v + (1 − β₂) g²,
  u = −η m̂ / (√v̂ + ε) with m̂ = m / (1 − β₁^k), v̂ = v / (1 − β₂^k)
- ``adamw``:     Adam plus decoupled weight decay, u ← u − η λ θ

``clip(max_delta)`` and ``clip_by_global_norm(max_norm)`` transform gradients and
:func:`chain` runs transformations in order, e.g. ``chain(clip_by_global_norm(1.0),
adam(1e-3))``.

>>> import chainrule as cr
>>> import chainrule.numpy as np
>>> def loss(p):
...     return np.sum((p["w"] - 3.0) ** 2) + (p["b"] + 1.0) ** 2
>>> opt = adam(0.1)
>>> params = {"w": np.zeros(2), "b": 0.0}
>>> state = opt.init(params)
>>> for _ in range(300):
...     updates, state = opt.update(cr.grad(loss)(params), state, params)
...     params = apply_updates(params, updates)
>>> np.round(params["w"], 3).tolist(), round(float(params["b"]), 3)
([3.0, 3.0], -1.0)
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import chainrule.numpy as np
from chainrule.core.primitive import dtype_of
from chainrule.core.pytree import tree_leaves, tree_map
from chainrule.optimize.schedules import Schedule, as_schedule

__all__ = [
    "GradientTransformation",
    "sgd",
    "momentum",
    "adam",
    "adamw",
    "rmsprop",
    "clip",
    "clip_by_global_norm",
    "chain",
    "apply_updates",
    "global_norm",
]


class GradientTransformation(NamedTuple):
    """An optimiser: ``init(params) -> state``, ``update(grads, state, params=None) ->
    (updates, state)``."""

    init: Callable[[Any], Any]
    update: Callable[..., tuple[Any, Any]]


class ScaleState(NamedTuple):
    """The step count (a float array, so that it can be traced under ``jit``)."""
    count: Any


class MomentumState(NamedTuple):
    """Step count and velocity m."""
    count: Any
    velocity: Any


class RMSPropState(NamedTuple):
    """Step count, running mean of g² (ν) and velocity (used when momentum > 0)."""
    count: Any
    nu: Any
    velocity: Any


class AdamState(NamedTuple):
    """Step count, first moment μ and second moment ν."""
    count: Any
    mu: Any
    nu: Any


class EmptyState(NamedTuple):
    """No state (clipping)."""


def _zeros(params):
    return tree_map(lambda p: np.zeros_like(p, dtype=float) if not _is_float(p)
                    else np.zeros_like(p), params)


def _is_float(p) -> bool:
    dt = getattr(p, "dtype", None)
    return dt is not None and dt.kind in "fc"


def _times(s, g):
    """s·g in g's precision: a step-size factor that is a 0-d or traced array (a step
    count, a schedule) must not turn float32 parameters into float64."""
    if type(s) is not float and _is_float(g) and getattr(s, "dtype", g.dtype) != g.dtype:
        s = s.astype(g.dtype)
    return s * g


def _count0():
    return np.zeros(())


def _check_grads(grads, state_like, who: str) -> None:
    if len(tree_leaves(grads)) != len(tree_leaves(state_like)):
        raise ValueError(f"{who}.update: grads have {len(tree_leaves(grads))} leaves but the "
                         f"state was made by init() for {len(tree_leaves(state_like))}; pass "
                         "gradients shaped like the params given to init()")


def _check_beta(name: str, value: float, who: str) -> None:
    if not 0.0 <= value < 1.0:
        raise ValueError(f"{who}: {name} must lie in [0, 1), got {value}")


def sgd(learning_rate: float | Schedule, momentum: float = 0.0,
        nesterov: bool = False) -> GradientTransformation:
    """Stochastic gradient descent, optionally with (Nesterov) momentum.

    Args:
        learning_rate: η, a number or a schedule of the step count.
        momentum: β in m ← β m + g (0: plain SGD).
        nesterov: use u = −η (g + β m) (the look-ahead form).

    Returns:
        the optimiser.
    """
    lr = as_schedule(learning_rate, "sgd")
    _check_beta("momentum", momentum, "sgd")

    def init(params):
        return MomentumState(_count0(), _zeros(params) if momentum else None)

    def update(grads, state, params=None):
        count = state.count + 1.0
        eta = lr(count)
        if not momentum:
            return tree_map(lambda g: _times(-eta, g), grads), MomentumState(count, None)
        _check_grads(grads, state.velocity, "sgd")
        vel = tree_map(lambda m, g: momentum * m + g, state.velocity, grads)
        if nesterov:
            upd = tree_map(lambda g, m: _times(-eta, g + momentum * m), grads, vel)
        else:
            upd = tree_map(lambda m: _times(-eta, m), vel)
        return upd, MomentumState(count, vel)

    return GradientTransformation(init, update)


def momentum(learning_rate: float | Schedule, beta: float = 0.9,
             nesterov: bool = False) -> GradientTransformation:
    """Heavy-ball momentum: m ← β m + g, u = −η m (Nesterov: u = −η (g + β m)).

    Args:
        learning_rate: η, a number or a schedule.
        beta: the momentum coefficient β.
        nesterov: the look-ahead form.

    Returns:
        the optimiser.
    """
    return sgd(learning_rate, momentum=beta, nesterov=nesterov)


def rmsprop(learning_rate: float | Schedule, decay: float = 0.9, eps: float = 1e-8,
            momentum: float = 0.0) -> GradientTransformation:
    """RMSProp: ν ← ρ ν + (1 − ρ) g², u = −η g / (√ν + ε) (with momentum β: m ← β m +
    g / (√ν + ε), u = −η m).

    Args:
        learning_rate: η, a number or a schedule.
        decay: ρ.
        eps: ε.
        momentum: β (0: none).

    Returns:
        the optimiser.
    """
    lr = as_schedule(learning_rate, "rmsprop")
    _check_beta("decay", decay, "rmsprop")
    _check_beta("momentum", momentum, "rmsprop")

    def init(params):
        return RMSPropState(_count0(), _zeros(params), _zeros(params) if momentum else None)

    def update(grads, state, params=None):
        _check_grads(grads, state.nu, "rmsprop")
        count = state.count + 1.0
        eta = lr(count)
        nu = tree_map(lambda v, g: decay * v + (1.0 - decay) * g * g, state.nu, grads)
        scaled = tree_map(lambda g, v: g / (np.sqrt(v) + eps), grads, nu)
        if momentum:
            vel = tree_map(lambda m, s: momentum * m + s, state.velocity, scaled)
            return tree_map(lambda m: _times(-eta, m), vel), RMSPropState(count, nu, vel)
        return tree_map(lambda s: _times(-eta, s), scaled), RMSPropState(count, nu, None)

    return GradientTransformation(init, update)


def adam(learning_rate: float | Schedule, b1: float = 0.9, b2: float = 0.999,
         eps: float = 1e-8) -> GradientTransformation:
    """Adam (Kingma & Ba 2015) with bias-corrected moments.

    Args:
        learning_rate: η, a number or a schedule.
        b1: β₁, decay of the first moment.
        b2: β₂, decay of the second moment.
        eps: ε added to √v̂.

    Returns:
        the optimiser.
    """
    return adamw(learning_rate, b1, b2, eps, weight_decay=0.0, who="adam")


def adamw(learning_rate: float | Schedule, b1: float = 0.9, b2: float = 0.999,
          eps: float = 1e-8, weight_decay: float = 1e-4, who: str = "adamw"
          ) -> GradientTransformation:
    """AdamW (Loshchilov & Hutter 2019): Adam plus decoupled weight decay −η λ θ.

    Args:
        learning_rate: η, a number or a schedule.
        b1: β₁.
        b2: β₂.
        eps: ε.
        weight_decay: λ (the decay is applied to the parameters, not through g).
        who: the name used in error messages.

    Returns:
        the optimiser (its ``update`` needs ``params`` when ``weight_decay`` ≠ 0).
    """
    lr = as_schedule(learning_rate, who)
    _check_beta("b1", b1, who)
    _check_beta("b2", b2, who)
    if weight_decay < 0:
        raise ValueError(f"{who}: weight_decay must be ≥ 0, got {weight_decay}")

    def init(params):
        return AdamState(_count0(), _zeros(params), _zeros(params))

    def update(grads, state, params=None):
        _check_grads(grads, state.mu, who)
        if weight_decay and params is None:
            raise ValueError(f"{who}.update: weight decay needs the parameters: call "
                             "update(grads, state, params)")
        count = state.count + 1.0
        eta = lr(count)
        mu = tree_map(lambda m, g: b1 * m + (1.0 - b1) * g, state.mu, grads)
        nu = tree_map(lambda v, g: b2 * v + (1.0 - b2) * g * g, state.nu, grads)
        c1 = 1.0 - b1 ** count
        c2 = 1.0 - b2 ** count
        upd = tree_map(lambda m, v: _times(-eta / c1, m) / (np.sqrt(_times(1.0 / c2, v)) + eps),
                       mu, nu)
        if weight_decay:
            upd = tree_map(lambda u, p: u - _times(eta * weight_decay, p), upd, params)
        return upd, AdamState(count, mu, nu)

    return GradientTransformation(init, update)


def global_norm(tree: Any) -> Any:
    """‖g‖₂ over all leaves of a pytree together (each Σg² one ``vdot``: no g² temporary)."""
    return np.sqrt(sum(np.vdot(g, g) for g in tree_leaves(tree)))


def clip_by_global_norm(max_norm: float) -> GradientTransformation:
    """g ← g · min(1, max_norm / ‖g‖), ‖·‖ over all leaves together.

    Args:
        max_norm: the largest norm let through.

    Returns:
        a stateless transformation (put it first in :func:`chain`).
    """
    if not max_norm > 0:
        raise ValueError(f"clip_by_global_norm: max_norm must be positive, got {max_norm}")

    def init(params):
        return EmptyState()

    def update(grads, state, params=None):
        norm = global_norm(grads)
        factor = max_norm / np.maximum(norm, max_norm)
        return tree_map(lambda g: _times(factor, g), grads), state

    return GradientTransformation(init, update)


def clip(max_delta: float) -> GradientTransformation:
    """Each gradient entry clipped to [−max_delta, max_delta].

    Args:
        max_delta: the bound.

    Returns:
        a stateless transformation.
    """
    if not max_delta > 0:
        raise ValueError(f"clip: max_delta must be positive, got {max_delta}")

    def init(params):
        return EmptyState()

    def update(grads, state, params=None):
        return tree_map(lambda g: np.clip(g, -max_delta, max_delta), grads), state

    return GradientTransformation(init, update)


def chain(*transforms: GradientTransformation) -> GradientTransformation:
    """The transformations applied in order; the state is the tuple of their states.

    Args:
        *transforms: e.g. ``clip_by_global_norm(1.0), adam(1e-3)``.

    Returns:
        one transformation.
    """
    for k, t in enumerate(transforms):
        if not isinstance(t, GradientTransformation):
            raise TypeError(f"chain: argument {k} must be an optimiser or transformation "
                            f"(e.g. adam(1e-3)), got {type(t).__name__}")

    def init(params):
        return tuple(t.init(params) for t in transforms)

    def update(grads, state, params=None):
        new = []
        for t, s in zip(transforms, state):
            grads, s = t.update(grads, s, params)
            new.append(s)
        return grads, tuple(new)

    return GradientTransformation(init, update)


def apply_updates(params: Any, updates: Any) -> Any:
    """params + updates, leaf by leaf, in each parameter's dtype (as optax does: an update
    computed in float64, by a user's own transformation say, leaves float32 parameters
    float32)."""
    def add(p, u):
        q = p + u
        return q if dtype_of(q) == dtype_of(p) else q.astype(dtype_of(p))

    return tree_map(add, params, updates)
