"""Repeated study labels and multi-arm trials with a shared control arm.

Real data: ``data/hasselblad1998_no_contact.csv`` (Hasselblad 1998, via R metadat; see
``data/README.md``), where Cottraux et al. 1983 compares individual and group counselling with
one no-contact arm of 9 quitters among 140 smokers. Synthetic fixtures are named so.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bayesmeta.errors import DataError
from bayesmeta.io.counts import SingleArmData, TwoArmData, load
from bayesmeta.io.inputs import load as load_any
from bayesmeta.io.multiarm import disambiguate, divide, split_shared_control
from bayesmeta.io.reported import load_reported

HASSELBLAD = Path(__file__).parent / "data" / "hasselblad1998_no_contact.csv"
HEADER = "study,treatment_events,treatment_total,control_events,control_total\n"
COTTRAUX = "Cottraux et al. 1983"


def test_repeated_labels_are_kept_renamed_and_reported(write_csv) -> None:
    data = load(write_csv(HEADER + "A,1,10,2,10\nB,1,12,3,11\nA,0,12,5,11\nA,2,9,1,9\n"))
    assert data.study == ("A", "B", "A [2]", "A [3]")
    assert data.labels == ("A", "B", "A", "A")
    np.testing.assert_array_equal(data.treatment_events, [1, 1, 0, 2])
    assert data.warnings == (
        "study label 'A' appears in rows 1, 3, 4; every row is kept, the repeats named "
        "'A [2]', 'A [3]'",
    )


@pytest.mark.parametrize(
    ("labels", "names"),
    [
        (["A", "A", "A [2]"], ("A", "A [3]", "A [2]")),
        (["A [2]", "A", "A"], ("A [2]", "A", "A [3]")),
        (["A", "A [2]", "A", "A"], ("A", "A [2]", "A [3]", "A [4]")),
        (["A [2]", "A", "A", "A [2]"], ("A [2]", "A", "A [3]", "A [2] [2]")),
        (["x", "y"], ("x", "y")),
    ],
)
def test_renamed_repeats_never_collide_with_another_label(labels, names) -> None:
    assert disambiguate(labels) == names
    assert len(set(disambiguate(labels))) == len(labels)


def test_repeated_labels_in_single_arm_and_reported_effects(write_csv) -> None:
    single = load(write_csv("study,events,total\nA,1,10\nA,2,10\n"))
    assert isinstance(single, SingleArmData)
    assert single.study == ("A", "A [2]")
    assert "rows 1, 2" in single.warnings[0]
    reported = load_reported(write_csv("study,log_or,se\nA,1,0.1\nA,2,0.1\n"))
    assert reported.study == ("A", "A [2]")
    assert reported.warnings == (
        "study label 'A' appears in rows 1, 2; every row is kept, the repeats named 'A [2]'",
    )


def test_real_three_arm_trial_is_read_with_a_shared_control_warning() -> None:
    data = load(HASSELBLAD)
    assert isinstance(data, TwoArmData)
    assert data.k == 20
    assert data.study[1:3] == (COTTRAUX, f"{COTTRAUX} [2]")
    np.testing.assert_array_equal(data.control_events[1:3], [9, 9])
    np.testing.assert_array_equal(data.control_total[1:3], [140, 140])
    assert data.warnings == (
        f"study label '{COTTRAUX}' appears in rows 2, 3; every row is kept, the repeats named "
        f"'{COTTRAUX} [2]'",
        f"rows 2, 3 ('{COTTRAUX}') share one control arm (9/140): a multi-arm trial whose 140 "
        "control patients are counted 2 times; split the shared control between the comparisons "
        "(--split-shared-control, Cochrane Handbook v6.4, section 23.3.4) or combine the "
        "intervention arms into one row",
    )


def test_split_of_the_real_shared_control_matches_the_hand_calculation() -> None:
    """9 events among 140: 140 // 2 = 70 each; 9 = 5 + 4 (the first comparison gets the odd one)."""
    before = load(HASSELBLAD)
    after = load(HASSELBLAD, split_shared_control=True)
    np.testing.assert_array_equal(after.control_events[1:3], [5, 4])
    np.testing.assert_array_equal(after.control_total[1:3], [70, 70])
    others = np.r_[0, 3:20]
    np.testing.assert_array_equal(after.control_events[others], before.control_events[others])
    np.testing.assert_array_equal(after.control_total[others], before.control_total[others])
    np.testing.assert_array_equal(after.treatment_events, before.treatment_events)
    assert after.split_controls == ((COTTRAUX, f"{COTTRAUX} [2]"),)
    assert after.warnings[1] == (
        f"the control arm shared by rows 2, 3 ('{COTTRAUX}', 9/140) was split between the 2 "
        "comparisons as 5/70, 4/70 (Cochrane Handbook v6.4, section 23.3.4); the comparisons "
        "remain correlated"
    )
    assert len(after.warnings) == 2  # the label warning stays; the shared-arm one is replaced
    assert split_shared_control(after) is after  # a second call divides nothing again


def test_handbook_example_division() -> None:
    """Cochrane Handbook v6.4, 23.3.4: 121 acupuncture patients become 61 and 60."""
    assert divide(121, 2) == [61, 60]
    assert divide(9, 2) == [5, 4]
    assert divide(7, 3) == [3, 2, 2]
    assert divide(0, 3) == [0, 0, 0]


def test_split_three_ways_synthetic(write_csv) -> None:
    """Synthetic three-comparison trial: control 7/61 -> 3/21, 2/20, 2/20 (sums 7 and 61)."""
    rows = ["synthetic-X,4,30,7,61", "synthetic-X,5,31,7,61", "synthetic-X,6,29,7,61", "Y,1,9,2,9"]
    text = HEADER + "\n".join(rows) + "\n"
    data = load(write_csv(text), split_shared_control=True)
    np.testing.assert_array_equal(data.control_events, [3, 2, 2, 2])
    np.testing.assert_array_equal(data.control_total, [21, 20, 20, 9])
    assert "as 3/21, 2/20, 2/20" in data.warnings[1]


def test_only_rows_with_the_same_label_and_control_arm_are_split(write_csv) -> None:
    """Synthetic: same label, different control arms (two trials with one author-year label)."""
    text = HEADER + "S,1,10,2,10\nS,1,10,3,10\nT,1,10,2,10\n"
    data = load(write_csv(text), split_shared_control=True)
    np.testing.assert_array_equal(data.control_total, [10, 10, 10])
    assert len(data.warnings) == 1 and "appears in rows 1, 2" in data.warnings[0]


def test_a_control_arm_smaller_than_the_comparisons_cannot_be_split(write_csv) -> None:
    text = HEADER + "S,1,10,0,1\nS,1,10,0,1\nT,1,10,2,10\n"
    assert "share one control arm (0/1)" in load(write_csv(text)).warnings[1]
    with pytest.raises(DataError, match=r"row 1: cannot split the control arm of 'S' \(0/1"):
        load(write_csv(text), split_shared_control=True)


def test_split_recomputes_the_information_warnings(write_csv) -> None:
    """Synthetic: 1/2 shared by two rows becomes 1/1 and 0/1; the warnings follow the new data."""
    text = HEADER + "S,0,10,1,2\nS,0,10,1,2\n"
    data = load(write_csv(text))
    assert any("no study has an event in the treatment arm" in w for w in data.warnings)
    split = split_shared_control(data)
    np.testing.assert_array_equal(split.control_events, [1, 0])
    assert any("no study has an event in the treatment arm" in w for w in split.warnings)
    assert not any("share one control arm" in w for w in split.warnings)


def test_split_option_on_other_data_says_nothing_was_split(write_csv) -> None:
    single = load(write_csv("study,events,total\nA,1,10\nB,2,10\n"), split_shared_control=True)
    assert single.warnings == (
        "--split-shared-control applies to two-arm counts (a shared control arm); nothing was "
        "split",
    )
    reported = load_any(write_csv("study,yi,vi\nA,1,0.1\nB,2,0.1\n"), split_shared_control=True)
    assert reported.warnings == single.warnings
    two = load_any(HASSELBLAD, split_shared_control=True)
    assert two.control_total[1] == 70


def test_data_built_by_hand_has_labels_equal_to_names() -> None:
    data = TwoArmData(
        study=("a", "b"),
        treatment_events=np.array([1, 2]),
        treatment_total=np.array([10, 10]),
        control_events=np.array([1, 2]),
        control_total=np.array([10, 10]),
        covariates=pd.DataFrame(),
    )
    assert data.labels == ("a", "b")
    assert data.warnings == ()
    assert split_shared_control(data) is data


def test_labels_survive_taking_a_subset() -> None:
    """Other modules subset data with dataclasses.replace; the labels must follow the names."""
    from dataclasses import replace

    data = load(HASSELBLAD)
    keep = [2, 5]
    subset = replace(
        data,
        study=tuple(data.study[i] for i in keep),
        treatment_events=data.treatment_events[keep],
        treatment_total=data.treatment_total[keep],
        control_events=data.control_events[keep],
        control_total=data.control_total[keep],
        covariates=data.covariates.iloc[keep],
    )
    assert subset.labels == (COTTRAUX, "Rabkin et al. 1984")
