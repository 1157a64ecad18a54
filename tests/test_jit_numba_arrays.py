"""jit(f, backend="numba") on array programs: fused loops that agree with the NumPy backend.

Every row of the op table (``tests/op_specs.py``) with real arguments runs through both
backends, values and gradients; the fused code is inspected (one loop for a chain, the
sum in the same loop, vectorised NumPy functions and products left to NumPy); and
``backend="auto"`` is checked against its documented rule.
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as onp
import pytest

import chainrule as cr
import chainrule.numpy as np
from chainrule.core.pytree import tree_flatten
from chainrule.core.primitive import PRIMITIVES
from chainrule.ir.codegen import GeneratedFunction
from chainrule.ir.templates import template

numba = pytest.importorskip(
    "numba", reason="the numba backend needs Numba (pip install chainrule[jit]); the test "
    "extra installs it, so CI runs these")

from op_specs import SPECS, sample  # noqa: E402

from chainrule.ir import numba_codegen  # noqa: E402
from chainrule.ir.numba_codegen import NumbaFunction  # noqa: E402

SRC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src")
_NOT_REAL = {"complex", "complex_away1", "complex_right", "hpd", "herm", "cwellcond"}


def _array_case(spec):
    """The first shapes of a row with an array argument (the array path), or None."""
    if _NOT_REAL & set(spec.domain):
        return None
    return next((s for s in spec.shapes if any(len(x) for x in s)), None)


#: the rows with real arguments and an array shape (complex rows are NumPy code in both
#: backends: a fused loop computes real, integer and boolean values only)
ROWS = sorted(n for n, s in SPECS.items() if _array_case(s) is not None)


#: the rows whose primitive a fused loop can compute (its gradient is checked too: the
#: rule's arithmetic is fused with the loss around it; other rows' numbers are NumPy's)
LOOP_OPS = {n for n in ROWS if n in PRIMITIVES and template(PRIMITIVES[n]) is not None
            and template(PRIMITIVES[n]).in_loop() is not None}


def _args(spec, shapes, seed=0):
    rng = onp.random.default_rng(seed)
    domains = spec.domain + (spec.domain[-1],) * (len(shapes) - len(spec.domain))
    return tuple(sample(d, sh, rng) for d, sh in zip(domains, shapes, strict=False))


def _same(a, b, rtol=1e-12):
    la, lb = tree_flatten(a)[0], tree_flatten(b)[0]
    assert len(la) == len(lb)
    for x, y in zip(la, lb, strict=True):
        assert onp.shape(x) == onp.shape(y)
        onp.testing.assert_allclose(onp.asarray(x) * 1.0, onp.asarray(y) * 1.0,
                                    rtol=rtol, atol=1e-13)


def _agree(f, args, rtol=1e-12):
    """``jit(f, backend="numba")`` gives the NumPy backend's result, or its error."""
    try:
        expected = cr.jit(f, backend="numpy")(*args)
    except TypeError as err:  # a program jit cannot stage (a data-dependent shape...)
        with pytest.raises(type(err)):
            cr.jit(f, backend="numba")(*args)
        return None
    got = cr.jit(f, backend="numba")(*args)
    _same(got, expected, rtol)
    return got


@pytest.mark.parametrize("name", ROWS)
def test_op_table_values_and_gradients_agree(name):
    spec = SPECS[name]
    args = _args(spec, _array_case(spec))
    value = _agree(spec.fn, args)
    if spec.kind != "smooth" or name not in LOOP_OPS or any(
            onp.iscomplexobj(v) for v in tree_flatten(value)[0]):
        return

    def loss(*a):  # the op inside an elementwise chain and a sum: fused in both sweeps
        return np.sum(np.square(spec.fn(*a) * 0.5 + 0.25))

    nums = tuple(range(len(args)))
    g = _agree(cr.grad(loss, argnums=nums), args, rtol=1e-10)
    if g is not None:  # and both agree with eager reverse mode
        _same(g, cr.grad(loss, argnums=nums)(*args), rtol=1e-10)


def _kernels(entry) -> tuple:
    assert isinstance(entry, NumbaFunction)
    return entry.kernel


def test_chain_is_one_loop_without_temporaries():
    def f(x, y):
        return (x * y + 0.5 * x) * (x - y) + np.sqrt(y * y + 1.0)

    x, y = onp.linspace(-1, 1, 50), onp.linspace(0, 2, 50)
    entry = cr.jit(f, backend="numba").lower(x, y)
    (k,) = _kernels(entry)
    assert k.source.count("for i in") == 1
    assert k.source.count("np.empty") == 1  # the result only: no temporaries
    assert "_prim_fused" in entry.source and "np.sqrt" not in entry.source
    onp.testing.assert_allclose(entry(x, y), f(x, y), rtol=1e-14)


def test_sum_of_a_chain_is_an_accumulator_in_the_loop():
    def f(x):
        return np.sum((x - 1.0) * (x - 1.0) * 3.0)

    x = onp.linspace(-2, 2, 40)
    entry = cr.jit(f, backend="numba").lower(x)
    (k,) = _kernels(entry)
    assert "acc" in k.source and "np.empty" not in k.source  # no array at all
    assert float(entry(x)) == pytest.approx(float(onp.sum((x - 1) ** 2 * 3)), rel=1e-13)
    assert isinstance(entry(x), onp.float64)  # as the NumPy backend returns it


def test_gradient_chain_fuses_forward_and_adjoint():
    """Rosenbrock's gradient: slices and scatters stay NumPy, the arithmetic between
    them is fused, and the gradient is the NumPy backend's."""
    def rosen(x):
        return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)

    x = onp.random.default_rng(1).standard_normal(30)
    g = cr.grad(rosen)
    entry = cr.jit(g, backend="numba").lower(x)
    assert len(_kernels(entry)) >= 1
    fused_eqns = sum(k.source.count(" = ") for k in entry.kernel)
    assert fused_eqns >= 5
    _same(entry(x), cr.jit(g)(x), rtol=1e-13)


def test_rows_and_columns_are_read_in_the_loop():
    """A bias row (n,) and a keepdims column (m, 1) against (m, n): two nested loops, one
    kernel, NumPy's numbers."""
    def f(z, b, c):
        return np.sum((z + b) * (z - np.max(z, axis=1, keepdims=True)) + c * z)

    rng = onp.random.default_rng(3)
    z, b, c = rng.standard_normal((6, 5)), rng.standard_normal(5), rng.standard_normal((6, 1))
    entry = cr.jit(f, backend="numba").lower(z, b, c)
    (k,) = _kernels(entry)
    assert "for r in range(6):" in k.source and "for c in range(5):" in k.source
    assert all(f"e{j} = a{j}[{ix}]" in k.source for j, ix in enumerate("icrr"))  # z, b, max, c
    assert float(entry(z, b, c)) == pytest.approx(
        float(onp.sum((z + b) * (z - z.max(1, keepdims=True)) + c * z)), rel=1e-13)
    g = cr.grad(f, argnums=(0, 1, 2))
    _same(cr.jit(g, backend="numba")(z, b, c), cr.jit(g)(z, b, c), rtol=1e-12)


def test_vectorised_numpy_functions_and_products_stay_numpy():
    """tanh (NumPy's AVX loop is ~5× faster than one math.tanh per element) and matmul
    are NumPy calls; the arithmetic around them is fused."""
    def layer(w, x, b):
        h = np.tanh(x @ w + b)
        return np.sum((h * h - 1.0) * (h + 2.0))

    rng = onp.random.default_rng(2)
    w, x, b = rng.standard_normal((3, 4)), rng.standard_normal((5, 3)), rng.standard_normal(4)
    g = cr.grad(layer, argnums=(0, 1, 2))
    entry = cr.jit(g, backend="numba").lower(w, x, b)
    assert "np.tanh" in entry.source and "@" in entry.source
    assert all("tanh" not in k.source for k in entry.kernel)
    _same(entry(w, x, b), cr.grad(layer, argnums=(0, 1, 2))(w, x, b), rtol=1e-12)


def test_unsupported_values_fall_back_to_numpy():
    """Complex arrays, broadcasting other than rows and columns, loops over arrays: no
    kernel, the NumPy backend's numbers."""
    z = onp.array([1 + 2j, 3 - 1j])
    f = cr.jit(lambda z: np.sin(z) * z + 1.0, backend="numba")
    _same(f(z), onp.sin(z) * z + 1.0)
    assert f.lower(z).kernel == ()
    a, b = onp.ones((2, 3, 1)), onp.arange(8.0).reshape(2, 1, 4)
    h = cr.jit(lambda a, b: a * b + a, backend="numba")
    _same(h(a, b), a * b + a)
    assert h.lower(a, b).kernel == ()

    def loop(x):
        return cr.fori_loop(0, 3, lambda i, v: v * 0.5 + x, x)

    x = onp.arange(5.0)
    _same(cr.jit(loop, backend="numba")(x), cr.jit(loop)(x))


def test_nan_and_inf_follow_numpy():
    x = onp.array([0.0, 1.0, -1.0, onp.inf])
    f = cr.jit(lambda x: np.sqrt(x - 0.5) / (x * 0.0) + 1.0, backend="numba")
    with onp.errstate(all="ignore"):
        _same(f(x), onp.sqrt(x - 0.5) / (x * 0.0) + 1.0)


def test_float32_keeps_its_dtype():
    x = onp.linspace(0, 1, 20, dtype=onp.float32)
    f = cr.jit(lambda x: x * x + 2.0 * x, backend="numba")
    assert f(x).dtype == onp.float32
    onp.testing.assert_allclose(f(x), x * x + 2 * x, rtol=1e-6)


def test_parallel_loop_above_threshold(monkeypatch):
    monkeypatch.setattr(numba_codegen, "PARALLEL_MIN_SIZE", 16)
    x = onp.linspace(0, 1, 64)
    entry = cr.jit(lambda x: np.sum(x * x + x), backend="numba").lower(x)
    (k,) = entry.kernel
    assert k.parallel and "prange" in k.source
    assert float(entry(x)) == pytest.approx(float(onp.sum(x * x + x)), rel=1e-13)


# -- backend="auto" ---------------------------------------------------------------------

def _chain(x):
    return np.sum(x * x * 0.5 + x)


def test_auto_uses_numba_for_a_large_fused_loop():
    big = onp.linspace(0, 1, numba_codegen.AUTO_MIN_SIZE)
    assert isinstance(cr.jit(_chain, backend="auto").lower(big), NumbaFunction)
    assert float(cr.jit(_chain, backend="auto")(big)) == pytest.approx(
        float(onp.sum(big * big * 0.5 + big)), rel=1e-12)


def test_auto_uses_numpy_below_the_threshold_or_without_a_chain():
    small = onp.linspace(0, 1, numba_codegen.AUTO_MIN_SIZE - 1)
    entry = cr.jit(_chain, backend="auto").lower(small)
    assert not isinstance(entry, NumbaFunction) and isinstance(entry, GeneratedFunction)
    big = onp.ones((64, 64))  # a product and one elementwise op: nothing to fuse
    entry = cr.jit(lambda a: np.tanh(a @ a), backend="auto").lower(big)
    assert not isinstance(entry, NumbaFunction)


def test_auto_compiles_scalar_loops_whole():
    def logistic(x):
        return cr.fori_loop(0, numba_codegen.AUTO_MIN_STEPS, lambda i, v: 3.7 * v * (1 - v), x)

    entry = cr.jit(logistic, backend="auto").lower(0.3)
    assert isinstance(entry, NumbaFunction) and entry.kernel is not None
    assert entry(0.3) == pytest.approx(cr.jit(logistic)(0.3), rel=1e-12)
    straight = cr.jit(lambda x: x * x + 1.0, backend="auto").lower(0.3)
    assert not isinstance(straight, NumbaFunction)


def test_auto_without_numba_is_numpy():
    code = (
        "import sys; sys.modules['numba'] = None\n"
        "import numpy, chainrule as cr, chainrule.numpy as np\n"
        "f = cr.jit(lambda x: np.sum(x * x + x), backend='auto')\n"
        "print(f(numpy.ones(10000)), type(f.lower(numpy.ones(10000))).__name__)\n"
    )
    env = dict(os.environ, PYTHONPATH=SRC + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["20000.0", "GeneratedFunction"]
