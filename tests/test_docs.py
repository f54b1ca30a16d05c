"""The API reference documents every public name: a function, class, builder or figure added to
``bayesmeta.__all__``, ``bayesmeta.models.__all__`` or ``bayesmeta.plots.__all__`` without an
entry in ``docs/api/`` fails here.

An entry is a mkdocstrings directive (``::: dotted.path``) on a page under ``docs/api/`` whose
object is the public object itself (any path to it counts: ``bayesmeta.analyze`` or
``bayesmeta.workflows.analyze.analyze``), on a page listed in ``mkdocs.yml``. That the
directives render, and that every link resolves, is checked by ``mkdocs build --strict`` in CI.

The code blocks the build executes (the tutorials') are checked here against the project's
style, since readers copy them.
"""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import bayesmeta
import bayesmeta.models
import bayesmeta.plots

ROOT = Path(__file__).resolve().parent.parent
API = ROOT / "docs" / "api"
DIRECTIVE = re.compile(r"^:::\s+([\w.]+)\s*$", re.MULTILINE)
EXEC_BLOCK = re.compile(r'```python exec="on"[^\n]*\n(.*?)\n```', re.DOTALL)
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
    """Public names; the public modules (models, plots) by their members."""
    modules = (bayesmeta.models, bayesmeta.plots)
    names = [
        (f"bayesmeta.{n}", getattr(bayesmeta, n))
        for n in bayesmeta.__all__
        if getattr(bayesmeta, n) not in modules
    ]
    for module in modules:
        names += [(f"{module.__name__}.{n}", getattr(module, n)) for n in module.__all__]
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


def executed_blocks() -> list[tuple[str, str]]:
    """(page, code) of every block the docs build executes (```python exec="on" ...)."""
    found = []
    for page in sorted((ROOT / "docs").rglob("*.md")):
        for code in EXEC_BLOCK.findall(page.read_text()):
            found.append((page.relative_to(ROOT).as_posix(), code + "\n"))
    return found


@pytest.mark.parametrize(("page", "code"), executed_blocks())
def test_executed_code_blocks_are_ruff_clean(page: str, code: str) -> None:
    """Readers copy these blocks: they follow the project's style (ruff, line length 100)."""
    ruff = [sys.executable, "-m", "ruff"]
    check = [*ruff, "check", "--line-length", "100", "--select", "E,W,B,UP,SIM", "-"]
    found = subprocess.run(check, input=code, capture_output=True, text=True)
    assert found.returncode == 0, f"{page}:\n{found.stdout}"
    formatted = subprocess.run(
        [*ruff, "format", "--line-length", "100", "-"], input=code, capture_output=True, text=True
    )
    assert formatted.stdout == code, f"{page}: a block is not ruff-formatted:\n{code}"
