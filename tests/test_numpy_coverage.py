"""Composites of issue 3 against finite differences; NaN-safe limits; functional updates."""

import numpy as onp
import pytest

import chainrule as cr
import chainrule.numpy as np
import chainrule.scipy.special as sps
from chainrule.scipy.stats import norm

R = onp.random.default_rng(0)
X = R.standard_normal((3, 4))
V = R.standard_normal(5)

COMPOSITES = {
    "reciprocal": (lambda x: np.reciprocal(x + 3.0), (V,)),
    "deg2rad": (lambda x: np.rad2deg(np.deg2rad(x) ** 2), (V,)),
    "logaddexp": (lambda a, b: np.logaddexp(a, b) + np.logaddexp2(a, 2 * b), (V, V[::-1] + 0.3)),
    "hypot": (np.hypot, (V, V[::-1] + 0.3)),
    "fmax": (lambda a, b: np.fmax(a, b) + np.fmin(a, b) ** 2, (V, V[::-1] + 0.1)),
    "float_power": (lambda x: np.float_power(x * x + 1, 1.5), (V,)),
    "diff": (lambda x: np.diff(x, n=2, axis=1)[:2] * np.diff(x, axis=0)[:, :2], (X,)),
    "nansum": (lambda x: np.nansum(x, axis=0) + np.nanmean(x), (X,)),
    "average": (lambda x, w: np.average(x, axis=1, weights=w), (X, onp.abs(V[:4]) + 1)),
    "ptp": (lambda x: np.ptp(x, axis=1), (X,)),
    "trace": (lambda x: np.trace(x[:, :3]) + np.diagonal(x, 1) @ np.ones(3), (X,)),
    "stacks": (lambda x: np.hstack([x, x]) * np.vstack([x, x]).sum() + np.dstack([x, x])[..., 1]
               .sum(), (X,)),
    "split": (lambda x: np.split(x, 2, axis=1)[1] * np.array_split(x, 3, axis=1)[0], (X,)),
    "tile_repeat": (lambda x: np.tile(x, (2, 1))[:3] * np.repeat(x, 2, axis=1)[:, ::2], (X,)),
    "flip_roll": (lambda x: np.flip(x) * np.roll(x, 1, axis=1) + np.rot90(np.fliplr(x), 2), (X,)),
    "pad": (lambda x: np.pad(x, ((1, 1), (1, 1)), mode="reflect") + np.pad(x, 1, mode="edge")
            + np.pad(x, ((1, 1), (2, 0)), constant_values=2.0), (X,)),
    "tri": (lambda x: np.triu(x) * np.tril(x, 1) + np.diag(np.diag(x[:, :3]))[:, :1], (X,)),
    "meshgrid": (lambda a, b: np.meshgrid(a, b)[0] * np.meshgrid(a, b)[1], (V, V[:3])),
    "take_sort": (lambda x: np.take(x, [0, 2, 2], axis=1) * np.sort(x, axis=1)[:, :3]
                  + np.take_along_axis(x, onp.argsort(X, axis=0), axis=0)[:, :3], (X,)),
    "contract": (lambda a, b: np.tensordot(a, b, axes=1) + np.outer(a[:, 0], b[0, :3])
                 + np.inner(a, a) + np.vdot(a, a), (X, X.T)),
    "kron_cross": (lambda a, b: np.kron(a, b).sum() + np.cross(a, b), (V[:3], V[2:])),
    "dot_nd": (lambda a, b: np.dot(a, b),
               (R.standard_normal((2, 3, 4)), R.standard_normal((5, 4, 2)))),
    "norms": (lambda x: sum(np.linalg.norm(x, o) for o in (1, onp.inf, -onp.inf, 3, None))
              + sum(np.linalg.norm(x.reshape(2, 3), o) for o in ("fro", "nuc", 2, 1, onp.inf)),
              (R.standard_normal(6) + 0.01 * onp.arange(6),)),
    "pinv_power": (lambda a: np.linalg.pinv(a) @ np.linalg.matrix_power(a[:3], 3)
                   + np.linalg.matrix_power(a[:3] + 3 * onp.eye(3), -2),
                   (X[:, :3] + 2 * onp.eye(3)[0],)),
    "fftshift": (lambda x: np.fft.fftshift(x) * np.fft.ifftshift(x), (X,)),
    "special": (lambda x: sps.logsumexp(x, axis=0) + sps.softmax(x, axis=0)[0]
                + sps.log_softmax(x)[1] + sps.logit(sps.expit(x))[2]
                + sps.xlogy(x, x * x + 1)[0] + sps.xlog1py(x, x * x)[1], (X,)),
    "stats": (lambda x: norm.logpdf(x, 0.5, 2.0) + norm.cdf(x, -0.2, 1.5), (V,)),
    "quantiles": (lambda x: np.quantile(x, [0.1, 0.55], axis=1) * np.median(x, axis=0)[None, :3]
                  + np.percentile(x, 30.0) + np.median(x[:, :2]), (X,)),
    "nanmax": (lambda x: np.nanmax(x, axis=1) + np.nanmin(x), (X,)),
    "interp": (lambda t, f: np.interp(t, onp.array([-2.0, -0.5, 0.3, 2.5]), f),
               (V, R.standard_normal(4))),
    "polyval_trapezoid": (lambda p, y: np.polyval(p, y) + np.trapezoid(y * y, x=V.cumsum()),
                          (V[:3], V)),
    "lstsq": (lambda a, b: np.linalg.lstsq(a, b)[0] * np.sum(np.linalg.lstsq(a, b)[1])
              + np.linalg.lstsq(a.T, b[:3])[0][:3], (X.T, V[:4])),
    "array_api": (lambda x: np.acos(np.tanh(x[0])) + np.atan2(x[1], x[2] + 3.0)
                  + np.pow(x[0] * x[0] + 1.0, 1.5) + np.sum(np.cumulative_sum(x, axis=1))
                  + np.sum(np.vecdot(x, x[::-1])) + np.matvec(np.outer(x[0], x[1]), x[2])
                  + np.unstack(np.matrix_transpose(x))[1][0], (X,)),
    "routines": (lambda x: np.sum(np.gradient(x, 0.5, edge_order=2)[1]) + np.sum(np.gradient(x[0]))
                 + np.nanprod(x[0]) + np.sum(np.nancumsum(x, axis=0)) + np.sum(np.copysign(x, -x))
                 + np.sum(np.fmod(x, 0.7)) + np.sum(np.delete(x, 1, axis=1) ** 2)
                 + np.sum(np.block([[x, x[:, :1]], [x[:1], x[:1, :1]]]) ** 3)
                 + np.sum(np.piecewise(x, [x < 0, x > 0.5], [lambda t: t ** 2, np.sin, 1.0]))
                 + np.sum(np.polyfit(onp.linspace(0.0, 1.0, 4), x[0], 2)), (X,)),
    "statistics": (lambda x: np.sum(np.cov(x)) + np.sum(np.corrcoef(x)[1])
                   + np.sum(np.nanvar(x, axis=0)) + np.sum(np.nanstd(x, axis=1, ddof=1))
                   + np.sum(np.vander(x[0], 3)) + np.diagflat(x[0, :2])[0, 0], (X,)),
}

ORDER_STATISTICS = [
    ("quantile", lambda m: m.quantile(X, [0.2, 0.5, 0.95], axis=1, keepdims=True)),
    ("percentile", lambda m: m.percentile(X.ravel(), 37.5)),
    ("median", lambda m: m.median(X[:, :4], axis=0)),
    ("nanmax", lambda m: m.nanmax(onp.where(X > 1.0, onp.nan, X), axis=0)),
    ("nanmin", lambda m: m.nanmin(onp.where(X > 1.0, onp.nan, X))),
    ("interp", lambda m: m.interp(onp.linspace(-3, 3, 13), onp.array([-1.0, 0.0, 0.5, 2.0]),
                                  V[:4], left=-7.0)),
    ("polyval", lambda m: m.polyval(V[:4], X)),
    ("trapezoid", lambda m: m.trapezoid(X, dx=0.3, axis=0)),
    ("gradient", lambda m: m.stack(m.gradient(X, 0.5, 2.0, edge_order=2))),
    ("fmod", lambda m: m.fmod(X * 3.0, -1.3)),
    ("block", lambda m: m.block([[X, X[:, :1]], [X[:1], X[:1, :1]]])),
    ("piecewise", lambda m: m.piecewise(X, [X < 0, X > 0.5], [lambda t: t ** 2, m.sin, 1.0])),
    ("polyfit", lambda m: m.polyfit(onp.linspace(0.0, 1.0, 5), V, 3)),
    ("nancumprod", lambda m: m.nancumprod(onp.where(X > 1.0, onp.nan, X), axis=1)),
    ("cov", lambda m: m.cov(X, V[:4] ** 2)),
    ("corrcoef", lambda m: m.corrcoef(X.T, rowvar=False)),
    ("nanvar", lambda m: m.nanvar(onp.where(X > 1.0, onp.nan, X), axis=1, ddof=1)),
    ("nanstd", lambda m: m.nanstd(onp.where(X > 1.0, onp.nan, X), keepdims=True)),
    ("cumulative_prod", lambda m: m.cumulative_prod(X, axis=0, include_initial=True)),
    ("vecmat", lambda m: m.vecmat(V[:3], X)),
    ("vander", lambda m: m.vander(V, 4, increasing=True)),
    ("lstsq", lambda m: m.concatenate([m.linalg.lstsq(X.T, V[:4], rcond=None)[0],
                                       m.linalg.lstsq(X.T, V[:4], rcond=None)[1],
                                       m.linalg.lstsq(X, V[:3], rcond=None)[0],
                                       m.linalg.lstsq(X, V[:3], rcond=None)[3]])),
]


@pytest.mark.parametrize("name,f", ORDER_STATISTICS, ids=[n for n, _ in ORDER_STATISTICS])
def test_order_statistics_match_numpy(name, f):
    ours, theirs = f(np), f(onp)
    assert onp.shape(ours) == onp.shape(theirs)
    onp.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)


def test_nanmax_of_an_all_nan_slice_is_nan_and_its_gradient_zero():
    x = onp.array([[onp.nan, 1.0], [onp.nan, 3.0]])
    onp.testing.assert_array_equal(np.nanmax(x, axis=0), [onp.nan, 3.0])
    g = cr.grad(lambda x: np.sum(np.nan_to_num(np.nanmax(x, axis=0))))(x)
    onp.testing.assert_array_equal(g, [[0.0, 0.0], [0.0, 1.0]])


@pytest.mark.parametrize("name", sorted(COMPOSITES))
def test_composite(name):
    f, args = COMPOSITES[name]
    cr.check_grads(f, args, order=2)


def test_values_match_numpy():
    onp.testing.assert_allclose(np.pad(X, 1, mode="wrap"), onp.pad(X, 1, mode="wrap"))
    onp.testing.assert_allclose(cr.jvp(lambda x: np.einsum("ij,kj->ik", x, x), (X,), (X,))[0],
                                X @ X.T)
    onp.testing.assert_allclose(sps.logsumexp(X), onp.log(onp.sum(onp.exp(X))))


def test_nan_safe_limits():
    f = lambda x: np.sum(np.where(x > 0, np.sqrt(np.where(x > 0, x, 1.0)), 0.0))  # noqa: E731
    onp.testing.assert_array_equal(cr.grad(f)(onp.array([0.0, 4.0])), [0.0, 0.25])
    g = cr.grad(lambda x: np.sum(np.where(x > 0, np.sqrt(x), 0.0)))(onp.array([0.0, 4.0]))
    onp.testing.assert_array_equal(g, [0.0, 0.25])
    onp.testing.assert_array_equal(cr.grad(np.linalg.norm)(onp.zeros(3)), onp.zeros(3))
    assert cr.grad(lambda x: x ** 2.0)(0.0) == 0.0
    assert cr.grad(np.sinc)(0.0) == 0.0
    assert cr.grad(np.abs)(0.0) == 0.0
    big = onp.array([1000.0, 1000.0])
    onp.testing.assert_allclose(cr.grad(sps.logsumexp)(big), [0.5, 0.5])
    assert cr.grad(lambda x: sps.xlogy(x, x))(0.0) == 0.0


def test_functional_updates():
    x = onp.array([1.0, 2.0, 3.0])
    g = cr.grad(lambda x: np.sum(np.at(x)[1].set(x[0] ** 2) * x))(x)
    onp.testing.assert_allclose(g, [2 + 2 * 2, 1.0, 6.0])  # x0² + x0²·x1 + x2²
    g = cr.grad(lambda x: np.sum(np.at(x)[[0, 0, 2]].add(x[1]) ** 2))(x)
    y = x.copy()
    onp.add.at(y, [0, 0, 2], x[1])
    onp.testing.assert_allclose(g, [2 * y[0], 2 * y[1] + 2 * (2 * y[0] + y[2]), 2 * y[2]])
    with pytest.raises(TypeError, match=r"at\(x\)\[i\]\.set"):
        cr.grad(lambda x: x.__setitem__(0, 1.0))(x)


def test_indexing_vjp_accumulates_repeated_indices():
    g = cr.grad(lambda x: np.sum(x[onp.array([0, 0, 1])]))(onp.zeros(3))
    onp.testing.assert_array_equal(g, [2.0, 1.0, 0.0])


def test_numpy_linalg_routes_to_chainrule():
    a = R.standard_normal((3, 3)) + 3 * onp.eye(3)
    g = cr.grad(lambda a: onp.linalg.slogdet(a)[1])(a)
    onp.testing.assert_allclose(g, onp.linalg.inv(a).T)
    cr.check_grads(lambda x: onp.sum(onp.fft.rfft(x).real), (V,), order=1)


SCALAR_CALLS = [(0.5,), (0.5, 2.0), (2,), (2, 3), (1.5 + 0.5j,)]


def _takes_scalars(name):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for args in SCALAR_CALLS:
            try:
                getattr(onp, name)(*args)
                return True
            except (TypeError, ValueError):
                pass
    return False


UFUNC_NAMES = sorted(n for n in dir(onp) if isinstance(getattr(onp, n), onp.ufunc)
                     and hasattr(np, n) and _takes_scalars(n))


@pytest.mark.parametrize("name", UFUNC_NAMES)
def test_ufuncs_on_python_scalars_return_numpy_scalars(name):
    """np.square(2.0).sum() works as in NumPy: same result type, dtype and value."""
    import warnings

    checked = 0
    for args in SCALAR_CALLS:
        if name == "reciprocal" and type(args[0]) is int:
            continue  # NumPy's integer reciprocal truncates (1/2 = 0); chainrule's is 1/x
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                ref = getattr(onp, name)(*args)
            except (TypeError, ValueError):
                continue
            ours = getattr(np, name)(*args)
        ours, ref = (ours, ref) if isinstance(ref, tuple) else ((ours,), (ref,))
        for o, r in zip(ours, ref, strict=True):
            assert type(o) is type(r), (args, type(o), type(r))
            assert o.dtype == r.dtype, (args, o.dtype, r.dtype)
            onp.testing.assert_allclose(o, r, equal_nan=True)
        checked += 1
    assert checked


def test_tuple_results_as_numpy_2():
    a, b = np.atleast_1d(0.5, onp.ones(2))
    assert isinstance(np.atleast_2d(1.0, 2.0), tuple) and isinstance(np.meshgrid(V, V), tuple)
    x, y = np.broadcast_arrays(0.5, onp.ones(3))
    assert type(x) is type(y) is onp.ndarray and x.shape == y.shape == (3,)
    assert np.square(2.0).sum() == 4.0 and np.dot(2.0, 3.0).dtype == onp.float64
