"""``vmap``: vectorise a function written for one example over a batch axis.

``vmap(f, in_axes, out_axes)(*args)`` equals stacking ``f`` applied to the slices
``args[i]`` taken along ``in_axes[i]`` (``None``: the argument is shared), with the
results' batch axes placed at ``out_axes``; but ``f`` runs once, on
:class:`~chainrule.interpreters.batching.BatchTracer` values, and every primitive
runs once on the whole batch through its batching rule.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from chainrule.core.backends import is_foreign
from chainrule.core.primitive import Tracer, shape_of
from chainrule.core.pytree import tree_flatten, tree_unflatten
from chainrule.interpreters.batching import BatchTrace, BatchTracer
from chainrule.numpy import _namespace as _ns

__all__ = ["vmap"]


def _leaf_axes(spec: Any, arg: Any, where: str) -> list:
    """The batch axis (int or None) of every leaf of ``arg``; ``spec`` is an int/None for
    all its leaves, or a pytree prefix of ``arg`` (tuples, lists, dicts) of ints/None."""
    if spec is None or isinstance(spec, (int, np.integer)):
        return [spec] * len(tree_flatten(arg)[0])
    if isinstance(spec, (tuple, list)) and isinstance(arg, (tuple, list)) \
            and len(spec) == len(arg):
        return [ax for s, a in zip(spec, arg) for ax in _leaf_axes(s, a, where)]
    if isinstance(spec, dict) and isinstance(arg, dict) and set(spec) == set(arg):
        return [ax for k in sorted(arg) for ax in _leaf_axes(spec[k], arg[k], where)]
    raise ValueError(f"vmap: {where} is {spec!r}, which does not match the structure of "
                     f"{type(arg).__name__} {tree_flatten(arg)[1]}; give an int/None, or the "
                     "same structure with an int/None at each leaf")


def vmap(f: Callable, in_axes: Any = 0, out_axes: Any = 0, axis_name: Any = None,
         axis_size: int | None = None) -> Callable:
    """Vectorise ``f`` over a batch axis of its arguments.

    Args:
        f: a function of arrays (pytrees allowed).
        in_axes: an int (the batch axis of every argument), ``None`` (not batched), or a
            tuple with one int/None (or matching pytree) per positional argument.
        out_axes: where the batch axis goes in each output: an int, ``None`` (the output
            must be the same for every example), or a pytree matching the output.
        axis_name: accepted for JAX compatibility (chainrule has no collectives).
        axis_size: the batch size, needed only when no argument is batched.

    Returns:
        The batched function. Keyword arguments are mapped over their leading axis, as
        in JAX, where they are arrays (array leaves of a pytree included); Python numbers,
        strings and other options pass through unbatched.
        Example: per-example gradients ``vmap(grad(loss), in_axes=(None, 0, 0))(params, xs, ys)``.

    Example:
        >>> import chainrule as cr, chainrule.numpy as np
        >>> cr.vmap(lambda x: np.sum(x ** 2))(np.arange(6.0).reshape(2, 3))
        array([ 5., 50.])
    """

    def vmapped(*args, **kwargs):
        names = sorted(kwargs)
        flat, tree = tree_flatten((tuple(args), tuple(kwargs[k] for k in names)))
        axes = _input_axes(f, in_axes, args, flat)
        size = _batch_size(f, flat, axes, axis_size)
        trace = BatchTrace(size)
        try:
            boxed = [leaf if ax is None else BatchTracer(trace, _batch_first(leaf, ax))
                     for leaf, ax in zip(flat, axes)]
            batched_args, batched_kwargs = tree_unflatten(tree, boxed)
            out = f(*batched_args, **dict(zip(names, batched_kwargs)))
        finally:
            trace.active = False
        out_flat, out_tree = tree_flatten(out)
        if out_axes is None or isinstance(out_axes, (int, np.integer)):
            oaxes = [out_axes] * len(out_flat)
        else:
            oaxes = _leaf_axes(out_axes, out, "out_axes")
        res = [_placed_output(f, o, ax, trace, size) for o, ax in zip(out_flat, oaxes)]
        return tree_unflatten(out_tree, res)

    vmapped.__name__ = f"vmap_of_{_name(f)}"
    vmapped.__qualname__ = vmapped.__name__
    vmapped.__wrapped__ = f
    return vmapped


def _name(f: Callable) -> str:
    return getattr(f, "__name__", type(f).__name__)


def _input_axes(f: Callable, in_axes: Any, args: tuple, flat: list) -> list:
    """The batch axis (int or None) of every leaf of the positional arguments (from
    ``in_axes``), then axis 0 of every array leaf of the keyword arguments."""
    if isinstance(in_axes, (tuple, list)):
        if len(in_axes) != len(args):
            raise ValueError(
                f"vmap({_name(f)}): in_axes has {len(in_axes)} entries but the function "
                f"was called with {len(args)} positional arguments; give one per argument")
        specs = list(in_axes)
    else:
        specs = [in_axes] * len(args)
    axes: list = []
    for i, (spec, a) in enumerate(zip(specs, args)):
        axes.extend(_leaf_axes(spec, a, f"in_axes[{i}]"))
    axes.extend(0 if len(shape_of(leaf)) else None for leaf in flat[len(axes):])
    return axes


def _batch_size(f: Callable, flat: list, axes: list, axis_size: int | None) -> int:
    """The one batch size the batched leaves agree on (or ``axis_size``)."""
    size = None
    for leaf, ax in zip(flat, axes):
        if ax is None:
            continue
        s = shape_of(leaf)
        if not -len(s) <= ax < len(s):
            raise ValueError(
                f"vmap({_name(f)}): in_axes={ax} for an argument of shape {s}: it has no "
                "such axis; use an axis of the argument, or None to share it")
        if size is not None and s[ax] != size:
            raise ValueError(
                f"vmap({_name(f)}): the batched arguments disagree on the batch size "
                f"({size} and {s[ax]}, shapes along in_axes); give arrays with equal "
                "batch axes, or None for arguments to share (keyword arguments are "
                "mapped over axis 0: pass a shared one positionally with in_axes None, "
                "or close over it)")
        size = s[ax]
    if size is not None and axis_size is not None and axis_size != size:
        raise ValueError(f"vmap({_name(f)}): axis_size={axis_size} but the batched "
                         f"arguments have batch size {size}")
    if size is None:
        size = axis_size
    if size is None:
        raise ValueError(f"vmap({_name(f)}): no argument is batched (every in_axes is "
                         "None); batch at least one argument")
    return size


def _batch_first(leaf: Any, ax: int) -> Any:
    """``leaf`` with its batch axis ``ax`` moved to the front."""
    v = leaf if isinstance(leaf, Tracer) or is_foreign(leaf) else np.asarray(leaf)
    return _ns.moveaxis(v, ax, 0) if ax % len(shape_of(v)) != 0 else v


def _placed_output(f: Callable, o: Any, ax: int | None, trace: BatchTrace, size: int) -> Any:
    """An output of the batched call with its batch axis at ``ax`` (out_axes): an output
    that does not depend on the batch is broadcast, or returned as it is for None."""
    ours = isinstance(o, BatchTracer) and o._trace is trace
    if ax is None:
        if ours:
            raise ValueError(f"vmap({_name(f)}): out_axes=None for an output that "
                             "depends on the batch; give an int out_axes for it")
        return o
    v = o._value if ours else _ns.broadcast_to(o, (size,) + tuple(shape_of(o)))
    nd = len(shape_of(v))
    if not -nd <= ax < nd:
        raise ValueError(
            f"vmap({_name(f)}): out_axes={ax} for an output of shape "
            f"{tuple(shape_of(v))[1:]} per example: the batched result has {nd} "
            f"ax{'i' if nd == 1 else 'e'}s, so out_axes must be in [{-nd}, {nd - 1}]")
    return _ns.moveaxis(v, 0, ax) if ax % nd != 0 else v
