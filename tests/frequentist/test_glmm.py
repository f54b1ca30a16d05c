"""Binomial-normal GLMMs against metafor 3.8-1 ``rma.glmm`` (lme4 1.1-31, nAGQ = 7, R 4.2.2).

``NAME.metafor.json``: ``rma.glmm(measure = "OR", model = "UM.FS")`` / ``rma.glmm(measure =
"PLO")``. On li2007 and nielweise2007 lme4 stops before the optimum ("Model failed to converge
with max|grad| = 0.0058"), so those published values are off by up to 9e-4 (relative). The
``glmm_refined`` block of ``metafor_extra.json`` maximises lme4's own nAGQ = 7 deviance
(``glmer(..., devFunOnly = TRUE)``) with ``nlminb(rel.tol = 1e-15)`` and takes the SE from
``optimHess``; we match that to 1e-5 (the SE is limited by optimHess's finite differences).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import special
from typer.testing import CliRunner

import bayesmeta
from bayesmeta.cli import app
from bayesmeta.errors import BayesmetaError
from bayesmeta.frequentist import glmm

ROOT = Path(__file__).resolve().parents[2]
REF = ROOT / "tests" / "reference"
EXTRA = json.loads((REF / "metafor_extra.json").read_text())
NAMES = ("bcg", "li2007", "nielweise2007", "pritz1997_prop")


def fit(name):
    data = bayesmeta.load(ROOT / "examples" / f"{name}.csv")
    if name == "pritz1997_prop":
        return glmm.random_intercept_ml(data)
    return glmm.binomial_normal_ml(data)


@pytest.mark.parametrize("name", NAMES)
def test_matches_tightly_converged_lme4_optimum(name):
    ref = EXTRA["glmm_refined"][name]
    pe = fit(name)
    assert pe.estimate == pytest.approx(ref["est"], rel=1e-5)
    assert pe.tau2 == pytest.approx(ref["tau2"], rel=1e-5)
    # the SE from the exact Hessian (nodes moving), lme4's from optimHess: 2e-7 apart
    assert pe.se == pytest.approx(ref["se"], rel=1e-6)


def design(name):
    data = bayesmeta.load(ROOT / "examples" / f"{name}.csv")
    if name == "pritz1997_prop":
        return glmm._single_arm_design(data)
    return glmm._two_arm_design(data)


def central_difference(d, theta, h=1e-4):
    """Richardson-extrapolated central differences of the AGQ log-likelihood, one parameter
    at a time (the route the gradient used before it was analytic)."""

    def diff(h):
        return np.array(
            [(glmm._loglik(d, theta + h * e) - glmm._loglik(d, theta - h * e)) / (2 * h)
             for e in np.eye(len(theta))]
        )  # fmt: skip

    return (4 * diff(h / 2) - diff(h)) / 3


@pytest.mark.parametrize("name", NAMES)
def test_exact_gradient_matches_finite_differences(name):
    """The analytic gradient, nodes moving with the parameters, at the fit's starting
    intercepts with a large tau, where the nodes' movement matters: the fixed-node score is
    off there by 2e-5 to 7e-3."""
    d = design(name)
    alpha = []
    if d.local:
        control = slice(d.k, None)
        c = d.events[control] + 0.5
        alpha = np.log(c / (d.trials[control] - d.events[control] + 0.5))
    theta = np.concatenate([alpha, [-0.3, 1.5]])
    expected = central_difference(d, theta)
    exact = np.concatenate(glmm._gradient(d, theta))
    fixed_nodes = np.concatenate(glmm._derivatives(d, theta)[1])
    assert np.max(np.abs(fixed_nodes - expected)) > 1e-5
    # the differences carry rounding of about 1e-16 |loglik| / h, up to 6e-8 here
    np.testing.assert_allclose(exact, expected, rtol=0, atol=2e-7)


def simulated_two_arm(k: int, seed: int = 1):
    """``k`` simulated two-arm studies: arms of 20-200, control risk about 0.2, log OR -0.5,
    tau 0.3 (simulated, not real trials)."""
    rng = np.random.default_rng(seed)
    n_t, n_c = rng.integers(20, 201, (2, k))
    base = np.log(0.25) + rng.normal(0, 0.5, k)
    theta = -0.5 + 0.3 * rng.standard_normal(k)
    events_t = rng.binomial(n_t, special.expit(base + theta))
    events_c = rng.binomial(n_c, special.expit(base))
    return two_arm(np.column_stack([events_t, n_t, events_c, n_c]))


def test_likelihood_evaluations_do_not_grow_with_k(monkeypatch):
    """The fit costs O(k): the number of AGQ log-likelihood evaluations does not grow with the
    number of studies (a central-difference gradient over every study intercept took 2(k + 2)
    per Newton step)."""
    calls = []
    loglik = glmm._loglik
    monkeypatch.setattr(glmm, "_loglik", lambda d, theta: calls.append(d.k) or loglik(d, theta))
    for k in (20, 400):
        glmm.binomial_normal_ml(simulated_two_arm(k))
    assert 0 < calls.count(20) < 40
    assert 0 < calls.count(400) < 40


@pytest.mark.parametrize("name", NAMES)
def test_matches_rma_glmm_within_its_convergence(name):
    ref = json.loads((REF / f"{name}.metafor.json").read_text())
    ref = ref["glmm" if name == "pritz1997_prop" else "glmm_um_fs"]
    pe = fit(name)
    # bcg and pritz: lme4 converged, agreement 1e-4; li2007/nielweise2007: lme4 stopped early
    rtol = 1e-4 if name in ("bcg", "pritz1997_prop") else 1e-3
    for key, value in (
        ("est", pe.estimate),
        ("se", pe.se),
        ("tau2", pe.tau2),
        ("I2", pe.i2),
        ("H2", pe.h2),
    ):
        assert value == pytest.approx(ref[key], rel=rtol), key
    assert pe.k == ref["k"]


CASES = [c for c, v in EXTRA["edge"].items() if "error" not in v["glmm_um_fs"]]


@pytest.mark.parametrize("case", CASES)
def test_edge_cases_match_rma_glmm(case):
    """tau^2 at 0, k = 2, a zero cell, double zeros (dropped, as drop00 = TRUE)."""
    ref = EXTRA["edge"][case]
    frame = pd.DataFrame(ref["counts"]).rename(
        columns={
            "ai": "treatment_events",
            "n1i": "treatment_total",
            "ci": "control_events",
            "n2i": "control_total",
        }
    )
    frame.insert(0, "study", [f"s{i}" for i in range(len(frame))])
    pe = glmm.binomial_normal_ml(bayesmeta.load(frame))
    r = ref["glmm_um_fs"]
    assert pe.k == r["k"]
    assert pe.estimate == pytest.approx(r["est"], rel=1e-6)
    assert pe.tau2 == pytest.approx(r["tau2"], rel=1e-6, abs=1e-8)
    assert pe.se == pytest.approx(r["se"], rel=1e-5)  # lme4's finite-difference Hessian


def two_arm(rows):
    frame = pd.DataFrame(
        rows, columns=["treatment_events", "treatment_total", "control_events", "control_total"]
    )
    frame.insert(0, "study", [f"s{i}" for i in range(len(frame))])
    return bayesmeta.load(frame)


def single_arm(rows):
    frame = pd.DataFrame(rows, columns=["events", "total"])
    frame.insert(0, "study", [f"s{i}" for i in range(len(frame))])
    return bayesmeta.load(frame)


SINGLE_ARM_DEGENERATE = {
    "all_zero": [(0, 10), (0, 20), (0, 15)],
    "all_full": [(10, 10), (20, 20), (15, 15)],  # used to raise LinAlgError
    "zero_or_full": [(0, 10), (20, 20), (0, 15)],
}


@pytest.mark.parametrize("case", SINGLE_ARM_DEGENERATE)
def test_single_arm_without_events_and_non_events_is_not_estimable(case):
    with pytest.raises(BayesmetaError, match="no study has both events and non-events: the GLMM"):
        glmm.random_intercept_ml(single_arm(SINGLE_ARM_DEGENERATE[case]))


TWO_ARM_DEGENERATE = {
    "treatment_all_zero": ([(0, 10, 2, 10), (0, 20, 3, 22), (0, 15, 1, 14)], "treatment"),
    "treatment_all_full": ([(10, 10, 2, 10), (20, 20, 3, 22), (15, 15, 1, 14)], "treatment"),
    "control_all_zero": ([(3, 10, 0, 10), (5, 20, 0, 22), (2, 15, 0, 14)], "control"),
}


@pytest.mark.parametrize("case", TWO_ARM_DEGENERATE)
def test_two_arm_arm_without_events_and_non_events_is_not_estimable(case):
    rows, arm = TWO_ARM_DEGENERATE[case]
    with pytest.raises(BayesmetaError, match=f"no {arm} arm has both events and non-events"):
        glmm.binomial_normal_ml(two_arm(rows))


def test_metafor_failure_is_not_estimable_here_too():
    """rma.glmm stops with "Cannot fit ML model" on the zero_treatment_arm edge case."""
    ref = EXTRA["edge"]["zero_treatment_arm"]
    assert "error" in ref["glmm_um_fs"]
    rows = [(c["ai"], c["n1i"], c["ci"], c["n2i"]) for c in ref["counts"]]
    with pytest.raises(BayesmetaError, match="not estimable"):
        glmm.binomial_normal_ml(two_arm(rows))


def test_two_arm_all_double_zero_is_not_estimable():
    data = two_arm([(0, 10, 0, 10), (0, 20, 0, 22), (0, 15, 0, 14)])
    with pytest.raises(BayesmetaError, match="not double-zero, got 0"):
        glmm.binomial_normal_ml(data)


SINGLE_ARM_CSV = "study,events,total\n"
TWO_ARM_CSV = "study,treatment_events,treatment_total,control_events,control_total\n"
CLI_CASES = {  # csv, block, start of the reason
    "single_arm_all_zero": (
        SINGLE_ARM_CSV + "a,0,10\nb,0,20\nc,0,15\n",
        "glmm",
        "no study has both events",
    ),
    "single_arm_all_full": (
        SINGLE_ARM_CSV + "a,10,10\nb,20,20\nc,15,15\n",
        "glmm",
        "no study has both events",
    ),
    "two_arm_all_zero": (
        TWO_ARM_CSV + "a,0,10,0,10\nb,0,20,0,22\nc,0,15,0,14\n",
        "glmm_um_fs",
        "the GLMM needs at least 2 studies that are not double-zero",
    ),
}


@pytest.mark.parametrize("case", CLI_CASES)
def test_classic_cli_reports_the_glmm_as_not_estimable(case, write_csv, tmp_path):
    text, block, reason = CLI_CASES[case]
    out = tmp_path / "classic.json"
    result = CliRunner().invoke(app, ["classic", str(write_csv(text)), "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    assert "Binomial-normal GLMM" in result.output
    assert "not estimable" in result.output
    assert json.loads(out.read_text())["frequentist"][block]["skipped"].startswith(reason)


ISSUE20 = json.loads((REF / "metafor_issue20.json").read_text())["stijnen2010"]


@pytest.mark.parametrize("arm", ["control", "treatment"])
def test_stijnen2010_single_arm_catheter_data(arm):
    """Stijnen, Hamza & Ozdemir (2010, Stat Med 29:3046), Table II: each arm of the catheter
    data (dat.nielweise2007) as single-arm proportions, ``rma.glmm(measure = "PLO")``. The fit
    used to stop with "did not converge": its steps came from the fixed-node score, which is
    not the gradient of the likelihood its line search evaluated. Published values to their 4
    decimals; lme4's tightly maximised nAGQ = 7 deviance (metafor_issue20.R) to 1e-6; rma.glmm
    itself, where lme4 stops at max|grad| ~ 1e-3, to 2e-5."""
    ref = ISSUE20[arm]
    pe = glmm.random_intercept_ml(single_arm(list(zip(ref["events"], ref["total"], strict=True))))
    published = ISSUE20["published"][arm]
    assert pe.estimate == pytest.approx(published["est"], abs=5e-5)
    assert pe.se == pytest.approx(published["se"], abs=5e-5)
    assert pe.tau2 == pytest.approx(published["tau2"], abs=5e-5)
    for key, value in (("est", pe.estimate), ("se", pe.se), ("tau2", pe.tau2)):
        assert value == pytest.approx(ref["refined"][key], rel=1e-6), key
        assert value == pytest.approx(ref["rma_glmm"][key], rel=2e-5), key
    assert pe.k == ref["rma_glmm"]["k"]
