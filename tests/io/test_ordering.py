"""The order of the studies for a cumulative meta-analysis (``classic --cumulative COLUMN``)."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from bayesmeta.errors import DataError
from bayesmeta.io.counts import load
from bayesmeta.io.ordering import ordering
from bayesmeta.io.reported import load_reported
from tests.conftest import EXAMPLES

HEADER = "study,events,total,year\n"


# R 4.2.2, metadat 1.2-0: with(dat.bcg, paste(author, year)[order(year)]) (order() is stable)
BCG_BY_YEAR = [
    "Aronson 1948",
    "Ferguson & Simes 1949",
    "Stein & Aronson 1953",
    "Rosenthal et al 1960",
    "Rosenthal et al 1961",
    "Coetzee & Berjak 1968",
    "Comstock & Webster 1969",
    "Frimodt-Moller et al 1973",
    "Vandiviere et al 1973",
    "Comstock et al 1974",
    "Comstock et al 1976",
    "Hart & Sutherland 1977",
    "TPT Madras 1980",
]


def test_bcg_by_year_matches_r_order() -> None:
    assert ordering(load(EXAMPLES / "bcg.csv"), "year") == BCG_BY_YEAR


def test_ties_keep_the_file_order(write_csv) -> None:
    data = load(write_csv(HEADER + "A,1,10,2001\nB,1,10,1999\nC,1,10,2001\nD,1,10,1999\n"))
    assert ordering(data, "year") == ["B", "D", "A", "C"]


def test_numbers_sort_as_numbers_and_text_as_text(write_csv) -> None:
    data = load(write_csv(HEADER + "A,1,10,1000\nB,1,10,999\nC,1,10,1e3\n"))
    assert ordering(data, "year") == ["B", "A", "C"]
    text = load(write_csv("study,events,total,phase\nA,1,10,b\nB,1,10,a\n"))
    assert ordering(text, "phase") == ["B", "A"]


@pytest.mark.parametrize("blank", ["", " ", "NA"])
def test_a_blank_value_is_a_located_error(write_csv, blank: str) -> None:
    """Issue 9: --cumulative year put a study with a blank year first."""
    data = load(write_csv(HEADER + f"A,1,10,2001\nB,1,10,{blank}\nC,1,10,1999\n"))
    message = "row 2 ('B'), column 'year': the value to order by is blank"
    with pytest.raises(DataError, match=re.escape(message)):
        ordering(data, "year")


def test_a_missing_number_in_a_dataframe_is_a_located_error() -> None:
    frame = pd.DataFrame(
        {"study": list("AB"), "yi": [0.1, 0.2], "vi": [0.1, 0.1], "year": [2001, float("nan")]}
    )
    with pytest.raises(DataError, match=r"row 2 \('B'\), column 'year': .*blank"):
        ordering(load_reported(frame), "year")


def test_numbers_mixed_with_text_are_a_located_error(write_csv) -> None:
    data = load(write_csv(HEADER + "A,1,10,1999\nB,1,10,2005a\nC,1,10,2001\n"))
    with pytest.raises(DataError, match=r"row 2 \('B'\), column 'year': '2005a' is text but"):
        ordering(data, "year")


def test_an_unknown_column_lists_the_covariates(write_csv) -> None:
    data = load(write_csv(HEADER + "A,1,10,1999\nB,1,10,2001\n"))
    with pytest.raises(
        DataError, match="no column 'yr' to order the studies by; covariates: 'year'"
    ):
        ordering(data, "yr")
