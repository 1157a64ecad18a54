"""Matplotlib for chainrule's figures: pyplot on the Agg backend (files, no window).

Matplotlib is an optional dependency (``pip install chainrule[plot]``); every module that
draws gets it here, so the backend choice and the message when it is missing are one.
"""

from __future__ import annotations

from typing import Any

__all__ = ["pyplot", "MATPLOTLIB_MISSING"]

MATPLOTLIB_MISSING = "Matplotlib is not installed (pip install chainrule[plot])"


def pyplot(required: bool = False) -> Any:
    """``matplotlib.pyplot`` on the Agg backend, or None when Matplotlib is not installed.

    Args:
        required: raise an ImportError naming the extra to install instead of returning
            None.

    >>> pyplot() is None or pyplot().get_backend().lower() == "agg"
    True
    """
    try:
        import matplotlib
    except ImportError as err:
        if required:
            raise ImportError(f"this figure needs Matplotlib: {MATPLOTLIB_MISSING}") from err
        return None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt
