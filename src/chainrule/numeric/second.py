"""``hessian`` and ``hvp``: second derivatives of a scalar function of an array."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from . import richardson as _richardson
from ._checks import (
    METHODS,
    as_real_array,
    check_callable,
    check_method,
    check_step,
    to_output,
)
from .line import Evaluator, pow2_step
from .multivariate import _partials
from .steps import COMPLEX_STEP, EPS, RICHARDSON_STEP, optimal_step, representable_step

__all__ = ["hessian", "hvp"]


def _scalar(y: np.ndarray, where: str) -> np.ndarray:
    if y.size != 1:
        raise ValueError(
            f"{where}f must return a scalar, got an array of shape {y.shape}; "
            f"the Hessian is defined for scalar functions (reduce the output first)"
        )
    return y.reshape(())


class _Probe:
    """``f`` at ``x`` plus steps along a few coordinates: ``probe({i: t_i, j: t_j})``."""

    def __init__(self, ev: Evaluator, where: str):
        self.ev = ev
        self.where = where

    def __call__(self, moves: dict) -> np.ndarray:
        if not moves:
            return _scalar(self.ev.f0(), self.where)
        cplx = any(isinstance(t, complex) for t in moves.values())
        y = self.ev.x.astype(complex if cplx else float, copy=True)
        for i, t in moves.items():
            y.flat[i] += t
        return _scalar(self.ev(y), self.where)


def _central(probe: _Probe, h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Central second differences, ``O(h^2)``, and a round-off bound; ``2n^2 + 1`` calls."""
    n = h.size
    H = np.zeros((n, n))
    R = np.zeros((n, n))
    f0 = probe({})
    fp = [probe({i: h[i]}) for i in range(n)]
    fm = [probe({i: -h[i]}) for i in range(n)]
    for i in range(n):
        # (f(x + h e_i) - 2 f(x) + f(x - h e_i)) / h^2
        H[i, i] = (fp[i] - 2 * f0 + fm[i]) / h[i] ** 2
        R[i, i] = EPS * (abs(fp[i]) + 2 * abs(f0) + abs(fm[i])) / h[i] ** 2
        for j in range(i):
            # (f(++) - f(+-) - f(-+) + f(--)) / (4 h_i h_j)
            vals = [probe({i: si * h[i], j: sj * h[j]}) for si in (1, -1) for sj in (1, -1)]
            denom = 4 * h[i] * h[j]
            H[i, j] = H[j, i] = (vals[0] - vals[1] - vals[2] + vals[3]) / denom
            R[i, j] = R[j, i] = EPS * sum(abs(v) for v in vals) / denom
    return H, R


def _one_sided(probe: _Probe, h: np.ndarray, sign: float) -> np.ndarray:
    """Forward (``sign = 1``) or backward second differences, ``O(h)``."""
    n = h.size
    s = sign * h
    H = np.zeros((n, n))
    f0 = probe({})
    f1 = [probe({i: s[i]}) for i in range(n)]
    for i in range(n):
        # (f(x + 2h e_i) - 2 f(x + h e_i) + f(x)) / h^2
        H[i, i] = (probe({i: 2 * s[i]}) - 2 * f1[i] + f0) / h[i] ** 2
        for j in range(i):
            # (f(x + h_i e_i + h_j e_j) - f(x + h_i e_i) - f(x + h_j e_j) + f(x)) / (h_i h_j)
            fij = probe({i: s[i], j: s[j]})
            H[i, j] = H[j, i] = (fij - f1[i] - f1[j] + f0) / (h[i] * h[j])
    return H


def _complex(probe: _Probe, h: np.ndarray, tau: np.ndarray) -> np.ndarray:
    """``Im[f(x + i tau e_i + h_j e_j) - f(x + i tau e_i - h_j e_j)] / (2 tau h_j)``.

    The complex step gives ``d_i f`` exactly to rounding at ``x +- h_j e_j``; a central
    difference of those in ``j`` leaves ``O(h^2)`` truncation and ``~eps |d_i f| / h``
    round-off (``~1e-11`` at ``h ~ eps^(1/3)``), against ``~1e-8`` from values only.
    """
    n = h.size
    H = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            ti = complex(0.0, tau[i])
            if i == j:
                up, down = probe({i: ti + h[j]}), probe({i: ti - h[j]})
            else:
                up, down = probe({i: ti, j: h[j]}), probe({i: ti, j: -h[j]})
            H[i, j] = (up.imag - down.imag) / (2 * tau[i] * h[j])
    return H


def hessian(
    f: Callable | None,
    x: Any,
    method: str = "central",
    step: Any = None,
    grad: Callable | None = None,
) -> np.ndarray | float:
    """The Hessian of a scalar function, symmetrised as ``(H + H^T) / 2``.

    From function values (``grad=None``), with per-coordinate steps ``h_i``:

    - ``"central"`` (default): ``H_ii = (f(x+h_i e_i) - 2f(x) + f(x-h_i e_i)) / h_i^2``,
      ``H_ij = (f(x+h_i e_i+h_j e_j) - f(x+h_i e_i-h_j e_j) - f(x-h_i e_i+h_j e_j)
      + f(x-h_i e_i-h_j e_j)) / (4 h_i h_j)``; error ``O(h^2)``, step
      ``h_i = eps^(1/4) max(1, |x_i|)``, accuracy ``~1e-8`` relative; ``2n^2 + 1`` calls.
    - ``"forward"`` / ``"backward"``: ``(f(x+h_i e_i+h_j e_j) - f(x+h_i e_i) - f(x+h_j e_j)
      + f(x)) / (h_i h_j)`` (``h -> -h`` for backward); error ``O(h)``, step
      ``eps^(1/3) max(1, |x_i|)``, ``~1e-5``; ``(n + 1)(n + 2) / 2`` calls.
    - ``"complex"``: ``Im[f(x + i tau e_i + h_j e_j) - f(x + i tau e_i - h_j e_j)] /
      (2 tau h_j)`` with ``tau = 1e-20 max(1, |x_i|)``, ``h_j = eps^(1/3) max(1, |x_j|)``;
      error ``O(h^2)``, ``~1e-11``; ``2 n^2`` calls; ``f`` must accept complex input.
    - ``"richardson"``: the central formula at steps ``s max(1, |x_i|)`` for
      ``s = 1/4, 1/8, ...`` (at most 8), Richardson-extrapolated entrywise; ``~1e-12``,
      up to ``8 (2 n^2) + 1`` calls.

    With a gradient callable ``grad`` the Hessian is its Jacobian by ``method`` (one
    column per coordinate, step as in :func:`jacobian`: central ``eps^(1/3) max(1,
    |x_j|)``, ``~1e-10``), with ``2n`` gradient calls for central differences.

    Args:
        f: ``R^n -> R`` (not called when ``grad`` is given).
        x: the point (float, list or array of any shape).
        method: ``"forward"``, ``"backward"``, ``"central"``, ``"complex"`` or
            ``"richardson"``.
        step: None, or the step(s) ``h_i`` (a float or an array broadcast to ``x``); for
            ``"richardson"`` the first relative step ``s``.
        grad: optional gradient of ``f`` (returns an array shaped like ``x``).

    Returns:
        The symmetric Hessian, shaped ``x.shape + x.shape`` (a float for scalar ``x``).

    Example:
        >>> import numpy as np
        >>> H = hessian(lambda x: x[0] ** 2 * x[1], [1.0, 3.0])
        >>> np.allclose(H, [[6.0, 2.0], [2.0, 0.0]], atol=1e-6)
        True
    """
    where = "hessian(): "
    method = check_method(method, METHODS, where)
    x = as_real_array(x, where=where)
    n = x.size
    if grad is not None:
        grad = check_callable(grad, "grad")
        step = check_step(step, x.shape, where=where)
        H, _, _, _ = _partials(grad, x, method, step, False, where)
        if H.shape != x.shape + x.shape:
            raise ValueError(
                f"{where}grad must return an array shaped like x {x.shape}, but its "
                f"Jacobian has shape {H.shape}"
            )
    else:
        f = check_callable(f)
        probe = _Probe(Evaluator(f, x, where), where)
        if method == "richardson":
            if step is not None:
                step = check_step(step, where=where)
                if not isinstance(step, float):
                    raise ValueError(f"{where}richardson takes one relative step, got {step!r}")
            scale = np.maximum(1.0, np.abs(x)).ravel()
            s0 = step if step is not None else pow2_step(2 * RICHARDSON_STEP)
            res = _richardson.extrapolate(lambda s: _central(probe, s * scale), s0)
            H = res.value
        else:
            step = check_step(step, x.shape, where=where)
            H = _from_values(probe, x, method, step)
    H = H.reshape(n, n)
    H = 0.5 * (H + H.T)
    H = H.reshape(x.shape + x.shape)
    return H.item() if H.ndim == 0 else H


def _from_values(probe: _Probe, x: np.ndarray, method: str, step) -> np.ndarray:
    xf = x.ravel()
    if method == "central":
        h = optimal_step(2, 2, xf) if step is None else np.ravel(step)
        h = np.atleast_1d(representable_step(xf, h))
        return _central(probe, h)[0]
    if method in ("forward", "backward"):
        h = optimal_step(1, 2, xf) if step is None else np.ravel(step)
        h = np.atleast_1d(representable_step(xf, h))
        return _one_sided(probe, h, 1.0 if method == "forward" else -1.0)
    h = optimal_step(2, 1, xf) if step is None else np.ravel(step)
    tau = COMPLEX_STEP * np.maximum(1.0, np.abs(xf))
    return _complex(probe, np.atleast_1d(h), np.atleast_1d(tau))


def hvp(
    f: Callable | None,
    x: Any,
    v: Any,
    grad: Callable | None = None,
    step: float | None = None,
) -> np.ndarray | float:
    """The Hessian-vector product ``H v = (grad f(x + d v) - grad f(x - d v)) / (2 d)``.

    Never forms the Hessian. With ``grad`` given this costs two gradient calls and the
    error is ``O(d^2)`` with ``d = eps^(1/3) max(1, |x|_inf) / |v|_inf`` (``~1e-10``).
    Without it, the gradients are central differences of ``f`` with per-coordinate steps
    ``h_i = eps^(1/4) max(1, |x_i|)``, so entry ``i`` is the mixed difference
    ``[f(x+dv+h_i e_i) - f(x+dv-h_i e_i) - f(x-dv+h_i e_i) + f(x-dv-h_i e_i)] / (4 d h_i)``
    with ``d = eps^(1/4) max(1, |x|_inf) / |v|_inf``: error ``O(d^2 + h^2)`` plus
    round-off ``~eps |f| / (d h)``, ``~1e-8`` relative; ``4n`` calls of ``f``.

    Args:
        f: ``R^n -> R`` (not called when ``grad`` is given).
        x: the point (float, list or array of any shape).
        v: the vector, shaped like ``x``.
        grad: optional gradient of ``f`` (returns an array shaped like ``x``).
        step: None, or the step ``d`` along ``v``.

    Returns:
        ``H v``, shaped like ``x`` (a float for scalar ``x``).

    Example:
        >>> import numpy as np
        >>> f = lambda x: x[0] ** 2 * x[1]
        >>> np.allclose(hvp(f, [1.0, 3.0], [1.0, 0.0]), [6.0, 2.0], atol=1e-6)
        True
    """
    where = "hvp(): "
    x = as_real_array(x, where=where)
    v = as_real_array(v, name="v", where=where)
    if v.shape != x.shape:
        raise ValueError(f"{where}v must have x's shape {x.shape}, got shape {v.shape}")
    step = check_step(step, where=where)
    if step is not None and not isinstance(step, float):
        raise ValueError(f"{where}step is the one step d along v, got {step!r}")
    if grad is not None:
        grad = check_callable(grad, "grad")
    else:
        f = check_callable(f)
    if not np.any(v):
        return _plain_like(np.zeros(x.shape))
    xscale = float(np.max(np.abs(x)))
    vscale = float(np.max(np.abs(v)))
    if grad is not None:
        d = step if step is not None else optimal_step(2, 1, xscale) / vscale

        def g(y):
            out = to_output(grad(y), where)
            if out.shape != x.shape:
                raise ValueError(
                    f"{where}grad must return an array shaped like x {x.shape}, "
                    f"got shape {out.shape}"
                )
            return out

    else:
        d = step if step is not None else optimal_step(2, 2, xscale) / vscale
        h = np.asarray(optimal_step(2, 2, x), dtype=float)

        def g(y):
            value = _partials(f, y, "central", h, False, where)[0]
            if value.size != y.size:
                raise ValueError(
                    f"{where}f must return a scalar, got an array of shape "
                    f"{value.shape[: value.ndim - y.ndim]}; H v is defined for scalar f"
                )
            return value.reshape(y.shape)

    return _plain_like((g(x + d * v) - g(x - d * v)) / (2 * d))


def _plain_like(a: np.ndarray):
    return a.item() if a.ndim == 0 else a
