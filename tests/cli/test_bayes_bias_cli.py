"""``bayesmeta bias``: the JSON it writes, what it states, and its refusals (one line, exit 2)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from bayesmeta.cli import app
from tests.conftest import fails_cleanly

runner = CliRunner()


def test_bias_writes_the_ensemble(tmp_path) -> None:
    out = tmp_path / "bias.json"
    args = ["--measure", "RR", "--priors", "robma", "--effect-direction", "negative"]
    result = runner.invoke(app, ["bias", "--example", "bcg", *args, "--json", str(out)])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "expected direction of the effect: negative" in text
    assert "normal approximation" in text
    block = json.loads(out.read_text())
    assert block["effect_direction"] == "negative" and block["measure"] == "RR"
    assert block["priors"]["mu"] == "normal(0, 1)" and block["priors"]["preset"] == "robma"
    assert len(block["models"]) == 36
    assert sum(m["prior_probability"] for m in block["models"]) == pytest.approx(1.0, abs=1e-12)
    assert sum(m["posterior_probability"] for m in block["models"]) == pytest.approx(1.0)
    # half of the prior mass on no bias, 1/12 of the other half on each weight function
    none = [m for m in block["models"] if m["bias"] == "none"]
    assert sum(m["prior_probability"] for m in none) == pytest.approx(0.5)
    assert block["components"]["bias"]["prior_probability"] == pytest.approx(0.5)
    assert block["mu"]["ci95"][0] < block["mu"]["median"] <= block["mu"]["ci95"][1]
    assert block["max_log_marginal_likelihood_error"] < 0.01


def test_the_default_direction_is_that_of_the_common_effect_estimate(tmp_path) -> None:
    """bcg's risk ratios are below 1 (IV log RR -0.43): without --effect-direction the
    ensemble assumes selection favours negative effects, not RoBMA's default positive."""
    out = tmp_path / "bias.json"
    args = ["--measure", "RR", "--priors", "robma", "--json", str(out)]
    result = runner.invoke(app, ["bias", "--example", "bcg", *args])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["effect_direction"] == "negative"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--example", "pritz1997_prop"], "need comparative effects"),
        (["--example", "bcg", "--effect-direction", "up"], "unknown --effect-direction 'up'"),
        (["--example", "bcg", "--priors", "flat"], "unknown --priors preset 'flat'"),
        (["--example", "bcg", "--prior-bias", "1"], "--prior-bias must be a probability in (0, 1)"),
        (["--example", "bcg", "--prior-tau", "normal(0, 1)"], "must be on the positive reals"),
        (["--example", "normand1999"], "MD is in the outcome's units"),
    ],
)  # fmt: skip
def test_refusals_are_one_line_exit_2(args, message) -> None:
    assert message in fails_cleanly(["bias", *args])


def test_too_few_studies_is_one_line_exit_2(write_csv) -> None:
    path = write_csv("study,yi,vi\nA,0.1,0.04\nB,0.3,0.02\nC,-0.2,0.05\nD,0.5,0.1\n")
    line = fails_cleanly(["bias", str(path)])
    assert "needs at least 5 studies" in line and "these data have 4" in line


def test_bias_imports_no_sampler_and_no_plotting() -> None:
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from bayesmeta.cli import app\n"
        "args = ['bias', '--example', 'bcg', '--effect-direction', 'negative']\n"
        "r = CliRunner().invoke(app, args)\n"
        "assert r.exit_code == 0, r.output\n"
        "mods = ('pymc', 'pytensor', 'arviz', 'nutpie', 'matplotlib')\n"
        "heavy = [m for m in mods if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
