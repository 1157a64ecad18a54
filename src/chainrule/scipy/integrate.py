"""chainrule.scipy.integrate: ``odeint``, SciPy's ODE solver, differentiable.

``odeint(func, y0, t, args)`` solves ``dy/dt = func(y, t, *args)``, ``y(t₀) = y0``, and
returns ``Y`` with ``Y[i] = y(tᵢ)`` (SciPy's ``scipy.integrate.odeint`` convention). The
forward solve is SciPy's LSODA when SciPy is installed, else an adaptive Dormand–Prince
RK45 in NumPy under the same tolerances. Neither is traced: the derivatives come from
rules that integrate other ODEs.

**Reverse mode (the adjoint method).** For a loss L with cotangents ``gᵢ = ∂L/∂Y[i]``, the
adjoint ``a(t) = ∂L/∂y(t)`` satisfies, between output times,

    da/dt = -aᵀ ∂f/∂y,        and jumps by gᵢ at tᵢ (a(t_N) = g_N),

and ``∂L/∂p = ∫_{t₀}^{t_N} aᵀ ∂f/∂p dt`` for every array p in ``args``. Going from tᵢ down
to tᵢ₋₁, the augmented state ``[y, a, p̄]`` is integrated backwards with
``dy/dt = f``, ``da/dt = -aᵀ∂f/∂y``, ``dp̄/dt = -aᵀ∂f/∂p`` (y restarts from the stored
forward value Y[i]; the products aᵀ∂f/∂· are ``chainrule.vjp`` of func), then gᵢ₋₁ is
added to a. At the end ``∂L/∂y0 = a(t₀)``. The times: ``∂L/∂tᵢ = gᵢ · f(Y[i], tᵢ)`` for
i ≥ 1, and ``∂L/∂t₀ = -a(t₀⁺) · f(y0, t₀)`` with ``a(t₀⁺)`` the adjoint before g₀ is added
(moving t₀ shifts the whole trajectory by ``-f(y0, t₀)·dt₀``).

**Forward mode (sensitivities).** With tangents ``(δy0, δt, δp)`` the sensitivity
``s(t) = ∂y(t)·(δy0, δt₀, δp)`` satisfies

    ds/dt = ∂f/∂y · s + ∂f/∂p · δp,     s(t₀) = δy0 - f(y0, t₀) δt₀,

integrated together with y (``chainrule.jvp`` of func gives the right side); the tangent
of Y[i] is ``s(tᵢ) + f(Y[i], tᵢ) δtᵢ``.

Both rules are numerical, so they are first-order only: differentiating them again
(``hessian``, ``grad`` of ``grad``, ``grad`` of ``jvp``) raises ``NotImplementedError``.
``func`` must be written with ``chainrule.numpy`` and must not close over values being
differentiated: pass those through ``args``. Under ``vmap`` (and so in ``jacfwd``/``jacrev``,
which batch their directions) each example gets its own solve.

Example:
    >>> import numpy as onp, chainrule as cr
    >>> from chainrule.scipy.integrate import odeint
    >>> decay = lambda y, t, k: -k * y
    >>> t = onp.array([0.0, 1.0])
    >>> float(cr.grad(lambda k: odeint(decay, 1.0, t, (k,))[1])(0.5))  # d/dk e^{-k} = -e^{-k}
    -0.6065306...
"""

from __future__ import annotations

import math
import warnings
from typing import Any, Callable

import numpy as np

from chainrule.core.primitive import Tracer, concrete, dtype_of, shape_of
from chainrule.core.pytree import tree_flatten, tree_unflatten
from chainrule.custom import custom_jvp, custom_vjp, primitive
from chainrule.numpy import _namespace as cnp

__all__ = ["odeint"]

_RK45_DEFAULT_MXSTEP = 10_000


def _scipy_odeint():
    """``scipy.integrate.odeint``, or None without SciPy (imported on first use)."""
    try:
        from scipy.integrate import odeint as sp_odeint
    except ImportError:  # pragma: no cover - depends on the environment
        return None
    return sp_odeint


# ---------------------------------------------------------------------------
# numerical integration of z' = rhs(z, t) on a flat float64 state (no tracing)
# ---------------------------------------------------------------------------

def _integrate(rhs: Callable, z0: np.ndarray, ts: np.ndarray, rtol: float, atol: float,
               mxstep: int, hmax: float) -> np.ndarray:
    """The solution at every time in ``ts`` (rows), ``z(ts[0]) = z0``; hmax 0: no limit."""
    if ts[0] == ts[-1]:  # one time, or repeats of it (t is monotonic): y(t₀) = z0
        return np.tile(np.asarray(z0, dtype=np.float64), (len(ts), 1))
    sp_odeint = _scipy_odeint()
    if sp_odeint is None:
        return _rk45(rhs, z0, ts, rtol, atol, mxstep or _RK45_DEFAULT_MXSTEP, hmax or math.inf)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # failure is turned into an exception below
        zs, info = sp_odeint(rhs, z0, ts, rtol=rtol, atol=atol, mxstep=int(mxstep),
                             hmax=hmax, full_output=True)
    if info.get("message") != "Integration successful." or not np.all(np.isfinite(zs)):
        raise RuntimeError(
            f"odeint: scipy.integrate.odeint (LSODA) failed: {info.get('message')!r}; "
            "raise mxstep, loosen rtol/atol, or check func for a blow-up")
    return zs


# Dormand–Prince 5(4): nodes c, stages A, 5th-order weights B, error weights E = B - B̂.
_C = np.array([0.0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1.0])
_A = [
    [],
    [1 / 5],
    [3 / 40, 9 / 40],
    [44 / 45, -56 / 15, 32 / 9],
    [19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729],
    [9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656],
]
_B = np.array([35 / 384, 0.0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84])
_E = np.array([71 / 57600, 0.0, -71 / 16695, 71 / 1920, -17253 / 339200, 22 / 525, -1 / 40])


def _rk45(rhs, z0, ts, rtol, atol, mxstep, hmax):
    """Adaptive Dormand–Prince RK45 (FSAL), stepping exactly onto each output time.

    A step is accepted when the RMS of ``err / (atol + rtol·max(|z|, |z_new|))`` is ≤ 1
    (LSODA's weighted norm); the next step is ``h·min(10, max(0.2, 0.9·err^(-1/5)))``.
    At most ``mxstep`` steps per output interval, as in LSODA.
    """
    z = np.array(z0, dtype=np.float64)
    out = np.empty((len(ts), z.size))
    out[0] = z
    if ts[-1] == ts[0]:
        out[1:] = z
        return out
    direction = 1.0 if ts[-1] > ts[0] else -1.0
    t = float(ts[0])
    k1 = np.asarray(rhs(z, t), dtype=np.float64)
    # initial step: Hairer, Nørsett & Wanner, Solving ODEs I, II.4
    scale = atol + rtol * np.abs(z)
    d0, d1 = _rms(z / scale), _rms(k1 / scale)
    h = 1e-6 if d0 < 1e-5 or d1 < 1e-5 else 0.01 * d0 / d1
    h = min(h, abs(ts[-1] - ts[0]), hmax)
    z1 = z + direction * h * k1
    d2 = _rms((np.asarray(rhs(z1, t + direction * h), dtype=np.float64) - k1) / scale) / h
    big = max(d1, d2)
    h1 = max(1e-6, h * 1e-3) if big <= 1e-15 else (0.01 / big) ** 0.2
    h = min(100 * h, h1, hmax)
    for i in range(1, len(ts)):
        t_end = float(ts[i])
        steps = 0
        while direction * (t_end - t) > 0:
            if steps >= mxstep:
                raise RuntimeError(
                    f"odeint: more than mxstep={mxstep} steps between t={ts[i - 1]} and "
                    f"t={t_end} (RK45 fallback); raise mxstep or loosen rtol/atol")
            last = h >= abs(t_end - t)
            step = abs(t_end - t) if last else h
            k = [k1]
            for s in range(1, 6):
                dz = sum(a * kj for a, kj in zip(_A[s], k))
                k.append(np.asarray(rhs(z + direction * step * dz, t + direction * step * _C[s]),
                                    dtype=np.float64))
            z_new = z + direction * step * sum(b * kj for b, kj in zip(_B, k))
            t_new = t_end if last else t + direction * step
            k7 = np.asarray(rhs(z_new, t_new), dtype=np.float64)
            err_vec = step * sum(e * kj for e, kj in zip(_E, k + [k7]))
            err = _rms(err_vec / (atol + rtol * np.maximum(np.abs(z), np.abs(z_new))))
            steps += 1
            if not np.isfinite(err):
                raise RuntimeError(f"odeint: the solution is not finite near t={t} "
                                   "(RK45 fallback); check func for a blow-up")
            if err <= 1.0:
                z, t, k1 = z_new, t_new, k7
                if not last:
                    h = min(step * min(10.0, max(0.2, 0.9 * err ** -0.2) if err > 0 else 10.0),
                            hmax)
            else:
                h = step * max(0.2, 0.9 * err ** -0.2)
                if h < 1e-14 * max(1.0, abs(t)):
                    raise RuntimeError(f"odeint: the step size underflowed near t={t} "
                                       "(RK45 fallback); the problem may be stiff")
        out[i] = z
    return out


def _rms(x) -> float:
    return float(np.sqrt(np.mean(np.square(x)))) if np.size(x) else 0.0


# ---------------------------------------------------------------------------
# func on plain values, and the pieces of args that are differentiated
# ---------------------------------------------------------------------------

def _has_tracer(tree) -> bool:
    return any(isinstance(x, Tracer) for x in tree_flatten(tree)[0])


def _is_numeric(x) -> bool:
    return isinstance(x, (Tracer, np.ndarray, np.generic, float, int, complex))


def _is_float_leaf(x) -> bool:
    if isinstance(x, Tracer):
        return dtype_of(x).kind == "f"
    return isinstance(x, (float, np.floating, np.ndarray)) and np.asarray(x).dtype.kind == "f"


def _evaluate(func, y, t, args, shape):
    """``func(y, t, *args)`` as a float64 array of y's shape, or a ValueError saying why not."""
    return _as_rate(func(y, t, *args), shape)


def _as_rate(out, shape):
    if isinstance(out, Tracer):
        raise ValueError(
            "odeint: func(y, t, *args) returned a traced value for plain inputs: it closes "
            "over a variable being differentiated; pass that variable in args instead")
    out = np.asarray(out)
    if out.shape != shape:
        raise ValueError(
            f"odeint: func(y, t, *args) returned shape {out.shape} but y0 has shape {shape}; "
            "func must return dy/dt with the shape of y")
    if out.dtype.kind not in "fiub":
        raise ValueError(f"odeint: func(y, t, *args) returned dtype {out.dtype}; it must "
                         "return real floating-point dy/dt")
    return out.astype(np.float64, copy=False)


class _Split:
    """``args`` split into its float leaves (differentiated) and the rest (held fixed)."""

    def __init__(self, args) -> None:
        self.leaves, self.tree = tree_flatten(args)
        self.idx = [k for k, x in enumerate(self.leaves) if _is_float_leaf(x)]
        self.shapes = [tuple(shape_of(self.leaves[k])) for k in self.idx]

    @property
    def floats(self) -> list:
        return [self.leaves[k] for k in self.idx]

    def args(self, floats) -> Any:
        leaves = list(self.leaves)
        for k, v in zip(self.idx, floats):
            leaves[k] = v
        return tree_unflatten(self.tree, leaves)

    def cotangent(self, bars) -> Any:
        """A cotangent pytree shaped like args: ``bars`` at the float leaves, 0 elsewhere."""
        cts: list[Any] = [0.0] * len(self.leaves)
        for k, b in zip(self.idx, bars):
            cts[k] = b
        return tree_unflatten(self.tree, cts)

    def tangents(self, dargs) -> list:
        """The tangents of the float leaves from custom_jvp's tangent tree, which has a
        leaf exactly for each numeric primal leaf (None for the others)."""
        it = iter(tree_flatten(dargs)[0])
        by_leaf = [next(it, None) if _is_numeric(x) else None for x in self.leaves]
        return [np.zeros(sh) if by_leaf[k] is None else by_leaf[k]
                for k, sh in zip(self.idx, self.shapes)]


def _second_order(*_args, **_params):
    raise NotImplementedError(
        "odeint: its derivative rules are numerical ODE solves, first order only, so they "
        "cannot be differentiated again (hessian, grad of grad, grad of jvp, jvp of grad). "
        "Take first derivatives only (grad/vjp/jacrev in reverse mode, jvp/jacfwd in "
        "forward mode), or difference a first derivative with chainrule.numeric.")


class _NoRules:
    """A rule table whose every entry raises the first-order-only error."""

    def __getitem__(self, i: int):
        return _second_order


def _numeric_primitive(impl: Callable):
    """``impl`` as an atomic operation (run per example under vmap, never differentiated)."""
    prim = primitive(impl)
    prim.jvps = prim.vjps = _NoRules()
    return prim


def _quiet(prim, *args, **params):
    """``prim(*args)``, without vmap's loop warning: one solve per example is inherent."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="vmap: the primitive 'odeint",
                                category=RuntimeWarning)
        return prim(*args, **params)


def _check_concrete(*trees):
    if any(_has_tracer(x) for x in trees):
        _second_order()


# ---------------------------------------------------------------------------
# the solve, its forward rule (sensitivities) and its reverse rule (adjoint)
# ---------------------------------------------------------------------------

def _check_times(t: np.ndarray) -> None:
    if t.ndim != 1 or t.size == 0:
        raise ValueError(f"odeint: t must be a non-empty 1-D array of times, got shape "
                         f"{t.shape}")
    if t.dtype.kind not in "fiu" or not np.all(np.isfinite(t)):
        raise ValueError("odeint: t must hold finite real times")
    d = np.diff(t)
    if not (np.all(d >= 0) or np.all(d <= 0)):
        raise ValueError(
            "odeint: t must be monotonically increasing or decreasing (repeated values are "
            "allowed; t[0] is the initial time); sort the times and reorder the output rows")


def _solve(func, rtol, atol, mxstep, hmax, y0, t, args):
    """Y[i] = y(tᵢ) for dy/dt = func(y, t, *args), y(t₀) = y0, on plain values."""
    _check_concrete(y0, t, args)
    y0 = np.asarray(y0, dtype=np.float64)
    t = np.asarray(t, dtype=np.float64)
    _check_times(t)  # again: jit runs this without the public function's checks
    shape = y0.shape
    _evaluate(func, y0, float(t[0]), args, shape)  # shape errors before the solver runs

    def rhs(z, s):
        return _evaluate(func, z.reshape(shape), float(s), args, shape).ravel()

    ys = _integrate(rhs, y0.ravel(), t, rtol, atol, mxstep, hmax)
    return ys.reshape((len(t),) + shape)


def _sensitivities(y0, t, *rest, func, rtol, atol, mxstep, hmax, split):
    """[Y, S] stacked: S[i] the tangent of Y[i] for the tangents (δy0, δt, δp).

    Integrates [y, s] with s' = ∂f/∂y·s + ∂f/∂p·δp from s(t₀) = δy0 - f(y0, t₀)·δt₀, then
    S[i] = s(tᵢ) + f(Y[i], tᵢ)·δtᵢ.
    """
    from chainrule.transforms import jvp

    _check_concrete(y0, t, rest)
    k = len(split.idx)
    ps, (dy0, dt), dps = rest[:k], rest[k:k + 2], rest[k + 2:]
    y0 = np.asarray(y0, dtype=np.float64)
    t = np.asarray(t, dtype=np.float64)
    dy0 = np.asarray(dy0, dtype=np.float64)
    dt = np.asarray(dt, dtype=np.float64)
    ps = [np.asarray(p, dtype=np.float64) for p in ps]
    dps = [np.asarray(d, dtype=np.float64) for d in dps]
    args = split.args(ps)
    shape, n = y0.shape, y0.size

    def rhs(z, s):
        s = float(s)
        y, sens = z[:n].reshape(shape), z[n:].reshape(shape)
        f, fdot = jvp(lambda yy, *pp: func(yy, s, *split.args(pp)), (y, *ps), (sens, *dps))
        return np.concatenate([_as_rate(f, shape).ravel(), _as_rate(fdot, shape).ravel()])

    f0 = _evaluate(func, y0, float(t[0]), args, shape)
    z0 = np.concatenate([y0.ravel(), (dy0 - f0 * dt[0]).ravel()])
    zs = _integrate(rhs, z0, t, rtol, atol, mxstep, hmax)
    ys = zs[:, :n].reshape((len(t),) + shape)
    sens = zs[:, n:].reshape((len(t),) + shape).copy()
    for i in range(len(t)):
        if dt[i] != 0.0:
            sens[i] += _evaluate(func, ys[i], float(t[i]), args, shape) * dt[i]
    return np.stack([ys, sens])


def _adjoint(g, ys, y0, t, *ps, func, rtol, atol, mxstep, hmax, split):
    """[∂L/∂y0, ∂L/∂t, ∂L/∂p...] raveled into one vector, by the adjoint sweep from t_N
    down to t₀ (see the module docstring); g[i] = ∂L/∂Y[i]."""
    from chainrule.transforms import vjp

    _check_concrete(g, ys, y0, t, ps)
    ys = np.asarray(ys, dtype=np.float64)
    y0 = np.asarray(y0, dtype=np.float64)
    t = np.asarray(t, dtype=np.float64)
    g = np.asarray(g, dtype=np.float64)
    ps = [np.asarray(p, dtype=np.float64) for p in ps]
    args = split.args(ps)
    shape, n = y0.shape, y0.size
    m = sum(p.size for p in ps)

    def rhs(z, s):
        s = float(s)
        y, a = z[:n].reshape(shape), z[n:2 * n].reshape(shape)
        f, back = vjp(lambda yy, *pp: func(yy, s, *split.args(pp)), y, *ps)
        cts = back(-a)
        return np.concatenate([_as_rate(f, shape).ravel()]
                              + [np.asarray(c, dtype=np.float64).ravel() for c in cts])

    a = g[-1].ravel().copy()
    p_bar = np.zeros(m)
    t_bar = np.zeros(len(t))
    for i in range(len(t) - 1, 0, -1):
        t_bar[i] = np.sum(g[i] * _evaluate(func, ys[i], float(t[i]), args, shape))
        z = np.concatenate([ys[i].ravel(), a, p_bar])
        z = _integrate(rhs, z, np.array([t[i], t[i - 1]]), rtol, atol, mxstep, hmax)[-1]
        a, p_bar = z[n:2 * n], z[2 * n:]
        if i > 1:
            a = a + g[i - 1].ravel()
    if len(t) > 1:  # a is a(t₀⁺) here, before g₀ is added
        t_bar[0] = -np.dot(a, _evaluate(func, y0, float(t[0]), args, shape).ravel())
        a = a + g[0].ravel()
    return np.concatenate([a, t_bar, p_bar])


_sensitivities_p = _numeric_primitive(_sensitivities)
_sensitivities_p.name = "odeint_sensitivities"
_adjoint_p = _numeric_primitive(_adjoint)
_adjoint_p.name = "odeint_adjoint"

_solve_jvp = custom_jvp(_solve, nondiff_argnums=(0, 1, 2, 3, 4))
_solve_jvp.__name__ = "odeint"


@_solve_jvp.defjvp
def _solve_jvp_rule(func, rtol, atol, mxstep, hmax, primals, tangents):
    y0, t, args = primals
    dy0, dt, dargs = tangents
    split = _Split(args)
    dy0 = np.zeros(shape_of(y0)) if dy0 is None else dy0
    dt = np.zeros(shape_of(t)) if dt is None else dt
    both = _quiet(_sensitivities_p, y0, t, *split.floats, dy0, dt, *split.tangents(dargs),
                  func=func, rtol=rtol, atol=atol, mxstep=mxstep, hmax=hmax, split=split)
    return both[0], both[1]


def _adjoint_fwd(func, rtol, atol, mxstep, hmax, y0, t, args):
    if _has_tracer((y0, t, args)):  # nested: the outer level differentiates the solve itself
        ys = _solve_vjp(func, rtol, atol, mxstep, hmax, y0, t, args)
    else:
        ys = _solve_jvp(func, rtol, atol, mxstep, hmax, y0, t, args)
    return ys, (ys, y0, t, args)


def _adjoint_bwd(func, rtol, atol, mxstep, hmax, res, g):
    ys, y0, t, args = res
    split = _Split(args)
    shape = tuple(shape_of(y0))
    n, nt = int(np.prod(shape, dtype=int)), int(shape_of(t)[0])
    flat = _quiet(_adjoint_p, g, ys, y0, t, *split.floats, func=func, rtol=rtol, atol=atol,
                  mxstep=mxstep, hmax=hmax, split=split)
    y0_bar = cnp.reshape(flat[:n], shape)
    t_bar = flat[n:n + nt]
    p_bars, offset = [], n + nt
    for sh in split.shapes:
        size = int(np.prod(sh, dtype=int))
        p_bars.append(cnp.reshape(flat[offset:offset + size], sh))
        offset += size
    return y0_bar, t_bar, split.cotangent(p_bars)


_solve_vjp = custom_vjp(_solve_jvp, nondiff_argnums=(0, 1, 2, 3, 4))
_solve_vjp.__name__ = "odeint"
_solve_vjp.defvjp(_adjoint_fwd, _adjoint_bwd)


# ---------------------------------------------------------------------------
# the public function
# ---------------------------------------------------------------------------

def odeint(func: Callable, y0, t, args: Any = (), rtol: float = 1.4e-8, atol: float = 1.4e-8,
           mxstep: int = 0, hmax: float = math.inf):
    """Solve ``dy/dt = func(y, t, *args)``, ``y(t[0]) = y0``; return ``y`` at every time in t.

    Args:
        func: ``func(y, t, *args) -> dy/dt`` with y's shape, written with
            ``chainrule.numpy`` (its VJPs/JVPs drive the derivative rules). It must not
            close over values being differentiated: pass them in ``args``.
        y0: the initial state (any shape; a float array).
        t: a 1-D array of times, increasing or decreasing (repeats allowed, as in SciPy);
            ``t[0]`` is the initial time.
        args: extra arguments of func, a tuple (nested tuples, lists and dicts of arrays
            allowed; a non-tuple is treated as ``(args,)``, as SciPy does). Every float
            array in it is differentiable.
        rtol, atol: scalar tolerances: the local error of each component is kept below
            ``atol + rtol·|y|`` (SciPy's meaning); the derivative solves use them too.
        mxstep: the most steps per output interval; 0 is the solver's default (500 for
            LSODA, 10 000 for the RK45 fallback).
        hmax: the largest step size (``inf``: no limit).

    Returns:
        An array of shape ``(len(t),) + y0.shape`` whose row i is ``y(t[i])`` (row 0 is y0).

    Differentiable in y0, t and args: reverse mode by the adjoint method, forward mode by
    the sensitivity equations (see the module docstring); first order only.
    """
    if not callable(func):
        raise TypeError(f"odeint: func must be callable as func(y, t, *args), got "
                        f"{type(func).__name__}")
    if not isinstance(args, tuple):
        args = (args,)
    for name, tol in (("rtol", rtol), ("atol", atol)):
        if np.ndim(tol) != 0 or not (float(tol) >= 0.0):
            raise ValueError(f"odeint: {name} must be a non-negative scalar, got {tol!r}")
    if float(rtol) == 0.0 and float(atol) == 0.0:
        raise ValueError("odeint: rtol and atol are both 0; give at least one positive "
                         "tolerance")
    if int(mxstep) != mxstep or mxstep < 0:
        raise ValueError(f"odeint: mxstep must be a non-negative integer, got {mxstep!r}")
    if not (float(hmax) > 0.0):
        raise ValueError(f"odeint: hmax must be positive (inf for no limit), got {hmax!r}")
    y0, t = cnp.asarray(y0), cnp.asarray(t)  # lists (of tracers, too) become arrays
    tv = concrete(t)
    if not isinstance(tv, Tracer):
        _check_times(np.asarray(tv))
    for name, v in (("y0", y0), ("t", t)):
        kind = dtype_of(v).kind
        if kind not in "fiub":
            raise ValueError(f"odeint: {name} must be real (got dtype {dtype_of(v)}); "
                             "integrate the real and imaginary parts as separate components")
    if not isinstance(t, Tracer) and dtype_of(t).kind != "f":
        t = np.asarray(t, dtype=np.float64)
    if not isinstance(y0, Tracer) and dtype_of(y0).kind != "f":
        y0 = np.asarray(y0, dtype=np.float64)
    # hmax travels as 0.0 for "no limit" (SciPy's encoding), so jit can print it
    hmax = 0.0 if math.isinf(float(hmax)) else float(hmax)
    return _solve_vjp(func, float(rtol), float(atol), int(mxstep), hmax, y0, t, args)
