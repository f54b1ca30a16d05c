"""Bayes factors for the effect (``mu = 0`` against ``mu != 0``) and for heterogeneity
(``tau = 0`` against ``tau > 0``) from exact marginal likelihoods.

The four models {effect, no effect} x {random, common} are fitted by the exact engines
(:mod:`bayesmeta.engines.exact` for normal-normal, :mod:`bayesmeta.engines.exact_binomial` for
the binomial models); each Bayes factor is a ratio of two of their marginal likelihoods
``p(y | M) = int p(y | parameters) p(parameters | M)``, so it needs proper priors and depends on
their scale: the wider the prior on ``mu``, the more a Bayes factor favours ``mu = 0``
(Lindley's paradox), which :data:`LINDLEY_SD` flags.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

from bayesmeta.errors import BayesmetaError
from bayesmeta.model.description import ModelSpec
from bayesmeta.model.priors import Prior

MODELS = ("effect_random", "effect_common", "null_random", "null_common")
NULL_SD = 1e-9  # mu = 0 in the normal-normal engine: normal(0, 1e-9), far below its accuracy
LINDLEY_SD = 3.0  # a prior SD of mu above this (log odds ratio scale) gets the Lindley note


def _spread(prior: Prior) -> float:
    """The prior's SD, or for families without one its central 95% width / 3.92."""
    if prior.family == "normal":
        return prior.params[1]
    lo, hi = prior.ppf([0.025, 0.975])
    return float(hi - lo) / 3.92


@dataclass(frozen=True)
class FourModels:
    """The exact posteriors of the four models (keys :data:`MODELS`) with the priors of a
    spec: ``log_ml`` their log marginal likelihoods ``log p(y | M)``, ``mu`` and ``tau``
    their posterior marginals (None where the model fixes the parameter at 0)."""

    log_ml: dict[str, float]
    mu: dict[str, Any]
    tau: dict[str, Any]


def four_models(spec: ModelSpec) -> FourModels:
    """Fit the four models of ``spec``'s likelihood and priors once, by the exact engines.

    Raises
    ------
    BayesmetaError
        Moderators, or a model or prior the exact engines do not cover.
    """
    if spec.moderators is not None:
        raise BayesmetaError("Bayes factors are computed for models without moderators")
    priors = spec.priors
    if spec.family.exact == "exact":
        from bayesmeta.engines import exact

        y, v = spec.normal.y, spec.normal.v
        null = Prior("normal", (0.0, NULL_SD))
        fits = {
            "effect_random": exact.nnhm_posterior(y, v, prior_mu=priors.mu, prior_tau=priors.tau),
            "effect_common": exact.common_effect_posterior(y, v, prior_mu=priors.mu),
            "null_random": exact.nnhm_posterior(y, v, prior_mu=null, prior_tau=priors.tau),
            "null_common": exact.common_effect_posterior(y, v, prior_mu=null),
        }
    else:
        from bayesmeta.engines import exact_binomial
        from bayesmeta.summaries.exact_binomial import posterior

        lik = exact_binomial.study_likelihood(spec.data, priors.baseline)
        fits = {
            "effect_random": posterior(replace(spec, common_effect=False)),
            "effect_common": posterior(replace(spec, common_effect=True)),
            "null_random": exact_binomial.null_posterior(lik, priors.tau, spec.data.study),
            "null_common": exact_binomial.null_posterior(lik, None, spec.data.study),
        }
    return FourModels(
        log_ml={m: float(fits[m].log_marginal_likelihood) for m in MODELS},
        mu={m: fits[m].mu if m.startswith("effect") else None for m in MODELS},
        tau={m: fits[m].tau if m.endswith("random") else None for m in MODELS},
    )


def marginal_likelihoods(spec: ModelSpec) -> dict[str, float]:
    """``log p(y | M)`` of the four models (keys :data:`MODELS`) with the priors of ``spec``
    (:func:`four_models`).

    Raises
    ------
    BayesmetaError
        Moderators, or a model or prior the exact engines do not cover.
    """
    return four_models(spec).log_ml


@dataclass(frozen=True)
class BayesFactors:
    """Bayes factors (> 1 favours the effect / heterogeneity) with the hypotheses they compare.

    ``log_ml`` holds the four models' log marginal likelihoods; the effect's Bayes factor is
    computed within the fitted model's assumption on ``tau`` (random or common effect).
    """

    log_bf_effect: float
    log_bf_heterogeneity: float
    effect_hypotheses: str
    heterogeneity_hypotheses: str
    log_ml: dict[str, float]
    notes: tuple[str, ...] = ()

    @property
    def bf_effect(self) -> float:
        return _exp(self.log_bf_effect)

    @property
    def bf_heterogeneity(self) -> float:
        return _exp(self.log_bf_heterogeneity)

    def to_dict(self) -> dict[str, Any]:
        """JSON block ``bayes_factors``."""
        return {
            "effect": {
                "hypotheses": self.effect_hypotheses,
                "log_bf10": self.log_bf_effect,
                "bf10": self.bf_effect,
            },
            "heterogeneity": {
                "hypotheses": self.heterogeneity_hypotheses,
                "log_bf10": self.log_bf_heterogeneity,
                "bf10": self.bf_heterogeneity,
            },
            "log_marginal_likelihood": dict(self.log_ml),
            "notes": list(self.notes),
        }


def _exp(x: float) -> float:
    return math.exp(x) if x < 709 else math.inf


def bayes_factors(spec: ModelSpec) -> BayesFactors:
    """Bayes factors for the effect and for heterogeneity under the priors of ``spec``.

    The effect: ``H1: mu ~ prior`` against ``H0: mu = 0``, both with ``spec``'s ``tau``
    (its prior, or 0 for a common-effect ``spec``); heterogeneity: ``H1: tau ~ prior`` against
    ``H0: tau = 0``, both with ``mu ~ prior``.

    Raises
    ------
    BayesmetaError
        A marginal likelihood that is not finite (an improper prior has none), moderators, or
        a model the exact engines do not cover.
    """
    ml = marginal_likelihoods(spec)
    if not all(math.isfinite(x) for x in ml.values()):
        raise BayesmetaError(
            "Bayes factors need proper priors: a flat prior has no marginal likelihood"
        )
    p = spec.priors
    which = "common" if spec.common_effect else "random"
    tau_text = "tau = 0" if spec.common_effect else f"tau ~ {p.tau}"
    notes = []
    spread = _spread(p.mu)
    if spread > LINDLEY_SD:
        notes.append(
            f"the prior on mu ({p.mu}) is wide (SD {spread:.3g}): a Bayes factor for the effect "
            "shrinks roughly in proportion to that SD (Lindley's paradox), so a wide prior "
            "favours mu = 0 whatever the data; report it with a prior of realistic scale "
            "(`bayesmeta robustness` maps it over the prior scales)"
        )
    return BayesFactors(
        log_bf_effect=ml[f"effect_{which}"] - ml[f"null_{which}"],
        log_bf_heterogeneity=ml["effect_random"] - ml["effect_common"],
        effect_hypotheses=f"H1: mu ~ {p.mu} against H0: mu = 0 ({tau_text})",
        heterogeneity_hypotheses=f"H1: tau ~ {p.tau} against H0: tau = 0 (mu ~ {p.mu})",
        log_ml=ml,
        notes=tuple(notes),
    )
