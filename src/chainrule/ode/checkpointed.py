"""The direct gradient with binomial checkpointing: the accepted steps between two steps
that hold output times are one :func:`chainrule.revolve.revolve_scan` each (at most ``c``
stored states), the steps holding outputs are taped as usual."""

from __future__ import annotations

from typing import Any

from chainrule.core.pytree import tree_flatten, tree_unflatten
from chainrule.numpy import _namespace as cnp
from chainrule.revolve import revolve_scan

__all__ = ["replay_checkpointed"]


def replay_checkpointed(solver: Any, mesh: Any, y0: Any, ts: Any, args: tuple) -> Any:
    """The outputs over the mesh, as ``solver.replay`` computes them, with each run of
    steps between output steps checkpointed (``solver.checkpoints`` states at most)."""
    leaves, treedef = tree_flatten(args)
    consts = [ts] + list(leaves)
    wanted: dict = {}
    for j, (k, theta) in enumerate(mesh.outputs[1:], start=1):
        wanted.setdefault(k, []).append((j, theta))
    outputs = [y0]
    y, start = y0, 0
    for k_out in sorted(k for k in wanted if k >= 0):
        run = mesh.steps[start:k_out]
        if run:
            y = _checkpointed_run(solver, run, consts, treedef, y)
        step, rhs = solver.step_at(mesh, k_out, y, None, ts, args)
        for j, theta in wanted[k_out]:
            outputs.append(solver.output(step, rhs, mesh, j, theta, ts))
        y, start = step.y1, k_out + 1
    for _ in mesh.outputs[len(outputs):]:
        outputs.append(y0)
    return cnp.stack(outputs)


def _checkpointed_run(solver, run: list, consts: list, treedef, y: Any) -> Any:
    """Steps ``run`` (all of one interval of ts) from ``y`` through revolve."""
    ja, jb = run[0][0], run[0][1]
    groups = [run]
    if any(s[0] != ja or s[1] != jb for s in run):  # fixed-step meshes: one per interval
        groups, current = [], []
        for s in run:
            if current and (s[0], s[1]) != (current[0][0], current[0][1]):
                groups.append(current)
                current = []
            current.append(s)
        groups.append(current)
    for group in groups:
        a, b = group[0][0], group[0][1]

        def step(cs, carry, x, a=a, b=b):
            ts, args = cs[0], tree_unflatten(treedef, list(cs[1:]))
            width = ts[b] - ts[a]
            rhs = lambda t, v: solver.flat_func(t, v, args)  # noqa: E731
            out = solver.method.step(rhs, ts[a] + x[0] * width, carry[0], x[1] * width)
            return [out.y1], []

        xs = [[float(s[2]), float(s[3])] for s in group]
        carry, _ = revolve_scan(step, consts, [y], xs, len(group), solver.checkpoints)
        y = carry[0]
    return y
