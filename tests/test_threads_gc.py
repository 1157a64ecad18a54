"""The collector's state around reverse-mode passes, from one thread and from several.

The reverse driver pauses the generational collector while a tape is hot. The pauses are
counted process-wide: the collector comes back only when the last overlapping pause ends,
and only if it was enabled before the first one began.
"""

from __future__ import annotations

import gc
import threading

import numpy

import chainrule as cr
import chainrule.numpy as np


def _f(x):
    return np.sum(np.sin(x) * x)


def _fresh_gc(enabled: bool):
    was = gc.isenabled()
    (gc.enable if enabled else gc.disable)()
    return was


def test_gc_state_is_restored_after_each_mode():
    was = _fresh_gc(True)
    try:
        x = numpy.linspace(0.0, 1.0, 5)
        cr.grad(_f)(x)
        cr.grad(lambda a: a * a)(2.0)
        cr.vjp(_f, x)[1](1.0)
        cr.hessian(_f)(x)
        assert gc.isenabled()
        gc.disable()
        cr.grad(_f)(x)
        cr.grad(lambda a: a * a)(2.0)
        cr.vjp(_f, x)[1](1.0)
        assert not gc.isenabled(), "a user's disabled collector was switched on"
    finally:
        (gc.enable if was else gc.disable)()


def test_gc_restored_after_the_function_raises():
    was = _fresh_gc(True)
    try:
        def bad(x):
            raise ValueError("boom")

        for _ in range(3):
            try:
                cr.grad(bad)(1.0)
            except ValueError:
                pass
        assert gc.isenabled()
    finally:
        (gc.enable if was else gc.disable)()


def test_overlapping_pauses_in_two_threads_end_with_the_last_one():
    """Thread A's pass starts first and ends while B's is still running: the collector
    must stay paused until B ends, then come back on (it was on before A began)."""
    was = _fresh_gc(True)
    a_inside, a_done, b_inside = threading.Event(), threading.Event(), threading.Event()
    seen: dict = {}

    def fa(x):
        a_inside.set()
        assert b_inside.wait(10)
        return x * x

    def fb(x):
        assert a_inside.wait(10)
        b_inside.set()
        assert a_done.wait(10)
        seen["during_b_after_a"] = gc.isenabled()
        return 3.0 * x

    def run_a():
        seen["a"] = cr.grad(fa)(2.0)
        a_done.set()

    def run_b():
        seen["b"] = cr.grad(fb)(2.0)

    try:
        threads = [threading.Thread(target=run_a), threading.Thread(target=run_b)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(20)
        assert seen["a"] == 4.0 and seen["b"] == 3.0
        assert seen["during_b_after_a"] is False, "A's end re-enabled gc under B's live tape"
        assert gc.isenabled(), "the collector was left disabled"
    finally:
        (gc.enable if was else gc.disable)()


def test_many_threads_leave_the_collector_as_they_found_it():
    x = numpy.linspace(0.1, 2.0, 50)
    expect = numpy.sin(x) + x * numpy.cos(x)
    for enabled in (True, False):
        was = _fresh_gc(enabled)
        errors: list = []
        start = threading.Barrier(8)

        def work(start=start, errors=errors):
            try:
                start.wait(10)
                for _ in range(30):
                    numpy.testing.assert_allclose(cr.grad(_f)(x), expect, rtol=1e-12)
                    assert cr.grad(lambda a: a * a * a)(2.0) == 12.0
            except Exception as err:  # collected and re-raised in the main thread
                errors.append(err)

        try:
            threads = [threading.Thread(target=work) for _ in range(8)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(60)
            assert not errors, errors
            assert gc.isenabled() is enabled
        finally:
            (gc.enable if was else gc.disable)()
