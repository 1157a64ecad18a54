"""Interpreters over the primitive set: forward (JVP) and reverse (VJP tape).

Importing the package registers reverse mode as the transposer of linear maps
(:mod:`chainrule.interpreters.transposition`), which VJP rules written as transposed
JVP rules use through :mod:`chainrule.core.transposition`.
"""

from chainrule.interpreters import transposition  # noqa: F401  (registers the transposer)
