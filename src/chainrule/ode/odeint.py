"""``odeint``: solve ``dy/dt = func(y, t, *args)`` and differentiate the solution.

Two ways to the gradient (``gradient=``):

* ``"direct"`` (discretise-then-optimise): the steps that the value solve accepted are run
  again on the traced values, and chainrule differentiates them like any other code —
  exact derivatives of the numerical solution, in forward and reverse mode and to any
  order (``hessian`` works). Memory grows with the number of steps; ``checkpoints=c``
  keeps at most ``c`` states per interval between output times and recomputes the rest
  with the binomial (revolve) schedule.
* ``"adjoint"`` (optimise-then-discretise): the continuous adjoint. For cotangents
  ``gᵢ = ∂L/∂y(tᵢ)`` the adjoint ``a(t) = ∂L/∂y(t)`` solves, backwards from t_N,

      da/dt = -aᵀ ∂f/∂y(y(t), t),   dp̄/dt = -aᵀ ∂f/∂p(y(t), t),

  with ``a`` jumping by ``gᵢ`` at each output time and ``y(t)`` read from the forward
  solve's dense output (stable for stiff problems, unlike integrating y backwards),
  and ``∂L/∂y0 = a(t₀)``, ``∂L/∂p = p̄(t₀)``, ``∂L/∂tᵢ = gᵢ·f(y(tᵢ), tᵢ)`` (i ≥ 1),
  ``∂L/∂t₀ = -a(t₀⁺)·f(y0, t₀)``. No tape of the solver is kept; the
  products ``aᵀ∂f/∂·`` are one ``chainrule.vjp`` of ``func`` each. Memory: the forward
  solve's accepted steps (values, no tape). Under forward mode, and where the reverse
  pass is itself differentiated (``hessian``, ``grad`` of ``grad``) or batched, the direct
  method is used, so every order stays exact.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as onp

from chainrule.checkpoint import _captures_tracer
from chainrule.core.primitive import Tracer, shape_of
from chainrule.core.primitive import concrete as concrete_value
from chainrule.core.pytree import tree_flatten, tree_unflatten
from chainrule.control import scan
from chainrule.custom import custom_vjp
from chainrule.interpreters.reverse import VJPTracer
from chainrule.numpy import _namespace as cnp
from chainrule.ode.adaptive import METHODS, Mesh, fixed_mesh, solve_values
from chainrule.ode.checkpointed import replay_checkpointed
from chainrule.ode.rosenbrock import jacobian_columns
from chainrule.ode.state import LeafVector, ravel, value_of, values_of
from chainrule.ode.tableaus import EXPLICIT
from chainrule.transforms import vjp

__all__ = ["odeint"]


def _has_tracer(tree: Any) -> bool:
    return any(isinstance(x, Tracer) for x in tree_flatten(tree)[0])


def _check(method: str, gradient: str, rtol: Any, atol: Any, max_steps: int,
           ts_val: onp.ndarray, checkpoints: int | None, first_step: float | None,
           max_step: float | None) -> None:
    if method not in METHODS:
        raise ValueError(f"odeint: method={method!r} is not one of {sorted(METHODS)}")
    if gradient not in ("direct", "adjoint"):
        raise ValueError(f"odeint: gradient={gradient!r}; expected 'direct' (differentiate "
                         "the solver's steps) or 'adjoint' (solve the adjoint ODE)")
    if not (onp.all(onp.asarray(rtol) > 0) and onp.all(onp.asarray(atol) >= 0)):
        raise ValueError(f"odeint: rtol={rtol}, atol={atol}; expected rtol > 0, atol >= 0")
    if gradient == "adjoint" and (onp.ndim(rtol) or onp.ndim(atol)):
        raise ValueError("odeint(gradient='adjoint'): rtol and atol must be scalars (the "
                         "adjoint system has another size than the state); use "
                         "gradient='direct' for per-component tolerances")
    if int(max_steps) < 1:
        raise ValueError(f"odeint: max_steps={max_steps}; expected a positive integer")
    for name, v in (("first_step", first_step), ("max_step", max_step)):
        if v is not None and not float(v) > 0:
            raise ValueError(f"odeint: {name}={v}; expected a positive step size or None")
    if ts_val.ndim != 1 or ts_val.size < 1:
        raise ValueError(f"odeint: ts must be a 1-D array of output times, got shape "
                         f"{ts_val.shape}")
    d = onp.diff(ts_val)
    if d.size and not (onp.all(d > 0) or onp.all(d < 0)):
        raise ValueError("odeint: ts must be strictly increasing or strictly decreasing")
    if checkpoints is not None and int(checkpoints) < 1:
        raise ValueError(f"odeint: checkpoints={checkpoints}; expected a positive integer "
                         "or None")


def odeint(func: Callable, y0: Any, ts: Any, *args: Any, method: str = "dopri5",
           rtol: float = 1.4e-8, atol: float = 1.4e-8, max_steps: int = 100_000,
           gradient: str = "direct", dt: float | None = None,
           checkpoints: int | None = None, first_step: float | None = None,
           max_step: float | None = None) -> Any:
    """The solution of ``dy/dt = func(y, t, *args)``, ``y(ts[0]) = y0``, at the times ``ts``.

    Args:
        func: ``(y, t, *args) -> dy/dt`` written with ``chainrule.numpy``; ``y`` has
            ``y0``'s pytree structure.
        y0: the initial state, an array or a pytree of arrays.
        ts: output times (1-D, strictly monotonic); ``ts[0]`` is the initial time.
        *args: extra arguments of ``func`` (arrays or pytrees), differentiable.
        method: ``"dopri5"``, ``"tsit5"`` (adaptive, fifth order), ``"rosenbrock23"``
            (stiff problems: linearly implicit, L-stable), ``"euler"``, ``"rk4"`` (fixed
            step: ``dt`` or one step per output interval).
        rtol, atol: local error tolerances of the adaptive methods (scalars, or arrays
            of the flat state's length with ``gradient="direct"``).
        max_steps: the most steps before a RuntimeError.
        gradient: ``"direct"`` or ``"adjoint"`` (see the module docstring).
        dt: the largest step of the fixed-step methods.
        checkpoints: with ``gradient="direct"``, store at most this many states per
            output interval and recompute the others (binomial checkpointing).
        first_step: the adaptive methods' first step size (None: Hairer's estimate).
        max_step: the adaptive methods' largest step size (None: no limit).

    Returns:
        ``y0``'s structure with a new leading axis of length ``len(ts)``.

    Example:
        >>> import numpy as onp, chainrule as cr
        >>> from chainrule.ode import odeint
        >>> ts = onp.array([0.0, 1.0])
        >>> float(odeint(lambda y, t, k: -k * y, 1.0, ts, 0.5)[1])  # e^{-1/2}
        0.6065306...
        >>> float(cr.grad(lambda k: odeint(lambda y, t, k: -k * y, 1.0, ts, k)[1])(0.5))
        -0.6065306...
    """
    ts_val = value_of(ts)
    _check(method, gradient, rtol, atol, max_steps, ts_val, checkpoints, first_step, max_step)
    y0_vec, unravel = ravel(y0)
    flat_func = _flat_rhs(func, unravel)
    solver = _Solver(METHODS[method], flat_func, rtol, atol, int(max_steps), dt, checkpoints,
                     first_step, max_step)
    traced = _has_tracer((y0_vec, ts, args))
    solver.func_captures = _captures_tracer(func)
    if checkpoints is not None and _captures_tracer(func):
        raise ValueError("odeint(checkpoints=...): func closes over a value being "
                         "differentiated; pass it through *args so that the recomputed "
                         "steps see it")
    if gradient == "adjoint" and (traced or _captures_tracer(func)):
        if _captures_tracer(func):
            raise ValueError("odeint(gradient='adjoint'): func closes over a value being "
                             "differentiated; pass it through *args instead")
        rows = _adjoint_solver(solver)(y0_vec, ts, *args)
    elif traced and not solver.method.adaptive:
        # the steps of a fixed-step method do not depend on the values: replay the
        # schedule directly, without a value solve first
        rows = solver.replay(fixed_mesh(ts_val, dt, int(max_steps)), y0_vec, ts, args,
                             (func, unravel))
    else:
        mesh = solver.mesh(value_of(y0_vec), ts_val, values_of(args))
        if traced or mesh.traced:
            rows = solver.replay(mesh, y0_vec, ts, args, (func, unravel))
        else:
            rows = onp.stack(mesh.values)
    return _unravel_rows(rows, unravel)


def _flat_rhs(func: Callable, unravel: Callable) -> Callable:
    """``(t, y_vec, args) -> dy_vec``."""
    def rhs(t, y, args):
        out = func(unravel(y), t, *args)
        if (isinstance(out, Tracer) or (isinstance(out, onp.ndarray) and out.dtype == float)
                ) and shape_of(out) == shape_of(y):
            return out  # already the flat vector (the common case: one 1-D state array)
        vec, _ = ravel(out)
        if onp.shape(vec) != onp.shape(y):
            raise ValueError(f"odeint: func returned {onp.size(vec)} values for a state of "
                             f"{onp.shape(y)[0]}; dy/dt must have y's structure and shapes")
        return vec
    return rhs


def _unravel_rows(rows: Any, unravel: Callable) -> Any:
    """Rows of flat states → the state's pytree with a leading time axis."""
    n = onp.shape(rows)[0]
    probe = unravel(onp.zeros(onp.shape(rows)[1]))
    leaves, treedef = tree_flatten(probe)
    out, off = [], 0
    for leaf in leaves:
        shape = onp.shape(leaf)
        size = int(onp.prod(shape)) if shape else 1
        block = rows[:, off:off + size]
        out.append(block.reshape((n,) + shape) if isinstance(rows, Tracer)
                   else onp.reshape(block, (n,) + shape))
        off += size
    return tree_unflatten(treedef, out)


#: the fewest steps run as one scan: staging the scan's body costs about as much as
#: recording ~40 steps (measured on W7's RK4: 10 steps 40 ms plain, 142 ms scanned; 30
#: steps 146 / 184 ms; 100 steps 656 / 337 ms), so shorter stretches are replayed step
#: by step
MIN_FUSED_STEPS = 50


class _Solver:
    """One configuration of a solve: the value pass, the traced replay, the adjoint.

    ``fuse``: under reverse mode (``grad``, ``vjp``, nested), the replay runs each stretch
    of at least :data:`MIN_FUSED_STEPS` explicit steps between outputs as one
    :func:`~chainrule.control.scan` (its body staged once; W7's RK4 gradient ≈ 4× faster
    than recording every step); otherwise,
    and with ``fuse = False``, step by step (the plain reference, same numbers).
    """

    fuse = True
    func_captures = False  # func closes over a tracer (set by odeint): step by step

    def __init__(self, method, flat_func, rtol, atol, max_steps, dt, checkpoints,
                 first_step=None, max_step=None):
        self.method, self.flat_func = method, flat_func
        self.rtol, self.atol, self.max_steps = rtol, atol, max_steps
        self.dt, self.checkpoints = dt, checkpoints
        self.first_step, self.max_step = first_step, max_step

    def mesh(self, y0: onp.ndarray, ts: onp.ndarray, args: tuple, event=None,
             keep_steps: bool = False) -> Mesh:
        """The value solve; ``mesh.traced`` says whether func produced tracers (it closes
        over values being differentiated)."""
        seen = [False]

        def rhs(t, y):
            out = self.flat_func(t, y, args)
            if isinstance(y, Tracer) or isinstance(t, Tracer):
                return out  # the method's own forward-mode Jacobian
            if isinstance(out, Tracer):
                seen[0] = True
                return value_of(out)
            return onp.asarray(out, dtype=float)

        mesh = solve_values(self.method, rhs, y0, ts, rtol=self.rtol, atol=self.atol,
                            max_steps=self.max_steps, dt=self.dt, event=event,
                            first_step=self.first_step, max_step=self.max_step,
                            keep_steps=keep_steps)
        mesh.traced = seen[0]
        return mesh

    def step_at(self, mesh: Mesh, k: int, y: Any, f0: Any, ts: Any, args: tuple):
        """Replay step k of the mesh on (possibly traced) values."""
        ja, jb, s, ds = mesh.steps[k]
        width = ts[jb] - ts[ja]
        rhs = lambda t, v: self.flat_func(t, v, args)  # noqa: E731
        return self.method.step(rhs, ts[ja] + s * width, y, ds * width, f0), rhs

    def replay(self, mesh: Mesh, y0: Any, ts: Any, args: tuple, tree: tuple | None = None):
        """The outputs, recomputed over the mesh's steps on the traced values.

        ``tree = (func, unravel)`` of a state with several leaves replays it leaf by leaf
        (:class:`~chainrule.ode.state.LeafVector`, explicit methods at numeric output
        times): the same arithmetic as on the flat vector without cutting it up and
        concatenating it again at every evaluation of func.
        """
        if self.checkpoints is not None:
            return replay_checkpointed(self, mesh, y0, ts, args)
        start, step_at, flat = y0, self.step_at, lambda v: v  # noqa: E731
        run_rhs = lambda t, v: self.flat_func(t, v, args)  # noqa: E731
        if (tree is not None and self.method.name != "rosenbrock23"
                and not isinstance(ts, Tracer)):
            leaves, treedef = tree_flatten(tree[1](y0))
            if len(leaves) > 1:
                start = LeafVector(leaves)
                shapes = [shape_of(x) for x in leaves]
                step_at = self._leaf_stepper(tree[0], treedef, shapes)
                run_rhs = _leaf_rhs(tree[0], treedef, shapes, args)
                flat = lambda v: ravel(list(v.leaves))[0]  # noqa: E731
        outputs = [y0]
        wanted = {}
        for j, (k, theta) in enumerate(mesh.outputs[1:], start=1):
            wanted.setdefault(k, []).append((j, theta))
        y, f0, k = start, None, 0
        fused = (self.fuse and self.method.name != "rosenbrock23"
                 and _reverse_mode_only((y0, ts, args)) and not self.func_captures)
        while k < len(mesh.steps):
            if fused and k not in wanted:  # a run of steps without outputs: one scan
                end = k
                while end < len(mesh.steps) and end not in wanted and \
                        mesh.steps[end][:2] == mesh.steps[k][:2]:
                    end += 1
                if end - k >= MIN_FUSED_STEPS:
                    y, f0 = self.scanned_run(mesh.steps[k:end], y, f0, ts, run_rhs)
                    k = end
                    continue
            step, rhs = step_at(mesh, k, y, f0, ts, args)
            for j, theta in wanted.get(k, ()):
                outputs.append(flat(self.output(step, rhs, mesh, j, theta, ts)))
            y, f0, k = step.y1, step.next_f0(), k + 1
        for _ in mesh.outputs[len(outputs):]:  # outputs at t0 (an empty span)
            outputs.append(y0)
        return cnp.stack(outputs)

    def scanned_run(self, run: list, y: Any, f0: Any, ts: Any, rhs: Callable) -> tuple:
        """Steps ``run`` (one interval of ts each) as one ``scan`` whose body is one step:
        staged once, its derivative too, instead of recording every step's operations.
        ``y`` (and ``f0``) may be :class:`LeafVector` states (carried as their leaves).
        Returns the state after the run and f there (FSAL methods; else None)."""
        ja, jb = run[0][0], run[0][1]
        width = ts[jb] - ts[ja]
        fsal = self.method.name in EXPLICIT and EXPLICIT[self.method.name].fsal
        leafwise = isinstance(y, LeafVector)
        wrap = LeafVector if leafwise else (lambda v: v)  # noqa: E731
        unwrap = (lambda v: v.leaves) if leafwise else (lambda v: v)  # noqa: E731

        def body(carry, x):
            y, f = (wrap(carry[0]), wrap(carry[1])) if fsal else (wrap(carry), None)
            step = self.method.step(rhs, ts[ja] + x[0] * width, y, x[1] * width, f)
            if fsal:
                return (unwrap(step.y1), unwrap(step.next_f0())), None
            return unwrap(step.y1), None

        xs = onp.array([[s[2], s[3]] for s in run])
        if fsal:
            if f0 is None:
                f0 = rhs(ts[ja] + run[0][2] * width, y)
            (y, f0), _ = scan(body, (unwrap(y), unwrap(f0)), xs)
            return wrap(y), wrap(f0)
        y, _ = scan(body, unwrap(y), xs)
        return wrap(y), None

    def _leaf_stepper(self, func: Callable, treedef: Any, shapes: list) -> Callable:
        """``step_at`` on :class:`LeafVector` states: func sees the state's pytree."""
        def step_at(mesh, k, y, f0, ts, args):
            ja, jb, s, ds = mesh.steps[k]
            width = ts[jb] - ts[ja]
            rhs = _leaf_rhs(func, treedef, shapes, args)
            return self.method.step(rhs, ts[ja] + s * width, y, ds * width, f0), rhs
        return step_at

    @staticmethod
    def output(step, rhs, mesh, j, theta, ts):
        """Output j inside ``step``: the step's end, or its dense output at the output
        time (θ depends on ts, so moving an output time moves along the interpolant)."""
        if theta == 1.0:
            return step.y1
        if isinstance(ts, Tracer) or isinstance(step.h, Tracer):
            theta = (ts[j] - step.t) / step.h
        return step.interpolate(theta, rhs)


def _reverse_mode_only(tree: Any) -> bool:
    """Whether every tracer in ``tree`` is reverse mode's (nested or not). The fused replay
    is used only then: under forward mode with batched tangents (``jacfwd``, ``hessian``)
    a scan's primal outputs come back batched, which the next value solve cannot read."""
    for x in tree_flatten(tree)[0]:
        while isinstance(x, Tracer):
            if not isinstance(x, VJPTracer):
                return False
            x = x._value
    return True


def _leaf_rhs(func: Callable, treedef: Any, shapes: list, args: tuple) -> Callable:
    """``(t, LeafVector) -> LeafVector``: func on the state's pytree, shapes checked."""
    def rhs(t, v):
        out, _ = tree_flatten(func(tree_unflatten(treedef, list(v.leaves)), t, *args))
        if len(out) != len(shapes) or any(
                tuple(shape_of(o)) != tuple(sh) for o, sh in zip(out, shapes)):
            raise ValueError("odeint: func returned leaves of shapes "
                             f"{[tuple(shape_of(o)) for o in out]} for a state of "
                             f"{[tuple(sh) for sh in shapes]}; dy/dt must have y's "
                             "structure and shapes")
        return LeafVector(out)
    return rhs


def _adjoint_solver(solver: _Solver) -> custom_vjp:
    """``(y0_vec, ts, *args) -> rows`` with the continuous adjoint as its VJP."""

    def direct(y0, ts, *args):
        mesh = solver.mesh(value_of(y0), value_of(ts), values_of(args))
        return solver.replay(mesh, y0, ts, args)

    def fwd(y0, ts, *args):
        if _has_tracer((y0, ts, args)):  # nested under another derivative (grad of grad)
            return direct(y0, ts, *args), (None, (y0, ts) + args)
        y0v, tsv, argv = value_of(y0), value_of(ts), values_of(args)
        mesh = solver.mesh(y0v, tsv, argv, keep_steps=True)
        rows = onp.stack(mesh.values)
        return rows, ((rows, tsv, argv, mesh.taken), (y0, ts) + args)

    def bwd(res, g):
        sweep, primals = res
        if sweep is None or isinstance(concrete_value(g), Tracer):
            # the residuals or cotangents are traced (nested derivatives, or cotangents
            # batched by vmap as hessian/jacrev do): the VJP of the replayed steps, which
            # differentiates again
            return vjp(direct, *primals)[1](g)
        rows, tsv, argv, taken = sweep
        return adjoint_sweep(solver, rows, tsv, argv, value_of(g), taken)

    fn = custom_vjp(direct)
    fn.defvjp(fwd, bwd)
    return fn


def adjoint_sweep(solver: _Solver, rows: onp.ndarray, ts: onp.ndarray, args: tuple,
                  g: onp.ndarray, taken: list) -> tuple:
    """The backward pass of the adjoint method (see the module docstring), on values.

    ``y(t)`` is read from the forward solve's dense output (``taken``: its accepted
    steps) rather than integrated backwards, which would be unstable for stiff problems
    (their decaying modes grow backwards in time).

    Returns:
        ``(ȳ0, t̄s, *ārgs)``, the arguments' cotangents in their structures.
    """
    leaves, treedef = tree_flatten(args)
    diff = [i for i, x in enumerate(leaves) if isinstance(x, (onp.ndarray, float, int,
                                                                   onp.generic))]
    shapes = [onp.shape(leaves[i]) for i in diff]
    sizes = [int(onp.prod(s)) if s else 1 for s in shapes]
    n, n_p = rows.shape[1], int(sum(sizes))
    ps = [onp.asarray(leaves[i], dtype=float) for i in diff]
    starts = onp.array([float(st.t) for st in taken])
    forward = len(ts) < 2 or ts[-1] > ts[0]
    order = starts if forward else -starts

    def func_of(t, y, *pp):
        full = list(leaves)
        for i, p in zip(diff, pp):
            full[i] = p
        return solver.flat_func(t, y, tree_unflatten(treedef, full))

    def y_at(t):
        """The forward solution at t, from the step that holds t."""
        t_key = float(concrete_value(t))
        k = int(onp.searchsorted(order, t_key if forward else -t_key, side="right")) - 1
        st = taken[min(max(k, 0), len(taken) - 1)]
        theta = (t_key - float(st.t)) / float(st.h)
        return st.interpolate(min(max(theta, 0.0), 1.0), rhs_y)

    rhs_y = lambda t, y: value_of(func_of(t, y, *ps))  # noqa: E731

    def augmented(t, z):
        a = z[:n]
        _, back = vjp(lambda yy, *pp: func_of(t, yy, *pp), y_at(t), *ps)
        cts = back(a)
        dp = [cnp.reshape(c, (-1,)) for c in cts[1:]]
        parts = [-cts[0]] + [-d for d in dp]
        if any(isinstance(q, Tracer) for q in parts):  # the method's own Jacobian
            return cnp.concatenate(parts)
        return onp.concatenate([value_of(q) for q in parts])

    def linear_part(t, z):
        """The augmented system is linear in (a, p̄): its matrix [[-J_yᵀ, 0], [-J_pᵀ, 0]]
        and its time derivative (for the Rosenbrock method; no AD through the vjp)."""
        y = y_at(t)
        j_y = value_of(jacobian_columns(lambda v: func_of(t, v, *ps), y, n))
        j_p = [value_of(jacobian_columns(
            lambda q, i=i: func_of(t, y, *ps[:i], onp.reshape(q, shapes[i]), *ps[i + 1:]),
            onp.reshape(ps[i], (-1,)), sizes[i])) for i in range(len(ps))]
        m = onp.zeros((n + n_p, n + n_p))
        m[:n, :n] = -j_y.T
        off = n
        for jp in j_p:
            m[off:off + jp.shape[1], :n] = -jp.T
            off += jp.shape[1]
        return m, onp.zeros(n + n_p)  # ∂/∂t through y(t) is left out (a W-method)

    jacobian = linear_part if solver.method.name == "rosenbrock23" else None
    a = g[-1].copy()
    p_bar = onp.zeros(n_p)
    t_bar = onp.zeros(len(ts))
    for i in range(len(ts) - 1, 0, -1):
        t_bar[i] = float(g[i] @ rhs_y(ts[i], rows[i]))
        z0 = onp.concatenate([a, p_bar])
        mesh = solve_values(solver.method, augmented, z0, onp.array([ts[i], ts[i - 1]]),
                            rtol=solver.rtol, atol=solver.atol, max_steps=solver.max_steps,
                            dt=solver.dt, max_step=solver.max_step, jacobian=jacobian)
        z = mesh.values[-1]
        a_end, p_bar = z[:n], z[n:]
        if i == 1:
            t_bar[0] = -float(a_end @ rhs_y(ts[0], rows[0]))
        a = a_end + g[i - 1]
    if len(ts) == 1:
        a = g[0].copy()
    full = [None] * len(leaves)
    off = 0
    for i, shape, size in zip(diff, shapes, sizes):
        full[i] = onp.reshape(p_bar[off:off + size], shape)
        off += size
    args_bar = tree_unflatten(treedef, full)
    return (a, t_bar) + tuple(args_bar)
