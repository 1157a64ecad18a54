"""One progress display for every long run (optimisers, ``nn.fit``, the examples).

With tqdm installed it is a tqdm bar whose postfix shows the numbers of the latest step
(loss, ‖g‖, error, …); without tqdm it prints one plain line every ``every`` steps and at
the last one. It lives in ``core`` (it imports nothing of chainrule) so that every layer
can use it.
"""

from __future__ import annotations

import sys
from typing import Any, TextIO

__all__ = ["ProgressBar"]


def _format(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


class ProgressBar:
    """A progress display over ``total`` steps.

    Args:
        desc: the label at the left of the bar and of each printed line.
        total: the number of steps (``None`` when unknown).
        every: without tqdm, print a line every this many steps (and at ``total``).
        unit: what one step is called on the bar ("it", "step", "epoch", …).
        enabled: ``False`` shows nothing (so callers need no ``if``).
        stream: where the bar and the lines go (default: ``sys.stdout`` at the time of
            writing).
        leave: keep the finished tqdm bar on the screen.
        use_tqdm: ``False`` prints the plain lines even where tqdm is installed (logs).

    >>> bar = ProgressBar("fit", total=4, every=2, use_tqdm=False)
    >>> for k in range(4):
    ...     bar.update(loss=1.0 / (k + 1))
    fit 2/4: loss 0.5
    fit 4/4: loss 0.25
    >>> bar.close("done")
    fit: done
    """

    def __init__(self, desc: str, total: int | None, every: int = 10, unit: str = "it",
                 enabled: bool = True, stream: TextIO | None = None,
                 leave: bool = True, use_tqdm: bool = True) -> None:
        self.desc = desc
        self.total = total
        self.every = max(1, int(every))
        self.enabled = enabled
        self.stream = stream
        self.count = 0
        self.bar = None
        if enabled and use_tqdm:
            try:
                from tqdm.auto import tqdm
            except ImportError:  # optional: pip install chainrule[progress]
                tqdm = None
            if tqdm is not None:
                self.bar = tqdm(total=total, desc=desc, unit=unit, leave=leave,
                                file=self._file())

    def _file(self) -> TextIO:
        return self.stream if self.stream is not None else sys.stdout

    def update(self, steps: int = 1, **values: Any) -> None:
        """Advance by ``steps`` (0: only show new numbers) and show ``values``.

        Args:
            steps: how many steps were completed.
            **values: the numbers to show, by name (floats print with 6 digits).
        """
        if not self.enabled:
            return
        before = self.count
        self.count += steps
        text = ", ".join(f"{name} {_format(v)}" for name, v in values.items())
        if self.bar is not None:
            if values:
                self.bar.set_postfix_str(text, refresh=False)
            self.bar.update(steps)
        elif steps > 0 and (self.count // self.every > before // self.every
                            or self.count == self.total):
            of = f"/{self.total}" if self.total is not None else ""
            print(f"{self.desc} {self.count}{of}: {text}", file=self._file(), flush=True)

    def close(self, message: str | None = None) -> None:
        """Finish the display, then print ``message`` (if any) on a line of its own."""
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        if message is not None:
            print(f"{self.desc}: {message}", file=self._file(), flush=True)
