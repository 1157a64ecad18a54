"""The ``chainrule`` command: derivatives of a formula by every technique, the lecture's
trace tables and computational graphs, and the tour of the lecture's worked examples.

    chainrule diff "sin(x1/x2) + x1/x2 - exp(x2)" --at x1=1.5,x2=0.5 [--order 2]
    chainrule trace "ln(x1) + x1*x2 - sin(x2)" --at x1=2,x2=5 --mode reverse
    chainrule graph "ln(x1) + x1*x2 - sin(x2)" --at x1=2,x2=5 -o g.svg
    chainrule tour --out out/
    chainrule example digits --out out/
    chainrule matrix-diff "norm2(y - A*x)^2" --wrt x [--hessian] [--method taylor|chain]
    chainrule optimize --problem rosenbrock --methods newton,bfgs --plot rosen.png

Formulas are parsed safely (:mod:`chainrule.parse`): never evaluated as Python.
"""

from __future__ import annotations

import argparse
import sys
import warnings
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
    p.add_argument("--sympy-timeout", type=float, default=10.0, metavar="S",
                   help="seconds SymPy may take for the gradient and for the Hessian "
                        "(default 10); past it its row says so and the other techniques "
                        "are shown as usual")

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
    _add_example_parser(sub)
    _add_matrix_diff(sub)
    _add_pinn_parser(sub)
    _add_optimize(sub)
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
    import numpy as np

    from chainrule.explain.compare import compare
    from chainrule.parse import ExpressionError

    expr, f, names, point = _formula(args)
    print(f"f({', '.join(names)}) = {expr.text}")
    if not args.sympy_timeout > 0:
        raise ExpressionError(f"--sympy-timeout {args.sympy_timeout:g}: give a positive number "
                              "of seconds")
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # log(0) & co: the table shows it
        table = compare(f, point, names, order=args.order,
                        symbolic_time_limit=args.sympy_timeout)
    if not np.isfinite(table.value):
        print(f"note: f is {table.value} at this point, so its derivatives there are not "
              "defined; the techniques below disagree or give inf/nan accordingly")
    print(table.to_text(digits=max(args.digits, 10)))
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


_FORMULA_COMMANDS = ("diff", "trace", "graph")


def _formulas_as_positionals(argv: list[str]) -> list[str]:
    """Keep a formula that starts with a minus sign (``chainrule diff "-x**2" --at x=1``)
    from being read as an option: argparse takes any word starting with ``-`` for one, so
    such a word that is not one of the command's options gets a leading space (the parser
    of formulas ignores it)."""
    if not argv or argv[0] not in _FORMULA_COMMANDS:
        return argv
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    options = sub.choices[argv[0]]._option_string_actions
    out = argv[:1]
    for word in argv[1:]:
        is_option = word.split("=", 1)[0] in options or (
            word[:2] in options and not word.startswith("--"))  # -oFILE
        if word.startswith("-") and len(word) > 1 and not is_option and not word == "--":
            word = " " + word
        out.append(word)
    return out


# --- chainrule example NAME: the lecture's learning examples (chainrule.examples) ----------

def _add_example_parser(sub) -> None:
    p = sub.add_parser("example", help="run one of the lecture's learning examples",
                       description="Runs an example of chainrule.examples (linear_regression, "
                                   "least_squares, shallow_relu, sigmoid_221, digits, ...), "
                                   "prints its numbers and writes its figures (PNG and SVG) "
                                   "to DIR. Without NAME, lists the examples.")
    p.add_argument("name", nargs="?", metavar="NAME", help="the example (omit to list them)")
    p.add_argument("--out", default="out", metavar="DIR",
                   help="directory for the figures (default: out)")
    p.add_argument("--quick", action="store_true", help="a short run")
    p.add_argument("--seed", type=int, help="random seed (default: the example's own)")
    p.add_argument("--rows", type=int, metavar="N",
                   help="big-regression: the number of data rows (default 1 000 000)")
    p.add_argument("--client", metavar="ADDRESS",
                   help="big-regression: a Dask scheduler's address, or 'local' (default) "
                        "for a new 2-worker LocalCluster")


def _example(args: argparse.Namespace) -> int:
    import inspect

    from chainrule import examples

    if args.name is None:
        for name in examples.available():
            doc = (examples.load(name).__doc__ or "").strip().splitlines()
            print(f"{name:20s} {doc[0] if doc else ''}")
        return 0
    name = args.name.replace("-", "_")  # big-regression names chainrule.examples.big_regression
    extra = {k: v for k, v in (("rows", args.rows), ("client", args.client)) if v is not None}
    if extra and name != "big_regression":
        print(f"chainrule example: --rows and --client apply to big-regression, not {args.name}")
        return 2
    accepts = inspect.signature(examples.load(name).run).parameters
    options = {"quick": args.quick, **extra}
    if "progress" in accepts or any(p.kind is p.VAR_KEYWORD for p in accepts.values()):
        options["progress"] = True
    if args.seed is not None:
        options["seed"] = args.seed
    return _report(examples.run(name, out=args.out, **options), args.name, numbers=True)


def _report(result, name: str, numbers: bool = False) -> int:
    """Print an example's summary (its numbers too), notes and files; the exit status."""
    print(f"{name}: {result.summary}")
    for key, value in result.numbers.items() if numbers else ():
        if not isinstance(value, (list, dict)) or len(str(value)) < 200:
            print(f"  {key} = {value}")
    for note in result.notes:
        print(f"  note: {note}")
    for path in result.files:
        print(f"wrote {path}")
    return 0 if result.ok else 1


# -- chainrule pinn allen-cahn: physics-informed networks against the spectral reference --


def _add_pinn_parser(sub) -> None:
    p = sub.add_parser("pinn", help="train a physics-informed network (Allen–Cahn)",
                       description="Trains a physics-informed network for the Allen–Cahn "
                                   "equation u_t - 1e-4 u_xx + 5u^3 - 5u = 0 and compares it "
                                   "with the spectral ETDRK4 reference. Writes "
                                   "DIR/allen_cahn_<method>.npz (x, t, u_ref, u_pinn), heat "
                                   "maps and slices as PNG and the training history as JSON.")
    p.add_argument("problem", choices=("allen-cahn",), help="the equation (allen-cahn)")
    p.add_argument("--method", choices=("discrete", "continuous"), default="discrete",
                   help="discrete: one 100-stage implicit Runge-Kutta step from t = 0.1 to "
                        "0.9 (Raissi et al.); continuous: u(t, x) over the whole domain "
                        "(default discrete)")
    p.add_argument("--minutes", type=float, default=None, metavar="M",
                   help="training budget in minutes (default 9 discrete, 14 continuous)")
    p.add_argument("--out", default="out", metavar="DIR",
                   help="directory for the results (default: out)")
    p.add_argument("--seed", type=int, default=0, help="data points and weights (default 0)")
    p.add_argument("--quick", action="store_true",
                   help="a tiny network for a few seconds (checks the pipeline only)")
    p.add_argument("--embedding", choices=("even", "periodic"), default="even",
                   help="continuous: how x enters the network: even = cos(k pi x) alone (the "
                        "initial value is even and the equation keeps it so; default), "
                        "periodic = cos and sin (periodic only)")
    p.add_argument("--solver", choices=("chainrule", "scipy"), default="chainrule",
                   help="the L-BFGS: chainrule.optimize (default) or SciPy's L-BFGS-B")
    p.add_argument("--dtype", choices=("float64", "float32"), default="float64",
                   help="discrete: precision of the network's evaluation (float32 costs "
                        "about half per loss and gradient; L-BFGS stays float64; default "
                        "float64)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def _pinn(args: argparse.Namespace) -> int:
    from chainrule.examples import allen_cahn

    res = allen_cahn.run(out=args.out, quick=args.quick, seed=args.seed,
                         progress=not args.no_progress, method=args.method,
                         minutes=args.minutes, even=args.embedding == "even",
                         solver=args.solver, dtype=args.dtype)
    return _report(res, "allen-cahn")


def _add_optimize(sub) -> None:
    p = sub.add_parser("optimize", help="every optimiser on a test problem, side by side",
                       description="Minimise Rosenbrock from (-1.2, 1), one of the "
                                   "Moré-Garbow-Hillstrom problems, or the lecture's least "
                                   "squares ‖y − Ax‖² (A 500×100) by the chosen methods of "
                                   "chainrule.optimize; prints iterations, evaluations, the "
                                   "final f and the stopping rule.")
    p.add_argument("--problem", default="rosenbrock", metavar="NAME",
                   help="rosenbrock (default), least-squares, or an MGH problem name "
                        "(e.g. wood, watson, osborne2)")
    p.add_argument("--methods", default="all", metavar="M1,M2",
                   help="comma-separated methods (default: all of them)")
    p.add_argument("--maxiter", type=int, default=20000, help="iteration budget per method")
    p.add_argument("--plot", metavar="FILE", help="write the picture (PNG, needs Matplotlib)")
    p.add_argument("--progress", action="store_true", help="progress bar per method")


def _optimize(args: argparse.Namespace) -> int:
    from chainrule.optimize import METHODS, minimize
    from chainrule.optimize.mgh import PROBLEMS
    from chainrule.optimize.methods import method_name
    from chainrule.optimize.report import (ROSENBROCK_OPTIONS, lecture_least_squares,
                                           plot_loss, plot_rosenbrock, rosenbrock_runs, table)

    methods = list(METHODS) if args.methods == "all" else [
        method_name(m) for m in args.methods.split(",")]
    if args.problem == "least-squares":
        ls = lecture_least_squares(steps=min(args.maxiter, 500))
        print(f"f* = {ls['f_star']:.6g} (normal equations)")
        print(f"GD, fixed step 1e-4: f - f* = {ls['fixed'][-1] - ls['f_star']:.4g} after "
              f"{ls['fixed'].size} steps")
        print(f"GD, Armijo:          f - f* = {ls['armijo'][-1] - ls['f_star']:.4g} after "
              f"{ls['armijo'].size - 1} iterations")
        if args.plot:
            plot_loss(ls, args.plot)
            print(f"wrote {args.plot}")
        return 0
    if args.problem == "rosenbrock":
        runs = rosenbrock_runs(methods, maxiter=args.maxiter)
        rows = table(runs)
        if args.plot:
            plot_rosenbrock(runs, args.plot)
    elif args.problem in PROBLEMS:
        prob = PROBLEMS[args.problem]
        rows = []
        for m in methods:
            r = minimize(prob.f, prob.start(), method=m, progress=args.progress,
                         options=dict(ROSENBROCK_OPTIONS.get(m, {}), maxiter=args.maxiter))
            rows.append({"method": m, "iterations": r.nit, "f evals": r.nfev,
                         "grad evals": r.njev, "Hessian (·v) evals": r.nhev,
                         "f": f"{r.fun:.6g}", "published f*": ", ".join(
                             f"{s:g}" for s in prob.f_star),
                         "stopped by": r.message.split(":")[0]})
        if args.plot:
            raise ValueError("--plot draws Rosenbrock or least-squares only")
    else:
        raise ValueError(f"--problem {args.problem}: use rosenbrock, least-squares or one of "
                         f"{', '.join(PROBLEMS)}")
    widths = {k: max(len(k), *(len(str(r[k])) for r in rows)) for k in rows[0]}
    print("  ".join(k.ljust(w) for k, w in widths.items()))
    for r in rows:
        print("  ".join(str(r[k]).ljust(w) for k, w in widths.items()))
    if args.plot:
        print(f"wrote {args.plot}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``chainrule`` command.

    Args:
        argv: the arguments (default: ``sys.argv[1:]``).

    Returns:
        The exit status: 0 on success, 1 on an error (printed as one line), 2 on bad usage.
    """
    from chainrule.parse import ExpressionError

    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(_formulas_as_positionals(argv))
    handler = {
        "diff": _diff,
        "trace": _trace,
        "graph": _graph,
        "tour": _tour,
        "example": _example,
        "matrix-diff": _matrix_diff,
        "pinn": _pinn,
        "optimize": _optimize,
    }[args.command]
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
