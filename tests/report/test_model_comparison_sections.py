"""The report's model-averaging and prior-robustness sections: computed in workflows/report.py
(the same numbers as ``bayesmeta average`` and ``bayesmeta robustness``), drawn and printed by
report/, and NotRun with the reason where the exact engines do not apply."""

from __future__ import annotations

import json
import math
from html import escape

import numpy as np
import pytest
from typer.testing import CliRunner

from bayesmeta.cli import app
from bayesmeta.report import document
from bayesmeta.workflows.bayes_factors import MODELS, marginal_likelihoods
from bayesmeta.workflows.report import NotRun, analyses
from bayesmeta.workflows.request import AnalysisRequest, plan
from bayesmeta.workflows.robustness import robustness_map
from tests.report.test_document import parse, table_with

PARTS = ("fit", "average", "robustness")


def _figures(contents) -> dict[str, document.RenderedFigure]:
    """The two figures of these sections drawn; the others left out (drawing them all is slow
    and tested elsewhere)."""
    out = {
        name: document.RenderedFigure(name, "", reason="left out of this test")
        for name in document.REPORT_FIGURES
    }
    for name in ("average", "robustness"):
        out[name] = document.render_figures(contents, figures=(name,))[name]
    return out


@pytest.fixture(scope="module")
def contents():
    return analyses(plan(AnalysisRequest(example="bcg", model="normal-normal")), parts=PARTS)


def test_average_is_its_definition_from_the_four_marginal_likelihoods(contents) -> None:
    avg = contents.average
    ml = marginal_likelihoods(contents.plan.spec)
    top = max(ml.values())
    norm = sum(math.exp(v - top) for v in ml.values())
    for m in MODELS:
        assert avg.posterior_probabilities[m] == pytest.approx(
            math.exp(ml[m] - top) / norm, rel=1e-12
        )
    effect = np.logaddexp(ml["effect_random"], ml["effect_common"])
    null = np.logaddexp(ml["null_random"], ml["null_common"])
    assert avg.log_inclusion_bf_effect == pytest.approx(effect - null, abs=1e-12)


def test_sections_figures_and_json_are_on_the_page(contents) -> None:
    html = document.render_html(contents, _figures(contents))
    page = parse(html)
    order = [i for i in page.ids if i in ("sensitivity", "average", "robustness", "influence")]
    assert order == ["sensitivity", "average", "robustness", "influence"]
    assert {"figure-average", "figure-robustness"} <= set(page.ids)
    rows = table_with(page, "Model")
    assert [r[0] for r in rows[1:]] == [
        "effect, random",
        "effect, common",
        "no effect, random",
        "no effect, common",
        "model-averaged",
    ]
    avg = contents.average
    assert rows[1][3] == f"{avg.posterior_probabilities['effect_random']:.4g}"
    assert f"effect: {math.exp(avg.log_inclusion_bf_effect):.4g}" in html
    rmap = robustness_map(contents.plan.spec, check=False)
    assert escape(rmap.summary_lines(timing=False)[1], quote=False) in html
    embedded = json.loads(page.json)
    np.testing.assert_allclose(embedded["robustness"]["prob_benefit"], rmap.prob_benefit)
    assert embedded["average"]["posterior_probabilities"] == pytest.approx(
        avg.posterior_probabilities
    )
    items = {i.item: i for i in document.words.checklist(contents)}
    assert items["3. Bayes factors and model probabilities"].status == "reported"


def test_common_effect_report_averages_but_has_no_robustness_map() -> None:
    common = AnalysisRequest(example="bcg", model="normal-normal", common_effect=True)
    got = analyses(plan(common), parts=PARTS)
    assert not isinstance(got.average, NotRun)
    assert isinstance(got.robustness, NotRun)
    assert got.robustness.reason.startswith("a common-effect model has no tau")


def test_plot_average_and_robustness(tmp_path) -> None:
    runner = CliRunner()
    for kind in ("average", "robustness"):
        out = tmp_path / f"{kind}.png"
        args = ["plot", kind, "--example", "bcg", "--model", "normal-normal", "--out", str(out)]
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
        assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
