"""Logistic regression on more rows than one process holds: Dask data, L-BFGS, a cluster.

N rows of d standard-normal features x_i and labels y_i ∈ {0, 1} drawn with
P(y_i = 1) = σ(x_iᵀw_true), generated lazily chunk by chunk (each chunk from its own
seed, so no process ever holds the whole data). The loss is the mean negative
log-likelihood

    f(w) = (1/N) Σ_i [log(1 + exp(x_iᵀw)) - y_i x_iᵀw],   ∇f(w) = (1/N) Xᵀ(σ(Xw) - y),

written as ordinary chainrule code over the Dask arrays X and y; chainrule's gradient
is a lazy Dask array of the 10 parameters, and each L-BFGS step computes the value and
the gradient in one pass over the chunks (on a ``dask.distributed`` cluster: a local
one by default, or a scheduler's address). With N large, w approaches w_true.

    chainrule example big-regression --rows 1000000 --client local
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy

import chainrule as cr
import chainrule.numpy as np
from chainrule.core.progress import ProgressBar
from chainrule.examples import ExampleResult
from chainrule.interpreters import heap
from chainrule.optimize import minimize

__all__ = ["run", "loss", "make_data", "fit", "start_client", "workers_peak_memory",
           "tour_section"]

DASK_NOTE = "big_regression needs Dask: pip install chainrule[dask]"


def _dask_array():
    try:
        import dask.array as da
    except ImportError as e:
        raise ImportError(DASK_NOTE) from e
    return da


def true_weights(features: int, seed: int) -> numpy.ndarray:
    """w_true ~ N(0, 1)^d, from ``seed``."""
    return numpy.random.default_rng([seed, 0]).standard_normal(features)


def _chunk(w_true: numpy.ndarray, seed: int, block_info=None) -> numpy.ndarray:
    """The rows of one chunk, [x | y], from the seed (seed, 1 + chunk index)."""
    info = block_info[None]
    (start, stop), _ = info["array-location"]
    rng = numpy.random.default_rng([seed, 1 + info["chunk-location"][0]])
    x = rng.standard_normal((stop - start, w_true.size))
    p = 1.0 / (1.0 + numpy.exp(-(x @ w_true)))
    y = (rng.random(stop - start) < p).astype(float)
    return numpy.concatenate([x, y[:, None]], axis=1)


def make_data(rows: int, features: int = 10, chunk_rows: int = 1_000_000, seed: int = 0):
    """``(X, y, w_true)``: X of shape (rows, features) and y of shape (rows,), lazy Dask
    arrays whose chunks of ``chunk_rows`` rows are generated where they are computed
    (chunk k from the seed (seed, 1 + k): the same seed and chunk size give the same data).

    Example:
        >>> X, y, w_true = make_data(1000, 3, chunk_rows=250)
        >>> X.numblocks, y.shape, w_true.shape
        ((4, 1), (1000,), (3,))
        >>> float(y.sum().compute()) > 0
        True
    """
    da = _dask_array()
    w_true = true_weights(features, seed)
    chunk_rows = max(1, min(chunk_rows, rows))
    sizes = (chunk_rows,) * (rows // chunk_rows) + ((rows % chunk_rows,) if rows % chunk_rows
                                                    else ())
    xy = da.map_blocks(_chunk, w_true, seed, chunks=(sizes, (features + 1,)),
                       dtype=numpy.float64, meta=numpy.empty((0, 0)))
    return xy[:, :features], xy[:, features], w_true


def loss(w, X, y):
    """Mean negative log-likelihood of logistic regression, (1/N) Σ log(1+e^{z}) - y z."""
    z = X @ w
    return np.mean(np.logaddexp(0.0, z) - y * z)


#: glibc settings for the local workers: arrays up to 16 MiB come from the heap and up to
#: 32 MiB of freed memory stays there (what chainrule.interpreters.heap gives this process)
WORKER_HEAP = {"MALLOC_MMAP_THRESHOLD_": heap.PRIMER_BYTES,
               "MALLOC_TRIM_THRESHOLD_": 2 * heap.PRIMER_BYTES}


def start_client(client: Any = "local", workers: int = 2, memory_limit: str = "2GB"):
    """``(client, cluster)``: a client of a new ``LocalCluster`` (``workers`` processes of
    one thread, ``memory_limit`` each) for ``"local"``, else of the scheduler at the
    address ``client`` (``cluster`` is then None); a ``Client`` is used as it is.

    The local workers start with :data:`WORKER_HEAP` in their environment. Dask's
    default (``MALLOC_TRIM_THRESHOLD_`` = 64 KiB, which also switches glibc's own
    adaptation off) hands every freed temporary above 128 KiB back to the system, so
    each pass faults all of its temporaries in anew: 17,700 page faults per value +
    gradient pass at 10⁶ rows (two chunks), 75 with these settings, and a third less
    worker CPU time.
    """
    try:
        import dask
        from distributed import Client, LocalCluster
    except ImportError as e:
        raise ImportError(DASK_NOTE) from e
    if isinstance(client, Client):
        return client, None
    if client in (None, "local"):
        environ = {f"distributed.nanny.pre-spawn-environ.{k}": v for k, v in WORKER_HEAP.items()}
        with dask.config.set(environ):
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                   memory_limit=memory_limit, dashboard_address=None)
        return Client(cluster), cluster
    if not isinstance(client, str):
        raise TypeError(f"big_regression: client must be 'local', a scheduler address or a "
                        f"distributed.Client, got {type(client).__name__}")
    return Client(client), None


def _peak_rss() -> int:
    """This process's peak resident memory in bytes (run on each worker)."""
    import resource
    import sys

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def workers_peak_memory(client) -> dict[str, int]:
    """Each worker's peak resident memory so far, in bytes, by worker address."""
    return client.run(_peak_rss)


def graph_size(*arrays) -> int:
    """The number of tasks in the graph that computes ``arrays`` together."""
    from dask.base import collections_to_expr

    return len(collections_to_expr(arrays).__dask_graph__())


def fit(X, y, features: int, maxiter: int = 100, gtol: float = 1e-9, progress: bool = False,
        client=None, on_iteration=None, data_in_args: bool = True) -> dict:
    """L-BFGS (:func:`chainrule.optimize.minimize`) on :func:`loss` from w = 0; over Dask
    data each evaluation is one distributed pass (value and gradient together).

    Args:
        X, y: the data (Dask or NumPy arrays).
        features: the number of parameters.
        maxiter: the iteration limit.
        gtol: the gradient tolerance (‖∇f‖_∞).
        progress: show a progress bar (tqdm; a printed line every 5 iterations without).
        client: a ``distributed.Client`` whose workers' peak memory is recorded per
            iteration (None: not recorded).
        on_iteration: optional ``callback(record)`` after each iteration.
        data_in_args: hand X and y to ``minimize`` in ``args`` (it persists Dask data
            there once); False closes the loss over them (they stay lazy: data larger
            than the cluster's memory are generated again on each pass).

    Returns:
        ``w``, ``loss``, ``grad_norm``, ``nit``, ``nfev``, ``message`` and ``iterations``:
        per iteration ``time`` (seconds since the previous one), ``loss``, ``grad_norm``
        (‖∇f‖_∞) and ``peak_memory`` (bytes, the largest worker's).
    """
    records: list[dict] = []
    bar = ProgressBar("L-BFGS", maxiter, every=5, enabled=progress)
    clock = [time.perf_counter()]

    def callback(intermediate_result):
        now = time.perf_counter()
        peak = max(workers_peak_memory(client).values()) if client is not None else None
        record = dict(time=now - clock[0], loss=float(intermediate_result.fun),
                      peak_memory=peak)
        records.append(record)
        clock[0] = now
        bar.update(loss=record["loss"], s=record["time"], mem=_mb(record["peak_memory"]))
        if on_iteration is not None:
            on_iteration(record)

    if data_in_args:
        fun, args = loss, (X, y)
    else:
        fun, args = (lambda w: loss(w, X, y)), ()
    try:
        res = minimize(fun, numpy.zeros(features), args=args, method="l-bfgs-b",
                       callback=callback, options=dict(maxiter=maxiter, gtol=gtol))
    finally:
        bar.close()
    for record, gnorm in zip(records, res.history.gnorm[1:]):
        record["grad_norm"] = float(gnorm)
    return dict(w=res.x, loss=float(res.fun), grad_norm=float(numpy.abs(res.jac).max()),
                nit=int(res.nit), nfev=int(res.nfev), message=str(res.message),
                iterations=records)


def _mb(n) -> str:
    return "?" if n is None else f"{n / 2**20:.0f} MB"


def run(out: str | Path | None = None, quick: bool = False, seed: int = 0,
        progress: bool = False, rows: int | None = None, client: Any = "local",
        features: int = 10, chunk_rows: int | None = None, workers: int = 2,
        maxiter: int = 100, persist_data: str | bool = "auto") -> ExampleResult:
    """Fit logistic regression by L-BFGS on ``rows`` lazily generated rows over Dask.

    Args:
        out: unused (no figures); kept for the examples' common signature.
        quick: 20 000 rows (for tests and the tour).
        seed: seed of w_true and of every chunk.
        progress: progress bar and a per-iteration table on stdout.
        rows: the number of rows (default 1 000 000; quick 20 000).
        client: ``"local"`` (a new ``LocalCluster``), a scheduler address such as
            ``tcp://10.0.0.1:8786``, or a ``distributed.Client``.
        features: d, the number of features.
        chunk_rows: rows per chunk (default: rows / 8, at most 1 000 000).
        workers: the local cluster's worker processes.
        maxiter: the L-BFGS iteration limit.
        persist_data: keep the generated data in the workers' memory (True), generate it
            again on each pass (False), or persist when it takes at most half of the
            workers' memory ("auto").

    Returns:
        The result; ``numbers`` has ``rows``, ``features``, ``chunks``, ``graph_tasks``
        (tasks of one value+gradient pass), ``persisted``, ``nit``, ``nfev``, ``loss``,
        ``grad_norm``, ``w_error`` (‖w - w_true‖/‖w_true‖), ``seconds_per_iteration``
        (list), ``peak_worker_memory_mb`` (the largest worker's peak) and ``seconds``.
    """
    rows = rows if rows is not None else (20_000 if quick else 1_000_000)
    if rows < 1 or features < 1:
        raise ValueError(f"big_regression: rows and features must be positive, got rows={rows}"
                         f", features={features}")
    chunk_rows = chunk_rows or max(1, min(1_000_000, -(-rows // 8)))
    started = time.perf_counter()
    X, y, w_true = make_data(rows, features, chunk_rows, seed)
    dask_client, cluster = start_client(client, workers)
    try:
        limits = [w["memory_limit"] or 0 for w in
                  dask_client.scheduler_info()["workers"].values()]
        data_bytes = rows * (features + 1) * 8
        if persist_data == "auto":
            persist_data = all(limits) and data_bytes <= 0.5 * sum(limits)
        value, grad = cr.value_and_grad(loss)(numpy.zeros(features), X, y)
        tasks = graph_size(value, grad)
        if progress:
            kept = "persisted" if persist_data else "generated on each pass"
            print(f"{rows:,} rows × {features} features in {X.numblocks[0]} chunks "
                  f"({data_bytes / 2**30:.2f} GiB, {kept}); one value+gradient pass: "
                  f"{tasks} tasks; {len(limits)} workers")
        result = fit(X, y, features, maxiter=maxiter, progress=progress, client=dask_client,
                     data_in_args=bool(persist_data))
        if progress:
            print(" it   seconds   loss        ‖∇f‖∞     peak worker memory")
            for i, r in enumerate(result["iterations"], 1):
                print(f"{i:3d} {r['time']:8.2f}   {r['loss']:.8f}  {r['grad_norm']:.2e}  "
                      f"{_mb(r['peak_memory'])}")
        peak = max(workers_peak_memory(dask_client).values())
    finally:
        dask_client.close()
        if cluster is not None:
            cluster.close()
    w = result["w"]
    w_error = float(numpy.linalg.norm(w - w_true) / numpy.linalg.norm(w_true))
    times = [r["time"] for r in result["iterations"]]
    numbers = dict(rows=rows, features=features, chunks=int(X.numblocks[0]), graph_tasks=tasks,
                   persisted=bool(persist_data), nit=result["nit"], nfev=result["nfev"],
                   loss=result["loss"], grad_norm=result["grad_norm"], w_error=w_error,
                   w=[float(v) for v in w], seconds_per_iteration=times,
                   peak_worker_memory_mb=peak / 2**20,
                   seconds=time.perf_counter() - started)
    # the MLE's error shrinks like 1/√N: a generous multiple of that is the check
    ok = result["grad_norm"] < 1e-6 and w_error < 20.0 * numpy.sqrt(features / rows)
    summary = (f"{rows:,} rows: {result['nit']} L-BFGS iterations, loss {result['loss']:.6f}, "
               f"‖w - w_true‖/‖w_true‖ = {w_error:.2e}, median "
               f"{numpy.median(times) if times else 0.0:.2f} s/iteration, {tasks} tasks per pass, "
               f"peak worker memory {peak / 2**20:.0f} MB")
    return ExampleResult("big_regression", numbers, summary, ok=bool(ok))


def tour_section(out: Path | None = None, quick: bool = False) -> tuple[str, str, str, bool]:
    """The tour's section: (title, HTML, one-line summary, ok), on Dask's local threaded
    scheduler (no cluster: the tour stays quick).

    The checks: value and gradient over lazily generated Dask data are Dask arrays until
    computed, agree with chainrule on the same data in NumPy and with the closed form
    (1/N) Xᵀ(σ(Xw) - y) to 1e-10, and L-BFGS over the Dask data reaches the in-memory
    optimum with one pass per evaluation.
    """
    title = "Past one machine: a gradient over Dask data"
    try:
        import dask
    except ImportError:
        return title, f"<p>{DASK_NOTE}</p>", "skipped: Dask is not installed", True
    rows, features = (20_000, 5) if quick else (200_000, 10)
    X, y, _ = make_data(rows, features, chunk_rows=rows // 8, seed=1)
    w = numpy.linspace(-0.5, 0.5, features)
    value, grad = cr.value_and_grad(loss)(w, X, y)
    lazy = type(value).__module__.startswith("dask") and type(grad).__module__.startswith("dask")
    tasks = graph_size(value, grad)
    started = time.perf_counter()
    value, grad = dask.compute(value, grad, scheduler="threads")
    seconds = time.perf_counter() - started
    Xn, yn = dask.compute(X, y, scheduler="threads")
    value_np, grad_np = cr.value_and_grad(loss)(w, Xn, yn)
    closed = Xn.T @ (1.0 / (1.0 + numpy.exp(-(Xn @ w))) - yn) / rows
    err_np = float(numpy.abs(grad - grad_np).max() / numpy.abs(grad_np).max())
    err_closed = float(numpy.abs(grad - closed).max() / numpy.abs(closed).max())
    with dask.config.set(scheduler="threads"):
        lazy_fit = fit(X, y, features, data_in_args=False)
    memory_fit = fit(Xn, yn, features)
    fit_err = float(numpy.abs(lazy_fit["w"] - memory_fit["w"]).max())
    ok = bool(lazy and abs(value - value_np) <= 1e-12 * abs(value_np) and err_np < 1e-10
              and err_closed < 1e-10 and fit_err < 1e-8)
    rows_html = "".join(f"<tr><td>{k}</td><td>{v}</td></tr>" for k, v in [
        ("rows × features, chunks", f"{rows:,} × {features}, {X.numblocks[0]}"),
        ("value and gradient before compute", "Dask arrays (lazy)" if lazy else "not lazy"),
        ("tasks in the one graph of both", tasks),
        ("one pass (threads)", f"{seconds * 1e3:.0f} ms"),
        ("gradient vs chainrule on NumPy", f"{err_np:.1e} (relative)"),
        ("gradient vs (1/N)Xᵀ(σ(Xw) − y)", f"{err_closed:.1e} (relative)"),
        ("L-BFGS over Dask vs in memory", f"max |Δw| = {fit_err:.1e}, {lazy_fit['nit']} "
                                          f"iterations, {lazy_fit['nfev']} passes"),
    ])
    body = ("<p>The mean logistic loss over data generated chunk by chunk as a Dask array, "
            "differentiated by the same <code>cr.value_and_grad</code> as NumPy code: the "
            "value and the gradient are one lazy task graph, computed together "
            "(<code>dask.compute(value, grad)</code>). <code>chainrule example "
            "big-regression --rows N --client ADDRESS</code> runs the fit on a "
            "<code>dask.distributed</code> cluster.</p>"
            f"<table>{rows_html}</table>")
    summary = (f"{rows:,} rows: gradient over Dask = NumPy to {err_np:.0e}, {tasks} tasks, "
               f"L-BFGS optimum equal to {fit_err:.0e}")
    return title, body, summary, ok


if __name__ == "__main__":  # python -m chainrule.examples.big_regression --rows N --client ADDR
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=None)
    parser.add_argument("--client", default="local")
    parser.add_argument("--seed", type=int, default=0)
    options = parser.parse_args()
    print(run(rows=options.rows, client=options.client, seed=options.seed,
              progress=True).summary)
