"""The prior robustness map (:mod:`bayesmeta.workflows.robustness`) against independent
references:

- ``tests/reference/rbayesmeta_robustness.json``: the R package bayesmeta 3.4 (Roever 2020) on
  the normal-normal model of the BCG log odds ratios at three (tau half-normal scale, mu
  normal SD) pairs: ``bayesmeta(y, sigma, mu.prior.mean = 0, mu.prior.sd = SD, tau.prior =
  function(t) dhalfnormal(t, scale = S))``, ``$pposterior(mu = 0)``, ``$bayesfactor``
  (``tests/reference/rbayesmeta_robustness.R`` gives the commands and versions);
- ``tests/reference/binomial_bruteforce.json``: brute-force quadrature of the binomial-normal
  and proportion models (``mu ~ N(0, 10^2)``; ``tau ~ HalfNormal(0.5)``, proportions
  ``HalfNormal(1)``) by another method than the exact engine;
- direct fits by the exact engines (adaptive quadrature on their own grids) at map cells.
"""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from bayesmeta.engines import exact
from bayesmeta.errors import BayesmetaError
from bayesmeta.io.examples import load_example
from bayesmeta.model.description import ModelSpec
from bayesmeta.model.priors import Prior
from bayesmeta.workflows.bayes_factors import NULL_SD
from bayesmeta.workflows.robustness import robustness, robustness_map
from tests.conftest import REFERENCE

R_REF = json.loads((REFERENCE / "rbayesmeta_robustness.json").read_text())
BRUTE = json.loads((REFERENCE / "binomial_bruteforce.json").read_text())


def _cell(spec: ModelSpec, tau_scale: float, mu_sd: float, check: bool = False):
    """A 2 x 2 map whose first cell is (tau_scale, mu_sd)."""
    return robustness_map(
        spec,
        tau_scales=(tau_scale, 2 * tau_scale),
        mu_scales=(mu_sd, 2 * mu_sd),
        points=2,
        check=check,
    )


@pytest.fixture(scope="module")
def bcg_normal() -> ModelSpec:
    return ModelSpec.describe(load_example("bcg"), model="normal-normal")


def test_normal_normal_equals_r_bayesmeta(bcg_normal: ModelSpec) -> None:
    np.testing.assert_allclose(bcg_normal.normal.y, R_REF["yi"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(bcg_normal.normal.v, R_REF["vi"], rtol=0, atol=1e-12)
    for ref in R_REF["cells"]:
        m = _cell(bcg_normal, ref["tau_scale"], ref["mu_sd"])
        assert m.log_bf_effect[0, 0] == pytest.approx(ref["log_bf10_effect"], abs=1e-6)
        assert m.log_bf_heterogeneity[0, 0] == pytest.approx(
            ref["log_bf10_heterogeneity"], abs=1e-6
        )
        assert m.log_marginal_likelihood[0, 0] == pytest.approx(
            ref["log_marginal_likelihood"], abs=1e-6
        )
        # R's pposterior reads a grid approximation of the posterior of mu (its default
        # accuracy settings), 2e-5 from the closed form here and from the exact engine
        assert m.prob_benefit[0, 0] == pytest.approx(ref["p_mu_below_0"], abs=5e-5)


def test_normal_normal_map_cells_equal_direct_exact_fits(bcg_normal: ModelSpec) -> None:
    m = robustness_map(bcg_normal, check=False)
    assert m.prob_benefit.shape == (30, 30)
    assert (m.tau_scales[0], m.tau_scales[-1]) == pytest.approx((0.05, 2.0))
    assert (m.mu_scales[0], m.mu_scales[-1]) == pytest.approx((0.1, 10.0))
    y, v = bcg_normal.normal.y, bcg_normal.normal.v
    for i, j in ((0, 0), (29, 29), (7, 21), (22, 3)):
        tau, mu = Prior("half-normal", (m.tau_scales[i],)), Prior("normal", (0.0, m.mu_scales[j]))
        re = exact.nnhm_posterior(y, v, prior_mu=mu, prior_tau=tau)
        ce = exact.common_effect_posterior(y, v, prior_mu=mu)
        null = exact.nnhm_posterior(y, v, prior_mu=Prior("normal", (0.0, NULL_SD)), prior_tau=tau)
        assert m.prob_benefit[i, j] == pytest.approx(re.prob_mu_below_0, abs=1e-9)
        lml = re.log_marginal_likelihood
        assert m.log_bf_effect[i, j] == pytest.approx(lml - null.log_marginal_likelihood, abs=1e-6)
        assert m.log_bf_heterogeneity[i, j] == pytest.approx(
            lml - ce.log_marginal_likelihood, abs=1e-6
        )


def test_wide_mu_prior_flips_the_effect_bayes_factor(bcg_normal: ModelSpec) -> None:
    """Lindley: with mu ~ N(0, 100^2) and tau ~ HalfNormal(2) the BCG data favour mu = 0
    (log BF10 -0.94, a closed form in mu and the exact engine's quadrature in tau), while at
    moderate scales the same data give a BF above 1000; the map says the conclusion flips."""
    m = robustness_map(bcg_normal, tau_scales=(0.01, 2), mu_scales=(0.01, 100), check=False)
    assert m.flips() == {"prob_benefit": False, "bf_effect": True, "bf_heterogeneity": False}
    y, v = bcg_normal.normal.y, bcg_normal.normal.v
    tau, mu = Prior("half-normal", (2.0,)), Prior("normal", (0.0, 100.0))
    direct = (
        exact.nnhm_posterior(y, v, prior_mu=mu, prior_tau=tau).log_marginal_likelihood
        - exact.nnhm_posterior(
            y, v, prior_mu=Prior("normal", (0.0, NULL_SD)), prior_tau=tau
        ).log_marginal_likelihood
    )
    assert direct < 0
    assert m.log_bf_effect[-1, -1] == pytest.approx(direct, abs=1e-6)


def test_binomial_normal_cell_equals_brute_force() -> None:
    """bcg, binomial-normal, mu ~ N(0, 10^2), tau ~ HalfNormal(0.5): log p(y), P(mu < 0) and
    the common-effect log p(y) (through the heterogeneity BF) of the brute-force reference."""
    spec = ModelSpec.describe(load_example("bcg"), priors={"mu": "normal(0, 10)"})
    m = _cell(spec, 0.5, 10.0)
    ref, common = BRUTE["bcg"], BRUTE["bcg_common"]
    assert m.log_marginal_likelihood[0, 0] == pytest.approx(
        ref["log_marginal_likelihood"], abs=1e-4
    )
    assert m.prob_benefit[0, 0] == pytest.approx(ref["p_mu_below_0"], abs=1e-5)
    common_lml = m.log_marginal_likelihood[0, 0] - m.log_bf_heterogeneity[0, 0]
    assert common_lml == pytest.approx(common["log_marginal_likelihood"], abs=1e-4)


def test_proportion_cell_equals_brute_force() -> None:
    spec = ModelSpec.describe(load_example("pritz1997_prop"), priors={"mu": "normal(0, 10)"})
    m = _cell(spec, 1.0, 10.0)
    ref = BRUTE["pritz1997_prop"]
    assert m.log_marginal_likelihood[0, 0] == pytest.approx(
        ref["log_marginal_likelihood"], abs=1e-4
    )
    assert m.prob_benefit[0, 0] == pytest.approx(ref["p_mu_below_0"], abs=1e-6)


def test_binomial_map_cells_equal_the_exact_engine() -> None:
    """li2007 (zero cells), default priors mu ~ N(0, 2.82^2): the corners of a small map and the
    analysis' own prior pair (half-normal(0.5), a cell here) against direct exact fits."""
    spec = ModelSpec.describe(load_example("li2007"))
    m = robustness_map(spec, tau_scales=(0.05, 0.5), mu_scales=(0.3, 2.82), points=3)
    cells = sorted((c["tau_scale"], c["mu_sd"]) for c in m.check)
    assert np.allclose(cells, [(0.05, 0.3), (0.5, 2.82)], rtol=1e-12)
    assert m.analysis == {"tau_scale": 0.5, "mu_sd": 2.82}
    assert m.accuracy["prob_benefit"] < 1e-5
    assert m.accuracy["log_bf"] < 1e-3


def test_benefit_higher_is_the_complement(bcg_normal: ModelSpec) -> None:
    low = robustness_map(bcg_normal, points=4, check=False)
    high = robustness_map(bcg_normal, points=4, check=False, benefit="higher")
    np.testing.assert_allclose(low.prob_benefit + high.prob_benefit, 1.0, atol=1e-12)
    np.testing.assert_array_equal(low.log_bf_effect, high.log_bf_effect)


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"tau_scales": (2.0, 0.5)}, "0 < low < high"),
        ({"mu_scales": (0.0, 1.0)}, "0 < low < high"),
        ({"points": 1}, "2 to 400"),
        ({"threshold": 1.0}, "(0, 1)"),
        ({"benefit": "up"}, "lower, higher"),
        ({"model": "poisson-normal"}, ""),
    ],
)
def test_bad_options_raise_one_line_errors(kwargs: dict, fragment: str) -> None:
    data = load_example("bcg")
    options = {"model": "normal-normal", **kwargs}
    with pytest.raises(BayesmetaError) as err:
        robustness(data, **options)
    assert fragment in str(err.value) and "\n" not in str(err.value)


def test_moderators_are_refused(bcg_normal: ModelSpec) -> None:
    from bayesmeta.model.moderators import moderators

    data = bcg_normal.data
    spec = replace(bcg_normal, moderators=moderators(data.covariates, names=("ablat",)))
    with pytest.raises(BayesmetaError, match="without moderators"):
        robustness_map(spec)


def test_mixed_counts_and_reported_cell_equals_the_exact_engine() -> None:
    """bcg_mixed (counts and reported log odds ratios): the analysis' own prior pair."""
    from bayesmeta.engines import exact_binomial
    from bayesmeta.summaries.exact_binomial import posterior

    spec = ModelSpec.describe(load_example("bcg_mixed"))
    m = _cell(spec, 0.5, 2.82)
    re = posterior(spec)
    ce = posterior(replace(spec, common_effect=True))
    lik = exact_binomial.study_likelihood(spec.data, spec.priors.baseline)
    null = exact_binomial.null_log_marginal_likelihood(lik, spec.priors.tau)
    assert m.prob_benefit[0, 0] == pytest.approx(re.prob_mu_below_0, abs=1e-5)
    lml = re.log_marginal_likelihood
    assert m.log_bf_effect[0, 0] == pytest.approx(lml - null, abs=1e-3)
    assert m.log_bf_heterogeneity[0, 0] == pytest.approx(lml - ce.log_marginal_likelihood, abs=1e-3)
