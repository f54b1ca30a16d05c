"""The forest plot on ``--measure RR | RD`` of two-arm counts (issue 19): the studies' own
estimates, the frequentist diamonds and the weights on the measure against R metafor 3.8-1 on
data the team did not ship (metadat's egger2001 and yusuf1985 table 6, both with zero cells):
``tests/reference/metafor_measures.json`` (``Rscript tests/reference/metafor_measures.R``:
``escalc(measure)``, ``rma.mh(measure = ...)``, ``rma(yi, vi, method = M)``) and
``tests/reference/metafor_forest_measures.json`` (``Rscript
tests/reference/metafor_forest_measures.R``: ``weights(rma(yi, vi, method = "REML"))``). The
Bayesian rows are the posterior pooled risk ratio or difference at the control risk of the
analysis, i.e. its absolute-effect summary; the exact normal-normal engine keeps this cheap."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import special
from typer.testing import CliRunner

from bayesmeta import load
from bayesmeta.cli import app
from bayesmeta.report.document import render_figures
from bayesmeta.report.figures.forest import forest_layout
from bayesmeta.workflows.analyze import analyze
from bayesmeta.workflows.presentation import forest_numbers
from bayesmeta.workflows.report import analyses
from bayesmeta.workflows.request import AnalysisRequest, plan
from tests.conftest import EXAMPLES

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "frequentist" / "data"
REFS = ROOT / "tests" / "reference"
REF = json.loads((REFS / "metafor_measures.json").read_text())
WEIGHTS = json.loads((REFS / "metafor_forest_measures.json").read_text())
BLOCKS = {"mantel_haenszel": "mh", "fixed_iv": "iv_fixed", "random_dl": "re_dl",
          "random_reml": "re_reml", "random_reml_hksj": "re_reml_hksj"}  # fmt: skip
SHOW = {"RR": np.exp, "RD": lambda x: np.asarray(x, dtype=float)}


@pytest.mark.parametrize("name", ("egger2001", "yusuf1985_table6"))
@pytest.mark.parametrize("measure", ("RR", "RD"))
def test_forest_rows_on_the_measure_equal_metafor(name: str, measure: str) -> None:
    result = analyze(
        load(DATA / f"{name}.csv"), model="normal-normal", measure=measure, baseline_risks=(0.1,)
    )
    layout = forest_layout(result, forest_numbers(result))
    ref, show = REF[name][measure], SHOW[measure]
    assert layout.axis.title == {"RR": "Risk ratio", "RD": "Risk difference"}[measure]
    studies = [r for r in layout.rows if r.kind == "study"]
    yi, se = np.asarray(ref["yi"]), np.sqrt(ref["vi"])
    z = special.ndtri(0.975)
    np.testing.assert_allclose(
        [[r.observed.estimate, r.observed.lower, r.observed.upper] for r in studies],
        np.column_stack([show(yi), show(yi - z * se), show(yi + z * se)]), rtol=1e-6,
        atol=1e-12)  # fmt: skip
    assert all(r.shrunken is None for r in studies)  # the model's log ORs are not drawn
    raw = pd.read_csv(DATA / f"{name}.csv")
    events = raw[["treatment_events", "control_events"]].to_numpy()
    totals = raw[["treatment_total", "control_total"]].to_numpy()
    zero = ((events == 0) | (events == totals)).any(axis=1)  # escalc's to = "only0"
    assert zero.any()
    assert [r.cells["observed"].endswith("*") for r in studies] == zero.tolist()
    assert layout.weight_method == "random_reml"
    weights = WEIGHTS[name][measure]["reml"]["weights"]
    np.testing.assert_allclose([r.weight for r in studies], weights, rtol=1e-6)
    diamonds = {r.method: r.observed for r in layout.rows if r.kind == "frequentist"}
    assert set(diamonds) == set(BLOCKS)
    for method, block in BLOCKS.items():
        got, want = diamonds[method], ref[block]
        np.testing.assert_allclose([got.estimate, got.lower, got.upper],
                                   show([want["est"], want["ci_lb"], want["ci_ub"]]), rtol=1e-6,
                                   atol=1e-12)  # fmt: skip


@pytest.mark.parametrize("measure", ("RR", "RD"))
def test_bayesian_rows_are_the_absolute_effects_at_the_control_risks(measure: str) -> None:
    result = analyze(
        load(EXAMPLES / "bcg.csv"), model="normal-normal", measure=measure,
        baseline_risks=(0.05, 0.2),
    )  # fmt: skip
    layout = forest_layout(result, forest_numbers(result))
    pooled = [r for r in layout.rows if r.kind == "bayesian"]
    new = [r for r in layout.rows if r.kind == "prediction"]
    assert [r.label for r in pooled] == [
        "Bayesian random effects, at control risk 0.05",
        "Bayesian random effects, at control risk 0.2",
    ]
    for risk, row, predicted in zip((0.05, 0.2), pooled, new, strict=True):
        for shown, of in ((row.shrunken, "pooled"), (predicted.shrunken, "new_study")):
            effect = result.absolute.at(risk, of)
            if measure == "RR":
                s, scale = effect.risk_ratio, 1.0
            else:
                s, scale = effect.risk_difference_per_1000, 1000.0
            want = np.array([s.median, *s.interval]) / scale
            np.testing.assert_allclose([shown.estimate, shown.lower, shown.upper], want, rtol=1e-12)
    assert layout.reference == pytest.approx(pooled[0].shrunken.estimate)


def test_without_control_risks_the_bayesian_rows_are_left_out_with_a_note() -> None:
    result = analyze(load(EXAMPLES / "bcg.csv"), model="normal-normal", measure="RR")
    numbers = forest_numbers(result)
    assert numbers.bayesian == () and "--baseline-risk" in numbers.bayesian_note
    layout = forest_layout(result, numbers)
    assert not {"bayesian", "prediction"} & {r.kind for r in layout.rows}
    assert numbers.bayesian_note in [r.label for r in layout.rows if r.kind == "note"]
    assert layout.reference is None
    assert "shrunken" not in {c.key for c in layout.columns}  # no empty posterior column


def test_plot_forest_and_fit_plot_draw_on_the_measure(tmp_path) -> None:
    out = tmp_path / "forest.svg"
    args = ["--example", "bcg", "--model", "normal-normal"]
    result = CliRunner().invoke(
        app, ["plot", "forest", *args, "--measure", "RR", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    svg = out.read_text()
    assert "Observed RR" in svg and "Risk ratio" in svg and "Bayesian rows left out" in svg
    given = ["plot", "forest", *args, "--measure", "RR", "--baseline-risk", "0.05"]
    result = CliRunner().invoke(app, [*given, "--out", str(out), "--force"])
    assert result.exit_code == 0, result.output
    assert "at control risk 0.05" in out.read_text()
    png = tmp_path / "fit.png"
    fitted = CliRunner().invoke(
        app, ["fit", *args, "--measure", "RD", "--baseline-risk", "0.1", "--plot", str(png)]
    )
    assert fitted.exit_code == 0, fitted.output
    assert png.stat().st_size > 0


def test_report_on_the_measure_has_the_forest_figure() -> None:
    request = AnalysisRequest(
        data=DATA / "egger2001.csv", model="normal-normal", measure="RR", baseline_risks=(0.1,)
    )
    figure = render_figures(analyses(plan(request), parts=("fit",)), figures=("forest",))
    assert figure["forest"].reason is None and figure["forest"].png
