"""Each option declared once (bayesmeta.io.options): the command line, the TOML schema, the
sampler's accepted ranges and the reproducing command line all follow the declaration."""

from __future__ import annotations

import shlex
from dataclasses import replace
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from bayesmeta.cli import app
from bayesmeta.cli.common import MODEL_OPTION_NAMES, ModelOptions
from bayesmeta.engines.nuts import SamplerSettings
from bayesmeta.errors import BayesmetaError
from bayesmeta.io.options import OPTIONS, PRIOR_OPTIONS, SAMPLER_OPTIONS, section_schema
from bayesmeta.io.spec import SCHEMA, load_spec
from bayesmeta.workflows.report import command_line, provenance
from bayesmeta.workflows.request import AnalysisRequest, plan
from tests.conftest import EXAMPLES


def test_the_request_carries_the_declarations() -> None:
    assert AnalysisRequest.OPTIONS is OPTIONS
    assert set(SCHEMA["sampler"]) == {o.key for o in SAMPLER_OPTIONS}
    assert set(SCHEMA["priors"]) == {o.key for o in PRIOR_OPTIONS}


@pytest.mark.parametrize("option", [o for o in SAMPLER_OPTIONS if o.minimum is not None])
def test_below_the_declared_minimum_is_refused_everywhere(option, tmp_path) -> None:
    low = option.minimum - (0.01 if option.kind is float else 1)
    path = tmp_path / "spec.toml"
    path.write_text(f'[data]\nexample = "bcg"\n[sampler]\n{option.key} = {low}\n')
    with pytest.raises(BayesmetaError, match=f"\\[sampler\\] {option.key} must be"):
        load_spec(path)
    run = CliRunner().invoke(app, ["fit", "--example", "bcg", option.flag, str(low)])
    assert run.exit_code == 2 and "Traceback" not in run.output


def test_defaults_are_the_settings_defaults_and_limits_the_settings_ranges() -> None:
    settings = SamplerSettings()
    for option in SAMPLER_OPTIONS:
        assert getattr(settings, option.name) == option.default
        if option.limits is not None:
            lo, hi = option.limits
            SamplerSettings(**{option.name: int(lo)})
            with pytest.raises(BayesmetaError, match=f"{option.name} must be between"):
                SamplerSettings(**{option.name: int(hi) + 1})


def test_help_texts_come_from_the_declarations() -> None:
    run = CliRunner().invoke(app, ["fit", "--help"], env={"COLUMNS": "400"})
    for option in (*SAMPLER_OPTIONS, *PRIOR_OPTIONS):
        assert option.flag in run.output
        if option.help is not None:
            assert option.help in run.output, option.name


def test_the_reproducing_command_line_reads_back_as_the_request() -> None:
    request = AnalysisRequest(
        example="bcg",
        priors={"tau": "half-cauchy(0.5)", "nu": "gamma(2, 0.2)"},
        random_effects="t",
        settings=SamplerSettings(chains=3, draws=500, tune=300, seed=9, target_accept=0.95),
    )
    words = shlex.split(command_line(request, "fit"))
    for option in SAMPLER_OPTIONS:
        value = getattr(request.settings, option.name)
        i = words.index(option.flag)
        assert option.kind(words[i + 1]) == value
    assert words[words.index("--prior-nu") + 1] == "gamma(2, 0.2)"
    assert words[words.index("--random-effects") + 1] == "t"


COMMANDS = {c.name: c for c in typer.main.get_command(app).commands.values()}


@pytest.mark.parametrize("command", ["fit", "report", "plot"])
def test_the_typer_options_are_the_declared_rows(command: str) -> None:
    """Each declared row is one option of fit, report and plot with the row's flag, default,
    help and (where the command line checks them) bounds."""
    params = {p.name: p for p in COMMANDS[command].params}
    assert set(OPTIONS) <= set(MODEL_OPTION_NAMES) <= set(params)
    for option in OPTIONS.values():
        param = params[option.name]
        assert param.opts == [option.flag], option.name
        assert param.default == option.default, option.name
        assert param.help == option.help, option.name
        bounds = (option.minimum, option.maximum) if option.cli_bounds else (None, None)
        assert (param.min, param.max) == bounds, option.name


def test_the_toml_keys_are_the_declared_keys() -> None:
    declared_keys = {(o.section, o.key) for o in OPTIONS.values()}
    schema_keys = {(s, k) for s, keys in SCHEMA.items() for k in keys}
    assert declared_keys <= schema_keys
    for section in {o.section for o in OPTIONS.values()}:
        for key, kind in section_schema(section).items():
            assert SCHEMA[section][key] == kind, (section, key)


def _read_back(line: str, command: str = "fit") -> AnalysisRequest:
    """The request that the command line ``line`` of ``command`` makes (an output file added
    where the command needs one)."""
    words = shlex.split(line)
    assert words[: 1 + len(command.split())] == ["bayesmeta", *command.split()]
    name = command.split()[0]
    out = [] if name == "fit" else ["--out", "out.html"]
    ctx = COMMANDS[name].make_context(name, words[2:] + out)  # plot: its KIND first
    return ModelOptions({n: ctx.params[n] for n in MODEL_OPTION_NAMES}).request()


def test_the_command_line_round_trips_every_model_option() -> None:
    request = AnalysisRequest(
        example="bcg",
        model="binomial-normal",
        engine="nuts",
        priors={
            "mu": "normal(0, 2)",
            "tau": "half-cauchy(0.3)",
            "baseline": "normal(0, 5)",
            "nu": "gamma(2, 0.2)",
            "beta": "normal(0, 3)",
        },
        ci_level=0.9,
        common_effect=True,
        random_effects="t",
        covariates=("ablat", "year"),
        subgroup="alloc",
        separate_tau=True,
        compare=True,
        hdi=True,
        columns={"trial": "study"},
        methods=("MH", "DL"),
        settings=SamplerSettings(chains=3, draws=400, tune=300, seed=9, target_accept=0.95),
    )
    for command in ("fit", "report", "plot forest"):
        assert _read_back(command_line(request, command), command) == request
    # the defaults spelled out make the request of the command they came from
    plain = _read_back("bayesmeta report --example bcg", "report")
    assert _read_back(command_line(plain), "report") == plain


def test_the_command_line_spells_bayes_factors_checks_and_the_read_options() -> None:
    request = AnalysisRequest(
        data=Path("trials.csv"),
        reading={"separator": "semicolon", "decimal": ",", "encoding": "cp1252"},
        bayes_factors=True,
        checks=True,
    )
    line = command_line(request, "fit")
    assert "--separator semicolon --decimal , --encoding cp1252" in line
    assert "--bayes-factors" in line and "--checks" in line
    words = shlex.split(line)
    ctx = COMMANDS["fit"].make_context("fit", words[2:])
    again = ModelOptions({n: ctx.params[n] for n in MODEL_OPTION_NAMES}).request()
    assert replace(again, checks=ctx.params["checks"]) == replace(request, priors=again.priors)
    assert "--checks" not in command_line(replace(request, checks=False), "report")


def test_a_report_from_a_workbook_sheet_reproduces(tmp_path: Path) -> None:
    """Two sheets with the BCG columns: the first holds 5 trials, the second all 13. The
    report's command line of ``--sheet 2`` reads the 13 trials again (without --sheet it
    would read the first sheet's 5)."""
    import csv

    import openpyxl

    rows = list(csv.reader((EXAMPLES / "bcg.csv").open()))
    book = openpyxl.Workbook()
    first = book.active
    first.title = "Pilot"
    second = book.create_sheet("All")
    for sheet, table in ((first, rows[:6]), (second, rows)):
        for row in table:
            sheet.append([int(v) if v.isdigit() else v for v in row])
    path = tmp_path / "bcg.xlsx"
    book.save(path)
    asked = _read_back(f"bayesmeta report {path} --sheet 2 --engine exact", "report")
    line = provenance(asked, command="report").command
    assert "--sheet 2" in line
    again = _read_back(line, "report")
    assert again == asked
    assert plan(again).spec.data.k == plan(asked).spec.data.k == 13
    assert plan(replace(asked, reading={})).spec.data.k == 5
