"""jit(f, backend="numba"): same numbers as the Python backend, clear errors outside the subset."""

from __future__ import annotations

import math
import os
import subprocess
import sys

import numpy
import pytest

import chainrule as cr
import chainrule.numpy as np

SRC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src")


def test_import_error_without_numba():
    code = (
        "import sys; sys.modules['numba'] = None\n"
        "import chainrule as cr\n"
        "try:\n"
        "    cr.jit(lambda x: x * x, backend='numba')\n"
        "except ImportError as e:\n"
        "    print('IMPORTERROR', e)\n"
        "print(cr.jit(lambda x: x * x)(3.0))\n"
    )
    env = dict(os.environ, PYTHONPATH=SRC + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    assert "IMPORTERROR" in out.stdout
    assert "pip install chainrule[jit]" in out.stdout
    assert "9.0" in out.stdout  # the python backend still works without numba


def test_unknown_backend():
    with pytest.raises(ValueError, match="'numpy', 'numba' or 'auto'"):
        cr.jit(lambda x: x, backend="cython")


numba = pytest.importorskip(
    "numba", reason="the numba backend needs Numba (pip install chainrule[jit]); the test "
    "extra installs it, so CI runs these")

from chainrule.ir.numba_codegen import NumbaUnsupported  # noqa: E402


def _fori(n, body, s):
    return cr.fori_loop(0, n, lambda i, v: body(v), s)


def griewank(x1, x2):
    v1 = x1 / x2
    v2 = np.exp(x2)
    v3 = v1 - v2
    v4 = np.sin(v1)
    return v4 + v3


def logistic(x):
    return _fori(1000, lambda l: 4.0 * l * (1.0 - l), x)


def pendulum(v0, c, dt=0.01, steps=1000):
    def f(th, om):
        return om, -np.sin(th) - c * om

    def step(s):
        th, om = s
        k1 = f(th, om)
        k2 = f(th + dt / 2 * k1[0], om + dt / 2 * k1[1])
        k3 = f(th + dt / 2 * k2[0], om + dt / 2 * k2[1])
        k4 = f(th + dt * k3[0], om + dt * k3[1])
        return (th + dt / 6 * (k1[0] + 2 * k2[0] + 2 * k3[0] + k4[0]),
                om + dt / 6 * (k1[1] + 2 * k2[1] + 2 * k3[1] + k4[1]))

    th, om = _fori(steps, step, (1.0, v0))
    return th


def _close(a, b, tol=1e-12):
    a, b = numpy.atleast_1d(a), numpy.atleast_1d(b)
    assert a.shape == b.shape
    assert numpy.allclose(a, b, rtol=tol, atol=tol), (a, b)


@pytest.mark.parametrize("fn,args,argnums", [
    (griewank, (1.5, 0.5), (0, 1)),
    (logistic, (0.3,), 0),
    (logistic, (0.1234,), 0),
    (pendulum, (0.5, 0.1), (0, 1)),
])
def test_gradients_match_python_backend(fn, args, argnums):
    g = cr.grad(fn, argnums=argnums)
    want = cr.jit(g)(*args)
    jn = cr.jit(g, backend="numba")
    got = jn(*args)
    assert type(got) is type(want)
    _close(got, want)
    _close(jn(*args), want)  # cached
    assert jn.misses == 1
    assert isinstance(jn.lower(*args).kernel, numba.core.registry.CPUDispatcher)


def test_values_and_structure():
    f = lambda x, y: {"s": np.sin(x) * y, "pair": (x + y, np.exp(-x))}
    got = cr.jit(f, backend="numba")(0.7, 2.0)
    want = f(0.7, 2.0)
    assert set(got) == {"s", "pair"} and isinstance(got["pair"], tuple)
    _close(got["s"], want["s"])
    _close(got["pair"], want["pair"])


def test_loop_uses_preallocated_arrays():
    src = cr.jit(cr.grad(logistic), backend="numba").lower(0.3).source
    assert "np.empty(1000, np.float64)" in src
    assert ".append" not in src and "[]" not in src


def test_scan_outputs_returned():
    def f(x):
        return cr.scan(lambda c, t: (c * t, c + t), x, numpy.linspace(0.0, 1.0, 5))

    got = cr.jit(f, backend="numba")(1.5)
    want = cr.jit(f)(1.5)
    _close(got[0], want[0])
    _close(got[1], want[1])


def test_while_and_cond():
    f = lambda x: cr.while_loop(lambda c: c[0] < 10, lambda c: (c[0] + 1, c[1] * x),
                                (0, 1.0))[1]
    _close(cr.jit(f, backend="numba")(1.1), f(1.1))
    g = lambda x: cr.cond(x > 0, lambda y: y * y, lambda y: -y, x)
    jg = cr.jit(cr.grad(g), backend="numba")
    assert jg(-2.0) == -1.0 and jg(3.0) == 6.0


def test_outer_transformation_traces_through():
    jf = cr.jit(logistic, backend="numba")
    _close(cr.grad(jf)(0.3), cr.grad(logistic)(0.3))


def test_numpy_semantics_for_inf_nan():
    assert cr.jit(lambda x: np.log(x), backend="numba")(0.0) == -math.inf
    assert cr.jit(lambda x: 1.0 / x, backend="numba")(0.0) == math.inf
    assert math.isnan(cr.jit(lambda x: np.sqrt(x), backend="numba")(-1.0))


def test_unsupported_primitive_is_named():
    with pytest.raises(NumbaUnsupported, match="'arcsinh'"):
        cr.jit(lambda x: np.arcsinh(x), backend="numba")(1.0)


def test_piecewise_code_and_its_gradient():
    """maximum, minimum, sign and where (the masks of their rules included)."""

    def f(x):
        y = np.maximum(x, 0.0) * np.where(x > 1.0, x, 2.0 * x) + np.sign(x) * x
        return np.minimum(y, 3.0)

    for x in (-1.5, 0.0, 0.5, 1.0, 2.5):
        _close(cr.jit(f, backend="numba")(x), f(x))
        _close(cr.jit(cr.grad(f), backend="numba")(x), cr.grad(f)(x))
    assert math.isnan(cr.jit(lambda x: np.maximum(x, math.nan), backend="numba")(1.0))


def test_whole_program_compiler_refuses_an_array_argument():
    """Only programs of scalars are compiled whole; array programs are fused instead
    (tests/test_jit_numba_arrays.py)."""
    from chainrule.ir.numba_codegen import generate_numba

    prog = cr.make_ir(lambda x: np.sum(x * x))(numpy.ones(3))
    with pytest.raises(NumbaUnsupported, match="argument 0 is an array"):
        generate_numba(prog)
