r"""Physics-informed networks for Allen–Cahn: ``u_t − ε u_xx + 5u³ − 5u = 0``, ε = 1e-4.

**Discrete time** (Raissi, Perdikaris & Karniadakis 2019, §4.2). One step of a q-stage
implicit Runge–Kutta method from :math:`t_0` to :math:`t_1 = t_0 + Δt` with the
Gauss–Legendre tableau (A, b, c) of :mod:`chainrule.pde.butcher`. A network
:math:`x ↦ (u^{n+c_1}(x), …, u^{n+c_q}(x), u^{n+1}(x))` proposes the stage values
and the end value; the Runge–Kutta equations, solved for :math:`u^n`,

.. math::

    u^n = u^{n+c_i} - Δt \sum_j a_{ij} f(u^{n+c_j}),\quad
    u^n = u^{n+1} - Δt \sum_j b_j f(u^{n+c_j}),\qquad f(u) = ε u_{xx} + 5u - 5u^3,

give q + 1 predictions of the snapshot :math:`u^n` at :math:`t_0`, fitted to data there
by least squares, with the periodic conditions :math:`u(−1) = u(1)`,
:math:`u_x(−1) = u_x(1)` on every output. All :math:`u_{xx}` (one per output) come from
one order-2 Taylor pass along x (:func:`chainrule.jet.directional_derivatives`), which
also gives the :math:`u_x` of the boundary rows.

**Continuous time** over :math:`[0, 1] × [−1, 1]`: see :class:`ContinuousPINN`.

Training is L-BFGS (:func:`chainrule.optimize.minimize`, or SciPy's L-BFGS-B) on
chainrule's ``value_and_grad``. The two L-BFGS make the same progress per iteration on
these losses (same memory, strong Wolfe searches, ≈ 1.05 evaluations per iteration); what
decides the accuracy reached in a time budget is the number of iterations. For the
discrete network (141 301 parameters) an iteration is one loss and gradient (≈ 18 ms CPU
in float64, ≈ 11 ms in float32 under ``jit``) plus the L-BFGS direction from 50 pairs
(≈ 16 ms, bound by memory traffic); ``benchmarks/pinn_bench.py --discrete`` measures them.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy

import chainrule as cr
import chainrule.nn as nn
import chainrule.numpy as np
from chainrule.core.pytree import tree_flatten, tree_unflatten
from chainrule.jet import directional_derivatives, jet
from chainrule.optimize import minimize
from chainrule.pde import AllenCahn, gauss_legendre, reference_solution

__all__ = ["ContinuousPINN", "DiscretePINN", "TrainingResult", "lbfgs", "relative_l2"]

EQUATION = AllenCahn()


def relative_l2(u, u_ref) -> float:
    """‖u − u_ref‖₂ / ‖u_ref‖₂."""
    u_ref = numpy.asarray(u_ref)
    return float(numpy.linalg.norm(numpy.asarray(u) - u_ref) / numpy.linalg.norm(u_ref))


@dataclass
class TrainingResult:
    """What a training run returns.

    Attributes:
        params: the trained parameters.
        history: lists ``iteration``, ``seconds``, ``loss``, ``error`` (relative L2
            against the reference, recorded every ``record_every`` iterations).
        seconds: wall time of the training.
        message: why it stopped.
        iterations: L-BFGS iterations done (all windows together for the continuous
            network).
    """

    params: Any
    history: dict = field(default_factory=dict)
    seconds: float = 0.0
    message: str = ""
    iterations: int = 0


class _Progress:
    """A tqdm bar when tqdm is installed, else a printed line every ``every`` steps."""

    def __init__(self, enabled: bool, total: int | None, desc: str, every: int = 50):
        self.bar, self.enabled, self.every, self.n = None, enabled, every, 0
        if enabled:
            try:
                from tqdm.auto import tqdm
            except ImportError:
                tqdm = None
            if tqdm is not None:
                self.bar = tqdm(total=total, desc=desc, unit="it")

    def update(self, **info) -> None:
        self.n += 1
        if not self.enabled:
            return
        text = {k: f"{v:.3e}" if isinstance(v, float) else v for k, v in info.items()}
        if self.bar is not None:
            self.bar.set_postfix(text, refresh=False)
            self.bar.update(1)
        elif self.n % self.every == 0:
            print(f"iteration {self.n}: " + ", ".join(f"{k} {v}" for k, v in text.items()),
                  flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def lbfgs(loss: Callable, params, max_iterations: int = 50_000, max_seconds: float = 600.0,
          error: Callable | None = None, record_every: int = 10, progress: bool = False,
          history_size: int = 50, value_and_grad: Callable | None = None,
          desc: str = "L-BFGS", blas_threads: int | None = 1,
          solver: str = "chainrule") -> TrainingResult:
    """Minimise ``loss(params)`` by L-BFGS until convergence, an iteration or a time limit.

    The value and gradient come from :func:`chainrule.value_and_grad` (or
    ``value_and_grad`` if given, e.g. a ``jit``-compiled one); the L-BFGS iteration from
    :func:`chainrule.optimize.minimize` (``solver="chainrule"``) or SciPy's L-BFGS-B
    (``solver="scipy"``, the Fortran reference), with the same memory and tolerances
    (gradient tolerance 0, relative decrease tolerance machine ε: run to the budget).

    Args:
        loss: scalar function of the parameter pytree.
        params: the starting parameters.
        max_iterations: L-BFGS iterations at most.
        max_seconds: wall-time budget; the run stops after the iteration that passes it.
        error: optional ``error(params) -> float`` (relative L2 against the reference),
            recorded in the history and shown in the progress bar.
        record_every: history interval in iterations.
        progress: show a progress bar (tqdm) or printed lines.
        history_size: L-BFGS memory (pairs kept).
        value_and_grad: ``params -> (loss, grads)``; default ``cr.value_and_grad(loss)``.
        desc: the progress bar's label.
        blas_threads: BLAS threads during training (needs ``threadpoolctl``; None: leave
            as is). The default 1 suits these networks: their matrices (≈ 200 × 200) are
            too small to gain from threads, and on a busy machine two spinning BLAS
            threads made a 202×200×200 product 10–20× slower than one.
        solver: ``"chainrule"`` or ``"scipy"``.

    Returns:
        A :class:`TrainingResult`.

    Raises:
        ValueError: for an unknown solver.
        ImportError: for ``solver="scipy"`` without SciPy (``pip install chainrule[scipy]``).
    """
    if solver not in ("chainrule", "scipy"):
        raise ValueError(f"solver must be 'chainrule' or 'scipy'; got {solver!r}")
    vg = value_and_grad if value_and_grad is not None else cr.value_and_grad(loss)
    last: dict = {}

    def fun(p):
        value, grads = vg(p)
        last["loss"] = float(value)
        last["gnorm"] = math.sqrt(sum(float(numpy.sum(numpy.square(g)))
                                      for g in tree_flatten(grads)[0]))
        return value, grads

    history = {"iteration": [], "seconds": [], "loss": [], "grad_norm": [], "error": []}
    bar = _Progress(progress, max_iterations, desc)
    start = time.perf_counter()
    count = [0]

    def record(p, k):
        history["iteration"].append(k)
        history["seconds"].append(time.perf_counter() - start)
        history["loss"].append(last["loss"])
        history["grad_norm"].append(last["gnorm"])
        if error is not None:
            history["error"].append(error(p))

    def callback(p):
        count[0] += 1
        k = count[0]
        if k % record_every == 0 or k == 1:
            record(p, k)
        info = {"loss": last["loss"], "|g|": last["gnorm"]}
        if history["error"]:
            info["error"] = history["error"][-1]
        bar.update(**info)
        if time.perf_counter() - start > max_seconds:
            raise StopIteration

    limits = _blas_limit(blas_threads)
    try:
        if solver == "chainrule":
            res = minimize(fun, params, method="l-bfgs-b", jac=True, callback=callback,
                           options={"maxiter": max_iterations, "m": history_size, "gtol": 0.0,
                                    "ftol": float(numpy.finfo(float).eps), "jit": False})
            final, message = res.x, str(res.message)
        else:
            final, message = _scipy_lbfgs(fun, params, max_iterations, history_size, callback)
    finally:
        bar.close()
        if limits is not None:
            limits.restore_original_limits()
    fun(final)
    record(final, count[0])
    return TrainingResult(final, history, time.perf_counter() - start, message, count[0])


def _scipy_lbfgs(fun, params, max_iterations: int, history_size: int, callback):
    """SciPy's L-BFGS-B on the flattened parameters: ``(final params, message)``."""
    try:
        from scipy.optimize import minimize as scipy_minimize
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("solver='scipy' needs SciPy: pip install chainrule[scipy]") from e
    leaves, tree = tree_flatten(params)
    shapes = [numpy.shape(a) for a in leaves]
    bounds = numpy.cumsum([0] + [int(numpy.prod(s)) for s in shapes])

    def unflatten(theta):
        return tree_unflatten(tree, [theta[a:b].reshape(s)
                                     for a, b, s in zip(bounds[:-1], bounds[1:], shapes)])

    def flat_fun(theta):
        value, grads = fun(unflatten(theta))
        g = numpy.concatenate([numpy.ravel(numpy.asarray(a)) for a in tree_flatten(grads)[0]])
        return float(value), g

    theta0 = numpy.concatenate([numpy.ravel(numpy.asarray(a, dtype=float)) for a in leaves])
    res = scipy_minimize(flat_fun, theta0, jac=True, method="L-BFGS-B",
                         callback=lambda intermediate_result: callback(
                             unflatten(intermediate_result.x)),
                         options={"maxiter": max_iterations, "maxfun": 2 * max_iterations,
                                  "maxcor": history_size, "maxls": 50,
                                  "ftol": numpy.finfo(float).eps, "gtol": 0.0})
    return unflatten(res.x), str(res.message)


def _blas_limit(threads: int | None):
    """Limit BLAS to ``threads`` threads (a threadpoolctl handle), or None."""
    if threads is None:
        return None
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return None
    return threadpool_limits(limits=threads, user_api="blas")


class DiscretePINN:
    """Raissi's discrete-time network: one q-stage Gauss–Legendre step from t0 to t1.

    Args:
        q: Runge–Kutta stages (the network has q + 1 outputs).
        t0, t1: the data snapshot's time and the predicted time.
        points: how many grid points of the t0 snapshot are the training data.
        width, depth: the tanh network's hidden layers.
        seed: picks the data points and the initial weights.
        reference: ``(x, t, u)`` of the reference solution (default: computed).
        dtype: ``"float64"`` (default) or ``"float32"``: the precision of the network's
            evaluation (the data, the tableau and the weights are cast to it inside
            :meth:`loss`; L-BFGS keeps its vectors in float64). float32 halves the cost of
            the loss and gradient (the matrix products dominate) but its line search
            runs out of precision late (a 10-minute run stopped at loss 3.4e-2 after
            11 979 iterations).

    Raises:
        ValueError: for t0, t1 off the reference grid or another dtype.

    >>> pinn = DiscretePINN(q=4, points=20, width=10, depth=1)
    >>> params = pinn.init()
    >>> bool(float(pinn.loss(params)) > 0), pinn.predict(params).shape
    (True, (512,))
    """

    def __init__(self, q: int = 100, t0: float = 0.1, t1: float = 0.9, points: int = 200,
                 width: int = 200, depth: int = 4, seed: int = 0, reference=None,
                 dtype: str = "float64") -> None:
        if str(dtype) not in ("float32", "float64"):
            raise ValueError(f"dtype must be 'float32' or 'float64'; got {dtype!r}")
        x, t, u = reference if reference is not None else reference_solution()
        i0, i1 = (int(numpy.argmin(numpy.abs(t - s))) for s in (t0, t1))
        if abs(t[i0] - t0) > 1e-12 or abs(t[i1] - t1) > 1e-12:
            raise ValueError(f"t0={t0} and t1={t1} must be times of the reference grid")
        rng = numpy.random.default_rng(seed)
        pick = numpy.sort(rng.choice(len(x), points, replace=False))
        self.q, self.dt, self.seed = q, t1 - t0, seed
        self.x_grid, self.u_target = x[:, None], u[i1]
        self.x_data, self.u_data = x[pick, None], u[i0, pick, None]
        A, b, _ = gauss_legendre(q)
        self.irk_t = numpy.vstack([A, b]).T  # (q, q+1): U0 = U1 − Δt·f(U)·IRKᵀ
        self.model = nn.MLP([width] * depth + [q + 1], "tanh")
        # the data points and the two boundary points go through one Taylor pass
        self.inputs = numpy.vstack([self.x_data, [[-1.0], [1.0]]])
        self.dtype = numpy.dtype(str(dtype))
        self.u_data, self.irk_t, self.inputs = (
            a.astype(self.dtype) for a in (self.u_data, self.irk_t, self.inputs))

    def init(self):
        """Glorot-normal weights, zero biases (seeded)."""
        return self.model.init(self.seed, (1,))

    def loss(self, params):
        """Σ (U0 − u_data)² over the q + 1 predictions, plus the periodic mismatches of
        u and u_x at x = ±1 summed over the outputs (Raissi's SSE)."""
        n, q = len(self.x_data), self.q
        if self.dtype != numpy.float64:
            leaves, tree = tree_flatten(params)
            params = tree_unflatten(tree, [a.astype(self.dtype) for a in leaves])
        U, U_x, U_xx = directional_derivatives(lambda X: self.model.apply(params, X), 2)(
            self.inputs)
        stages = U[:n, :q]
        f = EQUATION.eps * U_xx[:n, :q] + EQUATION.a * (stages - stages**3)
        U0 = U[:n] - self.dt * (f @ self.irk_t)
        data = np.sum((U0 - self.u_data) ** 2)
        periodic = np.sum((U[n] - U[n + 1]) ** 2) + np.sum((U_x[n] - U_x[n + 1]) ** 2)
        return data + periodic

    def predict(self, params) -> numpy.ndarray:
        """u(t1, x) on the 512-point grid (the network's last output)."""
        return numpy.asarray(self.model.apply(params, self.x_grid))[:, -1]

    def error(self, params) -> float:
        """Relative L2 error at t1 against the reference."""
        return relative_l2(self.predict(params), self.u_target)

    def train(self, params=None, max_seconds: float = 540.0, max_iterations: int = 50_000,
              progress: bool = False, jit: bool = True, record_every: int = 25,
              solver: str = "chainrule", history_size: int = 50) -> TrainingResult:
        """L-BFGS on :meth:`loss` (its value and gradient ``jit``-compiled by default;
        ``solver`` and ``history_size`` as in :func:`lbfgs`)."""
        params = self.init() if params is None else params
        vg = cr.value_and_grad(self.loss)
        return lbfgs(self.loss, params, max_iterations, max_seconds, error=self.error,
                     record_every=record_every, progress=progress,
                     value_and_grad=cr.jit(vg) if jit else vg, desc="discrete PINN",
                     solver=solver, history_size=history_size)


class ContinuousPINN:
    r"""A network u(t, x) over [0, 1] × [−1, 1], trained window by window in time.

    A plain continuous-time network fails on this problem (it settles on a smoothed,
    wrong solution). Following what Wang, Sankaran & Perdikaris (2022, 2023) found
    necessary, this one uses:

    * **time marching**: [0, 1] is split into ``windows`` intervals; each is a fresh
      training problem whose initial values are the previous window's prediction (the
      exact ``x² cos πx`` for the first), and whose weights start from the previous
      window's (the solution changes little from one window to the next);
    * **periodic embedding** of x: the network sees ``cos(kπx), sin(kπx)``, k = 1 …
      ``harmonics``, so u and all its x-derivatives are exactly periodic (no boundary
      loss);
    * with ``even=True``, an **even embedding** (``cos(kπx)`` only): the initial value
      is even and the equation is invariant under x → −x, so the solution is even; the
      network then cannot drift into an asymmetric error near x = 0, where u passes
      the unstable state u = 0;
    * **staggered collocation**: time slice i of a window takes the x grid shifted by
      i/n of its spacing, so a window's residual points cover n times as many x positions
      (the interfaces are ≈ 0.006 wide) at no extra cost;
    * **causal weighting** (optional, ``causal > 0``): the residual loss of time slice i
      is weighted by ``exp(−causal · Σ_{j<i} L_j)`` (the earlier slices' losses, held
      constant), so later times are fitted only once earlier ones are. With short,
      warm-started windows the slice losses stay small (≈ 1e-4), the weights stay near 1,
      and it is off by default.

    The residual ``u_t − ε u_xx + 5u³ − 5u`` costs one order-2 Taylor pass: along the
    curve ``τ ↦ (t − τ²/(2ε), x + τ)``, ``d²u/dτ² = u_xx − u_t/ε``, so
    ``u_t − ε u_xx = −ε d²u/dτ²``.

    Args:
        windows: time windows.
        width, depth: the tanh network's hidden layers.
        harmonics: Fourier modes of the periodic embedding.
        times_per_window, points_x: collocation grid per window (times include the
            window's end; x is a uniform periodic grid, staggered from slice to slice).
        initial_points: grid points where each window's initial values are fitted.
        even: embed x by ``cos(kπx)`` alone (solutions even in x).
        causal: the causal weighting's tolerance (0, the default, switches it off).
        initial_weight: weight of the initial-value loss.
        seed: initial weights.
        reference: ``(x, t, u)`` of the reference (default: computed); it is only used to
            report the error.

    >>> pinn = ContinuousPINN(windows=2, width=8, depth=1, points_x=16, times_per_window=3)
    >>> params = pinn.init()
    >>> pinn.residual(params, 0, numpy.array([[0.1]]), numpy.array([[0.3]])).shape
    (1, 1)
    """

    def __init__(self, windows: int = 10, width: int = 64, depth: int = 4,
                 harmonics: int = 4, times_per_window: int = 8, points_x: int = 128,
                 initial_points: int = 512, even: bool = False, causal: float = 0.0,
                 initial_weight: float = 100.0, seed: int = 0, reference=None) -> None:
        self.reference = reference if reference is not None else reference_solution()
        self.windows, self.harmonics, self.causal = windows, harmonics, causal
        self.initial_weight, self.seed = initial_weight, seed
        self.edges = numpy.linspace(0.0, 1.0, windows + 1)
        self.model = nn.MLP([width] * depth + [1], "tanh")
        self.x_col = AllenCahn.grid(points_x)[:, None]
        self.x_ic = AllenCahn.grid(initial_points)[:, None]
        self.even = even
        self.times_per_window = times_per_window
        self.x_grid = self.reference[0][:, None]

    def init(self):
        """Glorot-normal weights of one window's network."""
        return self.model.init(self.seed, ((1 if self.even else 2) * self.harmonics + 1,))

    def features(self, window: int, t, x):
        """``(τ, cos πx, sin πx, …)`` (no sines when ``even``), τ ∈ [−1, 1] in the window."""
        t0, t1 = self.edges[window], self.edges[window + 1]
        tau = 2.0 * (t - t0) / (t1 - t0) - 1.0
        cols = [tau]
        for k in range(1, self.harmonics + 1):
            cols.append(np.cos(k * math.pi * x))
            if not self.even:
                cols.append(np.sin(k * math.pi * x))
        return np.concatenate(cols, axis=-1)

    def u(self, params, window: int, t, x):
        """The window's network at columns t, x (shape (N, 1))."""
        return self.model.apply(params, self.features(window, t, x))

    def residual(self, params, window: int, t, x):
        """``u_t − ε u_xx + 5u³ − 5u`` at columns t, x from one order-2 Taylor pass."""
        eps, a = EQUATION.eps, EQUATION.a
        ones = numpy.ones(numpy.shape(x))
        u, (_, d2) = jet(lambda t, x: self.u(params, window, t, x), (t, x),
                         ([None, -ones / eps], [ones, None]))
        return -eps * d2 + a * u**3 - a * u

    def window_loss(self, window: int, initial):
        """The loss of one window given the initial values on the ``initial_points`` grid."""
        t0, t1 = self.edges[window], self.edges[window + 1]
        ts = numpy.linspace(t0, t1, self.times_per_window + 1)[1:]
        nx = len(self.x_col)
        T = numpy.repeat(ts, nx)[:, None]
        shift = numpy.repeat(numpy.arange(len(ts)) / len(ts), nx) * (2.0 / nx)
        X = (numpy.tile(self.x_col[:, 0], len(ts)) + shift)[:, None]
        T0 = numpy.full_like(self.x_ic, t0)
        target = numpy.asarray(initial)[:, None]

        def loss(params):
            r = self.residual(params, window, T, X)
            per_time = np.mean(np.reshape(r**2, (len(ts), nx)), axis=1)
            if self.causal:
                seen = cr.stop_gradient(np.cumsum(per_time) - per_time)
                per_time = np.exp(-self.causal * seen) * per_time
            start = np.mean((self.u(params, window, T0, self.x_ic) - target) ** 2)
            return self.initial_weight * start + np.mean(per_time)

        return loss

    def predict(self, windows_params, t, x) -> numpy.ndarray:
        """u on the grid ``t`` × ``x`` (1-D arrays), each time from its window's network."""
        out = numpy.empty((len(t), len(x)))
        xs = numpy.asarray(x, dtype=float)[:, None]
        for i, ti in enumerate(t):
            w = int(numpy.searchsorted(self.edges, ti, side="right")) - 1
            w = min(max(w, 0), self.windows - 1)
            out[i] = numpy.asarray(self.u(windows_params[w], w, numpy.full_like(xs, ti), xs))[:, 0]
        return out

    def error(self, windows_params) -> float:
        """Relative L2 error over the whole reference grid (201 × 512)."""
        x, t, u = self.reference
        return relative_l2(self.predict(windows_params, t, x), u)

    def train(self, max_seconds: float = 840.0, progress: bool = False, jit: bool = True,
              record_every: int = 25, solver: str = "chainrule") -> TrainingResult:
        """March through the windows, L-BFGS on each for an equal share of the time
        (``solver`` as in :func:`lbfgs`)."""
        x, t, u = self.reference
        start = time.perf_counter()
        params = self.init()
        trained: list = []
        history = {"window": [], "iteration": [], "seconds": [], "loss": [], "grad_norm": [],
                   "error": []}
        initial = AllenCahn.initial(self.x_ic[:, 0])
        messages = []
        iterations = 0
        for w in range(self.windows):
            left = max_seconds - (time.perf_counter() - start)
            budget = left / (self.windows - w)
            loss = self.window_loss(w, initial)
            vg = cr.value_and_grad(loss)
            last = w == self.windows - 1  # a window's end time belongs to the next one
            in_window = (t >= self.edges[w] - 1e-12) & ((t < self.edges[w + 1] - 1e-12) | last)

            def window_error(p, w=w, in_window=in_window):
                pred = numpy.stack([numpy.asarray(self.u(p, w, numpy.full((len(x), 1), ti),
                                                         x[:, None]))[:, 0]
                                    for ti in t[in_window]])
                return relative_l2(pred, u[in_window])

            res = lbfgs(loss, params, max_seconds=budget, error=window_error,
                        record_every=record_every, progress=progress,
                        value_and_grad=cr.jit(vg) if jit else vg,
                        desc=f"window {w + 1}/{self.windows}", solver=solver)
            params = res.params
            trained.append(params)
            messages.append(res.message)
            iterations += res.iterations
            for key in ("iteration", "seconds", "loss", "grad_norm", "error"):
                history[key] += res.history[key]
            history["window"] += [w] * len(res.history["iteration"])
            tt = numpy.full_like(self.x_ic, self.edges[w + 1])
            initial = numpy.asarray(self.u(params, w, tt, self.x_ic))[:, 0]
        history["total_error"] = self.error(trained)
        return TrainingResult(trained, history, time.perf_counter() - start,
                              "; ".join(sorted(set(messages))), iterations)
