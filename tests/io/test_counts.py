"""Data input: recognised spellings, covariates, and a one-line located error for bad input."""

from __future__ import annotations

import re

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
    (GOOD.replace("A,1,10,2,10", "A,,10,2,10"), ["row 1", "'treatment_events'", "missing"]),
    # counts must stay exact as floats (and fit int64): 1e20 used to raise OverflowError
    (GOOD.replace("B,0,12", "B,0," + "1" + "0" * 20), ["row 2", "'treatment_total'", "too large"]),
    (GOOD.replace("B,0,12", "B,0,1e20"), ["row 2", "'treatment_total'", "whole number"]),
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


def test_folder_and_non_utf8_are_clear_errors(tmp_path) -> None:
    """(Semicolon-separated files are read: tests/io/test_dialect.py.)"""
    with pytest.raises(DataError, match="is a folder"):
        load(tmp_path)
    latin = tmp_path / "latin.csv"
    latin.write_bytes("study,events,total\nM\xfcller,1,10\nB,2,10\n".encode("latin-1"))
    with pytest.raises(DataError, match=r"not UTF-8 .*--encoding cp1252"):
        load(latin)


# --------------------------------------------------------------- no silent misreading (issue 9)


@pytest.mark.parametrize(
    ("cell", "value"),
    [("10", 10), ("010", 10), (" 10 ", 10), ("+10", 10), ("10.0", 10), ("10.00", 10)],
)
def test_plain_decimal_counts_are_read_exactly(write_csv, cell: str, value: int) -> None:
    data = load(write_csv(GOOD.replace("A,1,10", f"A,1,{cell}")))
    assert data.treatment_total[0] == value


@pytest.mark.parametrize(
    "cell",
    [
        "1_0",  # Python's digit separator: float("1_0") == 10
        "4.9999999999999999",  # float() rounds it to 5
        "5.5",
        "1e1",
        "1E1",
        "0x10",
        "\uff11\uff10",  # fullwidth 10: float() reads it as 10
        "\u0661\u0660",  # Arabic-Indic 10
        "\u0967\u0966",  # Devanagari 10
        "10.",
        "ten",
        "1 0",
        "\u00b2",  # superscript two: isdigit() is True
    ],
)
def test_counts_other_than_plain_digits_are_refused(write_csv, cell: str) -> None:
    with pytest.raises(DataError) as info:
        load(write_csv(GOOD.replace("A,1,10", f'A,1,"{cell}"')))
    message = str(info.value)
    assert "row 1 ('A'), column 'treatment_total'" in message
    assert "must be a whole number written with the digits 0-9" in message
    assert "\n" not in message


def test_dataframe_counts_must_be_whole_numbers() -> None:
    frame = pd.DataFrame({"study": ["A", "B"], "events": [1.0, 2.5], "total": [10, 10]})
    with pytest.raises(DataError, match=r"row 2 \('B'\), column 'events': .*whole number, got 2.5"):
        load(frame)
    frame["events"] = [1.0, 2.0]  # integral floats, as pandas stores a column with a gap
    assert load(frame).events.tolist() == [1, 2]
    frame["events"] = [True, False]
    with pytest.raises(DataError, match="whole number, got True"):
        load(frame)


@pytest.mark.parametrize(
    ("columns", "fragment"),
    [
        ({"treatment_events": "control_events"}, "mapped to treatment_events but its name says"),
        (
            {"treatment_events": "control_events", "control_events": "control_events"},
            "column 'control_events' is mapped to both treatment_events and control_events",
        ),
    ],
)
def test_two_roles_on_one_column_are_refused(write_csv, columns, fragment: str) -> None:
    """Issue 9: --columns treatment_events=control_events ran and reported OR 0.89."""
    with pytest.raises(DataError, match=fragment) as info:
        load(write_csv(GOOD), columns=columns)
    assert "treatment_events" in str(info.value) and "control_events" in str(info.value)


@pytest.mark.parametrize(
    ("header", "pair"),
    [
        (
            "study,treatment_events,ai,treatment_total,control_events,control_total",
            "'treatment_events' and 'ai'",
        ),
        (
            "study,Control Total,treatment_events,treatment_total,control_events,n2i",
            "'Control Total' and 'n2i'",
        ),
        ("study,events,xi,total", "'events' and 'xi'"),
    ],
)
def test_two_columns_for_one_role_are_refused(write_csv, header: str, pair: str) -> None:
    """Issue 9: a file with treatment_events and ai used one and kept the other as a covariate."""
    width = header.count(",")
    rows = "\n".join(f"{s}," + ",".join(["1"] * (width - 1) + ["9"]) for s in "AB")
    with pytest.raises(DataError, match=f"columns {pair} are both"):
        load(write_csv(f"{header}\n{rows}\n"))


def test_an_explicit_mapping_settles_two_candidate_columns(write_csv) -> None:
    text = "study,treatment_events,ai,treatment_total,control_events,control_total\n"
    text += "A,1,2,10,2,10\nB,0,1,12,3,11\n"
    data = load(write_csv(text), columns={"treatment_events": "ai"})
    assert data.treatment_events.tolist() == [2, 1]
    assert list(data.covariates.columns) == ["treatment_events"]


def test_study_and_author_columns_are_not_a_conflict(write_csv) -> None:
    """Published tables (metadat's dat.bcg) carry both a trial and an author column."""
    data = load(write_csv("trial,author,events,total\n1,Aronson,4,123\n2,Ferguson,6,306\n"))
    assert data.study == ("Aronson", "Ferguson")
    assert data.covariates["trial"].tolist() == [1, 2]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (GOOD.replace("A,1,10", "Smith, J,1,10"), "row 1: 6 fields but the header has 5 (line 2)"),
        ("study,events,total\nA,1,10\nB,2,10,7\n", "row 2: 4 fields but the header has 3 (line 3)"),
    ],
)
def test_a_row_with_more_fields_than_the_header_is_refused(write_csv, text, fragment) -> None:
    """Issue 9: an unquoted comma in a study name shifted every column silently."""
    with pytest.raises(DataError, match="double quotes") as info:
        load(write_csv(text))
    assert fragment in str(info.value)


def test_quoted_commas_trailing_commas_and_blank_lines_are_fine(write_csv) -> None:
    text = 'study,events,total,\n"Smith, J",1,10,\n\n,,,\nB,2,10,\n'
    data = load(write_csv(text))
    assert data.study == ("Smith, J", "B")
    assert list(data.covariates.columns) == []


def test_tab_separated_is_read_and_oversized_fields_are_one_line_errors(write_csv) -> None:
    assert load(write_csv("study\tevents\ttotal\nA\t1\t10\nB\t2\t10\n")).events[1] == 2
    with pytest.raises(DataError, match="cannot parse as CSV at line 2: field larger") as info:
        load(write_csv('study,events,total\n"' + "x" * 200_000 + '",1,10\nB,2,10\n'))
    assert len(str(info.value).splitlines()) == 1


def test_duplicate_header_names_are_refused(write_csv) -> None:
    with pytest.raises(DataError, match=r"two columns are named 'x' \(columns 2 and 4\)"):
        load(write_csv("study,x,events,x,total\nA,1,1,2,10\nB,1,2,2,10\n"))


def test_utf8_byte_order_mark_is_ignored(write_csv, tmp_path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufeffstudy,events,total\nA,1,10\nB,2,10\n".encode())
    assert load(path).study == ("A", "B")


def test_study_names_are_kept_as_text_exactly(write_csv) -> None:
    text = 'study,events,total\n001,1,10\n1e3,2,10\n"[/] <b>Ü</b> 2005",3,10\n'
    data = load(write_csv(text))
    assert data.study == ("001", "1e3", "[/] <b>Ü</b> 2005")


@pytest.mark.parametrize(
    ("name", "code"),
    [("A\x00B", "U+0000"), ("A\x1b[31mB", "U+001B"), ("A\tB", "U+0009"), ("A\u2028B", "U+2028")],
)
def test_control_characters_in_study_names_are_located_errors(write_csv, name, code) -> None:
    """Issue 9: a NUL byte in a study name crashed the Peters test further down."""
    pattern = f"row 2, column 'study': study name .* {re.escape(code)}"
    with pytest.raises(DataError, match=pattern) as info:
        load(write_csv(f'study,events,total\nA,1,10\n"{name}",2,10\n'))
    assert len(str(info.value).splitlines()) == 1
    frame = pd.DataFrame({"study": ["A", name], "events": [1, 2], "total": [10, 10]})
    with pytest.raises(DataError, match=re.escape(code)):
        load(frame)


def test_a_dataframe_index_named_study_is_the_study_column() -> None:
    """Issue 9: load(df.set_index("study")) renamed the studies "Study 1", "Study 2"."""
    frame = pd.DataFrame({"study": ["X", "Y"], "events": [1, 2], "total": [10, 10]})
    assert load(frame.set_index("study")).study == ("X", "Y")
    assert load(frame.set_index("study").rename_axis("Author")).study == ("X", "Y")
    unnamed = frame.set_index("study").rename_axis(None)
    assert load(unnamed).study == ("X", "Y")
    id_index = frame.set_index("study").rename_axis("my_id")
    assert load(id_index, columns={"study": "my_id"}).study == ("X", "Y")


def test_a_filtered_dataframe_keeps_its_study_column_and_drops_the_index() -> None:
    frame = pd.DataFrame({"study": list("XYZ"), "events": [1, 2, 3], "total": [10, 10, 10]})
    assert load(frame.iloc[[0, 2]]).study == ("X", "Z")
    assert load(frame.iloc[[0, 2]].drop(columns="study")).study == ("Study 1", "Study 2")
    both = frame.set_index("study", drop=False)
    with pytest.raises(DataError, match="both an index and a column named 'study'"):
        load(both)


def test_covariates_become_numbers_only_when_written_as_ascii_numbers(write_csv) -> None:
    text = "study,events,total,year,dose,size\nA,1,10,1_998,1.5,１\nB,2,10,2001,2e1,2\n"  # noqa: RUF001
    covariates = load(write_csv(text)).covariates
    assert covariates["year"].tolist() == ["1_998", "2001"]
    assert covariates["dose"].tolist() == [1.5, 20.0]
    assert covariates["size"].tolist() == ["１", "2"]  # noqa: RUF001
