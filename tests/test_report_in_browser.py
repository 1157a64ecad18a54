"""The tour's HTML report (``chainrule tour``, ``make demo``) opened in a real browser.

Headless Chromium driven by Selenium (the Debian packages ``chromium`` and
``chromium-driver``; no browser download from elsewhere). When they are missing, the set-up
installs them with apt-get if it runs as root on a machine that has apt-get (set
``CHAINRULE_NO_BROWSER_INSTALL=1`` to forbid that); otherwise the tests are skipped with
the reason printed in pytest's summary.

Checked: no console errors; every image, inline graph and formula is drawn; the dotted
and barred symbols of the trace tables (v̇, v̄) carry their mark over their letter; every
graph fits the width of a 1280-pixel screen with legible text and no two labels
overlapping, the 2-2-1 network's graph included.
"""

from __future__ import annotations

import io
import itertools
import os
import shutil
import subprocess
from pathlib import Path

import numpy
import pytest

import chainrule.numpy as np
from chainrule.explain import graph

SCREEN = (1280, 1000)
MIN_TEXT_PX = 5.0  # the smallest legible height of a rendered label's glyphs


# --- the browser ---------------------------------------------------------------------------

def _browser_paths() -> tuple[str, str] | None:
    browser = next(filter(None, map(shutil.which, ("chromium", "chromium-browser",
                                                   "google-chrome"))), None)
    driver = shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


def _install_browser() -> str:
    """Install Debian's Chromium and its driver; returns why not when it cannot."""
    if os.environ.get("CHAINRULE_NO_BROWSER_INSTALL"):
        return "CHAINRULE_NO_BROWSER_INSTALL is set"
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "not running as root, so the test set-up cannot apt-get install it"
    apt = shutil.which("apt-get")
    if apt is None:
        return "apt-get is not available"
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    print("\ninstalling chromium and chromium-driver with apt-get (once) ...", flush=True)
    for cmd in ([apt, "update", "-q"],
                [apt, "install", "-y", "-q", "--no-install-recommends", "chromium",
                 "chromium-driver"]):
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=900, env=env,
                               check=False)
        except (OSError, subprocess.TimeoutExpired) as err:
            return f"{' '.join(cmd[:2])} failed: {err}"
        if r.returncode != 0:
            tail = (r.stderr or r.stdout).strip().splitlines()[-1:] or ["?"]
            return f"{' '.join(cmd[:2])} failed (exit {r.returncode}: {tail[0][:160]})"
    return ""


@pytest.fixture(scope="module")
def browser():
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.skip("Selenium is not installed (pip install chainrule[test]): the report "
                    "was not opened in a browser")
    paths = _browser_paths()
    if paths is None:
        why = _install_browser()
        paths = _browser_paths()
        if paths is None:
            why = why or "apt-get installed nothing usable"
            reason = (f"no headless Chromium and chromedriver ({why}); apt-get install "
                      "chromium chromium-driver to run these")
            print(reason)
            pytest.skip(reason)
    options = webdriver.ChromeOptions()
    options.binary_location = paths[0]
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", "--hide-scrollbars",
                f"--window-size={SCREEN[0]},{SCREEN[1]}"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(paths[1]), options=options)
    try:
        yield driver
    finally:
        driver.quit()


# --- the pages -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    """The quick tour's report, as ``make demo`` writes it (with the quick swell table)."""
    from chainrule.tour import run

    out = tmp_path_factory.mktemp("tour")
    assert run(out, quick=True) == 0
    return out / "index.html"


def sigmoid(t):
    return 1.0 / (1.0 + np.exp(-t))


def network_221(a, b, w000, w010, w001, w011, w100, w101):
    """The lecture's 2-2-1 sigmoid network f(a, b), in its order of operations."""
    c = sigmoid(a * w000 + b * w010)
    d = sigmoid(a * w001 + b * w011)
    return sigmoid(c * w100 + d * w101)


@pytest.fixture(scope="module")
def network_page(tmp_path_factory) -> Path:
    """The 2-2-1 network's graph with adjoints, embedded as the tour embeds graphs."""
    from chainrule.tour import _CSS, TourContext

    out = tmp_path_factory.mktemp("net")
    ctx = TourContext(out)
    g = graph(network_221, 1.0, 1.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, show="adjoint")
    page = out / "index.html"
    page.write_text("<!DOCTYPE html><html><head><meta charset='utf-8'>"
                    f"<style>{_CSS}</style></head><body><h2>The 2-2-1 network</h2>"
                    f"{ctx.graph_html(g, 'network_221')}</body></html>", encoding="utf-8")
    return page


def _open(driver, page: Path) -> None:
    driver.set_window_size(*SCREEN)
    driver.get(page.as_uri())
    assert driver.execute_script("return document.readyState") == "complete"


# --- the checks ----------------------------------------------------------------------------

def test_no_console_errors(browser, report):
    browser.get_log("browser")  # start from an empty log
    _open(browser, report)
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors, errors
    assert "chainrule: the lecture's worked examples" in browser.title + browser.page_source


def test_every_image_graph_and_formula_is_drawn(browser, report):
    _open(browser, report)
    found = browser.execute_script("""
        const drawn = el => { const r = el.getBoundingClientRect();
                              return r.width > 0 && r.height > 0; };
        const out = {images: [], graphs: [], formulas: [], text: document.body.innerText};
        for (const im of document.images)
            out.images.push([im.getAttribute('src'), im.complete && im.naturalWidth > 0
                             && drawn(im)]);
        for (const s of document.querySelectorAll('svg'))
            out.graphs.push([s.id || 'svg', drawn(s) && s.querySelectorAll('path, use')
                             .length > 10]);
        for (const m of document.querySelectorAll('math, .katex, mjx-container, .formula'))
            out.formulas.push([m.textContent.slice(0, 40), drawn(m)]);
        return out;""")
    assert len(found["graphs"]) >= 4  # Griewank's and the lecture's, primal and adjoint
    assert all(ok for _, ok in found["images"] + found["graphs"] + found["formulas"]), found
    for raw in ("$$", "\\frac", "\\partial", "\\mathrm", "\\(", "\\["):
        assert raw not in found["text"], f"unrendered TeX {raw!r} in the page"


def _ink(png: bytes) -> numpy.ndarray:
    from PIL import Image

    rgb = numpy.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=float)
    return rgb.mean(axis=-1) < 110  # dark glyph pixels on the light table rows


def _mark_over_letter(ink: numpy.ndarray) -> bool:
    """The combining mark (the ink above a blank row, over the letter's rows) is centred
    within the columns of the letter below it."""
    rows = numpy.flatnonzero(ink.any(axis=1))
    if rows.size == 0:
        return False
    runs = numpy.split(rows, numpy.flatnonzero(numpy.diff(rows) > 1) + 1)
    if len(runs) < 2:
        return False
    mark, letter = runs[0], runs[-1]
    mark_cols = numpy.flatnonzero(ink[mark].any(axis=0))
    letter_cols = numpy.flatnonzero(ink[letter].any(axis=0))
    centre = (mark_cols.min() + mark_cols.max()) / 2
    return letter_cols.min() - 1 <= centre <= letter_cols.max() + 1


def test_dotted_and_barred_symbols_carry_their_mark_over_the_letter(browser, report):
    pytest.importorskip("PIL", reason="Pillow reads the screenshots (pip install pillow)")
    _open(browser, report)
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {  # 4 pixels per pixel
        "width": SCREEN[0], "height": SCREEN[1], "deviceScaleFactor": 4, "mobile": False})
    symbols = browser.execute_script("""
        const seen = new Map();
        for (const el of document.querySelectorAll('table.cr-trace i'))
            if (/[\\u0300-\\u036f]/.test(el.textContent) && !seen.has(el.textContent))
                seen.set(el.textContent, el);
        return Array.from(seen.values());""")
    assert len(symbols) >= 4  # v̇, ẋ, v̄, ȳ at least
    try:
        bad = [s.text for s in symbols if not _mark_over_letter(_ink(s.screenshot_as_png))]
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    assert not bad, f"marks drawn beside their letter: {bad}"


def _graph_geometry(driver) -> list[dict]:
    return driver.execute_script("""
        const out = [];
        for (const s of document.querySelectorAll('.graph svg')) {
            const r = s.getBoundingClientRect();
            const box = s.viewBox.baseVal;
            const labels = Array.from(s.querySelectorAll('g[id^="text_"]')).map(g => {
                const b = g.getBoundingClientRect();
                return [b.left, b.top, b.right, b.bottom];
            }).filter(b => b[2] > b[0] && b[3] > b[1]);
            out.push({width: r.width, left: r.left, right: r.right, native: box.width * 4 / 3,
                      screen: window.innerWidth, labels: labels});
        }
        return out;""")


def _check_graphs(geometry: list[dict]) -> None:
    assert geometry
    for k, g in enumerate(geometry):
        assert g["left"] >= 0 and g["right"] <= g["screen"], (k, g["left"], g["right"])
        labels = g["labels"]
        assert len(labels) >= 5
        heights = [b[3] - b[1] for b in labels]
        assert min(heights) >= MIN_TEXT_PX, (
            f"graph {k}: shown at {g['width'] / g['native']:.2f} of its size, its smallest "
            f"label is {min(heights):.1f} px high")
        clashes = [(a, b) for a, b in itertools.combinations(labels, 2)
                   if min(a[2], b[2]) - max(a[0], b[0]) > 1
                   and min(a[3], b[3]) - max(a[1], b[1]) > 1]
        assert not clashes, f"graph {k}: {len(clashes)} overlapping labels, e.g. {clashes[0]}"


def test_the_reports_graphs_fit_the_screen_with_legible_separate_labels(browser, report):
    _open(browser, report)
    _check_graphs(_graph_geometry(browser))


def test_the_221_network_graph_fits_a_screen_width(browser, network_page, tmp_path):
    _open(browser, network_page)
    geometry = _graph_geometry(browser)
    assert len(geometry) == 1
    _check_graphs(geometry)
    assert geometry[0]["width"] >= 0.75 * geometry[0]["native"]  # hardly scaled down
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(SCREEN[0], min(height + 50, 4000))
    shot = tmp_path / "network_221.png"
    browser.save_screenshot(str(shot))
    assert shot.stat().st_size > 20_000  # a blank page is a few kB


def test_screenshot_of_the_report_shows_tables_and_graphs(browser, report, tmp_path):
    pytest.importorskip("PIL", reason="Pillow reads the screenshots (pip install pillow)")
    from PIL import Image

    _open(browser, report)
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(SCREEN[0], min(height + 50, 16000))
    shot = tmp_path / "report.png"
    browser.save_screenshot(str(shot))
    img = numpy.asarray(Image.open(shot).convert("RGB"), dtype=int)
    assert img.shape[0] >= 2000
    # tangent rows are shaded #f3f8ff, adjoint rows #fff6ef, input nodes #e6f4e6
    for rgb in ((0xf3, 0xf8, 0xff), (0xff, 0xf6, 0xef), (0xe6, 0xf4, 0xe6)):
        hits = numpy.sum(numpy.all(numpy.abs(img - numpy.array(rgb)) <= 2, axis=-1))
        assert hits > 500, (rgb, hits)
