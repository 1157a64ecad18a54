"""Helpers shared by chainrule.scipy's primitives: SciPy on demand, and elementwise
primitives of several arguments evaluated by SciPy, with the derivative in some
arguments and a clear error in the others (the tangent stretched to the output's shape,
the cotangent summed back to each argument's shape)."""

from __future__ import annotations

from chainrule.core.shape_rules import elementwise_shape
from chainrule.core.primitive import Primitive, Reads
from chainrule.numpy._elementwise import _ub, zero_safe
from chainrule.numpy._structural import broadcast_like

try:  # pragma: no cover - depends on the environment
    import scipy.special as _sp
except ImportError:  # pragma: no cover
    _sp = None


def scipy_special(function: str):
    """``scipy.special``, or an ImportError that says what needs it and how to get it."""
    if _sp is None:
        raise ImportError(f"chainrule.scipy.special.{function} evaluates with SciPy, which is "
                          "not installed: pip install scipy (or chainrule[all])")
    return _sp


def _no_derivative(function: str, argument: str):
    """A JVP/VJP rule that raises: the derivative in ``argument`` is not implemented.

    It runs only when that argument carries a tangent or needs a cotangent, so a
    constant ``argument`` differentiates fine in the others."""
    def rule(*args, **params):
        raise NotImplementedError(
            f"chainrule.scipy.special.{function}: the derivative in `{argument}` is not "
            f"implemented. Pass `{argument}` as a constant (or through "
            f"chainrule.stop_gradient) and differentiate in the other arguments.")
    return rule


def _elementwise_rules(partial, position: int):
    """JVP and VJP rules of argument ``position`` of an elementwise primitive whose
    partial derivative there is ``partial(ans, *args)``."""
    def jvp(t, ans, *args):
        return broadcast_like(zero_safe(t, t * partial(ans, *args)), ans)

    def vjp(g, ans, *args):
        return _ub(zero_safe(g, g * partial(ans, *args)), args[position])
    return jvp, vjp


def scipy_primitive(name: str, arguments: str, slopes: tuple, doc: str,
                    reads: Reads, **fields) -> Primitive:
    """The elementwise primitive ``scipy.special.<name>`` of the named ``arguments``;
    ``slopes[i](ans, *args)`` is its derivative in argument i, or None where that
    derivative is not implemented (asking for it raises). ``fields``: the rest of its
    record (``sympy``, ``partials`` as written for trace tables, ...)."""
    jvps, vjps = [], []
    for i, (argument, partial) in enumerate(zip(arguments.split(), slopes, strict=True)):
        if partial is None:
            jvp = vjp = _no_derivative(name, argument)
        else:
            jvp, vjp = _elementwise_rules(partial, i)
        jvps.append(jvp)
        vjps.append(vjp)

    def impl(*args):
        return getattr(scipy_special(name), name)(*args)
    return Primitive(name, impl, jvps=tuple(jvps), vjps=tuple(vjps), reads=reads, doc=doc,
                     batch="elementwise", abstract_eval=elementwise_shape(
                         "inexact", ufunc=lambda: getattr(scipy_special(name), name)),
                     **fields)
