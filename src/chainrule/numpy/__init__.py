"""chainrule.numpy: the differentiable NumPy namespace.

Write ordinary NumPy code against this module (``import chainrule.numpy as np``)
and every transformation in :mod:`chainrule` differentiates it. Each name below
is a primitive (implementation + JVP rule + VJP rule) or a composite of
primitives. Names without a derivative (``zeros``, ``arange``, ``random``,
dtypes, constants) come straight from NumPy; a NumPy function that chainrule
does not know raises a clear error when it receives a traced value.
"""

from __future__ import annotations

import functools as _functools
import types as _types

import numpy as _np

from chainrule.core.primitive import Tracer as _Tracer
from chainrule.numpy import _tracer_methods
from chainrule.numpy._elementwise import (  # noqa: F401
    absolute,
    add,
    arctan,
    ceil,
    cos,
    cosh,
    divide,
    exp,
    expm1,
    floor,
    floor_divide,
    log,
    log1p,
    maximum,
    minimum,
    mod,
    multiply,
    negative,
    power,
    rint,
    sin,
    sinh,
    sqrt,
    square,
    subtract,
    tan,
    tanh,
    trunc,
)
from chainrule.numpy._linalg import matmul  # noqa: F401
from chainrule.numpy._namespace import (  # noqa: F401
    amax,
    amin,
    array,
    asarray,
    broadcast_to,
    clip,
    concatenate,
    expand_dims,
    getitem,
    iscomplexobj,
    isrealobj,
    max,
    mean,
    min,
    moveaxis,
    ndim,
    prod,
    ravel,
    reshape,
    shape,
    size,
    squeeze,
    stack,
    std,
    sum,
    swapaxes,
    transpose,
    var,
    where,
)
from chainrule.numpy._nondiff import (  # noqa: F401
    equal,
    greater,
    greater_equal,
    less,
    less_equal,
    nondiff_funcs as _nondiff_funcs,
    not_equal,
)

from chainrule.numpy._ufuncs import (  # noqa: F401
    angle,
    arccos,
    arccosh,
    arcsin,
    arcsinh,
    arctan2,
    arctanh,
    cbrt,
    conj,
    conjugate,
    copysign,
    deg2rad,
    degrees,
    exp2,
    fabs,
    float_power,
    fmax,
    fmin,
    fmod,
    hypot,
    imag,
    log10,
    log2,
    logaddexp,
    logaddexp2,
    nan_to_num,
    piecewise,
    positive,
    rad2deg,
    radians,
    real,
    real_if_close,
    reciprocal,
    select,
    sign,
    sinc,
)
from chainrule.numpy._scans import (  # noqa: F401
    average,
    cumprod,
    cumsum,
    diff,
    nancumprod,
    nancumsum,
    nanmean,
    nanprod,
    nansum,
    ptp,
)
from chainrule.numpy._assembly import (  # noqa: F401
    append,
    array_split,
    at,
    atleast_1d,
    atleast_2d,
    atleast_3d,
    broadcast_arrays,
    column_stack,
    copy,
    diag,
    diagonal,
    dstack,
    flatten,
    flip,
    fliplr,
    flipud,
    hsplit,
    hstack,
    meshgrid,
    pad,
    repeat,
    roll,
    rot90,
    row_stack,
    sort,
    split,
    take,
    take_along_axis,
    tile,
    trace,
    tril,
    triu,
    vsplit,
    vstack,
)
from chainrule.numpy._contract import (  # noqa: F401
    convolve,
    correlate,
    cross,
    dot,
    einsum,
    inner,
    kron,
    outer,
    tensordot,
    vdot,
)
from chainrule.numpy._rearranging import (  # noqa: F401
    block,
    c_,
    delete,
    dsplit,
    partition,
    r_,
    rollaxis,
)
from chainrule.numpy._array_api import (  # noqa: F401
    acos,
    acosh,
    asin,
    asinh,
    astype,
    atan,
    atan2,
    atanh,
    concat,
    corrcoef,
    cov,
    cumulative_prod,
    cumulative_sum,
    diagflat,
    matrix_transpose,
    matvec,
    nanstd,
    nanvar,
    permute_dims,
    pow,
    unstack,
    vander,
    vecdot,
    vecmat,
)
from chainrule.numpy._sampled_data import (  # noqa: F401
    gradient,
    linspace,
    polyfit,
)
from chainrule.numpy._order_statistics import (  # noqa: F401
    interp,
    median,
    nanmax,
    nanmin,
    percentile,
    polyval,
    quantile,
    trapezoid,
    trapz,
)
from chainrule.numpy import fft, linalg  # noqa: F401, E402
from chainrule.core import shape_ops as _shape_ops  # noqa: E402
from chainrule.numpy import _indexing as _ix, _structural as _st  # noqa: E402
from chainrule.numpy._elementwise import where_p as _where_p  # noqa: E402

# the primitives the interpreters' batching rules are written with (core.shape_ops)
_shape_ops.register(reshape=_st.reshape_p, broadcast_to=_st.broadcast_to_p,
                    transpose=_st.transpose_p, getitem=_ix.getitem_p,
                    concatenate=_ix.concatenate_p, where=_where_p, Index=_ix.Index)

abs = absolute
true_divide = divide
remainder = mod
globals().update(_nondiff_funcs)

_tracer_methods.install({k: v for k, v in globals().items() if not k.startswith("_")})
for _mod, _np_mod in ((linalg, _np.linalg), (fft, _np.fft)):
    for _name in _mod.__all__:
        if callable(getattr(_np_mod, _name, None)):
            _tracer_methods.FUNCTIONS[getattr(_np_mod, _name)] = getattr(_mod, _name)


_PYTHON_SCALARS = (float, int, complex, bool)


def _numpy_scalars(fn):
    """``fn``, but a Python number or 0-d array it returns comes back as a NumPy scalar,
    as from a NumPy ufunc.

    The primitives compute on Python floats with ``math`` (the fast path of scalar
    programs), so ``exp(1.0)`` is a ``float`` inside chainrule; the public name gives
    NumPy's ``float64`` so that ``np.square(2.0).sum()`` works as it does in NumPy.
    Traced values and arrays pass through unchanged.
    """

    @_functools.wraps(fn)
    def call(*args, **kwargs):
        r = fn(*args, **kwargs)
        if type(r) in _PYTHON_SCALARS:
            return _np.asarray(r)[()]
        return r[()] if type(r) is _np.ndarray and not r.ndim else r

    return call


def _wrap_scalar_results(namespace: dict) -> None:
    """Give chainrule.numpy's ufuncs and scalar products NumPy's scalar result types."""
    for name, fn in list(namespace.items()):
        if name.startswith("_") or not callable(fn) or isinstance(fn, type) \
                or isinstance(fn, _types.ModuleType) or name in _nondiff_funcs:
            continue
        if isinstance(getattr(_np, name, None), _np.ufunc) or name in ("dot", "inner", "vdot"):
            namespace[name] = _numpy_scalars(fn)


_wrap_scalar_results(globals())


def _has_tracer(args, kwargs) -> bool:
    for a in (*args, *kwargs.values()):
        if isinstance(a, _Tracer):
            return True
        # not any(...): this module's `any` is chainrule.numpy.any, truthy on a generator
        if isinstance(a, (list, tuple)) and [b for b in a if isinstance(b, _Tracer)]:
            return True
    return False


def _guarded(qualname: str, fn):
    """NumPy's ``fn``, refusing traced arguments with an error that names it."""

    @_functools.wraps(fn)
    def call(*args, **kwargs):
        if _has_tracer(args, kwargs):
            raise TypeError(
                f"{qualname} has no derivative rule in chainrule, and it was given a traced "
                "value. Use a supported chainrule.numpy function, wrap the value in "
                "chainrule.stop_gradient(...) if its derivative is not needed, or define the "
                "operation with chainrule.primitive + defjvp/defvjp."
            )
        return fn(*args, **kwargs)

    return call


class _GuardedModule(_types.ModuleType):
    """A NumPy submodule whose functions refuse traced values (named in the error)."""

    def __init__(self, qualname: str, module) -> None:
        super().__init__(qualname)
        self._module = module

    def __getattr__(self, name: str):
        obj = getattr(self._module, name)
        if callable(obj) and not isinstance(obj, type):
            obj = _guarded(f"{self.__name__}.{name}", obj)
        setattr(self, name, obj)
        return obj


def __getattr__(name: str):
    try:
        obj = getattr(_np, name)
    except AttributeError:
        raise AttributeError(
            f"chainrule.numpy has no attribute {name!r} (NumPy has none either)"
        ) from None
    if isinstance(obj, _types.ModuleType):
        obj = obj if name == "random" else _GuardedModule(f"chainrule.numpy.{name}", obj)
    elif callable(obj) and not isinstance(obj, type):
        obj = _guarded(f"chainrule.numpy.{name}", obj)
    globals()[name] = obj
    return obj
