"""chainrule.scipy.integrate: SciPy's ``odeint``, a thin front end on :mod:`chainrule.ode`.

``odeint(func, y0, t, args)`` solves ``dy/dt = func(y, t, *args)``, ``y(t₀) = y0``, and
returns ``Y`` with ``Y[i] = y(tᵢ)``, with the signature and conventions of
``scipy.integrate.odeint`` (``func(y, t, ...)``, or ``func(t, y, ...)`` with
``tfirst=True``; ``args`` a tuple; ``rtol``/``atol`` defaulting to 1.49012e-8; ``tcrit``,
``h0``, ``hmax``, ``mxstep``, ``full_output``). The solve is
:func:`chainrule.ode.odeint` (Dormand–Prince 5(4) by default; ``method=`` picks another
of its methods, e.g. ``"rosenbrock23"`` for stiff problems, where SciPy's LSODA switches
to BDF by itself), so the result agrees with SciPy's to the tolerances, and it is
differentiable in ``y0``, ``t`` and every float array in ``args``, in forward and reverse
mode and to any order: ``gradient="direct"`` differentiates the solver's accepted steps
(the derivative of the numerical solution; ``hessian`` works), ``gradient="adjoint"``
solves the continuous adjoint for first-order reverse mode.

**Critical times.** ``tcrit`` holds times the solver must not step across (singularities,
kinks of func): the interval is solved piece by piece, each piece ending exactly on a
critical time, and the pieces are chained (so derivatives flow through the joins).

**Repeated times** (allowed, as in SciPy) are solved once; a later copy ``tⱼ = tᵤ`` is the
first's row advanced by one classical Runge–Kutta step of size ``tⱼ - tᵤ = 0``: the same
value, and exact derivatives in ``tⱼ`` through fourth order (RK4 matches the Taylor
series of the flow to ``h⁴``).

**Under jit and vmap** the step sizes cannot be chosen from staged values, so the whole
solve becomes one operation whose implementation runs on values, and whose derivative
rules are again such operations (the JVP or VJP of the solve, computed on values by
differentiating it): ``jit(f)``, ``jit(grad(f))``, ``jit(hessian(f))`` compile around it,
and ``vmap`` solves once per example. There ``func`` must not close over a value being
differentiated (pass it in ``args``, as SciPy's API intends).

Example:
    >>> import numpy as onp, chainrule as cr
    >>> from chainrule.scipy.integrate import odeint
    >>> decay = lambda y, t, k: -k * y
    >>> t = onp.array([0.0, 1.0])
    >>> float(cr.grad(lambda k: odeint(decay, 1.0, t, (k,))[1])(0.5))  # d/dk e^{-k} = -e^{-k}
    -0.6065306...
    >>> round(float(cr.hessian(lambda k: odeint(decay, 1.0, t, (k,))[1])(0.5)), 6)  # e^{-k}
    0.606531
"""

from __future__ import annotations

import warnings
from typing import Any, Callable

import numpy as np

from chainrule.checkpoint import _captures_tracer
from chainrule.core.primitive import Tracer, concrete, dtype_of, shape_of
from chainrule.core.pytree import tree_flatten, tree_unflatten
from chainrule.custom import primitive
from chainrule.numpy import _namespace as cnp
from chainrule.ode import odeint as ode_odeint
from chainrule.ode.adaptive import METHODS, solve_values
from chainrule.ode.explicit import rk_step
from chainrule.ode.tableaus import RK4
from chainrule.ode.state import value_of
from chainrule.scipy._ivp import solve_ivp
from chainrule.transforms import jvp, vjp

__all__ = ["odeint", "solve_ivp"]

#: SciPy's default rtol and atol of odeint (√ of the float64 machine epsilon, rounded)
SCIPY_TOLERANCE = 1.49012e-8

_CLOSURE_ERROR = ("odeint: under jit or vmap, func must not close over a value being traced "
                  "(the steps are chosen from values); pass that variable in args")

#: LSODA's maximum orders (mxhordr, mxordn, mxords) at SciPy's defaults
_LSODA_ORDERS = {"mxhordr": 12, "mxordn": 12, "mxords": 5}


def odeint(func: Callable, y0: Any, t: Any, args: Any = (), Dfun: Callable | None = None,
           col_deriv: int = 0, full_output: int = 0, ml: int | None = None,
           mu: int | None = None, rtol: Any = None, atol: Any = None, tcrit: Any = None,
           h0: float = 0.0, hmax: float = 0.0, hmin: float = 0.0, ixpr: int = 0,
           mxstep: int = 0, mxhordr: int = 12, mxordn: int = 12, mxords: int = 5,
           printmessg: int = 0, tfirst: bool = False, *, method: str = "dopri5",
           gradient: str = "direct") -> Any:
    """Solve ``dy/dt = func(y, t, *args)``, ``y(t[0]) = y0``; return ``y`` at every time in t.

    Args:
        func: ``func(y, t, *args) -> dy/dt`` (``func(t, y, *args)`` with ``tfirst``),
            written with ``chainrule.numpy``; it may return a list, as with SciPy.
        y0: the initial state (an array of any shape, or a list).
        t: 1-D times, increasing or decreasing (repeats allowed); ``t[0]`` is the
            initial time.
        args: extra arguments of func, a tuple (a non-tuple is ``(args,)``, as in SciPy;
            nested tuples, lists and dicts allowed); every float array in it is
            differentiable.
        Dfun, col_deriv, ml, mu: LSODA's Jacobian and its layout. Accepted for
            compatibility and not used: the stiff method gets its Jacobian by
            forward-mode AD of func.
        full_output: also return a dict of solver statistics (see Returns).
        rtol, atol: local error tolerances (scalars, or arrays of y0's size); None is
            SciPy's 1.49012e-8.
        tcrit: critical times the solver must not step across.
        h0: the first step size (0: estimated).
        hmax: the largest step size (0: no limit).
        hmin: LSODA's smallest step; only 0 is supported (a RuntimeError reports a
            step size that collapses).
        ixpr, printmessg: print a message on method switches (none happen) / on success.
        mxstep: the most steps per output interval (0: chainrule.ode's default limit of
            100 000 steps in all).
        mxhordr, mxordn, mxords: LSODA's maximum orders; only SciPy's defaults (12, 12,
            5) are accepted, chainrule's methods have fixed orders.
        tfirst: func takes ``(t, y, *args)``.
        method: chainrule.ode's method: ``"dopri5"``, ``"tsit5"``, ``"rosenbrock23"``
            (stiff), ``"rk4"``, ``"euler"`` (the fixed-step ones take one step per
            output interval).
        gradient: ``"direct"`` (any order, both modes) or ``"adjoint"`` (first-order
            reverse mode by the continuous adjoint).

    Returns:
        An array of shape ``(len(t),) + y0.shape`` whose row i is ``y(t[i])``; with
        ``full_output`` also a dict with SciPy's keys ``"message"``, ``"nst"`` (steps
        taken up to each ``t[i]``, i ≥ 1), ``"hu"`` (the size of the step that reached
        it) and ``"tcur"`` (where that step ended). LSODA's other keys have no
        counterpart here.

    Raises:
        NotImplementedError: ``hmin`` or LSODA's maximum orders set, naming them.
        RuntimeError: more than ``mxstep`` steps, or a step size that collapses (SciPy
            warns and returns partial results; here nothing silently wrong comes back).
    """
    if not callable(func):
        raise TypeError(f"odeint: func must be callable as func(y, t, *args), got "
                        f"{type(func).__name__}")
    if not isinstance(args, tuple):
        args = (args,)
    _check_supported(hmin, mxhordr=mxhordr, mxordn=mxordn, mxords=mxords)
    rtol, atol = _checked_steps_and_tolerances(rtol, atol, h0, hmax, mxstep)
    y0, t = cnp.asarray(y0), cnp.asarray(t)  # lists (of tracers, too) become arrays
    for name, v in (("y0", y0), ("t", t)):
        if dtype_of(v).kind not in "fiub":
            raise ValueError(f"odeint: {name} must be real (got dtype {dtype_of(v)}); "
                             "integrate the real and imaginary parts as separate components")
    if not isinstance(y0, Tracer) and dtype_of(y0).kind != "f":
        y0 = np.asarray(y0, dtype=np.float64)
    if not isinstance(t, Tracer) and dtype_of(t).kind != "f":
        t = np.asarray(t, dtype=np.float64)
    t_val = concrete(t)
    if not isinstance(t_val, Tracer):
        _check_times(np.asarray(t_val))
    crit = np.atleast_1d(np.asarray([] if tcrit is None else tcrit, dtype=float))
    options = dict(method=method, gradient=gradient, rtol=rtol, atol=atol,
                   first_step=float(h0) or None, max_step=float(hmax) or None)
    solve = _Solve(_state_rhs(func, tfirst, tuple(shape_of(y0))), crit, int(mxstep),
                   options)
    if any(isinstance(concrete(x), Tracer) for x in tree_flatten((y0, t, args))[0]):
        ys = _as_one_operation(solve, (y0, t, args))  # staged (jit) or batched (vmap)
    else:
        ys = solve(y0, t, args)
    if printmessg:
        print("Integration successful.")
    if full_output:
        return ys, solve.statistics(value_of(y0), np.asarray(value_of(t)),
                                    _values_of_args(args))
    return ys


def _checked_steps_and_tolerances(rtol, atol, h0, hmax, mxstep) -> tuple[Any, Any]:
    """(rtol, atol) with SciPy's defaults, after checking them and the step options."""
    rtol = SCIPY_TOLERANCE if rtol is None else rtol
    atol = SCIPY_TOLERANCE if atol is None else atol
    for name, tol in (("rtol", rtol), ("atol", atol)):
        if not np.all(np.asarray(tol, dtype=float) >= 0.0):
            raise ValueError(f"odeint: {name} must be non-negative, got {tol!r}")
    if not np.all(np.asarray(rtol, dtype=float) > 0.0):
        raise ValueError(f"odeint: rtol={rtol!r}; give a positive relative tolerance")
    for name, v in (("h0", h0), ("hmax", hmax)):
        if not (float(v) >= 0.0):
            raise ValueError(f"odeint: {name} must be >= 0 (0: automatic), got {v!r}")
    if int(mxstep) != mxstep or mxstep < 0:
        raise ValueError(f"odeint: mxstep must be a non-negative integer, got {mxstep!r}")
    return rtol, atol


def _check_supported(hmin: float, **orders: int) -> None:
    if float(hmin) != 0.0:
        raise NotImplementedError(
            f"odeint: hmin={hmin!r} is not supported (LSODA's smallest step size); leave it "
            "0: a collapsing step size raises a RuntimeError instead")
    changed = [f"{k}={v!r}" for k, v in orders.items() if v != _LSODA_ORDERS[k]]
    if changed:
        raise NotImplementedError(
            f"odeint: {', '.join(changed)} (LSODA's maximum orders) are not supported: "
            "chainrule's methods have fixed orders; choose one with method=")


def _check_times(t: np.ndarray) -> None:
    if t.ndim != 1 or t.size == 0:
        raise ValueError(f"odeint: t must be a non-empty 1-D array of times, got shape "
                         f"{t.shape}")
    if not np.all(np.isfinite(t)):
        raise ValueError("odeint: t must hold finite real times")
    d = np.diff(t)
    if not (np.all(d >= 0) or np.all(d <= 0)):
        raise ValueError(
            "odeint: t must be monotonically increasing or decreasing (repeated values are "
            "allowed; t[0] is the initial time); sort the times and reorder the output rows")


def _state_rhs(func: Callable, tfirst: bool, shape: tuple) -> Callable:
    """``(y, t, *args) -> dy/dt`` in chainrule.ode's argument order, checked for shape."""
    def rhs(y, s, *a):
        out = func(s, y, *a) if tfirst else func(y, s, *a)
        if not isinstance(out, (Tracer, np.ndarray)):
            out = cnp.asarray(out)  # SciPy allows a list such as [y[1], -y[0]]
        if tuple(shape_of(out)) != shape:
            raise ValueError(
                f"odeint: func(y, t, *args) returned shape {tuple(shape_of(out))} but y0 has "
                f"shape {shape}; func must return dy/dt with the shape of y")
        return out
    return rhs


def _values_of_args(args: tuple) -> tuple:
    leaves, tree = tree_flatten(args)
    return tree_unflatten(tree, [value_of(x) if isinstance(x, Tracer) else x for x in leaves])


class _Solve:
    """``(y0, t, args) -> rows`` on top of chainrule.ode, with repeats and ``tcrit``."""

    def __init__(self, rhs: Callable, crit: np.ndarray, mxstep: int, options: dict) -> None:
        self.rhs, self.crit, self.mxstep, self.options = rhs, crit, mxstep, options

    def plan(self, t: np.ndarray) -> tuple[list, list]:
        """The pieces to solve and the first copy of every time.

        Returns:
            ``pieces``: lists of nodes, each ``("t", i)`` (output time i) or ``("c", c)``
            (a critical time), every piece but the first starting where the previous
            ended; ``first[i]``: the index of the first time equal to ``t[i]``.
        """
        first = [0] * len(t)
        for i in range(1, len(t)):
            first[i] = first[i - 1] if t[i] == t[i - 1] else i
        direction = 1.0 if t[-1] >= t[0] else -1.0
        inside = [c for c in self.crit if direction * (c - t[0]) > 0
                  and direction * (t[-1] - c) > 0 and c not in t]
        nodes = sorted([(direction * t[i], 0, ("t", i)) for i in range(len(t))
                        if first[i] == i] + [(direction * c, 1, ("c", c)) for c in inside],
                       key=lambda n: (n[0], n[1]))
        pieces, current = [], []
        for _, _, node in nodes:
            current.append(node)
            if node[0] == "c":
                pieces.append(current)
                current = [node]
        pieces.append(current)
        return pieces, first

    def __call__(self, y0: Any, t: Any, args: tuple) -> Any:
        t_val = np.asarray(value_of(t))
        pieces, first = self.plan(t_val)
        rows: dict = {}
        y = y0
        for piece in pieces:
            times = [t[n[1]] if n[0] == "t" else n[1] for n in piece]
            ts = cnp.stack(times) if any(isinstance(x, Tracer) for x in times) \
                else np.asarray(times, dtype=float)
            if len(piece) == 1:
                out = [y]
            else:
                max_steps = self.mxstep * (len(piece) - 1) if self.mxstep else 100_000
                try:
                    out = ode_odeint(self.rhs, y, ts, *args, max_steps=max_steps,
                                     **self.options)
                except RuntimeError as e:
                    if self.mxstep and "max_steps" in str(e):
                        raise RuntimeError(f"odeint: more than mxstep={self.mxstep} steps per "
                                           "output interval; raise mxstep or loosen rtol/atol "
                                           f"({e})") from e
                    raise
                except TypeError as e:
                    if "cannot be staged" in str(e):  # func closes over a jit/vmap value
                        raise ValueError(_CLOSURE_ERROR) from e
                    raise
            for j, node in enumerate(piece):
                if node[0] == "t":
                    rows[node[1]] = out[j]
            y = out[len(piece) - 1]
        result = []
        for i in range(len(t_val)):
            u = first[i]
            if u == i:
                result.append(rows[i])
            else:  # a repeated time: one RK4 step of size t[i] - t[u] = 0
                step = rk_step(lambda s, v: self.rhs(v, s, *args), RK4, t[u], rows[u],
                               t[i] - t[u])
                result.append(step.y1)
        if any(isinstance(r, Tracer) for r in result):
            return cnp.stack(result)
        return np.stack([np.asarray(r, dtype=float) for r in result])

    def statistics(self, y0: np.ndarray, t: np.ndarray, args: tuple) -> dict:
        """SciPy's ``infodict`` keys that have a meaning here, from a value solve."""
        pieces, first = self.plan(t)
        shape = np.shape(y0)
        method = METHODS[self.options["method"]]
        steps_before = 0
        at: dict = {}
        y = np.reshape(np.asarray(y0, dtype=float), -1)

        def rhs(s, v):
            out = cnp.reshape(self.rhs(cnp.reshape(v, shape), s, *args), (-1,))
            if isinstance(v, Tracer) or isinstance(s, Tracer):
                return out  # the Rosenbrock method's forward-mode Jacobian
            return np.asarray(value_of(out), dtype=float)

        for piece in pieces:
            if len(piece) == 1:
                continue
            ts = np.array([t[n[1]] if n[0] == "t" else n[1] for n in piece], dtype=float)
            mesh = solve_values(method, rhs, y, ts, rtol=self.options["rtol"],
                                atol=self.options["atol"], max_steps=10 ** 9,
                                first_step=self.options["first_step"],
                                max_step=self.options["max_step"])
            sizes = np.array([ds * (ts[b] - ts[a]) for a, b, _, ds in mesh.steps])
            ends = np.array([ts[a] + (s + ds) * (ts[b] - ts[a]) for a, b, s, ds in mesh.steps])
            for j, node in enumerate(piece[1:], start=1):
                k = mesh.outputs[j][0]
                if node[0] == "t":
                    at[node[1]] = (steps_before + k + 1, sizes[k], ends[k])
            steps_before += len(mesh.steps)
            y = mesh.values[-1]
        rows = [at.get(first[i], (0, 0.0, t[0])) for i in range(1, len(t))]
        return {"message": "Integration successful.",
                "nst": np.array([r[0] for r in rows], dtype=int),
                "hu": np.array([abs(r[1]) for r in rows]),
                "tcur": np.array([r[2] for r in rows])}


def _as_one_operation(solve: _Solve, inputs: tuple) -> Any:
    """``solve(*inputs)`` as one operation of the inputs' float leaves (jit, vmap)."""
    leaves, tree = tree_flatten(inputs)
    diff = [k for k, x in enumerate(leaves) if _is_float(x)]
    if _captures_tracer(solve.rhs):
        raise ValueError(_CLOSURE_ERROR)

    def on_leaves(*xs):
        full = list(leaves)
        for k, x in zip(diff, xs):
            full[k] = x
        return solve(*tree_unflatten(tree, full))

    return value_operation(on_leaves, "odeint")(*[leaves[k] for k in diff])


def _is_float(x: Any) -> bool:
    return isinstance(x, (Tracer, np.ndarray, np.generic, float)) and dtype_of(x).kind == "f"


class _RuleTable:
    """A rule for every argument position, made on demand by ``make(i)``."""

    def __init__(self, make: Callable[[int], Callable]) -> None:
        self.make = make

    def __getitem__(self, i: int) -> Callable:
        return self.make(i)


def value_operation(fn: Callable, name: str) -> Any:
    """``fn(*arrays) -> array`` as one primitive (returned as the function that applies it)
    whose implementation runs ``fn`` on values.

    Its JVP in argument i, ``ṫ ↦ ∂ᵢfn(x)·ṫ``, and its VJP, ``ḡ ↦ ḡᵀ∂ᵢfn(x)``, are again
    value operations (of ``(x, ṫ)`` and ``(ḡ, x)``) that differentiate ``fn`` on values
    with chainrule's jvp/vjp: so the derivatives nest to any order, and staging (jit)
    records one call per level instead of looking inside ``fn``.
    """
    def jvp_rule(i: int) -> Callable:
        def rule(tangent, ans, *xs, **params):
            def directional(*xs_t):
                *point, tan = xs_t
                tangents = [np.zeros(np.shape(x)) for x in point]
                tangents[i] = tan
                return jvp(fn, tuple(point), tuple(tangents))[1]
            return value_operation(directional, f"{name}_jvp")(*xs, tangent)
        return rule

    def vjp_rule(i: int) -> Callable:
        def rule(cotangent, ans, *xs, **params):
            def pullback(g, *point):
                return vjp(fn, *point)[1](g)[i]
            return value_operation(pullback, f"{name}_vjp")(cotangent, *xs)
        return rule

    prim = primitive(fn)
    prim.name = name
    prim.jvps, prim.vjps = _RuleTable(jvp_rule), _RuleTable(vjp_rule)
    return lambda *xs: _per_example(prim, *xs)


def _per_example(prim: Any, *xs: Any) -> Any:
    """``prim(*xs)`` without vmap's loop warning: one solve per example is inherent."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=f"vmap: the primitive '{prim.name}'",
                                category=RuntimeWarning)
        return prim(*xs)
