"""chainrule.scipy.signal.convolve: values against scipy.signal.convolve and numpy.tensordot
(autograd's generalisation, its tests ported), derivatives in both arguments to second
order, vmap against a loop, jit against eager, and the error messages."""

import itertools

import numpy as onp
import pytest

import chainrule as cr
import chainrule.numpy as np
from chainrule.scipy.signal import convolve

ss = pytest.importorskip("scipy.signal")  # the reference; convolve itself needs no SciPy

MODES = ("full", "valid", "same")
RNG = onp.random.default_rng(0)


def R(*shape):
    return RNG.standard_normal(shape)


SHAPES = {
    1: [((5,), (3,)), ((6,), (4,)), ((4,), (7,)), ((1,), (4,)), ((3,), (3,)), ((8,), (1,))],
    2: [((5, 4), (3, 2)), ((4, 6), (5, 7)), ((3, 7), (2, 2)), ((6, 6), (3, 4)), ((2, 3), (4, 2))],
    3: [((4, 3, 5), (2, 3, 2)), ((2, 3, 4), (3, 4, 5)), ((3, 4, 2), (2, 1, 3))],
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("shapes", [s for nd in SHAPES for s in SHAPES[nd]], ids=str)
def test_values_match_scipy(shapes, mode):
    a, b = R(*shapes[0]), R(*shapes[1])
    try:
        expected = ss.convolve(a, b, mode)
    except ValueError:  # 'valid' with neither operand larger along every axis
        with pytest.raises(ValueError, match="at least as large"):
            convolve(a, b, mode)
        return
    got = convolve(a, b, mode)
    assert got.shape == expected.shape
    onp.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_integer_and_zero_dimensional_inputs():
    onp.testing.assert_array_equal(convolve([1, 2, 3], [0, 1, 2], "same"),
                                   ss.convolve([1, 2, 3], [0, 1, 2], "same"))
    assert convolve(onp.array(2.0), onp.array(3.0)) == 6.0


def test_long_signal_short_kernel():
    x, h = R(10_000), R(100)
    for mode in MODES:
        onp.testing.assert_allclose(convolve(x, h, mode), ss.convolve(x, h, mode), atol=1e-10)
    gx, gh = cr.grad(lambda x, h: np.sum(convolve(x, h, "valid") ** 2), argnums=(0, 1))(x, h)
    y = onp.convolve(x, h, "valid")
    onp.testing.assert_allclose(gx, 2 * onp.convolve(y, h[::-1], "full"), atol=1e-8)
    onp.testing.assert_allclose(gh, 2 * onp.correlate(x, y, "valid")[::-1], atol=1e-8)


# --- autograd's generalisation (tests/test_scipy.py, ported) -------------------------------

@pytest.mark.parametrize("mode", ["valid", "full"])
def test_convolve_generalization(mode):
    A_35, A_34, A_342 = R(3, 5), R(3, 4), R(3, 4, 2)
    A_2543, A_24232 = R(2, 5, 4, 3), R(2, 4, 2, 3, 2)
    onp.testing.assert_allclose(
        convolve(A_35, A_34, axes=([1], [0]), mode=mode)[1, 2],
        ss.convolve(A_35[1, :], A_34[:, 2], mode))
    onp.testing.assert_allclose(
        convolve(A_35, A_34, axes=([], []), dot_axes=([0], [0]), mode=mode),
        onp.tensordot(A_35, A_34, axes=([0], [0])))
    onp.testing.assert_allclose(
        convolve(A_35, A_342, axes=([1], [2]), dot_axes=([0], [0]), mode=mode)[2],
        sum(ss.convolve(A_35[i, :], A_342[i, 2, :], mode) for i in range(3)))
    onp.testing.assert_allclose(
        convolve(A_2543, A_24232, axes=([1, 2], [2, 4]), dot_axes=([0, 3], [0, 3]),
                 mode=mode)[2],
        sum(ss.convolve(A_2543[i, :, :, j], A_24232[i, 2, :, j, :], mode)
            for i in range(2) for j in range(3)))


@pytest.mark.parametrize("mode", MODES)
def test_generalization_output_axes_and_commutativity(mode):
    """Output = (in1's other axes, in2's other axes, convolved axes); swapping the operands
    (and the 'same' reference operand aside) permutes the other axes only. This also runs
    both internal paths (windows of in1 and windows of in2)."""
    a, b = R(2, 7, 3), R(4, 3, 5)  # conv: a axis 1 with b axis 2; dot: a axis 2, b axis 1
    ab = convolve(a, b, mode, axes=([1], [2]), dot_axes=([2], [1]))
    assert ab.shape[:2] == (2, 4)
    for i, j in itertools.product(range(2), range(4)):
        expected = sum(ss.convolve(a[i, :, d], b[j, d, :], mode) for d in range(3))
        onp.testing.assert_allclose(ab[i, j], expected, atol=1e-12)
    if mode != "same":  # 'same' is centred on in1, so it is not symmetric
        ba = convolve(b, a, mode, axes=([2], [1]), dot_axes=([1], [2]))
        onp.testing.assert_allclose(ba, onp.moveaxis(ab, 1, 0), atol=1e-12)


def test_axes_none_with_dot_axes_convolves_the_rest():
    a, b = R(3, 6), R(4, 3)
    onp.testing.assert_allclose(convolve(a, b, dot_axes=([0], [1])),
                                sum(ss.convolve(a[d], b[:, d]) for d in range(3)))


# --- derivatives: forward and reverse, to second order ------------------------------------

def _check(a, b, **kw):
    cr.check_grads(lambda a, b: convolve(a, b, **kw), (a, b), order=2)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("n1, n2", itertools.product([4, 5, 6], [2, 3, 4]))
def test_convolve_grads(n1, n2, mode):
    _check(R(n1), R(n2), mode=mode)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("s1, s2", itertools.product(
    [(4, 3), (5, 4), (6, 7)], [(2, 2), (3, 2), (4, 2), (4, 1)]))
def test_convolve_2d_grads(s1, s2, mode):
    _check(R(*s1), R(*s2), mode=mode)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("axes", [([0], [0]), ([1], [1]), ([0], [1]), ([1], [0]),
                                  ([0, 1], [0, 1]), ([1, 0], [1, 0])])
def test_convolve_ignore_grads(axes, mode):
    _check(R(4, 3), R(3, 2), axes=axes, mode=mode)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dot_axes", [([0], [2]), ([0], [0])])
def test_convolve_ignore_dot_grads(dot_axes, mode):
    _check(R(3, 3, 2), R(3, 2, 3), axes=([1], [1]), dot_axes=dot_axes, mode=mode)


@pytest.mark.parametrize("mode", MODES)
def test_in2_larger_and_3d_grads(mode):
    _check(R(3), R(6), mode=mode)
    _check(R(3, 2, 3), R(2, 3, 2), mode="full" if mode == "valid" else mode)


# --- transformations --------------------------------------------------------------------

@pytest.mark.parametrize("mode", MODES)
def test_vmap_equals_loop(mode):
    xs, hs, h = R(4, 9), R(4, 3), R(3)
    both = cr.vmap(lambda x, h: convolve(x, h, mode))(xs, hs)
    onp.testing.assert_allclose(both, [ss.convolve(x, k, mode) for x, k in zip(xs, hs)])
    one = cr.vmap(lambda x: convolve(x, h, mode))(xs)
    onp.testing.assert_allclose(one, [ss.convolve(x, h, mode) for x in xs])
    grads = cr.vmap(cr.grad(lambda x, h: np.sum(convolve(x, h, mode) ** 2), argnums=1))(xs, hs)
    loop = [cr.grad(lambda x, h: np.sum(convolve(x, h, mode) ** 2), argnums=1)(x, k)
            for x, k in zip(xs, hs)]
    onp.testing.assert_allclose(grads, loop)


@pytest.mark.parametrize("mode", MODES)
def test_jit_value_and_grad(mode):
    def f(x, h):
        return np.sum(np.sin(convolve(x, h, mode)))

    x, h = R(6, 5), R(3, 2)
    onp.testing.assert_allclose(cr.jit(lambda x, h: convolve(x, h, mode))(x, h),
                                ss.convolve(x, h, mode))
    g = cr.grad(f, argnums=(0, 1))
    for jitted, eager in zip(cr.jit(g)(x, h), g(x, h)):
        onp.testing.assert_allclose(jitted, eager)


# --- errors ------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, match", [
    (dict(mode="circular"), "mode must be one of"),
    (dict(axes=([0], [0, 1])), "must pair axes"),
    (dict(axes=([2], [0])), "out of range"),
    (dict(axes=([0, 0], [0, 1])), "repeats an axis"),
    (dict(axes=([0], [0]), dot_axes=([0], [1])), "both convolved and summed"),
    (dict(axes=([0], [0]), dot_axes=([1], [0, 1])), "must pair axes"),
    (dict(axes=([1], [1]), dot_axes=([0], [0])), "must have equal sizes"),
    (dict(axes=0), "axes must be a pair"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        convolve(R(4, 3), R(2, 5), **kwargs)


def test_bad_shapes():
    with pytest.raises(ValueError, match="same number of dimensions"):
        convolve(R(4, 3), R(3))
    with pytest.raises(ValueError, match="at least as large"):
        convolve(R(4, 3), R(2, 5), "valid")
    with pytest.raises(ValueError, match="cannot be empty"):
        convolve(R(0), R(3))
