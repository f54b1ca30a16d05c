"""Absolute effects from the posterior (``--baseline-risk``) against a long Stan run.

Reference: ``tests/reference/stan_absolute.json``, written by
``Rscript tests/reference/stan_absolute.R`` (R 4.2.2, rstan 2.21; 4 chains x 9,000 draws of
the binomial-normal model of ``tests/reference/README.md`` on bcg, Colditz et al. 1994), with
the same transformation of its draws at control risks 0.05 and 0.20: treated risk
``plogis(qlogis(p0) + theta)``, ``1000 (risk - p0)``, ``risk / p0`` for ``theta = mu`` and
``theta_new``. Our run is a seeded NUTS fit (4 chains x 2,000 draws); each quantile is
compared within 3.5 combined Monte Carlo SEs: ours from ArviZ (``mcse(method="quantile")`` on
our chains), Stan's scaled from ours by the square root of the ratio of draws (36,000 vs
8,000), as both samplers are about equally efficient per draw on this model.

The control risk from the studies (``--baseline-risk studies``) is the same script's
transformation of every (draw, study) pair of Stan's ``alpha`` and ``mu`` / ``theta_new``;
those quantiles are compared on the probability scale (the share of our pairs below Stan's
quantile against its level), within 3.5 combined Monte Carlo SEs of that share. The
probability of a benefit of at least 10 fewer events per 1,000 likewise.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy import special

from bayesmeta import load
from bayesmeta.engines.nuts import SamplerSettings
from bayesmeta.errors import OptionError
from bayesmeta.model.priors import PriorSet, parse_prior
from bayesmeta.summaries.absolute import Benefit, absolute_effects, parse_baseline_risks
from bayesmeta.workflows.analyze import analyze
from tests.conftest import EXAMPLES, fails_cleanly

ROOT = Path(__file__).resolve().parents[2]
REF = json.loads((ROOT / "tests" / "reference" / "stan_absolute.json").read_text())
PRIORS = PriorSet(
    mu=parse_prior("normal(0, 10)"),
    tau=parse_prior("half-normal(0.5)"),
    baseline=parse_prior("normal(0, 10)"),
)
RISKS = (0.05, 0.20)
QUANTILES = {"q025": 0.025, "median": 0.5, "q975": 0.975}


@pytest.fixture(scope="module")
def bcg_fit():
    return analyze(
        load(EXAMPLES / "bcg.csv"),
        priors=PRIORS,
        settings=SamplerSettings(seed=20261127),
        baseline_risks=(*RISKS, "studies"),
        benefit=Benefit(10),
    )


def _transformed(p0: float, theta: np.ndarray) -> dict[str, np.ndarray]:
    risk = special.expit(special.logit(p0) + theta)
    return {
        "treated_risk": risk,
        "risk_difference_per_1000": 1000 * (risk - p0),
        "risk_ratio": risk / p0,
    }


@pytest.mark.sampling
def test_absolute_effects_match_stan_within_monte_carlo_error(bcg_fit) -> None:
    import arviz_stats as azs

    result = bcg_fit
    assert result.diagnostics.converged, result.diagnostics.problems
    post = result.fit.idata["posterior"]
    chains = {"pooled": np.asarray(post["mu"]), "new_study": np.asarray(post["theta_new"])}
    scale_ref = np.sqrt(chains["pooled"].size / REF["draws"])
    ours = result.absolute.to_dict()["baseline_risks"]
    for p0 in RISKS:
        key = format(p0, "g")
        for of, theta in chains.items():
            mine, ref = ours[key][of], REF["baseline_risks"][format(p0)][of]
            for quantity, draws in _transformed(p0, theta).items():
                summary = mine[quantity]
                values = {
                    "q025": summary["ci95"][0],
                    "median": summary["median"],
                    "q975": summary["ci95"][1],
                }
                for q, prob in QUANTILES.items():
                    mcse = float(azs.mcse(draws, method="quantile", prob=prob))
                    tol = 3.5 * mcse * np.sqrt(1 + scale_ref**2)
                    assert values[q] == pytest.approx(ref[quantity][q], abs=tol), (
                        p0,
                        of,
                        quantity,
                        q,
                        tol,
                    )
            rd = ref["risk_difference_per_1000"]["median"]
            nnt = mine["nnt"]
            assert mine["nnt_direction"] == "one event fewer per nnt treated"
            mcse = float(
                azs.mcse(
                    1000 * (special.expit(special.logit(p0) + theta) - p0),
                    method="quantile",
                    prob=0.5,
                )
            )
            assert nnt == pytest.approx(1000 / abs(rd), abs=3.5 * 1000 / rd**2 * mcse * 1.1)


def _share_within_mcse(per_draw, target: float, scale_ref: float) -> None:
    """The mean over draws of ``per_draw`` (chains x draws) equals ``target`` within 3.5
    combined Monte Carlo SEs (ours from ArviZ, Stan's scaled by the ratio of draws)."""
    import arviz_stats as azs

    mcse = float(azs.mcse(np.asarray(per_draw, dtype=float), method="mean"))
    tol = 3.5 * mcse * np.sqrt(1 + scale_ref**2) + 1e-12
    assert float(np.mean(per_draw)) == pytest.approx(target, abs=tol)


@pytest.mark.sampling
def test_control_risk_from_the_studies_matches_stan(bcg_fit) -> None:
    result = bcg_fit
    post = result.fit.idata["posterior"]
    alpha = np.asarray(post["alpha"])  # chains x draws x studies
    scale_ref = np.sqrt(alpha[..., 0].size / REF["draws"])
    ours = result.absolute.to_dict()
    assert "posterior predictive control risk" in ours["studies"]
    for of, name in (("pooled", "mu"), ("new_study", "theta_new")):
        theta = np.asarray(post[name])[..., None]
        p0 = special.expit(alpha)
        pairs = {
            "control_risk": p0,
            "treated_risk": special.expit(alpha + theta),
            "risk_difference_per_1000": 1000 * (special.expit(alpha + theta) - p0),
            "risk_ratio": special.expit(alpha + theta) / p0,
        }
        mine, ref = ours["baseline_risks"]["studies"][of], REF["baseline_risks"]["studies"][of]
        for quantity, values in pairs.items():
            summary = mine[quantity]
            assert summary["median"] == pytest.approx(np.median(values), rel=1e-12)
            for q, prob in QUANTILES.items():
                below = (values <= ref[quantity][q]).mean(axis=-1)  # per draw
                _share_within_mcse(below, prob, scale_ref)
        rd = pairs["risk_difference_per_1000"]
        assert mine["p_benefit"] == pytest.approx((rd <= -10).mean(), rel=1e-12)
        _share_within_mcse((rd <= -10).mean(axis=-1), ref["p_benefit_10"], scale_ref)
    for p0 in RISKS:
        for of, name in (("pooled", "mu"), ("new_study", "theta_new")):
            rd = 1000 * (special.expit(special.logit(p0) + np.asarray(post[name])) - p0)
            target = REF["baseline_risks"][format(p0)][of]["p_benefit_10"]
            mine = ours["baseline_risks"][format(p0, "g")][of]["p_benefit"]
            assert mine == pytest.approx((rd <= -10).mean(), rel=1e-12)
            _share_within_mcse(rd <= -10, target, scale_ref)


def test_exact_binomial_engine_matches_stan() -> None:
    """The exact binomial-normal engine (no sampling) against the same Stan run: at each of
    Stan's quantiles of the treated risk, the difference per 1,000 and the risk ratio (mapped
    back to the log OR, ``logit(risk) - logit(p0)``) our exact cdf is the quantile's level
    within 3.5 of Stan's Monte Carlo SEs, ``sqrt(q (1 - q) / ESS)`` with its smallest ESS
    (``n_eff_min``, of mu and tau); the probability of benefit likewise."""
    from bayesmeta.summaries.crosscheck import quadrature

    data = load(EXAMPLES / "bcg.csv")
    result = analyze(data, priors=PRIORS, engine="exact", baseline_risks=RISKS,
                     benefit=Benefit(10))  # fmt: skip
    assert result.engine == "exact" and result.model == "binomial-normal"
    post = quadrature(result.spec).posterior(result.spec)
    ess = REF["n_eff_min"]
    ours = result.absolute.to_dict()["baseline_risks"]
    for p0 in RISKS:
        back = {
            "treated_risk": lambda r: r,
            "risk_difference_per_1000": lambda d, p0=p0: p0 + d / 1000,
            "risk_ratio": lambda x, p0=p0: x * p0,
        }
        for of, marginal in (("pooled", post.mu), ("new_study", post.theta_new)):
            ref = REF["baseline_risks"][format(p0)][of]
            for quantity, to_risk in back.items():
                for q, prob in QUANTILES.items():
                    theta = special.logit(to_risk(ref[quantity][q])) - special.logit(p0)
                    tol = 3.5 * np.sqrt(prob * (1 - prob) / ess)
                    assert float(marginal.cdf(theta)) == pytest.approx(prob, abs=tol)
            target = ref["p_benefit_10"]
            tol = 3.5 * np.sqrt(target * (1 - target) / ess)
            assert ours[format(p0, "g")][of]["p_benefit"] == pytest.approx(target, abs=tol)


def test_studies_needs_the_binomial_baselines_under_nuts() -> None:
    data = load(EXAMPLES / "bcg.csv")
    with pytest.raises(OptionError, match="needs the study baselines"):
        analyze(data, model="normal-normal", baseline_risks=("studies",))
    with pytest.raises(OptionError, match="needs the study baselines"):
        absolute_effects(np.zeros(4), np.zeros(4), ("studies",))
    assert parse_baseline_risks("0.1, Studies,studies") == (0.1, "studies")


def test_benefit_bound_and_direction() -> None:
    """The log OR at which the difference at p0 is the threshold: logit(p0 -+ t/1000) -
    logit(p0); out of reach below 0 or above 1."""
    b = Benefit(10)
    assert b.log_or_bound(0.05) == pytest.approx(special.logit(0.04) - special.logit(0.05))
    assert b.log_or_bound(0.005) == -np.inf
    more = Benefit(10, fewer=False)
    assert more.log_or_bound(0.05) == pytest.approx(special.logit(0.06) - special.logit(0.05))
    assert list(more.holds(np.array([9.0, 10.0, -20.0]))) == [False, True, False]
    with pytest.raises(OptionError, match="--benefit-threshold"):
        Benefit(-1)


def test_point_mass_gives_the_closed_form_risk() -> None:
    """A constant log OR: treated risk p0 OR / (1 - p0 + p0 OR) (odds p0 / (1 - p0) times OR)."""
    odds_ratio = 0.5
    theta = np.full(40, np.log(odds_ratio))
    effects = absolute_effects(theta, theta + 1.0, (0.05, 0.2))
    for e in effects.effects:
        p0 = e.baseline_risk
        shift = odds_ratio if e.of == "pooled" else odds_ratio * np.e
        risk = p0 * shift / (1 - p0 + p0 * shift)
        assert e.treated_risk.median == pytest.approx(risk, rel=1e-12)
        assert e.risk_difference_per_1000.median == pytest.approx(1000 * (risk - p0), rel=1e-12)
        assert e.risk_ratio.interval == pytest.approx((risk / p0, risk / p0), rel=1e-12)
        assert e.nnt == pytest.approx(1 / abs(risk - p0), rel=1e-12)
        assert e.direction == ("fewer" if shift < 1 else "more")


@pytest.mark.parametrize("text", ["0", "1", "0.05,1.2", "abc", "-0.1", "nan", " , "])
def test_bad_baseline_risk_is_an_option_error(text: str) -> None:
    with pytest.raises(OptionError, match="--baseline-risk"):
        parse_baseline_risks(text)


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--example", "bcg", "--baseline-risk", "0.05,2"], "strictly between 0 and 1"),
        (["--example", "pritz1997_prop", "--baseline-risk", "0.1"], "needs odds ratios"),
        (
            ["--example", "bcg", "--baseline-risk", "0.1", "--covariate", "ablat"],
            "not available with covariates",
        ),
        (["--example", "steurer2006_hr", "--baseline-risk", "0.1"], "log_hazard_ratio scale"),
        (["--example", "bcg", "--measure", "XX"], "unknown measure 'XX'"),
    ],
)
def test_fit_refuses_before_fitting(args: list[str], fragment: str) -> None:
    assert fragment in fails_cleanly(["fit", *args])


def test_exact_engine_matches_independent_quadrature() -> None:
    """Normal-normal model on bcg's escalc log ORs, mu ~ N(0, 10^2), tau ~ HalfNormal(0.5).

    Quantiles: the reference's quantiles of mu and theta_new (``tests/reference/bcg.nnhm.json``,
    an independent integration accurate to about 1e-4) mapped through each increasing map, so
    within 1e-4 times the map's slope. Means and SDs of the pooled effect: a brute-force
    midpoint rule on a (mu, tau) grid of the unnormalised posterior (1,200 x 2,400 points).
    """
    from bayesmeta.effects import effect_sizes

    data = load(EXAMPLES / "bcg.csv")
    priors = PriorSet(mu=parse_prior("normal(0, 10)"), tau=parse_prior("half-normal(0.5)"))
    result = analyze(
        data, model="normal-normal", priors=priors, baseline_risks=RISKS, benefit=Benefit(10)
    )
    ref = json.loads((ROOT / "tests" / "reference" / "bcg.nnhm.json").read_text())
    es = effect_sizes(data)
    tau = (np.arange(1200) + 0.5) * (3.0 / 1200)
    mu = -3.0 + (np.arange(2400) + 0.5) * (4.5 / 2400)
    logpost = -(mu[:, None] ** 2) / 200 - tau[None, :] ** 2 / (2 * 0.25)
    for yi, vi in zip(es.yi, es.vi, strict=True):
        s2 = vi + tau[None, :] ** 2
        logpost -= 0.5 * (np.log(s2) + (yi - mu[:, None]) ** 2 / s2)
    weight = np.exp(logpost - logpost.max()).sum(1)
    weight /= weight.sum()  # the marginal posterior of mu on its grid
    for e in result.absolute.effects:
        block = ref["mu"] if e.of == "pooled" else ref["theta_new"]
        for quantity in ("treated_risk", "risk_difference_per_1000", "risk_ratio"):
            summary = getattr(e, quantity)

            def f(t, q=quantity, p0=e.baseline_risk):
                return _transformed(p0, np.asarray(t, dtype=float))[q]

            for value, q in ((summary.median, "median"), (summary.interval[0], "q025"),
                             (summary.interval[1], "q975")):  # fmt: skip
                x = block[q]
                slope = (f(x + 1e-6) - f(x)) / 1e-6
                assert value == pytest.approx(f(x), abs=2e-4 * slope), (e.of, quantity, q)
            if e.of == "pooled":
                mean = float(weight @ f(mu))
                sd = float(np.sqrt(weight @ (f(mu) - mean) ** 2))
                assert summary.mean == pytest.approx(mean, rel=1e-5)
                assert summary.sd == pytest.approx(sd, rel=1e-4)
        if e.of == "pooled":  # P(mu <= bound) on the grid; its cells are 0.0019 wide
            bound = special.logit(e.baseline_risk - 0.01) - special.logit(e.baseline_risk)
            assert e.p_benefit == pytest.approx(float(weight[mu <= bound].sum()), abs=2e-3)
