"""A reported CI that contradicts its own estimate or SE is caught (issue 22).

The SE from a 95% CI is ``(log(ub) - log(lb)) / (2 * 1.959964)`` for a ratio, ``(ub - lb) /
(2 * 1.959964)`` otherwise (Cochrane Handbook v6.4, sections 6.3.1-6.3.2); a printed CI is
rounded, so an SE and a CI agree when they do to within half a unit in the last digit of each.
"""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest
from typer.testing import CliRunner

from bayesmeta.cli import app
from bayesmeta.io.reported import load_reported
from tests.conftest import fails_cleanly

runner = CliRunner()


@pytest.mark.parametrize(
    "row",
    [
        "a,-0.5,0.4,0.9",  # log OR -0.51 = log of sqrt(0.4 * 0.9): outside the ratio CI
        "a,1.39,1.2,13",  # log OR 1.39 = log of sqrt(1.2 * 13): inside the CI, far off centre
    ],
)
def test_a_log_estimate_beside_ratio_limits_is_refused(write_csv, row: str) -> None:
    path = write_csv(f"study,log_or,lower,upper\n{row}\nb,0.2,0.1,0.3\nc,0.1,0.05,0.2\n")
    line = fails_cleanly(["classic", str(path)])
    assert "row 1 ('a'), column 'log_or'" in line
    assert "is on the ratio scale" in line


def test_a_centred_log_interval_is_accepted(write_csv) -> None:
    # log OR -0.51 [-0.92, -0.11]: the logs of the same interval, centred
    path = write_csv("study,log_or,lower,upper\na,-0.51,-0.92,-0.11\nb,0.2,0.1,0.3\n")
    data = load_reported(path)
    assert data.warnings == ()
    assert math.isclose(data.vi[0], ((-0.11 + 0.92) / (2 * 1.959963984540054)) ** 2)


def test_an_se_that_disagrees_with_the_ci_is_named(write_csv, tmp_path) -> None:
    # HR 0.55 [0.28, 1.09]: SE from the CI (log 1.09 - log 0.28) / 3.92 = 0.3468
    se_ci = (math.log(1.09) - math.log(0.28)) / (2 * 1.959963984540054)
    assert round(se_ci, 2) == 0.35
    path = write_csv(
        "study,hr,se,ci_lower,ci_upper\n"
        "a,0.55,0.35,0.28,1.09\n"  # the SE rounded from the CI: agrees
        "b,0.55,0.50,0.28,1.09\n"  # does not
        "c,0.90,0.10,0.70,1.16\n"  # (log 1.16 - log 0.70) / 3.92 = 0.1288: does not
    )
    out = tmp_path / "classic.json"
    result = runner.invoke(app, ["classic", str(path), "--json", str(out)])
    assert result.exit_code == 0, result.output
    warnings = json.loads(out.read_text())["data"]["warnings"]
    assert len(warnings) == 1
    assert warnings[0].startswith("rows 2 ('b'), 3 ('c'): the SE disagrees with the 95% CI")
    assert f"from the CI {se_ci:.4g}" in warnings[0]
    assert "Warning: rows 2 ('b'), 3 ('c')" in result.output
    # the SE is what is analysed
    assert load_reported(path).vi[1] == pytest.approx(0.25)


def test_a_variance_is_checked_against_the_ci_in_a_dataframe() -> None:
    frame = pd.DataFrame(
        {
            "study": ["a", "b"],
            "yi": [0.1, 0.35],
            "vi": [0.04, 0.0225],
            "lower": [-0.29, 0.2],
            "upper": [0.49, 0.5],
        }
    )
    # a: SE 0.2 = 0.78 / 3.92; b: SE 0.15 but the CI says 0.3 / 3.92 = 0.0765
    assert load_reported(frame).warnings[0].startswith("row 2 ('b'): the variance disagrees")
    # as 68% CIs (z = 0.9945): b's gives SE 0.1508 and a's (0.392) is the one that disagrees
    assert load_reported(frame, ci_level=0.68).warnings[0].startswith("row 1 ('a')")
