"""Posterior of the binomial-normal and single-arm models against Stan (rstan 2.21).

References: tests/reference/NAME.stan.json (4 chains x 9,000 draws, Monte Carlo error of the
quantiles about 0.005). Our fits use the default sampler settings (4 chains x 2,000 draws,
seeded). Their Monte Carlo SE is about 1.25 * sd / sqrt(ESS) with ESS > 550 for the reported
quantities: <= 0.012 for the median of mu or tau, <= 0.03 for the 2.5%/97.5% quantiles. The
tolerances (0.03 for medians, 0.06 for interval ends) are about 2.5 combined MC SEs.
"""

from __future__ import annotations

import numpy as np
import pytest

from bayesmeta import load
from bayesmeta.engines.nuts import SamplerSettings, fit
from bayesmeta.model.priors import PriorSet, parse_prior
from bayesmeta.model.scales import scale
from bayesmeta.models import binomial_normal, proportion
from bayesmeta.summaries.draws import summarize
from bayesmeta.summaries.types import Summary
from tests.conftest import EXAMPLES, TWO_ARM, reference

pytestmark = pytest.mark.sampling

REFERENCE_PRIORS = PriorSet(
    mu=parse_prior("normal(0, 10)"),
    tau=parse_prior("half-normal(0.5)"),
    baseline=parse_prior("normal(0, 10)"),
)
MEDIAN_TOL, INTERVAL_TOL = 0.03, 0.06


@pytest.fixture(scope="module", params=TWO_ARM)
def two_arm_fit(request):
    data = load(EXAMPLES / f"{request.param}.csv")
    result = fit(binomial_normal(data, priors=REFERENCE_PRIORS), SamplerSettings(seed=20261127))
    return request.param, result


def _check(summary: Summary, ref: dict) -> None:
    assert summary.median == pytest.approx(ref["median"], abs=MEDIAN_TOL)
    assert summary.interval[0] == pytest.approx(ref["q025"], abs=INTERVAL_TOL)
    assert summary.interval[1] == pytest.approx(ref["q975"], abs=INTERVAL_TOL)


def _check_predictive(idata, summary: Summary, ref: dict) -> None:
    """theta_new has wide tails: its tolerance is 3 Monte Carlo SEs of each quantile (ArviZ),
    plus 0.01 for the reference's own error."""
    import arviz_stats as azs

    draws = np.asarray(idata["posterior"]["theta_new"])
    for q, ours, theirs in (
        (0.025, summary.interval[0], ref["q025"]),
        (0.5, summary.median, ref["median"]),
        (0.975, summary.interval[1], ref["q975"]),
    ):
        tol = 3 * float(azs.mcse(draws, method="quantile", prob=q)) + 0.01
        assert ours == pytest.approx(theirs, abs=tol), (q, tol)


def test_two_arm_posterior_matches_stan(two_arm_fit) -> None:
    name, result = two_arm_fit
    ref = reference(name, "stan")
    post = summarize(result.idata, scale=scale("log_odds_ratio"))
    assert result.diagnostics.converged, result.diagnostics.problems
    assert result.diagnostics.divergences == 0
    _check(post.mu, ref["mu"])
    _check(post.tau, ref["tau"])
    _check_predictive(result.idata, post.theta_new, ref["theta_new"])
    # P(mu < 0): binomial MC SE <= sqrt(.25 / 1000) with ESS >= 1000 draws' worth.
    assert post.prob_mu_below_0 == pytest.approx(ref["p_mu_below_0"], abs=0.02)


def test_odds_ratio_is_exp_of_log_odds_ratio(two_arm_fit) -> None:
    _, result = two_arm_fit
    post = summarize(result.idata, scale=scale("log_odds_ratio"))
    assert post.pooled.median == pytest.approx(np.exp(post.mu.median), rel=1e-12)
    assert post.pooled.interval == pytest.approx(np.exp(post.mu.interval), rel=1e-12)
    assert post.to_dict()["odds_ratio"] == post.pooled.to_dict()


def test_single_arm_posterior_matches_stan() -> None:
    data = load(EXAMPLES / "pritz1997_prop.csv")
    priors = PriorSet(mu=parse_prior("normal(0, 10)"), tau=parse_prior("half-normal(1)"))
    result = fit(proportion(data, priors=priors), SamplerSettings(seed=20261127))
    ref = reference("pritz1997_prop", "stan")
    post = summarize(result.idata, scale=scale("logit_proportion"))
    assert result.diagnostics.converged, result.diagnostics.problems
    _check(post.mu, ref["mu"])
    _check(post.tau, ref["tau"])
    _check_predictive(result.idata, post.theta_new, ref["theta_new"])


def test_same_seed_same_numbers() -> None:
    data = load(EXAMPLES / "bcg.csv")
    model = binomial_normal(data)
    settings = SamplerSettings(seed=7, draws=300, tune=300)
    first = fit(model, settings).idata["posterior"]
    second = fit(model, settings).idata["posterior"]
    np.testing.assert_array_equal(np.asarray(first["mu"]), np.asarray(second["mu"]))
    np.testing.assert_array_equal(np.asarray(first["tau"]), np.asarray(second["tau"]))


def test_refit_settings_are_stricter() -> None:
    settings = SamplerSettings(target_accept=0.9, tune=1000)
    stricter = settings.stricter()
    assert stricter.target_accept == 0.99 and stricter.tune == 2000
    assert (stricter.draws, stricter.seed, stricter.chains) == (2000, 1, 4)
