"""``--measure RR | RD`` beyond ``classic`` and ``fit``: the funnel plot, the report's
frequentist table, batch tables and TOML specifications, on data the team did not ship
(metadat's egger2001 and yusuf1985 table 6, ``tests/frequentist/data``), against R metafor
3.8-1 (``tests/reference/metafor_measures.json`` from ``Rscript
tests/reference/metafor_measures.R``: ``escalc(measure)`` and ``rma(yi, vi, method = "REML")``,
``rma.mh(measure = ...)``). The Bayesian model stays on the log odds ratio."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from bayesmeta import load
from bayesmeta.cli import app
from bayesmeta.engines.nuts import SamplerSettings
from bayesmeta.plots import funnel
from bayesmeta.report import document
from bayesmeta.report.format import interval, num
from bayesmeta.workflows.batch import BatchOptions, Job, run_one
from bayesmeta.workflows.report import analyses
from bayesmeta.workflows.request import AnalysisRequest, plan

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "frequentist" / "data"
REF = json.loads((ROOT / "tests" / "reference" / "metafor_measures.json").read_text())
UNSEEN = ("egger2001", "yusuf1985_table6")


@pytest.mark.parametrize("name", UNSEEN)
@pytest.mark.parametrize(("measure", "title", "show"), [("RR", "Risk ratio", np.exp),
                         ("RD", "Risk difference", lambda x: x)])  # fmt: skip
def test_funnel_plot_on_the_measure(name: str, measure: str, title: str, show) -> None:
    fig = funnel(load(DATA / f"{name}.csv"), measure=measure)
    ax = next(a for a in fig.axes if a.get_gid() == "funnel-panel")
    ref = REF[name][measure]
    assert ax.get_xlabel() == title
    points = next(c for c in ax.collections if c.get_gid() == "studies").get_offsets()
    np.testing.assert_allclose(points[:, 0], show(np.asarray(ref["yi"])), rtol=1e-6)
    np.testing.assert_allclose(points[:, 1], np.sqrt(ref["vi"]), rtol=1e-6)
    centre = next(x for x in ax.lines if x.get_gid() == "centre").get_xdata()[0]
    assert centre == pytest.approx(float(show(ref["iv_fixed"]["est"])), rel=1e-6)
    legend = [t.get_text() for t in fig.legends[0].get_texts()][-1]
    assert f"t = {ref['egger']['z']:.2f}" in legend  # regtest(model = "lm") on the measure


@pytest.mark.parametrize("measure", ("RR", "RD"))
def test_report_frequentist_table_on_the_measure(measure: str) -> None:
    name = "egger2001"
    request = AnalysisRequest(data=DATA / f"{name}.csv", model="normal-normal", measure=measure)
    contents = analyses(plan(request), parts=("fit",))
    table = document.frequentist_table(contents)
    assert table.columns[1] == measure
    show = np.exp if measure == "RR" else (lambda x: x)
    rows = {r[0]: r for r in table.rows}
    for label, key in (("Mantel-Haenszel (common)", "mh"), ("REML", "re_reml")):
        ref = REF[name][measure][key]
        assert rows[label][1] == num(float(show(ref["est"])))
        assert rows[label][2] == interval(show(ref["ci_lb"]), show(ref["ci_ub"]))
    note = document.sections(contents, {})["measure_note"]
    assert f"--measure {measure}" in note and "OR scale" in note


@pytest.mark.parametrize("measure", ("RR", "RD"))
def test_batch_frequentist_columns_on_the_measure(measure: str) -> None:
    name = "yusuf1985_table6"
    options = BatchOptions(settings=SamplerSettings(chains=1, draws=100, tune=100),
                           measure=measure)  # fmt: skip
    row = run_one(Job(name, DATA / f"{name}.csv"), options)
    assert row["status"] == "ok", row["reason"]
    for prefix, key in (("mh", "mh"), ("dl", "re_dl"), ("reml", "re_reml")):
        ref = REF[name][measure][key]
        got = [row[f"{prefix}_estimate"], row[f"{prefix}_ci_lower"], row[f"{prefix}_ci_upper"]]
        np.testing.assert_allclose(got, [ref["est"], ref["ci_lb"], ref["ci_ub"]], rtol=1e-6)
    assert f"measure={measure}" in row["options"]
    assert BatchOptions.from_strings(measure="or").measure is None
    with pytest.raises(Exception, match="OR, RR or RD"):
        BatchOptions.from_strings(measure="SMD")


def test_specification_measure_and_absolute_effects(tmp_path) -> None:
    name = "egger2001"
    (tmp_path / f"{name}.csv").write_bytes((DATA / f"{name}.csv").read_bytes())
    spec = tmp_path / "spec.toml"
    spec.write_text(
        f'[data]\npath = "{name}.csv"\n[model]\nname = "normal-normal"\nmeasure = "rd"\n'
        "[absolute]\nbaseline_risks = [0.1]\nbenefit_threshold = 5\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["run", str(spec)])
    assert result.exit_code == 0, result.output
    out = json.loads((tmp_path / "spec.result.json").read_text())
    assert out["frequentist_measure"] == "RD"
    ref = REF[name]["RD"]["re_reml"]
    assert out["frequentist"]["random_reml"]["estimate"] == pytest.approx(ref["est"], rel=1e-6)
    absolute = out["absolute_effects"]
    assert absolute["benefit"] == "at least 5 fewer events per 1,000"
    assert 0 <= absolute["baseline_risks"]["0.1"]["pooled"]["p_benefit"] <= 1


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ("[absolute]\nbaseline_risks = [2]\n", "[absolute] --baseline-risk"),
        ("[absolute]\nbaseline_risks = 0.1\n", 'a list of risks or "studies"'),
        ("[absolute]\nbenefit_threshold = 5\n", "need baseline_risks"),
    ],
)
def test_specification_absolute_errors(tmp_path, body: str, fragment: str) -> None:
    from tests.conftest import fails_cleanly

    spec = tmp_path / "spec.toml"
    spec.write_text('[data]\nexample = "bcg"\n' + body, encoding="utf-8")
    assert fragment in fails_cleanly(["run", str(spec)])


def test_the_posterior_reports_the_measure_chosen() -> None:
    """RR or RD without control risks: the binomial-normal model under NUTS reports them at
    the trials' own control risks; the normal-normal model has no baselines and says how."""
    from bayesmeta.report.terminal import posterior_measure_note
    from bayesmeta.workflows.request import execute

    planned = plan(AnalysisRequest(example="bcg", measure="RR"))
    assert planned.engine == "nuts" and planned.request.baseline_risks == ("studies",)
    assert plan(AnalysisRequest(example="bcg")).request.baseline_risks == ()
    exact = execute(plan(AnalysisRequest(example="bcg", model="normal-normal", measure="RD")))
    assert exact.absolute is None
    assert "give --baseline-risk for its RD" in posterior_measure_note(exact)


def test_command_line_spells_out_the_absolute_options() -> None:
    from bayesmeta.summaries.absolute import Benefit
    from bayesmeta.workflows.report import command_line

    request = AnalysisRequest(example="bcg", measure="RR", baseline_risks=(0.05, "studies"),
                              benefit=Benefit(10, fewer=False))  # fmt: skip
    line = command_line(request, "plot funnel")
    assert "--measure RR --baseline-risk 0.05,studies" in line
    assert "--benefit-threshold 10 --desirable-events" in line
