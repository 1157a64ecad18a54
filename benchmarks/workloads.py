"""Workloads W1-W7 of the benchmark suite (benchmarks/README.md), each defined once.

Every differentiable function takes a NumPy-like namespace ``np`` as its first argument
(``chainrule.numpy``, ``autograd.numpy``, ``jax.numpy``, a thin torch shim, or NumPy), so
the same code runs under every implementation. Loops are written with ``loop(n, body,
state)`` so that JAX can swap in ``lax.fori_loop``; the default is a plain Python loop.

The ``*_hand`` functions are derivatives written by hand (``math`` for scalar code,
vectorised NumPy for arrays): the practical floor of the "hand" column, and the reference
every other implementation is checked against.
"""

import math

import numpy

# Parameters of the workloads (documented in benchmarks/README.md).
W1_POINT = (1.5, 0.5)  # Griewank's example; f = 2.0167, grad = (3.0118, -13.7239)
W4_X0, W4_STEPS = 0.3, 1000  # logistic map
W5_BATCH, W5_SIZES = 128, (784, 256, 10)  # MLP
W6_POINTS, W6_SIZES, W6_EPS = 2000, (2, 64, 64, 64, 64, 1), 1e-4  # Allen-Cahn PINN
W7_V0, W7_C, W7_THETA0, W7_DT, W7_STEPS = 0.5, 0.1, 1.0, 0.01, 1000  # pendulum, T = 10


def python_loop(n, body, state):
    for _ in range(n):
        state = body(state)
    return state


# W1: Griewank's example, written as the lecture's evaluation trace -----------------------


def griewank(np, x1, x2):
    v1 = x1 / x2
    v3 = np.exp(x2)
    v4 = v1 - v3
    return (np.sin(v1) + v4) * v4


def griewank_hand(x1, x2):
    """f and both partials by one reverse sweep written out."""
    v1 = x1 / x2
    v2 = math.sin(v1)
    v3 = math.exp(x2)
    v4 = v1 - v3
    v5 = v2 + v4
    b4 = v5 + v4  # adjoint of v4: from v5 * v4 and from v5 = v2 + v4
    b1 = b4 + v4 * math.cos(v1)
    return v5 * v4, (b1 / x2, -b1 * v1 / x2 - b4 * v3)


# W2, W3: extended Rosenbrock --------------------------------------------------------------


def rosenbrock(np, x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def rosenbrock_point(n, seed=0):
    return numpy.random.default_rng(seed).uniform(-2.0, 2.0, n)


def rosenbrock_grad_hand(x):
    a, d = x[:-1], x[1:] - x[:-1] ** 2
    g = numpy.zeros_like(x)
    g[:-1] = -400.0 * d * a - 2.0 * (1.0 - a)
    g[1:] += 200.0 * d
    return g


def _rosenbrock_hessian_bands(x):
    a = x[:-1]
    diag = numpy.zeros_like(x)
    diag[:-1] = 1200.0 * a * a - 400.0 * x[1:] + 2.0
    diag[1:] += 200.0
    return diag, -400.0 * a


def rosenbrock_hessian_hand(x):
    diag, off = _rosenbrock_hessian_bands(x)
    return numpy.diag(diag) + numpy.diag(off, 1) + numpy.diag(off, -1)


def rosenbrock_hvp_hand(x, v):
    diag, off = _rosenbrock_hessian_bands(x)
    hv = diag * v
    hv[:-1] += off * v[1:]
    hv[1:] += off * v[:-1]
    return hv


# W4: logistic map -------------------------------------------------------------------------


def logistic(np, x0, steps=W4_STEPS, loop=python_loop):
    return loop(steps, lambda l: 4.0 * l * (1.0 - l), x0)


def logistic_hand(x0, steps=W4_STEPS):
    """d l_n / d x0 in forward mode."""
    l, d = x0, 1.0
    for _ in range(steps):
        d *= 4.0 - 8.0 * l
        l = 4.0 * l * (1.0 - l)
    return d


# W5: MLP 784-256-10, tanh, softmax cross-entropy --------------------------------------------


def mlp_loss(np, params, X, Y):
    h = np.tanh(X @ params["W1"] + params["b1"])
    z = h @ params["W2"] + params["b2"]
    m = np.max(z, axis=1, keepdims=True)
    lse = m + np.log(np.sum(np.exp(z - m), axis=1, keepdims=True))
    return -np.sum(Y * (z - lse)) / X.shape[0]


def mlp_data(dtype, seed=0):
    """(params, X, Y) with Y one-hot."""
    rng = numpy.random.default_rng(seed)
    n_in, n_hid, n_out = W5_SIZES
    params = {
        "W1": rng.standard_normal((n_in, n_hid)) / math.sqrt(n_in),
        "b1": 0.1 * rng.standard_normal(n_hid),
        "W2": rng.standard_normal((n_hid, n_out)) / math.sqrt(n_hid),
        "b2": 0.1 * rng.standard_normal(n_out),
    }
    X = rng.standard_normal((W5_BATCH, n_in))
    Y = numpy.eye(n_out)[rng.integers(0, n_out, W5_BATCH)]
    cast = lambda a: a.astype(dtype)
    return {k: cast(v) for k, v in params.items()}, cast(X), cast(Y)


def mlp_loss_grad_hand(params, X, Y):
    h = numpy.tanh(X @ params["W1"] + params["b1"])
    z = h @ params["W2"] + params["b2"]
    z = z - z.max(axis=1, keepdims=True)
    e = numpy.exp(z)
    s = e.sum(axis=1, keepdims=True)
    n = X.shape[0]
    loss = -numpy.sum(Y * (z - numpy.log(s))) / n
    gz = (e / s - Y) / n  # rows of Y sum to 1
    gh = (gz @ params["W2"].T) * (1 - h * h)
    grads = {"W1": X.T @ gh, "b1": gh.sum(0), "W2": h.T @ gz, "b2": gz.sum(0)}
    return loss, grads


# W6: Allen-Cahn PINN ------------------------------------------------------------------------


def pinn_u(np, params, t, x):
    """u(t, x) for columns t, x of shape (N, 1); params = [(W, b), ...], W of the first
    layer has shape (2, 64)."""
    (W, b), *hidden, (Wo, bo) = params
    h = np.tanh(t * W[0] + x * W[1] + b)
    for W, b in hidden:
        h = np.tanh(h @ W + b)
    return h @ Wo + bo


def pinn_loss(np, deriv, params, t, x, ones):
    """mean((u_t - eps u_xx + 5u^3 - 5u)^2); ``deriv(f, y, ones) -> (f(y), f'(y) * ones)``
    is the implementation's pointwise derivative (forward mode where it has one)."""
    u, u_t = deriv(lambda t: pinn_u(np, params, t, x), t, ones)
    u_x = lambda x: deriv(lambda x: pinn_u(np, params, t, x), x, ones)[1]
    _, u_xx = deriv(u_x, x, ones)
    r = u_t - W6_EPS * u_xx + 5.0 * u**3 - 5.0 * u
    return np.mean(r**2)


def pinn_data(seed=0):
    """(params, t, x, ones): t in [0, 1], x in [-1, 1], Glorot-normal weights."""
    rng = numpy.random.default_rng(seed)
    params = [
        (rng.standard_normal((m, n)) * math.sqrt(2.0 / (m + n)), 0.1 * rng.standard_normal(n))
        for m, n in zip(W6_SIZES[:-1], W6_SIZES[1:], strict=True)
    ]
    t = rng.uniform(0.0, 1.0, (W6_POINTS, 1))
    x = rng.uniform(-1.0, 1.0, (W6_POINTS, 1))
    return params, t, x, numpy.ones((W6_POINTS, 1))


def pinn_grad_hand(params, t, x, ones):
    """Forward: each layer carries (h, h_t, h_x, h_xx); backward: their adjoints."""
    n = t.shape[0]
    a = numpy.hstack([t, x])
    at, ax = numpy.zeros_like(a), numpy.zeros_like(a)
    at[:, 0], ax[:, 1] = 1.0, 1.0
    axx = numpy.zeros_like(a)
    tape = []
    for W, b in params[:-1]:
        zt, zx, zxx = at @ W, ax @ W, axx @ W
        h = numpy.tanh(a @ W + b)
        s = 1.0 - h * h  # tanh' ; tanh'' = -2 h s
        tape.append((W, a, at, ax, axx, h, s, zt, zx, zxx))
        a, at, ax, axx = h, s * zt, s * zx, s * zxx - 2.0 * h * s * zx * zx
    Wo, bo = params[-1]
    u, ut, uxx = a @ Wo + bo, at @ Wo, axx @ Wo
    r = ut - W6_EPS * uxx + 5.0 * u**3 - 5.0 * u
    gr = 2.0 * r / n
    gu, gut, guxx = gr * (15.0 * u * u - 5.0), gr, -W6_EPS * gr
    grads = [(a.T @ gu + at.T @ gut + axx.T @ guxx, gu.sum(0))]
    ga, gat, gax, gaxx = gu @ Wo.T, gut @ Wo.T, 0.0, guxx @ Wo.T
    for W, a, at, ax, axx, h, s, zt, zx, zxx in reversed(tape):
        gzt, gzxx = gat * s, gaxx * s
        gzx = gax * s - 4.0 * h * s * zx * gaxx
        gs = gat * zt + gax * zx + gaxx * (zxx - 2.0 * h * zx * zx)
        gz = (ga - 2.0 * s * zx * zx * gaxx - 2.0 * h * gs) * s
        grads.append((a.T @ gz + at.T @ gzt + ax.T @ gzx + axx.T @ gzxx, gz.sum(0)))
        ga, gat, gax, gaxx = gz @ W.T, gzt @ W.T, gzx @ W.T, gzxx @ W.T
    return grads[::-1]


# W7: RK4 on the damped pendulum, scalar code -------------------------------------------------


def pendulum(np, v0, c, theta0=W7_THETA0, dt=W7_DT, steps=W7_STEPS, loop=python_loop):
    """theta(T) for theta'' = -sin(theta) - c theta', theta(0) = theta0, theta'(0) = v0."""

    def rhs(th, om):
        return om, -np.sin(th) - c * om

    def step(y):
        th, om = y
        k1t, k1o = rhs(th, om)
        k2t, k2o = rhs(th + 0.5 * dt * k1t, om + 0.5 * dt * k1o)
        k3t, k3o = rhs(th + 0.5 * dt * k2t, om + 0.5 * dt * k2o)
        k4t, k4o = rhs(th + dt * k3t, om + dt * k3o)
        return (
            th + dt / 6.0 * (k1t + 2.0 * k2t + 2.0 * k3t + k4t),
            om + dt / 6.0 * (k1o + 2.0 * k2o + 2.0 * k3o + k4o),
        )

    return loop(steps, step, (theta0, v0))[0]


def pendulum_hand(v0, c, theta0=W7_THETA0, dt=W7_DT, steps=W7_STEPS):
    """d theta(T) / d(v0, c): RK4 on the state and its two forward sensitivities."""

    def rhs(th, om, tv, ov, tc, oc):  # theta, omega, their d/dv0, their d/dc
        cs = math.cos(th)
        return om, -math.sin(th) - c * om, ov, -cs * tv - c * ov, oc, -cs * tc - c * oc - om

    h, h6 = 0.5 * dt, dt / 6.0
    th, om, tv, ov, tc, oc = theta0, v0, 0.0, 1.0, 0.0, 0.0
    for _ in range(steps):
        a1, b1, c1, d1, e1, f1 = rhs(th, om, tv, ov, tc, oc)
        a2, b2, c2, d2, e2, f2 = rhs(th + h * a1, om + h * b1, tv + h * c1, ov + h * d1,
                                     tc + h * e1, oc + h * f1)
        a3, b3, c3, d3, e3, f3 = rhs(th + h * a2, om + h * b2, tv + h * c2, ov + h * d2,
                                     tc + h * e2, oc + h * f2)
        a4, b4, c4, d4, e4, f4 = rhs(th + dt * a3, om + dt * b3, tv + dt * c3, ov + dt * d3,
                                     tc + dt * e3, oc + dt * f3)
        th += h6 * (a1 + 2.0 * (a2 + a3) + a4)
        om += h6 * (b1 + 2.0 * (b2 + b3) + b4)
        tv += h6 * (c1 + 2.0 * (c2 + c3) + c4)
        ov += h6 * (d1 + 2.0 * (d2 + d3) + d4)
        tc += h6 * (e1 + 2.0 * (e2 + e3) + e4)
        oc += h6 * (f1 + 2.0 * (f2 + f3) + f4)
    return tv, tc
