"""Least squares by gradient descent against the normal equations (the lecture's
"autodiff in PyTorch" example, in chainrule).

f(x) = ½‖y - A x‖² with A of shape 500 × 100 (standard normal), y = A x_true + noise.
Its gradient is ∇f(x) = -Aᵀ(y - A x) (checked here against reverse-mode AD), its Hessian
AᵀA with eigenvalues in [μ, L], L = σ_max(A)². Gradient descent with the step 1/L
converges linearly: f(x_k) - f(x*) ≤ (1 - μ/L)^{2k} (f(x_0) - f(x*)), x* the
normal-equations solution AᵀA x* = Aᵀy. The figure shows the gap f(x_k) - f(x*), that
bound, and the lecture's own PyTorch loop (‖y - A x‖² with the fixed step 10⁻⁴, i.e. a
step 2·10⁻⁴ on f, about a fifth of 1/L here), which converges more slowly, and conjugate
gradients (``chainrule.optimize.minimize``), which needs fewer steps.
"""

from __future__ import annotations

from pathlib import Path

import numpy

import chainrule as cr
import chainrule.numpy as np
from chainrule.examples import ExampleResult, pyplot, save_figures
from chainrule.optimize import apply_updates, minimize, sgd

__all__ = ["run", "loss", "problem", "LECTURE_STEP"]

#: the step size of the lecture's PyTorch loop on ‖y - A x‖²
LECTURE_STEP = 1e-4


def loss(x, A, y):
    """f(x) = ½‖y - A x‖²."""
    r = y - A @ x
    return 0.5 * np.sum(r * r)


def problem(n: int = 500, p: int = 100, noise: float = 0.1, seed: int = 0):
    """(A, y, x_true): A ~ N(0, 1)^{n×p}, y = A x_true + noise·N(0, 1)."""
    rng = numpy.random.default_rng(seed)
    A = rng.standard_normal((n, p))
    x_true = rng.standard_normal(p)
    return A, A @ x_true + noise * rng.standard_normal(n), x_true


def run(out: str | Path | None = None, quick: bool = False, seed: int = 0,
        progress: bool = False, steps: int | None = None, n: int = 500,
        p: int = 100) -> ExampleResult:
    """Gradient descent with step 1/L on ½‖y - A x‖² from x = 0, against the normal equations.

    Args:
        out: directory for the figures.
        quick: fewer steps (for tests and the tour).
        seed: seed of A, x_true and the noise.
        progress: print the gap every tenth of the steps.
        steps: gradient steps (default 120, quick 80).
        n, p: the shape of A.

    Returns:
        The result; ``numbers`` has ``relative_error`` ‖x_k - x*‖/‖x*‖, ``gap`` f(x_k) -
        f(x*), ``L``, ``mu``, ``condition`` L/μ, ``gradient_error`` (max |AD - (-Aᵀ(y -
        Ax))| at a random x), ``rate_measured`` / ``rate_bound`` (per-step contraction
        of the gap), ``lecture_step_gap`` (the gap after as many steps of the lecture's
        loop), ``cg_iterations`` and ``cg_relative_error``.
    """
    steps = steps if steps is not None else (80 if quick else 120)
    A, y, _ = problem(n, p, seed=seed)
    x_star = numpy.linalg.solve(A.T @ A, A.T @ y)  # the normal equations
    f_star = float(loss(x_star, A, y))
    eigs = numpy.linalg.eigvalsh(A.T @ A)
    mu, L = float(eigs[0]), float(eigs[-1])
    grad = cr.grad(loss)
    x_test = numpy.random.default_rng(seed + 1).standard_normal(p)
    by_hand = -A.T @ (y - A @ x_test)
    gradient_error = float(numpy.max(numpy.abs(grad(x_test, A, y) - by_hand)))
    x = numpy.zeros(p)
    opt = sgd(1.0 / L)
    state = opt.init(x)
    gaps = [float(loss(x, A, y)) - f_star]
    for k in range(steps):
        updates, state = opt.update(grad(x, A, y), state, x)
        x = apply_updates(x, updates)
        gaps.append(float(loss(x, A, y)) - f_star)
        if progress and (k + 1) % max(1, steps // 10) == 0:
            print(f"step {k + 1}/{steps}: f - f* = {gaps[-1]:.3e}", flush=True)
    # the lecture's PyTorch loop: f₂(x) = ‖y - A x‖² (= 2f) with the fixed step 1e-4
    x2 = numpy.zeros(p)
    lecture_opt = sgd(LECTURE_STEP)
    lecture_state = lecture_opt.init(x2)
    grad2 = cr.grad(lambda x, A, y: 2.0 * loss(x, A, y))
    lecture_gaps = [gaps[0]]
    for _ in range(steps):
        updates, lecture_state = lecture_opt.update(grad2(x2, A, y), lecture_state, x2)
        x2 = apply_updates(x2, updates)
        lecture_gaps.append(float(loss(x2, A, y)) - f_star)
    # conjugate gradients through chainrule.optimize.minimize, for comparison
    cg_gaps = [gaps[0]]

    def record(intermediate_result):
        cg_gaps.append(float(intermediate_result.fun) - f_star)

    cg = minimize(loss, numpy.zeros(p), args=(A, y), method="cg", options={"gtol": 1e-10},
                  callback=record)
    cg_error = float(numpy.linalg.norm(cg.x - x_star) / numpy.linalg.norm(x_star))
    cg_gaps = numpy.maximum(numpy.array(cg_gaps), 0.0)
    gaps = numpy.maximum(numpy.array(gaps), 0.0)
    lecture_gaps = numpy.maximum(numpy.array(lecture_gaps), 0.0)
    rel = float(numpy.linalg.norm(x - x_star) / numpy.linalg.norm(x_star))
    positive = gaps[gaps > 1e-12 * gaps[0]]  # before rounding takes over
    rate = float((positive[-1] / positive[0]) ** (1.0 / (len(positive) - 1)))
    bound = (1.0 - mu / L) ** 2
    numbers = {"relative_error": rel, "gap": float(gaps[-1]), "f_star": f_star, "L": L,
               "mu": mu, "condition": L / mu, "steps": steps, "gradient_error": gradient_error,
               "rate_measured": rate, "rate_bound": bound, "shape": [n, p],
               "lecture_step": LECTURE_STEP, "lecture_step_gap": float(lecture_gaps[-1]),
               "initial_gap": float(gaps[0]), "cg_iterations": int(cg.nit),
               "cg_relative_error": cg_error}
    ok = rel < 1e-6 and gradient_error < 1e-9 * max(1.0, float(numpy.abs(by_hand).max())) \
        and rate <= bound * (1 + 1e-9)
    result = ExampleResult(
        "least_squares", numbers,
        f"‖x - x*‖/‖x*‖ = {rel:.1e} after {steps} steps of 1/L (κ = {L / mu:.1f}); "
        f"gap shrinks {rate:.3f}/step (bound {bound:.3f}); AD gradient = -Aᵀ(y - Ax) to "
        f"{gradient_error:.1e}", ok)
    plt = pyplot()
    if plt is not None:
        ks = numpy.arange(len(gaps))
        fig, ax = plt.subplots(figsize=(7, 4.2))
        ax.semilogy(ks, numpy.where(gaps > 0, gaps, numpy.nan),
                    label=r"step $1/L$: $f(x_k) - f(x^*)$")
        ax.semilogy(ks, numpy.where(lecture_gaps > 0, lecture_gaps, numpy.nan), color="C1",
                    label=r"the lecture's loop: $\|y - Ax\|^2$, fixed step $10^{-4}$")
        ax.semilogy(numpy.arange(len(cg_gaps)), numpy.where(cg_gaps > 0, cg_gaps, numpy.nan),
                    color="C2", label="conjugate gradients (minimize, method='cg')")
        ax.semilogy(ks, gaps[0] * bound**ks, "--", color="gray",
                    label=r"bound $(1 - \mu/L)^{2k}\,(f(x_0) - f(x^*))$")
        ax.set(xlabel="step k", ylabel="gap to the normal-equations optimum",
               title=f"least squares {n}×{p}: gradient descent with step 1/L")
        ax.set_ylim(max(1e-13 * gaps[0], 1e-16), gaps[0] * 3)
        ax.legend()
        ax.grid(True, which="both", alpha=0.3)
        fig.tight_layout()
        result.figures = {"convergence": fig}
    return save_figures(result, out)
