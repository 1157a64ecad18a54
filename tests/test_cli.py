"""The ``chainrule`` command (through subprocess), the safe formula parser (with a
hypothesis fuzz test), and the tour's HTML report (rendered by headless Chromium
when it is installed)."""

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chainrule.parse import FUNCTIONS, Expression, ExpressionError, parse, parse_point

SRC = str(Path(__file__).resolve().parents[1] / "src")
GRIEWANK = "sin(x1/x2) + x1/x2 - exp(x2)"


def cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=SRC + os.pathsep + os.environ.get("PYTHONPATH", ""),
               PYTHONWARNINGS="ignore")
    return subprocess.run([sys.executable, "-m", "chainrule.cli", *args], capture_output=True,
                          text=True, timeout=timeout, env=env, check=False)


# --- the command -------------------------------------------------------------------------

def test_diff_every_technique_side_by_side():
    r = cli("diff", GRIEWANK, "--at", "x1=1.5,x2=0.5")
    assert r.returncode == 0, r.stderr
    out = r.stdout
    for technique in ("reverse AD", "forward AD", "finite differences (Richardson)",
                      "complex step", "symbolic (SymPy)"):
        assert technique in out
    assert "0.0200150" in out and "-1.708766" in out  # ∂/∂x1 = 0.02001500..., ∂/∂x2
    assert "ms" in out and "(reference)" in out


def test_diff_order_2_has_the_hessian():
    r = cli("diff", "x1^2*x2 + sin(x2)", "--at", "x1=1,x2=2", "--order", "2")
    assert r.returncode == 0, r.stderr
    assert "Hessian" in r.stdout and "forward-over-reverse" in r.stdout


def test_trace_reverse_is_the_lecture_table():
    r = cli("trace", "ln(x1) + x1*x2 - sin(x2)", "--at", "x1=2,x2=5", "--mode", "reverse")
    assert r.returncode == 0, r.stderr
    assert "v̄-1 = v̄-1 + v̄1 / v-1" in r.stdout
    assert r.stdout.rstrip().splitlines()[-1].split()[-1] == "5.5000"
    r = cli("trace", "ln(x1) + x1*x2 - sin(x2)", "--at", "x1=2,x2=5", "--mode", "forward",
            "--wrt", "x2", "--format", "markdown")
    assert r.returncode == 0, r.stderr
    assert r"$\dot{y}$" in r.stdout and "1.7163" in r.stdout


def test_graph_dot_and_file(tmp_path):
    r = cli("graph", "x*y + sin(x)", "--at", "x=2,y=5")
    assert r.returncode == 0 and r.stdout.startswith("digraph"), r.stderr
    out = tmp_path / "g.dot"
    r = cli("graph", "x*y + sin(x)", "--at", "x=2,y=5", "--show", "adjoint", "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert "v̄" in out.read_text()


@pytest.mark.parametrize("args, fragment", [
    (("trace", "__import__('os').system('true')", "--at", "x=1"), "cannot use a call"),
    (("trace", "x.real", "--at", "x=1"), "cannot use Attribute"),
    (("diff", "x + y", "--at", "x=1"), "no value was given for it"),
    (("diff", "x", "--at", "x=1,z=2"), "does not use"),
    (("diff", "x", "--at", "x=one"), "is not a number"),
    (("trace", "x", "--at", "x=1", "--mode", "sideways"), "invalid choice"),
    (("trace", "x"), "required: --at"),
    (("frobnicate",), "invalid choice"),
])
def test_bad_input_gives_one_line_and_nonzero_exit(args, fragment):
    r = cli(*args)
    assert r.returncode != 0
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert fragment in lines[0]


@pytest.mark.parametrize("sub", ["diff", "trace", "graph", "tour"])
def test_help_for_every_subcommand(sub):
    r = cli(sub, "--help")
    assert r.returncode == 0 and "usage: chainrule " + sub in r.stdout


# --- the parser ----------------------------------------------------------------------------

def test_parse_variables_constants_and_power():
    e = parse("ln(x1) + x1*x2 - sin(x2) + pi*0")
    assert e.variables == ("x1", "x2")
    assert float(e.function()(2.0, 5.0)) == pytest.approx(11.652071455)
    assert float(parse("x^2 + 1").function()(3.0)) == 10.0  # ^ is power, power's precedence
    assert parse_point("a=1.5, b=-pi") == {"a": 1.5, "b": -3.141592653589793}
    with pytest.raises(ExpressionError, match="is a function"):
        parse("sin + 1")
    with pytest.raises(ExpressionError, match="exactly one positional argument"):
        parse("sin(x, y)")


_ALLOWED_NODES = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Call, ast.Name, ast.Constant,
                  ast.Load, ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.USub, ast.UAdd)

_TOKENS = st.sampled_from(
    ["x", "y1", "pi", "e", "1", "2.5", "1e308", "0", "+", "-", "*", "/", "**", "^", "(", ")",
     ",", ".", "[", "]", "'", '"', "=", ":", "lambda", "__import__", "os", "open", "eval",
     "_x", "sin", "exp", "log", "foo", " ", "if", "else", "<", "@", "%", "~", "not", "\n",
     "\\", "#", "{", "}", "j", "0x1f", "1_0", "...", "await", "yield", "print"])


def _sentinel(*a, **k):  # pragma: no cover - must never run
    raise AssertionError("the parser executed code")


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=60), st.lists(_TOKENS, max_size=25).map("".join)))
def test_fuzz_parser_never_crashes_and_accepts_only_the_whitelist(text):
    import builtins

    saved = builtins.__import__, builtins.print, builtins.open
    builtins.print = builtins.open = _sentinel  # anything executed would trip these
    try:
        e = parse(text)
    except ExpressionError as err:
        assert str(err)
        return
    finally:
        builtins.__import__, builtins.print, builtins.open = saved
    assert isinstance(e, Expression)
    for node in ast.walk(e.tree):
        assert isinstance(node, _ALLOWED_NODES), type(node)
        if isinstance(node, ast.Call):
            assert node.func.id in FUNCTIONS
        if isinstance(node, ast.Name) and not isinstance(getattr(node, "ctx", None), ast.Load):
            raise AssertionError(node)
    for v in e.variables:
        assert v[0].isalpha() and v not in FUNCTIONS


# --- the tour and its report ------------------------------------------------------------

def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def test_tour_writes_the_report_and_chromium_shows_it(tmp_path):
    out = tmp_path / "out"
    r = cli("tour", "--out", str(out), "--quick", timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "report:" in r.stdout and r.stdout.count("[ok]") >= 4
    page = (out / "index.html").read_text(encoding="utf-8")
    # 3 tables x 2 worked examples, and the 2-2-1 network's forward and reverse tables
    assert page.count("<table class=\"cr-trace\"") == 8
    assert "<svg" in page or "digraph" in page
    assert "Expression swell" in page and "-13.7240" in page and "3.0118" in page

    browser = _chromium()
    if browser is None:
        pytest.skip("Chromium is not installed (apt-get install chromium): the report was "
                    "written and checked, but not rendered")
    shot = tmp_path / "shot.png"
    cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
           "--window-size=1200,2600", f"--screenshot={shot}", (out / "index.html").as_uri()]
    subprocess.run(cmd, capture_output=True, timeout=120, check=False)
    assert shot.exists() and shot.read_bytes()[:4] == b"\x89PNG"
    _check_screenshot(shot)


def _check_screenshot(shot: Path) -> None:
    """The screenshot is not blank: it shows the tables' shaded rows and a graph's nodes."""
    try:
        import matplotlib.image as mpimg
    except ImportError:
        assert shot.stat().st_size > 20_000  # a blank page PNG is a few kB
        return
    import numpy as onp

    img = mpimg.imread(shot)[..., :3]
    assert img.shape[0] >= 2000
    # tangent rows are shaded #f3f8ff, adjoint rows #fff6ef, input nodes #e6f4e6
    for rgb in ((0xf3, 0xf8, 0xff), (0xff, 0xf6, 0xef), (0xe6, 0xf4, 0xe6)):
        target = onp.array(rgb) / 255
        hits = onp.sum(onp.all(onp.abs(img - target) < 2 / 255, axis=-1))
        assert hits > 500, (rgb, hits)
