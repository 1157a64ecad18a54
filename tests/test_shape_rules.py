"""Shape rules (``Primitive.abstract_eval``) agree with the implementations.

Every row of ``op_specs.SPECS`` is run through a trace that applies each primitive's
implementation to the real values and, where the primitive has a shape rule, compares
the rule's abstract value (shape, dtype, Python-number flag) with that of the actual
result: in float64, in float32, and with integer arrays where the row accepts them.
Every primitive with a shape rule must be reached by some row. Staging (``jit``,
``make_ir``) then uses the rules: a program staged from shapes alone matches.
"""

from __future__ import annotations

import zlib

import numpy as onp
import pytest
from op_specs import SPECS, sample

import chainrule as cr
import chainrule.numpy as np
from chainrule.core.abstract import AVal, aval_of
from chainrule.core.primitive import PRIMITIVES, Trace, Tracer
from chainrule.core.shape_rules import elementwise_shape, matmul_shape, reduction_shape

LIBRARY = dict(PRIMITIVES)
_CONSTANTS = (float, int, complex, bool, type(None))
_NUMBERS = (float, int, complex, bool)


class _Box(Tracer):
    __slots__ = ()

    def __init__(self, trace: "_AgreementTrace", value) -> None:
        self._trace = trace
        self._value = value


class _AgreementTrace(Trace):
    """Runs every primitive on values, checking its shape rule against the result."""

    def __init__(self) -> None:
        super().__init__()
        self.checked: set[str] = set()
        self.disagree: list[str] = []

    def process(self, prim, args, params):
        vals = [a._value if isinstance(a, _Box) and a._trace is self else a for a in args]
        with onp.errstate(all="ignore"):
            out = prim.impl(*vals, **params)
        avals = [v if type(v) in _CONSTANTS else aval_of(v) for v in vals]  # as staging does
        rule = prim.abstract_eval
        if rule is not None and not all(type(a) in _NUMBERS for a in avals if a is not None):
            multi = isinstance(out, (tuple, list))
            got = [aval_of(o) for o in (out if multi else [out])]
            want = rule(*avals, **params)
            want = list(want) if isinstance(want, (tuple, list)) else [want]
            self.checked.add(prim.name)
            if want != got:
                self.disagree.append(f"{prim.name}{tuple(avals)} {params}: rule {want}, "
                                     f"implementation {got}")
        if isinstance(out, (tuple, list)):
            return type(out)(_Box(self, o) for o in out)
        return _Box(self, out)


def _arguments(spec, shapes, seed: int, dtype) -> list:
    rng = onp.random.default_rng(seed)
    domains = spec.domain * len(shapes) if len(spec.domain) == 1 else spec.domain
    args = [sample(d, s, rng) for d, s in zip(domains, shapes)]
    return [a.astype(dtype) if isinstance(a, onp.ndarray) and a.dtype.kind == "f" else a
            for a in args]


def _run(trace: _AgreementTrace, spec, args) -> None:
    boxed = [_Box(trace, a) for a in args]
    with onp.errstate(all="ignore"):
        spec.fn(*boxed, **spec.extra)


CASES = [(name, shapes) for name, spec in SPECS.items() for shapes in spec.shapes]


def test_every_shape_rule_agrees_with_its_implementation_over_the_op_table():
    trace = _AgreementTrace()
    for name, shapes in CASES:
        spec = SPECS[name]
        seed = zlib.crc32(f"{name}{shapes}".encode())
        for dtype in (onp.float64, onp.float32):
            _run(trace, spec, _arguments(spec, shapes, seed, dtype))
        if all(d in ("real", "away1", "positive", "unit", "above1") for d in spec.domain):
            ints = [onp.round(a * 3).astype(onp.int64) if isinstance(a, onp.ndarray) else a
                    for a in _arguments(spec, shapes, seed, onp.float64)]
            try:
                _run(trace, spec, ints)
            except (TypeError, ValueError, ZeroDivisionError, OverflowError):
                pass  # the operation refuses integers (before or after the rule is checked)
    trace.active = False
    assert not trace.disagree, "\n".join(trace.disagree[:20])
    with_rule = {n for n, p in LIBRARY.items() if p.abstract_eval is not None}
    unreached = sorted(with_rule - trace.checked - _REACHED_ELSEWHERE)
    assert not unreached, f"shape rules no op_specs row exercises: {unreached}"


#: primitives that only derivative rules apply (the rows run primal values), checked below
_REACHED_ELSEWHERE = {"times_i"}


@pytest.mark.parametrize("dtype", [onp.float32, onp.float64, onp.complex64, onp.complex128])
def test_rules_of_primitives_only_derivatives_apply(dtype):
    x = onp.arange(6.0).reshape(2, 3).astype(dtype)
    x = x + 0.5j if x.dtype.kind == "c" else x
    for name in _REACHED_ELSEWHERE:
        prim = LIBRARY[name]
        assert prim.abstract_eval(aval_of(x)) == aval_of(prim.impl(x))


@pytest.mark.parametrize("rule,avals,params,want", [
    (elementwise_shape("inexact"), [AVal((3, 1), onp.int8), AVal((4,), onp.int8)], {},
     AVal((3, 4), onp.float16)),
    (elementwise_shape("bool"), [AVal((2,), onp.float32), AVal((), onp.float64, True)], {},
     AVal((2,), bool)),
    (elementwise_shape("real"), [AVal((2,), onp.complex64)], {}, AVal((2,), onp.float32)),
    (elementwise_shape("first"), [AVal((2,), onp.float32)], {"dtype": onp.int32},
     AVal((2,), onp.int32)),
    (reduction_shape("sum"), [AVal((2, 3, 4), onp.int8)], {"axis": (0, -1), "keepdims": True},
     AVal((1, 3, 1), onp.int64)),
    (reduction_shape("first"), [AVal((2, 3), onp.float32)], {"axis": None},
     AVal((), onp.float32)),
    (matmul_shape, [AVal((3,), onp.float32), AVal((4, 3, 2), onp.float32)], {},
     AVal((4, 2), onp.float32)),
])
def test_shape_rules_on_cases_the_table_does_not_hold(rule, avals, params, want):
    """Integer promotion, keepdims over several axes, a 1-D operand meeting a stack."""
    assert rule(*avals, **params) == want


def test_matmul_rule_refuses_what_numpy_refuses():
    with pytest.raises(ValueError, match="inner dimensions"):
        matmul_shape(AVal((2, 3), onp.float64), AVal((2, 3), onp.float64))
    with pytest.raises(ValueError, match="0-d"):
        matmul_shape(AVal((), onp.float64), AVal((3,), onp.float64))


def test_staging_uses_the_rules_without_running_implementations(monkeypatch):
    """A staged program's types come from the shape rules: implementations of primitives
    with a rule are not called while staging (here they would raise)."""
    ruled = [p for p in LIBRARY.values() if p.abstract_eval is not None and p.name in
             ("sin", "mul", "add", "sum", "reshape", "transpose", "matmul")]
    for p in ruled:
        monkeypatch.setattr(p, "impl", _refuse)
    x = onp.ones((3, 4), onp.float32)

    def f(x):
        return np.sum(np.sin(x) * 2.0 + (x.T @ x).reshape(-1)[:4], axis=0)

    prog = cr.make_ir(f)(x)
    assert prog.outputs[0].aval == AVal((4,), onp.float32)


def _refuse(*args, **params):
    raise AssertionError("an implementation ran during staging")


def test_rules_and_staging_agree_on_the_lecture_example():
    """The staged types of f(x) = Σ sin(x)·x equal the values' (f32 and f64)."""
    for dtype in (onp.float32, onp.float64):
        x = onp.linspace(0.1, 1.0, 5).astype(dtype)
        prog = cr.make_ir(lambda x: np.sum(np.sin(x) * x))(x)
        assert prog.outputs[0].aval == aval_of(onp.sum(onp.sin(x) * x))
