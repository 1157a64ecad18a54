"""chainrule.scipy: differentiable SciPy functions (``special``, ``stats``).

SciPy is optional: without it the special functions fall back to NumPy/``math``
implementations of the same math.
"""

from chainrule.scipy import special, stats  # noqa: F401
