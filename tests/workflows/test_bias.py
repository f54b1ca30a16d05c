"""The publication-bias ensemble against an independent brute-force integration of every
model's marginal likelihood (tests/reference/bias_bruteforce.py) and against RoBMA 3.6.1 on
the BCG trials (tests/reference/robma_bcg.R)."""

from __future__ import annotations

import functools
import json
import math
from pathlib import Path

import numpy as np
import pytest

from bayesmeta.model.bias import BIAS_COMPONENTS, bias_priors
from bayesmeta.workflows.bias import ensemble

REF = Path(__file__).parents[1] / "reference"
BRUTE = json.loads((REF / "bias_bruteforce.json").read_text())["datasets"]
ROBMA = json.loads((REF / "robma_bcg.json").read_text())
PRIORS = {"bcg": bias_priors("robma"), "hackshaw": bias_priors("default", scale="OR")}


@functools.cache
def _fit(name: str):
    ref = BRUTE[name]
    return ensemble(np.array(ref["yi"]), np.array(ref["sei"]), priors=PRIORS[name],
                    effect_direction=ref["direction"])  # fmt: skip


@pytest.fixture(scope="module", params=sorted(BRUTE))
def case(request):
    ref, fit = BRUTE[request.param], _fit(request.param)
    rows = {(r.model.effect, r.model.random, r.model.bias.name): r for r in fit.models}
    return ref, fit, rows


def _key(m: dict) -> tuple[bool, bool, str]:
    return (m["effect"], m["random"], m["bias"])


def test_log_marginal_likelihoods_equal_brute_force(case) -> None:
    ref, _, rows = case
    converged = [m for m in ref["models"] if _converged(m)]
    assert len(converged) >= 28  # the rest: common-effect null models of no weight
    for m in converged:
        row = rows[_key(m)]
        # within our own error estimate (the check that it is honest) and 1e-3
        assert row.log_ml == pytest.approx(m["log_ml"], abs=row.log_ml_error + 1e-3), _key(m)


def _converged(m: dict) -> bool:
    """The reference's rule with 1.5 x the panels moved its value by less than 2e-3 (the finer
    rule's own error is far smaller: Gauss-Legendre converges geometrically)."""
    return abs(m["log_ml"] - m["log_ml_coarse"]) < 2e-3


def _reference_posterior(ref: dict, rows: dict) -> dict:
    """Posterior model probabilities from RoBMA-PSMA's prior probabilities written out here
    and the reference log marginal likelihoods (ours where the reference had not converged:
    models of no weight)."""
    prior_bias = {"none": 0.5, "PET": 1 / 8, "PEESE": 1 / 8}
    log_post = {}
    for m in ref["models"]:
        lml = m["log_ml"]
        if not _converged(m):
            assert rows[_key(m)].posterior < 1e-4
            lml = rows[_key(m)].log_ml
        prior = 0.25 * prior_bias.get(m["bias"], 1 / 24)
        log_post[_key(m)] = math.log(prior) + lml
    norm = np.logaddexp.reduce(list(log_post.values()))
    return {k: math.exp(v - norm) for k, v in log_post.items()}


def test_posterior_probabilities_and_averaged_effect(case) -> None:
    ref, fit, rows = case
    post = _reference_posterior(ref, rows)
    for key, p in post.items():
        assert rows[key].posterior == pytest.approx(p, abs=2e-4), key
    for name, test in (("effect", lambda k: k[0]), ("heterogeneity", lambda k: k[1]),
                       ("bias", lambda k: k[2] != "none")):  # fmt: skip
        yes = sum(p for k, p in post.items() if test(k))
        log_bf = math.log(yes / (1 - yes)) if yes < 1 - 1e-12 else None
        if log_bf is not None:
            assert fit.log_inclusion_bf[name] == pytest.approx(log_bf, abs=2e-3), name
    means = {_key(m): m["mean_mu"] for m in ref["models"]}
    averaged = sum(p * means[k] for k, p in post.items())
    assert fit.mu.mean == pytest.approx(averaged, abs=1e-3)
    for key, row in rows.items():
        if key[0] and post[key] > 1e-3:
            assert row.mu.mean == pytest.approx(means[key], abs=2e-3), key


def test_every_model_has_its_robma_psma_prior_probability(case) -> None:
    _, fit, _ = case
    assert len(fit.models) == 4 * len(BIAS_COMPONENTS) == 36
    assert sum(r.prior for r in fit.models) == pytest.approx(1.0, abs=1e-12)
    wf = [r.prior for r in fit.models if r.model.bias.kind == "weightfunction"]
    assert wf == pytest.approx([1 / 96] * 24)


def test_equals_robma_within_its_monte_carlo_error() -> None:
    """RoBMA 3.6.1 (JAGS, bridge sampling; seed 1) on the same y, se and priors: each log
    marginal likelihood within three of its bridge-sampling errors (the coefficient of
    variation of the marginal likelihood) plus 2e-3; the averaged estimates within the Monte
    Carlo error of its 15,000 mixed draws per model (about 0.003 for a mean, 0.01-0.02 for a
    2.5% or 97.5% quantile)."""
    fit = _fit("bcg")  # RoBMA-PSMA's priors, direction negative
    assert BRUTE["bcg"]["direction"] == "negative" and PRIORS["bcg"].name == "robma"
    assert np.allclose(ROBMA["yi"], BRUTE["bcg"]["yi"]) and np.allclose(
        ROBMA["sei"], BRUTE["bcg"]["sei"]
    )
    models = ROBMA["models"]
    order = {"two-sided: .05": "two-sided(0.05)", "two-sided: .1, .05": "two-sided(0.05, 0.1)",
             "one-sided: .05]": "one-sided(0.05)", "one-sided: .05, .025": "one-sided(0.025, 0.05)",
             "one-sided: .5, .05]": "one-sided(0.05, 0.5)",
             "one-sided: .5, .05, .025": "one-sided(0.025, 0.05, 0.5)"}  # fmt: skip
    rows = {(r.model.effect, r.model.random, r.model.bias.name): r for r in fit.models}
    columns = ("description", "logml", "logml_error", "post_prob")
    for desc, lml, err, post in zip(*(models[c] for c in columns), strict=True):
        bias = next((v for k, v in order.items() if k in desc), None)
        bias = bias or ("PET" if "PET=" in desc else "PEESE" if "PEESE=" in desc else "none")
        key = ("mu=Normal" in desc, "tau=InvGamma" in desc, bias)
        row = rows[key]
        assert row.log_ml == pytest.approx(lml, abs=3 * (err or 0.0) + 2e-3), key
        assert row.posterior == pytest.approx(post, abs=0.01), key
    comp = ROBMA["components"]
    for name, want in zip(("effect", "heterogeneity", "bias"), comp["post_prob"], strict=True):
        assert fit.component_probabilities(name)[1] == pytest.approx(want, abs=0.01)
    est = {n: i for i, n in enumerate(ROBMA["estimates"]["names"])}
    e = ROBMA["estimates"]
    for name, ours in (("mu", fit.mu), ("tau", fit.tau), ("PET", fit.pet), ("PEESE", fit.peese)):
        i = est[name]
        assert ours.mean == pytest.approx(e["mean"][i], abs=0.006), name
        assert ours.interval[0] == pytest.approx(e["lower"][i], abs=0.02), name
        # PET and PEESE: a Cauchy-tailed mixture, whose 97.5% point is the 87.5% point of
        # the PET models' own posterior (about 6,000 of RoBMA's draws): MC error about 0.04
        upper_tol = 0.1 if name in ("PET", "PEESE") else 0.03
        assert ours.interval[1] == pytest.approx(e["upper"][i], abs=upper_tol), name
    assert fit.mu.median == pytest.approx(e["median"][est["mu"]], abs=0.01)
    omega = [e["mean"][i] for n, i in est.items() if n.startswith("omega")]
    assert fit.weight_function.mean == pytest.approx(omega, abs=0.003)
