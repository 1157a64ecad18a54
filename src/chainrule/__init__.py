"""chainrule: derivatives of ordinary NumPy code, by every technique there is.

>>> import chainrule as cr
>>> import chainrule.numpy as np
>>> def f(x1, x2):
...     return (np.sin(x1 / x2) + x1 / x2 - np.exp(x2)) * (x1 / x2 - np.exp(x2))
>>> dx1, dx2 = cr.grad(f, argnums=(0, 1))(1.5, 0.5)
>>> round(float(dx1), 5), round(float(dx2), 5)
(3.01184, -13.72396)
"""

from chainrule import numpy  # noqa: F401  (installs the tracer operators)
from chainrule import reverse_operators  # noqa: F401  (reverse mode's flat operators)
from chainrule.checking import check_grads
from chainrule.checkpoint import checkpoint, remat
from chainrule.custom import custom_jvp, custom_vjp, defjvp, defvjp, primitive
from chainrule.control import cond, fori_loop, scan, switch, while_loop
from chainrule import revolve  # noqa: F401  (binomial checkpointing)
from chainrule.revolve import checkpoint_loop, checkpoint_scan
from chainrule.implicit import custom_linear_solve, custom_root, fixed_point
from chainrule.core.pytree import (
    tree_flatten,
    tree_leaves,
    tree_map,
    tree_structure,
    tree_unflatten,
)
from chainrule.ir import eval_ir
from chainrule.jit import jit, make_ir, source
from chainrule.explain import trace_table
from chainrule.explain import graph
from chainrule.transforms import (
    derivative,
    elementwise_grad,
    grad,
    hessian,
    hvp,
    jacfwd,
    jacobian,
    jacrev,
    jvp,
    linearize,
    stop_gradient,
    value_and_grad,
    vjp,
)
from chainrule.transforms.vmap import vmap
from chainrule.transforms.sparse_jacobians import sparsity

__version__ = "0.1.0"

__all__ = [
    "check_grads",
    "checkpoint",
    "checkpoint_loop",
    "checkpoint_scan",
    "remat",
    "custom_jvp",
    "custom_linear_solve",
    "custom_root",
    "fixed_point",
    "custom_vjp",
    "defjvp",
    "defvjp",
    "primitive",
    "cond",
    "fori_loop",
    "scan",
    "switch",
    "while_loop",
    "derivative",
    "elementwise_grad",
    "eval_ir",
    "grad",
    "graph",
    "hessian",
    "hvp",
    "jacfwd",
    "jacobian",
    "jacrev",
    "jit",
    "jvp",
    "linearize",
    "make_ir",
    "source",
    "sparsity",
    "stop_gradient",
    "trace_table",
    "tree_flatten",
    "tree_leaves",
    "tree_map",
    "tree_structure",
    "tree_unflatten",
    "value_and_grad",
    "vjp",
    "vmap",
]
