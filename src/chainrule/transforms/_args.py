"""Arguments and results at a transformation's boundary.

``argnums`` checked and normalised once (:func:`_select_args`: the function of the
selected arguments only), inputs checked to be floating point (or complex with
``holomorphic``), ``(out, aux)`` pairs split, and cotangents/tangents handed back to the
user shaped and typed like the values they belong to (:func:`_materialize`: a symbolic
zero becomes zeros, a real input gets a real cotangent).
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from chainrule.core import backends
from chainrule.core.backends import is_foreign
from chainrule.core.primitive import concrete, dtype_of
from chainrule.core.pytree import tree_flatten, tree_map


def _fname(f: Callable) -> str:
    return getattr(f, "__name__", type(f).__name__)


def _named(fn: Callable, kind: str, f: Callable, argnums) -> Callable:
    nums = argnums if isinstance(argnums, tuple) else (argnums,)
    fn.__name__ = f"{kind}_of_{_fname(f)}_wrt_{'_'.join(map(str, nums))}"
    fn.__qualname__ = fn.__name__
    fn.__doc__ = f"The {kind} of {_fname(f)} with respect to argument(s) {argnums}."
    fn.__wrapped__ = f
    fn.derivative_kind, fn.argnums = kind, nums  # jit names gradients <argument>_bar by them
    return fn


_ARGNUMS_CACHE: dict = {}


def _normalize_argnums(argnums, nargs: int, who: str) -> tuple[int, ...]:
    # only exact ints are cached: (0, 1.0) and True hash like (0, 1) and 1
    exact = type(argnums) is int or (
        type(argnums) is tuple and all(type(a) is int for a in argnums))
    if not exact:
        return _check_argnums(argnums, nargs, who)
    key = (argnums, nargs)
    hit = _ARGNUMS_CACHE.get(key)
    if hit is None:
        if len(_ARGNUMS_CACHE) >= 1024:  # bounded: (argnums, number of arguments) pairs
            _ARGNUMS_CACHE.clear()
        hit = _ARGNUMS_CACHE[key] = _check_argnums(argnums, nargs, who)
    return hit


def _check_argnums(argnums, nargs: int, who: str) -> tuple[int, ...]:
    if isinstance(argnums, (int, np.integer)) and not isinstance(argnums, bool):
        nums = (argnums,)
    elif isinstance(argnums, (tuple, list)):
        nums = tuple(argnums)
    else:
        raise TypeError(
            f"{who}: argnums must be an int or a tuple of ints (positions of the arguments "
            f"to differentiate), got {argnums!r} of type {type(argnums).__name__}; e.g. "
            "argnums=1 or argnums=(0, 1)")
    if not nums:
        raise ValueError(f"{who}: argnums is empty; name at least one argument to differentiate")
    out = []
    for a in nums:
        if not isinstance(a, (int, np.integer)) or isinstance(a, bool):
            raise TypeError(f"{who}: argnums must be ints (argument positions), got {a!r} of "
                            f"type {type(a).__name__} in argnums={argnums!r}")
        if not -nargs <= a < nargs:
            raise ValueError(
                f"{who}: argnums={argnums!r} names argument {a}, but the function was called "
                f"with {nargs} positional argument(s)"
            )
        out.append(int(a) % nargs)
    return tuple(out)


def _select_args(f, args, kwargs, argnums, who):
    """(f of the selected arguments only, the selected arguments as a tuple)."""
    nums = _normalize_argnums(argnums, len(args), who)

    def f_of_selected(*selected):
        full = list(args)
        for i, s in zip(nums, selected):
            full[i] = s if full[i] is args[i] else _again(full[i], s, args[i])
        return f(*full, **kwargs)

    return f_of_selected, tuple(args[i] for i in nums), nums


def _again(first, second, value):
    """An argument named twice in ``argnums``: ``first + (second - value)``, which is
    ``value`` exactly and whose derivative in each of ``first``, ``second`` is that in
    the argument, so both get the full gradient (as JAX gives for ``argnums=(0, 0)``)."""
    return tree_map(lambda a, b, x: a + (b - x), first, second, value)


def _check_inexact(values, nums, who: str, f: Callable) -> None:
    for k, v in zip(nums, values):
        if type(v) is float or (type(v) is np.ndarray and v.dtype.kind in "fc"):
            continue
        for leaf in tree_flatten(v)[0]:
            if isinstance(concrete(leaf), (str, bytes)) or concrete(leaf) is Ellipsis:
                raise TypeError(
                    f"{who}({_fname(f)}) differentiates with respect to argument {k}, which "
                    f"is a {type(concrete(leaf)).__name__} ({_short(concrete(leaf))}); only "
                    "numbers and arrays of floats have derivatives. Pass it at a position "
                    "not in argnums (or close over it), and differentiate with respect to "
                    "the numeric arguments.")
            try:
                dt = dtype_of(leaf)
            except TypeError:
                raise TypeError(
                    f"{who}({_fname(f)}) needs floating-point inputs, but argument {k} "
                    f"contains a {type(concrete(leaf)).__name__} ({_short(concrete(leaf))}), "
                    "which is not a number or an array; pass floats or arrays of floats"
                ) from None
            if dt.kind not in "fc":
                raise TypeError(
                    f"{who}({_fname(f)}) needs floating-point inputs, but argument {k} is "
                    f"{type(concrete(leaf)).__name__} with dtype {dt} "
                    f"({_short(concrete(leaf))}). Pass floats: e.g. 3.0 instead of 3, or "
                    "np.asarray(x, dtype=float)."
                )


def _check_complex(values, who: str, f: Callable) -> None:
    for leaf in tree_flatten(values)[0]:
        if dtype_of(leaf).kind != "c":
            raise TypeError(
                f"{who}({_fname(f)}) with holomorphic=True requires inputs with complex dtype, "
                f"but got {dtype_of(leaf)}; pass complex values (e.g. x + 0j) or drop "
                "holomorphic=True")


def _short(x) -> str:
    r = repr(x)
    return r if len(r) < 60 else r[:57] + "..."


def _zeros_like(x):
    x = concrete(x)
    if isinstance(x, float):
        return 0.0
    return np.zeros_like(x)


def _materialize(ct, like):
    """A cotangent/tangent for the user: zeros for a symbolic zero, writeable arrays,
    real for a real ``like`` and complex for a complex one."""
    if type(ct) is float and type(concrete(like)) is not np.ndarray:
        return ct if type(like) is float or dtype_of(like).kind != "c" else complex(ct)
    if type(ct) is np.ndarray and type(like) is np.ndarray and ct.dtype == like.dtype \
            and ct.ndim and ct.flags.writeable:
        return ct  # already all of that (the common case for arrays)
    if ct is None:
        return _zeros_like(like)
    if type(ct) is np.ndarray:
        if ct.dtype.kind == "c" and dtype_of(like).kind != "c":
            ct = ct.real.copy()  # a real input has a real cotangent (see numpy/_elementwise)
        elif ct.dtype.kind != "c" and dtype_of(like).kind == "c":
            ct = ct.astype(dtype_of(like))  # and a complex input a complex one
        if type(like) is not np.ndarray and is_foreign(like):  # a Dask/CuPy input's own
            return backends.like(ct, like)
        if not ct.flags.writeable:
            ct = ct.copy()
        if ct.ndim == 0 and not isinstance(concrete(like), np.ndarray):
            return ct[()]
    elif type(ct) is complex and dtype_of(like).kind != "c":
        ct = ct.real
    elif dtype_of(like).kind == "c" and dtype_of(ct).kind != "c":
        ct = ct + 0j
    if type(concrete(like)) is np.ndarray and (type(ct) in (float, complex)
                                               or isinstance(ct, np.generic)):
        # a 0-d array in, a 0-d array of its precision out (0-d arithmetic gives scalars)
        dt = dtype_of(like) if type(ct) in (float, complex) else None
        return np.array(ct, dtype=dt)
    return ct


def _ones_like(x):
    x = concrete(x)
    if isinstance(x, float):
        return 1.0
    return np.ones_like(x)


def _split_aux(res, f):
    if not (isinstance(res, (tuple, list)) and len(res) == 2):
        raise TypeError(
            f"has_aux=True: {_fname(f)} must return a pair (output, aux), got "
            f"{type(res).__name__}"
        )
    return res


def _chunks(total: int, chunk_size: int | None, who: str) -> list[tuple[int, int]]:
    if chunk_size is None:
        return [(0, total)] if total else []
    if not isinstance(chunk_size, (int, np.integer)) or chunk_size < 1:
        raise ValueError(f"{who}: chunk_size must be a positive int or None, got {chunk_size!r}")
    return [(s, min(s + int(chunk_size), total)) for s in range(0, total, int(chunk_size))]
