"""Finite differences done properly: ``chainrule.numeric``.

Works on any Python callable (it imports nothing else from chainrule):

- :func:`derivative` -- any order, forward / backward / central differences of any
  accuracy, complex step, Richardson extrapolation, with error estimates;
- :func:`gradient`, :func:`jacobian`, :func:`directional` -- per-coordinate steps, or one
  directional product ``J v``;
- :func:`hessian` (symmetrised) and :func:`hvp`, from function values or a gradient.

Step sizes balance truncation against round-off (:mod:`chainrule.numeric.steps`);
stencil weights come from an exact solve of the Taylor system
(:mod:`chainrule.numeric.stencils`).
"""

from ._checks import METHODS
from .multivariate import directional, gradient, jacobian
from .result import DerivativeResult
from .scalar import derivative
from .second import hessian, hvp
from .stencils import fd_weights, stencil

__all__ = [
    "METHODS",
    "DerivativeResult",
    "derivative",
    "directional",
    "fd_weights",
    "gradient",
    "hessian",
    "hvp",
    "jacobian",
    "stencil",
]
