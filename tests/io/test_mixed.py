"""Reading a table of 2x2 counts and reported odds ratios (``bayesmeta.io.mixed``).

The shipped example ``examples/bcg_mixed.csv`` is bcg (Colditz et al. 1994, metadat dat.bcg)
with five trials converted to their escalc log odds ratio and SE (4 decimals) by
``tests/reference/make_bcg_mixed.R`` (metafor 3.8-1), which also wrote the reported rows'
``yi``/``vi`` into ``tests/reference/metafor_mixed.json``.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

import bayesmeta
from bayesmeta import DataError, MixedData, TwoArmData
from tests.conftest import EXAMPLES, ROOT, fails_cleanly

METAFOR = ROOT / "tests/reference/metafor_mixed.json"
HEADER = "study,treatment_events,treatment_total,control_events,control_total"


def _csv(tmp_path, header: str, *rows: str):
    path = tmp_path / "mixed.csv"
    path.write_text("\n".join((header, *rows)) + "\n")
    return path


def test_example_rows_are_the_counts_or_the_reported_log_ors() -> None:
    data = bayesmeta.load_example("bcg_mixed")
    counts = bayesmeta.load(EXAMPLES / "bcg.csv")
    metafor = json.loads(METAFOR.read_text())
    assert isinstance(data, MixedData) and data.study == counts.study
    assert [s for s, r in zip(data.study, data.reported, strict=True) if r] == metafor["reported"]
    kept = data.counted
    for column in ("treatment_events", "treatment_total", "control_events", "control_total"):
        assert np.array_equal(getattr(data, column)[kept], getattr(counts, column)[kept])
    np.testing.assert_allclose(data.yi[data.reported], np.array(metafor["yi"])[data.reported])
    np.testing.assert_allclose(data.vi[data.reported], np.array(metafor["vi"])[data.reported])
    assert data.as_reported[1] == "log OR -1.6662 (SE 0.4562)"
    assert list(data.covariates.columns) == ["ablat", "alloc", "year"]
    assert not data.warnings


def test_or_with_ci_is_read_on_the_log_scale_and_shown_as_given(tmp_path) -> None:
    path = _csv(
        tmp_path,
        HEADER + ",or,ci_lower,ci_upper",
        "A,4,123,11,139,,,",
        "B,,,,,0.19,0.08,0.46",
        "C,3,231,11,220,,,",
    )
    data = bayesmeta.load(path)
    assert data.reported.tolist() == [False, True, False]
    assert data.yi[1] == pytest.approx(math.log(0.19), rel=1e-12)
    z = 1.959963984540054
    assert math.sqrt(data.vi[1]) == pytest.approx((math.log(0.46) - math.log(0.08)) / (2 * z))
    assert data.as_reported.tolist() == ["", "OR 0.19 (0.08 to 0.46)", ""]
    assert np.isnan(data.yi[0]) and data.treatment_events[1] == 0


def test_a_row_with_both_uses_the_counts_and_warns(tmp_path) -> None:
    path = _csv(tmp_path, HEADER + ",log_or,se", "A,4,123,11,139,-0.5,0.3", "B,,,,,-1.2,0.4")
    data = bayesmeta.load(path)
    assert data.reported.tolist() == [False, True]
    assert np.isnan(data.yi[0]) and data.treatment_events[0] == 4
    assert len(data.warnings) == 1
    assert data.warnings[0].startswith("row 1 ('A'): both 2x2 counts and a reported estimate")


def test_a_table_whose_rows_all_have_counts_is_read_as_counts(tmp_path) -> None:
    path = _csv(tmp_path, HEADER + ",log_or,se", "A,4,123,11,139,-0.5,0.3", "B,6,306,29,303,,")
    data = bayesmeta.load(path)
    assert isinstance(data, TwoArmData)
    assert "log_or" in data.covariates.columns


def test_a_row_with_neither_is_a_one_line_error_naming_it(tmp_path) -> None:
    path = _csv(tmp_path, HEADER + ",log_or,se", "A,4,123,11,139,,", "B,,,,,-1.2,0.4", "C,,,,,,")
    with pytest.raises(DataError) as err:
        bayesmeta.load(path)
    assert err.value.row == 3 and err.value.study == "C"
    line = fails_cleanly(["classic", str(path)])
    assert "row 3 ('C')" in line and "neither 2x2 counts nor a reported estimate" in line


def test_some_counts_but_not_all_name_the_row_and_column(tmp_path) -> None:
    path = _csv(tmp_path, HEADER + ",log_or,se", "A,4,123,11,139,,", "B,,,,,-1.2,0.4", "C,3,,1,9,,")
    with pytest.raises(DataError, match="some counts but not 'treatment_total'") as err:
        bayesmeta.load(path)
    assert (err.value.row, err.value.column) == (3, "treatment_total")


def test_errors_in_either_part_name_the_row_of_the_table(tmp_path) -> None:
    rows = ("A,4,123,11,139,,", "B,,,,,-1.2,0.4", "C,3,100,1,90,,", "D,,,,,-0.3,-1")
    with pytest.raises(DataError, match="must be positive") as err:
        bayesmeta.load(_csv(tmp_path, HEADER + ",log_or,se", *rows))
    assert (err.value.row, err.value.study, err.value.column) == (4, "D", "se")
    rows = ("A,4,123,11,139,,", "B,,,,,-1.2,0.4", "C,30,10,1,90,,")
    with pytest.raises(DataError, match="exceed the total") as err:
        bayesmeta.load(_csv(tmp_path, HEADER + ",log_or,se", *rows))
    assert (err.value.row, err.value.study) == (3, "C")
    assert str(err.value).count("row 3") == 1


def test_se_ci_disagreement_names_the_rows_of_the_table(tmp_path) -> None:
    path = _csv(
        tmp_path,
        HEADER + ",log_or,se,ci_lower,ci_upper",
        "A,4,123,11,139,,,,",
        "B,,,,,-1.2,0.4,-1.984,-0.416",
        "C,3,100,1,90,,,,",
        "D,,,,,-0.3,0.9,-0.692,0.092",
    )
    data = bayesmeta.load(path)
    assert data.vi[3] == pytest.approx(0.81)
    assert len(data.warnings) == 1 and data.warnings[0].startswith("row 4 ('D'): the SE")


def test_the_reported_estimate_must_be_an_odds_ratio(tmp_path) -> None:
    path = _csv(tmp_path, HEADER + ",log_rr,se", "A,4,123,11,139,,", "B,,,,,-1.2,0.4")
    with pytest.raises(DataError, match="reads as RR; beside 2x2 counts"):
        bayesmeta.load(path)


def test_a_dataframe_with_missing_values_reads_as_mixed() -> None:
    frame = pd.read_csv(EXAMPLES / "bcg_mixed.csv")
    data = bayesmeta.load(frame)
    shipped = bayesmeta.load_example("bcg_mixed")
    assert isinstance(data, MixedData) and np.array_equal(data.reported, shipped.reported)
    np.testing.assert_array_equal(data.yi, shipped.yi)
    np.testing.assert_array_equal(data.control_total, shipped.control_total)


def test_metafor_spellings_and_a_table_without_any_counts(tmp_path) -> None:
    from bayesmeta.model.likelihoods import native

    path = _csv(tmp_path, "trial,ai,n1i,ci,n2i,log_or,se", "A,0,20,0,20,,", "B,,,,,-0.4,0.3")
    data = bayesmeta.load(path)
    assert data.study == ("A", "B") and data.double_zero.tolist() == [True, False]
    assert native(data).effect_sizes(data).study == ("A", "B")  # escalc keeps double zeros
    assert native(data).effect_inputs(data)[2] == ("B",)  # the normal approximation drops them
    path = _csv(tmp_path, HEADER + ",log_or,se", "A,,,,,-0.5,0.3", "B,,,,,-1.2,0.4")
    data = bayesmeta.load(path)
    assert data.reported.all() and data.counts.k == 0
    es = native(data).effect_sizes(data)
    np.testing.assert_allclose(es.yi, [-0.5, -1.2])
    np.testing.assert_allclose(es.vi, [0.09, 0.16])
