"""chainrule.symbolic: tracing into SymPy, the bridge back, exact derivatives, swell sizes."""

import math
import subprocess
import sys
import textwrap

import numpy as onp
import pytest

import sympy as sp  # noqa: E402  (a test extra: its absence must fail, not skip)

import chainrule as cr  # noqa: E402
import chainrule.numpy as np  # noqa: E402
from chainrule import symbolic  # noqa: E402
from chainrule.core.primitive import PRIMITIVES, Primitive  # noqa: E402

x, y = sp.symbols("x y", real=True)
x1, x2 = sp.symbols("x1 x2", real=True)


def griewank(x1, x2):
    return (np.sin(x1 / x2) + x1 / x2 - np.exp(x2)) * (x1 / x2 - np.exp(x2))


def logistic(n):
    def l_n(x):
        for _ in range(n - 1):
            x = 4 * x * (1 - x)
        return x

    return l_n


def nested_sin(n):
    def f(x):
        for _ in range(n):
            x = np.sin(x)
        return x

    return f


def same(a, b) -> bool:
    return sp.simplify(a - b) == 0


# ---------------------------------------------------------------------------
# the lecture's seed examples
# ---------------------------------------------------------------------------

def test_griewank_expression_gradient_and_numbers():
    e = symbolic.expression(griewank)
    assert same(e, (sp.sin(x1 / x2) + x1 / x2 - sp.exp(x2)) * (x1 / x2 - sp.exp(x2)))
    g = symbolic.gradient(griewank)
    assert g.shape == (2, 1)
    at = {x1: 1.5, x2: 0.5}
    assert float(g[0].subs(at)) == pytest.approx(3.0118, abs=1e-4)
    assert float(g[1].subs(at)) == pytest.approx(-13.7239, abs=1e-4)
    ad = cr.grad(griewank, argnums=(0, 1))(1.5, 0.5)
    assert [float(gi.subs(at)) for gi in g] == pytest.approx(ad, rel=1e-12)


def test_log_product_sine():
    def f(x1, x2):
        return np.log(x1) + x1 * x2 - np.sin(x2)

    assert symbolic.expression(f) == sp.log(x1) + x1 * x2 - sp.sin(x2)
    assert symbolic.gradient(f) == sp.Matrix([1 / x1 + x2, x1 - sp.cos(x2)])
    d2 = symbolic.diff(f, argnum=1)
    assert round(float(d2(2.0, 5.0)), 3) == 1.716


def test_five_x_cubed_and_cos_x_squared():
    d = symbolic.diff(lambda x: 5 * x**3)
    assert d.expr == 15 * x**2
    assert d(2.0) == 60.0
    d = symbolic.diff(lambda x: np.cos(x**2))
    assert d.expr == -2 * x * sp.sin(x**2)
    assert float(d(5.0)) == pytest.approx(-2 * 5 * math.sin(25), rel=1e-14)


def test_logistic_map_l4_is_the_lectures_polynomial():
    l4 = symbolic.expression(logistic(4), "x")
    lecture = 64 * x * (1 - x) * (1 - 2 * x) ** 2 * (1 - 8 * x + 8 * x**2) ** 2
    assert sp.expand(l4 - lecture) == 0
    d = symbolic.diff(logistic(4))
    assert float(d(0.3)) == pytest.approx(cr.grad(logistic(4))(0.3), rel=1e-13)
    assert sp.expand(d.expr - sp.diff(lecture, x)) == 0


# ---------------------------------------------------------------------------
# expression(): arrays, branches, names
# ---------------------------------------------------------------------------

def test_array_arguments_become_symbols_and_outputs_matrices():
    e = symbolic.expression(lambda v: np.sum(v**2), ("v", 3))
    v = sp.symbols("v_0 v_1 v_2", real=True)
    assert e == v[0] ** 2 + v[1] ** 2 + v[2] ** 2
    A = sp.Matrix(2, 2, sp.symbols("A_0_0 A_0_1 A_1_0 A_1_1", real=True))
    b = sp.Matrix(sp.symbols("b_0 b_1", real=True))
    out = symbolic.expression(lambda A, b: A @ b + 1.0, ("A", (2, 2)), ("b", 2))
    assert isinstance(out, sp.MatrixBase)
    assert out == A * b + sp.ones(2, 1)


def test_structural_primitives():
    v = sp.symbols("v_0 v_1 v_2 v_3", real=True)
    spec = ("v", 4)
    assert symbolic.expression(lambda a: a[1:3].prod(), spec) == v[1] * v[2]
    assert symbolic.expression(lambda a: np.max(a), spec) == sp.Max(*v)
    assert symbolic.expression(lambda a: np.mean(a), spec) == sum(v) / 4
    m = symbolic.expression(lambda a: a.reshape(2, 2).T, spec)
    assert m == sp.Matrix([[v[0], v[2]], [v[1], v[3]]])
    s = symbolic.expression(lambda a: np.stack([a[0], np.exp(a[3])]), spec)
    assert s == sp.Matrix([v[0], sp.exp(v[3])])
    c = symbolic.expression(lambda a: np.concatenate([a[:1], a[2:] * 2.0]), spec)
    assert c == sp.Matrix([v[0], 2 * v[2], 2 * v[3]])
    t = symbolic.expression(lambda a: np.sum(a.reshape(2, 2), axis=0, keepdims=True), spec)
    assert t == sp.Matrix([[v[0] + v[2], v[1] + v[3]]])


def test_matrix_and_symbol_specs():
    e = symbolic.expression(lambda a, s: a[0] * s, sp.Matrix([x, y]), sp.Symbol("s"))
    assert e == x * sp.Symbol("s")


def test_where_becomes_piecewise_and_branches_are_refused():
    e = symbolic.expression(lambda x: np.where(x > 0, x, -x))
    assert e == sp.Piecewise((x, x > 0), (-x, True))

    def branchy(x):
        return x if x > 0 else -x

    with pytest.raises(TypeError, match="truth value of a symbolic value"):
        symbolic.expression(branchy)


def test_constants_floats_and_stop_gradient():
    e = symbolic.expression(lambda x: 2.0 * x + 0.5)
    assert e == 2 * x + sp.Float(0.5)
    e = symbolic.expression(lambda x: cr.stop_gradient(x) * x)
    assert sp.diff(e, x) == symbolic.StopGradient(x)
    f = symbolic.function(e, x)
    assert cr.grad(f)(3.0) == pytest.approx(3.0)


def test_trace_through_chainrule_transformations():
    # the derivative AD computes, as a formula: grad/derivative run on symbols
    assert symbolic.expression(cr.grad(lambda x: np.sin(x) * x)) == x * sp.cos(x) + sp.sin(x)
    e = symbolic.expression(cr.derivative(lambda x: np.cos(x**2), order=2), "x")
    assert same(e, sp.diff(sp.cos(x**2), x, 2))
    g = symbolic.expression(cr.grad(lambda v: np.sum(np.tanh(v) ** 2)), ("v", 2))
    v0 = sp.Symbol("v_0", real=True)
    assert same(g[0], sp.diff(sp.tanh(v0) ** 2, v0))


def test_unknown_primitive_is_named():
    odd = Primitive("odd_test_op_for_symbolic", lambda a: a, jvps=(None,), vjps=(None,))
    try:
        with pytest.raises(NotImplementedError, match="'odd_test_op_for_symbolic'"):
            symbolic.expression(lambda x: odd(x))
    finally:  # keep the registry as the systematic tests expect it
        del PRIMITIVES["odd_test_op_for_symbolic"]


def test_expression_needs_names_for_star_args():
    with pytest.raises(TypeError, match="pass them"):
        symbolic.expression(lambda *a: a[0])
    assert symbolic.expression(lambda *a: a[0] * a[1], "x", "y") == x * y


# ---------------------------------------------------------------------------
# function(): SymPy back to chainrule
# ---------------------------------------------------------------------------

BRIDGE_CASES = [
    x**3 - 2 * x * y + 1,
    sp.sin(x) / (1 + y**2),
    sp.exp(-x) * sp.cos(y) - sp.sqrt(x**2 + 1),
    sp.log(x**2 + 1) * sp.atan(y) + sp.tanh(x - y),
    (x - y) ** -2 + 1 / sp.sqrt(1 + x**2) + x ** sp.Rational(3, 2) + (1 + y**2) ** x,
    sp.Abs(x - 1) + sp.Max(x, y) - sp.Min(x, 2 * y) + sp.sinh(x) * sp.cosh(y) + sp.tan(x / 3),
    sp.Piecewise((x**2, x > y), (y - x, True)) + sp.pi * sp.E + sp.log(x, 2),
]


@pytest.mark.parametrize("expr", BRIDGE_CASES, ids=[str(i) for i in range(len(BRIDGE_CASES))])
def test_function_values_and_derivatives_match_sympy(expr):
    f = symbolic.function(expr, x, y)
    for point in [(0.7, -0.4), (1.9, 0.3)]:
        at = dict(zip((x, y), point, strict=True))
        assert float(f(*point)) == pytest.approx(float(expr.subs(at)), rel=1e-12)
        g = cr.grad(f, argnums=(0, 1))(*point)
        exact = [float(sp.diff(expr, s).subs(at)) for s in (x, y)]
        assert g == pytest.approx(exact, rel=1e-12, abs=1e-13)


def test_function_roundtrip_of_a_trace():
    e = symbolic.expression(griewank)
    f = symbolic.function(e, x1, x2)
    assert f(1.5, 0.5) == pytest.approx(griewank(1.5, 0.5), rel=1e-14)
    assert symbolic.expression(f, x1, x2) == e


def test_function_matrix_output_and_array_argument():
    v = sp.Matrix(sp.symbols("v0 v1", real=True))
    expr = sp.Matrix([v[0] * v[1], sp.sin(v[0])])
    f = symbolic.function(expr, v)
    a = onp.array([0.5, 2.0])
    assert onp.allclose(f(a), [1.0, math.sin(0.5)])
    J = cr.jacrev(f)(a)
    assert onp.allclose(J, [[2.0, 0.5], [math.cos(0.5), 0.0]])


def test_function_errors():
    with pytest.raises(ValueError, match="free symbol y"):
        symbolic.function(x * y, x)(1.0)
    with pytest.raises(NotImplementedError, match="gamma"):
        symbolic.function(sp.gamma(x), x)(1.0)


def test_function_deep_expression_is_iterative():
    e = x
    for _ in range(200):  # SymPy itself recurses while building deeper ones
        e = sp.sin(e)
    value = symbolic.function(e, x)(0.5)
    assert value == pytest.approx(nested_sin(200)(0.5), rel=1e-12)


# ---------------------------------------------------------------------------
# diff / gradient / hessian
# ---------------------------------------------------------------------------

def test_diff_object():
    d = symbolic.diff(lambda x, y: x**2 * np.sin(y), argnum=1, order=2)
    assert d.expr == -(x**2) * sp.sin(y)
    assert d.symbols == [x, y]
    assert d.latex() == r"- x^{2} \sin{\left(y \right)}"
    assert float(d(2.0, 0.3)) == pytest.approx(-4 * math.sin(0.3))
    assert "diff_of_" in repr(d)
    assert d._repr_latex_().startswith("$")


def test_diff_is_differentiable_by_chainrule():
    d1 = symbolic.diff(nested_sin(3))
    d2 = symbolic.diff(nested_sin(3), order=2)
    assert cr.grad(d1)(0.4) == pytest.approx(float(d2(0.4)), rel=1e-12)


def test_simplified():
    d = symbolic.diff(lambda x: (np.sin(x) + np.cos(x)) ** 2)
    s = d.simplified()
    assert s.expr == 2 * sp.cos(2 * x)
    assert s.symbols == d.symbols
    assert float(s(1.0)) == pytest.approx(float(d(1.0)), rel=1e-14)


def test_order_zero_and_bad_arguments():
    assert symbolic.diff(lambda x: np.exp(x), order=0).expr == sp.exp(x)
    with pytest.raises(ValueError, match="argnum=2"):
        symbolic.diff(lambda x, y: x * y, argnum=2)
    with pytest.raises(ValueError, match="order"):
        symbolic.diff(lambda x: x, order=-1)
    with pytest.raises(TypeError, match="scalar arguments"):
        symbolic.diff(lambda v: np.sum(v), names=(("v", 2),))


def test_hessian_matches_ad():
    H = symbolic.hessian(griewank)
    assert H == H.T
    at = {x1: 1.5, x2: 0.5}
    Hn = onp.array(H.subs(at).evalf(), dtype=float)
    Had = onp.array(cr.hessian(lambda v: griewank(v[0], v[1]))(onp.array([1.5, 0.5])))
    assert onp.allclose(Hn, Had, rtol=1e-12)


def test_gradient_and_hessian_with_nargs():
    g = symbolic.gradient(lambda *a: a[0] * a[1] ** 2, nargs=2)
    a1, a2 = sp.symbols("x1 x2", real=True)
    assert g == sp.Matrix([a2**2, 2 * a1 * a2])
    assert symbolic.hessian(lambda *a: a[0] * a[1] ** 2, 2) == sp.Matrix([[0, 2 * a2],
                                                                          [2 * a2, 2 * a1]])
    with pytest.raises(TypeError, match="scalar-valued"):
        symbolic.gradient(lambda a, b: np.stack([a, b]))


# ---------------------------------------------------------------------------
# sizes: tree, DAG, AD program
# ---------------------------------------------------------------------------

def test_expression_size_counts_tree_nodes():
    assert symbolic.expression_size(x) == 1
    assert symbolic.expression_size(sp.sin(x)) == 2
    assert symbolic.expression_size(x - y) == 5  # Add(x, Mul(-1, y))
    assert symbolic.expression_size(sp.sin(x) ** 2 + x) == 6
    assert symbolic.expression_size(sp.Matrix([x, sp.sin(x)])) == 3
    s = sp.sin(x) * sp.cos(sp.sin(x) + y)
    assert symbolic.expression_size([s, s]) == 2 * symbolic.expression_size(s)


def test_dag_size_shares_subexpressions():
    big = (sp.sin(x) + y) ** 2
    e = sp.exp(big) * sp.cos(big) + big
    assert symbolic.dag_size(e) < symbolic.expression_size(e)
    assert symbolic.dag_size(x) == 1


def test_nested_sine_swell_quadratic_tree_linear_dag_and_ad():
    for n in range(1, 13):
        d = sp.diff(symbolic.expression(nested_sin(n), "x"), x)
        # d = Π_{k<n} cos(sin^k x): tree Σ_k (k + 2) - 1 nodes (+ the Mul)
        assert symbolic.expression_size(d) == (2 if n == 1 else n * (n + 3) // 2 + 1)
        assert symbolic.dag_size(d) == 4 * n - 2
        assert symbolic.ad_cost(nested_sin(n), 0.3)[:3] == (n, n, 3 * n)


def test_logistic_swell_grows_faster_than_ad():
    tree = [symbolic.expression_size(symbolic.diff(logistic(n)).expr) for n in range(2, 7)]
    ops = [symbolic.ad_cost(logistic(n), 0.3).total for n in range(2, 7)]
    assert ops == [8 * (n - 1) for n in range(2, 7)]  # 3 forward + 5 backward per step
    assert all(b > 2.5 * a for a, b in zip(tree[1:], tree[2:], strict=False))
    assert tree[-1] > 30 * ops[-1]


def test_ad_cost_by_primitive_and_arrays():
    c = symbolic.ad_cost(lambda x: np.sin(x) * x, 0.5)
    assert c.forward == 2 and c.rules == 3
    assert c.by_primitive["sin"] == 1 and c.by_primitive["cos"] == 1
    c = symbolic.ad_cost(lambda v: np.sum(v * v), onp.ones(3))
    assert c.forward == 2 and c.total == sum(c.by_primitive.values())


# ---------------------------------------------------------------------------
# SymPy is optional
# ---------------------------------------------------------------------------

def test_without_sympy_import_error_names_the_extra():
    code = textwrap.dedent("""
        import sys
        sys.modules["sympy"] = None  # makes `import sympy` raise ImportError
        import chainrule  # the core does not need SymPy
        import chainrule.numpy as np
        assert float(chainrule.grad(np.sin)(0.0)) == 1.0
        try:
            import chainrule.symbolic
        except ImportError as e:
            print("MESSAGE:", e)
        else:
            raise SystemExit("chainrule.symbolic imported without SymPy")
    """)
    src = str(__import__("pathlib").Path(cr.__file__).resolve().parents[1])
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env={"PYTHONPATH": src, "PATH": ""}, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "pip install chainrule[symbolic]" in r.stdout


def test_linear_algebra_and_scans_on_small_matrices():
    A = sp.Matrix(2, 2, sp.symbols("A_0_0 A_0_1 A_1_0 A_1_1", real=True))
    spec = ("A", (2, 2))
    assert symbolic.expression(lambda a: np.linalg.det(a), spec) == A.det()
    inv = symbolic.expression(lambda a: np.linalg.inv(a), spec)
    assert sp.simplify(inv - A.inv()) == sp.zeros(2, 2)
    b = sp.Matrix(sp.symbols("b_0 b_1", real=True))
    sol = symbolic.expression(lambda a, v: np.linalg.solve(a, v), spec, ("b", 2))
    assert sp.simplify(A * sol - b) == sp.zeros(2, 1)
    v = sp.symbols("v_0 v_1 v_2", real=True)
    assert symbolic.expression(lambda a: np.cumsum(a), ("v", 3)) == sp.Matrix(
        [v[0], v[0] + v[1], v[0] + v[1] + v[2]])
    assert symbolic.expression(lambda a: np.linalg.norm(a), ("v", 3)) == sp.sqrt(
        sum(vi**2 for vi in v))
