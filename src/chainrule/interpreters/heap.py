"""Freed NumPy buffers stay in the process heap between calls of a derivative (glibc).

A reverse sweep frees, at its end, the residuals and adjoints it made: megabytes for an MLP
step. glibc's ``malloc`` hands memory at the top of its heap back to the system as soon as
more than ``trim_threshold`` bytes there are free (128 KiB at the start), so the next call
grows the heap again and faults every page of it in anew: ~620 page faults, a third of the
time, of each W5 MLP loss + gradient call (``benchmarks/run.py``), in every process that
has not yet freed a large block.

glibc adapts on its own (``mallopt(3)``, "dynamic mmap threshold"): when a block it had
served by ``mmap`` (one above ``mmap_threshold``) is freed, ``mmap_threshold`` rises to that
block's size and ``trim_threshold`` to twice it. :func:`keep_freed_buffers` lets that happen
once, at the first transformation, by allocating and freeing an untouched block of
:data:`PRIMER_BYTES` (no page of it is ever faulted in): afterwards arrays up to that size
come from the heap, and up to twice it of freed memory is kept there for the next call.
It is what any process that once frees a 16 MiB array has; a user's own settings win
(``GLIBC_TUNABLES``, ``MALLOC_TRIM_THRESHOLD_`` as Dask's ``LocalCluster`` sets it,
``mallopt``: they switch the adaptation off), and other C libraries
are left as they are (the block is allocated and freed, nothing more).
"""

from __future__ import annotations

import numpy as np

__all__ = ["PRIMER_BYTES", "keep_freed_buffers"]

#: the block whose freeing raises glibc's thresholds (at most its 32 MiB maximum)
PRIMER_BYTES = 16 * 2**20

primed = False  # keep_freed_buffers() has run in this process


def keep_freed_buffers() -> None:
    """Raise glibc's mmap threshold to :data:`PRIMER_BYTES` (and its trim threshold to
    twice that) the way glibc itself does: by freeing one mmap-served block of that size.
    Runs once per process; later calls return at once.

    >>> from chainrule.interpreters import heap
    >>> heap.keep_freed_buffers(); heap.primed
    True
    """
    global primed
    if not primed:
        primed = True
        np.empty(PRIMER_BYTES, np.uint8)  # served by mmap, freed unread: no page faulted in
