"""The report's publication-bias ensemble section and figure read the ensemble computed in
the analysis (``workflows.report``, part ``bias``): the same numbers, nothing recomputed."""

from __future__ import annotations

import math

from bayesmeta.report.document import sections
from bayesmeta.report.figures import Style
from bayesmeta.report.figures.kinds import KINDS
from bayesmeta.workflows.report import NotRun, analyses
from bayesmeta.workflows.request import AnalysisRequest, plan
from tests.report.conftest import FAST


def test_bias_section_and_figure_show_the_ensemble() -> None:
    request = AnalysisRequest(example="li2007", model="normal-normal", settings=FAST)
    contents = analyses(plan(request), parts=("fit", "bias"))
    ens = contents.bias
    assert not isinstance(ens, NotRun)
    assert ens.direction == "negative"  # the direction of the common-effect estimate
    text = sections(contents, {})
    rows = {r[0]: r for r in text["bias_ensemble"].rows}
    prior, post = ens.component_probabilities("bias")
    assert rows["Publication bias"][1:3] == [f"{prior:.3f}", f"{post:.3f}"]
    assert rows["Publication bias"][3] == f"{math.exp(ens.log_inclusion_bf['bias']):.3g}"
    note = text["bias_ensemble_note"]
    assert f"{math.exp(ens.mu.median):.2f}" in note and "negative effects" in note
    fig = KINDS["bias"].draw(contents, Style())
    gids = {ax.get_gid() for ax in fig.axes}
    assert gids == {"weight-function", "averaged-effect"}


def test_bias_section_absent_unless_asked() -> None:
    request = AnalysisRequest(example="bcg", model="normal-normal", settings=FAST)
    contents = analyses(plan(request), parts=("fit",))
    text = sections(contents, {})
    assert text["bias_ensemble"] is None and text["bias_ensemble_note"] is None
