"""Derivatives of CuPy arrays (GPU): the Dask test families, run where CuPy and a GPU are.

Skipped, with the reason printed (``pytest -rs``), on machines without them; there
``test_device_arrays`` runs the same families through the same code paths on a
stand-in library (NumPy values that, like CuPy's, refuse implicit conversion).
"""

import numpy as onp
import pytest

import chainrule as cr

from backend_cases import FAMILIES, A, P  # the cases and inputs of the Dask tests


def _gpu_reason() -> str | None:
    try:
        import cupy
    except ImportError:
        return "CuPy is not installed (pip install cupy-cuda12x, for a CUDA 12 GPU)"
    try:
        if cupy.cuda.runtime.getDeviceCount() < 1:
            return "CuPy finds no GPU"
    except Exception as e:  # no driver, no device
        return f"CuPy finds no usable GPU: {e}"
    return None


REASON = _gpu_reason()
pytestmark = pytest.mark.skipif(REASON is not None, reason=str(REASON))


def _on_gpu(tree):
    import cupy

    for leaf in cr.tree_leaves(tree):
        assert isinstance(leaf, cupy.ndarray), type(leaf)
    return cr.tree_map(cupy.asnumpy, tree)


@pytest.mark.parametrize("name", list(FAMILIES))
def test_cupy_matches_numpy(name):
    import cupy

    f = FAMILIES[name]
    x, t = cupy.asarray(A), cupy.asarray(P)
    for got, want in [(cr.value_and_grad(f)(x), cr.value_and_grad(f)(A)),
                      (cr.jvp(f, (x,), (t,)), cr.jvp(f, (A,), (P,))),
                      (cr.hvp(f, (x,), (t,)), cr.hvp(f, (A,), (P,)))]:
        for g, w in zip(cr.tree_leaves(_on_gpu(got)), cr.tree_leaves(want)):
            onp.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-12)
