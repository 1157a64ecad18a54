"""Complex differentiation follows JAX's convention (see chainrule.numpy._elementwise).

The VJP is the transpose of the JVP for ⟨u, v⟩ = Re Σ u·v (no conjugation): holomorphic
rules carry no conjugates, ``grad`` of a real f of complex z is ∂f/∂x − i·∂f/∂y, and a real
input always gets a real gradient. ``check_grads`` uses that pairing, so it passes the
library's rules and fails a rule written for the conjugating convention.
"""

import cmath
import math

import numpy as onp
import pytest

import chainrule as cr
import chainrule.numpy as np
from chainrule.core.primitive import PRIMITIVES, Primitive
from chainrule.numeric import gradient as fd_gradient

Z = 0.8 - 0.6j


def test_holomorphic_vjp_has_no_conjugate():
    out, back = cr.vjp(np.sin, Z)
    (g,) = back(1.0 + 0.5j)
    assert g == pytest.approx((1.0 + 0.5j) * cmath.cos(Z), rel=1e-15)
    _, t = cr.jvp(np.sin, (Z,), (1.0 + 0.5j,))
    assert t == pytest.approx(cmath.cos(Z) * (1.0 + 0.5j), rel=1e-15)
    assert cr.grad(lambda z: np.real(z**3))(Z) == pytest.approx(3 * Z**2, rel=1e-14)


def test_grad_of_real_function_is_the_conjugate_of_steepest_ascent():
    z = 3 + 4j
    assert cr.grad(lambda z: np.abs(z) ** 2)(z) == pytest.approx(6 - 8j)  # 2·conj(z)
    assert cr.grad(np.abs)(z) == pytest.approx((3 - 4j) / 5)
    assert cr.grad(lambda z: np.imag(z * z))(z) == pytest.approx(8 - 6j)  # f = 2xy
    assert cr.grad(np.angle)(z) == pytest.approx(-1j * (3 - 4j) / 25)
    assert cr.grad(lambda z: np.real(np.conj(z) * (1 + 2j)))(z) == pytest.approx(1 - 2j)
    # each equals ∂f/∂x − i ∂f/∂y by central differences
    for f in (lambda z: np.abs(np.sin(z)) ** 2, lambda z: np.angle(z * z + 1j),
              lambda z: np.imag(np.exp(z)) * np.real(z)):
        h = 1e-6
        dx = (f(z + h) - f(z - h)) / (2 * h)
        dy = (f(z + 1j * h) - f(z - 1j * h)) / (2 * h)
        assert cr.grad(f)(z) == pytest.approx(dx - 1j * dy, rel=1e-8)


def test_angle_of_x_plus_iy_wrt_real_x_and_y():
    def f(x, y):
        return np.angle(x + 1j * y)

    for x, y in ((0.3, -0.7), (-1.2, 0.4), (2.0, 1e-3)):
        gx, gy = cr.grad(f, argnums=(0, 1))(x, y)
        assert isinstance(gx, float) and isinstance(gy, float)
        ref = fd_gradient(lambda v: math.atan2(v[1], v[0]), onp.array([x, y]),
                          method="richardson")
        onp.testing.assert_allclose([gx, gy], ref, rtol=1e-9)
        onp.testing.assert_allclose([gx, gy], [-y / (x * x + y * y), x / (x * x + y * y)],
                                    rtol=1e-14)
        cr.check_grads(f, (x, y), order=2)


def test_real_inputs_get_real_gradients_through_complex_intermediates():
    x = onp.array([0.3, -1.1, 0.7])
    A = onp.array([[1.0, 2.0], [0.5, -1.0], [0.2, 0.1]])

    def f(x, A):
        z = np.exp(1j * x) @ (A * (1 - 2j))  # real operands of complex products
        return np.sum(np.abs(z) ** 2) + np.real(np.sum(np.fft.fft(x) ** 2))

    gx, gA = cr.grad(f, argnums=(0, 1))(x, A)
    assert not onp.iscomplexobj(gx) and not onp.iscomplexobj(gA)
    onp.testing.assert_allclose(gx, fd_gradient(lambda x: f(x, A), x, method="richardson"),
                                rtol=1e-8)
    cr.check_grads(f, (x, A), order=2)


def _wrong(name, vjp):
    """A primitive with a correct JVP and the given VJP rule."""
    rules = {
        "sin": (onp.sin, lambda t, y, z: t * np.cos(z)),
        "imag": (onp.imag, lambda t, y, z: np.imag(t)),
    }
    impl, jvp = rules[name]
    return Primitive(f"test_{name}_{id(vjp)}", impl, jvps=(jvp,), vjps=(vjp,))


@pytest.mark.parametrize("name,vjp,ok", [
    # holomorphic: the transpose is g·cos z; the conjugated rule (the other convention) fails
    ("sin", lambda g, y, z: g * np.cos(z), True),
    ("sin", lambda g, y, z: g * np.conj(np.cos(z)), False),
    # non-holomorphic Im: the transpose is -i·Re g; +i·Re g (the other convention) fails
    ("imag", lambda g, y, z: -1j * np.real(g), True),
    ("imag", lambda g, y, z: 1j * np.real(g), False),
])
def test_check_grads_passes_the_convention_and_fails_the_other(name, vjp, ok):
    prim = _wrong(name, vjp)
    try:
        z = onp.array([0.8 - 0.6j, -0.3 + 1.1j])
        cr.check_grads(lambda z: prim(z), (z,), order=1, modes=("fwd",))  # JVP is right
        if ok:
            cr.check_grads(lambda z: prim(z), (z,), order=1, modes=("rev",))
        else:
            with pytest.raises(AssertionError, match="mode rev"):
                cr.check_grads(lambda z: prim(z), (z,), order=1, modes=("rev",))
    finally:
        del PRIMITIVES[prim.name]


def test_complex_inv_solve_det_follow_the_convention():
    rng = onp.random.default_rng(0)
    a = rng.standard_normal((3, 3)) + 1j * rng.standard_normal((3, 3)) + 3 * onp.eye(3)
    b = rng.standard_normal(3) + 1j * rng.standard_normal(3)
    cr.check_grads(lambda a, b: np.linalg.solve(a, b) * np.linalg.det(a), (a, b), order=2)
    cr.check_grads(np.linalg.inv, (a,), order=1)
    # holomorphic: d det / dA = det(A)·A⁻ᵀ, no conjugate
    onp.testing.assert_allclose(cr.vjp(np.linalg.det, a)[1](1.0)[0],
                                onp.linalg.det(a) * onp.linalg.inv(a).T, rtol=1e-12)


def test_abs_of_complex_zero_has_the_zero_subgradient():
    """|z| is not differentiable at 0; like real abs, the rule picks 0 there, never NaN."""
    z = onp.array([0.0 + 0.0j, 3.0 + 4.0j])
    g = cr.grad(lambda z: np.sum(np.abs(z)))(z)
    onp.testing.assert_allclose(g, [0.0, (3.0 - 4.0j) / 5.0])
    _, t = cr.jvp(lambda z: np.abs(z), (z,), (onp.ones(2, complex),))
    onp.testing.assert_allclose(t, [0.0, 3.0 / 5.0])
