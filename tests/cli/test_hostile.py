"""Issue 9's defects, each reproduced through the command line: real review data is analysed,
nothing crashes, nothing is overwritten, every refusal is one line with exit code 2.

Data: ``examples/hasselblad1998.csv`` (Hasselblad 1998, Med Decis Making 18:37; R metadat
``dat.hasselblad1998``), whose three-arm trials repeat their label and share the control arm.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from bayesmeta.cli import app
from tests.conftest import EXAMPLES, fails_cleanly

runner = CliRunner()
FAST = ["--draws", "300", "--tune", "300", "--chains", "2"]
BCG = str(EXAMPLES / "bcg.csv")


def test_repeated_labels_are_analysed_keeping_every_row(tmp_path) -> None:
    out = tmp_path / "classic.json"
    result = runner.invoke(app, ["classic", "--example", "hasselblad1998", "--json", str(out)])
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())
    assert doc["data"]["k"] == 20
    assert any("Cottraux et al. 1983 [2]" in w for w in doc["data"]["warnings"])
    assert any("share one control arm" in w for w in doc["data"]["warnings"])
    assert "Warning: rows 2, 3 ('Cottraux et al. 1983') share one control arm" in result.output


@pytest.mark.sampling
def test_repeated_labels_through_fit_and_the_split_option(tmp_path) -> None:
    out = tmp_path / "fit.json"
    args = ["fit", "--example", "hasselblad1998", "--split-shared-control", *FAST]
    result = runner.invoke(app, [*args, "--json", str(out)])
    assert result.exit_code in (0, 3), result.output
    doc = json.loads(out.read_text())
    rows = {row["study"]: row for row in doc["studies"]}
    # the shared 9/140 no-contact arm of Cottraux 1983 split by hand: 5/70 and 4/70
    first, second = rows["Cottraux et al. 1983"], rows["Cottraux et al. 1983 [2]"]
    assert (first["control_events"], first["control_total"]) == (5, 70)
    assert (second["control_events"], second["control_total"]) == (4, 70)
    assert len(doc["posterior"]["theta"]) == 20


def test_data_without_information_are_not_reported_as_ok(write_csv, tmp_path) -> None:
    path = write_csv(
        "study,treatment_events,treatment_total,control_events,control_total\n"
        "a,0,10,0,12\nb,0,20,0,25\nc,0,30,0,31\n"
    )
    out = tmp_path / "fit.json"
    result = runner.invoke(app, ["fit", str(path), "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert "Diagnostics: OK" not in result.output
    assert "Warning: no study has any event in either arm" in result.output
    assert "the sampler converged, but the data carry no information on the effect" in (
        " ".join(result.output.split())
    )
    warnings = json.loads(out.read_text())["data"]["warnings"]
    assert any("no information on the odds ratio" in w for w in warnings)


def test_hartung_knapp_on_identical_effects_is_flagged(write_csv, tmp_path) -> None:
    path = write_csv("study,yi,vi\na,0.3,0.1\nb,0.3,0.2\nc,0.3,0.05\n")
    out = tmp_path / "classic.json"
    result = runner.invoke(app, ["classic", str(path), "--json", str(out)])
    assert result.exit_code == 0, result.output
    block = json.loads(out.read_text())["frequentist"]["random_reml_hksj"]
    assert block["degenerate"] is True and block["se"] == 0.0
    assert "<0.0001" not in result.output and "zero-width CI" in result.output
    assert "degenerate" not in json.loads(out.read_text())["frequentist"]["random_dl"]


@pytest.mark.parametrize(
    "text",
    [
        "study,yi,vi\na,0.1,0.04\nb,0.5,0.09\nc,-0.2,0.05\n",
        "study,log_or,se\na,0.1,0.2\nb,0.5,0.3\n",
    ],
)
def test_classic_takes_reported_effects(write_csv, text: str) -> None:
    result = runner.invoke(app, ["classic", str(write_csv(text))])
    assert result.exit_code == 0, result.output
    assert "DerSimonian-Laird" in result.output
    assert "Need 2x2 counts, so not computed for reported effects: Mantel-Haenszel" in result.output


def test_study_names_are_printed_literally(write_csv) -> None:
    path = write_csv("study,yi,vi\n[/],0.1,0.04\n[bold]x[/bold],0.5,0.09\n:smile:,-0.2,0.05\n")
    result = runner.invoke(app, ["fit", str(path)])
    assert result.exit_code == 0, result.output
    for name in ("[/]", "[bold]x[/bold]", ":smile:"):
        assert name in result.output


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["fit", BCG, "--prior-tau", "half-normal(1e308)"], "sigma must be between 1e-06"),
        (["fit", BCG, "--prior-mu", "normal(1e308, 1)"], "mu must be between -1e+06 and 1e+06"),
        (["fit", BCG, "--prior-tau", "lognormal(1000, 1)"], "mu must be between -13.8155"),
        (["fit", BCG, "--seed", "-1"], "seed must be between 0 and 4294967295"),
        (["fit", BCG, "--seed", str(2**64)], "seed must be between 0 and 4294967295"),
        (["fit", BCG, "--chains", "0"], "'--chains'"),
        (["fit", BCG, "--draws", "99"], "'--draws'"),
        (["fit", BCG, "--target-accept", "1.0"], "'--target-accept'"),
        (["fit", BCG, "--no-such-option"], "No such option"),
        (["sensitivity", BCG, "--prior-tau", "half-cauchy(1e-9)"], "scale must be between"),
    ],
)  # fmt: skip
def test_bad_options_are_one_line(args: list[str], fragment: str) -> None:
    line = fails_cleanly(args)
    assert line.startswith("error: ") and fragment in line, line


@pytest.mark.parametrize("command", ["batch", "simulate"])
def test_seeds_are_checked_alike_in_batch_and_simulate(tmp_path, command: str) -> None:
    source = BCG if command == "batch" else str(EXAMPLES.parent / "models" / "bcg.toml")
    line = fails_cleanly([command, source, "--out", str(tmp_path / "o.csv"), "--seed", "-1"])
    assert "seed must be between 0 and 4294967295" in line


def test_no_command_writes_over_its_input(tmp_path) -> None:
    data = tmp_path / "data.csv"
    data.write_bytes((EXAMPLES / "bcg.csv").read_bytes())
    before = data.read_bytes()
    for args in (
        ["fit", str(data), "--json", str(data), "--force"],
        ["fit", str(data), "--plot", str(data), "--force"],
        ["classic", str(data), "--json", str(data), "--force"],
        ["sensitivity", str(data), "--json", str(data), "--force"],
        ["batch", str(data), "--group-column", "study", "--out", str(data), "--force"],
    ):
        assert "it is an input of this command" in fails_cleanly(args)
    assert data.read_bytes() == before


def test_two_outputs_on_one_file_are_refused_before_fitting(tmp_path) -> None:
    same = tmp_path / "x.png"
    line = fails_cleanly(["fit", BCG, "--json", str(same), "--plot", str(same)])
    assert "given for two outputs" in line and not same.exists()


def test_an_unwritable_output_is_refused_before_fitting(tmp_path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    line = fails_cleanly(["fit", BCG, "--json", str(blocker / "out.json")])
    assert "does not exist" in line
    line = fails_cleanly(["fit", BCG, "--json", str(tmp_path)])
    assert "it is a folder" in line


@pytest.mark.parametrize(
    ("output", "fragment"),
    [
        ('json = "data.csv"', "it is an input of this command"),
        ('json = "../outside.json"', "leads out of the specification's folder"),
        ('json = "/tmp/anywhere.json"', "leads out of the specification's folder"),
        ('json = "spec.toml"', "it is an input of this command"),
    ],
)
def test_a_spec_cannot_choose_where_outside_its_folder_to_write(tmp_path, output, fragment) -> None:
    (tmp_path / "data.csv").write_bytes((EXAMPLES / "bcg.csv").read_bytes())
    spec = tmp_path / "spec.toml"
    spec.write_text(f'[data]\npath = "data.csv"\n[output]\n{output}\n')
    assert fragment in fails_cleanly(["run", str(spec), "--force"])


def test_an_output_inside_the_batch_input_folder_is_refused(tmp_path) -> None:
    folder = tmp_path / "inputs"
    folder.mkdir()
    (folder / "bcg.csv").write_bytes((EXAMPLES / "bcg.csv").read_bytes())
    line = fails_cleanly(["batch", str(folder), "--out", str(folder / "results.csv")])
    assert "the next run would read it" in line


@pytest.mark.parametrize(
    ("toml", "fragment"),
    [
        ('files = "bcg.csv"\n', "files must be a list of CSV paths"),
        ("files = [1, 2]\n", "files must be a list of CSV paths"),
        ('meta_analyses = ["a.csv"]\n', "[meta_analyses] must be a table"),
        ("", "no meta-analyses listed"),
    ],
)
def test_batch_toml_values_of_the_wrong_type(tmp_path, toml: str, fragment: str) -> None:
    path = tmp_path / "jobs.toml"
    path.write_text(toml)
    assert fragment in fails_cleanly(["batch", str(path), "--out", str(tmp_path / "o.csv")])


def test_cumulative_with_a_blank_year_is_refused(write_csv) -> None:
    path = write_csv("study,yi,vi,year\na,0.1,0.04,2001\nb,0.5,0.09,\nc,-0.2,0.05,1999\n")
    line = fails_cleanly(["classic", str(path), "--cumulative", "year"])
    assert "row 2" in line and "blank" in line
