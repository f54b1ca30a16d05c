"""The model description: defaults by scale, checks, and the data every engine names alike."""

from __future__ import annotations

import numpy as np
import pytest

import bayesmeta
from bayesmeta.errors import OptionError
from bayesmeta.model.description import ModelSpec, normal_inputs
from bayesmeta.model.priors import PROPORTION_PRIORS, PriorSet, parse_prior


@pytest.fixture(scope="module")
def bcg():
    return bayesmeta.load_example("bcg")


def test_the_likelihood_and_default_priors_follow_the_data(bcg) -> None:
    spec = ModelSpec.describe(bcg)
    assert spec.likelihood == "binomial-normal" and spec.priors == PriorSet()
    assert spec.scale.name == "log_odds_ratio" and spec.baseline
    single = ModelSpec.describe(bayesmeta.load_example("pritz1997_prop"))
    assert single.likelihood == "proportion" and single.priors == PROPORTION_PRIORS
    # a normal-normal model of single-arm counts works on logits: proportion priors too
    nn = ModelSpec.describe(single.data, model="normal-normal")
    assert nn.scale.name == "logit_proportion" and nn.priors == PROPORTION_PRIORS


def test_given_priors_replace_only_those_defaults(bcg) -> None:
    spec = ModelSpec.describe(bcg, priors={"tau": "half-cauchy(0.5)", "mu": None})
    assert spec.priors.tau == parse_prior("half-cauchy(0.5)")
    assert spec.priors.mu == PriorSet().mu and spec.priors.baseline == PriorSet().baseline


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"model": "proportion"}, "needs single-arm counts"),
        ({"model": "glm"}, "unknown model 'glm'"),
        ({"priors": {"tau": "normal(0, 1)"}}, "no mass below 0"),
        ({"priors": {"alpha": "normal(0, 1)"}}, "unknown prior name"),
    ],
)
def test_invalid_descriptions_are_option_errors(bcg, kwargs, message) -> None:
    with pytest.raises(OptionError, match=message):
        ModelSpec.describe(bcg, **kwargs)


def test_every_engine_names_the_data_alike(bcg) -> None:
    given, observed = ModelSpec.describe(bcg).arrays()
    assert list(given) == ["treatment_total", "control_total"]
    assert list(observed) == ["control_events", "treatment_events"]
    np.testing.assert_array_equal(observed["treatment_events"], bcg.treatment_events)
    nn_given, nn_observed = ModelSpec.describe(bcg, model="normal-normal").arrays()
    inputs = normal_inputs(bcg)
    np.testing.assert_allclose(nn_given["se"] ** 2, inputs.v, rtol=1e-15)
    np.testing.assert_array_equal(nn_observed["y"], inputs.y)


def test_normal_normal_models_of_counts_leave_out_double_zeros() -> None:
    data = bayesmeta.load_example("nielweise2007")
    spec = ModelSpec.describe(data, model="normal-normal")
    assert len(spec.study) == data.k - int(data.double_zero.sum()) == 17


def test_the_sampler_range_is_checked_for_nuts_only(bcg) -> None:
    wide = ModelSpec.describe(bcg, model="normal-normal", priors={"tau": "half-normal(1e300)"})
    with pytest.raises(OptionError, match="for the sampler"):
        wide.check_for_sampler()
    # the exact engine integrates such a prior (flat over the likelihood)
    assert bayesmeta.analyze(bcg, model="normal-normal", priors=wide.priors).converged
