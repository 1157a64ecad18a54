"""ARCHITECTURE.md's recipe, followed: a toy elementwise primitive added the documented way.

The section "How to add a primitive" of ``ARCHITECTURE.md`` lists the steps; this test
takes them one by one for ``toy_cube(x) = x³`` (y' = 3x², y'' = 6x) and checks the value,
forward and reverse mode to second order (against the closed forms and against finite
differences, as ``tests/test_primitives.py`` does for every row of ``op_specs.SPECS``),
``vmap``, ``jit``, the printed program, the generated source and the trace table. It
also checks that the steps written in ARCHITECTURE.md are the ones taken here.
"""

import ast
import pathlib
import warnings

import numpy as onp
import pytest

import chainrule as cr
import chainrule.numpy as np
from chainrule.core.primitive import PRIMITIVES
from chainrule.interpreters import reference
from chainrule.interpreters.batching import BATCH_RULES, elementwise_rule
from op_specs import UNARY_SHAPES, Spec, sample

ARCHITECTURE = pathlib.Path(__file__).resolve().parents[1] / "ARCHITECTURE.md"


@pytest.fixture
def toy_cube():
    """Steps 1 and 2 of the recipe, undone afterwards (the registry is global)."""
    from chainrule.numpy._elementwise import unary

    # step 1: the primitive, with one rule c·f'(x) for both modes; the rule reads x
    prim = unary("toy_cube", lambda x: x * x * x, lambda c, y, x: c * (3.0 * x * x),
                 "y = x³; y' = 3x²", "x")
    # step 2: its batching rule (elementwise: the batch axis passes through)
    BATCH_RULES["toy_cube"] = elementwise_rule
    try:
        yield prim
    finally:
        del PRIMITIVES["toy_cube"]
        del BATCH_RULES["toy_cube"]


def test_value_and_derivatives_to_second_order(toy_cube):
    x = onp.array([-1.5, 0.3, 2.0])
    onp.testing.assert_allclose(toy_cube(x), x**3, rtol=1e-15)
    f = lambda x: np.sum(toy_cube(x))  # noqa: E731
    onp.testing.assert_allclose(cr.grad(f)(x), 3 * x**2, rtol=1e-14)  # reverse
    onp.testing.assert_allclose(cr.jvp(toy_cube, (x,), (onp.ones(3),))[1], 3 * x**2,
                                rtol=1e-14)  # forward
    onp.testing.assert_allclose(cr.hessian(f)(x), onp.diag(6 * x), rtol=1e-14)
    onp.testing.assert_allclose(cr.jacfwd(cr.grad(f))(x), onp.diag(6 * x), rtol=1e-14)
    onp.testing.assert_allclose(reference.grad(reference.grad(
        lambda t: toy_cube(t)))(0.7), 6 * 0.7, rtol=1e-14)


def test_the_test_table_row(toy_cube):
    """Step 4: the row ``"toy_cube": Spec(toy_cube, U)`` of op_specs, checked the way
    test_primitives checks every row (central differences, order 2, fwd and rev)."""
    row = Spec(toy_cube, UNARY_SHAPES)
    rng = onp.random.default_rng(0)
    for (shape,) in row.shapes:
        cr.check_grads(row.fn, (sample("real", shape, rng),), order=2, modes=("fwd", "rev"))


def test_vmap_runs_the_batching_rule_not_a_loop(toy_cube):
    xs = onp.arange(6.0).reshape(2, 3) - 2.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the per-example loop fallback warns
        out = cr.vmap(cr.grad(lambda x: np.sum(toy_cube(x) * x)))(xs)
    onp.testing.assert_allclose(out, 4 * xs**3, rtol=1e-14)


def test_jit_printing_source_and_trace_table(toy_cube):
    f = lambda x: np.sum(toy_cube(x) * 2.0)  # noqa: E731
    x = onp.array([0.5, -1.0, 2.0])
    onp.testing.assert_allclose(cr.jit(f)(x), 2 * onp.sum(x**3), rtol=1e-15)
    onp.testing.assert_allclose(cr.jit(cr.grad(f))(x), 6 * x**2, rtol=1e-14)
    assert "toy_cube(v0)" in str(cr.make_ir(f)(x))
    assert "PRIMITIVES['toy_cube'].impl" in cr.source(f, x)
    table = str(cr.trace_table(lambda t: toy_cube(t) * 2.0, 0.5))
    assert "toy_cube(0.5000) = 0.1250" in table


def test_the_document_states_these_steps():
    text = ARCHITECTURE.read_text(encoding="utf-8")
    for step in ('unary("', "BATCH_RULES", "op_specs.py", "tests/test_architecture.py",
                 "reference.py", "tests/test_layers.py"):
        assert step in text, f"ARCHITECTURE.md no longer mentions {step!r}"


#: interpreter functions longer than the 80-line target today: name -> lines (may only shrink)
LONG_INTERPRETER_FUNCTIONS: dict[str, int] = {}


def test_interpreter_functions_stay_short():
    """Functions in ``src/chainrule/interpreters`` stay under 80 lines, so each can be read
    at once; the listed exceptions may not grow."""
    folder = pathlib.Path(__file__).resolve().parents[1] / "src" / "chainrule" / "interpreters"
    too_long = {}
    for path in sorted(folder.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                if lines >= 80 and lines > LONG_INTERPRETER_FUNCTIONS.get(
                        f"{path.name}:{node.name}", 79):
                    too_long[f"{path.name}:{node.name}"] = lines
    assert not too_long, f"split these interpreter functions (80 lines at most): {too_long}"
