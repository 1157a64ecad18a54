"""The big-regression example on a real ``dask.distributed`` cluster (2 worker processes):
its L-BFGS fit over lazily generated Dask data matches the same fit on the data in
memory, and its gradient is the closed form (1/N) Xᵀ(σ(Xw) - y)."""

import numpy as onp
import pytest

import chainrule as cr
from chainrule import cli
from chainrule.examples import big_regression as br
from chainrule.optimize import minimize
from chainrule.optimize.distributed import hessp_computed, value_and_grad_computed

dask = pytest.importorskip("dask", reason="Dask is not installed (pip install chainrule[dask])")
pytest.importorskip("distributed", reason="dask.distributed is not installed "
                                          "(pip install chainrule[dask])")
pytest.importorskip("scipy", reason="the example fits with SciPy's L-BFGS-B")

ROWS, FEATURES, SEED, CHUNK = 6000, 4, 3, 2000


@pytest.fixture(scope="module")
def in_memory():
    X, y, w_true = br.make_data(ROWS, FEATURES, chunk_rows=CHUNK, seed=SEED)
    Xn, yn = X.compute(scheduler="sync"), y.compute(scheduler="sync")
    return Xn, yn, w_true


def test_data_are_generated_chunk_by_chunk(in_memory):
    Xn, yn, w_true = in_memory
    X, y, _ = br.make_data(ROWS, FEATURES, chunk_rows=CHUNK, seed=SEED)
    assert X.numblocks == (3, 1) and X.shape == (ROWS, FEATURES)
    onp.testing.assert_array_equal(X[2500:4500].compute(scheduler="sync"), Xn[2500:4500])
    assert set(onp.unique(yn)) == {0.0, 1.0}
    # labels follow P(y = 1) = σ(x·w_true): the mean label matches the mean probability
    p = 1 / (1 + onp.exp(-(Xn @ w_true)))
    assert abs(yn.mean() - p.mean()) < 4 * onp.sqrt(0.25 / ROWS)


def test_gradient_is_the_closed_form(in_memory):
    Xn, yn, _ = in_memory
    X, y, _ = br.make_data(ROWS, FEATURES, chunk_rows=CHUNK, seed=SEED)
    w = onp.linspace(-0.5, 0.5, FEATURES)
    value, grad = value_and_grad_computed(br.loss)(w, X, y)
    z = Xn @ w
    onp.testing.assert_allclose(value, onp.mean(onp.logaddexp(0, z) - yn * z), rtol=1e-12)
    onp.testing.assert_allclose(grad, Xn.T @ (1 / (1 + onp.exp(-z)) - yn) / ROWS, rtol=1e-10)


def test_hessian_vector_product_is_the_closed_form(in_memory):
    """H·v over Dask data from one pass: (1/N) Xᵀ diag(σ(1-σ)) X v."""
    Xn, yn, _ = in_memory
    X, y, _ = br.make_data(ROWS, FEATURES, chunk_rows=CHUNK, seed=SEED)
    w, v = onp.linspace(-0.5, 0.5, FEATURES), onp.arange(1.0, FEATURES + 1)
    s = 1 / (1 + onp.exp(-(Xn @ w)))
    onp.testing.assert_allclose(hessp_computed(br.loss)(w, v, X, y),
                                Xn.T @ (s * (1 - s) * (Xn @ v)) / ROWS, rtol=1e-10)


@pytest.mark.parametrize("method", ["l-bfgs-b", "newton-cg"])
def test_minimize_over_dask_data_is_one_pass_per_evaluation(in_memory, method):
    """chainrule.optimize.minimize on a loss over Dask data (local threaded scheduler):
    the data in ``args`` are persisted once, each evaluation computes value and gradient
    (or H·v) in one ``compute``, and the optimum is the in-memory one."""
    Xn, yn, _ = in_memory
    X, y, _ = br.make_data(ROWS, FEATURES, chunk_rows=CHUNK, seed=SEED)
    computes = []

    def scheduler(dsk, keys, **kwargs):
        computes.append(keys)
        return dask.threaded.get(dsk, keys, **kwargs)

    with dask.config.set(scheduler=scheduler):
        res = minimize(br.loss, onp.zeros(FEATURES), args=(X, y), method=method)
    want = minimize(br.loss, onp.zeros(FEATURES), args=(Xn, yn), method=method)
    onp.testing.assert_allclose(res.x, want.x, rtol=1e-9, atol=1e-12)
    assert type(res.fun) is float and type(res.jac) is onp.ndarray
    # one persist, then one compute per evaluation of (f, ∇f) and per H·v
    assert len(computes) == 1 + res.nfev + res.nhev
    assert res.nit == want.nit and res.success


def test_fit_over_lazy_data_captured_by_the_loss(in_memory):
    """Data larger than the cluster's memory stay lazy (the loss closes over them, nothing
    is persisted): the same optimum, each chunk generated again on each pass."""
    Xn, yn, _ = in_memory
    X, y, _ = br.make_data(ROWS, FEATURES, chunk_rows=CHUNK, seed=SEED)
    got = br.fit(X, y, FEATURES, data_in_args=False)
    want = br.fit(Xn, yn, FEATURES)
    onp.testing.assert_allclose(got["w"], want["w"], rtol=1e-9, atol=1e-12)
    assert got["nit"] == want["nit"] == len(got["iterations"])


def test_cluster_fit_matches_the_in_memory_fit(in_memory):
    Xn, yn, w_true = in_memory
    result = br.run(rows=ROWS, features=FEATURES, chunk_rows=CHUNK, seed=SEED, client="local",
                    workers=2)
    want = br.fit(Xn, yn, FEATURES)  # chainrule on NumPy arrays in this process
    onp.testing.assert_allclose(result.numbers["w"], want["w"], rtol=1e-6, atol=1e-8)
    assert result.ok and result.numbers["grad_norm"] < 1e-5
    assert result.numbers["chunks"] == 3 and result.numbers["persisted"]
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


def test_local_workers_keep_freed_temporaries_in_their_heap():
    # Dask's 64 KiB trim threshold would fault every temporary in anew on each pass
    import os
    import resource

    client, cluster = br.start_client("local", workers=1)
    try:
        env = client.run(lambda: {k: os.environ.get(k) for k in br.WORKER_HEAP})
        assert list(env.values()) == [{k: str(v) for k, v in br.WORKER_HEAP.items()}]

        def faults_of_temporaries():
            before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
            for _ in range(20):
                onp.ones(500_000).sum()  # a 4 MB temporary, made and freed
            return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before

        client.run(faults_of_temporaries)  # the first one grows the heap
        (faults,) = client.run(faults_of_temporaries).values()
        assert faults < 200  # 20 × 977 pages with Dask's default
    finally:
        client.close()
        cluster.close()
