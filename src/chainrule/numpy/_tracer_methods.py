"""Operators, array methods and NumPy's dispatch protocols on tracers.

Installed on :class:`chainrule.core.Tracer` when :mod:`chainrule.numpy` is
imported, so code written against plain ``numpy`` (``np.sin(x)``,
``x @ W``, ``x.sum(axis=0)``) works on traced values too: NumPy hands a tracer
to ``__array_ufunc__``/``__array_function__``, which route to the primitives,
and name any NumPy function without a derivative rule in a clear error.
"""

from __future__ import annotations

import sys

import numpy as np

from chainrule.core.backends import is_foreign
from chainrule.core.shape_rules import elementwise_shape
from chainrule.core.primitive import Primitive, Tracer, concrete, dtype_of, shape_of
from chainrule.numpy import _assembly as asm
from chainrule.numpy import _elementwise as ew
from chainrule.numpy import _namespace as ns
from chainrule.numpy import _nondiff as nd
from chainrule.numpy import _scans as sc
from chainrule.numpy import _ufuncs as uf
from chainrule.numpy._contract import dot
from chainrule.numpy._linalg import matmul


def _setitem(self, key, value):
    raise TypeError(
        "in-place assignment x[i] = v on a traced array is not supported: it would "
        "overwrite a value the derivative needs. Write y = chainrule.numpy.at(x)[i].set(v) "
        "(or .add(v)), which returns a new array and differentiates."
    )


def _iter(self):
    shp = shape_of(self._value)
    if not shp:
        raise TypeError("iteration over a 0-d traced value")
    for i in range(shp[0]):
        yield ns.getitem(self, i)


def _astype_jvp(t, y, x, dtype):
    return astype_p(t, dtype=dtype)


def _astype_vjp(g, y, x, dtype):
    """The cotangent in the input's dtype (float32 in, float32 gradient out); real for a
    real input (JAX's convention: Re ȳ)."""
    if dtype_of(x).kind != "c" and dtype_of(g).kind == "c":
        g = ew.real_p(g)
    return astype_p(g, dtype=dtype_of(x))


def _astype_impl(x, dtype):
    if type(x) is not np.ndarray and is_foreign(x):  # Dask, CuPy: converted where they are
        return x.astype(dtype)
    return np.asarray(x).astype(dtype)


astype_p = Primitive(
    "astype", _astype_impl, jvps=(_astype_jvp,),
    vjps=(_astype_vjp,), linear=True,
    doc="y = x converted to a float/complex dtype; ẏ = ẋ converted; x̄ = ȳ in x's dtype",
    batch="elementwise", abstract_eval=elementwise_shape("first"))


def _astype(self, dtype, copy=True):
    dt = np.dtype(dtype)
    if dt.kind in "fc":
        return self if dt == self.dtype else astype_p(self, dtype=dt)
    return nd.stop_gradient_p(concrete(self)).astype(dt)


_NO_PARAMS: dict = {}


def _binary(prim, reflected: bool):
    """``self op other`` straight to this tracer's trace when ``other`` is a constant.

    This is the hottest path of eager differentiation, so it skips the general
    search for the highest trace (only needed when ``other`` is a tracer too).
    """
    if reflected:
        def op(self, other):
            if isinstance(other, Tracer) or not self._trace.active:
                return prim(other, self)
            return self._trace.process(prim, (other, self), _NO_PARAMS)
    else:
        def op(self, other):
            if isinstance(other, Tracer) or not self._trace.active:
                return prim(self, other)
            return self._trace.process(prim, (self, other), _NO_PARAMS)
    return op


def general_getitem(self, key):
    """``self[key]`` through :func:`chainrule.numpy.getitem` (every key, every trace)."""
    return ns.getitem(self, key)


#: the operators reverse mode records directly on its tape tracers (bound to them by
#: :mod:`chainrule.reverse_operators`): name -> (primitive, reflected)
REVERSE_OPERATORS = {
    "__add__": (ew.add, False), "__radd__": (ew.add, True),
    "__sub__": (ew.subtract, False), "__rsub__": (ew.subtract, True),
    "__mul__": (ew.multiply, False), "__rmul__": (ew.multiply, True),
    "__truediv__": (ew.divide, False), "__rtruediv__": (ew.divide, True),
    "__pow__": (ew.power, False), "__rpow__": (ew.power, True),
}

_METHODS = {
    "__add__": _binary(ew.add, False),
    "__radd__": _binary(ew.add, True),
    "__sub__": _binary(ew.subtract, False),
    "__rsub__": _binary(ew.subtract, True),
    "__mul__": _binary(ew.multiply, False),
    "__rmul__": _binary(ew.multiply, True),
    "__truediv__": _binary(ew.divide, False),
    "__rtruediv__": _binary(ew.divide, True),
    "__floordiv__": lambda s, o: ew.floor_divide(s, o),
    "__rfloordiv__": lambda s, o: ew.floor_divide(o, s),
    "__mod__": lambda s, o: ew.mod(s, o),
    "__rmod__": lambda s, o: ew.mod(o, s),
    "__pow__": _binary(ew.power, False),
    "__rpow__": _binary(ew.power, True),
    "__matmul__": lambda s, o: matmul(s, o),
    "__rmatmul__": lambda s, o: matmul(o, s),
    "__neg__": lambda s: ew.negative(s),
    "__pos__": lambda s: s,
    "__abs__": lambda s: ew.absolute(s),
    "__lt__": lambda s, o: nd.less(s, o),
    "__le__": lambda s, o: nd.less_equal(s, o),
    "__gt__": lambda s, o: nd.greater(s, o),
    "__ge__": lambda s, o: nd.greater_equal(s, o),
    "__eq__": lambda s, o: nd.equal(s, o),
    "__ne__": lambda s, o: nd.not_equal(s, o),
    "__getitem__": general_getitem,
    "__setitem__": _setitem,
    "__iter__": _iter,
    "sum": lambda s, axis=None, dtype=None, out=None, keepdims=False:
        ns.sum(s, axis, dtype, out, keepdims),
    "mean": lambda s, axis=None, dtype=None, out=None, keepdims=False:
        ns.mean(s, axis, dtype, out, keepdims),
    "var": lambda s, axis=None, dtype=None, out=None, ddof=0, keepdims=False:
        ns.var(s, axis, dtype, out, ddof, keepdims),
    "std": lambda s, axis=None, dtype=None, out=None, ddof=0, keepdims=False:
        ns.std(s, axis, dtype, out, ddof, keepdims),
    "prod": lambda s, axis=None, dtype=None, out=None, keepdims=False:
        ns.prod(s, axis, dtype, out, keepdims),
    "max": lambda s, axis=None, out=None, keepdims=False: ns.max(s, axis, out, keepdims),
    "min": lambda s, axis=None, out=None, keepdims=False: ns.min(s, axis, out, keepdims),
    "reshape": lambda s, *shape, order="C":
        ns.reshape(s, shape[0] if len(shape) == 1 else shape, order=order),
    "transpose": lambda s, *axes: ns.transpose(s, (axes[0] if len(axes) == 1 else axes)
                                               if axes else None),
    "swapaxes": lambda s, a1, a2: ns.swapaxes(s, a1, a2),
    "squeeze": lambda s, axis=None: ns.squeeze(s, axis),
    "ravel": lambda s, order="C": ns.ravel(s, order),
    "flatten": lambda s, order="C": asm.flatten(s, order),
    "dot": lambda s, o: dot(s, o),
    "clip": lambda s, a_min=None, a_max=None: ns.clip(s, a_min, a_max),
    "astype": _astype,
    "copy": lambda s: s,
    "conj": lambda s: uf.conj(s),
    "conjugate": lambda s: uf.conj(s),
    "argmax": lambda s, axis=None: nd.nondiff_funcs["argmax"](s, axis=axis),
    "argmin": lambda s, axis=None: nd.nondiff_funcs["argmin"](s, axis=axis),
    "T": property(lambda s: ns.transpose(s)),
    "real": property(lambda s: uf.real(s) if s.dtype.kind == "c" else s),
    "imag": property(lambda s: uf.imag(s)),
    "cumsum": lambda s, axis=None, dtype=None, out=None: sc.cumsum(s, axis, dtype, out),
    "cumprod": lambda s, axis=None, dtype=None, out=None: sc.cumprod(s, axis, dtype, out),
    "ptp": lambda s, axis=None, out=None, keepdims=False: sc.ptp(s, axis, out, keepdims),
    "trace": lambda s, offset=0, axis1=0, axis2=1, dtype=None, out=None:
        asm.trace(s, offset, axis1, axis2, dtype, out),
    "diagonal": lambda s, offset=0, axis1=0, axis2=1: asm.diagonal(s, offset, axis1, axis2),
    "repeat": lambda s, repeats, axis=None: asm.repeat(s, repeats, axis),
    "take": lambda s, indices, axis=None, out=None, mode=None: asm.take(s, indices, axis),
    "item": lambda s, *a: _raise(s._conversion_error("a Python scalar (.item())")),
    "tolist": lambda s: _raise(s._conversion_error("a list (.tolist())")),
}


def _raise(error: Exception):
    raise error


def _ufunc(self, ufunc, method, *inputs, **kwargs):
    name = ufunc.__name__
    if kwargs.get("out") is not None:
        ns._no_out(kwargs["out"], name)
    if method == "reduce" and name == "add":
        return ns.sum(inputs[0], axis=kwargs.get("axis", 0), keepdims=kwargs.get("keepdims", False))
    fn = UFUNCS.get(name) if method == "__call__" else None
    if fn is None:
        raise TypeError(_foreign_ufunc_message(ufunc, method))
    return fn(*inputs)


def _foreign_ufunc_message(ufunc, method: str) -> str:
    """Why ``ufunc`` cannot take a traced value, naming where it comes from (NumPy or SciPy)
    and chainrule's function to use instead."""
    name = ufunc.__name__
    what = name if method == "__call__" else f"{name}.{method}"
    special = sys.modules.get("scipy.special")
    if getattr(np, name, None) is not ufunc and getattr(special, name, None) is ufunc:
        return (
            f"scipy.special.{what} was applied to a traced value: SciPy's functions cannot "
            f"be differentiated by chainrule. Use chainrule.scipy.special.{name} (import "
            "chainrule.scipy.special: SciPy's names and signatures, with derivative rules), "
            "or wrap the value in chainrule.stop_gradient(...) if its derivative is not "
            "needed.")
    return (
        f"numpy.{what} was applied to a traced value, and chainrule has no derivative "
        f"rule for it. Use a chainrule.numpy function, wrap the value in "
        "chainrule.stop_gradient(...) if its derivative is not needed, or define the "
        "operation with chainrule.primitive + defjvp/defvjp.")


def _function(self, func, types, args, kwargs):
    fn = FUNCTIONS.get(func)
    if fn is None:
        name = getattr(func, "__module__", "numpy") + "." + getattr(func, "__name__", str(func))
        raise TypeError(
            f"{name} was applied to a traced value, and chainrule has no derivative rule for "
            "it. Use the chainrule.numpy function of the same name where there is one, wrap "
            "the value in chainrule.stop_gradient(...) if its derivative is not needed, or "
            "define the operation with chainrule.primitive + defjvp/defvjp."
        )
    return fn(*args, **kwargs)


UFUNCS: dict = {}
FUNCTIONS: dict = {}


def install(namespace: dict) -> None:
    """Put the operators and protocols on Tracer; map NumPy's callables to ours."""
    for name, fn in _METHODS.items():
        setattr(Tracer, name, fn)
    Tracer.__array_ufunc__ = _ufunc
    Tracer.__array_function__ = _function
    for name, fn in namespace.items():
        np_obj = getattr(np, name, None)
        if np_obj is None or not callable(fn):
            continue
        if isinstance(np_obj, np.ufunc):
            UFUNCS[name] = fn
        elif callable(np_obj):
            FUNCTIONS[np_obj] = fn
