"""Turner et al. (2015) heterogeneity priors: table values, tau scale, parsing.

Values: Turner RM, Jackson D, Wei Y, Thompson SG, Higgins JPT. Stat Med 2015;34(6):984-998,
Table IV (log tau^2 ~ N(m, s^2)); the same numbers as ``TurnerEtAlParameters`` in the R package
bayesmeta 3.4, e.g. ``TurnerEtAlPrior("all-cause mortality", "pharma", "placebo / control")``
gives ``mu = -3.95, sigma = 1.34`` for tau^2 and ``-1.975, 0.67`` for tau. The column order
(pharmacological vs placebo/control, pharma vs pharma, non-pharma vs placebo/control,
non-pharma vs pharma, non-pharma vs non-pharma) is confirmed independently by L. Spineli's rnmamod
analyses (2024, ``table_tau2_prior(measure = "OR")``): all-cause mortality, pharmacological vs
non-pharmacological ``(-2.92, 1.02)``; signs/symptoms, non-pharmacological vs placebo/control
``(-2.28, 1.71)``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from bayesmeta.errors import BayesmetaError
from bayesmeta.model.priors import Prior, PriorSet, parse_prior, turner_prior
from bayesmeta.model.turner import COMPARISONS, TABLE_IV, turner_log_tau2


@pytest.mark.parametrize(
    ("outcome", "comparison", "expected"),
    [
        ("all-cause mortality", "pharmacological vs placebo/control", (-3.95, 1.34)),
        ("all-cause mortality", "non-pharmacological vs control", (-4.17, 1.55)),
        ("all-cause mortality", "pharmacological vs non-pharmacological", (-2.92, 1.02)),
        ("obstetric outcomes", "pharmacological vs pharmacological", (-3.75, 1.79)),
        ("adverse events", "non-pharmacological vs pharmacological", (-0.84, 1.24)),
        ("subjective outcomes (various)", "non-pharmacological vs placebo", (-2.92, 1.71)),
        ("pain", "pharmacological vs non-pharmacological", (-0.80, 1.25)),
        ("pain", "non-pharmacological vs non-pharmacological", (-1.38, 1.45)),
        ("signs / symptoms", "non-pharmacological vs placebo / control", (-2.28, 1.71)),
        ("any", None, (-2.56, 1.74)),
    ],
)
def test_table_iv_values(outcome, comparison, expected):
    assert turner_log_tau2(outcome, comparison) == expected


def test_table_covers_every_outcome_and_comparison():
    assert len(TABLE_IV) == 16
    assert all(len(row) == len(COMPARISONS) == 5 for row in TABLE_IV.values())
    assert all(1.0 < s < 2.0 and -4.5 < m < 0 for row in TABLE_IV.values() for m, s in row)


def test_tau_is_lognormal_with_halved_parameters():
    prior = turner_prior("all-cause mortality", "pharmacological vs placebo / control")
    assert prior.family == "lognormal"
    assert prior.params == pytest.approx((-3.95 / 2, 1.34 / 2))


@pytest.mark.parametrize("outcome", ["pain", "all-cause mortality", "any"])
def test_tau_quantiles_are_square_roots_of_tau2_quantiles(outcome):
    """P(tau <= sqrt(x)) = P(tau^2 <= x): the closed-form log-normal quantiles of tau^2."""
    comparison = None if outcome == "any" else "pharmacological vs placebo"
    m, s = turner_log_tau2(outcome, comparison)
    q = np.array([0.025, 0.5, 0.975])
    tau2 = np.exp(m + s * stats.norm.ppf(q))
    prior = turner_prior(outcome, comparison)
    np.testing.assert_allclose(prior.ppf(q), np.sqrt(tau2), rtol=1e-12)
    assert float(prior.ppf(0.5)) == pytest.approx(math.exp(m / 2), rel=1e-12)


@pytest.mark.parametrize(
    "text",
    [
        "turner(all-cause mortality, non-pharmacological vs control)",
        "Turner( All-Cause Mortality , Non Pharmacological VS Placebo / Control )",
        "turner(allcause, control versus non-pharma)",
    ],
)
def test_parse_prior_reads_turner_forgivingly(text):
    prior = parse_prior(text)
    assert str(prior) == "turner(all-cause mortality, non-pharmacological vs. placebo / control)"
    assert prior.params == pytest.approx((-4.17 / 2, 1.55 / 2))


@pytest.mark.parametrize(
    "text",
    [
        "turner(any)",
        "turner(quality of life / functioning (dichotomized), drug vs drug)",
        "turner(surgical, non-pharmacological vs non-pharmacological)",
    ],
)
def test_str_round_trips_and_priors_stay_hashable(text):
    prior = parse_prior(text)
    again = parse_prior(str(prior))
    assert again == prior
    assert hash(again) == hash(prior)
    assert str(again) == str(prior)


def test_turner_prior_is_accepted_for_tau():
    prior = parse_prior("turner(pain, drug vs placebo)")
    assert PriorSet(tau=prior).to_dict()["tau"] == str(prior)
    assert prior.support == (0.0, math.inf)


def test_plain_priors_are_unchanged():
    assert str(parse_prior("half-normal(0.5)")) == "half-normal(0.5)"
    assert Prior("lognormal", (0.0, 1.0)) != turner_prior("any")
    assert parse_prior("lognormal(-1.28, 0.87)").label is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("turner(mortality, drug vs placebo)", "ambiguous .*all-cause mortality; cause-specific"),
        ("turner(headache, drug vs placebo)", "unknown .*choose one of: all-cause mortality"),
        ("turner(pain)", "needs a comparison type"),
        ("turner(pain, placebo vs control)", "no prior for placebo / control vs"),
        ("turner(pain, surgery vs placebo)", "cannot read comparator 'surgery'"),
        ("turner(pain, drug placebo)", "write 'A vs B'"),
    ],
)
def test_unknown_names_list_the_valid_ones(text, message):
    with pytest.raises(BayesmetaError, match=message):
        parse_prior(text)


def test_turner_prior_drives_the_exact_engine():
    """The labelled prior is an ordinary log-normal to the numerical code."""
    from bayesmeta.engines.exact import nnhm_posterior

    y, v = [-0.9, -1.6, -0.4, -1.2], [0.33, 0.19, 0.42, 0.05]
    labelled = turner_prior("all-cause mortality", "pharmacological vs placebo")
    plain = Prior("lognormal", labelled.params)
    a = nnhm_posterior(y, v, prior_mu="normal(0, 2.82)", prior_tau=str(labelled))
    b = nnhm_posterior(y, v, prior_mu="normal(0, 2.82)", prior_tau=plain)
    assert a.tau.interval() == b.tau.interval() and a.tau.median == b.tau.median
    assert a.tau.median < 0.3  # the informative prior keeps tau near its median 0.14
