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
from hypothesis import given, settings
from hypothesis import strategies as st

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


# ---- random programs: sharing, scalings and Python floats, where the fast paths act ----

_UNARY = [np.sin, np.cos, np.tanh, lambda a: a * a, lambda a: 1.0 - a, lambda a: 100.0 * a,
          lambda a: -a, lambda a: a / 3.0, lambda a: 2.0 ** (0.1 * a)]
_BINARY = [lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a * b,
           lambda a, b: a / (1.0 + b * b)]


def _program(steps, n_out):
    """A function of two inputs: each step applies an op to earlier values (so values are
    shared by several later ones, and adjoints meet), the output sums the last values."""
    def f(x, y):
        vals = [x, y]
        for op, i, j in steps:
            a, b = vals[i % len(vals)], vals[j % len(vals)]
            vals.append(_UNARY[op % len(_UNARY)](a) if op < len(_UNARY)
                        else _BINARY[op % len(_BINARY)](a, b))
        return sum(np.sum(v) for v in vals[-n_out:])
    return f


@settings(max_examples=40, deadline=None)
@given(steps=st.lists(st.tuples(st.integers(0, len(_UNARY) + len(_BINARY) - 1),
                                st.integers(0, 50), st.integers(0, 50)), min_size=1, max_size=12),
       n_out=st.integers(1, 3), scalar=st.booleans(), seed=st.integers(0, 2**16))
def test_random_programs_agree_to_second_order(steps, n_out, scalar, seed):
    rng = onp.random.default_rng(seed)
    x, y = ((float(rng.uniform(-1, 1)), float(rng.uniform(-1, 1))) if scalar
            else (rng.uniform(-1, 1, 5), rng.uniform(-1, 1, 5)))
    f = _program(steps, n_out)
    _close(reference.vjp(f, x, y)[1](1.0), cr.vjp(f, x, y)[1](1.0), "first order")
    v = (0.3, -0.7) if scalar else (rng.standard_normal(5), rng.standard_normal(5))

    def hvp(vjp):
        def directional(x, y):
            gx, gy = vjp(f, x, y)[1](1.0)
            return np.sum(gx * v[0]) + np.sum(gy * v[1])
        return vjp(directional, x, y)[1](1.0)

    _close(hvp(reference.vjp), hvp(cr.vjp), "second order")


def test_large_arrays_where_temporaries_are_overwritten():
    """Rosenbrock on 10⁵ points: the fast interpreter overwrites dying temporaries
    (arrays of 256 KiB and more) and carries the 100 and the 2 of x² as numbers."""
    x = onp.random.default_rng(5).uniform(-1.5, 1.5, 100_000)

    def rosenbrock(x):
        return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)

    g = reference.vjp(rosenbrock, x)[1](1.0)[0]
    _close(g, cr.grad(rosenbrock)(x), "rosenbrock gradient")
    exact = onp.zeros_like(x)
    exact[:-1] = -400.0 * x[:-1] * (x[1:] - x[:-1] ** 2) - 2.0 * (1.0 - x[:-1])
    exact[1:] += 200.0 * (x[1:] - x[:-1] ** 2)
    onp.testing.assert_allclose(g, exact, rtol=1e-12, atol=1e-9)
