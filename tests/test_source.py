"""``source(f, *args)`` prints code that runs as shown: ``exec`` of the text defines a
function that gives the jitted function's numbers (constants, loops, branches,
higher-order derivatives, batching, pytree outputs)."""

from __future__ import annotations

import collections
import math
import re

import numpy
import pytest

import chainrule as cr
import chainrule.numpy as np
from chainrule.core.pytree import tree_flatten
from chainrule.ir.standalone import literal

W = numpy.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])
Pair = collections.namedtuple("Pair", "value slope")


def with_constants(x):
    return np.sum(np.tanh(W @ x + numpy.array([0.1, -0.2])) * numpy.arange(1.0, 3.0))


def with_loop(x):
    return cr.fori_loop(0, 4, lambda i, c: c * np.sin(c) + 0.1 * i, x)


def with_branch(x):
    return cr.cond(x > 0.0, lambda y: np.log1p(y * y), lambda y: np.exp(y) - 1.0, x)


def with_scan(x):
    carry, ys = cr.scan(lambda c, t: (c * t + np.cos(c), c * c), x, numpy.linspace(0, 1, 5))
    return carry + np.sum(ys)


def with_while(x):
    return cr.while_loop(lambda c: c < 10.0, lambda c: c * 1.7 + 0.3, x)


def with_infinities(x):
    return np.sum(np.minimum(x, numpy.array([numpy.inf, 2.0, -numpy.inf])) ** 2 *
                  numpy.array([1.0, numpy.nan, 0.0])[:2].sum())


def pair(x):
    return Pair(np.sin(x) * x, np.cos(x))


X3 = numpy.array([0.3, -1.2, 0.8])
CASES = [
    ("grad with array constants", cr.grad(with_constants), (X3,)),
    ("value_and_grad with constants", cr.value_and_grad(with_constants), (X3,)),
    ("grad of a fori_loop", cr.grad(with_loop), (0.7,)),
    ("hessian of a fori_loop", cr.hessian(with_loop), (0.7,)),
    ("grad of a cond (true)", cr.grad(with_branch), (0.9,)),
    ("grad of a cond (false)", cr.grad(with_branch), (-0.4,)),
    ("jvp of a scan", lambda x: cr.jvp(with_scan, (x,), (1.0,)), (0.3,)),
    ("grad of a scan", cr.grad(with_scan), (0.3,)),
    ("while_loop", with_while, (1.5,)),
    ("hessian with constants", cr.hessian(with_constants), (X3,)),
    ("third derivative", cr.derivative(lambda x: np.sin(x) * np.exp(-x * x), order=3), (0.4,)),
    ("vmap of a grad", cr.vmap(cr.grad(lambda x: np.sin(x) ** 3)), (X3,)),
    ("jacobian", cr.jacobian(lambda x: W @ np.tanh(x)), (X3,)),
    ("namedtuple output", pair, (0.6,)),
    ("non-finite constants", cr.grad(with_infinities), (X3,)),
]


def _run_printed(text: str, leaves: list):
    namespace: dict = {}
    exec(compile(text, "<printed source>", "exec"), namespace)  # noqa: S102 - the test
    name = re.search(r"^def (\w+)\(", text, re.M).group(1)
    return namespace[name](*leaves)


@pytest.mark.parametrize("case, f, args", CASES, ids=[c[0] for c in CASES])
def test_printed_source_runs_as_shown_and_gives_the_same_numbers(case, f, args):
    text = cr.source(f, *args)
    assert "_fallback" not in text and "?" not in text
    got = _run_printed(text, tree_flatten(args)[0])
    jitted = cr.jit(f)(*args)
    assert type(got) is type(jitted)
    for g, j, e in zip(tree_flatten(got)[0], tree_flatten(jitted)[0],
                       tree_flatten(f(*args))[0], strict=True):
        assert type(g) is type(j)
        numpy.testing.assert_array_equal(g, j)  # the same code, so the same bits
        numpy.testing.assert_allclose(g, e, rtol=1e-13, atol=1e-300)


def test_the_printed_function_reads_like_the_lecture():
    text = cr.source(cr.grad(lambda x: x ** 2 + 3.0 * x), 2.0)
    assert text.splitlines()[:2] == ["import math", "import numpy as np"]
    assert "# adjoint of x ** 2" in text and "return x_bar" in text


def test_a_constant_that_cannot_be_written_is_named():
    def make_scale():
        def scale(x):
            return x * 2.0
        return scale

    @cr.custom_vjp
    def f(x):
        return x * 2.0

    f.defvjp(lambda x: (x * 2.0, None), lambda res, g: (2.0 * g,))
    try:
        text = cr.source(cr.grad(f), 1.0)
    except ValueError as err:
        assert "cannot be written as Python source" in str(err)
        assert "jit(f).lower(*args).source" in str(err)
    else:
        assert _run_printed(text, [1.0]) == 2.0
    with pytest.raises(ValueError, match="constant _k .* cannot be written"):
        literal(make_scale(), "_k")


@pytest.mark.parametrize("value", [
    0.1, -0.0, math.inf, -math.inf, 1e-310, 3, True, None, "s", complex(1.5, -math.inf),
    numpy.float32(0.1), numpy.int64(-3), numpy.bool_(True), numpy.dtype("complex64"),
    numpy.array([[1e-17, -2.5], [numpy.pi, numpy.e]]), numpy.array([1 + 2j, numpy.nan]),
    numpy.zeros((0, 3)), numpy.array(7.0), (1, (2.5,), [slice(1, None, -1), ...]),
    {"a": numpy.float64(2.0)}, numpy.arange(200.0) / 7.0, numpy.arange(6.0).reshape(2, 3).T,
])
def test_literals_round_trip_exactly(value):
    text, needs = literal(value)
    namespace: dict = {}
    exec("\n".join(["import math", "import numpy as np", *needs]), namespace)  # noqa: S102
    back = eval(text, namespace)  # noqa: S307 - the test
    assert type(back) is type(value)
    if isinstance(value, numpy.ndarray):
        assert back.dtype == value.dtype and back.shape == value.shape
        assert back.strides == value.strides or value.size == 0
        numpy.testing.assert_array_equal(back, value)
        if value.dtype.kind == "f":
            assert numpy.array_equal(numpy.signbit(back), numpy.signbit(value))
    elif isinstance(value, float):
        assert math.copysign(1.0, back) == math.copysign(1.0, value) and (
            back == value or (math.isnan(back) and math.isnan(value)))
    else:
        assert repr(back) == repr(value)
