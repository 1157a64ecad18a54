"""jit(grad(f)) over the whole primitive table: every row of ``op_specs.SPECS`` gives
the eager gradient under jit too, so no derivative rule reads a value that jit does not
know (a zero mask, a support mask). The rows that cannot be staged are listed, each with
its reason, and must fail with a clear error."""

from __future__ import annotations

import numpy as onp
import pytest
from op_specs import SPECS, sample

import chainrule as cr
import chainrule.numpy as np

#: rows jit cannot stage, and a fragment of the error each one must raise
NOT_STAGEABLE = {
    "getitem": "mask computed from traced values",  # the row selects with x[x[:, 0] > -10]
    "while_loop": "trip count",  # reverse mode through while_loop needs the trip count
}
#: rows whose output is not an array of numbers to sum
NOT_NUMERIC = {"nonzero", "empty_like"}

CASES = sorted(set(SPECS) - NOT_NUMERIC)


def _args(name):
    spec = SPECS[name]
    rng = onp.random.default_rng(7)
    shapes = spec.shapes[-1]
    domains = spec.domain * len(shapes) if len(spec.domain) == 1 else spec.domain
    return spec, [sample(d, s, rng) for d, s in zip(domains, shapes, strict=True)]


@pytest.mark.parametrize("name", CASES)
def test_jit_of_grad_equals_eager(name):
    spec, args = _args(name)

    def f(*a):
        return np.sum(np.real(spec.fn(*a)) * 1.0)

    g = cr.grad(f, argnums=tuple(range(len(args))))
    if name in NOT_STAGEABLE:
        with pytest.raises(TypeError, match=NOT_STAGEABLE[name]):
            cr.jit(g)(*args)
        return
    with onp.errstate(all="ignore"):
        for ours, eager in zip(cr.jit(g)(*args), g(*args), strict=True):
            onp.testing.assert_allclose(ours, eager, rtol=1e-12, atol=1e-12)


def test_a_traced_integer_index_under_jit_points_to_take_along_axis():
    x = onp.array([1.0, -1.0, 2.0])
    with pytest.raises(TypeError, match="take_along_axis"):
        cr.jit(lambda x: np.sum(x[np.argsort(x)]))(x)
