"""The lecture's evaluation trace tables (Griewank & Walther, ch. 1), computed.

``trace_table(f, *args, mode=...)`` stages ``f`` into the IR, optimises it (so
``x1/x2`` computed three times in the source is one line, as in the lecture), then
evaluates the program one equation at a time:

* ``"primal"``: ``v_i = op(...) = numbers = value``;
* ``"forward"``: each primal line followed by its tangent line ``v̇_i``, with the
  rule used (``cos(v1) * v̇1``) and its numbers, values from the primitives' JVP rules;
* ``"reverse"``: the primal trace, then the adjoint trace walking the equations in
  reverse; every accumulation ``v̄_i = v̄_i + v̄_j · ∂v_j/∂v_i`` is one row, in the
  order performed (``v̄4`` gets one row per outgoing edge), values from the VJP rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from chainrule.core.primitive import NO_RULE
from chainrule.explain import render
from chainrule.ir.printer import format_eqn
from chainrule.ir.program import Eqn, Lit, Program, Var
from chainrule.core.pytree import tree_flatten
from chainrule.ir.passes import optimize as _optimize
from chainrule.jit import make_ir

__all__ = ["Row", "TraceTable", "trace_table", "trace_program"]

MODES = ("primal", "forward", "reverse")


@dataclass
class Row:
    """One line of a trace table.

    Attributes:
        kind: ``"primal"``, ``"tangent"`` or ``"adjoint"``.
        lhs: the variable assigned (a token, see :mod:`chainrule.explain.render`).
        formula: the right-hand side in symbols (``@[:v:-1] / @[:v:0]``).
        numbers: the same with the numbers in (``1.5000 / 0.5000``); may be empty.
        value: the value assigned.
        note: free text (unused by the renderers; for sections that annotate rows).
    """

    kind: str
    lhs: str
    formula: str
    numbers: str
    value: Any
    note: str = ""

    @property
    def key(self) -> str:
        return render.key_of(self.lhs)


@dataclass
class TraceTable:
    """A computed trace table. Prints as aligned text; ``_repr_html_`` for Jupyter.

    Attributes:
        mode: ``"primal"``, ``"forward"`` or ``"reverse"``.
        rows: the rows in the order the lecture writes them.
        program: the (optimised) program the table was computed from.
        digits: decimals used when printing values.
        title: a one-line heading.
    """

    mode: str
    rows: list[Row]
    program: Program
    digits: int = 4
    title: str = ""
    meta: dict = field(default_factory=dict)

    # --- looking values up -------------------------------------------------------------
    def history(self, key: str) -> list:
        """Every value assigned to ``key`` (``"v4"``, ``"v4_dot"``, ``"v4_bar"``, ``"x1_bar"``)."""
        return [r.value for r in self.rows if r.key == key]

    def __getitem__(self, key: str) -> Any:
        """The last value assigned to ``key``."""
        h = self.history(key)
        if not h:
            keys = sorted({r.key for r in self.rows})
            raise KeyError(f"trace table has no variable {key!r}; it has {keys}")
        return h[-1]

    # --- rendering ------------------------------------------------------------------------
    def _cells(self, conv: Callable[[str], str]) -> list[list[str]]:
        out = []
        for r in self.rows:
            out.append([conv(r.lhs), conv(r.formula), conv(r.numbers) if r.numbers else "",
                        render.format_value(r.value, self.digits)])
        return out

    def to_text(self) -> str:
        """The table as aligned plain text (what ``print`` shows)."""
        body = render.render_text_table(self._cells(render.to_text), right=(3,))
        return f"{self.title}\n{body}" if self.title else body

    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:
        return self.to_text()

    def to_markdown(self) -> str:
        """A Markdown table (formulas as inline LaTeX math)."""
        lines = ["| variable | formula | numbers | value |", "| --- | --- | --- | ---: |"]
        for r in self.rows:
            nums = r.numbers.replace("*", r"\*") if r.numbers else ""
            lines.append(f"| {render.to_markdown(r.lhs)} | {render.to_markdown(r.formula)} | "
                         f"{nums} | {render.format_value(r.value, self.digits)} |")
        head = f"**{render.to_text(self.title)}**\n\n" if self.title else ""
        return head + "\n".join(lines)

    def to_latex(self) -> str:
        """A LaTeX ``array`` of the table, for a ``$$ … $$`` block or an ``align``."""
        lines = [r"\begin{array}{lclcl}"]
        for r in self.rows:
            nums = render.to_latex(r.numbers) if r.numbers else ""
            cells = [render.to_latex(r.lhs), render.to_latex(r.formula), nums,
                     render.format_value(r.value, self.digits)]
            if not nums:
                cells = [cells[0], cells[1], "", cells[3]]
            eq = " & = & ".join(c for c in cells if c)
            lines.append(eq + r" \\")
        lines.append(r"\end{array}")
        return "\n".join(lines)

    def to_html(self) -> str:
        """An HTML ``<table>`` (also what Jupyter shows)."""
        rows = []
        for r in self.rows:
            cls = f"cr-{r.kind}"
            nums = render.to_html(r.numbers) if r.numbers else ""
            rows.append(
                f'<tr class="{cls}"><td>{render.to_html(r.lhs)}</td><td>=</td>'
                f"<td>{render.to_html(r.formula)}</td><td>{'=' if nums else ''}</td>"
                f"<td>{nums}</td><td>=</td>"
                f'<td style="text-align:right">{render.format_value(r.value, self.digits)}'
                "</td></tr>")
        cap = f"<caption>{render.to_html(self.title)}</caption>" if self.title else ""
        return ('<table class="cr-trace" style="font-family:monospace;border-collapse:collapse">'
                + cap + "".join(rows) + "</table>")

    def _repr_html_(self) -> str:
        return self.to_html()


# --- computing the tables -------------------------------------------------------------------

class _Namer:
    """Tokens for the variables of one program: inputs v-1, v0, results v1, v2, ..."""

    def __init__(self, prog: Program) -> None:
        n = len(prog.inputs)
        self.idx: dict[int, int] = {id(v): i - n + 1 for i, v in enumerate(prog.inputs)}
        k = 1
        for e in prog.eqns:
            for o in e.outvars:
                self.idx[id(o)] = k
                k += 1
        hints = list(prog.arg_names) + [None] * n
        self.input_names = [v.hint or hints[i] or f"x{i + 1}" for i, v in enumerate(prog.inputs)]
        if len(set(self.input_names)) != n:
            self.input_names = [f"x{i + 1}" for i in range(n)]

    def tok(self, a: Any, mod: str = "", digits: int = 4) -> str:
        if isinstance(a, Var):
            return render.token(mod, "v", self.idx[id(a)])
        v = a.value if isinstance(a, Lit) else a
        return render.format_value(v, digits) if np.ndim(v) else _short_number(v)


def _short_number(v: Any) -> str:
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    x = np.asarray(v).item()
    if isinstance(x, float) and x.is_integer():
        return str(int(x))
    return repr(x)


def _is_scalar(x: Any) -> bool:
    return np.ndim(x) == 0


def _paren(s: str) -> str:
    return s if s.replace(".", "").replace("_", "").isalnum() or s.startswith("@[") and \
        s.endswith("]") and s.count("@[") == 1 else f"({s})"


def _fill(template: str, args: list[str], y: str, tangents: list[str] | None = None) -> str:
    mapping = {f"a{i}": _paren(a) if " " in a else a for i, a in enumerate(args)}
    mapping["y"] = y
    for i, t in enumerate(tangents or []):
        mapping[f"t{i}"] = t
    return template.format(**mapping)


def _num(x: Any, digits: int, lead: bool = False) -> str:
    s = render.format_value(x, digits)
    return s if lead or not s.startswith("-") else f"({s})"


def _rule_error(prim: Any, i: int, kind: str) -> Exception:
    return NotImplementedError(
        f"trace_table: primitive {prim.name!r} has no {kind} rule for argument {i}; "
        f"a table needs every rule of the program's primitives (define it with defjvp/defvjp)"
    )


def _primal_row(e: Any, names: _Namer, env: dict, digits: int) -> Row:
    tmp = {}
    for a in e.invars:
        if isinstance(a, Var):
            tmp[id(a)] = render.token("", "v", names.idx[id(a)])
    out = e.outvars[0]
    tmp[id(out)] = ""
    shown = Eqn(e.prim, e.invars, e.outvars,
                {k: v for k, v in e.params.items() if v is not None and v is not False})
    formula = format_eqn(shown, tmp).split(" = ", 1)[1]
    numbers = ""
    if all(_is_scalar(env[id(a)]) for a in e.invars if isinstance(a, Var)):
        infix = e.prim.symbol is not None and len(e.invars) == 2
        vals = {id(a): _num(env[id(a)], digits, lead=not (infix and k > 0))
                for k, a in enumerate(e.invars) if isinstance(a, Var)}
        numbers = format_eqn(shown, vals).split(" = ", 1)[1]
    if numbers == formula:
        numbers = ""
    return Row("primal", render.token("", "v", names.idx[id(out)]), formula, numbers,
               env[id(out)])


def _evaluate(e: Any, env: dict) -> tuple[list, Any]:
    args = [env[id(a)] if isinstance(a, Var) else a.value for a in e.invars]
    ans = e.prim.impl(*args, **e.params)
    return args, ans


def _partial_text(e: Any, i: int, names: _Namer) -> str:
    partials = e.prim.partials  # the written form, from the primitive's record
    tpl = partials[i] if partials is not None and i < len(partials) else None
    out_tok = render.token("", "v", names.idx[id(e.outvars[0])])
    arg_toks = [names.tok(a) for a in e.invars]
    if e.prim.name == "pow" and i == 0 and isinstance(e.invars[1], Lit) \
            and np.ndim(e.invars[1].value) == 0:  # x ** 3: write 3 * x**2, not 3 * x**(3 - 1)
        n = float(np.asarray(e.invars[1].value).item())
        base = arg_toks[0] if " " not in arg_toks[0] else f"({arg_toks[0]})"
        power = base if n == 2 else f"{base}**{_short_number(n - 1)}"
        return "1" if n == 1 else f"{_short_number(n)} * {power}"
    if tpl is None:
        src = e.invars[i]
        src_tok = names.tok(src) if isinstance(src, Var) else f"arg{i}"
        return f"∂{out_tok}/∂{src_tok}"
    return _fill(tpl, arg_toks, out_tok)


def _local_partial(e: Any, i: int, ans: Any, args: list) -> Any:
    """∂v_j/∂v_i as a number (scalars only; None for arrays)."""
    if not (_is_scalar(ans) and _is_scalar(args[i])):
        return None
    rule = e.prim.jvps[i]
    one = np.ones_like(np.asarray(args[i], dtype=float))[()]
    return rule(one * 1.0, ans, *args, **e.params)


def _term(partial: str, other: str, partial_first: bool = False) -> tuple[int, str]:
    """``(sign, text)`` of ``other · partial`` written as the lecture writes it.

    The lecture writes tangents as ``cos(v1) * v̇1`` (``partial_first``) and adjoints as
    ``v̄2 * cos(v1)``; a partial ``1 / v`` is always written as a division by ``v``.
    """
    if partial == "1":
        return 1, other
    if partial == "-1":
        return -1, other
    if partial.startswith("-"):
        sign, p = -1, partial[1:]
    else:
        sign, p = 1, partial
    if p.startswith("1 / "):
        return sign, f"{other} / {p[4:]}"
    return sign, f"{p} * {other}" if partial_first else f"{other} * {p}"


def _join(terms: list[tuple[int, str]], first_prefix: str = "") -> str:
    out = first_prefix
    for k, (sign, text) in enumerate(terms):
        if k == 0 and not first_prefix:
            out += ("-" if sign < 0 else "") + text
        else:
            out += (" - " if sign < 0 else " + ") + text
    return out


def _tangent_row(e: Any, names: _Namer, env: dict, tan: dict, args: list, ans: Any,
                 digits: int) -> Row:
    out = e.outvars[0]
    var_args = [(i, a) for i, a in enumerate(e.invars) if isinstance(a, Var)]
    total = None
    terms_sym, terms_num = [], []
    scalar = _is_scalar(ans) and all(_is_scalar(args[i]) for i, _ in var_args)
    for i, a in var_args:
        rule = e.prim.jvps[i] if i < len(e.prim.jvps) else NO_RULE
        if rule is NO_RULE:
            raise _rule_error(e.prim, i, "JVP")
        if rule is None:
            continue
        contrib = rule(tan[id(a)], ans, *args, **e.params)
        total = contrib if total is None else total + contrib
        p_text = _partial_text(e, i, names)
        terms_sym.append(_term(p_text, names.tok(a, "d"), partial_first=True))
        if scalar:
            first = not terms_num
            if p_text in ("1", "-1"):
                terms_num.append((1 if p_text == "1" else -1,
                                  _num(tan[id(a)], digits, lead=first and p_text == "1")))
            else:
                p_val = _local_partial(e, i, ans, args)
                if p_text.startswith("1 / ") and p_val != 0:
                    terms_num.append((1, f"{_num(tan[id(a)], digits, lead=first)} / "
                                         f"{_num(1 / p_val, digits)}"))
                else:
                    terms_num.append((1, f"{_num(p_val, digits, lead=first)} * "
                                         f"{_num(tan[id(a)], digits)}"))
    if total is None:
        total = np.zeros_like(np.asarray(ans, dtype=float))[()]
    tpl = e.prim.tangent
    if tpl is not None and len(var_args) == len(e.invars):
        formula = _fill(tpl, [names.tok(a) for a in e.invars],
                        render.token("", "v", names.idx[id(out)]),
                        [names.tok(a, "d") for a in e.invars])
    else:
        formula = _join(terms_sym) if terms_sym else "0"
    numbers = _join(terms_num) if scalar and terms_num else ""
    if tpl is not None and len(var_args) == len(e.invars) and scalar:
        numbers = _fill(tpl, [_num(x, digits) for x in args], _num(ans, digits),
                        [_num(tan[id(a)], digits) for a in e.invars])
    if numbers == render.format_value(total, digits):
        numbers = ""
    return Row("tangent", render.token("d", "v", names.idx[id(out)]), formula, numbers, total)


def _check_program(prog: Program) -> None:
    for e in prog.eqns:
        if len(e.outvars) != 1:
            raise NotImplementedError(
                f"trace_table: equation {e.prim.name!r} has {len(e.outvars)} results; tables "
                f"show one result per line (programs of single-result primitives)")


def trace_program(prog: Program, flat_args: list, mode: str = "primal", wrt: int | str = 0,
                  tangents: list | None = None, cotangent: Any = None,
                  digits: int = 4) -> TraceTable:
    """The trace table of an already staged program (see :func:`trace_table`).

    Args:
        prog: a program (``make_ir(f)(*args)``, optimised or not).
        flat_args: the values of its inputs, in order.
        mode: ``"primal"``, ``"forward"`` or ``"reverse"``.
        wrt: forward mode: the input (position among the flat inputs) whose tangent is 1.
        tangents: forward mode: all input tangents instead (overrides ``wrt``).
        cotangent: reverse mode: the output's adjoint ȳ (default 1, or ones for an array).
        digits: decimals in printed values.

    Returns:
        The :class:`TraceTable`.
    """
    if mode not in MODES:
        raise ValueError(f"trace_table: mode={mode!r} is not one of {MODES}; use 'primal' "
                         f"(the evaluation trace), 'forward' (tangents) or 'reverse' (adjoints)")
    _check_program(prog)
    names = _Namer(prog)
    n = len(prog.inputs)
    if len(flat_args) != n:
        raise TypeError(f"trace_table: the program has {n} inputs, got {len(flat_args)} values")
    env: dict[int, Any] = {}
    tan: dict[int, Any] = {}
    rows: list[Row] = []
    seeded = tangents is not None
    if mode == "forward":
        if isinstance(wrt, str):
            if wrt not in names.input_names:
                raise ValueError(f"trace_table: wrt={wrt!r} is not an input; the inputs are "
                                 f"{names.input_names}")
            wrt = names.input_names.index(wrt)
        if tangents is None:
            if not isinstance(wrt, int) or not -n <= wrt < n:
                raise ValueError(f"trace_table: wrt={wrt!r} must be the position of an input "
                                 f"(0 to {n - 1}); the inputs are {names.input_names}")
            wrt = wrt % n
            tangents = [np.ones_like(np.asarray(x, dtype=float))[()] if k == wrt
                        else np.zeros_like(np.asarray(x, dtype=float))[()]
                        for k, x in enumerate(flat_args)]
            tangents = [float(t) if np.ndim(t) == 0 else t for t in tangents]
        elif len(tangents) != n:
            raise ValueError(f"trace_table: {len(tangents)} tangents for {n} inputs")
    for k, (v, x) in enumerate(zip(prog.inputs, flat_args, strict=True)):
        env[id(v)] = x
        vt = render.token("", "v", names.idx[id(v)])
        rows.append(Row("primal", vt, render.name_token("", names.input_names[k]), "", x))
        if mode == "forward":
            tan[id(v)] = tangents[k]
            rows.append(Row("tangent", render.token("d", "v", names.idx[id(v)]),
                            render.name_token("d", names.input_names[k]), "", tangents[k]))
    saved = []
    for e in prog.eqns:
        args, ans = _evaluate(e, env)
        env[id(e.outvars[0])] = ans
        saved.append((args, ans))
        rows.append(_primal_row(e, names, env, digits))
        if mode == "forward":
            row = _tangent_row(e, names, env, tan, args, ans, digits)
            tan[id(e.outvars[0])] = row.value
            rows.append(row)
    outs = prog.outputs
    for k, o in enumerate(outs):
        ytok = render.token("", "y", str(k + 1) if len(outs) > 1 else "")
        val = env[id(o)] if isinstance(o, Var) else o.value
        rows.append(Row("primal", ytok, names.tok(o), "", val))
        if mode == "forward":
            dval = tan[id(o)] if isinstance(o, Var) else 0.0
            rows.append(Row("tangent", render.token("d", "y", str(k + 1) if len(outs) > 1
                                                    else ""), names.tok(o, "d"), "", dval))
    title = {"primal": "Forward primal trace",
             "forward": f"Forward tangent trace (v̇ = ∂v/∂{names.input_names[wrt]})"
             if not seeded else "Forward tangent trace (v̇ = directional derivative)",
             "reverse": "Reverse adjoint trace (v̄ = ∂y/∂v)"}[mode]
    table = TraceTable(mode, rows, prog, digits, title)
    if mode == "reverse":
        _adjoint_rows(prog, names, env, saved, rows, cotangent, digits)
    return table


def _adjoint_rows(prog: Program, names: _Namer, env: dict, saved: list, rows: list,
                  cotangent: Any, digits: int) -> None:
    if len(prog.outputs) != 1:
        raise ValueError(f"trace_table(mode='reverse'): the function has {len(prog.outputs)} "
                         f"outputs; the adjoint trace needs one (return a scalar, or a tuple "
                         f"of one)")
    out = prog.outputs[0]
    y = env[id(out)] if isinstance(out, Var) else out.value
    if cotangent is None:
        cotangent = np.ones_like(np.asarray(y, dtype=float))[()]
        cotangent = float(cotangent) if np.ndim(cotangent) == 0 else cotangent
    bar: dict[int, Any] = {}
    if isinstance(out, Var):
        bar[id(out)] = cotangent
        rows.append(Row("adjoint", names.tok(out, "b"), render.token("b", "y", ""), "",
                        cotangent))
    for e, (args, ans) in zip(reversed(prog.eqns), reversed(saved), strict=True):
        o = e.outvars[0]
        if id(o) not in bar:
            continue
        g = bar[id(o)]
        gtok = names.tok(o, "b")
        for i, a in enumerate(e.invars):
            if not isinstance(a, Var):
                continue
            rule = e.prim.vjps[i] if i < len(e.prim.vjps) else NO_RULE
            if rule is NO_RULE:
                raise _rule_error(e.prim, i, "VJP")
            if rule is None:
                continue
            contrib = rule(g, ans, *args, **e.params)
            p_text = _partial_text(e, i, names)
            sign, term = _term(p_text, gtok)
            scalar = _is_scalar(g) and _is_scalar(ans) and _is_scalar(args[i])
            num_term = ""
            if scalar:
                p_val = _local_partial(e, i, ans, args)
                if p_text in ("1", "-1"):
                    num_term = _num(g, digits)
                elif p_text.startswith("1 / ") or (p_text.startswith("-1 / ")):
                    num_term = f"{_num(g, digits)} / {_num(1 / abs(p_val), digits)}"
                else:
                    pv = abs(p_val) if p_text.startswith("-") else p_val
                    num_term = f"{_num(g, digits)} * {_num(pv, digits)}"
            atok = names.tok(a, "b")
            if id(a) in bar:
                old = bar[id(a)]
                new = old + contrib
                formula = _join([(sign, term)], first_prefix=atok)
                numbers = _join([(sign, num_term)], first_prefix=_num(old, digits, lead=True)) \
                    if scalar and _is_scalar(old) else ""
            else:
                new = contrib
                formula = _join([(sign, term)])
                numbers = _join([(sign, num_term)]) if scalar else ""
            if numbers == render.format_value(new, digits):
                numbers = ""
            bar[id(a)] = new
            rows.append(Row("adjoint", atok, formula, numbers, new))
    for k in reversed(range(len(prog.inputs))):
        v = prog.inputs[k]
        val = bar.get(id(v))
        if val is None:
            val = np.zeros_like(np.asarray(env[id(v)], dtype=float))[()]
        rows.append(Row("adjoint", render.name_token("b", names.input_names[k]),
                        names.tok(v, "b"), "", val))


def trace_table(f: Callable, *args: Any, mode: str = "primal", wrt: int | str = 0,
                digits: int = 4, optimize: bool = True, tangents: list | None = None,
                cotangent: Any = None) -> TraceTable:
    """The lecture's evaluation trace table of ``f`` at ``args``.

    Args:
        f: a function written with ``chainrule.numpy``.
        *args: the point (floats or arrays; pytrees are flattened into inputs).
        mode: ``"primal"`` (the forward primal trace ``v_i = op(...)``), ``"forward"``
            (each line followed by its tangent ``v̇_i`` and the rule used) or
            ``"reverse"`` (the primal trace, then the adjoint trace: every accumulation
            ``v̄_i = v̄_i + v̄_j · ∂v_j/∂v_i`` in the order performed).
        wrt: forward mode: which input gets tangent 1 (the others 0): its position among
            the flattened inputs, or its name (``"x2"``).
        digits: decimals in printed values (4, as in the lecture).
        optimize: run the IR passes first (common subexpressions once, as the lecture
            writes them); False shows the program exactly as traced.
        tangents: forward mode: every input's tangent (overrides ``wrt``).
        cotangent: reverse mode: the seed ȳ (default 1).

    Returns:
        A :class:`TraceTable`: ``print`` it, show it in Jupyter, or export it with
        ``to_markdown()`` / ``to_latex()`` / ``to_html()``; ``table["v4_bar"]`` is a value.

    Example:
        >>> import chainrule as cr, chainrule.numpy as np
        >>> t = cr.trace_table(lambda x1, x2: x1 * x2 + np.sin(x1), 2.0, 5.0, mode="reverse")
        >>> round(float(t["x1_bar"]), 4)
        4.5839
    """
    if mode not in MODES:
        raise ValueError(f"trace_table: mode={mode!r} is not one of {MODES}; use 'primal' "
                         f"(the evaluation trace), 'forward' (tangents) or 'reverse' (adjoints)")

    prog = make_ir(f)(*args)
    if optimize:
        prog = _optimize(prog)
    flat, _ = tree_flatten(tuple(args))
    return trace_program(prog, flat, mode=mode, wrt=wrt, tangents=tangents,
                         cotangent=cotangent, digits=digits)
