"""The kernel: primitives, tracers, trace levels and pytrees."""

from chainrule.core.primitive import (  # noqa: F401
    NO_RULE,
    PRIMITIVES,
    ArgRules,
    Primitive,
    Trace,
    Tracer,
    concrete,
    dtype_of,
    shape_of,
)
from chainrule.core.pytree import (  # noqa: F401
    TreeDef,
    tree_flatten,
    tree_leaves,
    tree_map,
    tree_unflatten,
)
