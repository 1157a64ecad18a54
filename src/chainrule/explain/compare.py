"""Every technique side by side: the value, gradient and Hessian of a scalar function
of a few scalars by forward AD, reverse AD, finite differences (with their error
estimates), complex step, and symbolic differentiation (when SymPy is installed), with
the discrepancy of each against reverse-mode AD and the time each took.
"""

from __future__ import annotations

import html
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as onp

from chainrule import numeric as fd
from chainrule.core.time_limit import TimeLimitExceeded, call_with_time_limit
from chainrule.transforms import grad, hessian, jacfwd, jacrev, jvp

__all__ = ["Result", "Comparison", "compare"]


@dataclass
class Result:
    """One technique's answer.

    Attributes:
        technique: its name (``"reverse AD"``, ``"finite differences (Richardson)"``...).
        value: the gradient (shape ``(n,)``) or Hessian (``(n, n)``), or None if it failed.
        seconds: wall time of the computation.
        error_estimate: the method's own error estimate (finite differences), if any.
        discrepancy: max |value - reference| (the reference: reverse-mode AD).
        note: why it failed or is not available.
    """

    technique: str
    value: Any
    seconds: float
    error_estimate: Any = None
    discrepancy: float | None = None
    note: str = ""


@dataclass
class Comparison:
    """The results for one function at one point."""

    names: tuple[str, ...]
    point: tuple[float, ...]
    value: float
    gradient: list[Result] = field(default_factory=list)
    hessian: list[Result] = field(default_factory=list)

    def to_text(self, digits: int = 6) -> str:
        """Aligned text tables: gradient (and Hessian) by technique."""
        at = ", ".join(f"{n}={p:g}" for n, p in zip(self.names, self.point, strict=True))
        lines = [f"value at {at}: {self.value:.{digits + 4}g}", ""]
        for title, results, labels in (
            ("gradient", self.gradient, [f"d/d{n}" for n in self.names]),
            ("Hessian (row-major)", self.hessian,
             [f"d2/d{a}d{b}" for a in self.names for b in self.names]),
        ):
            if not results:
                continue
            header = ["technique", *labels, "max |Δ| vs rev AD", "error est.", "time"]
            rows = [header]
            for r in results:
                if r.value is None:
                    rows.append([r.technique, f"n/a: {r.note}"])
                    continue
                vals = [f"{v:.{digits}g}" for v in onp.ravel(r.value)]
                disc = "(reference)" if r.discrepancy is None else f"{r.discrepancy:.1e}"
                est = "" if r.error_estimate is None else \
                    f"{float(onp.max(onp.abs(r.error_estimate))):.1e}"
                rows.append([r.technique, *vals, disc, est, _fmt_time(r.seconds)])
            lines.append(title)
            lines.append(_align(rows))
            lines.append("")
        return "\n".join(lines).rstrip()

    def to_html(self) -> str:
        """The same tables in HTML."""
        out = []
        for title, results, labels in (
            ("Gradient", self.gradient, [f"∂/∂{n}" for n in self.names]),
            ("Hessian", self.hessian, [f"∂²/∂{a}∂{b}" for a in self.names for b in self.names]),
        ):
            if not results:
                continue
            head = "".join(f"<th>{html.escape(h)}</th>" for h in
                           ["technique", *labels, "max |Δ| vs reverse AD", "error estimate",
                            "time"])
            body = []
            for r in results:
                if r.value is None:
                    body.append(f"<tr><td>{html.escape(r.technique)}</td>"
                                f"<td colspan='{len(labels) + 3}'>n/a: {html.escape(r.note)}"
                                "</td></tr>")
                    continue
                cells = [f"{v:.10g}" for v in onp.ravel(r.value)]
                cells.append("(reference)" if r.discrepancy is None else f"{r.discrepancy:.1e}")
                cells.append("" if r.error_estimate is None else
                             f"{float(onp.max(onp.abs(r.error_estimate))):.1e}")
                cells.append(_fmt_time(r.seconds))
                body.append(f"<tr><td>{html.escape(r.technique)}</td>"
                            + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
            out.append(f"<h4>{title}</h4><table class='cr-compare'><tr>{head}</tr>"
                       + "".join(body) + "</table>")
        return "\n".join(out)


def _fmt_time(s: float) -> str:
    return f"{s * 1e3:.2f} ms" if s < 1 else f"{s:.2f} s"


def _align(rows: list[list[str]]) -> str:
    ncol = max(len(r) for r in rows)
    widths = [max(len(r[c]) for r in rows if c < len(r) and len(r) == ncol) if any(
        len(r) == ncol for r in rows) else 0 for c in range(ncol)]
    out = []
    for r in rows:
        if len(r) < ncol:
            out.append("  ".join([r[0].ljust(widths[0]), *r[1:]]))
        else:
            out.append("  ".join(c.ljust(w) if k == 0 else c.rjust(w)
                                 for k, (c, w) in enumerate(zip(r, widths, strict=True))))
    return "\n".join(out)


def _timed(technique: str, fn: Callable[[], Any]) -> Result:
    t0 = time.perf_counter()
    try:
        out = fn()
    except Exception as err:  # noqa: BLE001 - a technique that cannot run is reported, not fatal
        return Result(technique, None, time.perf_counter() - t0, note=_one_line(err))
    seconds = time.perf_counter() - t0
    if hasattr(out, "error") and hasattr(out, "value"):  # a finite-difference result
        return Result(technique, onp.asarray(out.value, dtype=float), seconds, out.error)
    return Result(technique, onp.asarray(out, dtype=float), seconds)


def _one_line(err: BaseException) -> str:
    """``Type: first line of the message`` (just the type when the message is empty)."""
    lines = str(err).strip().splitlines()
    return f"{type(err).__name__}: {lines[0][:120]}" if lines else type(err).__name__


def _symbolic(f: Callable, names: tuple[str, ...], point: tuple, order: int,
              time_limit: float | None) -> Any:
    """SymPy's gradient (``order=1``) or Hessian of ``f`` at ``point``: the formula is
    differentiated exactly and evaluated in floating point (``lambdify``: SymPy's own
    arbitrary-precision ``evalf`` of a deeply nested formula can run for minutes), all
    within ``time_limit`` seconds."""
    import sympy as sp

    from chainrule.symbolic import expression

    def work():
        syms = [sp.Symbol(n, real=True) for n in names]
        expr = expression(f, *syms)
        if order == 1:
            parts = [sp.diff(expr, s) for s in syms]
        else:
            parts = [sp.diff(expr, a, b) for a in syms for b in syms]
        values = sp.lambdify(syms, parts, modules="math", cse=True)(*point)
        out = [float(v) for v in values]
        return out if order == 1 else onp.reshape(out, (len(syms), len(syms)))

    try:
        return call_with_time_limit(work, time_limit)
    except TimeLimitExceeded:
        raise TimeLimitExceeded(f"SymPy took longer than the {time_limit:g} s time limit on "
                                "this formula (the other techniques are unaffected)") from None


def _symbolic_available() -> str:
    try:
        import sympy  # noqa: F401
    except ImportError:
        return "SymPy is not installed (pip install chainrule[symbolic])"
    return ""


def compare(f: Callable, point: tuple | list, names: tuple[str, ...] | None = None,
            order: int = 1, symbolic_time_limit: float | None = 10.0) -> Comparison:
    """The gradient (and for ``order=2`` the Hessian) of ``f`` by every technique.

    Args:
        f: a scalar function of ``len(point)`` scalars, written with ``chainrule.numpy``.
        point: the point.
        names: the variables' names (default ``x1, x2, ...``).
        order: 1 (gradient) or 2 (gradient and Hessian).
        symbolic_time_limit: seconds SymPy may take for each of the gradient and the
            Hessian (None: no limit); past it, its row says so and the others still come.

    Returns:
        A :class:`Comparison` (``.to_text()``, ``.to_html()``).
    """
    if order not in (1, 2):
        raise ValueError(f"compare: order={order!r}; use 1 (gradient) or 2 (and the Hessian)")
    point = tuple(float(p) for p in point)
    n = len(point)
    names = tuple(names) if names else tuple(f"x{i + 1}" for i in range(n))
    x = onp.array(point)

    def g(v):
        return f(*[v[i] for i in range(n)])

    def fv(v):  # for finite differences: plain NumPy floats in, a float out
        return f(*[v[i] for i in range(n)])

    value = float(f(*point))
    cmp = Comparison(names, point, value)
    argnums = tuple(range(n))
    unit = [tuple(1.0 if j == i else 0.0 for j in range(n)) for i in range(n)]
    grads = [
        _timed("reverse AD", lambda: grad(f, argnums=argnums)(*point)),
        _timed("forward AD", lambda: [jvp(f, point, u)[1] for u in unit]),
        _timed("finite differences (central)", lambda: fd.gradient(
            fv, x, method="central", full_output=True)),
        _timed("finite differences (Richardson)", lambda: fd.gradient(
            fv, x, method="richardson", full_output=True)),
        _timed("complex step", lambda: fd.gradient(fv, x, method="complex")),
    ]
    why = _symbolic_available()
    limit = symbolic_time_limit
    grads.append(Result("symbolic (SymPy)", None, 0.0, note=why) if why else
                 _timed("symbolic (SymPy)", lambda: _symbolic(f, names, point, 1, limit)))
    cmp.gradient = _discrepancies(grads)
    if order == 2:
        hess = [
            _timed("reverse AD (forward-over-reverse)", lambda: hessian(g)(x)),
            _timed("forward AD (forward-over-forward)", lambda: jacfwd(jacfwd(g))(x)),
            _timed("reverse-over-reverse", lambda: jacrev(grad(g))(x)),
            _timed("finite differences (central)", lambda: fd.hessian(fv, x, method="central")),
            _timed("finite differences (Richardson)",
                   lambda: fd.hessian(fv, x, method="richardson")),
            _timed("complex step", lambda: fd.hessian(fv, x, method="complex")),
        ]
        hess.append(Result("symbolic (SymPy)", None, 0.0, note=why) if why else
                    _timed("symbolic (SymPy)", lambda: _symbolic(f, names, point, 2, limit)))
        cmp.hessian = _discrepancies(hess)
    return cmp


def _discrepancies(results: list[Result]) -> list[Result]:
    ref = results[0].value
    for r in results[1:]:
        if r.value is not None and ref is not None:
            value = onp.asarray(r.value)
            same = value == ref  # equal infinities agree (inf - inf would be NaN)
            with onp.errstate(invalid="ignore"):
                r.discrepancy = float(onp.max(onp.where(same, 0.0, onp.abs(value - ref))))
    return results
