"""The Poisson-normal incidence-rate model against a long Stan run, through ``analyze``.

Reference: tests/reference/nielweise2008.stan.json from tests/reference/stan_rates.R (rstan
2.21, the same model with alpha_i ~ N(0, 10^2), mu ~ N(0, 10^2), tau ~ HalfNormal(0.5);
4 chains x 9,000 draws; Monte Carlo error of its quantiles about 0.005) on the shipped
examples/nielweise2008.csv (Niel-Weise et al. 2008, J Hosp Infect 69:114; metadat
dat.nielweise2008). Our fit is small and seeded (4 x 1,000 draws); each tolerance is 3 Monte
Carlo SEs of our own quantile (ArviZ) plus 0.015 for the reference's error.
"""

from __future__ import annotations

import numpy as np
import pytest

import bayesmeta
from bayesmeta.engines.nuts import SamplerSettings
from tests.conftest import EXAMPLES, reference

pytestmark = pytest.mark.sampling

PRIORS = {"mu": "normal(0, 10)", "tau": "half-normal(0.5)", "baseline": "normal(0, 10)"}


@pytest.fixture(scope="module")
def result():
    settings = SamplerSettings(chains=4, draws=1000, tune=1000, target_accept=0.95)
    return bayesmeta.analyze(
        EXAMPLES / "nielweise2008.csv", seed=20261204, priors=PRIORS, settings=settings
    )


@pytest.mark.parametrize("name", ["mu", "tau", "theta_new"])
def test_posterior_quantiles_match_stan(result, name):
    import arviz_stats as azs

    ref = reference("nielweise2008", "stan")[name]
    summary = getattr(result.posterior, name)
    draws = np.asarray(result.idata["posterior"][name])
    for q, ours, theirs in (
        (0.025, summary.interval[0], ref["q025"]),
        (0.5, summary.median, ref["median"]),
        (0.975, summary.interval[1], ref["q975"]),
    ):
        tol = 3 * float(azs.mcse(draws, method="quantile", prob=q)) + 0.015
        assert ours == pytest.approx(theirs, abs=tol), (q, tol)


def test_rate_ratios_are_exp_of_the_log_scale(result):
    post = result.posterior
    assert result.model == "poisson-normal" and result.scale.name == "log_rate_ratio"
    assert post.pooled.median == pytest.approx(np.exp(post.mu.median), rel=1e-12)
    assert post.predictive.median == pytest.approx(np.exp(post.theta_new.median), rel=1e-12)
    out = result.to_dict()
    assert out["posterior"]["rate_ratio"] == post.pooled.to_dict()
    assert set(out["studies"][0]["shrunken"]) >= {"median", "mean"}


def test_fit_converges_and_probability_matches_stan(result):
    assert result.diagnostics.converged, result.diagnostics.problems
    ref = reference("nielweise2008", "stan")["p_mu_below_0"]
    assert result.posterior.prob_mu_below_0 == pytest.approx(ref, abs=0.02)
