"""Model averaging equals its definition from the four marginal likelihoods, and RoBMA."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from typer.testing import CliRunner

import bayesmeta
from bayesmeta.cli import app
from bayesmeta.model.description import ModelSpec
from bayesmeta.workflows.average import model_average
from bayesmeta.workflows.bayes_factors import MODELS, bayes_factors

ROBMA = {"mu": "normal(0, 1)", "tau": "inverse-gamma(1, 0.15)"}


@pytest.fixture(scope="module")
def spec() -> ModelSpec:
    data = bayesmeta.load("examples/bcg.csv")
    return ModelSpec.describe(data, model="normal-normal", priors=ROBMA)


def test_probabilities_and_inclusion_bfs_follow_from_the_marginal_likelihoods(spec) -> None:
    prior = dict(zip(MODELS, (0.4, 0.1, 0.3, 0.2), strict=True))
    avg = model_average(spec, prior)
    ml = avg.log_ml
    w = np.array([prior[m] * math.exp(ml[m] - ml["effect_random"]) for m in MODELS])
    want = dict(zip(MODELS, w / w.sum(), strict=True))
    for m in MODELS:
        assert avg.posterior_probabilities[m] == pytest.approx(want[m], rel=1e-12, abs=1e-300)
    post_odds = (want["effect_random"] + want["effect_common"]) / (
        want["null_random"] + want["null_common"]
    )
    assert math.exp(avg.log_inclusion_bf_effect) == pytest.approx(post_odds / (0.5 / 0.5))
    het = (want["effect_random"] + want["null_random"]) / (
        want["effect_common"] + want["null_common"]
    )
    assert math.exp(avg.log_inclusion_bf_heterogeneity) == pytest.approx(het / (0.7 / 0.3))


def test_averaged_posteriors_are_the_mixture(spec) -> None:
    avg = model_average(spec)
    p = avg.posterior_probabilities
    parts = avg.models
    mean_mu = sum(p[m] * parts[m]["mu"].mean for m in MODELS if parts[m]["mu"] is not None)
    assert avg.mu.mean == pytest.approx(mean_mu, rel=1e-9)
    mean_tau = sum(p[m] * parts[m]["tau"].mean for m in MODELS if parts[m]["tau"] is not None)
    assert avg.tau.mean == pytest.approx(mean_tau, rel=1e-9)
    # the null models' mass (1.6%) sits at mu = 0: the averaged median lies between
    assert parts["effect_random"]["mu"].median < avg.mu.median < 0


def test_only_random_models_give_the_random_effects_bayes_factor(spec) -> None:
    avg = model_average(spec, dict(zip(MODELS, (1, 0, 1, 0), strict=True)))
    assert avg.log_inclusion_bf_effect == pytest.approx(bayes_factors(spec).log_bf_effect)


def test_inclusion_bf_of_the_effect_matches_robma() -> None:
    """RoBMA 3.6 (R 4.2, JAGS; issue 18): BCG log odds ratios (metafor escalc), mu ~ N(0, 1),
    tau ~ InvGamma(1, 0.15), the four models with equal prior probabilities: inclusion BF for
    the effect near 62.6 (bridge sampling; its error is about 1%)."""
    data = bayesmeta.load("examples/bcg.csv")
    avg = bayesmeta.average(data, model="normal-normal", priors=ROBMA)
    assert math.exp(avg.log_inclusion_bf_effect) == pytest.approx(62.6, rel=0.01)


def test_cli_average_writes_json(tmp_path) -> None:
    out = tmp_path / "avg.json"
    priors = ["--prior-mu", "normal(0, 1)", "--prior-tau", "inverse-gamma(1, 0.15)"]
    args = ["average", "--example", "bcg", "--model", "normal-normal", *priors, "--json", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())
    assert doc["inclusion_bf_effect"] == pytest.approx(62.6, rel=0.01)
    assert sum(doc["posterior_probabilities"].values()) == pytest.approx(1.0)
    bad = CliRunner().invoke(app, ["average", "--example", "bcg", "--prior-probs", "1,2"])
    assert bad.exit_code == 2 and "four numbers" in bad.output


def test_cli_average_reads_a_spec_and_never_writes_over_it(tmp_path) -> None:
    """DATA may be a SPEC.toml (as for robustness): its priors are used (RoBMA's inclusion BF
    above), and it is an input, so --json onto it is refused even with --force."""
    spec = tmp_path / "bcg.toml"
    spec.write_text(
        '[data]\nexample = "bcg"\n[model]\nname = "normal-normal"\n'
        '[priors]\nmu = "normal(0, 1)"\ntau = "inverse-gamma(1, 0.15)"\n'
    )
    out = tmp_path / "avg.json"
    result = CliRunner().invoke(app, ["average", str(spec), "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["inclusion_bf_effect"] == pytest.approx(62.6, rel=0.01)
    before = spec.read_bytes()
    over = CliRunner().invoke(app, ["average", str(spec), "--json", str(spec), "--force"])
    assert over.exit_code == 2 and "input" in over.output
    assert spec.read_bytes() == before


@pytest.mark.parametrize(
    ("model", "fits"),
    [
        ("normal-normal",
         ("bayesmeta.engines.exact", ("nnhm_posterior", "common_effect_posterior"))),
        ("binomial-normal", ("bayesmeta.summaries.exact_binomial", ("posterior",))),
    ],
)  # fmt: skip
def test_each_of_the_four_models_is_fitted_once(monkeypatch, model, fits) -> None:
    """Averaging reuses the fits that give the marginal likelihoods (two of these calls
    for the effect models, two more for the null models in the normal-normal engine)."""
    import importlib

    module_name, names = fits
    module = importlib.import_module(module_name)
    calls: list[str] = []
    for name in names:
        original = getattr(module, name)
        monkeypatch.setattr(
            module, name, lambda *a, _f=original, _n=name, **k: calls.append(_n) or _f(*a, **k)
        )
    spec = ModelSpec.describe(bayesmeta.load("examples/bcg.csv"), model=model)
    model_average(spec)
    assert len(calls) == (4 if model == "normal-normal" else 2), calls
