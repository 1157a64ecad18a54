"""The function being minimised, seen by every method as f: ℝⁿ → ℝ on one flat vector.

``x0`` may be a pytree of arrays; it is flattened once into a float64 vector and the
user's function is called on the structure rebuilt from it, so methods do plain
vector arithmetic. Value and gradient come from one reverse pass
(:func:`chainrule.value_and_grad`), Hessian-vector products from forward over reverse
(:func:`chainrule.hvp`), the Hessian (only for methods that need the matrix) from
:func:`chainrule.hessian`. Each derivative program is compiled once by
:func:`chainrule.jit` (a function ``jit`` cannot stage, e.g. one that branches on a
value, runs eagerly instead), so an iteration costs the arithmetic, not a re-trace.
Every call is counted (``nfev``, ``njev``, ``nhev``). Over Dask data (arrays captured by
``fun`` or passed in ``args``, which are persisted once) the value and the gradient of an
evaluation are computed together, in one distributed pass. The compiled programs are kept
with the function (weakly, keyed by the layout of ``x0``), so minimising the same
function again, from another start or with other options, traces nothing.
"""

from __future__ import annotations

import inspect
import weakref
from typing import Any, Callable

import numpy as onp

from chainrule import transforms
from chainrule.jit import jit as jit_compile
from chainrule.core.backends import computed
from chainrule.core.pytree import ravel_pytree, tree_flatten, tree_unflatten
from chainrule.optimize.distributed import persist

__all__ = ["Objective", "Flattener", "Programs", "compiled", "programs_for"]


class Flattener:
    """A pytree of arrays ↔ one flat float64 vector.

    Attributes:
        x: the flat vector of the pytree given.
        size: its length.
    """

    def __init__(self, x0: Any, who: str, name: str = "x0") -> None:
        if isinstance(x0, (list, tuple)) and x0 and all(
                isinstance(v, (int, float, onp.number)) and not isinstance(v, bool) for v in x0):
            x0 = onp.asarray(x0, dtype=float)  # SciPy's convention: a list of numbers is a vector
        leaves, self.tree = tree_flatten(x0)
        if not leaves:
            raise ValueError(f"{who}: {name} has no arrays in it; pass the starting point as "
                             "an array or a pytree of arrays")
        arrays = []
        for k, leaf in enumerate(leaves):
            a = onp.asarray(leaf)
            if a.dtype.kind not in "biuf":
                raise TypeError(f"{who}: {name} must hold real numbers, got dtype {a.dtype} "
                                f"in leaf {k}; optimise real and imaginary parts separately")
            arrays.append(a)
        self.shapes = [a.shape for a in arrays]
        self.sizes = [a.size for a in arrays]
        x, self._unravel = ravel_pytree(tree_unflatten(self.tree, arrays))
        self.x = onp.asarray(x, dtype=float)
        self.size = self.x.size
        bad = onp.flatnonzero(~onp.isfinite(self.x))
        if bad.size:
            raise ValueError(f"{who}: {name} contains NaN or inf ({bad.size} entries, the "
                             f"first at flat index {bad[0]}); start from finite values")

    def unravel(self, x: Any) -> Any:
        """The pytree whose flat vector is ``x`` (works on traced values too)."""
        return self._unravel(x)

    def ravel(self, tree: Any, what: str = "the gradient") -> onp.ndarray:
        """The flat float64 vector of a pytree shaped like ``x0``."""
        leaves = tree_flatten(tree)[0]
        if len(leaves) != len(self.sizes):
            raise ValueError(f"{what} has {len(leaves)} arrays, x0 has {len(self.sizes)}; "
                             "return it with x0's structure")
        if len(leaves) == 1:
            return onp.asarray(leaves[0], dtype=float).reshape(-1)
        return onp.concatenate([onp.asarray(v, dtype=float).reshape(-1) for v in leaves])


def compiled(fn: Callable, enabled: bool = True) -> Callable:
    """``fn`` compiled by :func:`chainrule.jit` on its first call, or ``fn`` itself when
    that is disabled or the function cannot be staged (then every call runs eagerly)."""
    if not enabled:
        return fn
    state: dict[str, Callable] = {}

    def call(*args):
        run = state.get("fn")
        if run is not None:
            return run(*args)
        fast = jit_compile(fn)
        try:
            out = fast(*args)
        except Exception:  # noqa: BLE001 - cannot be staged (value-dependent code): run eagerly
            state["fn"] = fn
            return fn(*args)
        state["fn"] = fast
        return out

    return call


class Programs:
    """f, (f, ∇f), ∇f, H·v, (f, ∂f/∂v) and H of ``fun`` on flat vectors, each compiled on
    its first call."""

    def __init__(self, fun: Callable, unravel: Callable, jit: bool, weak: bool = False
                 ) -> None:
        # kept with fun itself (weakly keyed), the programs must not hold fun strongly
        if not weak:
            user = lambda: fun  # noqa: E731
        elif inspect.ismethod(fun):
            user = weakref.WeakMethod(fun)
        else:
            user = weakref.ref(fun)

        def flat_fun(x, *a):
            return user()(unravel(x), *a)

        self.f = compiled(flat_fun, jit)
        self.vg = compiled(transforms.value_and_grad(flat_fun), jit)
        self.g = compiled(transforms.grad(flat_fun), jit)
        self.hvp = compiled(lambda x, v, *a: transforms.hvp(lambda y: flat_fun(y, *a), (x,), (v,)),
                            jit)
        self.jvp = compiled(lambda x, v, *a: transforms.jvp(lambda y: flat_fun(y, *a), (x,), (v,)),
                            jit)
        self.hess = compiled(transforms.hessian(flat_fun), jit)


_PROGRAMS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def programs_for(fun: Callable, flat: Flattener, jit: bool) -> Programs:
    """The :class:`Programs` of ``fun`` for ``x0``'s layout, made once and kept with
    ``fun`` (while it lives)."""
    key = (flat.tree, tuple(flat.shapes), jit)
    owner = fun
    if inspect.ismethod(fun):  # a bound method is made anew at each access: keep with its object
        owner, key = fun.__self__, key + (fun.__func__,)
    try:
        per_fun = _PROGRAMS.setdefault(owner, {})
    except TypeError:  # not weakly referenceable: nothing to keep it with
        return Programs(fun, flat.unravel, jit)
    progs = per_fun.get(key)
    if progs is None:
        progs = per_fun[key] = Programs(fun, flat.unravel, jit, weak=True)
    return progs


def _scalar(value: Any, who: str) -> float:
    a = onp.asarray(value)
    if a.shape != ():
        raise ValueError(f"{who}: fun must return a scalar, got an array of shape {a.shape}; "
                         "reduce it (e.g. np.sum) or, for a vector of residuals, use "
                         "least_squares")
    if a.dtype.kind not in "biuf":
        raise TypeError(f"{who}: fun must return a real number, got dtype {a.dtype}")
    return float(a)


class Objective:
    """f, ∇f, H·v and H on flat vectors, with evaluation counts.

    Args:
        fun: the user's function ``fun(x, *args) -> scalar`` (``x`` shaped like ``x0``).
        x0: the starting point (array or pytree).
        args: extra arguments passed to ``fun`` (and ``jac``, ``hess``, ``hessp``).
        jac: None (chainrule's reverse mode), a callable returning the gradient shaped
            like ``x0``, or True (``fun`` returns ``(value, gradient)``).
        hess: None (chainrule) or a callable returning the n×n Hessian of the flat vector.
        hessp: None (chainrule's forward-over-reverse) or ``hessp(x, p, *args)``.
        who: the caller's name for error messages.
        jit: compile the derivative programs once with :func:`chainrule.jit`.
    """

    def __init__(self, fun: Callable, x0: Any, args: tuple = (), jac: Any = None,
                 hess: Callable | None = None, hessp: Callable | None = None,
                 who: str = "minimize", jit: bool = True) -> None:
        if not callable(fun):
            raise TypeError(f"{who}: fun must be callable, got {type(fun).__name__}")
        for name, value in (("hess", hess), ("hessp", hessp)):
            if value is not None and not callable(value):
                raise TypeError(f"{who}: {name} must be None (chainrule computes it) or a "
                                f"callable, got {value!r}")
        if not (jac is None or jac is True or callable(jac)):
            raise TypeError(f"{who}: jac must be None (chainrule computes it), True (fun "
                            f"returns (value, gradient)) or a callable, got {jac!r}")
        self.who = who
        self.flat = Flattener(x0, who)
        self.args = persist(*args)  # Dask data passed in args: computed once, kept by workers
        self.nfev = self.njev = self.nhev = 0
        self._user = (fun, jac, hess, hessp)
        progs = programs_for(fun, self.flat, jit)
        self._f, self._vg, self._g = progs.f, progs.vg, progs.g
        self._hvp, self._jvp, self._hess = progs.hvp, progs.jvp, progs.hess
        self._checked = False

    @property
    def n(self) -> int:
        """The number of unknowns."""
        return self.flat.size

    def _first(self, call: Callable, x: onp.ndarray):
        """Run the first evaluation, turning chainrule's complaint about a non-scalar
        output into this function's error."""
        try:
            out = call()
        except Exception:
            value = self._user[0](self.flat.unravel(x), *self.args)
            if self._user[1] is True:
                value = value[0]
            _scalar(value, self.who)  # raises the clear error when that is the cause
            raise
        self._checked = True
        return out

    def fun(self, x: onp.ndarray) -> float:
        """f(x)."""
        self.nfev += 1
        fun, jac = self._user[:2]
        if jac is True:
            return _scalar(fun(self.flat.unravel(x), *self.args)[0], self.who)
        if jac is not None:
            return _scalar(fun(self.flat.unravel(x), *self.args), self.who)
        if not self._checked:
            return _scalar(self._first(lambda: self._f(x, *self.args), x), self.who)
        return float(self._f(x, *self.args))

    def value_and_grad(self, x: onp.ndarray) -> tuple[float, onp.ndarray]:
        """(f(x), ∇f(x)) in one pass."""
        self.nfev += 1
        self.njev += 1
        fun, jac = self._user[:2]
        if jac is True:
            value, g = fun(self.flat.unravel(x), *self.args)
            return _scalar(value, self.who), self.flat.ravel(g)
        if jac is not None:
            value = _scalar(fun(self.flat.unravel(x), *self.args), self.who)
            return value, self.flat.ravel(jac(self.flat.unravel(x), *self.args))
        if not self._checked:
            value, g = computed(*self._first(lambda: self._vg(x, *self.args), x))
            return _scalar(value, self.who), onp.asarray(g, dtype=float)
        value, g = self._vg(x, *self.args)
        if type(g) is not onp.ndarray:  # over Dask data: both from one pass
            value, g = computed(value, g)
        return float(value), g

    def grad(self, x: onp.ndarray) -> onp.ndarray:
        """∇f(x)."""
        fun, jac = self._user[:2]
        if jac is True:
            self.nfev += 1
            self.njev += 1
            return self.flat.ravel(fun(self.flat.unravel(x), *self.args)[1])
        self.njev += 1
        if jac is not None:
            return self.flat.ravel(jac(self.flat.unravel(x), *self.args))
        if not self._checked:
            return onp.asarray(computed(self._first(lambda: self._g(x, *self.args), x))[0],
                               dtype=float)
        g = self._g(x, *self.args)
        return g if type(g) is onp.ndarray else computed(g)[0]

    def hessp(self, x: onp.ndarray, v: onp.ndarray) -> onp.ndarray:
        """H(x)·v (forward over reverse; the Hessian is never formed)."""
        self.nhev += 1
        hess, hessp = self._user[2:]
        if hessp is not None:
            return onp.asarray(hessp(x, v, *self.args), dtype=float).reshape(-1)
        if hess is not None:
            return onp.asarray(hess(x, *self.args), dtype=float) @ v
        hv = self._hvp(x, v, *self.args)
        return hv if type(hv) is onp.ndarray else computed(hv)[0]

    def hess(self, x: onp.ndarray) -> onp.ndarray:
        """The n×n Hessian H(x)."""
        self.nhev += 1
        hess = self._user[2]
        if hess is not None:
            return onp.asarray(hess(x, *self.args), dtype=float).reshape(self.n, self.n)
        return onp.asarray(self._hess(x, *self.args), dtype=float)

    def partial(self, x: onp.ndarray, i: int) -> tuple[float, float]:
        """(f(x), ∂f/∂x_i) by one forward-mode pass along the unit vector e_i."""
        self.nfev += 1
        self.njev += 1
        e = onp.zeros(self.n)
        e[i] = 1.0
        value, d = self._jvp(x, e, *self.args)
        return float(value), float(d)
