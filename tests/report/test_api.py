"""The public figure API and the report modules: every function and class has type hints that
``typing.get_type_hints`` resolves, and importing them loads no heavy library."""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys
import typing

import pytest

MODULES = (
    "bayesmeta.plots",
    "bayesmeta.report.figures",
    "bayesmeta.report.figures.axes",
    "bayesmeta.report.figures.forest",
    "bayesmeta.report.figures.funnel",
    "bayesmeta.report.figures.posterior",
    "bayesmeta.report.figures.mcmc",
    "bayesmeta.report.figures.influence",
    "bayesmeta.report.figures.kinds",
    "bayesmeta.report.document",
    "bayesmeta.report.table",
    "bayesmeta.report.methods",
    "bayesmeta.workflows.report",
    "bayesmeta.workflows.presentation",
    "bayesmeta.workflows.influence",
    "bayesmeta.cli.report",
    "bayesmeta.cli.common",
)


@pytest.mark.parametrize("name", MODULES)
def test_type_hints_resolve(name):
    module = importlib.import_module(name)
    checked = 0
    for obj in vars(module).values():
        if (inspect.isfunction(obj) or inspect.isclass(obj)) and obj.__module__ == name:
            typing.get_type_hints(obj)
            checked += 1
    assert checked or name == "bayesmeta.plots"


def test_public_plot_functions():
    from bayesmeta import plots

    assert sorted(plots.__all__) == [
        "baujat",
        "forest",
        "funnel",
        "gosh",
        "influence",
        "model_average",
        "posterior",
        "rank",
        "robustness_map",
        "save",
        "sensitivity",
        "tau",
        "trace",
    ]
    for name in plots.__all__:
        typing.get_type_hints(getattr(plots, name))


def test_imports_stay_light():
    """The CLI module loads neither matplotlib nor Jinja2 (``--help`` stays fast); the figure
    API loads matplotlib, which it draws with, but nothing Bayesian."""
    code = (
        "import sys\n"
        "import bayesmeta.cli.report\n"
        "heavy = ('pymc', 'pytensor', 'arviz', 'nutpie', 'numba', 'matplotlib', 'jinja2')\n"
        "assert not [m for m in heavy if m in sys.modules], sys.modules.keys() & set(heavy)\n"
        "import bayesmeta.plots, bayesmeta.report.document\n"
        "heavy = ('pymc', 'pytensor', 'arviz', 'nutpie', 'numba', 'jinja2')\n"
        "assert not [m for m in heavy if m in sys.modules], sys.modules.keys() & set(heavy)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
