"""Derivatives of Dask arrays: every primitive family on small chunked inputs.

Each case is differentiated twice, once on a NumPy array and once on the same values
as a chunked Dask array; values, gradients (reverse), tangents (forward) and
Hessian-vector products (forward over reverse) must agree, and on Dask nothing may be
computed while the derivative is built: a scheduler that raises is installed while
chainrule runs, and the results must be Dask arrays.
"""

import numpy as onp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import chainrule as cr
import chainrule.numpy as np
from chainrule.core import backends

from backend_cases import FAMILIES, A, B, P, V

dask = pytest.importorskip("dask", reason="Dask is not installed (pip install chainrule[dask])")
da = pytest.importorskip("dask.array")
pytest.importorskip("array_api_compat", reason="array-api-compat is not installed")

def _forbid(*args, **kwargs):
    raise AssertionError("a Dask array was computed while chainrule built the derivative")


def lazily(fn, *args):
    """``fn(*args)`` with computing forbidden; every result must be a Dask array."""
    with dask.config.set(scheduler=_forbid):
        out = fn(*args)
    for leaf in cr.tree_leaves(out):
        assert isinstance(leaf, da.Array), type(leaf)
    return out


def assert_same(got, want):
    got = dask.compute(got)[0]
    for g, w in zip(cr.tree_leaves(got), cr.tree_leaves(want)):
        onp.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12)


@pytest.fixture
def xd():
    return da.from_array(A, chunks=(3, 2))


@pytest.fixture
def pd():
    return da.from_array(P, chunks=(3, 2))


@pytest.mark.parametrize("name", list(FAMILIES))
def test_reverse_mode(name, xd):
    f = FAMILIES[name]
    assert_same(lazily(cr.value_and_grad(f), xd), cr.value_and_grad(f)(A))


@pytest.mark.parametrize("name", list(FAMILIES))
def test_forward_mode(name, xd, pd):
    f = FAMILIES[name]
    assert_same(lazily(lambda x, t: cr.jvp(f, (x,), (t,)), xd, pd), cr.jvp(f, (A,), (P,)))


@pytest.mark.parametrize("name", list(FAMILIES))
def test_second_order(name, xd, pd):
    f = FAMILIES[name]
    assert_same(lazily(lambda x, t: cr.hvp(f, (x,), (t,)), xd, pd), cr.hvp(f, (A,), (P,)))


def test_numpy_agrees_with_finite_differences():
    """The NumPy reference the Dask results are held to is itself right."""
    for f in FAMILIES.values():
        cr.check_grads(f, (A,), order=2, modes=("fwd", "rev"))


def test_small_parameters_over_dask_data():
    """The usual shape of the problem: NumPy parameters, Dask data captured by the loss;
    the gradient and the Hessian are Dask arrays of the parameters' shape."""
    X = da.from_array(A, chunks=(2, 4))
    y = (A[:, 0] > 0).astype(float)

    def loss(w, X):
        z = X @ w
        return np.mean(np.logaddexp(0.0, z) - y * z)

    w = onp.array([0.3, -0.2, 0.1, 0.5])
    assert_same(lazily(cr.value_and_grad(loss), w, X), cr.value_and_grad(loss)(w, A))
    assert_same(lazily(cr.hessian(loss), w, X), cr.hessian(loss)(w, A))
    assert_same(lazily(lambda w, X: cr.jacfwd(lambda w: X @ w)(w), w, X), A)


def test_value_and_gradient_share_one_graph():
    """Computing the value and the gradient together runs each task once: the data
    generator of every block is called once, not once per output."""
    calls = []

    def block(block_info=None):
        calls.append(block_info[None]["chunk-location"])
        (r0, r1), _ = block_info[None]["array-location"]
        return A[r0:r1]

    X = da.map_blocks(block, chunks=((2, 2, 2), (4,)), dtype=float)
    value, grad = lazily(cr.value_and_grad(lambda w: np.sum(np.tanh(X @ w) ** 2)), V)
    got = dask.compute(value, grad, scheduler="sync")
    assert sorted(calls) == [(0, 0), (1, 0), (2, 0)]
    assert_same(got, cr.value_and_grad(lambda w: np.sum(np.tanh(A @ w) ** 2))(V))


def test_gradient_of_a_dask_input_is_a_dask_array():
    x = da.from_array(A, chunks=(3, 2))
    want = onp.zeros_like(A)
    want[0, 1] = 3.0
    assert_same(lazily(cr.grad(lambda x: 3.0 * x[0, 1]), x), want)
    # a NumPy cotangent (a stretched one: no copy) is handed out in the input's library
    c = onp.broadcast_to(onp.float64(2.0), A.shape)
    got = backends.like(c, x)
    assert isinstance(got, da.Array) and got.chunks == x.chunks
    assert_same(got, onp.full(A.shape, 2.0))


def test_jit_and_vmap_keep_dask(xd):
    f = FAMILIES["logistic"]
    jf = cr.jit(cr.value_and_grad(f))
    assert_same(lazily(jf, xd), cr.value_and_grad(f)(A))
    assert_same(jf(A), cr.value_and_grad(f)(A))  # NumPy inputs: their own program
    assert jf.misses == 2
    assert_same(lazily(cr.vmap(lambda r: np.sum(r * V) ** 2), xd), (A @ V) ** 2)


def test_untraced_calls_keep_dask(xd):
    """chainrule.numpy on Dask values outside any transformation stays lazy too."""
    out = lazily(lambda x: (np.einsum("ij,jk->ik", x, B), np.asarray(x, dtype=np.float32),
                            np.sum(np.sin(x), axis=0)), xd)
    assert_same(out, (A @ B, A.astype(onp.float32), onp.sin(A).sum(axis=0)))


def test_astype_keeps_dask(xd):
    """A cast inside the function (and its adjoint, cast back) stays lazy."""
    f = lambda x: np.sum(x.astype(np.float32) ** 2)  # noqa: E731
    value, grad = lazily(cr.value_and_grad(f), xd)
    want_value, want_grad = cr.value_and_grad(f)(A)
    assert grad.dtype == want_grad.dtype == onp.float64
    value, grad = dask.compute(value, grad)
    onp.testing.assert_allclose(value, want_value, rtol=1e-6)
    onp.testing.assert_allclose(grad, want_grad, rtol=1e-6)


def test_dask_index_array_is_refused_with_advice(xd):
    with pytest.raises(TypeError, match="NumPy values.*where"):
        cr.grad(lambda x: np.sum(x[x > 0]))(xd)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(0, 5), min_size=0, max_size=12), st.integers(1, 3))
def test_scatter_add_matches_numpy_add_at(positions, chunk):
    """Repeated positions accumulate exactly as numpy.add.at's."""
    idx = onp.array(positions, dtype=onp.intp)
    g = onp.arange(1.0, idx.size + 1)
    want = onp.zeros(6)
    onp.add.at(want, idx, g)
    got = backends.scatter_add(da.from_array(g, chunks=chunk), (idx,), (6,), onp.float64)
    onp.testing.assert_array_equal(got.compute(), want)


def test_scatter_add_basic_and_mask_keys():
    for key in [(slice(1, 3),), (slice(None, None, -2),), (None, 0, Ellipsis), (-1, 2)]:
        shape = onp.zeros((4, 3))[key].shape
        g = onp.arange(1.0, 1.0 + int(onp.prod(shape))).reshape(shape)
        want = onp.zeros((4, 3))
        want[key] = g
        got = backends.scatter_add(da.from_array(g, chunks=1), key, (4, 3), onp.float64)
        onp.testing.assert_array_equal(got.compute(), want)
    mask = onp.zeros((4, 3), dtype=bool)
    mask[[0, 2, 3], [1, 1, 2]] = True
    want = onp.zeros((4, 3))
    want[mask] = [1.0, 2.0, 3.0]
    got = backends.scatter_add(da.from_array(onp.array([1.0, 2.0, 3.0])), (mask,), (4, 3),
                               onp.float64)
    onp.testing.assert_array_equal(got.compute(), want)


def test_tour_section_checks_pass_quickly(tmp_path):
    from chainrule.tour import SECTIONS, TourContext, section_dask

    assert section_dask in SECTIONS
    section = section_dask(TourContext(tmp_path, quick=True))
    assert section.ok, section.summary
    assert "Dask arrays (lazy)" in section.html and "20,000 rows" in section.summary


def _layers(arr):
    return [name.rsplit("-", 1)[0] for name in arr.__dask_graph__().layers]


def test_guards_run_block_by_block_with_numpys_shortcuts():
    # the logistic loss's gradient: the 0·∞ guards and logaddexp's infinity check run as
    # their NumPy code per block (one task layer each), not as masks in the graph
    rng = onp.random.default_rng(0)
    Xn, yn, w = rng.normal(size=(40, 3)), (rng.random(40) < 0.5) * 1.0, onp.ones(3)

    def loss(w, X, y):
        z = X @ w
        return np.mean(np.logaddexp(0.0, z) - y * z)

    X, y = da.from_array(Xn, chunks=(10, 3)), da.from_array(yn, chunks=10)
    value, grad = lazily(cr.value_and_grad(loss), w, X, y)
    layers = _layers(grad)
    assert "_softmax_weight" in layers and "_zero_safe_impl" in layers
    assert not {"where", "isnan", "isinf"} & set(layers), layers
    assert_same((value, grad), cr.value_and_grad(loss)(w, Xn, yn))


def test_per_block_guards_keep_the_numpy_values_at_nan_and_infinity():
    # 0·∞ = 0 in the blocks that have one, the plain product elsewhere; logaddexp's
    # weight takes its limits where y is infinite (one block) and exp(a − y) in others
    x = onp.array([0.0, 1.0, 2.0, -onp.inf, 3.0, onp.inf])

    def f(x):
        return np.sum(np.where(x > 0.5, np.log(x), 0.0)) + np.sum(np.logaddexp(x, 1.0))

    with onp.errstate(all="ignore"):  # log of the untaken branch's entries
        want = cr.grad(f)(x)
        got = lazily(cr.grad(f), da.from_array(x, chunks=3)).compute()
    assert onp.isfinite(want[[0, 1, 2, 4]]).all()
    onp.testing.assert_array_equal(got, want)


def test_per_block_applies_only_to_dask_arrays_chunked_alike():
    a = da.ones(6, chunks=3)
    kernel = onp.add
    assert backends.per_block(kernel, a, 1.0, dtype=float).compute().tolist() == [2.0] * 6
    assert backends.per_block(kernel, a, da.ones(6, chunks=2), dtype=float) is None
    assert backends.per_block(kernel, a, onp.ones(6), dtype=float) is None
    assert backends.per_block(kernel, onp.ones(6), 1.0, dtype=float) is None
