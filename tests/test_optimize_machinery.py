"""The shared machinery: line searches (the Wolfe conditions hold), trust-region
subproblem solvers (the Moré–Sorensen optimality conditions hold; Lanczos and
Steihaug–Toint agree with the exact solution where they must), modified Cholesky,
scipy_objective, pytree flattening, the compiled-program cache."""

import gc
import math
import weakref

import numpy as onp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import chainrule.numpy as np
from chainrule.optimize import scipy_objective
from chainrule.optimize.linesearch import LineSearchFailed, backtracking, strong_wolfe
from chainrule.optimize.newton import modified_cholesky_solve
from chainrule.optimize.objective import Objective
from chainrule.optimize.trust_region import (
    EigenModel,
    _indefinite_direction,
    _InteriorNewton,
    exact_tr,
    lanczos_tr,
    more_sorensen,
    steihaug_cg,
)

scipy_optimize = pytest.importorskip("scipy.optimize")


def _phi(a0, a1, a2, a3):
    """A smooth 1-D function with a descent start: φ(α) = a0 − α + a1 α² + a2 sin(a3 α)."""
    def phi(a):
        return (a0 - a + a1 * a * a + a2 * math.sin(a3 * a),
                -1.0 + 2 * a1 * a + a2 * a3 * math.cos(a3 * a), None)
    return phi


@settings(max_examples=60, deadline=None)
@given(st.floats(-5, 5), st.floats(0.05, 5), st.floats(-0.2, 0.2), st.floats(0.1, 3),
       st.floats(1e-3, 10))
def test_strong_wolfe_conditions_hold(a0, a1, a2, a3, alpha0):
    phi = _phi(a0, a1, a2, a3)
    f0, d0, _ = phi(0.0)
    if d0 >= 0:
        return
    c1, c2 = 1e-4, 0.9
    a, f, d, _ = strong_wolfe(phi, f0, d0, alpha0, c1, c2)
    assert f <= f0 + c1 * a * d0 + 1e-12
    assert abs(d) <= -c2 * d0 + 1e-12


def test_strong_wolfe_is_exact_on_a_quadratic_after_one_interpolation():
    calls = []

    def phi(a):
        calls.append(a)
        return 3.0 * (a - 0.37) ** 2, 6.0 * (a - 0.37), None

    a, *_ = strong_wolfe(phi, 3 * 0.37 ** 2, -6 * 0.37, 1.0, c2=1e-9)
    assert a == pytest.approx(0.37, abs=1e-14) and len(calls) == 2


def test_backtracking_armijo_and_failure():
    a, f = backtracking(lambda a: (a - 0.1) ** 2, 0.01, -0.2, 1.0)
    assert f <= 0.01 - 1e-4 * a * 0.2
    with pytest.raises(LineSearchFailed, match="not a descent direction"):
        backtracking(lambda a: a, 0.0, 1.0, 1.0)
    with pytest.raises(LineSearchFailed, match="no sufficient decrease"):
        backtracking(lambda a: 1.0, 0.0, -1.0, 1.0, maxiter=5)


def _random_tr(seed, n):
    rng = onp.random.default_rng(seed)
    M = rng.normal(size=(n, n))
    return rng.normal(size=n), 0.5 * (M + M.T), float(rng.uniform(0.1, 3.0))


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10 ** 6), st.integers(1, 8))
def test_exact_trust_region_solution_satisfies_more_sorensen(seed, n):
    g, B, radius = _random_tr(seed, n)
    p, m, hits = exact_tr(g, B, radius)
    norm = onp.linalg.norm(p)
    assert norm <= radius * (1 + 1e-8)
    assert m == pytest.approx(g @ p + 0.5 * p @ B @ p, abs=1e-10)
    # (B + λI)p = −g with λ ≥ 0 and B + λI positive semi-definite
    lam = -(p @ (B @ p + g)) / (p @ p) if norm > 0 else 0.0
    assert lam >= -1e-8 * (1 + onp.abs(B).max())
    onp.testing.assert_allclose(B @ p + lam * p, -g, atol=1e-6 * (1 + onp.abs(g).max()))
    assert onp.linalg.eigvalsh(B + lam * onp.eye(n))[0] >= -1e-6 * (1 + onp.abs(B).max())
    # no feasible point does better (random samples of the ball)
    rng = onp.random.default_rng(seed + 1)
    for _ in range(50):
        q = rng.normal(size=n)
        q *= radius * rng.uniform() ** (1 / n) / onp.linalg.norm(q)
        assert g @ q + 0.5 * q @ B @ q >= m - 1e-9


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10 ** 6), st.integers(1, 8))
def test_lanczos_with_full_space_matches_the_exact_solution(seed, n):
    g, B, radius = _random_tr(seed, n)
    p_exact, m_exact, _ = exact_tr(g, B, radius)
    p, m, _ = lanczos_tr(g, lambda v: B @ v, radius, tol=1e-12)
    # the Krylov space of g may miss directions g is orthogonal to: never worse than the
    # Cauchy point, equal to the exact model value when the space is the whole space
    assert m <= 1e-12 and onp.linalg.norm(p) <= radius * (1 + 1e-8)
    assert m == pytest.approx(m_exact, rel=1e-6, abs=1e-9) or m > m_exact


def test_steihaug_interior_is_the_newton_step_and_boundary_is_respected():
    B = onp.diag([1.0, 2.0, 4.0])
    g = onp.array([1.0, 1.0, 1.0])
    p, m, hits = steihaug_cg(g, lambda v: B @ v, 10.0, 1e-12)
    onp.testing.assert_allclose(p, -onp.linalg.solve(B, g), atol=1e-12)
    assert not hits
    p, m, hits = steihaug_cg(g, lambda v: B @ v, 0.5, 1e-12)
    assert hits and onp.linalg.norm(p) == pytest.approx(0.5)
    p, m, hits = steihaug_cg(g, lambda v: -B @ v, 0.5, 1e-12)   # negative curvature
    assert hits and onp.linalg.norm(p) == pytest.approx(0.5) and m < 0


def test_modified_cholesky_gives_descent_directions():
    rng = onp.random.default_rng(5)
    for _ in range(20):
        M = rng.normal(size=(4, 4))
        H = M + M.T
        g = rng.normal(size=4)
        p, tau = modified_cholesky_solve(H, g)
        assert g @ p < 0
        onp.testing.assert_allclose((H + tau * onp.eye(4)) @ p, -g, atol=1e-8)
        if onp.linalg.eigvalsh(H)[0] > 0:
            assert tau == 0.0


def rosen(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def test_scipy_objective_shares_the_pass_and_is_exact():
    obj = scipy_objective(rosen)
    x = onp.array([-1.2, 1.0, 0.5])
    assert obj.fun(x) == pytest.approx(scipy_optimize.rosen(x))
    onp.testing.assert_allclose(obj.jac(x), scipy_optimize.rosen_der(x), rtol=1e-13)
    assert obj.passes == 1
    onp.testing.assert_allclose(obj.hess(x), scipy_optimize.rosen_hess(x), rtol=1e-13)
    v = onp.array([0.3, -1.0, 2.0])
    onp.testing.assert_allclose(obj.hessp(x, v), scipy_optimize.rosen_hess_prod(x, v),
                                rtol=1e-13)
    for method in ("BFGS", "trust-krylov", "Newton-CG"):
        kw = {"hessp": obj.hessp} if method != "BFGS" else {}
        r = scipy_optimize.minimize(obj.fun, x, jac=obj.jac, method=method, **kw)
        onp.testing.assert_allclose(r.x, onp.ones(3), atol=1e-4)


def test_scipy_objective_with_args():
    obj = scipy_objective(lambda x, a: np.sum((x - a) ** 2))
    r = scipy_optimize.minimize(obj.fun, onp.zeros(2), args=(onp.array([1.0, 2.0]),),
                                jac=obj.jac, method="BFGS")
    onp.testing.assert_allclose(r.x, [1.0, 2.0], atol=1e-6)


def test_objective_flattens_pytrees_once_and_counts():
    def f(p):
        return np.sum(p["a"] ** 2) + np.sum(p["b"][0] * p["b"][1])

    x0 = {"a": onp.ones((2, 2)), "b": [onp.array(2.0), onp.array([1.0, 3.0])]}
    obj = Objective(f, x0)
    assert obj.n == 7 and obj.flat.x.tolist() == [1, 1, 1, 1, 2, 1, 3]
    value, g = obj.value_and_grad(obj.flat.x)
    assert value == 4 + 8 and g.tolist() == [2, 2, 2, 2, 4, 2, 2]
    hv = obj.hessp(obj.flat.x, onp.eye(7)[4])
    assert hv.tolist() == [0, 0, 0, 0, 0, 1, 1]
    assert (obj.nfev, obj.njev, obj.nhev) == (1, 1, 1)
    assert obj.flat.unravel(obj.flat.x)["b"][1].tolist() == [1.0, 3.0]


def test_compiled_programs_are_kept_with_the_function_and_released_with_it():
    from chainrule.optimize import minimize
    from chainrule.optimize.objective import _PROGRAMS

    def make():
        def f(x):
            return np.sum((x - 3.0) ** 2)
        return f

    f = make()
    minimize(f, onp.zeros(3))
    progs = next(iter(_PROGRAMS[f].values()))
    minimize(f, onp.ones(3))            # same layout: the same compiled programs
    assert len(_PROGRAMS[f]) == 1 and next(iter(_PROGRAMS[f].values())) is progs
    ref = weakref.ref(f)
    del f, progs
    gc.collect()
    assert ref() is None


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10 ** 6), st.integers(1, 8))
def test_lanczos_interior_factorisation_agrees_with_the_eigen_solution(seed, n):
    # the fast path (LDLᵀ extended one pivot per step) against the plain one (EigenModel
    # on the same tridiagonal): same definiteness, same Newton point
    rng = onp.random.default_rng(seed)
    alphas, betas = rng.uniform(-1.0, 3.0, n), rng.uniform(0.1, 1.0, n)
    gnorm = rng.uniform(0.1, 2.0)
    fast = _InteriorNewton(gnorm)
    for k in range(n):
        definite = fast.extend(alphas[k], betas[k - 1] if k else 0.0)
        T = onp.diag(alphas[:k + 1]) + onp.diag(betas[:k], 1) + onp.diag(betas[:k], -1)
        eig = EigenModel(T)
        assert definite == (eig.lam[0] > 0.0) or abs(eig.lam[0]) < 1e-12
        if not definite:
            break
        h = fast.solution()
        e1 = onp.eye(k + 1)[0]
        onp.testing.assert_allclose(T @ h, -gnorm * e1, atol=1e-9 * (1 + onp.abs(h).max()))
        p, m, hits = eig.solve(gnorm * e1, 2.0 * onp.linalg.norm(h) + 1.0)
        onp.testing.assert_allclose(p, h, rtol=1e-7, atol=1e-9)
        assert not hits and m == pytest.approx(0.5 * gnorm * h[0], rel=1e-9)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10 ** 6), st.integers(1, 8))
def test_more_sorensen_is_within_its_tolerances_of_the_exact_solution(seed, n):
    g, B, radius = _random_tr(seed, n)
    p_exact, m_exact, _ = exact_tr(g, B, radius)
    p, m, hits, lam_lo = more_sorensen(g, B, radius)
    norm = onp.linalg.norm(p)
    assert m == pytest.approx(g @ p + 0.5 * p @ B @ p, abs=1e-10)
    assert norm <= radius * (1.1 + 1e-12)                  # σ₁ = 0.1
    _, m_wider, _ = exact_tr(g, B, 1.1 * radius)
    assert m >= m_wider - 1e-9                              # no better than Δ allows
    assert m <= 0.6 * m_exact + 1e-12                       # a fair share of the best
    # λ_L is a lower bound on the exact solution's λ, (B + λI)p = −g
    q = p_exact
    lam_exact = -(q @ (B @ q + g)) / (q @ q) if q @ q > 0 else 0.0
    assert lam_lo <= lam_exact + 1e-8 * (1 + abs(lam_exact))


def test_indefinite_direction_bounds_the_smallest_eigenvalue():
    rng = onp.random.default_rng(3)
    for _ in range(20):
        M = rng.normal(size=(6, 6))
        A = 0.5 * (M + M.T)
        if onp.linalg.eigvalsh(A)[0] > 0:
            continue
        delta, v = _indefinite_direction(A)
        assert delta >= 0 and v @ A @ v == pytest.approx(-delta, abs=1e-9)
        assert onp.linalg.eigvalsh(A)[0] <= -delta / (v @ v) + 1e-12
