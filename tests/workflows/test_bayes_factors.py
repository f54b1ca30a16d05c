"""Bayes factors against independent computations.

- normal-normal: each marginal likelihood directly, ``log int N(y; mu 1, diag(v + tau^2))
  p(mu) p(tau)`` with mu integrated in closed form by scipy.stats.multivariate_normal
  (covariance ``diag(v + tau^2) + s^2 11'``) and tau by scipy.integrate.quad; the effect's
  Bayes factor also by the Savage-Dickey density ratio ``p(mu = 0) / p(mu = 0 | y)``.
- binomial: the heterogeneity Bayes factor from the brute-force marginal likelihoods of
  ``tests/reference/binomial_bruteforce.json``; the effect's by Savage-Dickey from the exact
  posterior density of mu (another route than the null model's marginal likelihood).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import integrate, stats

import bayesmeta
from bayesmeta.errors import BayesmetaError
from bayesmeta.model.description import ModelSpec
from bayesmeta.model.priors import parse_prior
from bayesmeta.summaries.exact_binomial import posterior
from bayesmeta.workflows.bayes_factors import bayes_factors

ROOT = Path(__file__).resolve().parents[2]
BRUTE = ROOT / "tests" / "reference" / "binomial_bruteforce.json"


def _direct_normal(y, v, m_sd: float, tau_prior, mu_zero: bool = False) -> float:
    k = len(y)
    s2 = 0.0 if mu_zero else m_sd**2

    def loglik(tau: float) -> float:
        cov = np.diag(v + tau**2) + s2 * np.ones((k, k))
        return stats.multivariate_normal(np.zeros(k), cov).logpdf(y)

    if tau_prior is None:
        return loglik(0.0)
    top = max(loglik(t) + tau_prior.logpdf(t) for t in np.linspace(1e-6, 3, 301))
    val, _ = integrate.quad(
        lambda t: math.exp(loglik(t) + tau_prior.logpdf(t) - top), 0, np.inf, limit=200,
        epsabs=0, epsrel=1e-10,
    )  # fmt: skip
    return top + math.log(val)


@pytest.mark.parametrize("example", ["bcg", "li2007"])
def test_normal_normal_bayes_factors_equal_direct_integrals(example: str) -> None:
    data = bayesmeta.load(f"examples/{example}.csv")
    spec = ModelSpec.describe(
        data, model="normal-normal", priors={"mu": "normal(0, 1)", "tau": "half-normal(0.5)"}
    )
    bf = bayes_factors(spec)
    y, v = spec.normal.y, spec.normal.v
    tau = stats.halfnorm(scale=0.5)
    ml = {
        "effect_random": _direct_normal(y, v, 1.0, tau),
        "effect_common": _direct_normal(y, v, 1.0, None),
        "null_random": _direct_normal(y, v, 1.0, tau, mu_zero=True),
        "null_common": _direct_normal(y, v, 1.0, None, mu_zero=True),
    }
    for name, want in ml.items():
        assert bf.log_ml[name] == pytest.approx(want, abs=1e-6), name
    from bayesmeta.engines.exact import nnhm_posterior

    post = nnhm_posterior(y, v, prior_mu="normal(0, 1)", prior_tau="half-normal(0.5)")
    savage_dickey = stats.norm(0, 1).logpdf(0.0) - math.log(float(post.mu.pdf(0.0)))
    assert bf.log_bf_effect == pytest.approx(savage_dickey, abs=1e-6)
    assert bf.notes == ()


@pytest.mark.skipif(not BRUTE.exists(), reason="brute-force reference not generated")
def test_binomial_heterogeneity_bayes_factor_equals_brute_force() -> None:
    ref = json.loads(BRUTE.read_text())
    spec = ModelSpec.describe(bayesmeta.load("examples/bcg.csv"), priors={"mu": "normal(0, 10)"})
    bf = bayes_factors(spec)
    want = ref["bcg"]["log_marginal_likelihood"] - ref["bcg_common"]["log_marginal_likelihood"]
    assert bf.log_bf_heterogeneity == pytest.approx(want, abs=2e-3)
    assert bf.notes and "Lindley" in bf.notes[0]


@pytest.mark.parametrize(
    ("example", "prior_mu"), [("bcg", "normal(0, 1)"), ("pritz1997_prop", "normal(0, 1.5)")]
)
def test_binomial_effect_bayes_factor_equals_savage_dickey(example: str, prior_mu: str) -> None:
    """The density ratio is read off the grid's interpolated tail: agreement to 5e-3."""
    spec = ModelSpec.describe(bayesmeta.load(f"examples/{example}.csv"), priors={"mu": prior_mu})
    bf = bayes_factors(spec)
    density = float(posterior(spec).mu.pdf(0.0))
    savage_dickey = float(parse_prior(prior_mu).logpdf(0.0)) - math.log(density)
    assert bf.log_bf_effect == pytest.approx(savage_dickey, abs=5e-3)


def test_moderators_are_refused_with_a_reason() -> None:
    data = bayesmeta.load("examples/bcg.csv")
    spec = ModelSpec.describe(
        data, moderators=bayesmeta.moderators(data.covariates, names=["ablat"])
    )
    with pytest.raises(BayesmetaError, match="without moderators"):
        bayes_factors(spec)
