"""The code paths chainrule takes for a GPU array library (CuPy), run here on a stand-in
(:mod:`device_standin`: NumPy values that refuse implicit conversion, as CuPy's do), so
that they are tested on machines without a GPU; ``test_cupy`` runs the same families on
CuPy itself where a GPU is. Each family: value, gradient (reverse), tangent (forward) and
Hessian-vector product (forward over reverse) equal NumPy's, and every result is a
device array. Also without array-api-compat installed (the namespace then comes from
the array's own ``__array_namespace__``)."""

import sys

import numpy as onp
import pytest

import chainrule as cr
from chainrule.core import backends

import device_standin as dev
from backend_cases import FAMILIES, A, P


def _host(tree):
    for leaf in cr.tree_leaves(tree):
        assert isinstance(leaf, dev.DeviceArray), type(leaf)
    return cr.tree_map(lambda a: a.get(), tree)


def _check_family(name):
    f = FAMILIES[name]
    x, t = dev.to_device(A), dev.to_device(P)
    for got, want in [(cr.value_and_grad(f)(x), cr.value_and_grad(f)(A)),
                      (cr.jvp(f, (x,), (t,)), cr.jvp(f, (A,), (P,))),
                      (cr.hvp(f, (x,), (t,)), cr.hvp(f, (A,), (P,)))]:
        for g, w in zip(cr.tree_leaves(_host(got)), cr.tree_leaves(want)):
            onp.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", list(FAMILIES))
def test_device_arrays_match_numpy(name):
    dev.CALLS.clear()
    _check_family(name)
    assert sum(dev.CALLS.values()) > 0  # the work ran through the device library


@pytest.mark.parametrize("name", ["elementwise", "indexing", "logistic"])
def test_device_arrays_without_array_api_compat(name, monkeypatch):
    monkeypatch.setitem(sys.modules, "array_api_compat", None)  # import raises ImportError
    monkeypatch.setattr(backends, "_FOREIGN", {})
    assert backends.namespace(dev.to_device(A)) is dev.namespace
    _check_family(name)


def test_the_stand_in_refuses_implicit_conversion_as_cupy_does():
    with pytest.raises(TypeError, match="implicit conversion"):
        onp.asarray(dev.to_device(A))


def test_namespace_without_array_api_compat_names_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "array_api_compat", None)
    dask_array = pytest.importorskip("dask.array")
    assert backends.namespace(onp.ones(2), 1.0) is onp
    with pytest.raises(ImportError, match=r"pip install chainrule\[dask\]"):
        backends.namespace(dask_array.ones(3))


def test_computed_copies_device_arrays_to_the_host():
    value, grad = backends.computed(dev.to_device(2.0), dev.to_device(A))
    assert type(grad) is onp.ndarray and float(value) == 2.0
    onp.testing.assert_array_equal(grad, A)
