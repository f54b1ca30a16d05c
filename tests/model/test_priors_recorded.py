"""Result files record only the priors the model uses (issue 22).

The normal-normal model has no study baselines and a common-effect model no tau; their JSON
used to record ``baseline = normal(0, 10)`` and ``tau = half-normal(0.5)`` all the same. The
key set stays (docs/json.md): an unused prior is null.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from bayesmeta.cli import app
from bayesmeta.io.inputs import load
from bayesmeta.model.description import ModelSpec
from tests.conftest import EXAMPLES

runner = CliRunner()
HR = str(EXAMPLES / "steurer2006_hr.csv")


@pytest.mark.parametrize(
    ("options", "tau", "line"),
    [
        ([], "half-normal(0.5)", "Priors: mu ~ normal(0, 2.82), tau ~ half-normal(0.5)\n"),
        (["--common-effect"], None, "Priors: mu ~ normal(0, 2.82)\n"),
    ],
)
def test_the_json_of_a_normal_normal_fit_has_no_baseline_prior(tmp_path, options, tau, line):
    out = tmp_path / "fit.json"
    result = runner.invoke(app, ["fit", HR, "--engine", "exact", *options, "--json", str(out)])
    assert result.exit_code == 0, result.output
    priors = json.loads(out.read_text())["priors"]
    assert priors == {"mu": "normal(0, 2.82)", "tau": tau, "baseline": None}
    assert line in result.output


@pytest.mark.parametrize(
    ("model", "common", "used"),
    [
        ("binomial-normal", False, ("mu", "tau", "baseline")),
        ("binomial-normal", True, ("mu", "baseline")),
        ("normal-normal", False, ("mu", "tau")),
        ("normal-normal", True, ("mu",)),
    ],
)
def test_the_priors_used_by_each_model(model: str, common: bool, used: tuple) -> None:
    spec = ModelSpec.describe(load(EXAMPLES / "bcg.csv"), model=model, common_effect=common)
    assert spec.prior_names == used
    recorded = spec.priors_used()
    assert set(recorded) == {"mu", "tau", "baseline"}
    assert {k for k, v in recorded.items() if v is not None} == set(used)


def test_the_methods_text_of_a_common_effect_model_has_no_tau_prior() -> None:
    from bayesmeta.report.methods import prior_list
    from bayesmeta.workflows.analyze import analyze

    result = analyze(load(HR), engine="exact", common_effect=True)
    assert prior_list(result) == "mu ~ normal(0, 2.82)"
