"""Derivatives at edge points: zero cotangents, masked branches, singular inputs.

Each test here failed before the fix it names (issue 21, "silent wrong derivatives").
"""

import warnings
import zlib

import numpy as onp
import pytest

import chainrule as cr
import chainrule.numpy as np
import chainrule.scipy.special as cs
from chainrule import numeric
from op_specs import SPECS, sample

# ---- 1. second derivatives where the first cotangent is exactly zero -------------------------


def _point(spec, shapes, seed):
    rng = onp.random.default_rng(seed)
    domains = spec.domain * len(shapes) if len(spec.domain) == 1 else spec.domain
    return tuple(sample(d, s, rng) for d, s in zip(domains, shapes))


def _real_arguments(spec, shapes):
    """Whether the row samples only real arguments (the complex rows' rules are linear in
    the cotangent and their precision is covered by test_primitives' complex tests)."""
    return not any(onp.iscomplexobj(a) for a in _point(spec, shapes, seed=0))


# complex arguments are left out: see _real_arguments
SECOND_ORDER_CASES = [(name, spec.shapes[-1]) for name, spec in SPECS.items()
                      if spec.kind == "smooth" and spec.shapes
                      and _real_arguments(spec, spec.shapes[-1])]


def _flat(tree):
    return [onp.asarray(v) for v in cr.tree_flatten(tree)[0]]


@pytest.mark.parametrize("name,shapes", SECOND_ORDER_CASES, ids=[n for n, _ in SECOND_ORDER_CASES])
def test_second_order_through_a_zero_cotangent(name, shapes):
    """h(x) = ½ Σ w·|f(x) - f(x₀)|² has the cotangent f̄ = w·(f - f(x₀)) = 0 exactly at x₀,
    but a Hessian JᵀWJ ≠ 0 there: a rule that returns zeros for a zero cotangent drops
    it. Every primitive's rules differentiated twice (forward-over-reverse and
    reverse-over-reverse, in every real argument at once) are compared with central
    differences of the first derivative."""
    spec = SPECS[name]
    seed = zlib.crc32(f"zero-ct{name}".encode())
    args = _point(spec, shapes, seed)
    y0 = _flat(spec.fn(*args))
    rng = onp.random.default_rng(seed + 1)
    weights = [rng.uniform(0.5, 1.5, onp.shape(y)) for y in y0]

    def h(*xs):
        total = 0.0
        for y, c, w in zip(cr.tree_flatten(spec.fn(*xs))[0], y0, weights):
            d = y - c
            total = total + np.sum(w * (np.real(d) ** 2 + np.imag(d) ** 2)) / 2
        return total

    nums = tuple(range(len(args)))
    g = cr.grad(h, argnums=nums)
    for gi in g(*args):
        assert onp.allclose(gi, 0.0, atol=1e-12), f"{name}: the cotangent at x₀ is not zero"
    vs = tuple(float(v) if onp.ndim(a) == 0 else v
               for a, v in ((a, rng.standard_normal(onp.shape(a))) for a in args))
    eps = 1e-5
    plus = g(*(a + eps * v for a, v in zip(args, vs)))
    minus = g(*(a - eps * v for a, v in zip(args, vs)))
    fd = [(onp.asarray(p) - onp.asarray(m)) / (2 * eps) for p, m in zip(plus, minus)]
    scale = max(1.0, max(onp.max(onp.abs(d)) for d in fd))
    assert max(onp.max(onp.abs(d)) for d in fd) > 1e-6, f"{name}: no second-order term"
    fwd_rev = cr.jvp(g, args, vs)[1]
    rev_rev = cr.grad(lambda *xs: sum(np.sum(gi * v) for gi, v in zip(g(*xs), vs)),
                      argnums=nums)(*args)
    for i, d in enumerate(fd):
        onp.testing.assert_allclose(fwd_rev[i], d, rtol=1e-4, atol=1e-5 * scale,
                                    err_msg=f"{name}: forward-over-reverse, argument {i}")
        onp.testing.assert_allclose(rev_rev[i], d, rtol=1e-4, atol=1e-5 * scale,
                                    err_msg=f"{name}: reverse-over-reverse, argument {i}")


def test_hessian_through_sqrt_at_a_stationary_point():
    # d²/da² (√a - 1)² at a = 1 is 1/2 (the first cotangent 2(√a - 1) is 0 there)
    assert cr.hessian(lambda a: (np.sqrt(a) - 1) ** 2)(1.0) == pytest.approx(0.5, rel=1e-14)


def test_helical_valley_hessian():
    """Moré, Garbow and Hillstrom's helical valley at (1, 0, 0): H[0, 0] = 200."""
    def f(x):
        theta = np.arctan2(x[1], x[0]) / (2 * onp.pi)
        r = np.sqrt(x[0] ** 2 + x[1] ** 2)
        return 100 * ((x[2] - 10 * theta) ** 2 + (r - 1) ** 2) + x[2] ** 2

    x = onp.array([1.0, 0.0, 0.0])
    h = cr.hessian(f)(x)
    onp.testing.assert_allclose(h[0, 0], 200.0, rtol=1e-12)
    fd = numeric.hessian(lambda v: float(f(v)), x)
    onp.testing.assert_allclose(h, fd, rtol=1e-5, atol=1e-4)


# ---- 2. derivatives that were 0 at a point where the mathematics says otherwise --------------


@pytest.mark.parametrize("mode", ["rev", "fwd"])
def test_xlogy_and_xlog1py_derivative_in_x_at_zero(mode):
    d = (lambda f, x: cr.grad(f)(x)) if mode == "rev" else (
        lambda f, x: cr.jvp(f, (x,), (1.0,))[1])
    assert d(lambda x: cs.xlogy(x, 2.5), 0.0) == pytest.approx(onp.log(2.5), rel=1e-15)
    assert d(lambda x: cs.xlog1py(x, 2.5), 0.0) == pytest.approx(onp.log1p(2.5), rel=1e-15)
    # the value stays SciPy's where y ≤ 0 (resp. ≤ -1), and nothing there is NaN
    x = onp.array([0.0, 0.0, 1.0])
    y = onp.array([0.0, 3.0, 3.0])
    onp.testing.assert_array_equal(cs.xlogy(x, y), [0.0, 0.0, onp.log(3.0)])
    gx, gy = cr.grad(lambda x, y: np.sum(cs.xlogy(x, y)), argnums=(0, 1))(x, y)
    onp.testing.assert_allclose(gx, [0.0, onp.log(3.0), onp.log(3.0)])
    onp.testing.assert_allclose(gy, [0.0, 0.0, 1 / 3])


def test_sinc_derivatives_at_zero():
    """sinc x = 1 - (πx)²/6 + (πx)⁴/120 - ...: sinc'(0) = 0, sinc''(0) = -π²/3,
    sinc⁗(0) = π⁴/5; and the series agrees with the quotient where they meet."""
    d2 = cr.grad(cr.grad(np.sinc))
    assert d2(0.0) == pytest.approx(-onp.pi**2 / 3, rel=1e-14)
    assert cr.jvp(cr.grad(np.sinc), (0.0,), (1.0,))[1] == pytest.approx(-onp.pi**2 / 3,
                                                                        rel=1e-14)
    d4 = cr.grad(cr.grad(d2))
    assert d4(0.0) == pytest.approx(onp.pi**4 / 5, rel=1e-12)
    for x in (0.0099999, 0.0100001, 1e-9, -3e-3):  # both sides of the switch, tiny x
        exact = (onp.cos(onp.pi * x) - onp.sinc(x)) / x if abs(x) > 1e-4 else -onp.pi**2 * x / 3
        assert cr.grad(np.sinc)(x) == pytest.approx(exact, rel=1e-9)


# ---- 3. the same argument named twice in argnums ---------------------------------------------


def test_repeated_argnums_each_get_the_full_gradient():
    assert cr.grad(lambda x: x**3, argnums=(0, 0))(1.0) == (3.0, 3.0)
    assert cr.grad(lambda a, b: a * b, argnums=(0, 1, 0))(3.0, 2.0) == (2.0, 3.0, 2.0)
    g = cr.grad(lambda d: d["a"] ** 2, argnums=(0, 0))({"a": 2.0})
    assert g == ({"a": 4.0}, {"a": 4.0})
    h = cr.hessian(lambda x, y: x**3 * y, argnums=(0, 0))(1.0, 2.0)
    onp.testing.assert_allclose(onp.array(h, dtype=float), [[12.0, 12.0], [12.0, 12.0]])


# ---- 4. reverse mode agrees with forward mode at masked and singular points ------------------

EDGE_PROBES = {
    "where_log_at_0": (lambda x: np.where(x > 0.5, np.log(x), 0.0), 0.0, 0.0),
    "where_reciprocal_at_0": (lambda x: np.where(x > 1, np.divide(1.0, x), 0.0), 0.0, 0.0),
    "where_xlogx_at_0": (lambda x: np.where(x > 0, x * np.log(x), 0.0), 0.0, 0.0),
    "where_exp_overflow": (lambda x: np.where(x < 100, np.exp(x), 0.0), 1000.0, 0.0),
    "where_sqrt_negative": (lambda x: np.where(x > 0, np.sqrt(x), x), -1.0, 1.0),
    "where_arcsin_outside": (lambda x: np.where(abs(x) < 1, np.arcsin(x), 0.0), 2.0, 0.0),
    "logaddexp_xx_at_-inf": (lambda x: np.logaddexp(x, x), -onp.inf, 1.0),
    "logaddexp_at_+inf": (lambda x: np.logaddexp(x, 1.0), onp.inf, 1.0),
    "logaddexp2_xx_at_-inf": (lambda x: np.logaddexp2(x, x), -onp.inf, 1.0),
    "sqrt_of_square_at_0": (lambda x: np.sqrt(x**2), 0.0, 0.0),
    "sqrt_of_product_at_0": (lambda x: np.sqrt(x * x), 0.0, 0.0),
    "where_gammaln_at_0": (lambda x: np.where(x > 0, cs.gammaln(x), 0.0), 0.0, 0.0),
    "where_erfinv_at_1": (lambda x: np.where(abs(x) < 1, cs.erfinv(x), 0.0), 1.0, 0.0),
}


@pytest.mark.parametrize("name", list(EDGE_PROBES))
@pytest.mark.parametrize("as_array", [False, True], ids=["scalar", "array"])
def test_reverse_agrees_with_forward_at_edge_points(name, as_array):
    f, x, expected = EDGE_PROBES[name]
    if as_array:  # the same point inside a vector whose other entries are ordinary
        xs = onp.array([x, 0.75])
        rev = cr.grad(lambda v: np.sum(f(v)))(xs)
        fwd = cr.jvp(lambda v: f(v), (xs,), (onp.array([1.0, 0.0]),))[1]
        assert rev[0] == expected and fwd[0] == expected, (rev, fwd)
        return
    rev = cr.grad(f)(x)
    fwd = cr.jvp(f, (x,), (1.0,))[1]
    assert rev == expected and fwd == expected, (rev, fwd)


def test_logaddexp_second_derivatives_stay_smooth():
    # d²/da² log(eᵃ + eᵇ) = w(1 - w), w = e^{a-y}: ¼ at a = b
    assert cr.hessian(lambda a: np.logaddexp(a, 0.0))(0.0) == pytest.approx(0.25, rel=1e-15)
    x = onp.array([-3.0, 0.5])
    cr.check_grads(lambda v: np.logaddexp(v, v[::-1] * 2.0), (x,), order=2)


@pytest.mark.parametrize("fn,expected", [
    (lambda x: np.nansum(x), [1.0, 0.0, 1.0]),
    (lambda x: np.nanmean(x), [0.5, 0.0, 0.5]),
    (lambda x: np.sum(np.nan_to_num(x)), [1.0, 0.0, 1.0]),
    (lambda x: np.nansum(np.log(x)), [1.0, 0.0, 0.5]),
    (lambda x: np.sum(np.nan_to_num(np.log(x) * x)), [1.0, 0.0, 1.0 + onp.log(2.0)]),
], ids=["nansum", "nanmean", "nan_to_num", "nansum_log", "nan_to_num_xlogx"])
def test_nan_reductions_ignore_the_nan_entries_in_both_modes(fn, expected):
    x = onp.array([1.0, onp.nan, 2.0])
    if "log" in repr(fn.__code__.co_names):
        x = onp.array([1.0, -1.0, 2.0])
    with onp.errstate(invalid="ignore"):  # the primal log(-1) warns in NumPy too
        rev = cr.grad(fn)(x)
        fwd = [cr.jvp(fn, (x,), (e,))[1] for e in onp.eye(3)]
    onp.testing.assert_allclose(rev, expected, rtol=1e-15)
    onp.testing.assert_allclose(fwd, expected, rtol=1e-15)


# ---- 15. no NumPy warnings from rules whose results are finite -------------------------------


def _warnings_of(fn):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = fn()
    return value, sorted({str(w.message) for w in caught if w.category is RuntimeWarning})


@pytest.mark.parametrize("name", list(EDGE_PROBES))
@pytest.mark.parametrize("as_array", [False, True], ids=["scalar", "array"])
def test_rules_add_no_runtime_warnings(name, as_array):
    """The derivative warns no more than NumPy does on the function itself: the masked
    branch's own log(0) warns (NumPy evaluates it), its partial 1/0 must not."""
    f, x, _ = EDGE_PROBES[name]
    x = onp.array([x, 0.75]) if as_array else x
    t = onp.array([1.0, 0.0]) if as_array else 1.0
    plain = onp.sum if as_array else (lambda v: v)
    _, primal = _warnings_of(lambda: f(x))
    for label, run in [("grad", lambda: cr.grad(lambda v: plain(f(v)))(x)),
                       ("jvp", lambda: cr.jvp(f, (x,), (t,))),
                       ("hessian", lambda: cr.hessian(lambda v: plain(f(v)))(x))]:
        value, caught = _warnings_of(run)
        extra = [w for w in caught if w not in primal]
        assert not extra, f"{name} {label}: {extra}"


def test_second_order_at_zero_warns_not():
    """x·√x at 0: value 0, gradient 0 (the 0/0 inside √'s rule is a zero cotangent)."""
    grad = cr.grad(lambda v: np.sum(v * np.sqrt(v)))
    hessian = cr.hessian(lambda v: np.sum(v**2 * np.sqrt(v)))
    for x in (0.0, onp.zeros(3)):
        g, caught = _warnings_of(lambda x=x: grad(x))
        assert not caught and not onp.any(g)
        h, caught = _warnings_of(lambda x=x: hessian(x))
        assert not caught and not onp.any(h)


# ---- 5. det at singular matrices -------------------------------------------------------------

SINGULAR = {
    "rank1_2x2": onp.array([[1.0, 2.0], [2.0, 4.0]]),
    "rank2_3x3": onp.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [5.0, 7.0, 9.0]]),
    "zero_row": onp.array([[1.0, 2.0, 0.5], [0.0, 0.0, 0.0], [3.0, -1.0, 2.0]]),
    "rank1_3x3": onp.outer([1.0, 2.0, -1.0], [0.5, 1.0, 3.0]),
}


def _cofactor(a):
    n = a.shape[0]
    return onp.array([[(-1) ** (i + j) * onp.linalg.det(onp.delete(onp.delete(a, i, 0), j, 1))
                       for j in range(n)] for i in range(n)])


@pytest.mark.parametrize("name", list(SINGULAR))
def test_det_gradient_at_singular_matrices_is_the_cofactor_matrix(name):
    a = SINGULAR[name]
    g = cr.grad(np.linalg.det)(a)
    onp.testing.assert_allclose(g, _cofactor(a), atol=1e-12)
    t = onp.random.default_rng(0).standard_normal(a.shape)
    onp.testing.assert_allclose(cr.jvp(np.linalg.det, (a,), (t,))[1],
                                onp.sum(_cofactor(a) * t), atol=1e-12)


@pytest.mark.parametrize("name", ["rank1_2x2", "rank2_3x3", "zero_row"])
def test_det_second_derivative_at_rank_n_minus_1(name):
    """Rank n - 1 (distinct singular values): the Hessian against central differences of the
    cofactor matrix, and a batch with one regular and one singular matrix."""
    a = SINGULAR[name]
    h = cr.hessian(np.linalg.det)(a).reshape(a.size, a.size)
    eps, fd = 1e-6, onp.zeros((a.size, a.size))
    for k in range(a.size):
        e = onp.zeros(a.size)
        e[k] = eps
        fd[:, k] = ((_cofactor(a + e.reshape(a.shape)) - _cofactor(a - e.reshape(a.shape)))
                    / (2 * eps)).ravel()
    onp.testing.assert_allclose(h, fd, atol=1e-6)
    batch = onp.stack([a, a + onp.eye(len(a))])
    g = cr.grad(lambda b: np.sum(np.linalg.det(b)))(batch)
    onp.testing.assert_allclose(g, [_cofactor(m) for m in batch], atol=1e-11)


# ---- 6. custom_vjp cotangents of the wrong shape ---------------------------------------------


def test_custom_vjp_rejects_a_wrongly_shaped_cotangent():
    @cr.custom_vjp
    def total(x, y):
        return np.sum(x) * y

    total.defvjp(lambda x, y: (np.sum(x) * y, (x, y)),
                 lambda res, g: (g * onp.ones(4), g * np.sum(res[0])))
    with pytest.raises(ValueError, match=r"custom_vjp total: .*shape \(4,\) for argument 0, "
                                         r"whose shape is \(3,\)"):
        cr.grad(total)(onp.ones(3), 2.0)
    total.defvjp(lambda x, y: (np.sum(x) * y, (x, y)),
                 lambda res, g: (g * res[1] * onp.ones(3), onp.ones(2)))
    with pytest.raises(ValueError, match=r"shape \(2,\) for argument 1, whose shape is \(\)"):
        cr.grad(total, argnums=(0, 1))(onp.ones(3), 2.0)
    total.defvjp(lambda x, y: (np.sum(x) * y, (x, y)),
                 lambda res, g: (g * res[1] * onp.ones(3), g * np.sum(res[0])))
    gx, gy = cr.grad(total, argnums=(0, 1))(onp.ones(3), 2.0)
    onp.testing.assert_allclose(gx, [2.0, 2.0, 2.0])
    assert gy == pytest.approx(3.0)


# ---- 7. dtypes and 0-d arrays ----------------------------------------------------------------


def _float32_sum(spec, *xs):
    return sum(np.sum(np.real(o)) for o in cr.tree_flatten(spec.fn(*xs))[0])


def _keeps_float32(spec, shapes):
    """Whether the row's function itself maps float32 arguments to float32 (not so for
    e.g. float_power, or a row that mixes in a float64 constant)."""
    args = tuple(onp.asarray(a, dtype=onp.float32) for a in _point(spec, shapes, seed=3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return onp.result_type(_float32_sum(spec, *args)) == onp.float32


# complex rows (their precision is covered by the complex tests) and rows whose function
# leaves float32 are left out
FLOAT32_CASES = [(name, shapes) for name, spec in SPECS.items() if spec.kind == "smooth"
                 for shapes in spec.shapes
                 if _real_arguments(spec, shapes) and _keeps_float32(spec, shapes)]


@pytest.mark.parametrize("name,shapes", FLOAT32_CASES, ids=[f"{n}-{s}" for n, s in FLOAT32_CASES])
def test_float32_stays_float32_to_second_order(name, shapes):
    """Every shape of every row, 0-d float32 arrays included: first and second derivatives
    in both modes keep float32, and 0-d arrays get 0-d arrays back."""
    spec = SPECS[name]
    args = tuple(onp.asarray(a, dtype=onp.float32) for a in _point(spec, shapes, seed=3))

    def h(*xs):
        return _float32_sum(spec, *xs)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert onp.result_type(h(*args)) == onp.float32, f"{name}: the function leaves float32"
        nums = tuple(range(len(args)))
        g = cr.grad(h, argnums=nums)
        first = g(*args)
        tangent = cr.jvp(h, args, tuple(onp.ones_like(a) for a in args))[1]
        fwd_rev = cr.jvp(g, args, tuple(onp.ones_like(a) for a in args))[1]
        rev_rev = cr.grad(lambda *xs: sum(np.sum(gi) for gi in g(*xs)), argnums=nums)(*args)
    assert onp.result_type(tangent) == onp.float32, f"{name}: tangent {onp.result_type(tangent)}"
    for label, out in (("gradient", first), ("fwd-over-rev", fwd_rev),
                       ("rev-over-rev", rev_rev)):
        for a, d in zip(args, out):
            assert onp.result_type(d) == onp.float32, f"{name}: {label} {onp.result_type(d)}"
            if label != "fwd-over-rev":
                assert isinstance(d, onp.ndarray) and d.shape == a.shape, (name, label, type(d))


def test_zero_d_array_in_zero_d_array_out():
    for x in (onp.array(0.5), onp.array(0.5, dtype=onp.float32)):
        for f in (np.sin, lambda v: v * 2.0, lambda v: np.sum(v * v)):
            g = cr.grad(f)(x)
            assert type(g) is onp.ndarray and g.shape == () and g.dtype == x.dtype
    assert type(cr.grad(np.sin)(0.5)) is float  # Python floats stay floats


# ---- 8. eig / eigvals of non-symmetric matrices ----------------------------------------------


@pytest.mark.parametrize("matrix", ["real_spectrum", "complex_pair", "complex_matrix"])
def test_eig_gradients_against_finite_differences(matrix):
    rng = onp.random.default_rng(7)
    if matrix == "real_spectrum":
        a = onp.triu(rng.standard_normal((3, 3))) + onp.diag([1.0, 2.0, 3.5])
        a = a + 0.1 * rng.standard_normal((3, 3))
    elif matrix == "complex_pair":
        a = onp.array([[0.5, -2.0, 0.3], [1.5, 0.2, -0.4], [0.1, 0.6, 1.1]])
    else:
        a = rng.standard_normal((3, 3)) + 1j * rng.standard_normal((3, 3))
    w = onp.linalg.eigvals(a)
    assert onp.min(onp.abs(w[:, None] - w[None, :]) + onp.eye(3)) > 0.1  # distinct

    def f(m):
        # a real function of eigenvalues and of phase-free functions of the eigenvectors
        w, v = np.linalg.eig(m)
        weights = onp.arange(1.0, 10.0).reshape(3, 3)
        return (np.sum(np.real(w) ** 3 - np.imag(w) * np.real(w))
                + np.sum(weights * np.abs(v) ** 2) + np.real(np.sum(np.linalg.eigvals(m) ** 2)))

    def f_numpy(flat):
        m = (flat[:9] + 1j * flat[9:]).reshape(3, 3) if onp.iscomplexobj(a) else flat.reshape(3, 3)
        w, v = onp.linalg.eig(m)
        weights = onp.arange(1.0, 10.0).reshape(3, 3)
        return (onp.sum(w.real**3 - w.imag * w.real) + onp.sum(weights * onp.abs(v) ** 2)
                + onp.real(onp.sum(w**2)))

    flat = onp.concatenate([a.real.ravel(), a.imag.ravel()]) if onp.iscomplexobj(a) \
        else a.ravel()
    fd = numeric.gradient(f_numpy, flat)
    g = cr.grad(f)(a)
    # JAX's convention: grad of a real f of complex A is ∂f/∂Re A - i·∂f/∂Im A
    expect = (fd[:9] - 1j * fd[9:]).reshape(3, 3) if onp.iscomplexobj(a) else fd.reshape(3, 3)
    onp.testing.assert_allclose(g, expect, rtol=1e-6, atol=1e-6)
    assert onp.iscomplexobj(g) == onp.iscomplexobj(a)
    t = rng.standard_normal(a.shape) + (1j * rng.standard_normal(a.shape)
                                        if onp.iscomplexobj(a) else 0)
    tflat = onp.concatenate([t.real.ravel(), t.imag.ravel()]) if onp.iscomplexobj(a) \
        else t.ravel()
    fwd = cr.jvp(f, (a,), (t,))[1]
    assert fwd == pytest.approx(float(fd @ tflat), rel=1e-6, abs=1e-6)


def test_quiet_agrees_with_errstate_and_restores_the_state():
    """The fast error-state switch sets what np.errstate would and puts back exactly what
    was there, the user's own settings included (nested, and after a change)."""
    from chainrule.interpreters import quiet

    with onp.errstate(under="raise", divide="warn"):
        before = onp.geterr()
        token = quiet.enter()
        inside = onp.geterr()
        assert quiet.enter() is None  # already quiet: nothing to undo
        quiet.leave(token)
        assert onp.geterr() == before
        with quiet.plain_quiet():
            assert onp.geterr() == inside
    with onp.errstate(over="raise"):  # a new user state: a new quiet version of it
        token = quiet.enter()
        assert onp.geterr()["over"] == "ignore" and onp.geterr()["invalid"] == "ignore"
        quiet.leave(token)
        assert onp.geterr()["over"] == "raise"
