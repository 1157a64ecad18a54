"""The table of primitive specs: every registered primitive has a row here.

A row says how to call the primitive (through its public function), on which
input domain and on which shapes. ``test_primitives`` checks every row's
derivatives against central differences, first and second order, forward and
reverse; rows of ``ZERO`` kind check that the derivative is exactly zero.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as onp

import chainrule.numpy as np
import chainrule.scipy.special as sps
from chainrule.numpy._indexing import Index, scatter_add_p

UNARY_SHAPES = [((),), ((4,),), ((2, 3),)]
BINARY_SHAPES = [((), ()), ((4,), (4,)), ((2, 3), (3,)), ((2, 1), (1, 3)), ((), (2, 3))]


@dataclass
class Spec:
    fn: Callable
    shapes: list
    domain: tuple = ("real",)  # per argument: real, positive, unit, away1
    kind: str = "smooth"  # smooth: check_grads to order 2; zero: derivative must vanish
    order: int = 2
    extra: dict = field(default_factory=dict)


def sample(domain: str, shape, rng):
    if domain == "real":
        x = rng.standard_normal(shape)
    elif domain == "positive":
        x = rng.uniform(0.5, 2.0, shape)
    elif domain == "unit":
        x = rng.uniform(-0.9, 0.9, shape)
    elif domain == "away1":  # sign-varying, magnitude in [0.5, 1.5]
        x = rng.uniform(0.5, 1.5, shape) * rng.choice([-1.0, 1.0], shape)
    elif domain == "above1":
        x = rng.uniform(1.5, 3.0, shape)
    elif domain == "complex":
        x = rng.standard_normal(shape) + 1j * rng.standard_normal(shape)
        return x if shape else complex(x)
    elif domain in ("complex_away1", "complex_right"):  # |z| in [0.5, 1.5] / Re z in [0.5, 2]
        if domain == "complex_away1":
            x = rng.uniform(0.5, 1.5, shape) * onp.exp(1j * rng.uniform(-3.0, 3.0, shape))
        else:
            x = rng.uniform(0.5, 2.0, shape) + 1j * rng.uniform(-1.0, 1.0, shape)
        return x if shape else complex(x)
    elif domain == "spd":  # symmetric positive definite matrices (shape (..., n, n))
        a = rng.standard_normal(shape)
        x = a @ onp.swapaxes(a, -1, -2) + shape[-1] * onp.eye(shape[-1])
    elif domain in ("hpd", "herm", "cwellcond"):  # complex: Hermitian PD / Hermitian / general
        x = rng.standard_normal(shape) + 1j * rng.standard_normal(shape)
        if domain == "hpd":
            x = x @ onp.conj(onp.swapaxes(x, -1, -2)) + shape[-1] * onp.eye(shape[-1])
        elif domain == "herm":
            x = x + onp.conj(onp.swapaxes(x, -1, -2))
        else:
            k = min(shape[-2:])
            x[..., onp.arange(k), onp.arange(k)] += 3.0
        return x
    elif domain == "wellcond":  # well-conditioned square or tall matrices
        x = rng.standard_normal(shape)
        k = min(shape[-2:])
        x[..., onp.arange(k), onp.arange(k)] += 3.0
    else:
        raise ValueError(domain)
    return x if shape else float(x)


U = UNARY_SHAPES
B = BINARY_SHAPES

SPECS: dict[str, Spec] = {
    # elementwise unary
    "neg": Spec(np.negative, U),
    "exp": Spec(np.exp, U),
    "log": Spec(np.log, U, ("positive",)),
    "sin": Spec(np.sin, U),
    "cos": Spec(np.cos, U),
    "tan": Spec(np.tan, U, ("unit",)),
    "tanh": Spec(np.tanh, U),
    "sinh": Spec(np.sinh, U),
    "cosh": Spec(np.cosh, U),
    "arctan": Spec(np.arctan, U),
    "log1p": Spec(np.log1p, U, ("positive",)),
    "expm1": Spec(np.expm1, U),
    "square": Spec(np.square, U),
    "sqrt": Spec(np.sqrt, U, ("positive",)),
    "abs": Spec(np.abs, U, ("away1",)),
    # elementwise binary, with broadcasting
    "add": Spec(np.add, B),
    "sub": Spec(np.subtract, B),
    "mul": Spec(np.multiply, B),
    "div": Spec(np.divide, B, ("real", "away1")),
    "pow": Spec(np.power, B, ("positive", "real")),
    "maximum": Spec(np.maximum, B),
    "minimum": Spec(np.minimum, B),
    "mod": Spec(np.mod, B, ("positive", "positive")),
    "where": Spec(lambda a, b: np.where(onp.arange(onp.size(a)).reshape(onp.shape(a)) % 2 == 0,
                                        a, b), [((4,), (4,)), ((2, 3), (3,)), ((2, 3), ())]),
    "clip": Spec(lambda x, lo, hi: np.clip(x, lo - 1.0, hi + 1.0) + np.clip(x, hi, lo),
                 [((5,), (), ()), ((2, 3), (3,), (2, 1))]),
    # reductions
    "sum": Spec(lambda x: np.sum(x, axis=-1) + np.sum(x, keepdims=True).sum(),
                [((2, 3),), ((4,),)]),
    "prod": Spec(lambda x: np.prod(x, axis=0), [((3, 2),), ((4,),)], ("away1",)),
    "max": Spec(lambda x: np.max(x, axis=1, keepdims=True) + np.max(x), [((2, 3),)]),
    "min": Spec(lambda x: np.min(x, axis=0) + np.min(x), [((2, 3),)]),
    # shapes
    "reshape": Spec(lambda x: np.reshape(x, (3, 2)) * np.reshape(x, (-1,))[:2], [((2, 3),)]),
    "broadcast_to": Spec(lambda x: np.broadcast_to(x, (2, 3)), [((3,),), ((2, 1),), ((),)]),
    "transpose": Spec(lambda x: np.transpose(x, (2, 0, 1)) * x.T.transpose((0, 2, 1)),
                      [((2, 3, 4),)]),
    "matmul": Spec(np.matmul, [((2, 3), (3, 4)), ((3,), (3, 2)), ((2, 3), (3,)), ((3,), (3,)),
                               ((2, 2, 3), (3, 2)), ((3,), (2, 3, 2))]),
    "getitem": Spec(lambda x: x[1:, [0, 0, 2]] * x[..., None][0, 1:, 0][None, :3]
                    + x[x[:, 0] > -10][1:, :1], [((3, 4),)]),
    "scatter_add": Spec(lambda g: scatter_add_p(g, index=Index(([0, 2, 0],)), shape=(4,)) * 1.5,
                        [((3,),)]),
    "concatenate": Spec(lambda a, b: np.concatenate([a, b, a], axis=-1), [((2, 3), (2, 1))]),
    # zero derivative
    "sign": Spec(np.sign, U, ("away1",), kind="zero"),
    "floor": Spec(np.floor, U, kind="zero"),
    "ceil": Spec(np.ceil, U, kind="zero"),
    "rint": Spec(np.rint, U, kind="zero"),
    "trunc": Spec(np.trunc, U, kind="zero"),
    "floor_divide": Spec(np.floor_divide, B, ("real", "away1"), kind="zero"),
    "stop_gradient": Spec(lambda x: x * 0 + __import__("chainrule").stop_gradient(x), U,
                          kind="zero"),
}

# comparisons and the numpy functions with no derivative: the result must carry none
for _name in ("greater", "greater_equal", "less", "less_equal", "equal", "not_equal",
              "logical_and", "logical_or", "logical_xor", "isclose", "heaviside"):
    SPECS[_name] = Spec(getattr(np, _name), B, kind="zero")
for _name in ("argmax", "argmin", "argsort", "round", "around", "isnan", "isinf", "isfinite",
              "logical_not", "signbit", "count_nonzero", "all", "any", "zeros_like",
              "ones_like"):
    SPECS[_name] = Spec(getattr(np, _name), U, kind="zero")
SPECS["nonzero"] = Spec(np.nonzero, U[1:], kind="zero")
SPECS["argwhere"] = Spec(np.argwhere, U[1:], kind="zero")
SPECS["empty_like"] = Spec(lambda x: np.empty_like(x).shape, U, kind="zero")
SPECS["full_like"] = Spec(lambda x: np.full_like(x, 2.0), U, kind="zero")
SPECS["sort"] = Spec(lambda x: np.sort(x, axis=-1) * onp.arange(1.0, 1.0 + onp.shape(x)[-1])
                    + np.sort(x, axis=0)[..., :1], [((4,),), ((2, 3),)])
SPECS["take_along_axis"] = Spec(
    lambda x: np.take_along_axis(x, onp.array([[0, 0, 2], [1, 2, 2]]), axis=1) ** 2,
    [((2, 3),)])
SPECS["put_along_axis_add"] = Spec(
    lambda g: __import__("chainrule.numpy._sorting", fromlist=["x"]).put_along_axis_add_p(
        g, onp.array([[0, 0], [2, 1]]), shape=(2, 3), axis=1) * 1.5, [((2, 2),)])
SPECS["searchsorted"] = Spec(lambda x: np.searchsorted(onp.arange(3.0), x), U, kind="zero")
SPECS["digitize"] = Spec(lambda x: np.digitize(x, onp.arange(3.0)), U, kind="zero")
SPECS["allclose"] = Spec(lambda x: np.allclose(x, x), U, kind="zero")
SPECS["array_equal"] = Spec(lambda x: np.array_equal(x, x), U, kind="zero")


# ---- issue 3: more elementwise ops, scans, contractions, linear algebra, FFT ----
SPECS.update({
    "exp2": Spec(np.exp2, U),
    "log2": Spec(np.log2, U, ("positive",)),
    "log10": Spec(np.log10, U, ("positive",)),
    "cbrt": Spec(np.cbrt, U, ("away1",)),
    "arcsin": Spec(np.arcsin, U, ("unit",)),
    "arccos": Spec(np.arccos, U, ("unit",)),
    "arcsinh": Spec(np.arcsinh, U),
    "arccosh": Spec(np.arccosh, U, ("above1",)),
    "arctanh": Spec(np.arctanh, U, ("unit",)),
    "sinc": Spec(np.sinc, U),
    "logaddexp": Spec(lambda a, b: np.logaddexp(a, b) * np.logaddexp(b, a + 0.5), B),
    "logaddexp2": Spec(lambda a, b: np.logaddexp2(a, b) * np.logaddexp2(b, a + 0.5), B),
    "astype": Spec(lambda x: np.sin((x * onp.ones(())).astype(onp.complex128)).real, U),
    "arctan2": Spec(np.arctan2, B, ("away1", "away1")),
    "real": Spec(lambda z: np.real(z) ** 2 + np.real(np.conj(z)), U, ("complex",)),
    "imag": Spec(lambda z: np.imag(z) * np.real(z) + np.imag(z), U, ("complex",)),
    "times_i": Spec(lambda z: np.imag(z) * 2.0, U, ("complex",)),
    "conj": Spec(lambda z: np.conj(z) * 2.0 + np.real(np.conj(z)) * np.imag(np.conj(z)), U,
                 ("complex",)),
    "cumsum": Spec(lambda x: np.cumsum(x, axis=0) * np.cumsum(x)[-1], [((4,),), ((2, 3),)]),
    "cumprod": Spec(lambda x: np.cumprod(x, axis=-1) + np.cumprod(x)[-1], [((4,),), ((2, 3),)],
                    ("away1",)),
    "einsum": Spec(lambda a, b: np.einsum("ij,jk->ik", a, b) + np.einsum("ii->i", a)[:, None]
                   + np.einsum("...j,kj", a, b.T) + np.einsum("ij->", a),
                   [((3, 3), (3, 3))]),
    "inv": Spec(np.linalg.inv, [((3, 3),), ((2, 3, 3),)], ("wellcond",)),
    "solve": Spec(np.linalg.solve, [((3, 3), (3,)), ((3, 3), (3, 2)), ((2, 3, 3), (2, 3, 2))],
                  ("wellcond", "real")),
    "det": Spec(np.linalg.det, [((3, 3),), ((2, 3, 3),)], ("wellcond",)),
    "slogdet_sign": Spec(lambda a: np.linalg.slogdet(a)[0], [((3, 3),), ((2, 3, 3),)],
                         kind="zero"),
    "logabsdet": Spec(lambda a: np.linalg.slogdet(a)[1], [((3, 3),), ((2, 3, 3),)],
                      ("wellcond",)),
    "cholesky": Spec(np.linalg.cholesky, [((3, 3),), ((2, 3, 3),)], ("spd",)),
    "eigvalsh": Spec(lambda a: np.linalg.eigh(a)[0], [((3, 3),)], ("spd",)),
    "eigh_vectors": Spec(lambda a: np.linalg.eigh(a)[1] ** 2, [((3, 3),)], ("spd",)),
    # general matrices: complex eigenvalues, and eigenvectors through a phase-free function
    "eig_values": Spec(np.linalg.eigvals, [((3, 3),), ((2, 3, 3),)]),
    "eig_vectors": Spec(lambda a: np.abs(np.linalg.eig(a)[1]) ** 2, [((3, 3),), ((2, 3, 3),)]),
    "qr_q": Spec(lambda a: np.linalg.qr(a)[0], [((3, 3),), ((4, 3),)], ("wellcond",)),
    "qr_r": Spec(lambda a: np.linalg.qr(a)[1], [((3, 3),), ((4, 3),)], ("wellcond",)),
    "svd_s": Spec(lambda a: np.linalg.svd(a, compute_uv=False), [((3, 3),), ((4, 3),)],
                  ("wellcond",)),
    "svd_u": Spec(lambda a: np.linalg.svd(a, full_matrices=False)[0] ** 2, [((3, 3),), ((4, 3),)],
                  ("wellcond",)),
    "svd_vh": Spec(lambda a: np.linalg.svd(a, full_matrices=False)[2] ** 2,
                   [((3, 3),), ((4, 3),)], ("wellcond",)),
    "norm2": Spec(lambda x: np.linalg.norm(x) + np.linalg.norm(x, axis=-1), [((4,),), ((2, 3),)]),
    "fftn": Spec(lambda x: np.fft.fft(x) + np.fft.fft2(x * x, norm="ortho"), [((2, 4),)]),
    "ifftn": Spec(lambda x: np.fft.ifft(x) + np.fft.ifftn(x, norm="forward"), [((2, 4),)],
                  ("complex",)),
    "rfft": Spec(lambda x: np.fft.rfft(x) + np.fft.rfft(x, norm="ortho") * 2,
                 [((4,),), ((5,),), ((2, 6),)]),
    "irfft": Spec(lambda z: np.concatenate([np.fft.irfft(z), np.fft.irfft(z, n=5, norm="ortho")]),
                  [((3,),)],
                  ("complex",)),
})

SPECS.update({
    "erf": Spec(sps.erf, U),
    "erfc": Spec(sps.erfc, U),
    "gammaln": Spec(sps.gammaln, U, ("positive",)),
    "gamma": Spec(sps.gamma, U, ("positive",)),
    "erfinv": Spec(sps.erfinv, U, ("unit",)),
    "erfcinv": Spec(lambda x: sps.erfcinv(x + 1.0), U, ("unit",)),
    "log_ndtr": Spec(sps.log_ndtr, U),
    "rgamma": Spec(sps.rgamma, U),
    "gammasgn": Spec(sps.gammasgn, U, ("positive",), kind="zero"),
    "gammainc": Spec(lambda x: sps.gammainc(2.5, x), U, ("positive",)),
    "gammaincc": Spec(lambda x: sps.gammaincc(0.7, x), U, ("positive",)),
    "betainc": Spec(lambda x: sps.betainc(2.0, 0.6, 0.25 * x), U, ("positive",)),
    "stdtr": Spec(lambda x: sps.stdtr(3.5, x), U),
    "gammaincinv": Spec(lambda p: sps.gammaincinv(1.7, 0.4 * p), U, ("positive",)),
    "gammainccinv": Spec(lambda q: sps.gammainccinv(0.8, 0.4 * q), U, ("positive",)),
    "betaincinv": Spec(lambda p: sps.betaincinv(2.0, 3.0, 0.4 * p), U, ("positive",)),
    "stdtrit": Spec(lambda p: sps.stdtrit(4.0, 0.4 * p), U, ("positive",)),
    "exp1": Spec(sps.exp1, U, ("positive",)),
    "expi": Spec(sps.expi, U, ("positive",)),
    "zeta": Spec(lambda q: sps.zeta(3.0, q), U, ("positive",)),
    "jv": Spec(lambda x: sps.jv(1.5, x), U, ("positive",)),
    "yv": Spec(lambda x: sps.yv(2.0, x), U, ("positive",)),
    "iv": Spec(lambda x: sps.iv(0.5, x), U, ("positive",)),
    "ive": Spec(lambda x: sps.ive(1.0, x), U, ("away1",)),
    "kv": Spec(lambda x: sps.kv(1.5, x), U, ("positive",)),
    "kve": Spec(lambda x: sps.kve(0.0, x), U, ("positive",)),
    "polygamma": Spec(lambda x: sps.digamma(x) + sps.polygamma(2, x), U, ("positive",)),
    "expit": Spec(sps.expit, U),
})


# ---- complex values, JAX's convention (chainrule.numpy._elementwise's docstring) ------------
# "<primitive>:<what>" -> Spec: the same check_grads (order 2, both modes) on complex inputs,
# and on real inputs meeting complex values (their cotangents must come back real).
MATMUL_SHAPES = [((2, 3), (3, 4)), ((3,), (3, 2)), ((2, 3), (3,)), ((3,), (3,))]
COMPLEX_SPECS: dict[str, Spec] = {
    "exp:complex": Spec(np.exp, U, ("complex",)),
    "sin:complex": Spec(np.sin, U, ("complex",)),
    "mul:complex": Spec(np.multiply, B, ("complex", "complex")),
    "mul:real*complex": Spec(np.multiply, B, ("real", "complex")),
    "div:complex": Spec(np.divide, B, ("complex", "complex_away1")),
    "div:real/complex": Spec(np.divide, B, ("real", "complex_away1")),
    "pow:complex": Spec(np.power, B, ("complex_right", "complex")),
    "pow:complex**real": Spec(np.power, B, ("complex_right", "real")),
    "abs:complex": Spec(lambda z: np.abs(z) * z, U, ("complex_away1",)),
    "real:complex": Spec(lambda z: np.real(z) * np.sin(z) + np.real(z * z), U, ("complex",)),
    "imag:complex": Spec(lambda z: np.imag(z) * z + np.imag(z * z) ** 2, U, ("complex",)),
    "conj:complex": Spec(lambda z: np.conj(z) * z + np.conj(z * z) ** 2, U, ("complex",)),
    "arctan2:angle": Spec(lambda z: np.angle(z) * z + np.angle(z * z), U, ("complex_away1",)),
    "matmul:complex": Spec(np.matmul, MATMUL_SHAPES, ("complex", "complex")),
    "matmul:real@complex": Spec(np.matmul, MATMUL_SHAPES, ("real", "complex")),
    "sum:complex": Spec(lambda z: np.sum(z * z, axis=-1) + np.sum(z), [((2, 3),), ((4,),)],
                        ("complex",)),
    "where:complex": Spec(lambda x, z: np.where(onp.arange(4) % 2 == 0, x, z) * z,
                          [((4,), (4,)), ((), (4,))], ("real", "complex")),
    "concatenate:real|complex": Spec(lambda x, z: np.concatenate([x, z]) ** 2,
                                     [((3,), (2,))], ("real", "complex")),
    "einsum:real,complex": Spec(lambda a, b: np.einsum("ij,jk->ik", a, b), [((2, 3), (3, 2))],
                                ("real", "complex")),
    "fftn:complex": Spec(lambda z: np.fft.fft(z * z) + np.fft.ifft(z, norm="ortho"), [((4,),)],
                         ("complex",)),
    "rfft:real": Spec(lambda x: np.fft.rfft(x) * (1 + 2j), [((4,),), ((5,),)]),
    "irfft:complex": Spec(lambda z: np.fft.irfft(z * z), [((3,),)], ("complex",)),
    "norm2:complex": Spec(lambda z: np.linalg.norm(z) * z
                          + np.linalg.norm(z, axis=-1, keepdims=True),
                          [((4,),), ((2, 3),)], ("complex_away1",)),
    # factorisations of complex matrices: gauge-invariant outputs only (the phases of
    # eigenvectors and singular vectors are arbitrary; Q, R are fixed by R's real diagonal)
    "cholesky:complex": Spec(np.linalg.cholesky, [((3, 3),), ((2, 3, 3),)], ("hpd",)),
    "eigvalsh:complex": Spec(lambda a: np.linalg.eigh(a)[0], [((3, 3),)], ("herm",)),
    "eig_values:complex": Spec(np.linalg.eigvals, [((3, 3),)], ("complex",)),
    "eig_vectors:complex": Spec(lambda a: np.abs(np.linalg.eig(a)[1]) ** 2, [((3, 3),)],
                                ("complex",)),
    "eigh_vectors:complex": Spec(lambda a: np.abs(np.linalg.eigh(a)[1]) ** 2, [((3, 3),)],
                                 ("herm",)),
    "qr_q:complex": Spec(lambda a: np.linalg.qr(a)[0], [((3, 3),), ((4, 3),)], ("cwellcond",)),
    "qr_r:complex": Spec(lambda a: np.linalg.qr(a)[1], [((3, 3),), ((4, 3),)], ("cwellcond",)),
    "svd_s:complex": Spec(lambda a: np.linalg.svd(a, compute_uv=False),
                          [((3, 3),), ((4, 3),), ((3, 4),)], ("cwellcond",)),
    "svd_u:complex": Spec(lambda a: np.abs(np.linalg.svd(a, full_matrices=False)[0]) ** 2,
                          [((3, 3),), ((4, 3),)], ("cwellcond",)),
    "svd_vh:complex": Spec(lambda a: np.abs(np.linalg.svd(a, full_matrices=False)[2]) ** 2,
                           [((3, 3),), ((3, 4),)], ("cwellcond",)),
    # real in, real out, complex in between
    "exp:real->complex->real": Spec(lambda x: np.abs(np.exp(1j * x) * (1 + 2j) + x) ** 2, U),
}


# structured control flow (chainrule.control): a staged body inside one equation
import chainrule as _cr  # noqa: E402


def _scan_row(x):
    carry, ys = _cr.scan(lambda c, xi: (np.sin(c) * xi + 0.5 * c, c * xi), x[0], x)
    return carry + np.sum(ys, axis=0)


SPECS["scan"] = Spec(_scan_row, [((3,),), ((3, 2),)])
SPECS["tuple_get"] = Spec(
    lambda x, y: _cr.fori_loop(0, 3, lambda i, c: (c[0] * np.cos(c[1]), c[1] + 0.1 * c[0] * i),
                               (x, y))[0], [((), ()), ((4,), (4,))])
SPECS["while_loop"] = Spec(
    lambda x: _cr.while_loop(lambda v: v[0] < 3, lambda v: (v[0] + 1, np.sin(v[1]) + v[1]),
                             (0, x))[1], U)
SPECS["cond"] = Spec(
    _cr.jit(lambda x: _cr.cond(np.sum(x) > 0, lambda v: np.sin(v) * v, lambda v: v * v * v, x)),
    U)

# chainrule.scipy.linalg
import chainrule.scipy.linalg as _csl  # noqa: E402

_BAND_SHIFT = onp.array([[0.0], [6.0], [0.0], [0.0]])  # (l, u) = (2, 1): row u is the diagonal
SPECS.update({
    "solve_triangular": Spec(
        lambda a, b: _csl.solve_triangular(a, b, lower=True)
        + _csl.solve_triangular(a, b, trans=1, unit_diagonal=True),
        [((3, 3), (3,)), ((3, 3), (3, 2)), ((2, 3, 3), (2, 3, 2))], ("wellcond", "real")),
    "solve_banded": Spec(
        lambda ab, b: _csl.solve_banded((2, 1), ab + _BAND_SHIFT.astype(ab.dtype), b),
        [((4, 5), (5,)), ((4, 5), (5, 2))]),
    "solve_sylvester": Spec(_csl.solve_sylvester, [((3, 3), (2, 2), (3, 2)),
                                                   ((2, 3, 3), (2, 2, 2), (2, 3, 2))],
                            ("wellcond", "wellcond", "real")),
    "sqrtm": Spec(_csl.sqrtm, [((3, 3),), ((2, 3, 3),)], ("spd",)),
    "expm": Spec(lambda a: _csl.expm(0.5 * a), [((3, 3),), ((2, 3, 3),)]),
})
# the rules' c·∂f with 0·∞ = 0: the identity in r (random points have no NaN to replace)
from chainrule.numpy._elementwise import zero_safe_p  # noqa: E402

SPECS["zero_safe"] = Spec(lambda c, r: zero_safe_p(c, r * r),
                          [((), ()), ((4,), (4,)), ((3,), (2, 3)), ((), (2, 3))])
# tanh's derivative rule c·(1 − y²) as one primitive
from chainrule.numpy._elementwise import tanh_tangent_p  # noqa: E402

SPECS["tanh_tangent"] = Spec(tanh_tangent_p, B)
SPECS["iscomplex"] = Spec(lambda x: np.iscomplex(x + 0j), U, kind="zero")
SPECS["isreal"] = Spec(lambda x: np.isreal(x + 1j * (x > 0)), U, kind="zero")
