"""Trust-region methods on the hard Moré–Garbow–Hillstrom problems, to their published
minima (regressions: each failed before its fix)."""

import numpy as onp

from chainrule.optimize import minimize
from chainrule.optimize.mgh import PROBLEMS


def test_trust_krylov_solves_meyer_despite_hessian_condition_1e16():
    # Meyer's f* = 87.9458 (MGH 1981); near the valley the Hessian's condition is ~1e16
    # and the first Lanczos step is a stiff one predicting less than f's rounding noise
    p = PROBLEMS["meyer"]
    r = minimize(p.f, p.start(), method="trust-krylov")
    assert abs(r.fun - 87.9458) <= 1e-5 * 87.9458
    onp.testing.assert_allclose(r.x, [5.6096e-3, 6181.35, 345.224], rtol=1e-4)
