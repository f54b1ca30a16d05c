"""Posterior summaries of the binomial models (two-arm binomial-normal, single-arm proportion)
and of the Poisson-normal rates model from the exact engine
(:mod:`bayesmeta.engines.exact_binomial`), typed as the NUTS ones.

Quantiles, means and SDs come from the quadrature (no Monte Carlo error); the odds-ratio or
proportion scale maps quantiles and integrates means over the quadrature nodes
(:func:`bayesmeta.summaries.exact.shown_summary`).
"""

from __future__ import annotations

from bayesmeta.engines import exact_binomial
from bayesmeta.errors import BayesmetaError
from bayesmeta.model.description import ModelSpec
from bayesmeta.summaries.exact import shown, study_summaries, summary
from bayesmeta.summaries.types import DEFAULT_LEVEL, PosteriorSummary


def posterior(spec: ModelSpec) -> exact_binomial.BinomialPosterior:
    """The exact posterior of a binomial ``spec`` (no moderators).

    Raises
    ------
    BayesmetaError
        Moderators (not covered by the exact binomial engine yet), or another likelihood.
    """
    if spec.family.exact != "exact_binomial":
        raise BayesmetaError(f"the exact binomial engine has no {spec.likelihood} model")
    if spec.moderators is not None:
        raise BayesmetaError(
            f"the exact engine for --model {spec.likelihood} has no moderators; use --engine nuts"
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


def summarize(
    spec: ModelSpec,
    *,
    level: float = DEFAULT_LEVEL,
    hdi: bool = False,
    fitted: exact_binomial.BinomialPosterior | None = None,
) -> tuple[PosteriorSummary, float]:
    """Exact posterior summaries and the log marginal likelihood of a binomial ``spec``
    (``fitted``: :func:`posterior` of ``spec`` when already computed, so another level costs
    no quadrature)."""
    post = fitted if fitted is not None else posterior(spec)
    mu = summary(post.mu, level=level, hdi=hdi)
    study = tuple(spec.data.study)
    if spec.common_effect:
        new, tau, theta = mu, None, dict.fromkeys(study, mu)
    else:
        new = summary(post.theta_new, level=level, hdi=hdi)
        tau = summary(post.tau, level=level, hdi=hdi)
        theta = study_summaries(post.theta, study, level=level, hdi=hdi)
    pooled, predictive = shown(spec.scale, mu, post.mu, new, post.theta_new)
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
