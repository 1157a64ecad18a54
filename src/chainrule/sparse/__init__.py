"""Sparse derivatives: detect the pattern, colour it, recover J or H from few products.

This package holds the algorithms on patterns (index-set propagation over a program,
colourings, recovery); the derivatives that use them, ``sparsity(f, x)`` and
``jacobian``/``hessian(..., sparsity=...)``, are in :mod:`chainrule.transforms.sparse_jacobians`.

>>> import chainrule as cr, chainrule.numpy as np
>>> f = lambda u: u[:-2] - 2 * u[1:-1] + u[2:] - u[1:-1] ** 3
>>> J = cr.jacobian(f, sparsity=True)(np.linspace(0, 1, 50))
>>> J.shape, cr.jacobian(f, sparsity=True).__name__
((48, 50), 'jacobian_of_<lambda>_wrt_0')
"""

from chainrule.sparse.coloring import (
    Coloring,
    color_columns,
    color_rows,
    is_star_coloring,
    star_coloring,
)
from chainrule.sparse.pattern import Pattern, propagate

__all__ = ["Coloring", "color_columns", "color_rows", "star_coloring", "is_star_coloring",
           "Pattern", "propagate"]
