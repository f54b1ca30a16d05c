"""What a TOML specification may read, and what errors may quote (issue 22).

A specification may come from someone else: ``path = "/etc/shadow"`` used to read that file
and print its first line in the error ("found 'root:$6$...'").
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bayesmeta.errors import DataError
from bayesmeta.io.inputs import load
from bayesmeta.io.spec import load_spec
from tests.conftest import EXAMPLES, ROOT, fails_cleanly

SECRET = "root:$6$saltsalt$hashhashhash:19000:0:99999:7:::"


def _spec(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "spec.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("name", ["{outside}", "../outside/secret", "sub/../../outside/secret"])
def test_a_spec_cannot_read_data_outside_its_folder(tmp_path: Path, name: str) -> None:
    (tmp_path / "outside").mkdir()
    secret = tmp_path / "outside" / "secret"
    secret.write_text(SECRET + "\n")
    name = name.format(outside=secret)
    spec = _spec(tmp_path / "specs", f'[data]\npath = "{name}"\n')
    line = fails_cleanly(["run", str(spec)])
    assert "leads out of the specification's folder" in line
    assert "bayesmeta fit DATA" in line
    assert "root" not in line.replace(str(tmp_path), "")


def test_a_link_out_of_the_folder_is_refused(tmp_path: Path) -> None:
    data = tmp_path / "elsewhere.csv"
    data.write_bytes((EXAMPLES / "bcg.csv").read_bytes())
    folder = tmp_path / "specs"
    folder.mkdir()
    os.symlink(data, folder / "bcg.csv")
    spec = _spec(folder, '[data]\npath = "bcg.csv"\n')
    assert "leads out of the specification's folder" in fails_cleanly(["run", str(spec)])


def test_data_in_a_subfolder_and_the_shipped_specs_are_read(tmp_path: Path) -> None:
    folder = tmp_path / "review"
    (folder / "data").mkdir(parents=True)
    (folder / "data" / "bcg.csv").write_bytes((EXAMPLES / "bcg.csv").read_bytes())
    spec = load_spec(_spec(folder, '[data]\npath = "data/../data/bcg.csv"\n'))
    assert spec.data_path == (folder / "data" / "bcg.csv").resolve()
    for shipped in sorted((ROOT / "models").glob("*.toml")):
        if not shipped.name.startswith("simulation"):  # a `simulate` scenario file
            assert load_spec(shipped).example is not None


@pytest.mark.parametrize(
    "text",
    [SECRET + "\ndaemon:*:19000:0:99999:7:::\n", "alpha,beta\nsecret1,secret2\n"],
)
def test_a_file_that_is_no_table_of_studies_is_not_quoted(write_csv, text: str) -> None:
    path = write_csv(text, "notes.txt")
    line = fails_cleanly(["classic", str(path)])
    assert line.startswith(f"error: {path}: does not look like a table of studies")
    for word in ("root", "saltsalt", "alpha", "secret", "daemon"):
        assert word not in line.replace(str(path), "")
    with pytest.raises(DataError, match="does not look like a table of studies"):
        load(path, design="reported")


def test_a_table_with_one_known_column_still_lists_its_columns(write_csv) -> None:
    path = write_csv("study,dose\na,1\nb,2\n")
    assert "found 'study', 'dose'" in fails_cleanly(["classic", str(path)])


@pytest.mark.parametrize("level", [0.1, 0.4999, 0.9995, 1.0])
def test_a_spec_ci_level_has_the_bounds_of_the_option(tmp_path: Path, level: float) -> None:
    spec = _spec(tmp_path, f'[data]\nexample = "bcg"\nci_level = {level}\n')
    line = fails_cleanly(["run", str(spec)])
    assert f"[data] ci_level must be between 0.5 and 0.999, got {level}" in line
    option = fails_cleanly(["fit", "--example", "bcg", "--ci-level", str(level)])
    assert ("greater than or equal to 0.5" if level < 0.5 else "less than or equal to 0.999") in (
        option
    )


def test_a_spec_ci_level_within_the_bounds_is_used(tmp_path: Path) -> None:
    assert load_spec(_spec(tmp_path, '[data]\nexample = "bcg"\nci_level = 0.9\n')).ci_level == 0.9


def test_batch_does_not_quote_a_file_that_is_no_table(write_csv, tmp_path: Path) -> None:
    path = write_csv(SECRET + "\n", "notes.txt")
    line = fails_cleanly(["batch", str(path), "--out", str(tmp_path / "r.csv")])
    assert "does not look like a long table of studies" in line
    assert "root" not in line.replace(str(tmp_path), "")
