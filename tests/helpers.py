"""Small helpers shared by the test modules."""


def counted(fn):
    """``fn`` that counts its calls in ``.calls["n"]``."""
    calls = {"n": 0}

    def wrapped(*a):
        calls["n"] += 1
        return fn(*a)

    wrapped.calls = calls
    return wrapped
