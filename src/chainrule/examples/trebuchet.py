"""The lecture's trebuchet: a differentiable simulator, and a network that aims it.

The model is the one of Trebuchet.jl (after virtualtrebuchet.com's equations of motion):
an arm on a pivot, a counterweight hinged at the short end, a sling at the long end.

* Stage 1 (ground): the projectile slides on the ground while the arm turns; the state is
  the three angles ``(arm, weight, sling)`` and their rates, with the sling constrained by
  the ground. It ends when the sling lifts the projectile: ``m_p g − T cos φ`` crosses
  zero, ``φ = arm + sling − π`` and the sling tension ``T = −m_p a_x / sin φ`` from the
  projectile's horizontal acceleration ``a_x``.
* Stage 2 (hang): the projectile swings on the sling until the direction of its velocity
  reaches the release angle (``sin(∠v − release) = 0``).
* Stage 3 (flight): a point mass with quadratic air drag relative to the wind, until it is
  back at the pivot's foot (height ``−pivot height``); the distance is its x coordinate.

Constants (Trebuchet.jl): lengths in ft — pivot height 5.0, long arm 6.792, short arm
1.75, weight arm 2.0, sling 6.833, weight radius 2.727, projectile radius 0.1245; masses
in lb — projectile 0.328, arm 10.65; weight inertia 1 lb·ft², arm inertia
``m_arm (long + short)² / 12``; air density 1.0, drag coefficient 1.0, g = 9.80665 (all
converted to SI). As coded there, the stage equations use the weight's inertia where the
arm's belongs and the other way round; the reference numbers depend on it, so it is kept.

``shoot(wind, angle, weight, method="euler")`` reproduces the reference integrator:
explicit Euler at dt = 1/60 s, each stage's end found on the step's interpolant — the cubic
Hermite polynomial through the step's ends and their slopes, which is what the reference's
ODE library interpolates an Euler step with (with the straight line instead, the 400 lb
throws land 1.7 m further) — stage 1's acceleration ``a_x`` being the difference quotient
of the projectile's velocity from the step's start, as the reference computes it, and the
next stage restarting its Euler grid there. ``method="dopri5"`` solves the same model accurately
(adaptive steps, the acceleration from the equations of motion). The distance is
differentiable in all three inputs (the stage ends by the implicit function theorem).

The controller (``train``): over (angle, weight) the distance jumps where the arm's swing
changes (e.g. at 30° between 550 and 760 lb), and at −5 m/s the throws with less than
550 lb reach about 85 m at most (release 10°–55°). At a 30° release the band 756–792 lb is
smooth and increasing in the weight for every wind in [−5, 5] m/s and reaches every target
in [20, 100] m, so the network outputs a weight in that band. Its examples are exact
inverse solutions (the weight for a target from a cubic model of distance(weight) built
from ``shoot`` and its forward-mode derivative, then thrown again so the label is exact);
it is pretrained on them by Levenberg–Marquardt and fine-tuned on the simulated relative
misses, the Jacobian from the simulator's derivative.
"""

from __future__ import annotations

import math
import time
from typing import Any, Callable

import numpy as onp

import chainrule as cr
import chainrule.nn as nn
import chainrule.numpy as np
import chainrule.optimize as opt
from chainrule.core.primitive import concrete
from chainrule.core.progress import ProgressBar
from chainrule.examples import ExampleResult, pyplot, save_figures
from chainrule.ode import odeint_event
from chainrule.ode.adaptive import find_root
from chainrule.ode.events import event_correction
from chainrule.ode.explicit import hermite

__all__ = ["shoot", "simulate", "train", "Controller", "relative_miss", "run", "REFERENCE"]

FT, LB = 0.3048, 0.45359237
PIVOT, LONG, SHORT, WEIGHT_ARM, SLING = 5.0 * FT, 6.792 * FT, 1.75 * FT, 2.0 * FT, 6.833 * FT
PROJECTILE_RADIUS = 0.1245 * FT
M_PROJECTILE, M_ARM = 0.328 * LB, 10.65 * LB
I_WEIGHT = LB * FT * FT
I_ARM = M_ARM * (LONG + SHORT) ** 2 / 12
RHO, CD, GRAV = 1.0, 1.0, 9.80665
AREA = math.pi * PROJECTILE_RADIUS ** 2
DT = 1.0 / 60.0

#: Trebuchet.jl's published values: distance (m) for (wind m/s, angle deg, weight lb), and
#: the gradient (per m/s, per degree, per lb) at (-2, 45, 200)
REFERENCE = {"distances": {(0.0, 30.0, 400.0): 98.60, (-5.0, 30.0, 400.0): 80.56,
                           (0.0, 45.0, 200.0): 82.80},
             "gradient_at": (-2.0, 45.0, 200.0), "gradient": (4.02, -0.99, 0.051)}


def _value(x: Any) -> float:
    return float(concrete(x))


def _initial_state() -> onp.ndarray:
    theta = math.asin(PIVOT / LONG)
    aq = math.pi / 2 + theta
    return onp.array([aq, -aq, math.pi - theta, 0.0, 0.0, 0.0])


def ground_rates(u: Any, mw: Any) -> tuple:
    """Stage 1: d/dt (arm, weight, sling, their rates), the projectile on the ground (a
    tuple of scalars: the Euler stages step tuples, which costs far fewer operations than
    indexing and stacking small arrays)."""
    aq, wq, sq, aw, ww, sw = u[0], u[1], u[2], u[3], u[4], u[5]
    la, ls, lw, le = LONG, SHORT, WEIGHT_ARM, SLING
    ia3, iw3 = I_WEIGHT, I_ARM  # as coded in the reference (see the module docstring)
    lcg = (la - ls) / 2
    mp, ma = M_PROJECTILE, M_ARM
    s_aq, c_aq = np.sin(aq), np.cos(aq)
    s_sq, c_sq = np.sin(sq), np.cos(sq)
    s_as, c_as = np.sin(aq + sq), np.cos(aq + sq)
    c_wq, s_wq = np.cos(wq), np.sin(wq)
    cot = c_as / s_as
    k = cot + la * c_aq / (le * s_as)
    m11 = (-mp * la ** 2 * (-1 + 2 * s_aq * c_sq / s_as) + ia3 + iw3 + ma * lcg ** 2
           + mp * la ** 2 * s_aq ** 2 / s_as ** 2
           + mw * (ls ** 2 + lw ** 2 + 2 * ls * lw * c_wq))
    m12 = iw3 + lw * mw * (lw + ls * c_wq)
    m22 = iw3 + mw * lw ** 2
    inner = cot * sw * (sw + 2 * aw) + k * aw ** 2
    r1 = (GRAV * lcg * ma * s_aq + la * le * mp * (s_sq * (aw + sw) ** 2 + c_sq * inner)
          + la * mp * s_aq * (la * s_sq * aw ** 2 - le * inner) / s_as
          - GRAV * mw * (ls * s_aq + lw * np.sin(aq + wq))
          - ls * lw * mw * s_wq * (aw ** 2 - (aw + ww) ** 2))
    r2 = -lw * mw * (GRAV * np.sin(aq + wq) + ls * s_wq * aw ** 2)
    det = m11 * m22 - m12 * m12
    d_aw = (r1 * m22 - r2 * m12) / det
    d_ww = -(r1 * m12 - r2 * m11) / det
    d_sw = (-cot * sw * (sw + 2 * aw) - k * aw ** 2
            - (la * s_aq + le * s_as) * d_aw / (le * s_as))
    return aw, ww, sw, d_aw, d_ww, d_sw


def hang_rates(u: Any, mw: Any) -> tuple:
    """Stage 2: the projectile swinging on the sling (a tuple of scalars)."""
    aq, wq, sq, aw, ww, sw = u[0], u[1], u[2], u[3], u[4], u[5]
    la, ls, lw, le = LONG, SHORT, WEIGHT_ARM, SLING
    ia3, iw3 = I_WEIGHT, I_ARM
    lcg = (la - ls) / 2
    mp, ma = M_PROJECTILE, M_ARM
    c_sq, s_sq, c_wq, s_wq = np.cos(sq), np.sin(sq), np.cos(wq), np.sin(wq)
    s_aq = np.sin(aq)
    m11 = (ia3 + iw3 + ma * lcg ** 2 + mp * (la ** 2 + le ** 2 + 2 * la * le * c_sq)
           + mw * (ls ** 2 + lw ** 2 + 2 * ls * lw * c_wq))
    m12 = iw3 + lw * mw * (lw + ls * c_wq)
    m13 = le * mp * (le + la * c_sq)
    m22 = iw3 + mw * lw ** 2
    m33 = mp * le ** 2
    r1 = (GRAV * lcg * ma * s_aq + GRAV * mp * (la * s_aq + le * np.sin(aq + sq))
          - GRAV * mw * (ls * s_aq + lw * np.sin(aq + wq))
          - la * le * mp * s_sq * (aw ** 2 - (aw + sw) ** 2)
          - ls * lw * mw * s_wq * (aw ** 2 - (aw + ww) ** 2))
    r2 = -lw * mw * (GRAV * np.sin(aq + wq) + ls * s_wq * aw ** 2)
    r3 = le * mp * (GRAV * np.sin(aq + sq) - la * s_sq * aw ** 2)
    den = m13 * m22 * m13 - m33 * (m11 * m22 - m12 * m12)
    d_aw = -(r1 * m22 * m33 - r2 * m12 * m33 - r3 * m13 * m22) / den
    d_ww = (r1 * m12 * m33 - r2 * (m11 * m33 - m13 * m13) - r3 * m13 * m12) / den
    d_sw = (r1 * m22 * m13 - r2 * m12 * m13 - r3 * (m11 * m22 - m12 * m12)) / den
    return aw, ww, sw, d_aw, d_ww, d_sw


def flight_rates(u: Any, wind: Any) -> tuple:
    """Stage 3: position and velocity with quadratic drag relative to the wind (a tuple)."""
    vx, vy = u[2], u[3]
    speed = np.sqrt(vy ** 2 + (wind - vx) ** 2)
    k = RHO * CD * AREA / (2 * M_PROJECTILE)
    return vx, vy, -k * (vx - wind) * speed, -GRAV - k * vy * speed


def ground_dynamics(u: Any, mw: Any) -> Any:
    """:func:`ground_rates` as an array (for :func:`~chainrule.ode.odeint_event`)."""
    return np.stack(list(ground_rates(u, mw)))


def hang_dynamics(u: Any, mw: Any) -> Any:
    """:func:`hang_rates` as an array."""
    return np.stack(list(hang_rates(u, mw)))


def flight_dynamics(u: Any, wind: Any) -> Any:
    """:func:`flight_rates` as an array."""
    return np.stack(list(flight_rates(u, wind)))


def sling_velocity(u: Any) -> tuple:
    """The projectile's velocity (x, y) from the angles and rates (stages 1 and 2)."""
    aq, sq, aw, sw = u[0], u[2], u[3], u[5]
    vx = -SLING * (sw + aw) * np.cos(sq + aq) - LONG * aw * np.cos(aq)
    vy = -SLING * (sw + aw) * np.sin(sq + aq) - LONG * aw * np.sin(aq)
    return vx, vy


def sling_end(u: Any) -> tuple:
    aq, sq = u[0], u[2]
    return (LONG * np.cos(math.pi / 2 + aq) + SLING * np.cos(math.pi / 2 + aq + sq),
            LONG * np.sin(math.pi / 2 + aq) + SLING * np.sin(math.pi / 2 + aq + sq))


def direction(vx: Any, vy: Any) -> Any:
    """The angle of (vx, vy) in (−π, π], as the reference computes it from atan(vy/vx)."""
    theta = np.arctan(vy / vx)
    if _value(vx) >= 0:
        return theta
    return theta + math.pi if _value(vy) >= 0 else theta - math.pi


def lift_condition(u: Any, u_prev: Any, dt: Any) -> Any:
    """Stage 1's end: m_p g − T cos φ with T from the difference quotient of v_x."""
    phi = u[0] + u[2] - math.pi
    acc = (sling_velocity(u)[0] - sling_velocity(u_prev)[0]) / dt
    tension = -acc * M_PROJECTILE / np.sin(phi)
    return M_PROJECTILE * GRAV - tension * np.cos(phi), tension


def _euler_stage(rates: Callable, condition: Callable, u: tuple, t: Any, dt: float,
                 max_steps: int) -> tuple:
    """Euler steps of the tuple state ``u`` until ``condition(u_prev, t_prev, u, t)``
    changes sign.

    The crossing is located, as the reference's integrator does, on the step's cubic
    Hermite interpolant (the values and slopes ``f`` at both ends of the Euler step), and
    made differentiable by the implicit function theorem along that interpolant.
    Returns (t_end, u_end as a tuple, path of values).
    """
    c_prev = _value(condition(u, t, u, t))
    path = [_values(u)]
    f_u = rates(u)
    for _ in range(max_steps):
        u_new = tuple(x + dt * r for x, r in zip(u, f_u))
        t_new = t + dt
        c_new = _value(condition(u, t, u_new, t_new))
        f_new = rates(u_new)
        path.append(_values(u_new))
        if c_new == 0.0 or (c_prev != 0.0 and (c_new > 0) != (c_prev > 0)):
            t_end, u_end = _crossing(condition, u, t, u_new, f_u, f_new, c_prev, c_new, dt)
            path[-1] = _values(u_end)
            return t_end, u_end, path
        u, t, c_prev, f_u = u_new, t_new, c_new, f_new
    raise RuntimeError("trebuchet: a stage did not end within its step limit")


def _crossing(condition, u, t, u_new, f_u, f_new, c_prev, c_new, dt) -> tuple:
    """The sign change inside one Euler step, on its Hermite interpolant: (t*, u*)."""
    y0, y1 = _values(u), _values(u_new)
    hf0, hf1 = dt * _values(f_u), dt * _values(f_new)

    def g(theta):
        if theta == 0.0:
            return c_prev
        return _value(condition(y0, 0.0, hermite(y0, y1, hf0, hf1, theta), theta * dt))

    theta = find_root(g, c_prev, c_new)
    u_hat = np.stack([hermite(a, b, dt * fa, dt * fb, theta)
                      for a, b, fa, fb in zip(u, u_new, f_u, f_new)])
    if abs(g(theta)) > 1e-8 * max(abs(c_prev), abs(c_new)):
        # no zero but a jump: stage 1's difference quotient over a vanishing interval
        # differs from the previous step's, so the sign can change at the step's very
        # start; the stage then ends there, at a time that does not move with the inputs
        return t + theta * dt, _components(u_hat)
    slope = hermite_slope(y0, y1, hf0, hf1, theta) / dt
    t_end, u_end = event_correction(lambda s, v: condition(u, t, v, s), slope,
                                    t + theta * dt, u_hat)
    return t_end, _components(u_end)


def hermite_slope(y0: Any, y1: Any, hf0: Any, hf1: Any, theta: float) -> Any:
    """d/dθ of :func:`~chainrule.ode.explicit.hermite`."""
    t2 = theta * theta
    return ((6 * t2 - 6 * theta) * y0 + (3 * t2 - 4 * theta + 1) * hf0
            + (-6 * t2 + 6 * theta) * y1 + (3 * t2 - 2 * theta) * hf1)


def _components(u: Any) -> tuple:
    return tuple(u[i] for i in range(int(onp.shape(concrete(u))[0])))


def _values(u: Any) -> onp.ndarray:
    """The concrete values of a state (an array, or a tuple of scalars)."""
    if isinstance(u, tuple):
        return onp.array([_value(x) for x in u])
    return onp.asarray(concrete(u), dtype=float)


def simulate(wind: Any, angle: Any, weight: Any, method: str = "euler",
             dt: float = DT) -> dict:
    """The throw stage by stage: distance, stage end times and the paths (values).

    Args:
        wind: wind speed in m/s (positive: blowing along the throw).
        angle: release angle in radians.
        weight: counterweight in lb.
        method: ``"euler"`` (the reference's integrator) or ``"dopri5"`` (accurate).
        dt: the Euler step (the reference's 1/60 s).

    Returns:
        ``{"distance", "times", "paths"}`` (the distance differentiable).
    """
    if method not in ("euler", "dopri5"):
        raise ValueError(f"trebuchet: method={method!r}; expected 'euler' or 'dopri5'")
    if _value(weight) <= 0:
        raise ValueError(f"trebuchet: weight={_value(weight)} lb; the counterweight must be "
                         "positive")
    release = np.arcsin(np.sin(angle))
    mw = weight * LB
    u0 = _initial_state()
    if method == "euler":
        return _simulate_euler(wind, release, mw, tuple(float(x) for x in u0), dt)
    return _simulate_adaptive(wind, release, mw, u0)


def _simulate_euler(wind, release, mw, u0, dt):
    def lift(u_prev, t_prev, u, t):
        if _value(t) == _value(t_prev):
            return M_PROJECTILE * GRAV + 0.0 * u[0]
        return lift_condition(u, u_prev, t - t_prev)[0]

    t1, u1, path1 = _euler_stage(lambda u: ground_rates(u, mw), lift, u0, 0.0, dt, 6000)

    def released(u_prev, t_prev, u, t):
        vx, vy = sling_velocity(u)
        return np.sin(direction(vx, vy) - release)

    t2, u2, path2 = _euler_stage(lambda u: hang_rates(u, mw), released, u1, t1, dt, 6000)
    px, py = sling_end(u2)
    vx, vy = sling_velocity(u2)
    t3, u3, path3 = _euler_stage(lambda u: flight_rates(u, wind),
                                 lambda u_prev, t_prev, u, t: u[1] + PIVOT, (px, py, vx, vy),
                                 t2, dt, 30000)
    return {"distance": u3[0], "times": (_value(t1), _value(t2), _value(t3)),
            "paths": (onp.array(path1), onp.array(path2), onp.array(path3))}


def _simulate_adaptive(wind, release, mw, u0):
    tol = dict(rtol=1e-10, atol=1e-10)

    def ground(u, t, mw):
        return ground_dynamics(u, mw)

    def lifts(u, t, mw):
        phi = u[0] + u[2] - math.pi
        acc = cr.jvp(lambda v: sling_velocity(v)[0], (u,), (ground_dynamics(u, mw),))[1]
        tension = -acc * M_PROJECTILE / np.sin(phi)
        return M_PROJECTILE * GRAV - tension * np.cos(phi)

    t1, u1 = odeint_event(ground, u0, 0.0, lifts, mw, t_max=10.0, **tol)

    def hang(u, t, mw):
        return hang_dynamics(u, mw)

    def released(u, t, mw):
        vx, vy = sling_velocity(u)
        return np.sin(direction(vx, vy) - release)

    t2, u2 = odeint_event(hang, u1, t1, released, mw, t_max=_value(t1) + 10.0, **tol)
    px, py = sling_end(u2)
    vx, vy = sling_velocity(u2)

    def flight(u, t, w):
        return flight_dynamics(u, w)

    t3, u3 = odeint_event(flight, np.stack([px, py, vx, vy]), t2,
                          lambda u, t, w: u[1] + PIVOT, wind, t_max=_value(t2) + 60.0, **tol)
    return {"distance": u3[0], "times": (_value(t1), _value(t2), _value(t3)), "paths": ()}


def shoot(wind: Any, angle: Any, weight: Any, method: str = "euler") -> Any:
    """The distance in m of a throw: wind in m/s, release angle in radians, counterweight
    in lb (differentiable in all three).

    Example:
        >>> import math
        >>> round(float(shoot(0.0, math.radians(30), 400.0)), 2)
        98.6
    """
    return simulate(wind, angle, weight, method)["distance"]




# ---------------------------------------------------------------------------
# the controller: (wind, target) -> (angle, weight), trained through the simulator
# ---------------------------------------------------------------------------

WIND_RANGE, TARGET_RANGE = (-5.0, 5.0), (20.0, 100.0)
#: the controller's operating band: release at 30°, counterweight 756–792 lb, where the
#: distance is smooth and increases with the weight for every wind in WIND_RANGE and covers
#: TARGET_RANGE (at −5 m/s it rises from −8 m at 756 lb to 106 m at 791 lb; below 756 lb
#: and above 797 lb the arm's swing changes and the distance jumps)
RELEASE_ANGLE_DEG, WEIGHT_BAND_LB = 30.0, (756.0, 792.0)


def _sigmoid(x: Any) -> Any:
    return 1.0 / (1.0 + np.exp(-x))


class Controller:
    """A small network from (wind m/s, target m) to (release angle rad, weight lb).

    The release angle is fixed at 30° and the network's single output passes through a
    sigmoid onto the weight band 756–792 lb, where ``shoot`` is smooth and increasing in
    the weight for every wind of [−5, 5] m/s and reaches every target of [20, 100] m (strong
    head winds and far targets need about 785 lb). Inputs are scaled to [−1, 1].
    """

    def __init__(self, params: Any, hidden: int = 16) -> None:
        self.hidden = hidden
        self.model = nn.MLP([hidden, 1], activation="tanh")
        self.params = params
        self.training: dict = {}

    @classmethod
    def initial(cls, seed: int = 0, hidden: int = 16) -> "Controller":
        params = nn.MLP([hidden, 1], activation="tanh").init(onp.random.default_rng(seed),
                                                              (2,))
        return cls(params, hidden)

    def weights(self, params: Any, wind: Any, target: Any) -> Any:
        """The counterweight (lb) for arrays (or scalars) of winds and targets."""
        x = np.stack([np.asarray(wind) / 5.0, (np.asarray(target) - 60.0) / 40.0], axis=-1)
        raw = self.model.apply(params, x)[..., 0]
        lo, hi = WEIGHT_BAND_LB
        return lo + (hi - lo) * _sigmoid(raw)

    def __call__(self, wind: float, target: float) -> tuple[float, float]:
        weight = self.weights(self.params, float(wind), float(target))
        return math.radians(RELEASE_ANGLE_DEG), float(weight)

    def save(self, path: str) -> None:
        """The parameters as an ``.npz`` file."""
        leaves, _ = cr.tree_flatten(self.params)
        arrays = {f"arr_{i}": onp.asarray(x) for i, x in enumerate(leaves)}
        onp.savez(path, hidden=self.hidden, **arrays)

    @classmethod
    def load(cls, path: str) -> "Controller":
        data = onp.load(path)
        hidden = int(data["hidden"])
        template = cls.initial(0, hidden)
        _, treedef = cr.tree_flatten(template.params)
        leaves = [data[f"arr_{i}"] for i in range(len(data.files) - 1)]
        return cls(cr.tree_unflatten(treedef, leaves), hidden)


def _pairs(rng: onp.random.Generator, n: int) -> onp.ndarray:
    return onp.column_stack([rng.uniform(*WIND_RANGE, n), rng.uniform(*TARGET_RANGE, n)])


def relative_miss(controller: Controller, pairs: onp.ndarray) -> onp.ndarray:
    """|distance − target| / target for each (wind, target) row, each throw simulated with
    the controller's angle and weight."""
    misses = []
    for wind, target in pairs:
        angle, weight = controller(wind, target)
        misses.append(abs(float(shoot(wind, angle, weight)) - target) / target)
    return onp.array(misses)


def _distance_and_slope(wind: float, weight: float) -> tuple[float, float]:
    """shoot at the operating angle and its exact derivative in the weight (forward mode)."""
    angle = math.radians(RELEASE_ANGLE_DEG)
    d, slope = cr.jvp(lambda m: shoot(wind, angle, m), (float(weight),), (1.0,))
    return float(d), float(slope)


def inverse_pairs(winds: Any, levels: int = 12, coarse: int = 10,
                  progress: bool = False) -> onp.ndarray:
    """Supervised examples ``(wind, target, weight, slope)``: for each wind, weights whose
    throws land at ``levels`` targets spread over [20, 100] m.

    For each wind, ``shoot`` and its exact derivative in the weight (forward mode) at
    ``coarse`` weights of the band give a piecewise cubic Hermite model of
    distance(weight), increasing there; its inverse at the target levels (the root of the
    cubic between the bracketing weights, by regula falsi) gives the weights. Each weight
    is then thrown once more and the distance it actually reaches is the example's
    target, so the label is exact whatever the model's error. ``slope`` is d distance /
    d weight there (from the model), used to weight the pretraining loss like the
    relative miss it stands for.

    Raises:
        RuntimeError: the distance does not increase over the band at one of the winds.
    """
    grid = onp.linspace(*WEIGHT_BAND_LB, coarse)
    angle = math.radians(RELEASE_ANGLE_DEG)
    rows = []
    for wind in _bar(onp.asarray(winds, dtype=float), "inverse problems", progress):
        d, s = onp.array([_distance_and_slope(wind, w) for w in grid]).T
        if not onp.all(onp.diff(d) > 0):
            raise RuntimeError(f"trebuchet.inverse_pairs: at wind {wind} m/s the distance "
                               f"does not increase over the weight band {WEIGHT_BAND_LB} "
                               f"lb ({onp.round(d, 1)}); use winds within {WIND_RANGE}")
        for target in onp.linspace(TARGET_RANGE[0] - 2, TARGET_RANGE[1] + 2, levels):
            k = int(onp.searchsorted(d, target)) - 1
            if not 0 <= k < coarse - 1:
                continue  # unreachable at this wind within the band
            h = grid[k + 1] - grid[k]
            cubic = (d[k] - target, d[k + 1] - target, h * s[k], h * s[k + 1])
            theta = find_root(lambda th, c=cubic: float(hermite(*c, th)), *cubic[:2])
            weight = grid[k] + theta * h
            slope = float(hermite_slope(*cubic, theta)) / h
            reached = float(shoot(wind, angle, weight))
            rows.append((wind, reached, weight, slope))
    return onp.array(rows)


def train(seconds: float | None = None, seed: int = 0, winds: int = 13, levels: int = 12,
          hidden: int = 16, progress: bool = True) -> Controller:
    """Train a :class:`Controller`: supervised on solved inverse problems, then through
    the simulator.

    1. :func:`inverse_pairs` on ``winds`` winds spread over [−5, 5] m/s (the extreme ones
       included) gives exact ``(wind, target) → weight`` examples.
    2. Pretraining: Levenberg–Marquardt (:func:`chainrule.optimize.least_squares`, the
       network's Jacobian by chainrule) on ``slope·(weight_net − weight)/target``, the
       linearised relative miss.
    3. Fine-tuning through the simulator: Levenberg–Marquardt on the relative misses
       ``(shoot(wind, 30°, weight_net) − target)/target`` of the same examples, the
       Jacobian being the simulator's exact derivative in the weight (forward mode through
       the Euler steps and stage ends) times the network's Jacobian — until ``seconds``
       (everything included) are spent or the misses stop falling.

    Args:
        seconds: the wall-clock budget for all three (default 80 s); fine-tuning stops
            when it is spent.
        seed: the network's initial weights.
        winds: the number of winds of the examples.
        levels: target levels per wind.
        hidden: the hidden layer's width.
        progress: progress bars (tqdm; printed lines without it).

    Returns:
        The trained controller; its ``training`` dict has the number of examples, the
        RMS relative miss on them after pretraining (linearised, and simulated) and after
        fine-tuning, the fine-tuning iterations and the seconds spent.
    """
    start = time.perf_counter()
    seconds = 80.0 if seconds is None else float(seconds)
    examples = inverse_pairs(onp.linspace(*WIND_RANGE, winds), levels, progress=progress)
    wind, target, weight, slope = examples.T
    ctrl = Controller.initial(seed, hidden)
    leaves, treedef = cr.tree_flatten(ctrl.params)
    shapes = [onp.shape(x) for x in leaves]
    cuts = onp.cumsum([0] + [int(onp.prod(sh)) for sh in shapes])

    def unvec(v):
        return cr.tree_unflatten(treedef, [np.reshape(v[cuts[i]:cuts[i + 1]], sh)
                                           for i, sh in enumerate(shapes)])

    def net(theta):
        return ctrl.weights(unvec(theta), wind, target)

    def linearised_miss(theta):
        return slope * (net(theta) - weight) / target

    theta = onp.concatenate([onp.ravel(x) for x in leaves])
    fit = opt.least_squares(linearised_miss, theta, method="lm", jit=False, max_nfev=300,
                            ftol=1e-14, xtol=1e-14, gtol=1e-14, progress=progress)
    theta = onp.asarray(fit.x)

    def simulated_miss(th):
        w = onp.asarray(net(th))
        return onp.array([(float(shoot(a, math.radians(RELEASE_ANGLE_DEG), m)) - b) / b
                          for a, b, m in zip(wind, target, w)])

    def simulated_jacobian(th):
        w = onp.asarray(net(th))
        rates = onp.array([_distance_and_slope(a, m)[1] for a, m in zip(wind, w)])
        return (rates / target)[:, None] * onp.asarray(cr.jacfwd(net)(th))

    def out_of_time(_):
        if time.perf_counter() - start > seconds:
            raise StopIteration

    before = simulated_miss(theta)
    tuned = opt.least_squares(simulated_miss, theta, method="lm", jac=simulated_jacobian,
                              jit=False, max_nfev=40, ftol=1e-12, xtol=1e-12, gtol=1e-12,
                              callback=out_of_time, progress=progress)
    ctrl.params = unvec(onp.asarray(tuned.x))
    ctrl.training = {"examples": len(examples), "rms_linearised_miss": _rms(fit.fun),
                     "rms_miss_pretrained": _rms(before), "rms_miss_tuned": _rms(tuned.fun),
                     "fine_tuning_iterations": int(tuned.nit),
                     "seconds": time.perf_counter() - start}
    return ctrl


def _rms(r: Any) -> float:
    return float(onp.sqrt(onp.mean(onp.square(r))))


def _bar(items: Any, desc: str, enabled: bool) -> Any:
    """``items``, showing a :class:`ProgressBar` while they are consumed."""
    items = list(items)
    bar = ProgressBar(desc, len(items), every=max(1, len(items) // 10), enabled=enabled)
    for item in items:
        yield item
        bar.update()
    bar.close()


def run(out: Any = None, quick: bool = False, seed: int = 0, progress: bool = True,
        seconds: float | None = None, held_out: int | None = None) -> Any:
    """Check the simulator against the reference, train a controller, measure its miss
    on held-out (wind, target) pairs, plot throws and the miss over the square.

    Args:
        out: directory for the figures (``trebuchet_throws``, ``trebuchet_miss``).
        quick: a short training and evaluation (tests, the tour).
        seed: the training seed (the held-out pairs are drawn with seed 10000 + seed).
        progress: progress bars while training and evaluating.
        seconds: the training budget (default 80 s; quick: 5 winds, 6 levels, 20 s).
        held_out: held-out pairs for the mean miss (default 1000, quick 20).

    Returns:
        An ``ExampleResult`` with the reference distances, the training time (all of it,
        the inverse problems included) and the mean/median/max relative miss.
    """

    held_out = held_out if held_out is not None else (20 if quick else 1000)
    reference = {f"{w:+.0f} m/s, {a:.0f} deg, {m:.0f} lb": round(float(
        shoot(w, math.radians(a), m)), 2) for (w, a, m) in REFERENCE["distances"]}
    sizes = dict(winds=5, levels=6, hidden=8) if quick else {}
    start = time.perf_counter()
    ctrl = train(seconds=seconds if seconds is not None else (20.0 if quick else 80.0),
                 seed=seed, progress=progress, **sizes)
    elapsed = time.perf_counter() - start
    pairs = _pairs(onp.random.default_rng(10_000 + seed), held_out)
    miss = onp.concatenate([relative_miss(ctrl, pairs[k:k + 1])
                            for k in _bar(range(held_out), "held-out throws", progress)])
    numbers = {"reference_distances": reference, "mean_relative_miss": float(miss.mean()),
               "median_relative_miss": float(onp.median(miss)),
               "max_relative_miss": float(miss.max()), "held_out": held_out,
               "training_seconds": round(elapsed, 1), "training": ctrl.training}
    result = ExampleResult("trebuchet", numbers,
                           f"mean miss {miss.mean():.4%} (max {miss.max():.3%}) over "
                           f"{held_out} held-out throws after {elapsed:.0f} s of training",
                           ok=bool(miss.mean() <= 1e-3))
    plt = pyplot()
    if plt is not None:
        result.figures["throws"] = _plot_throws(plt, ctrl)
        result.figures["miss"] = _plot_miss(plt, ctrl, 5 if quick else 21, progress)
    return save_figures(result, out)


def _plot_throws(plt, ctrl: Controller):
    fig, ax = plt.subplots(figsize=(7, 3.5))
    for wind, target in [(-5.0, 100.0), (0.0, 60.0), (5.0, 25.0)]:
        angle, weight = ctrl(wind, target)
        paths = simulate(wind, angle, weight)["paths"]
        swing = onp.array([[float(c) for c in sling_end(u)] for u in
                           onp.vstack([paths[0], paths[1]])])
        xs = onp.concatenate([swing[:, 0], paths[2][:, 0]])
        ys = onp.concatenate([swing[:, 1], paths[2][:, 1]]) + PIVOT
        ax.plot(xs, ys, label=f"wind {wind:+.0f} m/s → {target:.0f} m "
                              f"({math.degrees(angle):.0f}°, {weight:.1f} lb)")
        ax.axvline(target, color="grey", lw=0.5)
    ax.set_xlabel("x (m)")
    ax.set_ylabel("height (m)")
    ax.legend(fontsize=7)
    return fig


def _plot_miss(plt, ctrl: Controller, n: int, progress: bool):
    winds = onp.linspace(*WIND_RANGE, n)
    targets = onp.linspace(*TARGET_RANGE, n)
    grid = onp.array([[relative_miss(ctrl, onp.array([[w, t]]))[0] for w in winds]
                      for t in _bar(targets, "miss over the square", progress)])
    fig, ax = plt.subplots(figsize=(5, 4))
    image = ax.pcolormesh(winds, targets, 100 * grid, shading="auto")
    fig.colorbar(image, ax=ax, label="relative miss (%)")
    ax.set_xlabel("wind (m/s)")
    ax.set_ylabel("target (m)")
    return fig
