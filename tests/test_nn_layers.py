"""chainrule.nn layers: shapes, values against NumPy/SciPy references, derivatives against
finite differences (first and second order, forward and reverse), float32 kept."""

import numpy
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import chainrule as cr
import chainrule.nn as nn
import chainrule.numpy as np

rng = numpy.random.default_rng(0)


def _grads_ok(layer, input_shape, batch=3, order=2, seed=0):
    """check_grads of a scalar of the layer's output, in (params, x) together."""
    params = layer.init(seed, input_shape)
    x = numpy.random.default_rng(seed + 1).standard_normal((batch,) + tuple(input_shape))
    w = numpy.random.default_rng(seed + 2).standard_normal(
        (batch,) + layer.output_shape(input_shape))
    cr.check_grads(lambda p, x: np.sum(np.sin(layer.apply(p, x)) * w), (params, x),
                   order=order)


def test_dense_values_shapes_and_grads():
    layer = nn.Dense(4)
    params = layer.init(0, (3,))
    assert params["W"].shape == (3, 4) and params["b"].shape == (4,)
    assert numpy.all(params["b"] == 0)
    x = rng.standard_normal((5, 3))
    numpy.testing.assert_allclose(layer.apply(params, x), x @ params["W"] + params["b"])
    assert layer.output_shape((3,)) == (4,)
    _grads_ok(layer, (3,))


def test_mlp_is_the_dense_composition_and_differentiates():
    model = nn.MLP([5, 4, 2], "tanh")
    params = model.init(1, (3,))
    x = rng.standard_normal((6, 3))
    h = numpy.tanh(x @ params[0]["W"] + params[0]["b"])
    h = numpy.tanh(h @ params[1]["W"] + params[1]["b"])
    numpy.testing.assert_allclose(model.apply(params, x), h @ params[2]["W"] + params[2]["b"])
    assert model.output_shape((3,)) == (2,)
    _grads_ok(nn.MLP([4, 2], "softplus"), (3,))


def test_mlp_default_initialiser_follows_the_activation():
    # He normal for relu: std √(2/400); Glorot normal for tanh: std √(2/(400+300))
    relu_w = nn.MLP([300], "relu").init(0, (400,))[0]["W"]
    tanh_w = nn.MLP([300], "tanh").init(0, (400,))[0]["W"]
    assert abs(relu_w.std() / numpy.sqrt(2 / 400) - 1) < 0.02
    assert abs(tanh_w.std() / numpy.sqrt(2 / 700) - 1) < 0.02


def test_serial_chains_layers_and_params_are_a_list():
    model = nn.serial(nn.Dense(4), nn.Activation(nn.gelu), nn.LayerNorm(), nn.Dense(2))
    params = model.init(0, (3,))
    assert [sorted(p) for p in params] == [["W", "b"], [], ["offset", "scale"], ["W", "b"]]
    x = rng.standard_normal((5, 3))
    y = model.apply(params, x)
    h = x
    for layer, p in zip((nn.Dense(4), nn.Activation(nn.gelu), nn.LayerNorm(), nn.Dense(2)),
                        params, strict=True):
        h = layer.apply(p, h)
    numpy.testing.assert_allclose(y, h)
    assert y.shape == (5, 2) == (5,) + model.output_shape((3,))
    _grads_ok(model, (3,))


@pytest.mark.parametrize("stride,padding", [(1, "valid"), (2, "valid"), (1, "same"),
                                            (2, "same")])
def test_conv1d_against_numpy_correlate(stride, padding):
    layer = nn.Conv1D(2, 3, stride=stride, padding=padding)
    params = layer.init(0, (7, 2))
    x = rng.standard_normal((2, 7, 2))
    y = layer.apply(params, x)
    # reference: per (n, c_in, c_out) a NumPy correlation, padded like the layer
    pad = {"valid": (0, 0), "same": (1, 1) if stride == 1 else (1, 1)}[padding]
    out_len = layer.output_shape((7, 2))[0]
    ref = numpy.zeros((2, out_len, 2))
    for n in range(2):
        for d in range(2):
            acc = sum(numpy.correlate(numpy.pad(x[n, :, c], pad), params["W"][:, c, d], "valid")
                      for c in range(2))
            ref[n, :, d] = acc[::stride][:out_len] + params["b"][d]
    numpy.testing.assert_allclose(y, ref, rtol=1e-12, atol=1e-12)
    assert y.shape == (2,) + layer.output_shape((7, 2))
    assert out_len == {"valid": (7 - 3) // stride + 1, "same": -(-7 // stride)}[padding]


def test_conv1d_is_numpy_convolve_with_the_flipped_kernel_and_differentiates():
    layer = nn.Conv1D(1, 4)
    params = layer.init(3, (9, 1))
    x = rng.standard_normal((1, 9, 1))
    want = numpy.convolve(x[0, :, 0], params["W"][::-1, 0, 0], "valid")
    numpy.testing.assert_allclose(layer.apply(params, x)[0, :, 0], want, rtol=1e-12)
    _grads_ok(nn.Conv1D(2, 3, stride=2, padding="same"), (6, 2), batch=2)


@pytest.mark.parametrize("strides,padding", [(1, "valid"), (1, "same"), ((2, 1), "same")])
def test_conv2d_against_scipy_correlate2d(strides, padding):
    signal = pytest.importorskip("scipy.signal")
    layer = nn.Conv2D(3, (3, 2), strides=strides, padding=padding)
    params = layer.init(0, (5, 6, 2))
    x = rng.standard_normal((2, 5, 6, 2))
    y = layer.apply(params, x)
    oh, ow, _ = layer.output_shape((5, 6, 2))
    assert y.shape == (2, oh, ow, 3)
    sh, sw = (strides, strides) if isinstance(strides, int) else strides
    for n in range(2):
        for d in range(3):
            acc = 0.0
            for c in range(2):
                img = x[n, :, :, c]
                if padding == "same":  # total pad k - 1 for stride 1; (out-1)s + k - size else
                    th = max((oh - 1) * sh + 3 - 5, 0)
                    tw = max((ow - 1) * sw + 2 - 6, 0)
                    img = numpy.pad(img, ((th // 2, th - th // 2), (tw // 2, tw - tw // 2)))
                acc = acc + signal.correlate2d(img, params["W"][:, :, c, d], "valid")
            numpy.testing.assert_allclose(y[n, :, :, d], acc[::sh, ::sw][:oh, :ow]
                                          + params["b"][d], rtol=1e-12, atol=1e-12)


def test_conv2d_grads_and_flatten():
    model = nn.serial(nn.Conv2D(2, 2, padding="same"), nn.Activation("tanh"), nn.Flatten(),
                      nn.Dense(2))
    assert model.output_shape((3, 3, 1)) == (2,)
    _grads_ok(model, (3, 3, 1), batch=2)


def test_layernorm_normalises_each_example():
    layer = nn.LayerNorm()
    params = layer.init(0, (6,))
    x = 3.0 + 5.0 * rng.standard_normal((4, 6))
    y = layer.apply(params, x)
    numpy.testing.assert_allclose(y.mean(axis=1), 0.0, atol=1e-12)
    numpy.testing.assert_allclose(y.var(axis=1), 1.0, rtol=1e-5)  # eps = 1e-5 ≪ var ≈ 25
    params = {"scale": rng.standard_normal(6), "offset": rng.standard_normal(6)}
    ref = (x - x.mean(1, keepdims=True)) / numpy.sqrt(x.var(1, keepdims=True) + 1e-5)
    numpy.testing.assert_allclose(layer.apply(params, x), ref * params["scale"]
                                  + params["offset"], rtol=1e-12)
    cr.check_grads(lambda p, x: np.sum(layer.apply(p, x) ** 3), (params, x), order=2)


def test_dropout_is_identity_without_rng_and_unbiased_with_it():
    layer = nn.Dropout(0.25)
    x = numpy.ones((200, 50))
    assert layer.apply({}, x) is x
    y = layer.apply({}, x, rng=numpy.random.default_rng(0))
    dropped = numpy.mean(y == 0)
    assert abs(dropped - 0.25) < 0.01
    numpy.testing.assert_allclose(numpy.unique(y), [0.0, 1 / 0.75])
    assert abs(y.mean() - 1.0) < 0.02
    # the same rng seed gives the same mask; the gradient is the mask / (1 - rate)
    g = cr.grad(lambda x: np.sum(layer.apply({}, x, rng=numpy.random.default_rng(0))))(x)
    numpy.testing.assert_array_equal(g, y)
    fixed_mask = lambda x: np.sum(np.sin(layer.apply({}, x, rng=numpy.random.default_rng(1))))
    cr.check_grads(fixed_mask, (rng.standard_normal((4, 5)),), order=2)
    with pytest.raises(ValueError, match="rate must be in"):
        nn.Dropout(1.0)
    # in serial, a seed becomes one generator: two Dropout layers draw different masks
    twice = nn.serial(nn.Dropout(0.5), nn.Activation(lambda h: h * 1.0), nn.Dropout(0.5))
    kept = twice.apply([{}, {}, {}], numpy.ones((100, 100)), rng=3)
    assert abs(numpy.mean(kept != 0) - 0.25) < 0.02


@pytest.mark.parametrize("layer,input_shape", [
    (nn.Dense(3), (4,)), (nn.MLP([5, 2], "gelu"), (4,)), (nn.Conv1D(2, 3), (6, 2)),
    (nn.Conv2D(2, 2), (4, 4, 1)), (nn.LayerNorm(), (5,)), (nn.Dropout(0.5), (5,)),
    (nn.serial(nn.Dense(3), nn.Activation("sigmoid")), (4,))])
def test_float32_kept_in_params_outputs_and_gradients(layer, input_shape):
    params = layer.init(0, input_shape, numpy.float32)
    assert all(p.dtype == numpy.float32 for p in cr.tree_leaves(params))
    x = rng.standard_normal((2,) + input_shape).astype(numpy.float32)
    gen = numpy.random.default_rng(0)
    assert layer.apply(params, x, rng=gen).dtype == numpy.float32
    gp, gx = cr.grad(lambda p, x: np.sum(layer.apply(p, x, rng=gen) ** 2),
                     argnums=(0, 1))(params, x)
    assert gx.dtype == numpy.float32
    assert all(g.dtype == numpy.float32 for g in cr.tree_leaves(gp))


def test_layers_jit_and_agree_with_eager():
    model = nn.serial(nn.Conv1D(3, 2), nn.Activation("relu"), nn.Flatten(), nn.Dense(2))
    params = model.init(0, (5, 1))
    x = rng.standard_normal((4, 5, 1))
    loss = lambda p, x: np.sum(model.apply(p, x) ** 2)
    eager = cr.grad(loss)(params, x)
    jitted = cr.jit(cr.grad(loss))(params, x)
    for a, b in zip(cr.tree_leaves(eager), cr.tree_leaves(jitted), strict=True):
        numpy.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_bad_arguments_get_clear_errors():
    with pytest.raises(ValueError, match="units must be a positive int"):
        nn.Dense(0)
    with pytest.raises(ValueError, match="widths must name at least one layer"):
        nn.MLP([])
    with pytest.raises(ValueError, match="activation must be a callable or one of"):
        nn.MLP([3], "swish-ish")
    with pytest.raises(ValueError, match="padding must be 'valid' or 'same'"):
        nn.Conv1D(2, 3, padding="full")
    with pytest.raises(ValueError, match="input_shape must have 3 axes"):
        nn.Conv2D(2, 3).init(0, (5, 5))
    with pytest.raises(ValueError, match="smaller than the kernel"):
        nn.Conv1D(2, 5).output_shape((3, 1))
    with pytest.raises(TypeError, match="argument 1 must be a Layer"):
        nn.serial(nn.Dense(2), nn.relu)
    with pytest.raises(TypeError, match="rng must be an int seed"):
        nn.Dense(2).init("seed", (3,))
    with pytest.raises(ValueError, match="params must be a list of 2 entries"):
        nn.serial(nn.Dense(2), nn.Dense(1)).apply([{}], numpy.ones((1, 3)))


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 3), st.integers(1, 9), st.integers(1, 3), st.integers(1, 4),
       st.integers(1, 3), st.sampled_from(["valid", "same"]))
def test_conv1d_property_against_numpy_correlate(batch, length, channels, kernel, stride,
                                                  padding):
    if padding == "valid" and length < kernel:
        return
    layer = nn.Conv1D(2, kernel, stride=stride, padding=padding)
    params = layer.init(0, (length, channels))
    x = numpy.random.default_rng(length).standard_normal((batch, length, channels))
    out_len = layer.output_shape((length, channels))[0]
    total = max((out_len - 1) * stride + kernel - length, 0) if padding == "same" else 0
    ref = numpy.zeros((batch, out_len, 2))
    for n in range(batch):
        for d in range(2):
            acc = sum(numpy.correlate(numpy.pad(x[n, :, c], (total // 2, total - total // 2)),
                                      params["W"][:, c, d], "valid") for c in range(channels))
            ref[n, :, d] = acc[::stride][:out_len] + params["b"][d]
    numpy.testing.assert_allclose(layer.apply(params, x), ref, rtol=1e-12, atol=1e-12)


def test_per_example_gradients_by_vmap_equal_a_loop():
    model = nn.MLP([4, 1], "tanh")
    params = model.init(0, (3,))
    x, y = rng.standard_normal((5, 3)), rng.standard_normal((5, 1))
    one = lambda p, xi, yi: nn.mse(model.apply(p, xi[None]), yi[None])
    batched = cr.vmap(cr.grad(one), in_axes=(None, 0, 0))(params, x, y)
    for i in range(5):
        gi = cr.grad(one)(params, x[i], y[i])
        for a, b in zip(cr.tree_leaves(batched), cr.tree_leaves(gi), strict=True):
            numpy.testing.assert_allclose(a[i], b, rtol=1e-12, atol=1e-15)
