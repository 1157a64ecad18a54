"""Complex cholesky / eigh / qr / svd under JAX's convention (chainrule.numpy._elementwise).

The JVPs are the textbook complex rules (conjugate transposes where the real rules have
transposes) and the VJPs are their transposes for ⟨u, v⟩ = Re Σ u·v, so ``check_grads``
(which pairs without conjugation) tests both. Eigenvector and singular-vector phases are
arbitrary, so only gauge-invariant functions of them are compared with finite
differences; the gauge itself (diag(Uᴴ U̇) = 0 for eigh, diag(Vᴴ V̇) = 0 for svd) is
checked directly. LAPACK reads the lower triangle and ignores the imaginary part of the
diagonal of a Hermitian input; the rules do the same, so perturbations of the full
complex matrix (not only Hermitian ones) are checked.
"""

import numpy as onp
import pytest

import chainrule as cr
import chainrule.numpy as np


def _c(rng, *shape):
    return rng.standard_normal(shape) + 1j * rng.standard_normal(shape)


def _hpd(rng, *shape):
    x = _c(rng, *shape)
    return x @ onp.conj(onp.swapaxes(x, -1, -2)) + shape[-1] * onp.eye(shape[-1])


def _herm(rng, *shape):
    x = _c(rng, *shape)
    return x + onp.conj(onp.swapaxes(x, -1, -2))


def _general(rng, *shape):
    x = _c(rng, *shape)
    k = min(shape[-2:])
    x[..., onp.arange(k), onp.arange(k)] += 3.0
    return x


def _H(x):
    return np.conj(np.swapaxes(x, -1, -2))


def _usvh(a):
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    return (u * np.expand_dims(s, -2)) @ vh


def _eigh_recon(a):
    w, u = np.linalg.eigh(a)
    return (u * np.expand_dims(np.sin(w), -2)) @ _H(u)


CASES = {
    "cholesky": (np.linalg.cholesky, _hpd, [(3, 3), (2, 3, 3)]),
    "cholesky-upper": (lambda a: np.linalg.cholesky(a, upper=True), _hpd, [(3, 3)]),
    "cholesky-sum": (lambda a: np.real(np.sum(np.linalg.cholesky(a) ** 2))
                     + np.abs(np.sum(np.linalg.cholesky(a))), _hpd, [(4, 4)]),
    "eigvalsh": (np.linalg.eigvalsh, _herm, [(3, 3), (2, 3, 3)]),
    "eigvalsh-U": (lambda a: np.linalg.eigvalsh(a, UPLO="U"), _herm, [(3, 3)]),
    "eigh-|U|^2": (lambda a: np.abs(np.linalg.eigh(a)[1]) ** 2, _herm, [(3, 3), (2, 4, 4)]),
    "eigh-U-UPLO": (lambda a: np.abs(np.linalg.eigh(a, UPLO="U")[1]) ** 2, _herm, [(3, 3)]),
    "eigh-U sin(w) Uᴴ": (_eigh_recon, _herm, [(3, 3)]),
    "qr-q": (lambda a: np.linalg.qr(a)[0], _general, [(3, 3), (4, 3), (2, 4, 3)]),
    "qr-r": (lambda a: np.linalg.qr(a)[1], _general, [(3, 3), (4, 3)]),
    "qr-mode-r": (lambda a: np.linalg.qr(a, mode="r"), _general, [(4, 3)]),
    "svd-s": (lambda a: np.linalg.svd(a, compute_uv=False), _general,
              [(3, 3), (4, 3), (3, 4), (2, 3, 3)]),
    "svd-U diag(s) Vᴴ": (_usvh, _general, [(3, 3), (4, 3), (3, 4)]),
    "svd-U Vᴴ": (lambda a: (lambda u, s, vh: u @ vh)(*np.linalg.svd(a, full_matrices=False)),
                 _general, [(3, 3), (4, 3), (3, 4)]),
    "svd-|U|^2,|Vh|^2": (lambda a: (lambda u, s, vh: (np.abs(u) ** 2, np.abs(vh) ** 2))(
        *np.linalg.svd(a, full_matrices=False)), _general, [(3, 3), (4, 3), (3, 4)]),
}
PARAMS = [(name, shape) for name, (_, _, shapes) in CASES.items() for shape in shapes]


@pytest.mark.parametrize("name,shape", PARAMS, ids=[f"{n}-{s}" for n, s in PARAMS])
def test_check_grads_complex(name, shape):
    fn, make, _ = CASES[name]
    a = make(onp.random.default_rng(len(name) * 31 + len(shape)), *shape)
    cr.check_grads(fn, (a,), order=1, modes=("fwd", "rev"))
    cr.check_grads(fn, (a,), order=2, modes=("fwd", "rev"))


def _fd_grad(f, a, h=1e-6):
    """∂f/∂x − i∂f/∂y by central differences (the convention's gradient of a real f)."""
    g = onp.zeros_like(a)
    for idx in onp.ndindex(a.shape):
        e = onp.zeros_like(a)
        e[idx] = 1.0
        dx = (f(a + h * e) - f(a - h * e)) / (2 * h)
        dy = (f(a + 1j * h * e) - f(a - 1j * h * e)) / (2 * h)
        g[idx] = dx - 1j * dy
    return g


LOSSES = {
    "cholesky": (lambda a: np.sum(np.real(np.linalg.cholesky(a) * np.conj(np.linalg.cholesky(a))))
                 + np.real(np.sum(np.linalg.cholesky(a) * (1 + 2j))), _hpd, (3, 3)),
    "eigvalsh": (lambda a: np.sum(np.linalg.eigvalsh(a) ** 3), _herm, (3, 3)),
    "eigh": (lambda a: np.sum(np.abs(np.linalg.eigh(a)[1][:, 0]) ** 4), _herm, (3, 3)),
    "qr": (lambda a: np.real(np.sum(np.linalg.qr(a)[0] * (0.3 - 1j)))
           + np.sum(np.imag(np.linalg.qr(a)[1]) ** 2), _general, (4, 3)),
    "svd": (lambda a: np.sum(np.linalg.svd(a, compute_uv=False) ** 3)
            + np.sum(np.abs(_usvh(a) - 1j) ** 2), _general, (3, 4)),
}


@pytest.mark.parametrize("name", list(LOSSES))
def test_grad_of_real_loss_is_dx_minus_i_dy(name):
    loss, make, shape = LOSSES[name]
    a = make(onp.random.default_rng(7), *shape)
    g = cr.grad(loss)(a)
    assert onp.iscomplexobj(g) and g.shape == a.shape
    onp.testing.assert_allclose(g, _fd_grad(lambda x: float(loss(x)), a), rtol=1e-6, atol=1e-6)


def test_eigvalsh_gradient_is_conjugate_of_hermitian_projection():
    # w_k = u_kᴴ A u_k on the Hermitian matrix LAPACK reads: the gradient of w_k w.r.t. the
    # lower triangle is conj(u_k u_kᴴ) (times 2 off the diagonal, real on it), upper zero
    a = _herm(onp.random.default_rng(3), 3, 3)
    _, u = onp.linalg.eigh(a)
    g = cr.grad(lambda a: np.linalg.eigvalsh(a)[1])(a)
    p = onp.conj(onp.outer(u[:, 1], onp.conj(u[:, 1])))
    ref = onp.tril(2 * p, -1) + onp.diag(onp.real(onp.diag(p)))
    onp.testing.assert_allclose(g, ref, atol=1e-12)


def test_eigh_and_svd_gauge():
    rng = onp.random.default_rng(5)
    a, da = _herm(rng, 4, 4), _c(rng, 4, 4)
    (_, u), (_, du) = cr.jvp(np.linalg.eigh, (a,), (da,))
    onp.testing.assert_allclose(onp.diag(onp.conj(u).T @ du), 0.0, atol=1e-10)
    b, db = _general(rng, 4, 3), _c(rng, 4, 3)
    (u, s, vh), (du, ds, dvh) = cr.jvp(lambda b: np.linalg.svd(b, full_matrices=False),
                                       (b,), (db,))
    assert not onp.iscomplexobj(ds)
    onp.testing.assert_allclose(onp.diag(vh @ onp.conj(dvh).T), 0.0, atol=1e-10)
    # U̇ S Vᴴ + U Ṡ Vᴴ + U S V̇ᴴ = Ȧ (a full-rank tall matrix: Ȧ itself)
    recon = du @ onp.diag(s) @ vh + u @ onp.diag(ds) @ vh + u @ onp.diag(s) @ dvh
    onp.testing.assert_allclose(recon, db, atol=1e-10)


def test_qr_keeps_r_diagonal_real():
    rng = onp.random.default_rng(9)
    a, da = _general(rng, 4, 3), _c(rng, 4, 3)
    (q, r), (dq, dr) = cr.jvp(np.linalg.qr, (a,), (da,))
    onp.testing.assert_allclose(onp.imag(onp.diag(dr)), 0.0, atol=1e-12)
    onp.testing.assert_allclose(onp.tril(dr, -1), 0.0, atol=1e-12)
    onp.testing.assert_allclose(dq @ r + q @ dr, da, atol=1e-10)


def test_real_inputs_keep_real_gradients():
    a = onp.random.default_rng(1).standard_normal((3, 3)) + 3 * onp.eye(3)
    s = a @ a.T
    for f, x in ((lambda m: np.sum(np.linalg.cholesky(m)), s),
                 (lambda m: np.sum(np.linalg.eigvalsh(m) ** 2), s),
                 (lambda m: np.sum(np.linalg.qr(m)[1]), a),
                 (lambda m: np.sum(np.linalg.svd(m, compute_uv=False)), a)):
        assert not onp.iscomplexobj(cr.grad(f)(x))
