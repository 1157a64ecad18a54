"""chainrule.scipy: differentiable SciPy functions (``signal``, ``special``, ``stats``).

SciPy is optional: without it the special functions fall back to NumPy/``math``
implementations of the same math.
"""

from chainrule.scipy import signal, special, stats  # noqa: F401
