"""Objectives over Dask data: one distributed pass per optimiser step.

A loss over a data set too large for one process is ordinary chainrule code over Dask
arrays captured by the loss; its parameters are small NumPy arrays. ``value_and_grad``
of such a loss returns two lazy Dask arrays that share one task graph (the data, the
products ``X @ w``, the reductions). An optimiser that asks for ``float(value)`` and
then ``numpy.asarray(grad)`` would run that graph twice; the wrappers here compute the
value and the gradient together, in one ``dask.compute``, so each step reads the data
once (Hessian-vector products likewise, for Newton-CG).

The data are best persisted once, before the first step (:func:`persist`): the
cluster's workers then keep their chunks in memory, and every step only runs the
arithmetic. Data larger than the cluster's memory stay lazy and are read (or
generated) again on each pass.

Example:
    >>> import dask.array as da, numpy
    >>> import chainrule.numpy as np
    >>> X = da.from_array(numpy.arange(12.0).reshape(6, 2) / 10, chunks=(3, 2))
    >>> fun = value_and_grad_computed(lambda w: np.sum((X @ w - 1.0) ** 2))
    >>> value, grad = fun(numpy.zeros(2))
    >>> value, grad
    (6.0, array([-6. , -7.2]))
"""

from __future__ import annotations

from typing import Any, Callable

import numpy

from chainrule.core.backends import computed
from chainrule.transforms import hvp, value_and_grad

__all__ = ["value_and_grad_computed", "hessp_computed", "persist"]


def value_and_grad_computed(fun: Callable) -> Callable:
    """``x -> (f(x), ∇f(x))`` as a Python float and a NumPy array, both from one pass.

    Args:
        fun: the loss, ``fun(x, *args)`` with ``x`` a NumPy array; it may compute over
            Dask (or CuPy) arrays, captured or passed in ``args``.

    Returns:
        A function of ``(x, *args)`` for optimisers that take ``jac=True`` (SciPy's).
    """
    vg = value_and_grad(fun)

    def value_and_grad_of_fun(x, *args):
        value, grad = computed(*vg(x, *args))
        return float(value), numpy.asarray(grad, dtype=float)

    return value_and_grad_of_fun


def hessp_computed(fun: Callable) -> Callable:
    """``(x, p) -> ∇²f(x)·p`` as a NumPy array (forward over reverse, one pass)."""

    def hessp_of_fun(x, p, *args):
        (out,) = computed(hvp(lambda y: fun(y, *args), (x,), (p,)))
        return numpy.asarray(out, dtype=float)

    return hessp_of_fun


def persist(*arrays: Any, client: Any = None) -> tuple:
    """``arrays`` with their Dask arrays persisted: computed once and kept in the
    workers' memory (``client.persist``, or ``dask.persist`` on the default scheduler);
    other values are returned as they are."""
    lazy = [i for i, a in enumerate(arrays) if hasattr(a, "__dask_graph__")]
    out = list(arrays)
    if lazy:
        if client is not None:
            kept = client.persist([arrays[i] for i in lazy])
        else:
            import dask

            kept = dask.persist(*[arrays[i] for i in lazy])
        for i, a in zip(lazy, kept):
            out[i] = a
    return tuple(out)
