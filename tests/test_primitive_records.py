"""Every registered primitive is one complete record (``Primitive``), and its fields are right.

The fields a primitive needs depend on its kind (its ``batch`` field): every primitive
has its derivative rules (JVP and VJP, ``None`` meaning a zero derivative, never the
``NO_RULE`` marker) and a batching rule; an elementwise one also a shape rule, a SymPy
counterpart and the written partial derivatives of trace tables; a reduction a shape
rule. Printing needs nothing: a primitive prints as ``name(args)`` (LaTeX
``\\operatorname{name}``), and ``symbol``/``latex`` only refine that.

``KNOWN_GAPS`` lists the fields missing today; the test fails when a primitive lacks a
field not listed (a new primitive must be complete) and when a listed gap is filled (the
list only shrinks). The fields' contents are checked too: every SymPy counterpart and
every written partial derivative agree, in value, with the implementation and the JVP
rule, on the arguments the op table ``op_specs.SPECS`` gives each primitive.
"""

from __future__ import annotations

import math
import zlib

import numpy as onp
import pytest
import scipy.special as sps
import sympy as sp
from op_specs import SPECS, sample

import chainrule as cr
from chainrule.core.primitive import NO_RULE, PRIMITIVES, Trace, Tracer
from chainrule.interpreters.batching import RULES
from chainrule.symbolic._trace import _counterpart

LIBRARY = dict(PRIMITIVES)

#: the fields each kind of primitive needs beyond its derivative rules and batching rule
NEEDS = {"elementwise": ("abstract_eval", "sympy", "partials"), "reduction": ("abstract_eval",)}

#: fields missing today, by primitive (may only shrink)
KNOWN_GAPS = {
    # no SymPy function of the same meaning (rounding modes, IEEE predicates, dtypes,
    # inverse distribution functions)
    **{name: {"sympy"} for name in (
        "around heaviside isclose iscomplex isfinite isinf isnan isreal logical_xor rint "
        "round signbit").split()},
    # no SymPy counterpart and no written partial
    **{name: {"sympy", "partials"} for name in (
        "astype betaincinv gammainccinv gammaincinv ive stdtr stdtrit").split()},
    # the partial is not one formula the trace table can show (ties split, complex
    # conjugation, a missing derivative in the order/shape argument)
    **{name: {"partials"} for name in (
        "betainc clip conj gammainc gammaincc imag iv jv kv kve maximum minimum real "
        "times_i yv zeta").split()},
    "count_nonzero": {"abstract_eval"},
    "norm2": {"abstract_eval"},
    "zero_safe": {"abstract_eval", "partials"},  # internal to the rules (0·∞ = 0)
}


def _missing(prim) -> set[str]:
    missing = set()
    for rules in (prim.jvps, prim.vjps):
        if isinstance(rules, (tuple, list)) and any(r is NO_RULE for r in rules):
            missing.add("jvps" if rules is prim.jvps else "vjps")
    if prim.batch not in RULES:
        missing.add("batch")
    for field in NEEDS.get(prim.batch, ()):
        if field == "sympy":
            if _counterpart(prim) is None:
                missing.add("sympy")
        elif getattr(prim, field) is None:
            missing.add(field)
    return missing


def test_every_primitive_has_the_fields_its_kind_needs():
    gaps = {name: _missing(p) for name, p in LIBRARY.items()}
    gaps = {name: m for name, m in gaps.items() if m}
    new = {n: sorted(m - KNOWN_GAPS.get(n, set())) for n, m in gaps.items()
           if m - KNOWN_GAPS.get(n, set())}
    assert not new, (
        f"primitives missing fields of their record: {new}. Give them in the primitive's "
        "entry (see ARCHITECTURE.md, 'How to add a primitive')")
    filled = {n: sorted(m - gaps.get(n, set())) for n, m in KNOWN_GAPS.items()
              if m - gaps.get(n, set())}
    assert not filled, f"filled, so remove them from KNOWN_GAPS: {filled}"


def test_a_primitive_missing_a_field_is_reported():
    """The check itself: an elementwise record without a shape rule or SymPy counterpart."""
    from chainrule.core.primitive import Primitive

    bare = Primitive("bare_for_test", lambda x: x, jvps=(NO_RULE,), vjps=(None,),
                     batch="elementwise", register=False)
    assert _missing(bare) == {"jvps", "abstract_eval", "sympy", "partials"}


# ---- the contents: SymPy counterparts and written partials, on the op table's arguments --

class _Box(Tracer):
    __slots__ = ()

    def __init__(self, trace, value) -> None:
        self._trace = trace
        self._value = value


class _Recorder(Trace):
    """Runs primitives on values and keeps, per primitive, a few real scalar calls."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: dict[str, list] = {}

    def process(self, prim, args, params):
        vals = [a._value if isinstance(a, _Box) and a._trace is self else a for a in args]
        out = prim.impl(*vals, **params)
        scalars = [_first(v) for v in vals]
        if all(s is not None for s in scalars) and len(self.calls.get(prim.name, ())) < 3:
            self.calls.setdefault(prim.name, []).append((scalars, dict(params)))
        if isinstance(out, (tuple, list)):
            return type(out)(_Box(self, o) for o in out)
        return _Box(self, out)


def _first(v):
    """The first element of a real numeric value as a Python number, else None."""
    a = onp.asarray(v)
    if a.dtype.kind not in "fiub" or a.size == 0:
        return None
    return a.reshape(-1)[0].item()


def _recorded_calls() -> dict[str, list]:
    rec = _Recorder()
    for name, spec in SPECS.items():
        for shapes in spec.shapes:
            rng = onp.random.default_rng(zlib.crc32(f"{name}{shapes}".encode()))
            domains = spec.domain * len(shapes) if len(spec.domain) == 1 else spec.domain
            args = [_Box(rec, sample(d, s, rng)) for d, s in zip(domains, shapes)]
            with onp.errstate(all="ignore"):
                spec.fn(*args, **spec.extra)
    rec.active = False
    return rec.calls


CALLS = _recorded_calls()


def _cases(field: str) -> list:
    return [(name, i) for name, p in sorted(LIBRARY.items())
            if p.batch == "elementwise" and getattr(p, field) is not None
            for i in range(len(CALLS.get(name, ())))]


@pytest.mark.parametrize("name,k", _cases("sympy"))
def test_sympy_counterpart_agrees_with_the_implementation(name, k):
    prim = LIBRARY[name]
    scalars, params = CALLS[name][k]
    want = prim.impl(*scalars, **params)
    rule = _counterpart(prim)
    try:
        got = rule(*[sp.Float(s, 30) if isinstance(s, float) else sp.Integer(s)
                     if isinstance(s, int) else s for s in scalars], **params)
    except TypeError:  # SymPy's logical functions take truth values, as NumPy reads numbers
        got = rule(*[sp.true if s else sp.false for s in scalars], **params)
    if isinstance(got, (sp.logic.boolalg.Boolean, bool)) or got in (sp.true, sp.false):
        assert bool(got) == bool(want), (name, scalars)
        return
    got = complex(sp.N(got, 25))
    assert abs(got - complex(want)) <= 1e-9 * max(1.0, abs(complex(want))), (name, scalars)


_NAMESPACE = {
    "sin": math.sin, "cos": math.cos, "exp": math.exp, "log": math.log, "sqrt": math.sqrt,
    "sign": onp.sign, "floor": math.floor, "pi": math.pi, "digamma": sps.digamma,
    "polygamma": sps.polygamma, "cosh": math.cosh, "sinh": math.sinh,
}


@pytest.mark.parametrize("name,k", _cases("partials"))
def test_written_partials_agree_with_the_jvp_rule(name, k):
    """Each template ``∂y/∂a_i`` of a trace table, evaluated at the op table's arguments,
    equals the derivative the JVP rule gives (a zero rule: 0)."""
    prim = LIBRARY[name]
    scalars, params = CALLS[name][k]
    y = prim.impl(*scalars, **params)
    fill = {f"a{j}": f"({s!r})" for j, s in enumerate(scalars)}
    fill.update(y=f"({float(y)!r})", **{k: repr(v) for k, v in params.items()})
    for i, template in enumerate(prim.partials[:len(scalars)]):
        if not isinstance(scalars[i], float):
            continue  # a boolean mask or an integer order: no derivative to compare
        written = float(eval(template.format(**fill), dict(_NAMESPACE)))  # noqa: S307

        def along_i(t, i=i):
            args = list(scalars)
            args[i] = t
            return prim(*args, **params)

        slope = cr.jvp(along_i, (scalars[i],), (1.0,))[1]
        assert math.isclose(written, float(slope), rel_tol=1e-9, abs_tol=1e-12), \
            (name, i, template, scalars)
