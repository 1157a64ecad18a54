"""``least_squares``: minimise ½ Σ ρ(rᵢ(x)²) for a residual vector r(x), with the
Jacobian from chainrule.

The Jacobian J comes from :func:`chainrule.jacobian` with ``mode="auto"`` (forward mode
when there are fewer unknowns than residuals, reverse otherwise), compiled once; with
``jac="matrix-free"`` J is never formed and the methods use J·v (a JVP) and Jᵀ·u (a
VJP) only. A robust ``loss`` ρ (with scale C, z = (r/C)²) is handled by reweighting
(iteratively reweighted least squares): r̃ = √ρ'(z)·r, J̃ = √ρ'(z)·J, so that the
gradient J̃ᵀr̃ = Jᵀ(ρ'(z) r) is exact and J̃ᵀJ̃ is the Gauss–Newton model. Losses:
``linear`` ρ = z, ``soft_l1`` ρ = 2(√(1+z) − 1), ``huber`` ρ = z (z ≤ 1) else 2√z − 1,
``cauchy`` ρ = ln(1 + z).

Methods:

- ``lm``: Levenberg–Marquardt, (J̃ᵀJ̃ + μD)p = −J̃ᵀr̃ with Moré's scaling D (the
  largest diag(J̃ᵀJ̃) seen so far) and Nielsen's update of μ from the gain ratio;
- ``gauss-newton``: p = argmin ‖J̃p + r̃‖, then Armijo backtracking on the cost;
- ``trf``: a trust region on the Gauss–Newton model, solved exactly on J̃ᵀJ̃ (or by
  Steihaug–Toint CG when matrix-free), the machinery of :mod:`.trust_region`.

>>> import chainrule.numpy as np
>>> t = np.linspace(0.0, 1.0, 20)
>>> y = 2.0 * np.exp(-1.5 * t)
>>> r = least_squares(lambda p: p[0] * np.exp(-p[1] * t) - y, np.array([1.0, 0.0]))
>>> r.success, np.round(r.x, 8).tolist()
(True, [2.0, 1.5])
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as onp

import chainrule.numpy as np
from chainrule import transforms
from chainrule.optimize.monitor import Monitor, Stop
from chainrule.optimize.objective import Flattener, compiled
from chainrule.optimize.result import OptimizeResult, Status
from chainrule.optimize.trust_region import EigenModel, steihaug_cg, update_radius

__all__ = ["least_squares", "LOSSES"]


def _linear(z):
    return z, onp.ones_like(z)


def _soft_l1(z):
    s = onp.sqrt(1.0 + z)
    return 2.0 * (s - 1.0), 1.0 / s


def _huber(z):
    big = z > 1.0
    sz = onp.sqrt(onp.where(big, z, 1.0))
    return onp.where(big, 2.0 * sz - 1.0, z), onp.where(big, 1.0 / sz, 1.0)


def _cauchy(z):
    return onp.log1p(z), 1.0 / (1.0 + z)


LOSSES: dict[str, Callable] = {"linear": _linear, "soft_l1": _soft_l1, "huber": _huber,
                               "cauchy": _cauchy}


class Residual:
    """r, J (or J·v, Jᵀ·u) on flat vectors, with counts and the robust reweighting."""

    def __init__(self, residual: Callable, x0: Any, args: tuple, jac: Any, loss: str,
                 f_scale: float, jit: bool) -> None:
        self.flat = Flattener(x0, "least_squares")
        self.args = tuple(args)
        self.nfev = self.njev = self.nhev = 0
        unravel = self.flat.unravel

        def flat_r(x, *a):
            return np.reshape(residual(unravel(x), *a), (-1,))

        self._r = compiled(flat_r, jit)
        self.matrix_free = jac == "matrix-free"
        if callable(jac):
            self._jac = lambda x, *a: onp.asarray(jac(unravel(x), *a), dtype=float)
        elif jac in (None, "auto", "matrix-free"):
            self._jac = compiled(transforms.jacobian(flat_r, mode="auto"), jit)
        else:
            raise ValueError(f"least_squares: jac must be None or 'auto' (chainrule's "
                             f"jacobian), 'matrix-free' (J·v and Jᵀ·u only) or a callable, "
                             f"got {jac!r}")
        self._jv = compiled(lambda x, v, *a: transforms.jvp(lambda y: flat_r(y, *a), (x,), (v,))[1],
                            jit)
        self._vjp = compiled(
            lambda x, u, *a: transforms.vjp(lambda y: flat_r(y, *a), x)[1](u)[0], jit)
        if loss not in LOSSES:
            raise ValueError(f"least_squares: unknown loss {loss!r}; choose one of "
                             f"{', '.join(LOSSES)}")
        if not f_scale > 0:
            raise ValueError(f"least_squares: f_scale must be positive, got {f_scale}")
        self.rho = LOSSES[loss]
        self.c2 = float(f_scale) ** 2

    def residuals(self, x: onp.ndarray) -> onp.ndarray:
        """r(x) as a flat float vector."""
        self.nfev += 1
        r = onp.asarray(self._r(x, *self.args), dtype=float)
        return r

    def cost_and_weights(self, r: onp.ndarray) -> tuple[float, onp.ndarray]:
        """(½ C² Σ ρ(rᵢ²/C²), √ρ'(z))."""
        rho, drho = self.rho(r * r / self.c2)
        return 0.5 * self.c2 * float(onp.sum(rho)), onp.sqrt(drho)

    def jacobian(self, x: onp.ndarray) -> onp.ndarray:
        """J(x), m × n."""
        self.njev += 1
        return onp.asarray(self._jac(x, *self.args), dtype=float).reshape(-1, self.flat.size)

    def jv(self, x: onp.ndarray, v: onp.ndarray) -> onp.ndarray:
        """J(x)·v by one forward pass."""
        self.njev += 1
        return onp.asarray(self._jv(x, v, *self.args), dtype=float)

    def jtu(self, x: onp.ndarray, u: onp.ndarray) -> onp.ndarray:
        """J(x)ᵀ·u by one reverse pass."""
        self.njev += 1
        return onp.asarray(self._vjp(x, u, *self.args), dtype=float)


class _Linearisation:
    """J̃ at x, dense or as products, for the step computations."""

    def __init__(self, res: Residual, x: onp.ndarray, w: onp.ndarray) -> None:
        self.res, self.x, self.w = res, x, w
        self.J_raw = None if res.matrix_free else res.jacobian(x)
        self.J = None if self.J_raw is None else self.J_raw * w[:, None]

    def mv(self, v):
        return self.J @ v if self.J is not None else self.w * self.res.jv(self.x, v)

    def rmv(self, u):
        return self.J.T @ u if self.J is not None else self.res.jtu(self.x, self.w * u)

    def normal(self, v):
        """J̃ᵀJ̃·v."""
        return self.rmv(self.mv(v))


def _cgls(lin: _Linearisation, rhs: onp.ndarray, mu: float, tol: float, maxiter: int
          ) -> onp.ndarray:
    """CG on (J̃ᵀJ̃ + μI)p = rhs from products only."""
    p = onp.zeros_like(rhs)
    r = rhs.copy()
    d = r.copy()
    rr = r @ r
    for _ in range(maxiter):
        q = lin.normal(d) + mu * d
        curv = d @ q
        if curv <= 0:
            break
        a = rr / curv
        p += a * d
        r -= a * q
        rr_next = r @ r
        if math.sqrt(rr_next) <= tol:
            break
        d = r + (rr_next / rr) * d
        rr = rr_next
    return p


def least_squares(residual: Callable, x0: Any, args: tuple = (), method: str = "lm",
                  loss: str = "linear", f_scale: float = 1.0, jac: Any = None,
                  ftol: float = 1e-8, xtol: float = 1e-8, gtol: float = 1e-8,
                  max_nfev: int | None = None, callback: Callable | None = None,
                  progress: bool = False, jit: bool = True) -> OptimizeResult:
    """Solve min ½ Σ ρ(rᵢ(x)²) by Levenberg–Marquardt, Gauss–Newton or a trust region.

    Args:
        residual: ``residual(x, *args)`` -> the residual array (any shape, flattened).
        x0: the starting point (array or pytree).
        args: extra arguments for ``residual``.
        method: ``"lm"``, ``"gauss-newton"`` (alias ``"gn"``) or ``"trf"``.
        loss: ``"linear"``, ``"soft_l1"``, ``"huber"`` or ``"cauchy"``.
        f_scale: C, the residual size where the robust loss starts to bend.
        jac: None / ``"auto"`` (chainrule's ``jacobian(mode="auto")``),
            ``"matrix-free"`` (J·v and Jᵀ·u only), or ``jac(x, *args)`` -> m×n.
        ftol: stop when the relative reduction of the cost is ≤ ftol.
        xtol: stop when ‖Δx‖ ≤ xtol·(1 + ‖x‖).
        gtol: stop when ‖J̃ᵀr̃‖∞ ≤ gtol.
        max_nfev: the most residual evaluations (default 100·n).
        callback: as :func:`.minimize`'s.
        progress: show a progress bar with the cost and ‖g‖.
        jit: compile the residual and derivative programs with :func:`chainrule.jit`.

    Returns:
        an :class:`OptimizeResult` with ``x``, ``cost``, ``fun`` (the residuals),
        ``jac`` (J, when formed), ``grad``, ``optimality`` (‖g‖∞), ``nfev``, ``njev``
        (Jacobians, or products when matrix-free), ``nit``, ``status``, ``success``,
        ``message`` and ``history`` (its ``f`` column is the cost).
    """
    name = method.strip().lower().replace("_", "-")
    name = {"gn": "gauss-newton", "levenberg-marquardt": "lm"}.get(name, name)
    if name not in ("lm", "gauss-newton", "trf"):
        raise ValueError(f"least_squares: unknown method {method!r}; choose one of lm, "
                         "gauss-newton, trf")
    res = Residual(residual, x0, args, jac, loss, f_scale, jit)
    x = res.flat.x.copy()
    n = x.size
    r = res.residuals(x)
    if r.ndim != 1 or r.size == 0 or not onp.all(onp.isfinite(r)):
        raise ValueError(f"least_squares: residual(x0) must be a non-empty finite array, got "
                         f"shape {r.shape} with {int(onp.sum(~onp.isfinite(r)))} non-finite "
                         "entries")
    cost, w = res.cost_and_weights(r)
    mon = Monitor(res, f"least_squares/{name}", max_nfev or 100 * max(n, 10), max_nfev,
                  callback, progress)
    lin = _Linearisation(res, x, w)
    g = lin.rmv(w * r)
    gnorm = float(onp.max(onp.abs(g)))
    stop = mon.record(x, cost, gnorm, count=False) or mon.gtol_met(gnorm, gtol)
    mu, nu = None, 2.0
    scale = onp.zeros(n)
    radius = None
    while stop is None:
        rt = w * r
        if name == "gauss-newton":
            if lin.J is not None:
                p = onp.linalg.lstsq(lin.J, -rt, rcond=None)[0]
            else:
                p = _cgls(lin, -g, 0.0, 1e-10 * max(gnorm, 1e-300), 2 * n)
            d0 = g @ p
            if not d0 < 0:
                stop = Stop(Status.PRECISION, "the Gauss-Newton step is not a descent "
                                              "direction (rank-deficient J at this precision)")
                break
            alpha = 1.0
            while True:
                r_new = res.residuals(x + alpha * p)
                cost_new, w_new = res.cost_and_weights(r_new)
                if cost_new <= cost + 1e-4 * alpha * d0 or alpha < 1e-10:
                    break
                alpha *= 0.5
            if not cost_new < cost:
                stop = Stop(Status.PRECISION, "no decrease of the cost along the "
                                              "Gauss-Newton step")
                break
            step = alpha * p
            accepted = well_predicted = True
        else:
            diag = (onp.sum(lin.J * lin.J, axis=0) if lin.J is not None
                    else onp.ones(n))
            scale = onp.maximum(scale, diag)
            if name == "lm":
                if mu is None:  # μ is relative to D = diag(J̃ᵀJ̃): dimensionless
                    mu = 1e-3
                if lin.J is not None:
                    aug = onp.vstack([lin.J, onp.diag(onp.sqrt(mu * scale))])
                    step = onp.linalg.lstsq(aug, onp.concatenate([-rt, onp.zeros(n)]),
                                            rcond=None)[0]
                else:
                    step = _cgls(lin, -g, mu, 1e-10 * max(gnorm, 1e-300), 2 * n)
                predicted = 0.5 * step @ (mu * scale * step - g)
            else:
                if radius is None:
                    radius = max(1.0, math.sqrt(x @ x))
                if lin.J is not None:
                    step, m, hits = EigenModel(lin.J.T @ lin.J).solve(g, radius)
                else:
                    step, m, hits = steihaug_cg(g, lin.normal, radius,
                                                1e-2 * min(1.0, gnorm) * gnorm)
                predicted = -m
            r_new = res.residuals(x + step)
            cost_new, w_new = res.cost_and_weights(r_new)
            actual = cost - cost_new if math.isfinite(cost_new) else -math.inf
            gain = actual / predicted if predicted > 0 else -math.inf
            if name == "lm":
                if gain > 0:
                    mu *= max(1.0 / 3.0, 1.0 - (2.0 * gain - 1.0) ** 3)
                    nu = 2.0
                else:
                    mu *= nu
                    nu *= 2.0
                accepted = gain > 0
            else:
                radius = update_radius(radius, gain, hits, 1e10)
                accepted = gain > 0.0
            well_predicted = gain > 0.25
            if not math.isfinite(mu if mu is not None else 0.0) or (
                    radius is not None and radius < 1e-15 * (1.0 + math.sqrt(x @ x))):
                stop = Stop(Status.PRECISION, "the step control shrank to the precision of x")
                break
        if accepted:
            cost_old = cost
            x = x + step
            r, cost, w = r_new, cost_new, w_new
            lin = _Linearisation(res, x, w)
            g = lin.rmv(w * r)
            gnorm = float(onp.max(onp.abs(g)))
            snorm = math.sqrt(step @ step)
            stop = (mon.record(x, cost, gnorm, step=snorm,
                               radius=radius if radius is not None else math.nan)
                    or mon.gtol_met(gnorm, gtol)
                    # a small decrease ends the run only when the model predicted it well
                    # (as MINPACK's test): an over-damped first step is not convergence
                    or (mon.ftol_met(cost_old, cost, ftol) if well_predicted else None)
                    or mon.xtol_met(snorm, math.sqrt(x @ x), xtol))
        else:
            stop = mon.record(x, cost, gnorm, step=0.0,
                              radius=radius if radius is not None else math.nan)
    out = mon.result(x, cost, None, stop)
    out.update(cost=cost, fun=r, jac=lin.J_raw,
               grad=res.flat.unravel(g), optimality=gnorm, loss=loss)
    return out

