"""Physics-informed neural networks for the Allen–Cahn equation.

:mod:`chainrule.pinn.allen_cahn` holds the losses (discrete-time with an implicit
Runge–Kutta step, continuous-time over the whole domain) and their training loops;
the derivatives of the networks in x come from one Taylor-mode pass
(:mod:`chainrule.jet`), their gradients in the parameters from reverse mode over it.
"""

from chainrule.pinn.allen_cahn import (
    ContinuousPINN,
    DiscretePINN,
    TrainingResult,
    lbfgs,
)

__all__ = ["ContinuousPINN", "DiscretePINN", "TrainingResult", "lbfgs"]
