"""ARCHITECTURE.md's recipe, followed: a toy elementwise primitive added the documented way.

The section "How to add a primitive" of ``ARCHITECTURE.md`` has two steps: ONE entry (the
``unary(...)`` call below, every field of the primitive's record in it) and ONE row of
the test table. This test takes exactly them for ``toy_cube(x) = x³`` (y' = 3x², y'' =
6x) and checks everything the entry brings: the value, forward and reverse mode to
second order (against the closed forms and against finite differences, as
``tests/test_primitives.py`` does for every row of ``op_specs.SPECS``), ``vmap`` by the
elementwise batching rule, the shape rule (staging runs no implementation), ``jit`` of
the function and of its gradient, the printed program, the generated source, the trace
table with its written partial and LaTeX name, the SymPy counterpart, and the
meta-test's verdict that the record is complete. It also checks that the steps written
in ARCHITECTURE.md are the ones taken here.
"""

import ast
import pathlib
import textwrap
import warnings

import numpy as onp
import pytest

import chainrule as cr
import chainrule.numpy as np
from chainrule.core.primitive import PRIMITIVES
from chainrule.interpreters import reference
from op_specs import UNARY_SHAPES, Spec, sample

ARCHITECTURE = pathlib.Path(__file__).resolve().parents[1] / "ARCHITECTURE.md"


def documented_entry() -> str:
    """The code block of ARCHITECTURE.md's "How to add a primitive" (its step 1)."""
    text = ARCHITECTURE.read_text(encoding="utf-8")
    section = text[text.index("## How to add a primitive"):]
    block = section[section.index("```python") + len("```python"):]
    return textwrap.dedent(block[:block.index("```")])


@pytest.fixture
def toy_cube():
    """Step 1 of the recipe, the one entry, run exactly as ARCHITECTURE.md writes it (the
    registry is global: undone afterwards)."""
    from chainrule.numpy._elementwise import unary

    namespace = {"unary": unary}
    exec(documented_entry(), namespace)  # noqa: S102 - the document's own code
    prim = namespace["toy_cube"]
    try:
        yield prim
    finally:
        del PRIMITIVES["toy_cube"]


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
    tangents = cr.trace_table(lambda t: toy_cube(t) * 2.0, 0.5, mode="forward")
    assert "3 * v0**2 * v̇0 = 0.7500 * 1.0000" in str(tangents)  # the written partial
    assert r"\operatorname{cube}(v_{0})" in tangents.to_latex()


def test_shape_rule_sympy_counterpart_and_a_complete_record(toy_cube):
    import sympy as sp
    from test_primitive_records import _missing

    from chainrule.core.abstract import AVal
    from chainrule.symbolic import expression

    assert _missing(toy_cube) == set()  # the meta-test finds every field its kind needs
    assert toy_cube.abstract_eval(AVal((2, 3), onp.float32)) == AVal((2, 3), onp.float32)
    toy_cube_impl, toy_cube.impl = toy_cube.impl, None  # staging must not run it
    try:
        prog = cr.make_ir(lambda x: toy_cube(x) * 2.0)(onp.ones((2, 3), onp.float32))
    finally:
        toy_cube.impl = toy_cube_impl
    assert prog.outputs[0].aval == AVal((2, 3), onp.float32)
    x = sp.Symbol("x", real=True)
    assert sp.simplify(expression(lambda x: toy_cube(x) + 1.0, "x") - (x**3 + 1)) == 0


def test_the_document_states_these_steps():
    text = ARCHITECTURE.read_text(encoding="utf-8")
    assert "sympy=" in documented_entry() and "partials=" in documented_entry()
    for step in ('unary("toy_cube"', "op_specs.py", "tests/test_architecture.py",
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
