"""Freed sweep buffers stay in the heap: no page faults per call of a derivative (glibc)."""

import os
import platform
import subprocess
import sys

import pytest

SRC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src")

# 40 residual arrays of 94 KiB (below glibc's first mmap threshold, so on the heap) are
# alive at the end of the forward pass and freed by the sweep: 3.8 MB at the heap's top
PROGRAM = """
import resource, sys, numpy
import chainrule as cr, chainrule.numpy as np
from chainrule.interpreters import heap
heap.primed = {plain}  # True: the plain heap, glibc's thresholds as the process has them
def f(x):
    for _ in range(40):
        x = np.sin(x) * 1.5
    return np.sum(x)
g = cr.grad(f)
x = numpy.linspace(0.0, 1.0, 12000)
for _ in range(3):
    g(x)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(100):
    out = g(x)
print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 100)
print(*out[::997].tolist())
"""


def run(plain: bool) -> tuple[float, list[str]]:
    # the default environment: no glibc malloc settings (Dask's LocalCluster, started by
    # other tests, leaves MALLOC_TRIM_THRESHOLD_ in os.environ; settings win over priming)
    env = {k: v for k, v in os.environ.items()
           if k != "GLIBC_TUNABLES" and not k.startswith("MALLOC_")}
    env["PYTHONPATH"] = SRC
    out = subprocess.run([sys.executable, "-c", PROGRAM.format(plain=plain)], env=env,
                         capture_output=True, text=True, check=True, timeout=120).stdout
    faults, numbers = out.strip().splitlines()
    return float(faults), numbers.split()


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's heap trimming")
def test_gradient_calls_fault_no_pages_in_and_agree_with_the_plain_heap():
    faults, numbers = run(plain=False)
    plain_faults, plain_numbers = run(plain=True)
    # the plain heap is trimmed after (nearly) every call: ~480-950 pages faulted in again
    assert plain_faults > 200
    assert faults < 5
    assert numbers == plain_numbers  # the same gradient, digit for digit
