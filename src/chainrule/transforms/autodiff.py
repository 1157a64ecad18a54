"""Derivatives by forward and reverse mode: ``jvp``, ``vjp``, ``grad`` and their kin.

Every transformation opens a fresh trace (a new level, higher than any open
one), runs the user's function on tracers, and closes the trace in ``finally``
so that an exception leaves nothing behind. ``argnums`` and pytrees are handled
once, by :func:`~chainrule.transforms._args._select_args`, and results are shaped
like JAX's.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from chainrule.core.primitive import Tracer, concrete, dtype_of, shape_of
from chainrule.core.pytree import tree_flatten, tree_map, tree_unflatten
from chainrule.interpreters.forward import JVPTrace, JVPTracer
from chainrule.interpreters.reverse import (
    pause_gc, paused_gc, pull_back, record_call, resume_gc,
)
from chainrule.numpy._nondiff import stop_gradient_p
from chainrule.transforms._args import (
    _again, _check_complex, _check_inexact, _fname, _materialize, _named, _normalize_argnums,
    _ones_like, _select_args, _short, _split_aux, _zeros_like,
)

__all__ = [
    "jvp",
    "linearize",
    "vjp",
    "grad",
    "value_and_grad",
    "elementwise_grad",
    "hvp",
    "hvp_forward_over_reverse",
    "derivative",
    "stop_gradient",
]


# ---------------------------------------------------------------------------
# forward mode
# ---------------------------------------------------------------------------

def jvp(f: Callable, primals: Sequence, tangents: Sequence, has_aux: bool = False):
    """Forward mode: ``(f(*primals), J·tangents)`` in one pass.

    Args:
        f: a function of ``len(primals)`` positional arguments (pytrees allowed).
        primals: the point, a tuple or list of arguments.
        tangents: the direction, the same structure and shapes as ``primals``
            (``None`` for an argument means a zero tangent).
        has_aux: ``f`` returns ``(out, aux)``; aux comes back untouched as a third item.

    Returns:
        ``(out, tangent_out)``, both shaped like ``f``'s output (``(out, tangent_out,
        aux)`` with ``has_aux``).

    Example:
        >>> import chainrule as cr, chainrule.numpy as np
        >>> cr.jvp(lambda x, y: x * y, (3.0, 4.0), (1.0, 0.0))
        (12.0, 4.0)
    """
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError(
            "jvp(f, primals, tangents): primals and tangents must be tuples or lists of "
            f"arguments, got {type(primals).__name__} and {type(tangents).__name__}; "
            "for one argument write jvp(f, (x,), (v,))"
        )
    if len(primals) != len(tangents):
        raise ValueError(
            f"jvp: {len(primals)} primal(s) but {len(tangents)} tangent(s); give one tangent "
            "per argument (None for a zero tangent)"
        )
    pflat, ptree = tree_flatten(tuple(primals))
    tflat = []
    for i, (p, t) in enumerate(zip(primals, tangents)):
        if t is None:
            tflat.extend([None] * len(tree_flatten(p)[0]))
            continue
        pl, pt = tree_flatten(p)
        tl, tt = tree_flatten(t)
        if pt != tt:
            raise ValueError(f"jvp: tangent {i} has structure {tt}, primal {i} has {pt}")
        for p_leaf, t_leaf in zip(pl, tl):
            if shape_of(t_leaf) != shape_of(p_leaf):
                raise ValueError(
                    f"jvp: tangent {i} has shape {shape_of(t_leaf)} but its primal has shape "
                    f"{shape_of(p_leaf)}; tangents must match their primals' shapes"
                )
            if dtype_of(t_leaf).kind not in "fc" or dtype_of(p_leaf).kind not in "fc":
                raise TypeError(
                    f"jvp: primal {i} (dtype {dtype_of(p_leaf)}) and its tangent (dtype "
                    f"{dtype_of(t_leaf)}) must be floating point; pass floats"
                )
        tflat.extend(tl)
    trace = JVPTrace()
    try:
        boxes = [p if t is None else JVPTracer(trace, p, t) for p, t in zip(pflat, tflat)]
        out = f(*tree_unflatten(ptree, boxes))
    finally:
        trace.active = False
    if has_aux:
        out, aux = _split_aux(out, f)
    out_flat, out_tree = tree_flatten(out)
    primal_out, tangent_out = [], []
    for o in out_flat:
        if isinstance(o, JVPTracer) and o._trace is trace:
            primal_out.append(o._value)
            tangent_out.append(_materialize(o.tangent, o._value))
        else:
            primal_out.append(o)
            tangent_out.append(_zeros_like(o))
    if has_aux:
        return (tree_unflatten(out_tree, primal_out), tree_unflatten(out_tree, tangent_out),
                _unbox_tree(aux, trace))
    return tree_unflatten(out_tree, primal_out), tree_unflatten(out_tree, tangent_out)


# ---------------------------------------------------------------------------
# reverse mode
# ---------------------------------------------------------------------------

def linearize(f: Callable, *primals: Any, has_aux: bool = False):
    """``(f(*primals), f_jvp)`` with ``f_jvp(*tangents) = J·tangents`` at ``primals``
    (JAX's ``linearize``).

    ``f_jvp`` evaluates ``jvp(f, primals, tangents)``, so each call runs ``f`` again;
    ``jit(f_jvp)`` stages it once for repeated directions.

    Returns:
        ``(out, f_jvp)``, or ``(out, f_jvp, aux)`` with ``has_aux``.
    """
    res = f(*primals)
    out, aux = _split_aux(res, f) if has_aux else (res, None)

    def f_jvp(*tangents):
        if len(tangents) != len(primals):
            raise TypeError(f"f_jvp takes {len(primals)} tangent(s), one per primal of "
                            f"linearize, got {len(tangents)}")
        return jvp(f, primals, tangents, has_aux=has_aux)[1]

    f_jvp.__name__ = f"linearized_{_fname(f)}"
    return (out, f_jvp, aux) if has_aux else (out, f_jvp)


def vjp(f: Callable, *primals: Any, has_aux: bool = False):
    """Reverse mode: ``(f(*primals), vjp_fn)`` where ``vjp_fn(ȳ) = ȳᵀ·J`` per argument.

    The forward pass records a tape; ``vjp_fn`` sweeps it backwards and may be
    called any number of times (each call gives the same result for the same ȳ).

    Args:
        f: a function of the primals (pytrees allowed).
        *primals: the point.
        has_aux: ``f`` returns ``(out, aux)``; aux is returned untouched as a third item.

    Returns:
        ``(out, vjp_fn)`` or ``(out, vjp_fn, aux)``; ``vjp_fn(ct)`` returns a tuple with
        one cotangent per primal, shaped like it.

    Example:
        >>> import chainrule as cr
        >>> out, back = cr.vjp(lambda x, y: x * y, 3.0, 4.0)
        >>> back(1.0)
        (4.0, 3.0)
    """
    pflat, ptree = tree_flatten(primals)
    with paused_gc():
        trace, res = record_call(lambda *boxes: f(*tree_unflatten(ptree, boxes)), pflat)
    if has_aux:
        res, aux = _split_aux(res, f)
    out_flat, out_tree = tree_flatten(res)
    out_vals = [o._value if isinstance(o, Tracer) and o._trace is trace else o
                for o in out_flat]

    def vjp_fn(ct):
        ct_flat, ct_tree = tree_flatten(ct)
        if ct_tree != out_tree:
            raise ValueError(
                f"vjp_fn: the cotangent has structure {ct_tree} but the output has {out_tree}"
            )
        for c, o in zip(ct_flat, out_vals):
            if shape_of(c) != shape_of(o):
                raise ValueError(
                    f"vjp_fn: a cotangent has shape {shape_of(c)} but its output has shape "
                    f"{shape_of(o)}; cotangents must match the outputs' shapes"
                )
        with paused_gc():
            cts = pull_back(trace, out_flat, ct_flat, len(pflat))
        return tree_unflatten(ptree, [_materialize(c, p) for c, p in zip(cts, pflat)])

    out = tree_unflatten(out_tree, out_vals)
    if has_aux:
        return out, vjp_fn, _unbox_tree(aux, trace)
    return out, vjp_fn


def value_and_grad(f: Callable, argnums: int | Sequence[int] = 0, has_aux: bool = False,
                   holomorphic: bool = False, allow_int: bool = False):
    """``f`` and its gradient in one forward and one backward pass (scalar output).

    Args:
        f: a function returning a real scalar (or ``(scalar, aux)`` with ``has_aux``).
        argnums: the argument (int) or arguments (tuple) to differentiate.
        has_aux: ``f`` returns ``(value, aux)``.
        holomorphic: ``f`` is a complex-differentiable function of complex inputs with a
            complex scalar output; the gradient is the complex derivative f'(z).
        allow_int: integer arguments are allowed; their gradient is zero (integers carry
            no derivative), instead of an error.

    Returns:
        a function returning ``(value, gradient)`` (``((value, aux), gradient)`` with
        ``has_aux``); the gradient is shaped like the argument, or a tuple of them when
        ``argnums`` is a tuple.
    """
    single = isinstance(argnums, (int, np.integer))
    plain = not (has_aux or holomorphic or allow_int)

    def value_and_grad_f(*args, **kwargs):
        if plain and not kwargs:
            nums = _normalize_argnums(argnums, len(args), "grad")
            for i in nums:
                a = args[i]
                if not (type(a) is float or type(a) is np.ndarray and a.dtype.kind == "f"):
                    break
            else:
                return _value_and_grad_of_leaves(f, args, nums, single)
        fs, selected, nums = _select_args(f, args, kwargs, argnums, "grad")
        leaves_only = all(type(a) is float or type(a) is np.ndarray for a in selected)
        flat, tree = (selected, None) if leaves_only else tree_flatten(selected)
        if not allow_int and not all(type(p) is np.ndarray and p.dtype.kind in "fc"
                                     or type(p) is float for p in flat):
            _check_inexact(selected, nums, "grad", f)  # (a pytree of float arrays passes)
        if holomorphic:
            _check_complex(selected, "grad", f)
        # integer leaves stay constants with allow_int (their gradient is zero)
        live = [dtype_of(p).kind in "fc" for p in flat] if allow_int else None
        with paused_gc():
            trace, res = record_call(
                lambda *boxes: fs(*_boxed(flat, tree, list(boxes), live)),
                [p for p, k in zip(flat, live) if k] if allow_int else flat)
            if has_aux:
                res, aux = _split_aux(res, f)
            _, out = _scalar_output(res, trace, f, holomorphic)
            seed = _ones_like(out)
            if holomorphic and dtype_of(out).kind != "c":
                seed = seed + 0j
            cts = pull_back(trace, [res], [seed], sum(live) if allow_int else len(flat))
        if allow_int:
            it = iter(cts)
            cts = [next(it) if k else None for k in live]
        g = [_materialize(c, p) for c, p in zip(cts, flat)]
        g = tuple(g) if leaves_only else tree_unflatten(tree, g)
        g = g[0] if single else g
        if has_aux:
            return (out, _unbox_tree(aux, trace)), g
        return out, g

    return _named(value_and_grad_f, "value_and_grad", f, argnums)


def _boxed(flat: list, tree, boxes: list, live: list | None):
    """The selected arguments, their leaves ``flat`` replaced by the tape's ``boxes``
    (except those ``live`` marks False, which stay constants), unflattened by ``tree``
    (None: ``flat`` are the arguments themselves)."""
    if live is not None:
        it = iter(boxes)
        boxes = [next(it) if k else p for p, k in zip(flat, live)]
    return boxes if tree is None else tree_unflatten(tree, boxes)


_IN_ORDER = [tuple(range(n)) for n in range(8)]  # argnums naming every argument in order


def _value_and_grad_of_leaves(f, args, nums, single):
    """``value_and_grad`` where the arguments ``nums`` are floats or real arrays and there
    are no options: the common case, in one flat pass (Griewank's gradient is ~20 µs)."""

    def with_boxes(*boxes):
        full = list(args)
        for i, box in zip(nums, boxes):
            full[i] = box if full[i] is args[i] else _again(full[i], box, args[i])
        return f(*full)

    every = len(args) < len(_IN_ORDER) and nums == _IN_ORDER[len(args)]  # then f(*boxes)
    pause_gc()  # paused_gc, written out: this path is short
    try:
        trace, res = record_call(f, args) if every \
            else record_call(with_boxes, [args[i] for i in nums])
        _, out = _scalar_output(res, trace, f, False)
        cts = pull_back(trace, [res], [1.0 if type(out) is float else _ones_like(out)],
                        len(nums))
    finally:
        resume_gc()
    if single:
        return out, _materialize(cts[0], args[nums[0]])
    return out, tuple([_materialize(c, args[i]) for c, i in zip(cts, nums)])


def _scalar_output(res, trace, f, holomorphic: bool) -> tuple[bool, Any]:
    """(is ``res`` a tracer of ``trace``, its value), after checking that ``f`` returned a
    real (or, ``holomorphic``, complex) scalar."""
    if isinstance(res, (tuple, list, dict)) or res is None:
        raise TypeError(
            f"grad({_fname(f)}) needs a scalar output, but {_fname(f)} returned a "
            f"{type(res).__name__}. Return one real scalar; with an auxiliary value "
            "return (value, aux) and pass has_aux=True; for several outputs use "
            "chainrule.jacobian (or jacrev/jacfwd).")
    ours = isinstance(res, Tracer) and res._trace is trace
    out = res._value if ours else res
    if type(out) is not float and dtype_of(out).kind == "b":
        raise TypeError(
            f"grad({_fname(f)}) needs a number as output, but {_fname(f)} returned the "
            f"boolean {_short(out)}, which has no derivative (a comparison or a test such "
            "as np.allclose). Return a float: e.g. np.sum(mask) + 0.0.")
    if type(out) is not float and (shape_of(out) != ()
                                   or dtype_of(out).kind == "c" and not holomorphic):
        raise TypeError(
            f"grad({_fname(f)}) needs a real scalar output, but {_fname(f)} returned "
            f"{'a complex value' if shape_of(out) == () else f'shape {shape_of(out)}'}"
            ". For vector outputs use chainrule.jacobian (or jacrev/jacfwd), or "
            "chainrule.elementwise_grad when output i depends only on input i; "
            "for a sum of outputs, return .sum(); for a complex-differentiable "
            "function pass holomorphic=True."
        )
    return ours, out


def _unbox_tree(tree, trace):
    """Values of ``trace``'s tracers in ``tree`` replaced by their primal values."""
    return tree_map(lambda a: a._value if isinstance(a, Tracer) and a._trace is trace else a,
                    tree)


def grad(f: Callable, argnums: int | Sequence[int] = 0, has_aux: bool = False,
         holomorphic: bool = False, allow_int: bool = False):
    """The gradient of a scalar function (reverse mode).

    Example (the lecture's Griewank function):
        >>> import chainrule as cr, chainrule.numpy as np
        >>> def f(x1, x2):
        ...     return (np.sin(x1 / x2) + x1 / x2 - np.exp(x2)) * (x1 / x2 - np.exp(x2))
        >>> [round(float(g), 3) for g in cr.grad(f, argnums=(0, 1))(1.5, 0.5)]
        [3.012, -13.724]
    """
    vg = value_and_grad(f, argnums, has_aux, holomorphic, allow_int)

    def grad_f(*args, **kwargs):
        value, g = vg(*args, **kwargs)
        return (g, value[1]) if has_aux else g

    return _named(grad_f, "grad", f, argnums)


def elementwise_grad(f: Callable, argnums: int | Sequence[int] = 0):
    """Σ over outputs of their gradients: ``vjp`` with a cotangent of ones.

    For a function applied elementwise (output i depends only on input i) this is
    the derivative at every element, e.g. ``elementwise_grad(np.tanh)(xs)``.
    """
    single = isinstance(argnums, (int, np.integer))

    def elementwise_grad_f(*args, **kwargs):
        fs, selected, nums = _select_args(f, args, kwargs, argnums, "elementwise_grad")
        _check_inexact(selected, nums, "elementwise_grad", f)
        out, back = vjp(fs, *selected)
        g = back(tree_map(_ones_like, out))
        return g[0] if single else g

    return _named(elementwise_grad_f, "elementwise_grad", f, argnums)


# ---------------------------------------------------------------------------
# second order and higher
# ---------------------------------------------------------------------------

def hvp(f: Callable, primals: Sequence, tangents: Sequence):
    """H·v without forming H: reverse over forward, ``grad(x ↦ ∇f(x)·v)``.

    For a real f with continuous second derivatives H is symmetric, so the gradient of
    the directional derivative ``∇f(x)·v`` is ``Hv``: one forward pass carrying ``v``,
    recorded once, then one reverse sweep over plain arrays. That is about half the work
    of forward over reverse (:func:`hvp_forward_over_reverse`, ``jvp(grad(f))``, whose
    sweep runs every adjoint at two levels), which is used for complex arguments and when
    f calls a primitive without a forward-mode rule (a ``custom_vjp`` function).

    Args:
        f: a scalar function of ``len(primals)`` arguments.
        primals: the point (a tuple of arguments).
        tangents: the vector v, shaped like ``primals``.

    Returns:
        H·v shaped like the primal (a tuple when there are several arguments).

    Example:
        >>> import chainrule as cr
        >>> import numpy
        >>> cr.hvp(lambda x: x[0] ** 2 * x[1], (numpy.array([1.0, 2.0]),),
        ...        (numpy.array([1.0, 0.0]),))
        array([4., 2.])
    """
    if not isinstance(primals, (tuple, list)):
        raise TypeError("hvp(f, primals, tangents): primals must be a tuple, e.g. (x,)")
    if any(np.iscomplexobj(concrete(leaf)) for leaf in tree_flatten(list(primals))[0]):
        return hvp_forward_over_reverse(f, primals, tangents)
    nums = tuple(range(len(primals)))

    def directional(*xs):  # ∇f(x)·v
        return jvp(f, xs, tangents)[1]

    directional.__name__ = _fname(f)
    try:
        out = grad(directional, argnums=nums)(*primals)
    except NotImplementedError:  # a primitive with no JVP rule, or none of its JVP rules
        return hvp_forward_over_reverse(f, primals, tangents)
    return out[0] if len(primals) == 1 else out


def hvp_forward_over_reverse(f: Callable, primals: Sequence, tangents: Sequence):
    """H·v as ``jvp(grad(f), primals, tangents)``: the plain composition :func:`hvp` stands
    for (same arguments and result), valid for complex arguments and ``custom_vjp``
    functions too.

    Example:
        >>> import chainrule as cr
        >>> import numpy
        >>> cr.transforms.hvp_forward_over_reverse(lambda x: x[0] ** 2 * x[1],
        ...     (numpy.array([1.0, 2.0]),), (numpy.array([1.0, 0.0]),))
        array([4., 2.])
    """
    if not isinstance(primals, (tuple, list)):
        raise TypeError("hvp(f, primals, tangents): primals must be a tuple, e.g. (x,)")
    nums = tuple(range(len(primals)))
    g = grad(f, argnums=nums)
    out = jvp(g, primals, tangents)[1]
    return out[0] if len(primals) == 1 else out


def derivative(f: Callable, order: int = 1):
    """The ``order``-th derivative of a scalar function of one variable (nested forward mode).

    Example:
        >>> import chainrule as cr
        >>> cr.derivative(lambda x: 5 * x**3, order=3)(2.0)
        30.0
    """
    if not isinstance(order, (int, np.integer)) or order < 0:
        raise ValueError(f"derivative: order must be a non-negative int, got {order!r}")
    d = f
    for _ in range(order):
        d = _first_derivative(d)
    d = d if order else f
    if order:
        d.__name__ = f"derivative_{order}_of_{_fname(f)}"
    return d


def _first_derivative(g: Callable) -> Callable:
    def dg(x, *args, **kwargs):
        _check_inexact((x,), (0,), "derivative", g)
        return jvp(lambda x: g(x, *args, **kwargs), (x,), (_ones_like(x),))[1]

    return dg


def stop_gradient(x: Any) -> Any:
    """``x`` with its derivative cut: every transformation sees it as a constant."""
    return tree_map(stop_gradient_p, x)
