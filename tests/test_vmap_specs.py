"""vmap over the whole primitive table: every primitive is batched by a rule or by the
declared loop fallback, and vmap(f) equals a Python loop over the examples for every row
of ``op_specs.SPECS``."""

from __future__ import annotations

import warnings
import zlib

import numpy as onp
import pytest
from op_specs import SPECS, sample

import chainrule as cr
from chainrule.core.primitive import PRIMITIVES
from chainrule.interpreters.batching import RULES

BATCH = 3
#: the library's primitives, as registered at import (tests may register their own later)
LIBRARY = frozenset(PRIMITIVES)



def test_every_primitive_has_a_batching_rule_or_is_declared_a_loop():
    undeclared = sorted(name for name in LIBRARY if PRIMITIVES[name].batch not in RULES)
    assert not undeclared, (
        f"primitives whose batch= field names no rule of batching.RULES: {undeclared}; "
        "give each a batch= field (\"elementwise\", \"reduction\", ... or \"loop\" for the "
        "per-example loop on purpose)")


CASES = [(name, shapes, axes) for name, spec in SPECS.items() for shapes in spec.shapes
         for axes in ("all", "first")
         if axes == "all" or len(shapes) > 1]


def _batched_args(spec, shapes, seed, axes):
    rng = onp.random.default_rng(seed)
    domains = spec.domain * len(shapes) if len(spec.domain) == 1 else spec.domain
    per_example = [[sample(d, s, rng) for d, s in zip(domains, shapes)] for _ in range(BATCH)]
    stacked, in_axes = [], []
    for i in range(len(shapes)):
        if axes == "first" and i > 0:
            stacked.append(per_example[0][i])
            for ex in per_example:
                ex[i] = per_example[0][i]
            in_axes.append(None)
        else:
            stacked.append(onp.stack([onp.asarray(ex[i]) for ex in per_example]))
            in_axes.append(0)
    return per_example, stacked, tuple(in_axes)


@pytest.mark.parametrize("name,shapes,axes", CASES, ids=[f"{n}-{s}-{a}" for n, s, a in CASES])
def test_vmap_equals_a_python_loop(name, shapes, axes):
    spec = SPECS[name]
    per_example, stacked, in_axes = _batched_args(
        spec, shapes, zlib.crc32(f"{name}{shapes}".encode()), axes)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        looped = [spec.fn(*ex) for ex in per_example]
    leaves = [cr.tree_flatten(r)[0] for r in looped]
    assert all(onp.shape(a) == onp.shape(b) for a, b in zip(leaves[0], leaves[-1])), (
        f"{name}: the spec row gives ragged per-example outputs; pick shapes that batch")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        got = cr.vmap(spec.fn, in_axes=in_axes)(*stacked)
    got_leaves = cr.tree_flatten(got)[0]
    assert len(got_leaves) == len(leaves[0])
    for j, g in enumerate(got_leaves):
        want = onp.stack([onp.asarray(lv[j]) for lv in leaves])
        assert onp.shape(g) == want.shape, f"{name}: shape {onp.shape(g)} != {want.shape}"
        onp.testing.assert_allclose(onp.asarray(g), want, rtol=1e-10, atol=1e-12,
                                    err_msg=f"{name} {shapes} in_axes={in_axes}")


def _composites():
    from test_numpy_coverage import COMPOSITES

    return COMPOSITES


@pytest.mark.parametrize("name", sorted(_composites()))
def test_vmap_of_composites_equals_a_python_loop(name):
    f, args = _composites()[name]
    rng = onp.random.default_rng(zlib.crc32(name.encode()))
    examples = [[onp.asarray(a) + 0.01 * k * rng.standard_normal(onp.shape(a)) for a in args]
                for k in range(BATCH)]
    want = [f(*ex) for ex in examples]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        got = cr.vmap(f)(*[onp.stack([ex[i] for ex in examples]) for i in range(len(args))])
    onp.testing.assert_allclose(got, onp.stack([onp.asarray(w) for w in want]), rtol=1e-9,
                                atol=1e-12)
