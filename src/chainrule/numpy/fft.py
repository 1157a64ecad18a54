"""chainrule.numpy.fft: discrete Fourier transforms (``numpy.fft``'s names).

Each transform is linear, so it is declared once by :func:`_linear_op` with its
transpose: the JVP applies the transform to the tangent, the VJP applies the
transpose to the cotangent, for JAX's pairing ⟨a, b⟩ = Re Σ a·b with no conjugation
(see :mod:`chainrule.numpy._elementwise`). The DFT matrix is symmetric, so the
transpose of fftn/ifftn is the same transform with the same normalisation. For ``rfft``
(real → half spectrum) and ``irfft`` (half spectrum → real) the transpose is
conj ∘ (the Hermitian adjoint) ∘ conj, the adjoints weighting the bins that stand for
two conjugate frequencies by 2 (or ½).

Supported: fft, ifft, fftn, ifftn, fft2, ifft2, rfft, irfft, rfftn, irfftn, rfft2, irfft2
with NumPy's ``n``/``s`` (cropping or zero padding first: slices and concatenations),
fftshift and ifftshift (gathers), fftfreq / rfftfreq (constants). The n-dimensional real
transforms are NumPy's compositions: rfft along the last axis then fft along the rest,
and the reverse for irfftn.
"""

from __future__ import annotations

import numpy as np

from chainrule.core.primitive import Primitive, Reads, dtype_of, shape_of
from chainrule.numpy import _assembly as asm
from chainrule.numpy import _namespace as ns
from chainrule.numpy._elementwise import _real_ct, conj_p, real_p

__all__ = ["fft", "ifft", "fftn", "ifftn", "fft2", "ifft2", "rfft", "irfft", "rfftn",
           "irfftn", "rfft2", "irfft2", "fftshift", "ifftshift", "fftfreq", "rfftfreq"]

fftfreq = np.fft.fftfreq
rfftfreq = np.fft.rfftfreq


def _real_for_real(ct, x):
    """A real input's cotangent is the real part (the imaginary part is not a direction)."""
    return ct if dtype_of(x).kind == "c" else real_p(ct)


def _linear_op(name: str, impl, adjoint, doc: str) -> Primitive:
    """A linear primitive: JVP = the op on the tangent, VJP = ``adjoint`` on the cotangent."""
    prim = Primitive(
        name, impl,
        jvps=(lambda t, y, x, **p: prim(t, **p),),
        vjps=(lambda g, y, x, **p: _real_for_real(adjoint(g, x, **p), x),),
        linear=True, reads=Reads(()), doc=doc, batch="axis_param",
    )
    return prim


fftn_p = _linear_op(
    "fftn", lambda x, axes, norm: np.fft.fftn(x, axes=axes, norm=norm),
    lambda g, x, axes, norm: fftn_p(g, axes=axes, norm=norm),
    "y = F x over axes; x̄ = Fᵀ ȳ = F ȳ (the DFT matrix is symmetric)")
ifftn_p = _linear_op(
    "ifftn", lambda x, axes, norm: np.fft.ifftn(x, axes=axes, norm=norm),
    lambda g, x, axes, norm: ifftn_p(g, axes=axes, norm=norm),
    "y = F⁻¹ x over axes; x̄ = (F⁻¹)ᵀ ȳ = F⁻¹ ȳ")


def _scale(norm, n):
    return {None: 1.0, "backward": 1.0, "ortho": 1 / float(np.sqrt(n)), "forward": 1.0 / n}[norm]


def _half_weights(n: int, m: int, kind: str, shape, axis, like):
    """The weights of the two-sided bins, in ``like``'s real precision (no promotion)."""
    w = np.ones(m, dtype=np.finfo(dtype_of(like)).dtype)
    inner = slice(1, m - 1) if n % 2 == 0 else slice(1, m)
    w[inner] = 2.0 if kind == "double" else 0.5
    shp = [1] * len(shape)
    shp[axis] = m
    return w.reshape(shp)


def _rfft_adjoint(g, x, axis, norm):
    n = shape_of(x)[axis]
    m = shape_of(g)[axis]
    d = _half_weights(n, m, "half", shape_of(g), axis, g)
    return irfft_p(g * d, n=n, axis=axis, norm="backward") * (n * _scale(norm, n))


def _irfft_adjoint(g, z, n, axis, norm):
    inv_scale = {None: 1.0 / n, "backward": 1.0 / n, "ortho": 1 / float(np.sqrt(n)), "forward": 1.0}
    m = shape_of(z)[axis]
    c = _half_weights(n, m, "double", shape_of(z), axis, g)
    return rfft_p(g, axis=axis, norm="backward") * c * inv_scale[norm]


rfft_p = Primitive(
    "rfft", lambda x, axis, norm: np.fft.rfft(x, axis=axis, norm=norm),
    jvps=(lambda t, y, x, axis, norm: rfft_p(t, axis=axis, norm=norm),),
    vjps=(lambda g, y, x, axis, norm: _rfft_adjoint(conj_p(g), x, axis, norm),),
    linear=True, reads=Reads(()),
    doc="half spectrum of a real signal; x̄ = n·irfft(conj ȳ with the two-sided bins halved)",
    batch="axis_param",
)
irfft_p = Primitive(
    "irfft", lambda z, n, axis, norm: np.fft.irfft(z, n=n, axis=axis, norm=norm),
    jvps=(lambda t, y, z, n, axis, norm: irfft_p(t, n=n, axis=axis, norm=norm),),
    vjps=(lambda g, y, z, n, axis, norm: conj_p(_irfft_adjoint(_real_ct(g), z, n, axis, norm)),),
    linear=True, reads=Reads(()),
    doc="real signal from a half spectrum; z̄ = conj(rfft(Re ȳ))·(1, 2, ..., 2, 1)/n",
    batch="axis_param",
)


def _axes(x, axes):
    nd = len(shape_of(x))
    if axes is None:
        return tuple(range(nd))
    return tuple(int(a) % nd for a in axes)


def _cook(a, s, axes, invreal=False):
    """NumPy's (s, axes): the last len(s) axes when only ``s`` is given, the input's
    lengths when only ``axes`` is; for the inverse real transforms the last default
    length is 2(m - 1)."""
    if axes is None and s is not None:
        nd = len(shape_of(a))
        axes = range(nd - len(s), nd)
    axes = _axes(a, axes)
    if s is None:
        s = [shape_of(a)[ax] for ax in axes]
        if invreal and axes:
            s[-1] = 2 * (s[-1] - 1)
    s = tuple(int(k) for k in s)
    if len(s) != len(axes):
        raise ValueError(f"chainrule.numpy.fft: s {s} and axes {axes} differ in length")
    return s, axes


def _fix_length(x, n, axis):
    """``x`` cropped or zero-padded to length ``n`` along ``axis`` (NumPy's ``n``/``s``):
    a slice or a concatenation, so its derivatives are those of indexing."""
    shp = shape_of(x)
    m = shp[axis]
    if n < 1:
        raise ValueError(f"chainrule.numpy.fft: invalid number of data points ({n}) specified")
    if n == m:
        return x
    if n < m:
        return ns.getitem(x, (slice(None),) * axis + (slice(0, n),))
    pad = np.zeros(shp[:axis] + (n - m,) + shp[axis + 1:], dtype=dtype_of(x))
    return ns.concatenate([x, pad], axis=axis)


def fft(a, n=None, axis=-1, norm=None):
    return fftn(a, None if n is None else (n,), (axis,), norm)


def ifft(a, n=None, axis=-1, norm=None):
    return ifftn(a, None if n is None else (n,), (axis,), norm)


def fftn(a, s=None, axes=None, norm=None):
    s, axes = _cook(a, s, axes)
    for k, ax in zip(s, axes):
        a = _fix_length(a, k, ax)
    return fftn_p(a, axes=axes, norm=norm)


def ifftn(a, s=None, axes=None, norm=None):
    s, axes = _cook(a, s, axes)
    for k, ax in zip(s, axes):
        a = _fix_length(a, k, ax)
    return ifftn_p(a, axes=axes, norm=norm)


def fft2(a, s=None, axes=(-2, -1), norm=None):
    return fftn(a, s, axes, norm)


def ifft2(a, s=None, axes=(-2, -1), norm=None):
    return ifftn(a, s, axes, norm)


def rfft(a, n=None, axis=-1, norm=None):
    ax = _axes(a, (axis,))[0]
    if n is not None:
        a = _fix_length(a, int(n), ax)
    return rfft_p(a, axis=ax, norm=norm)


def irfft(a, n=None, axis=-1, norm=None):
    ax = _axes(a, (axis,))[0]
    n = 2 * (shape_of(a)[ax] - 1) if n is None else int(n)
    return irfft_p(_fix_length(a, n // 2 + 1, ax), n=n, axis=ax, norm=norm)


def rfftn(a, s=None, axes=None, norm=None):
    """rfft along the last of ``axes``, then fft along the others (as NumPy)."""
    s, axes = _cook(a, s, axes)
    a = rfft(a, s[-1], axes[-1], norm)
    return fftn(a, s[:-1], axes[:-1], norm) if len(axes) > 1 else a


def irfftn(a, s=None, axes=None, norm=None):
    """ifft along all but the last of ``axes``, then irfft along the last (as NumPy)."""
    s, axes = _cook(a, s, axes, invreal=True)
    if len(axes) > 1:
        a = ifftn(a, s[:-1], axes[:-1], norm)
    return irfft(a, s[-1], axes[-1], norm)


def rfft2(a, s=None, axes=(-2, -1), norm=None):
    return rfftn(a, s, axes, norm)


def irfft2(a, s=None, axes=(-2, -1), norm=None):
    return irfftn(a, s, axes, norm)


def fftshift(x, axes=None):
    nd = len(shape_of(x))
    axes = tuple(range(nd)) if axes is None else tuple(np.atleast_1d(axes))
    return asm.roll(x, [shape_of(x)[a] // 2 for a in axes], axes)


def ifftshift(x, axes=None):
    nd = len(shape_of(x))
    axes = tuple(range(nd)) if axes is None else tuple(np.atleast_1d(axes))
    return asm.roll(x, [-(shape_of(x)[a] // 2) for a in axes], axes)
