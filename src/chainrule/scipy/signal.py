"""chainrule.scipy.signal: ``convolve``, N-dimensional and differentiable in both arguments.

A composite, no primitive of its own: the windowed operand is *gathered* into an array of
windows (one integer-array index, zeros outside the operand) and contracted with the other
operand by one ``einsum``. Both steps are linear primitives whose rules are written in
chainrule, so the convolution is bilinear and differentiates to any order, under
``vmap`` and ``jit`` too. Cost and memory: one gathered array of
(output size) × (kernel size) × (other axes) elements, no Python loop over positions.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from chainrule.core.primitive import dtype_of, shape_of
from chainrule.numpy import _namespace as ns
from chainrule.numpy._contract import einsum
from chainrule.numpy._indexing import Index, getitem_p

__all__ = ["convolve"]

_MODES = ("full", "valid", "same")
_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def convolve(in1: Any, in2: Any, mode: str = "full", axes: Any = None,
             dot_axes: Any = ((), ())) -> Any:
    """N-dimensional discrete convolution, ``scipy.signal.convolve`` generalised like autograd.

    Along each pair of convolved axes, ``y[n] = Σ_k in1[n - k]·in2[k]`` (terms outside
    either array are zero); pairs of ``dot_axes`` are summed over like ``numpy.tensordot``.
    The output axes are: in1's remaining axes, then in2's remaining axes, then one axis per
    convolved pair (in the order of ``axes``). Sizes of a convolved axis, for operand sizes
    n1 and n2: ``full`` n1 + n2 - 1; ``same`` n1, the centre of ``full`` (it starts at
    ``(n2 - 1) // 2``, as in SciPy); ``valid`` |n1 - n2| + 1, the positions where one operand
    covers the other (one operand must then be at least as large as the other along every
    convolved axis).

    With ``axes=None`` and no ``dot_axes`` this is ``scipy.signal.convolve(in1, in2, mode)``
    (in1 and in2 of equal ndim). With ``axes=None`` and ``dot_axes`` given, the axes that
    are not dot axes are convolved pairwise, in order.

    Args:
        in1, in2: arrays (traced or not).
        mode: ``"full"``, ``"valid"`` or ``"same"``.
        axes: ``(axes1, axes2)``: axes of in1 and of in2 convolved together, pairwise.
        dot_axes: ``(d1, d2)``: axes of in1 and of in2 summed over together, pairwise.

    Returns:
        The convolution, shaped (in1's other axes, in2's other axes, convolved axes).

    Example:
        >>> import numpy as np, chainrule as cr
        >>> from chainrule.scipy.signal import convolve
        >>> x, h = np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0, 0.5])
        >>> convolve(x, h)
        array([0. , 1. , 2.5, 4. , 1.5])
        >>> cr.grad(lambda h: convolve(x, h, "valid")[0])(h)  # ∂/∂h_k of Σ_k x[2 - k]·h[k]
        array([3., 2., 1.])
    """
    if mode not in _MODES:
        raise ValueError(f"convolve: mode must be one of {_MODES}, got {mode!r}")
    in1, in2 = ns.asarray(in1), ns.asarray(in2)
    s1, s2 = shape_of(in1), shape_of(in2)
    conv1, conv2, dot1, dot2 = _parse_axes(s1, s2, axes, dot_axes)
    n1 = [s1[i] for i in conv1]
    n2 = [s2[j] for j in conv2]
    if 0 in n1 or 0 in n2:
        raise ValueError(f"convolve: in1 and in2 cannot be empty along a convolved axis, got "
                         f"shapes {s1} and {s2}")
    if mode == "valid" and not (all(a >= b for a, b in zip(n1, n2))
                                or all(b >= a for a, b in zip(n1, n2))):
        raise ValueError(
            f"convolve: for mode 'valid' one operand must be at least as large as the other "
            f"along every convolved axis; got sizes {n1} (in1) and {n2} (in2). Use mode "
            "'full' or 'same', or crop one operand")
    # the output range along each convolved axis, as (start, length) within 'full'
    if mode == "full":
        ranges = [(0, a + b - 1) for a, b in zip(n1, n2)]
    elif mode == "same":
        ranges = [((b - 1) // 2, a) for a, b in zip(n1, n2)]
    else:
        ranges = [(min(a, b) - 1, abs(a - b) + 1) for a, b in zip(n1, n2)]
    # window the operand whose gathered array is smaller; contract it with the other
    out_size = int(np.prod([length for _, length in ranges]))
    rest1 = [i for i in range(len(s1)) if i not in conv1]
    rest2 = [j for j in range(len(s2)) if j not in conv2]
    cost1 = int(np.prod([s1[i] for i in rest1])) * out_size * int(np.prod(n2))
    cost2 = int(np.prod([s2[j] for j in rest2])) * out_size * int(np.prod(n1))
    # einsum letters: one per axis of in1 and of in2 (dot pairs share), one per output axis
    sub1 = list(_LETTERS[:len(s1)])
    sub2 = list(_LETTERS[len(s1):len(s1) + len(s2)])
    for i, j in zip(dot1, dot2):
        sub2[j] = sub1[i]
    free = _LETTERS[len(s1) + len(s2):]
    outs = list(free[:len(conv1)])
    result = ("".join(sub1[i] for i in rest1 if i not in dot1)
              + "".join(sub2[j] for j in rest2 if j not in dot2) + "".join(outs))
    # windows of one operand, the other as the kernel: its convolved letters index the taps
    signal, kernel = (in1, conv1, sub1, rest1), (in2, conv2, sub2, n2)
    if cost1 > cost2:
        signal, kernel = (in2, conv2, sub2, rest2), (in1, conv1, sub1, n1)
    x, conv, sub, rest = signal
    k, kconv, ksub, taps = kernel
    spec = ("".join(sub[i] for i in rest) + "".join(outs)
            + "".join(ksub[j] for j in kconv))
    return einsum(f"{spec},{''.join(ksub)}->{result}", _windows(x, conv, ranges, taps), k)


def _windows(x, conv: Sequence[int], ranges, taps: Sequence[int]):
    """W[..., n_1..n_c, k_1..k_c] = x[..., start_1 + n_1 - k_1, ...] (zero outside x).

    x's other axes come first, in order; along each convolved axis n runs over the output
    range (start, length) and k over the taps of the other operand.
    """
    shape = shape_of(x)
    c = len(conv)
    positions = np.moveaxis(np.arange(int(np.prod(shape))).reshape(shape), conv,
                            range(len(shape) - c, len(shape)))
    index, inside = [], np.ones((1,) * 2 * c, dtype=bool)
    for p, ((start, length), k, m) in enumerate(zip(ranges, taps, [shape[a] for a in conv])):
        src = start + np.arange(length)[:, None] - np.arange(k)[None, :]
        grid = [1] * (2 * c)
        grid[p], grid[c + p] = length, k
        index.append(np.clip(src, 0, m - 1).reshape(grid))
        inside = inside & ((src >= 0) & (src < m)).reshape(grid)
    positions = positions[(Ellipsis, *index)] if c else positions
    flat = ns.ravel(x)
    if not inside.all():  # zero padding: out-of-range taps read one appended zero
        positions = np.where(inside, positions, int(np.prod(shape)))
        flat = ns.concatenate([flat, np.zeros(1, dtype=dtype_of(x))])
    return getitem_p(flat, index=Index((positions,)))


def _parse_axes(s1, s2, axes, dot_axes):
    """Normalised (conv1, conv2, dot1, dot2), checked against the shapes s1 and s2."""
    d1, d2 = _axis_pair(dot_axes, "dot_axes", s1, s2)
    if axes is None:
        c1 = [i for i in range(len(s1)) if i not in d1]
        c2 = [j for j in range(len(s2)) if j not in d2]
        if len(c1) != len(c2):
            raise ValueError(
                f"convolve: in1 and in2 must have the same number of dimensions to be "
                f"convolved along every axis, got shapes {s1} and {s2}; reshape one of them, "
                "or pass axes=(axes of in1, axes of in2)")
    else:
        c1, c2 = _axis_pair(axes, "axes", s1, s2)
        if len(c1) != len(c2):
            raise ValueError(f"convolve: axes must pair axes of in1 with axes of in2, got "
                             f"{len(c1)} and {len(c2)} axes in {axes!r}")
    if len(d1) != len(d2):
        raise ValueError(f"convolve: dot_axes must pair axes of in1 with axes of in2, got "
                         f"{len(d1)} and {len(d2)} axes in {dot_axes!r}")
    for name, c, d in (("in1", c1, d1), ("in2", c2, d2)):
        if set(c) & set(d):
            raise ValueError(f"convolve: axes {sorted(set(c) & set(d))} of {name} are both "
                             "convolved and summed over; an axis can be in axes or in "
                             "dot_axes, not both")
    for i, j in zip(d1, d2):
        if s1[i] != s2[j]:
            raise ValueError(f"convolve: dot axes {i} of in1 (size {s1[i]}) and {j} of in2 "
                             f"(size {s2[j]}) must have equal sizes")
    return c1, c2, d1, d2


def _axis_pair(pair, name: str, s1, s2) -> tuple[list, list]:
    """``pair`` = (axes of in1, axes of in2), as two lists of axes in range."""
    try:
        a1, a2 = ([int(a) for a in ax] for ax in pair)
    except (TypeError, ValueError):
        raise ValueError(f"convolve: {name} must be a pair (axes of in1, axes of in2) of "
                         f"integer sequences, got {pair!r}") from None
    return _normalized(a1, len(s1), f"{name}[0]"), _normalized(a2, len(s2), f"{name}[1]")


def _normalized(ax: list, ndim: int, name: str) -> list:
    out = []
    for a in ax:
        if not -ndim <= a < ndim:
            raise ValueError(f"convolve: {name} holds axis {a}, out of range for an operand "
                             f"with {ndim} dimensions")
        out.append(a % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"convolve: {name} repeats an axis: {ax}")
    return out
