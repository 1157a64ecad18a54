"""Sparse derivatives: pattern detection by index sets, colourings, recovery.

The coloured Jacobian/Hessian must equal the dense one, and cost exactly one product
per colour (3 for a tridiagonal Jacobian, whatever n is)."""

from __future__ import annotations

import numpy as onp
import pytest
import scipy.sparse as sp

import chainrule as cr
import chainrule.numpy as np
from chainrule.sparse import (
    Pattern,
    color_columns,
    color_rows,
    is_star_coloring,
    star_coloring,
)
from chainrule.transforms import sparse_jacobians as sparse_api
from chainrule.transforms.sparse_jacobians import sparsity
from helpers import counted

RNG = onp.random.default_rng(80)


def allen_cahn(u, eps=0.01):
    """Residual of eps·u'' + u - u³ = 0 on a uniform grid, zero Dirichlet boundaries."""
    h = 1.0 / (u.shape[0] + 1)
    up = np.concatenate([np.zeros(1), u, np.zeros(1)])
    return eps * (up[:-2] - 2 * up[1:-1] + up[2:]) / h ** 2 + u - u ** 3


def allen_cahn_jacobian(u, eps=0.01):
    n = u.size
    c = eps * (n + 1) ** 2
    return sp.diags([onp.full(n - 1, c), -2 * c + 1 - 3 * u ** 2, onp.full(n - 1, c)],
                    [-1, 0, 1], format="csr")


def dense_last_row(x):
    """f_i = x_i² (i < n-1), f_{n-1} = Σ x: one dense row, so every column conflicts."""
    return np.concatenate([x[:-1] ** 2, np.sum(x, keepdims=True)])


def dense_first_column(x):
    """f_i = x_i² + x_0·x_i: one dense column, so every row conflicts."""
    return x ** 2 + x[0] * x


def block_diagonal(x, b=4):
    X = np.reshape(x, (-1, b))
    return np.ravel(np.tanh(X @ onp.arange(1.0, b * b + 1).reshape(b, b)) * X)


def test_allen_cahn_at_ten_thousand_points_uses_three_jvps():
    n = 10_000
    u = RNG.uniform(-1, 1, n)
    P = sparsity(allen_cahn, u)
    assert isinstance(P, sp.csr_matrix) and P.shape == (n, n)
    want = allen_cahn_jacobian(u)
    assert (P != (want != 0)).nnz == 0  # exactly the tridiagonal pattern
    assert color_columns(P).n_colors == 3
    f = counted(allen_cahn)
    jac = cr.jacobian(f, sparsity=P, chunk_size=1)  # one JVP per batched pass: countable
    J = jac(u)
    assert f.calls["n"] == 3 and jac.stats["products"] == 3 and jac.stats["mode"] == "fwd"
    assert abs(J - want).max() < 1e-9 * abs(want).max()


def test_coloured_equals_dense_jacobian():
    u = RNG.uniform(-1, 1, 300)
    dense = cr.jacfwd(allen_cahn)(u)
    for mode in ("fwd", "rev", "auto"):
        jac = cr.jacobian(allen_cahn, sparsity=True, mode=mode)
        onp.testing.assert_allclose(jac(u).toarray(), dense, rtol=1e-13, atol=1e-9)
        assert jac.stats["colors"] == 3


@pytest.mark.parametrize("fn,fwd,rev", [(dense_last_row, 40, 2), (dense_first_column, 2, 40)])
def test_auto_mode_picks_fewer_colours(fn, fwd, rev):
    x = RNG.standard_normal(40)
    P = Pattern.from_any(sparsity(fn, x))
    assert (color_columns(P).n_colors, color_rows(P).n_colors) == (fwd, rev)
    jac = cr.jacobian(fn, sparsity=True)
    J = jac(x)
    assert jac.stats["mode"] == ("fwd" if fwd < rev else "rev")
    assert jac.stats["products"] == min(fwd, rev)
    onp.testing.assert_allclose(J.toarray(), cr.jacrev(fn)(x), rtol=1e-13)


def test_block_diagonal_needs_block_size_colours():
    x = RNG.standard_normal(64)
    jac = cr.jacobian(block_diagonal, sparsity=True)
    J = jac(x)
    assert jac.stats["colors"] == 4
    onp.testing.assert_allclose(J.toarray(), cr.jacfwd(block_diagonal)(x), rtol=1e-12,
                                atol=1e-14)
    pat = sparsity(block_diagonal, x).toarray()
    onp.testing.assert_array_equal(pat, onp.kron(onp.eye(16), onp.ones((4, 4))) > 0)


def test_star_colouring_of_an_arrowhead_hessian_uses_two_hvps():
    def g(x):
        return np.sum(x ** 2 * x[0]) + np.sum(np.sin(x))

    x = RNG.standard_normal(30)
    Hp = sparsity(g, x, hessian=True)
    assert Hp.nnz == 30 + 2 * 29
    col = star_coloring(Hp)
    assert col.n_colors == 2 and is_star_coloring(Hp, col)
    assert color_columns(Hp).n_colors == 30  # a plain distance-2 colouring needs n
    hess = cr.hessian(g, sparsity=True)
    onp.testing.assert_allclose(hess(x).toarray(), cr.hessian(g)(x), rtol=1e-12, atol=1e-13)
    assert hess.stats["products"] == 2


def test_banded_hessian():
    def energy(u):
        return np.sum((u[1:] - u[:-1]) ** 2) + np.sum(u ** 4) + np.sum(u[2:] * u[:-2])

    u = RNG.standard_normal(50)
    hess = cr.hessian(energy, sparsity=True)
    onp.testing.assert_allclose(hess(u).toarray(), cr.hessian(energy)(u), rtol=1e-12,
                                atol=1e-12)
    assert hess.stats["colors"] <= 5
    assert is_star_coloring(sparsity(energy, u, hessian=True), star_coloring(
        sparsity(energy, u, hessian=True)))


@pytest.mark.parametrize("fn,want", [
    (lambda x: np.cumsum(x), onp.tril(onp.ones((5, 5)))),
    (lambda x: np.sum(x) * x, onp.ones((5, 5))),
    (lambda x: onp.diag(onp.arange(5.0)) @ x, onp.diag(onp.arange(5.0)) != 0),
    (lambda x: np.where(x > 0, x ** 2, 0.0), onp.eye(5)),
    (lambda x: x[::-1] * 2.0, onp.eye(5)[::-1]),
    (lambda x: np.reshape(x[:4], (2, 2)).T.ravel(), onp.eye(5)[[0, 2, 1, 3]]),
    (lambda x: np.max(np.reshape(x[:4], (2, 2)), axis=1), onp.array([[1, 1, 0, 0, 0],
                                                                    [0, 0, 1, 1, 0]])),
    (lambda x: np.floor(x) + cr.stop_gradient(x) * x[0], onp.eye(5)[[0] * 5]),
    (lambda x: np.einsum("i,i->", x[:2], x[:2]) * np.ones(1), onp.eye(5)[:1] + onp.eye(5)[1]),
])
def test_pattern_rules(fn, want):
    got = sparsity(fn, RNG.standard_normal(5)).toarray()
    onp.testing.assert_array_equal(got, onp.asarray(want) != 0)


def test_without_scipy_the_result_is_dense(monkeypatch):
    monkeypatch.setattr(sparse_api, "have_scipy", lambda: False)
    import chainrule.sparse.recover as recover

    monkeypatch.setattr(recover, "have_scipy", lambda: False)
    u = RNG.uniform(-1, 1, 20)
    P = sparsity(allen_cahn, u)
    assert isinstance(P, onp.ndarray) and P.dtype == bool
    J = cr.jacobian(allen_cahn, sparsity=P)(u)
    assert isinstance(J, onp.ndarray)
    onp.testing.assert_allclose(J, cr.jacfwd(allen_cahn)(u), rtol=1e-13, atol=1e-9)


def test_errors():
    u = RNG.uniform(-1, 1, 20)
    with pytest.raises(ValueError, match=r"pattern has shape \(10, 10\).*20 elements"):
        cr.jacobian(allen_cahn, sparsity=sp.eye(10))(u)
    with pytest.raises(TypeError, match="one array"):
        cr.jacobian(lambda t: t[0], sparsity=True)((u, u))
    with pytest.raises(ValueError, match="2-D"):
        cr.jacobian(allen_cahn, sparsity=onp.ones(3))(u)


def test_chunked_sparse_jacobian_and_names():
    u = RNG.uniform(-1, 1, 100)
    jac = cr.jacobian(allen_cahn, sparsity=True, chunk_size=2)
    assert jac.__name__ == "jacobian_of_allen_cahn_wrt_0"
    assert abs(jac(u) - allen_cahn_jacobian(u)).max() < 1e-8


def test_patterns_through_loops_and_branches():
    def heat(u):  # three explicit steps: each widens the band by one on both sides
        def step(i, v):
            vp = np.concatenate([np.zeros(1), v, np.zeros(1)])
            return v + 0.1 * (vp[:-2] - 2 * vp[1:-1] + vp[2:]) - 0.01 * v ** 3
        return cr.fori_loop(0, 3, step, u)

    x = RNG.uniform(0, 1, 12)
    band = onp.abs(onp.subtract.outer(onp.arange(12), onp.arange(12))) <= 3
    onp.testing.assert_array_equal(sparsity(heat, x).toarray(), band)
    jac = cr.jacobian(heat, sparsity=True)
    onp.testing.assert_allclose(jac(x).toarray(), cr.jacfwd(heat)(x), rtol=1e-12, atol=1e-15)
    assert jac.stats["colors"] == 7
    flip = onp.eye(12)[::-1] + onp.eye(12) > 0
    branch = lambda u: cr.cond(np.sum(u) > 0, lambda a: a * a[::-1], lambda a: a * 2, u)  # noqa
    onp.testing.assert_array_equal(sparsity(branch, x).toarray(), flip)
    grow = lambda u: cr.while_loop(lambda s: np.sum(s) < 100.0,  # noqa: E731
                                   lambda s: s * 1.5 + s[::-1] * 0.1, u)
    onp.testing.assert_array_equal(sparsity(grow, x).toarray(), flip)


@pytest.mark.parametrize("seed", range(6))
def test_colourings_recover_random_sparse_matrices(seed):
    """Colouring + recovery alone (no AD): random sparse J and symmetric H are recovered
    exactly from J·V, Wᵀ·J and H·V."""
    from chainrule.sparse.recover import recover_columns, recover_rows, recover_star

    rng = onp.random.default_rng(seed)
    m, n = rng.integers(5, 40, size=2)
    J = sp.random(m, n, density=0.15, random_state=rng, format="csr")
    J.data += 1.0  # no explicit zeros
    P = Pattern.from_any(J)
    col, row = color_columns(P), color_rows(P)
    onp.testing.assert_allclose(recover_columns(P, col, J @ col.seeds()), J.data)
    onp.testing.assert_allclose(recover_rows(P, row, (J.T @ row.seeds()).T), J.data)
    A = sp.random(n, n, density=0.1, random_state=rng, format="csr")
    H = (A + A.T + sp.eye(n)).tocsr()
    Hp = Pattern.from_any(H)
    star = star_coloring(Hp)
    assert is_star_coloring(Hp, star)
    assert star.n_colors <= color_columns(Hp).n_colors + 1
    onp.testing.assert_allclose(recover_star(Hp, star, H @ star.seeds()), H.data)
