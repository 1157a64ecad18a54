"""Small helpers shared by the test modules."""

import numpy as onp

import chainrule as cr


def close(a, b, tol=1e-7):
    """Two pytrees of the same structure whose leaves agree to ``tol``."""
    fa, ta = cr.tree_flatten(a)
    fb, tb = cr.tree_flatten(b)
    assert ta == tb, (ta, tb)
    for x, y in zip(fa, fb):
        onp.testing.assert_allclose(onp.asarray(x), onp.asarray(y), rtol=tol, atol=tol)


def counted(fn):
    """``fn`` that counts its calls in ``.calls["n"]``."""
    calls = {"n": 0}

    def wrapped(*a):
        calls["n"] += 1
        return fn(*a)

    wrapped.calls = calls
    return wrapped
