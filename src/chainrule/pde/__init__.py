"""Reference solvers for the partial differential equations of the examples.

Plain NumPy (nothing here is differentiated): :mod:`chainrule.pde.allen_cahn` is the
Fourier pseudo-spectral ETDRK4 solver used as the yardstick of the physics-informed
networks, :mod:`chainrule.pde.butcher` the Gauss–Legendre Runge–Kutta tableaux of
the discrete-time network.
"""

from chainrule.pde.allen_cahn import AllenCahn, etdrk4_coefficients, reference_solution
from chainrule.pde.butcher import gauss_legendre

__all__ = ["AllenCahn", "etdrk4_coefficients", "gauss_legendre", "reference_solution"]
