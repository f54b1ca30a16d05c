"""One posterior object kept on every result: summaries at another level and probabilities
come from it without refitting, and ``--ci-level`` sets the posterior's level on ``fit``.

Reference numbers: tests/reference/binomial_bruteforce.json (brute-force quadrature of the
binomial-normal model on bcg, mu ~ N(0, 10^2), tau ~ HalfNormal(0.5), alpha ~ N(0, 10^2);
quantiles accurate to about 1e-4; tests/reference/README.md).
"""

from __future__ import annotations

import json
import math

import pytest
from typer.testing import CliRunner

import bayesmeta
from bayesmeta.cli import app
from bayesmeta.engines.nuts import SamplerSettings
from tests.conftest import REFERENCE

PRIORS = {"mu": "normal(0, 10)", "tau": "half-normal(0.5)", "baseline": "normal(0, 10)"}
BRUTE = json.loads((REFERENCE / "binomial_bruteforce.json").read_text())["bcg"]


def _no_quadrature(monkeypatch) -> None:
    """Make every exact engine entry point fail, so any refit shows."""
    from bayesmeta.engines import exact, exact_binomial

    def refit(*args, **kwargs):
        raise AssertionError("the exact engine was run again")

    for module, name in (
        (exact, "nnhm_posterior"),
        (exact, "common_effect_posterior"),
        (exact_binomial, "binomial_normal_posterior"),
        (exact_binomial, "proportion_posterior"),
        (exact_binomial, "mixed_posterior"),
        (exact_binomial, "rates_posterior"),
    ):
        monkeypatch.setattr(module, name, refit)


@pytest.mark.parametrize(
    ("example", "model"),
    [("bcg", "normal-normal"), ("bcg", "binomial-normal"), ("nielweise2008", "poisson-normal")],
)
def test_exact_summary_at_another_level_needs_no_refit(example, model, monkeypatch) -> None:
    data = bayesmeta.load_example(example)
    result = bayesmeta.analyze(data, model=model, engine="exact", priors=PRIORS, frequentist=())
    refitted = bayesmeta.analyze(
        data, model=model, engine="exact", priors=PRIORS, frequentist=(), level=0.8
    ).summary()
    assert result.exact_posterior is not None
    _no_quadrature(monkeypatch)
    frame = result.summary(level=0.8)
    assert frame.attrs["level"] == 0.8
    cols = ["median", "ci_lower", "ci_upper"]
    assert (frame[cols] - refitted[cols]).abs().max().max() < 1e-12
    wide = result.summary()
    assert (wide["ci_upper"] - wide["ci_lower"] > frame["ci_upper"] - frame["ci_lower"]).all()
    assert result.probability("mu", below=0.0) == pytest.approx(
        result.posterior.prob_mu_below_0, abs=1e-9
    )


def test_exact_binomial_probability_is_the_binomial_posteriors() -> None:
    """P(mu < 0) and P(tau < its median) of an exact binomial fit equal brute-force quadrature
    (they used to come from the normal-normal approximation)."""
    result = bayesmeta.analyze(
        bayesmeta.load_example("bcg"), engine="exact", priors=PRIORS, frequentist=()
    )
    assert result.probability("mu", below=0.0) == pytest.approx(BRUTE["p_mu_below_0"], abs=1e-4)
    assert result.probability("tau", below=BRUTE["tau"]["q"][1]) == pytest.approx(0.5, abs=1e-3)
    lo, median, hi = BRUTE["mu"]["q"]
    assert result.probability("odds_ratio", below=math.exp(median)) == pytest.approx(0.5, abs=1e-3)
    assert result.probability("mu", above=lo, below=hi) == pytest.approx(0.95, abs=1e-3)


def test_posterior_densities_come_from_the_kept_posterior(monkeypatch) -> None:
    from bayesmeta.report.figures.posterior import pooled_densities, tau_densities

    result = bayesmeta.analyze(
        bayesmeta.load_example("bcg"), model="normal-normal", priors=PRIORS, frequentist=()
    )
    _no_quadrature(monkeypatch)
    density = pooled_densities(result)[0]
    step = density.x[1] - density.x[0]
    assert float(density.density.sum() * step) == pytest.approx(1.0, abs=1e-3)
    assert tau_densities(result)[0].density.max() > 0


def test_ci_level_on_fit_equals_summary_at_that_level(tmp_path) -> None:
    """``fit --ci-level 0.8`` on the same draws (same seed) gives the 80% intervals that
    ``summary(level=0.8)`` of a 95% result gives."""
    settings = SamplerSettings(chains=4, draws=1000, tune=1000, seed=7)
    result = bayesmeta.analyze(bayesmeta.load_example("bcg"), settings=settings)
    out = tmp_path / "fit.json"
    args = ["fit", "--example", "bcg", "--ci-level", "0.8", "--json", str(out)]
    args += ["--chains", "4", "--draws", "1000", "--tune", "1000", "--seed", "7", "-q"]
    run = CliRunner().invoke(app, args)
    assert run.exit_code == 0, run.output
    posterior = json.loads(out.read_text())["posterior"]
    frame = result.summary(level=0.8)
    for name in ("mu", "tau", "theta_new", "odds_ratio"):
        lo, hi = posterior[name]["ci80"]
        assert (lo, hi) == pytest.approx(
            (frame.loc[name, "ci_lower"], frame.loc[name, "ci_upper"]), abs=1e-12
        ), name
    assert "80% CrI" in run.output
