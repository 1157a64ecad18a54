"""Learning-rate schedules: functions from the step count to a step size.

A schedule is any callable ``count -> learning rate``. Those below are written with
:mod:`chainrule.numpy`, so they also run on a traced count under :func:`chainrule.jit`
(no Python branch on the count's value). A stateful optimiser (:mod:`.optimizers`)
accepts either a number or a schedule as its ``learning_rate``.

>>> s = exponential_decay(0.1, decay_rate=0.5, transition_steps=10)
>>> float(s(0)), float(s(10)), float(s(20))
(0.1, 0.05, 0.025)
>>> w = warmup_cosine_decay(0.0, peak_value=1.0, warmup_steps=10, decay_steps=110)
>>> [round(float(w(k)), 3) for k in (0, 5, 10, 60, 110, 200)]
[0.0, 0.5, 1.0, 0.5, 0.0, 0.0]
"""

from __future__ import annotations

from typing import Callable, Sequence

import chainrule.numpy as np

__all__ = [
    "Schedule",
    "constant_schedule",
    "exponential_decay",
    "cosine_decay",
    "linear_schedule",
    "warmup_cosine_decay",
    "piecewise_constant",
    "as_schedule",
]

Schedule = Callable[[object], object]


def constant_schedule(value: float) -> Schedule:
    """η_k = value."""
    def schedule(count):
        return value
    return schedule


def exponential_decay(init_value: float, decay_rate: float, transition_steps: int,
                      staircase: bool = False) -> Schedule:
    """η_k = init_value · decay_rate^(k / transition_steps) (k // transition_steps with
    ``staircase``)."""
    if transition_steps <= 0:
        raise ValueError(f"exponential_decay: transition_steps must be positive, "
                         f"got {transition_steps}")

    def schedule(count):
        p = count / transition_steps
        if staircase:
            p = np.floor(p)
        return init_value * decay_rate ** p
    return schedule


def cosine_decay(init_value: float, decay_steps: int, alpha: float = 0.0) -> Schedule:
    """η_k = init_value · ((1 − α)·½(1 + cos(π·min(k, K)/K)) + α), K = ``decay_steps``."""
    if decay_steps <= 0:
        raise ValueError(f"cosine_decay: decay_steps must be positive, got {decay_steps}")

    def schedule(count):
        t = np.minimum(count, decay_steps) / decay_steps
        return init_value * ((1.0 - alpha) * 0.5 * (1.0 + np.cos(np.pi * t)) + alpha)
    return schedule


def linear_schedule(init_value: float, end_value: float, transition_steps: int) -> Schedule:
    """Straight from ``init_value`` to ``end_value`` over ``transition_steps``, then flat."""
    if transition_steps <= 0:
        raise ValueError(f"linear_schedule: transition_steps must be positive, "
                         f"got {transition_steps}")

    def schedule(count):
        t = np.minimum(count, transition_steps) / transition_steps
        return init_value + (end_value - init_value) * t
    return schedule


def warmup_cosine_decay(init_value: float, peak_value: float, warmup_steps: int,
                        decay_steps: int, end_value: float = 0.0) -> Schedule:
    """Linear warm-up from ``init_value`` to ``peak_value`` over ``warmup_steps``, then a
    cosine decay to ``end_value`` at step ``decay_steps`` (counted from 0)."""
    if not 0 < warmup_steps < decay_steps:
        raise ValueError(f"warmup_cosine_decay: need 0 < warmup_steps < decay_steps, got "
                         f"warmup_steps={warmup_steps}, decay_steps={decay_steps}")
    span = decay_steps - warmup_steps

    def schedule(count):
        up = init_value + (peak_value - init_value) * np.minimum(count, warmup_steps) / warmup_steps
        t = np.clip(count - warmup_steps, 0, span) / span
        down = end_value + (peak_value - end_value) * 0.5 * (1.0 + np.cos(np.pi * t))
        return np.where(count < warmup_steps, up, down)
    return schedule


def piecewise_constant(init_value: float, boundaries_and_scales: dict[int, float] | Sequence
                       ) -> Schedule:
    """η_k = init_value · Π {scale_b : b ≤ k}: multiply by ``scale`` from step ``b`` on."""
    pairs = sorted(dict(boundaries_and_scales).items())

    def schedule(count):
        value = init_value + 0.0 * count
        for boundary, scale in pairs:
            value = value * np.where(count >= boundary, scale, 1.0)
        return value
    return schedule


def as_schedule(learning_rate: float | Schedule, who: str) -> Schedule:
    """``learning_rate`` as a schedule (a number becomes a constant one)."""
    if callable(learning_rate):
        return learning_rate
    try:
        value = float(learning_rate)
    except (TypeError, ValueError):
        raise TypeError(f"{who}: learning_rate must be a number or a schedule "
                        f"(a callable of the step count), got {learning_rate!r}") from None
    if not value > 0:
        raise ValueError(f"{who}: learning_rate must be positive, got {value}")
    return constant_schedule(value)
