"""Finite-difference cases found by the demo: steps too long for the function's scale."""

import numpy as np
import pytest

import chainrule.numeric as fd


@pytest.mark.parametrize("f,x,exact", [
    (lambda x: np.cos(x**2), 5.0, -10 * np.sin(25.0)),
    (lambda x: np.sin(8 * x), 3.0, 8 * np.cos(24.0)),
    (lambda x: 64 * x * (1 - x) * (1 - 2 * x) ** 2 * (1 - 8 * x + 8 * x * x) ** 2, 0.3,
     1.3090816),  # the lecture's product-rule derivative of l4 at 0.3
])
def test_richardson_keeps_halving_until_converged(f, x, exact):
    r = fd.derivative(f, x, method="richardson", full_output=True)
    assert r.value == pytest.approx(exact, rel=1e-7)
    assert abs(r.value - exact) <= max(r.error, 1e-7 * abs(exact))
