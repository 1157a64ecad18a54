"""A stand-in for a GPU array library (CuPy's shape), so that the code paths chainrule
takes for CuPy arrays run on machines without a GPU.

:class:`DeviceArray` keeps its values in a NumPy array it never lets go of implicitly:
like ``cupy.ndarray`` it refuses ``numpy.asarray`` (``__array__`` raises), hands its
values over only through ``.get()``, answers NumPy's functions and ufuncs with
:class:`DeviceArray` results (``__array_function__``, ``__array_ufunc__``), and names its
own namespace (``__array_namespace__``, the array API standard). Every operation is
counted in :data:`CALLS`, so a test can see that the work ran "on the device".
"""

from __future__ import annotations

import collections
import types

import numpy as onp
from numpy.lib.mixins import NDArrayOperatorsMixin

CALLS: collections.Counter = collections.Counter()


def _unwrap(x):
    if isinstance(x, DeviceArray):
        return x._data
    if isinstance(x, (list, tuple)):
        return type(x)(_unwrap(v) for v in x)
    if isinstance(x, dict):
        return {k: _unwrap(v) for k, v in x.items()}
    return x


def _wrap(x):
    if isinstance(x, (onp.ndarray, onp.generic)):  # CuPy's reductions give 0-d arrays too
        return DeviceArray(x)
    if isinstance(x, tuple):
        return tuple(_wrap(v) for v in x)
    if isinstance(x, list):
        return [_wrap(v) for v in x]
    return x


class DeviceArray(NDArrayOperatorsMixin):
    """An array whose values stay "on the device" (see the module's docstring)."""

    __slots__ = ("_data",)

    def __init__(self, data) -> None:
        self._data = onp.asarray(data)

    # what NumPy and chainrule read
    shape = property(lambda self: self._data.shape)
    dtype = property(lambda self: self._data.dtype)
    ndim = property(lambda self: self._data.ndim)
    size = property(lambda self: self._data.size)
    T = property(lambda self: DeviceArray(self._data.T))
    real = property(lambda self: DeviceArray(self._data.real))
    imag = property(lambda self: DeviceArray(self._data.imag))

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"DeviceArray({self._data!r})"

    def __array__(self, dtype=None, copy=None):
        raise TypeError("DeviceArray: implicit conversion to a NumPy array is not allowed "
                        "(as with CuPy); use .get()")

    def get(self) -> onp.ndarray:
        """The values, copied to the host (``cupy.ndarray.get``)."""
        return self._data.copy()

    def __float__(self) -> float:
        return float(self._data)

    def __bool__(self) -> bool:
        return bool(self._data)

    def __getitem__(self, key):
        CALLS["getitem"] += 1
        return _wrap(self._data[_unwrap(key)])

    def __setitem__(self, key, value) -> None:
        CALLS["setitem"] += 1
        self._data[_unwrap(key)] = _unwrap(value)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        CALLS[ufunc.__name__] += 1
        out = kwargs.pop("out", None)
        result = getattr(ufunc, method)(*_unwrap(inputs), **_unwrap(kwargs))
        if out is not None:
            out[0]._data[...] = result
            return out[0]
        return _wrap(result)

    def __array_function__(self, func, types_, args, kwargs):
        CALLS[func.__name__] += 1
        return _wrap(func(*_unwrap(args), **_unwrap(kwargs)))

    def __array_namespace__(self, api_version=None):
        return namespace

    def astype(self, dtype, copy=True):
        return DeviceArray(self._data.astype(dtype, copy=copy))

    def reshape(self, *shape):
        return DeviceArray(self._data.reshape(*shape))

    def copy(self):
        return DeviceArray(self._data.copy())

    def sum(self, *args, **kwargs):
        return _wrap(self._data.sum(*args, **_unwrap(kwargs)))

    def __dlpack__(self, *args, **kwargs):
        raise TypeError("DeviceArray: no DLPack export to the host")


def _device_function(name):
    fn = getattr(onp, name)

    def on_device(*args, **kwargs):
        CALLS[name] += 1
        return _wrap(fn(*_unwrap(args), **_unwrap(kwargs)))

    on_device.__name__ = name
    return on_device


#: the library's namespace (what ``cupy`` is to ``cupy.ndarray``)
namespace = types.SimpleNamespace(
    __name__="device_standin",
    asarray=lambda x, dtype=None: DeviceArray(onp.asarray(_unwrap(x), dtype=dtype)),
    **{name: _device_function(name)
       for name in ("zeros", "ones", "broadcast_to", "reshape", "empty", "where", "sum",
                    "concatenate", "stack", "full")})


def to_device(x) -> DeviceArray:
    """A NumPy array "copied to the device" (``cupy.asarray``)."""
    return DeviceArray(onp.array(x))
