"""The fast reverse interpreter agrees with the reference one on the whole op table.

Every row of ``op_specs.SPECS`` and ``op_specs.COMPLEX_SPECS`` is differentiated by
:mod:`chainrule.interpreters.reference` (plain tape, one sweep, the primitives' own VJP
rules, every residual kept) and by ``cr.vjp`` (the fast interpreter with its stubs,
scaled adjoints and in-place tricks): the cotangents for a random output cotangent must
agree to rounding. Smooth real rows are also compared at second order, reverse over
reverse: the gradient of ``⟨∇L(x), v⟩`` (a Hessian-vector product) for
``L = Σ w·f(x)``, both interpreters nested in themselves.
"""

import zlib

import numpy as onp
import pytest

import chainrule as cr
import chainrule.numpy as np
from chainrule.interpreters import reference
from op_specs import COMPLEX_SPECS, SPECS, sample

#: rows the reference interpreter does not record: structured control flow, whose
#: multi-output primitives are taped by chainrule.control for the fast interpreter only
CONTROL_FLOW = {"scan", "tuple_get", "while_loop", "cond"}

ROWS = {**SPECS, **COMPLEX_SPECS}
CASES = [(name, shapes) for name, spec in ROWS.items() if name not in CONTROL_FLOW
         for shapes in spec.shapes]
RTOL, ATOL = 1e-10, 1e-12


def _args(name, spec, shapes):
    rng = onp.random.default_rng(zlib.crc32(f"ref{name}{shapes}".encode()))
    domains = spec.domain * len(shapes) if len(spec.domain) == 1 else spec.domain
    return tuple(sample(d, s, rng) for d, s in zip(domains, shapes)), rng


def _weights(out, rng):
    """A random cotangent shaped like ``out`` (complex where ``out`` is)."""
    def one(o):
        o = onp.asarray(o)
        w = rng.standard_normal(o.shape)
        if o.dtype.kind == "c":
            w = w + 1j * rng.standard_normal(o.shape)
        return w.astype(o.dtype) if o.dtype.kind in "fc" else w
    return cr.tree_map(one, out)


def _close(a, b, what):
    for x, y in zip(cr.tree_flatten(a)[0], cr.tree_flatten(b)[0], strict=True):
        onp.testing.assert_allclose(onp.asarray(x), onp.asarray(y), rtol=RTOL, atol=ATOL,
                                    err_msg=what)


@pytest.mark.parametrize("name,shapes", CASES, ids=[f"{n}-{s}" for n, s in CASES])
def test_reference_and_fast_reverse_agree(name, shapes):
    spec = ROWS[name]
    args, rng = _args(name, spec, shapes)
    out_fast, back_fast = cr.vjp(spec.fn, *args)
    out_ref, back_ref = reference.vjp(spec.fn, *args)
    _close(out_ref, out_fast, f"{name}: values")
    w = _weights(out_fast, rng)
    _close(back_ref(w), back_fast(w), f"{name}: first-order cotangents")
    if spec.kind != "smooth" or spec.order < 2 or name not in SPECS \
            or any(onp.iscomplexobj(a) for a in args) or onp.iscomplexobj(out_fast):
        return
    v = tuple(rng.standard_normal(onp.shape(a)) for a in args)

    def loss(*xs):
        return sum(np.sum(o * wo) for o, wo in zip(cr.tree_flatten(spec.fn(*xs))[0],
                                                    cr.tree_flatten(w)[0], strict=True))

    def hvp(vjp):
        def directional(*xs):
            g = vjp(loss, *xs)[1](1.0)
            return sum(np.sum(gi * vi) for gi, vi in zip(g, v, strict=True))
        return vjp(directional, *args)[1](1.0)

    _close(hvp(reference.vjp), hvp(cr.vjp), f"{name}: second order (reverse over reverse)")


def test_reference_interpreter_against_closed_forms():
    """The reference itself, on a function whose derivatives are known."""
    def f(x, y):
        return np.sum(np.exp(x) * y + x * x)

    x, y = onp.array([0.1, -0.4]), onp.array([2.0, 3.0])
    gx, gy = reference.vjp(f, x, y)[1](1.0)
    onp.testing.assert_allclose(gx, onp.exp(x) * y + 2 * x, rtol=1e-14)
    onp.testing.assert_allclose(gy, onp.exp(x), rtol=1e-14)
    # x·sin(x): f'' = 2cos x - x sin x
    d2 = reference.grad(reference.grad(lambda t: t * np.sin(t)))(0.7)
    assert abs(d2 - (2 * onp.cos(0.7) - 0.7 * onp.sin(0.7))) < 1e-14
    # an input reached by no path has a zero cotangent, shaped like it
    gx, gy = reference.vjp(lambda x, y: np.sum(x), x, y)[1](1.0)
    onp.testing.assert_array_equal(gy, onp.zeros(2))


def test_reference_interpreter_refuses_control_flow_clearly():
    with pytest.raises(NotImplementedError, match="control flow"):
        reference.vjp(SPECS["scan"].fn, onp.ones(3))
