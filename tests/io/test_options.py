"""Each option declared once (bayesmeta.io.options): the command line, the TOML schema, the
sampler's accepted ranges and the reproducing command line all follow the declaration."""

from __future__ import annotations

import shlex

import pytest
from typer.testing import CliRunner

from bayesmeta.cli import app
from bayesmeta.engines.nuts import SamplerSettings
from bayesmeta.errors import BayesmetaError
from bayesmeta.io.options import OPTIONS, PRIOR_OPTIONS, SAMPLER_OPTIONS
from bayesmeta.io.spec import SCHEMA, load_spec
from bayesmeta.workflows.report import command_line
from bayesmeta.workflows.request import AnalysisRequest


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
