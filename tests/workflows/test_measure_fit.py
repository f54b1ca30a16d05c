"""``bayesmeta fit --measure``: the frequentist rows on RR or RD beside the Bayesian model on
the log odds ratio, against R metafor 3.8-1 (``tests/reference/metafor_measures.json``, from
``Rscript tests/reference/metafor_measures.R``; see ``tests/frequentist/test_measures.py``).
The exact normal-normal engine keeps these tests cheap; the measure touches only the
frequentist rows, whatever the engine."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from bayesmeta import load
from bayesmeta.cli import app
from bayesmeta.workflows.analyze import analyze
from tests.conftest import EXAMPLES

ROOT = Path(__file__).resolve().parents[2]
REF = json.loads((ROOT / "tests" / "reference" / "metafor_measures.json").read_text())
ROWS = {"mantel_haenszel": "mh", "fixed_iv": "iv_fixed", "random_dl": "re_dl",
        "random_reml": "re_reml", "random_reml_hksj": "re_reml_hksj"}  # fmt: skip


@pytest.mark.parametrize("measure", ("RR", "RD"))
def test_frequentist_rows_are_on_the_measure_and_the_posterior_on_the_odds_ratio(
    measure: str,
) -> None:
    data = load(EXAMPLES / "nielweise2007.csv")
    result = analyze(data, model="normal-normal", measure=measure)
    plain = analyze(data, model="normal-normal")
    for method, block in ROWS.items():
        ours, ref = result.frequentist[method], REF["nielweise2007"][measure][block]
        np.testing.assert_allclose(
            [ours.estimate, *ours.ci, ours.tau2], [ref["est"], ref["ci_lb"], ref["ci_ub"],
            ref["tau2"]], rtol=1e-6, atol=1e-10)  # fmt: skip
    assert result.posterior.mu == plain.posterior.mu
    assert result.scale.name == "log_odds_ratio"
    assert result.frequentist_scale.label == measure
    out = result.to_dict()
    assert out["frequentist_measure"] == measure and out["scale"] == "log_odds_ratio"
    assert "frequentist_measure" not in plain.to_dict()


def test_fit_cli_says_which_scale_each_part_is_on(tmp_path) -> None:
    out = tmp_path / "fit.json"
    result = CliRunner().invoke(
        app,
        ["fit", "--example", "bcg", "--model", "normal-normal", "--measure", "rd",
         "--json", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "Frequentist rows on the risk difference (RD) scale (--measure RD)" in text
    assert "the Bayesian posterior above is on the odds ratio (OR) scale" in text
    written = json.loads(out.read_text())
    mh = written["frequentist"]["mantel_haenszel"]
    assert mh["estimate"] == pytest.approx(REF["bcg"]["RD"]["mh"]["est"], rel=1e-6)
