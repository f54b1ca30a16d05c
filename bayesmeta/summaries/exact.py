"""Posterior summaries of the normal-normal model from the exact engine, in the same shape as
:mod:`bayesmeta.summaries.draws` gives for NUTS, so reports and JSON treat both engines alike.

Quantiles, medians and intervals are exact (quadrature); means and SDs on the odds-ratio or
proportion scale, and P(difference < 0) between subgroups, come from 40,000 independent exact
draws (Monte Carlo SE below 0.3% of a posterior SD).
"""

from __future__ import annotations

import numpy as np

from bayesmeta.engines import exact
from bayesmeta.errors import BayesmetaError
from bayesmeta.model.moderators import Moderators
from bayesmeta.model.priors import PriorSet
from bayesmeta.summaries.draws import (
    PosteriorSummary,
    describe,
    mapped_summary,
    scale_blocks,
    with_probability,
)

N_DRAWS = 40_000
SEED = 20261127


def exact_summary(
    y: np.ndarray,
    v: np.ndarray,
    study: tuple[str, ...],
    *,
    priors: PriorSet,
    common_effect: bool = False,
    moderators: Moderators | None = None,
    scale: str = "log_odds_ratio",
    hdi: bool = False,
) -> tuple[PosteriorSummary, float]:
    """Exact posterior summaries and the log marginal likelihood of the normal-normal model."""
    mods = moderators if moderators is not None and not moderators.empty else None
    if mods is None:
        return _plain(y, v, study, priors, common_effect, scale, hdi)
    if common_effect:
        raise BayesmetaError(
            "the exact engine has no common-effect model with moderators; use --engine nuts"
        )
    if mods.group is not None and mods.separate_tau:
        if mods.x is not None:
            raise BayesmetaError("separate tau per subgroup with covariates needs --engine nuts")
        return _separate(y, v, study, priors, mods, scale, hdi)
    return _regression(y, v, study, priors, mods, scale, hdi)


def _plain(y, v, study, priors, common_effect, scale, hdi) -> tuple[PosteriorSummary, float]:
    if common_effect:
        post = exact.common_effect_posterior(y, v, prior_mu=priors.mu, study=study, hdi=hdi)
    else:
        post = exact.nnhm_posterior(
            y, v, prior_mu=priors.mu, prior_tau=priors.tau, study=study, hdi=hdi
        )
    d = post.draws(N_DRAWS, seed=SEED)
    summary = PosteriorSummary(
        mu=post.mu,
        tau=None if common_effect else post.tau,
        theta_new=post.theta_new,
        prob_mu_below_0=post.prob_mu_below_0,
        theta=post.theta,
        scale=scale,
        extra=scale_blocks(scale, post.mu, d["mu"], post.theta_new, d["theta_new"]),
    )
    return summary, post.log_marginal_likelihood


def _design(mods: Moderators, k: int) -> tuple[np.ndarray, list[str], int]:
    """Columns: one per subgroup (cell means) or an intercept, then the centred covariates."""
    if mods.group is not None:
        first = np.eye(len(mods.levels))[mods.group]
        names = [f"mu[{level}]" for level in mods.levels]
    else:
        first, names = np.ones((k, 1)), ["mu"]
    cols = [first] if mods.x is None else [first, mods.x]
    return np.column_stack(cols), [*names, *mods.names], first.shape[1]


def _regression(y, v, study, priors, mods, scale, hdi) -> tuple[PosteriorSummary, float]:
    x, names, n_mu = _design(mods, len(y))
    prior_beta = [priors.mu] * n_mu + [mods.prior_beta] * (len(names) - n_mu)
    post = exact.metareg_posterior(
        y, v, x, prior_beta=prior_beta, prior_tau=priors.tau, names=names, study=study, hdi=hdi
    )
    d = post.draws(N_DRAWS, seed=SEED)
    rng = np.random.default_rng(SEED + 1)
    new = {n: d[n] + d["tau"] * rng.standard_normal(N_DRAWS) for n in names[:n_mu]}
    unit = np.eye(len(names))
    regression = None
    if mods.x is not None:
        coefs = {}
        for j, name in enumerate(names[:n_mu]):
            label = "intercept" if n_mu == 1 else f"intercept[{mods.levels[j]}]"
            c = unit[j].copy()
            c[n_mu:] = -mods.centers
            draws = d[name] - mods.centers @ np.array([d[b] for b in mods.names])
            coefs[label] = with_probability(post.predict(c, new_study=False, hdi=hdi), draws)
        for name in mods.names:
            coefs[name] = post.coefficients[name]
        regression = {"coefficients": coefs}
    theta_new = {
        n: post.predict(unit[j], new_study=True, hdi=hdi) for j, n in enumerate(names[:n_mu])
    }
    if mods.group is None:
        mu = {k: val for k, val in post.coefficients["mu"].items() if k != "prob_below_0"}
        summary = PosteriorSummary(
            mu=mu,
            tau=post.tau,
            theta_new=theta_new["mu"],
            prob_mu_below_0=post.coefficients["mu"]["prob_below_0"],
            theta=post.theta,
            scale=scale,
            extra=scale_blocks(scale, mu, d["mu"], theta_new["mu"], new["mu"]),
            regression=regression,
        )
        return summary, post.log_marginal_likelihood
    levels: dict = {}
    for j, level in enumerate(mods.levels):
        name = names[j]
        mu = {k: val for k, val in post.coefficients[name].items() if k != "prob_below_0"}
        block = {
            "mu": mu,
            "theta_new": theta_new[name],
            "prob_mu_below_0": post.coefficients[name]["prob_below_0"],
        }
        block.update(scale_blocks(scale, mu, d[name], theta_new[name], new[name]))
        levels[level] = block
    differences = {}
    for j, level in enumerate(mods.levels[1:], start=1):
        diff = d[names[j]] - d[names[0]]
        s = with_probability(post.predict(unit[j] - unit[0], new_study=False, hdi=hdi), diff)
        if scale == "log_odds_ratio":
            s["ratio_of_odds_ratios"] = mapped_summary(s, diff, np.exp)
        differences[f"{level} - {mods.levels[0]}"] = s
    summary = PosteriorSummary(
        mu=None,
        tau=post.tau,
        theta_new=None,
        prob_mu_below_0=None,
        theta=post.theta,
        scale=scale,
        extra={},
        regression=regression,
        subgroups={"levels": levels, "differences": differences},
    )
    return summary, post.log_marginal_likelihood


def _separate(y, v, study, priors, mods, scale, hdi) -> tuple[PosteriorSummary, float]:
    """Independent normal-normal fits per subgroup (each with its own mu and tau)."""
    levels, draws, theta, lml = {}, {}, {}, 0.0
    names = np.asarray(study, dtype=object)
    for g, level in enumerate(mods.levels):
        keep = mods.group == g
        post = exact.nnhm_posterior(
            y[keep],
            v[keep],
            prior_mu=priors.mu,
            prior_tau=priors.tau,
            study=tuple(names[keep]),
            hdi=hdi,
        )
        d = post.draws(N_DRAWS, seed=SEED + g)
        block = {
            "mu": post.mu,
            "theta_new": post.theta_new,
            "tau": post.tau,
            "prob_mu_below_0": post.prob_mu_below_0,
        }
        block.update(scale_blocks(scale, post.mu, d["mu"], post.theta_new, d["theta_new"]))
        levels[level], draws[level] = block, d["mu"]
        theta.update(post.theta)
        lml += post.log_marginal_likelihood
    differences = {}
    first = mods.levels[0]
    for level in mods.levels[1:]:
        diff = draws[level] - draws[first]
        s = with_probability(describe(diff), diff)
        if scale == "log_odds_ratio":
            s["ratio_of_odds_ratios"] = mapped_summary(s, diff, np.exp)
        differences[f"{level} - {first}"] = s
    summary = PosteriorSummary(
        mu=None,
        tau=None,
        theta_new=None,
        prob_mu_below_0=None,
        theta={s: theta[s] for s in study},
        scale=scale,
        extra={},
        subgroups={"levels": levels, "differences": differences},
    )
    return summary, lml
