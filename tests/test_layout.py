"""The package layout follows the data flow: stages import only earlier stages, no module
imports itself back through others, and at most ten modules sit at the top level.

The import graph is read from the source (every ``import``, also those inside functions,
which keep heavy libraries off the start-up path), so it holds for lazy imports too.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "bayesmeta"

# Each stage may import its own and lower ranks: read -> effects -> model -> engines ->
# summaries -> workflows -> report, the public API and the command line on top.
RANK = {
    "errors": 0,
    "interrupts": 0,
    "progress": 0,
    "io": 1,
    "effects": 2,
    "model": 3,
    "frequentist": 3,
    "engines": 4,
    "summaries": 5,
    "workflows": 6,
    "report": 7,
    "models": 8,
    "plots": 8,
    "": 8,  # bayesmeta/__init__.py: the public API
    "cli": 9,
    "__main__": 10,
}


def modules() -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its ``__init__``)."""
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = ["bayesmeta", *path.relative_to(PACKAGE).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def imported(name: str, path: Path, known: dict[str, Path]) -> Iterator[str]:
    """The bayesmeta modules that module ``name`` imports, anywhere in its code."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            targets = [
                f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names
            ]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target.startswith("bayesmeta") and target != name:
                yield target


def stage(name: str) -> str:
    """``bayesmeta.engines.nuts`` -> ``engines``; the package itself -> ``""``."""
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else ""


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: set(imported(name, path, known)) for name, path in known.items()}


def test_every_stage_has_a_rank(graph):
    assert {stage(name) for name in graph} == set(RANK)


def test_imports_point_from_the_command_line_towards_the_core(graph):
    backwards = [
        f"{name} imports {target}"
        for name, targets in graph.items()
        for target in targets
        if RANK[stage(target)] > RANK[stage(name)]
    ]
    assert not backwards


def test_no_module_imports_itself_through_others(graph):
    def reaches(start: str) -> set[str]:
        seen, todo = set(), list(graph[start])
        while todo:
            name = todo.pop()
            if name not in seen:
                seen.add(name)
                todo.extend(graph[name])
        return seen

    assert [name for name in graph if name in reaches(name)] == []


def test_at_most_ten_modules_at_the_top_level():
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(top) <= 10, top


def test_the_graph_holds_the_imports_made_inside_functions(graph):
    """``fit`` imports the request path and the terminal report only when it runs."""
    assert {"bayesmeta.workflows.request", "bayesmeta.report.terminal"} <= graph[
        "bayesmeta.cli.fit"
    ]


def test_no_module_outside_the_likelihood_registry_names_a_likelihood():
    """A likelihood is one module of ``bayesmeta/model/likelihoods`` and one registry row:
    no other module spells a likelihood's name (to branch on it, or to pick one), so adding a
    likelihood needs no edit elsewhere. The scales registry's ``"proportion"`` is the JSON
    name of a shown-scale summary, not the likelihood."""
    from bayesmeta.model.likelihoods import NAMES

    registry = PACKAGE / "model" / "likelihoods"
    exempt = {PACKAGE / "model" / "scales.py": {"proportion"}}
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if registry in path.parents:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        exports = {  # function names in __all__ (bayesmeta.models.proportion)
            id(c)
            for node in ast.walk(tree)
            if isinstance(node, ast.Assign)
            and any(getattr(t, "id", None) == "__all__" for t in node.targets)
            for c in ast.walk(node.value)
        }
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and node.value in NAMES
                and node.value not in exempt.get(path, ())
                and id(node) not in exports
            ):
                found.append(f"{path.relative_to(PACKAGE)}:{node.lineno}: {node.value!r}")
    assert not found


def test_no_module_outside_the_registry_branches_on_a_likelihoods_data_class():
    """Decisions that depend on the kind of data (which frequentist measures, count methods,
    publication bias, batch columns) are attributes of the likelihood native to the data
    (:func:`bayesmeta.model.likelihoods.native`), not ``isinstance`` ladders of data classes.
    The readers (``io``) define the classes; ``effects`` (metafor's escalc per design) sits
    below the model layer, so it cannot ask the registry."""
    from bayesmeta.model.likelihoods import LIKELIHOODS

    classes = {lik.data_class.__name__ for lik in LIKELIHOODS.values()} | {"StudyData"}
    allowed = {PACKAGE / "effects.py"}
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        inside = {PACKAGE / "io", PACKAGE / "model" / "likelihoods"} & set(path.parents)
        if inside or path in allowed:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", None) == "isinstance"
                and len(node.args) == 2
                and {getattr(n, "id", None) for n in ast.walk(node.args[1])} & classes
            ):
                found.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert not found
