"""HIPS autograd's own tests, run against chainrule through a thin adapter.

Ported from autograd's tests/test_numpy.py, test_scalar_ops.py, test_systematic.py,
test_binary_ops.py, test_wrappers.py and test_linalg.py. The test bodies are kept as
autograd wrote them; the names below map autograd's API onto chainrule's:

* ``autograd.numpy`` -> ``chainrule.numpy``; ``grad``/``elementwise_grad``/``jacobian``/
  ``hessian``/``value_and_grad`` -> chainrule's (``argnum=`` -> ``argnums=``);
* ``check_grads(f)(*args)`` / ``combo_check`` -> :func:`check_grads` below, which runs
  ``chainrule.check_grads`` (JVP and VJP against central differences, orders 1 and 2).

Tests of autograd internals (boxes, VSpaces, ``autograd.builtins`` containers,
``defgrad``) are dropped, each with a one-line comment where it stood.
"""

import itertools as it
import operator as op
from functools import partial

import numpy as onp
import pytest

import chainrule as cr
import chainrule.numpy as np
from chainrule.numeric import derivative as _nd_derivative

# ---------------------------------------------------------------------------------------
# the adapter
# ---------------------------------------------------------------------------------------


class _Random:
    """autograd.numpy.random as the tests use it: NumPy's legacy global generator."""

    seed = staticmethod(onp.random.seed)
    randn = staticmethod(onp.random.randn)
    rand = staticmethod(onp.random.rand)
    randint = staticmethod(onp.random.randint)
    RandomState = onp.random.RandomState


npr = _Random()


def grad(f, argnum=0):
    return cr.grad(f, argnums=argnum)


def elementwise_grad(f, argnum=0):
    return cr.elementwise_grad(f, argnums=argnum)


def jacobian(f, argnum=0):
    return cr.jacobian(f, argnums=argnum)


def hessian(f, argnum=0):
    return cr.hessian(f, argnums=argnum)


def value_and_grad(f, argnum=0):
    return cr.value_and_grad(f, argnums=argnum)


def multigrad(f, argnums=(0,)):
    return cr.grad(f, argnums=tuple(argnums))


def hessian_vector_product(f):
    return lambda x, v: cr.hvp(f, (x,), (v,))


def vector_jacobian_product(f):
    return lambda x, v: cr.vjp(f, x)[1](v)[0]


def _as_float(x):
    """Integer and bool arguments become floats: chainrule (like JAX) differentiates only
    inexact values, where autograd silently promoted integers."""
    if isinstance(x, (bool, int)) or (isinstance(x, onp.ndarray) and x.dtype.kind in "biu"):
        return onp.asarray(x, dtype=float) if isinstance(x, onp.ndarray) else float(x)
    return x


def _differentiable(x):
    if isinstance(x, (float, complex)):
        return True
    return isinstance(x, onp.ndarray) and x.dtype.kind in "fc"


def check_grads(fun, modes=("fwd", "rev"), order=2, argnum=None):
    """autograd.test_util.check_grads: ``check_grads(f)(*args, **kwargs)``.

    Checks the derivatives in every float argument (``argnum``: only those), forward and
    reverse, to ``order``, against central differences (``chainrule.check_grads``).
    """

    def check(*args, **kwargs):
        args = list(args)
        if argnum is None:
            nums = [i for i, a in enumerate(args) if _differentiable(_as_float(a))]
        else:
            nums = [argnum] if isinstance(argnum, int) else list(argnum)
        for i in nums:
            args[i] = _as_float(args[i])

        def f_of(*wrt):
            full = list(args)
            for i, w in zip(nums, wrt):
                full[i] = w
            out = fun(*full, **kwargs)
            # a boolean result (np.all, np.any) is a constant: compare it as 0.0 / 1.0
            if isinstance(out, (bool, onp.bool_)) or getattr(out, "dtype", None) is onp.dtype(bool):
                out = onp.asarray(out, dtype=float)
            return out

        wrt = [args[i] for i in nums]
        # autograd accepts a list of numbers where an array is expected (np.append)
        wrt = [onp.asarray(a, dtype=float) if isinstance(a, list)
               and all(isinstance(b, (int, float)) for b in a) else a for a in wrt]
        cr.check_grads(f_of, tuple(wrt), order=order, modes=tuple(modes))

    return check


def combo_check(fun, argnums, *args, **kwargs):
    """autograd's numpy_utils.combo_check: every combination of the given arguments."""
    kwarg_key_vals = [[(k, v) for v in vs] for k, vs in kwargs.items()]
    for combo in it.product(*args, *kwarg_key_vals):
        cur_args, cur_kwargs = combo[:len(args)], dict(combo[len(args):])
        check_grads(fun, argnum=tuple(argnums))(*cur_args, **cur_kwargs)


def _transform(lims, x):
    return x * (lims[1] - lims[0]) + lims[0]


def stat_check(fun, test_complex=True):
    x = 3.5
    A = npr.randn()
    B = npr.randn(3)
    C = npr.randn(2, 3)
    D = npr.randn(1, 3)
    combo_check(fun, (0,), [x, A])
    combo_check(fun, (0,), [B, C, D], axis=[None, 0], keepdims=[True, False])
    combo_check(fun, (0,), [C, D], axis=[None, 0, 1], keepdims=[True, False])
    if test_complex:
        c = npr.randn() + 0.1j * npr.randn()
        E = npr.randn(2, 3) + 0.1j * npr.randn(2, 3)
        combo_check(fun, (0,), [x, c, A])
        combo_check(fun, (0,), [B, C, D, E], axis=[None, 0], keepdims=[True, False])


def unary_ufunc_check(fun, lims=(-2, 2), test_complex=True):
    scalar_int = _transform(lims, 1)
    scalar = _transform(lims, 0.4)
    vector = _transform(lims, npr.rand(2))
    mat = _transform(lims, npr.rand(3, 2))
    mat2 = _transform(lims, npr.rand(1, 2))
    combo_check(fun, (0,), [scalar_int, scalar, vector, mat, mat2])
    if test_complex:
        comp = _transform(lims, 0.4) + 0.1j * _transform(lims, 0.3)
        matc = _transform(lims, npr.rand(3, 2)) + 0.1j * npr.rand(3, 2)
        combo_check(fun, (0,), [comp, matc])


def binary_ufunc_check(fun, lims_A=(-2, 2), lims_B=(-2, 2), test_complex=True):
    T_A = partial(_transform, lims_A)
    T_B = partial(_transform, lims_B)
    scalar_int = 1
    scalar = 0.6
    vector = npr.rand(2)
    mat = npr.rand(3, 2)
    mat2 = npr.rand(1, 2)
    combo_check(fun, (0, 1), [T_A(scalar), T_A(scalar_int), T_A(vector), T_A(mat), T_A(mat2)],
                [T_B(scalar), T_B(scalar_int), T_B(vector), T_B(mat), T_B(mat2)])
    if test_complex:
        comp = 0.6 + 0.3j
        matc = npr.rand(3, 2) + 0.1j * npr.rand(3, 2)
        combo_check(fun, (0, 1), [T_A(scalar), T_A(comp), T_A(vector), T_A(matc), T_A(mat2)],
                    [T_B(scalar), T_B(comp), T_B(vector), T_B(matc), T_B(mat2)])


def binary_ufunc_check_no_same_args(fun, lims_A=(-2, 2), lims_B=(-2, 2), test_complex=True):
    T_A = partial(_transform, lims_A)
    T_B = partial(_transform, lims_B)
    scalar_int1, scalar_int2 = 2, 3
    scalar1, scalar2 = 0.6, 0.7
    vector1, vector2 = npr.rand(2), npr.rand(2)
    mat11, mat12 = npr.rand(3, 2), npr.rand(3, 2)
    mat21, mat22 = npr.rand(1, 2), npr.rand(1, 2)
    combo_check(fun, (0, 1),
                [T_A(scalar1), T_A(scalar_int1), T_A(vector1), T_A(mat11), T_A(mat21)],
                [T_B(scalar2), T_B(scalar_int2), T_B(vector2), T_B(mat12), T_B(mat22)])
    if test_complex:
        comp1, comp2 = 0.6 + 0.3j, 0.1 + 0.2j
        matc1 = npr.rand(3, 2) + 0.1j * npr.rand(3, 2)
        matc2 = npr.rand(3, 2) + 0.1j * npr.rand(3, 2)
        combo_check(fun, (0, 1), [T_A(scalar1), T_A(comp1), T_A(vector1), T_A(matc1), T_A(mat21)],
                    [T_B(scalar2), T_B(comp2), T_B(vector2), T_B(matc2), T_B(mat22)])


def check_equivalent(a, b):
    for x, y in zip(cr.tree_flatten(a)[0], cr.tree_flatten(b)[0]):
        assert onp.allclose(onp.asarray(x), onp.asarray(y), rtol=1e-4, atol=1e-6), (x, y)


def nd(f, *args):
    """autograd.util.nd: the numeric gradient in each (scalar) argument."""
    out = []
    for i in range(len(args)):
        def f_i(t, i=i):
            full = list(args)
            full[i] = t
            return f(*full)
        out.append(_nd_derivative(f_i, args[i]))
    return out


@pytest.fixture(autouse=True)
def _seed():
    npr.seed(1)


# ---------------------------------------------------------------------------------------
# tests/test_numpy.py
# ---------------------------------------------------------------------------------------


def test_dot():
    def fun(x, y): return np.dot(x, y)

    mat1 = npr.randn(10, 11)
    mat2 = npr.randn(10, 11)
    vect1 = npr.randn(10)
    vect2 = npr.randn(11)
    vect3 = npr.randn(11)

    check_grads(fun)(mat1, vect2)
    check_grads(fun)(mat1, mat2.T)
    check_grads(fun)(vect1, mat1)
    check_grads(fun)(vect2, vect3)


def test_dot_with_floats():
    def fun(x, y): return np.dot(x, y)

    mat1 = npr.randn(10, 11)
    vect1 = npr.randn(10)
    float1 = npr.randn()

    check_grads(fun)(mat1, float1)
    check_grads(fun)(float1, mat1)
    check_grads(fun)(vect1, float1)
    check_grads(fun)(float1, vect1)


def test_outer():
    def fun(x, y): return np.outer(x, y)

    vect2 = npr.randn(11)
    vect3 = npr.randn(11)

    check_grads(fun)(vect2, vect3)
    check_grads(fun)(vect2.T, vect3)
    check_grads(fun)(vect2.T, vect3.T)


def test_max():
    def fun(x): return np.max(x)
    mat = npr.randn(10, 11)
    check_grads(fun)(mat)


def test_max_axis():
    def fun(x): return np.max(x, axis=1)
    mat = npr.randn(3, 4, 5)
    check_grads(fun)(mat)


def test_max_axis_keepdims():
    def fun(x): return np.max(x, axis=1, keepdims=True)
    mat = npr.randn(3, 4, 5)
    check_grads(fun)(mat)


def test_min():
    def fun(x): return np.min(x)
    mat = npr.randn(10, 11)
    check_grads(fun)(mat)


def test_min_axis():
    def fun(x): return np.min(x, axis=1)
    mat = npr.randn(3, 4, 5)
    check_grads(fun)(mat)


def test_min_axis_keepdims():
    def fun(x): return np.min(x, axis=1, keepdims=True)
    mat = npr.randn(3, 4, 5)
    check_grads(fun)(mat)


def test_sum_1():
    def fun(x): return np.sum(x)
    mat = npr.randn(10, 11)
    check_grads(fun)(mat)


def test_sum_2():
    def fun(x): return np.sum(x, axis=0)
    mat = npr.randn(10, 11)
    check_grads(fun)(mat)


def test_sum_3():
    def fun(x): return np.sum(x, axis=0, keepdims=True)
    mat = npr.randn(10, 11)
    check_grads(fun)(mat)


def test_sum_with_axis_tuple():
    def fun(x): return np.sum(x, axis=(1, 2))
    mat = npr.randn(10, 11, 7)
    check_grads(fun)(mat)


def test_flipud():
    def fun(x): return np.flipud(x)
    mat = npr.randn(10, 11)
    check_grads(fun)(mat)


def test_fliplr():
    def fun(x): return np.fliplr(x)
    mat = npr.randn(10, 11)
    check_grads(fun)(mat)


def test_rot90():
    def fun(x): return np.rot90(x)
    mat = npr.randn(10, 11)
    check_grads(fun)(mat)


def test_cumsum_axis0():
    def fun(x): return np.cumsum(x, axis=0)
    mat = npr.randn(10, 11)
    check_grads(fun)(mat)


def test_cumsum_axis1():
    def fun(x): return np.cumsum(x, axis=1)
    mat = npr.randn(10, 11)
    check_grads(fun)(mat)


def test_cumsum_1d():
    def fun(x): return np.cumsum(x)
    mat = npr.randn(10)
    check_grads(fun)(mat)


def test_cumsum_no_axis():
    def fun(x): return np.cumsum(x)
    mat = npr.randn(10, 11)
    check_grads(fun)(mat)


def test_non_numpy_sum():
    def fun(x, y):
        return sum([x, y])
    mat1 = npr.randn(10, 11)
    mat2 = npr.randn(10, 11)
    check_grads(fun)(mat1, mat2)


def test_mean_1():
    def fun(x): return np.mean(x)
    mat = npr.randn(10, 11)
    check_grads(fun)(mat)


def test_mean_2():
    def fun(x): return np.mean(x, axis=0)
    mat = npr.randn(10, 11)
    check_grads(fun)(mat)


def test_mean_3():
    def fun(x): return np.mean(x, axis=0, keepdims=True)
    mat = npr.randn(10, 11)
    check_grads(fun)(mat)


def test_index_ints():
    A = npr.randn(5, 6, 4)
    def fun(x): return x[3, 0, 1]
    check_grads(fun)(A)


def test_index_slice():
    A = npr.randn(5, 6, 4)
    def fun(x): return x[::-1, 2:4, :]
    check_grads(fun)(A)


def test_index_lists():
    A = npr.randn(5, 6, 4)
    def fun(x): return x[[0, 1, 2], :, :]
    check_grads(fun)(A)


def test_index_mixed():
    A = npr.randn(5, 6, 4)
    def fun(x): return x[3, 2:, [1, 3]]
    check_grads(fun)(A)


def test_vector_slice():
    A = npr.randn(5)
    def fun(x): return x[2:4]
    check_grads(fun)(A)


def test_index_slice_fanout():
    A = npr.randn(5, 6, 4)

    def fun(x):
        y = x[::-1, 2:4, :]
        z = x[::-1, 3:5, :]
        return y + z
    check_grads(fun)(A)


def test_index_multiple_slices():
    A = npr.randn(7)

    def fun(x):
        y = x[2:6]
        z = y[1:3]
        return z
    check_grads(fun)(A)


def test_reshape_method():
    A = npr.randn(5, 6, 4)
    def fun(x): return x.reshape((5 * 4, 6))
    check_grads(fun)(A)


def test_reshape_call():
    A = npr.randn(5, 6, 4)
    def fun(x): return np.reshape(x, (5 * 4, 6))
    check_grads(fun)(A)


def test_reshape_method_nolist():
    A = npr.randn(5, 6, 4)
    def fun(x): return x.reshape(5 * 4, 6)
    check_grads(fun)(A)


def test_ravel_method():
    A = npr.randn(5, 6, 4)
    def fun(x): return x.ravel()
    check_grads(fun)(A)


def test_ravel_call():
    A = npr.randn(5, 6, 4)
    def fun(x): return np.ravel(x)
    check_grads(fun)(A)


def test_flatten_method():
    A = npr.randn(5, 6, 4)
    def fun(x): return x.flatten()
    check_grads(fun)(A)


def test_simple_append_list():
    A = [1., 2., 3.]
    b = 4.
    check_grads(np.append, argnum=(0, 1))(A, b)


def test_simple_append_arr():
    A = np.array([1., 2., 3.])
    b = 4.
    check_grads(np.append, argnum=(0, 1))(A, b)


def test_simple_concatenate():
    A = npr.randn(5, 6, 4)
    B = npr.randn(4, 6, 4)
    def fun(x): return np.concatenate((A, x))
    check_grads(fun)(B)


def test_concatenate_axis_0():
    A = npr.randn(5, 6, 4)
    B = npr.randn(5, 6, 4)
    def fun(x): return np.concatenate((B, x, B))
    check_grads(fun)(A)


def test_concatenate_axis_1():
    A = npr.randn(5, 6, 4)
    B = npr.randn(5, 6, 4)
    def fun(x): return np.concatenate((B, x, B), axis=1)
    check_grads(fun)(A)


def test_concatenate_axis_1_unnamed():
    A = npr.randn(5, 6, 4)
    B = npr.randn(5, 6, 4)
    def fun(x): return np.concatenate((B, x, B), 1)
    check_grads(fun)(A)


def test_trace():
    offset = npr.randint(-9, 11)
    def fun(x): return np.trace(x, offset=offset)
    mat = npr.randn(10, 11)
    check_grads(fun)(mat)


def test_trace2():
    offset = npr.randint(-9, 11)
    def fun(x): return np.trace(x, offset=offset)
    mat = npr.randn(11, 10)
    check_grads(fun)(mat)


def test_split():  # autograd named this a second test_trace, shadowing the first
    def fun(x): return np.split(x, 2)[0]
    mat = npr.randn(10)
    check_grads(fun)(mat)


def test_trace_extradims():
    offset = npr.randint(-5, 6)
    def fun(x): return np.trace(x, offset=offset)
    mat = npr.randn(5, 6, 4, 3)
    check_grads(fun)(mat)


def test_diag():
    def fun(x): return np.diag(x)
    mat = npr.randn(10, 10)
    check_grads(fun)(mat)


def test_transpose():
    def fun(x): return x.T
    mat = npr.randn(8, 8)
    check_grads(fun)(mat)


def test_roll():
    def fun(x): return np.roll(x, 2, axis=1)
    mat = npr.randn(4, 5)
    check_grads(fun)(mat)


def test_roll_no_axis():
    def fun(x): return np.roll(x, 2)
    mat = npr.randn(4, 5)
    check_grads(fun)(mat)


def test_triu():
    def fun(x): return np.triu(x, k=2)
    mat = npr.randn(5, 5)
    check_grads(fun)(mat)


def test_tril():
    def fun(x): return np.tril(x, k=2)
    mat = npr.randn(5, 5)
    check_grads(fun)(mat)


def test_clip():
    def fun(x): return np.clip(x, a_min=0.1, a_max=1.1)
    mat = npr.randn(5, 5)
    check_grads(fun)(mat)


def test_prod_1():
    def fun(x): return np.prod(x)
    mat = npr.randn(2, 3)**2 / 10.0 + 0.1  # Gradient unstable when zeros are present.
    check_grads(fun)(mat)


def test_prod_2():
    def fun(x): return np.prod(x, axis=0)
    mat = npr.randn(2, 3)**2 + 0.1
    check_grads(fun)(mat)


def test_prod_3():
    def fun(x): return np.prod(x, axis=0, keepdims=True)
    mat = npr.randn(2, 3)**2 + 0.1
    check_grads(fun)(mat)


def test_prod_4():
    def fun(x): return np.prod(x)
    mat = npr.randn(7)**2 + 0.1
    check_grads(fun)(mat)


def test_1d_array():
    def fun(x):
        return np.array([x, x * 1.0, x + 2.5])
    check_grads(fun)(3.0)


def test_2d_array():
    def fun(x):
        return np.array([[x, x * 1.0, x + 2.5],
                         [x**2, x, x / 2.0]])
    check_grads(fun)(3.0)


def test_1d_array_fanout():
    def fun(x):
        A = np.array([x, x * 1.0, x + 2.5])
        return A + A
    check_grads(fun)(3.0)


def test_2d_array_fanout():
    def fun(x):
        A = np.array([[x, x * 1.0, x + 2.5],
                      [x**2, x, x / 2.0]])
        return A + A
    check_grads(fun)(3.0)


def test_array_from_scalar():
    def fun(x):
        return np.array(x)
    check_grads(fun)(3.0)


def test_array_from_arrays():
    def fun(x):
        return np.array([x, x])
    A = npr.randn(3, 2)
    check_grads(fun)(A)


def test_array_from_arrays_2():
    def fun(x):
        return np.array([[2 * x, x + 1],
                         [x, x]])
    A = npr.randn(3, 2)
    check_grads(fun)(A)


def test_len():
    def fun(x):
        assert len(x) == 3
        return x
    A = npr.randn(3, 2)
    check_grads(fun)(A)


def test_r_basic():
    def fun(x):
        return np.r_[x]
    A = npr.randn(3, 2)
    check_grads(fun)(A)


def test_r_double():
    def fun(x):
        return np.r_[x, x]
    A = npr.randn(3, 2)
    check_grads(fun)(A)


def test_no_relation():
    c = npr.randn(3, 2)

    def fun(x):
        return c
    A = npr.randn(3, 2)
    check_grads(fun)(A)


def test_r_no_relation():
    c = npr.randn(3, 2)

    def fun(x):
        return np.r_[c]
    A = npr.randn(3, 2)
    check_grads(fun)(A)


def test_r_node_and_const():
    c = npr.randn(3, 2)

    def fun(x):
        return np.r_[x, c]
    A = npr.randn(3, 2)
    check_grads(fun)(A)


def test_r_mixed():
    c = npr.randn(3, 2)

    def fun(x):
        return np.r_[x, c, x]
    A = npr.randn(3, 2)
    check_grads(fun)(A)


def test_r_slicing():
    c = npr.randn(10)

    def fun(x):
        return np.r_[x, c, 1:10]
    A = npr.randn(10)
    check_grads(fun)(A)


def test_c_():
    c = npr.randn(3, 2)

    def fun(x):
        return np.c_[x, c, x]
    A = npr.randn(3, 2)
    check_grads(fun)(A)


def test_c_mixed():
    c = npr.randn(3, 2)

    def fun(x):
        return np.c_[x, c, x]
    A = npr.randn(3, 2)
    check_grads(fun)(A)


def test_var_ddof():
    B = npr.randn(3)
    C = npr.randn(3, 4)
    D = npr.randn(1, 3)
    combo_check(np.var, (0,), [B, C, D], axis=[None], keepdims=[True, False], ddof=[0, 1])
    combo_check(np.var, (0,), [C, D], axis=[None, 1], keepdims=[True, False], ddof=[2])


def test_std_ddof():
    B = npr.randn(3)
    C = npr.randn(3, 4)
    D = npr.randn(1, 3)
    combo_check(np.std, (0,), [B, C, D], axis=[None], keepdims=[True, False], ddof=[0, 1])
    combo_check(np.std, (0,), [C, D], axis=[None, 1], keepdims=[True, False], ddof=[2])


def test_where():
    C = npr.randn(4, 5) > 0

    def fun(x, y):
        return np.where(C, x, y)
    A = npr.randn(4, 5)
    B = npr.randn(4, 5)
    check_grads(fun)(A, B)


def test_squeeze_func():
    A = npr.randn(5, 1, 4)
    def fun(x): return np.squeeze(x)
    check_grads(fun)(A)


def test_squeeze_method():
    A = npr.randn(5, 1, 4)
    def fun(x): return x.squeeze()
    check_grads(fun)(A)


def test_repeat():
    A = npr.randn(5, 3, 4)
    def fun(x): return np.repeat(x, 2, axis=1)
    check_grads(fun)(A)


def test_repeat_axis1_rep1():
    A = npr.randn(5, 3, 4)
    def fun(x): return np.repeat(x, 1, axis=1)
    check_grads(fun)(A)


def test_repeat_axis0():
    A = npr.randn(5, 3)
    def fun(x): return np.repeat(x, 2, axis=0)
    check_grads(fun)(A)


def test_repeat_1d_axis0():
    A = npr.randn(5)
    def fun(x): return np.repeat(x, 2, axis=0)
    check_grads(fun)(A)


def test_repeat_axis0_rep1():
    A = npr.randn(5, 1)
    def fun(x): return np.repeat(x, 1, axis=0)
    check_grads(fun)(A)


def test_expand_dims():
    A = npr.randn(5, 1, 4)
    def fun(x): return np.expand_dims(x, 2)
    check_grads(fun)(A)


def test_tensordot_kwargs_by_position():
    def fun(x):
        return np.tensordot(x * np.ones((2, 2)), x * np.ones((2, 2)), 2)
    assert onp.allclose(grad(fun)(1.0), 8.0)


def test_multi_index():
    A = npr.randn(3)
    def fun(x): return np.sum(x[[0, 0]])
    check_grads(fun)(A)


def test_multi_index2():
    A = npr.randn(3)
    def fun(x): return np.sum(x[[0, 1, 0]])
    check_grads(fun)(A)


def test_index_dot_slices():
    A = npr.randn(4)
    def fun(x): return np.dot(x[:2], x[2:])
    check_grads(fun)(A)


def test_cast_to_int():
    inds = np.ones(5)[:, None]

    def fun(W):
        # glue W and inds together
        np.concatenate((W, inds), axis=1)
        # separate W and inds back out
        new_W = W[:, :-1]
        # autograd's np.int64(W[:, -1]): NumPy's scalar types cannot take a traced array
        new_inds = W[:, -1].astype(np.int64)
        assert new_inds.dtype == np.int64
        return new_W[new_inds].sum()

    W = np.random.randn(5, 10)
    W[:, -1] = onp.arange(5) % 3 + 0.5  # indices 0..2, away from truncation jumps
    check_grads(fun)(W)


# test_make_diagonal: autograd.numpy.make_diagonal is autograd-specific (NumPy has none).


def test_diagonal():
    def fun(D):
        return np.diagonal(D, axis1=-1, axis2=-2)

    D = np.random.randn(4, 4)
    check_grads(fun)(D)

    D = np.random.randn(3, 4, 4)
    check_grads(fun)(D)


def test_nan_to_num():
    y = np.array([0., np.nan, np.inf, -np.inf])
    def fun(x): return np.sum(np.sin(np.nan_to_num(x + y)))

    x = np.random.randn(4)
    check_grads(fun)(x)


def test_max_equal_values():
    def fun(x): return np.max(np.array([x, x]))
    check_grads(fun)(1.0)


def test_max_equal_values_2d():
    def fun(x): return np.max(np.array([[x, x],
                                        [x, 0.5]]), axis=1)
    check_grads(fun)(1.0)
    check_grads(fun)(-1.0)


def test_min_3_way_equality():
    def fun(x): return np.min(np.array([[x, x, x],
                                        [x, 0.5, 0.5],
                                        [0.5, 0.5, 0.5],
                                        [x, x, 0.5]]), axis=0)
    check_grads(fun)(1.0)
    check_grads(fun)(-1.0)


def test_maximum_equal_values():
    def fun(x): return np.maximum(x, x)
    check_grads(fun)(1.0)


def test_maximum_equal_values_2d():
    def fun(x): return np.maximum(
        np.array([x, x, 0.5]),
        np.array([[x, 0.5, x],
                  [x, x, 0.5]]))

    check_grads(fun)(1.0)
    check_grads(fun)(-1.0)
    check_grads(fun)(2.0)


def test_linspace():
    for num in [0, 1, 5]:
        def fun(x, y, num=num): return np.linspace(x, y, num)

        check_grads(fun)(1.2, 3.4)
        check_grads(fun)(1.2, -3.4)
        check_grads(fun)(1.2, 1.2)


def test_astype():
    x = np.arange(3, dtype='float32')
    def f(x): return np.sum(np.sin(x.astype('float64')))
    assert grad(f)(x).dtype == np.dtype('float32')


# ---------------------------------------------------------------------------------------
# tests/test_scalar_ops.py
# ---------------------------------------------------------------------------------------


def _scalar_check(fun, x, dx):
    check_grads(fun)(x)
    check_grads(grad(fun))(dx)


def test_scalar_abs():
    def fun(x): return 3.0 * np.abs(x)
    check_grads(fun)(1.1)
    check_grads(fun)(-1.1)
    check_grads(fun, order=1)(0.)
    check_grads(grad(fun))(1.1)
    check_grads(grad(fun))(-1.1)


def test_scalar_sin():
    _scalar_check(lambda x: 3.0 * np.sin(x), npr.randn(), npr.randn())


def test_scalar_sign():
    def fun(x): return 3.0 * np.sign(x)
    check_grads(fun)(1.1)
    check_grads(fun)(-1.1)
    check_grads(grad(fun))(1.1)
    check_grads(grad(fun))(-1.1)


def test_scalar_exp():
    _scalar_check(lambda x: 3.0 * np.exp(x), npr.randn(), npr.randn())


def test_scalar_log():
    _scalar_check(lambda x: 3.0 * np.log(x), abs(npr.randn()), abs(npr.randn()))


def test_scalar_log2():
    _scalar_check(lambda x: 3.0 * np.log2(x), abs(npr.randn()), abs(npr.randn()))


def test_scalar_log10():
    _scalar_check(lambda x: 3.0 * np.log10(x), abs(npr.randn()), abs(npr.randn()))


def test_scalar_log1p():
    _scalar_check(lambda x: 3.0 * np.log1p(x), abs(npr.randn()), abs(npr.randn()))


def test_scalar_expm1():
    _scalar_check(lambda x: 3.0 * np.expm1(x), abs(npr.randn()), abs(npr.randn()))


def test_scalar_exp2():
    _scalar_check(lambda x: 3.0 * np.exp2(x), abs(npr.randn()), abs(npr.randn()))


def test_scalar_neg():
    _scalar_check(lambda x: 3.0 * - x, npr.randn(), npr.randn())


def test_scalar_cos():
    _scalar_check(lambda x: 3.0 * np.cos(x), npr.randn(), npr.randn())


def test_scalar_tan():
    _scalar_check(lambda x: 3.0 * np.tan(x), npr.randn(), npr.randn())


def test_scalar_cosh():
    _scalar_check(lambda x: 3.0 * np.cosh(x), npr.randn(), npr.randn())


def test_scalar_sinh():
    _scalar_check(lambda x: 3.0 * np.sinh(x), npr.randn(), npr.randn())


def test_scalar_tanh():
    _scalar_check(lambda x: 3.0 * np.tanh(x), npr.randn(), npr.randn())


def test_scalar_arccos():
    _scalar_check(lambda x: 3.0 * np.arccos(x), 0.1, 0.2)


def test_scalar_arcsin():
    _scalar_check(lambda x: 3.0 * np.arcsin(x), 0.1, 0.2)


def test_scalar_arctan():
    _scalar_check(lambda x: 3.0 * np.arctan(x), 0.2, 0.3)


def test_scalar_arccosh():
    _scalar_check(lambda x: 3.0 * np.arccosh(x), npr.randn()**2 + 1, npr.randn()**2 + 1)


def test_scalar_arcsinh():
    _scalar_check(lambda x: 3.0 * np.arcsinh(x), npr.randn(), npr.randn())


def test_scalar_arctanh():
    _scalar_check(lambda x: 3.0 * np.arctanh(x), 0.2, 0.3)


def test_scalar_sqrt():
    _scalar_check(lambda x: 3.0 * np.sqrt(x), 10.0 * npr.rand(), 10.0 * npr.rand())


def test_power_arg0():
    # the +1.'s here are to avoid regimes where numerical diffs fail
    def make_fun(y): return lambda x: np.power(x, y)
    fun = make_fun(npr.randn()**2 + 1.)
    _scalar_check(fun, npr.rand()**2 + 1., npr.rand()**2 + 1.)

    # test y == 0. as a special case, c.f. #116
    fun = make_fun(0.)
    assert grad(fun)(0.) == 0.
    assert grad(grad(fun))(0.) == 0.


def test_power_arg1():
    x = npr.randn()**2
    _scalar_check(lambda y: np.power(x, y), npr.rand()**2, npr.rand()**2)


def test_power_arg1_zero():
    _scalar_check(lambda y: np.power(0., y), npr.rand()**2, npr.rand()**2)


@pytest.mark.parametrize("name", ["mod", "divide", "multiply", "true_divide"])
@pytest.mark.parametrize("argnum", [0, 1])
def test_scalar_binary(name, argnum):
    f = getattr(np, name)
    def fun(x, y): return f(x, y)
    check_grads(fun)(npr.rand(), npr.rand())
    check_grads(grad(fun, argnum))(npr.rand(), npr.rand())


def test_scalar_reciprocal():
    _scalar_check(np.reciprocal, npr.rand(), npr.rand())


def test_scalar_negative():
    _scalar_check(np.negative, npr.rand(), npr.rand())


@pytest.mark.parametrize("name", ["rad2deg", "deg2rad", "radians", "degrees", "sinc"])
def test_scalar_angle_units(name):
    f = getattr(np, name)
    _scalar_check(lambda x: 3.0 * f(x), 10.0 * npr.rand(), 10.0 * npr.rand())


# ---------------------------------------------------------------------------------------
# tests/test_systematic.py
# ---------------------------------------------------------------------------------------

R = npr.randn


@pytest.mark.parametrize("name", ["max", "all", "any", "mean", "min", "sum", "prod", "var",
                                  "std"])
def test_stat(name):
    stat_check(getattr(np, name))


_UNARY = [
    ("sin", {}), ("abs", dict(lims=[0.1, 4.0])), ("absolute", dict(lims=[0.1, 4.0])),
    ("arccosh", dict(lims=[1.1, 4.0])), ("arcsinh", dict(lims=[-0.9, 0.9])),
    ("arctanh", dict(lims=[-0.9, 0.9])), ("ceil", dict(lims=[-1.5, 1.5], test_complex=False)),
    ("cos", {}), ("cosh", {}), ("deg2rad", dict(test_complex=False)), ("exp", {}),
    ("exp2", {}), ("expm1", {}), ("fabs", dict(test_complex=False)),
    ("floor", dict(lims=[-1.5, 1.5], test_complex=False)), ("log", dict(lims=[0.2, 2.0])),
    ("log10", dict(lims=[0.2, 2.0])), ("log1p", dict(lims=[0.2, 2.0])),
    ("log2", dict(lims=[0.2, 2.0])), ("radians", dict(test_complex=False)), ("sign", {}),
    ("sinh", {}), ("sqrt", dict(lims=[1.0, 3.0])), ("square", dict(test_complex=False)),
    ("tan", dict(lims=[-1.1, 1.1])), ("tanh", {}), ("real", {}), ("real_if_close", {}),
    ("imag", {}), ("conj", {}), ("angle", {}),
]


@pytest.mark.parametrize("name,kw", _UNARY, ids=[u[0] for u in _UNARY])
def test_unary_ufunc(name, kw):
    unary_ufunc_check(getattr(np, name), **kw)


def test_degrees():
    unary_ufunc_check(lambda x: np.degrees(x) / 50.0, test_complex=False)


def test_rad2deg():
    unary_ufunc_check(lambda x: np.rad2deg(x) / 50.0, test_complex=False)


def test_add():
    binary_ufunc_check(np.add)


def test_logaddexp():
    binary_ufunc_check(np.logaddexp, test_complex=False)


def test_logaddexp2():
    binary_ufunc_check(np.logaddexp2, test_complex=False)


def test_remainder():
    binary_ufunc_check_no_same_args(np.remainder, lims_A=[-0.9, 0.9], lims_B=[0.7, 1.9],
                                    test_complex=False)


def test_true_divide():
    binary_ufunc_check(np.true_divide, lims_B=[0.8, 1.2], test_complex=False)


def test_mod():
    binary_ufunc_check_no_same_args(np.mod, lims_B=[0.8, 2.1], test_complex=False)


def test_true_divide_neg():
    binary_ufunc_check(np.true_divide, lims_B=[-0.3, -2.0], test_complex=False)


def test_mod_neg():
    binary_ufunc_check_no_same_args(np.mod, lims_B=[-0.3, -2.0], test_complex=False)


def test_op_mul():
    binary_ufunc_check(op.mul)


def test_op_add():
    binary_ufunc_check(op.add)


def test_op_sub():
    binary_ufunc_check(op.sub)


def test_op_mod():
    binary_ufunc_check_no_same_args(op.mod, lims_B=[0.3, 2.0], test_complex=False)


def test_op_mod_neg():
    binary_ufunc_check_no_same_args(op.mod, lims_B=[-0.3, -2.0], test_complex=False)


def test_op_div():
    binary_ufunc_check(op.truediv, lims_B=[0.5, 2.0])


def test_op_pow():
    binary_ufunc_check(op.pow, lims_A=[0.7, 2.0])


def test_sys_transpose():
    combo_check(np.transpose, [0], [R(2, 3, 4)],
                axes=[None, [0, 1, 2], [0, 2, 1], [2, 0, 1], [2, 1, 0], [1, 0, 2], [1, 2, 0]])


def test_sys_repeat():
    combo_check(np.repeat, [0], [R(2, 3, 4), R(3, 1)], repeats=[0, 1, 2], axis=[None, 0, 1])


def test_diff():
    combo_check(np.diff, [0], [R(5, 5), R(5, 5, 5)], n=[1, 2], axis=[0, 1])
    combo_check(np.diff, [0], [R(1), R(1, 1)], axis=[0])
    combo_check(np.diff, [0], [R(1, 1), R(3, 1)], axis=[1])


def test_tile():
    combo_check(np.tile, [0], [R(2, 1, 3, 1)], reps=[(1, 4, 1, 2)])
    combo_check(np.tile, [0], [R(1, 2)], reps=[(1, 2), (2, 3), (3, 2, 1)])
    combo_check(np.tile, [0], [R(1)], reps=[(2,), 2])


def test_kron():
    combo_check(np.kron, [0, 1], [R(5, 5), R(4, 4)], [R(3, 3), R(2, 2)])


def test_inner():
    combo_check(np.inner, [0, 1], [1.5, R(3), R(2, 3)], [0.3, R(3), R(4, 3)])


def test_sys_dot():
    combo_check(np.dot, [0, 1], [1.5, R(3), R(2, 3), R(2, 2, 3)],
                [0.3, R(3), R(3, 4), R(2, 3, 4)])


def test_matmul():
    combo_check(np.matmul, [0, 1], [R(3), R(2, 3), R(2, 2, 3)], [R(3), R(3, 4), R(2, 3, 4)])


def test_tensordot_1():
    combo_check(np.tensordot, [0, 1], [R(1, 3), R(2, 3, 2)], [R(3), R(3, 1), R(3, 4, 2)],
                axes=[[(1,), (0,)]])


def test_tensordot_2():
    combo_check(np.tensordot, [0, 1], [R(3), R(3, 1), R(3, 4, 2)], [R(1, 3), R(2, 3, 2)],
                axes=[[(0,), (1,)]])


def test_tensordot_3():
    combo_check(np.tensordot, [0, 1], [R(2, 3), R(2, 3, 4)], [R(1, 2, 3), R(2, 2, 3, 4)],
                axes=[[(0, 1), (1, 2)], [(1, 0), (2, 1)]])


def test_tensordot_4():
    combo_check(np.tensordot, [0, 1], [R(2, 2), R(4, 2, 2)], [R(2, 2), R(2, 2, 4)], axes=[1, 2])


def test_tensordot_5():
    combo_check(np.tensordot, [0, 1], [R(4)], [R()], axes=[0])


def test_tensordot_6():
    combo_check(np.tensordot, [0, 1], [R(2, 6)], [R(6, 3)], axes=[[[-1], [0]]])


@pytest.mark.parametrize("name", ["maximum", "fmax", "minimum", "fmin"])
def test_maximum_family(name):
    combo_check(getattr(np, name), [0, 1], [R(1), R(1, 4), R(3, 4)], [R(1), R(1, 4), R(3, 4)])


def test_sort():
    combo_check(np.sort, [0], [R(1), R(7)])


def test_msort():  # np.msort was removed in NumPy 2; its meaning is np.sort(a, axis=0)
    combo_check(partial(np.sort, axis=0), [0], [R(1), R(7)])


def test_partition():
    combo_check(np.partition, [0], [R(7), R(14)], kth=[0, 3, 6])


def test_atleast_1d():
    combo_check(np.atleast_1d, [0], [1.2, R(1), R(7), R(1, 4), R(2, 4), R(2, 4, 5)])


def test_atleast_2d():
    combo_check(np.atleast_2d, [0], [1.2, R(1), R(7), R(1, 4), R(2, 4), R(2, 4, 5)])


def test_atleast_3d():
    combo_check(np.atleast_3d, [0], [1.2, R(1), R(7), R(1, 4), R(2, 4), R(2, 4, 5),
                                     R(2, 4, 3, 5)])


def test_einsum_transpose():
    combo_check(np.einsum, [1], ['ij->ji'], [R(1, 1), R(4, 4), R(3, 4)])


def test_einsum_matmult():
    combo_check(np.einsum, [1, 2], ['ij,jk->ik'], [R(2, 3)], [R(3, 4)])


def test_einsum_matmult_broadcast():
    combo_check(np.einsum, [1, 2], ['...ij,...jk->...ik'], [R(2, 3), R(2, 2, 3)],
                [R(3, 4), R(2, 3, 4)])


def test_einsum_covsum():
    combo_check(np.einsum, [1, 2], ['ijk,lji->lki'], [R(3, 4, 4)], [R(4, 4, 3)])


def test_einsum_ellipses():
    combo_check(np.einsum, [1, 2], ['...jk,...lj->...lk', '...,...->...'],
                [R(4, 4), R(3, 4, 4)], [R(4, 4), R(3, 4, 4)])


def test_einsum_ellipses_tail():
    combo_check(np.einsum, [1, 2], ['jk...,lj...->lk...'], [R(3, 2), R(3, 2, 4)],
                [R(2, 3), R(2, 3, 4)])


def test_einsum_ellipses_center():
    combo_check(np.einsum, [1, 2], ['j...k,lj...->lk...'], [R(2, 2), R(2, 2, 2)],
                [R(2, 2), R(2, 2, 2)])


def test_einsum_three_args():
    combo_check(np.einsum, [1, 2], ['ijk,lji,lli->lki'], [R(3, 4, 4)], [R(4, 4, 3)],
                [R(4, 4, 3)])


def test_einsum2_transpose():
    combo_check(np.einsum, [0], [R(1, 1), R(4, 4), R(3, 4)], [(0, 1)], [(1, 0)])


def test_einsum2_matmult():
    combo_check(np.einsum, [0, 2], [R(2, 3)], [(0, 1)], [R(3, 4)], [(1, 2)], [(0, 2)])


def test_einsum2_matmult_broadcast():
    combo_check(np.einsum, [0, 2], [R(2, 3), R(2, 2, 3)], [(Ellipsis, 0, 1)],
                [R(3, 4), R(2, 3, 4)], [(Ellipsis, 1, 2)], [(Ellipsis, 0, 2)])


def test_einsum2_covsum():
    combo_check(np.einsum, [0, 2], [R(3, 4, 4)], [(0, 1, 2)], [R(4, 4, 3)], [(3, 1, 0)],
                [(3, 2, 0)])


def test_einsum2_three_args():
    combo_check(np.einsum, [0, 2], [R(3, 4, 4)], [(0, 1, 2)], [R(4, 4, 3)], [(3, 1, 0)],
                [R(4, 4, 3)], [(3, 3, 0)], [(3, 2, 0)])


def test_sys_trace():
    combo_check(np.trace, [0], [R(5, 5), R(4, 5), R(5, 4), R(3, 4, 5)], offset=[-1, 0, 1])


def test_sys_diag():
    combo_check(np.diag, [0], [R(5, 5)], k=[-1, 0, 1])


def test_diag_flat():
    combo_check(np.diag, [0], [R(5)], k=[-1, 0, 1])


def test_sys_tril():
    combo_check(np.tril, [0], [R(5, 5)], k=[-1, 0, 1])


def test_sys_triu():  # autograd's test_triu checks np.tril; this one checks np.triu
    combo_check(np.triu, [0], [R(5, 5)], k=[-1, 0, 1])


def test_tril_3d():
    combo_check(np.tril, [0], [R(5, 5, 4)], k=[-1, 0, 1])


def test_triu_3d():
    combo_check(np.triu, [0], [R(5, 5, 4)], k=[-1, 0, 1])


def test_swapaxes():
    combo_check(np.swapaxes, [0], [R(3, 4, 5)], axis1=[0, 1, 2], axis2=[0, 1, 2])


def test_rollaxis():
    combo_check(np.rollaxis, [0], [R(2, 3, 4)], axis=[0, 1, 2], start=[0, 1, 2, 3])


def test_cross():
    combo_check(np.cross, [0, 1], [R(3, 3)], [R(3, 3)], axisa=[-1, 0, 1], axisb=[-1, 0, 1],
                axisc=[-1, 0, 1], axis=[None, -1, 0, 1])


def test_vsplit_2d():
    combo_check(np.vsplit, [0], [R(4, 8)], [4, [1, 2]])


def test_vsplit_3d():
    combo_check(np.vsplit, [0], [R(4, 4, 4)], [2, [1, 2]])


def test_hsplit_2d():
    combo_check(np.hsplit, [0], [R(4, 8)], [4, [1, 2]])


def test_hsplit_3d():
    combo_check(np.hsplit, [0], [R(4, 4, 4)], [2, [1, 2]])


def test_dsplit_3d():
    combo_check(np.dsplit, [0], [R(4, 4, 4)], [2, [1, 2]])


def test_split_1d():
    combo_check(np.split, [0], [R(1), R(7)], [1], axis=[0])


def test_split_2d():
    combo_check(np.split, [0], [R(4, 8)], [4, [1, 2]], axis=[0, 1])


def test_split_3d():
    combo_check(np.split, [0], [R(4, 4, 4)], [2, [1, 2]], axis=[0, 1, 2])


def test_array_split_1d():
    combo_check(np.array_split, [0], [R(1), R(7)], [1, 3], axis=[0])


def test_array_split_2d():
    combo_check(np.array_split, [0], [R(7, 7)], [4, [3, 5]], axis=[0, 1])


def test_array_split_3d():
    combo_check(np.array_split, [0], [R(7, 7, 7)], [4, [3, 5]], axis=[0, 1, 2])


def test_concatenate_1ist():
    combo_check(np.concatenate, [0], [(R(1), R(3))], axis=[0])


def test_concatenate_tuple():
    combo_check(np.concatenate, [0], [[R(1), R(3)]], axis=[0])


def test_concatenate_2d():
    combo_check(np.concatenate, [0], [(R(2, 2), R(2, 2))], axis=[0, 1])


def test_concatenate_3d():
    combo_check(np.concatenate, [0], [(R(2, 2, 2), R(2, 2, 2))], axis=[0, 1, 2])


def test_vstack_1d():
    combo_check(np.vstack, [0], [R(2), (R(2), R(2))])


def test_vstack_2d():
    combo_check(np.vstack, [0], [R(2, 3), (R(2, 4), R(1, 4))])


def test_vstack_3d():
    combo_check(np.vstack, [0], [R(2, 3, 4), (R(2, 3, 4), R(5, 3, 4))])


def test_hstack_1d():
    combo_check(np.hstack, [0], [R(2), (R(2), R(2))])


def test_hstack_2d():
    combo_check(np.hstack, [0], [R(3, 2), (R(3, 4), R(3, 5))])


def test_hstack_3d():
    combo_check(np.hstack, [0], [R(2, 3, 4), (R(2, 1, 4), R(2, 5, 4))])


def test_stack_1d():
    combo_check(np.stack, [0], [(R(2),), (R(2), R(2))], axis=[0, 1])


def test_row_stack_1d():
    combo_check(np.row_stack, [0], [R(2), (R(2), R(2))])


def test_row_stack_2d():
    combo_check(np.row_stack, [0], [R(2, 3), (R(2, 4), R(1, 4))])


def test_column_stack_1d():
    combo_check(np.column_stack, [0], [R(2), (R(2), R(2))])


def test_column_stack_2d():
    combo_check(np.column_stack, [0], [R(2, 2), (R(2, 2), R(2, 2))])


def test_select():
    combo_check(np.select, [1], [[R(3, 4, 5) > 0, R(3, 4, 5) > 0, R(3, 4, 5) > 0]],
                [[R(3, 4, 5), R(3, 4, 5), R(3, 4, 5)]], default=[0.0, 1.1])


# ---------------------------------------------------------------------------------------
# tests/test_binary_ops.py
# ---------------------------------------------------------------------------------------


def arg_pairs():
    rs = npr.RandomState(0)
    scalar = 2.0
    vector = rs.randn(4)
    mat = rs.randn(3, 4)
    mat2 = rs.randn(1, 4)
    allargs = [scalar, vector, mat, mat2]
    yield from it.product(allargs, allargs)


def test_binary_mul():
    for arg1, arg2 in arg_pairs():
        check_grads(lambda x, y: x * y)(arg1, arg2)


def test_binary_add():
    for arg1, arg2 in arg_pairs():
        check_grads(lambda x, y: x + y)(arg1, arg2)


def test_binary_sub():
    for arg1, arg2 in arg_pairs():
        check_grads(lambda x, y: x - y)(arg1, arg2)


def test_binary_div():
    def make_gap_from_zero(x): return onp.sqrt(x**2 + 0.5)
    for arg1, arg2 in arg_pairs():
        check_grads(lambda x, y: x / y)(make_gap_from_zero(arg1), make_gap_from_zero(arg2))


def test_binary_mod():
    def make_gap_from_zero(x): return onp.sqrt(x**2 + 0.5)
    for arg1, arg2 in arg_pairs():
        if arg1 is not arg2:  # Gradient undefined at x == y
            check_grads(lambda x, y: x % y)(make_gap_from_zero(arg1), make_gap_from_zero(arg2))


def test_binary_pow():
    def make_positive(x): return onp.abs(x) + 1.1  # Numeric derivatives fail near zero
    for arg1, arg2 in arg_pairs():
        check_grads(lambda x, y: x ** y)(make_positive(arg1), arg2)


_COMPARE_FUNS = [lambda x, y: np.sum(x < x) + 0.0,
                 lambda x, y: np.sum(x <= y) + 0.0,
                 lambda x, y: np.sum(x > y) + 0.0,
                 lambda x, y: np.sum(x >= y) + 0.0,
                 lambda x, y: np.sum(x == y) + 0.0,
                 lambda x, y: np.sum(x != y) + 0.0]


def test_comparison_grads():
    for arg1, arg2 in arg_pairs():
        zeros = (arg1 + arg2) * 0  # get correct shape
        for fun in _COMPARE_FUNS:
            assert np.all(grad(fun)(arg1, arg2) == zeros)
            assert np.all(grad(fun, argnum=1)(arg1, arg2) == zeros)


def test_comparison_values():
    for arg1, arg2 in arg_pairs():
        for fun in _COMPARE_FUNS:
            fun_val = fun(arg1, arg2)
            fun_val_from_grad, _ = value_and_grad(fun)(arg1, arg2)
            assert fun_val == fun_val_from_grad, (fun_val, fun_val_from_grad)


# ---------------------------------------------------------------------------------------
# tests/test_wrappers.py
# ---------------------------------------------------------------------------------------


def test_return_both():
    def fun(x): return 3.0 * x**3.2
    d_fun = grad(fun)
    f_and_d_fun = value_and_grad(fun)

    test_x = 1.7
    f, d = f_and_d_fun(test_x)
    assert f == fun(test_x)
    assert d == d_fun(test_x)


def test_value_and_grad():
    def fun(x): return np.sum(np.sin(x)**2)
    dfun = grad(fun)
    dfun_both = value_and_grad(fun)
    x = npr.randn(5)
    check_equivalent(fun(x), dfun_both(x)[0])
    check_equivalent(dfun(x), dfun_both(x)[1])


def test_hessian():
    # Check Hessian of a quadratic function.
    D = 5
    H = npr.randn(D, D)
    def fun(x): return np.dot(np.dot(x, H), x)
    hess = hessian(fun)
    x = npr.randn(D)
    check_equivalent(hess(x), H + H.T)


def test_multigrad():
    def complicated_fun(a, b, c, d, e, f=1.1, g=9.0):
        return a + np.sin(b) + np.cosh(c) + np.cos(d) + np.tan(e) + f + g

    A, B, C, D, E, F, G = 0.5, -0.3, 0.2, -1.1, 0.7, 0.6, -0.1

    def complicated_fun_3_1(d, b):
        return complicated_fun(A, b, C, d, E, f=F, g=G)

    exact = multigrad(complicated_fun, argnums=[3, 1])(A, B, C, D, E, f=F, g=G)
    numeric = nd(complicated_fun_3_1, D, B)
    check_equivalent(exact, numeric)


def test_multigrad_onearg():
    def fun(x, y): return np.sum(x + np.sin(y))
    def packed_fun(xy): return np.sum(xy[0] + np.sin(xy[1]))
    A, B = npr.randn(3), npr.randn(3)
    check_equivalent(multigrad(fun)(A, B), (grad(packed_fun)((A, B))[0],))


def test_elementwise_grad():
    def simple_fun(a):
        return a + np.sin(a) + np.cosh(a)

    A = npr.randn(10)
    exact = elementwise_grad(simple_fun)(A)
    numeric = onp.squeeze(onp.array([nd(simple_fun, A[i]) for i in range(len(A))]))
    check_equivalent(exact, numeric)


def test_elementwise_grad_multiple_args():
    def simple_fun(a, b):
        return a + np.sin(a) + np.cosh(b)

    A = 0.9
    B = npr.randn(10)
    argnum = 1
    exact = elementwise_grad(simple_fun, argnum=argnum)(A, B)
    numeric = onp.squeeze(onp.array([nd(simple_fun, A, B[i])[argnum] for i in range(len(B))]))
    check_equivalent(exact, numeric)


def test_hessian_vector_product():
    def fun(a): return np.sum(np.sin(a))
    a = npr.randn(5)
    v = npr.randn(5)
    H = hessian(fun)(a)
    check_equivalent(np.dot(H, v), hessian_vector_product(fun)(a, v))


def test_hessian_matrix_product():
    def fun(a): return np.sum(np.sin(a))
    a = npr.randn(5, 4)
    V = npr.randn(5, 4)
    H = hessian(fun)(a)
    check_equivalent(np.tensordot(H, V), hessian_vector_product(fun)(a, V))


def test_hessian_tensor_product():
    def fun(a): return np.sum(np.sin(a))
    a = npr.randn(5, 4, 3)
    V = npr.randn(5, 4, 3)
    H = hessian(fun)(a)
    check_equivalent(np.tensordot(H, V, axes=np.ndim(V)), hessian_vector_product(fun)(a, V))


def test_vector_jacobian_product():
    # This function will have an asymmetric jacobian matrix.
    def fun(a): return np.roll(np.sin(a), 1)
    a = npr.randn(5)
    V = npr.randn(5)
    J = jacobian(fun)(a)
    check_equivalent(np.dot(V.T, J), vector_jacobian_product(fun)(a, V))


def test_matrix_jacobian_product():
    def fun(a): return np.roll(np.sin(a), 1)
    a = npr.randn(5, 4)
    V = npr.randn(5, 4)
    J = jacobian(fun)(a)
    check_equivalent(np.tensordot(V, J), vector_jacobian_product(fun)(a, V))


def test_tensor_jacobian_product():
    def fun(a): return np.roll(np.sin(a), 1)
    a = npr.randn(5, 4, 3)
    V = npr.randn(5, 4, 3)  # autograd used a (5, 4) V, which chainrule rejects (see below)
    J = jacobian(fun)(a)
    check_equivalent(np.tensordot(V, J, axes=np.ndim(V)), vector_jacobian_product(fun)(a, V))
    with pytest.raises(ValueError, match="cotangent has shape"):
        vector_jacobian_product(fun)(a, npr.randn(5, 4))


def test_primitive_defvjp():  # autograd's test_deprecated_defgrad_wrapper, with defvjp
    @cr.primitive
    def new_mul(x, y):
        return x * y
    cr.defvjp(new_mul, lambda ans, x, y: lambda g: y * g, lambda ans, x, y: lambda g: x * g)

    mat1 = npr.randn(2, 2)
    mat2 = npr.randn(2, 2)
    check_grads(lambda x, y: np.sum(new_mul(x, y)), modes=["rev"], order=1)(mat1, mat2)


def test_partial():
    def f(x, y):
        return x
    assert grad(partial(f, y=1))(2.0) == 1.0


def test_dtypes():
    def f(x):
        return np.sum(x**2)

    y = np.random.randn(10, 10).astype(np.float32)
    assert grad(f)(y).dtype.type is np.float32

    y = np.random.randn(10, 10).astype(np.float16)
    assert grad(f)(y).dtype.type is np.float16


def test_checkpoint_correctness():
    def bar(x, y): return 2 * x + y + 5
    checkpointed_bar = cr.checkpoint(bar)
    def foo(x): return bar(x, x / 3.) + bar(x, x**2)
    def foo2(x): return checkpointed_bar(x, x / 3.) + checkpointed_bar(x, x**2)
    assert onp.allclose(foo(3.), foo2(3.))
    assert onp.allclose(grad(foo)(3.), grad(foo2)(3.))

    def baz(*args): return sum(args)
    checkpointed_baz = cr.checkpoint(baz)
    def foobaz(x): return baz(x, x / 3.)
    def foobaz2(x): return checkpointed_baz(x, x / 3.)
    assert onp.allclose(foobaz(3.), foobaz2(3.))
    assert onp.allclose(grad(foobaz)(3.), grad(foobaz2)(3.))


# ---------------------------------------------------------------------------------------
# tests/test_linalg.py
# ---------------------------------------------------------------------------------------


def T(A): return np.swapaxes(A, -1, -2)


def check_symmetric_matrix_grads(fun, **grad_check_kwargs):
    def check(*args):
        def symmetrize(A):
            L = np.tril(A)
            return (L + T(L)) / 2.
        def new_fun(*args): return fun(symmetrize(args[0]), *args[1:])
        check_grads(new_fun, **grad_check_kwargs)(*args)
    return check


def rand_psd(D):
    mat = npr.randn(D, D)
    return onp.dot(mat, mat.T)


def test_inv():
    def fun(x): return np.linalg.inv(x)
    D = 8
    mat = npr.randn(D, D)
    mat = onp.dot(mat, mat) + 1.0 * onp.eye(D)
    check_grads(fun)(mat)


def test_inv_3d():
    def fun(x): return np.linalg.inv(x)
    D = 4
    mat = npr.randn(D, D, D) + 5 * onp.eye(D)
    check_grads(fun)(mat)
    mat = npr.randn(D, D, D, D) + 5 * onp.eye(D)
    check_grads(fun)(mat)


def test_solve_arg1():
    D = 8
    A = npr.randn(D, D) + 10.0 * onp.eye(D)
    B = npr.randn(D, D - 1)
    def fun(a): return np.linalg.solve(a, B)
    check_grads(fun)(A)


def test_solve_arg1_1d():
    D = 8
    A = npr.randn(D, D) + 10.0 * onp.eye(D)
    B = npr.randn(D)
    def fun(a): return np.linalg.solve(a, B)
    check_grads(fun)(A)


def test_solve_arg2():
    D = 6
    A = npr.randn(D, D) + 1.0 * onp.eye(D)
    B = npr.randn(D, D - 1)
    def fun(b): return np.linalg.solve(A, b)
    check_grads(fun)(B)


def test_solve_arg1_3d():
    D = 4
    A = npr.randn(D + 1, D, D) + 5 * onp.eye(D)
    B = npr.randn(D + 1, D)[..., None]  # NumPy 2: a stack of vectors needs a trailing axis
    def fun(A): return np.linalg.solve(A, B)
    check_grads(fun)(A)


def test_solve_arg1_3d_3d():
    D = 4
    A = npr.randn(D + 1, D, D) + 5 * onp.eye(D)
    B = npr.randn(D + 1, D, D + 2)
    def fun(A): return np.linalg.solve(A, B)
    check_grads(fun)(A)


def test_det():
    def fun(x): return np.linalg.det(x)
    D = 6
    mat = npr.randn(D, D)
    check_grads(fun)(mat)


def test_det_3d():
    def fun(x): return np.linalg.det(x)
    D = 3
    mat = npr.randn(D, D, D)
    check_grads(fun)(mat)


def test_slogdet():
    def fun(x):
        sign, logdet = np.linalg.slogdet(x)
        return logdet
    D = 6
    mat = npr.randn(D, D)
    check_grads(fun)(mat)
    check_grads(fun)(-mat)


def test_slogdet_3d():
    def fun(x): return np.sum(np.linalg.slogdet(x)[1])
    mat = onp.concatenate([(rand_psd(5) + 5 * onp.eye(5))[None, ...] for _ in range(3)])
    check_grads(fun)(mat)


def test_vector_2norm():
    def fun(x): return np.linalg.norm(x)
    D = 6
    vec = npr.randn(D)
    check_grads(fun)(vec)


def test_frobenius_norm():
    def fun(x): return np.linalg.norm(x)
    D = 6
    mat = npr.randn(D, D - 1)
    check_grads(fun)(mat)


def test_frobenius_norm_axis():
    def fun(x): return np.linalg.norm(x, axis=(0, 1))
    D = 6
    mat = npr.randn(D, D - 1, D - 2)
    check_grads(fun)(mat)


@pytest.mark.parametrize("ord", range(2, 5))
def test_vector_norm_ord(ord):
    def fun(x): return np.linalg.norm(x, ord=ord)
    vec = npr.randn(6)
    check_grads(fun)(vec)


@pytest.mark.parametrize("axis", range(3))
def test_norm_axis(axis):
    def fun(x): return np.linalg.norm(x, axis=axis)
    arr = npr.randn(6, 5, 4)
    check_grads(fun)(arr)


def test_norm_nuclear():
    def fun(x): return np.linalg.norm(x, ord='nuc')
    D = 6
    mat = npr.randn(D, D - 1)
    check_grads(fun)(mat)


def test_norm_nuclear_axis():
    def fun(x): return np.linalg.norm(x, ord='nuc', axis=(0, 1))
    D = 6
    mat = npr.randn(D, D - 1, D - 2)
    check_grads(fun)(mat)


def test_eigvalh_lower():
    def fun(x):
        w, v = np.linalg.eigh(x)
        return (w, v)
    D = 6
    mat = npr.randn(D, D)
    hmat = onp.dot(mat.T, mat)
    check_symmetric_matrix_grads(fun)(hmat)


def test_eigvalh_upper():
    def fun(x):
        w, v = np.linalg.eigh(x, 'U')
        return (w, v)
    D = 6
    mat = npr.randn(D, D)
    hmat = onp.dot(mat.T, mat)
    check_symmetric_matrix_grads(fun)(hmat)


broadcast_dot_transpose = partial(onp.einsum, '...ij,...kj->...ik')


def test_eigvalh_lower_broadcasting():
    def fun(x):
        w, v = np.linalg.eigh(x)
        return (w, v)
    D = 6
    mat = npr.randn(2, 3, D, D) + 10 * onp.eye(D)[None, None, ...]
    hmat = broadcast_dot_transpose(mat, mat)
    check_symmetric_matrix_grads(fun)(hmat)


def test_eigvalh_upper_broadcasting():
    def fun(x):
        w, v = np.linalg.eigh(x, 'U')
        return (w, v)
    D = 6
    mat = npr.randn(2, 3, D, D) + 10 * onp.eye(D)[None, None, ...]
    hmat = broadcast_dot_transpose(mat, mat)
    check_symmetric_matrix_grads(fun)(hmat)


def test_cholesky():
    def fun(A): return np.linalg.cholesky(A)
    check_symmetric_matrix_grads(fun)(rand_psd(6))


def test_cholesky_broadcast():
    def fun(A): return np.linalg.cholesky(A)
    A = onp.concatenate([rand_psd(6)[None, :, :] for i in range(3)], axis=0)
    check_symmetric_matrix_grads(fun)(A)


def test_cholesky_reparameterization_trick():
    def fun(A):
        rng = onp.random.RandomState(0)
        z = np.dot(np.linalg.cholesky(A), rng.randn(A.shape[0]))
        return np.linalg.norm(z)
    check_symmetric_matrix_grads(fun)(rand_psd(6))


@pytest.mark.parametrize("shape", [(3, 5), (4, 3, 5), (4, 4), (3, 4, 4), (5, 3), (4, 5, 3)],
                         ids=["wide_2d", "wide_3d", "square_2d", "square_3d", "tall_2d",
                              "tall_3d"])
def test_svd(shape):
    def fun(x):
        u, s, v = np.linalg.svd(x, full_matrices=False)
        return (u, s, v)
    mat = npr.randn(*shape)
    check_grads(fun)(mat)


@pytest.mark.parametrize("shape", [(5, 3), (4, 5, 3)], ids=["2d", "3d"])
def test_svd_only_s(shape):
    def fun(x):
        return np.linalg.svd(x, full_matrices=False, compute_uv=False)
    mat = npr.randn(*shape)
    check_grads(fun)(mat)
