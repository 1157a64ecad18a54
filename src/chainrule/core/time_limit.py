"""Run a function under a wall-clock time limit (for SymPy work that can run for minutes).

On the main thread of a Unix process the limit is a ``SIGALRM`` timer whose handler
interrupts the computation where it is (SymPy is pure Python, so this is prompt) and the
caller gets :class:`TimeLimitExceeded`. Elsewhere (another thread, Windows) the function
runs in a daemon thread that is abandoned when the time is up: the caller gets the same
exception at the deadline, and the abandoned computation ends with the process.
"""

from __future__ import annotations

import signal
import threading
from typing import Any, Callable

__all__ = ["TimeLimitExceeded", "call_with_time_limit"]


class TimeLimitExceeded(TimeoutError):
    """The computation did not finish within its time limit."""


class _Alarm(BaseException):
    """Raised inside the computation by the timer; a BaseException, so that library code
    catching ``Exception`` does not swallow it."""


def _on_alarm(signum: int, frame: Any) -> None:
    raise _Alarm


def call_with_time_limit(fn: Callable[[], Any], seconds: float | None) -> Any:
    """``fn()``, or :class:`TimeLimitExceeded` after ``seconds`` of wall time.

    Args:
        fn: the computation, a function of no arguments.
        seconds: the limit (None or ``inf``: no limit).

    Returns:
        What ``fn`` returns.

    Raises:
        TimeLimitExceeded: when the limit is reached first.

    Example:
        >>> call_with_time_limit(lambda: sum(range(10)), 5.0)
        45
        >>> import time
        >>> call_with_time_limit(lambda: time.sleep(2), 0.05)
        Traceback (most recent call last):
        ...
        chainrule.core.time_limit.TimeLimitExceeded: took longer than 0.05 s
    """
    if seconds is None or seconds == float("inf"):
        return fn()
    if seconds <= 0:
        raise ValueError(f"call_with_time_limit: seconds={seconds!r}; give a positive limit "
                         "or None for none")
    message = f"took longer than {seconds:g} s"
    if hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGALRM, _on_alarm)
        try:
            signal.setitimer(signal.ITIMER_REAL, seconds)
            try:
                return fn()
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
        except _Alarm:
            raise TimeLimitExceeded(message) from None
        finally:
            signal.signal(signal.SIGALRM, previous)
    box: dict = {}

    def run() -> None:
        try:
            box["value"] = fn()
        except BaseException as err:  # handed to the caller below
            box["error"] = err

    worker = threading.Thread(target=run, daemon=True, name="chainrule-time-limit")
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise TimeLimitExceeded(message)
    if "error" in box:
        raise box["error"]
    return box["value"]
