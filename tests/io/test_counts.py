"""Data input: recognised spellings, covariates, and a one-line located error for bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bayesmeta import DataError, SingleArmData, TwoArmData, load
from tests.conftest import EXAMPLES

GOOD = (
    "study,treatment_events,treatment_total,control_events,control_total\n"
    "A,1,10,2,10\nB,0,12,3,11\n"
)


def test_bcg_counts_and_covariates_are_read() -> None:
    data = load(EXAMPLES / "bcg.csv")
    assert isinstance(data, TwoArmData)
    assert data.k == 13
    assert data.study[0] == "Aronson 1948"
    assert (data.treatment_events[0], data.treatment_total[0]) == (4, 123)
    assert list(data.covariates.columns) == ["ablat", "alloc", "year"]
    assert data.covariates["ablat"].dtype.kind == "i"


def test_zero_cells_and_double_zero_studies_are_counted() -> None:
    data = load(EXAMPLES / "nielweise2007.csv")
    # rows with a zero cell: studies 1, 4, 11, 12, 15 (0/118 vs 0/105), 16
    assert int(data.zero_cell.sum()) == 6
    assert data.double_zero.tolist().index(True) == 14
    assert int(data.double_zero.sum()) == 1


def test_single_arm_is_detected_from_columns() -> None:
    data = load(EXAMPLES / "pritz1997_prop.csv")
    assert isinstance(data, SingleArmData)
    assert data.k == 14
    assert data.events.sum() == 246


@pytest.mark.parametrize(
    "header",
    [
        "study,ai,n1i,ci,n2i",  # metafor
        "Study or Subgroup,Experimental Events,Experimental Total,Control Events,Control Total",
        "STUDY , Treatment Events , Treatment_Total, control-events, CONTROL TOTAL",
        "studlab,event.e,n.e,event.c,n.c",  # R meta
    ],
)
def test_common_spellings_are_recognised(write_csv, header: str) -> None:
    data = load(write_csv(header + "\nA,1,10,2,10\nB,0,12,3,11\n"))
    assert isinstance(data, TwoArmData)
    np.testing.assert_array_equal(data.control_events, [2, 3])


def test_explicit_column_mapping(write_csv) -> None:
    path = write_csv("trial,x1,m1,x0,m0,dose\nA,1,10,2,10,5\nB,0,12,3,11,7\n")
    mapping = {
        "study": "trial",
        "treatment_events": "x1",
        "treatment_total": "m1",
        "control_events": "x0",
        "control_total": "m0",
    }
    data = load(path, columns=mapping)
    assert data.study == ("A", "B")
    assert list(data.covariates.columns) == ["dose"]


def test_dataframe_input() -> None:
    frame = pd.DataFrame({"study": ["A", "B"], "events": [3, 4], "total": [10, 12]})
    data = load(frame)
    assert isinstance(data, SingleArmData)
    assert data.total.tolist() == [10, 12]


BAD = [
    # (csv text, expected fragments of the message)
    (
        "study,treatment_events,treatment_total,control_events\nA,1,10,2\nB,1,10,2\n",
        ["missing column", "control_total"],
    ),
    (GOOD.replace("A,1,10", "A,1.5,10"), ["row 1", "'treatment_events'", "whole number", "1.5"]),
    (GOOD.replace("B,0,12", "B,x,12"), ["row 2", "'treatment_events'", "whole number"]),
    (GOOD.replace("B,0,12,3", "B,0,12,-3"), ["row 2", "'control_events'", "negative"]),
    (GOOD.replace("A,1,10,2,10", "A,11,10,2,10"), ["row 1", "'treatment_events'", "exceed"]),
    (GOOD.replace("B,0,12,3,11", "B,0,0,3,11"), ["row 2", "'treatment_total'", "at least 1"]),
    (GOOD.replace("B,0,12", "A,0,12"), ["row 2", "'study'", "duplicate", "row 1"]),
    (GOOD.replace("A,1,10,2,10", "A,,10,2,10"), ["row 1", "'treatment_events'", "missing"]),
    # counts must stay exact as floats (and fit int64): 1e20 used to raise OverflowError
    (GOOD.replace("B,0,12", "B,0,1e20"), ["row 2", "'treatment_total'", "count too large"]),
    (
        GOOD.replace("A,1,10", "A,9007199254740992,9007199254740992"),
        ["row 1", "'treatment_events'", "count too large"],
    ),
    ("", ["empty"]),
    ("study,treatment_events,treatment_total,control_events,control_total\n", ["no studies"]),
    (
        "study,treatment_events,treatment_total,control_events,control_total\nA,1,10,2,10\n",
        ["at least 2 studies"],
    ),
]


@pytest.mark.parametrize(("text", "fragments"), BAD)
def test_bad_input_gives_one_located_line(write_csv, text: str, fragments: list[str]) -> None:
    with pytest.raises(DataError) as info:
        load(write_csv(text))
    message = str(info.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message


def test_largest_exact_count_is_accepted(write_csv) -> None:
    data = load(write_csv(GOOD.replace("A,1,10", "A,1,9007199254740991")))
    assert data.treatment_total[0] == 2**53 - 1


def test_unknown_mapping_role_is_rejected(write_csv) -> None:
    with pytest.raises(DataError, match="unknown column role"):
        load(write_csv(GOOD), columns={"treatment": "x"})


def test_missing_file() -> None:
    with pytest.raises(DataError, match="file not found"):
        load("no/such/file.csv")


def test_folder_semicolons_and_non_utf8_are_clear_errors(tmp_path) -> None:
    with pytest.raises(DataError, match="is a folder"):
        load(tmp_path)
    semi = tmp_path / "semi.csv"
    semi.write_text("study;events;total\nA;1;10\nB;2;10\n")
    with pytest.raises(DataError, match="separated by semicolons"):
        load(semi)
    latin = tmp_path / "latin.csv"
    latin.write_bytes("study,events,total\nM\xfcller,1,10\nB,2,10\n".encode("latin-1"))
    with pytest.raises(DataError, match="UTF-8"):
        load(latin)
