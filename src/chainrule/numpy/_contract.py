"""Tensor contractions: ``einsum`` (one primitive) and the products built on it.

``einsum`` is multilinear, so its JVP in operand i is the same contraction with
operand i replaced by its tangent, and its VJP in operand i is a contraction of
the cotangent with the other operands onto operand i's subscripts:

    Y[out] = Σ Π_k A_k[s_k]   ⇒   Ā_i[s_i] = Σ Ȳ[out] Π_{k≠i} A_k[s_k].

Subscripts are normalised once (ellipses expanded to letters, implicit output
made explicit). Two details make the VJP exact for any subscripts: a letter of
s_i that occurs nowhere else was summed over, so its cotangent is constant
along it (broadcast); a letter repeated in s_i (a diagonal, ``'ii->'``) gets the
cotangent on that diagonal and exact zeros elsewhere (a scatter). Size-1 axes
that einsum broadcast against larger ones are summed back.

tensordot, inner, outer, vdot, kron, cross, N-D dot, convolve and correlate are composites.
"""

from __future__ import annotations

import functools
import math
import string

import numpy as np

from chainrule.core.backends import is_foreign
from chainrule.core.primitive import ArgRules, Primitive, Tracer, dtype_of, shape_of
from chainrule.numpy import _elementwise as ew
from chainrule.numpy import _namespace as ns
from chainrule.numpy._indexing import Index, getitem_p
from chainrule.numpy._linalg import matmul
from chainrule.numpy._structural import broadcast_to_p, reshape_p, sum_p
from chainrule.numpy._ufuncs import conj

__all__ = ["einsum", "tensordot", "inner", "outer", "vdot", "kron", "cross", "dot", "convolve",
           "correlate"]

_LETTERS = string.ascii_letters


@functools.lru_cache(maxsize=256)
def _normalize(subscripts: str, shapes: tuple) -> tuple[tuple[str, ...], str]:
    """(input subscripts, output subscripts) without ellipses, output explicit (cached:
    a loop calls einsum with the same subscripts and shapes again and again)."""
    subscripts = subscripts.replace(" ", "")
    if "->" in subscripts:
        ins, out = subscripts.split("->")
        explicit = True
    else:
        ins, out, explicit = subscripts, "", False
    ins = ins.split(",")
    if len(ins) != len(shapes):
        raise ValueError(f"einsum: {len(ins)} operand subscripts for {len(shapes)} operands")
    used = set("".join(ins) + out) - {"."}
    free = [c for c in _LETTERS if c not in used]
    ell_n = 0
    for s, shp in zip(ins, shapes):
        if "..." in s:
            ell_n = max(ell_n, len(shp) - (len(s) - 3))
    ell = "".join(free[:ell_n])
    new_ins = []
    for s, shp in zip(ins, shapes):
        if "..." in s:
            k = len(shp) - (len(s) - 3)
            s = s.replace("...", ell[ell_n - k:] if k else "")
        if len(s) != len(shp):
            raise ValueError(f"einsum: subscripts {s!r} do not match an operand of shape {shp}")
        new_ins.append(s)
    if explicit:
        out = out.replace("...", ell)
    else:
        counts = {}
        for c in "".join(new_ins):
            counts[c] = counts.get(c, 0) + 1
        out = ell + "".join(sorted(c for c in counts if counts[c] == 1 and c not in ell))
    return tuple(new_ins), out


def _spec(ins, out) -> str:
    return ",".join(ins) + "->" + out


#: below this many multiply-adds a two-operand einsum runs NumPy's own loop; above it,
#: ``optimize=True`` lets NumPy hand the contraction to BLAS (tensordot), which pays for
#: its planning (~10 µs) from about 32³ on
_BLAS_WORK = 32_768


def _einsum_impl(*operands, ins, out):
    optimize = len(operands) > 2
    if len(operands) == 2:
        sizes = {}
        for subscripts, operand in zip(ins, operands):
            sizes.update(zip(subscripts, np.shape(operand)))
        optimize = math.prod(sizes.values()) > _BLAS_WORK
    return np.einsum(_spec(ins, out), *operands, optimize=optimize)


def _einsum_jvp(i, t, y, *operands, ins, out):
    ops = list(operands)
    ops[i] = t
    return einsum_p(*ops, ins=ins, out=out)


def _einsum_vjp(i, g, y, *operands, ins, out):
    target = ins[i]
    shape = shape_of(operands[i])
    sizes = {}
    for s, op in zip(ins, operands):
        for c, d in zip(s, shape_of(op)):
            if d != 1 or c not in sizes:
                sizes[c] = d
    unique = "".join(dict.fromkeys(target))
    others = [(s, op) for k, (s, op) in enumerate(zip(ins, operands)) if k != i]
    available = set(out) | set("".join(s for s, _ in others))
    kept = "".join(c for c in unique if c in available)
    ct = einsum_p(g, *[op for _, op in others], ins=(out,) + tuple(s for s, _ in others),
                  out=kept)
    # letters summed out that appear only in operand i: broadcast along them
    if kept != unique:
        full = tuple(sizes[c] for c in unique)
        ct = reshape_p(ct, shape=tuple(sizes[c] if c in kept else 1 for c in unique))
        ct = broadcast_to_p(ct, shape=full)
    # repeated letters: the cotangent lives on the diagonal, exact zeros elsewhere
    if len(unique) != len(target):
        dims = tuple(sizes[c] for c in target)
        grid = np.indices(dims)
        first = [target.index(c) for c in unique]
        idx = tuple(grid[p] for p in first)
        mask = np.ones(dims, dtype=bool)
        for p, c in enumerate(target):
            mask &= grid[p] == grid[target.index(c)]
        ct = ew.where_p(mask, getitem_p(ct, index=Index(idx)), 0.0)
    # size-1 axes of operand i that einsum broadcast
    if shape_of(ct) != shape:
        axes = tuple(p for p, (a, b) in enumerate(zip(shape, shape_of(ct))) if a == 1 and b != 1)
        ct = sum_p(ct, axis=axes, keepdims=True)
    return ew.real_for(ct, operands[i])


einsum_p = Primitive(
    "einsum",
    _einsum_impl,
    jvps=ArgRules(_einsum_jvp),
    vjps=ArgRules(_einsum_vjp),
    doc="Y[out] = Σ Π_k A_k[s_k]; Ā_i = the contraction of Ȳ with the other operands onto s_i",
    batch="einsum",
)


_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _interleaved(*args):
    """einsum(a, [0, 1], b, [1, 2], [0, 2]) as ("ab,bc->ac", (a, b))."""
    def letters(sub):
        return "".join("..." if s is Ellipsis else _LETTERS[s] for s in sub)
    pairs = len(args) // 2
    ops = [args[2 * i] for i in range(pairs)]
    subs = [letters(args[2 * i + 1]) for i in range(pairs)]
    spec = ",".join(subs)
    if len(args) % 2:
        spec += "->" + letters(args[-1])
    return spec, tuple(ops)


def einsum(subscripts, *operands, optimize=None, out=None, dtype=None, casting="safe"):
    """``numpy.einsum`` with string subscripts (any, including ellipses and diagonals)."""
    ns._no_out(out, "einsum")
    if not isinstance(subscripts, str):
        subscripts, operands = _interleaved(subscripts, *operands)
    ins, o = _normalize(subscripts, tuple(tuple(shape_of(op)) for op in operands))
    if not any(isinstance(op, Tracer) for op in operands):
        operands = [op if is_foreign(op) else np.asarray(op) for op in operands]
        if optimize is not None:  # the caller's choice, as in NumPy
            return np.einsum(_spec(ins, o), *operands, optimize=optimize)
        return _einsum_impl(*operands, ins=ins, out=o)
    return einsum_p(*operands, ins=ins, out=o)


def tensordot(a, b, axes=2):
    """Σ over ``axes`` of a ⊗ b (numpy.tensordot), as an einsum."""
    na, nb = len(shape_of(a)), len(shape_of(b))
    if isinstance(axes, (int, np.integer)):
        ax_a = list(range(na - int(axes), na))
        ax_b = list(range(int(axes)))
    else:
        ax_a, ax_b = axes
        ax_a = [int(x) % na for x in np.atleast_1d(ax_a)]
        ax_b = [int(x) % nb for x in np.atleast_1d(ax_b)]
    sa = list(_LETTERS[:na])
    sb = list(_LETTERS[na:na + nb])
    for x, y in zip(ax_a, ax_b):
        sb[y] = sa[x]
    out = [c for k, c in enumerate(sa) if k not in ax_a] + \
          [c for k, c in enumerate(sb) if k not in ax_b]
    return einsum("".join(sa) + "," + "".join(sb) + "->" + "".join(out), a, b)


def _scalar(x) -> bool:
    return len(shape_of(x)) == 0


def dot(a, b, out=None):
    """numpy.dot: scalar product, matrix product, or Σ over a's last and b's second-to-last axis."""
    ns._no_out(out, "dot")
    if _scalar(a) or _scalar(b):
        return ew.multiply(a, b)
    nb = len(shape_of(b))
    return tensordot(a, b, axes=([-1], [max(nb - 2, 0)]))


def inner(a, b):
    """Σ over the last axes of a and b."""
    if _scalar(a) or _scalar(b):
        return ew.multiply(a, b)
    return tensordot(a, b, axes=([-1], [-1]))


def outer(a, b, out=None):
    ns._no_out(out, "outer")
    return ns.reshape(a, (-1, 1)) * ns.reshape(b, (1, -1))


def vdot(a, b):
    """Σ conj(a)·b over the flattened arrays: one dot product of the two vectors (BLAS,
    no product temporary: ‖g‖² of W5's 784×256 gradient without a 1.6 MB g²)."""
    fa = ns.ravel(a)
    return matmul(conj(fa) if dtype_of(a).kind == "c" else fa, ns.ravel(b))


def kron(a, b):
    """Kronecker product: blocks a[i, j]·b."""
    na, nb = len(shape_of(a)), len(shape_of(b))
    n = max(na, nb)
    sa = (1,) * (n - na) + shape_of(a)
    sb = (1,) * (n - nb) + shape_of(b)
    a2 = ns.reshape(a, tuple(d for s in sa for d in (s, 1)))
    b2 = ns.reshape(b, tuple(d for s in sb for d in (1, s)))
    return ns.reshape(a2 * b2, tuple(x * y for x, y in zip(sa, sb)))


def cross(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """Cross product of 3-vectors along the last axis (2-vectors padded with a zero z)."""
    if axis is not None:
        axisa = axisb = axisc = axis
    a = ns.moveaxis(a, axisa, -1)
    b = ns.moveaxis(b, axisb, -1)

    def comp(v, k):
        if shape_of(v)[-1] == 2 and k == 2:
            return 0.0 * ns.getitem(v, (Ellipsis, 0))
        return ns.getitem(v, (Ellipsis, k))

    a0, a1, a2 = (comp(a, k) for k in range(3))
    b0, b1, b2 = (comp(b, k) for k in range(3))
    if shape_of(a)[-1] == 2 and shape_of(b)[-1] == 2:
        return a0 * b1 - a1 * b0
    c = ns.stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], axis=-1)
    return ns.moveaxis(c, -1, axisc)


def convolve(a, v, mode="full"):
    """Discrete linear convolution of two 1-D sequences, (a ∗ v)[i] = Σ_j a[j]·v[i - j].

    Written as a gather of windows of the zero-padded longer sequence contracted with the
    reversed shorter one, so it is bilinear in (a, v) and differentiates in both. ``mode``
    is NumPy's: ``full`` (length n + m - 1), ``same`` (max(n, m)), ``valid`` (max - min + 1).
    """
    a = a if isinstance(a, Tracer) else np.asarray(a)
    v = v if isinstance(v, Tracer) else np.asarray(v)
    if len(shape_of(a)) != 1 or len(shape_of(v)) != 1:
        raise ValueError(f"convolve: a and v must be 1-D, got shapes {shape_of(a)} and "
                         f"{shape_of(v)}")
    n, m = shape_of(a)[0], shape_of(v)[0]
    if n == 0 or m == 0:
        raise ValueError("convolve: a and v cannot be empty")
    if m > n:  # convolution is commutative; windows run over the longer sequence
        a, v, n, m = v, a, m, n
    if m > 1:
        zeros = np.zeros(m - 1, dtype=np.result_type(dtype_of(a), dtype_of(v)))
        a = ns.concatenate([zeros, a, zeros])
    windows = getitem_p(a, index=Index((np.arange(n + m - 1)[:, None] + np.arange(m),)))
    full = einsum("ik,k->i", windows, ns.getitem(v, slice(None, None, -1)))
    if mode == "full":
        return full
    if mode == "same":
        start = (m - 1) // 2
        return ns.getitem(full, slice(start, start + n))
    if mode == "valid":
        return ns.getitem(full, slice(m - 1, n))
    raise ValueError(f"convolve: mode must be 'full', 'same' or 'valid', got {mode!r}")


def correlate(a, v, mode="valid"):
    """Cross-correlation of two 1-D sequences, c[k] = Σ_n a[n + k]·conj(v[n]) (NumPy's)."""
    a = a if isinstance(a, Tracer) else np.asarray(a)
    v = v if isinstance(v, Tracer) else np.asarray(v)
    if shape_of(v)[0] > shape_of(a)[0]:  # NumPy: the reversed correlation, reversed
        return ns.getitem(correlate(conj(v), conj(a), mode), slice(None, None, -1))
    return convolve(a, ns.getitem(conj(v), slice(None, None, -1)), mode)
