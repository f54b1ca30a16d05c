"""Shared fixtures: shipped examples and the reference values kept in tests/reference/."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = Path(__file__).resolve().parent / "reference"
EXAMPLES = ROOT / "examples"
TWO_ARM = ("bcg", "li2007", "nielweise2007")


def default_signals() -> None:
    """``preexec_fn`` of a child that tests send Ctrl-C: SIGINT and SIGTERM at their defaults.

    Tests started with SIGINT ignored (a background job of a non-interactive shell, such as
    ``sh .ci/run &``) would otherwise pass that on, and bayesmeta rightly keeps an inherited
    SIG_IGN (``bayesmeta.interrupts.install``).
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def reference(name: str, kind: str) -> dict:
    """``tests/reference/{name}.{kind}.json`` (kind: metafor, stan, nnhm)."""
    return json.loads((REFERENCE / f"{name}.{kind}.json").read_text())


@pytest.fixture
def write_csv(tmp_path: Path):
    """Write CSV text to a temporary file and return its path."""

    def _write(text: str, name: str = "data.csv") -> Path:
        path = tmp_path / name
        path.write_text(text)
        return path

    return _write


def fails_cleanly(args: list[str]) -> str:
    """Run the CLI; assert exit code 2 with a single line and no traceback; return the line."""
    from typer.testing import CliRunner

    from bayesmeta.cli import app

    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    return lines[0]


@pytest.fixture(scope="session")
def bcg_exact_influence():
    """The exact normal-normal fit of bcg (Colditz et al. 1994) and its leave-one-out
    influence (13 exact refits), shared by the influence workflow and figure tests."""
    from bayesmeta.io.inputs import load as load_any
    from bayesmeta.workflows.analyze import analyze
    from bayesmeta.workflows.influence import influence

    result = analyze(load_any(EXAMPLES / "bcg.csv"), model="normal-normal")
    return result, influence(result)
