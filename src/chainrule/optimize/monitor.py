"""The bookkeeping every method shares: history, callback, progress display, the
iteration and evaluation budgets, and the convergence tests named in messages.

A method calls :meth:`Monitor.record` once per iteration; it returns a reason to stop
(budget spent, non-finite value, the callback asked) or None. The convergence tests
(:meth:`Monitor.gtol_met` and friends) return the message text when they fire, so the
result says which rule stopped the run and with which numbers.
"""

from __future__ import annotations

import inspect
import math
import time
from typing import Any, Callable

import numpy as onp

from chainrule.optimize.objective import Objective
from chainrule.optimize.progress import Progress
from chainrule.optimize.result import History, OptimizeResult, Status

__all__ = ["Monitor", "Stop"]


class Stop:
    """Why a method stopped: a status code and the message naming the rule."""

    __slots__ = ("status", "message")

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        self.message = message


def _wants_result(callback: Callable) -> bool:
    """SciPy's rule: a callback whose only parameter is named ``intermediate_result``
    receives an :class:`OptimizeResult`, any other receives ``x``."""
    try:
        params = list(inspect.signature(callback).parameters)
    except (TypeError, ValueError):
        return False
    return params == ["intermediate_result"]


class Monitor:
    """Per-iteration bookkeeping for one run.

    Args:
        obj: the objective (for counts and to rebuild the user's ``x``).
        method: the method's name (progress display, result).
        maxiter: the iteration budget.
        maxfev: the function-evaluation budget (None: unlimited).
        callback: ``callback(intermediate_result)`` or ``callback(x)``; raising
            ``StopIteration`` ends the run.
        progress: show a progress bar (or printed lines).
    """

    def __init__(self, obj: Objective, method: str, maxiter: int, maxfev: int | None,
                 callback: Callable | None, progress: bool) -> None:
        self.obj = obj
        self.method = method
        self.maxiter = int(maxiter)
        self.maxfev = maxfev
        self.callback = callback
        self.rich_callback = callback is not None and _wants_result(callback)
        self.history = History()
        self.nit = 0
        self.t0 = time.perf_counter()
        self.bar = Progress(method, self.maxiter) if progress else None

    def record(self, x: onp.ndarray, f: float, gnorm: float, step: float = math.nan,
               radius: float = math.nan, count: bool = True) -> Stop | None:
        """Log one iteration (``count=False`` for the starting point) and say whether a
        budget, a non-finite value or the callback ends the run."""
        self.history.append(f, gnorm, step, radius, time.perf_counter() - self.t0)
        if count:
            self.nit += 1
            if self.bar is not None:
                self.bar.update(self.nit, f, gnorm)
        if not (math.isfinite(f) and math.isfinite(gnorm)):
            return Stop(Status.NONFINITE, f"non-finite value: f = {f}, |g| = {gnorm} at "
                                          f"iteration {self.nit}")
        if count and self.callback is not None:
            try:
                if self.rich_callback:
                    self.callback(OptimizeResult(x=self.obj.flat.unravel(x.copy()), fun=f,
                                                 nit=self.nit))
                else:
                    self.callback(self.obj.flat.unravel(x.copy()))
            except StopIteration:
                return Stop(Status.CALLBACK, f"callback raised StopIteration at iteration "
                                             f"{self.nit}")
        if self.nit >= self.maxiter:
            return Stop(Status.MAXITER, f"maxiter: {self.maxiter} iterations reached")
        if self.maxfev is not None and self.obj.nfev >= self.maxfev:
            return Stop(Status.MAXITER, f"maxfev: {self.obj.nfev} function evaluations "
                                        f"reached the limit {self.maxfev}")
        return None

    @staticmethod
    def gtol_met(gnorm: float, gtol: float, norm: str = "inf") -> Stop | None:
        """‖g‖ ≤ gtol."""
        if gnorm <= gtol:
            return Stop(Status.CONVERGED, f"gtol: |g|_{norm} = {gnorm:.3e} <= gtol = {gtol:.1e}")
        return None

    @staticmethod
    def ftol_met(f_old: float, f_new: float, ftol: float) -> Stop | None:
        """(f_old − f_new) / max(|f_old|, |f_new|, 1) ≤ ftol."""
        reduction = (f_old - f_new) / max(abs(f_old), abs(f_new), 1.0)
        if ftol > 0 and reduction <= ftol:
            return Stop(Status.CONVERGED, f"ftol: relative reduction of f {reduction:.3e} "
                                          f"<= ftol = {ftol:.1e}")
        return None

    @staticmethod
    def xtol_met(step_norm: float, x_norm: float, xtol: float) -> Stop | None:
        """‖Δx‖ ≤ xtol·(1 + ‖x‖)."""
        if xtol > 0 and step_norm <= xtol * (1.0 + x_norm):
            return Stop(Status.CONVERGED, f"xtol: |dx| = {step_norm:.3e} <= xtol*(1+|x|) = "
                                          f"{xtol * (1.0 + x_norm):.3e}")
        return None

    def result(self, x: onp.ndarray, f: float, g: onp.ndarray | None, stop: Stop,
               **extra: Any) -> OptimizeResult:
        """The :class:`OptimizeResult` of the run."""
        if self.bar is not None:
            self.bar.close(stop.message)
        flat = self.obj.flat
        res = OptimizeResult(
            x=flat.unravel(x), fun=f, jac=flat.unravel(g) if g is not None else None,
            nit=self.nit, nfev=self.obj.nfev, njev=self.obj.njev, nhev=self.obj.nhev,
            status=stop.status, success=stop.status == Status.CONVERGED,
            message=stop.message, method=self.method, history=self.history)
        res.update(extra)
        return res
