"""Every primitive in the registry, checked against finite differences.

First and second order, forward and reverse, on scalar, vector, matrix and
broadcast shapes; a primitive registered without a row in ``op_specs.SPECS``
fails ``test_every_primitive_has_a_spec_and_rules``.
"""

import zlib

import numpy as onp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import chainrule as cr
import chainrule.numpy as np
from chainrule.core.primitive import NO_RULE, PRIMITIVES, Tracer
from op_specs import COMPLEX_SPECS, SPECS, sample


def _import_every_module():
    """Primitives register on import: load every module so none escapes the check."""
    import importlib
    import pkgutil

    import chainrule

    for info in pkgutil.walk_packages(chainrule.__path__, "chainrule."):
        if info.name != "chainrule.__main__":
            importlib.import_module(info.name)


def test_every_primitive_has_a_spec_and_rules():
    _import_every_module()
    missing = sorted(set(PRIMITIVES) - set(SPECS))
    assert not missing, f"primitives without a row in tests/op_specs.py: {missing}"
    stale = sorted(set(SPECS) - set(PRIMITIVES))
    assert not stale, f"rows in tests/op_specs.py for no primitive: {stale}"
    for name, prim in PRIMITIVES.items():
        for kind, rules in (("JVP", prim.jvps), ("VJP", prim.vjps)):
            for i in range(3):
                try:
                    rule = rules[i]
                except IndexError:
                    break
                assert rule is not NO_RULE, f"{name} has no {kind} rule for argument {i}"


CASES = [(name, shapes) for name, spec in SPECS.items() for shapes in spec.shapes]


def _args(spec, shapes, seed):
    rng = onp.random.default_rng(seed)
    domains = spec.domain * len(shapes) if len(spec.domain) == 1 else spec.domain
    return tuple(sample(d, s, rng) for d, s in zip(domains, shapes))


@pytest.mark.parametrize("name,shapes", CASES, ids=[f"{n}-{s}" for n, s in CASES])
def test_primitive_derivatives(name, shapes):
    spec = SPECS[name]
    args = _args(spec, shapes, seed=zlib.crc32(f"{name}{shapes}".encode()))
    if spec.kind == "smooth":
        cr.check_grads(spec.fn, args, order=spec.order, modes=("fwd", "rev"))
        return
    # zero derivative: defined on tracers, no derivative flows, value unchanged
    plain = spec.fn(*args)
    tangents = tuple(onp.ones_like(onp.asarray(a)) if onp.ndim(a) else 1.0 for a in args)
    out, t_out = cr.jvp(spec.fn, args, tangents)
    for o, p in zip(cr.tree_flatten(out)[0], cr.tree_flatten(plain)[0]):
        onp.testing.assert_array_equal(o, p)
    for t in cr.tree_flatten(t_out)[0]:
        assert not onp.any(t), f"{name}: non-zero tangent {t}"
    value, back = cr.vjp(spec.fn, *args)
    cts = cr.tree_map(lambda o: onp.ones(onp.shape(o)) if onp.ndim(o) else 1.0, value)
    for g in back(cts):
        assert not onp.any(g), f"{name}: non-zero cotangent {g}"
        assert not isinstance(g, Tracer)


COMPLEX_CASES = [(label, shapes) for label, spec in COMPLEX_SPECS.items()
                 for shapes in spec.shapes]


@pytest.mark.parametrize("label,shapes", COMPLEX_CASES, ids=[f"{n}-{s}" for n, s in COMPLEX_CASES])
def test_complex_derivatives(label, shapes):
    """Complex rows (JAX's convention): check_grads pairs ⟨u, J v⟩ = Re Σ u·(J v)."""
    assert label.split(":")[0] in PRIMITIVES, f"{label}: no primitive of that name"
    spec = COMPLEX_SPECS[label]
    args = _args(spec, shapes, seed=zlib.crc32(f"{label}{shapes}".encode()))
    cr.check_grads(spec.fn, args, order=spec.order, modes=("fwd", "rev"))
    if all(onp.isrealobj(a) for a in args) and not onp.iscomplexobj(spec.fn(*args)):
        g = cr.grad(lambda *xs: np.sum(spec.fn(*xs)), argnums=tuple(range(len(args))))(*args)
        assert not any(onp.iscomplexobj(gi) for gi in g), f"{label}: complex gradient {g}"


def test_check_grads_catches_a_wrong_rule():
    wrong = cr.core.Primitive("wrong_sin_for_test", onp.sin,
                              jvps=(lambda t, y, x: t * np.sin(x),),
                              vjps=(lambda g, y, x: g * np.sin(x),))
    try:
        with pytest.raises(AssertionError, match="wrong_sin|<lambda>"):
            cr.check_grads(lambda x: wrong(x), (0.3,), order=1, modes=("fwd",))
        with pytest.raises(AssertionError, match="mode rev"):
            cr.check_grads(lambda x: wrong(x), (0.3,), order=1, modes=("rev",))
    finally:
        del PRIMITIVES["wrong_sin_for_test"]


def _broadcastable_pair():
    return hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3)


@settings(max_examples=25, deadline=None)
@given(shapes=_broadcastable_pair(), seed=st.integers(0, 2**16),
       op=st.sampled_from(["add", "sub", "mul", "div", "maximum", "pow"]))
def test_broadcasting_binary_ops_property(shapes, seed, op):
    spec = SPECS[op]
    args = _args(spec, shapes.input_shapes, seed)
    cr.check_grads(spec.fn, args, order=2)


@settings(max_examples=25, deadline=None)
@given(x=hnp.arrays(onp.float64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=4),
                    elements=st.floats(-3, 3)),
       axis=st.integers(-1, 0), keepdims=st.booleans())
def test_reductions_property(x, axis, keepdims):
    def f(x):
        return np.sum(np.sin(x) * x, axis=axis, keepdims=keepdims)

    cr.check_grads(f, (x,), order=2)
    onp.testing.assert_allclose(
        cr.elementwise_grad(lambda x: np.sum(x * x, axis=axis, keepdims=keepdims))(x), 2 * x)


SMOOTH_CASES = [(name, spec.shapes[-1]) for name, spec in SPECS.items()
                if spec.kind == "smooth" and spec.shapes]


@pytest.mark.parametrize("name,shapes", SMOOTH_CASES, ids=[n for n, _ in SMOOTH_CASES])
def test_float32_in_float32_out(name, shapes):
    """Float32 arguments keep float32 values, tangents and cotangents (no silent
    promotion to float64 inside a rule), as JAX and PyTorch do."""
    spec = SPECS[name]
    args = tuple(a.astype(onp.float32) if isinstance(a, onp.ndarray) and a.dtype == onp.float64
                 else a for a in _args(spec, shapes, seed=1))
    if not any(isinstance(a, onp.ndarray) and a.dtype == onp.float32 for a in args):
        return  # scalar-only rows: Python floats are float64 by definition
    plain = spec.fn(*args)
    value, back = cr.vjp(spec.fn, *args)
    cts = cr.tree_map(lambda o: onp.ones_like(o), value)
    _, t_out = cr.jvp(spec.fn, args, tuple(onp.ones_like(a) if isinstance(a, onp.ndarray)
                                           else 1.0 for a in args))
    for v, p, t in zip(cr.tree_flatten(value)[0], cr.tree_flatten(plain)[0],
                       cr.tree_flatten(t_out)[0]):
        assert onp.result_type(v) == onp.result_type(p), f"{name}: value dtype"
        if onp.result_type(p) == onp.float32:
            assert onp.result_type(t) == onp.float32, f"{name}: tangent {onp.result_type(t)}"
    for a, g in zip(args, back(cts)):
        if isinstance(a, onp.ndarray) and a.dtype == onp.float32 \
                and onp.result_type(plain) == onp.float32:
            assert onp.result_type(g) == onp.float32, f"{name}: cotangent {onp.result_type(g)}"
