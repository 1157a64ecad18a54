"""Invariants of the engine: levels, depth, sharing, repeatability, cleanup."""

import gc

import numpy as onp
import pytest

import chainrule as cr
import chainrule.numpy as np
from chainrule.interpreters.reverse import ReverseTrace, backward


def test_perturbation_confusion_reverse():
    # d/dx [x * d/dy (x + y)] = d/dx [x * 1] = 1, not 2
    assert cr.grad(lambda x: x * cr.grad(lambda y: x + y)(x))(5.0) == 1.0


def test_perturbation_confusion_forward():
    D = cr.derivative
    # D(x -> x * D(y -> x*y)(1))(4) = D(x -> x*x)(4) = 8
    assert D(lambda x: x * D(lambda y: x * y)(1.0))(4.0) == 8.0


def test_all_nestings_of_modes_agree():
    f = lambda x: np.sin(x) * np.exp(x)  # noqa: E731
    exact = 2 * onp.exp(0.7) * onp.cos(0.7)
    fwd = cr.derivative
    rev = cr.grad
    for outer in (fwd, rev):
        for inner in (fwd, rev):
            assert outer(inner(f))(0.7) == pytest.approx(exact, rel=1e-12)
    third = -2 * onp.exp(0.7) * (onp.sin(0.7) - onp.cos(0.7))
    assert cr.grad(cr.derivative(cr.grad(f)))(0.7) == pytest.approx(third, rel=1e-12)


def test_long_chain_has_no_recursion_limit():
    def f(x):
        for _ in range(100_000):
            x = x * 1.000001
        return x

    assert cr.grad(f)(1.0) == pytest.approx(1.000001**100_000, rel=1e-9)
    assert cr.derivative(f)(1.0) == pytest.approx(1.000001**100_000, rel=1e-9)


def test_heavy_sharing_is_linear():
    """60 rounds of x = x*x + x: a naive recursive backward makes 2^60 visits."""

    def f(x):
        for _ in range(60):
            x = x * x + x
        return x

    x0 = 1e-3
    _, slope = cr.jvp(f, (x0,), (1.0,))
    assert cr.grad(f)(x0) == pytest.approx(slope, rel=1e-12)
    trace = ReverseTrace()
    box = trace.new_input(x0)
    f(box)
    assert len(trace.tape) == 1 + 2 * 60  # one entry per primitive, no duplication


def test_calling_a_gradient_twice_gives_the_same_result():
    x = onp.array([0.3, -1.2, 2.0])
    g = cr.grad(lambda x: np.sum(np.exp(x) * x[::-1]))
    onp.testing.assert_array_equal(g(x), g(x))
    out, back = cr.vjp(lambda x: np.sin(x) * x, x)
    ct = onp.array([1.0, 2.0, 3.0])
    onp.testing.assert_array_equal(back(ct), back(ct))


def test_exception_inside_grad_leaves_nothing_behind():
    leaked = []

    def bad(x):
        leaked.append(x)
        raise ZeroDivisionError("boom")

    assert gc.isenabled()
    with pytest.raises(ZeroDivisionError):
        cr.grad(bad)(1.0)
    assert gc.isenabled()  # the collector pause was undone
    with pytest.raises(RuntimeError, match="escaped its transformation"):
        np.sin(leaked[0])
    assert cr.grad(lambda x: x * x)(3.0) == 6.0  # the next transformation is unaffected


def test_output_independent_of_input_gives_zeros():
    assert cr.grad(lambda x: 3.0)(1.0) == 0.0
    g = cr.grad(lambda x, y: np.sum(y), argnums=0)(onp.ones(3), onp.ones(2))
    onp.testing.assert_array_equal(g, onp.zeros(3))


def test_returned_gradients_are_writeable_arrays():
    g = cr.grad(lambda x: np.sum(x))(onp.ones(4))
    g += 1  # a broadcast view would refuse this
    onp.testing.assert_array_equal(g, 2 * onp.ones(4))


def test_residuals_not_read_are_freed_from_the_tape():
    x = onp.ones(1000)
    trace = ReverseTrace()
    box = trace.new_input(x)
    y = np.sum((box + 1.0) * 2.0 - 3.0)
    stubs = [a for entry in trace.tape[1:] for a in entry[1]
             if type(a).__name__ == "ShapeStub"]
    assert stubs, "add/sub/sum read no array residual: they should be stubbed"
    cts = backward(trace.tape, {y.index: 1.0}, 1)
    onp.testing.assert_array_equal(cts[0], 2 * onp.ones(1000))


def test_repeated_integer_indices_accumulate():
    x = onp.array([1.0, 2.0, 3.0])
    g = cr.grad(lambda x: np.sum(x[[0, 0, 2, 0]] * onp.array([1.0, 2.0, 3.0, 4.0])))(x)
    onp.testing.assert_array_equal(g, [7.0, 0.0, 3.0])
    g2 = cr.grad(lambda x: np.sum(x[1:] * x[:-1]) + x[0] * x[-1])(x)
    onp.testing.assert_allclose(g2, [2.0 + 3.0, 1.0 + 3.0, 2.0 + 1.0])
