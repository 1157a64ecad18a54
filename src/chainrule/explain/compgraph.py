"""The computational graph as a picture, as the lecture draws it.

Nodes are the variables ``v_i`` with their operation and value (and adjoint
``v̄_i`` when ``show="adjoint"``); edges ``v_i → v_j`` are labelled with the local
partial ``∂v_j/∂v_i``, written and evaluated. The graph is always available as DOT
text; SVG/PNG come from Graphviz's ``dot`` when it is installed, otherwise from a
layered Matplotlib drawing (layer = topological generation: inputs first, each
variable one layer right of its latest argument).
"""

from __future__ import annotations

import io
import shutil
import subprocess
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from chainrule.explain import render
from chainrule.explain.tables import (
    _evaluate,
    _is_scalar,
    _local_partial,
    _Namer,
    _partial_text,
    trace_program,
)
from chainrule.ir.printer import INFIX, PREFIX
from chainrule.ir.program import Program, Var

__all__ = ["ComputationalGraph", "graph", "graph_of_program"]


@dataclass
class Node:
    """A variable: its name, the operation that made it, its value and adjoint."""

    key: str
    name: str
    op: str
    value: Any
    adjoint: Any = None
    role: str = "op"  # "input", "op" or "output"
    layer: int = 0


@dataclass
class Edge:
    """``src → dst`` labelled with ∂dst/∂src (text and value, when scalar)."""

    src: str
    dst: str
    partial: str
    value: Any = None


class ComputationalGraph:
    """A computational graph: ``.dot`` text, ``.svg()``, ``.save(path)``; SVG in Jupyter.

    Attributes:
        nodes: the :class:`Node` s in evaluation order.
        edges: the :class:`Edge` s, one per (argument, equation) pair.
        show: ``"primal"`` or ``"adjoint"``.
        digits: decimals in labels.
    """

    def __init__(self, nodes: list[Node], edges: list[Edge], show: str = "primal",
                 digits: int = 4, title: str = "") -> None:
        self.nodes = nodes
        self.edges = edges
        self.show = show
        self.digits = digits
        self.title = title

    def _label(self, n: Node) -> list[str]:
        lines = [n.name if not n.op else f"{n.name} = {n.op}",
                 render.format_value(n.value, self.digits)]
        if self.show == "adjoint" and n.adjoint is not None:
            bar = n.name[0] + "\u0304" + n.name[1:]
            lines.append(f"{bar} = {render.format_value(n.adjoint, self.digits)}")
        return lines

    def _edge_label(self, e: Edge) -> str:
        if e.value is None:
            return e.partial
        val = render.format_value(e.value, self.digits)
        try:
            same = float(e.partial) == float(e.value)
        except (TypeError, ValueError):
            same = e.partial == val
        return e.partial if same else f"{e.partial} = {val}"

    @property
    def dot(self) -> str:
        """The graph in Graphviz's DOT language."""
        def q(s: str) -> str:
            return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'

        out = ["digraph computational_graph {", "  rankdir=LR;",
               '  node [shape=box, style="rounded,filled", fillcolor="#eef3fb", '
               'fontname="Helvetica"];', '  edge [fontname="Helvetica", fontsize=10];']
        if self.title:
            out.append(f"  label={q(self.title)}; labelloc=t;")
        for n in self.nodes:
            attrs = {"input": ', fillcolor="#e6f4e6"', "output": ', fillcolor="#fbeee6", '
                     'peripheries=2'}.get(n.role, "")
            label = "\\n".join(s.replace("\\", "\\\\").replace('"', '\\"')
                               for s in self._label(n))
            out.append(f'  {q(n.key)} [label="{label}"{attrs}];')
        for e in self.edges:
            out.append(f"  {q(e.src)} -> {q(e.dst)} [label={q(self._edge_label(e))}];")
        out.append("}")
        return "\n".join(out)

    # --- pictures ------------------------------------------------------------------------
    def _graphviz(self, fmt: str) -> bytes | None:
        """``dot -T<fmt>`` output, or None when Graphviz's dot program is not installed."""
        exe = shutil.which("dot")
        if exe is None:
            return None
        proc = subprocess.run([exe, f"-T{fmt}"], input=self.dot.encode(), capture_output=True,
                              timeout=60, check=False)
        if proc.returncode != 0:  # a broken Graphviz install: say so, draw with Matplotlib
            warnings.warn(f"graph: Graphviz 'dot -T{fmt}' failed "
                          f"({proc.stderr.decode(errors='replace').strip()[:200]}); "
                          f"drawing with Matplotlib instead", RuntimeWarning, stacklevel=3)
            return None
        return proc.stdout

    def _matplotlib(self, fmt: str) -> bytes:
        try:
            import matplotlib

            matplotlib.use("Agg", force=False)
            import matplotlib.pyplot as plt
        except ImportError as err:
            raise ImportError(
                f"graph: drawing a {fmt.upper()} needs Graphviz (apt-get install graphviz, "
                f"which provides the 'dot' program) or Matplotlib (pip install "
                f"chainrule[plot]); neither is installed. The DOT text is always available: "
                f"g.dot, or g.save('g.dot')") from err
        pos = self.layout()
        layers = max((n.layer for n in self.nodes), default=0) + 1
        height = max((sum(1 for n in self.nodes if n.layer == k) for k in range(layers)),
                     default=1)
        fig, ax = plt.subplots(figsize=(2.6 * layers + 1, 1.5 * height + 1))
        colors = {"input": "#e6f4e6", "output": "#fbeee6", "op": "#eef3fb"}
        boxes = {}
        for n in self.nodes:
            x, y = pos[n.key]
            boxes[n.key] = ax.text(x, y, "\n".join(self._label(n)), ha="center", va="center",
                                   fontsize=8, zorder=3,
                                   bbox={"boxstyle": "round", "fc": colors[n.role], "ec": "#333"})
        for e in self.edges:
            (x0, y0), (x1, y1) = pos[e.src], pos[e.dst]
            ax.annotate("", xy=(0.0, 0.5), xycoords=boxes[e.dst], xytext=(1.0, 0.5),
                        textcoords=boxes[e.src],
                        arrowprops={"arrowstyle": "->", "color": "#555", "shrinkA": 4,
                                    "shrinkB": 4})
            frac = 0.5 / max(x1 - x0, 1.0)  # in the first gap after the source: no overlap
            ax.text(x0 + frac * (x1 - x0), y0 + frac * (y1 - y0) + 0.06, self._edge_label(e),
                    fontsize=7,
                    ha="center", va="bottom", color="#333", zorder=4,
                    bbox={"boxstyle": "square,pad=0.1", "fc": "white", "ec": "none",
                          "alpha": 0.8})
        ax.set_xlim(-0.7, layers - 0.3)
        ax.set_ylim(-height / 2 - 0.2, height / 2 + 0.2)
        ax.axis("off")
        if self.title:
            ax.set_title(self.title)
        buf = io.BytesIO()
        fig.savefig(buf, format=fmt, bbox_inches="tight")
        plt.close(fig)
        return buf.getvalue()

    def layout(self) -> dict[str, tuple[float, float]]:
        """Positions for the Matplotlib drawing: x = layer, y spread within the layer."""
        pos = {}
        by_layer: dict[int, list[Node]] = {}
        for n in self.nodes:
            by_layer.setdefault(n.layer, []).append(n)
        for layer, ns in by_layer.items():
            for k, n in enumerate(ns):
                pos[n.key] = (float(layer), (len(ns) - 1) / 2 - k)
        return pos

    def render(self, fmt: str = "svg") -> bytes:
        """The picture as bytes (``"svg"``, ``"png"``, ``"pdf"``): Graphviz, else Matplotlib."""
        data = self._graphviz(fmt)
        return data if data is not None else self._matplotlib(fmt)

    def svg(self) -> str:
        """The picture as SVG text."""
        return self.render("svg").decode()

    def _repr_svg_(self) -> str:
        return self.svg()

    def save(self, path: str | Path) -> Path:
        """Write the graph to ``path``; the suffix picks the format (.dot/.gv, .svg, .png, .pdf).

        Returns:
            The path written.
        """
        path = Path(path)
        fmt = path.suffix.lower().lstrip(".")
        if fmt in ("dot", "gv"):
            path.write_text(self.dot)
        elif fmt in ("svg", "png", "pdf"):
            path.write_bytes(self.render(fmt))
        else:
            raise ValueError(f"graph.save: cannot write {path.name!r}; use a .dot, .gv, .svg, "
                             f".png or .pdf file name")
        return path

    def __str__(self) -> str:
        return self.dot

    def __repr__(self) -> str:
        return (f"<ComputationalGraph: {len(self.nodes)} nodes, {len(self.edges)} edges, "
                f"show={self.show!r}>")


def _op_text(e: Any, names: _Namer) -> str:
    args = [render.to_text(names.tok(a)) for a in e.invars]
    name = e.prim.name
    if name in INFIX and len(args) == 2:
        return f"{args[0]} {INFIX[name]} {args[1]}"
    if name in PREFIX and len(args) == 1:
        return f"{PREFIX[name]}{args[0]}"
    return f"{name}({', '.join(args)})"


def graph_of_program(prog: Program, flat_args: list, show: str = "primal",
                     digits: int = 4) -> ComputationalGraph:
    """The computational graph of a staged program at ``flat_args`` (see :func:`graph`)."""
    if show not in ("primal", "adjoint"):
        raise ValueError(f"graph: show={show!r} is not 'primal' or 'adjoint'")
    table = trace_program(prog, flat_args, mode="reverse" if show == "adjoint" else "primal",
                          digits=digits)
    names = _Namer(prog)
    nodes: list[Node] = []
    layer: dict[int, int] = {}
    outs = {id(o) for o in prog.outputs if isinstance(o, Var)}

    def adj(key: str) -> Any:
        h = table.history(key + "_bar")
        return h[-1] if h else (0.0 if show == "adjoint" else None)

    def text(v: Var) -> str:
        return render.to_text(names.tok(v))

    for k, v in enumerate(prog.inputs):
        layer[id(v)] = 0
        key = render.key_of(names.tok(v))
        nodes.append(Node(key, text(v), names.input_names[k], table[key], adj(key),
                          "input", 0))
    env = {id(v): x for v, x in zip(prog.inputs, flat_args, strict=True)}
    edges: list[Edge] = []
    for e in prog.eqns:
        args, ans = _evaluate(e, env)
        o = e.outvars[0]
        env[id(o)] = ans
        layer[id(o)] = 1 + max((layer[id(a)] for a in e.invars if isinstance(a, Var)), default=0)
        key = render.key_of(names.tok(o))
        nodes.append(Node(key, text(o), _op_text(e, names), ans, adj(key),
                          "output" if id(o) in outs else "op", layer[id(o)]))
        for i, a in enumerate(e.invars):
            if not isinstance(a, Var) or (i < len(e.prim.vjps) and e.prim.vjps[i] is None):
                continue
            partial = render.to_text(_partial_text(e, i, names))
            value = None
            if _is_scalar(ans) and _is_scalar(args[i]):
                try:
                    value = _local_partial(e, i, ans, args)
                except Exception:  # a rule that cannot run on a unit tangent: show text only
                    value = None
            edges.append(Edge(render.key_of(names.tok(a)), key, partial, value))
    title = "" if not prog.name or prog.name == "<lambda>" else prog.name
    return ComputationalGraph(nodes, edges, show, digits, title)


def graph(f: Callable, *args: Any, show: str = "primal", digits: int = 4,
          optimize: bool = True) -> ComputationalGraph:
    """The computational graph of ``f`` at ``args``, as the lecture draws it.

    Args:
        f: a function written with ``chainrule.numpy``.
        *args: the point (floats or arrays; pytrees are flattened into inputs).
        show: ``"primal"`` (each node's value) or ``"adjoint"`` (values and adjoints
            ``v̄_i = ∂y/∂v_i``, which needs a scalar output).
        digits: decimals in labels.
        optimize: run the IR passes first (shared subexpressions become shared nodes).

    Returns:
        A :class:`ComputationalGraph`: ``.dot`` (always), ``.svg()``, ``.save("g.svg")``,
        shown as SVG in Jupyter. SVG/PNG need Graphviz (preferred) or Matplotlib.

    Example:
        >>> import chainrule as cr, chainrule.numpy as np
        >>> g = cr.graph(lambda x1, x2: x1 * x2 + np.sin(x1), 2.0, 5.0)
        >>> len(g.nodes), len(g.edges)
        (5, 5)
    """
    from chainrule.core.pytree import tree_flatten
    from chainrule.ir.passes import optimize as _optimize
    from chainrule.jit import make_ir

    prog = make_ir(f)(*args)
    if optimize:
        prog = _optimize(prog)
    flat, _ = tree_flatten(tuple(args))
    return graph_of_program(prog, flat, show=show, digits=digits)
