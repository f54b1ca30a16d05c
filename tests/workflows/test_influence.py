"""Leave-one-out influence: the Bayesian refits against the exact engine called directly and
the frequentist ones against metafor's ``leave1out(rma(yi, vi, method = "REML"))``
(``tests/reference/metafor_report.json``, R 4.2.2, metafor 3.8-1)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from bayesmeta.engines.exact import nnhm_posterior
from bayesmeta.errors import BayesmetaError
from bayesmeta.model.moderators import moderators
from bayesmeta.workflows.analyze import analyze, analyze_model
from bayesmeta.workflows.influence import influence, without
from tests.conftest import EXAMPLES, REFERENCE
from tests.report.conftest import FAST, load

REF = json.loads((REFERENCE / "metafor_report.json").read_text())


def test_without_drops_one_study_everywhere():
    data = load("bcg")
    less = without(data, 2)
    assert less.k == data.k - 1
    assert "Rosenthal et al 1960" not in less.study
    assert list(less.treatment_events) == [4, 6, *data.treatment_events[3:]]
    assert list(less.covariates["ablat"]) == [44, 55, *data.covariates["ablat"][3:]]


def test_exact_influence_matches_the_exact_engine_without_each_study(bcg_exact_influence):
    result, infl = bcg_exact_influence
    data = result.data
    assert infl.studies == data.study
    y, v = result.spec.normal.y, result.spec.normal.v
    for i in (0, 7, 12):
        keep = np.arange(data.k) != i
        post = nnhm_posterior(
            y[keep], v[keep], prior_mu=result.priors.mu, prior_tau=result.priors.tau
        )
        omitted = infl.bayesian[data.study[i]]
        assert omitted.mu.median == pytest.approx(post.mu.median, rel=1e-10)
        assert omitted.tau.interval[1] == pytest.approx(post.tau.interval()[1], rel=1e-8)
    assert infl.full_bayesian.mu == result.posterior.mu
    assert infl.settings is None


def test_frequentist_influence_matches_metafor_leave1out(bcg_exact_influence):
    _, infl = bcg_exact_influence
    ref = REF["bcg"]["leave1out_reml"]
    np.testing.assert_allclose(
        [infl.frequentist[s].estimate for s in infl.studies], ref["est"], rtol=1e-6
    )
    np.testing.assert_allclose(
        [infl.frequentist[s].ci[1] for s in infl.studies], ref["ci_ub"], rtol=1e-6
    )
    assert infl.method == "REML"
    doc = infl.to_dict()
    assert list(doc["omitted"]) == list(infl.studies)
    assert doc["omitted"]["Aronson 1948"]["frequentist"]["estimate"] == pytest.approx(
        ref["est"][0], rel=1e-6
    )


def test_models_with_moderators_or_few_studies_are_refused(write_csv):
    data = load("bcg")
    mods = moderators(data.covariates, subgroup="alloc")
    result = analyze(data, model="normal-normal", moderators=mods)
    with pytest.raises(BayesmetaError, match="without covariates or subgroups"):
        influence(result)
    two = analyze(load_two(write_csv), model="normal-normal")
    with pytest.raises(BayesmetaError, match="at least 3 studies"):
        influence(two)
    with pytest.raises(BayesmetaError, match="unknown tau"):
        influence(analyze(data, model="normal-normal"), method="XX")


def load_two(write_csv):
    from bayesmeta.io.inputs import load as load_any

    rows = (EXAMPLES / "bcg.csv").read_text().splitlines()[:3]
    return load_any(write_csv("\n".join(rows) + "\n"))


@pytest.mark.sampling
def test_nuts_refits_use_the_same_engine_and_seed():
    """Each Bayesian row is exactly the refit with the analysis' settings (seed included)."""
    data = load("bcg")
    result = analyze(data, settings=FAST)
    infl = influence(result, settings=FAST)
    assert infl.engine == "nuts" and infl.settings == FAST
    again = analyze_model(result.spec.with_data(without(data, 7)), settings=FAST, frequentist=())
    assert infl.bayesian["TPT Madras 1980"].mu == again.posterior.mu
    # the largest trial, with no effect (OR 1.01): without it the pooled OR is further below 1
    assert infl.bayesian["TPT Madras 1980"].mu.median < result.posterior.mu.median
    assert infl.frequentist["TPT Madras 1980"].estimate < infl.full_frequentist.estimate


def test_influence_as_a_table_has_the_shared_interval_columns(bcg_exact_influence):
    result, infl = bcg_exact_influence
    frame = infl.to_frame()
    ref = REF["bcg"]["leave1out_reml"]
    assert list(frame.index) == ["(none)", *infl.studies]
    np.testing.assert_allclose(frame["freq_estimate"].iloc[1:], ref["est"], rtol=1e-6)
    np.testing.assert_allclose(frame["freq_ci_upper"].iloc[1:], ref["ci_ub"], rtol=1e-6)
    assert frame.loc["(none)", "median"] == result.posterior.mu.median
    assert tuple(frame.loc["Aronson 1948", ["ci_lower", "ci_upper"]]) == (
        infl.bayesian["Aronson 1948"].mu.interval
    )
