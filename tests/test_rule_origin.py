"""Staged equations learn which derivative rule made them from the interpreters
(core.rule_origin), not from the call stack: labels, nesting, and no cost outside jit."""

import numpy as onp

import chainrule as cr
import chainrule.numpy as np
from chainrule.core.rule_origin import state
from chainrule.interpreters import staging

X = onp.linspace(0.2, 1.0, 4)


def labels(prog):
    return [(e.prim.name, e.origin and (e.origin[0], e.origin[1].prim.name)) for e in prog.eqns]


def test_a_staged_gradient_labels_each_adjoint_with_its_forward_equation():
    prog = cr.make_ir(cr.grad(lambda x: np.sum(np.sin(x) * x)))(X)
    got = labels(prog)
    forward = [name for name, origin in got if origin is None]
    assert forward[:3] == ["sin", "mul", "sum"]
    # sum's adjoint broadcasts, mul's multiplies by each factor, sin's multiplies by cos
    assert ("broadcast_to", ("adjoint", "sum")) in got
    assert ("cos", ("adjoint", "sin")) in got
    assert sum(origin == ("adjoint", "mul") for _, origin in got) == 2
    # and the gradient is right: d/dx Σ x·sin x = sin x + x·cos x
    onp.testing.assert_allclose(cr.jit(cr.grad(lambda x: np.sum(np.sin(x) * x)))(X),
                                onp.sin(X) + X * onp.cos(X), rtol=1e-14)


def test_a_staged_jvp_labels_tangents():
    prog = cr.make_ir(lambda x: cr.jvp(np.tanh, (x,), (onp.ones(4),))[1])(X)
    got = labels(prog)
    assert got[0] == ("tanh", None)
    assert all(origin == ("tangent", "tanh") for _, origin in got[1:]) and len(got) > 1


def test_the_generated_source_names_the_adjoints():
    src = cr.source(cr.grad(lambda x: np.sum(np.sin(x) * x)), X)
    assert "# adjoint of" in src and "np.cos(x)" in src


def test_the_state_is_restored_and_eager_derivatives_leave_it_alone():
    assert (state.watching, state.current) == (0, None)
    cr.make_ir(cr.hessian(lambda x: np.sum(np.sin(x) ** 2)))(X)
    assert (state.watching, state.current) == (0, None)
    g = cr.grad(lambda x: np.sum(np.sin(x) ** 2))(X)
    onp.testing.assert_allclose(g, 2 * onp.sin(X) * onp.cos(X), rtol=1e-14)
    assert (state.watching, state.current) == (0, None)


def test_an_error_while_staging_leaves_no_label_behind():
    def bad(x):
        if x[0] > 0:  # a Python `if` on a staged value
            return np.sum(x)
        return np.sum(-x)

    try:
        cr.make_ir(cr.grad(bad))(X)
    except TypeError:
        pass
    else:
        raise AssertionError("staging a Python if on a traced value should fail")
    assert (state.watching, state.current) == (0, None)


def test_staging_reads_no_code_objects_or_frames_for_labels():
    import inspect

    text = inspect.getsource(staging.StagingTrace)
    assert "f_locals" not in text and "__code__" not in text and "_getframe" not in text
