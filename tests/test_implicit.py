"""Implicit differentiation (custom_root, custom_linear_solve, fixed_point): derivatives by
the implicit function theorem against closed forms, finite differences and differentiating
the unrolled iteration (forward, reverse, second order)."""

import numpy as onp
import pytest

import chainrule as cr
import chainrule.numpy as np


def newton(f, x):
    for _ in range(40):
        x = x - f(x) / (2.0 * x)
    return x


def sqrt_implicit(a):
    return cr.custom_root(lambda x: x * x - a, 1.0, newton, lambda g, y: y / g(1.0))


def sqrt_unrolled(a):
    x = 1.0
    for _ in range(40):
        x = x - (x * x - a) / (2.0 * x)
    return x


def test_newton_square_root():
    for a in (0.3, 2.0, 9.0):
        assert abs(sqrt_implicit(a) - onp.sqrt(a)) < 1e-14
        g = cr.grad(sqrt_implicit)(a)
        assert abs(g - 0.5 / onp.sqrt(a)) < 1e-14
        assert abs(g - cr.grad(sqrt_unrolled)(a)) < 1e-13
        assert abs(cr.jvp(sqrt_implicit, (a,), (1.0,))[1] - g) < 1e-14
        h = cr.grad(cr.grad(sqrt_implicit))(a)  # second order by nesting the rule
        assert abs(h - (-0.25 * a ** -1.5)) < 1e-12
        assert abs(h - cr.grad(cr.grad(sqrt_unrolled))(a)) < 1e-10
    cr.check_grads(sqrt_implicit, (2.0,), order=2, modes=("fwd", "rev"))


def test_root_does_not_depend_on_the_initial_guess():
    g = cr.grad(lambda x0: cr.custom_root(lambda x: x * x - 2.0, x0, newton,
                                          lambda g, y: y / g(1.0)))(1.5)
    assert g == 0.0


RNG = onp.random.RandomState(0)
W = 0.3 * RNG.randn(4, 4) / 2.0
U = RNG.randn(4, 3)
XIN = RNG.randn(3)
B = 0.1 * RNG.randn(4)


def layer(z, params):
    w, b = params
    return np.tanh(w @ z + U @ XIN + b)


def test_fixed_point_equilibrium_layer_against_unrolled():
    def loss_implicit(w, b):
        z = cr.fixed_point(layer, onp.zeros(4), (w, b))
        return np.sum(z ** 2) + z[0]

    def loss_unrolled(w, b):
        z = onp.zeros(4)
        for _ in range(120):  # contraction factor < 0.5: converged to rounding
            z = layer(z, (w, b))
        return np.sum(z ** 2) + z[0]

    assert abs(loss_implicit(W, B) - loss_unrolled(W, B)) < 1e-13
    gi = cr.grad(loss_implicit, argnums=(0, 1))(W, B)
    gu = cr.grad(loss_unrolled, argnums=(0, 1))(W, B)
    for a, b in zip(gi, gu):
        onp.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
    # forward mode on one direction
    dw = RNG.randn(4, 4)
    ti = cr.jvp(lambda w: loss_implicit(w, B), (W,), (dw,))[1]
    assert abs(ti - onp.sum(gu[0] * dw)) < 1e-9


def objective(x, theta):
    """Strictly convex: ½ xᵀ A x − θ·x + ¼ Σ x⁴."""
    a = onp.array([[3.0, 0.5, 0.0], [0.5, 2.0, 0.3], [0.0, 0.3, 1.5]])
    return 0.5 * x @ (a @ x) - theta @ x + 0.25 * np.sum(x ** 4)


def newton_minimise(grad_f, x):
    hess = cr.jacobian(grad_f)
    for _ in range(30):
        x = x - onp.linalg.solve(hess(x), grad_f(x))
    return x


def argmin(theta):
    grad_x = lambda x: cr.grad(objective)(x, theta)  # noqa: E731
    return cr.custom_root(grad_x, onp.zeros(3), newton_minimise, dense_solve)


def dense_solve(g, y):
    """g(x) = y for the linear g: its matrix column by column, then a dense solve."""
    cols = [g(e) for e in onp.eye(3)]
    return np.linalg.solve(np.stack(cols, axis=1), y)


def test_argmin_gradient_wrt_problem_parameters():
    theta = onp.array([1.0, -0.5, 2.0])

    def loss(th):
        return np.sum(argmin(th) * onp.array([1.0, 2.0, -1.0]))

    def unrolled(th):  # gradient descent, differentiated through its iterations
        x = onp.zeros(3)
        for _ in range(400):
            x = x - 0.15 * cr.grad(objective)(x, th)
        return np.sum(x * onp.array([1.0, 2.0, -1.0]))

    x_star = argmin(theta)
    assert onp.max(onp.abs(cr.grad(objective)(x_star, theta))) < 1e-12
    g = cr.grad(loss)(theta)
    onp.testing.assert_allclose(g, cr.grad(unrolled)(theta), rtol=1e-7)
    # closed form: dx*/dθ = H⁻¹ with H the Hessian of the objective at x*
    h = cr.hessian(objective)(x_star, theta)
    onp.testing.assert_allclose(g, onp.linalg.solve(h, [1.0, 2.0, -1.0]), rtol=1e-10)


def richardson(mv, b):
    x = 0.0 * b
    for _ in range(200):
        x = x + 0.25 * (b - mv(x))
    return x


def test_custom_linear_solve_forward_reverse_and_transpose():
    b = onp.array([1.0, -2.0, 0.5])

    def mat(p):
        return np.array([[3.0, p, 0.0], [0.2, 2.5, p], [0.0, 0.1, 3.5]])

    def solved(p, bb, symmetric=False):
        m = mat(p)
        return cr.custom_linear_solve(lambda v: m @ v, bb, richardson,
                                      transpose_solve=richardson, symmetric=symmetric)

    def exact(p, bb):
        return np.linalg.solve(mat(p), bb)

    onp.testing.assert_allclose(solved(0.4, b), exact(0.4, b), rtol=1e-12)
    for mode in (cr.jacfwd, cr.jacrev):
        for arg in (0, 1):
            onp.testing.assert_allclose(mode(solved, argnums=arg)(0.4, b),
                                        mode(exact, argnums=arg)(0.4, b), atol=1e-12)
    with pytest.raises(NotImplementedError, match="transpose_solve"):
        cr.grad(lambda p: np.sum(cr.custom_linear_solve(
            lambda v: mat(p) @ v, b, richardson)))(0.4)


def test_fixed_point_without_convergence_raises():
    with pytest.raises(RuntimeError, match="max_iter=50"):
        cr.grad(lambda a: cr.fixed_point(lambda x, a: 2.0 * x + a, 1.0, a, max_iter=50))(1.0)


def test_fixed_point_on_a_pytree_state_against_unrolled():
    """The tangent solve cuts a (vector, scalar) state into one vector and back."""
    def step(state, a):
        z, s = state
        return 0.5 * np.cos(a * z + s + onp.array([0.0, 1.0])), 0.3 * np.sin(s + a * z[0])

    def loss_implicit(a):
        z, s = cr.fixed_point(step, (onp.zeros(2), 0.0), a)
        return np.sum(z ** 2) + s

    def loss_unrolled(a):
        state = (onp.zeros(2), 0.0)
        for _ in range(200):  # a contraction (factor < 0.8): converged to rounding
            state = step(state, a)
        return np.sum(state[0] ** 2) + state[1]

    a = 0.7
    assert abs(loss_implicit(a) - loss_unrolled(a)) < 1e-11  # fixed_point's tolerance
    g = cr.grad(loss_unrolled)(a)
    assert abs(g) > 1e-3 and cr.grad(loss_implicit)(a) == pytest.approx(g, rel=1e-8)
    assert cr.jvp(loss_implicit, (a,), (1.0,))[1] == pytest.approx(g, rel=1e-8)
