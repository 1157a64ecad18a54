"""chainrule.symbolic.matrix: properties over random expressions (hypothesis).

Random scalar functions of a vector x are built from the package's building blocks; for each,
the closed-form gradient and Hessian must equal chainrule's reverse mode, the generated code
must equal the plain evaluator, and the ASCII printout must parse back to the same tree.
"""

from __future__ import annotations

import numpy as onp
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import chainrule as cr
import chainrule.numpy as cnp
from chainrule.symbolic.matrix import (
    ascii, evaluate, gradient, hessian, lambdify, parse, simplify,
)
from chainrule.symbolic.matrix.evaluate import dimension_sizes
from chainrule.symbolic.matrix.expr import Identity, Ones, Zero

SHAPES = {"x": "n", "a": "n", "A": ("n", "n"), "B": ("m", "n"), "b": "m"}


def vectors(depth: int):
    """Column vectors of length n, as formula text."""
    leaves = st.sampled_from(["x", "a", "A*x", "B'*b", "B'*(B*x)"])
    if depth == 0:
        return leaves
    sub = vectors(depth - 1)
    return st.one_of(
        leaves,
        st.builds(lambda v: f"A*({v})", sub),
        st.builds(lambda v: f"A'*({v})", sub),
        st.builds(lambda f, v: f"{f}({v})", st.sampled_from(["tanh", "sin", "sigmoid"]), sub),
        st.builds(lambda u, v: f"({u}) .* ({v})", sub, sub),
        st.builds(lambda u, v: f"({u}) - ({v})", sub, sub),
        st.builds(lambda c, v: f"{c}*({v})", st.sampled_from(["2", "0.5", "-3"]), sub),
    )


def scalars(depth: int):
    v = vectors(depth)
    one = st.one_of(
        st.builds(lambda u: f"a'*({u})", v),
        st.builds(lambda u: f"norm2({u})^2", v),
        st.builds(lambda u: f"sum({u})", v),
        st.builds(lambda u, w: f"({u})'*A*({w})", v, v),
        st.builds(lambda u: f"norm2(B*({u}) - b)^2", v),
    )
    return st.one_of(one, st.builds(lambda s, t: f"({s})*({t})", one, one),
                     st.builds(lambda s, t: f"({s}) + ({t})", one, one))


def _values(expr, seed):
    rng = onp.random.default_rng(seed)
    size = {"n": 4, "m": 3}
    out = {}
    for name, s in expr.symbols().items():
        shape = tuple(size[d] for d in s.shape if d != 1)
        out[name] = rng.standard_normal(shape) / 2
    return out


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scalars(2), st.integers(0, 2**16))
def test_random_functions_gradient_and_hessian_equal_reverse_mode(formula, seed):
    expr = parse(formula, SHAPES)
    assume("x" in expr.symbols())
    values = _values(expr, seed)
    sizes = dimension_sizes(expr, values)
    names = list(expr.symbols())
    k = names.index("x")
    args = [values[n] for n in names]

    def f(*a):
        return evaluate(expr, dict(zip(names, a)), xp=cnp)

    g, H = gradient(expr, "x"), hessian(expr, "x")
    want_g, want_H = cr.grad(f, argnums=k)(*args), cr.hessian(f, argnums=k)(*args)
    scale_g = max(1.0, float(onp.max(onp.abs(want_g))))
    scale_H = max(1.0, float(onp.max(onp.abs(want_H))))
    assert onp.max(onp.abs(evaluate(g, values, sizes=sizes) - want_g)) <= 1e-10 * scale_g
    assert onp.max(onp.abs(evaluate(H, values, sizes=sizes) - want_H)) <= 1e-10 * scale_H
    code = lambdify({"g": g, "H": H}, like=expr)
    got_g, got_H = code(*args)
    assert onp.max(onp.abs(got_g - want_g)) <= 1e-10 * scale_g
    assert onp.max(onp.abs(got_H - want_H)) <= 1e-10 * scale_H
    for e in (expr, g, H):
        if any(isinstance(n, (Zero, Ones, Identity)) for n in e.walk()):
            continue  # "0", "ones", "I": their sizes are not always fixed by the text
        assert simplify(parse(ascii(e), SHAPES)) == simplify(e), ascii(e)
