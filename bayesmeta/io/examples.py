"""The example datasets shipped in ``examples/`` (published trials, with citations)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from bayesmeta.errors import BayesmetaError
from bayesmeta.io.counts import StudyData
from bayesmeta.io.network import NetworkData, load_network
from bayesmeta.io.reported import ReportedEffects


@dataclass(frozen=True)
class Example:
    """One shipped dataset: its name, CSV path, design and citation, and the forest plot's
    favours labels where its events are wanted (None: the defaults, for harmful events)."""

    name: str
    path: Path
    design: str
    title: str
    citation: str
    favours: tuple[str, str] | None = None


def _folder() -> Path:
    """``examples/`` of a source checkout, or its copy inside an installed wheel."""
    here = Path(__file__).resolve().parent.parent  # the bayesmeta package folder
    for candidate in (here / "_examples", here.parent / "examples"):
        if (candidate / "datasets.toml").is_file():
            return candidate
    raise BayesmetaError("the example datasets are not installed with this copy of bayesmeta")


@cache
def examples() -> dict[str, Example]:
    """All shipped examples by name."""
    folder = _folder()
    with open(folder / "datasets.toml", "rb") as fh:
        table = tomllib.load(fh)
    return {
        name: Example(
            name,
            folder / spec["file"],
            spec["design"],
            spec["title"],
            spec["citation"],
            tuple(spec["favours"]) if "favours" in spec else None,
        )
        for name, spec in table.items()
    }


def example(name: str) -> Example:
    """Look up a shipped example by name; unknown names list the valid ones."""
    known = examples()
    if name not in known:
        raise BayesmetaError(f"unknown example {name!r}; choose one of {', '.join(known)}")
    return known[name]


def load_example(name: str, **options: Any) -> StudyData | ReportedEffects | NetworkData:
    """The shipped example ``name`` (``bcg``, ``li2007``...; see :func:`examples`), read by
    :func:`bayesmeta.load` with ``options`` (e.g. ``split_shared_control=True``); a network
    example by :func:`bayesmeta.io.network.load_network` (options: ``reference``)."""
    from bayesmeta.io.inputs import load

    found = example(name)
    if found.design == "network":
        return load_network(found.path, **options)
    return load(found.path, **options)
