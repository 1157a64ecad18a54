"""chainrule.scipy.linalg: values against scipy.linalg, derivatives against finite
differences (order 2, both modes), vmap against a loop, jit against eager, the NumPy
fallbacks against SciPy, and the errors for malformed input."""

import warnings

import numpy as onp
import pytest

import chainrule as cr
import chainrule.numpy as np
import chainrule.scipy.linalg as csl

sl = pytest.importorskip("scipy.linalg")  # a test extra: always there under `make test`


def _rng(seed=0):
    return onp.random.default_rng(seed)


def wellcond(shape, seed=0, dtype=float):
    r = _rng(seed)
    x = r.standard_normal(shape)
    if onp.dtype(dtype).kind == "c":
        x = x + 1j * r.standard_normal(shape)
    x[..., onp.arange(shape[-1]), onp.arange(shape[-1])] += 3.0
    return x


def spd(shape, seed=0, dtype=float):
    r = _rng(seed)
    a = r.standard_normal(shape)
    if onp.dtype(dtype).kind == "c":
        a = a + 1j * r.standard_normal(shape)
    return a @ onp.conj(onp.swapaxes(a, -1, -2)) + shape[-1] * onp.eye(shape[-1])


def banded(l, u, m, seed=0):
    ab = _rng(seed).standard_normal((l + u + 1, m))
    ab[u] += 3.0 + l + u
    return ab


def per_matrix(f, *arrays):
    """SciPy's function applied matrix by matrix (SciPy before 1.15 does not batch)."""
    lead = arrays[0].shape[:-2]
    return onp.stack([f(*(a[i] for a in arrays)) for i in onp.ndindex(lead)]).reshape(
        lead + onp.shape(f(*(a[(0,) * len(lead)] for a in arrays))))


# ---- values against SciPy ------------------------------------------------------------------

TRI_OPTIONS = [dict(), dict(lower=True), dict(trans=1), dict(trans="T", lower=True),
               dict(trans=2), dict(trans="C", lower=True), dict(unit_diagonal=True),
               dict(lower=True, unit_diagonal=True, trans="N")]


@pytest.mark.parametrize("kw", TRI_OPTIONS, ids=str)
@pytest.mark.parametrize("bshape", [(4,), (4, 2)])
def test_solve_triangular_values(kw, bshape):
    a = wellcond((4, 4))  # both triangles full: only one may be read
    b = _rng(1).standard_normal(bshape)
    onp.testing.assert_allclose(csl.solve_triangular(a, b, **kw),
                                sl.solve_triangular(a, b, **kw), rtol=1e-12)


def test_solve_triangular_complex_and_batched():
    a = wellcond((4, 4), dtype=complex)
    b = _rng(2).standard_normal((4, 2)) + 1j
    for kw in TRI_OPTIONS:
        onp.testing.assert_allclose(csl.solve_triangular(a, b, **kw),
                                    sl.solve_triangular(a, b, **kw), rtol=1e-12)
    A = wellcond((2, 3, 4, 4))
    B = _rng(3).standard_normal((2, 3, 4, 2))
    for kw in TRI_OPTIONS:
        want = per_matrix(lambda x, y, kw=kw: sl.solve_triangular(x, y, **kw), A, B)
        onp.testing.assert_allclose(csl.solve_triangular(A, B, **kw), want, rtol=1e-12)
    # batch axes broadcast; a vector b is one vector for every matrix (SciPy's batching)
    onp.testing.assert_allclose(csl.solve_triangular(A, B[0, 0], lower=True),
                                per_matrix(lambda x: sl.solve_triangular(x, B[0, 0],
                                                                         lower=True), A))
    v = _rng(4).standard_normal(4)
    got = csl.solve_triangular(A, v)
    assert got.shape == (2, 3, 4)
    onp.testing.assert_allclose(got[1, 2], sl.solve_triangular(A[1, 2], v))


@pytest.mark.parametrize("lower", [False, True])
def test_cholesky_reads_scipys_triangle(lower):
    s = spd((4, 4))
    junk = onp.triu(_rng(5).standard_normal((4, 4)), 1)
    a = s + (junk.T if not lower else junk)  # the triangle that is not read is garbage
    onp.testing.assert_allclose(csl.cholesky(a, lower=lower), sl.cholesky(a, lower=lower),
                                rtol=1e-12)
    c, low = csl.cho_factor(a, lower=lower)
    c_sp, low_sp = sl.cho_factor(a, lower=lower)
    assert low == low_sp
    mask = onp.tril(onp.ones((4, 4))) if lower else onp.triu(onp.ones((4, 4)))
    onp.testing.assert_allclose(c * mask, c_sp * mask, rtol=1e-12)
    for b in (_rng(6).standard_normal(4), _rng(7).standard_normal((4, 3))):
        onp.testing.assert_allclose(csl.cho_solve((c, low), b), sl.cho_solve((c_sp, low), b),
                                    rtol=1e-12)
        onp.testing.assert_allclose(csl.cho_solve((c, low), b), onp.linalg.solve(s, b),
                                    rtol=1e-12)


def test_cholesky_complex_and_batched():
    h = spd((3, 3), dtype=complex)
    for lower in (False, True):
        onp.testing.assert_allclose(csl.cholesky(h, lower=lower), sl.cholesky(h, lower=lower),
                                    rtol=1e-12)
    S = spd((2, 3, 3))
    onp.testing.assert_allclose(csl.cholesky(S), per_matrix(sl.cholesky, S), rtol=1e-12)


@pytest.mark.parametrize("l,u", [(0, 0), (1, 1), (2, 1), (0, 2), (3, 0)])
def test_solve_banded_values(l, u):
    ab = banded(l, u, 6)
    for b in (_rng(8).standard_normal(6), _rng(9).standard_normal((6, 2))):
        onp.testing.assert_allclose(csl.solve_banded((l, u), ab, b),
                                    sl.solve_banded((l, u), ab, b), rtol=1e-12)


def test_solve_sylvester_values():
    a, b, q = wellcond((4, 4)), wellcond((3, 3), 1), _rng(2).standard_normal((4, 3))
    x = csl.solve_sylvester(a, b, q)
    onp.testing.assert_allclose(x, sl.solve_sylvester(a, b, q), rtol=1e-12)
    onp.testing.assert_allclose(a @ x + x @ b, q, atol=1e-12)
    A, B, Q = wellcond((2, 4, 4)), wellcond((2, 3, 3), 3), _rng(4).standard_normal((2, 4, 3))
    onp.testing.assert_allclose(csl.solve_sylvester(A, B, Q),
                                per_matrix(sl.solve_sylvester, A, B, Q), rtol=1e-12)
    # the batch axes broadcast
    onp.testing.assert_allclose(csl.solve_sylvester(A, b, Q[0]),
                                per_matrix(lambda x: sl.solve_sylvester(x, b, Q[0]), A),
                                rtol=1e-12)
    ac, qc = wellcond((3, 3), 5, complex), _rng(6).standard_normal((3, 3)) * 1j
    onp.testing.assert_allclose(csl.solve_sylvester(ac, ac.T, qc),
                                sl.solve_sylvester(ac, ac.T, qc), rtol=1e-12)


def test_sqrtm_values():
    s = spd((4, 4))
    onp.testing.assert_allclose(csl.sqrtm(s), sl.sqrtm(s), rtol=1e-10)
    S = spd((2, 3, 3))
    onp.testing.assert_allclose(csl.sqrtm(S), per_matrix(sl.sqrtm, S), rtol=1e-10)
    g = wellcond((4, 4), 1)  # not symmetric, eigenvalues near 3: SciPy's Schur method
    onp.testing.assert_allclose(csl.sqrtm(g), sl.sqrtm(g), rtol=1e-10)
    assert onp.isrealobj(csl.sqrtm(g))
    onp.testing.assert_allclose(csl.sqrtm(g) @ csl.sqrtm(g), g, atol=1e-10)
    ind = onp.diag([4.0, -1.0, 9.0])  # a negative eigenvalue: a complex root, as SciPy
    onp.testing.assert_allclose(csl.sqrtm(ind), sl.sqrtm(ind), atol=1e-12)
    assert onp.iscomplexobj(csl.sqrtm(ind))
    h = spd((3, 3), dtype=complex)
    onp.testing.assert_allclose(csl.sqrtm(h), sl.sqrtm(h), rtol=1e-10)


def test_expm_values():
    a = _rng(0).standard_normal((4, 4))
    onp.testing.assert_allclose(csl.expm(a), sl.expm(a), rtol=1e-12)
    onp.testing.assert_allclose(csl.expm(10 * a), sl.expm(10 * a), rtol=1e-10)
    A = _rng(1).standard_normal((2, 3, 3)) + 1j * _rng(2).standard_normal((2, 3, 3))
    onp.testing.assert_allclose(csl.expm(A), per_matrix(sl.expm, A), rtol=1e-12)
    e = _rng(3).standard_normal((4, 4))
    ex, L = csl.expm_frechet(a, e)
    ex_sp, L_sp = sl.expm_frechet(a, e)
    onp.testing.assert_allclose(ex, ex_sp, rtol=1e-12)
    onp.testing.assert_allclose(L, L_sp, rtol=1e-10)
    onp.testing.assert_allclose(csl.expm_frechet(a, e, compute_expm=False), L_sp, rtol=1e-10)


def test_reexports_follow_scipy():
    a, b, v = wellcond((4, 4)), _rng(1).standard_normal((4, 2)), _rng(2).standard_normal(4)
    s = spd((4, 4))
    junk = s + onp.tril(_rng(3).standard_normal((4, 4)), -1)  # upper triangle is s's
    close = onp.testing.assert_allclose
    close(csl.solve(a, b), sl.solve(a, b), rtol=1e-12)
    close(csl.solve(a, v), sl.solve(a, v), rtol=1e-12)
    close(csl.solve(a, b, transposed=True), sl.solve(a, b, transposed=True), rtol=1e-12)
    for assume_a in ("sym", "pos", "her"):
        close(csl.solve(junk, b, assume_a=assume_a), sl.solve(junk, b, assume_a=assume_a),
              rtol=1e-12)
        close(csl.solve(junk.T, b, assume_a=assume_a, lower=True),
              sl.solve(junk.T, b, assume_a=assume_a, lower=True), rtol=1e-12)
    close(csl.solve(a, b, assume_a="lower triangular"), onp.linalg.solve(onp.tril(a), b),
          rtol=1e-12)
    A = wellcond((2, 4, 4))
    close(csl.solve(A, v), per_matrix(lambda x: sl.solve(x, v), A), rtol=1e-12)
    close(csl.inv(a), sl.inv(a), rtol=1e-12)
    close(csl.inv(junk, assume_a="pos"), onp.linalg.inv(s), rtol=1e-12)
    close(csl.det(a), sl.det(a), rtol=1e-12)
    w, vec = csl.eigh(junk.T)  # lower=True (SciPy's default) reads the lower triangle
    w_sp, vec_sp = sl.eigh(junk.T)
    close(w, w_sp, rtol=1e-12)
    close(onp.abs(vec), onp.abs(vec_sp), atol=1e-10)
    close(csl.eigh(junk, lower=False, eigvals_only=True), w_sp, rtol=1e-12)
    close(csl.eigvalsh(junk.T), w_sp, rtol=1e-12)
    bm = spd((4, 4), 4)
    wg, vg = csl.eigh(s, bm)
    wg_sp, vg_sp = sl.eigh(s, bm)
    close(wg, wg_sp, rtol=1e-12)
    close(onp.abs(vg), onp.abs(vg_sp), atol=1e-10)
    close(vg.T @ bm @ vg, onp.eye(4), atol=1e-12)
    close(csl.eigvalsh(s, bm, lower=False), sl.eigvalsh(s, bm, lower=False), rtol=1e-12)
    u, sv, vh = csl.svd(a)
    close(sv, sl.svd(a)[1], rtol=1e-12)
    close((u * sv) @ vh, a, atol=1e-12)
    close(csl.svdvals(a), sl.svdvals(a), rtol=1e-12)
    q, r = csl.qr(a)
    q_sp, r_sp = sl.qr(a)
    close(onp.abs(r), onp.abs(r_sp), atol=1e-12)
    close(q @ r, a, atol=1e-12)
    tall = wellcond((5, 3))
    q, r = csl.qr(tall, mode="economic")
    assert q.shape == (5, 3) and r.shape == (3, 3)
    (r_only,) = csl.qr(tall, mode="r")
    (r_only_sp,) = sl.qr(tall, mode="r")
    assert r_only.shape == r_only_sp.shape == (5, 3)
    close(onp.abs(r_only), onp.abs(r_only_sp), atol=1e-12)
    y = _rng(5).standard_normal(5)
    for rhs in (y, onp.stack([y, 2 * y], 1)):
        got, want = csl.lstsq(tall, rhs), sl.lstsq(tall, rhs)
        close(got[0], want[0], rtol=1e-10)
        assert onp.shape(got[1]) == onp.shape(want[1])
        close(got[1], want[1], rtol=1e-10)
        assert got[2] == want[2]
        close(got[3], want[3], rtol=1e-12)
    for ord_ in (None, "fro", 1, 2, onp.inf, "nuc"):
        close(csl.norm(a, ord_), sl.norm(a, ord_), rtol=1e-12)
    close(csl.norm(v, 3), sl.norm(v, 3), rtol=1e-12)
    close(csl.pinv(tall), sl.pinv(tall), rtol=1e-10)
    p, rank = csl.pinv(tall.T, return_rank=True)
    close(p, sl.pinv(tall.T), rtol=1e-10)
    assert rank == sl.pinv(tall.T, return_rank=True)[1]


# ---- derivatives: forward and reverse against central differences, to order 2 --------------

def _check(f, *args):
    cr.check_grads(f, args, order=2, modes=("fwd", "rev"))


@pytest.mark.parametrize("kw", TRI_OPTIONS, ids=str)
def test_solve_triangular_derivatives(kw):
    a, b, v = wellcond((3, 3)), _rng(1).standard_normal((3, 2)), _rng(2).standard_normal(3)
    _check(lambda a, b: csl.solve_triangular(a, b, **kw), a, b)
    _check(lambda a, v: csl.solve_triangular(a, v, **kw), a, v)


def test_solve_triangular_derivatives_complex_and_batched():
    a = wellcond((3, 3), dtype=complex)
    b = _rng(3).standard_normal((3, 2)) + 1j * _rng(4).standard_normal((3, 2))
    for kw in (dict(trans="C", lower=True), dict(trans=1), dict()):
        _check(lambda a, b, kw=kw: csl.solve_triangular(a, b, **kw), a, b)
    _check(lambda a, b: csl.solve_triangular(a, b, lower=True), wellcond((2, 3, 3)),
           _rng(5).standard_normal((3, 2)))


def test_the_triangle_not_read_has_zero_derivative():
    a, b = wellcond((3, 3)), _rng(1).standard_normal(3)
    g = cr.grad(lambda a: np.sum(csl.solve_triangular(a, b, lower=True, unit_diagonal=True)))(a)
    onp.testing.assert_array_equal(onp.triu(g), 0.0)
    g = cr.grad(lambda a: np.sum(csl.cholesky(a)))(spd((3, 3)))  # upper: reads triu
    onp.testing.assert_array_equal(onp.tril(g, -1), 0.0)
    g = cr.grad(lambda ab: np.sum(csl.solve_banded((1, 1), ab, b)))(banded(1, 1, 3))
    assert g[0, 0] == 0.0 and g[2, -1] == 0.0  # the unused corners of the band storage


@pytest.mark.parametrize("lower", [False, True])
def test_cholesky_and_cho_solve_derivatives(lower):
    s = spd((3, 3))
    b = _rng(1).standard_normal((3, 2))
    _check(lambda a: csl.cholesky(a, lower=lower), s)
    _check(lambda a, b: csl.cho_solve(csl.cho_factor(a, lower=lower), b), s, b)
    _check(lambda a: csl.cholesky(a, lower=lower), spd((3, 3), 2, complex))


def test_solve_banded_derivatives_like_autograd():
    """autograd's test_solve_banded: argnums 1 and 2 of solve_banded((1, 1), ab, b)."""
    ab = banded(1, 1, 5)
    _check(lambda ab, b: csl.solve_banded((1, 1), ab, b), ab, _rng(1).standard_normal(5))
    for l, u in ((2, 1), (0, 2), (1, 0)):
        _check(lambda ab, b, l=l, u=u: csl.solve_banded((l, u), ab, b), banded(l, u, 5),
               _rng(2).standard_normal((5, 2)))


def test_solve_sylvester_derivatives_like_autograd():
    """autograd's test_solve_sylvester: all three arguments, forward and reverse, order 2."""
    _check(csl.solve_sylvester, wellcond((3, 3)), wellcond((3, 3), 1),
           _rng(2).standard_normal((3, 3)))
    _check(csl.solve_sylvester, wellcond((3, 3)), wellcond((2, 2), 3),
           _rng(4).standard_normal((3, 2)))
    _check(csl.solve_sylvester, wellcond((2, 2), 5, complex), wellcond((2, 2), 6),
           _rng(7).standard_normal((2, 2)))


def test_sqrtm_derivatives_like_autograd():
    """autograd's test_sqrtm: a symmetrized argument (here positive definite)."""
    def sym_sqrtm(a):
        return csl.sqrtm(0.5 * (a + a.T))

    _check(sym_sqrtm, spd((3, 3)))
    _check(csl.sqrtm, spd((3, 3), 1))
    _check(csl.sqrtm, wellcond((3, 3), 2))  # not symmetric: Schur values, same rule
    _check(csl.sqrtm, spd((2, 3, 3), 3))


def test_expm_derivatives():
    _check(csl.expm, 0.7 * _rng(0).standard_normal((3, 3)))
    _check(csl.expm, _rng(1).standard_normal((2, 2, 2)))
    z = _rng(2).standard_normal((2, 2)) + 1j * _rng(3).standard_normal((2, 2))
    _check(csl.expm, 0.5 * z)
    _check(lambda a, e: csl.expm_frechet(a, e)[1], 0.5 * _rng(4).standard_normal((2, 2)),
           _rng(5).standard_normal((2, 2)))
    # d/dt exp(tA) = A exp(tA)
    a = _rng(6).standard_normal((3, 3))
    onp.testing.assert_allclose(cr.jacfwd(lambda t: csl.expm(t * a))(0.3),
                                a @ sl.expm(0.3 * a), rtol=1e-10)


def test_reexport_derivatives():
    a, b, s = wellcond((3, 3)), _rng(1).standard_normal((3, 2)), spd((3, 3))
    _check(lambda a, b: csl.solve(a, b, assume_a="pos"), s, b)
    _check(lambda a, b: csl.solve(a, b, transposed=True), a, b)
    _check(lambda a, b: csl.solve(a, b[:, 0]), a, b)
    _check(lambda a: csl.inv(a), a)
    _check(csl.det, a)
    _check(lambda a, b: csl.eigh(a, b, eigvals_only=True), s, spd((3, 3), 4))
    _check(lambda a: csl.eigh(a)[1] ** 2, s)
    _check(csl.svdvals, a)
    _check(lambda a: csl.qr(a)[1], a)
    _check(lambda a, y: csl.lstsq(a, y)[0], wellcond((4, 3)), _rng(2).standard_normal(4))
    _check(lambda a: csl.pinv(a), wellcond((4, 3)))
    _check(lambda a: csl.norm(a, "nuc"), a)


# ---- vmap and jit ------------------------------------------------------------------------

VMAP_CASES = {
    "solve_triangular": (lambda a, b: csl.solve_triangular(a, b, trans=1, lower=True),
                         [wellcond((3, 3), k) for k in range(3)],
                         [_rng(10 + k).standard_normal((3, 2)) for k in range(3)]),
    "solve_triangular_vec": (lambda a, b: csl.solve_triangular(a, b),
                             [wellcond((3, 3), k) for k in range(3)],
                             [_rng(20 + k).standard_normal(3) for k in range(3)]),
    "cho_solve": (lambda a, b: csl.cho_solve(csl.cho_factor(a), b),
                  [spd((3, 3), k) for k in range(3)],
                  [_rng(30 + k).standard_normal(3) for k in range(3)]),
    "solve_banded": (lambda ab, b: csl.solve_banded((1, 2), ab, b),
                     [banded(1, 2, 4, k) for k in range(3)],
                     [_rng(40 + k).standard_normal(4) for k in range(3)]),
    "solve_sylvester": (lambda a, q: csl.solve_sylvester(a, wellcond((2, 2), 9), q),
                        [wellcond((3, 3), k) for k in range(3)],
                        [_rng(50 + k).standard_normal((3, 2)) for k in range(3)]),
    "sqrtm": (lambda a, b: csl.sqrtm(a) @ b, [spd((3, 3), k) for k in range(3)],
              [_rng(60 + k).standard_normal(3) for k in range(3)]),
    "expm": (lambda a, b: csl.expm(a) @ b, [_rng(k).standard_normal((3, 3)) for k in range(3)],
             [_rng(70 + k).standard_normal(3) for k in range(3)]),
}


@pytest.mark.parametrize("name", sorted(VMAP_CASES))
@pytest.mark.parametrize("in_axes", [(0, 0), (0, None), (None, 0)], ids=str)
def test_vmap_equals_a_loop(name, in_axes):
    f, xs, ys = VMAP_CASES[name]
    if in_axes[0] is None:
        xs = [xs[0]] * 3
    if in_axes[1] is None:
        ys = [ys[0]] * 3
    want = onp.stack([f(x, y) for x, y in zip(xs, ys)])
    args = [onp.stack(v) if ax == 0 else v[0] for v, ax in zip((xs, ys), in_axes)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # solve_banded loops, and says so
        got = cr.vmap(f, in_axes=in_axes)(*args)
        onp.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
        # and the per-example gradient
        gf = cr.grad(lambda x, y: np.sum(f(x, y) ** 2), argnums=(0, 1))
        gwant = [gf(x, y) for x, y in zip(xs, ys)]
        ggot = cr.vmap(gf, in_axes=in_axes)(*args)
    for j in range(2):
        onp.testing.assert_allclose(ggot[j], onp.stack([g[j] for g in gwant]), rtol=1e-9,
                                    atol=1e-12)


@pytest.mark.parametrize("name", sorted(VMAP_CASES))
def test_jit_gives_the_same_value_and_gradient(name):
    f, xs, ys = VMAP_CASES[name]
    x, y = xs[0], ys[0]

    def loss(x, y):
        return np.sum(f(x, y) ** 2)

    onp.testing.assert_allclose(cr.jit(f)(x, y), f(x, y), rtol=1e-12)
    g = cr.grad(loss, argnums=(0, 1))(x, y)
    gj = cr.jit(cr.grad(loss, argnums=(0, 1)))(x, y)
    for a, b in zip(gj, g):
        onp.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_jit_of_a_banded_solve_whose_placeholder_is_singular():
    """Staging learns the output's shape from the primitive's shape_impl (the all-ones
    placeholder is a singular tridiagonal matrix for M = 5); a singular matrix at run
    time raises SciPy's error under jit as it does eagerly."""
    f = cr.jit(lambda ab, b: csl.solve_banded((1, 1), ab, b))
    ab, b = banded(1, 1, 5), _rng(1).standard_normal(5)
    onp.testing.assert_allclose(f(ab, b), sl.solve_banded((1, 1), ab, b), rtol=1e-12)
    with pytest.raises(onp.linalg.LinAlgError):
        f(onp.zeros((3, 5)), b)
    with pytest.raises(onp.linalg.LinAlgError):  # eager: SciPy's error
        csl.solve_banded((1, 1), onp.zeros((3, 5)), b)


def test_float32_stays_float32():
    a32, s32 = wellcond((3, 3)).astype(onp.float32), spd((3, 3)).astype(onp.float32)
    b32 = _rng(1).standard_normal((3, 2)).astype(onp.float32)
    assert csl.solve_triangular(a32, b32).dtype == onp.float32
    assert csl.solve_sylvester(a32, a32, b32[:, :1] * onp.ones((1, 3), onp.float32)).dtype \
        == onp.float32
    assert csl.sqrtm(s32).dtype == onp.float32
    assert csl.expm(a32).dtype == onp.float32
    assert cr.grad(lambda a: np.sum(csl.expm(a)))(a32 / 4).dtype == onp.float32
    assert cr.grad(lambda a: np.sum(csl.sqrtm(a)))(s32).dtype == onp.float32


# ---- without SciPy: the NumPy implementations ----------------------------------------------

def test_numpy_fallbacks_match_scipy(monkeypatch):
    monkeypatch.setattr(csl, "_scipy", lambda: None)
    a, b = wellcond((4, 4)), _rng(1).standard_normal((4, 2))
    close = onp.testing.assert_allclose
    for kw in TRI_OPTIONS:
        close(csl.solve_triangular(a, b, **kw), sl.solve_triangular(a, b, **kw), rtol=1e-12)
    for l, u in ((1, 1), (2, 0), (0, 3)):
        ab = banded(l, u, 6)
        close(csl.solve_banded((l, u), ab, b[:, 0].repeat(2)[:6]),
              sl.solve_banded((l, u), ab, b[:, 0].repeat(2)[:6]), rtol=1e-12)
    bb, q = wellcond((3, 3), 2), _rng(3).standard_normal((4, 3))
    close(csl.solve_sylvester(a, bb, q), sl.solve_sylvester(a, bb, q), rtol=1e-12)
    for scale in (0.01, 1.0, 20.0):
        m = scale * _rng(4).standard_normal((4, 4))
        close(csl.expm(m), sl.expm(m), rtol=1e-12 if scale < 5 else 1e-9)
    z = _rng(5).standard_normal((2, 3, 3)) + 1j * _rng(6).standard_normal((2, 3, 3))
    close(csl.expm(z), per_matrix(sl.expm, z), rtol=1e-12)
    s = spd((4, 4))
    close(csl.sqrtm(s), sl.sqrtm(s), rtol=1e-10)
    g = wellcond((4, 4), 8)  # not symmetric: the Denman-Beavers iteration
    close(csl.sqrtm(g), sl.sqrtm(g), rtol=1e-10)
    ind = onp.array([[4.0, 1.0, 0.0], [0.5, -1.0, 0.2], [0.0, 0.3, 9.0]])
    close(csl.sqrtm(ind), sl.sqrtm(ind), rtol=1e-10)
    assert onp.iscomplexobj(csl.sqrtm(ind))
    h = spd((3, 3), dtype=complex) + 0.5j * onp.eye(3)
    close(csl.sqrtm(h), sl.sqrtm(h), rtol=1e-10)
    _check(csl.sqrtm, spd((3, 3)))
    _check(csl.sqrtm, wellcond((3, 3), 9))
    _check(csl.expm, 0.5 * _rng(7).standard_normal((3, 3)))
    _check(csl.solve_sylvester, wellcond((3, 3)), wellcond((2, 2), 3),
           _rng(4).standard_normal((3, 2)))
    with pytest.raises(ImportError, match="pip install scipy"):
        csl.solve_sylvester(wellcond((40, 40)), wellcond((30, 30)), onp.ones((40, 30)))


# ---- errors --------------------------------------------------------------------------------

@pytest.mark.parametrize("call,match", [
    (lambda: csl.solve_triangular(onp.ones((3, 2)), onp.ones(3)), "a must be a square matrix"),
    (lambda: csl.solve_triangular(onp.eye(3), onp.ones(4)), "b must have 3 rows"),
    (lambda: csl.solve_triangular(onp.eye(3), onp.ones((4, 2))), "b must have 3 rows"),
    (lambda: csl.solve_triangular(onp.eye(3), onp.ones(3), trans=3), "trans must be"),
    (lambda: csl.solve_triangular(onp.ones((2, 3, 3)), onp.ones((4, 3, 1))), "do not broadcast"),
    (lambda: csl.cholesky(onp.ones(3)), "square matrix"),
    (lambda: csl.cho_solve(onp.eye(3), onp.ones(3)), r"the pair \(c, lower\)"),
    (lambda: csl.solve_banded((1, 1), onp.ones((2, 5)), onp.ones(5)), r"\(l \+ u \+ 1, M\)"),
    (lambda: csl.solve_banded((1, 1), onp.ones((3, 5)), onp.ones(4)), r"b must have shape"),
    (lambda: csl.solve_banded((1, -1), onp.ones((1, 5)), onp.ones(5)), "non-negative"),
    (lambda: csl.solve_banded(1, onp.ones((1, 5)), onp.ones(5)), r"pair \(l, u\)"),
    (lambda: csl.solve_sylvester(onp.eye(3), onp.ones((2, 3)), onp.ones((3, 2))),
     "b must be a square matrix"),
    (lambda: csl.solve_sylvester(onp.eye(3), onp.eye(2), onp.ones((2, 3))),
     r"q must have shape \(\.\.\., 3, 2\)"),
    (lambda: csl.sqrtm(onp.ones((2, 3))), "A must be a square matrix"),
    (lambda: csl.expm(onp.ones(3)), "A must be a square matrix"),
    (lambda: csl.solve(onp.eye(3), onp.ones(2)), "b must have 3 rows"),
])
def test_errors_name_the_argument_and_the_fix(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_unsupported_options_raise_clearly():
    with pytest.raises(NotImplementedError, match="mode='economic'"):
        csl.qr(onp.ones((4, 3)))
    with pytest.raises(NotImplementedError, match="pivoting"):
        csl.qr(onp.eye(3), pivoting=True)
    with pytest.raises(NotImplementedError, match="subset_by_index"):
        csl.eigh(onp.eye(3), subset_by_index=(0, 1))
    with pytest.raises(NotImplementedError, match="assume_a"):
        csl.solve(onp.eye(3), onp.ones(3), assume_a="banded")


def test_exported_names():
    for name in csl.__all__:
        assert hasattr(csl, name), name
        assert hasattr(sl, name), f"{name} is not a scipy.linalg name"
    import chainrule.scipy

    assert chainrule.scipy.linalg is csl
