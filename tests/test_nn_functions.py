"""chainrule.nn activations, losses and initialisers: values against closed forms and
SciPy, derivatives against finite differences to second order, stability in the tails,
float32 kept."""

import math

import numpy
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import chainrule as cr
import chainrule.nn as nn
import chainrule.numpy as np

x = numpy.array([-2.3, -0.7, 0.4, 1.9])  # away from relu's kink at 0

REFERENCE = {
    "relu": lambda x: numpy.maximum(x, 0),
    "leaky_relu": lambda x: numpy.where(x >= 0, x, 0.01 * x),
    "sigmoid": lambda x: 1 / (1 + numpy.exp(-x)),
    "tanh": numpy.tanh,
    "softplus": lambda x: numpy.log1p(numpy.exp(x)),
    "gelu": lambda x: x * 0.5 * (1 + numpy.vectorize(math.erf)(x / math.sqrt(2))),
}


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_activation_values_and_derivatives(name):
    f = getattr(nn, name)
    numpy.testing.assert_allclose(f(x), REFERENCE[name](x), rtol=1e-13)
    cr.check_grads(f, (x,), order=2)


def test_activation_derivatives_closed_forms():
    s = REFERENCE["sigmoid"](x)
    numpy.testing.assert_allclose(cr.elementwise_grad(nn.sigmoid)(x), s * (1 - s), rtol=1e-13)
    numpy.testing.assert_allclose(cr.elementwise_grad(nn.softplus)(x), s, rtol=1e-13)
    numpy.testing.assert_allclose(cr.elementwise_grad(nn.relu)(x), x > 0)
    numpy.testing.assert_allclose(cr.elementwise_grad(nn.leaky_relu)(x),
                                  numpy.where(x > 0, 1.0, 0.01))
    phi = numpy.exp(-x**2 / 2) / math.sqrt(2 * math.pi)
    numpy.testing.assert_allclose(cr.elementwise_grad(nn.gelu)(x),
                                  0.5 * (1 + numpy.vectorize(math.erf)(x / math.sqrt(2)))
                                  + x * phi, rtol=1e-12)
    # the tanh form of gelu is within 1e-3 of the exact one
    assert numpy.max(numpy.abs(nn.gelu(x, approximate=True) - nn.gelu(x))) < 1e-3


def test_softmax_and_log_softmax_against_scipy_and_in_the_tails():
    special = pytest.importorskip("scipy.special")
    z = numpy.random.default_rng(0).standard_normal((3, 5))
    numpy.testing.assert_allclose(nn.softmax(z), special.softmax(z, axis=-1), rtol=1e-13)
    numpy.testing.assert_allclose(nn.log_softmax(z, axis=0), special.log_softmax(z, axis=0),
                                  rtol=1e-13)
    cr.check_grads(lambda z: nn.log_softmax(z) * numpy.arange(5.0), (z,), order=2)
    big = numpy.array([[1000.0, -1000.0, 0.0]])
    assert numpy.all(numpy.isfinite(nn.log_softmax(big)))
    g = cr.grad(lambda z: nn.log_softmax(z)[0, 0])(big)
    numpy.testing.assert_allclose(g, [[0.0, 0.0, 0.0]], atol=1e-300)
    assert float(nn.sigmoid(-1000.0)) == 0.0 and float(nn.softplus(-1000.0)) == 0.0
    assert float(cr.grad(nn.softplus)(1000.0)) == 1.0


def test_mse_and_its_gradient():
    p, t = numpy.array([[1.0, 2.0], [3.0, 5.0]]), numpy.array([[1.0, 0.0], [3.0, 4.0]])
    assert float(nn.mse(p, t)) == (4.0 + 1.0) / 4
    numpy.testing.assert_allclose(cr.grad(nn.mse)(p, t), 2 * (p - t) / 4)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-30, 30), min_size=1, max_size=6), st.data())
def test_binary_cross_entropy_matches_the_textbook_form(logits, data):
    z = numpy.array(logits)
    y = numpy.array(data.draw(st.lists(st.sampled_from([0.0, 1.0]), min_size=len(logits),
                                       max_size=len(logits))))
    p = 1 / (1 + numpy.exp(-z))
    with numpy.errstate(divide="ignore"):
        naive = -numpy.mean(y * numpy.log(p) + (1 - y) * numpy.log1p(-p))
    if numpy.max(numpy.abs(z)) < 15:  # the textbook form loses digits in the tails
        numpy.testing.assert_allclose(nn.binary_cross_entropy(z, y), naive, rtol=1e-9)
    # -log σ(z) = log(1 + e^{-z}) for y = 1, -log(1 - σ(z)) = log(1 + e^z) for y = 0
    exact = numpy.mean(numpy.logaddexp(0.0, numpy.where(y == 1.0, -z, z)))
    numpy.testing.assert_allclose(nn.binary_cross_entropy(z, y), exact, rtol=1e-13)
    g = cr.grad(nn.binary_cross_entropy)(z, y)  # σ(z) - y, per element, over n
    numpy.testing.assert_allclose(g, (p - y) / len(z), rtol=1e-10, atol=1e-15)


def test_binary_cross_entropy_is_exact_for_huge_logits():
    z, y = numpy.array([800.0, -800.0]), numpy.array([0.0, 1.0])
    assert float(nn.binary_cross_entropy(z, y)) == 800.0
    numpy.testing.assert_allclose(cr.grad(nn.binary_cross_entropy)(z, y), [0.5, -0.5])
    cr.check_grads(lambda z: nn.binary_cross_entropy(z, numpy.array([0.0, 1.0, 1.0])),
                   (numpy.array([-1.5, 0.3, 2.0]),), order=2)


def test_softmax_cross_entropy_one_hot_and_integer_labels():
    rng = numpy.random.default_rng(1)
    z = 3 * rng.standard_normal((6, 4))
    labels = rng.integers(0, 4, 6)
    onehot = numpy.eye(4)[labels]
    p = numpy.exp(z) / numpy.exp(z).sum(1, keepdims=True)
    want = -numpy.mean(numpy.log(p[numpy.arange(6), labels]))
    numpy.testing.assert_allclose(nn.softmax_cross_entropy(z, onehot), want, rtol=1e-13)
    numpy.testing.assert_allclose(nn.softmax_cross_entropy(z, labels), want, rtol=1e-13)
    # the gradient is (softmax - y) / n
    numpy.testing.assert_allclose(cr.grad(nn.softmax_cross_entropy)(z, labels),
                                  (p - onehot) / 6, rtol=1e-12, atol=1e-15)
    cr.check_grads(lambda z: nn.softmax_cross_entropy(z, onehot), (z,), order=2)
    # under jit with integer labels as an argument
    numpy.testing.assert_allclose(cr.jit(nn.softmax_cross_entropy)(z, labels), want, rtol=1e-13)
    assert numpy.isfinite(float(nn.softmax_cross_entropy(numpy.array([[1e4, -1e4]]),
                                                         numpy.array([1]))))
    with pytest.raises(ValueError, match="integer labels must have"):
        nn.softmax_cross_entropy(z, labels[:3])
    with pytest.raises(ValueError, match="one-hot rows of the logits' shape"):
        nn.softmax_cross_entropy(z, onehot[:, :3])


def test_l2_penalty_counts_weights_not_biases():
    params = [{"W": numpy.full((2, 3), 2.0), "b": numpy.ones(3)}, {}, {"W": numpy.ones((3, 1))}]
    assert float(nn.l2_penalty(params, 0.1)) == pytest.approx(0.05 * (6 * 4 + 3))
    g = cr.grad(nn.l2_penalty)(params, 0.1)
    numpy.testing.assert_allclose(g[0]["W"], 0.1 * params[0]["W"])
    numpy.testing.assert_array_equal(g[0]["b"], 0.0)


@pytest.mark.parametrize("name,variance,uniform", [
    ("glorot_normal", 2 / (300 + 500), False), ("glorot_uniform", 2 / (300 + 500), True),
    ("he_normal", 2 / 300, False), ("he_uniform", 2 / 300, True),
    ("lecun_normal", 1 / 300, False), ("lecun_uniform", 1 / 300, True)])
def test_initialisers_variance_bounds_seed_and_dtype(name, variance, uniform):
    init = getattr(nn, name)
    w = init(0, (300, 500))
    assert w.shape == (300, 500) and w.dtype == numpy.float64
    assert abs(w.var() / variance - 1) < 0.02  # 150 000 draws: relative s.e. ≈ 0.4 %
    assert abs(w.mean()) < 0.01 * math.sqrt(variance)
    if uniform:
        assert numpy.max(numpy.abs(w)) <= math.sqrt(3 * variance)
    numpy.testing.assert_array_equal(w, init(numpy.random.default_rng(0), (300, 500)))
    assert not numpy.array_equal(w, init(1, (300, 500)))
    assert init(0, (4, 3), numpy.float32).dtype == numpy.float32


def test_fans_of_kernels():
    assert nn.fans((5, 7)) == (5, 7)
    assert nn.fans((3, 3, 16, 32)) == (144, 288)
    assert nn.fans((4,)) == (4, 4)


@pytest.mark.parametrize("f", [nn.relu, nn.leaky_relu, nn.sigmoid, nn.tanh, nn.softplus,
                               nn.gelu, nn.softmax, nn.log_softmax])
def test_activations_keep_float32(f):
    z = x.astype(numpy.float32)
    assert f(z).dtype == numpy.float32
    assert cr.grad(lambda z: np.sum(f(z) ** 2))(z).dtype == numpy.float32


def test_losses_keep_float32():
    z = x.astype(numpy.float32).reshape(2, 2)
    y = numpy.eye(2, dtype=numpy.float32)
    for loss in (nn.mse, nn.binary_cross_entropy, nn.softmax_cross_entropy):
        assert cr.grad(loss)(z, y).dtype == numpy.float32
