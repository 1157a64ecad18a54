r"""The Allen–Cahn equation, solved by Fourier pseudo-spectral ETDRK4.

The problem (Raissi, Perdikaris & Karniadakis 2019, §4.2):

.. math::

    u_t = \varepsilon u_{xx} + 5u - 5u^3,\quad x \in [-1, 1)\ \text{periodic},\quad
    u(0, x) = x^2 \cos(\pi x),\quad \varepsilon = 10^{-4}.

In Fourier space (wavenumbers :math:`k_m = \pi m` on the period 2) the equation splits
into a diagonal linear part :math:`L_m = 5 - \varepsilon k_m^2` and the pointwise
nonlinearity :math:`N(u) = -5u^3`, evaluated on the grid and transformed back.
Exponential time differencing with the fourth-order Runge–Kutta stages of Cox &
Matthews (2002) integrates the linear part exactly:

.. math::

    a &= e^{Lh/2} v + Q N(v),\quad b = e^{Lh/2} v + Q N(a),\quad
    c = e^{Lh/2} a + Q (2N(b) - N(v)),\\
    v_{n+1} &= e^{Lh} v + f_1 N(v) + 2 f_2 (N(a) + N(b)) + f_3 N(c),

with :math:`Q = h\,\varphi(Lh/2)/2`-type coefficients

.. math::

    Q = h\frac{e^{z/2}-1}{z},\
    f_1 = h\frac{-4 - z + e^z(4 - 3z + z^2)}{z^3},\
    f_2 = h\frac{2 + z + e^z(z - 2)}{z^3},\
    f_3 = h\frac{-4 - 3z - z^2 + e^z(4 - z)}{z^3},\quad z = Lh,

which cancel catastrophically for small :math:`z`; Kassam & Trefethen (2005) evaluate
them as the mean of the same expressions over points on a circle of radius 1 around
:math:`z` in the complex plane (Cauchy's integral formula), which is accurate for
every :math:`z`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["AllenCahn", "etdrk4_coefficients", "reference_solution"]


def etdrk4_coefficients(z: np.ndarray, h: float, contour_points: int = 64) -> tuple:
    """The ETDRK4 coefficients ``(E, E2, Q, f1, f2, f3)`` for ``z = L·h``.

    Args:
        z: the linear operator's eigenvalues times the step (real array).
        h: the step.
        contour_points: points on the circle of radius 1 around each ``z`` whose mean
            replaces the cancelling closed forms (Kassam & Trefethen).

    Returns:
        ``exp(z)``, ``exp(z/2)`` and the four coefficient arrays, real.

    >>> E, E2, Q, f1, f2, f3 = etdrk4_coefficients(np.array([0.0, -1e-8, -2.0]), 1.0)
    >>> bool(np.allclose(f1, [1 / 6, 1 / 6, f1[2]]) and np.allclose(Q[:2], 0.5))
    True
    """
    z = np.asarray(z, dtype=float)
    r = np.exp(1j * np.pi * (np.arange(1, contour_points + 1) - 0.5) / contour_points)
    zr = z[..., None] + r
    ez = np.exp(zr)
    q = h * np.mean((np.exp(zr / 2) - 1) / zr, axis=-1).real
    f1 = h * np.mean((-4 - zr + ez * (4 - 3 * zr + zr**2)) / zr**3, axis=-1).real
    f2 = h * np.mean((2 + zr + ez * (zr - 2)) / zr**3, axis=-1).real
    f3 = h * np.mean((-4 - 3 * zr - zr**2 + ez * (4 - zr)) / zr**3, axis=-1).real
    return np.exp(z), np.exp(z / 2), q, f1, f2, f3


@dataclass(frozen=True)
class AllenCahn:
    """The equation ``u_t = eps·u_xx + a·u − a·u³`` on the periodic interval [−1, 1).

    Attributes:
        eps: the diffusion coefficient (1e-4 in the benchmark problem).
        a: the reaction coefficient (5).
    """

    eps: float = 1e-4
    a: float = 5.0

    @staticmethod
    def grid(n: int = 512) -> np.ndarray:
        """The periodic grid ``x_j = −1 + 2j/n``, j = 0 … n−1 (512 points: step 1/256)."""
        return -1.0 + 2.0 * np.arange(n) / n

    @staticmethod
    def initial(x: np.ndarray) -> np.ndarray:
        """``u(0, x) = x² cos(πx)``."""
        return x**2 * np.cos(np.pi * x)

    def residual(self, u, u_t, u_xx):
        """``u_t − eps·u_xx + a·u³ − a·u`` (zero on a solution); works on any arrays."""
        return u_t - self.eps * u_xx + self.a * u**3 - self.a * u

    def solve(self, times, n: int = 512, dt: float = 1e-3, u0=None) -> np.ndarray:
        """The solution on the grid of ``n`` points at each of ``times``.

        Args:
            times: increasing output times ≥ 0 (each a multiple of ``dt`` up to rounding).
            n: number of grid points (even).
            dt: the ETDRK4 step.
            u0: initial values on the grid (default ``x² cos(πx)``).

        Returns:
            Array of shape ``(len(times), n)``.

        Raises:
            ValueError: for times that are not increasing multiples of ``dt``.
        """
        times = np.atleast_1d(np.asarray(times, dtype=float))
        steps = np.rint(times / dt).astype(int)
        if np.any(np.abs(steps * dt - times) > 1e-9 * max(1.0, times.max())) or np.any(
            np.diff(steps) < 0
        ) or steps[0] < 0:
            raise ValueError(
                f"times must be increasing non-negative multiples of dt={dt}; got {times!r}. "
                "Pick dt dividing the output spacing."
            )
        if n % 2:
            raise ValueError(f"n must be even for the real FFT grid; got n={n}")
        x = self.grid(n)
        u = self.initial(x) if u0 is None else np.asarray(u0, dtype=float)
        k = np.pi * np.arange(n // 2 + 1)  # period 2: k_m = 2π m / 2
        lin = self.a - self.eps * k**2
        E, E2, Q, f1, f2, f3 = etdrk4_coefficients(lin * dt, dt)
        a = self.a

        def nonlinear(v):
            w = np.fft.irfft(v, n)
            return np.fft.rfft(-a * w**3)

        v = np.fft.rfft(u)
        out = np.empty((len(times), n))
        done = 0
        for i, target in enumerate(steps):
            while done < target:
                Nv = nonlinear(v)
                va = E2 * v + Q * Nv
                Na = nonlinear(va)
                vb = E2 * v + Q * Na
                Nb = nonlinear(vb)
                vc = E2 * va + Q * (2 * Nb - Nv)
                Nc = nonlinear(vc)
                v = E * v + Nv * f1 + 2 * (Na + Nb) * f2 + Nc * f3
                done += 1
            out[i] = np.fft.irfft(v, n)
        return out


def reference_solution(times=None, n: int = 512, dt: float = 2.5e-4) -> tuple:
    """``(x, t, u)``: the benchmark Allen–Cahn solution on the 512-point grid.

    Args:
        times: output times (default the 201 times 0, 0.005, …, 1).
        n: grid points.
        dt: ETDRK4 step (the default changes the result by ~1e-12 relative to dt/4).

    Returns:
        ``x`` (n,), ``t`` (len(times),) and ``u`` (len(times), n).

    >>> x, t, u = reference_solution([0.0, 0.1], n=64, dt=1e-3)
    >>> u.shape, bool(np.allclose(u[0], x**2 * np.cos(np.pi * x)))
    ((2, 64), True)
    """
    t = np.linspace(0.0, 1.0, 201) if times is None else np.asarray(times, dtype=float)
    eq = AllenCahn()
    return eq.grid(n), t, eq.solve(t, n=n, dt=dt)
