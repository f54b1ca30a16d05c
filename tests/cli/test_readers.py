"""The read options on the command line and in a specification: --sheet, --decimal,
--encoding, --outcome reach the reader in fit, report, plot, run and batch (the readers' own
numbers are tested in tests/io/test_revman.py, test_workbooks.py and test_dialect.py)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from bayesmeta.cli import app
from tests.conftest import EXAMPLES, fails_cleanly
from tests.io.test_workbooks import review_xlsx

REVMAN = Path(__file__).resolve().parent.parent / "io" / "data" / "revman"


def invoke(args: list[str]) -> object:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return result


def test_fit_reads_a_revman_outcome_with_its_favours_labels(tmp_path) -> None:
    review = shutil.copy(REVMAN / "sore_throat_extract.rm5", tmp_path / "review.rm5")
    out, plot = tmp_path / "fit.json", tmp_path / "forest.svg"
    args = ["fit", str(review), "--outcome", "1.1", "--model", "normal-normal"]
    invoke([*args, "--json", str(out), "--plot", str(plot)])
    result = json.loads(out.read_text())
    assert result["data"]["source"] == f"{review} [outcome 1.1]"
    assert result["data"]["k"] == 15
    svg = plot.read_text()
    assert "Favours antibiotics" in svg and "Favours placebo" in svg
    invoke([*args, "--plot", str(tmp_path / "f2.svg"), "--favours", "Left,Right"])
    assert "Left" in (tmp_path / "f2.svg").read_text()
    assert "Favours antibiotics" not in (tmp_path / "f2.svg").read_text()


def test_run_reads_the_sheet_and_dialect_options_of_the_data_table(tmp_path) -> None:
    review_xlsx(tmp_path / "review.xlsx")
    spec = tmp_path / "spec.toml"
    spec.write_text(
        '[data]\npath = "review.xlsx"\nsheet = "Data"\n[model]\nname = "normal-normal"\n'
        '[output]\njson = "out.json"\n'
    )
    invoke(["run", str(spec)])
    result = json.loads((tmp_path / "out.json").read_text())
    assert result["data"]["k"] == 13
    assert result["data"]["source"] == f"{tmp_path / 'review.xlsx'} [sheet Data]"
    spec.write_text('[data]\npath = "review.xlsx"\nsheet = 2\n')
    assert "sheet" in fails_cleanly(["run", str(spec)])


def test_classic_json_of_a_cp1252_semicolon_file(tmp_path) -> None:
    text = EXAMPLES.joinpath("bcg.csv").read_text().replace(",", ";").replace("Simes", "Sîmes")
    path = tmp_path / "bcg.csv"
    path.write_bytes(text.encode("cp1252"))
    out = tmp_path / "c.json"
    invoke(["classic", str(path), "--encoding", "cp1252", "--json", str(out)])
    result = json.loads(out.read_text())
    assert result["data"]["warnings"][0].endswith(
        "read as semicolon-separated, decimal comma, cp1252"
    )
    assert result["data"]["k"] == 13
    from bayesmeta.io.inputs import load
    from bayesmeta.io.table import TableFile

    assert load(TableFile(path, encoding="cp1252")).study[1] == "Ferguson & Sîmes 1949"


def test_batch_over_a_revman_review_fits_each_outcome(tmp_path) -> None:
    review = shutil.copy(REVMAN / "Fleiss1993.rm5", tmp_path / "fleiss.rm5")
    out = tmp_path / "results.csv"
    result = CliRunner().invoke(
        app,
        [
            "batch",
            str(review),
            "--out",
            str(out),
            "--chains",
            "1",
            "--draws",
            "100",
            "--tune",
            "100",
            "--workers",
            "1",
            "--quiet",
        ],
    )
    assert result.exit_code in (0, 3), result.output
    import pandas as pd

    table = pd.read_csv(out)
    assert list(table["name"]) == [
        "1.1 Aspirin for Preventing Death after Myocardial Infarction",
        "1.2 Mental Health Treatment versus Control",
    ]
    assert list(table["status"]) == ["ok", "failed"]
    assert table["k"][0] == 7
    assert "missing column(s) treatment_events" in table["reason"][1]  # batch fits counts only
