"""Designs that cannot be fitted are refused before any sampling (issue 22).

A repeated covariate (``--covariate ablat --covariate ablat``) used to sample the slope of a
duplicated column: 1.95 [-5.29, 6.49] with "Diagnostics: OK" for bcg, where metafor's REML
slope on ``ablat`` is -0.0315. Missing covariate cells used to turn a numeric column into
categories ("NA" a level of its own).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bayesmeta.errors import BayesmetaError
from bayesmeta.io.inputs import load
from bayesmeta.model.moderators import Moderators, moderators
from tests.conftest import EXAMPLES, fails_cleanly

BCG = str(EXAMPLES / "bcg.csv")


def test_a_repeated_covariate_is_refused_on_the_command_line() -> None:
    line = fails_cleanly(["fit", BCG, "--covariate", "ablat", "--covariate", "ablat"])
    assert "covariate 'ablat' is given twice" in line


def test_a_repeated_covariate_is_refused_in_a_spec(tmp_path) -> None:
    spec = tmp_path / "spec.toml"
    spec.write_text('[data]\nexample = "bcg"\n[model]\ncovariates = ["ablat", "ablat"]\n')
    assert "covariate 'ablat' is given twice" in fails_cleanly(["run", str(spec)])


def test_a_repeated_covariate_is_refused_by_the_api() -> None:
    data = load(BCG)
    with pytest.raises(BayesmetaError, match="given twice"):
        moderators(data.covariates, names=["ablat", "ablat"])


@pytest.mark.parametrize(
    ("extra", "names", "fragment"),
    [
        # twice the latitude: collinear with ablat
        (lambda d: d.assign(lat2=2 * d["ablat"]), ["ablat", "lat2"], "'lat2' is a linear"),
        # a linear combination of two columns and the intercept
        (
            lambda d: d.assign(mix=3 + d["ablat"] - 0.5 * d["year"]),
            ["ablat", "year", "mix"],
            "'mix' is a linear combination of 'intercept', 'ablat', 'year'",
        ),
        # a numeric copy of a text covariate's indicator
        (
            lambda d: d.assign(r=(d["alloc"] == "random").astype(float)),
            ["alloc", "r"],
            "'r' is a linear combination of 'alloc[random]'",
        ),
        (lambda d: d.assign(c=7.0), ["ablat", "c"], "covariate 'c' has the same value"),
        (lambda d: d.assign(t="x"), ["t"], "covariate 't' has the same value"),
    ],
)
def test_a_rank_deficient_design_names_its_columns(extra, names, fragment) -> None:
    covariates = extra(load(BCG).covariates)
    with pytest.raises(BayesmetaError) as caught:
        moderators(covariates, names=names)
    assert fragment in str(caught.value)


def test_a_covariate_that_is_the_subgroup_is_refused() -> None:
    covariates = load(BCG).covariates
    covariates = covariates.assign(r=(covariates["alloc"] == "random").astype(float))
    with pytest.raises(BayesmetaError, match="'r' is a linear combination of 'alloc"):
        moderators(covariates, names=["r"], subgroup="alloc")


def test_a_rank_deficient_moderators_object_is_refused() -> None:
    x = np.column_stack([np.arange(4.0), 2 * np.arange(4.0)])
    with pytest.raises(BayesmetaError, match="'b' is a linear combination"):
        Moderators(x - x.mean(axis=0), ("a", "b"), x.mean(axis=0))


def test_collinear_covariates_fail_before_sampling_on_the_command_line(write_csv) -> None:
    text = (EXAMPLES / "bcg.csv").read_text().splitlines()
    rows = [text[0] + ",lat2", *(f"{r},{2 * int(r.split(',')[5])}" for r in text[1:])]
    path = write_csv("\n".join(rows) + "\n")
    line = fails_cleanly(["fit", str(path), "--covariate", "ablat", "--covariate", "lat2"])
    assert "'lat2' is a linear combination of 'ablat'" in line


@pytest.mark.parametrize("gap", ["", "NA", " na "])
def test_a_numeric_covariate_with_a_missing_cell_stays_numeric(write_csv, gap: str) -> None:
    path = write_csv(f"study,yi,vi,dose\na,0.1,0.04,1.5\nb,0.5,0.09,{gap}\nc,-0.2,0.05,3\n")
    column = load(path).covariates["dose"]
    assert column.dtype == float
    assert column.iloc[0] == 1.5 and np.isnan(column.iloc[1]) and column.iloc[2] == 3.0


def test_a_missing_covariate_is_refused_naming_the_rows(write_csv) -> None:
    path = write_csv(
        "study,yi,vi,dose,arm\na,0.1,0.04,1.5,x\nb,0.5,0.09,NA,y\nc,-0.2,0.05,3,\nd,0.3,0.1,,x\n"
    )
    line = fails_cleanly(["fit", str(path), "--covariate", "dose"])
    assert "covariate 'dose' is missing in rows 2, 4" in line
    # a text covariate: a blank is missing too, not a category of its own
    line = fails_cleanly(["fit", str(path), "--covariate", "arm"])
    assert "covariate 'arm' is missing in row 3" in line


def test_the_api_refuses_a_missing_covariate_as_the_command_line() -> None:
    covariates = pd.DataFrame({"dose": [1.0, np.nan, 3.0]})
    with pytest.raises(BayesmetaError, match="'dose' is missing in row 2"):
        moderators(covariates, names=["dose"])


def test_the_report_shows_a_numeric_covariate_with_a_gap_as_written(write_csv) -> None:
    from bayesmeta.report.document import data_table
    from bayesmeta.workflows.analyze import analyze

    path = write_csv("study,yi,vi,year\na,0.1,0.04,1998\nb,0.5,0.09,NA\nc,-0.2,0.05,2003\n")
    table = data_table(analyze(load(path), engine="exact"))
    assert [row[-1] for row in table.rows] == ["1998", "", "2003"]
