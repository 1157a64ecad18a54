"""``scipy_objective(f)``: chainrule's exact derivatives for ``scipy.optimize.minimize``.

``fun`` and ``jac`` share one pass: the first of them called at a point computes the
value and the gradient together (reverse mode) and keeps both, so SciPy's usual
``fun(x)`` then ``jac(x)`` costs one evaluation. ``hessp`` is forward over reverse
(the Hessian is never formed); ``hess`` forms it. Each derivative program is compiled
once by :func:`chainrule.jit` (eager where the function cannot be staged).

>>> import numpy as onp
>>> import chainrule.numpy as np
>>> from scipy.optimize import minimize as scipy_minimize
>>> obj = scipy_objective(lambda x: np.sum((x - 1.0) ** 2) + np.prod(x))
>>> r = scipy_minimize(obj.fun, onp.zeros(3), jac=obj.jac, hessp=obj.hessp,
...                    method="trust-ncg", options={"gtol": 1e-10})
>>> onp.round(r.x, 8).tolist()                       # 2(t − 1) + t² = 0: t = √3 − 1
[0.73205081, 0.73205081, 0.73205081]
>>> obj.passes < r.nfev + r.njev                     # fun and jac at a point: one pass
True
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as onp

from chainrule import transforms
from chainrule.optimize.objective import compiled

__all__ = ["scipy_objective", "ScipyObjective"]


class ScipyObjective(NamedTuple):
    """``fun, jac, hess, hessp`` for SciPy, and a counter of value-and-gradient passes
    (``passes``, a property of the bound functions' shared cache)."""

    fun: Callable
    jac: Callable
    hess: Callable
    hessp: Callable
    cache: dict

    @property
    def passes(self) -> int:
        """How many value-and-gradient passes ran (a ``fun`` and a ``jac`` at the same
        point count once)."""
        return self.cache["passes"]


def scipy_objective(f: Callable, jit: bool = True) -> ScipyObjective:
    """SciPy-shaped callables for ``f(x, *args) -> scalar`` on a flat array ``x``.

    Args:
        f: the function, written against :mod:`chainrule.numpy`.
        jit: compile the derivative programs once with :func:`chainrule.jit`.

    Returns:
        ``(fun, jac, hess, hessp, cache)``: ``fun(x, *args)``, ``jac(x, *args)``,
        ``hess(x, *args)``, ``hessp(x, p, *args)``; pass the first four to
        ``scipy.optimize.minimize``.
    """
    if not callable(f):
        raise TypeError(f"scipy_objective: f must be callable, got {type(f).__name__}")
    vg = compiled(transforms.value_and_grad(f), jit)
    hvp = compiled(lambda x, v, *a: transforms.hvp(lambda y: f(y, *a), (x,), (v,)), jit)
    hessian = compiled(transforms.hessian(f), jit)
    cache: dict = {"x": None, "value": None, "grad": None, "args": None, "passes": 0}

    def evaluate(x, args):
        x = onp.asarray(x, dtype=float)
        if (cache["x"] is None or cache["args"] is not args and cache["args"] != args
                or not onp.array_equal(cache["x"], x)):
            value, g = vg(x, *args)
            cache.update(x=x.copy(), value=float(value),
                         grad=onp.asarray(g, dtype=float), args=args, passes=cache["passes"] + 1)
        return cache

    def fun(x, *args):
        return evaluate(x, args)["value"]

    def jac(x, *args):
        return evaluate(x, args)["grad"].copy()

    def hess(x, *args):
        return onp.asarray(hessian(onp.asarray(x, dtype=float), *args), dtype=float)

    def hessp(x, p, *args):
        return onp.asarray(hvp(onp.asarray(x, dtype=float), onp.asarray(p, dtype=float),
                               *args), dtype=float)

    return ScipyObjective(fun, jac, hess, hessp, cache)
