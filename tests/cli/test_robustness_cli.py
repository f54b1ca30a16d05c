"""``bayesmeta robustness``: outputs, figure and one-line errors."""

from __future__ import annotations

import json

import pandas as pd
from typer.testing import CliRunner

from bayesmeta.cli import app
from tests.conftest import EXAMPLES

runner = CliRunner()


def test_robustness_writes_json_csv_and_figure(tmp_path) -> None:
    out = {ext: tmp_path / f"map.{ext}" for ext in ("json", "csv", "svg")}
    args = ["robustness", "--example", "bcg", "--model", "normal-normal", "--points", "6"]
    args += ["--mu-scales", "0.01:100", "--tau-scales", "0.01:2"]
    args += ["--json", str(out["json"]), "--csv", str(out["csv"]), "--figure", str(out["svg"])]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "Prior robustness map (normal-normal, OR): 6 x 6 prior pairs" in result.output
    assert "Bayes factor for effect" in result.output and "flips" in result.output
    payload = json.loads(out["json"].read_text())
    assert payload["flips"]["bf_effect"] is True
    assert payload["tau_scales"][0] == 0.01 and payload["mu_sds"][-1] == 100
    grid = pd.read_csv(out["csv"])
    assert len(grid) == 36
    # the CSV and the JSON are the same numbers
    assert grid["prob_benefit"].to_numpy().reshape(6, 6).tolist() == payload["prob_benefit"]
    svg = out["svg"].read_text()
    assert "BF effect (mu != 0 vs mu = 0)" in svg  # text kept as text
    assert 'id="analysis-prior"' in svg  # the star at the analysis' priors
    assert "(black line: BF = 1)" in svg  # the effect's BF flips (Lindley)
    assert "(above P = 0.5 on the whole map)" in svg


def test_robustness_bad_input_is_one_line_exit_2(tmp_path) -> None:
    for args, fragment in (
        (["--tau-scales", "1:x"], "--tau-scales '1:x': write LOW:HIGH"),
        (["--threshold", "2"], "(0, 1)"),
        (["--common-effect"], "drop --common-effect"),
        (["--figure", str(tmp_path / "m.gif")], ".png, .pdf or .svg"),
        (["--model", "normal-normal", "--covariate", "ablat"], "without moderators"),
    ):
        result = runner.invoke(app, ["robustness", "--example", "bcg", *args])
        assert result.exit_code == 2, (args, result.output)
        lines = [line for line in result.output.splitlines() if line.strip()]
        assert len(lines) == 1 and fragment in lines[0], (args, result.output)


def test_robustness_never_writes_over_its_input(tmp_path) -> None:
    data = tmp_path / "bcg.csv"
    data.write_bytes((EXAMPLES / "bcg.csv").read_bytes())
    before = data.read_bytes()
    result = runner.invoke(app, ["robustness", str(data), "--csv", str(data), "--force"])
    assert result.exit_code == 2 and "input" in result.output
    assert data.read_bytes() == before


def test_report_no_average_no_robustness_say_not_asked_for(tmp_path) -> None:
    out = tmp_path / "r.md"
    args = ["report", "--example", "bcg", "--model", "normal-normal", "--out", str(out)]
    args += ["--no-sensitivity", "--no-influence", "--no-average", "--no-robustness"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    text = out.read_text()
    for title in ("## Model averaging", "## Prior robustness map"):
        section = text.split(title, 1)[1].split("\n## ", 1)[0]
        assert "*Not run: not asked for.*" in section
    assert not (tmp_path / "r-average.png").exists()
    assert not (tmp_path / "r-robustness.png").exists()
