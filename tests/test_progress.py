"""The shared progress display: plain lines without tqdm, a tqdm bar with it, silence
when disabled."""

import io
import sys

import pytest

from chainrule.core.progress import ProgressBar


def test_plain_lines_every_n_steps_and_at_the_end():
    out = io.StringIO()
    bar = ProgressBar("fit", 7, every=3, stream=out, use_tqdm=False)
    for k in range(7):
        bar.update(loss=float(k), tag="a")
    bar.close("stopped")
    assert out.getvalue().splitlines() == [
        "fit 3/7: loss 2, tag a", "fit 6/7: loss 5, tag a", "fit 7/7: loss 6, tag a",
        "fit: stopped"]


def test_zero_steps_show_numbers_without_a_line():
    out = io.StringIO()
    bar = ProgressBar("run", None, every=1, stream=out, use_tqdm=False)
    bar.update(0, f=1.0)
    bar.update(2, f=0.5)
    assert out.getvalue() == "run 2: f 0.5\n" and bar.count == 2


def test_disabled_shows_nothing(capsys):
    bar = ProgressBar("fit", 3, every=1, enabled=False)
    bar.update(loss=1.0)
    bar.close("done")
    assert capsys.readouterr() == ("", "")


def test_without_tqdm_installed_it_prints_lines(monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)   # import fails
    out = io.StringIO()
    bar = ProgressBar("opt", 2, every=1, stream=out)
    assert bar.bar is None
    bar.update(**{"|g|": 0.25})
    assert out.getvalue() == "opt 1/2: |g| 0.25\n"


def test_tqdm_bar_shows_the_latest_numbers():
    pytest.importorskip("tqdm")
    out = io.StringIO()
    bar = ProgressBar("opt", 4, every=1, stream=out)
    bar.update(loss=0.125)
    assert bar.bar.n == 1 and "loss 0.125" in bar.bar.postfix
    bar.close("converged")
    text = out.getvalue()
    assert "opt" in text and text.endswith("opt: converged\n")
