"""chainrule.nn.fit: the loss decreases, a seed reproduces a run, batches cover the data,
validation metrics are recorded, jit and eager agree, float32 stays float32."""

import sys

import numpy
import pytest

import chainrule as cr
import chainrule.nn as nn
import chainrule.numpy as np
from chainrule.optimize import adam, sgd

rng = numpy.random.default_rng(0)
X = rng.standard_normal((120, 3))
Y = (X[:, :1] * X[:, 1:2] > 0).astype(float)  # a nonlinear target
model = nn.MLP([16, 1], "tanh")


def loss(p, x, y):
    return nn.binary_cross_entropy(model.apply(p, x), y)


def accuracy(p, x, y):
    return np.mean((model.apply(p, x) > 0) == (y > 0.5))


def test_batches_cover_every_example_once():
    parts = nn.batches(10, 4, numpy.random.default_rng(0))
    assert [len(b) for b in parts] == [4, 4, 2]
    assert sorted(numpy.concatenate(parts).tolist()) == list(range(10))


def test_loss_decreases_and_history_is_complete():
    params0 = model.init(0, (3,))
    params, hist = nn.fit(loss, params0, (X[:90], Y[:90]), adam(0.05), epochs=40,
                          batch_size=16, progress=False, validation_data=(X[90:], Y[90:]),
                          metrics={"accuracy": accuracy})
    assert hist["epoch"] == list(range(1, 41))
    assert set(hist) == {"epoch", "loss", "grad_norm", "time", "accuracy", "val_loss",
                         "val_accuracy"}
    assert hist["loss"][-1] < 0.5 * hist["loss"][0]
    assert hist["accuracy"][-1] >= 0.9
    # the recorded numbers are the functions' values at the returned parameters
    assert hist["val_loss"][-1] == pytest.approx(float(loss(params, X[90:], Y[90:])))
    assert hist["accuracy"][-1] == pytest.approx(float(accuracy(params, X[:90], Y[:90])))
    assert all(numpy.diff(hist["time"]) >= 0)


def test_one_full_batch_epoch_is_one_optimizer_step():
    params0 = model.init(1, (3,))
    params, _ = nn.fit(loss, params0, (X, Y), sgd(0.1), epochs=1, batch_size=500,
                       progress=False)
    g = cr.grad(loss)(params0, X, Y)
    for p, p0, gi in zip(cr.tree_leaves(params), cr.tree_leaves(params0), cr.tree_leaves(g),
                         strict=True):
        numpy.testing.assert_allclose(p, p0 - 0.1 * gi, rtol=1e-12, atol=1e-15)


def test_seed_reproduces_and_another_seed_differs():
    run = lambda seed: nn.fit(loss, model.init(0, (3,)), (X, Y), adam(0.01), epochs=3,
                              batch_size=10, progress=False, seed=seed)
    (p1, h1), (p2, h2), (p3, _) = run(7), run(7), run(8)
    assert h1["loss"] == h2["loss"]
    for a, b in zip(cr.tree_leaves(p1), cr.tree_leaves(p2), strict=True):
        numpy.testing.assert_array_equal(a, b)
    assert not numpy.array_equal(p1[0]["W"], p3[0]["W"])


def test_jit_agrees_with_eager():
    kw = dict(epochs=3, batch_size=32, progress=False, seed=3,
              validation_data=(X[:20], Y[:20]), metrics={"accuracy": accuracy})
    p_eager, h_eager = nn.fit(loss, model.init(0, (3,)), (X, Y), adam(0.01), **kw)
    p_jit, h_jit = nn.fit(loss, model.init(0, (3,)), (X, Y), adam(0.01), jit=True, **kw)
    numpy.testing.assert_allclose(h_jit["loss"], h_eager["loss"], rtol=1e-10)
    numpy.testing.assert_allclose(h_jit["val_accuracy"], h_eager["val_accuracy"])
    for a, b in zip(cr.tree_leaves(p_eager), cr.tree_leaves(p_jit), strict=True):
        numpy.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


def test_float32_training_stays_float32():
    params = model.init(0, (3,), numpy.float32)
    params, hist = nn.fit(loss, params, (X.astype(numpy.float32), Y.astype(numpy.float32)),
                          adam(0.01), epochs=2, batch_size=40, progress=False)
    assert all(p.dtype == numpy.float32 for p in cr.tree_leaves(params))
    assert hist["loss"][1] < hist["loss"][0]


def test_progress_lines_without_tqdm(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)  # import fails: plain lines
    nn.fit(loss, model.init(0, (3,)), (X, Y), adam(0.01), epochs=20, batch_size=60)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 10 and lines[-1].startswith("epoch 20/20: loss ")
    assert "grad_norm" in lines[0]


def test_dropout_trains_eagerly_through_a_closure_rng():
    drop_model = nn.serial(nn.Dense(16), nn.Activation("relu"), nn.Dropout(0.2), nn.Dense(1))
    gen = numpy.random.default_rng(0)
    drop_loss = lambda p, x, y: nn.binary_cross_entropy(drop_model.apply(p, x, rng=gen), y)
    params, hist = nn.fit(drop_loss, drop_model.init(0, (3,)), (X, Y), adam(0.02), epochs=30,
                          batch_size=30, progress=False)
    assert hist["loss"][-1] < 0.7 * hist["loss"][0]


def test_bad_arguments():
    p = model.init(0, (3,))
    with pytest.raises(ValueError, match="batch_size must be a positive int"):
        nn.fit(loss, p, (X, Y), adam(0.1), batch_size=0)
    with pytest.raises(ValueError, match="same number of examples"):
        nn.fit(loss, p, (X, Y[:5]), adam(0.1))
    with pytest.raises(TypeError, match="data must be a pair"):
        nn.fit(loss, p, X, adam(0.1))
    with pytest.raises(TypeError, match="optimizer must have init and update"):
        nn.fit(loss, p, (X, Y), 0.1)
    with pytest.raises(FloatingPointError, match="lower the learning rate"):
        nn.fit(lambda p, x, y: np.sum(p[0]["W"]) * numpy.nan, p, (X, Y), sgd(1.0),
               epochs=1, progress=False)


def test_train_step_norm_is_the_global_norm():
    from chainrule.optimize import global_norm

    tree = [{"W": rng.standard_normal((4, 3)), "b": rng.standard_normal(3)},
            {"K": rng.standard_normal((2, 2, 3))}, {}]
    want = numpy.sqrt(sum(numpy.sum(a * a) for a in cr.tree_leaves(tree)))
    assert float(global_norm(tree)) == pytest.approx(want, rel=1e-14)
    assert float(cr.jit(global_norm)(tree)) == pytest.approx(want, rel=1e-14)
    # the step reports ‖g‖ of the batch's gradient
    params = model.init(0, (3,))
    step = nn.train_step(loss, sgd(0.1))
    _, _, value, gnorm = step(params, sgd(0.1).init(params), X, Y)
    g = cr.grad(loss)(params, X, Y)
    assert float(gnorm) == pytest.approx(float(global_norm(g)), rel=1e-12)
    assert float(value) == pytest.approx(float(loss(params, X, Y)), rel=1e-14)
