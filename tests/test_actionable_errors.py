"""Errors users can act on: jit's static arguments and traced keyword arguments, eager
calls rejecting exactly what jit rejects (same message), and clear messages for the
common mistakes (a string to differentiate, argnums=1.0, scan over a string, an array
predicate, a SciPy function on a traced value, a pytree nested too deeply)."""

from __future__ import annotations

import re
import warnings

import numpy
import pytest
import scipy.special

import chainrule as cr
import chainrule.numpy as np


# --- jit: static_argnums / static_argnames, traced keyword arguments -------------------

def scaled(x, mode):
    return x * 2.0 if mode == "double" else x * 3.0


def test_jit_explains_a_non_array_argument_and_suggests_static():
    with pytest.raises(TypeError, match=re.escape(
            "argument 1 (mode) is a str ('double'), which jit cannot trace")) as err:
        cr.jit(scaled)(1.5, "double")
    assert "static_argnums=1" in str(err.value) and "static_argnames='mode'" in str(err.value)
    with pytest.raises(TypeError, match=r"keyword argument 'mode' is a str .*"
                                        r"static_argnames='mode'"):
        cr.jit(scaled)(1.5, mode="double")
    with pytest.raises(TypeError, match=r"argument 0 \(g\) is a ufunc .* static_argnums=0"):
        cr.jit(lambda g, x: g(x))(numpy.sin, 1.0)


@pytest.mark.parametrize("how", ["argnums", "argnames"])
def test_static_arguments_by_position_or_by_name(how):
    f = (cr.jit(scaled, static_argnums=1) if how == "argnums"
         else cr.jit(scaled, static_argnames="mode"))
    x = numpy.array([1.0, -2.0])
    numpy.testing.assert_array_equal(f(x, "double"), [2.0, -4.0])
    numpy.testing.assert_array_equal(f(x, mode="double"), [2.0, -4.0])
    numpy.testing.assert_array_equal(f(x, "triple"), [3.0, -6.0])
    numpy.testing.assert_array_equal(f(x + 1, mode="triple"), [6.0, -3.0])
    assert f.misses == 4  # positional and keyword calls are cached apart
    assert cr.grad(lambda t: f(t, "triple"))(2.0) == 3.0
    with pytest.raises(TypeError, match="static arguments must be hashable"):
        cr.jit(lambda x, opts: x, static_argnums=1)(1.0, ["a"])


def test_array_keyword_arguments_are_traced_not_baked_in():
    def f(x, w=None, b=0.0):
        return np.tanh(x @ w + b)

    jf = cr.jit(f)
    rng = numpy.random.default_rng(0)
    x, w = rng.normal(size=(4, 3)), rng.normal(size=(3, 2))
    numpy.testing.assert_allclose(jf(x, w=w, b=0.5), numpy.tanh(x @ w + 0.5), rtol=1e-14)
    w2 = rng.normal(size=(3, 2))
    numpy.testing.assert_allclose(jf(x, w=w2, b=-1.0), numpy.tanh(x @ w2 - 1.0), rtol=1e-14)
    assert jf.misses == 1, "new keyword values must not recompile"
    jf(x, w=rng.normal(size=(3, 5)), b=0.5)
    assert jf.misses == 2
    assert jf.explain_retrace() == ("argument leaf 2 changed from an array of shape (3, 2) "
                                    "and dtype float64 to an array of shape (3, 5) and dtype "
                                    "float64")
    g = cr.grad(lambda w_: np.sum(jf(x, w=w_, b=0.5)))(w)
    numpy.testing.assert_allclose(g, x.T @ (1 - numpy.tanh(x @ w + 0.5) ** 2), rtol=1e-12)
    assert "def f(" in cr.source(f, x, w=w, b=0.5)


# --- eager rejects what jit rejects, with the same message -----------------------------

def _fori_structure(x):
    return cr.fori_loop(0, 3, lambda i, c: (c, c), x)


def _fori_dtype(x):
    return cr.fori_loop(0, 3, lambda i, c: (c[0] * 0.5, c[1]), (x, 1))[0] + \
        cr.fori_loop(0, 2, lambda i, c: c + 0.5, 0)


def _scan_carry(x):
    return cr.scan(lambda c, t: (np.stack([c, c]), t), x, numpy.arange(3.0))[0]


def _while_carry(x):
    return cr.while_loop(lambda c: np.sum(c) < 10.0, lambda c: np.concatenate([c, c]), x)


def _cond_shapes(x):
    return cr.cond(x > 0, lambda y: y, lambda y: np.stack([y, y]), x)


def _cond_structures(x):
    return cr.cond(x > 0, lambda y: (y, y), lambda y: y, x)


def _vmap_out_axes(x):
    return cr.vmap(lambda y: y * 2.0, out_axes=3)(np.stack([x, x, x]))


@pytest.mark.parametrize("f", [_fori_structure, _fori_dtype, _scan_carry, _while_carry,
                               _cond_shapes, _cond_structures, _vmap_out_axes])
def test_eager_rejects_what_jit_rejects_with_the_same_message(f):
    x = 1.0 if f is not _while_carry else numpy.ones(1)
    with pytest.raises((TypeError, ValueError)) as staged:
        cr.jit(f)(x)
    with pytest.raises(type(staged.value)) as eager:
        f(x)
    assert str(eager.value) == str(staged.value)
    assert "cast the initial" in str(eager.value) or "must" in str(eager.value)


def test_valid_eager_control_flow_still_runs():
    assert cr.fori_loop(0, 4, lambda i, c: c + i, 0) == 6
    assert cr.cond(True, lambda y: y + 1.0, lambda y: y - 1.0, 2.0) == 3.0

    def branch_with_python_if(y):  # eager only: Python control flow on the value
        return y * 2.0 if float(y) > 0 else -y

    assert cr.cond(False, lambda y: y, branch_with_python_if, 2.0) == 4.0
    c, ys = cr.scan(lambda c, t: (c + t, c * t), 0.0, numpy.arange(4.0))
    assert c == 6.0 and list(ys) == [0.0, 0.0, 2.0, 9.0]


# --- clear messages ---------------------------------------------------------------------

def test_grad_of_a_string_argument_says_what_to_do():
    with pytest.raises(TypeError, match=r"argument 0, which is a str \('abc'\); only numbers"):
        cr.grad(lambda s: s * 2)("abc")
    with pytest.raises(TypeError, match="argument 1, which is a str"):
        cr.grad(lambda x, s: x, argnums=(0, 1))(1.0, "f8")  # not read as a dtype name


@pytest.mark.parametrize("argnums", [1.0, "0", True, None, (0, 1.0)])
def test_argnums_of_the_wrong_type(argnums):
    with pytest.raises(TypeError, match="argnums must be"):
        cr.grad(lambda x, y: x * y, argnums=argnums)(1.0, 2.0)


def test_scan_over_a_string_or_a_scalar():
    with pytest.raises(TypeError, match=r"leaf 0 of xs is a str \('abc'\); convert it"):
        cr.scan(lambda c, x: (c, x), 0.0, "abc")
    with pytest.raises(TypeError, match="of shape \\(\\), with no leading axis"):
        cr.scan(lambda c, x: (c, x), 0.0, 3.0)
    with pytest.raises(ValueError, match="different leading lengths \\(3 and 2"):
        cr.scan(lambda c, x: (c, x), 0.0, (numpy.ones(3), numpy.ones(2)))
    with pytest.raises(ValueError, match="length=5 but xs has leading length 3"):
        cr.scan(lambda c, x: (c, x), 0.0, numpy.ones(3), length=5)


def test_cond_with_an_array_predicate():
    msg = r"pred must be a scalar .* shape \(2,\); reduce it first .* np.where"
    with pytest.raises(TypeError, match=msg):
        cr.cond(numpy.array([True, False]), lambda x: x, lambda x: -x, 1.0)
    with pytest.raises(TypeError, match=msg):
        cr.jit(lambda p, x: cr.cond(p, lambda y: y, lambda y: -y, x))(
            numpy.array([True, False]), 1.0)
    assert cr.cond(numpy.array(False), lambda x: x, lambda x: -x, 1.0) == -1.0


def test_scipy_function_on_a_traced_value_names_chainrules():
    with pytest.raises(TypeError, match=r"scipy.special.erf was applied .* Use "
                                        r"chainrule.scipy.special.erf"):
        cr.grad(lambda x: scipy.special.erf(x))(0.5)
    with pytest.raises(TypeError, match=r"scipy.special.gammaln .* chainrule.scipy.special."
                                        r"gammaln"):
        cr.jit(lambda x: scipy.special.gammaln(x))(0.5)
    with pytest.raises(TypeError, match=r"numpy.frexp was applied"):
        cr.grad(lambda x: numpy.frexp(x)[0])(0.5)
    import chainrule.scipy.special as special

    assert cr.grad(special.erf)(0.0) == pytest.approx(2 / numpy.sqrt(numpy.pi), rel=1e-14)


def test_a_pytree_nested_too_deeply_is_a_clear_error_not_a_recursion_error():
    deep = 1.0
    for _ in range(5000):
        deep = [deep]
    with pytest.raises(ValueError, match="nested too deeply"):
        cr.grad(lambda p: 1.0)(deep)
    with pytest.raises(ValueError, match="nested too deeply"):
        cr.tree_flatten(deep)
    loop: list = [1.0]
    loop.append(loop)
    with pytest.raises(ValueError, match="or a container holds itself"):
        cr.tree_leaves(loop)
    shallow = 2.0
    for _ in range(50):
        shallow = [shallow]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert cr.tree_leaves(cr.grad(lambda p: cr.tree_leaves(p)[0] ** 2)(shallow)) == [4.0]
