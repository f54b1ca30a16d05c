"""The HTML report rendered by a real browser: headless Chromium takes a screenshot and prints
the page to PDF, offline; the test checks that something was drawn (many distinct colours, not
a blank page) at the size asked for. Skipped only where Chromium is not installed
(``apt-get install -y chromium``; ``.ci/run`` installs it)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from bayesmeta.report import document
from bayesmeta.workflows.report import analyses
from bayesmeta.workflows.request import AnalysisRequest, plan
from tests.report.conftest import FAST

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
WINDOW = (1280, 2400)


def browser() -> str:
    found = next((shutil.which(b) for b in BROWSERS if shutil.which(b)), None)
    if found is None:
        pytest.skip("Chromium is not installed (apt-get install -y chromium): render test skipped")
    return found


def run_headless(exe: str, profile: Path, *args: str) -> None:
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
    ]
    done = subprocess.run([exe, *flags, *args], capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]


@pytest.fixture(scope="module")
def exe() -> str:
    """The browser (the tests skip before any work when there is none)."""
    return browser()


@pytest.fixture(scope="module")
def page(exe, tmp_path_factory) -> Path:
    """The report of li2007 (Li et al. 2007, 22 trials; exact engine) as an HTML file."""
    request = AnalysisRequest(example="li2007", model="normal-normal", settings=FAST)
    contents = analyses(plan(request), parts=("fit",))
    out = tmp_path_factory.mktemp("page") / "report.html"
    document.write_report(contents, out)
    return out


def test_report_renders_in_chromium(exe, page, tmp_path):
    from PIL import Image

    shot = tmp_path / "report.png"
    run_headless(
        exe,
        tmp_path / "profile",
        f"--screenshot={shot}",
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
        page.as_uri(),
    )
    image = Image.open(shot).convert("RGB")
    assert image.size == WINDOW
    pixels = np.asarray(image).reshape(-1, 3)
    colours = len(np.unique(pixels, axis=0))
    assert colours > 500, f"only {colours} colours: the page looks blank"
    inked = np.mean(pixels.min(axis=1) < 200)
    assert inked > 0.03, f"only {inked:.1%} of the page is drawn on"


def test_report_prints_to_pdf(exe, page, tmp_path):
    pdf = tmp_path / "report.pdf"
    run_headless(exe, tmp_path / "profile", f"--print-to-pdf={pdf}", "--no-pdf-header-footer",
                 page.as_uri())  # fmt: skip
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    pages = data.count(b"/Type /Page") - data.count(b"/Type /Pages")
    assert pages >= 4, f"{pages} pages"
