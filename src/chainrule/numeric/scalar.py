"""``derivative``: derivatives of any order of a function of one real variable."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ._checks import (
    METHODS,
    as_real_scalar,
    check_accuracy,
    check_callable,
    check_method,
    check_order,
    check_step,
)
from .line import Evaluator, Line, default_accuracy, line_derivative, pow2_step
from .result import DerivativeResult
from .steps import default_step, representable_step

__all__ = ["derivative"]


def _plain(a: np.ndarray) -> Any:
    """A 0-d array as a Python number, anything else unchanged."""
    return a.item() if isinstance(a, (np.ndarray, np.generic)) and np.ndim(a) == 0 else a


def derivative(
    f: Callable,
    x: float,
    order: int = 1,
    method: str = "central",
    step: float | None = None,
    full_output: bool = False,
    stencil: int | None = None,
) -> float | np.ndarray | DerivativeResult:
    """The ``order``-th derivative of ``f`` at the scalar ``x`` by finite differences.

    Formulas, with ``d = order`` and ``p`` the truncation order (``stencil``):

    - ``"forward"``: ``sum_k w_k f(x + k h) / h^d``, ``k = 0..d+p-1`` (``p = 1`` by
      default: ``(f(x+h) - f(x)) / h``, error ``O(h)``); ``"backward"`` mirrors it.
    - ``"central"``: ``sum_k w_k f(x + k h) / h^d``, ``k = -m..m``, ``m = (d-1)//2 + p/2``
      (``p = 2`` by default: ``(f(x+h) - f(x-h)) / 2h``, error ``O(h^2)``). The weights
      solve the Taylor/Vandermonde system exactly (:mod:`chainrule.numeric.stencils`).
    - ``"complex"`` (complex step; ``f`` must accept complex input and be real on reals):
      ``d = 1``: ``Im f(x + ih) / h``, error ``O(h^2)`` with no subtraction, so ``h`` can be
      tiny and the result is exact to a few ulps. ``d = 2``: ``Im[f(x + wh) + f(x - wh)]
      / h^2`` with ``w = exp(i pi/4)``, error ``O(h^4)``; it still subtracts (round-off
      ``~ eps |f'| / h``), so expect ``~1e-12`` relative, not eps. (The simpler
      ``2 (f(x) - Re f(x + ih)) / h^2`` is worse: its cancellation limits it to
      ``~sqrt(eps) ~ 1e-8``.) ``d > 2`` is refused: use ``"richardson"``.
    - ``"richardson"``: central differences (accuracy ``p``, default 2) at the steps
      ``h, h/2, h/4, ...`` (at most 8), Richardson-extrapolated in a Neville table
      (Ridders' method); returns the table entry with the smallest error estimate.

    Step rule when ``step`` is None: ``h = eps^(1/(p+d)) * max(1, |x|)`` (forward
    ``~1.5e-8``, central ``~6e-6`` for ``f'``), adjusted so that ``x + h`` is exact;
    complex ``h = 1e-20 max(1, |x|)`` (``eps^(1/5) max(1, |x|)`` for ``d = 2``); Richardson
    starts at the power of two nearest ``2^(d-4) max(1, |x|)``.

    Args:
        f: a function of one real number returning a number or an array (array outputs
            are differentiated elementwise).
        x: the point, a real finite scalar.
        order: the derivative order ``d >= 1``.
        method: ``"forward"``, ``"backward"``, ``"central"``, ``"complex"`` or
            ``"richardson"``.
        step: the step ``h`` (for Richardson: the first, largest step); None picks one.
        full_output: return a :class:`DerivativeResult` (value, error estimate, step,
            number of evaluations, method) instead of the value. The error estimate
            compares steps ``h`` and ``2h`` (so it doubles the evaluations) except for
            Richardson, whose table provides it.
        stencil: the truncation order ``p``: even (2, 4, 6, ...) for central and
            Richardson, any positive integer for forward/backward.

    Returns:
        ``f^(d)(x)``: a float, or an array shaped like ``f``'s output; or a
        :class:`DerivativeResult` when ``full_output`` is true.

    Raises:
        TypeError: ``f`` not callable, ``x`` not a real number, non-integer ``order``.
        ValueError: unknown ``method``, ``order < 1``, non-finite ``x``, a bad ``stencil``
            or ``step``, ``method="complex"`` with ``order > 2``.

    Examples:
        >>> import math
        >>> import numpy as np
        >>> round(derivative(np.sin, 1.0), 9), round(math.cos(1.0), 9)
        (0.540302306, 0.540302306)
        >>> derivative(np.sin, 1.0, method="complex") == math.cos(1.0)
        True
        >>> r = derivative(np.exp, 0.0, order=3, method="richardson", full_output=True)
        >>> bool(abs(r.value - 1.0) < 1e-10), bool(abs(r.value - 1.0) <= r.error)
        (True, True)
    """
    where = "derivative(): "
    f = check_callable(f)
    x = as_real_scalar(x, where=where)
    order = check_order(order, where)
    method = check_method(method, METHODS, where)
    accuracy = check_accuracy(stencil, method, where)
    step = check_step(step, where=where)
    if method == "complex" and order > 2:
        raise ValueError(
            f"{where}method='complex' gives derivatives of order 1 and 2 only (order={order} "
            f"needs multicomplex numbers); use method='richardson' or 'central' instead"
        )
    p = accuracy or default_accuracy(method)
    if step is None:
        h = default_step(method, order, p, x)
        if method == "richardson":
            h = pow2_step(h)
        elif method != "complex":
            h = representable_step(x, h)
    else:
        h = step
    ev = Evaluator(f, x, where)
    est = line_derivative(Line(ev), order, method, h, accuracy, want_error=full_output)
    value = _plain(est.value)
    if not full_output:
        return value
    return DerivativeResult(value, _plain(est.error), est.step, ev.nfev, method)
