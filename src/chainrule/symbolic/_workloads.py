"""The lecture's expression-swell workloads, defined once for the tour, tests and benchmarks.

* ``nested_sin(n)``: f_n(x) = sin(sin(…sin(x))) with n sines; its derivative is a
  product of n cosines, a tree of size quadratic in n.
* ``logistic_map(n)``: l_1 = x, l_{k+1} = 4 l_k (1 − l_k); l_n is a polynomial of
  degree 2^(n−1) whose derivative tree grows exponentially.
"""

from __future__ import annotations

from typing import Callable

import chainrule.numpy as np

__all__ = ["nested_sin", "logistic_map"]


def nested_sin(n: int) -> Callable:
    """x ↦ sin(sin(…sin(x))) with ``n`` sines, named ``sin^n``."""
    def f(x):
        for _ in range(n):
            x = np.sin(x)
        return x

    f.__name__ = f"sin^{n}"
    return f


def logistic_map(n: int) -> Callable:
    """x ↦ l_n of the logistic map l_{k+1} = 4 l_k (1 − l_k), l_1 = x, named ``l<n>``."""
    def f(x):
        for _ in range(n - 1):
            x = 4 * x * (1 - x)
        return x

    f.__name__ = f"l{n}"
    return f
