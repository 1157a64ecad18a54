"""The spectral ETDRK4 reference solver and the Gauss–Legendre tableaux."""

import numpy as onp
import pytest

from chainrule.pde import AllenCahn, etdrk4_coefficients, gauss_legendre, reference_solution


def rel(a, b):
    return float(onp.linalg.norm(a - b) / onp.linalg.norm(b))


def test_grid_and_initial_condition():
    x, t, u = reference_solution([0.0], n=512, dt=1e-3)
    assert x[0] == -1.0 and x[1] - x[0] == pytest.approx(1 / 256) and len(x) == 512
    onp.testing.assert_allclose(u[0], x**2 * onp.cos(onp.pi * x), atol=1e-15)


def test_etdrk4_coefficients_match_closed_forms_and_small_z_limits():
    z = onp.array([-3.0, -0.5, 1.5])
    h = 0.1
    E, E2, Q, f1, f2, f3 = etdrk4_coefficients(z, h)
    ez = onp.exp(z)
    onp.testing.assert_allclose(Q, h * (onp.exp(z / 2) - 1) / z, rtol=1e-13)
    onp.testing.assert_allclose(f1, h * (-4 - z + ez * (4 - 3 * z + z**2)) / z**3, rtol=1e-12)
    onp.testing.assert_allclose(f2, h * (2 + z + ez * (z - 2)) / z**3, rtol=1e-12)
    onp.testing.assert_allclose(f3, h * (-4 - 3 * z - z**2 + ez * (4 - z)) / z**3, rtol=1e-12)
    # at z -> 0 the closed forms cancel; the contour mean gives the limits h/2, h/6, h/6, h/6
    _, _, Q0, g1, g2, g3 = etdrk4_coefficients(onp.array([0.0, 1e-9]), h)
    onp.testing.assert_allclose(Q0, h / 2, rtol=1e-8)
    for f in (g1, g2, g3):
        onp.testing.assert_allclose(f, h / 6, rtol=1e-8)


def test_reaction_only_matches_the_logistic_closed_form():
    """Spatially constant data: u' = a u − a u³ has u = c e^{at} / sqrt(1 − c² + c² e^{2at})."""
    eq = AllenCahn()
    c, t = 0.3, onp.array([0.2, 1.0])
    u = eq.solve(t, n=16, dt=1e-3, u0=onp.full(16, c))
    exact = c * onp.exp(5 * t) / onp.sqrt(1 - c**2 + c**2 * onp.exp(10 * t))
    onp.testing.assert_allclose(u, exact[:, None] * onp.ones(16), rtol=1e-11)


def test_diffusion_only_is_exact():
    eq = AllenCahn(eps=0.01, a=0.0)
    x = eq.grid(32)
    u = eq.solve([0.5], n=32, dt=0.1, u0=onp.cos(3 * onp.pi * x))
    exact = onp.exp(-0.01 * 9 * onp.pi**2 * 0.5) * onp.cos(3 * onp.pi * x)
    onp.testing.assert_allclose(u[0], exact,
                                atol=1e-14)


def test_time_step_convergence_fourth_order_and_below_1e10():
    eq = AllenCahn()
    t = onp.array([0.5, 1.0])
    fine = eq.solve(t, dt=2.5e-4)
    e2, e1 = (rel(eq.solve(t, dt=dt), fine) for dt in (2e-3, 1e-3))
    assert e1 <= 1e-10  # the yardstick requirement
    assert 10 < e2 / e1 < 24  # fourth order: 2^4 = 16


def test_grid_refinement_converges_at_late_times():
    eq = AllenCahn()
    t = onp.array([0.9])
    ref = eq.solve(t, n=2048, dt=1e-3)[0]
    errs = [rel(eq.solve(t, n=n, dt=1e-3)[0], ref[:: 2048 // n]) for n in (256, 512, 1024)]
    assert errs[0] > 100 * errs[1] and errs[1] > 2 * errs[2]  # 7.5e-6, 3.4e-9, 4.3e-10
    assert errs[1] < 1e-8


def test_bad_times_are_rejected():
    with pytest.raises(ValueError, match="multiples of dt"):
        AllenCahn().solve([0.0, 0.0015], dt=1e-3)


@pytest.mark.parametrize("q", [1, 2, 3, 7, 32, 100])
def test_gauss_legendre_order_conditions(q):
    A, b, c = gauss_legendre(q)
    tol = 1e-14 * max(1, q)
    onp.testing.assert_allclose(A.sum(axis=1), c, atol=tol)  # row sums
    assert onp.all(onp.diff(c) > 0) and 0 < c[0] and c[-1] < 1
    k = onp.arange(1, 2 * q + 1)
    onp.testing.assert_allclose((b * c ** (k[:, None] - 1)).sum(axis=1), 1 / k, atol=tol)  # B(2q)
    for j in range(1, q + 1):  # C(q)
        onp.testing.assert_allclose(A @ c ** (j - 1), c**j / j, atol=tol)
    for j in range(1, q + 1):  # D(q): Σ_i b_i c_i^{j-1} a_ij = b_j (1 − c_j^j) / j
        onp.testing.assert_allclose((b * c ** (j - 1)) @ A, b * (1 - c**j) / j, atol=tol)


def test_gauss_legendre_stability_function_is_the_diagonal_pade_approximant():
    """R(z) = 1 + z bᵀ(I − zA)⁻¹1 is exp(z) to O(z^{2q+1}) and |R(iy)| = 1 (A-stable, symmetric)."""
    A, b, c = gauss_legendre(3)
    R = lambda z: 1 + z * b @ onp.linalg.solve(onp.eye(3) - z * A, onp.ones(3))
    for z in (0.1, 0.05):
        assert abs(R(z) - onp.exp(z)) < 2 * z**7 / 100800  # Padé(3,3) error constant 1/100800
    assert abs(abs(R(5j)) - 1) < 1e-13
    assert abs(R(-1e6)) < 1.0 + 1e-9


def test_gauss_legendre_integrates_an_ode_at_order_2q():
    """One step of y' = −y from y(0) = 1 with the implicit stages solved exactly."""
    for q, h in ((2, 0.5), (4, 1.0)):
        A, b, c = gauss_legendre(q)
        k = onp.linalg.solve(onp.eye(q) + h * A, -onp.ones(q))
        y1 = 1 + h * b @ k
        assert abs(y1 - onp.exp(-h)) < h ** (2 * q + 1)


def test_gauss_legendre_rejects_bad_q():
    with pytest.raises(ValueError, match="positive integer"):
        gauss_legendre(0)
