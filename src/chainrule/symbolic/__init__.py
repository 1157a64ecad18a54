"""chainrule.symbolic: symbolic differentiation through SymPy.

The lecture's first technique, done by the computer-algebra library for it:

* :func:`expression` traces a chainrule function into a SymPy expression (small
  arrays become ``sympy.Matrix``); :func:`function` turns a SymPy expression back
  into a chainrule-differentiable function (evaluated by the primitives, no
  generated source).
* :func:`diff`, :func:`gradient`, :func:`hessian`: exact derivatives.
* :func:`expression_size`, :func:`dag_size`, :func:`ad_cost`: expression swell
  measured — the symbolic derivative written out as a tree, the same with common
  subexpressions shared, and the number of operations of reverse-mode AD.

SymPy is an optional extra: ``pip install chainrule[symbolic]``.

Example:
    >>> import chainrule.numpy as np
    >>> from chainrule import symbolic
    >>> symbolic.diff(lambda x: 5 * x**3).expr
    15*x**2
"""

try:
    import sympy as _sympy  # noqa: F401
except ImportError as _error:  # pragma: no cover - exercised in a subprocess by the tests
    raise ImportError(
        "chainrule.symbolic needs SymPy, which is not installed. It is an optional extra: "
        "pip install chainrule[symbolic]  (or: pip install sympy)"
    ) from _error

from chainrule.symbolic._bridge import function
from chainrule.symbolic._diff import SymbolicDerivative, diff, gradient, hessian
from chainrule.symbolic._size import ADCost, ad_cost, dag_size, expression_size
from chainrule.symbolic._trace import ARRAY_RULES, StopGradient, expression
from chainrule.symbolic._workloads import logistic_map, nested_sin

__all__ = [
    "logistic_map",
    "nested_sin",
    "ADCost",
    "ARRAY_RULES",
    "StopGradient",
    "SymbolicDerivative",
    "ad_cost",
    "dag_size",
    "diff",
    "expression",
    "expression_size",
    "function",
    "gradient",
    "hessian",
]
