"""Two-operand einsum: chainrule.numpy.einsum (value, and value + gradient) against
NumPy's einsum without and with ``optimize=True`` (BLAS), as ratios within one run.

chainrule hands a two-operand contraction to BLAS above 32³ multiply-adds
(``chainrule/numpy/_contract.py``), traced or not; below, NumPy's own loop is faster than
the planning. The last column is chainrule's time over the better of NumPy's two.

Run: PYTHONPATH=src python benchmarks/einsum_bench.py
"""

from __future__ import annotations

import timeit
from functools import partial

import numpy as np

import chainrule as cr
import chainrule.numpy as cnp

CASES = [("ij,jk->ik", (8, 8), (8, 8)), ("ij,jk->ik", (32, 32), (32, 32)),
         ("ij,jk->ik", (128, 128), (128, 128)), ("bij,bjk->bik", (16, 64, 64), (16, 64, 64)),
         ("ijk,kl->ijl", (3, 4, 5), (5, 6))]


def _summed_einsum(spec, a, b):
    return cnp.sum(cnp.einsum(spec, a, b))


def _best(fn) -> float:
    fn()
    n = max(1, int(0.02 / max(timeit.timeit(fn, number=1), 1e-7)))
    return min(timeit.repeat(fn, number=n, repeat=5)) / n


def main() -> None:
    rng = np.random.default_rng(0)
    print("| einsum | shapes | numpy | numpy optimize | chainrule | chainrule/numpy best "
          "| grad (chainrule) |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for spec, sa, sb in CASES:
        a, b = rng.standard_normal(sa), rng.standard_normal(sb)
        plain = _best(partial(np.einsum, spec, a, b))
        blas = _best(partial(np.einsum, spec, a, b, optimize=True))
        ours = _best(partial(cnp.einsum, spec, a, b))
        loss = partial(_summed_einsum, spec)
        grad = _best(partial(cr.grad(loss, argnums=(0, 1)), a, b))
        print(f"| {spec} | {sa} {sb} | {plain * 1e6:.1f} µs | {blas * 1e6:.1f} µs | "
              f"{ours * 1e6:.1f} µs | {ours / min(plain, blas):.2f} | {grad * 1e6:.1f} µs |")


if __name__ == "__main__":
    main()
