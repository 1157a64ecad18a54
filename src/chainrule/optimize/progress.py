"""Showing an optimisation as it runs: a tqdm bar with f and ‖g‖ when tqdm is
installed, otherwise a plain printed line every ``every`` iterations."""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["Progress"]


class Progress:
    """A progress display for ``total`` iterations at most.

    Args:
        title: the method name shown at the left.
        total: the iteration budget.
        every: without tqdm, print a line every this many iterations.
        stream: where lines go (default ``sys.stderr``).
    """

    def __init__(self, title: str, total: int, every: int = 10, stream: Any = None) -> None:
        self.title = title
        self.every = max(1, every)
        self.stream = stream if stream is not None else sys.stderr
        self.bar = None
        try:
            from tqdm.auto import tqdm
        except ImportError:  # optional: pip install chainrule[progress]
            tqdm = None
        if tqdm is not None:
            self.bar = tqdm(total=total, desc=title, leave=True, file=self.stream)

    def update(self, k: int, f: float, gnorm: float) -> None:
        """Show iteration ``k`` with its f and ‖g‖."""
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix_str(f"f={f:.6e} |g|={gnorm:.2e}", refresh=False)
        elif k % self.every == 0:
            print(f"{self.title} iter {k:6d}  f = {f: .6e}  |g| = {gnorm:.2e}",
                  file=self.stream)

    def close(self, message: str) -> None:
        """Finish the display with the stopping message."""
        if self.bar is not None:
            self.bar.close()
        print(f"{self.title}: {message}", file=self.stream)
