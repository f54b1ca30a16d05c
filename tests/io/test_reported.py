"""Reported effect sizes: formats, conversions from confidence intervals, one error per case."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bayesmeta.engines.exact import nnhm_posterior
from bayesmeta.errors import BayesmetaError, DataError
from bayesmeta.io.reported import ReportedEffects, load_reported

ROOT = Path(__file__).resolve().parents[2]
Z95 = 1.959963984540054  # qnorm(0.975)
Z90 = 1.6448536269514722  # qnorm(0.95)


def write(tmp_path: Path, text: str, name: str = "reported.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_log_or_with_se(tmp_path):
    path = write(tmp_path, "study,log_or,se\nA,-0.5,0.2\nB,0.1,0.3\n")
    eff = load_reported(path)
    assert isinstance(eff, ReportedEffects)
    assert eff.study == ("A", "B")
    np.testing.assert_allclose(eff.yi, [-0.5, 0.1])
    np.testing.assert_allclose(eff.vi, [0.04, 0.09])
    assert eff.measure == "OR"
    assert eff.ratio
    assert eff.source == str(path)


def test_odds_ratio_with_ci_is_logged():
    """se = (log ub - log lb) / (2 * 1.96): 0.5 (0.25 to 1.0) gives log(4) / 3.92."""
    frame = pd.DataFrame(
        {"study": ["A", "B"], "OR": [0.5, 2.0], "CI Lower": [0.25, 1.0], "CI Upper": [1.0, 4.0]}
    )
    eff = load_reported(frame)
    np.testing.assert_allclose(eff.yi, np.log([0.5, 2.0]))
    np.testing.assert_allclose(np.sqrt(eff.vi), [math.log(4) / (2 * Z95)] * 2, rtol=1e-12)
    assert eff.source == "data"


def test_ci_level_is_selectable():
    frame = pd.DataFrame({"study": ["A", "B"], "hr": [0.8, 1.2], "lower": [0.5, 0.9]})
    frame["upper"] = [1.28, 1.6]
    eff = load_reported(frame, ci_level=0.90)
    assert eff.measure == "HR"
    expected = (np.log([1.28, 1.6]) - np.log([0.5, 0.9])) / (2 * Z90)
    np.testing.assert_allclose(np.sqrt(eff.vi), expected, rtol=1e-12)


def test_generic_estimate_with_se_and_covariates(tmp_path):
    path = write(tmp_path, "Study,Estimate,SE,year,region\nA,0.3,0.1,2001,EU\nB,0.5,0.2,2004,US\n")
    eff = load_reported(path)
    assert eff.measure == "generic"
    assert not eff.ratio
    assert list(eff.covariates.columns) == ["year", "region"]
    assert eff.covariates["year"].tolist() == [2001, 2004]


def test_generic_estimate_with_ci_is_not_logged():
    frame = pd.DataFrame({"study": ["A", "B"], "smd": [-0.2, 0.4]})
    frame["ci_lower"], frame["ci_upper"] = [-0.6, 0.0], [0.2, 0.8]
    eff = load_reported(frame)
    assert eff.measure == "SMD"
    np.testing.assert_allclose(eff.yi, [-0.2, 0.4])
    np.testing.assert_allclose(np.sqrt(eff.vi), [0.4 / Z95] * 2, rtol=1e-12)


def test_metafor_yi_vi(tmp_path):
    """The variances are kept as written (sqrt then square would change 0.1 in its last bit)."""
    path = write(tmp_path, "study,yi,vi\nA,-0.9,0.05\nB,-1.2,0.1\n")
    eff = load_reported(path)
    np.testing.assert_array_equal(eff.vi, [0.05, 0.1])


def test_explicit_column_mapping():
    frame = pd.DataFrame({"trial": ["A", "B"], "effect_ln": [0.1, 0.2], "s": [0.1, 0.2]})
    eff = load_reported(frame, columns={"estimate": "effect_ln", "se": "s"})
    assert eff.study == ("A", "B")
    assert eff.measure == "generic"
    np.testing.assert_allclose(eff.vi, [0.01, 0.04])


def test_se_is_preferred_and_the_ci_still_checked():
    frame = pd.DataFrame(
        {"study": ["A", "B"], "log_hr": [0.0, 0.1], "se": [0.1, 0.2], "lower": [-0.5, -0.3]}
    )
    frame["upper"] = [0.5, 0.5]
    np.testing.assert_allclose(load_reported(frame).vi, [0.01, 0.04])
    frame.loc[1, "upper"] = 0.05
    with pytest.raises(DataError, match=r"row 2 \('B'\), column 'log_hr': .*outside its CI"):
        load_reported(frame)


def test_bcg_log_odds_ratios_round_trip_to_the_exact_reference(tmp_path):
    """BCG log odds ratios written as ``study,yi,vi`` reproduce the nnhm reference.

    BCG has no zero cells, so escalc's yi = log(ad / bc), vi = 1/a + 1/b + 1/c + 1/d.
    """
    counts = pd.read_csv(ROOT / "examples" / "bcg.csv")
    a, c = counts["treatment_events"], counts["control_events"]
    b, d = counts["treatment_total"] - a, counts["control_total"] - c
    frame = pd.DataFrame(
        {
            "study": counts["study"],
            "yi": np.log(a * d / (b * c)),
            "vi": 1 / a + 1 / b + 1 / c + 1 / d,
        }
    )
    frame.to_csv(tmp_path / "bcg_yi.csv", index=False)
    eff = load_reported(tmp_path / "bcg_yi.csv")
    post = nnhm_posterior(
        eff.yi, eff.vi, prior_mu="normal(0, 10)", prior_tau="half-normal(0.5)", study=eff.study
    )
    ref = json.loads((ROOT / "tests" / "reference" / "bcg.nnhm.json").read_text())
    assert post.mu.median == pytest.approx(ref["mu"]["median"], abs=1e-6)


# --------------------------------------------------------------------------- one error per case

ERRORS = [
    ("study,effect_size,se\nA,1,0.1\nB,2,0.1\n", "no effect estimate column; found 'study'"),
    ("study,log_or,ci_lower\nA,1,0.5\nB,2,0.5\n", "missing column.*se, vi, or both ci_lower"),
    ("study,log_or,se\nA,1,0.1\nB,2,abc\n", r"row 2 \('B'\), column 'se': se must be a number"),
    ("study,log_or,se\nA,1,0.1\nB,,0.1\n", r"row 2 \('B'\), column 'log_or': log_or is missing"),
    ("study,log_or,se\nA,1,0.1\nB,2,inf\n", "column 'se': se must be a finite number"),
    ("study,log_or,se\nA,1,0\nB,2,0.1\n", r"row 1 \('A'\), column 'se': .*positive.*got 0"),
    ("study,log_or,se\nA,1,0.1\nB,2,-0.2\n", r"row 2 \('B'\), column 'se': .*positive"),
    ("study,yi,vi\nA,1,0.1\nB,2,0\n", r"column 'vi': vi must be positive \(a variance\)"),
    ("study,or,lower,upper\nA,0,0.1,2\nB,1,0.5,2\n", r"column 'or': .*positive \(it is a ratio"),
    ("study,or,lower,upper\nA,1,-0.1,2\nB,1,0.5,2\n", "column 'lower': lower must be positive"),
    ("study,or,lower,upper\nA,1,0.5,2\nB,1,2,0.5\n", r"row 2 .*column 'lower'.*must be below"),
    ("study,estimate,lower,upper\nA,1,1,1\nB,1,0,2\n", r"row 1 .*must be below the upper"),
    ("study,or,lower,upper\nA,3,0.5,2\nB,1,0.5,2\n", r"row 1 .*estimate 3 lies outside .*0.5, 2"),
    ("study,log_or,se\n,1,0.1\nB,2,0.1\n", r"row 1, column 'study': study name is missing"),
    # issue 9: float() reads 1_0 as 10 and fullwidth or Arabic-Indic digits as numbers
    ("study,log_or,se\nA,1_0,0.1\nB,2,0.1\n", r"row 1 \('A'\), column 'log_or': .*digits 0-9"),
    ("study,log_or,se\nA,1,0.1\nB,2,\uff10.1\n", r"row 2 \('B'\), column 'se': .*digits 0-9"),
    ("study,yi,vi\nA,1,0.1\nB,\u0662,0.1\n", r"row 2 \('B'\), column 'yi': .*digits 0-9"),
    ("study,log_or,se\nA,1,1e-200\nB,2,0.1\n", r"row 1 \('A'\): the standard error is too small"),
    ("study,log_or,se\nA,1,1e200\nB,2,0.1\n", r"row 1 \('A'\): the standard error is too large"),
    (
        "study,log_or,se,estimate\nA,1,0.1,1\nB,2,0.1,2\n",
        "columns 'log_or' and 'estimate' are both estimate",
    ),
    ("", "the file is empty"),
    ("study,log_or,se\n", "no studies: the file has a header but no rows"),
    ("study,log_or,se\nA,1,0.1\n", "at least 2 studies, got 1"),
]


@pytest.mark.parametrize(("text", "message"), ERRORS)
def test_errors_name_the_row_and_column(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(DataError, match=message) as info:
        load_reported(path)
    assert "\n" not in str(info.value)
    assert str(info.value).startswith(str(path))


def test_unknown_role_in_the_mapping():
    frame = pd.DataFrame({"study": ["A", "B"], "log_or": [1, 2], "se": [0.1, 0.1]})
    with pytest.raises(DataError, match=r"unknown column role.*estmate; valid: study, estimate"):
        load_reported(frame, columns={"estmate": "log_or"})


def test_mapped_column_not_in_the_data():
    frame = pd.DataFrame({"study": ["A", "B"], "log_or": [1, 2], "se": [0.1, 0.1]})
    with pytest.raises(DataError, match="column 'sd' given for se is not in the data"):
        load_reported(frame, columns={"se": "sd"})


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="file not found"):
        load_reported(tmp_path / "nope.csv")


@pytest.mark.parametrize("level", [0.0, 1.0, 95])
def test_ci_level_must_be_a_probability(level):
    frame = pd.DataFrame({"study": ["A", "B"], "log_or": [1, 2], "se": [0.1, 0.1]})
    with pytest.raises(BayesmetaError, match="ci_level must be between 0 and 1"):
        load_reported(frame, ci_level=level)
