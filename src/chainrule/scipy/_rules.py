"""Helpers shared by chainrule.scipy's primitives: SciPy on demand, a rule for an
argument whose derivative is not implemented, elementwise rules of several arguments
(the tangent stretched to the output's shape, the cotangent summed back to each
argument's shape); the masks that work eagerly and under ``jit`` come from
chainrule.core.primitive."""

from __future__ import annotations

from chainrule.core.primitive import anywhere, everywhere, mask  # noqa: F401 (re-exported)
from chainrule.numpy._elementwise import _ub
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


def no_derivative(function: str, argument: str, instead: str = ""):
    """A JVP/VJP rule that raises: the derivative in ``argument`` is not implemented.

    It runs only when that argument carries a tangent or needs a cotangent, so a
    constant ``argument`` differentiates fine in the others."""
    hint = f" {instead}" if instead else ""

    def rule(*args, **params):
        raise NotImplementedError(
            f"chainrule.scipy.special.{function}: the derivative in `{argument}` is not "
            f"implemented.{hint} Pass `{argument}` as a constant (or through "
            f"chainrule.stop_gradient) and differentiate in the other arguments.")
    return rule


def elementwise_rules(partial, position: int, arity: int):
    """JVP and VJP rules of argument ``position`` of an elementwise primitive of ``arity``
    arguments whose partial derivative there is ``partial(ans, *args)``."""
    def jvp(t, ans, *args):
        return broadcast_like(t * partial(ans, *args), ans)

    def vjp(g, ans, *args):
        return _ub(g * partial(ans, *args), args[position])
    return jvp, vjp

