"""Differentiable ODE solvers: ``odeint`` (explicit Runge–Kutta, adaptive and fixed step,
and a Rosenbrock method for stiff problems), gradients by differentiating the solver's
steps or by the continuous adjoint, terminal events.

>>> import numpy as onp, chainrule as cr
>>> from chainrule.ode import odeint
>>> ys = odeint(lambda y, t: -y, 1.0, onp.linspace(0.0, 1.0, 3), rtol=1e-10, atol=1e-12)
>>> onp.allclose(ys, onp.exp(-onp.linspace(0.0, 1.0, 3)))
True
"""

from chainrule.ode.events import odeint_event
from chainrule.ode.odeint import odeint

__all__ = ["odeint", "odeint_event"]
