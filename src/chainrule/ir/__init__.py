"""The program IR: representation, printer, passes, evaluation and Python codegen.

Knows nothing of tracing; :mod:`chainrule.interpreters.staging` builds programs.
"""

from chainrule.ir.evaluate import eval_flat, eval_ir
from chainrule.ir.passes import cse, dce, fold, optimize, simplify
from chainrule.ir.printer import pretty
from chainrule.ir.program import AVal, Eqn, Lit, Program, Var

__all__ = ["AVal", "Eqn", "Lit", "Program", "Var", "cse", "dce", "eval_flat", "eval_ir",
           "fold", "optimize", "pretty", "simplify"]
