"""chainrule.scipy: differentiable SciPy functions (``integrate``, ``linalg``, ``signal``,
``special``, ``stats``).

SciPy is optional: without it the special functions fall back to NumPy/``math``
implementations of the same math, and ``integrate.odeint`` to an adaptive RK45.
"""

from chainrule.scipy import integrate, linalg, signal, special, stats  # noqa: F401
