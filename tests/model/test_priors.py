"""Prior strings: parsing, round trip, errors; scipy densities agree with PyMC's."""

from __future__ import annotations

import numpy as np
import pytest

from bayesmeta.errors import BayesmetaError
from bayesmeta.model.priors import DEFAULT_MU, Prior, PriorSet, parse_prior

SPECS = [
    "normal(0, 10)",
    "half-normal(0.5)",
    "half-cauchy(1)",
    "half-student-t(3, 0.5)",
    "uniform(0, 2)",
    "exponential(2)",
    "lognormal(-1, 0.5)",
    "gamma(2, 0.1)",
]


@pytest.mark.parametrize("spec", SPECS)
def test_string_round_trip(spec: str) -> None:
    prior = parse_prior(spec)
    assert str(prior) == spec
    assert parse_prior(str(prior)) == prior


def test_spelling_is_forgiven() -> None:
    assert parse_prior("Half Normal ( 0.5 )") == parse_prior("half_normal(0.5)")
    assert parse_prior("halfcauchy(2)").family == "half-cauchy"


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ("normal(0)", "takes 2 parameter"),
        ("weibull(1, 1)", "unknown prior family"),
        ("half-normal(-1)", "must be positive"),
        ("half-normal", "write FAMILY(PARAMS)"),
        ("normal(a, b)", "must be numbers"),
        ("uniform(2, 1)", "lower must be below upper"),
        ("normal(0, inf)", "finite"),
    ],
)
def test_malformed_prior_is_a_clear_error(spec: str, fragment: str) -> None:
    with pytest.raises(BayesmetaError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        parse_prior(spec)


def test_tau_prior_must_be_positive() -> None:
    with pytest.raises(BayesmetaError, match="no mass below 0"):
        PriorSet(tau=parse_prior("normal(0, 1)"))


def test_default_mu_prior_puts_95_percent_on_or_between_1_250_and_250() -> None:
    # Gunhan, Rover & Friede 2020: sd 2.82 <=> P(1/250 < OR < 250) = 0.95.
    mass = DEFAULT_MU.cdf(np.log(250)) - DEFAULT_MU.cdf(-np.log(250))
    assert mass == pytest.approx(0.95, abs=1e-3)


@pytest.mark.parametrize("spec", SPECS)
def test_scipy_density_equals_pymc_density(spec: str) -> None:
    """The exact engine (scipy) and the NUTS models (PyMC) must use the same prior."""
    import pymc as pm

    prior = parse_prior(spec)
    x = np.array([0.05, 0.3, 1.0, 1.7])
    with pm.Model():
        rv = prior.to_pymc("x")
    expected = pm.logp(rv, x).eval()
    # PyTensor and scipy evaluate the log-gamma terms differently: ~1e-7 relative apart.
    np.testing.assert_allclose(prior.logpdf(x), expected, rtol=1e-6)


@pytest.mark.parametrize("spec", SPECS)
def test_quantiles_invert_the_cdf(spec: str) -> None:
    prior = parse_prior(spec)
    q = np.array([0.025, 0.5, 0.975])
    np.testing.assert_allclose(prior.cdf(prior.ppf(q)), q, rtol=1e-9)


def test_gamma_support_point_is_pymcs() -> None:
    """The gamma family (prior of Student-t degrees of freedom) starts where PyMC's Gamma does
    (its mean, shape / rate) and takes PyMC's keywords."""
    import pymc as pm
    from pymc.distributions.distribution import support_point

    prior = parse_prior("gamma(2, 0.1)")
    with pm.Model():
        rv = prior.to_pymc("nu")
    assert prior.support_point() == pytest.approx(float(support_point(rv).eval()))
    assert Prior("Gamma", alpha=2, beta=0.1) == prior and str(prior) == "gamma(2, 0.1)"
