"""The repository's own documents and configuration: links resolve inside it, the package's
doctests run with the suite, the packaging metadata uses the current licence form."""

from __future__ import annotations

import os
import re
from pathlib import Path

try:
    import tomllib
except ImportError:  # Python 3.10: the same parser, as pip vendors it
    from pip._vendor import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
SKIP_DIRS = {".git", ".venv", "out", ".peers", ".pytest_cache", ".hypothesis", ".ruff_cache",
             "build", "node_modules", "__pycache__"}
INLINE_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_LINK = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", re.M)
HTML_LINK = re.compile(r"""(?:href|src)\s*=\s*["']([^"']+)["']""")
CODE_SPAN = re.compile(r"`([^`\n]+)`")
FENCE = re.compile(r"^(```|~~~).*?^\1", re.M | re.S)
# a code span naming a file of the repository (``src/chainrule/jit.py``): it must exist
PATH_SPAN = re.compile(r"^\.{0,2}/?[\w.-]+(?:/[\w.-]+)*\.(?:py|md|toml|cfg|txt|ini|yml|yaml)$")


def markdown_files() -> list[Path]:
    found = []
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS and not d.endswith(".egg-info")]
        found += [Path(folder) / f for f in files if f.endswith(".md")]
    return sorted(found)


def _inside(path: Path) -> bool:
    try:
        path.resolve().relative_to(ROOT)
        return True
    except ValueError:
        return False


def broken_links(md: Path) -> list[str]:
    """The links and file references of one Markdown file that do not resolve inside the
    repository (external ``http(s)``/``mailto`` links and in-page anchors are left alone)."""
    text = md.read_text(encoding="utf-8")
    prose = FENCE.sub("", text)
    targets = (INLINE_LINK.findall(prose) + REFERENCE_LINK.findall(prose)
               + HTML_LINK.findall(prose))
    bad = []
    for target in targets:
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I) or target.startswith("#"):
            continue
        path = target.split("#", 1)[0].split("?", 1)[0]
        dest = (md.parent / path) if not path.startswith("/") else ROOT / path.lstrip("/")
        if not _inside(dest):
            bad.append(f"{target} (outside the repository)")
        elif not dest.exists():
            bad.append(f"{target} (no such file)")
    for span in CODE_SPAN.findall(prose):
        if "/" not in span or not PATH_SPAN.match(span):
            continue
        candidates = [md.parent / span, ROOT / span]
        if not any(_inside(c) for c in candidates):
            bad.append(f"`{span}` (outside the repository)")
        elif not any(_inside(c) and c.exists() for c in candidates):
            bad.append(f"`{span}` (no such file in the repository)")
    return [f"{md.relative_to(ROOT)}: {b}" for b in bad]


def test_the_link_checker_catches_what_it_should(tmp_path, monkeypatch):
    monkeypatch.setattr(__import__(__name__), "ROOT", tmp_path)
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.py").write_text("")
    md = tmp_path / "README.md"
    md.write_text("[ok](src/a.py) [web](https://example.org) [gone](src/b.py)\n"
                  "see `../shared/DESIGN.md` and `pkg/mod.py`, not `src/a.py`\n"
                  "![pic](../outside.png)\n```sh\ncat `not/checked.py`\n```\n")
    bad = broken_links(md)
    assert bad == ["README.md: src/b.py (no such file)",
                   "README.md: ../outside.png (outside the repository)",
                   "README.md: `../shared/DESIGN.md` (outside the repository)",
                   "README.md: `pkg/mod.py` (no such file in the repository)"]


def test_every_markdown_link_resolves_inside_the_repository():
    files = markdown_files()
    assert ROOT / "README.md" in files and ROOT / "benchmarks" / "README.md" in files
    bad = [b for md in files for b in broken_links(md)]
    assert not bad, "\n".join(bad)


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_the_suite_runs_the_package_doctests():
    """``make test`` (plain ``pytest``) collects the doctests of every module of the
    package, so a docstring example that stops working fails CI."""
    cfg = _pyproject()["tool"]["pytest"]["ini_options"]
    assert "--doctest-modules" in cfg["addopts"].split()
    assert "src/chainrule" in cfg["testpaths"]


def test_the_licence_is_an_spdx_expression():
    """setuptools ≥ 77 reads ``license = "MIT"`` (PEP 639); the old table form and licence
    classifiers print deprecation warnings at every ``pip install -e .``."""
    data = _pyproject()
    assert data["project"]["license"] == "MIT"
    assert not any(c.startswith("License ::") for c in data["project"].get("classifiers", []))
    requires = " ".join(data["build-system"]["requires"])
    version = re.search(r"setuptools>=(\d+)", requires)
    assert version and int(version.group(1)) >= 77, requires
