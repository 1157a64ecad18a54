"""The ``chainrule`` command: derivatives of a formula by every technique, the lecture's
trace tables and computational graphs, and the tour of the lecture's worked examples.

    chainrule diff "sin(x1/x2) + x1/x2 - exp(x2)" --at x1=1.5,x2=0.5 [--order 2]
    chainrule trace "ln(x1) + x1*x2 - sin(x2)" --at x1=2,x2=5 --mode reverse
    chainrule graph "ln(x1) + x1*x2 - sin(x2)" --at x1=2,x2=5 -o g.svg
    chainrule tour --out out/
    chainrule matrix-diff "norm2(y - A*x)^2" --wrt x [--hessian] [--method taylor|chain]

Formulas are parsed safely (:mod:`chainrule.parse`): never evaluated as Python.
"""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

__all__ = ["main", "build_parser"]


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (and exit status 2)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _add_formula(p: argparse.ArgumentParser) -> None:
    p.add_argument("expr", metavar="EXPR",
                   help='the formula, e.g. "sin(x1/x2) + x1/x2 - exp(x2)": numbers, variables, '
                        "+ - * / ** (or ^), parentheses, pi, e and sin cos tan exp log (ln) "
                        "sqrt tanh sinh cosh arctan abs log1p expm1 square")
    p.add_argument("--at", required=True, metavar="NAME=VALUE,...",
                   help="the point, one value per variable, e.g. x1=1.5,x2=0.5")
    p.add_argument("--digits", type=int, default=4, help="decimals shown (default 4)")


# --- matrix-diff: closed-form matrix calculus (chainrule.symbolic.matrix) ----------------

def _add_matrix_diff(sub) -> None:
    p = sub.add_parser("matrix-diff", help="closed-form gradient/Hessian of a matrix expression",
                       description="The gradient (and Hessian) of a matrix expression in closed "
                                   "form, as a person writes it (−2Aᵀ(y − Ax)), with the "
                                   "derivation: the Taylor-expansion steps or the vector chain "
                                   "rule. Capitals are matrices, other names column vectors, "
                                   "unless declared.")
    p.add_argument("expr", metavar="EXPR",
                   help="e.g. \"norm2(y - A*x)^2\", \"x' * A * x\", \"logdet(X)\": ' transposes, "
                        "* multiplies, .* and .^ act elementwise; tr det logdet inv sum norm2 "
                        "exp log tanh sigmoid relu step")
    p.add_argument("--wrt", required=True, metavar="NAME", help="the variable")
    p.add_argument("--hessian", action="store_true",
                   help="also the Hessian (its product with a direction for a matrix variable)")
    p.add_argument("--method", choices=("taylor", "chain"), default="taylor",
                   help="the derivation shown: Taylor expansion (default) or vector chain rule")
    p.add_argument("--symmetric", default="", metavar="A,B", help="symmetric matrices")
    p.add_argument("--scalar", default="", metavar="c,d", help="names that are scalars")
    p.add_argument("--shape", action="append", default=[], metavar="NAME=ROWS[,COLS]",
                   help="declare a shape, e.g. A=m,n or x=n (repeatable)")
    p.add_argument("--format", choices=("text", "latex"), default="text",
                   help="text (default) or LaTeX")
    p.add_argument("--code", action="store_true", help="also print the generated NumPy code")


def _matrix_diff(args: argparse.Namespace) -> int:
    from chainrule.symbolic.matrix import derive, lambdify, latex, parse, text

    shapes = {}
    for decl in args.shape:
        name, _, dims = decl.partition("=")
        parts = tuple(d.strip() for d in dims.split(",") if d.strip())
        if not name.strip() or len(parts) not in (1, 2):
            raise ValueError(f"--shape {decl!r}: expected NAME=ROWS,COLS or NAME=N")
        shapes[name.strip()] = parts if len(parts) == 2 else parts[0]
    split = lambda s: [n.strip() for n in s.split(",") if n.strip()]  # noqa: E731
    expr = parse(args.expr, shapes, symmetric=split(args.symmetric), scalars=split(args.scalar))
    if args.hessian and args.method == "chain":
        raise ValueError("--hessian derives by Taylor expansion; leave out --method chain")
    d = derive(expr, args.wrt, method=args.method, order=2 if args.hessian else 1)
    show = latex if args.format == "latex" else text
    print("shapes: " + ", ".join(f"{n} {s.rows}×{s.cols}" + (" (symmetric)" * s.symmetric)
                                 for n, s in expr.symbols().items()))
    print(d.latex() if args.format == "latex" else d.text())
    print(f"\ngradient: {show(d.gradient)}")
    if d.hessian is not None:
        matrix_variable = d.wrt.rows != 1 and d.wrt.cols != 1
        print(f"hessian{' applied to Δ (a fourth-order tensor)' * matrix_variable}: "
              f"{show(d.hessian)}")
    if args.code:
        outputs = {"gradient": d.gradient} | ({"hessian": d.hessian} if d.hessian else {})
        names = list(expr.symbols()) + [n for e in outputs.values() for n in e.symbols()
                                         if n not in expr.symbols()]
        print("\n" + lambdify(outputs, args=list(dict.fromkeys(names)), like=expr,
                              name=f"derivatives_wrt_{args.wrt}").source, end="")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``chainrule`` command (all subcommands)."""
    parser = _Parser(prog="chainrule", description=__doc__.split("\n\n")[0],
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    p = sub.add_parser("diff", help="value and derivatives by every technique, side by side",
                       description="The value, gradient (and with --order 2 the Hessian) by "
                                   "forward AD, reverse AD, finite differences with error "
                                   "estimates, complex step and SymPy, with discrepancies and "
                                   "timings.")
    _add_formula(p)
    p.add_argument("--order", type=int, choices=(1, 2), default=1,
                   help="1: gradient (default); 2: gradient and Hessian")

    p = sub.add_parser("trace", help="the lecture's evaluation trace table",
                       description="The evaluation trace table (Griewank & Walther ch. 1): "
                                   "primal, forward tangent or reverse adjoint.")
    _add_formula(p)
    p.add_argument("--mode", choices=("primal", "forward", "reverse"), default="primal",
                   help="primal (default), forward (tangents v̇) or reverse (adjoints v̄)")
    p.add_argument("--wrt", metavar="NAME",
                   help="forward mode: the variable whose tangent is 1 (default: the first)")
    p.add_argument("--format", choices=("text", "markdown", "latex", "html"), default="text",
                   help="output format (default text)")

    p = sub.add_parser("graph", help="the computational graph (DOT, SVG or PNG)",
                       description="The computational graph: nodes v_i with op and value, "
                                   "edges labelled with the local partials. Without -o the "
                                   "DOT text is printed.")
    _add_formula(p)
    p.add_argument("--show", choices=("primal", "adjoint"), default="primal",
                   help="primal values (default) or values and adjoints")
    p.add_argument("-o", "--output", metavar="FILE",
                   help="write FILE (.svg, .png, .pdf, .dot); SVG/PNG need Graphviz or "
                        "Matplotlib")

    p = sub.add_parser("tour", help="every worked example of the lecture, as an HTML report",
                       description="Computes every worked example of the lecture by each "
                                   "technique, renders the trace tables, graphs and the "
                                   "expression-swell table into DIR/index.html, and prints a "
                                   "summary.")
    p.add_argument("--out", default="out", metavar="DIR",
                   help="directory for the report (default: out)")
    p.add_argument("--quick", action="store_true",
                   help="smaller expression-swell table (for tests)")
    _add_matrix_diff(sub)
    return parser


def _formula(args: argparse.Namespace):
    from chainrule.parse import ExpressionError, parse, parse_point

    expr = parse(args.expr)
    point = parse_point(args.at)
    unused = [n for n in point if n not in expr.variables]
    if unused:
        raise ExpressionError(f"--at gives {', '.join(unused)}, which {args.expr!r} does not "
                              f"use (it uses {', '.join(expr.variables) or 'no variables'})")
    names = tuple(point)
    if args.digits < 0 or args.digits > 16:
        raise ExpressionError(f"--digits {args.digits}: use 0 to 16")
    return expr, expr.function(names), names, tuple(point.values())


def _diff(args: argparse.Namespace) -> int:
    from chainrule.explain.compare import compare

    expr, f, names, point = _formula(args)
    print(f"f({', '.join(names)}) = {expr.text}")
    print(compare(f, point, names, order=args.order).to_text(digits=max(args.digits, 10)))
    return 0


def _trace(args: argparse.Namespace) -> int:
    from chainrule.explain import trace_table
    from chainrule.parse import ExpressionError

    _, f, names, point = _formula(args)
    wrt = 0
    if args.wrt is not None:
        if args.wrt not in names:
            raise ExpressionError(f"--wrt {args.wrt}: not a variable; use one of "
                                  f"{', '.join(names)}")
        wrt = names.index(args.wrt)
    table = trace_table(f, *point, mode=args.mode, wrt=wrt, digits=args.digits)
    out = {"text": table.to_text, "markdown": table.to_markdown, "latex": table.to_latex,
           "html": table.to_html}[args.format]()
    print(out)
    return 0


def _graph(args: argparse.Namespace) -> int:
    from chainrule.explain import graph

    _, f, _, point = _formula(args)
    g = graph(f, *point, show=args.show, digits=args.digits)
    if args.output:
        path = g.save(args.output)
        print(f"wrote {path}")
    else:
        print(g.dot)
    return 0


def _tour(args: argparse.Namespace) -> int:
    from chainrule.tour import run

    return run(args.out, quick=args.quick)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``chainrule`` command.

    Args:
        argv: the arguments (default: ``sys.argv[1:]``).

    Returns:
        The exit status: 0 on success, 1 on an error (printed as one line), 2 on bad usage.
    """
    from chainrule.parse import ExpressionError

    args = build_parser().parse_args(argv)
    handler = {"diff": _diff, "trace": _trace, "graph": _graph, "tour": _tour,
               "matrix-diff": _matrix_diff}[args.command]
    try:
        return handler(args)
    except ExpressionError as err:
        print(f"chainrule {args.command}: error: {err}", file=sys.stderr)
        return 2
    except (ValueError, TypeError, ArithmeticError, NotImplementedError, ImportError,
            OSError, RuntimeError) as err:
        msg = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        print(f"chainrule {args.command}: error: {type(err).__name__}: {msg}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
