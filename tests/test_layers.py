"""Imports run one way: the layers of ``ARCHITECTURE.md``, enforced on the source.

A small walk over the syntax trees of ``src/chainrule`` (no import is executed, no
new dependency). Every module belongs to a *unit*: its first name under
``chainrule`` (``chainrule.numpy._indexing`` is in ``numpy``, ``chainrule.jit`` is
``jit``, the package's own ``__init__`` is ``chainrule``). A module may import
modules of its own unit and of units of *lower rank* in :data:`RANK`; two units of
equal rank (``interpreters`` and ``numpy``) may not import each other.

The known exceptions are listed in :data:`UPWARD` and :data:`LOCAL`. Both lists are
exact: the test fails when a new violation appears *and* when a listed one has been
fixed (then delete its line), so they can only shrink.
"""

from __future__ import annotations

import ast
import collections
import functools
import pathlib

SRC = pathlib.Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "chainrule"

#: unit -> rank. The bands, bottom up (ARCHITECTURE.md draws the same picture):
RANK = {
    # the kernel: primitives, tracers, traces, pytrees, backends
    "core": 0,
    # beside the kernel, importing nothing above it: the IR and finite differences
    "ir": 1, "numeric": 1,
    # interpreters (forward, reverse, batching, staging) and the NumPy namespace, each
    # on core alone and neither importing the other
    "interpreters": 2, "numpy": 2,
    # binds reverse mode's flat operators to numpy's primitives (above both, see its doc)
    "reverse_operators": 3,
    # transformations, in the order they build on each other
    "jit": 4, "jet": 4, "sparse": 4,
    "transforms": 5,
    "custom": 6, "checking": 6,
    "checkpoint": 7, "revolve": 7, "implicit": 7,
    "control": 8,
    # applications; the ODE solvers run their steps through control's scan
    "symbolic": 9, "optimize": 9, "pde": 9, "parse": 9, "ode": 9,
    # chainrule.scipy: SciPy's API (special functions on numpy, odeint on ode), below nn,
    # which uses its special functions
    "scipy": 10, "explain": 10,
    "nn": 11,
    "pinn": 12,
    # the package root: the public names, re-exported
    "chainrule": 13,
    # entry points
    "demo": 14, "examples": 14,
    "tour": 15,
    "cli": 16, "__main__": 16,
}

#: optional dependencies: the only modules a function may import locally
OPTIONAL = {"scipy", "sympy", "numba", "llvmlite", "matplotlib", "tqdm", "sklearn", "dask",
            "distributed", "cupy", "array_api_compat", "graphviz", "selenium", "PIL", "torch",
            "jax", "pyinstrument", "IPython", "threadpoolctl", "latex2mathml"}

#: imports against the layers that exist today, (importer, imported) -> why; fix and delete
UPWARD = {
    ("chainrule.pinn.allen_cahn", "chainrule"): "cr.*",
}

#: function-local imports of non-optional modules, (importer, imported) -> how many. Most
#: hide an import cycle (a layer leak above); the entry points (cli, tour) load their
#: subcommands and sections lazily to start fast; a few are standard-library modules.
LOCAL = {
    ("chainrule.cli", "chainrule.examples"): 1,
    ("chainrule.cli", "chainrule.examples.allen_cahn"): 1,
    ("chainrule.cli", "chainrule.explain"): 2,
    ("chainrule.cli", "chainrule.explain.compare"): 1,
    ("chainrule.cli", "chainrule.optimize"): 1,
    ("chainrule.cli", "chainrule.optimize.methods"): 1,
    ("chainrule.cli", "chainrule.optimize.mgh"): 1,
    ("chainrule.cli", "chainrule.optimize.report"): 1,
    ("chainrule.cli", "chainrule.parse"): 4,
    ("chainrule.cli", "chainrule.symbolic.matrix"): 1,
    ("chainrule.cli", "chainrule.symbolic.matrix.parse"): 1,
    ("chainrule.cli", "chainrule.tour"): 1,
    ("chainrule.cli", "inspect"): 1,
    ("chainrule.cli", "numpy"): 1,
    ("chainrule.examples", "html"): 1,
    ("chainrule.examples.big_regression", "resource"): 1,
    ("chainrule.examples.big_regression", "sys"): 1,
    ("chainrule.explain.compare", "chainrule.symbolic"): 1,
    ("chainrule.ir.program", "chainrule.ir.printer"): 2,
    ("chainrule.jit", "chainrule.ir.numba_codegen"): 2,
    ("chainrule.tour", "chainrule.demo"): 1,
    ("chainrule.tour", "chainrule.examples.allen_cahn"): 1,
    ("chainrule.tour", "chainrule.examples.big_regression"): 1,
    ("chainrule.tour", "chainrule.optimize.report"): 1,
    ("chainrule.tour", "chainrule.symbolic"): 2,
    ("chainrule.tour", "chainrule.symbolic.matrix.report"): 1,
}



def _module_name(path: pathlib.Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(name: str) -> bool:
    rel = pathlib.Path(*name.split("."))
    return (SRC / rel).with_suffix(".py").exists() or (SRC / rel / "__init__.py").exists()


def _targets(node: ast.AST, module: str, is_package: bool) -> list[str]:
    """The modules an import statement loads (``from pkg import submodule`` names the
    submodule)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    if node.level:
        base = module.split(".") if is_package else module.split(".")[:-1]
        base = base[:len(base) - node.level + 1]
        origin = ".".join(base + ([node.module] if node.module else []))
    else:
        origin = node.module or ""
    subs = [f"{origin}.{a.name}" for a in node.names if _is_module(f"{origin}.{a.name}")]
    return subs if len(subs) == len(node.names) else [origin] + subs


@functools.cache
def imports() -> list[tuple[str, str, bool]]:
    """(importer, imported, inside a function) for every import in the package."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module_name(path)
        is_package = path.name == "__init__.py"

        def walk(node, local, module=module, is_package=is_package):
            for child in ast.iter_child_nodes(node):
                if isinstance(child, (ast.Import, ast.ImportFrom)):
                    found.extend((module, t, local) for t in _targets(child, module, is_package))
                inner = local or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef,
                                                    ast.Lambda))
                walk(child, inner)

        walk(ast.parse(path.read_text(encoding="utf-8")), False)
    return found


def unit(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "chainrule"


def test_every_unit_has_a_rank():
    units = {unit(_module_name(p)) for p in PACKAGE.rglob("*.py")}
    missing = sorted(units - set(RANK))
    assert not missing, f"add these modules to RANK in tests/test_layers.py: {missing}"


def _upward() -> set:
    return {(a, b) for a, b, _ in imports() if b.split(".")[0] == "chainrule"
            and unit(a) != unit(b) and RANK[unit(b)] >= RANK[unit(a)]}


def test_imports_run_one_way():
    found = _upward()
    new = sorted(found - set(UPWARD))
    fixed = sorted(set(UPWARD) - found)
    assert not new, (f"imports against the layers (importer, imported): {new}. Move the code "
                     "to the right layer (see ARCHITECTURE.md, 'Layers').")
    assert not fixed, (f"fixed, delete from UPWARD in tests/test_layers.py: {fixed} "
                       "(python tests/test_layers.py prints today's lists)")


def _local() -> collections.Counter:
    return collections.Counter((a, b) for a, b, local in imports()
                               if local and b.split(".")[0] not in OPTIONAL)


def test_function_local_imports_only_shrink():
    found = _local()
    grown = {k: n for k, n in found.items() if n > LOCAL.get(k, 0)}
    shrunk = {k: n for k, n in LOCAL.items() if found.get(k, 0) < n}
    assert not grown, (f"new function-local imports of non-optional modules: {grown}. Import "
                       "at the top of the module (only optional dependencies load lazily).")
    assert not shrunk, (f"fewer function-local imports now: {shrunk}; update LOCAL "
                        "(python tests/test_layers.py prints it)")


def test_the_check_sees_imports():
    """The walk finds imports at both depths, relative ones included."""
    found = imports()
    assert ("chainrule.transforms.autodiff", "chainrule.interpreters.reverse", False) in found
    assert ("chainrule.numpy", "chainrule.numpy._namespace", False) in found \
        or any(a == "chainrule.numpy" and b.startswith("chainrule.numpy.") for a, b, _ in found)
    assert any(local for _, _, local in found)


if __name__ == "__main__":  # python tests/test_layers.py: today's tables, ready to paste
    print("UPWARD now:", *sorted(_upward()), sep="\n    ")
    print("LOCAL = {")
    for (importer, imported), count in sorted(_local().items()):
        print(f'    ("{importer}", "{imported}"): {count},')
    print("}")
