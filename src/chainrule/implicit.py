"""Implicit differentiation: derivatives of solutions of equations, by the implicit
function theorem, never by differentiating the iterations that found them.

If ``x*(θ)`` solves ``F(x, θ) = 0`` and ``∂F/∂x`` is invertible there, then

    dx*/dθ = -(∂F/∂x)⁻¹ ∂F/∂θ,

so a tangent ``θ̇`` gives ``ẋ = -(∂F/∂x)⁻¹ (∂F/∂θ θ̇)``: one linear solve with the
linearisation of F at the solution. Reverse mode is the transpose of that rule (the
solve with ``(∂F/∂x)ᵀ``), obtained by transposing the linear rule.

* ``custom_root(f, initial_guess, solve, tangent_solve)``: ``solve(f, guess)`` finds a
  root of ``f`` by any means (run on plain values, not traced); the values that ``f``
  closes over (``θ``) are found by staging ``f`` once, and ``tangent_solve(g, y)`` solves
  the linear system ``g(x) = y`` for the linearisation ``g`` of ``f`` at the root.
* ``custom_linear_solve(matvec, b, solve, transpose_solve=None, symmetric=False)``:
  ``x = solve(matvec, b)`` with derivatives from ``A ẋ = ḃ - Ȧ x`` (and ``Aᵀ`` in
  reverse mode through ``transpose_solve``).
* ``fixed_point(f, x0, params)``: ``x* = f(x*, params)`` by iteration; its derivatives
  solve ``(I - ∂f/∂x) ẋ = ∂f/∂params · ṗarams`` (a dense solve with the Jacobian by
  forward mode).

Function signatures follow JAX's ``jax.lax.custom_root`` / ``custom_linear_solve``.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as onp

from chainrule.core.primitive import Tracer, concrete
from chainrule.core.pytree import ravel_pytree, tree_flatten, tree_map, tree_unflatten
from chainrule.custom import custom_jvp, custom_vjp
from chainrule.interpreters.staging import abstractify, stage_sub
from chainrule.ir.evaluate import eval_flat
from chainrule.numpy import _namespace as cnp
from chainrule.numpy import linalg as clinalg
from chainrule.transforms import jvp, vjp

__all__ = ["custom_root", "custom_linear_solve", "fixed_point"]


def _values(tree: Any) -> Any:
    def value(x):
        v = concrete(x)
        if isinstance(v, Tracer):
            raise TypeError("implicit differentiation: the solution is found on values, "
                            "so it cannot be staged by jit/make_ir; call it outside jit")
        return v
    return tree_map(value, tree)


def _closure_converted(fn: Callable, example: Any, name: str) -> tuple[Callable, list]:
    """``fn(x)`` as ``g(x, *captured)``: the traced values ``fn`` closes over become
    explicit arguments (staged once on ``example``'s shapes)."""
    leaves, treedef = tree_flatten(example)
    box = {}

    def flat(*xs):
        out = fn(tree_unflatten(treedef, list(xs)))
        out_leaves, box["tree"] = tree_flatten(out)
        return out_leaves

    prog, caps = stage_sub(flat, [abstractify(x) for x in leaves], name=name)

    def converted(x, *captured):
        out = eval_flat(prog, tree_flatten(x)[0] + list(captured))
        return tree_unflatten(box["tree"], out)

    return converted, caps


def custom_root(f: Callable, initial_guess: Any, solve: Callable, tangent_solve: Callable,
                has_aux: bool = False) -> Any:
    """A root of ``f``, differentiated by the implicit function theorem.

    Args:
        f: ``x -> residual`` (same structure as x); may close over values being
            differentiated (they are the θ of the theorem).
        initial_guess: where ``solve`` starts (no derivative flows through it).
        solve: ``(f, initial_guess) -> x`` with ``f(x) ≈ 0``; runs on plain values.
        tangent_solve: ``(g, y) -> x`` solving ``g(x) = y`` for a linear ``g`` (the
            linearisation of f at the root), written with chainrule.numpy and linear in
            ``y``; for scalars ``lambda g, y: y / g(1.0)``.
        has_aux: accepted for JAX compatibility; must be False.

    Returns:
        The root, differentiable (forward, reverse and higher order) in what ``f`` closes
        over.

    Example:
        >>> import chainrule as cr
        >>> def sqrt(a):   # Newton's method for x² = a, differentiated implicitly
        ...     def newton(f, x):
        ...         for _ in range(30):
        ...             x = x - f(x) / (2 * x)
        ...         return x
        ...     return cr.custom_root(lambda x: x * x - a, 1.0, newton,
        ...                           lambda g, y: y / g(1.0))
        >>> round(float(sqrt(2.0)), 12), round(float(cr.grad(sqrt)(2.0)), 12)
        (1.414213562373, 0.353553390593)
    """
    if has_aux:
        raise NotImplementedError("custom_root(has_aux=True) is not supported; return the "
                                  "auxiliary values from solve separately")
    guess = _values(initial_guess)
    g_f, caps = _closure_converted(f, guess, getattr(f, "__name__", "f"))
    if not any(isinstance(c, Tracer) for c in caps):
        return solve(lambda x: g_f(x, *_values(caps)), guess)

    def root_of(*theta):
        return solve(lambda x: g_f(x, *_values(list(theta))), guess)

    root = custom_jvp(root_of)

    @root.defjvp
    def root_jvp(primals, tangents):
        x = root(*primals)
        rhs = jvp(lambda *th: g_f(x, *th), tuple(primals), tuple(tangents))[1]
        lin = lambda v: jvp(lambda xx: g_f(xx, *primals), (x,), (v,))[1]  # noqa: E731
        return x, tangent_solve(lin, tree_map(lambda r: -r, rhs))

    return root(*caps)


def custom_linear_solve(matvec: Callable, b: Any, solve: Callable,
                        transpose_solve: Callable | None = None,
                        symmetric: bool = False) -> Any:
    """``x = solve(matvec, b)`` with ``A x = b`` (``A`` given by ``matvec``), differentiated
    as a linear solve rather than through ``solve``'s iterations.

    Forward mode: ``A ẋ = ḃ - Ȧ x`` (one more ``solve``). Reverse mode: ``λ`` from
    ``Aᵀ λ = x̄`` by ``transpose_solve(vecmat, x̄)`` (``solve`` again when ``symmetric``),
    then ``b̄ = λ`` and the cotangent of what ``matvec`` closes over is ``-λᵀ (∂A/∂·) x``.

    Args:
        matvec: ``x -> A x``; may close over values being differentiated.
        b: the right-hand side (an array or pytree shaped like x).
        solve: ``(matvec, b) -> x``.
        transpose_solve: ``(vecmat, b) -> x`` solving with ``Aᵀ``; None: only forward
            mode unless ``symmetric``.
        symmetric: ``A = Aᵀ`` (reverse mode uses ``solve``).

    Returns:
        The solution x.

    Example:
        >>> import numpy as onp, chainrule as cr, chainrule.numpy as np
        >>> def richardson(mv, b):          # x ← x + ω (b − A x), 80 sweeps
        ...     x = 0.0 * b
        ...     for _ in range(80):
        ...         x = x + 0.4 * (b - mv(x))
        ...     return x
        >>> def x_of(a):
        ...     m = np.array([[a, 1.0], [1.0, 3.0]])
        ...     return cr.custom_linear_solve(lambda v: m @ v, onp.array([1.0, 2.0]),
        ...                                   richardson, symmetric=True)
        >>> exact = lambda a: np.linalg.solve(np.array([[a, 1.0], [1.0, 3.0]]),
        ...                                   onp.array([1.0, 2.0]))
        >>> bool(onp.allclose(cr.jacrev(x_of)(2.0), cr.jacrev(exact)(2.0), atol=1e-12))
        True
        >>> bool(onp.allclose(cr.jacfwd(x_of)(2.0), cr.jacfwd(exact)(2.0), atol=1e-12))
        True
    """
    mv, caps = _closure_converted(matvec, _values(b), getattr(matvec, "__name__", "matvec"))
    back_solve = solve if symmetric else transpose_solve

    def plain_solve(bb, *theta):
        """The solve as a function of (b, θ), linear in b: reverse mode by the
        transposed solve; under vmap/forward mode the user's solve runs on the traced
        values (it is linear, so that is exact)."""
        return solve(lambda v: mv(v, *theta), bb)

    linear = custom_vjp(plain_solve)

    def lin_fwd(bb, *theta):
        x = plain_solve(bb, *theta)
        return x, (x, theta)

    def lin_bwd(res, x_bar):
        x, theta = res
        if back_solve is None:
            raise NotImplementedError("custom_linear_solve: reverse mode needs "
                                      "transpose_solve (or symmetric=True)")
        th = list(theta)

        def vecmat(v):
            return vjp(lambda u: mv(u, *th), x)[1](v)[0]

        lam = back_solve(vecmat, x_bar)
        _, back = vjp(lambda *t: mv(x, *t), *th)
        theta_bar = back(tree_map(lambda v: -v, lam)) if th else ()
        return (lam,) + tuple(theta_bar)

    linear.defvjp(lin_fwd, lin_bwd)

    def full(bb, *theta):
        return linear(bb, *theta)

    solved = custom_jvp(full)

    @solved.defjvp
    def solved_jvp(primals, tangents):
        bb, *theta = primals
        db, *dtheta = tangents
        x = solved(*primals)
        if theta:
            da_x = jvp(lambda *t: mv(x, *t), tuple(theta), tuple(dtheta))[1]
            rhs = tree_map(lambda p, q: p - q, db, da_x)
        else:
            rhs = db
        return x, linear(rhs, *theta)

    return solved(b, *caps)


def fixed_point(f: Callable, x0: Any, params: Any, *, tol: float = 1e-12,
                max_iter: int = 10_000) -> Any:
    """``x* = f(x*, params)`` by fixed-point iteration from ``x0``, differentiated
    implicitly in ``params``.

    The derivative solves ``(I - ∂f/∂x) ẋ = ∂f/∂params · ṗarams`` at ``x*`` (densely:
    ``∂f/∂x`` by forward mode, one JVP per entry of x), so ``x*`` must be a stable
    fixed point (``I - ∂f/∂x`` invertible); the iterations themselves are not taped.

    Args:
        f: ``(x, params) -> x`` with x an array (or pytree).
        x0: the starting point.
        params: what is differentiated (a pytree of arrays).
        tol: stop when ``max |x_{k+1} - x_k| <= tol · (1 + max |x_{k+1}|)``.
        max_iter: the most iterations (a RuntimeError beyond).

    Returns:
        The fixed point.

    Example:
        >>> import chainrule as cr, chainrule.numpy as np
        >>> x = lambda a: cr.fixed_point(lambda x, a: np.cos(a * x), 0.5, a)
        >>> round(float(x(1.0)), 10)   # the Dottie number
        0.7390851332
    """
    def iterate(g, x):
        for _ in range(max_iter):
            x_new = f(x, params_values[0])
            leaves_new, leaves_old = tree_flatten(x_new)[0], tree_flatten(x)[0]
            diff = max(float(onp.max(onp.abs(onp.asarray(a) - onp.asarray(b))))
                       for a, b in zip(leaves_new, leaves_old))
            size = max(float(onp.max(onp.abs(onp.asarray(a)))) for a in leaves_new)
            x = x_new
            if diff <= tol * (1.0 + size):
                return x
        raise RuntimeError(f"fixed_point: no convergence in max_iter={max_iter} "
                           "iterations; f may not be a contraction near x0")

    params_values = [_values(params)]

    def residual(x):
        return tree_map(lambda a, b: a - b, f(x, params), x)

    def iterate_values(g, x):
        return iterate(g, _values(x))

    return custom_root(residual, x0, iterate_values, _dense_tangent_solve)


def _dense_tangent_solve(g: Callable, y: Any) -> Any:
    """Solve ``g(x) = y`` for a linear g on a pytree: its matrix by forward mode (one JVP
    per entry), then a dense solve."""
    y_vec, unvec = ravel_pytree(y)
    eye = onp.eye(onp.size(concrete(y_vec)))
    cols = [ravel_pytree(g(unvec(row)))[0] for row in eye]
    mat = cnp.stack(cols, axis=1)
    return unvec(clinalg.solve(mat, y_vec))
