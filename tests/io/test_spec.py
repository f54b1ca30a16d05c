"""TOML analysis specifications: validation errors and `bayesmeta run`."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bayesmeta.cli import app
from bayesmeta.errors import BayesmetaError
from bayesmeta.io.spec import load_spec
from tests.conftest import EXAMPLES, ROOT, fails_cleanly

runner = CliRunner()
MODELS = ROOT / "models"


def _spec(tmp_path: Path, text: str, name: str = "spec.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ('[data]\nexample = "bcg"\nfile = "x.csv"\n', ["unknown key(s) file", "path, example"]),
        ('[data]\nexample = "bcg"\n[plots]\nx = 1\n', ["unknown section(s) plots", "sampler"]),
        ('[model]\nname = "binomial-normal"\n', ["[data] needs exactly one of"]),
        ('[data]\npath = "missing.csv"\n', ["no file"]),
        ('[data]\nexample = "bcg"\n[priors]\ntau = "half-normal(-1)"\n', ["[priors] tau"]),
        ('[data]\nexample = "bcg"\n[priors]\ntau = "normal(0, 1)"\n', ["no mass below 0"]),
        ('[data]\nexample = "bcg"\n[sampler]\nchains = "4"\n', ["chains must be an integer"]),
        ('[data]\nexample = "bcg"\n[sampler]\ndraws = 10\n', ["draws must be at least 100"]),
        ('[data]\nexample = "bcg"\n[model]\nname = "glm"\n', ["unknown; choose one of"]),
        ('[data]\nexample = "bcg"\n[model]\ncommon_effect = 1\n', ["true or false"]),
        ("[data\n", ["not valid TOML"]),
    ],
)
def test_spec_errors_are_one_line_exit_2(tmp_path: Path, text: str, fragments: list[str]) -> None:
    line = fails_cleanly(["run", str(_spec(tmp_path, text)), "--out-dir", str(tmp_path)])
    assert line.startswith("error:")
    for fragment in fragments:
        assert fragment in line, line


def test_unknown_example_fails_before_fitting(tmp_path: Path) -> None:
    line = fails_cleanly(["run", str(_spec(tmp_path, '[data]\nexample = "nope"\n'))])
    assert "unknown example 'nope'" in line


def test_paths_are_relative_to_the_spec(tmp_path: Path) -> None:
    folder = tmp_path / "specs"
    (folder / "data").mkdir(parents=True)
    (folder / "data" / "bcg.csv").write_bytes((EXAMPLES / "bcg.csv").read_bytes())
    spec = load_spec(_spec(folder, '[data]\npath = "data/bcg.csv"\n[output]\njson = "r.json"\n'))
    assert spec.data_path == (folder / "data" / "bcg.csv").resolve()
    assert spec.output_path() == folder / "r.json"
    assert spec.output_path(tmp_path) == tmp_path / "r.json"
    assert spec.sha256 == hashlib.sha256((folder / "spec.toml").read_bytes()).hexdigest()


@pytest.mark.parametrize("name", ["bcg", "li2007", "nielweise2007", "pritz1997_prop"])
def test_shipped_specs_load(name: str) -> None:
    spec = load_spec(MODELS / f"{name}.toml")
    assert spec.example == name
    assert spec.output_path().name == f"{name}.result.json"
    if name == "pritz1997_prop":
        assert spec.model == "proportion" and str(spec.priors["tau"]) == "half-normal(1)"


def test_load_spec_raises_bayesmeta_error(tmp_path: Path) -> None:
    with pytest.raises(BayesmetaError, match="valid sections: data, model, priors"):
        load_spec(_spec(tmp_path, "[prior]\ntau = 'half-normal(1)'\n"))


@pytest.mark.sampling
def test_run_writes_traceable_json_and_refuses_to_overwrite(tmp_path: Path) -> None:
    spec = MODELS / "bcg.toml"
    result = runner.invoke(app, ["run", str(spec), "--out-dir", str(tmp_path)])
    assert result.exit_code in (0, 3), result.output  # 3 would only flag convergence
    out = tmp_path / "bcg.result.json"
    payload = json.loads(out.read_text())
    assert payload["spec"]["sha256"] == hashlib.sha256(spec.read_bytes()).hexdigest()
    assert len(payload["data"]["sha256"]) == 64
    assert {"python", "pymc", "nutpie"} <= set(payload["environment"])
    assert payload["sampler"]["seed"] == 1
    assert payload["priors"]["tau"] == "half-normal(0.5)"
    before = out.read_bytes()
    line = fails_cleanly(["run", str(spec), "--out-dir", str(tmp_path)])
    assert "exists; pass --force" in line
    assert out.read_bytes() == before


def test_spec_with_covariates_runs_the_exact_meta_regression(tmp_path: Path) -> None:
    """A normal-normal spec with a covariate gives the same slope as the analysis API."""
    from bayesmeta import load
    from bayesmeta.model.moderators import moderators
    from bayesmeta.model.priors import PriorSet, parse_prior
    from bayesmeta.workflows.analyze import analyze

    spec = _spec(
        tmp_path,
        '[data]\nexample = "bcg"\n[model]\nname = "normal-normal"\ncovariates = ["ablat"]\n'
        '[priors]\nmu = "normal(0, 10)"\nbeta = "normal(0, 5)"\n',
    )
    result = runner.invoke(app, ["run", str(spec), "--out-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    doc = json.loads((tmp_path / "spec.result.json").read_text())
    data = load(EXAMPLES / "bcg.csv")
    direct = analyze(
        data,
        model="normal-normal",
        priors=PriorSet(mu=parse_prior("normal(0, 10)")),
        moderators=moderators(
            data.covariates, names=["ablat"], prior_beta=parse_prior("normal(0, 5)")
        ),
    )
    slope = doc["posterior"]["regression"]["coefficients"]["ablat"]
    same = direct.posterior.coefficients["ablat"]
    assert slope["median"] == pytest.approx(same.median, rel=1e-12)
    assert slope["ci95"] == pytest.approx(same.interval, rel=1e-12)
    assert doc["engine"] == "exact" and doc["moderators"]["prior_beta"] == "normal(0, 5)"


def test_spec_covariates_must_be_a_list_of_names(tmp_path: Path) -> None:
    spec = _spec(tmp_path, '[data]\nexample = "bcg"\n[model]\ncovariates = "ablat"\n')
    line = fails_cleanly(["run", str(spec)])
    assert "covariates must be a list of column names" in line


def test_model_checks_key_runs_the_checks(tmp_path: Path) -> None:
    """``[model] checks = true`` is ``fit --checks``: the JSON's checks block holds the exact
    engine's posterior predictive p-values (against engines.exact directly); a value that is
    not a boolean is refused."""
    import bayesmeta
    from bayesmeta.engines import exact
    from bayesmeta.model.description import ModelSpec

    text = '[data]\nexample = "bcg"\n[model]\nname = "normal-normal"\nchecks = true\n'
    spec = _spec(tmp_path, text)
    assert load_spec(spec).checks
    result = runner.invoke(app, ["run", str(spec), "--out-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    ppc = json.loads((tmp_path / "spec.result.json").read_text())["checks"]["posterior_predictive"]
    model = ModelSpec.describe(bayesmeta.load_example("bcg"), model="normal-normal")
    p = exact.nnhm_posterior(model.normal.y, model.normal.v, prior_mu=model.priors.mu,
                             prior_tau=model.priors.tau).predictive_p()  # fmt: skip
    assert [s["p_lower"] for s in ppc["studies"]] == pytest.approx(list(p), abs=1e-12)
    assert not load_spec(_spec(tmp_path, '[data]\nexample = "bcg"\n', "plain.toml")).checks
    bad = _spec(tmp_path, text.replace("true", '"yes"'), "bad.toml")
    line = fails_cleanly(["run", str(bad), "--out-dir", str(tmp_path)])
    assert "[model] checks must be true or false" in line, line
