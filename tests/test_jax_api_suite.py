"""JAX's own transformation tests (tests/api_test.py of jax-ml/jax), ported to chainrule.

Each test keeps JAX's name and its numbers; ``jnp`` becomes ``chainrule.numpy`` on traced
values and plain NumPy for data. Tests of JAX-only machinery (jaxprs, devices, pmap,
x64 flags, compilation caches, DeviceArray, eval_shape, xla_computation, donation) are
left out.
"""

import collections
import functools

import numpy as onp
import pytest

import chainrule as cr
import chainrule.numpy as np
from helpers import close

grad, jacfwd, jacrev, hessian = cr.grad, cr.jacfwd, cr.jacrev, cr.hessian


# --- grad / value_and_grad: argnums, keyword arguments -------------------------------------

def test_grad_argnums():
    def f(x, y, z, flag=False):
        assert flag
        return 1.0 * x + 2.0 * y + 3.0 * z

    assert grad(f)(1.0, 1.0, 1.0, flag=True) == 1.0
    assert grad(f, argnums=1)(1.0, 1.0, 1.0, flag=True) == 2.0
    assert grad(f, argnums=(2, 0))(1.0, 1.0, 1.0, flag=True) == (3.0, 1.0)


def test_value_and_grad_argnums():
    def f(x, y, z, flag=False):
        assert flag
        return 1.0 * x + 2.0 * y + 3.0 * z

    y = f(1.0, 1.0, 1.0, flag=True)
    assert cr.value_and_grad(f)(1.0, 1.0, 1.0, flag=True) == (y, 1.0)
    assert cr.value_and_grad(f, argnums=1)(1.0, 1.0, 1.0, flag=True) == (y, 2.0)
    assert cr.value_and_grad(f, argnums=(2, 0))(1.0, 1.0, 1.0, flag=True) == (y, (3.0, 1.0))


def test_grad_of_jit():
    side = []

    @cr.jit
    def f(x):
        side.append(None)
        return x * x

    assert grad(f)(1.0) == 2.0
    assert grad(f)(2.0) == 4.0


def test_jit_of_grad():
    @cr.jit
    def f(x):
        return x * x

    g = cr.jit(grad(f))
    assert g(1.0) == 2.0
    assert g(2.0) == 4.0


# --- errors for outputs grad cannot differentiate ------------------------------------------

def test_grad_tuple_output():
    with pytest.raises(TypeError):
        grad(lambda x: (x, x))(1.0)


def test_grad_unit_output():
    with pytest.raises(TypeError):
        grad(lambda x: ())(onp.zeros(3))


def test_grad_nonscalar_output():
    with pytest.raises(TypeError):
        grad(lambda x: x)(onp.zeros(3))


def test_binop_mismatch():
    def f(x, y):
        return x + y

    with pytest.raises(ValueError):
        grad(lambda x, y: np.sum(f(x, y)))(onp.zeros(3), onp.zeros(4))


def test_dot_mismatch():
    def f(x, y):
        return np.dot(x, y)

    with pytest.raises(ValueError):
        grad(f)(onp.zeros(3), onp.zeros(4))


def test_switch_value_python_control_flow():
    def f(x):
        y = x > 0
        if y:
            return x
        else:
            return -x

    assert grad(f)(1.0) == 1.0
    assert grad(f)(-1.0) == -1.0


def test_grad_of_int_errors():
    dfn = grad(lambda x: x ** 2)
    with pytest.raises(TypeError, match="float"):
        dfn(3)


def test_grad_complex_result_errors():
    dfn = grad(lambda x: x ** 2 + 1j)
    with pytest.raises(TypeError):
        dfn(3.0)


def test_jacfwd_of_int_errors():
    with pytest.raises(TypeError):
        jacfwd(lambda x: x ** 2)(3)


def test_jacrev_of_int_errors():
    with pytest.raises(TypeError):
        jacrev(lambda x: x ** 2)(onp.arange(3))


def test_grad_without_enough_args_error_message():
    def f(x, y):
        return x + y

    df = grad(f, argnums=0)
    with pytest.raises((TypeError, ValueError)):
        df(x=0.0, y=1.0)


# --- jacobians and hessians, on pytrees ----------------------------------------------------

def test_jacobian():
    R = onp.random.RandomState(0).randn
    A = R(4, 3)
    x = R(3)

    f = lambda x: np.dot(A, x)
    assert onp.allclose(jacfwd(f)(x), A)
    assert onp.allclose(jacrev(f)(x), A)

    f = lambda x: np.tanh(np.dot(A, x))
    assert onp.allclose(jacfwd(f)(x), jacrev(f)(x))


def test_hessian():
    R = onp.random.RandomState(0).randn
    A = R(4, 4)
    x = R(4)

    f = lambda x: np.dot(x, np.dot(A, x))
    assert onp.allclose(hessian(f)(x), A + A.T)


@pytest.mark.parametrize("jacfun", [jacfwd, jacrev], ids=["jacfwd", "jacrev"])
def test_jacobian_on_pytrees(jacfun):
    ans = jacfun(lambda x, y: (x, y))(0.0, 1.0)
    close(ans, (1.0, 0.0))

    ans = jacfun(lambda x, y: (x, y), 1)(0.0, 1.0)
    close(ans, (0.0, 1.0))

    ans = jacfun(lambda x, y: (x, y), (0, 1))(0.0, 1.0)
    close(ans, ((1.0, 0.0), (0.0, 1.0)))

    ans = jacfun(lambda x: x[:2])((1.0, 2.0, 3.0))
    close(ans, ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0)))

    R = onp.random.RandomState(0).randn
    x = R(2)
    y = R(3)
    ans = jacfun(lambda x, y: {"x": x, "xy": np.outer(x, y)})(x, y)
    expected = {"x": onp.eye(2), "xy": onp.kron(onp.eye(2), y[:, None]).reshape(2, 3, 2)}
    close(ans, expected)


def test_hessian_on_pytrees():
    ans = hessian(lambda x: np.sum(np.array(x) ** 2))((1.0, 2.0))
    close(ans, ((2.0, 0.0), (0.0, 2.0)))


def test_hessian_on_pytrees_vector_output():
    # JAX's test_hessian_on_pytrees: hessian of a vector-valued function of a tuple
    ans = hessian(lambda x: np.array(x) ** 2)((1.0, 2.0))
    expected = ((onp.array([2.0, 0.0]), onp.array([0.0, 0.0])),
                (onp.array([0.0, 0.0]), onp.array([0.0, 2.0])))
    close(ans, expected)


def test_issue1372():
    def quad(x):
        return np.dot(x, x)

    def f(x, u):
        return quad(x) + quad(u)

    x, u = onp.ones(5), onp.ones(2)
    rev, fwd = jacrev, jacfwd

    # diagonal entries
    assert rev(rev(f, 0), 0)(x, u).shape == (5, 5)
    assert rev(fwd(f, 0), 0)(x, u).shape == (5, 5)
    assert fwd(rev(f, 0), 0)(x, u).shape == (5, 5)
    assert fwd(fwd(f, 0), 0)(x, u).shape == (5, 5)
    assert rev(rev(f, 1), 1)(x, u).shape == (2, 2)
    assert rev(fwd(f, 1), 1)(x, u).shape == (2, 2)
    assert fwd(rev(f, 1), 1)(x, u).shape == (2, 2)
    assert fwd(fwd(f, 1), 1)(x, u).shape == (2, 2)
    close(fwd(rev(f, 0), 0)(x, u), 2 * onp.eye(5))

    # off-diagonal entries by reverse mode on the outside
    assert rev(rev(f, 1), 0)(x, u).shape == (2, 5)
    assert rev(fwd(f, 1), 0)(x, u).shape == (2, 5)
    assert rev(rev(f, 0), 1)(x, u).shape == (5, 2)
    assert rev(fwd(f, 0), 1)(x, u).shape == (5, 2)

    # off-diagonal entries by forward mode on the outside
    assert fwd(rev(f, 1), 0)(x, u).shape == (2, 5)
    assert fwd(fwd(f, 1), 0)(x, u).shape == (2, 5)
    assert fwd(rev(f, 0), 1)(x, u).shape == (5, 2)
    assert fwd(fwd(f, 0), 1)(x, u).shape == (5, 2)
    close(fwd(rev(f, 0), 1)(x, u), onp.zeros((5, 2)))


# --- has_aux -------------------------------------------------------------------------------

def test_grad_and_aux_basic():
    g, aux = grad(lambda x: (x ** 3, [x ** 2]), has_aux=True)(3.0)
    close(g, grad(lambda x: x ** 3)(3.0))
    close(aux, [9.0])


def test_grad_and_aux_nested():
    def f(x):
        g, aux = grad(lambda x: (x ** 3, [x ** 3]), has_aux=True)(x)
        return aux[0]

    f2 = lambda x: x ** 3

    assert grad(f)(4.0) == grad(f2)(4.0)
    assert cr.jit(grad(f))(4.0) == grad(f2)(4.0)

    def f(x):
        g, aux = grad(lambda x: (x ** 3, [x ** 3]), has_aux=True)(x)
        return aux[0] * np.sin(x)

    f2 = lambda x: x ** 3 * np.sin(x)

    close(grad(f)(4.0), grad(f2)(4.0))
    close(cr.jit(grad(f))(4.0), grad(f2)(4.0))


def test_grad_and_aux_constant():
    g, aux = grad(lambda x: (x ** 3, [4.0]), has_aux=True)(4.0)
    assert g == grad(lambda x: x ** 3)(4.0)
    assert aux == [4.0]

    g, aux = grad(lambda x: (x ** 3, [x ** 2, 4.0]), has_aux=True)(4.0)
    assert g == grad(lambda x: x ** 3)(4.0)
    assert aux == [4.0 ** 2, 4.0]


def test_grad_and_aux_no_tracers():
    def f(x):
        aux = dict(identity=x, p1=x + 1)
        return x ** 2, aux

    _, aux = grad(f, has_aux=True)(3.0)
    assert isinstance(aux, dict)
    for val in aux.values():
        assert not isinstance(val, cr.core.primitive.Tracer)
    assert aux == {"identity": 3.0, "p1": 4.0}


def test_value_and_grad_has_aux():
    (val, aux), g = cr.value_and_grad(lambda x: (x ** 3, x ** 2), has_aux=True)(2.0)
    assert (val, aux, g) == (8.0, 4.0, 12.0)


def test_vjp_has_aux():
    out, back, aux = cr.vjp(lambda x: (np.sin(x), np.cos(x)), 0.5, has_aux=True)
    close(out, onp.sin(0.5))
    close(aux, onp.cos(0.5))
    close(back(1.0), (onp.cos(0.5),))


# --- jvp / vjp argument checking -----------------------------------------------------------

def test_jvp_mismatched_arguments():
    with pytest.raises((TypeError, ValueError)):
        cr.jvp(lambda x, y: x * y, (onp.float64(2),), ())
    with pytest.raises((TypeError, ValueError)):
        cr.jvp(lambda x: -x, (onp.zeros(2),), (onp.zeros(3),))


def test_jvp_non_tuple_arguments():
    def f(x, y):
        return x + y

    with pytest.raises(TypeError, match="tuples or lists"):
        cr.jvp(f, 0.0, (1.0,))
    with pytest.raises(TypeError, match="tuples or lists"):
        cr.jvp(f, (0.0,), onp.array([1.0, 2.0]))


def test_vjp_mismatched_arguments():
    _, pullback = cr.vjp(lambda x, y: x * y, onp.float64(3), onp.float64(4))
    with pytest.raises((TypeError, ValueError)):
        pullback((onp.float64(7), onp.float64(100)))


def test_jvp_jit_cached():
    def func(x):
        def inner(y):
            return y * x

        # two calls of the inner jit (the second one hits the cache)
        res1 = cr.jit(inner)(4.0)
        res2 = cr.jit(inner)(5.0)
        return res1 + res2

    close(cr.jvp(func, (5.0,), (1.0,)), (45.0, 9.0))
    close(grad(func)(5.0), 9.0)


# --- complex inputs (holomorphic=False behaviour) ------------------------------------------

def test_nonholomorphic_grad():
    zs = 0.5j * onp.arange(5) + onp.arange(5)

    def f(z):
        return np.sum(np.cos(np.abs(z)))

    ans = grad(f)(zs)
    expected = onp.array([0.0 + 0.0j,
                          -0.80430663 + 0.40215331j,
                          -0.70368982 + 0.35184491j,
                          0.1886467 - 0.09432335j,
                          0.86873727 - 0.43436864j])
    close(ans, expected, tol=1e-6)


def test_nonholomorphic_jacrev():
    zs = 0.5j * onp.arange(5) + onp.arange(5)

    def f(z):
        return np.cos(np.linalg.norm(2 * z))

    close(jacrev(f)(zs), grad(f)(zs))


def test_complex_grad_raises_error():
    with pytest.raises(TypeError):
        grad(lambda x: np.sin(x))(1 + 2j)


# --- namedtuples are pytrees -----------------------------------------------------------------

def test_namedtuple_transparency():
    Point = collections.namedtuple("Point", ["x", "y"])

    def f(pt):
        return np.sqrt(pt.x ** 2 + pt.y ** 2)

    pt = Point(1.0, 2.0)
    f(pt)
    g = grad(f)(pt)
    assert isinstance(g, Point)
    close(tuple(g), (1 / onp.sqrt(5), 2 / onp.sqrt(5)))
    close(f(pt), cr.jit(f)(pt))


def test_namedtuple_subclass_transparency():
    Point = collections.namedtuple("Point", ["x", "y"])

    class ZeroPoint(Point):
        def is_zero(self):
            return (self.x == 0) and (self.y == 0)

    pt = ZeroPoint(0.0, 0.0)

    def f(pt):
        return 0.0 if pt.is_zero() else np.sqrt(pt.x ** 2 + pt.y ** 2)

    f(pt)
    _ = grad(f)(pt)
    assert isinstance(pt, ZeroPoint)


# --- vmap axes specifications ---------------------------------------------------------------

def test_vmap_in_axes_list():
    dictionary = {"a": 5.0, "b": onp.ones(2)}
    x = onp.zeros(3)
    y = onp.arange(3.0)

    def f(dct, x, y):
        return dct["a"] + dct["b"] + x + y

    out1 = cr.vmap(f, (None, 0, 0))(dictionary, x, y)
    out2 = cr.vmap(f, [None, 0, 0])(dictionary, x, y)
    close(out1, out2)
    close(out1, 5.0 + 1.0 + onp.arange(3.0)[:, None] * onp.ones(2))


def test_vmap_in_axes_tree_prefix_error():
    with pytest.raises(ValueError):
        cr.vmap(lambda x: x, in_axes=(0, 0))(onp.ones(3))


def test_vmap_unbatched_object_passthrough_issue_183():
    fun = lambda f, x: f(x)
    vfun = cr.vmap(fun, (None, 0))
    ans = vfun(lambda x: x + 1, onp.arange(3))
    close(ans, onp.arange(1, 4))


def test_vmap_mismatched_axis_sizes_error_message_issue_705():
    def h(a, b):
        return np.sum(a) + np.sum(b)

    X = onp.random.randn(10, 4)
    U = onp.random.randn(10, 2)

    with pytest.raises(ValueError):
        cr.vmap(h, in_axes=(0, 1))(X, U)
    with pytest.raises(ValueError):
        cr.vmap(lambda x, y, z: None, in_axes=(0, 1, 0))(X, U, X)
    with pytest.raises(ValueError):
        cr.vmap(h, in_axes=(0, 1))(X, [U, U])
    with pytest.raises(ValueError):
        cr.vmap(lambda x: x)(1.0)  # the mapped inputs cannot be scalars
    with pytest.raises(ValueError):
        cr.vmap(lambda x: x, in_axes=None)(onp.array([1.0, 2.0]))
    with pytest.raises(ValueError):
        cr.vmap(lambda x: x, in_axes=1)(onp.array([1.0, 2.0]))
    with pytest.raises(ValueError):
        cr.vmap(lambda x: x, in_axes=0, out_axes=(2, 3))(onp.array([1.0, 2.0]))
    with pytest.raises(ValueError):
        cr.vmap(lambda x: x, out_axes=None)(onp.array([1.0, 2.0]))


def test_vmap_structured_in_axes():
    A, B, C, D = 2, 3, 4, 5
    K = 6  # batch size
    x = onp.ones((K, A, B))  # batch axis in different locations
    y = onp.ones((B, K, C))
    z = onp.ones((C, D, K))

    def foo(tree_arg):
        x, (y, z) = tree_arg
        return np.dot(x, np.dot(y, z))

    tree = (x, (y, z))
    vfoo = cr.vmap(foo, in_axes=((0, (1, 2)),))
    assert vfoo(tree).shape == (6, 2, 5)
    close(vfoo(tree), onp.full((6, 2, 5), float(B * C)))

    Point = collections.namedtuple("Point", ["x", "y"])
    tree = (x, Point(y, z))
    vfoo = cr.vmap(foo, in_axes=((0, Point(1, 2)),))
    assert vfoo(tree).shape == (6, 2, 5)

    def foo(tree_arg):
        x, dct = tree_arg
        y, z = dct["a"], dct["b"]
        return np.dot(x, np.dot(y, z))

    tree = (x, {"a": y, "b": z})
    vfoo = cr.vmap(foo, in_axes=((0, {"a": 1, "b": 2}),))
    assert vfoo(tree).shape == (6, 2, 5)
    # (JAX's OrderedDict case is left out: chainrule's pytrees treat an OrderedDict as a leaf)


# --- checkpoint (JAX's remat) ---------------------------------------------------------------

def test_remat_basic():
    @cr.checkpoint
    def g(x):
        return np.sin(np.sin(x)), 3.0

    def f(x):
        x, _ = g(x)
        return x

    close(f(2.0), onp.sin(onp.sin(2.0)))
    ans, t = cr.jvp(f, (2.0,), (3.0,))
    close(ans, onp.sin(onp.sin(2.0)))
    close(t, onp.cos(onp.sin(2.0)) * onp.cos(2.0) * 3.0)


def test_remat_freevars():
    def f1(x):
        y = 2 * np.sin(x)
        z = np.cos(x) * np.sin(y)
        return z

    def f2(x):
        y = 2 * np.sin(x)
        z = cr.checkpoint(lambda x: np.cos(x) * np.sin(y))(x)
        return z

    close(cr.jvp(f2, (2.0,), (3.0,)), cr.jvp(f1, (2.0,), (3.0,)))
    close(grad(f2)(2.0), grad(f1)(2.0))


def test_remat_grad_python_control_flow():
    @cr.checkpoint
    def g(x):
        if x > 0:
            return np.sin(x), 3.0
        else:
            return np.cos(x), 4.0

    def f(x):
        x, _ = g(x)
        return x

    close(f(2.0), onp.sin(2.0))
    close(grad(f)(2.0), onp.cos(2.0))


def test_remat_jit():
    @cr.checkpoint
    def g(x):
        return np.sin(np.sin(x))

    def f_(x):
        return g(x)

    f = cr.jit(f_)
    close(f(2.0), onp.sin(onp.sin(2.0)))
    close(grad(f)(2.0), onp.cos(onp.sin(2.0)) * onp.cos(2.0))
    close(cr.jit(grad(f_))(2.0), onp.cos(onp.sin(2.0)) * onp.cos(2.0))


def test_remat_vmap():
    @cr.checkpoint
    def g(x):
        return np.sin(np.sin(x))

    x = onp.arange(3.0)
    close(cr.vmap(g)(x), onp.sin(onp.sin(x)))
    close(jacfwd(g)(x), onp.diag(onp.cos(onp.sin(x)) * onp.cos(x)))
    close(jacrev(g)(x), onp.diag(onp.cos(onp.sin(x)) * onp.cos(x)))


def test_remat_higher_order_autodiff():
    def f(x):
        return np.cos(np.sin(x))

    g = cr.checkpoint(f)
    close(grad(grad(g))(3.0), grad(grad(f))(3.0))


def test_remat_scan():
    to_scan = lambda c, x: (np.sin(c), None)

    def f_noremat(x):
        y, _ = cr.scan(to_scan, x, onp.arange(3.0))
        return y

    def f_yesremat(x):
        y, _ = cr.scan(cr.checkpoint(to_scan), x, onp.arange(3.0))
        return y

    close(f_yesremat(4.0), f_noremat(4.0))
    close(grad(f_yesremat)(4.0), grad(f_noremat)(4.0))


def test_remat_binomial_checkpointing():
    def binom_checkpoint(funs):
        if len(funs) == 1:
            return funs[0]
        f1 = binom_checkpoint(funs[: len(funs) // 2])
        f2 = binom_checkpoint(funs[len(funs) // 2:])
        return cr.checkpoint(lambda x: f1(f2(x)))

    f1 = binom_checkpoint([np.sin, np.sin, np.sin, np.sin])
    f2 = lambda x: np.sin(np.sin(np.sin(np.sin(x))))
    x = 4.0
    close(f1(x), f2(x))
    close(grad(f1)(x), grad(f2)(x))


def test_remat_symbolic_zeros():
    n = 5
    Rinit = onp.random.RandomState(0).uniform(0.0, 5.0, (n, 3))

    def func(D0):
        def shift(R, dR):
            return R + dR

        def apply_fn(R):
            return D0 * R

        def move(R, i):
            F = apply_fn(R)
            return shift(R, 0.001 * F), np.array([0.0])

        move = cr.checkpoint(move)
        R, temp = cr.scan(move, Rinit, onp.arange(2))
        return R[0, 0]

    close(grad(func)(5.0), Rinit[0, 0] * 2 * 0.001 * (1 + 0.001 * 5.0))


def test_remat_jit3():
    def f(w, x):
        a = np.dot(x, w)
        b = np.einsum("btd,bTd->btT", a, a)
        c = np.einsum("btT,btd->btd", b, a)
        return np.sum(c)

    w = onp.ones([1, 1])
    x = onp.ones([1, 1, 1])
    f = cr.checkpoint(f)
    close(grad(f)(w, x), onp.full((1, 1), 3.0))

    @cr.jit
    def mul(a, b):
        return a * b

    def f(w, x):
        a = mul(w, x)
        b = mul(a, a)
        return b

    f = cr.checkpoint(f)
    close(grad(f)(1.0, 1.0), 2.0)


def test_remat_scan2():
    def scan_bug(x0):
        f = lambda x, _: (x + 1, None)

        def scanned_f(x, _):
            return cr.scan(f, x, None, length=1)[0], None

        x, _ = cr.checkpoint(scanned_f)(x0, None)
        return x

    close(grad(scan_bug)(1.0), 1.0)


def test_remat_nontrivial_env():
    @cr.checkpoint
    def foo(state, dt=0.5, c=1):
        u, u_t = state
        u_tt = c ** 2 * u
        u_t = u_t + u_tt * dt
        return (u, u_t)

    def multi_step(state, count, dt, c):
        f = lambda s, _: (foo(s, dt, c), _)
        return cr.scan(f, state, None, count)

    def loss(u0, target, steps, dt=1 / onp.sqrt(2), c=1):
        init = (u0, np.zeros_like(u0))
        (uf, _), _ = multi_step(init, steps, dt, c)
        return ((uf - target) ** 2).mean()

    target = onp.zeros((8, 8))
    u0 = onp.ones_like(target)
    close(loss(u0, target, 10), 1.0)
    close(grad(loss)(u0, target, 10), onp.full((8, 8), 2.0 / 64))


# --- custom_jvp (JAX's CustomJVPTest) -------------------------------------------------------

def _sin_with_doubled_jvp(scalar_only=False):
    """JAX's example: sin with a custom JVP of twice the true derivative (so a test sees
    which rule ran); ``scalar_only`` asserts the rule only ever sees scalars (vmap)."""

    @cr.custom_jvp
    def f(x):
        assert not scalar_only or np.ndim(x) == 0
        return np.sin(x)

    def f_jvp(primals, tangents):
        x, = primals
        g, = tangents
        assert not scalar_only or np.ndim(x) == np.ndim(g) == 0
        return f(x), 2 * np.cos(x) * g

    f.defjvp(f_jvp)
    return f


def test_custom_jvp_basic():
    f = _sin_with_doubled_jvp()

    x = 3.0
    close(f(x), onp.sin(x))
    close(cr.jvp(f, (x,), (1.0,)), (onp.sin(x), 2 * onp.cos(x)))
    close(grad(f)(x), 2 * onp.cos(x))


def test_custom_jvp_invariance():
    @cr.custom_jvp
    def f(x):
        return np.cos(2 * x) / 2.0

    def f_jvp(primals, tangents):
        x, = primals
        g, = tangents
        return (f(x), 3 * g)

    f.defjvp(f_jvp)

    def f2(x):
        y, _ = cr.jvp(f, (x,), (x,))
        return y

    def f3(x):
        y, _ = cr.jvp(f2, (x,), (x,))
        return y

    x = 1.0
    close(cr.jvp(f, (x,), (x,)), cr.jvp(f2, (x,), (x,)))
    close(cr.jvp(f, (x,), (x,)), cr.jvp(f3, (x,), (x,)))


def test_custom_jvp_python_control_flow():
    @cr.custom_jvp
    def f(x):
        if x > 0:
            return np.sin(x)
        else:
            return np.cos(x)

    def f_jvp(primals, tangents):
        x, = primals
        g, = tangents
        if x > 0:
            return f(x), 2 * g
        else:
            return f(x), 3 * g

    f.defjvp(f_jvp)
    x = 2.0
    close(f(x), onp.sin(x))
    close(f(-x), onp.cos(-x))
    close(cr.jvp(f, (x,), (1.0,)), (onp.sin(x), 2.0))
    close(cr.jvp(f, (-x,), (1.0,)), (onp.cos(-x), 3.0))
    close(grad(f)(x), 2.0)
    close(grad(f)(-x), 3.0)


def test_custom_jvp_vmap():
    f = _sin_with_doubled_jvp(scalar_only=True)

    x = onp.arange(3.0)
    xx = onp.arange(6.0).reshape(2, 3)

    # vmap of f
    close(cr.vmap(f)(x), onp.sin(x))
    close(cr.vmap(cr.vmap(f))(xx), onp.sin(xx))

    # vmap of jvp of f
    close(cr.vmap(lambda x: cr.jvp(f, (x,), (x,)))(x), (onp.sin(x), 2 * onp.cos(x) * x))
    close(cr.vmap(cr.vmap(lambda x: cr.jvp(f, (x,), (x,))))(xx),
          (onp.sin(xx), 2 * onp.cos(xx) * xx))

    # jvp of vmap of f
    close(cr.jvp(cr.vmap(f), (x,), (x,)), (onp.sin(x), 2 * onp.cos(x) * x))
    close(cr.jvp(cr.vmap(cr.vmap(f)), (xx,), (xx,)), (onp.sin(xx), 2 * onp.cos(xx) * xx))

    # vmap of jvp of vmap of f
    close(cr.vmap(lambda x: cr.jvp(cr.vmap(f), (x,), (x,)))(xx),
          (onp.sin(xx), 2 * onp.cos(xx) * xx))


def test_custom_jvp_jit():
    f = _sin_with_doubled_jvp()

    x = 3.0
    close(cr.jit(f)(x), onp.sin(x))
    close(cr.jit(cr.jit(f))(x), onp.sin(x))
    close(cr.jit(lambda x: cr.jvp(f, (x,), (x,)))(x), (onp.sin(x), 2 * onp.cos(x) * x))
    close(cr.jvp(cr.jit(f), (x,), (x,)), (onp.sin(x), 2 * onp.cos(x) * x))


def test_custom_jvp_pytrees():
    @cr.custom_jvp
    def f(x):
        return {"b": np.sin(x["a"])}

    def f_jvp(primals, tangents):
        x, = primals
        g, = tangents
        return f(x), {"b": 2 * np.cos(x["a"]) * g["a"]}

    f.defjvp(f_jvp)
    x = {"a": 3.0}
    close(f(x)["b"], onp.sin(x["a"]))
    close(cr.jvp(f, (x,), (x,)),
          ({"b": onp.sin(x["a"])}, {"b": 2 * onp.cos(x["a"]) * x["a"]}))


def test_custom_jvp_kwargs():
    @cr.custom_jvp
    def my_fun(x, y, c=1.0):
        return c * (x + y)

    def my_jvp(primals, tangents):
        x, y, c = primals
        t_x, t_y, t_c = tangents
        return my_fun(x, y, c), t_c

    my_fun.defjvp(my_jvp)
    f = lambda x, y: np.sum(np.square(my_fun(x, y, c=2.0)))
    close(f(10.0, 5.0), 900.0)
    close(cr.jvp(f, (10.0, 5.0), (1.0, 1.0)), (900.0, 0.0))


def test_custom_jvp_initial_style():
    @cr.custom_jvp
    def f(x):
        return 3 * x

    def f_jvp(primals, tangents):
        x, = primals
        g, = tangents
        return f(x), 2 * g

    f.defjvp(f_jvp)

    def foo(x):
        out, _ = cr.scan(lambda c, _: (f(c), None), x, None, length=1)
        return out

    close(grad(foo)(3.0), 2.0)
    close(grad(grad(foo))(3.0), 0.0)


def test_custom_jvp_initial_style_vmap():
    @cr.custom_jvp
    def f(x):
        assert np.ndim(x) == 0
        return 3 * x

    def f_jvp(primals, tangents):
        x, = primals
        g, = tangents
        return f(x), 2 * g

    f.defjvp(f_jvp)

    def foo(x):
        out, _ = cr.scan(lambda c, _: (f(c), None), x, None, length=1)
        return out

    close(cr.vmap(foo)(onp.ones(3)), 3.0 * onp.ones(3))
    close(grad(lambda x: cr.vmap(foo)(x).sum())(onp.ones(3)), 2.0 * onp.ones(3))


def test_custom_jvp_nondiff_arg():
    @cr.custom_jvp
    def app(f, x):
        return f(x)

    def app_jvp(primals, tangents):
        (f, x), (_, t) = primals, tangents
        return app(f, x), 3 * t

    app.defjvp(app_jvp)
    close(app(lambda x: 2 * x, 1), 2)
    close(cr.jvp(lambda x: app(lambda y: 2 * y, x), (1.0,), (1.0,)), (2.0, 3.0))


def test_custom_jvp_missing_jvp_rule_error_message():
    @cr.custom_jvp
    def foo(x):
        return x ** 2

    with pytest.raises((AttributeError, TypeError), match="foo"):
        cr.jvp(foo, (2.0,), (1.0,))
    with pytest.raises((AttributeError, TypeError), match="foo"):
        grad(foo)(2.0)


def test_custom_jvp_multiple_rule_invocations():
    @cr.custom_jvp
    def expit(x):
        return 1 / (1 + np.exp(-x))

    @expit.defjvp
    def _expit_jvp(primals, tangents):
        (x,), (t,) = primals, tangents
        ans = expit(x)
        t_out = t * ans * (1 - ans)
        return ans, t_out

    def scanned_fun(c, _):
        return [expit(c[0])] + [c[i - 1] + c[i] for i in range(1, len(c))], None

    def foo(x):
        c, _ = cr.scan(scanned_fun, [x, 0.0, 0.0, 0.0, 0.0], None, length=10)
        return c[-1]

    def foo_ref(x):
        c = [x, 0.0, 0.0, 0.0, 0.0]
        for _ in range(10):
            c = [1 / (1 + np.exp(-c[0]))] + [c[i - 1] + c[i] for i in range(1, len(c))]
        return c[-1]

    close(foo(3.0), foo_ref(3.0))
    close(grad(foo)(3.0), grad(foo_ref)(3.0))
    close(grad(lambda x: cr.vmap(foo)(x).sum())(onp.arange(3.0)),
          grad(lambda x: cr.vmap(foo_ref)(x).sum())(onp.arange(3.0)))


def test_custom_jvp_hard_stuff3():
    @cr.custom_jvp
    def relu(x):
        return np.maximum(x, 0)

    @relu.defjvp
    def _relu_jvp(primals, tangents):
        x, = primals
        t, = tangents
        return relu(x), np.where(x > 0, t, np.zeros_like(t))

    def scanned_fun(c, _):
        return [relu(c[0])] + [c[i - 1] + c[i] for i in range(1, len(c))], None

    def f(x):
        c, _ = cr.scan(scanned_fun, [x, 0.0, 0.0, 0.0, 0.0], None, length=10)
        return c[-1]

    xs = onp.arange(3.0)
    vals = cr.vmap(f)(xs)
    close(vals, onp.array([f(float(x)) for x in xs]))
    gs = cr.vmap(grad(f))(xs)
    close(grad(lambda x: cr.vmap(f)(x).sum())(xs), gs)
    close(cr.jit(cr.vmap(grad(f)))(xs), gs)
    close(cr.jvp(cr.vmap(f), (xs,), (onp.ones(3),))[1], gs)

    def f_ref(x):
        c = [x, 0.0, 0.0, 0.0, 0.0]
        for _ in range(10):
            c, _ = scanned_fun(c, None)
        return c[-1]

    close(gs, onp.array([grad(f_ref)(float(x)) for x in xs]))
    close(gs, onp.array([84.0, 210.0, 210.0]))


def test_custom_jvp_jaxpr_zeros():
    @cr.custom_jvp
    def f(A, b):
        return A @ b

    def f_jvp(primals, tangents):
        A, b = primals
        dA, db = tangents
        z = f(A, b)
        dz = A @ db + dA @ b
        return z, dz

    f.defjvp(f_jvp)

    def experiment(theta):
        def step(q, _):
            z = f(np.eye(3), np.ones(3) * theta)
            q += z[0]
            return q, q

        q = 0.0
        q, _ = cr.scan(step, q, None, 4)
        return q

    close(grad(experiment)(1.0), 4.0)


def test_custom_jvp_linear_in_scan():
    @cr.custom_jvp
    def f(x):
        return -x

    @f.defjvp
    def f_jvp(primals, tangents):
        x, = primals
        x_dot, = tangents
        return f(x), f(x_dot)

    def foo(x):
        out, _ = cr.scan(lambda c, _: (f(c), None), x, None, length=1)
        return out

    close(grad(foo)(3.0), -1.0)


# --- custom_vjp (JAX's CustomVJPTest) -------------------------------------------------------

def _sin_with_custom_vjp():
    @cr.custom_vjp
    def f(x):
        return np.sin(x)

    def f_fwd(x):
        return f(x), np.cos(x)

    def f_rev(cos_x, g):
        return (2 * cos_x * g,)

    f.defvjp(f_fwd, f_rev)
    return f


def test_custom_vjp_basic():
    f = _sin_with_custom_vjp()
    x = 3.0
    close(f(x), onp.sin(x))
    close(grad(f)(x), 2 * onp.cos(x))
    close(cr.value_and_grad(f)(x), (onp.sin(x), 2 * onp.cos(x)))


def test_custom_vjp_invariance():
    @cr.custom_vjp
    def f(x):
        return np.cos(2 * x) / 2.0

    def f_fwd(x):
        return (f(x), x)

    def f_rev(x, g):
        return (g * 3,)

    f.defvjp(f_fwd, f_rev)

    def f2(x):
        y, _ = cr.value_and_grad(f)(x)
        return y

    def f3(x):
        y, _ = cr.value_and_grad(f2)(x)
        return y

    x = 1.0
    close(f(x), f2(x))
    close(f(x), f3(x))
    close(grad(f)(x), grad(f2)(x))
    close(grad(f)(x), grad(f3)(x))


def test_custom_vjp_python_control_flow():
    @cr.custom_vjp
    def f(x):
        if x > 0:
            return np.sin(x)
        else:
            return np.cos(x)

    def f_fwd(x):
        return f(x), x

    def f_rev(x, g):
        if x > 0:
            return (2 * g,)
        else:
            return (3 * g,)

    f.defvjp(f_fwd, f_rev)
    x = 2.0
    close(f(x), onp.sin(x))
    close(f(-x), onp.cos(-x))
    close(cr.value_and_grad(f)(x), (onp.sin(x), 2.0))
    close(cr.value_and_grad(f)(-x), (onp.cos(-x), 3.0))


def test_custom_vjp_vmap():
    @cr.custom_vjp
    def f(x):
        assert np.ndim(x) == 0
        return np.sin(x)

    def f_fwd(x):
        assert np.ndim(x) == 0
        return f(x), np.cos(x)

    def f_rev(cos_x, g):
        return (2 * cos_x * g,)

    f.defvjp(f_fwd, f_rev)

    x = onp.arange(3.0)
    xx = onp.arange(6.0).reshape(2, 3)

    # vmap of f
    close(cr.vmap(f)(x), onp.sin(x))
    close(cr.vmap(cr.vmap(f))(xx), onp.sin(xx))

    # vmap of grad of f
    close(cr.vmap(grad(f))(x), 2 * onp.cos(x))
    close(cr.vmap(cr.value_and_grad(f))(x), (onp.sin(x), 2 * onp.cos(x)))
    close(cr.vmap(cr.vmap(grad(f)))(xx), 2 * onp.cos(xx))
    close(cr.vmap(cr.vmap(cr.value_and_grad(f)))(xx), (onp.sin(xx), 2 * onp.cos(xx)))

    # grad of vmap of f
    close(grad(lambda x: cr.vmap(f)(x).sum())(x), 2 * onp.cos(x))
    close(grad(lambda x: cr.vmap(cr.vmap(f))(x).sum())(xx), 2 * onp.cos(xx))

    # vmap of grad of vmap of f
    close(cr.vmap(grad(lambda x: cr.vmap(f)(x).sum()))(xx), 2 * onp.cos(xx))


def test_custom_vjp_jit():
    f = _sin_with_custom_vjp()
    x = 3.0
    close(cr.jit(f)(x), onp.sin(x))
    close(cr.jit(cr.jit(f))(x), onp.sin(x))
    close(cr.jit(grad(f))(x), 2 * onp.cos(x))
    close(grad(cr.jit(f))(x), 2 * onp.cos(x))


def test_custom_vjp_pytrees():
    @cr.custom_vjp
    def f(x):
        return {"b": np.sin(x["a"])}

    def f_fwd(x):
        return f(x), {"r": np.cos(x["a"])}

    def f_bwd(res, g):
        cos_x = res["r"]
        return ({"a": 2 * cos_x * g["b"]},)

    f.defvjp(f_fwd, f_bwd)
    x = {"a": 3.0}
    close(f(x)["b"], onp.sin(x["a"]))
    close(grad(lambda x: f(x)["b"])(x), {"a": 2 * onp.cos(x["a"])})


def test_custom_vjp_kwargs():
    @cr.custom_vjp
    def my_fun(x, y, c=1.0):
        return c * (x + y)

    my_fun.defvjp(lambda x, y, c=1.0: (my_fun(c, y, c), None),
                  lambda _, g: (g, g, g))
    f = lambda x, y: np.sum(np.square(my_fun(x, y, c=2.0)))
    close(f(10.0, 5.0), 900.0)
    close(grad(f)(10.0, 5.0), 2 * (2.0 * 7.0))


def test_custom_vjp_initial_style():
    f = _sin_with_custom_vjp()

    def foo(x):
        out, _ = cr.scan(lambda c, _: (f(c), None), x, None, length=1)
        return out

    close(grad(foo)(3.0), 2.0 * onp.cos(3.0))
    close(grad(grad(foo))(3.0), -2.0 * onp.sin(3.0))


def test_custom_vjp_initial_style_vmap():
    @cr.custom_vjp
    def f(x):
        assert np.ndim(x) == 0
        return 3 * x

    def f_fwd(x):
        return f(x), np.cos(x)

    def f_rev(cos_x, g):
        return (2 * cos_x * g,)

    f.defvjp(f_fwd, f_rev)

    def foo(x):
        out, _ = cr.scan(lambda c, _: (f(c), None), x, None, length=1)
        return out

    close(cr.vmap(foo)(onp.arange(3.0)), 3.0 * onp.arange(3.0))
    close(grad(lambda x: cr.vmap(foo)(x).sum())(onp.arange(3.0)),
          2.0 * onp.cos(onp.arange(3.0)))


def test_custom_vjp_nondiff_arg():
    @cr.custom_vjp
    def app(f, x):
        return f(x)

    def app_fwd(f, x):
        return app(f, x), np.cos(x)

    def app_rev(cos_x, g):
        return (None, cos_x * g)

    app.defvjp(app_fwd, app_rev)
    close(app(lambda x: 2 * x, 1), 2)
    close(cr.value_and_grad(lambda x: app(lambda y: 2 * y, x))(1.0), (2.0, onp.cos(1.0)))


def test_custom_vjp_missing_vjp_rule_error():
    @cr.custom_vjp
    def foo(x):
        return x ** 2

    with pytest.raises((AttributeError, TypeError), match="foo"):
        grad(foo)(2.0)


def test_custom_vjp_nondiff_argnums_stop_gradient():
    @cr.custom_vjp
    def _clip_gradient(lo, hi, x):
        return x  # identity function

    def clip_gradient_fwd(lo, hi, x):
        return x, (lo, hi)

    def clip_gradient_bwd(res, g):
        lo, hi = res
        return (None, None, np.clip(g, lo, hi))

    _clip_gradient.defvjp(clip_gradient_fwd, clip_gradient_bwd)

    def clip_gradient(x):
        lo = -0.5
        hi = x + 1
        return _clip_gradient(lo, hi, x)

    close(grad(lambda x: 3.0 * clip_gradient(x))(1.0), 2.0)


def test_custom_gradient_via_custom_vjp():
    @cr.custom_vjp
    def f(x):
        return x ** 2

    f.defvjp(lambda x: (x ** 2, x), lambda x, g: (g * x,))
    close(f(3.0), 9.0)
    close(grad(f)(3.0), 3.0)


# --- stop_gradient, nesting and perturbation confusion ---------------------------------------

def test_stop_gradient():
    def f(x):
        return np.sin(x) * cr.stop_gradient(x)

    def f2(x, y):
        return np.sin(x) * cr.stop_gradient(y)

    x = 3.14
    close(grad(f)(x), onp.cos(x) * x)
    close(grad(f2, argnums=(0, 1))(x, x), (onp.cos(x) * x, 0.0))
    close(cr.jvp(f, (x,), (1.0,))[1], onp.cos(x) * x)


def test_stop_gradient_pytree():
    ans = grad(lambda t: cr.stop_gradient(t)[0] * t[1] + cr.stop_gradient({"a": t[0]})["a"])(
        (2.0, 3.0))
    close(ans, (0.0, 2.0))


def test_nested_grad():
    f = lambda x: x ** 4
    close(grad(grad(grad(f)))(2.0), 48.0)
    close(cr.jvp(grad(f), (2.0,), (1.0,)), (32.0, 48.0))


def test_perturbation_confusion_grad():
    # grad(x -> x * grad(y -> x + y)(x))(5) = 1
    close(grad(lambda x: x * grad(lambda y: x + y)(x))(5.0), 1.0)


def test_perturbation_confusion_jvp():
    # D(x -> x * D(y -> x * y)(1))(4) = 8
    D = lambda f: lambda x: cr.jvp(f, (x,), (1.0,))[1]
    close(D(lambda x: x * D(lambda y: x * y)(1.0))(4.0), 8.0)


def test_grad_of_closure_over_tracer_in_vmap():
    # issue-style: per-example gradients with closures over outer values
    xs = onp.arange(1.0, 4.0)
    ans = cr.vmap(lambda x: grad(lambda y: x * y ** 2)(x))(xs)
    close(ans, 2 * xs ** 2)


def test_hvp_matches_hessian():
    R = onp.random.RandomState(1).randn
    A = R(4, 4)
    x, v = R(4), R(4)
    f = lambda x: np.sum(np.tanh(np.dot(A, x)) ** 2)
    close(cr.hvp(f, (x,), (v,)), hessian(f)(x) @ v, tol=1e-10)


def test_jacobian_auto_modes_agree():
    R = onp.random.RandomState(2).randn
    A = R(5, 3)
    f = lambda x: np.sin(np.dot(A, x))
    x = R(3)
    close(cr.jacobian(f)(x), jacfwd(f)(x))
    close(cr.jacobian(f, mode="rev")(x), jacrev(f)(x))


# --- nondiff_argnums (JAX's test_nondiff_arg / test_nondiff_arg_tracer forms) --------------

def test_custom_jvp_nondiff_argnums():
    @functools.partial(cr.custom_jvp, nondiff_argnums=(0,))
    def app(f, x):
        return f(x)

    def app_jvp(f, primals, tangents):
        (x,), (t,) = primals, tangents
        return app(f, x), 3 * t

    app.defjvp(app_jvp)
    close(app(lambda x: 2 * x, 1), 2)
    close(cr.jvp(lambda x: app(lambda y: 2 * y, x), (1.0,), (1.0,)), (2.0, 3.0))
    close(grad(lambda x: app(lambda y: 2 * y, x))(1.0), 3.0)


def test_custom_jvp_nondiff_arg_value():
    @functools.partial(cr.custom_jvp, nondiff_argnums=(0,))
    def f(x, y):
        return x * y

    def f_jvp(x, primals, tangents):
        (y,), (t_y,) = primals, tangents
        return f(x, y), 5 * t_y

    f.defjvp(f_jvp)
    close(cr.jvp(lambda y: f(2.0, y), (3.0,), (1.0,)), (6.0, 5.0))


def test_custom_vjp_nondiff_argnums():
    @functools.partial(cr.custom_vjp, nondiff_argnums=(0,))
    def app(f, x):
        return f(x)

    def app_fwd(f, x):
        return app(f, x), np.cos(x)

    def app_rev(f, cos_x, g):
        return (cos_x * g,)

    app.defvjp(app_fwd, app_rev)
    close(app(lambda x: 2 * x, 1), 2)
    close(cr.value_and_grad(lambda x: app(lambda y: 2 * y, x))(1.0), (2.0, onp.cos(1.0)))


def test_custom_vjp_nondiff_arg_value():
    @functools.partial(cr.custom_vjp, nondiff_argnums=(0,))
    def f(x, y):
        return x * y

    def f_fwd(x, y):
        return f(x, y), np.cos(y)

    def f_rev(x, cos_y, g):
        return (cos_y * g,)

    f.defvjp(f_fwd, f_rev)
    close(f(2, 3.0), 6.0)
    close(grad(lambda x, y: f(x, y), 1)(2.0, 3.0), onp.cos(3.0))


def test_custom_vjp_clip_gradient_nondiff_argnums():
    @functools.partial(cr.custom_vjp, nondiff_argnums=(0, 1))
    def _clip_gradient(lo, hi, x):
        return x

    def clip_gradient_fwd(lo, hi, x):
        return x, None

    def clip_gradient_bwd(lo, hi, _, g):
        return (np.clip(g, lo, hi),)

    _clip_gradient.defvjp(clip_gradient_fwd, clip_gradient_bwd)
    close(grad(lambda x: 3.0 * _clip_gradient(-1.0, 1.0, x))(1.0), 1.0)
    close(grad(lambda x: 0.5 * _clip_gradient(-1.0, 1.0, x))(1.0), 0.5)


def test_custom_jvp_multiple_outputs_reverse():
    @cr.custom_jvp
    def f(x):
        return np.sin(x), np.cos(x)

    @f.defjvp
    def f_jvp(primals, tangents):
        (x,), (t,) = primals, tangents
        return f(x), (np.cos(x) * t, -np.sin(x) * t)

    close(grad(lambda x: f(x)[0] * f(x)[1])(0.3), onp.cos(0.6))
    close(jacrev(lambda x: np.stack(f(x)))(0.3), onp.array([onp.cos(0.3), -onp.sin(0.3)]))


# --- holomorphic=True and has_aux for jacobians (newer api_test.py) --------------------------

def test_holomorphic_grad():
    out = grad(lambda x: np.sin(x), holomorphic=True)(1 + 2j)
    expected = 2.0327230070196656 - 3.0518977991518j
    close(out, expected)


def test_holomorphic_value_and_grad_array():
    zs = onp.array([1 + 2j, 0.5 - 1j])
    val, g = cr.value_and_grad(lambda z: np.sum(np.sin(z) * z), holomorphic=True)(zs)
    close(val, onp.sum(onp.sin(zs) * zs))
    close(g, onp.cos(zs) * zs + onp.sin(zs))


def test_holomorphic_grad_of_float_errors():
    with pytest.raises(TypeError, match="holomorphic=True requires inputs with complex dtype"):
        grad(lambda x: x ** 2, holomorphic=True)(3.0)


def test_holomorphic_jacrev_of_float_errors():
    with pytest.raises(TypeError, match="holomorphic=True requires inputs with complex dtype"):
        jacrev(lambda x: x ** 2, holomorphic=True)(3.0)


def test_holomorphic_jacfwd_of_float_errors():
    with pytest.raises(TypeError, match="holomorphic=True requires inputs with complex dtype"):
        jacfwd(lambda x: x ** 2, holomorphic=True)(3.0)


@pytest.mark.parametrize("jacfun", [jacfwd, jacrev], ids=["jacfwd", "jacrev"])
def test_holomorphic_jacobian(jacfun):
    zs = onp.array([1 + 2j, 0.5 - 1j])
    close(jacfun(lambda z: np.sin(z) * 2.0, holomorphic=True)(zs), onp.diag(2 * onp.cos(zs)))


@pytest.mark.parametrize("jacfun", [jacfwd, jacrev], ids=["jacfwd", "jacrev"])
def test_jacobian_has_aux(jacfun):
    def f(x):
        return np.sin(x), {"sq": x ** 2}

    x = onp.array([0.1, 0.7, -1.2])
    jac, aux = jacfun(f, has_aux=True)(x)
    close(jac, onp.diag(onp.cos(x)))
    close(aux, {"sq": x ** 2})
    jac, aux = jacfun(lambda x, y: (x * y, x + y), argnums=(0, 1), has_aux=True)(2.0, 3.0)
    close(jac, (3.0, 2.0))
    close(aux, 5.0)


def test_hessian_has_aux():
    def f(x):
        return np.sum(x ** 3), np.sum(x)

    x = onp.array([1.0, 2.0])
    h, aux = hessian(f, has_aux=True)(x)
    close(h, onp.diag(6 * x))
    close(aux, 3.0)


def test_jacfwd_has_aux_under_grad():
    # aux computed inside an outer transformation stays differentiable by it
    def outer(a):
        jac, aux = jacfwd(lambda x: (a * x ** 2, a * x), has_aux=True)(3.0)
        return jac + aux

    close(grad(outer)(2.0), 6.0 + 3.0)


def test_vmap_of_custom_function_named_like_a_builtin():
    # a user function called `sum` (or a primitive called `dot`) must not get the
    # batching rule of chainrule's own primitive of that name
    @cr.custom_jvp
    def sum(x):  # noqa: A001
        return np.sum(x * 2.0)

    @sum.defjvp
    def _(primals, tangents):
        return sum(primals[0]), np.sum(tangents[0] * 2.0)

    X = onp.arange(6.0).reshape(2, 3)
    close(cr.vmap(lambda x: cr.jvp(sum, (x,), (x,)))(X), (2 * X.sum(1), 2 * X.sum(1)))

    @cr.primitive
    def dot(x):
        return onp.sum(x) * 3.0

    cr.defvjp(dot, lambda ans, x: lambda g: g * 3.0 * onp.ones_like(x))
    close(cr.vmap(dot)(X), 3 * X.sum(1))
    close(cr.vmap(cr.grad(dot))(X), onp.full((2, 3), 3.0))


def test_custom_jvps_first_rule_is_none():
    @cr.custom_jvp
    def f(x, y):
        return x ** 2 * y

    f.defjvps(None, lambda x_dot, primal_out, x, y: 2 * x * y * x_dot)
    close(grad(f, 1)(2.0, 3.0), 12.0)
    close(grad(f, 0)(2.0, 3.0), 0.0)
    close(cr.jvp(f, (2.0, 3.0), (1.0, 1.0)), (12.0, 12.0))


def test_custom_jvps_both_rules():
    @cr.custom_jvp
    def f(x, y):
        return np.sin(x) * y

    f.defjvps(lambda t, ans, x, y: np.cos(x) * y * t, lambda t, ans, x, y: np.sin(x) * t)
    close(grad(f, (0, 1))(0.5, 2.0), (onp.cos(0.5) * 2.0, onp.sin(0.5)))


def test_jvp_has_aux():
    out, t, aux = cr.jvp(lambda x: (np.sin(x), {"c": np.cos(x)}), (0.5,), (2.0,), has_aux=True)
    close((out, t, aux), (onp.sin(0.5), 2 * onp.cos(0.5), {"c": onp.cos(0.5)}))


def test_value_and_grad_tuple_output_error_is_clear():
    with pytest.raises(TypeError, match="returned a tuple"):
        cr.value_and_grad(lambda x: (x, x))(1.0)


def test_vmap_axis_size():
    close(cr.vmap(lambda: 1.0, axis_size=3)(), onp.ones(3))
    close(cr.vmap(lambda x: x * 2.0, in_axes=None, axis_size=2)(onp.arange(3.0)),
          onp.stack([onp.arange(3.0) * 2.0] * 2))
    with pytest.raises(ValueError):
        cr.vmap(lambda x: x, axis_size=4)(onp.ones(3))


def test_remat_static_argnums_and_policy_kwargs():
    f = functools.partial(cr.checkpoint, static_argnums=(1,))(lambda x, n: x ** n)
    close(grad(f)(2.0, 3), 12.0)
    g = cr.checkpoint(lambda x: np.sin(x), prevent_cse=False, policy=None)
    close(grad(g)(0.0), 1.0)

    @functools.partial(cr.checkpoint, static_argnums=(0,))
    def h(flag, x):
        return np.sin(x) if flag else np.cos(x)

    close(grad(lambda x: h(True, x))(0.0), 1.0)
    close(grad(lambda x: h(False, x))(0.0), 0.0)


def test_grad_allow_int():
    def f(x, n):
        return x ** 2 * n

    gx, gn = grad(f, argnums=(0, 1), allow_int=True)(3.0, 2)
    assert gx == 12.0 and gn == 0
    g = grad(lambda x, idx: np.sum(x[idx] ** 2), argnums=(0, 1), allow_int=True)(
        onp.array([1.0, 2.0, 3.0]), onp.array([0, 2]))
    close(g[0], onp.array([2.0, 0.0, 6.0]))
    assert onp.all(onp.asarray(g[1]) == 0)
    with pytest.raises(TypeError):
        grad(f, argnums=1)(3.0, 2)
