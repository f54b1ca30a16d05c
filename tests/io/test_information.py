"""Counts that carry no information on the effect are analysed with a warning that says so.

Issue 9: with no events in any arm the posterior reported P(OR < 1) = 0.74 and "Diagnostics:
OK" without saying the data carry no information on the odds ratio. The tables here are
synthetic (every one is an edge case by construction).
"""

from __future__ import annotations

import pandas as pd
import pytest

from bayesmeta.io.counts import load
from bayesmeta.io.information import information_warnings
from tests.conftest import EXAMPLES


def two_arm(rows: list[tuple[int, int, int, int]]):
    frame = pd.DataFrame(
        rows, columns=["treatment_events", "treatment_total", "control_events", "control_total"]
    )
    frame.insert(0, "study", [f"synthetic {i + 1}" for i in range(len(rows))])
    return load(frame)


NONE = "the data carry no information on the odds ratio, so its posterior reflects the prior"
LOWER = "the data set no lower limit on the odds ratio, so the lower tail of its posterior"
UPPER = "the data set no upper limit on the odds ratio, so the upper tail of its posterior"


@pytest.mark.parametrize(
    ("rows", "what", "consequence"),
    [
        ([(0, 10, 0, 10), (0, 20, 0, 15)], "no study has any event in either arm", NONE),
        ([(10, 10, 5, 5), (3, 3, 8, 8)], "every patient in every arm of every study had", NONE),
        (
            [(0, 10, 0, 10), (4, 4, 6, 6)],
            "every study has no events in either arm or events in every patient",
            NONE,
        ),
        ([(0, 10, 3, 10), (0, 20, 1, 15)], "no study has an event in the treatment arm", LOWER),
        ([(0, 10, 3, 10), (0, 20, 0, 15)], "no study has an event in the treatment arm", LOWER),
        ([(2, 10, 10, 10), (1, 20, 15, 15)], "every control patient of every study had", LOWER),
        (
            [(0, 10, 3, 10), (2, 20, 15, 15)],
            "every study has no treatment events or no control patients without",
            LOWER,
        ),
        ([(3, 10, 0, 10), (1, 20, 0, 15)], "no study has an event in the control arm", UPPER),
        ([(10, 10, 3, 10), (20, 20, 1, 15)], "every treated patient of every study had", UPPER),
        (
            [(3, 10, 0, 10), (20, 20, 1, 15)],
            "every study has no control events or no treated patients without",
            UPPER,
        ),
    ],
)
def test_two_arm_counts_without_information(rows, what: str, consequence: str) -> None:
    (warning,) = two_arm(rows).warnings
    assert warning.startswith(what)
    assert consequence in warning
    assert warning.endswith("reflects the prior, not the data")


@pytest.mark.parametrize(
    "rows",
    [
        [(0, 10, 3, 10), (2, 20, 1, 15)],  # one study with events in both arms is enough
        [(0, 10, 3, 10), (3, 10, 0, 10)],  # zero cells pointing opposite ways bound both sides
        [(0, 10, 0, 10), (1, 10, 2, 10)],  # a double-zero study beside an informative one
    ],
)
def test_informative_two_arm_counts_have_no_warning(rows) -> None:
    assert two_arm(rows).warnings == ()


@pytest.mark.parametrize("name", ["bcg", "li2007", "nielweise2007", "pritz1997_prop"])
def test_shipped_examples_carry_information(name: str) -> None:
    data = load(EXAMPLES / f"{name}.csv")
    assert information_warnings(data) == ()
    assert data.warnings == ()


@pytest.mark.parametrize(
    ("events", "fragment"),
    [
        ([0, 0, 0], "no study has any event: the data set no lower limit on the proportion"),
        ([10, 12, 9], "every patient in every study had the event: the data set no upper limit"),
    ],
)
def test_single_arm_counts_without_information(events, fragment: str) -> None:
    frame = pd.DataFrame({"study": list("abc"), "events": events, "total": [10, 12, 9]})
    (warning,) = load(frame).warnings
    assert warning.startswith(fragment)
    assert warning.endswith("tail of its posterior reflects the prior, not the data")


def test_single_arm_with_zero_and_full_studies_has_no_warning() -> None:
    frame = pd.DataFrame({"study": list("ab"), "events": [0, 10], "total": [10, 10]})
    assert load(frame).warnings == ()
