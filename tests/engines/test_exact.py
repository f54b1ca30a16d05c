"""Exact NNHM posterior: against the reference integration, closed forms, brute force and R.

``tests/reference/NAME.nnhm.json``: the normal-normal model on metafor's ``escalc(measure =
"OR")`` log odds ratios, ``mu ~ N(0, 10^2)``, ``tau ~ HalfNormal(0.5)``, integrated with mu
analytic and tau on a 200,001-point trapezoid grid (``nnhm_ref.py`` of the shared reference
set); accurate to about 1e-4. Datasets and their citations: ``examples/datasets.toml``.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats

from bayesmeta.engines.exact import (
    _tau_quadrature,
    common_effect_posterior,
    metareg_posterior,
    nnhm_posterior,
)
from bayesmeta.errors import BayesmetaError
from bayesmeta.model.moderators import design_matrix
from bayesmeta.model.priors import Prior
from bayesmeta.summaries.exact import study_summaries, summary

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "tests" / "reference"
DATASETS = ["bcg", "li2007", "nielweise2007"]
PRIOR_MU, PRIOR_TAU = "normal(0, 10)", "half-normal(0.5)"


def escalc_log_or(path: Path) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """metafor ``escalc(measure = "OR")`` defaults: 0.5 added to all four cells of a study
    with a zero cell; double-zero (and double-full) studies dropped."""
    y, v, names = [], [], []
    with open(path, newline="") as fh:
        for row in csv.DictReader(fh):
            a, n1, c, n2 = (
                float(row[k])
                for k in ("treatment_events", "treatment_total", "control_events", "control_total")
            )
            b, d = n1 - a, n2 - c
            if (a == 0 and c == 0) or (b == 0 and d == 0):
                continue
            if min(a, b, c, d) == 0:
                a, b, c, d = a + 0.5, b + 0.5, c + 0.5, d + 0.5
            y.append(math.log(a * d / (b * c)))
            v.append(1 / a + 1 / b + 1 / c + 1 / d)
            names.append(row["study"])
    return np.array(y), np.array(v), names


@pytest.fixture(scope="module", params=DATASETS)
def dataset(request) -> tuple[str, np.ndarray, np.ndarray, list[str]]:
    name = request.param
    return (name, *escalc_log_or(ROOT / "examples" / f"{name}.csv"))


@pytest.fixture(scope="module")
def bcg() -> tuple[np.ndarray, np.ndarray, list[str]]:
    return escalc_log_or(ROOT / "examples" / "bcg.csv")


def test_local_escalc_matches_effects_module(dataset):
    effects = pytest.importorskip("bayesmeta.effects")
    from bayesmeta.io.counts import load

    name, y, v, names = dataset
    es = effects.effect_sizes(load(ROOT / "examples" / f"{name}.csv"), measure="OR", drop00=True)
    assert list(es.study) == names
    np.testing.assert_allclose(es.yi, y, rtol=1e-12)
    np.testing.assert_allclose(es.vi, v, rtol=1e-12)


# The reference is accurate to about 1e-4 (trapezoid rule, linear interpolation of the tau cdf);
# the brief asks for 1e-3 and we are within 2e-5 on all three datasets.
@pytest.mark.parametrize("parameter", ["mu", "tau", "theta_new"])
def test_matches_reference_integration(dataset, parameter):
    name, y, v, names = dataset
    ref = json.loads((REFERENCE / f"{name}.nnhm.json").read_text())[parameter]
    post = nnhm_posterior(y, v, prior_mu=PRIOR_MU, prior_tau=PRIOR_TAU, study=names)
    got = getattr(post, parameter)
    assert got.median == pytest.approx(ref["median"], abs=1e-4)
    assert list(got.interval()) == pytest.approx([ref["q025"], ref["q975"]], abs=1e-4)
    if "mean" in ref:
        assert got.mean == pytest.approx(ref["mean"], abs=1e-4)


def test_prob_mu_below_0_matches_reference(dataset):
    name, y, v, _ = dataset
    ref = json.loads((REFERENCE / f"{name}.nnhm.json").read_text())
    post = nnhm_posterior(y, v, prior_mu=PRIOR_MU, prior_tau=PRIOR_TAU)
    assert post.prob_mu_below_0 == pytest.approx(ref["p_mu_below_0"], abs=1e-4)


def test_quadrature_has_converged(dataset):
    """Doubling the panels changes the tau posterior by less than 1e-10."""
    from bayesmeta.engines.exact import _Model

    _, y, v, _ = dataset
    model = _Model(y, v, np.ones((len(y), 1)), np.zeros(1), np.array([0.01]))
    prior = Prior("half-normal", (0.5,))
    coarse, fine = _tau_quadrature(model, prior, 48), _tau_quadrature(model, prior, 96)
    q = np.array([0.025, 0.5, 0.975])
    np.testing.assert_allclose(coarse.ppf(q), fine.ppf(q), atol=1e-10)
    assert coarse.log_norm == pytest.approx(fine.log_norm, abs=1e-10)


def test_brute_force_two_dimensional_grid(bcg):
    """Independent route: the joint density of (mu, tau) on a 2-D grid, no analytic step.

    Trapezoid rule on 1601 x 1601 points, so agreement is to about 1e-5.
    """
    y, v, _ = (a[:5] for a in bcg)
    mu = np.linspace(-6.0, 4.0, 1601)
    tau = np.linspace(0.0, 4.0, 1601)
    M, T = np.meshgrid(mu, tau, indexing="ij")
    sd = np.sqrt(v[None, None, :] + T[..., None] ** 2)
    logp = stats.norm.logpdf(y, M[..., None], sd).sum(-1)
    logp += stats.norm.logpdf(M, 0, 10) + stats.halfnorm.logpdf(T, scale=0.5)
    dens = np.exp(logp - logp.max())
    mass = integrate.trapezoid(integrate.trapezoid(dens, tau, axis=1), mu)
    p_mu = integrate.trapezoid(dens, tau, axis=1) / mass
    p_tau = integrate.trapezoid(dens, mu, axis=0) / mass

    post = nnhm_posterior(y, v, prior_mu=PRIOR_MU, prior_tau=PRIOR_TAU)
    assert post.mu.mean == pytest.approx(integrate.trapezoid(mu * p_mu, mu), abs=1e-5)
    assert post.tau.mean == pytest.approx(integrate.trapezoid(tau * p_tau, tau), abs=1e-5)
    below = mu <= 0
    assert post.prob_mu_below_0 == pytest.approx(
        integrate.trapezoid(p_mu[below], mu[below]), abs=1e-5
    )
    np.testing.assert_allclose(post.mu.pdf(mu[::80]), p_mu[::80], atol=1e-5)
    np.testing.assert_allclose(post.tau.pdf(tau[1::80]), p_tau[1::80], atol=1e-5)


def test_shrunken_study_effects_by_brute_force(bcg):
    """Each study's shrunken effect theta_i: given (mu, tau), theta_i ~ N(B y_i + (1 - B) mu,
    B v_i) with B = tau^2 / (tau^2 + v_i); its posterior mean and SD integrated over a 2-D grid
    of (mu, tau), no analytic step. Checks the engine's variance ``B v + (1 - B)^2 Var(mu)``,
    whose square a plain (1 - B) would miss by far more than the grid's 1e-5."""
    y, v, names = (a[:5] for a in bcg)
    mu = np.linspace(-6.0, 4.0, 1601)
    tau = np.linspace(0.0, 4.0, 1601)
    M, T = np.meshgrid(mu, tau, indexing="ij")
    sd = np.sqrt(v[None, None, :] + T[..., None] ** 2)
    logp = stats.norm.logpdf(y, M[..., None], sd).sum(-1)
    logp += stats.norm.logpdf(M, 0, 10) + stats.halfnorm.logpdf(T, scale=0.5)
    dens = np.exp(logp - logp.max())
    mass = integrate.trapezoid(integrate.trapezoid(dens, tau, axis=1), mu)
    post = nnhm_posterior(y, v, prior_mu=PRIOR_MU, prior_tau=PRIOR_TAU, study=names)
    means, sds = post.theta.moments()
    for i in range(len(y)):
        B = T**2 / (T**2 + v[i])
        m = B * y[i] + (1 - B) * M
        second = B * v[i] + m**2
        e1 = integrate.trapezoid(integrate.trapezoid(dens * m, tau, axis=1), mu) / mass
        e2 = integrate.trapezoid(integrate.trapezoid(dens * second, tau, axis=1), mu) / mass
        assert means[i] == pytest.approx(e1, abs=1e-5)
        assert sds[i] == pytest.approx(np.sqrt(e2 - e1**2), abs=1e-5)


def test_concentrated_posterior_is_resolved():
    """500 simulated studies: the tau posterior fills 1% of the prior's range. Checked against
    a 200,001-point trapezoid rule on [0, 0.5] with mu integrated out in closed form
    (the route of the reference script), which needs no search for the posterior range."""
    rng = np.random.default_rng(11)
    v = rng.uniform(0.005, 0.015, 500)
    y = rng.normal(0.3, np.sqrt(0.05**2 + v))
    tau = np.linspace(0.0, 0.5, 200_001)
    w = 1 / (v[None, :] + tau[:, None] ** 2)
    prec = w.sum(1) + 1 / 100
    m = (w * y).sum(1) / prec
    loglik = 0.5 * (np.log(w).sum(1) - (w * y**2).sum(1) + m**2 * prec - np.log(prec))
    dens = np.exp(loglik - loglik.max()) * stats.halfnorm.pdf(tau, scale=0.5)
    cdf = integrate.cumulative_trapezoid(dens, tau, initial=0)
    cdf /= cdf[-1]
    expected = np.interp([0.025, 0.5, 0.975], cdf, tau)

    post = nnhm_posterior(y, v, prior_mu=PRIOR_MU, prior_tau=PRIOR_TAU)
    got = [post.tau.interval()[0], post.tau.median, post.tau.interval()[1]]
    np.testing.assert_allclose(got, expected, atol=1e-6)
    assert post.tau.interval()[1] - post.tau.interval()[0] < 0.03


def test_common_effect_is_the_conjugate_normal(bcg):
    y, v, _ = bcg
    prec = (1 / v).sum() + 1 / 10**2
    exact = stats.norm((y / v).sum() / prec, prec**-0.5)
    post = common_effect_posterior(y, v, prior_mu=PRIOR_MU)
    assert post.mu.mean == pytest.approx(exact.mean(), abs=1e-12)
    assert post.mu.sd == pytest.approx(exact.std(), abs=1e-12)
    assert list(post.mu.interval()) == pytest.approx(list(exact.ppf([0.025, 0.975])), abs=1e-10)
    assert summary(post.tau) == summary(post.tau, level=0.95)
    assert (post.tau.mean, post.tau.median, post.tau.sd, post.tau.interval()) == (0, 0, 0, (0, 0))
    assert post.theta_new.median == pytest.approx(post.mu.median, abs=1e-10)


def test_flat_prior_common_effect_equals_metafor_inverse_variance(bcg):
    """Flat prior on mu: the posterior is N(IV estimate, IV se^2); R: rma(yi, vi, method="EE")."""
    y, v, _ = bcg
    ref = json.loads((REFERENCE / "bcg.metafor.json").read_text())["iv_fixed"]
    post = common_effect_posterior(y, v, prior_mu="flat")
    assert post.mu.mean == pytest.approx(ref["est"], abs=1e-6)
    assert post.mu.sd == pytest.approx(ref["se"], abs=1e-6)
    assert list(post.mu.interval()) == pytest.approx([ref["ci_lb"], ref["ci_ub"]], abs=1e-6)
    assert math.isnan(post.log_marginal_likelihood)


def test_concentrated_tau_prior_gives_the_common_effect(bcg):
    y, v, _ = bcg
    common = common_effect_posterior(y, v, prior_mu=PRIOR_MU)
    tight = nnhm_posterior(y, v, prior_mu=PRIOR_MU, prior_tau="half-normal(1e-6)")
    assert tight.mu.median == pytest.approx(common.mu.median, abs=1e-8)
    assert list(tight.mu.interval()) == pytest.approx(list(common.mu.interval()), abs=1e-8)
    assert tight.log_marginal_likelihood == pytest.approx(common.log_marginal_likelihood, abs=1e-6)


def test_log_marginal_likelihood_by_direct_integration(bcg):
    """``y ~ N(m 1, diag(v + tau^2) + s^2 11')``, integrated over tau by scipy quad."""
    y, v, _ = (a[:6] for a in bcg)

    def log_lik(t: float) -> float:
        cov = np.diag(v + t**2) + 10.0**2
        return stats.multivariate_normal(np.zeros(len(y)), cov).logpdf(y)

    common = common_effect_posterior(y, v, prior_mu=PRIOR_MU)
    assert common.log_marginal_likelihood == pytest.approx(log_lik(0.0), abs=1e-10)
    shift = log_lik(0.5)
    value, _ = integrate.quad(
        lambda t: math.exp(log_lik(t) - shift) * stats.halfnorm.pdf(t, scale=0.5),
        0,
        np.inf,
        epsabs=1e-13,
    )
    post = nnhm_posterior(y, v, prior_mu=PRIOR_MU, prior_tau=PRIOR_TAU)
    assert post.log_marginal_likelihood == pytest.approx(shift + math.log(value), abs=1e-8)


def test_quantile_and_cdf_are_inverse(bcg):
    y, v, _ = bcg
    post = nnhm_posterior(y, v, prior_mu=PRIOR_MU, prior_tau=PRIOR_TAU)
    q = np.array([0.001, 0.1, 0.5, 0.9, 0.999])
    np.testing.assert_allclose(post.mu.cdf(post.mu.ppf(q)), q, atol=1e-12)
    np.testing.assert_allclose(post.tau.cdf(post.tau.ppf(q)), q, atol=1e-12)
    np.testing.assert_allclose(post.theta_new.cdf(post.theta_new.ppf(q)), q, atol=1e-12)
    grid = np.linspace(0, 5, 20001)
    assert integrate.trapezoid(post.tau.pdf(grid), grid) == pytest.approx(1.0, abs=1e-6)


def test_draws_follow_the_exact_marginals(bcg):
    """40,000 draws: quantiles within 5 Monte Carlo SEs (about 0.003), KS test for tau."""
    y, v, names = bcg
    post = nnhm_posterior(y, v, prior_mu=PRIOR_MU, prior_tau=PRIOR_TAU, study=names)
    d = post.draws(40_000, seed=1)
    assert d["theta"].shape == (40_000, len(y))
    q = [0.025, 0.5, 0.975]
    for key in ("mu", "tau", "theta_new"):
        marginal = getattr(post, key)
        expected = [marginal.interval()[0], marginal.median, marginal.interval()[1]]
        np.testing.assert_allclose(np.quantile(d[key], q), expected, atol=0.015)
    assert stats.kstest(d["tau"], post.tau.cdf).pvalue > 0.001
    theta_means = post.theta.moments()[0]
    np.testing.assert_allclose(d["theta"].mean(axis=0), theta_means, atol=0.005)


def test_shrunken_study_effects_lie_between_estimate_and_mu(bcg):
    y, v, names = bcg
    post = nnhm_posterior(y, v, prior_mu=PRIOR_MU, prior_tau=PRIOR_TAU, study=names)
    assert list(post.study) == names
    for i, yi in enumerate(y):
        lo, hi = sorted([yi, post.mu.mean])
        assert lo <= post.theta[i].mean <= hi


def test_hdi_is_shorter_for_skewed_tau(bcg):
    y, v, _ = bcg
    post = nnhm_posterior(y, v, prior_mu=PRIOR_MU, prior_tau=PRIOR_TAU)
    width = lambda ci: ci[1] - ci[0]  # noqa: E731
    assert width(post.tau.hdi()) < width(post.tau.interval())
    lo, hi = post.tau.hdi()
    assert float(post.tau.cdf(hi) - post.tau.cdf(lo)) == pytest.approx(0.95, abs=1e-8)
    assert float(post.tau.pdf(lo)) == pytest.approx(float(post.tau.pdf(hi)), rel=1e-4)


def test_hdi_is_added_next_to_the_equal_tailed_interval(bcg):
    """``hdi=True`` keeps ``ci95`` equal-tailed and adds ``hdi95`` to every summary, as
    :func:`bayesmeta.summaries.draws.describe` does for NUTS draws; without it there is no
    ``hdi95``."""
    y, v, names = bcg
    post = nnhm_posterior(y, v, prior_mu=PRIOR_MU, prior_tau=PRIOR_TAU, study=names)
    pairs = [
        (n, summary(getattr(post, n), hdi=True), summary(getattr(post, n)))
        for n in ("mu", "tau", "theta_new")
    ]
    both = study_summaries(post.theta, post.study, level=0.95, hdi=True)
    central = study_summaries(post.theta, post.study, level=0.95, hdi=False)
    pairs += [(n, both[n], central[n]) for n in names]
    for name, with_hdi, without in pairs:
        assert set(with_hdi.to_dict()) == {"mean", "median", "sd", "ci95", "hdi95"}, name
        assert set(without.to_dict()) == {"mean", "median", "sd", "ci95"}, name
        assert with_hdi.interval == pytest.approx(without.interval, rel=1e-12), name
        lo, hi = with_hdi.hdi
        assert hi - lo <= with_hdi.interval[1] - with_hdi.interval[0] + 1e-9, name
    lo, hi = post.tau.interval()
    assert float(post.tau.cdf(lo)) == pytest.approx(0.025, abs=1e-10)
    assert float(post.tau.cdf(hi)) == pytest.approx(0.975, abs=1e-10)


def test_regression_hdi_is_added_next_to_the_equal_tailed_interval(bcg):
    y, v, _ = bcg
    x = np.column_stack([np.ones(len(y)), np.arange(len(y)) - 6.0])
    args = {"prior_beta": PRIOR_MU, "prior_tau": PRIOR_TAU, "names": ["intercept", "slope"]}
    post = metareg_posterior(y, v, x, **args)
    for name in ("intercept", "slope"):
        both, central = summary(post.coefficient(name), hdi=True), summary(post.coefficient(name))
        assert both.interval == central.interval
        assert both.hdi is not None and central.hdi is None
    assert summary(post.predict([1.0, 0.0]), hdi=True).hdi is not None


def test_hdi_of_a_normal_is_the_central_interval(bcg):
    y, v, _ = bcg
    post = common_effect_posterior(y, v, prior_mu=PRIOR_MU)
    assert post.mu.hdi() == pytest.approx(post.mu.interval(), abs=1e-6)


@pytest.mark.parametrize("prior", ["half-cauchy(1)", "uniform(0, 2)", "lognormal(-1.28, 0.87)"])
def test_other_tau_priors_give_proper_posteriors(prior):
    """Two studies and a heavy-tailed or bounded prior: quadrature still sums to 1."""
    post = nnhm_posterior([0.1, 0.9], [0.05, 0.08], prior_mu=PRIOR_MU, prior_tau=prior)
    grid = np.linspace(0, 60, 600001)
    assert integrate.trapezoid(post.tau.pdf(grid), grid) == pytest.approx(1.0, abs=2e-3)
    assert 0 < post.tau.interval()[0] < post.tau.median < post.tau.interval()[1]
    if prior.startswith("uniform"):
        assert post.tau.interval()[1] < 2


def log_tau_quantiles(y, v, prior, q=(0.025, 0.5, 0.975)):
    """Independent route for the tau posterior: mu integrated in closed form (normal(0, 10)
    prior, as the reference script), trapezoid rule on 400,001 points of log tau over
    [1e-30, 1e30], where a posterior spread over decades is smooth."""
    log_tau = np.linspace(-30 * math.log(10), 30 * math.log(10), 400_001)
    tau = np.exp(log_tau)
    w = 1 / (v[None, :] + tau[:, None] ** 2)
    prec = w.sum(1) + 1 / 100
    m = (w * y).sum(1) / prec
    loglik = 0.5 * (np.log(w).sum(1) - (w * y**2).sum(1) + m**2 * prec - np.log(prec))
    logp = loglik + Prior(*prior).logpdf(tau) + log_tau
    cdf = integrate.cumulative_trapezoid(np.exp(logp - logp.max()), log_tau, initial=0)
    return np.exp(np.interp(q, cdf / cdf[-1], log_tau))


@pytest.mark.parametrize(
    "prior", [("half-normal", (1e300,)), ("half-cauchy", (1e300,)), ("uniform", (0.0, 1e300))]
)
def test_huge_tau_prior_scale_is_flat_over_the_likelihood(bcg, prior):
    """half-normal(1e300) used to fail with "zero-size array to reduction operation minimum"
    (tau^2 overflowed on the prior's own scale). Such a prior is flat where the likelihood
    lives, so the posterior is that of a flat prior on tau (proper with 13 studies)."""
    y, v, _ = bcg
    post = nnhm_posterior(y, v, prior_mu=PRIOR_MU, prior_tau=Prior(*prior))
    got = [post.tau.interval()[0], post.tau.median, post.tau.interval()[1]]
    np.testing.assert_allclose(got, log_tau_quantiles(y, v, ("uniform", (0.0, 1e6))), rtol=1e-6)
    moderate = nnhm_posterior(y, v, prior_mu=PRIOR_MU, prior_tau="half-normal(1e5)")
    assert post.mu.interval() == pytest.approx(moderate.mu.interval(), rel=1e-8)


def test_heavy_tailed_tau_prior_with_a_tiny_scale(bcg):
    """half-cauchy(1e-5): the prior's median is far below the posterior, which sits near
    u = 1 of a map scaled by it. The posterior median used to fall outside its own 95% CrI."""
    y, v, _ = bcg
    post = nnhm_posterior(y, v, prior_mu=PRIOR_MU, prior_tau="half-cauchy(1e-5)")
    got = [post.tau.interval()[0], post.tau.median, post.tau.interval()[1]]
    np.testing.assert_allclose(got, log_tau_quantiles(y, v, ("half-cauchy", (1e-5,))), rtol=1e-6)


@pytest.mark.parametrize(
    ("prior", "message"),
    [
        ("half-normal(1e300)", "still has mass beyond 1e\\+100"),
        ("half-normal(1e5)", "spreads its central 95% over more than 4 orders of magnitude"),
    ],
)
def test_tau_prior_too_wide_for_one_study_is_an_error(prior, message):
    """One study cannot bound tau: the posterior follows the prior over many decades."""
    with pytest.raises(BayesmetaError, match=message) as info:
        nnhm_posterior([0.3], [0.1], prior_mu=PRIOR_MU, prior_tau=prior)
    assert "the prior for tau (half-normal(1" in str(info.value)
    assert "is too wide for these data" in str(info.value)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"prior_mu": "half-normal(1)"}, r"normal prior for mu .*, e\.g\. normal\(0, 10\)"),
        ({"prior_tau": "normal(0, 1)"}, "no mass below 0"),
        ({"v": [0.1, 0.0]}, "variances must be positive"),
        ({"v": [0.1]}, "differ in length"),
        ({"study": ["a", "a"]}, "distinct study names"),
    ],
)
def test_rejects_bad_input(kwargs, message):
    args = {"y": [0.1, 0.2], "v": [0.1, 0.2], "prior_mu": PRIOR_MU, "prior_tau": PRIOR_TAU}
    with pytest.raises(BayesmetaError, match=message):
        nnhm_posterior(**{**args, **kwargs})


# ---------------------------------------------------------------------------- meta-regression


def test_non_normal_mu_prior_message_suggests_what_the_cli_accepts(write_csv):
    """The message suggests what the CLI accepts: a normal prior, or the improper flat one
    (a registry family since issue 20), and NUTS for other families."""
    from typer.testing import CliRunner

    from bayesmeta.cli import app

    path = write_csv("study,yi,vi\na,0.1,0.1\nb,0.3,0.2\nc,-0.2,0.15\n")
    args = ["fit", str(path), "--engine", "exact", "--prior-mu", "half-normal(1)"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "e.g. normal(0, 10), or flat;" in result.output
    assert "--engine nuts" in result.output


def test_intercept_only_regression_is_the_random_effects_model(bcg):
    y, v, _ = bcg
    reg = metareg_posterior(
        y, v, np.ones((len(y), 1)), prior_beta=PRIOR_MU, prior_tau=PRIOR_TAU, names=["mu"]
    )
    post = nnhm_posterior(y, v, prior_mu=PRIOR_MU, prior_tau=PRIOR_TAU)
    assert reg.coefficient("mu").interval() == pytest.approx(post.mu.interval(), abs=1e-12)
    assert reg.log_marginal_likelihood == pytest.approx(post.log_marginal_likelihood, abs=1e-12)


def test_ablat_slope_agrees_with_metafor_reml(bcg):
    """R 4.2.2, metafor 3.8-1: ``rma(yi, vi, mods = ~ablat, data = escalc("OR", ...),
    method = "REML")``: slope -0.0315336, se 0.0062764, tau^2 0.0504.

    REML plugs in one tau (0.22) while the posterior averages over tau | y (median about 0.26
    here), so the two agree in location but the posterior SD is larger than the REML SE. With
    vague priors (normal(0, 10) on both coefficients is flat over the likelihood's range) we
    require the REML slope within 0.5 posterior SD of the posterior median, and the posterior SD
    between 1 and 2 REML standard errors.
    """
    y, v, names = bcg
    ref = json.loads((REFERENCE / "bcg.metafor.json").read_text())["metareg_ablat_reml"]
    covariates = pd.read_csv(ROOT / "examples" / "bcg.csv")
    X, labels = design_matrix(covariates, ["ablat"])
    post = metareg_posterior(
        y, v, X, prior_beta="normal(0, 10)", prior_tau="half-normal(1)", names=labels, study=names
    )
    slope = post.coefficient("ablat")
    assert abs(slope.median - ref["slope"]) < 0.5 * slope.sd
    assert ref["se_slope"] < slope.sd < 2 * ref["se_slope"]
    intercept = post.coefficient("intercept")
    assert abs(intercept.median - ref["intercept"]) < 0.5 * intercept.sd
    assert float(slope.cdf(0.0)) > 0.99


def test_regression_draws_match_the_summaries(bcg):
    y, v, _ = bcg
    covariates = pd.read_csv(ROOT / "examples" / "bcg.csv")
    X, labels = design_matrix(covariates, ["ablat"])
    post = metareg_posterior(y, v, X, prior_beta=PRIOR_MU, prior_tau=PRIOR_TAU, names=labels)
    d = post.draws(20_000, seed=3)
    assert d["ablat"].mean() == pytest.approx(post.coefficient("ablat").mean, abs=1e-4)
    fitted = post.predict([1.0, 40.0], new_study=False)
    expected = d["intercept"] + 40 * d["ablat"]
    assert fitted.median == pytest.approx(np.median(expected), abs=0.01)


def test_design_matrix_codes_text_columns_against_the_first_level():
    frame = pd.DataFrame({"dose": [1.0, 2.0, 3.0], "alloc": ["random", "alternate", "random"]})
    X, labels = design_matrix(frame, ["dose", "alloc"])
    assert labels == ("intercept", "dose", "alloc[random]")
    np.testing.assert_array_equal(X[:, 2], [1, 0, 1])
    with pytest.raises(BayesmetaError, match="unknown covariate 'latitude'"):
        design_matrix(frame, ["latitude"])


def test_regression_rejects_collinear_columns():
    X = np.column_stack([np.ones(3), np.arange(3.0), 2 * np.arange(3.0)])
    with pytest.raises(BayesmetaError, match="linearly dependent"):
        metareg_posterior(
            [0.1, 0.2, 0.3], [0.1, 0.1, 0.1], X, prior_beta=PRIOR_MU, prior_tau=PRIOR_TAU
        )


def test_one_coefficient_conditional_equals_batched_linear_algebra_bit_for_bit(
    monkeypatch,
) -> None:
    """The random-effects model's conditional posterior takes a scalar path; its numbers are
    those of the batched Cholesky/solve path that meta-regressions take, to the last bit."""
    from bayesmeta.engines import exact
    from bayesmeta.engines.exact import _Model

    rng = np.random.default_rng(12)
    for _ in range(50):
        k = int(rng.integers(2, 40))
        flat = rng.random() < 0.3
        model = _Model(
            y=rng.normal(size=k),
            v=rng.uniform(0.001, 2.0, k),
            X=np.ones((k, 1)),
            prior_mean=rng.normal(size=1),
            prior_prec=np.array([0.0 if flat else 1 / rng.uniform(0.5, 100) ** 2]),
        )
        tau = np.concatenate([rng.uniform(0, 3, 300), [0.0, 1e-300, 1e100]])
        fast = model.conditional(tau)
        with monkeypatch.context() as m:
            m.setattr(exact, "_solve_one", exact._solve)
            general = model.conditional(tau)
        for name in ("loglik", "mean", "cov"):
            np.testing.assert_array_equal(getattr(fast, name), getattr(general, name))
