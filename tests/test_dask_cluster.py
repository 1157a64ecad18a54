"""The big-regression example on a real ``dask.distributed`` cluster (2 worker processes):
its L-BFGS fit over lazily generated Dask data matches the same fit on the data in
memory, and its gradient is the closed form (1/N) Xᵀ(σ(Xw) - y)."""

import numpy as onp
import pytest

import chainrule as cr
from chainrule import cli
from chainrule.examples import big_regression as br
from chainrule.optimize.distributed import hessp_computed, persist, value_and_grad_computed

pytest.importorskip("distributed", reason="dask.distributed is not installed "
                                          "(pip install chainrule[dask])")
pytest.importorskip("scipy", reason="the example fits with SciPy's L-BFGS-B")

ROWS, FEATURES, SEED = 6000, 4, 3


@pytest.fixture(scope="module")
def in_memory():
    X, y, w_true = br.make_data(ROWS, FEATURES, chunk_rows=1000, seed=SEED)
    Xn, yn = X.compute(scheduler="sync"), y.compute(scheduler="sync")
    return Xn, yn, w_true


def test_data_are_generated_chunk_by_chunk(in_memory):
    Xn, yn, w_true = in_memory
    X, y, _ = br.make_data(ROWS, FEATURES, chunk_rows=1000, seed=SEED)
    assert X.numblocks == (6, 1) and X.shape == (ROWS, FEATURES)
    onp.testing.assert_array_equal(X[2000:3000].compute(scheduler="sync"), Xn[2000:3000])
    assert set(onp.unique(yn)) == {0.0, 1.0}
    # labels follow P(y = 1) = σ(x·w_true): the mean label matches the mean probability
    p = 1 / (1 + onp.exp(-(Xn @ w_true)))
    assert abs(yn.mean() - p.mean()) < 4 * onp.sqrt(0.25 / ROWS)


def test_gradient_is_the_closed_form(in_memory):
    Xn, yn, _ = in_memory
    X, y, _ = br.make_data(ROWS, FEATURES, chunk_rows=1000, seed=SEED)
    w = onp.linspace(-0.5, 0.5, FEATURES)
    value, grad = value_and_grad_computed(br.loss)(w, X, y)
    z = Xn @ w
    onp.testing.assert_allclose(value, onp.mean(onp.logaddexp(0, z) - yn * z), rtol=1e-12)
    onp.testing.assert_allclose(grad, Xn.T @ (1 / (1 + onp.exp(-z)) - yn) / ROWS, rtol=1e-10)


def test_newton_cg_with_dask_hessian_vector_products(in_memory):
    """SciPy's Newton-CG driven by one-pass value+gradient and H·v over Dask data (the
    local threaded scheduler) reaches the in-memory L-BFGS optimum; H·v is the closed
    form (1/N) Xᵀ diag(σ(1-σ)) X v."""
    from scipy.optimize import minimize

    Xn, yn, _ = in_memory
    X, y, _ = br.make_data(ROWS, FEATURES, chunk_rows=1000, seed=SEED)
    X, y = persist(X, y)
    w, v = onp.linspace(-0.5, 0.5, FEATURES), onp.arange(1.0, FEATURES + 1)
    s = 1 / (1 + onp.exp(-(Xn @ w)))
    onp.testing.assert_allclose(hessp_computed(br.loss)(w, v, X, y),
                                Xn.T @ (s * (1 - s) * (Xn @ v)) / ROWS, rtol=1e-10)
    res = minimize(value_and_grad_computed(br.loss), onp.zeros(FEATURES), args=(X, y),
                   jac=True, hessp=hessp_computed(br.loss), method="newton-cg",
                   options=dict(xtol=1e-12))
    want = br.fit(Xn, yn, FEATURES)
    onp.testing.assert_allclose(res.x, want["w"], rtol=1e-6, atol=1e-8)


def test_cluster_fit_matches_the_in_memory_fit(in_memory):
    Xn, yn, w_true = in_memory
    result = br.run(rows=ROWS, features=FEATURES, chunk_rows=1000, seed=SEED, client="local",
                    workers=2)
    want = br.fit(Xn, yn, FEATURES)  # chainrule on NumPy arrays in this process
    onp.testing.assert_allclose(result.numbers["w"], want["w"], rtol=1e-6, atol=1e-8)
    assert result.ok and result.numbers["grad_norm"] < 1e-5
    assert result.numbers["chunks"] == 6 and result.numbers["persisted"]
    assert 0 < result.numbers["graph_tasks"] < 200
    assert 0 < result.numbers["peak_worker_memory_mb"] < 2048
    assert len(result.numbers["seconds_per_iteration"]) == result.numbers["nit"]
    # the maximum-likelihood estimate is within a few standard errors of w_true
    assert result.numbers["w_error"] < 0.2


def test_command_maps_the_hyphen_and_passes_rows_and_client(monkeypatch, capsys):
    seen = {}

    def fake_run(name, **options):
        seen.update(options, name=name)
        return cr.examples.ExampleResult(name, {"rows": options["rows"]}, "done")

    monkeypatch.setattr(cr.examples, "run", fake_run)
    assert cli.main(["example", "big-regression", "--rows", "500", "--client",
                     "tcp://127.0.0.1:8786"]) == 0
    assert seen["name"] == "big_regression" and seen["rows"] == 500
    assert seen["client"] == "tcp://127.0.0.1:8786"
    assert cli.main(["example", "digits", "--rows", "5"]) == 2
    assert "apply to big-regression" in capsys.readouterr().out
