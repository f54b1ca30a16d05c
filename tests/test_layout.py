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
    # effects: escalc per design, below the model layer; network: "is it loaded data yet?"
    allowed = {PACKAGE / "effects.py", PACKAGE / "workflows" / "network.py"}
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


# The stages that compute: report/ may import from them only what is pure data, classes (the
# result types) and registries, never a function or a module, and calls no function a registry
# row holds (``METHODS[name].compute``). Engines it does not import at all.
COMPUTING = ("effects", "frequentist", "summaries", "workflows")
# A module that still computes, with the work that will end it (a test below fails once it no
# longer does, so the entry cannot outlive its reason).
PENDING: dict[str, str] = {}


def _imported_names(tree: ast.AST, name: str, known: dict[str, Path]) -> Iterator[tuple]:
    """``(line, module, attribute or None)`` for every import of module ``name``: ``from M
    import A`` is ``(M, A)`` unless ``M.A`` is itself a module."""
    path = known.get(name)
    package = name if path is not None and path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, None
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parent = parts[: len(parts) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            for alias in node.names:
                full = f"{base}.{alias.name}"
                if full in known:
                    yield node.lineno, full, None
                else:
                    yield node.lineno, base, alias.name


def _registry_callables(value: object) -> set[str]:
    """The fields of a registry's rows that hold functions (``compute`` of ``METHODS``)."""
    import dataclasses

    rows = value.values() if isinstance(value, dict) else ()
    return {
        f.name
        for row in rows
        if dataclasses.is_dataclass(row)
        for f in dataclasses.fields(row)
        if callable(getattr(row, f.name)) and not isinstance(getattr(row, f.name), type)
    }


def presentation_violations(name: str, source: str) -> list[str]:
    """Where the module ``name`` (of ``report/``) with this ``source`` computes: an engine
    imported, a function or module imported from a computing stage, or a call of a registry
    row's function."""
    import importlib
    import inspect

    known = modules()
    tree = ast.parse(source)
    found, forbidden_calls = [], set()
    for line, module, attribute in _imported_names(tree, name, known):
        if not module.startswith("bayesmeta."):
            continue
        where = stage(module)
        if where == "engines":
            found.append(f"{name}:{line}: imports the engine {module}")
            continue
        if where not in COMPUTING:
            continue
        if attribute is None:
            found.append(f"{name}:{line}: imports the module {module}")
            continue
        value = getattr(importlib.import_module(module), attribute)
        if inspect.ismodule(value) or (callable(value) and not isinstance(value, type)):
            found.append(f"{name}:{line}: imports {module}.{attribute}, a function or module")
        forbidden_calls |= _registry_callables(value)
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in forbidden_calls
        ):
            found.append(f"{name}:{node.lineno}: calls a registry's .{node.func.attr}()")
    return found


def _report_violations() -> dict[str, list[str]]:
    return {
        name: presentation_violations(name, path.read_text(encoding="utf-8"))
        for name, path in sorted(modules().items())
        if stage(name) == "report"
    }


def test_presentation_only_reads():
    """Everything a figure, the terminal or the report shows is computed in the analysis
    (workflows/presentation.py, the result): nothing under report/ imports an engine or a
    frequentist estimator, nor calls one through a registry."""
    found = [v for name, vs in _report_violations().items() if name not in PENDING for v in vs]
    assert not found


def test_each_pending_module_still_computes():
    """Remove a module from PENDING once it only reads."""
    violations = _report_violations()
    assert all(violations[name] for name in PENDING)


@pytest.mark.parametrize(
    "source",
    [
        "from bayesmeta.frequentist.pooled import common_effect",
        "from bayesmeta.frequentist import methods",
        "import bayesmeta.frequentist.smallstudy",
        "from bayesmeta.engines.nuts import SamplerSettings",
        "def f():\n    from bayesmeta.workflows.presentation import forest_numbers",
        "from bayesmeta.frequentist.methods import METHODS\nMETHODS['random_dl'].compute(x)",
        "from ...frequentist.bias import trimfill",
    ],
)
def test_the_rule_catches_an_estimator_call(source):
    assert presentation_violations("bayesmeta.report.figures.x", source)


def test_the_rule_lets_result_types_and_registries_through():
    source = (
        "from bayesmeta.frequentist.results import PooledEstimate, Skipped\n"
        "from bayesmeta.frequentist.methods import METHODS\n"
        "from bayesmeta.workflows.presentation import NotRun\n"
        "label = METHODS['random_dl'].label\n"
    )
    assert presentation_violations("bayesmeta.report.figures.x", source) == []
