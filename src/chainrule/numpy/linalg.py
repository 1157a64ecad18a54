"""chainrule.numpy.linalg: differentiable linear algebra (``numpy.linalg``'s names).

Primitives, with Y the output, Ȧ a tangent and Ȳ a cotangent (matrices in the last
two axes; leading axes are batches):

* ``inv``: Ẏ = -Y Ȧ Y, Ā = -Yᵀ Ȳ Yᵀ.
* ``solve`` (X = A⁻¹B): Ẋ = A⁻¹(Ḃ - Ȧ X); B̄ = A⁻ᵀ X̄, Ā = -B̄ Xᵀ.
* ``det``: ẏ = Σ cof(A)∘Ȧ, Ā = ȳ·cof A with the cofactor matrix cof A = y·A⁻ᵀ, or, where
  det A = 0, the transposed adjugate from the SVD (finite at every rank);
  ``slogdet``'s log|det|: ẏ = tr(A⁻¹Ȧ), Ā = ȳ A⁻ᵀ (the sign is piecewise constant).
* ``cholesky``, ``eigh``, ``eig``, ``qr``, ``svd``: the JVP is the textbook formula; the VJP
  is that linear map transposed mechanically (reverse mode over the JVP rule,
  :func:`_transposed`), so the two can never disagree. NumPy's ``cholesky`` and
  ``eigh`` read only the lower triangle of A, so their rules see the symmetric
  matrix S = tril(A) + tril(A, -1)ᵀ: Ṡ = tril(Ȧ) + tril(Ȧ, -1)ᵀ.
* Complex matrices (JAX's convention, :mod:`chainrule.numpy._elementwise`): the same rules
  with conjugate transposes (A = LLᴴ, A = U diag(w) Uᴴ with ẇ = Re diag(UᴴṠU), Qᴴ, Uᴴ, Vᴴ);
  LAPACK ignores the imaginary part of a Hermitian input's diagonal, so
  Ṡ = tril(Ȧ, -1) + Re diag(Ȧ) + tril(Ȧ, -1)ᴴ. R's diagonal is real (LAPACK), so Ω gains
  i·Im diag(X). Phase gauges (JAX's): diag(UᴴU̇) = 0 for eigh; diag(VᴴV̇) = 0 and
  diag(UᴴU̇) = i·Im diag(UᴴȦV)/s for svd; only phase-invariant functions of the vectors
  are meaningful.

Multi-output functions are one single-output primitive per output: ``eigh`` is
(``eigvalsh``, ``eigh_vectors``), ``qr`` is (``qr_q``, ``qr_r``), ``svd`` is
(``svd_u``, ``svd_s``, ``svd_vh``); each output runs NumPy's routine once.
Eigenvector and singular-vector derivatives need distinct eigen/singular values.

``norm`` (every ord/axis form), ``pinv`` (full rank), ``matrix_power``,
``multi_dot`` and ``eigvalsh`` are composites. The Euclidean norm has the
subgradient 0 at x = 0 instead of NaN.
"""

from __future__ import annotations

import numpy as np

from chainrule.core import transposition
from chainrule.core.primitive import (
    Primitive,
    Reads,
    Tracer,
    anywhere,
    concrete,
    dtype_of,
    shape_of,
)
from chainrule.numpy import _elementwise as ew
from chainrule.numpy import _namespace as ns
from chainrule.numpy._linalg import _mT, matmul
from chainrule.numpy._nondiff import nondiff
from chainrule.numpy._structural import sum_p

__all__ = [
    "inv", "solve", "det", "slogdet", "cholesky", "eig", "eigvals", "eigh", "eigvalsh", "qr",
    "svd", "norm",
    "pinv", "lstsq", "matrix_power", "multi_dot", "matmul", "LinAlgError",
]

LinAlgError = np.linalg.LinAlgError


def _transposed(jvp_rule):
    """The VJP rule of argument 0 obtained by transposing the linear map ``jvp_rule``.

    ``t ↦ jvp_rule(t, ans, *args)`` is linear in t; reverse mode over it (a fresh
    tape, so this works under any outer transformation; :mod:`chainrule.core.transposition`)
    gives t̄ = Jᵀ·ȳ.
    """

    def vjp(g, ans, *args, **params):
        x = concrete(args[0])
        ct = transposition.transpose(lambda t: jvp_rule(t, ans, *args, **params), g, x)
        if ct is None and not shape_of(x):
            return g * 0.0
        return ct if ct is not None else ns.broadcast_to(0.0 * ns.sum(g), shape_of(x))

    return vjp


def _trace_last2(x):
    n = shape_of(x)[-1]
    idx = np.arange(n)
    return sum_p(ns.getitem(x, (Ellipsis, idx, idx)), axis=(len(shape_of(x)) - 2,))


def _eye(n):
    return np.eye(n)


def _sym_tangent(t):
    """Ṡ = tril(Ȧ) + tril(Ȧ, -1)ᵀ: the symmetric matrix NumPy's lower-triangle routines see."""
    n = shape_of(t)[-1]
    low = np.tril(np.ones((n, n), dtype=bool))
    strict = np.tril(np.ones((n, n), dtype=bool), -1)
    return ew.where_p(low, t, 0.0) + _mT(ew.where_p(strict, t, 0.0))


def _as_col(b):
    return ns.reshape(b, shape_of(b) + (1,))


def _vec_rhs(a, b) -> bool:
    return len(shape_of(b)) == 1


# ---- inverse, solve, determinants -------------------------------------------------------

inv_p = Primitive(
    "inv", np.linalg.inv,
    jvps=(lambda t, y, a: -matmul(y, matmul(t, y)),),
    vjps=(lambda g, y, a: -matmul(_mT(y), matmul(g, _mT(y))),),
    reads=Reads((-1,)),
    doc="Y = A⁻¹; Ẏ = -Y Ȧ Y, Ā = -Yᵀ Ȳ Yᵀ",
    batch="stacked",
)


def _solve_jvp_a(t, x, a, b):
    if _vec_rhs(a, b):
        return -solve_p(a, ns.reshape(matmul(t, _as_col(x)), shape_of(x)))
    return -solve_p(a, matmul(t, x))


def _solve_vjp_a(g, x, a, b):
    gb = solve_p(_mT(a), g)
    if _vec_rhs(a, b):
        return -_as_col(gb) * ns.reshape(x, (1,) + shape_of(x))
    return -matmul(gb, _mT(x))


solve_p = Primitive(
    "solve", np.linalg.solve,
    jvps=(_solve_jvp_a, lambda t, x, a, b: solve_p(a, t)),
    vjps=(_solve_vjp_a, lambda g, x, a, b: solve_p(_mT(a), g)),
    reads=Reads((0, -1), (0,)),
    doc="X = A⁻¹B; Ẋ = A⁻¹(Ḃ - ȦX); B̄ = A⁻ᵀX̄, Ā = -B̄Xᵀ",
    batch="loop",
)


def _batch_scalar(y):
    return ns.reshape(y, shape_of(y) + (1, 1))


def _cofactors(y, a):
    """∂ det A/∂A = cof A = (adj A)ᵀ: y·A⁻ᵀ, or from the SVD (:func:`_adjugate`) where A is
    numerically singular: |det A| ≤ 10³·n·ε·Π‖aⱼ‖ (Hadamard's bound is Π‖aⱼ‖), where
    A⁻¹ is inaccurate or does not exist."""
    y_, a_ = concrete(y), concrete(a)
    if isinstance(y_, Tracer) or isinstance(a_, Tracer):  # staged: the regular formula
        return _batch_scalar(y) * _mT(inv_p(a))
    n = a_.shape[-1]
    bound = np.prod(np.linalg.norm(a_, axis=-2), axis=-1)
    if not np.any(np.abs(y_) <= 1e3 * n * np.finfo(a_.dtype).eps * bound):
        return _batch_scalar(y) * _mT(inv_p(a))
    return _mT(_adjugate(a))


def _adjugate(a):
    """adj A for every rank, from A = U diag(s) Vᴴ: adj A = det(Vᴴ)·V diag(p)·det(U)·Uᴴ
    with p_i = Π_{j≠i} s_j (the adjugate of a product is the product of the adjugates in
    reverse order, and adj Q = det(Q)·Qᴴ for a unitary Q). It is written with the SVD
    primitives, so it differentiates again where the singular values are distinct
    (rank n - 1 included)."""
    u, s, vh = svd_u_p(a), svd_s_p(a), svd_vh_p(a)
    n = shape_of(a)[-1]
    others = np.array([[j for j in range(n) if j != i] for i in range(n)], dtype=np.intp)
    p = ns.prod(ns.getitem(s, (Ellipsis, others)), axis=-1) if n > 1 else ns.ones_like(s)
    phase = np.linalg.det(concrete(u)) * np.linalg.det(concrete(vh))  # ±1 (or a phase)
    v, uh = _mT(vh), _mT(u)
    if ew._is_complex(a):
        v, uh = ew.conj_p(v), ew.conj_p(uh)
    return _batch_scalar(phase) * matmul(v * ns.reshape(p, shape_of(p)[:-1] + (1, n)), uh)


det_p = Primitive(
    "det", np.linalg.det,
    jvps=(lambda t, y, a: ns.sum(_cofactors(y, a) * t, axis=(-2, -1)),),
    vjps=(lambda g, y, a: _batch_scalar(g) * _cofactors(y, a),),
    reads=Reads((0, -1)),
    doc="y = det A; ẏ = Σ cof(A)∘Ȧ, Ā = ȳ·cof A, cof A = y·A⁻ᵀ, or from the SVD where "
        "det A = 0 (finite for every rank)",
    batch="stacked",
)

logabsdet_p = Primitive(
    "logabsdet", lambda a: np.linalg.slogdet(a)[1],
    jvps=(lambda t, y, a: _trace_last2(solve_p(a, t)),),
    vjps=(lambda g, y, a: _batch_scalar(g) * _mT(inv_p(a)),),
    reads=Reads((0,)),
    doc="y = log|det A|; ẏ = tr(A⁻¹Ȧ), Ā = ȳ·A⁻ᵀ",
    batch="stacked",
)


def inv(a):
    """A⁻¹ (batched over leading axes)."""
    return inv_p(a)


def solve(a, b):
    """X with A·X = B (B a vector when it is 1-D, as in NumPy 2)."""
    return solve_p(a, b)


def det(a):
    return det_p(a)


#: sign of det A: piecewise constant, so a primitive with zero rules (staging records it;
#: calling NumPy on a staged value would dispatch straight back here)
slogdet_sign_p = nondiff("slogdet_sign", lambda a: np.linalg.slogdet(a)[0], batch="stacked")


def slogdet(a):
    """(sign, log|det A|); the sign has derivative 0."""
    return slogdet_sign_p(a), logabsdet_p(a)


# ---- Cholesky ----------------------------------------------------------------------------

def _phi(x):
    """Lower triangle with the diagonal halved."""
    n = shape_of(x)[-1]
    dtype = dtype_of(x) if dtype_of(x).kind == "f" else np.float64
    w = np.tril(np.ones((n, n), dtype), -1) + np.eye(n, dtype=dtype) / 2
    return x * w


def _cplx(a) -> bool:
    """Whether the factorisation runs on complex (Hermitian/unitary) matrices."""
    return dtype_of(a).kind == "c"


def _H(x):
    """Conjugate transpose of the last two axes."""
    return ew.conj_p(_mT(x))


def _herm_tangent(t):
    """Ṡ = tril(Ȧ, -1) + Re diag(Ȧ) + tril(Ȧ, -1)ᴴ: the Hermitian matrix LAPACK's
    lower-triangle complex routines see (they ignore the imaginary part of the diagonal)."""
    n = shape_of(t)[-1]
    strict = np.tril(np.ones((n, n), dtype=bool), -1)
    low = ew.where_p(strict, t, 0.0)
    return low + ew.where_p(np.eye(n, dtype=bool), ew.real_p(t), 0.0) + _H(low)


def _cholesky_jvp(t, L, a):
    if _cplx(a):  # S = L Lᴴ: L̇ = L·Φ(L⁻¹ṠL⁻ᴴ), the diagonal of L⁻¹ṠL⁻ᴴ is real
        linv_s = solve_p(L, _herm_tangent(t))
        return matmul(L, _phi(_H(solve_p(L, _H(linv_s)))))
    s = _sym_tangent(t)
    linv_s = solve_p(L, s)
    inner = _mT(solve_p(L, _mT(linv_s)))  # L⁻¹ Ṡ L⁻ᵀ
    return matmul(L, _phi(inner))


cholesky_p = Primitive(
    "cholesky", np.linalg.cholesky,
    jvps=(_cholesky_jvp,),
    vjps=(_transposed(_cholesky_jvp),),
    doc="L = chol(S); L̇ = L·Φ(L⁻¹ṠL⁻ᵀ), Φ = lower triangle with half the diagonal",
    batch="stacked",
)


def cholesky(a, upper=False):
    """Lower Cholesky factor (reads the lower triangle of a, like NumPy)."""
    L = cholesky_p(a)
    if not upper:
        return L
    return _H(L) if _cplx(a) else _mT(L)


# ---- symmetric eigendecomposition --------------------------------------------------------

def _gap_inverse(w):
    """F_ij = 1/(w_j - w_i) off the diagonal, 0 on it (in chainrule ops: it differentiates)."""
    n = shape_of(w)[-1]
    eye = np.eye(n, dtype=bool)
    d = ns.expand_dims(w, -2) - ns.expand_dims(w, -1)
    return ew.where_p(eye, 0.0, 1.0 / ew.where_p(eye, 1.0, d))


def _eigh_parts(t, a):
    v = eigh_vectors_p(a)
    w = eigvalsh_p(a)
    if _cplx(a):
        p = matmul(_H(v), matmul(_herm_tangent(t), v))
    else:
        p = matmul(_mT(v), matmul(_sym_tangent(t), v))
    return v, w, p


def _eigvals_jvp(t, w, a):
    v, _, p = _eigh_parts(t, a)
    n = shape_of(p)[-1]
    idx = np.arange(n)
    d = ns.getitem(p, (Ellipsis, idx, idx))
    return ew.real_p(d) if _cplx(a) else d


def _eigvecs_jvp(t, vecs, a):
    v, w, p = _eigh_parts(t, a)
    return matmul(v, _gap_inverse(w) * p)


eigvalsh_p = Primitive(
    "eigvalsh", lambda a: np.linalg.eigh(a)[0],
    jvps=(_eigvals_jvp,), vjps=(_transposed(_eigvals_jvp),),
    doc="w = eigenvalues of S; ẇ = diag(Vᵀ Ṡ V)",
    batch="stacked",
)
eigh_vectors_p = Primitive(
    "eigh_vectors", lambda a: np.linalg.eigh(a)[1],
    jvps=(_eigvecs_jvp,), vjps=(_transposed(_eigvecs_jvp),),
    doc="V = eigenvectors of S; V̇ = V (F ∘ VᵀṠV), F_ij = 1/(w_j - w_i)",
    batch="stacked",
)


def _lower_view(a, UPLO):
    """A matrix whose lower triangle is the Hermitian/symmetric matrix ``UPLO`` names."""
    if UPLO == "L":
        return a
    return _H(a) if _cplx(a) else _mT(a)


def eigh(a, UPLO="L"):
    """(eigenvalues, eigenvectors) of a symmetric/Hermitian matrix (its lower triangle is read).

    Complex eigenvectors are defined up to a phase per column; the derivative fixes the
    gauge with diag(Uᴴ U̇) = 0 (JAX's choice), so only phase-invariant functions of U
    (|U|², U diag(f(w)) Uᴴ, ...) have derivatives that match finite differences.
    """
    a = _lower_view(a, UPLO)
    return eigvalsh_p(a), eigh_vectors_p(a)


def eigvalsh(a, UPLO="L"):
    return eigvalsh_p(_lower_view(a, UPLO))


# ---- general (non-symmetric) eigendecomposition -------------------------------------------

def _complex_dtype(a):
    return np.result_type(dtype_of(a), np.complex64)


def _eig_values_impl(a):
    return np.linalg.eig(a)[0].astype(_complex_dtype(a), copy=False)


def _eig_vectors_impl(a):
    return np.linalg.eig(a)[1].astype(_complex_dtype(a), copy=False)


def _eig_parts(t, a):
    w, v = eig_values_p(a), eig_vectors_p(a)
    return w, v, matmul(inv_p(v), matmul(t, v))  # P = V⁻¹ȦV


def _eig_values_jvp(t, w, a):
    _, _, p = _eig_parts(t, a)
    idx = np.arange(shape_of(p)[-1])
    return ns.getitem(p, (Ellipsis, idx, idx))


def _eig_vectors_jvp(t, vecs, a):
    w, v, p = _eig_parts(t, a)
    du = matmul(v, _gap_inverse(w) * p)
    # NumPy's columns have unit length: take out the radial part Re(vᴴu̇) of each column
    radial = ew.real_p(ns.sum(ew.conj_p(v) * du, axis=-2, keepdims=True))
    return du - v * radial


eig_values_p = Primitive(
    "eig_values", _eig_values_impl,
    jvps=(_eig_values_jvp,), vjps=(_transposed(_eig_values_jvp),),
    doc="w = eigenvalues of a general A = V diag(w) V⁻¹ (complex); ẇ = diag(V⁻¹ȦV)",
    batch="stacked",
)
eig_vectors_p = Primitive(
    "eig_vectors", _eig_vectors_impl,
    jvps=(_eig_vectors_jvp,), vjps=(_transposed(_eig_vectors_jvp),),
    doc="V = unit eigenvectors of a general A; V̇ = U̇ - V·Re diag(VᴴU̇), U̇ = V(F ∘ V⁻¹ȦV), "
        "F_ij = 1/(w_j - w_i)",
    batch="stacked",
)


def eig(a):
    """(eigenvalues, unit eigenvectors) of a general square matrix, always complex (as JAX).

    Derivatives need distinct eigenvalues. Each eigenvector is defined up to a phase
    (NumPy fixes one; its derivative is not that of NumPy's choice): the derivative keeps
    the columns at unit length and adds no phase change along V itself, so functions of
    the vectors that do not depend on their phases (|V|², V diag(f(w)) V⁻¹, ...) match
    finite differences. Real A gets a real gradient (JAX's convention,
    :mod:`chainrule.numpy._elementwise`).
    """
    return eig_values_p(a), eig_vectors_p(a)


def eigvals(a):
    """Eigenvalues of a general square matrix (complex), as the first output of :func:`eig`."""
    return eig_values_p(a)


# ---- QR ----------------------------------------------------------------------------------

def _qr_parts(t, a):
    q, r = qr_q_p(a), qr_r_p(a)
    rinv_t = _mT(solve_p(_mT(r), _mT(t)))  # Ȧ R⁻¹
    cplx = _cplx(a)
    x = matmul(_H(q) if cplx else _mT(q), rinv_t)
    n = shape_of(x)[-1]
    low = ew.where_p(np.tril(np.ones((n, n), dtype=bool), -1), x, 0.0)
    if not cplx:
        return q, r, rinv_t, x, low - _mT(low)
    # LAPACK's R has a real diagonal: Ω is skew-Hermitian with diagonal i·Im diag(X)
    eye = np.eye(n, dtype=bool)
    omega = low - _H(low) + ew.where_p(eye, x - ew.real_p(x), 0.0)
    return q, r, rinv_t, x, omega


def _qr_q_jvp(t, ans, a):
    q, r, rinv_t, x, omega = _qr_parts(t, a)
    return matmul(q, omega) + rinv_t - matmul(q, x)


def _qr_r_jvp(t, ans, a):
    q, r, rinv_t, x, omega = _qr_parts(t, a)
    return matmul(x - omega, r)


qr_q_p = Primitive(
    "qr_q", lambda a: np.linalg.qr(a)[0],
    jvps=(_qr_q_jvp,), vjps=(_transposed(_qr_q_jvp),),
    doc="Q of A = QR (reduced, m ≥ n); Q̇ = QΩ + ȦR⁻¹ - QX, X = QᵀȦR⁻¹",
    batch="stacked",
)
qr_r_p = Primitive(
    "qr_r", lambda a: np.linalg.qr(a)[1],
    jvps=(_qr_r_jvp,), vjps=(_transposed(_qr_r_jvp),),
    doc="R of A = QR; Ṙ = (X - Ω)R, Ω = tril(X, -1) - tril(X, -1)ᵀ",
    batch="stacked",
)


def qr(a, mode="reduced"):
    """Reduced QR of a matrix with at least as many rows as columns."""
    m, n = shape_of(a)[-2:]
    if mode not in ("reduced", "r"):
        raise NotImplementedError(f"chainrule.numpy.linalg.qr: mode={mode!r} is not supported")
    if m < n:
        raise NotImplementedError("chainrule.numpy.linalg.qr: derivatives need rows >= columns")
    if mode == "r":
        return qr_r_p(a)
    return qr_q_p(a), qr_r_p(a)


# ---- SVD ---------------------------------------------------------------------------------

def _svd_parts(t, a):
    u, s, vh = svd_u_p(a), svd_s_p(a), svd_vh_p(a)
    if _cplx(a):
        v = _H(vh)
        p = matmul(_H(u), matmul(t, v))
    else:
        v = _mT(vh)
        p = matmul(_mT(u), matmul(t, v))
    return u, s, v, p


def _svd_s_jvp(t, ans, a):
    u, s, v, p = _svd_parts(t, a)
    k = shape_of(p)[-1]
    idx = np.arange(k)
    d = ns.getitem(p, (Ellipsis, idx, idx))
    return ew.real_p(d) if _cplx(a) else d


def _svd_f(s):
    s2 = s * s
    return _gap_inverse(s2)


def _svd_u_jvp(t, ans, a):
    u, s, v, p = _svd_parts(t, a)
    f = _svd_f(s)
    sr = ns.expand_dims(s, -2)  # multiplies columns: P S
    sl = ns.expand_dims(s, -1)  # multiplies rows: S P
    m, k = shape_of(u)[-2:]
    if _cplx(a):
        # phase gauge (JAX's): diag(Vᴴ V̇) = 0, diag(Uᴴ U̇) = i·Im diag(P)/s
        eye = np.eye(k, dtype=bool)
        gauge = ew.where_p(eye, (p - ew.real_p(p)) / sr, 0.0)
        du = matmul(u, f * (p * sr + _H(p) * sl) + gauge)
        if m > k:
            du = du + matmul(t - matmul(u, matmul(_H(u), t)), v) / sr
        return du
    du = matmul(u, f * (p * sr + _mT(p) * sl))
    if m > k:
        du = du + matmul(t - matmul(u, matmul(_mT(u), t)), v) / sr
    return du


def _svd_v_jvp(t, ans, a):
    u, s, v, p = _svd_parts(t, a)
    f = _svd_f(s)
    sr = ns.expand_dims(s, -2)
    sl = ns.expand_dims(s, -1)
    n, k = shape_of(v)[-2:]
    if _cplx(a):
        dv = matmul(v, f * (p * sl + _H(p) * sr))
        if n > k:
            th = _H(t)
            dv = dv + matmul(th - matmul(v, matmul(_H(v), th)), u) / sr
        return _H(dv)
    dv = matmul(v, f * (p * sl + _mT(p) * sr))
    if n > k:
        tt = _mT(t)
        dv = dv + matmul(tt - matmul(v, matmul(_mT(v), tt)), u) / sr
    return _mT(dv)


svd_s_p = Primitive(
    "svd_s", lambda a: np.linalg.svd(a, compute_uv=False),
    jvps=(_svd_s_jvp,), vjps=(_transposed(_svd_s_jvp),),
    doc="singular values; ṡ = diag(Uᵀ Ȧ V)",
    batch="stacked",
)
svd_u_p = Primitive(
    "svd_u", lambda a: np.linalg.svd(a, full_matrices=False)[0],
    jvps=(_svd_u_jvp,), vjps=(_transposed(_svd_u_jvp),),
    doc="U of the thin SVD; U̇ = U(F∘(PS + SPᵀ)) + (I - UUᵀ)ȦVS⁻¹, F_ij = 1/(s_j² - s_i²)",
    batch="stacked",
)
svd_vh_p = Primitive(
    "svd_vh", lambda a: np.linalg.svd(a, full_matrices=False)[2],
    jvps=(_svd_v_jvp,), vjps=(_transposed(_svd_v_jvp),),
    doc="Vᴴ of the thin SVD; V̇ = V(F∘(SP + PᵀS)) + (I - VVᵀ)ȦᵀUS⁻¹",
    batch="stacked",
)


def svd(a, full_matrices=True, compute_uv=True, hermitian=False):
    """Thin SVD (U, s, Vh); ``full_matrices=True`` is served thin when that is all there is."""
    if not compute_uv:
        return svd_s_p(a)
    m, n = shape_of(a)[-2:]
    if full_matrices and m != n:
        raise NotImplementedError(
            "chainrule.numpy.linalg.svd: derivatives of the full U/Vh of a non-square matrix "
            "are not unique; pass full_matrices=False")
    return svd_u_p(a), svd_s_p(a), svd_vh_p(a)


# ---- norms -------------------------------------------------------------------------------

def _norm2_scale(y, x, axis, keepdims):
    """conj(x) / ‖x‖ with 0 where ‖x‖ = 0 (the subgradient at the origin)."""
    if ew._is_complex(x):  # JAX's convention: ẏ = Re Σ conj(x)·ẋ/y, x̄ = Re ȳ·conj(x)/y
        x = ew.conj_p(x)
    ye = y if keepdims or axis is None else ns.reshape(
        y, tuple(1 if i in axis else d for i, d in enumerate(shape_of(x))))
    zero = concrete(ye) == 0
    if not anywhere(zero):
        return x / ye
    return ew.where_p(zero, 0.0, x / ew.where_p(zero, 1.0, ye))


def _norm2_impl(x, axis, keepdims):
    return np.sqrt(np.sum(np.abs(x) ** 2, axis=axis, keepdims=keepdims))


norm2_p = Primitive(
    "norm2", _norm2_impl,
    jvps=(lambda t, y, x, axis, keepdims: ew.real_for(
          sum_p(t * _norm2_scale(y, x, axis, keepdims), axis=axis, keepdims=keepdims), y),),
    vjps=(lambda g, y, x, axis, keepdims:
          ns.broadcast_to(ew._real_ct(g) if keepdims or axis is None else ns.reshape(
              ew._real_ct(g), tuple(1 if i in axis else d for i, d in enumerate(shape_of(x)))),
              shape_of(x)) * _norm2_scale(y, x, axis, keepdims),),
    doc="y = ‖x‖₂ over axis; x̄ = ȳ·x/y, 0 at x = 0 (complex x: ẏ = Re Σ conj(x)·ẋ/y, "
        "x̄ = Re ȳ·conj(x)/y)",
    batch="reduction",
)


def norm(x, ord=None, axis=None, keepdims=False):
    """numpy.linalg.norm: vector norms (any p, ±inf, 0) and matrix norms (fro, nuc, ±1, ±2,
    ±inf)."""
    nd = len(shape_of(x))
    if axis is None and (ord is None or nd == 1) or (axis is None and ord in ("fro",) and nd == 2):
        if ord is None or ord == 2 or ord == "fro":
            r = norm2_p(x, axis=None, keepdims=False)
            return ns.reshape(r, (1,) * nd) if keepdims else r
        axis = (0,) if nd == 1 else None
    if axis is None:
        axis = tuple(range(nd))
    axis = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    axis = tuple(int(a) % nd for a in axis)
    if len(axis) == 1:
        return _vector_norm(x, ord, axis, keepdims)
    if len(axis) == 2:
        return _matrix_norm(x, ord, axis, keepdims)
    raise ValueError("norm: improper number of dimensions to norm")


def _vector_norm(x, ord, axis, keepdims):
    if ord is None or ord == 2:
        return norm2_p(x, axis=axis, keepdims=keepdims)
    ax = ew.absolute(x)
    if ord == np.inf:
        return ns.max(ax, axis=axis, keepdims=keepdims)
    if ord == -np.inf:
        return ns.min(ax, axis=axis, keepdims=keepdims)
    if ord == 0:
        return np.sum(concrete(x) != 0, axis=axis, keepdims=keepdims).astype(float)
    if ord == 1:
        return ns.sum(ax, axis=axis, keepdims=keepdims)
    return ns.sum(ax ** ord, axis=axis, keepdims=keepdims) ** (1.0 / ord)


def _matrix_norm(x, ord, axis, keepdims):
    r, c = axis
    if ord is None or ord == "fro":
        return norm2_p(x, axis=tuple(sorted(axis)), keepdims=keepdims)
    if ord in ("nuc", 2, -2):
        y = ns.moveaxis(x, (r, c), (-2, -1))
        s = svd_s_p(y)
        out = ns.sum(s, axis=-1) if ord == "nuc" else (
            ns.max(s, axis=-1) if ord == 2 else ns.min(s, axis=-1))
        if keepdims:
            shp = list(shape_of(x))
            shp[r] = shp[c] = 1
            out = ns.reshape(out, tuple(shp))
        return out
    if ord in (1, -1, np.inf, -np.inf):
        sum_ax, ext_ax = (r, c) if ord in (1, -1) else (c, r)
        s = ns.sum(ew.absolute(x), axis=sum_ax, keepdims=True)
        ext = ns.max if ord in (1, np.inf) else ns.min
        out = ext(s, axis=ext_ax, keepdims=True)
        if not keepdims:
            out = ns.squeeze(out, axis=(r, c))
        return out
    raise ValueError(f"norm: invalid norm order {ord!r} for matrices")


# ---- composites --------------------------------------------------------------------------

def pinv(a, rcond=None, hermitian=False, *, rtol=None):
    """Moore-Penrose pseudo-inverse of a full-rank matrix: (AᵀA)⁻¹Aᵀ or Aᵀ(AAᵀ)⁻¹."""
    m, n = shape_of(a)[-2:]
    at = _mT(a)
    if m >= n:
        return solve_p(matmul(at, a), at)
    return _mT(solve_p(matmul(a, at), a))


def lstsq(a, b, rcond=None):
    """Least squares ``min ‖a·x - b‖`` for a full-rank 2-D ``a`` (``(x, residuals, rank,
    s)`` as NumPy): ``x = R⁻¹Qᵀb`` from the reduced QR of ``a`` when it has at least as
    many rows as columns, the minimum-norm ``aᵀ(a·aᵀ)⁻¹b`` otherwise."""
    if len(shape_of(a)) != 2:
        raise ValueError(f"lstsq: a must be 2-D, got shape {shape_of(a)}")
    m, n = shape_of(a)
    known = concrete(a)  # under vmap or jit unknown: taken as full rank
    rank = min(m, n) if isinstance(known, Tracer) else int(np.linalg.matrix_rank(known))
    if rank < min(m, n):
        raise NotImplementedError(
            f"chainrule.numpy.linalg.lstsq: a has rank {rank} < {min(m, n)}; the derivative "
            "of a rank-deficient least-squares solution is not supported (regularise, e.g. "
            "solve (aᵀa + λI) x = aᵀb)")
    vector = len(shape_of(b)) == 1
    rhs = ns.reshape(b, (m, 1)) if vector else b
    if m >= n:
        q, r = qr(a)
        x = solve_p(r, matmul(_mT(q), rhs))
    else:
        x = matmul(_mT(a), solve_p(matmul(a, _mT(a)), rhs))
    if m > n:
        residuals = ns.sum((matmul(a, x) - rhs) ** 2, axis=0)
    else:
        residuals = np.empty(0, dtype=np.result_type(dtype_of(a), dtype_of(b)))
    s = svd(a, compute_uv=False)
    return (ns.reshape(x, (n,)) if vector else x), residuals, rank, s


def matrix_power(a, n):
    """A^n by repeated squaring (A⁻¹ first for n < 0)."""
    n = int(n)
    if n == 0:
        k = shape_of(a)[-1]
        return np.broadcast_to(np.eye(k), shape_of(a)).copy()
    if n < 0:
        a, n = inv_p(a), -n
    result = None
    base = a
    while n:
        if n & 1:
            result = base if result is None else matmul(result, base)
        n >>= 1
        if n:
            base = matmul(base, base)
    return result


def multi_dot(arrays, *, out=None):
    ns._no_out(out, "multi_dot")
    result = arrays[0]
    for b in arrays[1:]:
        result = matmul(result, b)
    return result
