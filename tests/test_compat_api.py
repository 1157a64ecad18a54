"""JAX's names that chainrule also answers to: linearize, switch, remat, tree_leaves and
tree_structure, checked against their definitions."""

import numpy as onp
import pytest

import chainrule as cr
import chainrule.numpy as np

X = onp.array([0.3, -1.2, 2.0])
V = onp.array([1.0, 0.5, -2.0])


def f(x):
    return np.sin(x) * np.sum(x ** 2)


def test_linearize_is_the_jvp_at_the_point():
    out, f_jvp = cr.linearize(f, X)
    onp.testing.assert_allclose(out, f(X))
    onp.testing.assert_allclose(f_jvp(V), cr.jvp(f, (X,), (V,))[1])
    onp.testing.assert_allclose(f_jvp(2.0 * V), 2.0 * f_jvp(V))  # linear in the tangent
    onp.testing.assert_allclose(cr.jit(f_jvp)(V), f_jvp(V))
    with pytest.raises(TypeError, match="1 tangent"):
        f_jvp(V, V)


def test_linearize_with_aux_and_two_primals():
    g = lambda x, y: (np.sum(x * y), {"n": 2})  # noqa: E731
    out, f_jvp, aux = cr.linearize(g, X, V, has_aux=True)
    assert out == pytest.approx(float(X @ V)) and aux == {"n": 2}
    assert f_jvp(V, X) == pytest.approx(float(V @ V + X @ X))  # y·ẋ + x·ẏ


BRANCHES = [lambda x: x * 2.0, lambda x: np.sin(x), lambda x: x ** 3]


@pytest.mark.parametrize("index", [-3, 0, 1, 2, 7])
def test_switch_clamps_the_index_eagerly_and_under_jit(index):
    want = BRANCHES[min(max(index, 0), 2)](X)
    onp.testing.assert_allclose(cr.switch(index, BRANCHES, X), want)
    onp.testing.assert_allclose(cr.jit(lambda i, x: cr.switch(i, BRANCHES, x))(index, X), want)


def test_switch_differentiates_in_both_modes_under_jit():
    h = lambda x, i: np.sum(cr.switch(i, BRANCHES, x))  # noqa: E731
    for i, d in ((0, onp.full(3, 2.0)), (1, onp.cos(X)), (2, 3.0 * X ** 2)):
        onp.testing.assert_allclose(cr.jit(cr.grad(h))(X, i), d)
        onp.testing.assert_allclose(cr.grad(h)(X, i), d)
        onp.testing.assert_allclose(cr.jvp(lambda x, i=i: h(x, i), (X,), (V,))[1], d @ V)
    with pytest.raises(ValueError, match="branches is empty"):
        cr.switch(0, [], X)


def test_remat_is_checkpoint_and_tree_helpers():
    assert cr.remat is cr.checkpoint
    onp.testing.assert_allclose(cr.grad(lambda x: np.sum(cr.remat(f)(x)))(X),
                                cr.grad(lambda x: np.sum(f(x)))(X))
    tree = {"a": (1.0, X), "b": [2.0]}
    assert cr.tree_leaves(tree) == cr.tree_flatten(tree)[0]
    assert cr.tree_structure(tree) == cr.tree_flatten(tree)[1]
    assert cr.tree_unflatten(cr.tree_structure(tree), [0, 1, 2])["b"] == [2]
