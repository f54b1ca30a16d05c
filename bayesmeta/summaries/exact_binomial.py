"""Posterior summaries of the binomial models (two-arm binomial-normal, single-arm proportion)
and of the Poisson-normal rates model from the exact engine
(:mod:`bayesmeta.engines.exact_binomial`), typed as the NUTS ones.

Quantiles, means and SDs come from the quadrature (no Monte Carlo error); the odds-ratio or
proportion scale maps quantiles and integrates means over the quadrature nodes
(:func:`bayesmeta.summaries.exact.shown_summary`). Subgroups (shared or separate ``tau``) are
exact too, but for the differences between subgroups, read off 40,000 independent exact
draws as the normal-normal engine does (:data:`bayesmeta.summaries.exact.N_DRAWS`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bayesmeta.engines import exact_binomial
from bayesmeta.errors import BayesmetaError
from bayesmeta.model.description import ModelSpec
from bayesmeta.summaries.draws import describe, difference
from bayesmeta.summaries.exact import N_DRAWS, SEED, shown_summary, study_summaries, summary
from bayesmeta.summaries.types import DEFAULT_LEVEL, PosteriorSummary, Subgroup, Summary


def posterior(spec: ModelSpec) -> exact_binomial.BinomialPosterior:
    """The exact posterior of a binomial ``spec`` (no moderators).

    Raises
    ------
    BayesmetaError
        Moderators (subgroups: :func:`subgroup_posterior`), or another likelihood.
    """
    if spec.family.exact != "exact_binomial":
        raise BayesmetaError(f"the exact binomial engine has no {spec.likelihood} model")
    if spec.moderators is not None:
        raise BayesmetaError(
            f"the exact posterior of --model {spec.likelihood} with moderators has no single mu"
            " (subgroups: subgroup_posterior)"
        )
    d, priors = spec.data, spec.priors
    tau = None if spec.common_effect else priors.tau
    if hasattr(d, "reported"):  # counts beside reported log odds ratios (bayesmeta.io.mixed)
        return exact_binomial.mixed_posterior(
            d, prior_mu=priors.mu, prior_tau=tau, prior_baseline=priors.baseline
        )
    if spec.family.design == "rates":  # events per person-time in two arms
        return exact_binomial.rates_posterior(
            d.treatment_events,
            d.treatment_time,
            d.control_events,
            d.control_time,
            prior_mu=priors.mu,
            prior_tau=tau,
            prior_baseline=priors.baseline,
            study=d.study,
        )
    if spec.family.baseline:  # two arms: the control arm's baseline, the treatment's effect
        return exact_binomial.binomial_normal_posterior(
            d.treatment_events,
            d.treatment_total,
            d.control_events,
            d.control_total,
            prior_mu=priors.mu,
            prior_tau=tau,
            prior_baseline=priors.baseline,
            study=d.study,
        )
    return exact_binomial.proportion_posterior(
        d.events, d.total, prior_mu=priors.mu, prior_tau=tau, study=d.study
    )


# a predictive moment whose integrand still holds this share at the last tau node diverges
TOP_NODE_SHARE = 1e-3


def _shown(
    spec: ModelSpec, mu: Summary, mu_post: Any, new: Summary, new_post: Any
) -> tuple[Summary | None, Summary | None]:
    """``mu`` and ``theta_new`` on the shown scale (odds ratio, proportion), if it has them.

    ``E[e^mu]`` is finite (mu's prior is a proper normal); the predictive mixture's components
    have the sd ``tau`` of their node, so ``E[e^theta_new]`` is infinite where its integrand
    still holds :data:`TOP_NODE_SHARE` at the largest tau node: ~4e-9 on bcg with the default
    half-normal(0.5), 0.93 with half-normal(2) (``E[e^(tau^2/2)]`` diverges), ~1 with a
    half-Cauchy.
    """
    scale = spec.scale
    if scale.pooled is None:
        return None, None
    pooled = shown_summary(scale, mu, mu_post, edge=np.zeros(len(mu_post.weight), bool))
    if new_post is mu_post:
        return pooled, pooled
    top = new_post.sds >= new_post.sds.max()
    return pooled, shown_summary(scale, new, new_post, edge=top, edge_share=TOP_NODE_SHARE)


def summarize(
    spec: ModelSpec,
    *,
    level: float = DEFAULT_LEVEL,
    hdi: bool = False,
    fitted: exact_binomial.BinomialPosterior | None = None,
) -> tuple[PosteriorSummary, float]:
    """Exact posterior summaries and the log marginal likelihood of a binomial ``spec``
    (``fitted``: :func:`posterior` of ``spec`` when already computed, so another level costs
    no quadrature); subgroups from :func:`subgroup_posterior`.

    Raises
    ------
    BayesmetaError
        Covariates (use the NUTS engine).
    """
    if spec.moderators is not None and spec.moderators.group is not None:
        return _subgroups(spec, level, hdi)
    post = fitted if fitted is not None else posterior(spec)
    mu = summary(post.mu, level=level, hdi=hdi)
    study = tuple(spec.data.study)
    if spec.common_effect:
        new, tau, theta = mu, None, dict.fromkeys(study, mu)
    else:
        new = summary(post.theta_new, level=level, hdi=hdi)
        tau = summary(post.tau, level=level, hdi=hdi)
        theta = study_summaries(post.theta, study, level=level, hdi=hdi)
    pooled, predictive = _shown(spec, mu, post.mu, new, post.theta_new)
    result = PosteriorSummary(
        scale=spec.scale,
        theta=theta,
        mu=mu,
        tau=tau,
        theta_new=new,
        prob_mu_below_0=post.prob_mu_below_0,
        pooled=pooled,
        predictive=predictive,
    )
    return result, post.log_marginal_likelihood


def subgroup_posterior(spec: ModelSpec) -> exact_binomial.SubgroupPosterior:
    """The exact posterior of a binomial ``spec`` with subgroups (shared or separate tau).

    Raises
    ------
    BayesmetaError
        Covariates beside the subgroups.
    """
    if spec.family.exact != "exact_binomial":
        raise BayesmetaError(f"the exact binomial engine has no {spec.likelihood} model")
    mods = spec.moderators
    if mods.x is not None:
        raise BayesmetaError(
            f"the exact engine for --model {spec.likelihood} has no covariates; use --engine nuts"
        )
    lik = exact_binomial.study_likelihood(spec.data, spec.priors.baseline)
    return exact_binomial.subgroup_posterior(
        lik,
        mods.group,
        tuple(mods.levels),
        prior_mu=spec.priors.mu,
        prior_tau=None if spec.common_effect else spec.priors.tau,
        separate_tau=mods.separate_tau,
        study=spec.data.study,
    )


def _subgroups(spec: ModelSpec, level: float, hdi: bool) -> tuple[PosteriorSummary, float]:
    """Per subgroup ``mu``, ``theta_new`` (and ``tau`` if separate), the shared ``tau``, the
    differences against the first level, every study's shrunken effect."""
    post = subgroup_posterior(spec)
    groups: dict = {}
    theta: dict = {}
    for name, p in post.groups.items():
        mu = summary(p.mu, level=level, hdi=hdi)
        new = mu if p.common_effect else summary(p.theta_new, level=level, hdi=hdi)
        pooled, predictive = _shown(spec, mu, p.mu, new, p.theta_new)
        separate = post.separate_tau and not p.common_effect
        groups[name] = Subgroup(
            mu=mu,
            theta_new=new,
            prob_mu_below_0=p.prob_mu_below_0,
            pooled=pooled,
            predictive=predictive,
            tau=summary(p.tau, level=level, hdi=hdi) if separate else None,
        )
        if p.common_effect:  # every study's effect is its subgroup's mu
            theta.update(dict.fromkeys(p.study, mu))
        else:
            theta.update(study_summaries(p.theta, p.study, level=level, hdi=hdi))
    draws = post.mu_draws(N_DRAWS, SEED)
    levels = list(post.groups)
    differences = {}
    for name in levels[1:]:
        diff = draws[name] - draws[levels[0]]
        differences[f"{name} - {levels[0]}"] = difference(
            spec.scale, describe(diff, level=level, hdi=hdi), diff
        )
    first = post.groups[levels[0]]
    result = PosteriorSummary(
        scale=spec.scale,
        theta={s: theta[str(s)] for s in spec.data.study},
        tau=None
        if post.separate_tau or first.tau is None
        else summary(first.tau, level=level, hdi=hdi),
        subgroups=groups,
        differences=differences,
    )
    return result, post.log_marginal_likelihood
