"""The unrelated mean effects (UME) model of the smoking network against a long Stan run.

Reference: ``ume_random`` of tests/reference/hasselblad1998_nma_checks.stan.json (by
tests/reference/stan_nma_checks.R with tests/reference/nma.stan: R 4.2.2, rstan 2.21.7,
metadat 1.2-0, 4 chains x 3,000 draws after 1,000 warm-up, adapt_delta 0.95, seed 20261204;
TSD2's priors; one mean per observed (baseline, treatment) comparison, the baseline the
study's lowest treatment code in the order no_contact, self_help, ind_counseling,
grp_counseling; shared tau). The network is built from the JSON's arms in that order so the
comparisons are the reference's. Our draws are few (4 x 1000), so the tolerances are 5 Monte
Carlo standard errors from our own effective sample sizes (the Stan run's are about 2 times
smaller and are added).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import arviz as az
import numpy as np
import pytest
from scipy.special import expit

from bayesmeta.engines.network import ume_comparisons
from bayesmeta.engines.nuts import SamplerSettings
from bayesmeta.io.network import NetworkData
from bayesmeta.model.likelihoods.network import TSD2_PRIORS
from bayesmeta.summaries.network import residual_deviance
from bayesmeta.workflows.network import node_split, ume

REF = json.loads(
    (Path(__file__).parents[1] / "reference" / "hasselblad1998_nma_checks.stan.json").read_text()
)
UME = REF["ume_random"]
SETTINGS = SamplerSettings(chains=4, draws=1000, tune=1000, seed=11)


@pytest.fixture(scope="module")
def data() -> NetworkData:
    code = {t: i for i, t in enumerate(REF["treatments"])}
    arms = sorted(REF["arms"], key=lambda a: (a["study"], code[a["treatment"]]))
    numbers = list(dict.fromkeys(a["study"] for a in arms))  # names repeat (two Russell et al.)
    return NetworkData(
        study=tuple(dict.fromkeys(f"{a['name']} ({a['study']})" for a in arms)),
        treatments=tuple(REF["treatments"]),
        arm_study=np.array([numbers.index(a["study"]) for a in arms]),
        arm_treatment=np.array([code[a["treatment"]] for a in arms]),
        events=np.array([a["events"] for a in arms], dtype=np.int64),
        total=np.array([a["total"] for a in arms], dtype=np.int64),
        rows=tuple(range(1, len(arms) + 1)),
        source="hasselblad1998_nma_checks.stan.json",
    )


@pytest.fixture(scope="module")
def fitted(data):
    return ume(data, TSD2_PRIORS, settings=SETTINGS)


def _mcse(draws: np.ndarray) -> float:
    """Monte Carlo standard error of the mean of ``(chain, draw)`` draws."""
    return float(
        az.mcse(az.convert_to_dataset(draws[np.newaxis] if draws.ndim == 1 else draws))
        .to_array()
        .values.squeeze()
    )


def test_comparisons_are_the_references(data):
    names = [(data.treatments[b], data.treatments[t]) for b, t in ume_comparisons(data)]
    assert names == [(d["versus"], d["treatment"]) for d in UME["d"]]


def test_ume_fit_matches_stan(data, fitted):
    """Dbar, pD and DIC within Monte Carlo error of the Stan run's (pD = Dbar - D(rbar), so
    its error is at most Dbar's plus D(rbar)'s; D(rbar) varies far less than Dbar)."""
    assert fitted.fit.diagnostics.converged
    post = fitted.fit.draws.posterior
    alpha, delta = np.asarray(post["alpha"]), np.asarray(post["delta"])
    per_draw = residual_deviance(
        data.events, data.total, data.total * expit(alpha[:, :, data.arm_study] + delta)
    ).sum(axis=-1)
    assert fitted.resdev == pytest.approx(per_draw.mean(), rel=1e-12)
    ref_se = UME["fit"]["resdev"]["sd"] / math.sqrt(UME["diagnostics"]["n_eff_min"])
    tol = 5 * math.hypot(_mcse(per_draw), ref_se)
    assert abs(fitted.resdev - UME["fit"]["dbar"]) < tol
    assert abs(fitted.p_d - UME["fit"]["pd"]) < 2 * tol
    assert abs(fitted.dic - UME["fit"]["dic"]) < 3 * tol
    assert fitted.dic == pytest.approx(fitted.resdev + fitted.p_d)


def test_ume_means_match_stan(fitted):
    post = fitted.fit.draws.posterior
    d, tau = np.asarray(post["d"]), np.asarray(post["tau"])
    for k, ref in enumerate(UME["d"]):
        ref_se = ref["sd"] / math.sqrt(UME["diagnostics"]["n_eff_min"])
        tol = 5 * math.hypot(_mcse(d[:, :, k]), ref_se)
        assert abs(d[:, :, k].mean() - ref["mean"]) < tol, ref
    ref_se = UME["tau"]["sd"] / math.sqrt(UME["diagnostics"]["n_eff_min"])
    assert abs(tau.mean() - UME["tau"]["mean"]) < 5 * math.hypot(_mcse(tau), ref_se)


def test_command_line_ume_prints_the_fit_comparison_and_writes_json(tmp_path):
    from typer.testing import CliRunner

    from bayesmeta.cli import app

    out = tmp_path / "net.json"
    args = ["network", "--example", "hasselblad1998_network", "--priors", "tsd2", "--ume",
            "--chains", "2", "--draws", "100", "--tune", "100", "--quiet",
            "--json", str(out)]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code in (0, 3), result.output  # 3: too few draws to pass the ESS check
    payload = json.loads(out.read_text())
    fit, u = payload["network"]["fit"], payload["ume"]
    assert u["DIC"] == pytest.approx(u["residual_deviance"] + u["pD"])
    text = " ".join(result.output.split())
    assert "consistency vs unrelated mean effects (UME)" in text
    row = f"UME │ {u['residual_deviance']:.1f} │ {u['pD']:.1f} │ {u['DIC']:.1f}"
    assert row in text
    assert f"DIC difference (consistency - UME) {fit['DIC'] - u['DIC']:.1f}" in text


def test_node_split_matches_stan(data):
    """Node-split of self_help vs no_contact (the reference's first split: studies 11, 12, 20)
    against the Stan run: direct, indirect and difference means within 5 Monte Carlo standard
    errors, the p-value within 5 binomial standard errors of its probabilities."""
    ref = REF["node_splits"][0]
    assert (ref["treatment"], ref["versus"]) == ("self_help", "no_contact")
    split = node_split(data, "self_help", "no_contact", TSD2_PRIORS, settings=SETTINGS)
    assert split.fit.diagnostics.converged
    post = split.fit.draws.posterior
    n_ref = ref["diagnostics"]["n_eff_min"]
    for key in ("direct", "indirect", "difference"):
        draws = np.asarray(post[key])
        tol = 5 * math.hypot(_mcse(draws), ref[key]["sd"] / math.sqrt(n_ref))
        assert abs(getattr(split, key).mean - ref[key]["mean"]) < tol, key
        assert getattr(split, key).mean == pytest.approx(draws.mean())
    diff = np.asarray(post["difference"])
    ess = float(az.ess(az.convert_to_dataset(diff)).to_array().values.squeeze())
    p = ref["p_value"] / 2  # the smaller tail probability
    assert abs(split.p_value - ref["p_value"]) < 5 * 2 * math.sqrt(p * (1 - p) / ess)
    np.testing.assert_allclose(
        np.asarray(post["difference"]), np.asarray(post["direct"]) - np.asarray(post["indirect"])
    )
