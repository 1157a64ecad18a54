"""The transformations: thin compositions of ``jvp`` and ``vjp``.

- :mod:`~chainrule.transforms.autodiff`: ``jvp``, ``linearize``, ``vjp``, ``grad``,
  ``value_and_grad``, ``elementwise_grad``, ``hvp``, ``derivative``, ``stop_gradient``;
- :mod:`~chainrule.transforms.jacobians`: ``jacfwd``, ``jacrev``, ``jacobian``, ``hessian``;
- :mod:`~chainrule.transforms.vmap`: ``vmap``, a batch axis through every primitive;
- :mod:`~chainrule.transforms.sparse_jacobians`: ``sparsity`` and the coloured Jacobians and
  Hessians behind ``jacobian``/``hessian(..., sparsity=...)``;
- :mod:`~chainrule.transforms._args`: ``argnums``, input checks and the values handed back
  at the boundary, shared by all of them.
"""

from chainrule.transforms.autodiff import (
    derivative, elementwise_grad, grad, hvp, hvp_forward_over_reverse, jvp, linearize,
    stop_gradient, value_and_grad, vjp,
)
from chainrule.transforms.jacobians import hessian, jacfwd, jacobian, jacrev

__all__ = [
    "jvp",
    "linearize",
    "vjp",
    "grad",
    "value_and_grad",
    "jacfwd",
    "jacrev",
    "jacobian",
    "hessian",
    "hvp",
    "hvp_forward_over_reverse",
    "derivative",
    "elementwise_grad",
    "stop_gradient",
]
