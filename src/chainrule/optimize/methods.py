"""``minimize``: one entry point for every method, SciPy's conventions.

>>> import chainrule.numpy as np
>>> def rosen(x):
...     return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)
>>> r = minimize(rosen, np.array([-1.2, 1.0]), method="newton")
>>> r.success, np.round(r.x, 8).tolist(), r.nit <= 25
(True, [1.0, 1.0], True)
>>> minimize(rosen, np.array([-1.2, 1.0]), method="BFGS").message
'gtol: |g|_inf = 4.241e-07 <= gtol = 1.0e-05'
"""

from __future__ import annotations

import inspect
import warnings
from typing import Any, Callable

from chainrule.optimize import first_order, newton, quasi_newton
from chainrule.optimize.monitor import Monitor
from chainrule.optimize.objective import Objective
from chainrule.optimize.result import OptimizeResult
from chainrule.optimize.trust_methods import trust_region

__all__ = ["minimize", "METHODS", "method_name"]


def _trust(subproblem: str) -> Callable:
    def run(obj, x, mon, **options):
        return trust_region(obj, x, mon, subproblem, **options)
    run.__signature__ = inspect.signature(trust_region).replace(parameters=[
        p for name, p in inspect.signature(trust_region).parameters.items()
        if name != "subproblem"])
    return run


# name -> (solver, what it uses: "g" gradient, "hv" Hessian-vector products, "H" Hessian,
# default iteration budget per unknown)
METHODS: dict[str, tuple[Callable, str, int]] = {
    "gd": (first_order.gd, "g", 1000),
    "momentum": (first_order.momentum, "g", 1000),
    "nesterov": (first_order.nesterov, "g", 1000),
    "adam": (first_order.adam, "g", 1000),
    "cg": (first_order.cg, "g", 200),
    "coordinate": (first_order.coordinate, "g", 1000),
    "bfgs": (quasi_newton.bfgs, "g", 200),
    "l-bfgs-b": (quasi_newton.lbfgs, "g", 0),
    "newton": (newton.newton, "H", 200),
    "newton-cg": (newton.newton_cg, "hv", 200),
    "trust-ncg": (_trust("cg"), "hv", 200),
    "trust-krylov": (_trust("lanczos"), "hv", 200),
    "trust-exact": (_trust("exact"), "H", 200),
}

_ALIASES = {
    "lbfgs": "l-bfgs-b", "l-bfgs": "l-bfgs-b", "lbfgsb": "l-bfgs-b",
    "newtoncg": "newton-cg", "truncated-newton": "newton-cg",
    "trustncg": "trust-ncg", "trust-region-cg": "trust-ncg",
    "trustkrylov": "trust-krylov", "trustexact": "trust-exact",
    "gradient-descent": "gd", "steepest-descent": "gd", "heavy-ball": "momentum",
    "nag": "nesterov", "conjugate-gradient": "cg", "coordinate-descent": "coordinate",
}


def method_name(method: str) -> str:
    """The canonical name of ``method`` (case-insensitive; SciPy's spellings accepted).

    Raises:
        ValueError: naming the choices when the method is unknown.
    """
    if not isinstance(method, str):
        raise TypeError(f"minimize: method must be a string such as 'bfgs', got {method!r}")
    key = method.strip().lower().replace("_", "-")
    key = _ALIASES.get(key, key)
    if key not in METHODS:
        raise ValueError(f"minimize: unknown method {method!r}; choose one of "
                         f"{', '.join(METHODS)} (aliases: {', '.join(sorted(_ALIASES))})")
    return key


def _check_options(name: str, solver: Callable, options: dict) -> None:
    params = list(inspect.signature(solver).parameters)[3:]
    unknown = sorted(set(options) - set(params))
    if unknown:
        raise TypeError(f"minimize(method={name!r}): unknown option(s) {', '.join(unknown)}; "
                        f"this method takes {', '.join(params + ['maxiter', 'maxfev', 'jit'])}")


def minimize(fun: Callable, x0: Any, args: tuple = (), method: str = "bfgs", jac: Any = None,
             hess: Callable | None = None, hessp: Callable | None = None, bounds: Any = None,
             tol: float | None = None, options: dict | None = None,
             callback: Callable | None = None, progress: bool = False) -> OptimizeResult:
    """Minimise a scalar function; derivatives from chainrule unless given.

    Args:
        fun: ``fun(x, *args) -> scalar``, written against :mod:`chainrule.numpy`.
        x0: the starting point: an array or a pytree of arrays (e.g. network parameters);
            ``result.x`` has the same structure. A flat list of numbers is a vector, as
            in SciPy.
        args: extra arguments for ``fun`` (and ``jac``, ``hess``, ``hessp``).
        method: ``gd``, ``momentum``, ``nesterov``, ``adam``, ``cg``, ``coordinate``,
            ``bfgs``, ``l-bfgs-b`` (alias ``lbfgs``), ``newton``, ``newton-cg``,
            ``trust-ncg``, ``trust-krylov``, ``trust-exact``; case-insensitive, SciPy's
            spellings accepted.
        jac: None (chainrule's reverse mode), a callable ``jac(x, *args)``, or True
            (``fun`` returns ``(value, gradient)``).
        hess: None (chainrule's ``hessian``) or ``hess(x, *args)`` -> n×n (flat x).
        hessp: None (chainrule's forward-over-reverse ``hvp``) or ``hessp(x, p, *args)``.
        bounds: box bounds for ``l-bfgs-b``: (low, high) pairs or ``scipy.optimize.Bounds``.
        tol: sets the gradient tolerance ``gtol`` unless ``options`` gives one.
        options: method options (see each method's docstring in
            :mod:`chainrule.optimize`), plus ``maxiter``, ``maxfev`` and ``jit`` (compile
            the derivative programs once; default True).
        callback: ``callback(intermediate_result)`` (an :class:`OptimizeResult` with
            ``x``, ``fun``, ``nit``) or ``callback(x)`` after each iteration; raising
            ``StopIteration`` ends the run.
        progress: show a progress bar with f and ‖g‖ (tqdm if installed, else a printed
            line every 10 iterations).

    Returns:
        an :class:`OptimizeResult`: ``x, fun, jac, nit, nfev, njev, nhev, status,
        success, message`` (the stopping rule that fired, with its numbers), ``history``,
        and ``hess_inv`` (bfgs) or ``hess`` (newton, trust-exact).
    """
    name = method_name(method)
    solver, uses, per_unknown = METHODS[name]
    options = dict(options or {})
    maxiter = options.pop("maxiter", None)
    maxfev = options.pop("maxfev", None)
    use_jit = options.pop("jit", True)
    _check_options(name, solver, options)
    if tol is not None:
        if not tol > 0:
            raise ValueError(f"minimize: tol must be positive, got {tol}")
        options.setdefault("gtol", tol)
    if bounds is not None:
        if name != "l-bfgs-b":
            raise ValueError(f"minimize: bounds are supported by method 'l-bfgs-b' only, "
                             f"not {name!r}")
        options["bounds"] = bounds
    if (hess is not None or hessp is not None) and uses == "g":
        warnings.warn(f"minimize: method {name!r} uses no Hessian; hess/hessp are ignored",
                      RuntimeWarning, stacklevel=2)
    obj = Objective(fun, x0, args, jac, hess, hessp, who="minimize", jit=use_jit)
    if maxiter is None:
        maxiter = 15000 if per_unknown == 0 else per_unknown * max(obj.n, 10)
    if not (isinstance(maxiter, int) and maxiter >= 0):
        raise ValueError(f"minimize: option maxiter must be an integer ≥ 0, got {maxiter!r}")
    if maxfev is not None and not (isinstance(maxfev, int) and maxfev > 0):
        raise ValueError(f"minimize: option maxfev must be a positive integer, got {maxfev!r}")
    mon = Monitor(obj, name, maxiter, maxfev, callback, progress)
    return solver(obj, obj.flat.x.copy(), mon, **options)


