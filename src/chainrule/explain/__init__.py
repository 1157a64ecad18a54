"""chainrule.explain: the lecture's trace tables and computational-graph pictures.

* :func:`trace_table` — the evaluation trace tables (primal, forward tangent, reverse
  adjoint), printable as text, HTML, Markdown and LaTeX.
* :func:`graph` — the computational graph (nodes ``v_i`` with op and value, edges
  labelled with the local partials), as DOT, SVG (Graphviz) or a Matplotlib drawing.
"""

from chainrule.explain.compgraph import ComputationalGraph, graph
from chainrule.explain.tables import TraceTable, trace_table

__all__ = ["ComputationalGraph", "TraceTable", "graph", "trace_table"]
