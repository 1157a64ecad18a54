"""Rendering of trace tables: the notation, value formatting, text, HTML, Markdown, LaTeX.

A table row stores its formulas once, in a tiny token language, and each output
format renders the tokens its own way. A variable is written ``@[m:base:idx]``:
``m`` is ``""`` (the value ``v``), ``"d"`` (the tangent ``v̇``) or ``"b"`` (the
adjoint ``v̄``); ``base`` is ``v``, ``y`` or an input's name without its trailing
digits (``x``); ``idx`` is the subscript (``-1``, ``0``, ``1``... or empty).
Everything else in a formula is ordinary infix arithmetic and function calls.
"""

from __future__ import annotations

import html
import re
import unicodedata
from typing import Any

import numpy as np

from chainrule.core.primitive import PRIMITIVES

__all__ = [
    "token",
    "name_token",
    "key_of",
    "format_value",
    "to_text",
    "to_html",
    "to_latex",
    "to_markdown",
    "render_text_table",
]

_TOKEN = re.compile(r"@\[([db]?):([A-Za-z_][A-Za-z_0-9]*?):(-?\d*)\]")
_DOT, _BAR = "\u0307", "\u0304"
_CALL = re.compile(r"\b([A-Za-z_][A-Za-z_0-9]*)\(")


def token(mod: str, base: str, idx: Any = "") -> str:
    """A variable token: ``token("d", "v", 1)`` is v̇1."""
    return f"@[{mod}:{base}:{idx}]"


def name_token(mod: str, name: str) -> str:
    """A token for a user-given name: ``x1`` -> base ``x``, subscript ``1``."""
    m = re.fullmatch(r"([A-Za-z_][A-Za-z_0-9]*?)_?(\d*)", name or "")
    if not m:
        return token(mod, "x", "")
    return token(mod, m.group(1), m.group(2))


def key_of(tok: str) -> str:
    """The plain key of a token, used to look rows up: ``v4``, ``v4_dot``, ``x1_bar``."""
    m = _TOKEN.fullmatch(tok)
    if not m:
        return tok
    mod, base, idx = m.groups()
    return base + idx + {"": "", "d": "_dot", "b": "_bar"}[mod]


def format_value(v: Any, digits: int = 4) -> str:
    """A value as the lecture prints it: fixed ``digits`` decimals; arrays by shape."""
    if v is None:
        return ""
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    a = np.asarray(v)
    if a.ndim > 0:
        kind = {"f": "f", "c": "c", "i": "i", "u": "u", "b": "bool"}.get(a.dtype.kind, "?")
        size = kind if kind == "bool" else f"{kind}{a.dtype.itemsize * 8}"
        return f"{size}[{','.join(map(str, a.shape))}]"
    x = a.item()
    if isinstance(x, complex):
        return f"{format_value(x.real, digits)}{'+' if x.imag >= 0 else '-'}" \
               f"{format_value(abs(x.imag), digits)}j"
    if isinstance(x, int):
        return str(x)
    if not np.isfinite(x):
        return str(x)
    if x != 0 and (abs(x) >= 1e6 or abs(x) < 0.5 * 10.0 ** (-digits)):
        return f"{x:.{digits}e}"
    return f"{x:.{digits}f}"


def _text_name(mod: str, base: str, idx: str) -> str:
    mark = {"": "", "d": _DOT, "b": _BAR}[mod]
    return f"{base[0]}{mark}{base[1:]}{idx}"


def to_text(s: str) -> str:
    """Plain text with combining dot/bar: ``v̇1``, ``v̄-1``, ``x̄1``, ``ȳ``."""
    return _TOKEN.sub(lambda m: _text_name(*m.groups()), s)


# variables in a serif italic, as in the lecture: a monospace oblique font (the trace
# tables' cells) draws the combining dot of v̇ beside the v instead of over it
_ITALIC = ' style="font-family:serif"'


def to_html(s: str) -> str:
    """HTML: ``v̇<sub>1</sub>`` (the variable in serif italic), operators escaped."""
    parts = []
    pos = 0
    for m in _TOKEN.finditer(s):
        parts.append(html.escape(s[pos:m.start()]).replace("*", "&middot;"))
        mod, base, idx = m.groups()
        mark = {"": "", "d": _DOT, "b": _BAR}[mod]
        sub = f"<sub>{html.escape(idx)}</sub>" if idx else ""
        parts.append(f"<i{_ITALIC}>{html.escape(base[0])}{mark}{html.escape(base[1:])}</i>{sub}")
        pos = m.end()
    parts.append(html.escape(s[pos:]).replace("*", "&middot;"))
    return "".join(parts)


def _latex_name(mod: str, base: str, idx: str) -> str:
    b = base if len(base) == 1 else rf"\mathrm{{{base}}}"
    b = {"": b, "d": rf"\dot{{{b}}}", "b": rf"\bar{{{b}}}"}[mod]
    return f"{b}_{{{idx}}}" if idx else b


def _latex_function(name: str) -> str:
    """The LaTeX of a function's name: the primitive's own (``\\sin``) where it has one."""
    prim = PRIMITIVES.get(name)
    latex = prim.latex if prim is not None else None
    return latex if latex is not None else rf"\operatorname{{{name}}}"


def to_latex(s: str) -> str:
    """LaTeX math (no surrounding ``$``): ``\\bar{v}_{4} = \\bar{v}_{6} \\cdot v_{5}``."""
    s = s.replace("**", "^")
    s = _CALL.sub(lambda m: f"{_latex_function(m.group(1))}(", s)
    s = s.replace("*", r" \cdot ")
    s = re.sub(r"\^\(([^()]*)\)", r"^{(\1)}", s)
    s = _TOKEN.sub(lambda m: _latex_name(*m.groups()), s)
    return re.sub(r" {2,}", " ", s)


def to_markdown(s: str) -> str:
    """Markdown cell content: inline math."""
    return f"${to_latex(s)}$" if s else ""


def _width(s: str) -> int:
    return sum(0 if unicodedata.combining(c) else 1 for c in s)


def _pad(s: str, n: int, right: bool = False) -> str:
    fill = " " * (n - _width(s))
    return fill + s if right else s + fill


def render_text_table(rows: list[list[str]], right: tuple = ()) -> str:
    """Aligned columns joined by `` = `` (empty cells skip their ``=``)."""
    if not rows:
        return ""
    ncol = max(len(r) for r in rows)
    rows = [r + [""] * (ncol - len(r)) for r in rows]
    widths = [max(_width(r[c]) for r in rows) for c in range(ncol)]
    lines = []
    for r in rows:
        cells = []
        for c in range(ncol):
            if c and not r[c]:
                cells.append(" " * (widths[c] + 3))
                continue
            sep = " = " if c else ""
            cells.append(sep + _pad(r[c], widths[c], right=c in right))
        lines.append("".join(cells).rstrip())
    return "\n".join(lines)
