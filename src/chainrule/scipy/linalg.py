"""chainrule.scipy.linalg: differentiable ``scipy.linalg`` (SciPy's signatures and values).

Primitives, with X the output, Ȧ a tangent and X̄ a cotangent (matrices in the last two
axes; leading axes are batches; JAX's convention for complex values: cotangents are
transposes, never conjugates, :mod:`chainrule.numpy._elementwise`):

* ``solve_triangular``: X = op(T)⁻¹B with T = tril(A) or triu(A) (unit diagonal: the
  diagonal is taken as 1 and A's is not read), op(T) = T or Tᵀ. Ẋ = op(T)⁻¹(Ḃ - op(Ṫ)X),
  Ṫ = the same triangle of Ȧ; B̄ = op(T)⁻ᵀX̄, T̄ = op⁻¹(-B̄Xᵀ) restricted to the triangle.
* ``solve_banded``: AX = B with A in LAPACK's band storage ``ab[u + i - j, j] = A[i, j]``.
  Ẋ = A⁻¹(Ḃ - ȦX) with ȦX a band product; B̄ = A⁻ᵀX̄ (Aᵀ is banded with (u, l)),
  āb[u + i - j, j] = -(B̄Xᵀ)[i, j] on the band and 0 on the unused corners of ``ab``.
* ``solve_sylvester``: AX + XB = Q. Ẋ solves AẊ + ẊB = Q̇ - ȦX - XḂ; the adjoint of
  X ↦ AX + XB is Y ↦ AᵀY + YBᵀ, so Q̄ solves AᵀQ̄ + Q̄Bᵀ = X̄, Ā = -Q̄Xᵀ, B̄ = -XᵀQ̄.
* ``sqrtm``: S = A^{1/2} (principal root). S² = A gives SṠ + ṠS = Ȧ (a Sylvester
  equation); Ā solves SᵀĀ + ĀSᵀ = S̄.
* ``expm``: Y = e^A. Ẏ = L(A, Ȧ), the Fréchet derivative, read from the upper-right
  block of exp([[A, Ȧ], [0, A]]); Ā = L(Aᵀ, Ȳ).

Every rule is written in chainrule primitives (``solve_sylvester`` for ``sqrtm``, ``expm``
of a twice larger matrix for ``expm``), so derivatives of any order exist. The rest are
composites: ``cholesky`` and ``cho_factor`` (SciPy's default is the *upper* factor, read
from the upper triangle), ``cho_solve`` (two triangular solves), ``expm_frechet``, and
SciPy's versions of the ``chainrule.numpy.linalg`` names (``solve``, ``inv``, ``det``,
``eigh``, ``eigvalsh``, ``svd``, ``svdvals``, ``qr``, ``lstsq``, ``norm``, ``pinv``).

SciPy is optional: every function has a NumPy implementation (triangular and banded
solves through ``numpy.linalg.solve``, Padé scaling and squaring for ``expm``, the
eigendecomposition or the Denman-Beavers iteration for ``sqrtm``, a Kronecker system for
``solve_sylvester``), except Sylvester equations with n·m > 1024, which need SciPy
(``pip install scipy``).
"""

from __future__ import annotations


import numpy as np

from chainrule.core.primitive import Primitive, Reads, Tracer, dtype_of, shape_of
from chainrule.numpy import _elementwise as ew
from chainrule.numpy import _namespace as ns
from chainrule.numpy import linalg as _nla
from chainrule.numpy._linalg import _mT, matmul

__all__ = [
    "solve_triangular", "cho_factor", "cho_solve", "cholesky", "solve_banded",
    "solve_sylvester", "sqrtm", "expm", "expm_frechet", "solve", "inv", "det", "eigh",
    "eigvalsh", "svd", "svdvals", "qr", "lstsq", "norm", "pinv", "LinAlgError",
]

LinAlgError = np.linalg.LinAlgError

_INSTALL = "pip install scipy (or pip install chainrule[all])"


def _scipy():
    """``scipy.linalg``, or None when SciPy is not installed (imported on first use)."""
    try:
        import scipy.linalg as sl
    except ImportError:  # pragma: no cover - depends on the environment
        return None
    return sl


# ---- helpers -----------------------------------------------------------------------------

def _arr(x):
    return x if isinstance(x, Tracer) else np.asarray(x)


def _square(x, fname: str, arg: str = "a") -> int:
    s = tuple(shape_of(x))
    if len(s) < 2 or s[-1] != s[-2]:
        raise ValueError(
            f"{fname}: {arg} must be a square matrix (shape (..., n, n)), got shape {s}; "
            f"pass a square matrix, or a stack of them along leading axes")
    return s[-1]


def _broadcast_lead(fname: str, *xs):
    """``xs`` broadcast to one shape of leading (batch) axes; their last two axes stay."""
    shapes = [tuple(shape_of(x)) for x in xs]
    try:
        lead = np.broadcast_shapes(*(s[:-2] for s in shapes))
    except ValueError:
        raise ValueError(
            f"{fname}: the leading (batch) axes of the arguments, of shapes {shapes}, do not "
            "broadcast; give them equal (or 1-sized) batch axes") from None
    return [x if s[:-2] == lead else ns.broadcast_to(x, lead + s[-2:])
            for x, s in zip(xs, shapes)]


def _out_dtype(*xs):
    """NumPy's result type for a float computation (float32 stays float32, ints become
    float64)."""
    return np.result_type(*[np.asarray(x).dtype for x in xs], 1.0)


def _per_matrix(fn, *arrays, dtype=None):
    """``fn`` on each matrix of arrays with the same leading axes, stacked again."""
    lead = arrays[0].shape[:-2]
    if not lead:
        return fn(*arrays)
    outs = {idx: fn(*(a[idx] for a in arrays)) for idx in np.ndindex(lead)}
    first = next(iter(outs.values()))
    dtype = np.result_type(*outs.values()) if dtype is None else dtype
    out = np.empty(lead + first.shape, dtype=dtype)
    for idx, o in outs.items():
        out[idx] = o
    return out


def _tri_mask(n: int, lower: bool, unit: bool) -> np.ndarray:
    k = -1 if unit else 0
    return np.tril(np.ones((n, n), dtype=bool), k) if lower \
        else np.triu(np.ones((n, n), dtype=bool), -k)


# ---- solve_triangular --------------------------------------------------------------------

def _solve_triangular_impl(a, b, trans, lower, unit_diagonal):
    a, b = np.asarray(a), np.asarray(b)
    dtype = _out_dtype(a, b)
    sl = _scipy()
    if sl is not None and a.ndim == 2:
        x = sl.solve_triangular(a, b, trans=trans, lower=lower, unit_diagonal=unit_diagonal,
                                check_finite=False)
    else:  # LU of a triangular matrix: back (or forward) substitution, batched
        n = a.shape[-1]
        t = np.where(_tri_mask(n, lower, unit_diagonal), a, 0)
        if unit_diagonal:
            t = t + np.eye(n, dtype=t.dtype)
        x = np.linalg.solve(np.swapaxes(t, -1, -2) if trans else t, b)
    return x.astype(np.result_type(dtype, x.dtype), copy=False)


def _tri_part(x, lower, unit):
    return ew.where_p(_tri_mask(shape_of(x)[-1], lower, unit), x, 0.0)


def _st_jvp_a(t, x, a, b, trans, lower, unit_diagonal):
    dt = _tri_part(t, lower, unit_diagonal)
    return -solve_triangular_p(a, matmul(_mT(dt) if trans else dt, x), trans=trans,
                               lower=lower, unit_diagonal=unit_diagonal)


def _st_vjp_b(g, x, a, b, trans, lower, unit_diagonal):
    return ew.real_for(solve_triangular_p(a, g, trans=1 - trans, lower=lower,
                                          unit_diagonal=unit_diagonal), b)


def _st_vjp_a(g, x, a, b, trans, lower, unit_diagonal):
    gb = solve_triangular_p(a, g, trans=1 - trans, lower=lower, unit_diagonal=unit_diagonal)
    gm = -matmul(gb, _mT(x))
    return ew.real_for(_tri_part(_mT(gm) if trans else gm, lower, unit_diagonal), a)


solve_triangular_p = Primitive(
    "solve_triangular", _solve_triangular_impl,
    jvps=(_st_jvp_a, lambda t, x, a, b, **p: solve_triangular_p(a, t, **p)),
    vjps=(_st_vjp_a, _st_vjp_b),
    reads=Reads((0, -1), (0,)),
    doc="X = op(T)⁻¹B, T = tri(A); Ẋ = op(T)⁻¹(Ḃ - op(Ṫ)X); B̄ = op(T)⁻ᵀX̄, "
        "T̄ = tri(op⁻¹(-B̄Xᵀ))",
    batch="stacked_broadcast",
)

_TRANS = {0: 0, "N": 0, "n": 0, 1: 1, "T": 1, "t": 1, 2: 2, "C": 2, "c": 2}


def solve_triangular(a, b, trans=0, lower=False, unit_diagonal=False, overwrite_b=False,
                     check_finite=True):
    """Solve op(T)·x = b for a triangular T, the ``lower`` (or upper) triangle of ``a``.

    ``trans``: 0/'N' solves T x = b, 1/'T' solves Tᵀ x = b, 2/'C' solves Tᴴ x = b.
    ``unit_diagonal`` takes T's diagonal as ones (``a``'s diagonal is not read). Only the
    triangle is read, so the derivative in ``a`` is zero outside it:
    ẋ = op(T)⁻¹(ḃ - op(Ṫ)x), b̄ = op(T)⁻ᵀx̄, T̄ = tri(-b̄xᵀ) (transposed for op = ᵀ).

    Args:
        a: (..., M, M) matrices.
        b: (M,) (a vector for every matrix) or (..., M, K); batch axes broadcast.
        trans, lower, unit_diagonal: as in :func:`scipy.linalg.solve_triangular`.
        overwrite_b, check_finite: accepted for SciPy compatibility; ignored.

    Returns:
        x, of shape (..., M) for a vector b, else (..., M, K).

    Example:
        >>> import numpy as onp
        >>> solve_triangular(onp.array([[2.0, 0.0], [1.0, 1.0]]), onp.array([2.0, 3.0]),
        ...                  lower=True)
        array([1., 2.])
    """
    if trans not in _TRANS:
        raise ValueError(f"solve_triangular: trans must be 0, 1, 2 or 'N', 'T', 'C', got "
                         f"{trans!r}")
    a, b = _arr(a), _arr(b)
    n = _square(a, "solve_triangular")
    vec = len(shape_of(b)) == 1
    rows = shape_of(b)[0] if vec else (shape_of(b)[-2] if len(shape_of(b)) >= 2 else None)
    if rows != n:
        raise ValueError(
            f"solve_triangular: b must have {n} rows to match a of shape {shape_of(a)} "
            f"(shape ({n},) or (..., {n}, K)), got shape {shape_of(b)}")
    trans = _TRANS[trans]
    if trans == 2:  # Tᴴ = conj(T)ᵀ: conjugation is its own differentiable primitive
        a = ew.conj_p(a) if dtype_of(a).kind == "c" else a
        trans = 1
    if vec:
        b = ns.reshape(b, (n, 1))
    a, b = _broadcast_lead("solve_triangular", a, b)
    x = solve_triangular_p(a, b, trans=trans, lower=bool(lower),
                           unit_diagonal=bool(unit_diagonal))
    return ns.reshape(x, shape_of(x)[:-1]) if vec else x


# ---- Cholesky ----------------------------------------------------------------------------

def cholesky(a, lower=False, overwrite_a=False, check_finite=True):
    """Cholesky factor of a symmetric (Hermitian) positive-definite matrix, SciPy's way.

    ``lower=False`` (SciPy's default) returns the upper U with A = UᴴU, reading the upper
    triangle of ``a``; ``lower=True`` returns L with A = LLᴴ, reading the lower triangle.
    The derivative is :func:`chainrule.numpy.linalg.cholesky`'s, L̇ = L·Φ(L⁻¹ṠL⁻ᴴ), applied
    to Aᴴ for the upper factor (U = chol(Aᴴ)ᴴ).
    """
    a = _arr(a)
    _square(a, "cholesky")
    if lower:
        return _nla.cholesky_p(a)
    h = _nla._H if _nla._cplx(a) else _mT
    return h(_nla.cholesky_p(h(a)))


def cho_factor(a, lower=False, overwrite_a=False, check_finite=True):
    """``(c, lower)`` for :func:`cho_solve`: c is :func:`cholesky` (a, lower).

    SciPy leaves arbitrary values in the other triangle of c; here it is zero (neither
    :func:`cho_solve` nor SciPy's reads it).
    """
    return cholesky(a, lower=lower), bool(lower)


def cho_solve(c_and_lower, b, overwrite_b=False, check_finite=True):
    """x with A·x = b, given ``(c, lower) = cho_factor(A)``: two triangular solves,
    x = L⁻ᴴ(L⁻¹b) for A = LLᴴ, x = U⁻¹(U⁻ᴴb) for A = UᴴU (only c's triangle is read)."""
    if not (isinstance(c_and_lower, (tuple, list)) and len(c_and_lower) == 2):
        raise ValueError("cho_solve: the first argument must be the pair (c, lower) that "
                         f"cho_factor returns, got {type(c_and_lower).__name__}")
    c, lower = c_and_lower
    if lower:
        y = solve_triangular(c, b, lower=True)
        return solve_triangular(c, y, trans=2, lower=True)
    y = solve_triangular(c, b, trans=2, lower=False)
    return solve_triangular(c, y, lower=False)


# ---- solve_banded ------------------------------------------------------------------------

def _banded_dense(ab, l, u):
    m = ab.shape[1]
    a = np.zeros((m, m), dtype=ab.dtype)
    for r in range(l + u + 1):
        d = u - r  # row r of ab holds A[j - d, j]
        j = np.arange(max(0, d), min(m, m + d))
        a[j - d, j] = ab[r, j]
    return a


def _solve_banded_impl(ab, b, l, u):
    ab, b = np.asarray(ab), np.asarray(b)
    sl = _scipy()
    if sl is not None:
        x = sl.solve_banded((l, u), ab, b, check_finite=False)
    else:
        x = np.linalg.solve(_banded_dense(ab, l, u), b)
    return x.astype(np.result_type(_out_dtype(ab, b), x.dtype), copy=False)


def _solve_banded_shape(ab, b, l, u):
    """x's shape and dtype without solving (staging's placeholders are singular here)."""
    return np.zeros(np.shape(b), _out_dtype(ab, b))


def _shift0(v, d: int):
    """out[i] = v[i + d] along axis 0, zero where i + d is outside."""
    if d == 0:
        return v
    s = tuple(shape_of(v))
    m = s[0]
    if abs(d) >= m:  # a diagonal wholly outside the matrix
        return np.zeros(s, dtype=dtype_of(v))
    zeros = np.zeros((abs(d),) + s[1:], dtype=dtype_of(v))
    if d > 0:
        return ns.concatenate([ns.getitem(v, (slice(d, None),)), zeros], axis=0)
    return ns.concatenate([zeros, ns.getitem(v, (slice(None, m + d),))], axis=0)


def _band_row(ab, r, x):
    """Row r of ``ab``, shaped to multiply ``x`` ((M,) or (M, K)) elementwise."""
    return ns.getitem(ab, (r,) if len(shape_of(x)) == 1 else (r, slice(None), None))


def _band_matmul(ab, x, l, u):
    """A·x for A in band storage: (Ax)[i] = Σ_r ab[r, i + u - r]·x[i + u - r]."""
    out = None
    for r in range(l + u + 1):
        term = _shift0(_band_row(ab, r, x) * x, u - r)
        out = term if out is None else out + term
    return out


def _band_outer(g, x, l, u):
    """(g·xᵀ) restricted to the band, in band storage: out[r, j] = Σ_k g[j + r - u, k]·x[j, k]."""
    rows = []
    for r in range(l + u + 1):
        p = _shift0(g, r - u) * x
        rows.append(ns.sum(p, axis=-1) if len(shape_of(x)) == 2 else p)
    return ns.stack(rows, axis=0)


def _band_transpose(ab, l, u):
    """Aᵀ in band storage (bandwidths (u, l)): abᵀ[r, j] = ab[l + u - r, j + r - l]."""
    return ns.stack([_shift0(ns.getitem(ab, (l + u - r,)), r - l) for r in range(l + u + 1)],
                    axis=0)


def _sb_vjp_b(g, x, ab, b, l, u):
    return ew.real_for(solve_banded_p(_band_transpose(ab, l, u), g, l=u, u=l), b)


def _sb_vjp_ab(g, x, ab, b, l, u):
    gb = solve_banded_p(_band_transpose(ab, l, u), g, l=u, u=l)
    return ew.real_for(-_band_outer(gb, x, l, u), ab)


solve_banded_p = Primitive(
    "solve_banded", _solve_banded_impl,
    jvps=(lambda t, x, ab, b, l, u: -solve_banded_p(ab, _band_matmul(t, x, l, u), l=l, u=u),
          lambda t, x, ab, b, **p: solve_banded_p(ab, t, **p)),
    vjps=(_sb_vjp_ab, _sb_vjp_b),
    reads=Reads((0, -1), (0,)),
    shape_impl=_solve_banded_shape,
    doc="X = A⁻¹B, A banded (l, u); Ẋ = A⁻¹(Ḃ - ȦX); B̄ = A⁻ᵀX̄, āb = band(-B̄Xᵀ)",
    batch="loop",
)


def solve_banded(l_and_u, ab, b, overwrite_ab=False, overwrite_b=False, check_finite=True):
    """Solve A·x = b for a banded A given in LAPACK's band storage, SciPy's way.

    ``ab[u + i - j, j] = A[i, j]`` for the ``l`` sub- and ``u`` super-diagonals; the unused
    corners of ``ab`` are not read (their derivative is zero). Derivatives in ``ab`` and
    ``b``: ẋ = A⁻¹(ḃ - Ȧx), b̄ = A⁻ᵀx̄, āb = band(-b̄xᵀ); all in O(M·(l + u)) band
    operations.

    Args:
        l_and_u: (l, u), the numbers of non-zero lower and upper diagonals.
        ab: (l + u + 1, M) band storage.
        b: (M,) or (M, K).
        overwrite_ab, overwrite_b, check_finite: accepted for SciPy compatibility; ignored.

    Returns:
        x, of b's shape.
    """
    try:
        l, u = (int(v) for v in l_and_u)
    except (TypeError, ValueError):
        raise ValueError(f"solve_banded: l_and_u must be a pair (l, u) of non-negative "
                         f"integers, got {l_and_u!r}") from None
    if l < 0 or u < 0:
        raise ValueError(f"solve_banded: l_and_u must be non-negative, got {(l, u)}")
    ab, b = _arr(ab), _arr(b)
    sa, sb = tuple(shape_of(ab)), tuple(shape_of(b))
    if len(sa) != 2 or sa[0] != l + u + 1:
        raise ValueError(
            f"solve_banded: ab must have shape (l + u + 1, M) = ({l + u + 1}, M) for "
            f"(l, u) = {(l, u)}, got shape {sa}; row u + i - j of ab holds A[i, j]")
    if len(sb) not in (1, 2) or sb[0] != sa[1]:
        raise ValueError(f"solve_banded: b must have shape ({sa[1]},) or ({sa[1]}, K) to "
                         f"match ab of shape {sa}, got shape {sb}")
    return solve_banded_p(ab, b, l=l, u=u)


# ---- Sylvester ---------------------------------------------------------------------------

#: largest n·m solved by the dense Kronecker system when SciPy is missing
_KRON_MAX = 1024


def _sylvester_2d(a, b, q):
    sl = _scipy()
    if sl is not None:
        if any(np.iscomplexobj(x) for x in (a, b, q)):
            # SciPy pairs a real Schur form with a complex one and returns a wrong X when
            # only some arguments are complex (seen with SciPy 1.17): make them all complex
            dtype = np.result_type(a, b, q, np.complex64)
            a, b, q = a.astype(dtype), b.astype(dtype), q.astype(dtype)
        return sl.solve_sylvester(a, b, q)
    n, m = q.shape
    if n * m > _KRON_MAX:
        raise ImportError(f"solve_sylvester: a {n}×{m} Sylvester equation needs SciPy's "
                          f"Bartels-Stewart solver (without SciPy up to n·m = {_KRON_MAX}): "
                          f"{_INSTALL}")
    # row-major vec: vec(AX) = (A ⊗ I)vec(X), vec(XB) = (I ⊗ Bᵀ)vec(X)
    k = np.kron(a, np.eye(m)) + np.kron(np.eye(n), b.T)
    return np.linalg.solve(k, q.reshape(-1)).reshape(n, m)


def _sylvester_impl(a, b, q):
    a, b, q = np.asarray(a), np.asarray(b), np.asarray(q)
    dtype = _out_dtype(a, b, q)
    return _per_matrix(_sylvester_2d, a, b, q, dtype=dtype).astype(dtype, copy=False)


def _syl_ct(g, a, b):
    return solve_sylvester_p(_mT(a), _mT(b), g)


solve_sylvester_p = Primitive(
    "solve_sylvester", _sylvester_impl,
    jvps=(lambda t, x, a, b, q: -solve_sylvester_p(a, b, matmul(t, x)),
          lambda t, x, a, b, q: -solve_sylvester_p(a, b, matmul(x, t)),
          lambda t, x, a, b, q: solve_sylvester_p(a, b, t)),
    vjps=(lambda g, x, a, b, q: ew.real_for(-matmul(_syl_ct(g, a, b), _mT(x)), a),
          lambda g, x, a, b, q: ew.real_for(-matmul(_mT(x), _syl_ct(g, a, b)), b),
          lambda g, x, a, b, q: ew.real_for(_syl_ct(g, a, b), q)),
    reads=Reads((0, 1, -1), (0, 1, -1), (0, 1)),
    doc="AX + XB = Q; AẊ + ẊB = Q̇ - ȦX - XḂ; AᵀQ̄ + Q̄Bᵀ = X̄, Ā = -Q̄Xᵀ, B̄ = -XᵀQ̄",
    batch="stacked_broadcast",
)


def solve_sylvester(a, b, q):
    """X with A·X + X·B = Q (A: (..., n, n), B: (..., m, m), Q: (..., n, m)).

    Unique when A and -B share no eigenvalue. Derivatives in all three: Ẋ solves
    AẊ + ẊB = Q̇ - ȦX - XḂ; Q̄ solves the transposed equation AᵀQ̄ + Q̄Bᵀ = X̄, and
    Ā = -Q̄Xᵀ, B̄ = -XᵀQ̄.
    """
    a, b, q = _arr(a), _arr(b), _arr(q)
    n = _square(a, "solve_sylvester", "a")
    m = _square(b, "solve_sylvester", "b")
    sq = tuple(shape_of(q))
    if len(sq) < 2 or sq[-2:] != (n, m):
        raise ValueError(f"solve_sylvester: q must have shape (..., {n}, {m}) to match a "
                         f"({n}×{n}) and b ({m}×{m}), got shape {sq}")
    a, b, q = _broadcast_lead("solve_sylvester", a, b, q)
    return solve_sylvester_p(a, b, q)


# ---- matrix square root ------------------------------------------------------------------

def _sqrtm_db(a):
    """Principal square root by the scaled Denman-Beavers iteration (Higham, *Functions of
    Matrices*, §6.3): Y ← (μY + (μZ)⁻¹)/2, Z ← (μZ + (μY)⁻¹)/2 from Y = A, Z = I, with
    μ = |det Y det Z|^(-1/2n); Y → A^{1/2}. The iteration needs no eigenvalue on the
    negative real axis; with one (a complex root), V·diag(√λ)·V⁻¹ from the
    eigendecomposition instead (accurate for a well-conditioned V)."""
    a = a.astype(np.result_type(a, np.float64))
    w, v = np.linalg.eig(a)
    if np.any((w.imag == 0) & (w.real < 0)):
        w = w.astype(np.result_type(w, np.complex64))
        return (v * np.sqrt(w)) @ np.linalg.inv(v)
    n = a.shape[-1]
    y, z = a, np.eye(n, dtype=a.dtype)
    # quadratic convergence: once a step changes Y by less than √ε, one more step is exact
    tol = np.sqrt(np.finfo(a.real.dtype).eps)
    done = False
    for _ in range(100):
        mu = 1.0 if done else np.exp(
            -(np.linalg.slogdet(y)[1] + np.linalg.slogdet(z)[1]) / (2 * n))
        y_next = (mu * y + np.linalg.inv(mu * z)) / 2
        z = (mu * z + np.linalg.inv(mu * y)) / 2
        change = np.linalg.norm(y_next - y, 1) / np.linalg.norm(y_next, 1)
        y = y_next
        if done:
            return y
        done = change <= tol
    raise np.linalg.LinAlgError("sqrtm: the Denman-Beavers iteration did not converge (is "
                                f"the matrix singular?); for a robust Schur method: {_INSTALL}")


def _sqrtm_2d(a):
    real = not np.iscomplexobj(a)
    eps = np.finfo(a.dtype if a.dtype.kind in "fc" else np.float64).eps
    if np.array_equal(a, a.conj().T):  # symmetric/Hermitian: eigendecomposition
        w, v = np.linalg.eigh(a)
        tol = a.shape[-1] * eps * max(float(np.max(np.abs(w), initial=0.0)), 1e-300)
        if np.all(w >= -tol):  # positive semi-definite: rounding below 0 is 0
            return (v * np.sqrt(np.maximum(w, 0))) @ v.conj().T
    sl = _scipy()
    if sl is None:
        s = _sqrtm_db(a)
    else:
        s = sl.sqrtm(a)
        s = s[0] if isinstance(s, tuple) else s
    if real and np.iscomplexobj(s) and \
            np.max(np.abs(s.imag), initial=0) <= 1e3 * eps * max(np.max(np.abs(s.real)), 1):
        s = s.real
    return s


def _sqrtm_impl(a):
    a = np.asarray(a)
    out = _per_matrix(_sqrtm_2d, a)
    dtype = np.result_type(_out_dtype(a), out.dtype)
    return out.astype(dtype, copy=False)


sqrtm_p = Primitive(
    "sqrtm", _sqrtm_impl,
    jvps=(lambda t, s, a: solve_sylvester_p(s, s, t),),
    vjps=(lambda g, s, a: ew.real_for(solve_sylvester_p(_mT(s), _mT(s), g), a),),
    reads=Reads((-1,)),
    doc="S = A^{1/2}; SṠ + ṠS = Ȧ; SᵀĀ + ĀSᵀ = S̄",
    batch="stacked",
)


def sqrtm(A, disp=True, blocksize=64):
    """The principal matrix square root S (S·S = A, eigenvalues with positive real part).

    Symmetric (Hermitian) positive semi-definite matrices use their eigendecomposition
    (NumPy); other matrices SciPy's Schur method, or without SciPy the Denman-Beavers
    iteration (complex when A has negative real eigenvalues). Differentiating S² = A gives
    the Sylvester equation SṠ + ṠS = Ȧ, and Ā solves SᵀĀ + ĀSᵀ = S̄: the derivative exists
    where S and -S share no eigenvalue (A nonsingular).

    Under jit the output dtype is fixed when the function is traced: a real A gives a real S.

    Args:
        A: (..., n, n) matrices.
        disp, blocksize: accepted for SciPy compatibility; ignored.
    """
    A = _arr(A)
    _square(A, "sqrtm", "A")
    return sqrtm_p(A)


# ---- matrix exponential ------------------------------------------------------------------

_PADE13 = (64764752532480000.0, 32382376266240000.0, 7771770303897600.0,
           1187353796428800.0, 129060195264000.0, 10559470521600.0, 670442572800.0,
           33522128640.0, 1323241920.0, 40840800.0, 960960.0, 16380.0, 182.0, 1.0)
_THETA13 = 5.371920351148152


def _expm_np_2d(a):
    """Scaling and squaring with the [13/13] Padé approximant (Higham 2005)."""
    a = a.astype(np.result_type(a, np.float64))
    norm = np.linalg.norm(a, 1)
    s = max(0, int(np.ceil(np.log2(norm / _THETA13)))) if norm > _THETA13 else 0
    a = a / 2.0 ** s
    b = _PADE13
    ident = np.eye(a.shape[0], dtype=a.dtype)
    a2 = a @ a
    a4 = a2 @ a2
    a6 = a4 @ a2
    u = a @ (a6 @ (b[13] * a6 + b[11] * a4 + b[9] * a2) + b[7] * a6 + b[5] * a4 + b[3] * a2
             + b[1] * ident)
    v = a6 @ (b[12] * a6 + b[10] * a4 + b[8] * a2) + b[6] * a6 + b[4] * a4 + b[2] * a2 \
        + b[0] * ident
    r = np.linalg.solve(v - u, v + u)
    for _ in range(s):
        r = r @ r
    return r


def _expm_impl(a):
    a = np.asarray(a)
    dtype = _out_dtype(a)
    sl = _scipy()
    out = sl.expm(a) if sl is not None else _per_matrix(_expm_np_2d, a)
    return out.astype(np.result_type(dtype, out.dtype), copy=False)


def _frechet(a, e):
    """L(A, E), the Fréchet derivative of exp at A in the direction E: the upper-right
    block of exp([[A, E], [0, A]])."""
    n = shape_of(a)[-1]
    zeros = np.zeros(tuple(shape_of(a)), dtype=np.result_type(dtype_of(a), dtype_of(e)))
    big = ns.concatenate([ns.concatenate([a, e], axis=-1),
                          ns.concatenate([zeros, a], axis=-1)], axis=-2)
    return ns.getitem(expm_p(big), (Ellipsis, slice(None, n), slice(n, None)))


expm_p = Primitive(
    "expm", _expm_impl,
    jvps=(lambda t, y, a: _frechet(a, t),),
    vjps=(lambda g, y, a: ew.real_for(_frechet(_mT(a), g), a),),
    reads=Reads((0,)),
    doc="Y = e^A; Ẏ = L(A, Ȧ), Ā = L(Aᵀ, Ȳ), L from exp([[A, E], [0, A]])",
    batch="stacked",
)


def expm(A):
    """The matrix exponential e^A = Σ Aᵏ/k! of (..., n, n) matrices.

    The derivative is the Fréchet derivative L(A, Ȧ) = ∫₀¹ e^{sA}Ȧe^{(1-s)A} ds, computed as
    the upper-right block of exp([[A, Ȧ], [0, A]]); its transpose is Ā = L(Aᵀ, Ȳ).
    Values from SciPy when installed, else NumPy scaling and squaring with a [13/13] Padé
    approximant.

    Example:
        >>> import numpy as onp
        >>> expm(onp.zeros((2, 2)))
        array([[1., 0.],
               [0., 1.]])
    """
    A = _arr(A)
    _square(A, "expm", "A")
    return expm_p(A)


def expm_frechet(A, E, method=None, compute_expm=True, check_finite=True):
    """``(expm(A), L(A, E))`` (or ``L(A, E)`` alone with ``compute_expm=False``): the Fréchet
    derivative of the matrix exponential at A in the direction E, differentiable in both."""
    A, E = _arr(A), _arr(E)
    n = _square(A, "expm_frechet", "A")
    if tuple(shape_of(E))[-2:] != (n, n):
        raise ValueError(f"expm_frechet: E must have A's shape {shape_of(A)}, got "
                         f"{shape_of(E)}")
    A, E = _broadcast_lead("expm_frechet", A, E)
    L = _frechet(A, E)
    return (expm_p(A), L) if compute_expm else L


# ---- SciPy's versions of chainrule.numpy.linalg's functions ------------------------------

_GENERAL = (None, "gen", "general")
_SYMMETRIC = ("sym", "symmetric", "her", "hermitian", "pos", "positive definite")


def _symmetric_from(a, lower: bool, hermitian: bool):
    """The symmetric (Hermitian) matrix SciPy's ``sym``/``her``/``pos`` solvers read: the
    ``lower`` (else upper) triangle of a mirrored."""
    n = shape_of(a)[-1]
    tri = ew.where_p(_tri_mask(n, lower, False), a, 0.0)
    strict = ew.where_p(_tri_mask(n, lower, True), a, 0.0)
    mirror = _mT(strict)
    if hermitian and dtype_of(a).kind == "c":
        mirror = ew.conj_p(mirror)
        tri = tri - ew.where_p(np.eye(n, dtype=bool), tri - ew.real_p(tri), 0.0)
    return tri + mirror


def _prepare_square(a, fname, assume_a, lower):
    a = _arr(a)
    _square(a, fname)
    if assume_a in _GENERAL:
        return a
    if assume_a in _SYMMETRIC:
        return _symmetric_from(a, bool(lower), assume_a[:3] in ("her", "pos"))
    if assume_a == "diagonal":
        n = shape_of(a)[-1]
        return ew.where_p(np.eye(n, dtype=bool), a, 0.0)
    raise NotImplementedError(f"chainrule.scipy.linalg.{fname}: assume_a={assume_a!r} is not "
                              "supported; use 'gen', 'sym', 'her', 'pos' or 'diagonal'")


def solve(a, b, lower=False, overwrite_a=False, overwrite_b=False, check_finite=True,
          assume_a=None, transposed=False):
    """x with a·x = b (aᵀ·x = b with ``transposed``), SciPy's way: b of shape (M,) is a
    vector, (..., M, K) a stack of right-hand sides; ``assume_a`` 'sym'/'her'/'pos' read
    only the ``lower`` (default: upper) triangle of a, 'upper triangular' / 'lower
    triangular' use :func:`solve_triangular`. Derivatives are those of X = A⁻¹B:
    Ẋ = A⁻¹(Ḃ - ȦX), B̄ = A⁻ᵀX̄, Ā = -B̄Xᵀ."""
    if assume_a in ("upper triangular", "lower triangular"):
        return solve_triangular(a, b, trans=1 if transposed else 0,
                                lower=assume_a == "lower triangular")
    a, b = _prepare_square(a, "solve", assume_a, lower), _arr(b)
    n = shape_of(a)[-1]
    if transposed:
        a = _mT(a)
    vec = len(shape_of(b)) == 1
    rows = shape_of(b)[0] if vec else (shape_of(b)[-2] if len(shape_of(b)) >= 2 else None)
    if rows != n:
        raise ValueError(f"solve: b must have {n} rows to match a of shape {shape_of(a)} "
                         f"(shape ({n},) or (..., {n}, K)), got shape {shape_of(b)}")
    if vec:
        b = ns.reshape(b, (n, 1))
    a, b = _broadcast_lead("solve", a, b)
    x = _nla.solve_p(a, b)
    return ns.reshape(x, shape_of(x)[:-1]) if vec else x


def inv(a, overwrite_a=False, check_finite=True, *, assume_a=None, lower=False):
    """A⁻¹ (batched); Ẏ = -YȦY. ``assume_a`` as in :func:`solve`."""
    return _nla.inv_p(_prepare_square(a, "inv", assume_a, lower))


def det(a, overwrite_a=False, check_finite=True):
    """det A (batched); ẏ = y·tr(A⁻¹Ȧ)."""
    a = _arr(a)
    _square(a, "det")
    return _nla.det_p(a)


def _generalized(a, b, lower, fname):
    """(C, L) with C = L⁻¹AL⁻ᴴ, B = LLᴴ: Av = λBv becomes Cw = λw, v = L⁻ᴴw."""
    a, b = _arr(a), _arr(b)
    n = _square(a, fname)
    if tuple(shape_of(b))[-2:] != (n, n):
        raise ValueError(f"{fname}: b must have a's shape {shape_of(a)}, got {shape_of(b)}")
    herm = dtype_of(a).kind == "c" or dtype_of(b).kind == "c"
    s = _symmetric_from(a, lower, herm)
    L = cholesky(b, lower=lower)
    if not lower:
        L = _nla._H(L) if _nla._cplx(L) else _mT(L)
    y = solve_triangular(L, s, lower=True)  # L⁻¹A, so yᴴ = AL⁻ᴴ and L⁻¹yᴴ = L⁻¹AL⁻ᴴ
    yh = ew.conj_p(_mT(y)) if herm else _mT(y)
    return solve_triangular(L, yh, lower=True), L


def _check_eigh_options(fname, type, subset_by_index, subset_by_value):
    if type != 1 or subset_by_index is not None or subset_by_value is not None:
        raise NotImplementedError(
            f"chainrule.scipy.linalg.{fname}: type={type!r}, subset_by_index and "
            "subset_by_value are not supported; compute all eigenpairs (type=1) and slice")


def eigh(a, b=None, *, lower=True, eigvals_only=False, overwrite_a=False, overwrite_b=False,
         type=1, check_finite=True, subset_by_index=None, subset_by_value=None, driver=None):
    """Eigenvalues (ascending) and eigenvectors of a symmetric/Hermitian matrix, reading its
    ``lower`` (default) or upper triangle; with ``b``, of the generalized problem Av = λBv
    (B positive definite, VᴴBV = I), reduced to L⁻¹AL⁻ᴴ with B = LLᴴ. Derivatives:
    ẇ = diag(VᴴȦV), V̇ = V(F∘VᴴȦV), F_ij = 1/(w_j - w_i) (distinct eigenvalues)."""
    _check_eigh_options("eigh", type, subset_by_index, subset_by_value)
    if b is None:
        a = _arr(a)
        _square(a, "eigh")
        w, v = _nla.eigh(a, UPLO="L" if lower else "U")
    else:
        c, L = _generalized(a, b, bool(lower), "eigh")
        w, v = _nla.eigh(c)
        v = solve_triangular(L, v, trans=2, lower=True)
    return w if eigvals_only else (w, v)


def eigvalsh(a, b=None, *, lower=True, overwrite_a=False, overwrite_b=False, type=1,
             check_finite=True, subset_by_index=None, subset_by_value=None, driver=None):
    """Eigenvalues of a symmetric/Hermitian (generalized) problem, as :func:`eigh`."""
    return eigh(a, b, lower=lower, eigvals_only=True, type=type,
                subset_by_index=subset_by_index, subset_by_value=subset_by_value)


def svd(a, full_matrices=True, compute_uv=True, overwrite_a=False, check_finite=True,
        lapack_driver="gesdd"):
    """(U, s, Vh) with a = U diag(s) Vh; ``full_matrices=True`` needs a square matrix
    (the completion of U or Vh of a rectangular one has no unique derivative)."""
    return _nla.svd(_arr(a), full_matrices=full_matrices, compute_uv=compute_uv)


def svdvals(a, overwrite_a=False, check_finite=True):
    """Singular values, descending; ṡ = diag(UᵀȦV)."""
    return _nla.svd_s_p(_arr(a))


def qr(a, overwrite_a=False, lwork=None, mode="full", pivoting=False, check_finite=True):
    """QR decomposition, SciPy's modes: 'full' (the default: Q is M×M), 'economic' (Q is
    M×K), 'r' (returns ``(R,)``, R of shape M×N). Derivatives need M ≥ N; a full Q of a
    tall matrix is not unique, so 'full' needs a square matrix."""
    if pivoting:
        raise NotImplementedError("chainrule.scipy.linalg.qr: pivoting=True is not supported "
                                  "(the permutation is piecewise constant); use pivoting=False")
    if mode not in ("full", "economic", "r"):
        raise NotImplementedError(f"chainrule.scipy.linalg.qr: mode={mode!r} is not supported; "
                                  "use 'full', 'economic' or 'r'")
    a = _arr(a)
    s = tuple(shape_of(a))
    if len(s) < 2:
        raise ValueError(f"qr: a must be a matrix (shape (..., M, N)), got shape {s}")
    m, n = s[-2:]
    if mode == "r":
        r = _nla.qr(a, mode="r")
        if m > n:
            r = ns.concatenate([r, np.zeros(s[:-2] + (m - n, n), dtype=dtype_of(r))], axis=-2)
        return (r,)
    if mode == "full" and m > n:
        raise NotImplementedError(
            f"chainrule.scipy.linalg.qr: mode='full' of a {m}×{n} matrix has a full Q whose "
            "last columns are not unique, so it has no derivative; use mode='economic'")
    return _nla.qr(a)


def lstsq(a, b, cond=None, overwrite_a=False, overwrite_b=False, check_finite=True,
          lapack_driver=None):
    """Least squares for a full-rank 2-D a, SciPy's (x, residues, rank, s): residues are
    ‖b - ax‖² per column when M > N (a number for a 1-D b), else an empty array."""
    x, res, rank, s = _nla.lstsq(_arr(a), _arr(b))
    if len(shape_of(b)) == 1 and tuple(shape_of(res)) == (1,):
        res = ns.reshape(res, ())
    return x, res, rank, s


def norm(a, ord=None, axis=None, keepdims=False, check_finite=True):
    """Vector and matrix norms, as :func:`chainrule.numpy.linalg.norm`."""
    return _nla.norm(_arr(a), ord=ord, axis=axis, keepdims=keepdims)


def pinv(a, *, atol=None, rtol=None, return_rank=False, check_finite=True):
    """Moore-Penrose pseudo-inverse of a full-rank matrix, (AᵀA)⁻¹Aᵀ or Aᵀ(AAᵀ)⁻¹
    (and its rank, ``min(M, N)``, with ``return_rank``)."""
    a = _arr(a)
    p = _nla.pinv(a)
    return (p, min(shape_of(a)[-2:])) if return_rank else p
