"""Derivatives at edge points: zero cotangents, masked branches, singular inputs.

Each test here failed before the fix it names (issue 21, "silent wrong derivatives").
"""

import zlib

import numpy as onp
import pytest

import chainrule as cr
import chainrule.numpy as np
from chainrule import numeric
from op_specs import SPECS, sample

# ---- 1. second derivatives where the first cotangent is exactly zero -------------------------

SECOND_ORDER_CASES = [(name, spec.shapes[-1]) for name, spec in SPECS.items()
                      if spec.kind == "smooth" and spec.shapes]


def _point(spec, shapes, seed):
    rng = onp.random.default_rng(seed)
    domains = spec.domain * len(shapes) if len(spec.domain) == 1 else spec.domain
    return tuple(sample(d, s, rng) for d, s in zip(domains, shapes))


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
    if any(onp.iscomplexobj(a) for a in args):
        pytest.skip("complex arguments: linear rules, covered by test_primitives' complex rows")
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
    import chainrule.scipy.special as cs

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
    import warnings

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
