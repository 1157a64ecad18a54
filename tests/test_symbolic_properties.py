"""Symbolic derivatives against AD on random expressions built from the primitive set.

Hypothesis draws an expression tree over x, y and constants whose nodes are
chainrule primitives (wrapped where needed to stay in their domain: log and
sqrt of 1 + u², division by 1 + v², exp of tanh u). The tree is run once as a
chainrule function; SymPy differentiates its trace, the derivative is evaluated
at 30 digits at a random point, and forward and reverse AD must agree with it to
1e-12 relative (1e-12 absolute near zero, where relative error is not defined).
"""


import sympy as sp  # noqa: E402  (a test extra: its absence must fail, not skip)

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import chainrule as cr  # noqa: E402
import chainrule.numpy as np  # noqa: E402
from chainrule import symbolic  # noqa: E402

UNARY = {
    "sin": np.sin,
    "cos": np.cos,
    "tanh": np.tanh,
    "arctan": np.arctan,
    "neg": np.negative,
    "square": np.square,
    "exp_tanh": lambda u: np.exp(np.tanh(u)),
    "log_1p_sq": lambda u: np.log(1.0 + u * u),
    "log1p_sq": lambda u: np.log1p(np.square(u)),
    "sqrt_1p_sq": lambda u: np.sqrt(1.0 + np.square(u)),
    "expm1_sin": lambda u: np.expm1(np.sin(u)),
    "cosh_tanh": lambda u: np.cosh(np.tanh(u)),
    "sinh_sin": lambda u: np.sinh(np.sin(u)),
}

BINARY = {
    "add": np.add,
    "sub": np.subtract,
    "mul": np.multiply,
    "div": lambda a, b: a / (1.0 + b * b),
    "pow": lambda a, b: (1.0 + a * a) ** np.tanh(b),
    "ipow": lambda a, b: a**3 - b**2,
}

leaves = st.one_of(
    st.sampled_from(["x", "y"]),
    st.floats(-2.0, 2.0, allow_nan=False).map(lambda c: round(c, 3)),
)


def _extend(children):
    return st.one_of(
        st.tuples(st.sampled_from(sorted(UNARY)), children),
        st.tuples(st.sampled_from(sorted(BINARY)), children, children),
    )


trees = st.recursive(leaves, _extend, max_leaves=8)
points = st.tuples(st.floats(-1.5, 1.5), st.floats(-1.5, 1.5))


def build(tree):
    """The tree as a chainrule function of (x, y)."""

    def run(node, env):
        if isinstance(node, str):
            return env[node]
        if isinstance(node, float):
            return node
        if len(node) == 2:
            return UNARY[node[0]](run(node[1], env))
        return BINARY[node[0]](run(node[1], env), run(node[2], env))

    def f(x, y):
        return run(tree, {"x": x, "y": y}) + 0.0 * x  # always depends on x and y

    return f


def exact(expr, point):
    X, Y = (sp.Float(v, 30) for v in point)
    xs, ys = sp.symbols("x y", real=True)
    return float(expr.evalf(30, subs={xs: X, ys: Y}))


def close(a, b) -> bool:
    return abs(a - b) <= 1e-12 * max(abs(b), 1.0)


@settings(max_examples=60, deadline=None)
@given(trees, points)
def test_sympy_derivative_equals_forward_and_reverse_ad(tree, point):
    f = build(tree)
    rev = cr.grad(f, argnums=(0, 1))(*point)
    for argnum in (0, 1):
        d = symbolic.diff(f, argnum=argnum)
        want = exact(d.expr, point)
        tangents = (1.0, 0.0) if argnum == 0 else (0.0, 1.0)
        fwd = cr.jvp(f, point, tangents)[1]
        assert close(float(fwd), want), (tree, argnum, fwd, want, d.expr)
        assert close(float(rev[argnum]), want), (tree, argnum, rev[argnum], want, d.expr)


@settings(max_examples=40, deadline=None)
@given(trees, points)
def test_bridge_round_trip_keeps_values_and_gradients(tree, point):
    f = build(tree)
    expr = symbolic.expression(f)
    g = symbolic.function(expr, *sp.symbols("x y", real=True))
    assert close(float(g(*point)), float(f(*point)))
    got = cr.grad(g, argnums=(0, 1))(*point)
    want = cr.grad(f, argnums=(0, 1))(*point)
    assert all(close(float(a), float(b)) for a, b in zip(got, want, strict=True))
