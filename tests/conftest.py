"""Shared fixtures: shipped examples and the reference values kept in tests/reference/."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = Path(__file__).resolve().parent / "reference"
EXAMPLES = ROOT / "examples"
TWO_ARM = ("bcg", "li2007", "nielweise2007")


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
