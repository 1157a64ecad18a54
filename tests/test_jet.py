"""Taylor mode (chainrule.jet) against nested forward mode, rule by rule, to order 4."""

import math
import os
import platform
import subprocess
import sys

import numpy as onp
import pytest

import chainrule as cr
import chainrule.numpy as np
from chainrule.jet import TAYLOR_RULES, directional_derivatives, jet, laplacian, second_derivative
from chainrule.numpy._elementwise import tanh_tangent_p

K = 4
SRC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src")
RNG = onp.random.default_rng(0)


def pos(*shape):
    return RNG.uniform(0.5, 1.5, shape)


def unit(*shape):
    return RNG.uniform(-0.6, 0.6, shape)


def wide(*shape):
    return RNG.uniform(-1.5, 1.5, shape)


# (rule or primitive name, function of the arguments, arguments); every entry of
# TAYLOR_RULES needs a row (checked below), plus the linear primitives the generic rule covers
CASES = [
    ("neg", lambda x: -x, (wide(3),)),
    ("add", lambda x, y: x + y, (wide(3, 1), wide(1, 4))),
    ("sub", lambda x, y: x - y, (wide(3), wide(3))),
    ("mul", lambda x, y: x * y, (wide(2, 3), wide(3))),
    ("div", lambda x, y: x / y, (wide(3), pos(3))),
    ("pow", lambda x: x**3, (wide(4),)),
    ("pow_real", lambda x: x**2.5, (pos(4),)),
    ("pow_negative", lambda x: x**-2, (pos(4),)),
    ("pow_both", lambda x, y: x**y, (pos(3), wide(3))),
    ("square", lambda x: np.square(x), (wide(3),)),
    ("matmul", lambda a, b: a @ b, (wide(3, 4), wide(4, 2))),
    ("einsum", lambda a, b, c: np.einsum("ij,jk,k->i", a, b, c), (wide(2, 3), wide(3, 4),
                                                                    wide(4))),
    ("exp", np.exp, (wide(3),)),
    ("expm1", np.expm1, (wide(3),)),
    ("exp2", np.exp2, (wide(3),)),
    ("log", np.log, (pos(3),)),
    ("log2", np.log2, (pos(3),)),
    ("log10", np.log10, (pos(3),)),
    ("log1p", np.log1p, (pos(3),)),
    ("sqrt", np.sqrt, (pos(3),)),
    ("cbrt", np.cbrt, (pos(3),)),
    ("sin", np.sin, (wide(3),)),
    ("cos", np.cos, (wide(3),)),
    ("tan", np.tan, (unit(3),)),
    ("sinh", np.sinh, (wide(3),)),
    ("cosh", np.cosh, (wide(3),)),
    ("tanh", np.tanh, (wide(3),)),
    ("tanh_tangent", tanh_tangent_p, (wide(2, 3), wide(3))),
    ("arcsin", np.arcsin, (unit(3),)),
    ("arccos", np.arccos, (unit(3),)),
    ("arctan", np.arctan, (wide(3),)),
    ("arcsinh", np.arcsinh, (wide(3),)),
    ("arccosh", np.arccosh, (pos(3) + 1.0,)),
    ("arctanh", np.arctanh, (unit(3),)),
    ("arctan2", np.arctan2, (wide(3), pos(3))),
    ("abs", np.abs, (wide(3) + 2.0 * onp.sign(wide(3)),)),
    ("sinc", np.sinc, (pos(3),)),
    ("where", lambda x, y: np.where(onp.array([True, False, True]), x, y), (wide(3), wide(3))),
    ("maximum", np.maximum, (wide(3), wide(3) + 0.1)),
    ("minimum", np.minimum, (wide(3), wide(3) + 0.1)),
    ("clip", lambda x: np.clip(x, -0.5, 0.5), (onp.array([-1.0, 0.1, 0.9]),)),
    ("mod", lambda x, y: np.mod(x, y), (pos(3) * 3, pos(3))),
    ("max", lambda x: np.max(x, axis=1), (wide(3, 4),)),
    ("min", lambda x: np.min(x), (wide(5),)),
    ("norm2", lambda x: np.linalg.norm(x, axis=0), (wide(3, 2),)),
    ("sort", lambda x: np.sort(x), (wide(5),)),
    # linear primitives through the generic rule
    ("sum", lambda x: np.sum(x, axis=0), (wide(3, 2),)),
    ("mean", lambda x: np.mean(x), (wide(3, 2),)),
    ("reshape", lambda x: np.sin(x).reshape(6), (wide(3, 2),)),
    ("transpose", lambda x: np.sin(x).T, (wide(3, 2),)),
    ("getitem", lambda x: np.sin(x)[1:, 0], (wide(3, 2),)),
    ("broadcast_to", lambda x: np.broadcast_to(np.sin(x), (4, 3)), (wide(3),)),
    ("concatenate", lambda x, y: np.concatenate([np.sin(x), y]), (wide(3), wide(2))),
    ("cumsum", lambda x: np.cumsum(x * x), (wide(4),)),
    ("take_along_axis", lambda x: np.take_along_axis(x * x, onp.array([2, 0]), axis=0),
     (wide(3),)),
    ("mlp", lambda x, W, b: np.tanh(np.tanh(x @ W + b) @ W.T), (wide(4, 3), wide(3, 3),
                                                               wide(3))),
]


def nested_derivatives(g, order):
    """[g(0), g'(0), …] by nesting jvp (the oracle)."""
    out, fn = [], g
    for _ in range(order + 1):
        out.append(onp.asarray(fn(0.0)))
        fn = (lambda h: lambda t: cr.jvp(h, (t,), (1.0,))[1])(fn)
    return out


@pytest.mark.parametrize("name, f, args", CASES, ids=[c[0] for c in CASES])
def test_jet_matches_nested_jvp_to_order_4(name, f, args):
    """Input curves x(t) = x0 + Σ v_k t^k / k! with random v_k (not only lines)."""
    rng = onp.random.default_rng(1)
    series = [[0.3 * rng.standard_normal(onp.shape(a)) for _ in range(K)] for a in args]

    def curve(t, a, vs):
        return a + sum(v * t**k / math.factorial(k) for k, v in enumerate(vs, start=1))

    g = lambda t: f(*[curve(t, a, vs) for a, vs in zip(args, series)])
    want = nested_derivatives(g, K)
    y, ys = jet(f, args, series)
    onp.testing.assert_allclose(y, want[0], rtol=1e-12, atol=1e-12)
    for k in range(K):
        onp.testing.assert_allclose(ys[k], want[k + 1], rtol=1e-9, atol=1e-9,
                                    err_msg=f"{name}: derivative {k + 1}")


def test_every_taylor_rule_has_a_row():
    rows = {c[0].split("_")[0] for c in CASES} | {c[0] for c in CASES}
    assert set(TAYLOR_RULES) - rows == set()


def test_integer_power_at_zero_is_exact():
    y, ys = jet(lambda x: x**3, (0.0,), ([1.0, 0.0, 0.0, 0.0],))
    assert [float(v) for v in ys] == [0.0, 0.0, 6.0, 0.0]


def test_one_argument_held_constant():
    y, ys = jet(lambda x, w: np.sin(x * w), (0.3, 2.0), ([1.0, 0.0], None))
    assert ys[0] == pytest.approx(2 * math.cos(0.6)) and ys[1] == pytest.approx(-4 * math.sin(0.6))


def test_pytree_output():
    y, ys = jet(lambda x: {"a": np.exp(x), "b": (x, 3.0)}, (0.0,), ([1.0, 0.0],))
    assert [float(v) for v in ys["a"]] == [1.0, 1.0]
    assert [float(v) for v in ys["b"][0]] == [1.0, 0.0] and [float(v) for v in ys["b"][1]] == [0, 0]


def test_second_derivative_of_a_network_rowwise_against_nested_derivative():
    W1, b1, W2 = wide(2, 8), wide(8), wide(8, 1)
    u = lambda X: np.tanh(X @ W1 + b1) @ W2
    X = wide(5, 2)
    uxx = second_derivative(u, coordinate=1)(X)
    for i in range(5):
        g = lambda s, i=i: u(np.stack([X[i, 0] + 0.0 * s, X[i, 1] + s])[None, :])[0, 0]
        assert float(uxx[i, 0]) == pytest.approx(float(cr.derivative(g, order=2)(0.0)), rel=1e-10)


def test_directional_derivatives_and_laplacian():
    f = lambda x: np.sin(x[..., 0]) * np.exp(x[..., 1])
    x = onp.array([0.4, -0.2])
    d = directional_derivatives(f, 3, coordinate=1)(x)
    assert all(float(v) == pytest.approx(math.sin(0.4) * math.exp(-0.2)) for v in d)
    want = (-math.sin(0.4) + math.sin(0.4)) * math.exp(-0.2)
    assert float(laplacian(f)(x)) == pytest.approx(want, abs=1e-14)
    assert float(laplacian(lambda x: np.sum(x**4))(onp.array([1.0, 2.0]))) == pytest.approx(60.0)


def test_grad_through_jet_matches_grad_through_nested_jvp():
    """Reverse mode records the coefficient arithmetic: grad of a loss built on u_xx."""
    X = wide(6, 1)

    def u(p, X):
        W1, b1, W2 = p
        return np.tanh(X @ W1 + b1) @ W2

    def loss_jet(p):
        return np.mean(second_derivative(lambda X: u(p, X))(X) ** 2)

    def loss_nested(p):
        ux = lambda X: cr.jvp(lambda X: u(p, X), (X,), (onp.ones_like(X),))[1]
        return np.mean(cr.jvp(ux, (X,), (onp.ones_like(X),))[1] ** 2)

    p = (wide(1, 5), wide(5), wide(5, 1))
    assert float(loss_jet(p)) == pytest.approx(float(loss_nested(p)), rel=1e-12)
    for gj, gn in zip(cr.grad(loss_jet)(p), cr.grad(loss_nested)(p)):
        onp.testing.assert_allclose(gj, gn, rtol=1e-10, atol=1e-13)
    cr.check_grads(loss_jet, (p,), order=2, modes=("fwd", "rev"))


def test_jet_inside_vmap_and_jit():
    f = lambda x: second_derivative(np.tanh)(x)
    x = wide(4)
    want = -2 * onp.tanh(x) * (1 - onp.tanh(x) ** 2)
    onp.testing.assert_allclose(cr.vmap(f)(x), want, rtol=1e-12)
    onp.testing.assert_allclose(cr.jit(f)(x), want, rtol=1e-12)


def test_missing_rule_names_the_primitive():
    with pytest.raises(NotImplementedError, match="no Taylor rule for the primitive 'det'"):
        jet(lambda a: np.linalg.det(a), (wide(2, 2),), ([wide(2, 2)],))


def test_bad_series_are_rejected():
    with pytest.raises(ValueError, match="same number"):
        jet(lambda x, y: x * y, (1.0, 2.0), ([1.0], [1.0, 0.0]))
    with pytest.raises(ValueError, match="shape"):
        jet(np.sin, (onp.ones(3),), ([onp.ones(2)],))
    with pytest.raises(TypeError, match="tuples or lists"):
        jet(np.sin, 1.0, [1.0])
    with pytest.raises(NotImplementedError, match="sinc needs x"):
        jet(np.sinc, (0.0,), ([1.0],))


_JET_FAULTS = """
import resource, numpy
import chainrule.numpy as np
from chainrule.interpreters import heap
from chainrule.jet import second_derivative
heap.primed = {plain}  # True: the plain heap, glibc's thresholds as the process has them
rng = numpy.random.default_rng(0)
W = [rng.standard_normal((64, 64)) / 8 for _ in range(3)]
def u(x):
    h = np.tanh(x * numpy.ones((1, 64)))
    for w in W:
        h = np.tanh(h @ w)
    return np.sum(h, axis=1)
d2 = second_derivative(u)
x = numpy.linspace(-1.0, 1.0, 2000)[:, None]
for _ in range(3):
    d2(x)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    out = d2(x)
print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 20)
print(*out[::397].tolist())
"""


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's heap trimming")
def test_a_taylor_pass_faults_no_pages_in_per_call():
    """A process whose only transformation is jet keeps freed coefficient arrays (1 MB
    each here) in the heap, as grad and jvp do (chainrule.interpreters.heap)."""
    def run(plain):
        env = {k: v for k, v in os.environ.items()
               if k != "GLIBC_TUNABLES" and not k.startswith("MALLOC_")}
        env["PYTHONPATH"] = SRC
        out = subprocess.run([sys.executable, "-c", _JET_FAULTS.format(plain=plain)], env=env,
                             capture_output=True, text=True, check=True, timeout=120).stdout
        faults, numbers = out.strip().splitlines()
        return float(faults), numbers.split()

    faults, numbers = run(plain=False)
    plain_faults, plain_numbers = run(plain=True)
    assert plain_faults > 200  # every 1 MB array mapped and faulted in anew
    assert faults < 20
    assert numbers == plain_numbers
