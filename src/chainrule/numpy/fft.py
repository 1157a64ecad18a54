"""chainrule.numpy.fft: discrete Fourier transforms (``numpy.fft``'s names).

Each transform is linear, so it is declared once by :func:`_linear_op` with its
transpose: the JVP applies the transform to the tangent, the VJP applies the
transpose to the cotangent, for JAX's pairing ⟨a, b⟩ = Re Σ a·b with no conjugation
(see :mod:`chainrule.numpy._elementwise`). The DFT matrix is symmetric, so the
transpose of fftn/ifftn is the same transform with the same normalisation. For ``rfft``
(real → half spectrum) and ``irfft`` (half spectrum → real) the transpose is
conj ∘ (the Hermitian adjoint) ∘ conj, the adjoints weighting the bins that stand for
two conjugate frequencies by 2 (or ½).

Supported: fft, ifft, fftn, ifftn, fft2, ifft2 (``n``/``s`` = None), rfft and irfft
along one axis, fftshift and ifftshift (gathers), fftfreq / rfftfreq (constants).
"""

from __future__ import annotations

import numpy as np

from chainrule.core.primitive import Primitive, Reads, dtype_of, shape_of
from chainrule.numpy import _assembly as asm
from chainrule.numpy._elementwise import _real_ct, conj_p, real_p

__all__ = ["fft", "ifft", "fftn", "ifftn", "fft2", "ifft2", "rfft", "irfft", "fftshift",
           "ifftshift", "fftfreq", "rfftfreq"]

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
        linear=True, reads=Reads(()), doc=doc,
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
    return {None: 1.0, "backward": 1.0, "ortho": 1 / np.sqrt(n), "forward": 1.0 / n}[norm]


def _half_weights(n: int, m: int, kind: str, shape, axis):
    w = np.ones(m)
    inner = slice(1, m - 1) if n % 2 == 0 else slice(1, m)
    w[inner] = 2.0 if kind == "double" else 0.5
    shp = [1] * len(shape)
    shp[axis] = m
    return w.reshape(shp)


def _rfft_adjoint(g, x, axis, norm):
    n = shape_of(x)[axis]
    m = shape_of(g)[axis]
    d = _half_weights(n, m, "half", shape_of(g), axis)
    return irfft_p(g * d, n=n, axis=axis, norm="backward") * (n * _scale(norm, n))


def _irfft_adjoint(g, z, n, axis, norm):
    inv_scale = {None: 1.0 / n, "backward": 1.0 / n, "ortho": 1 / np.sqrt(n), "forward": 1.0}
    m = shape_of(z)[axis]
    c = _half_weights(n, m, "double", shape_of(z), axis)
    return rfft_p(g, axis=axis, norm="backward") * c * inv_scale[norm]


rfft_p = Primitive(
    "rfft", lambda x, axis, norm: np.fft.rfft(x, axis=axis, norm=norm),
    jvps=(lambda t, y, x, axis, norm: rfft_p(t, axis=axis, norm=norm),),
    vjps=(lambda g, y, x, axis, norm: _rfft_adjoint(conj_p(g), x, axis, norm),),
    linear=True, reads=Reads(()),
    doc="half spectrum of a real signal; x̄ = n·irfft(conj ȳ with the two-sided bins halved)",
)
irfft_p = Primitive(
    "irfft", lambda z, n, axis, norm: np.fft.irfft(z, n=n, axis=axis, norm=norm),
    jvps=(lambda t, y, z, n, axis, norm: irfft_p(t, n=n, axis=axis, norm=norm),),
    vjps=(lambda g, y, z, n, axis, norm: conj_p(_irfft_adjoint(_real_ct(g), z, n, axis, norm)),),
    linear=True, reads=Reads(()),
    doc="real signal from a half spectrum; z̄ = conj(rfft(Re ȳ))·(1, 2, ..., 2, 1)/n",
)


def _axes(x, axes):
    nd = len(shape_of(x))
    if axes is None:
        return tuple(range(nd))
    return tuple(int(a) % nd for a in axes)


def _no_n(n, name):
    if n is not None:
        raise NotImplementedError(f"chainrule.numpy.fft.{name}: n/s other than None "
                                  "(padding or truncation) is not supported")


def fft(a, n=None, axis=-1, norm=None):
    _no_n(n, "fft")
    return fftn_p(a, axes=_axes(a, (axis,)), norm=norm)


def ifft(a, n=None, axis=-1, norm=None):
    _no_n(n, "ifft")
    return ifftn_p(a, axes=_axes(a, (axis,)), norm=norm)


def fftn(a, s=None, axes=None, norm=None):
    _no_n(s, "fftn")
    return fftn_p(a, axes=_axes(a, axes), norm=norm)


def ifftn(a, s=None, axes=None, norm=None):
    _no_n(s, "ifftn")
    return ifftn_p(a, axes=_axes(a, axes), norm=norm)


def fft2(a, s=None, axes=(-2, -1), norm=None):
    return fftn(a, s, axes, norm)


def ifft2(a, s=None, axes=(-2, -1), norm=None):
    return ifftn(a, s, axes, norm)


def rfft(a, n=None, axis=-1, norm=None):
    _no_n(n, "rfft")
    return rfft_p(a, axis=_axes(a, (axis,))[0], norm=norm)


def irfft(a, n=None, axis=-1, norm=None):
    ax = _axes(a, (axis,))[0]
    n = 2 * (shape_of(a)[ax] - 1) if n is None else int(n)
    if n // 2 + 1 != shape_of(a)[ax]:
        raise NotImplementedError("chainrule.numpy.fft.irfft: n must be 2(m-1) or 2(m-1)+1 "
                                  "for a half spectrum of length m")
    return irfft_p(a, n=n, axis=ax, norm=norm)


def fftshift(x, axes=None):
    nd = len(shape_of(x))
    axes = tuple(range(nd)) if axes is None else tuple(np.atleast_1d(axes))
    return asm.roll(x, [shape_of(x)[a] // 2 for a in axes], axes)


def ifftshift(x, axes=None):
    nd = len(shape_of(x))
    axes = tuple(range(nd)) if axes is None else tuple(np.atleast_1d(axes))
    return asm.roll(x, [-(shape_of(x)[a] // 2) for a in axes], axes)
