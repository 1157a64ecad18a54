"""``check_grads``: automatic derivatives against finite differences, both modes, any order.

For a random direction v and random cotangent u (fixed seed):

* ``fwd``: the JVP J·v is compared with the central difference
  (f(x + εv) − f(x − εv)) / 2ε;
* ``rev``: ⟨u, J·v⟩ computed as ⟨vjp(u), v⟩ is compared with ⟨u, central difference⟩.

The pairing is ⟨a, b⟩ = Re Σ a·b, **without** conjugation: for complex values this is
JAX's convention (the VJP is the transpose of the JVP as a C-linear map; see
:mod:`chainrule.numpy._elementwise`), so a rule written for the other convention
(⟨a, b⟩ = Re Σ conj(a)·b, a conjugated VJP) fails the check. v and u are complex
for complex inputs and outputs.

At ``order`` k > 1 the same checks run on the derivative functions
x ↦ J(x)·v and x ↦ J(x)ᵀ·u, so every rule's own rules are exercised too.
On failure an ``AssertionError`` names the function, the mode, the order, both
numbers and their difference.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from chainrule.core.primitive import concrete, dtype_of, shape_of
from chainrule.core.pytree import tree_flatten, tree_unflatten
from chainrule.transforms import jvp, vjp
from chainrule.transforms._args import _fname

__all__ = ["check_grads"]

_TOL = {np.dtype(np.float64): 1e-5, np.dtype(np.float32): 2e-2,
        np.dtype(np.complex128): 1e-5, np.dtype(np.complex64): 2e-2}
_EPS = {np.dtype(np.float64): 1e-6, np.dtype(np.float32): 1e-2,
        np.dtype(np.complex128): 1e-6, np.dtype(np.complex64): 1e-2}


def _random_like(x, rng):
    c = concrete(x)
    shape = shape_of(c)
    r = rng.standard_normal(shape)
    if dtype_of(c).kind == "c":
        r = r + 1j * rng.standard_normal(shape)
    r = np.asarray(r, dtype=dtype_of(c))
    return r if shape else r[()]


def _add(xs, ts, eps):
    return [np.asarray(concrete(x)) + eps * t for x, t in zip(xs, ts)]


def _vdot(a, b) -> float:
    """Re Σ a·b over the leaves (no conjugation: the pairing of JAX's convention)."""
    total = 0.0
    for x, y in zip(tree_flatten(a)[0], tree_flatten(b)[0]):
        x, y = np.asarray(concrete(x)).ravel(), np.asarray(concrete(y)).ravel()
        total += np.real(np.dot(x, y))
    return float(total)


def _scale(tree, c):
    leaves, td = tree_flatten(tree)
    return tree_unflatten(td, [np.asarray(concrete(x)) * c for x in leaves])


def _sub(a, b):
    la, td = tree_flatten(a)
    lb = tree_flatten(b)[0]
    return tree_unflatten(td, [np.asarray(concrete(x)) - np.asarray(concrete(y))
                               for x, y in zip(la, lb)])


def check_grads(
    f: Callable,
    args: Sequence,
    order: int = 2,
    modes: Sequence[str] = ("fwd", "rev"),
    atol: float | None = None,
    rtol: float | None = None,
    eps: float | None = None,
    seed: int = 0,
) -> None:
    """Check ``f``'s forward and reverse derivatives against central differences.

    Args:
        f: the function (arguments and result may be pytrees of float arrays).
        args: the point, a tuple of arguments.
        order: check derivatives up to this order (2: also the derivatives' derivatives).
        modes: any of ``"fwd"`` and ``"rev"``.
        atol, rtol: tolerances (default by dtype: 1e-5 for float64, 2e-2 for float32).
        eps: the finite-difference step (default by dtype: 1e-6 for float64).
        seed: seed of the random directions.

    Raises:
        AssertionError: with a report naming the function, mode, order and numbers.

    Example:
        >>> import chainrule as cr, chainrule.numpy as np
        >>> cr.check_grads(lambda x: np.sin(x) * x, (0.7,), order=2)
    """
    for m in modes:
        if m not in ("fwd", "rev"):
            raise ValueError(f"check_grads: modes must be 'fwd' and/or 'rev', got {m!r}")
    if not isinstance(args, (tuple, list)):
        raise TypeError("check_grads(f, args): args must be a tuple of arguments, e.g. (x,)")
    rng = np.random.default_rng(seed)
    _check(f, tuple(args), order, tuple(modes), atol, rtol, eps, rng, _fname(f), 1)


def _check(f, args, order, modes, atol, rtol, eps, rng, name, level):
    flat, tree = tree_flatten(args)
    dt = np.result_type(*[dtype_of(x) for x in flat]) if flat else np.dtype(np.float64)
    tol_a = atol if atol is not None else _TOL.get(dt, 1e-5)
    tol_r = rtol if rtol is not None else _TOL.get(dt, 1e-5)
    h = eps if eps is not None else _EPS.get(dt, 1e-6)
    v_flat = [_random_like(x, rng) for x in flat]
    v = tree_unflatten(tree, v_flat)
    f_plus = f(*tree_unflatten(tree, _add(flat, v_flat, h)))
    f_minus = f(*tree_unflatten(tree, _add(flat, v_flat, -h)))
    numeric = _scale(_sub(f_plus, f_minus), 1 / (2 * h))

    def report(mode, ad, fd):
        diff = np.max(np.abs(np.asarray(ad) - np.asarray(fd))) if np.size(ad) else 0.0
        scale = np.max(np.abs(np.asarray(fd))) if np.size(fd) else 0.0
        if not diff <= tol_a + tol_r * scale:
            raise AssertionError(
                f"check_grads: {name}, mode {mode}, order {level}: automatic differentiation "
                f"gives {ad!r}, central differences give {fd!r}; difference {diff:.3g} "
                f"exceeds the tolerance {tol_a:.1e} + {tol_r:.1e}·{scale:.3g}"
            )

    if "fwd" in modes:
        _, tangent = jvp(f, args, v)
        ad = [np.asarray(concrete(t)) for t in tree_flatten(tangent)[0]]
        fd = [np.asarray(concrete(t)) for t in tree_flatten(numeric)[0]]
        for a, b in zip(ad, fd):
            report("fwd", a, b)
        if order > 1:
            def f_jvp(*xs):
                return jvp(f, xs, v)[1]

            f_jvp.__name__ = f"jvp({name})"
            _check(f_jvp, args, order - 1, modes, atol, rtol, eps, rng, name, level + 1)
    if "rev" in modes:
        out, back = vjp(f, *args)
        out_flat, out_tree = tree_flatten(out)
        u = tree_unflatten(out_tree, [_random_like(o, rng) for o in out_flat])
        ct = back(u)
        report("rev", _vdot(ct, v), _vdot(u, numeric))
        if order > 1:
            def f_vjp(*xs):
                return vjp(f, *xs)[1](u)

            f_vjp.__name__ = f"vjp({name})"
            _check(f_vjp, args, order - 1, modes, atol, rtol, eps, rng, name, level + 1)
