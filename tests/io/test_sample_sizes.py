"""Reported effects with sample-size columns (issue 22): ``study,yi,vi,n``,
``study,smd,se,n1,n2`` and ``study,hr,lower,upper,Ne,Nc`` are reported effects, not counts
with missing columns; the sizes are kept as covariates and change no number.

Data: ``examples/steurer2006_hr.csv`` (Steurer et al. 2006, Cochrane CD004270; R metadat
``dat.steurer2006``): hazard ratios with 95% CIs and patients per arm, rewritten in each shape.
"""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest
from typer.testing import CliRunner

from bayesmeta.cli import app
from bayesmeta.io.inputs import load
from tests.conftest import EXAMPLES

runner = CliRunner()
STEURER = pd.read_csv(EXAMPLES / "steurer2006_hr.csv")
Z = 1.959963984540054


def shapes() -> dict[str, tuple[pd.DataFrame, list[str]]]:
    """Each shape with its sample-size columns."""
    d = STEURER
    log_hr = d["hr"].map(math.log)
    se = (d["ci_upper"].map(math.log) - d["ci_lower"].map(math.log)) / (2 * Z)
    n1, n2 = d["patients_purine"], d["patients_alkylator"]
    study = d["study"]
    return {
        "yi_vi_n": (
            pd.DataFrame({"study": study, "yi": log_hr, "vi": se**2, "n": n1 + n2}),
            ["n"],
        ),
        # the log hazard ratios under an SMD's name: the reader's shape, not the measure
        "smd_se_n1_n2": (
            pd.DataFrame({"study": study, "smd": log_hr, "se": se, "n1": n1, "n2": n2}),
            ["n1", "n2"],
        ),
        "hr_ci_ne_nc": (
            pd.DataFrame(
                {"study": study, "hr": d["hr"], "lower": d["ci_lower"],
                 "upper": d["ci_upper"], "Ne": n1, "Nc": n2}
            ),
            ["Ne", "Nc"],
        ),
    }  # fmt: skip


SHAPES = shapes()


def _json(tmp_path, args: list[str], name: str) -> dict:
    out = tmp_path / f"{name}.json"
    result = runner.invoke(app, [*args, "--json", str(out)])
    assert result.exit_code == 0, result.output
    return json.loads(out.read_text())


@pytest.mark.parametrize("shape", SHAPES)
def test_sample_sizes_are_kept_and_change_no_number(tmp_path, shape: str) -> None:
    frame, sizes = SHAPES[shape]
    with_n, without_n = tmp_path / "with.csv", tmp_path / "without.csv"
    frame.to_csv(with_n, index=False)
    frame.drop(columns=sizes).to_csv(without_n, index=False)
    data = load(with_n)
    assert list(data.covariates.columns) == sizes
    assert data.covariates[sizes[0]].tolist() == frame[sizes[0]].tolist()
    for command in (["classic"], ["fit", "--model", "normal-normal"]):
        a = _json(tmp_path, [*command, str(with_n)], f"{command[0]}-with")
        b = _json(tmp_path, [*command, str(without_n)], f"{command[0]}-without")
        key = "frequentist"
        assert a[key] == b[key]
        if command[0] == "fit":
            assert a["posterior"] == b["posterior"]
    # the same numbers as the hazard ratios with their intervals as shipped
    ref = _json(tmp_path, ["classic", "--example", "steurer2006_hr"], "ref")["frequentist"]
    got = _json(tmp_path, ["classic", str(with_n)], "again")["frequentist"]["random_reml"]
    assert got["estimate"] == pytest.approx(ref["random_reml"]["estimate"], rel=1e-9)


def test_an_estimate_mapping_reads_reported_effects(tmp_path) -> None:
    frame, _ = SHAPES["yi_vi_n"]
    path = tmp_path / "renamed.csv"
    frame.rename(columns={"yi": "effect_size", "vi": "variance"}).to_csv(path, index=False)
    args = ["classic", str(path), "--columns", "estimate=effect_size,vi=variance"]
    got = _json(tmp_path, args, "mapped")["frequentist"]["random_reml"]
    frame.to_csv(tmp_path / "plain.csv", index=False)
    want = _json(tmp_path, ["classic", str(tmp_path / "plain.csv")], "plain")["frequentist"]
    assert got == want["random_reml"]
