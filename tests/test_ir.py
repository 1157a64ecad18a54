"""The program IR: golden printed traces, passes, eval_ir, staging errors."""

import numpy as onp
import pytest

import chainrule as cr
import chainrule.numpy as np
from chainrule.interpreters.staging import ConcretizationError
from chainrule.ir import cse, dce, eval_ir, optimize
from chainrule.ir.program import Lit


def griewank(x1, x2):
    """The lecture's example, written the way its evaluation trace reads."""
    v1 = x1 / x2
    v2 = np.sin(v1)
    v4 = v1 - np.exp(x2)
    return (v2 + v4) * v4


def griewank_design(x1, x2):
    return (np.sin(x1 / x2) + x1 / x2 - np.exp(x2)) * (x1 / x2 - np.exp(x2))


GRIEWANK_TRACE = """\
inputs: v-1 = x1, v0 = x2
v1 = v-1 / v0
v2 = sin(v1)
v3 = exp(v0)
v4 = v1 - v3
v5 = v2 + v4
v6 = v5 * v4
outputs: v6"""

GRIEWANK_GRAD = """\
inputs: v-1 = x1, v0 = x2
v1 = v-1 / v0
v2 = sin(v1)
v3 = exp(v0)
v4 = v1 - v3
v5 = v2 + v4
v6 = v5 + v4
v7 = -v6
v8 = v7 * v3
v9 = cos(v1)
v10 = v4 * v9
v11 = v6 + v10
v12 = v11 / v0
v13 = -v11
v14 = v1 / v0
v15 = v13 * v14
v16 = v8 + v15
outputs: v12, v16"""


def test_griewank_trace_is_the_lectures():
    assert str(cr.make_ir(griewank)(1.5, 0.5)) == GRIEWANK_TRACE


def test_griewank_grad_program_golden():
    prog = cr.make_ir(cr.grad(griewank, argnums=(0, 1)), optimize=True)(1.5, 0.5)
    assert str(prog) == GRIEWANK_GRAD
    g = eval_ir(prog, 1.5, 0.5)
    onp.testing.assert_allclose(g, (3.0118433276739069, -13.723961509314076), rtol=1e-14)


def test_raw_grad_program_contains_forward_then_reverse():
    prog = cr.make_ir(cr.grad(griewank, argnums=(0, 1)))(1.5, 0.5)
    lines = str(prog).splitlines()
    assert lines[1:7] == GRIEWANK_TRACE.splitlines()[1:7]
    assert len(prog.eqns) > 6


def test_cse_merges_repeated_subexpressions():
    prog = cr.make_ir(griewank_design)(1.5, 0.5)
    assert len(prog.eqns) == 10
    merged = dce(cse(prog))
    assert len(merged.eqns) == 7
    assert eval_ir(merged, 1.5, 0.5) == pytest.approx(griewank(1.5, 0.5))


def test_dce_drops_unused():
    def f(x):
        np.cos(x)  # unused
        return np.sin(x)

    prog = cr.make_ir(f)(1.0)
    assert len(prog.eqns) == 2
    assert len(dce(prog).eqns) == 1


def test_folding_and_identities():
    def f(x):
        return (x * 1.0 + 0.0) * (np.exp(0.0) * 2.0)

    prog = optimize(cr.make_ir(f)(3.0))
    assert str(prog).splitlines()[1:] == ["v1 = v0 * 2.0", "outputs: v1"]


def test_eval_ir_arrays_and_pytrees():
    def f(p, x):
        return {"y": np.tanh(x @ p["W"] + p["b"]).sum(), "z": x}

    rng = onp.random.default_rng(0)
    p = {"W": rng.normal(size=(3, 2)), "b": rng.normal(size=2)}
    x = rng.normal(size=(4, 3))
    prog = cr.make_ir(f)(p, x)
    out = eval_ir(prog, p, x)
    ref = f(p, x)
    assert out["y"] == pytest.approx(ref["y"])
    assert prog.eqns[0].outvars[0].aval.shape == (4, 2)


def test_eval_ir_is_differentiable():
    prog = cr.make_ir(griewank)(1.5, 0.5)
    g = cr.grad(lambda a, b: eval_ir(prog, a, b), argnums=(0, 1))(1.5, 0.5)
    onp.testing.assert_allclose(g, cr.grad(griewank, argnums=(0, 1))(1.5, 0.5))


def test_masks_are_staged_maximum_where():
    def f(x):
        return np.sum(np.maximum(x, 0.5) ** 2 + np.where(x > 0.2, x, -x))

    x = onp.array([0.1, 0.5, 0.9])
    prog = optimize(cr.make_ir(cr.grad(f))(x))
    onp.testing.assert_allclose(eval_ir(prog, x), cr.grad(f)(x))
    onp.testing.assert_allclose(eval_ir(prog, -x), cr.grad(f)(-x))


def test_hessian_program():
    prog = optimize(cr.make_ir(cr.hessian(lambda x: np.sum(np.sin(x) * x)))(onp.ones(3)))
    x = onp.array([0.3, 0.6, 0.9])
    onp.testing.assert_allclose(eval_ir(prog, x), cr.hessian(lambda x: np.sum(np.sin(x) * x))(x))


def test_value_dependent_branch_names_the_line():
    def f(x):
        if x > 0:  # the line the error names
            return x
        return -x

    with pytest.raises(ConcretizationError, match=r"test_ir.py:\d+: `if x > 0:.*cond"):
        cr.make_ir(f)(1.0)


def test_typed_printing():
    prog = cr.make_ir(lambda x: np.sum(x * x))(onp.ones((2, 3)))
    assert "v1:f64[2,3] = v0 * v0" in prog.pretty(types=True)


def test_equal_indices_are_one_subexpression():
    def f(w):
        return np.sum(w[0] * w[1:]) + np.sum(w[0] * w[1:])

    prog = optimize(cr.make_ir(f)(onp.arange(4.0)))
    assert sum(e.prim.name == "getitem" for e in prog.eqns) == 2


def test_a_value_traced_twice_gets_one_adjoint():
    """Two jvps of one network evaluate it twice; under grad the program has one forward
    copy and one adjoint of each matrix product, the adjoints summed first."""
    rng = onp.random.default_rng(0)
    W1, W2 = rng.normal(size=(1, 8)), rng.normal(size=(8, 1))
    x = rng.normal(size=(5, 1))

    def loss(params):
        W1, W2 = params

        def u(x):
            return np.tanh(x @ W1) @ W2

        ones = onp.ones_like(x)
        _, du = cr.jvp(u, (x,), (ones,))
        _, d2u = cr.jvp(lambda x: cr.jvp(u, (x,), (ones,))[1], (x,), (ones,))
        return np.sum(du * d2u)

    prog = optimize(cr.make_ir(cr.grad(loss))((W1, W2)))
    n_matmul = sum(e.prim.name == "matmul" for e in prog.eqns)
    # forward: x@W1 and ones@W1 (the tangent, shared by both jvps), h'@W2 and h''@W2
    # (u itself is unused); reverse: one W-adjoint per forward product and the two
    # adjoints into h' and h''. Without sharing, the network's second evaluation had
    # its own adjoints: 13.
    assert n_matmul == 4 + 4 + 2
    g = cr.jit(cr.grad(loss))((W1, W2))
    ref = cr.grad(loss)((W1, W2))
    for a, b in zip(g, ref):
        onp.testing.assert_allclose(a, b, rtol=1e-12)


def test_cse_merges_commuted_products_and_sums():
    def f(a, b):
        return (a * b + b * a) * (a + b) - (b + a)

    prog = optimize(cr.make_ir(f)(2.0, 3.0))
    assert [e.prim.name for e in prog.eqns].count("mul") == 2
    assert [e.prim.name for e in prog.eqns].count("add") == 2
    assert eval_ir(prog, 2.0, 3.0) == pytest.approx(f(2.0, 3.0))


def test_negations_and_exact_scalings_fold_into_their_users():
    def f(a, b):
        u = a + -b  # a - b
        v = a - -b  # a + b
        w = -(u * v + u * v)  # (u·v)·-2, and w·0.5 = -(u·v)
        return w * 0.5 + (v * 3.0) * 2.0  # = v·6 - u·v: 2 is exact, so (v·3)·2 = v·6

    a, b = onp.linspace(0.5, 1.5, 5), onp.linspace(-1.0, 2.0, 5)
    prog = optimize(cr.make_ir(f)(a, b))
    names = [e.prim.name for e in prog.eqns]
    assert "neg" not in names
    assert sorted(names) == ["add", "mul", "mul", "sub", "sub"]
    onp.testing.assert_array_equal(eval_ir(prog, a, b), f(a, b))


def test_a_scaling_by_any_number_folds_only_next_to_an_exact_one():
    def f(a):
        return ((a * 3.0) * 2.0, (a * 3.0) * 5.0)  # a·6 (exact); (a·3)·5 stays two products

    a = onp.linspace(-1.7, 2.3, 11)
    prog = optimize(cr.make_ir(f)(a))
    assert sorted(str(e.invars[1].value) for e in prog.eqns) == ["3.0", "5.0", "6.0"]
    for got, want in zip(eval_ir(prog, a), f(a), strict=True):
        onp.testing.assert_array_equal(got, want)


def test_a_constant_stretched_along_one_axis_only_is_no_number():
    T = onp.linspace(0.0, 3.0, 7)

    def decay(p):  # jacfwd: p[2]'s tangents are the rows of I stretched along T's axis
        return p[0] * np.exp(-p[1] * T) + p[2] - 1.0

    p = onp.array([2.0, 0.5, 1.0])
    J = cr.jacfwd(decay)
    want = onp.stack([onp.exp(-0.5 * T), -2.0 * T * onp.exp(-0.5 * T), onp.ones(7)], axis=1)
    onp.testing.assert_allclose(J(p), want, rtol=1e-14)
    onp.testing.assert_allclose(cr.jit(J)(p), want, rtol=1e-14)


def test_a_uniform_array_constant_becomes_a_number_and_scatters_merge():
    def rosen(x):
        return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)

    x = onp.random.default_rng(3).uniform(-2, 2, 50)
    g = cr.grad(rosen)
    prog = optimize(cr.make_ir(g)(x))
    # the sum's seed, ones broadcast to x[1:]'s shape, leaves no array constant behind
    assert not any(isinstance(a, Lit) and isinstance(a.value, onp.ndarray) and a.value.size > 1
                   for e in prog.eqns for a in e.invars)
    src = cr.jit(g).lower(x).source
    assert src.count("scatter_add_onto") == 1 and src.count("scatter_add") == 2
    a, d = x[:-1], x[1:] - x[:-1] ** 2  # the hand-written gradient
    want = onp.zeros_like(x)
    want[:-1] = -400.0 * d * a - 2.0 * (1.0 - a)
    want[1:] += 200.0 * d
    onp.testing.assert_allclose(cr.jit(g)(x), want, rtol=1e-14, atol=1e-12)
    onp.testing.assert_allclose(cr.jit(g)(x), g(x), rtol=1e-14, atol=1e-12)
