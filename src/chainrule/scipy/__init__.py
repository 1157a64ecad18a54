"""chainrule.scipy: differentiable SciPy functions (``integrate``, ``linalg``, ``signal``,
``special``, ``stats``).

SciPy is optional: without it the special functions fall back to NumPy/``math``
implementations of the same math; ``integrate.odeint`` is SciPy's API on
:mod:`chainrule.ode` and never needs SciPy.
"""

from chainrule.scipy import integrate, linalg, signal, special, stats  # noqa: F401
