"""Property: random compositions of primitives differentiate alike in every mode.

A *program* is a short straight-line composition over a vector input ``x``: each step
applies a primitive (or a ``where`` that masks the primitive's invalid points: log at
u ≤ 0, √u at u < 0, 1/u near 0, arcsin outside [-1, 1], exp overflowing) to earlier
values. It is run at random points and at edge points (0, -0, ±∞, the points where
the masks switch). Wherever the value is finite:

* reverse mode (``grad``) and forward mode (``jvp`` along each basis vector) give the
  same gradient (NaN only where both do), and no NumPy warning comes from the rules;
* at finite points where the program is smooth (two central differences with steps h
  and h/2 agree), both agree with the central difference;
* the Hessian-vector product forward-over-reverse equals reverse-over-reverse.

Hypothesis draws the programs with a fixed seed (``derandomize``, no example
database) and a fixed number of examples (``EXAMPLES``, the time budget), so a CI run
is repeatable and short. At singular points (a step's value, tangent or adjoint not
finite) only the absence of crashes is checked: there the chain rule multiplies
infinities (README, "Edge points").
"""

import warnings

import numpy as onp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chainrule as cr
import chainrule.numpy as np
import chainrule.scipy.special as cs

#: the budget: examples per test (about 5 s of CPU for the file); the seed is fixed
EXAMPLES = 500

UNARY = {
    "sin": np.sin,
    "tanh": np.tanh,
    "arctan": np.arctan,
    "square": np.square,
    "neg": np.negative,
    "abs": np.abs,
    "cbrt": np.cbrt,
    "sinc": np.sinc,
    "expm1_small": lambda u: np.expm1(np.tanh(u)),
    "log1p_sq": lambda u: np.log1p(u * u),
    "sqrt_sq": lambda u: np.sqrt(u * u),
    "pow_2.5": lambda u: np.abs(u) ** 2.5,
    # a NaN- or ∞-producing branch masked by where (the primitive sees invalid points)
    "where_log": lambda u: np.where(u > 0, np.log(u), 0.0),
    "where_sqrt": lambda u: np.where(u > 0, np.sqrt(u), u),
    "where_recip": lambda u: np.where(np.abs(u) > 0.25, np.divide(1.0, u), u),
    "where_arcsin": lambda u: np.where(np.abs(u) < 1, np.arcsin(u), 0.5 * u),
    "where_exp": lambda u: np.where(u < 30, np.exp(u), 0.0),
    "where_xlogx": lambda u: np.where(u > 0, u * np.log(u), 0.0),
    "xlogy": lambda u: cs.xlogy(u, u * u + 1.0),
    "erf": cs.erf,
    "where_gammaln": lambda u: np.where(u > 0, cs.gammaln(u), u),
    "logaddexp_self": lambda u: np.logaddexp(u, u),
}
BINARY = {
    "add": np.add,
    "sub": np.subtract,
    "mul": np.multiply,
    "maximum": np.maximum,
    "logaddexp": np.logaddexp,
    "where_div": lambda u, v: np.where(np.abs(v) > 0.25, u / v, u * v),
    "arctan2_shift": lambda u, v: np.arctan2(u, v * v + 1.0),
}

EDGE = [0.0, -0.0, onp.inf, -onp.inf, 1.0, -1.0, 0.25, -0.25, 30.0]


@st.composite
def programs(draw):
    """Steps (name, i, j): value k + 1 is op(values[i], values[j]) (j unused by unary ops)."""
    steps = []
    for k in range(draw(st.integers(1, 5))):
        binary = draw(st.booleans())
        name = draw(st.sampled_from(sorted(BINARY if binary else UNARY)))
        i = draw(st.integers(0, k))
        j = draw(st.integers(0, k))
        steps.append((name, i, j))
    return steps


points = st.lists(st.one_of(st.sampled_from(EDGE), st.floats(-3.0, 3.0, width=64)),
                  min_size=1, max_size=3).map(lambda xs: onp.array(xs, dtype=float))


def values_of(steps, x, shifts=None):
    """The program's values; ``shifts[k]`` is added to step k's (to read its adjoint)."""
    values = [x]
    for k, (name, i, j) in enumerate(steps):
        if name in BINARY:
            v = BINARY[name](values[i], values[j])
        else:
            v = UNARY[name](values[i])
        values.append(v if shifts is None else v + shifts[k])
    return values


def run(steps, x, shifts=None):
    return np.sum(values_of(steps, x, shifts)[-1] * onp.linspace(1.0, 2.0, onp.size(x)))


def _regular(steps, x) -> bool:
    """Is every step's value, its derivative along every axis (forward) and the
    derivative of the result in it (its adjoint, reverse) finite at x? Where one is not,
    the chain rule multiplies infinities and the modes may differ: ∛(x - x) at 0 is
    0 in forward mode (the tangent cancels before ∛'s infinite partial) and NaN in
    reverse (∞ - ∞ where the two adjoints of x meet)."""
    with onp.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for e in onp.eye(x.size):
            vals, tans = cr.jvp(lambda v: tuple(values_of(steps, v)[1:]), (x,), (e,))
            for v, t in zip(vals, tans):
                if not (onp.all(onp.isfinite(v)) and onp.all(onp.isfinite(t))):
                    return False
        zeros = [onp.zeros_like(x) for _ in steps]
        adjoints = cr.grad(lambda *s: run(steps, x, s), argnums=tuple(range(len(steps))))(*zeros)
    return all(onp.all(onp.isfinite(a)) for a in adjoints)


def _quiet_value(steps, x):
    with onp.errstate(all="ignore"):
        return float(run(steps, x))


def _rule_warnings(fn):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = fn()
    return out, {str(w.message) for w in caught if w.category is RuntimeWarning}


def _describe(steps, x) -> str:
    return f"program {steps} at x = {x.tolist()}"


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(steps=programs(), x=points)
def test_reverse_forward_and_differences_agree(steps, x):
    value = _quiet_value(steps, x)
    f = lambda v: run(steps, v)  # noqa: E731
    if not onp.isfinite(value) or not _regular(steps, x):
        with onp.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cr.grad(f)(x)  # at singular points: no crash
        return
    _, primal_warnings = _rule_warnings(lambda: f(x))
    rev, rev_warnings = _rule_warnings(lambda: cr.grad(f)(x))
    fwd, fwd_warnings = _rule_warnings(
        lambda: onp.array([cr.jvp(f, (x,), (e,))[1] for e in onp.eye(x.size)]))
    extra = (rev_warnings | fwd_warnings) - primal_warnings
    assert not extra, f"warnings from the rules {extra}: {_describe(steps, x)}"
    rev = onp.asarray(rev)
    assert onp.array_equal(onp.isnan(rev), onp.isnan(fwd)), \
        f"reverse {rev} vs forward {fwd}: {_describe(steps, x)}"
    onp.testing.assert_allclose(rev, fwd, rtol=1e-9, atol=1e-12,
                                err_msg=f"reverse vs forward: {_describe(steps, x)}")
    if not onp.all(onp.isfinite(x)):
        return
    # finite differences where the program is smooth around x
    for k in range(x.size):
        h = 1e-4 * max(1.0, abs(x[k]))
        e = onp.zeros_like(x)
        e[k] = 1.0
        d1 = (_quiet_value(steps, x + h * e) - _quiet_value(steps, x - h * e)) / (2 * h)
        d2 = (_quiet_value(steps, x + h / 2 * e) - _quiet_value(steps, x - h / 2 * e)) / h
        scale = max(1.0, abs(d2))
        one_sided = (_quiet_value(steps, x + h * e) - 2 * value
                     + _quiet_value(steps, x - h * e)) / h  # forward - backward difference
        if not (onp.isfinite(d1) and onp.isfinite(d2)) or abs(d1 - d2) > 1e-5 * scale \
                or abs(one_sided) > 1e-3 * scale:
            continue  # a kink, a mask switching or a pole within the step
        assert abs(rev[k] - d2) <= 1e-5 * scale, \
            f"d/dx{k}: reverse {rev[k]} vs central difference {d2}: {_describe(steps, x)}"


@settings(max_examples=EXAMPLES // 2, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(steps=programs(), x=points)
def test_hessian_vector_products_agree(steps, x):
    """Forward-over-reverse and reverse-over-reverse H·v agree at every finite value."""
    if not onp.isfinite(_quiet_value(steps, x)) or not _regular(steps, x):
        return
    f = lambda v: run(steps, v)  # noqa: E731
    v = onp.linspace(0.5, -1.0, x.size)
    with onp.errstate(all="ignore"):
        fwd_rev = onp.asarray(cr.jvp(cr.grad(f), (x,), (v,))[1])
        rev_rev = onp.asarray(cr.grad(lambda y: np.sum(cr.grad(f)(y) * v))(x))
    assert onp.array_equal(onp.isnan(fwd_rev), onp.isnan(rev_rev)), \
        f"H·v {fwd_rev} vs {rev_rev}: {_describe(steps, x)}"
    onp.testing.assert_allclose(fwd_rev, rev_rev, rtol=1e-8, atol=1e-10,
                                err_msg=f"H·v: {_describe(steps, x)}")
