"""Array methods of the newer functions on tracers (``x.cumsum()``, ``x.conj()``, ...).

Installed after :mod:`._tracer_methods` so that complex-aware ``real``/``imag``/``conj``
replace the real-only identities there.
"""

from __future__ import annotations

from chainrule.core.primitive import Tracer
from chainrule.numpy import _assembly as asm
from chainrule.numpy import _elementwise_more as ewm
from chainrule.numpy import _scans as sc
from chainrule.numpy._contract import dot

_METHODS = {
    "conj": lambda s: ewm.conj(s),
    "conjugate": lambda s: ewm.conj(s),
    "real": property(lambda s: ewm.real(s) if s.dtype.kind == "c" else s),
    "imag": property(lambda s: ewm.imag(s)),
    "cumsum": lambda s, axis=None, dtype=None, out=None: sc.cumsum(s, axis, dtype, out),
    "cumprod": lambda s, axis=None, dtype=None, out=None: sc.cumprod(s, axis, dtype, out),
    "ptp": lambda s, axis=None, out=None, keepdims=False: sc.ptp(s, axis, out, keepdims),
    "trace": lambda s, offset=0, axis1=0, axis2=1, dtype=None, out=None:
        asm.trace(s, offset, axis1, axis2, dtype, out),
    "diagonal": lambda s, offset=0, axis1=0, axis2=1: asm.diagonal(s, offset, axis1, axis2),
    "repeat": lambda s, repeats, axis=None: asm.repeat(s, repeats, axis),
    "take": lambda s, indices, axis=None, out=None, mode=None: asm.take(s, indices, axis),
    "flatten": lambda s, order="C": asm.flatten(s, order),
    "dot": lambda s, o: dot(s, o),
}


def install() -> None:
    for name, fn in _METHODS.items():
        setattr(Tracer, name, fn)
