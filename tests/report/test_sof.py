"""``bayesmeta sof``: the summary-of-findings table of several outcomes.

The numbers are checked against independent references, not against our own output: on bcg
and li2007 (shipped, Colditz et al. 1994 and Li et al. 2007) the exact normal-normal posterior
with mu ~ N(0, 10^2), tau ~ HalfNormal(0.5) has the quantiles of mu in
``tests/reference/{bcg,li2007}.nnhm.json`` (an independent integration accurate to about
1e-4), so the relative effect is ``exp`` of them and the risk with treatment per 1,000 at a
control risk ``p0`` is ``1000 expit(logit(p0) + q)``; the participants are the arms' sizes
summed from the CSV. The HTML page is shown by headless Chromium (skipped without it).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import special
from typer.testing import CliRunner

from bayesmeta.cli import app
from tests.conftest import EXAMPLES, fails_cleanly
from tests.report.test_browser import browser, run_headless

ROOT = Path(__file__).resolve().parents[2]
OUTCOMES = ("bcg", "li2007")
PRIORS = ["--prior-mu", "normal(0, 10)", "--prior-tau", "half-normal(0.5)"]
ARGS = [*(str(EXAMPLES / f"{n}.csv") for n in OUTCOMES), "--model", "normal-normal", *PRIORS]
ARGS += ["--baseline-risk", "0.05,0.2", "--benefit-threshold", "10"]


def _sof(tmp_path: Path, suffix: str, *extra: str) -> Path:
    out = tmp_path / f"sof{suffix}"
    result = CliRunner().invoke(app, ["sof", *ARGS, *extra, "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def tables(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("sof")
    return {s: _sof(folder, s) for s in (".csv", ".md", ".html")}


def test_rows_match_the_independent_posterior(tables) -> None:
    with tables[".csv"].open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [r["Outcome"] for r in rows] == ["bcg", "bcg", "li2007", "li2007"]
    for row in rows:
        name = row["Outcome"]
        ref = json.loads((ROOT / "tests" / "reference" / f"{name}.nnhm.json").read_text())
        frame = pd.read_csv(EXAMPLES / f"{name}.csv")
        n = int(frame["treatment_total"].sum() + frame["control_total"].sum())
        assert row["Participants (studies)"] == f"{n:,} ({len(frame)} studies)"
        mu = ref["mu"]
        for key, q in (("median", "median"), ("lower", "q025"), ("upper", "q975")):
            assert float(row[f"relative_{key}"]) == pytest.approx(np.exp(mu[q]), rel=2e-4)
        p0 = float(row["control_per_1000"]) / 1000
        assert p0 in (0.05, 0.2)
        for key, q in (("median", "median"), ("lower", "q025"), ("upper", "q975")):
            treated = 1000 * special.expit(special.logit(p0) + mu[q])
            assert float(row[f"treated_per_1000_{key}"]) == pytest.approx(treated, rel=3e-4)
            assert float(row[f"difference_per_1000_{key}"]) == pytest.approx(
                treated - 1000 * p0, abs=3e-4 * treated
            )
        assert 0.9 < float(row["p_benefit"]) <= 1  # checked against quadrature elsewhere
        assert row["Certainty (GRADE)"] == ""
        assert row["NNT"].startswith("NNTB ")


def test_markdown_and_html_list_the_grade_domains(tables) -> None:
    md = tables[".md"].read_text(encoding="utf-8")
    html = tables[".html"].read_text(encoding="utf-8")
    for text in (md, html):
        for domain in ("risk of bias", "inconsistency", "indirectness", "imprecision"):
            assert domain in text
        assert "fewer per 1,000 (from" in text
        assert "P(benefit: at least 10 fewer events per 1,000)" in text
    assert md.count("\n| bcg |") == 2 and md.count("\n| li2007 |") == 2
    assert "<script" not in html and "http" not in html.split("<body>")[1]


def test_a_specification_is_one_outcome_with_its_own_settings(tmp_path) -> None:
    spec = tmp_path / "bcg-spec.toml"
    spec.write_text(
        '[data]\nexample = "bcg"\n[model]\nname = "normal-normal"\nmeasure = "RR"\n'
        '[priors]\nmu = "normal(0, 10)"\ntau = "half-normal(0.5)"\n'
        "[absolute]\nbaseline_risks = [0.05]\n",
        encoding="utf-8",
    )
    out = tmp_path / "sof.csv"
    result = CliRunner().invoke(app, ["sof", str(spec), "--out", str(out)])
    assert result.exit_code == 0, result.output
    (row,) = list(csv.DictReader(out.open(encoding="utf-8")))
    ref = json.loads((ROOT / "tests" / "reference" / "bcg.nnhm.json").read_text())
    # the RR at p0 of a log OR q: expit(logit(p0) + q) / p0, increasing in q
    rr = special.expit(special.logit(0.05) + ref["mu"]["median"]) / 0.05
    assert row["Outcome"] == "bcg-spec"
    assert row["Relative effect (95% CrI)"].startswith("RR ")
    assert float(row["relative_median"]) == pytest.approx(rr, rel=2e-4)


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (["--baseline-risk", "0.05", "--out", "sof.txt"], "is .md, .html or .csv"),
        (["--out", "sof.csv"], "needs --baseline-risk"),
        (["--baseline-risk", "studies", "--out", "sof.csv"], "needs the study baselines"),
        (["--baseline-risk", "0.05", "--measure", "RD", "--out", "s.csv"], "shows OR or RR"),
        (["--benefit-threshold", "5", "--out", "sof.csv"], "need --baseline-risk"),
    ],
)
def test_refusals_are_one_line(tmp_path, extra: list[str], fragment: str) -> None:
    extra = [str(tmp_path / e) if e.startswith("s") and "." in e else e for e in extra]
    args = ["sof", str(EXAMPLES / "bcg.csv"), "--model", "normal-normal", *extra]
    assert fragment in fails_cleanly(args)


def test_sof_page_renders_in_chromium(tables, tmp_path) -> None:
    """Chromium parses the page (its DOM has the table with every row and the empty
    certainty cells) and draws it (a screenshot with text on it)."""
    import subprocess

    from PIL import Image

    exe = browser()
    page = tables[".html"].as_uri()
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             f"--user-data-dir={tmp_path / 'profile'}"]  # fmt: skip
    dom = subprocess.run(
        [exe, *flags, "--dump-dom", page], capture_output=True, text=True, timeout=180
    ).stdout
    body = dom.split('id="summary-of-findings"')[1].split("</table>")[0]
    assert body.count("<tr>") == 5  # the header and four rows
    assert body.count('<td class="certainty"></td>') == 4
    shot = tmp_path / "sof.png"
    run_headless(exe, tmp_path / "profile2", f"--screenshot={shot}", "--window-size=1280,900",
                 page)  # fmt: skip
    pixels = np.asarray(Image.open(shot).convert("RGB")).reshape(-1, 3)
    assert np.mean(pixels.min(axis=1) < 128) > 0.01, "the table is not drawn"


def test_a_folder_is_one_outcome_per_file(tmp_path) -> None:
    folder = tmp_path / "review"
    folder.mkdir()
    for name in OUTCOMES:
        (folder / f"{name}.csv").write_bytes((EXAMPLES / f"{name}.csv").read_bytes())
    out = tmp_path / "sof.md"
    args = ["sof", str(folder), "--model", "normal-normal", "--baseline-risk", "0.1"]
    result = CliRunner().invoke(app, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert "\n| bcg |" in text and "\n| li2007 |" in text
    assert "P(benefit" not in text  # no threshold, no column
    inside = str(folder / "sof.csv")
    assert "outside the input folder" in fails_cleanly([*args, "--out", inside])
    again = CliRunner().invoke(app, [*args, str(folder / "bcg.csv"), "--out", str(out), "--force"])
    assert again.exit_code == 2 and "appear twice" in again.output


def test_report_has_the_absolute_effects_and_the_table() -> None:
    from bayesmeta.report import document
    from bayesmeta.workflows.report import analyses
    from bayesmeta.workflows.request import AnalysisRequest, plan

    priors = {"mu": "normal(0, 10)", "tau": "half-normal(0.5)"}
    request = AnalysisRequest(
        example="bcg", model="normal-normal", baseline_risks=(0.05,), priors=priors
    )
    contents = analyses(plan(request), parts=("fit",))
    figures = {n: document.RenderedFigure(n, n, reason="not drawn here") for n in
               document.REPORT_FIGURES}  # fmt: skip
    html = document.render_html(contents, figures=figures)
    section = html.split('id="absolute"')[1].split("</section>")[0]
    ref = json.loads((ROOT / "tests" / "reference" / "bcg.nnhm.json").read_text())
    treated = 1000 * special.expit(special.logit(0.05) + ref["mu"]["median"])
    assert f"{round(treated)} per 1,000" in section
    assert 'id="summary-of-findings"' in section and "Certainty (GRADE)" in section
    assert "--baseline-risk 0.05" in contents.provenance.command
    methods = {p.title: p.text for p in document.words.methods(contents)}
    assert "expit(logit(p0) + theta)" in methods["Absolute effects"]
    assert "Guyatt" in " ".join(document.words.references(list(document.words.methods(contents))))
    (row,) = document.payload(contents)["summary_of_findings"]["rows"]
    assert row["risk_with_treatment_per_1000"]["median"] == pytest.approx(treated, rel=3e-4)
    assert row["certainty"] is None and row["nnt_label"] == "NNTB"


def test_mixed_formats_count_only_the_studies_with_counts() -> None:
    """bcg_mixed: some trials give counts, others a reported log OR. Participants sum the
    count trials' arms; the control risk from the studies uses their baselines only (a
    reported trial's baseline has no data and stays at its N(0, 10^2) prior)."""
    from bayesmeta import load
    from bayesmeta.model.description import ModelSpec
    from bayesmeta.summaries.sof import participants
    from bayesmeta.workflows.analyze import _baselines

    frame = pd.read_csv(EXAMPLES / "bcg_mixed.csv")
    counted = frame["treatment_total"].notna().to_numpy()
    data = load(EXAMPLES / "bcg_mixed.csv")
    counts = frame[counted]
    n = int(counts["treatment_total"].sum() + counts["control_total"].sum())
    assert participants(data) == (n, int(counted.sum())) and counted.sum() < data.k
    alpha = np.arange(2 * 3 * data.k, dtype=float).reshape(2, 3, data.k)  # chains, draws, k
    kept = _baselines(ModelSpec.describe(data), alpha)
    np.testing.assert_array_equal(kept, alpha[..., counted])
    two_arm = load(EXAMPLES / "bcg.csv")
    assert _baselines(ModelSpec.describe(two_arm), alpha) is alpha


def test_csv_quotes_text_a_spreadsheet_would_run(tmp_path) -> None:
    data = tmp_path / "=HYPERLINK(1).csv"
    data.write_bytes((EXAMPLES / "bcg.csv").read_bytes())
    out = tmp_path / "sof.csv"
    args = ["sof", str(data), "--model", "normal-normal", "--baseline-risk", "0.1"]
    result = CliRunner().invoke(app, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    (row,) = list(csv.DictReader(out.open(encoding="utf-8")))
    assert row["Outcome"] == "'=HYPERLINK(1)"
    assert float(row["difference_per_1000_median"]) < 0
