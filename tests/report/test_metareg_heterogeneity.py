"""``classic --covariate``: the terminal shows the residual tau^2, I^2 and H^2 of each
meta-regression with their intervals, metafor's ``confint(rma(yi, vi, mods = ~ ablat,
method = M))`` and ``confint(..., type = "PL")`` (tests/reference/metafor_metareg_confint.R,
R 4.2.2, metafor 3.8-1)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

import bayesmeta
from bayesmeta.cli import app
from bayesmeta.frequentist.methods import METHODS
from bayesmeta.report.format import interval, num
from bayesmeta.report.terminal import regression_tables

REF = json.loads(
    (Path(__file__).parents[1] / "reference" / "metafor_metareg_confint.json").read_text()
)["bcg"]["ablat"]


def test_residual_heterogeneity_rows_are_metafors_intervals() -> None:
    result = bayesmeta.classic(bayesmeta.load_example("bcg"), covariates=["ablat"])
    tables = regression_tables(result.meta_regression, result.shown, result.level)
    spread = tables[-1]
    assert spread.title.startswith("Meta-regression residual heterogeneity")
    rows = {row[0]: row for row in spread.rows}
    for method, key in (("REML", "random_reml"), ("ML", "random_ml"), ("DL", "random_dl")):
        row, ref = rows[METHODS[key].label], REF[method]
        q = ref["qprofile"]
        assert row[1] == num(ref["tau2"], 4)
        assert row[2] == interval(*q["tau2"][1:], 4)
        assert row[4] == interval(*q["I2"][1:], 1)
        assert row[6] == interval(*q["H2"][1:], 2)
        assert row[7] == (interval(*ref["pl"]["tau2"][1:], 4) if "pl" in ref else "-")


def test_classic_prints_the_table() -> None:
    out = CliRunner().invoke(app, ["classic", "--example", "bcg", "--covariate", "ablat"])
    assert out.exit_code == 0, out.output
    assert "Meta-regression residual heterogeneity" in out.output
    assert interval(*REF["REML"]["qprofile"]["tau2"][1:], 4) in out.output
