"""``bayesmeta classic --publication-bias``: the JSON block against metafor, and the refusals
(one line, exit code 2)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bayesmeta.cli import app

runner = CliRunner()
REF = json.loads((Path(__file__).parents[1] / "reference" / "metafor_bias.json").read_text())


def test_publication_bias_json_matches_metafor(tmp_path) -> None:
    out = tmp_path / "bias.json"
    result = runner.invoke(app, ["classic", "--example", "li2007", "--publication-bias",
                                 "--effect-direction", "negative", "--json", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "(selection assumed to favour negative effects; steps 0.025)" in result.output
    block = json.loads(out.read_text())["publication_bias"]
    ref = REF["li2007"]
    assert block["effect_direction"] == "negative"
    tf = block["trimfill_random_l0"]
    assert (tf["k0"], tf["side"]) == (
        ref["trimfill_REML_L0"]["k0"],
        ref["trimfill_REML_L0"]["side"],
    )
    assert tf["filled"]["estimate"] == pytest.approx(ref["trimfill_REML_L0"]["est"], abs=1e-6)
    assert block["pet"]["estimate"] == pytest.approx(ref["pet"]["b0"], abs=1e-8)
    assert block["rank_test"]["p"] == pytest.approx(ref["ranktest"]["pval"], abs=1e-10)
    assert block["fsn_rosenthal"]["n"] == ref["fsn_rosenthal"]["fsnum"]
    assert block["selection_step"]["alternative"] == "less"
    assert block["selection_step"]["steps"] == [0.025, 1.0]


def test_default_direction_is_the_common_effect_estimates(tmp_path) -> None:
    """bcg's log odds ratios are negative (the vaccine protects): by default the selection
    models assume significantly protective trials are published (metafor ``alternative =
    "less"``), and the title says so and why; ``positive`` is metafor's default."""
    out = tmp_path / "bias.json"
    result = runner.invoke(app, ["classic", "--example", "bcg", "--publication-bias",
                                 "--json", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (
        "selection assumed to favour negative effects, the direction of the common-effect "
        "estimate; steps 0.025" in " ".join(result.output.split())
    )
    block = json.loads(out.read_text())["publication_bias"]
    assert block["effect_direction"] == "negative"
    step, ref = block["selection_step"], REF["bcg"]["sel_3psm_ml_less"]
    assert step["alternative"] == "less"
    assert step["estimate"] == pytest.approx(ref["est"], abs=1e-4)
    assert step["loglik"] == pytest.approx(ref["ll"], abs=1e-6)
    assert block["selection_beta"]["alternative"] == "less"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--example", "pritz1997_prop", "--publication-bias"],
         "single-arm proportions are not supported"),
        (["--example", "bcg", "--publication-bias", "--effect-direction", "up"],
         "unknown effect direction 'up'"),
        (["--example", "bcg", "--publication-bias", "--selection-steps", "0.025,x"],
         "--selection-steps must be comma-separated p-values"),
        (["--example", "bcg", "--publication-bias", "--selection-steps", "1.5"],
         "selection model steps must be p-values in (0, 1)"),
    ],
)  # fmt: skip
def test_refusals_are_one_line_exit_2(args, message) -> None:
    result = runner.invoke(app, ["classic", *args])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0], result.output


def test_too_few_studies_are_skipped_with_the_reason(write_csv) -> None:
    """Three reported effects: the beta model (4 parameters) says why it is not computed."""
    path = write_csv("study,yi,vi\na,0.1,0.04\nb,0.5,0.09\nc,-0.2,0.05\n")
    out = path.with_suffix(".json")
    result = runner.invoke(app, ["classic", str(path), "--publication-bias", "--json", str(out)])
    assert result.exit_code == 0, result.output
    block = json.loads(out.read_text())["publication_bias"]
    assert block["selection_beta"] == {
        "skipped": "the beta selection model has 4 parameters but only 3 studies"
    }
