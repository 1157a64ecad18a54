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
from typing import Any, Callable

import numpy as np

from chainrule.core.primitive import NO_RULE, Primitive, Tracer, concrete, dtype_of, shape_of
from chainrule.core.pytree import tree_flatten, tree_unflatten
from chainrule.interpreters.reverse import ReverseTrace, backward
from chainrule.transforms import jvp as _jvp

__all__ = ["primitive", "defjvp", "defvjp", "custom_jvp", "custom_vjp"]


class _UserPrimitive(Primitive):
    """A primitive outside the built-in registry (``PRIMITIVES``)."""

    __slots__ = ()

    def __init__(self, name, impl, jvps, vjps) -> None:  # no registration
        self.name = name
        self.impl = impl
        self.jvps = jvps
        self.vjps = vjps
        self.linear = False
        self.doc = getattr(impl, "__doc__", None)
        self.reads = None
        self.vjp_into = None


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


def _linear_transpose(fn: Callable, x_like, ct):
    """Jᵀ·ct for the linear map ``fn`` at a point shaped like ``x_like`` (reverse mode)."""
    trace = ReverseTrace()
    try:
        t = trace.new_input(_zeros(x_like))
        out = fn(t)
    finally:
        trace.active = False
    if not (isinstance(out, Tracer) and out._trace is trace):
        return ct * 0.0 if not shape_of(x_like) else _zeros(x_like)
    res = backward(trace.tape, {out.index: ct}, 1)[0]
    return _zeros(x_like) if res is None else res


class custom_jvp:
    """A function with a user-given JVP rule (JAX's ``custom_jvp``).

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

    def __init__(self, fun: Callable) -> None:
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.jvp_rule: Callable | None = None

    def defjvp(self, rule: Callable) -> Callable:
        self.jvp_rule = rule
        return rule

    def __call__(self, *args):
        if self.jvp_rule is None:
            raise TypeError(f"custom_jvp function {self.__name__} has no rule: call "
                            f"{self.__name__}.defjvp(rule) first")
        flat, tree = tree_flatten(args)
        if not any(isinstance(x, Tracer) for x in flat):
            return self.fun(*args)
        rule, fun, n = self.jvp_rule, self.fun, len(flat)

        def tangent_of(i, t, leaves):
            ts = [_zeros(x) for x in leaves]
            ts[i] = t
            return rule(tree_unflatten(tree, leaves), tree_unflatten(tree, ts))[1]

        def jvp_i(i, t, ans, *leaves):
            return tangent_of(i, t, list(leaves))

        def vjp_i(i, g, ans, *leaves):
            return _linear_transpose(lambda t: tangent_of(i, t, list(leaves)), leaves[i], g)

        prim = _UserPrimitive(
            self.__name__, lambda *leaves: fun(*tree_unflatten(tree, list(leaves))),
            _Indexed(jvp_i, n), _Indexed(vjp_i, n))
        return prim(*flat)


class _Indexed:
    __slots__ = ("fn", "n")

    def __init__(self, fn, n) -> None:
        self.fn, self.n = fn, n

    def __getitem__(self, i):
        if i >= self.n:
            raise IndexError(i)
        fn = self.fn
        return lambda c, ans, *args, **kw: fn(i, c, ans, *args)


class custom_vjp:
    """A function with a user-given VJP (JAX's ``custom_vjp``).

    ``f.defvjp(fwd, bwd)``: ``fwd(*args) -> (out, residuals)`` runs in the forward pass,
    ``bwd(residuals, g) -> tuple`` (one cotangent per argument) in the backward pass.

    Example:
        >>> import chainrule as cr, chainrule.numpy as np
        >>> @cr.custom_vjp
        ... def clip_gradient(x):
        ...     return x
        >>> clip_gradient.defvjp(lambda x: (x, None), lambda res, g: (np.clip(g, -1.0, 1.0),))
        >>> cr.grad(lambda x: 10.0 * clip_gradient(x))(2.0)
        1.0
    """

    def __init__(self, fun: Callable) -> None:
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.fwd: Callable | None = None
        self.bwd: Callable | None = None

    def defvjp(self, fwd: Callable, bwd: Callable) -> None:
        self.fwd, self.bwd = fwd, bwd

    def __call__(self, *args):
        if self.fwd is None:
            raise TypeError(f"custom_vjp function {self.__name__} has no rule: call "
                            f"{self.__name__}.defvjp(fwd, bwd) first")
        flat, tree = tree_flatten(args)
        if not any(isinstance(x, Tracer) for x in flat):
            return self.fun(*args)
        fun, fwd, bwd, name, n = self.fun, self.fwd, self.bwd, self.__name__, len(flat)
        cell: dict = {}

        def impl(*leaves):
            out, res = fwd(*tree_unflatten(tree, list(leaves)))
            cell["key"] = tuple(map(id, leaves))
            cell["res"] = res
            return out

        def vjp_i(i, g, ans, *leaves):
            key = (tuple(map(id, leaves)), id(g))
            if cell.get("ct_key") != key:
                if cell.get("key") == key[0]:
                    res = cell["res"]
                else:  # the residuals must be recomputed at this level (nesting)
                    res = fwd(*tree_unflatten(tree, list(leaves)))[1]
                cts = bwd(res, g)
                if not isinstance(cts, (tuple, list)):
                    raise TypeError(f"custom_vjp {name}: bwd must return a tuple with one "
                                    f"cotangent per argument, got {type(cts).__name__}")
                cell["ct_key"], cell["cts"] = key, tree_flatten(tuple(cts))[0]
            return cell["cts"][i]

        def jvp_i(i, t, ans, *leaves):
            leaves = list(leaves)

            def f_i(x):
                ls = list(leaves)
                ls[i] = x
                return fun(*tree_unflatten(tree, ls))

            try:
                return _jvp(f_i, (leaves[i],), (t,))[1]
            except Exception as e:
                raise NotImplementedError(
                    f"custom_vjp function {name} was used under forward mode (jvp, jacfwd, "
                    f"hessian), and differentiating its original code failed ({e}). Give it "
                    "a forward rule: define it with chainrule.custom_jvp instead, or "
                    "differentiate it in reverse mode only.") from e

        prim = _UserPrimitive(name, impl, _Indexed(jvp_i, n), _Indexed(vjp_i, n))
        return prim(*flat)
