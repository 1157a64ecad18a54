"""User-defined derivatives: ``primitive`` + ``defjvp``/``defvjp``, ``custom_jvp``, ``custom_vjp``.

* ``@primitive`` turns a NumPy function into an operation chainrule treats as atomic;
  ``defjvp(f, *rules)`` / ``defvjp(f, *rules)`` attach one rule per positional argument
  (autograd's signatures: ``jvp(t, ans, *args, **kw)`` returns the output tangent's
  contribution; ``vjp(ans, *args, **kw)`` returns ``g -> argument cotangent``). A missing
  rule raises an error naming the function and the mode.
* ``@custom_jvp`` + ``f.defjvp(lambda primals, tangents: (out, tangent_out))``: the VJP is
  obtained by transposing the (linear in the tangents) rule with reverse mode, so it works
  in every mode and nesting.
* ``@custom_vjp`` + ``f.defvjp(fwd, bwd)``: ``fwd(*args) -> (out, residuals)``,
  ``bwd(residuals, g) -> tuple of cotangents``. Under forward mode (``jvp``, ``jacfwd``,
  ``hessian``) the original function is differentiated instead (its code must be
  chainrule-differentiable), or a clear error names ``custom_jvp`` as what to add.

Rules written with chainrule.numpy differentiate again (Hessians through custom rules).
User primitives are not added to the library's registry of built-in primitives.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any, Callable

import numpy as np

from chainrule.core.primitive import NO_RULE, Primitive, Tracer, concrete, dtype_of, shape_of
from chainrule.core.pytree import tree_flatten, tree_map, tree_unflatten
from chainrule.interpreters.reverse import paused_gc, pull_back, record_call
from chainrule.transforms import jvp as _jvp

__all__ = ["primitive", "defjvp", "defvjp", "custom_jvp", "custom_vjp"]


class _UserPrimitive(Primitive):
    """A primitive outside the built-in registry (``PRIMITIVES``)."""

    __slots__ = ()
    scales_cotangents = False  # the user's VJP rules need not be linear in the cotangent

    def __init__(self, name, impl, jvps, vjps) -> None:
        super().__init__(name, impl, jvps, vjps, doc=getattr(impl, "__doc__", None),
                         register=False)


class _Rules:
    """Per-argument rule table that grows on demand; NO_RULE until defined."""

    __slots__ = ("rules",)

    def __init__(self) -> None:
        self.rules: dict[int, Any] = {}

    def __getitem__(self, i: int):
        return self.rules.get(i, NO_RULE)


def primitive(fn: Callable) -> Primitive:
    """Make ``fn`` (plain NumPy inside) an atomic operation; add rules with defjvp/defvjp.

    Example:
        >>> import chainrule as cr, numpy as onp
        >>> @cr.primitive
        ... def logsumexp(x):
        ...     m = onp.max(x)
        ...     return m + onp.log(onp.sum(onp.exp(x - m)))
        >>> cr.defvjp(logsumexp, lambda ans, x: lambda g: g * cr.numpy.exp(x - ans))
        >>> cr.grad(logsumexp)(onp.zeros(2))
        array([0.5, 0.5])
    """
    return _UserPrimitive(getattr(fn, "__name__", "primitive"), fn, _Rules(), _Rules())


def _check_prim(f, who):
    if not isinstance(f, Primitive):
        raise TypeError(f"{who}: {f!r} is not a primitive; decorate the function with "
                        "@chainrule.primitive first")


def defjvp(f: Primitive, *rules: Callable | None) -> None:
    """Forward rules, one per positional argument: ``rule(t, ans, *args, **kw)`` -> tangent
    contribution (``None``: zero derivative)."""
    _check_prim(f, "defjvp")
    for i, r in enumerate(rules):
        f.jvps.rules[i] = r


def defvjp(f: Primitive, *makers: Callable | None) -> None:
    """Reverse rules, one per positional argument: ``maker(ans, *args, **kw)`` returns
    ``g -> cotangent of that argument`` (``None``: zero derivative)."""
    _check_prim(f, "defvjp")
    for i, m in enumerate(makers):
        if m is None:
            f.vjps.rules[i] = None
        else:
            f.vjps.rules[i] = _curried(m)


def _curried(maker):
    """autograd's ``maker(ans, *args)(g)`` as the engine's ``rule(g, ans, *args)``."""
    return lambda g, ans, *args, **kw: maker(ans, *args, **kw)(g)


def _zeros(x):
    c = concrete(x)
    if not shape_of(c):
        return 0.0 if dtype_of(c).kind != "c" else 0j
    return np.zeros(shape_of(c), dtype=dtype_of(c))


# (custom_jvp function, trace) pairs whose JVP rule is being transposed right now; a call
# of that function on the rule's tangent runs its primal code (assumed linear), as JAX
# does, instead of transposing its own rule again without end. Popped in ``finally``.
_TRANSPOSING: list = []


def _linear_transpose(fn: Callable, x_like, ct, owner=None):
    """Jᵀ·ct for the linear map ``fn`` at a point shaped like ``x_like`` (reverse mode)."""

    def transposing(box):
        _TRANSPOSING.append((owner, box._trace))
        try:
            return fn(box)
        finally:
            _TRANSPOSING.pop()

    with paused_gc():
        trace, out = record_call(transposing, [_zeros(x_like)])
        if not (isinstance(out, Tracer) and out._trace is trace):
            return ct * 0.0 if not shape_of(x_like) else _zeros(x_like)
        res = pull_back(trace, [out], [ct], 1)[0]
    return _zeros(x_like) if res is None else res


def _resolve(fun: Callable, args: tuple, kwargs: dict) -> tuple:
    """Keyword arguments bound to their positions (defaults filled in), as JAX does."""
    if not kwargs:
        return args
    ba = inspect.signature(fun).bind(*args, **kwargs)
    ba.apply_defaults()
    if ba.kwargs:
        raise TypeError(f"{_name(fun)}: keyword arguments {sorted(ba.kwargs)} could not be "
                        "resolved to positions; pass them positionally")
    return tuple(ba.args)


def _name(f) -> str:
    return getattr(f, "__name__", type(f).__name__)


def _is_numeric(x) -> bool:
    return isinstance(x, (Tracer, np.ndarray, np.generic, float, int, complex))


def _check_cotangents(name: str, argnum: int, leaves: list, cts: list) -> None:
    """A custom bwd's cotangent for argument ``argnum`` must be shaped like it."""
    if len(cts) != len(leaves):
        raise TypeError(
            f"custom_vjp {name}: bwd returned a cotangent with {len(cts)} leaves for argument "
            f"{argnum}, which has {len(leaves)}; return one shaped like the argument")
    for x, c in zip(leaves, cts):
        if c is not None and shape_of(c) != shape_of(x):
            raise ValueError(
                f"custom_vjp {name}: bwd returned a cotangent of shape {shape_of(c)} for "
                f"argument {argnum}, whose shape is {shape_of(x)}; the cotangent of an "
                "argument must have the argument's shape (sum over broadcast axes yourself)")


class _Call:
    """One call of a custom-rule function on traced leaves, as one primitive per output leaf.

    ``run(xs)`` gives the output pytree for the traced leaves ``xs``; ``jvp_all(xs, ts)``
    the flat output tangents; ``vjp_all(xs, cts)`` the cotangent of every traced leaf for
    the flat output cotangents. The primitives share one evaluation per point (cached on
    the identity of the leaves), and a rule is linear, so a cotangent of output leaf j
    alone (the others zero) gives that primitive's share of the full VJP.
    """

    def __init__(self, name, run, jvp_all, vjp_all) -> None:
        self.name, self.run, self.jvp_all, self.vjp_all = name, run, jvp_all, vjp_all
        self.memo: dict = {}

    def _cached(self, kind, key_objs, compute):
        hit = self.memo.get(kind)
        if hit is not None and len(hit[0]) == len(key_objs) and all(
                a is b for a, b in zip(hit[0], key_objs)):
            return hit[1]
        val = compute()
        self.memo[kind] = (tuple(key_objs), val)
        return val

    def out_flat(self, xs):
        return self._cached("out", xs, lambda: tree_flatten(self.run(list(xs))))

    def __call__(self, traced: list):
        n = len(traced)
        out_leaves, out_tree = tree_flatten(self.run_first(traced))
        self.out_like = [_zeros(o) for o in out_leaves]
        results = []
        for j in range(len(out_leaves)):
            def impl(*xs, j=j):
                return self.out_flat(xs)[0][j]

            def jvp_i(i, t, ans, *xs, j=j):
                def compute():
                    ts = [None] * n
                    ts[i] = t
                    return self.jvp_all(list(xs), ts)
                return self._cached(("jvp", i), list(xs) + [t], compute)[j]

            def vjp_i(i, g, ans, *xs, j=j):
                def compute():
                    cts = [None] * len(self.out_like)
                    cts[j] = g
                    return self.vjp_all(list(xs), cts)
                return self._cached(("vjp", j), list(xs) + [g], compute)[i]

            prim = _UserPrimitive(self.name, impl, _Indexed(jvp_i, n), _Indexed(vjp_i, n))
            results.append(prim(*traced))
        return tree_unflatten(out_tree, results)

    def run_first(self, traced):
        """The output's structure and shapes, from the primal values (no tracers)."""
        vals = [_placeholder(x) for x in traced]

        def compute():
            with np.errstate(all="ignore"):
                return self.run(vals)
        return self._cached("first", vals, compute)


def _placeholder(x):
    """The innermost value of ``x``; ones of its shape when it has none (staged by jit)."""
    v = concrete(x)
    if isinstance(v, Tracer):
        return np.ones(shape_of(x), dtype=dtype_of(x)) if shape_of(x) else dtype_of(x).type(1)
    return v


class _CustomBase:
    """Argument handling shared by custom_jvp and custom_vjp: keywords resolved to
    positions, ``nondiff_argnums`` kept out of differentiation, traced leaves found."""

    kind = "custom"

    def __init__(self, fun: Callable, nondiff_argnums: tuple = ()) -> None:
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.nondiff_argnums = tuple(int(i) for i in nondiff_argnums)

    def _split(self, args: tuple, kwargs: dict):
        args = _resolve(self.fun, args, kwargs)
        nd = tuple(i % len(args) for i in self.nondiff_argnums) if args else ()
        diff = tuple(a for i, a in enumerate(args) if i not in nd)
        flat, tree = tree_flatten(diff)
        pos = [k for k, x in enumerate(flat) if isinstance(x, Tracer)]
        return args, nd, flat, tree, pos

    @staticmethod
    def _merge(args, nd, diff):
        it = iter(diff)
        return tuple(a if i in nd else next(it) for i, a in enumerate(args))

    @staticmethod
    def _fill(flat, pos, xs):
        full = list(flat)
        for k, x in zip(pos, xs):
            full[k] = x
        return full


class custom_jvp(_CustomBase):
    """A function with a user-given JVP rule (JAX's ``custom_jvp``).

    ``f.defjvp(rule)`` with ``rule(primals, tangents) -> (out, tangent_out)``; with
    ``nondiff_argnums`` the rule is ``rule(*nondiff_args, primals, tangents)`` and the
    primals/tangents leave those arguments out. Keyword arguments are bound to their
    positions. Non-array arguments (functions, None) get a ``None`` tangent.

    Example:
        >>> import chainrule as cr, chainrule.numpy as np
        >>> @cr.custom_jvp
        ... def f(x):
        ...     return np.sin(x)
        >>> @f.defjvp
        ... def f_jvp(primals, tangents):
        ...     (x,), (t,) = primals, tangents
        ...     return np.sin(x), 2.0 * t   # a deliberately different derivative
        >>> cr.grad(f)(0.3)
        2.0
    """

    def __init__(self, fun: Callable, nondiff_argnums: tuple = ()) -> None:
        super().__init__(fun, nondiff_argnums)
        self.jvp_rule: Callable | None = None

    def defjvp(self, rule: Callable) -> Callable:
        self.jvp_rule = rule
        return rule

    def defjvps(self, *jvps: Callable | None) -> None:
        """One rule per argument, ``jvp_i(tangent_i, primal_out, *primals)`` (``None``: no
        dependence); the output tangent is their sum (JAX's ``defjvps``)."""
        fun = self.fun

        def rule(*nondiff_primals_tangents):
            *nondiff, primals, tangents = nondiff_primals_tangents
            out = fun(*self._merge_nondiff(nondiff, primals))
            total = None
            for jv, t in zip(jvps, tangents):
                if jv is None or t is None:
                    continue
                c = jv(t, out, *primals)
                total = c if total is None else total + c
            if total is None:
                total = tree_map(_zeros, out)
            return out, total

        self.jvp_rule = rule

    def _merge_nondiff(self, nondiff, primals):
        n = len(nondiff) + len(primals)
        nd = {i % n for i in self.nondiff_argnums}
        a, b = iter(nondiff), iter(primals)
        return tuple(next(a) if i in nd else next(b) for i in range(n))

    def __call__(self, *args, **kwargs):
        if self.jvp_rule is None:
            raise AttributeError(f"No JVP defined for custom_jvp function {self.__name__} "
                                 f"using defjvp: call {self.__name__}.defjvp(rule) first")
        args, nd, flat, tree, pos = self._split(args, kwargs)
        if not pos or any(owner is self and flat[k]._trace is tr
                          for owner, tr in _TRANSPOSING for k in pos):
            return self.fun(*args)
        rule, fun, name = self.jvp_rule, self.fun, self.__name__
        nondiff = [args[i] for i in nd]

        def run(xs):
            return fun(*self._merge(args, nd, tree_unflatten(tree, self._fill(flat, pos, xs))))

        def jvp_all(xs, ts):
            primal = self._fill(flat, pos, xs)
            tang = [_zeros(x) if _is_numeric(x) else None for x in primal]
            for k, x, t in zip(pos, xs, ts):
                tang[k] = _zeros(x) if t is None else t
            res = rule(*nondiff, tree_unflatten(tree, primal), tree_unflatten(tree, tang))
            if not (isinstance(res, (tuple, list)) and len(res) == 2):
                raise TypeError(f"custom_jvp {name}: the rule must return a pair (primal "
                                f"out, tangent out), got {_short(res)}")
            out_flat, out_tree = tree_flatten(res[0])
            t_flat, t_tree = tree_flatten(res[1])
            if out_tree != t_tree:
                raise TypeError(f"custom_jvp {name}: the rule's primal and tangent outputs "
                                f"have different structures: {out_tree} and {t_tree}")
            for o, t in zip(out_flat, t_flat):
                if tuple(shape_of(o)) != tuple(shape_of(t)):
                    raise TypeError(f"custom_jvp {name}: the rule's tangent output has shape "
                                    f"{shape_of(t)} but the primal output has shape "
                                    f"{shape_of(o)}; they must match")
            return t_flat

        def vjp_all(xs, cts):
            (j, g), = [(j, g) for j, g in enumerate(cts) if g is not None]
            out = []
            for i in range(len(xs)):
                def lin(t, i=i):
                    ts = [None] * len(xs)
                    ts[i] = t
                    return jvp_all(xs, ts)[j]
                out.append(_linear_transpose(lin, xs[i], g, self))
            return out

        return _Call(name, run, jvp_all, vjp_all)([flat[k] for k in pos])


def _short(x) -> str:
    r = repr(x)
    return r if len(r) < 60 else r[:57] + "..."


class _Indexed:
    __slots__ = ("fn", "n")

    def __init__(self, fn, n) -> None:
        self.fn, self.n = fn, n

    def __getitem__(self, i):
        if i >= self.n:
            raise IndexError(i)
        fn = self.fn
        return lambda c, ans, *args, **kw: fn(i, c, ans, *args)


class custom_vjp(_CustomBase):
    """A function with a user-given VJP (JAX's ``custom_vjp``).

    ``f.defvjp(fwd, bwd)``: ``fwd(*args) -> (out, residuals)`` runs in the forward pass,
    ``bwd(residuals, g) -> tuple`` (one cotangent per argument, ``None`` for zero) in the
    backward pass. With ``nondiff_argnums``, ``bwd(*nondiff_args, residuals, g)`` returns
    cotangents for the other arguments only. Keyword arguments are bound to positions.

    Example:
        >>> import chainrule as cr, chainrule.numpy as np
        >>> @cr.custom_vjp
        ... def clip_gradient(x):
        ...     return x
        >>> clip_gradient.defvjp(lambda x: (x, None), lambda res, g: (np.clip(g, -1.0, 1.0),))
        >>> float(cr.grad(lambda x: 10.0 * clip_gradient(x))(2.0))
        1.0
    """

    def __init__(self, fun: Callable, nondiff_argnums: tuple = ()) -> None:
        super().__init__(fun, nondiff_argnums)
        self.fwd: Callable | None = None
        self.bwd: Callable | None = None

    def defvjp(self, fwd: Callable, bwd: Callable) -> None:
        self.fwd, self.bwd = fwd, bwd

    def __call__(self, *args, **kwargs):
        if self.fwd is None:
            raise AttributeError(f"No VJP defined for custom_vjp function {self.__name__} "
                                 f"using defvjp: call {self.__name__}.defvjp(fwd, bwd) first")
        args, nd, flat, tree, pos = self._split(args, kwargs)
        if not pos:
            return self.fun(*args)
        fun, fwd, bwd, name = self.fun, self.fwd, self.bwd, self.__name__
        nondiff = [args[i] for i in nd]
        residuals: dict = {}

        def full_args(xs):
            return self._merge(args, nd, tree_unflatten(tree, self._fill(flat, pos, xs)))

        def run(xs):
            out, res = fwd(*full_args(xs))
            residuals["xs"], residuals["res"] = tuple(xs), res
            return out

        def vjp_all(xs, cts):
            if len(residuals.get("xs", ())) == len(xs) and all(
                    a is b for a, b in zip(residuals["xs"], xs)):
                res = residuals["res"]
            else:  # the residuals must be recomputed at this level (nesting)
                res = fwd(*full_args(xs))[1]
            out_like = call.out_like
            g = tree_unflatten(call.out_tree, [_zeros(o) if c is None else c
                                               for c, o in zip(cts, out_like)])
            got = bwd(*nondiff, res, g)
            if not isinstance(got, (tuple, list)):
                raise TypeError(f"custom_vjp {name}: bwd must return a tuple with one "
                                f"cotangent per argument, got {type(got).__name__}")
            diff_args = tree_unflatten(tree, flat)
            if len(got) != len(diff_args):
                raise TypeError(f"custom_vjp {name}: bwd returned {len(got)} cotangent(s) for "
                                f"{len(diff_args)} differentiable argument(s); give one per "
                                "argument (None for zero)")
            ct_flat = []
            argnums = [i for i in range(len(args)) if i not in nd]
            for k, (a, c) in enumerate(zip(diff_args, got)):
                leaves = tree_flatten(a)[0]
                if c is None:
                    ct_flat.extend([None] * len(leaves))
                    continue
                c_leaves = tree_flatten(c)[0]
                _check_cotangents(name, argnums[k], leaves, c_leaves)
                ct_flat.extend(c_leaves)
            return [ct_flat[k] if ct_flat[k] is not None else _zeros(x)
                    for k, x in zip(pos, xs)]

        def jvp_all(xs, ts):
            def f_xs(*ys):
                return tree_flatten(fun(*full_args(list(ys))))[0]

            ts = [_zeros(x) if t is None else t for x, t in zip(xs, ts)]
            try:
                return _jvp(f_xs, tuple(xs), tuple(ts))[1]
            except Exception as e:
                raise NotImplementedError(
                    f"custom_vjp function {name} was used under forward mode (jvp, jacfwd, "
                    f"hessian), and differentiating its original code failed ({e}). Give it "
                    "a forward rule: define it with chainrule.custom_jvp instead, or "
                    "differentiate it in reverse mode only.") from e

        call = _Call(name, run, jvp_all, vjp_all)
        traced = [flat[k] for k in pos]
        call.out_tree = tree_flatten(call.run_first(traced))[1]
        return call(traced)
