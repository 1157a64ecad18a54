"""The primitive families the Dask and CuPy tests differentiate, on small inputs."""

import numpy as onp

import chainrule.numpy as np

rng = onp.random.default_rng(0)
A = rng.normal(size=(6, 4))
B = rng.normal(size=(4, 5))
V = rng.normal(size=4)
P = rng.uniform(0.5, 2.0, size=(6, 4))  # a tangent direction (and a positive weight)

FAMILIES = {
    "elementwise": lambda x: np.sum(np.sin(x) * np.exp(x / 3) + np.tanh(x) ** 2
                                    - np.log(1 + x ** 2) + np.sqrt(x * x + 1)),
    "elementwise-binary": lambda x: np.sum(np.maximum(x, 0.1) * np.abs(x)
                                           + np.minimum(x, -0.2) / P + np.logaddexp(x, 0.3)),
    "reductions": lambda x: (np.sum(x, axis=0) @ np.mean(x, axis=0) + np.max(x)
                             + np.prod(x[:2, :2]) + np.var(x) + np.sum(np.std(x, axis=1))
                             + np.linalg.norm(x) + np.sum(np.min(x, axis=1) ** 2)),
    "matmul": lambda x: np.sum((x @ B) ** 2) + np.sum(x.T @ x) + np.sum(np.dot(x, V) ** 3),
    "einsum": lambda x: np.sum(np.einsum("ij,jk->ik", x, B) ** 2)
    + np.einsum("ij,ij->", x, x) + np.sum(np.tensordot(x, B, axes=1) * 0.5),
    "indexing": lambda x: (np.sum(x[1:4, ::2] ** 2) + x[0, 1] * x[2, 3] + np.sum(x[:, 2] ** 3)
                           + np.sum(x[onp.array([0, 2, 2])] ** 2)
                           + np.sum(x[onp.array([0, 1, 1]), onp.array([2, 3, 3])] ** 2)
                           + np.sum(x[A > 0.5] ** 2) + np.sum(x[None, ..., -1])),
    "concatenate-stack": lambda x: (np.sum(np.concatenate([x, x ** 2], axis=0) ** 2)
                                    + np.sum(np.stack([x, 2 * x], axis=1) ** 3)
                                    + np.sum(np.hstack([x, np.sin(x)]) * 0.3)),
    "where": lambda x: np.sum(np.where(x > 0, x ** 2, -x) + np.where(A > 0, np.exp(x), 1.0)),
    "structural": lambda x: (np.sum(np.reshape(x, (3, 8)) ** 3) + np.sum(np.transpose(x) ** 2)
                             + np.sum(np.cumsum(x, axis=0) ** 2) + np.sum(np.flip(x, 1) * P)
                             + np.sum(np.diff(x, axis=0) ** 2)),
    "conversions": lambda x: (np.sum(np.asarray(x).astype(np.float64) * x)
                              + np.sum(np.einsum("ij,j->i", x, V) ** 2)),
    "logistic": lambda x: np.mean(np.logaddexp(0.0, x @ V) - (x @ V) * (A[:, 0] > 0)),
}
