"""More of HIPS autograd's own tests, run against chainrule through the same adapter.

Ported from autograd's tests/test_fft.py, test_complex.py, test_direct.py,
test_jacobian.py, test_logic.py, test_truediv.py, test_graphs.py, test_misc.py and
test_core.py. The adapter (``grad``, ``check_grads``, ``npr``, ...) is the one in
test_autograd_suite.py; autograd's other entry points map onto chainrule's as follows:

* ``grad`` also takes a one-element array output (autograd does; chainrule, like JAX,
  wants a scalar, so the adapter reshapes it);
* ``deriv(f)`` -> ``chainrule.derivative(f)`` (forward mode, order 1);
* ``holomorphic_grad(f)`` -> ``chainrule.grad(f, holomorphic=True)``;
* ``make_vjp(f, argnum)(*args)`` -> ``chainrule.vjp`` of ``f`` in argument ``argnum``,
  returned in autograd's order ``(vjp, value)``;
* ``autograd.extend.primitive`` -> ``chainrule.primitive``;
* ``autograd.misc.flatten`` -> :func:`flatten` below, written with ``chainrule.tree_flatten``;
* ``autograd.misc.const_graph(f, *args, **kwargs)`` -> ``chainrule.jit`` of ``f`` with
  those arguments bound (trace once, replay the recorded program).

Tests of autograd internals are dropped, each with a one-line comment where it stood;
test names that two autograd files share get the file's name as a prefix.
"""

import warnings
from functools import partial

import numpy as onp
import pytest

import chainrule as cr
import chainrule.numpy as np
from test_autograd_suite import arg_pairs, check_grads, jacobian
from test_autograd_suite import npr as _npr

# ---------------------------------------------------------------------------------------
# the adapter, continued
# ---------------------------------------------------------------------------------------


class _Random(type(_npr)):
    random = staticmethod(onp.random.random)


npr = _Random()


def grad(f, argnum=0):
    """autograd's grad, which also takes an output with one element (shape (1,), (1, 1))
    as that element; chainrule, like JAX, asks for a scalar, so that output is reshaped."""

    def f_scalar(*args, **kwargs):
        out = f(*args, **kwargs)
        return np.reshape(out, ()) if np.ndim(out) and np.size(out) == 1 else out

    return cr.grad(f_scalar, argnums=argnum)


def deriv(f):
    return cr.derivative(f)


def holomorphic_grad(f, argnum=0):
    return cr.grad(f, argnums=argnum, holomorphic=True)


def make_vjp(fun, argnum=0):
    def vjp_maker(*args, **kwargs):
        def f_of(x):
            full = list(args)
            full[argnum] = x
            return fun(*full, **kwargs)

        ans, back = cr.vjp(f_of, args[argnum])
        return (lambda g: back(g)[0]), ans

    return vjp_maker


primitive = cr.primitive


def const_graph(fun, *args, **kwargs):
    return cr.jit(partial(fun, *args, **kwargs))


def flatten(value):
    """autograd.misc.flatten in chainrule calls: the leaves of ``value``
    (``chainrule.tree_flatten``) raveled into one vector, and the function that cuts such a
    vector back into the tree."""
    leaves, tree = cr.tree_flatten(value)
    shapes = [np.shape(x) for x in leaves]
    sizes = [int(onp.prod(shp)) for shp in shapes]
    vect = np.concatenate([np.ravel(x) for x in leaves]) if leaves else onp.zeros(0)

    def unflatten(vect):
        parts, start = [], 0
        for shp, n in zip(shapes, sizes):
            parts.append(np.reshape(vect[start:start + n], shp))
            start += n
        return cr.tree_unflatten(tree, parts)

    return vect, unflatten


def scalar_close(a, b):
    """autograd.test_util.scalar_close."""
    return abs(a - b) < 1e-6


@pytest.fixture(autouse=True)
def _seed():
    npr.seed(1)


# ---------------------------------------------------------------------------------------
# tests/test_fft.py
# ---------------------------------------------------------------------------------------
# autograd checks these in reverse mode only (its forward mode had no FFT rules);
# chainrule's are checked in both modes.


def test_fft():
    def fun(x):
        return np.fft.fft(x)

    D = 5
    mat = npr.randn(D, D)
    check_grads(fun)(mat)


def test_fft_ortho():
    def fun(x):
        return np.fft.fft(x, norm="ortho")

    D = 5
    mat = npr.randn(D, D)
    check_grads(fun)(mat)


def test_fft_axis():
    def fun(x):
        return np.fft.fft(x, axis=0)

    D = 5
    mat = npr.randn(D, D)
    check_grads(fun)(mat)


def match_complex(fft_fun, mat):
    # ensure hermitian by doing a fft
    if fft_fun.__name__.startswith("ir"):
        return getattr(np.fft, fft_fun.__name__[1:])(mat)
    else:
        return mat


def check_fft_n(fft_fun, D, n):
    def fun(x):
        return fft_fun(x, D + n)

    mat = npr.randn(D, D)
    mat = match_complex(fft_fun, mat)
    check_grads(fun)(mat)


def test_fft_n_smaller():
    check_fft_n(np.fft.fft, 5, -2)


def test_fft_n_bigger():
    check_fft_n(np.fft.fft, 5, 2)


def test_ifft_n_smaller():
    check_fft_n(np.fft.ifft, 5, -2)


def test_ifft_n_bigger():
    check_fft_n(np.fft.ifft, 5, 2)


def test_rfft_n_smaller():
    check_fft_n(np.fft.rfft, 4, -2)


def test_rfft_n_bigger():
    check_fft_n(np.fft.rfft, 4, 2)


def test_irfft_n_smaller():
    check_fft_n(np.fft.irfft, 4, -2)


def test_irfft_n_bigger():
    check_fft_n(np.fft.irfft, 4, 2)


def check_fft_s(fft_fun, D):
    def fun(x):
        return fft_fun(x, s=s, axes=axes)

    mat = npr.randn(D, D, D) / 10.0
    mat = match_complex(fft_fun, mat)
    s = [D + 2, D - 2]
    axes = [0, 2]
    check_grads(fun)(mat)


def test_fft2_s():
    check_fft_s(np.fft.fft2, 5)


def test_ifft2_s():
    check_fft_s(np.fft.ifft2, 5)


def test_fftn_s():
    check_fft_s(np.fft.fftn, 5)


def test_ifftn_s():
    check_fft_s(np.fft.ifftn, 5)


def test_rfft2_s():
    check_fft_s(np.fft.rfft2, 4)


def test_irfft2_s():
    check_fft_s(np.fft.irfft2, 4)


def test_rfftn_s():
    check_fft_s(np.fft.rfftn, 4)


def test_irfftn_s():
    check_fft_s(np.fft.irfftn, 4)


def test_ifft():
    def fun(x):
        return np.fft.ifft(x)

    D = 5
    mat = npr.randn(D, D)
    check_grads(fun)(mat)


def test_fft2():
    def fun(x):
        return np.fft.fft2(x)

    D = 5
    mat = npr.randn(D, D) / 10.0
    check_grads(fun)(mat)


def test_ifft2():
    def fun(x):
        return np.fft.ifft2(x)

    D = 5
    mat = npr.randn(D, D)
    check_grads(fun)(mat)


def test_fftn():
    def fun(x):
        return np.fft.fftn(x)

    D = 5
    mat = npr.randn(D, D) / 10.0
    check_grads(fun)(mat)


def test_ifftn():
    def fun(x):
        return np.fft.ifftn(x)

    D = 5
    mat = npr.randn(D, D)
    check_grads(fun)(mat)


def test_rfft():
    def fun(x):
        return np.fft.rfft(x)

    D = 4
    mat = npr.randn(D, D) / 10.0
    check_grads(fun)(mat)


def test_rfft_ortho():
    def fun(x):
        return np.fft.rfft(x, norm="ortho")

    D = 4
    mat = npr.randn(D, D) / 10.0
    check_grads(fun)(mat)


def test_rfft_axes():
    def fun(x):
        return np.fft.rfft(x, axis=0)

    D = 4
    mat = npr.randn(D, D) / 10.0
    check_grads(fun)(mat)


def test_irfft():
    def fun(x):
        return np.fft.irfft(x)

    D = 4
    mat = npr.randn(D, D) / 10.0
    # ensure hermitian by doing a fft
    mat = np.fft.rfft(mat)
    check_grads(fun)(mat)


def test_irfft_ortho():
    def fun(x):
        return np.fft.irfft(x, norm="ortho")

    D = 4
    mat = npr.randn(D, D) / 10.0
    # ensure hermitian by doing a fft
    mat = np.fft.rfft(mat)
    check_grads(fun)(mat)


def test_rfft2():
    def fun(x):
        return np.fft.rfft2(x)

    D = 4
    mat = npr.randn(D, D) / 10.0
    check_grads(fun)(mat)


def test_irfft2():
    def fun(x):
        return np.fft.irfft2(x)

    D = 4
    mat = npr.randn(D, D) / 10.0
    # ensure hermitian by doing a fft
    mat = np.fft.rfft2(mat)
    check_grads(fun)(mat)


def test_rfftn():
    def fun(x):
        return np.fft.rfftn(x)

    D = 4
    mat = npr.randn(D, D, D) / 10.0
    check_grads(fun)(mat)


# test_rfftn_odd_not_implemented: autograd's rfftn gradient has no odd last axis and the
# test asserts its NotImplementedError; chainrule's has one, so the same call is checked.
def test_rfftn_odd():
    def fun(x):
        return np.fft.rfftn(x)

    D = 5
    mat = npr.randn(D, D, D) / 10.0
    check_grads(fun)(mat)


def test_rfftn_subset():
    def fun(x):
        return np.fft.rfftn(x)[(0, 1, 0), (3, 3, 2)]

    D = 4
    mat = npr.randn(D, D, D) / 10.0
    check_grads(fun)(mat)


def test_rfftn_axes():
    def fun(x):
        return np.fft.rfftn(x, axes=(0, 2))

    D = 4
    mat = npr.randn(D, D, D) / 10.0
    check_grads(fun)(mat)


def test_irfftn():
    def fun(x):
        return np.fft.irfftn(x)

    D = 4
    mat = npr.randn(D, D, D) / 10.0
    # ensure hermitian by doing a fft
    mat = np.fft.rfftn(mat)
    check_grads(fun)(mat)


def test_irfftn_subset():
    def fun(x):
        return np.fft.irfftn(x)[(0, 1, 0), (3, 3, 2)]

    D = 4
    mat = npr.randn(D, D, D) / 10.0
    # ensure hermitian by doing a fft
    mat = np.fft.rfftn(mat)
    check_grads(fun)(mat)


def test_fftshift():
    def fun(x):
        return np.fft.fftshift(x)

    D = 5
    mat = npr.randn(D, D) / 10.0
    check_grads(fun)(mat)


def test_fftshift_even():
    def fun(x):
        return np.fft.fftshift(x)

    D = 4
    mat = npr.randn(D, D) / 10.0
    check_grads(fun)(mat)


def test_fftshift_axes():
    def fun(x):
        return np.fft.fftshift(x, axes=1)

    D = 5
    mat = npr.randn(D, D) / 10.0
    check_grads(fun)(mat)


def test_ifftshift():
    def fun(x):
        return np.fft.ifftshift(x)

    D = 5
    mat = npr.randn(D, D)
    check_grads(fun)(mat)


def test_ifftshift_even():
    def fun(x):
        return np.fft.ifftshift(x)

    D = 4
    mat = npr.randn(D, D)
    check_grads(fun)(mat)


def test_ifftshift_axes():
    def fun(x):
        return np.fft.ifftshift(x, axes=1)

    D = 5
    mat = npr.randn(D, D)
    check_grads(fun)(mat)


# ---------------------------------------------------------------------------------------
# tests/test_complex.py
# ---------------------------------------------------------------------------------------


def test_real_type():
    fun = lambda x: np.sum(np.real(x))  # noqa: E731
    df = grad(fun)
    assert np.isrealobj(df(2.0))
    assert np.iscomplexobj(df(1.0j))


def test_real_if_close_type():
    fun = lambda x: np.sum(np.real(x))  # noqa: E731
    df = grad(fun)
    assert np.isrealobj(df(1.0))
    assert np.iscomplexobj(df(1.0j))


def test_angle_real():
    fun = lambda x: np.angle(x)  # noqa: E731
    d_fun = lambda x: grad(fun)(x)  # noqa: E731
    check_grads(fun)(npr.rand())
    check_grads(d_fun)(npr.rand())


def test_angle_complex():
    fun = lambda x: np.angle(x)  # noqa: E731
    d_fun = lambda x: grad(fun)(x)  # noqa: E731
    check_grads(fun)(npr.rand() + 1j * npr.rand())
    check_grads(d_fun)(npr.rand() + 1j * npr.rand())


def test_abs_real():
    fun = lambda x: np.abs(x)  # noqa: E731
    d_fun = lambda x: grad(fun)(x)  # noqa: E731
    check_grads(fun)(1.1)
    check_grads(d_fun)(2.1)


def test_abs_complex():
    fun = lambda x: np.abs(x)  # noqa: E731
    d_fun = lambda x: grad(fun)(x)  # noqa: E731
    check_grads(fun)(1.1 + 1.2j)
    check_grads(d_fun)(1.1 + 1.3j)


# ---------------------------------------------------------------------------------------
# tests/test_direct.py
# ---------------------------------------------------------------------------------------


def test_grad():
    def fun(x):
        return (x + np.sin(x**2)) * x

    assert 3.190948746871 - 1e-6 < grad(fun)(1.3) < 3.190948746871 + 1e-6


def test_deriv():
    def fun(x):
        return (x + np.sin(x**2)) * x

    assert 3.190948746871 - 1e-6 < deriv(fun)(1.3) < 3.190948746871 + 1e-6


def test_grad_complex_output():
    def fun(x):
        return x * (1.0 + 0.2j)

    with pytest.raises(TypeError):
        grad(fun)(1.0)


def test_holomorphic_grad():
    def fun(x):
        return x * (1.0 + 0.2j)

    g = holomorphic_grad(fun)(1.0 + 0.0j)
    assert 0.9999 < onp.real(g) < 1.0001
    assert 0.1999 < onp.imag(g) < 0.2001


# ---------------------------------------------------------------------------------------
# tests/test_jacobian.py
# ---------------------------------------------------------------------------------------


def test_jacobian_against_grad():
    fun = lambda x: np.sum(np.sin(x), axis=1, keepdims=True)  # noqa: E731
    A = npr.randn(1, 3)
    assert np.allclose(grad(fun)(A), jacobian(fun)(A))


def test_jacobian_scalar_to_vector():
    fun = lambda x: np.array([x, x**2, x**3])  # noqa: E731
    val = npr.randn()
    assert np.allclose(jacobian(fun)(val), np.array([1.0, 2 * val, 3 * val**2]))


def test_jacobian_against_stacked_grads():
    scalar_funs = [
        lambda x: np.sum(x**3),
        lambda x: np.prod(np.sin(x) + np.sin(x)),
        lambda x: grad(lambda y: np.exp(y) * np.tanh(x[0]))(x[1]),
    ]

    vector_fun = lambda x: np.array([f(x) for f in scalar_funs])  # noqa: E731

    x = npr.randn(5)
    jac = jacobian(vector_fun)(x)
    grads = [grad(f)(x) for f in scalar_funs]

    assert np.allclose(jac, np.vstack(grads))


def test_jacobian_higher_order():
    fun = lambda x: np.sin(np.outer(x, x)) + np.cos(np.dot(x, x))  # noqa: E731

    assert jacobian(fun)(npr.randn(2)).shape == (2, 2, 2)
    assert jacobian(jacobian(fun))(npr.randn(2)).shape == (2, 2, 2, 2)
    # assert jacobian(jacobian(jacobian(fun)))(npr.randn(2)).shape == (2,2,2,2,2)

    check_grads(lambda x: np.sum(np.sin(jacobian(fun)(x))))(npr.randn(2))
    check_grads(lambda x: np.sum(np.sin(jacobian(jacobian(fun))(x))))(npr.randn(2))


# ---------------------------------------------------------------------------------------
# tests/test_logic.py
# ---------------------------------------------------------------------------------------


def test_assert():
    # from https://github.com/HIPS/autograd/issues/43
    def fun(x):
        assert np.allclose(x, (x * 3.0) / 3.0)
        return np.sum(x)

    check_grads(fun)(np.array([1.0, 2.0, 3.0]))


def test_nograd():
    # we want this to raise non-differentiability error
    fun = lambda x: np.allclose(x, (x * 3.0) / 3.0)  # noqa: E731
    with pytest.raises(TypeError):
        grad(fun)(np.array([1.0, 2.0, 3.0]))


def test_no_vjp_def():
    fun = primitive(lambda x: 2.0 * x)
    with pytest.raises(NotImplementedError):
        grad(fun)(1.0)


def test_no_jvp_def():
    fun = primitive(lambda x: 2.0 * x)
    with pytest.raises(NotImplementedError):
        deriv(fun)(1.0)


def test_falseyness():
    fun = lambda x: np.real(x**2 if np.iscomplex(x) else np.sum(x))  # noqa: E731
    check_grads(fun)(2.0)
    check_grads(fun)(2.0 + 1j)


# test_unimplemented_falseyness: removes np.iscomplex's entry from autograd's
# primitive_vjps table (an autograd internal).


# ---------------------------------------------------------------------------------------
# tests/test_truediv.py
# ---------------------------------------------------------------------------------------


def test_div():
    fun = lambda x, y: x / y  # noqa: E731
    make_gap_from_zero = lambda x: np.sqrt(x**2 + 0.5)  # noqa: E731
    for arg1, arg2 in arg_pairs():
        arg1 = make_gap_from_zero(arg1)
        arg2 = make_gap_from_zero(arg2)
        check_grads(fun)(arg1, arg2)


# ---------------------------------------------------------------------------------------
# tests/test_graphs.py
# ---------------------------------------------------------------------------------------


def test_grad_fanout():
    fun = lambda x: np.sin(np.sin(x) + np.sin(x))  # noqa: E731
    df = grad(fun)
    check_grads(fun)(npr.randn())
    check_grads(df)(npr.rand())


def test_grad_const():
    fun = lambda x: 1.0  # noqa: E731
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("ignore")
        df = grad(fun)
        assert np.allclose(df(2.0), 0.0)


def test_grad_identity():
    fun = lambda x: x  # noqa: E731
    df = grad(fun)
    ddf = grad(df)
    assert np.allclose(df(2.0), 1.0)
    assert np.allclose(ddf(2.0), 0.0)


def test_hess_vector_prod():
    npr.seed(1)
    randv = npr.randn(10)

    def fun(x):
        return np.sin(np.dot(x, randv))

    df = grad(fun)

    def vector_product(x, v):
        return np.sin(np.dot(v, df(x)))

    ddf = grad(vector_product)  # noqa: F841
    A = npr.randn(10)
    B = npr.randn(10)
    check_grads(fun)(A)
    check_grads(vector_product)(A, B)


def test_enclosing_scope_ref():
    def fun(x):
        inner_fun = lambda y: x * y  # noqa: E731
        return x * grad(inner_fun)(2.0)

    check_grads(fun)(1.0)


def test_enclosing_scope_ref_2():
    def fun(x):
        inner_fun = lambda y: y * x  # noqa: E731
        return x * grad(inner_fun)(2.0)

    check_grads(fun)(1.0)


def test_mutating_outgrad():
    def fun(a):
        b = a + 1.0
        c = b + 1.5
        d = a + b
        e = d + c
        return e

    A = npr.randn(5)
    check_grads(fun)(A)


def test_mutating_outgrad_from_indexing():
    def fun(a):
        b = a + 1.0
        c = b[0] + 1.5
        d = a + b
        e = d + c
        return e

    A = npr.randn(5)
    check_grads(fun)(A)


def test_complex_mutating_outgrad_from_indexing():
    def fun(a):
        b = a + 1.0j
        c = b[0] + 1.5
        d = a + b
        e = d + c
        return np.sum(np.sin(np.real(e)))

    A = npr.randn(5)
    check_grads(fun)(A)
    d_fun = lambda x: grad(fun)(x)  # noqa: E731
    check_grads(d_fun)(A)


def test_complex_separate_real_and_imaginary():
    def fun(a):
        r, i = np.real(a), np.imag(a)
        a = np.abs(r) ** 1.4 + np.abs(i) ** 1.3
        return np.sum(np.sin(a))

    d_fun = lambda x: grad(fun)(x)  # noqa: E731
    A = npr.randn(5, 3) + 0.1j * npr.randn(5, 3)
    check_grads(fun)(A)
    check_grads(d_fun)(A)


def test_third_derivative():
    fun = lambda x: np.sin(np.sin(x) + np.sin(x))  # noqa: E731
    df = grad(fun)
    ddf = grad(fun)
    dddf = grad(fun)
    check_grads(fun)(npr.randn())
    check_grads(df)(npr.rand())
    check_grads(ddf)(npr.rand())
    check_grads(dddf)(npr.rand())


def test_third_derivative_other_args():
    fun = lambda x, y: np.sin(np.sin(x) + np.sin(y))  # noqa: E731
    df = grad(fun)
    ddf = grad(fun, 1)
    dddf = grad(fun)
    check_grads(fun)(npr.randn(), npr.randn())
    check_grads(df)(npr.randn(), npr.randn())
    check_grads(ddf)(npr.randn(), npr.randn())
    check_grads(dddf)(npr.randn(), npr.randn())


def test_third_derivative_other_args2():
    fun = lambda x, y: np.sin(np.sin(x) + np.sin(y))  # noqa: E731
    df = grad(fun, 1)
    ddf = grad(fun)
    dddf = grad(fun, 1)
    check_grads(fun)(npr.randn(), npr.randn())
    check_grads(df)(npr.randn(), npr.randn())
    check_grads(ddf)(npr.randn(), npr.randn())
    check_grads(dddf)(npr.randn(), npr.randn())


def test_singleton_array_output():
    fun = lambda x: np.sum(np.sin(x), keepdims=True)  # noqa: E731
    check_grads(fun)(npr.randn(3, 3))
    check_grads(lambda x: np.sum(grad(fun)(x)))(npr.randn(3, 3))


def test_singleton_array_output_axis0():
    fun = lambda x: np.sum(np.sin(x), axis=0, keepdims=False)  # noqa: E731
    check_grads(fun)(npr.randn(3, 1))
    check_grads(lambda x: np.sum(grad(fun)(x)))(npr.randn(3, 1))


def test_singleton_array_output_axis1():
    fun = lambda x: np.sum(np.sin(x), axis=1, keepdims=False)  # noqa: E731
    check_grads(fun)(npr.randn(1, 3))
    check_grads(lambda x: np.sum(grad(fun)(x)))(npr.randn(1, 3))


def test_singleton_array_output_axis0_keepdims():
    fun = lambda x: np.sum(np.sin(x), axis=0, keepdims=True)  # noqa: E731
    check_grads(fun)(npr.randn(3, 1))
    check_grads(lambda x: np.sum(grad(fun)(x)))(npr.randn(3, 1))


def test_singleton_array_output_axis1_keepdims():
    fun = lambda x: np.sum(np.sin(x), axis=1, keepdims=True)  # noqa: E731
    check_grads(fun)(npr.randn(1, 3))
    check_grads(lambda x: np.sum(grad(fun)(x)))(npr.randn(1, 3))


def test_assignment_raises_error():
    def fun(A, b):
        A[1] = b
        return A

    A = npr.randn(5)
    with pytest.raises(TypeError):
        check_grads(fun)(A, 3.0)


# ---------------------------------------------------------------------------------------
# tests/test_misc.py
# ---------------------------------------------------------------------------------------


def test_const_graph():
    L = []

    def foo(x, y):
        L.append(None)
        return grad(lambda x: np.sin(x) + x * 2)(x * y)

    foo_wrapped = const_graph(foo)

    assert len(L) == 0
    assert scalar_close(foo(0., 0.),
                        foo_wrapped(0., 0.))
    assert len(L) == 2
    assert scalar_close(foo(1., 0.5),
                        foo_wrapped(1., 0.5))
    assert len(L) == 3
    assert scalar_close(foo(1., 0.5),
                        foo_wrapped(1., 0.5))
    assert len(L) == 4


# test_const_graph_args: counts the calls of a side-effecting primitive. chainrule's jit,
# like JAX's, stages the function on the first call and then runs the staged program, so
# that primitive runs once more on the first call than under autograd's const_graph
# (which returns the traced result); later calls replay only the traced argument, as here.


def test_flatten():
    r = np.random.randn
    x = (1.0, r(2, 3), [r(1, 4), {'x': 2.0, 'y': r(4, 2)}])
    x_flat, unflatten = flatten(x)
    assert x_flat.shape == (20,)
    assert x_flat[0] == 1.0
    assert np.all(x_flat == flatten(unflatten(x_flat))[0])

    y = (1.0, 2.0, [3.0, {'x': 2.0, 'y': 4.0}])
    y_flat, unflatten = flatten(y)
    assert y_flat.shape == (5,)
    assert y == unflatten(y_flat)


def test_flatten_empty():
    val = (npr.randn(4), [npr.randn(3, 4), 2.5], (), (2.0, [1.0, npr.randn(2)]))
    vect, unflatten = flatten(val)
    val_recovered = unflatten(vect)
    vect_2, _ = flatten(val_recovered)
    assert np.all(vect == vect_2)


def test_flatten_dict():
    val = {'k':  npr.random((4, 4)),
           'k2': npr.random((3, 3)),
           'k3': 3.0,
           'k4': [1.0, 4.0, 7.0, 9.0]}

    vect, unflatten = flatten(val)
    val_recovered = unflatten(vect)
    vect_2, _ = flatten(val_recovered)
    assert np.all(vect == vect_2)


# unflatten_tracing: not collected by autograd's own run (no test_ prefix), so not ported.


def test_flatten_nodes_in_containers():
    # see issue #232
    def f(x, y):
        xy, _ = flatten([x, y])
        return np.sum(xy)
    grad(f)(1.0, 2.0)


def test_flatten_complex():
    val = 1 + 1j
    flat, unflatten = flatten(val)
    assert np.all(val == unflatten(flat))


# ---------------------------------------------------------------------------------------
# tests/test_core.py (autograd's name for each test, prefixed with core_)
# ---------------------------------------------------------------------------------------
# autograd runs these without its numpy wrapper, through make_vjp alone.


def core_grad(fun, argnum=0):
    def gradfun(*args, **kwargs):
        vjp, _ = make_vjp(fun, argnum)(*args, **kwargs)
        return vjp(1.0)
    return gradfun


# Non-numpy gradient checking functions.
def core_nd(f, x, eps=1e-4):
    return (f(x + eps/2) - f(x - eps/2)) / eps


def check_close(a, b, atol=1e-4, rtol=1e-4):
    assert abs(a - b) < atol + rtol*abs(b), "Diffs are: {0}".format(a - b)


def check_binary_func(fun, independent=False):
    with warnings.catch_warnings(record=independent):
        x, y = 0.7, 1.8
        a = core_grad(fun)(x, y)
        b = core_nd(lambda x: fun(x, y), x)
        check_close(a, b)

        a = core_grad(fun, 1)(x, y)
        b = core_nd(lambda y: fun(x, y), y)
        check_close(a, b)


def test_core_add(): check_binary_func(lambda x, y: x + y)
def test_core_sub(): check_binary_func(lambda x, y: x - y)
def test_core_div(): check_binary_func(lambda x, y: x / y)
def test_core_mul(): check_binary_func(lambda x, y: x * y)
def test_core_pow(): check_binary_func(lambda x, y: x ** y)
def test_core_mod(): check_binary_func(lambda x, y: x % y)


def test_core_eq(): check_binary_func(lambda x, y: x == y, independent=True)
def test_core_neq(): check_binary_func(lambda x, y: x != y, independent=True)
def test_core_leq(): check_binary_func(lambda x, y: x <= y, independent=True)
def test_core_geq(): check_binary_func(lambda x, y: x >= y, independent=True)
def test_core_lt(): check_binary_func(lambda x, y: x < y, independent=True)
def test_core_gt(): check_binary_func(lambda x, y: x > y, independent=True)
