"""vmap: per-example gradients, composition with grad/jvp/vjp/jit in every order, axes,
pytrees, errors, the loop fallback's warning, and the vmapped Jacobians."""

from __future__ import annotations

import warnings

import numpy as onp
import pytest

import chainrule as cr
import chainrule.numpy as np
from chainrule.interpreters import batching
from helpers import counted

RNG = onp.random.default_rng(8)


def loss(w, x, y):
    return (np.tanh(x @ w["W"] + w["b"]) @ w["v"] - y) ** 2


PARAMS = {"W": RNG.standard_normal((4, 3)), "b": RNG.standard_normal(3),
          "v": RNG.standard_normal(3)}
XS, YS = RNG.standard_normal((7, 4)), RNG.standard_normal(7)


def test_per_example_gradients_equal_a_python_loop():
    got = cr.vmap(cr.grad(loss), in_axes=(None, 0, 0))(PARAMS, XS, YS)
    for i in range(len(XS)):
        want = cr.grad(loss)(PARAMS, XS[i], YS[i])
        for k in PARAMS:
            onp.testing.assert_allclose(got[k][i], want[k], rtol=1e-12, atol=1e-14)
    assert got["W"].shape == (7, 4, 3)


def test_grad_of_vmap_is_the_sum_of_per_example_gradients():
    total = cr.grad(lambda p: np.sum(cr.vmap(loss, in_axes=(None, 0, 0))(p, XS, YS)))(PARAMS)
    per = cr.vmap(cr.grad(loss), in_axes=(None, 0, 0))(PARAMS, XS, YS)
    for k in PARAMS:
        onp.testing.assert_allclose(total[k], per[k].sum(0), rtol=1e-12)


def f(x):
    return np.sin(x) * np.sum(x ** 2) + np.max(x) * x[::-1]


@pytest.mark.parametrize("order", ["vmap(jvp)", "jvp(vmap)", "vmap(vjp)", "vjp(vmap)",
                                   "jit(vmap)", "vmap(jit)", "vmap(vmap)", "vmap(hessian)"])
def test_composition_orders_agree_with_a_loop(order):
    X = RNG.standard_normal((5, 4))
    T = RNG.standard_normal((5, 4))
    if order == "vmap(jvp)":
        got = cr.vmap(lambda x, t: cr.jvp(f, (x,), (t,))[1])(X, T)
        want = [cr.jvp(f, (x,), (t,))[1] for x, t in zip(X, T)]
    elif order == "jvp(vmap)":
        got = cr.jvp(cr.vmap(f), (X,), (T,))[1]
        want = [cr.jvp(f, (x,), (t,))[1] for x, t in zip(X, T)]
    elif order == "vmap(vjp)":
        got = cr.vmap(lambda x, t: cr.vjp(f, x)[1](t)[0])(X, T)
        want = [cr.vjp(f, x)[1](t)[0] for x, t in zip(X, T)]
    elif order == "vjp(vmap)":
        got = cr.vjp(cr.vmap(f), X)[1](T)[0]
        want = [cr.vjp(f, x)[1](t)[0] for x, t in zip(X, T)]
    elif order == "jit(vmap)":
        got = cr.jit(cr.vmap(f))(X)
        want = [f(x) for x in X]
    elif order == "vmap(jit)":
        got = cr.vmap(cr.jit(f))(X)
        want = [f(x) for x in X]
    elif order == "vmap(vmap)":
        inner = cr.vmap(lambda a, b: np.sum(a * b) + a[0], in_axes=(None, 0))
        got = cr.vmap(inner, in_axes=(0, None))(X, X)
        want = [[onp.sum(a * b) + a[0] for b in X] for a in X]
    else:
        g = lambda x: np.sum(np.sin(x) * x[0])  # noqa: E731
        got = cr.vmap(cr.hessian(g))(X)
        want = [cr.hessian(g)(x) for x in X]
    onp.testing.assert_allclose(got, onp.array(want), rtol=1e-11, atol=1e-12)


def test_in_axes_and_out_axes_move_the_batch_axis():
    A = RNG.standard_normal((3, 5))
    got = cr.vmap(lambda a, c: a * c, in_axes=(1, None), out_axes=1)(A, 2.0)
    onp.testing.assert_allclose(got, A * 2.0)
    got = cr.vmap(lambda a: a, in_axes=-1, out_axes=0)(A)
    onp.testing.assert_allclose(got, A.T)
    const = cr.vmap(lambda a: (np.sum(a), 1.0), out_axes=(0, None))(A)
    assert const[1] == 1.0 and const[0].shape == (3,)


def test_pytree_in_axes():
    tree = {"a": RNG.standard_normal((4, 2)), "b": RNG.standard_normal(2)}
    got = cr.vmap(lambda t: t["a"] * t["b"], in_axes=({"a": 0, "b": None},))(tree)
    onp.testing.assert_allclose(got, tree["a"] * tree["b"])


def test_unbatched_output_is_broadcast():
    out = cr.vmap(lambda x: np.ones(2) * 3.0)(onp.zeros((4, 1)))
    onp.testing.assert_array_equal(out, onp.full((4, 2), 3.0))


def test_python_control_flow_on_batched_values():
    X = onp.abs(RNG.standard_normal((3, 2))) + 1
    out = cr.vmap(lambda x: x * 2 if np.all(x > 0) else x)(X)  # same branch for every example
    onp.testing.assert_allclose(out, 2 * X)
    X[1] *= -1
    with pytest.raises(ValueError, match="differs between examples"):
        cr.vmap(lambda x: x * 2 if np.all(x > 0) else x)(X)


def test_errors_name_what_was_passed():
    with pytest.raises(ValueError, match="batch size"):
        cr.vmap(lambda a, b: a + b)(onp.ones(3), onp.ones(4))
    with pytest.raises(ValueError, match="no argument is batched"):
        cr.vmap(lambda a: a, in_axes=None)(onp.ones(3))
    with pytest.raises(ValueError, match="in_axes has 1 entries"):
        cr.vmap(lambda a, b: a, in_axes=(0,))(onp.ones(3), onp.ones(3))
    with pytest.raises(ValueError, match="no such axis"):
        cr.vmap(lambda a: a, in_axes=2)(onp.ones(3))
    with pytest.raises(ValueError, match="different shapes"):
        cr.vmap(lambda x: x[x > 0])(onp.array([[1.0, -1.0], [1.0, 1.0]]))


def test_loop_fallback_is_correct_and_warns_once():
    batching._warned.discard("searchsorted")
    X = RNG.standard_normal((4, 3, 3))
    edges = onp.linspace(-1, 1, 5)
    with pytest.warns(RuntimeWarning, match="'searchsorted' has no batching rule"):
        got = cr.vmap(lambda a: np.searchsorted(edges, a))(X)
    onp.testing.assert_array_equal(got, onp.searchsorted(edges, X))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cr.vmap(lambda a: np.searchsorted(edges, a))(X)  # warned once only
    h = lambda a: np.sum(a ** 2 * np.searchsorted(edges, a))  # noqa: E731
    g = cr.vmap(cr.grad(h))(X)
    want = [cr.grad(h)(x) for x in X]
    onp.testing.assert_allclose(g, onp.array(want))


# ---- Jacobians by vmap --------------------------------------------------------------------

def test_jacfwd_is_one_batched_pass_and_chunks():
    x = RNG.standard_normal(5)
    g = counted(f)
    J = cr.jacfwd(g)(x)
    assert g.calls["n"] == 1
    onp.testing.assert_allclose(J, onp.stack([cr.jvp(f, (x,), (e,))[1] for e in onp.eye(5)], 1),
                                rtol=1e-12)
    g.calls["n"] = 0
    onp.testing.assert_allclose(cr.jacfwd(g, chunk_size=2)(x), J, rtol=1e-12)
    assert g.calls["n"] == 3  # ceil(5 / 2) batched passes
    onp.testing.assert_allclose(cr.jacrev(f, chunk_size=3)(x), J, rtol=1e-12)
    onp.testing.assert_allclose(cr.jacobian(f, chunk_size=4)(x), J, rtol=1e-12)
    with pytest.raises(ValueError, match="chunk_size"):
        cr.jacfwd(f, chunk_size=0)(x)


def test_jacrev_is_one_forward_pass():
    g = counted(f)
    cr.jacrev(g)(RNG.standard_normal(6))
    assert g.calls["n"] == 1


def test_jacobians_of_pytrees_and_hessian_chunked():
    a, b = RNG.standard_normal((2, 3)), RNG.standard_normal(3)
    h = lambda a, b: {"s": np.sum(a * b), "v": a @ b}  # noqa: E731
    Jf = cr.jacfwd(h, argnums=(0, 1))(a, b)
    Jr = cr.jacrev(h, argnums=(0, 1), chunk_size=1)(a, b)
    assert Jf["v"][0].shape == (2, 2, 3) and Jf["s"][1].shape == (3,)
    for k in ("s", "v"):
        for i in range(2):
            onp.testing.assert_allclose(Jf[k][i], Jr[k][i], rtol=1e-12)
    x = RNG.standard_normal(4)
    rosen = lambda x: np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)  # noqa: E731
    onp.testing.assert_allclose(cr.hessian(rosen, chunk_size=3)(x), cr.hessian(rosen)(x),
                                rtol=1e-12)


def test_jacobians_inside_vmap_and_jit_and_keyword_arguments():
    X = RNG.standard_normal((3, 4))
    h = lambda x, scale=1.0: np.sin(x) * np.sum(x) * scale  # noqa: E731
    want = onp.stack([cr.jacfwd(h)(x) for x in X])
    onp.testing.assert_allclose(cr.vmap(cr.jacfwd(h))(X), want, rtol=1e-12)
    onp.testing.assert_allclose(cr.vmap(cr.jacrev(h))(X), want, rtol=1e-12)
    onp.testing.assert_allclose(cr.jit(cr.jacfwd(h))(X[0]), want[0], rtol=1e-12)
    onp.testing.assert_allclose(cr.vmap(h)(X, scale=2.0), [h(x, scale=2.0) for x in X],
                                rtol=1e-12)


def test_control_flow_is_batched_without_the_loop_fallback():
    X = RNG.standard_normal((4, 3))
    f = lambda x: cr.fori_loop(0, 3, lambda i, v: v * 1.5 + np.sin(v[::-1]) * i, x)  # noqa
    g = lambda x: cr.cond(np.sum(x) > 0, lambda a: a * 2, lambda a: -a, x)  # noqa: E731
    s = lambda x: cr.scan(lambda c, xt: (c + xt, c * xt), 0.0, x)  # noqa: E731
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no primitive falls back to a loop
        for fn in (f, g):
            onp.testing.assert_allclose(cr.vmap(fn)(X), [fn(x) for x in X], rtol=1e-13)
        carry, ys = cr.vmap(s)(X)
        onp.testing.assert_allclose(ys, [s(x)[1] for x in X], rtol=1e-13)
        onp.testing.assert_allclose(carry, X.sum(1), rtol=1e-13)
        per = cr.vmap(cr.grad(lambda x: np.sum(f(x))))(X)
        onp.testing.assert_allclose(per, [cr.grad(lambda x: np.sum(f(x)))(x) for x in X],
                                    rtol=1e-12)
        onp.testing.assert_allclose(cr.jacfwd(f)(X[0]), cr.jacrev(f)(X[0]), rtol=1e-12)
        onp.testing.assert_allclose(cr.jit(cr.vmap(f))(X), cr.vmap(f)(X), rtol=1e-13)


def test_keyword_arrays_are_mapped_over_their_leading_axis_as_in_jax():
    def f(x, w=None, scale=1.0, mode="sum"):
        assert mode == "dot" and onp.ndim(scale) == 0
        return np.sum(x * w["a"]) * scale

    X, W = onp.random.default_rng(3).standard_normal((2, 4, 3))
    got = cr.vmap(f)(X, w={"a": W}, scale=2.0, mode="dot")
    onp.testing.assert_allclose(got, [f(x, w={"a": w}, scale=2.0, mode="dot")
                                      for x, w in zip(X, W)], rtol=1e-13)
    with pytest.raises(ValueError, match="keyword arguments are mapped over axis 0"):
        cr.vmap(f)(X, w={"a": W[:2]}, mode="dot")
