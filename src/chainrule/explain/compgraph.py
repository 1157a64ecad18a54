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
import itertools
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
from chainrule.ir.printer import operator_form
from chainrule.ir.program import Program, Var
from chainrule.core.pytree import tree_flatten
from chainrule.ir.passes import optimize as _optimize
from chainrule.jit import make_ir

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
        place = self._placement()
        fig = plt.figure(figsize=place.size)
        ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
        colors = {"input": "#e6f4e6", "output": "#fbeee6", "op": "#eef3fb"}
        boxes = {}
        for n in self.nodes:
            x, y = place.centre[n.key]
            boxes[n.key] = ax.text(x, y, "\n".join(self._label(n)), ha="center", va="center",
                                   fontsize=_NODE_PT, zorder=3,
                                   bbox={"boxstyle": "round", "fc": colors[n.role], "ec": "#333"})
        for e in self.edges:
            ax.annotate("", xy=place.arrow_end, xycoords=boxes[e.dst],
                        xytext=place.arrow_start, textcoords=boxes[e.src],
                        arrowprops={"arrowstyle": "->", "color": "#555", "shrinkA": 4,
                                    "shrinkB": 4})
        for e, (x, y) in zip(self.edges, place.edge_labels, strict=True):
            ax.text(x, y, self._edge_label(e), fontsize=_EDGE_PT, ha="center", va="center",
                    color="#333", zorder=4,
                    bbox={"boxstyle": "square,pad=0.1", "fc": "white", "ec": "none",
                          "alpha": 0.85})
        (x0, x1), (y0, y1) = place.limits
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
        ax.axis("off")
        if self.title:
            ax.text((x0 + x1) / 2, y1 - 0.15, self.title, ha="center", va="top", fontsize=11)
        buf = io.BytesIO()
        fig.savefig(buf, format=fmt, bbox_inches="tight")
        plt.close(fig)
        return buf.getvalue()

    def layout(self) -> dict[str, tuple[float, float]]:
        """Positions in layer units: ``(layer, offset within the layer)``.

        A node's layer is one past its latest argument's; an input sits in the layer
        before its first use (so a weight used late does not cross the whole drawing).
        Within a layer, nodes are ordered by the mean position of their neighbours in
        the layers before and after (the barycentre heuristic), which keeps edges from
        crossing where it can.
        """
        layer = self._layers()
        by_layer: dict[int, list[str]] = {}
        for n in self.nodes:
            by_layer.setdefault(layer[n.key], []).append(n.key)
        parents: dict[str, list[str]] = {n.key: [] for n in self.nodes}
        children: dict[str, list[str]] = {n.key: [] for n in self.nodes}
        for e in self.edges:
            parents[e.dst].append(e.src)
            children[e.src].append(e.dst)
        offset: dict[str, float] = {}

        def place(keys: list[str]) -> None:
            for k, key in enumerate(keys):
                offset[key] = (len(keys) - 1) / 2 - k

        for keys in by_layer.values():
            place(keys)
        order = sorted(by_layer)
        for sweep in (order[1:], order[-2::-1], order[1:]):
            for lay in sweep:
                def centre(key: str) -> float:
                    near = [offset[p] for p in parents[key] + children[key]]
                    return -sum(near) / len(near) if near else -offset[key]
                by_layer[lay].sort(key=centre)
                place(by_layer[lay])
        return {key: (float(layer[key]), offset[key]) for key in offset}

    def _layers(self) -> dict[str, int]:
        layer = {n.key: n.layer for n in self.nodes}
        first_use: dict[str, int] = {}
        for e in self.edges:
            first_use[e.src] = min(first_use.get(e.src, 10 ** 9), layer[e.dst])
        for n in self.nodes:
            if n.role == "input" and n.key in first_use:
                layer[n.key] = max(first_use[n.key] - 1, 0)
        return layer

    def _placement(self) -> "_Placement":
        """Where everything goes in the Matplotlib drawing, in inches.

        Layers run left to right, as the lecture draws them, while that fits the width of
        a page (about 12 inches); a longer graph runs top to bottom instead, so its text
        stays legible when the picture is shown at a screen's width. Each edge label goes
        in the first gap after its source, at the first of a few points along the edge
        where it overlaps no node and no other label.
        """
        pos = self.layout()
        layers = int(max((lay for lay, _ in pos.values()), default=0)) + 1
        boxes = {n.key: _text_size(self._label(n), _NODE_PT, pad=0.12) for n in self.nodes}
        wide = max((w for w, _ in boxes.values()), default=1.0)
        left_to_right = _LAYER_STEP_LR * layers <= _PAGE_WIDTH
        if left_to_right:
            step, spread = _LAYER_STEP_LR, 1.5
            centre = {k: (lay * step, off * spread) for k, (lay, off) in pos.items()}
            arrow = ((1.0, 0.5), (0.0, 0.5))
        else:
            step, spread = 1.5, max(wide + 0.6, 1.9)
            centre = {k: (off * -spread, -lay * step) for k, (lay, off) in pos.items()}
            arrow = ((0.5, 0.0), (0.5, 1.0))
        taken = [_box(centre[k], boxes[k]) for k in centre]
        labels = []
        for e in self.edges:
            (xa, ya), (xb, yb) = centre[e.src], centre[e.dst]
            gap = 1.0 / max(abs(pos[e.dst][0] - pos[e.src][0]), 1.0)
            size = _text_size([self._edge_label(e)], _EDGE_PT, pad=0.04)
            best = None
            for t, side in itertools.product((0.5, 0.35, 0.65, 0.25, 0.75, 0.15, 0.85),
                                             (1.0, -1.0)):
                x, y = xa + gap * t * (xb - xa), ya + gap * t * (yb - ya)
                if left_to_right:  # above the edge, else below it
                    y += side * (size[1] / 2 + 0.03)
                else:  # beside the edge, on the side it leans to first
                    x += side * (1.0 if xb >= xa else -1.0) * (size[0] / 2 + 0.06)
                box = _box((x, y), size)
                clash = sum(_overlap_area(box, other) for other in taken)
                if best is None or clash < best[3]:
                    best = (x, y, box, clash)
                if clash == 0.0:
                    break
            labels.append(best[:2])
            taken.append(best[2])
        xs = [b[0] for b in taken] + [b[2] for b in taken]
        ys = [b[1] for b in taken] + [b[3] for b in taken]
        top = 0.45 if self.title else 0.15
        limits = ((min(xs) - 0.15, max(xs) + 0.15), (min(ys) - 0.15, max(ys) + top))
        size = (limits[0][1] - limits[0][0], limits[1][1] - limits[1][0])
        return _Placement(centre, labels, limits, size, *arrow)

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


#: font sizes (points) of node and edge labels, the layer step (inches) left to right,
#: and the widest left-to-right drawing before layers run top to bottom
_NODE_PT, _EDGE_PT, _LAYER_STEP_LR, _PAGE_WIDTH = 8, 7, 2.6, 13.5


@dataclass
class _Placement:
    """A drawing's geometry in inches: node centres, edge-label centres, axis limits,
    figure size, and where arrows leave and enter a box (its own fractions)."""

    centre: dict
    edge_labels: list
    limits: tuple
    size: tuple
    arrow_start: tuple
    arrow_end: tuple


def _text_size(lines: list[str], points: float, pad: float) -> tuple[float, float]:
    """An estimate of a text's box in inches (DejaVu Sans: about 0.6 em per character)."""
    em = points / 72.0
    width = max((len(line) for line in lines), default=1) * 0.6 * em + 2 * pad
    return width, len(lines) * 1.25 * em + 2 * pad


def _box(centre: tuple[float, float], size: tuple[float, float]) -> tuple:
    (x, y), (w, h) = centre, size
    return (x - w / 2, y - h / 2, x + w / 2, y + h / 2)


def _overlap_area(a: tuple, b: tuple) -> float:
    return max(min(a[2], b[2]) - max(a[0], b[0]), 0.0) * max(min(a[3], b[3]) - max(a[1], b[1]),
                                                               0.0)


def _op_text(e: Any, names: _Namer) -> str:
    args = [render.to_text(names.tok(a)) for a in e.invars]
    return operator_form(e.prim, args) or f"{e.prim.name}({', '.join(args)})"


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
    prog = make_ir(f)(*args)
    if optimize:
        prog = _optimize(prog)
    flat, _ = tree_flatten(tuple(args))
    return graph_of_program(prog, flat, show=show, digits=digits)
