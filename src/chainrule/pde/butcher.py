r"""Gauss–Legendre implicit Runge–Kutta tableaux, computed for any number of stages.

The q-stage Gauss–Legendre method is the collocation method at the roots of the
shifted Legendre polynomial: nodes :math:`c_i = (1 + s_i)/2` with :math:`P_q(s_i) = 0`,
weights :math:`b_j = w_j / 2` (the Gauss weights on [0, 1]) and

.. math::

    a_{ij} = \int_0^{c_i} \ell_j(\tau)\,d\tau,

:math:`\ell_j` the Lagrange polynomial of the nodes. It has order 2q and satisfies the
simplifying conditions :math:`B(2q)`: :math:`\sum_i b_i c_i^{k-1} = 1/k` (k ≤ 2q) and
:math:`C(q)`: :math:`\sum_j a_{ij} c_j^{k-1} = c_i^k / k` (k ≤ q).

A monomial (Vandermonde) solve for A is hopeless at q = 100. Instead each
:math:`\ell_j` is expanded in Legendre polynomials, with coefficients read off exactly by
the Gauss rule itself (it integrates :math:`\ell_j P_m`, degree ≤ 2q − 2, exactly):
:math:`\ell_j = \sum_{m<q} \tfrac{2m+1}{2} w_j P_m(s_j) P_m`, and
:math:`\int_{-1}^{s} P_m = (P_{m+1}(s) - P_{m-1}(s))/(2m+1)` for m ≥ 1. Hence

.. math::

    a_{ij} = \frac{w_j}{4}\Big[(1 + s_i) + \sum_{m=1}^{q-1} P_m(s_j)\big(P_{m+1}(s_i)
    - P_{m-1}(s_i)\big)\Big],

a sum of terms bounded by 1 in magnitude (Legendre values by the three-term
recurrence), accurate to rounding for hundreds of stages.
"""

from __future__ import annotations

import numpy as np

__all__ = ["gauss_legendre", "legendre_values"]


def legendre_values(s: np.ndarray, degree: int) -> np.ndarray:
    """``P_0(s) … P_degree(s)`` by Bonnet's recurrence, shape ``(degree + 1, len(s))``.

    >>> legendre_values(np.array([0.5]), 2)[:, 0].tolist()
    [1.0, 0.5, -0.125]
    """
    s = np.asarray(s, dtype=float)
    p = np.empty((degree + 1,) + s.shape)
    p[0] = 1.0
    if degree >= 1:
        p[1] = s
    for m in range(1, degree):
        p[m + 1] = ((2 * m + 1) * s * p[m] - m * p[m - 1]) / (m + 1)
    return p


def gauss_legendre(q: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The Butcher tableau ``(A, b, c)`` of the q-stage Gauss–Legendre method (order 2q).

    Args:
        q: number of stages (≥ 1).

    Returns:
        ``A`` (q × q), ``b`` (q,), ``c`` (q,), nodes increasing in (0, 1).

    Raises:
        ValueError: when ``q`` is not a positive integer.

    The implicit midpoint rule is the one-stage method:

    >>> A, b, c = gauss_legendre(1)
    >>> A.tolist(), b.tolist(), c.tolist()
    ([[0.5]], [1.0], [0.5])
    >>> A, b, c = gauss_legendre(2)
    >>> bool(np.allclose(A, [[1/4, 1/4 - 3**0.5/6], [1/4 + 3**0.5/6, 1/4]]))
    True
    """
    if not isinstance(q, (int, np.integer)) or isinstance(q, bool) or q < 1:
        raise ValueError(f"q (the number of stages) must be a positive integer; got {q!r}")
    q = int(q)
    s, w = np.polynomial.legendre.leggauss(q)
    p = legendre_values(s, q)  # p[m, i] = P_m(s_i)
    # terms[i, j] = Σ_{m=1}^{q-1} P_m(s_j) (P_{m+1}(s_i) − P_{m-1}(s_i))
    terms = (p[2 : q + 1] - p[0 : q - 1]).T @ p[1:q]
    A = 0.25 * w[None, :] * ((1.0 + s)[:, None] + terms)
    return A, w / 2.0, (1.0 + s) / 2.0
