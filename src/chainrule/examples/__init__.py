"""chainrule.examples: the lecture's applications, each a module with ``run(...)``.

Every example module ``chainrule/examples/NAME.py`` defines

    run(out=None, quick=False, seed=0, progress=False, **options) -> ExampleResult

which computes the example, draws its Matplotlib figures (when Matplotlib is installed)
and, when ``out`` is a directory, saves each figure there as ``NAME_FIGURE.png`` and
``.svg``. The :class:`ExampleResult` carries the numbers (``result.numbers``), the
figures, the saved files, a one-line summary and whether the example's headline check
passed. ``quick=True`` makes a short run for tests and the tour.

Examples are found by name: any module of this package whose name does not start with
``_`` and that defines ``run`` is one, so a new example is one new file (no registry to
edit). ``chainrule example NAME --out DIR`` runs one from the command line.

>>> from chainrule import examples
>>> "linear_regression" in examples.available()
True
>>> result = examples.run("linear_regression")
>>> round(result.numbers["w"], 3), round(result.numbers["b"], 3)
(2.0, 0.0)
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from chainrule.core.plotting import MATPLOTLIB_MISSING, pyplot

__all__ = ["Section", "ExampleResult", "available", "load", "run", "pyplot", "save_figures",
           "TOUR_EXAMPLES", "tour_section"]

#: the examples the tour's "learning" section runs (quick), in the lecture's order
TOUR_EXAMPLES = ("linear_regression", "least_squares", "shallow_relu", "sigmoid_221", "digits")


@dataclass
class Section:
    """One part of an HTML report (a section of ``chainrule tour``).

    Attributes:
        title: its heading.
        html: its body (HTML).
        summary: one line for the terminal.
        ok: whether every check in it passed.
    """

    title: str
    html: str
    summary: str
    ok: bool = True


@dataclass
class ExampleResult:
    """What an example's ``run`` returns.

    Attributes:
        name: the example's name.
        numbers: its headline numbers (plain floats, ints, lists and strings).
        summary: one line for the terminal.
        ok: whether its headline check passed (e.g. w → 2, accuracy ≥ 97 %).
        figures: Matplotlib figures by short name (empty without Matplotlib).
        files: the files written (figures as PNG and SVG, tables).
        html: extra HTML for the tour (tables), may be empty.
        notes: remarks, e.g. a missing optional dependency.
    """

    name: str
    numbers: dict[str, Any]
    summary: str
    ok: bool = True
    figures: dict[str, Any] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)
    html: str = ""
    notes: list[str] = field(default_factory=list)

    def __repr__(self) -> str:
        return (f"ExampleResult({self.name!r}, ok={self.ok}, summary={self.summary!r}, "
                f"figures={sorted(self.figures)})")


def available() -> list[str]:
    """The names of the examples in this package, sorted."""
    names = []
    for info in pkgutil.iter_modules(__path__):
        if not info.name.startswith("_") and not info.ispkg:
            names.append(info.name)
    return sorted(names)


def load(name: str) -> ModuleType:
    """The example module ``name``.

    Raises:
        ValueError: for an unknown name, listing the available ones.
    """
    if name not in available():
        raise ValueError(f"no example named {name!r}; available: {', '.join(available())}")
    module = importlib.import_module(f"{__name__}.{name}")
    if not callable(getattr(module, "run", None)):
        raise ValueError(f"chainrule.examples.{name} has no run(...) function")
    return module


def run(name: str, out: str | Path | None = None, **options) -> ExampleResult:
    """Run the example ``name`` (see the module docstring for ``options``)."""
    return load(name).run(out=out, **options)


MATPLOTLIB_NOTE = f"no figures: {MATPLOTLIB_MISSING}"


def save_figures(result: ExampleResult, out: str | Path | None,
                 formats: tuple[str, ...] = ("png", "svg")) -> ExampleResult:
    """Save ``result.figures`` to ``out/NAME_FIGURE.FORMAT`` (nothing when ``out`` is None)
    and record the files in ``result.files``; notes a missing Matplotlib."""
    if not result.figures and pyplot() is None and MATPLOTLIB_NOTE not in result.notes:
        result.notes.append(MATPLOTLIB_NOTE)
    if out is None:
        return result
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for key, fig in result.figures.items():
        for fmt in formats:
            path = out / f"{result.name}_{key}.{fmt}"
            fig.savefig(path, dpi=110, bbox_inches="tight")
            result.files.append(path)
    return result


def tour_section(ctx):
    """The tour's section: every example of :data:`TOUR_EXAMPLES`, quick, with figures."""
    import html as _html


    parts, lines, ok = [], [], True
    for name in TOUR_EXAMPLES:
        try:
            result = run(name, out=ctx.out, quick=ctx.quick)
        except ImportError as err:  # an optional dependency (scikit-learn for digits)
            parts.append(f"<h3>{name}</h3><p class='note'>{_html.escape(str(err))}</p>")
            lines.append(f"{name}: skipped ({err})")
            continue
        ok &= result.ok
        lines.append(f"{name}: {result.summary}")
        doc = (load(name).__doc__ or "").strip().split("\n\n")[0]
        parts.append(f"<h3>{_html.escape(name)}</h3><p>{_html.escape(doc)}</p>"
                     f"<p class='{'' if result.ok else 'bad'}'>{_html.escape(result.summary)}</p>")
        parts.append(result.html)
        for note in result.notes:
            parts.append(f"<p class='note'>{_html.escape(note)}</p>")
        for path in result.files:
            if path.suffix == ".svg":
                parts.append(f"<img src='{path.name}' alt='{path.stem}' "
                             f"style='max-width:100%'>")
        plt = pyplot()
        if plt is not None:
            for fig in result.figures.values():
                plt.close(fig)
    return Section("Learning: regression, least squares, shallow networks, a classifier",
                   "\n".join(parts), "; ".join(lines), ok)
