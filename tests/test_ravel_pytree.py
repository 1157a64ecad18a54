"""ravel_pytree: a pytree of arrays as one vector and back, eagerly, under grad and jit."""

import numpy as onp
import pytest

import chainrule as cr
import chainrule.numpy as np
from chainrule.core.pytree import ravel_pytree, tree_flatten

TREE = {"W": onp.arange(6.0).reshape(2, 3), "b": onp.array([7.0, 8.0]), "s": 9.0}


def test_round_trip_and_order():
    vec, unravel = ravel_pytree(TREE)
    # dict keys sorted: W, b, s
    assert vec.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 7.0, 8.0, 9.0]
    back = unravel(vec)
    for a, b in zip(tree_flatten(back)[0], tree_flatten(TREE)[0]):
        onp.testing.assert_array_equal(a, b)
    assert back["W"].shape == (2, 3) and onp.shape(back["s"]) == ()


def test_one_leaf_is_not_sliced():
    v = onp.arange(3.0)
    vec, unravel = ravel_pytree(v)
    assert unravel(vec) is vec
    m, unravel_m = ravel_pytree(onp.ones((2, 2)))
    assert unravel_m(onp.arange(4.0)).tolist() == [[0.0, 1.0], [2.0, 3.0]]


def test_gradient_through_ravel_and_unravel():
    """f(tree) = Σ vec² + W₀₀·b₁ by way of the vector: ∂f/∂W = 2W + b₁e₀₀, …"""
    def f(tree):
        vec, unravel = ravel_pytree(tree)
        t = unravel(vec * 1.0)
        return np.sum(vec * vec) + t["W"][0, 0] * t["b"][1]

    g = cr.grad(f)(TREE)
    want_w = 2 * TREE["W"]
    want_w[0, 0] += TREE["b"][1]
    onp.testing.assert_allclose(g["W"], want_w)
    onp.testing.assert_allclose(g["b"], 2 * TREE["b"] + onp.array([0.0, TREE["W"][0, 0]]))
    assert g["s"] == pytest.approx(18.0)
    assert cr.jit(f)(TREE) == pytest.approx(f(TREE))


def test_empty_tree_is_an_error():
    with pytest.raises(ValueError, match="ravel_pytree: the tree has no array leaves"):
        ravel_pytree({})
