"""The API reference documents every public name: a function, class or builder added to
``bayesmeta.__all__`` or ``bayesmeta.models.__all__`` without an entry in ``docs/api/`` fails here.

An entry is a mkdocstrings directive (``::: dotted.path``) on a page under ``docs/api/`` whose
object is the public object itself (any path to it counts: ``bayesmeta.analyze`` or
``bayesmeta.workflows.analyze.analyze``), on a page listed in ``mkdocs.yml``. That the
directives render, and that every link resolves, is checked by ``mkdocs build --strict`` in CI.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any

import pytest

import bayesmeta
import bayesmeta.models

ROOT = Path(__file__).resolve().parent.parent
API = ROOT / "docs" / "api"
DIRECTIVE = re.compile(r"^:::\s+([\w.]+)\s*$", re.MULTILINE)
NOT_OBJECTS = {"__version__", "models"}  # a string, and the module of the builders


def resolve(path: str) -> Any:
    """The object a dotted path names: the longest importable module, then attributes."""
    parts = path.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj: Any = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for name in parts[cut:]:
            obj = getattr(obj, name)
        return obj
    raise ImportError(path)


def directives() -> dict[str, Path]:
    """Every ``::: path`` of the API pages, with its page."""
    found = {}
    for page in sorted(API.rglob("*.md")):
        for path in DIRECTIVE.findall(page.read_text()):
            found[path] = page
    return found


def documented() -> list[Any]:
    """The objects the directives name (those that name nothing fail their own test)."""
    objects = []
    for path in directives():
        try:
            objects.append(resolve(path))
        except (ImportError, AttributeError):
            continue
    return objects


def public() -> list[tuple[str, Any]]:
    names = [(f"bayesmeta.{n}", getattr(bayesmeta, n)) for n in bayesmeta.__all__]
    names += [
        (f"bayesmeta.models.{n}", getattr(bayesmeta.models, n)) for n in bayesmeta.models.__all__
    ]
    return [(name, obj) for name, obj in names if name.split(".")[-1] not in NOT_OBJECTS]


@pytest.mark.parametrize("name", [name for name, _ in public()])
def test_every_public_name_has_an_api_entry(name: str) -> None:
    obj = resolve(name)
    assert any(obj is entry for entry in documented()), (
        f"{name} is public but no page in docs/api/ documents it: add a page with "
        f"'::: {name}' and list it under 'Python API' in mkdocs.yml"
    )


def test_every_directive_names_an_existing_object() -> None:
    for path, page in directives().items():
        try:
            resolve(path)
        except (ImportError, AttributeError) as error:
            pytest.fail(f"{page}: '::: {path}' names nothing ({error})")


def test_every_api_page_is_in_the_navigation() -> None:
    nav = (ROOT / "mkdocs.yml").read_text()
    for page in API.rglob("*.md"):
        assert page.relative_to(ROOT / "docs").as_posix() in nav, f"{page} is not in mkdocs.yml"


def test_the_version_is_mentioned() -> None:
    assert "bayesmeta.__version__" in (API / "index.md").read_text()
