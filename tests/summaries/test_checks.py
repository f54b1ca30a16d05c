"""Model checks (issue 20 item 5) and the improper priors, against the R bayesmeta package.

References: ``tests/reference/bayesmeta_checks.json`` from ``tests/reference/bayesmeta_checks.R``
(R 4.2.2, bayesmeta 3.4 sourced from the cran/bayesmeta mirror, metafor 3.8-1): on bcg
(escalc log odds ratios) and the eight schools (Rubin 1981, not shipped), under bayesmeta's
default priors and under its improper defaults (flat mu, uniform tau):

- ``ppp_integral``: each study's ``P(y_i^rep <= y_i | y)`` with a new study effect,
  integrated over R's posterior of tau with its ``cond.moment`` (``integrate``, 1e-10);
- ``pppvalue_all``: the same from ``pppvalue(..., n = 500, seed = 20261204)``'s replicates
  (Monte Carlo), and ``pppvalue_study1`` its own p-value for study 1;
- posterior summaries of ``bayesmeta(y, sigma, tau.prior = "uniform")`` (mu flat).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import integrate, stats

from bayesmeta.engines import exact
from bayesmeta.engines.draws import Draws
from bayesmeta.errors import BayesmetaError
from bayesmeta.io.examples import load_example
from bayesmeta.model.description import ModelSpec
from bayesmeta.model.priors import parse_prior
from bayesmeta.summaries import checks
from tests.conftest import fails_cleanly

REF = json.loads((Path(__file__).parents[1] / "reference" / "bayesmeta_checks.json").read_text())
PRIORS = {"default": ("normal(0, 2.82)", "half-normal(0.5)"), "flat": ("flat", "uniform-improper")}
CASES = [(d, p) for d in ("bcg", "eight_schools") for p in PRIORS]


def _posterior(dataset: str, priors: str) -> exact.ExactPosterior:
    block = REF[dataset]
    mu, tau = PRIORS[priors]
    v = np.asarray(block["sigma"]) ** 2
    return exact.nnhm_posterior(block["y"], v, prior_mu=mu, prior_tau=tau, study=block["study"])


@pytest.mark.parametrize(("dataset", "priors"), CASES)
def test_posterior_predictive_p_values_equal_r_bayesmeta_integral(dataset, priors) -> None:
    post = _posterior(dataset, priors)
    np.testing.assert_allclose(
        post.predictive_p(), REF[dataset][priors]["ppp_integral"], rtol=0, atol=1e-9
    )
    if priors == "default":
        lml = REF[dataset][priors]["log_marginal_likelihood"]
        assert post.log_marginal_likelihood == pytest.approx(lml, abs=1e-9)


@pytest.mark.parametrize(("dataset", "priors"), [("bcg", "default"), ("eight_schools", "flat")])
def test_posterior_predictive_p_values_within_monte_carlo_error_of_pppvalue(
    dataset, priors
) -> None:
    """R's ``pppvalue`` p-value is a fraction of n = 500 replicates: within 4.5 binomial SEs."""
    block = REF[dataset][priors]
    n = REF["provenance"]["pppvalue_n"]
    ours = _posterior(dataset, priors).predictive_p()
    theirs = np.asarray(block["pppvalue_all"])
    assert block["pppvalue_study1"] == theirs[0]
    se = np.sqrt(ours * (1 - ours) / n)
    assert np.all(np.abs(ours - theirs) <= 4.5 * se + 1e-12), (ours, theirs)


@pytest.mark.parametrize("dataset", ["bcg", "eight_schools"])
def test_flat_and_uniform_improper_posterior_equals_r_bayesmeta(dataset) -> None:
    """tau: R's posterior of tau is computed directly (equal to 1e-7); mu, theta_new and the
    theta_i are mixtures over R's DIRECT grid of tau (Rover 2020, sec. 3.3: a bounded
    divergence, not a tolerance on quantiles), within 5e-3 of their SD here, where ours
    equal brute-force quadrature to 1e-9 (next test)."""
    ref, post = REF[dataset]["flat"], _posterior(dataset, "flat")
    tau = ref["tau"]
    assert post.tau.median == pytest.approx(tau["median"], rel=1e-7)
    assert post.tau.interval() == pytest.approx((tau["lower"], tau["upper"]), rel=1e-7)
    assert post.tau.mean == pytest.approx(tau["mean"], rel=1e-6)
    for ours, theirs in ((post.mu, ref["mu"]), (post.theta_new, ref["theta_new"])):
        sd = theirs["sd"]
        assert ours.sd == pytest.approx(sd, rel=2e-3)
        lo, hi = ours.interval()
        for a, b in ((ours.median, "median"), (lo, "lower"), (hi, "upper")):
            assert abs(a - theirs[b]) < 5e-3 * sd, (b, a, theirs[b])
    np.testing.assert_allclose(
        [post.theta[i].median for i in range(len(post.study))],
        ref["theta_median"],
        atol=5e-3 * ref["mu"]["sd"],
    )
    assert not ref["log_marginal_likelihood"] and math.isnan(post.log_marginal_likelihood)


def test_flat_prior_mu_median_equals_brute_force_quadrature() -> None:
    """Eight schools, flat mu and uniform tau: the median of mu by nested scipy quad."""
    block = REF["eight_schools"]
    y, v = np.asarray(block["y"]), np.asarray(block["sigma"]) ** 2

    def cond(t: float) -> tuple[float, float, float]:
        w = 1 / (v + t * t)
        m = (w * y).sum() / w.sum()
        loglik = 0.5 * (np.log(w).sum() - np.log(w.sum()) - ((w * y * y).sum() - m * m * w.sum()))
        return m, 1 / math.sqrt(w.sum()), loglik

    quad = dict(a=0, b=np.inf, epsabs=0, epsrel=1e-11, limit=400)
    norm = integrate.quad(lambda t: math.exp(cond(t)[2]), **quad)[0]

    def cdf(x: float) -> float:
        def f(t: float) -> float:
            m, s, ll = cond(t)
            return math.exp(ll) / norm * stats.norm.cdf(x, m, s)

        return integrate.quad(f, **quad)[0]

    median = _posterior("eight_schools", "flat").mu.median
    assert cdf(median) == pytest.approx(0.5, abs=1e-9)


def test_improper_priors_parse_and_print() -> None:
    flat, uniform = parse_prior("flat"), parse_prior("Uniform_Improper")
    assert (str(flat), str(uniform)) == ("flat", "uniform-improper")
    assert not flat.proper and not uniform.proper and parse_prior("normal(0, 1)").proper
    assert float(uniform.logpdf(3.0)) == 0.0 and float(uniform.logpdf(-1.0)) == -math.inf
    with pytest.raises(BayesmetaError, match="improper prior has no cdf"):
        flat.ppf(0.5)


def test_uniform_tau_needs_enough_studies_for_a_proper_posterior() -> None:
    """p(y | tau) ~ tau^-(k - p): a flat mu needs k >= 3, a proper one k >= 2."""
    with pytest.raises(BayesmetaError, match=r"posterior is improper.*at least 3 studies"):
        exact.nnhm_posterior([0.1, 0.4], [0.1, 0.2], prior_mu="flat", prior_tau="uniform-improper")
    post = exact.nnhm_posterior(
        [0.1, 0.4], [0.1, 0.2], prior_mu="normal(0, 1)", prior_tau="uniform-improper"
    )
    assert math.isfinite(post.tau.median) and math.isnan(post.log_marginal_likelihood)


def _three_studies(write_csv) -> str:
    return str(write_csv("study,yi,sei\nA,0.1,0.3\nB,0.5,0.4\n"))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--prior-mu", "flat"], "is for --engine exact with --model normal-normal"),
        (["--prior-tau", "uniform-improper", "--engine", "nuts", "--model", "normal-normal"],
         "is for --engine exact"),
        (["--model", "normal-normal", "--prior-mu", "flat", "--bayes-factors"],
         "Bayes factors need proper priors"),
        (["--model", "normal-normal", "--prior-tau", "uniform-improper", "--compare"],
         "Bayes factors need proper priors"),
    ],
)  # fmt: skip
def test_improper_priors_are_refused_in_one_line(args, message) -> None:
    line = fails_cleanly(["fit", "--example", "bcg", *args])
    assert message in line


def test_improper_posterior_is_refused_in_one_line(write_csv) -> None:
    line = fails_cleanly(
        ["fit", _three_studies(write_csv), "--prior-mu", "flat", "--prior-tau", "uniform-improper"]
    )
    assert "posterior is improper" in line and "at least 3 studies (got 2)" in line


def test_draws_predictive_equals_exact_within_monte_carlo_error() -> None:
    """The NUTS path (from draws) on exact independent draws of bcg's normal-normal posterior
    gives the exact p-values within 4.5 Monte Carlo SEs."""
    spec = ModelSpec.describe(load_example("bcg"), model="normal-normal")
    post = exact.nnhm_posterior(spec.normal.y, spec.normal.v, prior_mu=spec.priors.mu,
                                prior_tau=spec.priors.tau)  # fmt: skip
    n = 20_000
    d = post.draws(n, seed=3)
    z = (d["theta"] - d["mu"][:, None]) / d["tau"][:, None]
    posterior = {"mu": d["mu"], "tau": d["tau"], "theta": d["theta"], "z": z}
    draws = Draws(posterior={k: v.reshape(2, n // 2, *v.shape[1:]) for k, v in posterior.items()})
    ours = checks.draws_predictive(spec, draws, seed=5)
    p_exact = post.predictive_p()
    p_draws = np.array([s.p_lower for s in ours.studies])
    assert np.all(np.abs(p_draws - p_exact) <= 4.5 * np.sqrt(p_exact * (1 - p_exact) / n))


def test_integrated_loo_pit_equals_exact_leave_one_out() -> None:
    """Integrated LOO-PIT of ArviZ (PSIS on exact draws of bcg's normal-normal posterior, the
    log likelihood log N(y_i; mu, tau^2 + v_i)) against exact leave-one-out refits:
    ``P(y_i^rep <= y_i | y_-i)`` is the predictive cdf of study i under the exact posterior of
    the other 12 studies, and elpd_loo the sum of their log predictive densities. Every study
    agrees within 4.5 Monte Carlo SEs (at half the draws as the PSIS effective size) and
    every Pareto k is below 0.7; with the plain log likelihood log N(y_i; theta_i, v_i) 12 of
    13 studies had k > 0.7 and TPT Madras's PIT was 0.26 off."""
    spec = ModelSpec.describe(load_example("bcg"), model="normal-normal")
    y, v = spec.normal.y, spec.normal.v
    priors = dict(prior_mu=spec.priors.mu, prior_tau=spec.priors.tau)
    post = exact.nnhm_posterior(y, v, **priors)
    n = 4000
    d = post.draws(n, seed=11)
    z = (d["theta"] - d["mu"][:, None]) / d["tau"][:, None]
    posterior = {"mu": d["mu"], "tau": d["tau"], "theta": d["theta"], "z": z}
    draws = Draws(posterior={k: x.reshape(2, n // 2, *x.shape[1:]) for k, x in posterior.items()})
    ours = checks.draws_predictive(spec, draws, seed=5, loo=True)
    elpd = 0.0
    for i, study in enumerate(ours.studies):
        keep = np.arange(len(y)) != i
        mix = exact.nnhm_posterior(y[keep], v[keep], **priors).theta_new
        predictive = exact.NormalMixture(mix.weight, mix.means, np.sqrt(mix.sds**2 + v[i]))
        exact_pit = float(predictive.cdf(y[i]))
        elpd += float(np.log(predictive.pdf(y[i])))
        se = math.sqrt(exact_pit * (1 - exact_pit) / (n / 2))
        assert abs(study.loo_pit - exact_pit) < 4.5 * se, study
        assert study.pareto_k < checks.PARETO_K, study
    assert ours.high_k() == []
    assert ours.elpd_loo == pytest.approx(elpd, abs=0.05)  # exact: -14.7373
    assert ours.elpd_loo_se > 0 and 0 < ours.p_loo < 3


def test_prior_predictive_equals_quadrature() -> None:
    """bcg, mu ~ N(0, 2.82^2), tau ~ half-normal(0.5): P(|theta| > log 10) =
    int 2 Phi(-log 10 / sqrt(2.82^2 + t^2)) p(t) dt; and P(control arm has 0 or all events)
    averaged over the arms = int [(1 - p)^n + p^n] N(alpha; 0, 10^2) d alpha."""
    data = load_example("bcg")
    spec = ModelSpec.describe(data)
    ours = checks.prior_predictive(spec, seed=7, n=checks.PRIOR_DRAWS)
    half = stats.halfnorm(scale=0.5)
    extreme = integrate.quad(
        lambda t: 2 * stats.norm.cdf(-math.log(10) / math.hypot(2.82, t)) * half.pdf(t), 0, np.inf
    )[0]
    se = math.sqrt(extreme * (1 - extreme) / checks.PRIOR_DRAWS)
    assert abs(ours.extreme - extreme) < 4.5 * se
    assert ours.effect["q0.5"] == pytest.approx(1.0, abs=0.15)
    assert ours.observed_all_or_none == 0.0

    grid = np.linspace(-80.0, 80.0, 32_001)  # alpha (trapezoid; step 0.005)
    p, q = 1 / (1 + np.exp(-grid)), 1 / (1 + np.exp(grid))  # both > 0 on the grid

    def none_or_all(n: int, sd: np.ndarray) -> np.ndarray:
        """int [(1 - p)^n + p^n] N(alpha; 0, sd^2) d alpha for each sd."""
        f = np.exp(n * np.log(q)) + np.exp(n * np.log(p))
        dens = stats.norm.pdf(grid[None, :], 0.0, np.atleast_1d(sd)[:, None])
        return np.trapezoid(f[None, :] * dens, grid, axis=1)

    control = np.mean([none_or_all(int(n), 10.0)[0] for n in data.control_total])
    # treated arms: logit p = alpha + theta, N(0, 10^2 + 2.82^2 + tau^2) given tau
    t, w = np.polynomial.legendre.leggauss(64)
    t, w = 3.0 * (t + 1.0), 3.0 * w  # tau on [0, 6] (half-normal(0.5) mass beyond: 1e-33)
    sd = np.sqrt(100 + 2.82**2 + t**2)
    treated = [float(np.sum(w * half.pdf(t) * none_or_all(int(n), sd)))
               for n in data.treatment_total]  # fmt: skip
    expected = (control + np.mean(treated)) / 2
    m = checks.PRIOR_DRAWS  # draws per arm; arms are independent given the draw
    assert abs(ours.arms_all_or_none - expected) < 4.5 * math.sqrt(expected * (1 - expected) / m)


def test_prior_predictive_refuses_improper_priors() -> None:
    spec = ModelSpec.describe(load_example("bcg"), model="normal-normal", priors={"mu": "flat"})
    with pytest.raises(BayesmetaError, match="prior for mu is improper"):
        checks.prior_predictive(spec, seed=1)


def test_binomial_replicates_give_the_enumerated_mid_p_value(write_csv) -> None:
    """Common-effect binomial model with every draw at alpha = -1, theta = 0.4: the study's
    p_lower is sum over all (a, c) tables of Bin(a; 12, expit(-0.6)) Bin(c; 10, expit(-1))
    [T(a, c) < T_obs] + half of those with T = T_obs (T: escalc log odds ratio); the draws give
    it within 4.5 Monte Carlo SEs."""
    from bayesmeta.io.inputs import load
    from bayesmeta.model.likelihoods.binomial_normal import log_odds_ratio

    data = load(write_csv(
        "study,treatment_events,treatment_total,control_events,control_total\n"
        "A,3,12,0,10\nB,5,12,3,10\n"))  # fmt: skip
    spec = ModelSpec.describe(data, model="binomial-normal", common_effect=True)
    n = 100_000
    posterior = {
        "mu": np.full((2, n // 2), 0.4),
        "theta": np.full((2, n // 2, 2), 0.4),
        "alpha": np.full((2, n // 2, 2), -1.0),
    }
    ours = checks.draws_predictive(spec, Draws(posterior=posterior), seed=2)
    a, c = np.meshgrid(np.arange(13), np.arange(11), indexing="ij")
    pmf = stats.binom.pmf(a, 12, 1 / (1 + math.exp(0.6))) * stats.binom.pmf(c, 10, 1 / (1 + math.e))
    t = log_odds_ratio(a, 12, c, 10)
    for study, (ai, ci) in zip(ours.studies, ((3, 0), (5, 3)), strict=True):
        t_obs = float(log_odds_ratio(ai, 12, ci, 10))
        assert study.observed == pytest.approx(t_obs, rel=1e-14)
        expected = pmf[t < t_obs - 1e-12].sum() + 0.5 * pmf[np.abs(t - t_obs) <= 1e-12].sum()
        assert abs(study.p_lower - expected) < 4.5 * math.sqrt(expected * (1 - expected) / n)


def test_fit_checks_writes_the_json_block(tmp_path) -> None:
    """``fit --checks --json``: the exact engine's p-values and the prior predictive."""
    from typer.testing import CliRunner

    from bayesmeta.cli import app

    out = tmp_path / "fit.json"
    args = ["fit", "--example", "bcg", "--model", "normal-normal", "--checks", "--json", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "Posterior predictive: posterior predictive p-values of the 13 studies" in result.output
    block = json.loads(out.read_text())["checks"]
    ppc = block["posterior_predictive"]
    assert ppc["method"] == "exact" and ppc["flagged"] == []
    spec = ModelSpec.describe(load_example("bcg"), model="normal-normal")
    p = exact.nnhm_posterior(spec.normal.y, spec.normal.v, prior_mu=spec.priors.mu,
                             prior_tau=spec.priors.tau).predictive_p()  # fmt: skip
    assert [s["p_lower"] for s in ppc["studies"]] == pytest.approx(list(p), abs=1e-12)
    assert all(s["loo_pit"] is None for s in ppc["studies"])
    prior = block["prior_predictive"]
    assert prior["draws"] == checks.PRIOR_DRAWS and prior["effect"]["label"] == "odds ratio"
    assert "events" not in prior  # the normal-normal model has no baselines
    flat = tmp_path / "flat.json"
    result = CliRunner().invoke(app, [*args[:-1], str(flat), "--prior-mu", "flat"])
    assert result.exit_code == 0, result.output
    reason = json.loads(flat.read_text())["checks"]["prior_predictive"]["not_run"]
    assert "prior for mu is improper" in reason


@pytest.fixture(scope="module")
def bcg_nuts() -> Any:
    """analyze(bcg, checks=True) with NUTS (binomial-normal; 2 chains x 1000 draws)."""
    import warnings

    import bayesmeta
    from bayesmeta.engines.nuts import SamplerSettings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return bayesmeta.analyze(
            load_example("bcg"),
            settings=SamplerSettings(chains=2, draws=1000, tune=500, seed=4),
            checks=True,
        )


def test_nuts_checks_of_the_binomial_model_end_to_end(bcg_nuts) -> None:
    """analyze(checks=True) with NUTS: the fit gets its per-study log likelihood, every study
    a LOO-PIT value and Pareto k from ArviZ, and the count-based p-values stay within 0.08 of
    the exact normal-normal ones on bcg (large studies: the two models nearly agree)."""
    import bayesmeta

    data, result = load_example("bcg"), bcg_nuts
    assert "log_likelihood" in result.idata.children
    ppc = result.checks.posterior_predictive
    assert ppc.method == "draws" and ppc.elpd_loo is not None and ppc.p_loo > 0
    assert all(0 <= s.loo_pit <= 1 and math.isfinite(s.pareto_k) for s in ppc.studies)
    exact_ppc = bayesmeta.analyze(data, model="normal-normal", checks=True).checks
    ours = np.array([s.p_lower for s in ppc.studies])
    theirs = np.array([s.p_lower for s in exact_ppc.posterior_predictive.studies])
    assert np.max(np.abs(ours - theirs)) < 0.08
    block = result.to_dict()["checks"]
    assert block["posterior_predictive"]["loo"]["high_pareto_k"] == ppc.high_k()
    events = block["prior_predictive"]["events"]
    assert events["observed_all_or_none"] == 0.0 and 0 < events["arms_all_or_none"] < 1


def test_integrated_loo_of_the_binomial_model_equals_exact_leave_one_out(bcg_nuts) -> None:
    """Binomial-normal on bcg: integrated LOO leaves out the treatment arm given the control
    arm, so the exact leave-one-out predictive is
    ``P(r_t^rep < r_t | r_c, y_-i) = int p(a | r_c) int p(theta_new | y_-i)
    P(Bin(n_t, expit(a + theta)) < r_t) dtheta da`` with ``p(theta_new | y_-i)`` from the exact
    binomial engine refitted without study i and ``p(a | r_c)`` the baseline prior times the
    control arm's likelihood (trapezoid grids). ArviZ breaks ties at random, so its PIT is
    within ``[P(<), P(<=)]`` up to Monte Carlo error (4.5 SEs at a quarter of the 2000 draws
    as effective size). Every Pareto k is below 0.7 (with the plain log likelihood: 12 of
    13 above)."""
    from scipy import special

    from bayesmeta.engines import exact_binomial

    ppc = bcg_nuts.checks.posterior_predictive
    assert ppc.high_k() == [] and all(s.pareto_k < checks.PARETO_K for s in ppc.studies)
    spec = ModelSpec.describe(load_example("bcg"))
    d, priors = spec.data, spec.priors
    counts = (d.treatment_events, d.treatment_total, d.control_events, d.control_total)
    rt, nt, rc, nc = (np.asarray(x, dtype=float) for x in counts)
    study = list(d.study)
    for name in ("TPT Madras 1980", "Aronson 1948", "Comstock et al 1976"):
        i = study.index(name)
        keep = np.arange(d.k) != i
        rest = exact_binomial.binomial_normal_posterior(
            rt[keep], nt[keep], rc[keep], nc[keep],
            prior_mu=priors.mu, prior_tau=priors.tau, prior_baseline=priors.baseline,
        ).theta_new  # fmt: skip
        theta = np.linspace(float(rest.ppf(1e-7)), float(rest.ppf(1 - 1e-7)), 1201)
        w_theta = rest.pdf(theta)
        w_theta /= np.trapezoid(w_theta, theta)
        center = math.log((rc[i] + 0.5) / (nc[i] - rc[i] + 0.5))
        sd = 1 / math.sqrt((rc[i] + 0.5) * (nc[i] - rc[i] + 0.5) / (nc[i] + 1))
        a = np.linspace(center - 12 * sd, center + 12 * sd, 401)
        log_a = stats.norm.logpdf(a, 0, 10) + stats.binom.logpmf(rc[i], nc[i], special.expit(a))
        w_a = np.exp(log_a - log_a.max())
        w_a /= np.trapezoid(w_a, a)
        p = special.expit(a[:, None] + theta[None, :])
        weight = w_a[:, None] * w_theta[None, :]
        below, at_most = (
            float(np.trapezoid(np.trapezoid(weight * f, theta, axis=1), a))
            for f in (stats.binom.cdf(rt[i] - 1, nt[i], p), stats.binom.cdf(rt[i], nt[i], p))
        )
        ours = ppc.studies[i]
        tol = 4.5 * math.sqrt(below * (1 - below) / 500)
        assert below - tol < ours.loo_pit < at_most + tol, (ours, below, at_most)


def test_integrated_loo_of_proportions_equals_exact_leave_one_out() -> None:
    """Proportion model on pritz1997_prop (NUTS 2 x 1000): each study's integrated LOO-PIT
    against ``P(r^rep < r | y_-i) = int p(theta_new | y_-i) P(Bin(n, expit theta) < r)
    dtheta`` with ``p(theta_new | y_-i)`` from the exact proportion engine refitted without
    the study (trapezoid grid); ties broken at random, so within ``[P(<), P(<=)]`` up to 4.5
    Monte Carlo SEs (a quarter of the draws as effective size); every Pareto k below 0.7."""
    import warnings

    from scipy import special

    import bayesmeta
    from bayesmeta.engines import exact_binomial
    from bayesmeta.engines.nuts import SamplerSettings

    data = load_example("pritz1997_prop")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = bayesmeta.analyze(
            data, settings=SamplerSettings(chains=2, draws=1000, tune=500, seed=4), checks=True
        )
    ppc = result.checks.posterior_predictive
    assert ppc.high_k() == []
    priors = ModelSpec.describe(data).priors
    r, n = np.asarray(data.events, dtype=float), np.asarray(data.total, dtype=float)
    for i, ours in enumerate(ppc.studies):
        keep = np.arange(data.k) != i
        rest = exact_binomial.proportion_posterior(
            r[keep], n[keep], prior_mu=priors.mu, prior_tau=priors.tau
        ).theta_new
        theta = np.linspace(float(rest.ppf(1e-8)), float(rest.ppf(1 - 1e-8)), 4001)
        w = rest.pdf(theta)
        w /= np.trapezoid(w, theta)
        p = special.expit(theta)
        below, at_most = (
            float(np.trapezoid(w * stats.binom.cdf(x, n[i], p), theta)) for x in (r[i] - 1, r[i])
        )
        tol = 4.5 * math.sqrt(max(below, 0.01) * (1 - below) / 500)
        assert below - tol < ours.loo_pit < at_most + tol, (ours, below, at_most)


def test_odds_ratio_mean_is_infinite_exactly_where_it_diverges() -> None:
    """E[exp(mu)] = int p(tau | y) exp(m(tau) + s(tau)^2 / 2) dtau: with a proper mu prior
    s(tau)^2 stays bounded and the mean is finite even under uniform-improper (equal to this
    integral by scipy quad); with a flat mu s(tau)^2 grows as tau^2 / k, so a tau posterior
    with a polynomial tail (uniform-improper, half-Cauchy) makes it infinite (JSON null)."""
    import bayesmeta
    from bayesmeta.io.output import json_text

    data = load_example("bcg")
    spec = ModelSpec.describe(data, model="normal-normal")
    y, v = spec.normal.y, spec.normal.v
    s0 = 2.82

    def cond(t: float) -> tuple[float, float, float]:
        w = 1 / (v + t * t)
        prec = w.sum() + s0**-2
        m = (w * y).sum() / prec
        var_y = np.diag(v + t * t) + s0**2  # y ~ N(0, D + s0^2 11')
        return m, 1 / prec, float(stats.multivariate_normal(np.zeros(len(y)), var_y).logpdf(y))

    top = cond(0.6)[2]
    norm = integrate.quad(lambda t: math.exp(cond(t)[2] - top), 0, np.inf, limit=200)[0]
    mean = (
        integrate.quad(
            lambda t: math.exp(cond(t)[2] - top + cond(t)[0] + cond(t)[1] / 2), 0, np.inf, limit=200
        )[0]
        / norm
    )
    r = bayesmeta.analyze(data, model="normal-normal", priors={"tau": "uniform-improper"})
    assert r.posterior.pooled.mean == pytest.approx(mean, rel=1e-7)
    assert math.isinf(r.posterior.predictive.mean)  # E[exp(theta_new)]: e^(tau^2 / 2)
    for tau in ("uniform-improper", "half-cauchy(0.5)"):
        r = bayesmeta.analyze(data, model="normal-normal", priors={"mu": "flat", "tau": tau})
        assert math.isinf(r.posterior.pooled.mean) and math.isinf(r.posterior.pooled.sd)
        written = json.loads(json_text(r.to_dict()))
        assert written["posterior"]["odds_ratio"]["mean"] is None
    default = bayesmeta.analyze(data, model="normal-normal").posterior.predictive
    assert math.isfinite(default.mean) and math.isfinite(default.sd)


def test_meta_regression_p_values_equal_the_average_over_exact_draws() -> None:
    """bcg with latitude, exact engine: p_lower_i = E[Phi((y_i - x_i'beta) / sqrt(tau^2 +
    v_i))] over the posterior, here averaged over 10,000 exact draws (within 4.5 Monte Carlo
    SEs of that average)."""
    import bayesmeta
    from bayesmeta.model.moderators import moderators
    from bayesmeta.summaries.exact import fitted_posterior

    data = load_example("bcg")
    mods = moderators(data.covariates, names=["ablat"])
    result = bayesmeta.analyze(data, model="normal-normal", moderators=mods, checks=True)
    ppc = result.checks.posterior_predictive
    assert ppc.method == "exact" and len(ppc.studies) == data.k
    d = fitted_posterior(result.spec).draws(10_000, seed=9)
    y, v = result.spec.normal.y, result.spec.normal.v
    fitted = d["mu"][:, None] + d["ablat"][:, None] * mods.x[:, 0][None, :]
    phi = stats.norm.cdf((y - fitted) / np.sqrt(d["tau"][:, None] ** 2 + v))
    ours = np.array([s.p_lower for s in ppc.studies])
    se = phi.std(axis=0) / math.sqrt(len(phi))
    assert np.all(np.abs(ours - phi.mean(axis=0)) < 4.5 * se + 1e-12)


def test_proportion_replicates_give_the_enumerated_mid_p_value(write_csv) -> None:
    """Single-arm counts, every draw at theta = logit(0.2): p_lower = sum_x Bin(x; n, 0.2)
    [T(x) < T_obs] + half of [T(x) = T_obs], T escalc's PLO (0.5 added at 0 or n events)."""
    from bayesmeta.io.inputs import load
    from bayesmeta.model.likelihoods.proportion import logit_proportion

    data = load(write_csv("study,events,total\nA,0,15\nB,6,20\nC,9,9\n"))
    spec = ModelSpec.describe(data, model="proportion", common_effect=True)
    assert spec.likelihood == "proportion"
    n = 100_000
    theta = math.log(0.2 / 0.8)
    draws = Draws(posterior={"mu": np.full((2, n // 2), theta),
                             "theta": np.full((2, n // 2, 3), theta)})  # fmt: skip
    ours = checks.draws_predictive(spec, draws, seed=3)
    for study, (x_obs, size) in zip(ours.studies, ((0, 15), (6, 20), (9, 9)), strict=True):
        x = np.arange(size + 1)
        pmf, t = stats.binom.pmf(x, size, 0.2), logit_proportion(x, size)
        t_obs = float(logit_proportion(x_obs, size))
        expected = pmf[t < t_obs - 1e-12].sum() + 0.5 * pmf[np.abs(t - t_obs) <= 1e-12].sum()
        se = math.sqrt(max(expected * (1 - expected), 1e-12) / n)
        assert abs(study.p_lower - expected) < 4.5 * se + 1e-12, (study, expected)


def test_rate_replicates_give_the_enumerated_mid_p_value() -> None:
    """Poisson-normal, common effect, every draw at alpha = log 0.002, theta = -0.3 on the first
    nielweise2008 study: p_lower = sum over (x1, x2) of Poisson pmfs [T < T_obs] + half of
    [T = T_obs] (T: escalc's log IRR, 0.5 added to both counts at a zero), sums to 1 - 1e-12."""
    from bayesmeta.model.likelihoods.poisson_normal import log_rate_ratio

    data = load_example("nielweise2008")
    spec = ModelSpec.describe(data, common_effect=True)
    assert spec.likelihood == "poisson-normal"
    n, k, alpha, theta = 100_000, data.k, math.log(0.002), -0.3
    draws = Draws(posterior={"mu": np.full((2, n // 2), theta),
                             "theta": np.full((2, n // 2, k), theta),
                             "alpha": np.full((2, n // 2, k), alpha)})  # fmt: skip
    study = checks.draws_predictive(spec, draws, seed=8).studies[0]
    t1, t2 = float(data.treatment_time[0]), float(data.control_time[0])
    m1, m2 = t1 * math.exp(alpha + theta), t2 * math.exp(alpha)
    x1, x2 = np.meshgrid(np.arange(int(m1 * 5 + 60)), np.arange(int(m2 * 5 + 60)), indexing="ij")
    pmf = stats.poisson.pmf(x1, m1) * stats.poisson.pmf(x2, m2)
    assert pmf.sum() > 1 - 1e-12
    t = log_rate_ratio(x1, t1, x2, t2)
    t_obs = float(log_rate_ratio(data.treatment_events[0], t1, data.control_events[0], t2))
    assert study.observed == pytest.approx(t_obs, rel=1e-14)
    expected = pmf[t < t_obs - 1e-12].sum() + 0.5 * pmf[np.abs(t - t_obs) <= 1e-12].sum()
    assert abs(study.p_lower - expected) < 4.5 * math.sqrt(expected * (1 - expected) / n)
