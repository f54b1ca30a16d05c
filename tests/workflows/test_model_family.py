"""Issue 4 through the analysis API and the CLI: the normal-normal model (exact and NUTS),
reported effect sizes, meta-regression, subgroups and the random- vs common-effect comparison.

References: tests/reference/*.nnhm.json (exact NNHM posterior, mu ~ N(0, 10^2),
tau ~ HalfNormal(0.5), double-zero studies dropped; accurate to ~1e-4) and metafor's REML
meta-regression of bcg on ablat (tests/reference/bcg.metafor.json, metareg_ablat_reml).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from bayesmeta import load
from bayesmeta.cli import app
from bayesmeta.engines.nuts import SamplerSettings
from bayesmeta.io.inputs import load as load_any
from bayesmeta.model.description import normal_inputs
from bayesmeta.model.moderators import moderators
from bayesmeta.model.priors import PriorSet, parse_prior
from bayesmeta.workflows.analyze import analyze
from tests.conftest import EXAMPLES, REFERENCE, TWO_ARM, reference

runner = CliRunner()
NNHM_PRIORS = PriorSet(mu=parse_prior("normal(0, 10)"), tau=parse_prior("half-normal(0.5)"))


@pytest.mark.parametrize("name", TWO_ARM)
def test_exact_engine_matches_the_reference_integration(name: str) -> None:
    result = analyze(load(EXAMPLES / f"{name}.csv"), model="normal-normal", priors=NNHM_PRIORS)
    ref = reference(name, "nnhm")
    post = result.posterior
    assert result.engine == "exact"
    assert len(post.theta) == ref["k"]  # double-zero studies left out, as in the reference
    for ours, theirs in (
        (post.mu, ref["mu"]),
        (post.tau, ref["tau"]),
        (post.theta_new, ref["theta_new"]),
    ):
        assert ours.median == pytest.approx(theirs["median"], abs=1e-3)
        assert ours.interval[0] == pytest.approx(theirs["q025"], abs=1e-3)
        assert ours.interval[1] == pytest.approx(theirs["q975"], abs=1e-3)
    assert post.prob_mu_below_0 == pytest.approx(ref["p_mu_below_0"], abs=1e-3)


@pytest.mark.sampling
def test_nuts_engine_agrees_with_exact_engine_within_monte_carlo_error() -> None:
    import arviz_stats as azs

    data = load(EXAMPLES / "bcg.csv")
    exact = analyze(data, model="normal-normal", priors=NNHM_PRIORS)
    nuts = analyze(
        data,
        model="normal-normal",
        engine="nuts",
        priors=NNHM_PRIORS,
        settings=SamplerSettings(seed=3),
        frequentist=("random_dl",),
    )
    assert nuts.diagnostics.converged
    for var in ("mu", "tau"):
        draws = np.asarray(nuts.fit.idata["posterior"][var])
        ours, theirs = getattr(nuts.posterior, var), getattr(exact.posterior, var)
        for q, a, b in (
            (0.025, ours.interval[0], theirs.interval[0]),
            (0.5, ours.median, theirs.median),
            (0.975, ours.interval[1], theirs.interval[1]),
        ):
            tol = 4 * float(azs.mcse(draws, method="quantile", prob=q))  # exact has no MC error
            assert a == pytest.approx(b, abs=tol), (var, q)


def _bcg_reported(tmp_path, kind: str):
    inputs = normal_inputs(load(EXAMPLES / "bcg.csv"))
    y, v, study = inputs.y, inputs.v, inputs.study
    se = np.sqrt(v)
    if kind == "log_or":
        frame = pd.DataFrame({"study": study, "log_or": y, "se": se})
    else:  # a ratio with its 95% CI, as papers report it
        frame = pd.DataFrame(
            {
                "study": study,
                "or": np.exp(y),
                "ci_lower": np.exp(y - 1.959963984540054 * se),
                "ci_upper": np.exp(y + 1.959963984540054 * se),
            }
        )
    path = tmp_path / f"bcg_{kind}.csv"
    frame.to_csv(path, index=False, float_format="%.12g")
    return path


@pytest.mark.parametrize("kind", ["log_or", "or_ci"])
def test_reported_effects_give_the_same_posterior_as_counts(tmp_path, kind: str) -> None:
    counts = analyze(load(EXAMPLES / "bcg.csv"), model="normal-normal", priors=NNHM_PRIORS)
    out = tmp_path / "out.json"
    result = runner.invoke(
        app,
        [
            "fit",
            str(_bcg_reported(tmp_path, kind)),
            "--prior-mu",
            "normal(0, 10)",
            "--json",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())
    assert doc["model"] == "normal-normal" and doc["engine"] == "exact"
    assert doc["posterior"]["mu"]["median"] == pytest.approx(counts.posterior.mu.median, abs=1e-8)
    assert doc["posterior"]["odds_ratio"]["ci95"] == pytest.approx(
        counts.posterior.pooled.interval, rel=1e-8
    )


def test_exact_meta_regression_slope_agrees_with_metafor_reml(tmp_path) -> None:
    """Bayes averages over tau, REML plugs one in: the slopes should agree within a fraction
    of a posterior SD (0.5 SD) and the posterior SD should not be below the REML SE."""
    out = tmp_path / "reg.json"
    result = runner.invoke(
        app,
        [
            "fit",
            "--example",
            "bcg",
            "--model",
            "normal-normal",
            "--covariate",
            "ablat",
            "--prior-mu",
            "normal(0, 10)",
            "--json",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    slope = json.loads(out.read_text())["posterior"]["regression"]["coefficients"]["ablat"]
    ref = reference("bcg", "metafor")["metareg_ablat_reml"]
    assert slope["median"] == pytest.approx(ref["slope"], abs=0.5 * slope["sd"])
    assert slope["sd"] >= ref["se_slope"]
    intercept = json.loads(out.read_text())["posterior"]["regression"]["coefficients"]["intercept"]
    assert intercept["median"] == pytest.approx(ref["intercept"], abs=0.5 * intercept["sd"])
    # the frequentist meta-regression beside it: metafor rma(yi, vi, mods = ~ ablat), REML
    freq = json.loads(out.read_text())["frequentist_meta_regression"]["fits"]["random_reml"]
    metafor = json.loads((REFERENCE / "metafor_issue20.json").read_text())
    reml = metafor["metareg"]["bcg"]["regressions"]["ablat"]["REML_z"]
    assert freq["coefficients"]["ablat"]["estimate"] == pytest.approx(reml["est"][1], rel=1e-6)
    assert freq["qm"] == pytest.approx(reml["QM"], rel=1e-6)
    assert "Meta-regression tests" in result.output  # the terminal shows it too


@pytest.mark.sampling
def test_binomial_normal_meta_regression_slope_is_reported_and_close_to_reml() -> None:
    data = load(EXAMPLES / "bcg.csv")
    result = analyze(
        data,
        moderators=moderators(data.covariates, names=["ablat"]),
        settings=SamplerSettings(seed=5),
        frequentist=("random_dl",),
    )
    slope = result.posterior.coefficients["ablat"]
    ref = reference("bcg", "metafor")["metareg_ablat_reml"]
    # A different likelihood (exact binomial vs normal approximation): within 1 posterior SD.
    assert slope.median == pytest.approx(ref["slope"], abs=slope.sd)
    assert slope.prob_below_0 > 0.99


def test_subgroups_exact_cell_means_match_separate_normal_normal_fits_with_common_tau() -> None:
    """With a common tau, each subgroup's mu is a coefficient of a cell-means regression; its
    difference to the reference level equals the posterior of mu_b - mu_a (exact both ways)."""
    data = load(EXAMPLES / "bcg.csv")
    mods = moderators(data.covariates, subgroup="alloc")
    result = analyze(data, model="normal-normal", priors=NNHM_PRIORS, moderators=mods)
    sub = result.posterior.subgroups
    assert list(sub) == ["alternate", "random", "systematic"]
    diff = result.posterior.differences["random - alternate"].summary
    mu_a, mu_r = sub["alternate"].mu, sub["random"].mu
    assert diff.mean == pytest.approx(mu_r.mean - mu_a.mean, abs=1e-6)
    # Studies are assigned to their level: random allocation has 7 of the 13 trials.
    assert int((mods.group == 1).sum()) == 7


def test_separate_tau_subgroups_are_independent_fits() -> None:
    data = load(EXAMPLES / "bcg.csv")
    mods = moderators(data.covariates, subgroup="alloc", separate_tau=True)
    result = analyze(data, model="normal-normal", priors=NNHM_PRIORS, moderators=mods)
    keep = np.asarray(data.covariates["alloc"]) == "random"
    inputs = normal_inputs(load(EXAMPLES / "bcg.csv"))
    y, v = inputs.y, inputs.v
    from bayesmeta.engines.exact import nnhm_posterior

    alone = nnhm_posterior(y[keep], v[keep], prior_mu=NNHM_PRIORS.mu, prior_tau=NNHM_PRIORS.tau)
    level = result.posterior.subgroups["random"]
    assert level.mu.median == pytest.approx(alone.mu.median, abs=1e-10)
    assert level.tau.interval == pytest.approx(alone.tau.interval(), abs=1e-10)


def test_exact_bayes_factor_strongly_favours_random_effects_on_bcg() -> None:
    result = analyze(
        load(EXAMPLES / "bcg.csv"), model="normal-normal", priors=NNHM_PRIORS, compare=True
    )
    random_ = result.log_marginal_likelihood
    common = analyze(
        load(EXAMPLES / "bcg.csv"), model="normal-normal", priors=NNHM_PRIORS, common_effect=True
    ).log_marginal_likelihood
    assert result.comparison.log_bf_random_vs_common == pytest.approx(random_ - common)
    assert result.comparison.log_bf_random_vs_common > 10  # I^2 = 93%


@pytest.mark.sampling
def test_loo_comparison_favours_random_effects_on_bcg() -> None:
    result = analyze(
        load(EXAMPLES / "bcg.csv"),
        model="normal-normal",
        engine="nuts",
        priors=NNHM_PRIORS,
        compare=True,
        settings=SamplerSettings(seed=2),
        frequentist=("random_dl",),
    )
    c = result.comparison.to_dict()
    assert c["method"] == "psis_loo"
    assert c["elpd_diff_random_minus_common"] == pytest.approx(
        c["elpd_loo_random"] - c["elpd_loo_common"]
    )
    # The two largest trials dominate the common-effect fit, so the SE of the difference is
    # large (and Pareto k high); the difference still exceeds one SE.
    assert c["elpd_diff_random_minus_common"] > c["se_diff"]
    assert c["pareto_k_max"] > 0


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--covariate", "nope"], "unknown covariate"),
        (["--separate-tau"], "needs --subgroup"),
        (
            ["--subgroup", "year", "--model", "normal-normal", "--save-posterior", "x.nc"],
            "needs draws",
        ),
        (["--engine", "exact", "--covariate", "ablat"], "has no covariates"),
        (["--model", "proportion"], "needs single-arm"),
    ],
)
def test_model_options_errors_are_one_line_exit_2(args: list[str], fragment: str) -> None:
    result = runner.invoke(app, ["fit", "--example", "bcg", *args])
    assert result.exit_code == 2, result.output
    assert fragment in result.output
    assert len([line for line in result.output.splitlines() if line.strip()]) == 1


def test_reported_input_is_detected_and_validated(write_csv) -> None:
    data = load_any(write_csv("study,hr,ci_lower,ci_upper\nA,0.8,0.6,1.1\nB,0.7,0.5,0.9\n"))
    assert data.measure == "HR"
    result = runner.invoke(
        app, ["fit", str(write_csv("study,log_hr,se\nA,-0.2,0\nB,0.1,0.2\n", "bad.csv"))]
    )
    assert result.exit_code == 2
    assert "row 1" in result.output


def test_exact_hdi_is_added_beside_the_equal_tailed_interval(tmp_path) -> None:
    """--hdi keeps ci95 equal-tailed (so exp(ci95) is the OR interval) and adds hdi95."""
    out = tmp_path / "hdi.json"
    args = ["fit", "--example", "bcg", "--model", "normal-normal", "--prior-mu", "normal(0, 10)"]
    assert runner.invoke(app, [*args, "--hdi", "--json", str(out)]).exit_code == 0
    post = json.loads(out.read_text())["posterior"]
    ref = reference("bcg", "nnhm")
    assert post["tau"]["ci95"] == pytest.approx([ref["tau"]["q025"], ref["tau"]["q975"]], abs=1e-3)
    lo, hi = post["tau"]["hdi95"]
    assert hi - lo < post["tau"]["ci95"][1] - post["tau"]["ci95"][0]  # tau is right-skewed
    assert post["odds_ratio"]["ci95"] == pytest.approx(np.exp(post["mu"]["ci95"]), rel=1e-12)
    assert "hdi95" in post["odds_ratio"]
