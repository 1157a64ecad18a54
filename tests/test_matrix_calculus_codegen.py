"""chainrule.symbolic.matrix: generated NumPy code against the plain evaluator, and its shape."""

from __future__ import annotations

import linecache

import numpy as onp
import pytest
from test_matrix_calculus import TABLE, _values

from chainrule.symbolic.matrix import (
    evaluate, gradient, hessian, hvp, lambdify, numpy_source, parse,
)
from chainrule.symbolic.matrix.evaluate import dimension_sizes


@pytest.mark.parametrize("formula,wrt,decl", [r[:3] for r in TABLE],
                         ids=[f"{r[0]}|{r[1]}" for r in TABLE])
def test_generated_functions_agree_with_the_plain_evaluator(formula, wrt, decl):
    expr = parse(formula, **decl)
    values = _values(expr, onp.random.default_rng(7))
    sizes = dimension_sizes(expr, values)
    names = list(expr.symbols())
    args = [values[n] for n in names]
    g = gradient(expr, wrt)
    f_and_g = lambdify({"value": expr, "gradient": g}, like=expr)
    value, grad = f_and_g(*args)
    onp.testing.assert_allclose(value, evaluate(expr, values), rtol=1e-12, atol=1e-12)
    onp.testing.assert_allclose(grad, evaluate(g, values, sizes=sizes), rtol=1e-12,
                                atol=1e-12)
    sym = expr.symbols()[wrt]
    if sym.rows != 1 and sym.cols != 1:
        second = hvp(expr, wrt)
        v = onp.random.default_rng(8).standard_normal(onp.shape(values[wrt]))
        if "V" in second.symbols():
            got = lambdify(second, names + ["V"], like=expr)(*args, v)
        else:  # a zero Hessian
            got = lambdify(second, like=expr)(*args)
        want = evaluate(second, {**values, "V": v}, sizes=sizes)
    else:
        second = hessian(expr, wrt)
        got = lambdify(second, like=expr)(*args)
        want = evaluate(second, values, sizes=sizes)
    onp.testing.assert_allclose(onp.broadcast_to(got, onp.shape(want)), want, rtol=1e-12,
                                atol=1e-12)


def test_least_squares_code_is_what_a_person_writes():
    f = parse("norm2(y - A*x)^2")
    src = numpy_source({"loss": f, "grad": gradient(f, "x")}, args=["A", "x", "y"])
    assert src.splitlines()[2:] == [
        "    t1 = y - A @ x  # y − Ax",
        "    return np.vdot(t1, t1), -2 * (A.T @ t1)",
    ]


def test_three_layer_code_reuses_w1x_and_the_residual():
    f = parse("norm2(Y - W3*W2*W1*X)^2")
    src = numpy_source({"loss": f, "grad": gradient(f, "W2")})
    assert src.count("W1 @ X") == 1 and src.count("Y - ") == 1
    assert "-2 * np.linalg.multi_dot([W3.T, t2, t1.T])" in src


def test_hessian_code_shares_bx_and_never_forms_a_diagonal_matrix():
    f = parse("x'*A*x + norm2(B*x)^4")
    src = numpy_source(hessian(f, "x"), like=f)
    assert src.count("B @ x") == 1 and "np.outer(t2, t2)" in src
    e = parse("sum(exp(A*x))")
    assert "np.diag" not in numpy_source(hessian(e, "x"), like=e)


def test_source_is_registered_for_tracebacks_and_arguments_are_checked():
    f = parse("logdet(X)")
    fn = lambdify(gradient(f, "X"), name="grad_logdet")
    assert "np.linalg.inv(X).T" in fn.source
    assert linecache.getline(fn.__code__.co_filename, 1).startswith("def grad_logdet(X):")
    with pytest.raises(ValueError, match="leaves out X"):
        numpy_source(gradient(f, "X"), args=["Y"])
    with pytest.raises(ValueError, match="not a symbol"):
        numpy_source(gradient(f, "X"), args=["X", "Z"])
