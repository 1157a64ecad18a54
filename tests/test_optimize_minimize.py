"""chainrule.optimize.minimize: every method on convex quadratics and Rosenbrock, pytree
parameters, bounds, each stopping rule, callbacks, progress, user derivatives, bad
input; results against closed forms and SciPy."""

import math

import numpy as onp
import pytest

import chainrule.numpy as np
from chainrule.optimize import METHODS, minimize
from chainrule.optimize.mgh import PROBLEMS

RNG = onp.random.default_rng(7)
N = 5
_M = RNG.normal(size=(N, N))
A = _M @ _M.T + N * onp.eye(N)          # SPD, condition number ~ 10
B = RNG.normal(size=N)
X_STAR = onp.linalg.solve(A, B)


def quadratic(x):
    return 0.5 * x @ (A @ x) - B @ x


def rosen(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


FIRST_ORDER_OPTIONS = {
    "momentum": {"learning_rate": 0.02, "beta": 0.5},
    "nesterov": {"learning_rate": 0.02, "beta": 0.5},
    "adam": {"learning_rate": 0.05, "maxiter": 20000},
}


@pytest.mark.parametrize("method", list(METHODS))
def test_every_method_solves_a_convex_quadratic(method):
    opts = dict(FIRST_ORDER_OPTIONS.get(method, {}), gtol=1e-7)
    r = minimize(quadratic, onp.zeros(N), method=method, options=opts)
    assert r.success, r.message
    onp.testing.assert_allclose(r.x, X_STAR, atol=1e-6)
    assert r.fun == pytest.approx(-0.5 * B @ X_STAR, abs=1e-10)
    assert len(r.history) == r.nit + 1
    assert r.message.split(":")[0] == ("ftol" if method == "l-bfgs-b" else "gtol")


@pytest.mark.parametrize("beta", ["pr+", "fr"])
def test_cg_with_exact_line_search_is_exact_in_n_steps(beta):
    r = minimize(quadratic, onp.zeros(N), method="cg",
                 options={"beta": beta, "c2": 1e-10, "gtol": 1e-9})
    assert r.success and r.nit <= N
    onp.testing.assert_allclose(r.x, X_STAR, atol=1e-9)


def _iterations_to(method, tol, **options):
    errors = []
    r = minimize(rosen, onp.array([-1.2, 1.0]), method=method,
                 callback=lambda x: errors.append(onp.linalg.norm(x - 1.0)), options=options)
    r.errors = errors
    return next((k + 1 for k, e in enumerate(errors) if e <= tol), None), r


def test_rosenbrock_newton_and_bfgs_reach_1e10_within_the_targets():
    k, r = _iterations_to("newton", 1e-10, gtol=1e-12)
    assert k is not None and k <= 25, (k, r.message)
    k, r = _iterations_to("bfgs", 1e-10, gtol=1e-12)
    assert k is not None and k <= 40, (k, r.message)


def test_newton_converges_quadratically_and_bfgs_superlinearly():
    for method, order in (("newton", 1.8), ("bfgs", 1.0)):
        _, r = _iterations_to(method, 0.0, gtol=1e-13)
        e = [v for v in r.errors if 1e-12 < v < 1e-2]
        rates = [math.log(e[i + 1]) / math.log(e[i]) for i in range(len(e) - 1)]
        assert max(rates) > order, (method, rates)


@pytest.mark.parametrize("method, opts", [
    ("cg", {}), ("bfgs", {}), ("l-bfgs-b", {}), ("newton", {}), ("newton-cg", {}),
    ("trust-ncg", {}), ("trust-krylov", {}), ("trust-exact", {}),
    ("gd", {"gtol": 1e-3}), ("momentum", {"learning_rate": 1e-3, "gtol": 1e-3}),
    ("nesterov", {"learning_rate": 1e-3, "gtol": 1e-3}),
    ("adam", {"learning_rate": 2e-2, "gtol": 1e-3}), ("coordinate", {"gtol": 1e-3}),
])
def test_every_method_solves_rosenbrock(method, opts):
    r = minimize(rosen, onp.array([-1.2, 1.0]), method=method,
                 options=dict(opts, maxiter=20000))
    assert r.success, r.message
    onp.testing.assert_allclose(r.x, [1.0, 1.0], atol=1e-2 if "gtol" in opts else 1e-4)


@pytest.mark.parametrize("method", ["bfgs", "trust-ncg", "newton", "l-bfgs-b", "adam"])
def test_pytree_parameters_keep_their_structure(method):
    target = {"w": onp.array([[1.0, -2.0], [0.5, 3.0]]), "b": onp.array(0.25)}

    def loss(p, scale):
        return scale * (np.sum((p["w"] - target["w"]) ** 2) + (p["b"] - target["b"]) ** 2
                        + 0.1 * np.sum(p["w"]) * p["b"])

    x0 = {"w": onp.zeros((2, 2)), "b": onp.array(0.0)}
    opts = {"learning_rate": 0.05, "maxiter": 20000} if method == "adam" else {}
    r = minimize(loss, x0, args=(2.0,), method=method, options=dict(opts, gtol=1e-8))
    assert set(r.x) == {"w", "b"} and r.x["w"].shape == (2, 2) and r.jac["w"].shape == (2, 2)
    flat = minimize(lambda v: loss({"w": v[:4].reshape(2, 2), "b": v[4]}, 2.0), onp.zeros(5),
                    method="newton", options={"gtol": 1e-12})
    onp.testing.assert_allclose(r.x["w"].ravel(), flat.x[:4], atol=1e-6)
    assert float(r.x["b"]) == pytest.approx(flat.x[4], abs=1e-6)


def test_a_list_of_numbers_is_a_vector_as_in_scipy():
    r = minimize(rosen, [-1.2, 1], method="newton")
    assert isinstance(r.x, onp.ndarray) and r.x.shape == (2,)
    onp.testing.assert_allclose(r.x, [1.0, 1.0])


def test_bounds_by_projection_match_scipy():
    from scipy.optimize import minimize as scipy_minimize

    bounds = [(-1.0, 0.5), (None, 0.2), (0.0, 2.0)]

    def f(x):
        return np.sum((x - onp.array([1.0, 1.0, -1.0])) ** 2) + x[0] * x[1]

    r = minimize(f, onp.array([0.0, 0.0, 1.0]), method="L-BFGS-B", bounds=bounds)
    ref = scipy_minimize(lambda x: float(f(x)), onp.array([0.0, 0.0, 1.0]), method="L-BFGS-B",
                         bounds=bounds)
    assert r.success, r.message
    onp.testing.assert_allclose(r.x, ref.x, atol=1e-6)
    onp.testing.assert_allclose(r.x, [0.5, 0.2, 0.0], atol=1e-9)


def test_bounds_errors():
    with pytest.raises(ValueError, match="bounds are supported by method 'l-bfgs-b' only"):
        minimize(rosen, onp.zeros(2), method="bfgs", bounds=[(0, 1), (0, 1)])
    with pytest.raises(ValueError, match="lower > upper at index 1"):
        minimize(rosen, onp.zeros(2), method="lbfgs", bounds=[(0, 1), (2, 1)])
    with pytest.raises(ValueError, match="must be 2 \\(low, high\\) pairs"):
        minimize(rosen, onp.zeros(2), method="lbfgs", bounds=[(0, 1)])


def test_stopping_rules_are_named_in_the_message():
    x0 = onp.array([-1.2, 1.0])
    r = minimize(rosen, x0, method="bfgs", options={"maxiter": 3})
    assert (r.status, r.nit, r.success) == (1, 3, False)
    assert r.message == "maxiter: 3 iterations reached"
    r = minimize(rosen, x0, method="bfgs", options={"maxfev": 10})
    assert r.status == 1 and r.message.startswith("maxfev") and 10 <= r.nfev < 14
    r = minimize(rosen, x0, method="gd", options={"ftol": 1e-3})
    assert r.success and r.message.startswith("ftol")
    r = minimize(rosen, x0, method="newton", options={"xtol": 1e-3, "gtol": 1e-30})
    assert r.success and r.message.startswith("xtol")
    r = minimize(rosen, x0, method="l-bfgs-b")
    assert r.success and r.message.split(":")[0] in ("gtol", "ftol")
    r = minimize(quadratic, onp.zeros(N), method="trust-ncg", tol=1e-3)
    assert r.message.startswith("gtol: |g|_2") and "1.0e-03" in r.message


@pytest.mark.filterwarnings("ignore:invalid value encountered in log")
def test_non_finite_value_stops_with_status_3():
    r = minimize(lambda x: np.sum(x ** 2) - np.log(1.0 - x[0]), onp.array([0.99, 0.0]),
                 method="momentum", options={"learning_rate": 1.0})
    assert r.status == 3 and r.message.startswith("non-finite value")


def test_callbacks_scipy_style_and_stop_iteration():
    seen = []

    def cb(intermediate_result):
        seen.append((intermediate_result.nit, intermediate_result.fun))
        if intermediate_result.nit == 4:
            raise StopIteration

    r = minimize(rosen, onp.array([-1.2, 1.0]), method="bfgs", callback=cb)
    assert r.status == 4 and r.nit == 4 and [s[0] for s in seen] == [1, 2, 3, 4]
    assert seen[-1][1] == r.fun
    xs = []
    minimize(lambda p: np.sum((p["a"] - 1.0) ** 2), {"a": onp.zeros(2)}, method="bfgs",
             callback=xs.append)
    assert isinstance(xs[0], dict) and xs[0]["a"].shape == (2,)


def test_progress_prints_the_stopping_message(capsys):
    minimize(rosen, onp.array([-1.2, 1.0]), method="bfgs", progress=True)
    err = capsys.readouterr().err
    assert "bfgs: gtol" in err


def test_progress_without_tqdm_prints_a_line_every_10_iterations(capsys, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "tqdm.auto", None)   # import fails: plain lines
    r = minimize(rosen, onp.array([-1.2, 1.0]), method="bfgs", progress=True)
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == r.nit // 10 + 1
    assert lines[0].startswith("bfgs iter     10  f = ") and "|g| = " in lines[0]
    assert lines[-1].startswith("bfgs: gtol")


def test_history_records_step_radius_and_time():
    r = minimize(rosen, onp.array([-1.2, 1.0]), method="trust-exact")
    h = r.history.as_arrays()
    assert h["f"][0] == pytest.approx(24.2) and h["f"][-1] == r.fun
    assert onp.all(h["radius"] > 0) and onp.all(onp.diff(h["time"]) >= 0)
    assert onp.all(onp.diff(h["f"]) <= 1e-12)   # trust regions never accept an increase
    r = minimize(rosen, onp.array([-1.2, 1.0]), method="bfgs")
    assert onp.isnan(r.history.radius).all() and (r.history.as_arrays()["step"][1:] > 0).all()
    assert r.hess_inv.shape == (2, 2)
    onp.testing.assert_allclose(r.hess_inv, onp.linalg.inv(
        onp.array([[802.0, -400.0], [-400.0, 200.0]])), rtol=0.1)


def test_user_supplied_derivatives_are_used():
    calls = {"jac": 0, "hess": 0, "hessp": 0}

    def jac(x):
        calls["jac"] += 1
        return A @ x - B

    def hess(x):
        calls["hess"] += 1
        return A

    def hessp(x, p):
        calls["hessp"] += 1
        return A @ p

    r = minimize(quadratic, onp.zeros(N), method="bfgs", jac=jac)
    assert calls["jac"] == r.njev > 0
    r = minimize(quadratic, onp.zeros(N), method="newton", jac=jac, hess=hess)
    assert calls["hess"] == r.nhev > 0
    r = minimize(quadratic, onp.zeros(N), method="trust-ncg", jac=jac, hessp=hessp)
    assert calls["hessp"] == r.nhev > 0
    onp.testing.assert_allclose(r.x, X_STAR, atol=1e-5)
    r = minimize(lambda x: (quadratic(x), A @ x - B), onp.zeros(N), method="cg", jac=True)
    onp.testing.assert_allclose(r.x, X_STAR, atol=1e-5)


def test_compiled_and_eager_derivatives_agree():
    """The jit-compiled programs (the fast path) against the eager transformations."""
    from chainrule.optimize.objective import Objective

    fast, plain = Objective(rosen, onp.zeros(6)), Objective(rosen, onp.zeros(6), jit=False)
    rng = onp.random.default_rng(1)
    for _ in range(5):
        x, v = rng.normal(size=6), rng.normal(size=6)
        for a, b in ((fast.value_and_grad(x)[1], plain.value_and_grad(x)[1]),
                     (fast.hessp(x, v), plain.hessp(x, v)), (fast.hess(x), plain.hess(x)),
                     (fast.partial(x, 2), plain.partial(x, 2)), (fast.fun(x), plain.fun(x))):
            onp.testing.assert_allclose(a, b, rtol=1e-12)


@pytest.mark.parametrize("method", ["bfgs", "newton", "trust-krylov"])
def test_compiled_and_eager_runs_reach_the_same_minimiser(method):
    fast = minimize(rosen, onp.array([-1.2, 1.0]), method=method)
    plain = minimize(rosen, onp.array([-1.2, 1.0]), method=method, options={"jit": False})
    assert fast.success and plain.success and abs(fast.nit - plain.nit) <= 2
    onp.testing.assert_allclose(fast.x, plain.x, atol=1e-5)


def test_value_dependent_python_branch_runs_eagerly():
    def f(x):
        if x[0] > 0.0:                      # not stageable by jit: minimize falls back
            return np.sum((x - 2.0) ** 2)
        return np.sum((x - 2.0) ** 2) + 1.0

    r = minimize(f, onp.array([1.0, 0.0]), method="bfgs")
    onp.testing.assert_allclose(r.x, [2.0, 2.0], atol=1e-6)


@pytest.mark.parametrize("name", ["beale", "helical_valley", "bard", "watson"])
@pytest.mark.parametrize("method", ["bfgs", "trust-exact", "newton-cg"])
def test_mgh_problems_reach_the_published_minimum(name, method):
    p = PROBLEMS[name]
    r = minimize(p.f, p.start(), method=method)
    assert p.solved(r.fun), (r.fun, p.f_star, r.message)


@pytest.mark.parametrize("call, error, match", [
    (lambda: minimize(lambda x: x ** 2, onp.ones(3)), ValueError,
     "fun must return a scalar, got an array of shape \\(3,\\)"),
    (lambda: minimize(rosen, onp.array([1.0, onp.nan])), ValueError,
     "x0 contains NaN or inf \\(1 entries, the first at flat index 1\\)"),
    (lambda: minimize(rosen, onp.zeros(2), method="simplex"), ValueError,
     "unknown method 'simplex'; choose one of gd, momentum, nesterov, adam, cg"),
    (lambda: minimize(rosen, onp.zeros(2), method="bfgs", options={"lr": 1}), TypeError,
     "unknown option\\(s\\) lr; this method takes gtol"),
    (lambda: minimize(rosen, onp.zeros(2), options={"maxiter": -1}), ValueError,
     "maxiter must be an integer"),
    (lambda: minimize(rosen, {}), ValueError, "x0 has no arrays"),
    (lambda: minimize(rosen, onp.array([1j, 2.0])), TypeError, "must hold real numbers"),
    (lambda: minimize("rosen", onp.zeros(2)), TypeError, "fun must be callable"),
    (lambda: minimize(rosen, onp.zeros(2), jac="2-point"), TypeError, "jac must be None"),
])
def test_bad_input_gets_a_clear_error(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_method_names_are_case_insensitive_with_scipy_spellings():
    for name in ("BFGS", "L-BFGS-B", "lbfgs", "Newton-CG", "trust_ncg", "TRUST-KRYLOV",
                 "trust-exact", "CG"):
        r = minimize(quadratic, onp.zeros(N), method=name)
        assert r.success, (name, r.message)


def test_hess_for_a_first_order_method_warns():
    with pytest.warns(RuntimeWarning, match="uses no Hessian"):
        minimize(quadratic, onp.zeros(N), method="bfgs", hess=lambda x: A)
