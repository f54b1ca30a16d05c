"""Bayesian model averaging over {effect, no effect} x {random, common effect}.

The four models of :mod:`bayesmeta.workflows.bayes_factors` with prior probabilities
``pi_m`` (equal by default) get posterior probabilities ``pi_m p(y | m) / sum pi p(y | .)``
from their exact marginal likelihoods. The inclusion Bayes factor of the effect is the
posterior odds of the two effect models against the two null models over their prior odds
(likewise heterogeneity: the two random- against the two common-effect models). The
model-averaged posterior of ``mu`` is the mixture of the effect models' posteriors with a point
mass at 0 of the null models' probability; that of ``tau`` the random models' posteriors with a
point mass at 0 (RoBMA's and metaBMA's definitions; Gronau et al. 2021, Adv Methods Pract
Psychol Sci 4(1)).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from bayesmeta.errors import BayesmetaError, OptionError
from bayesmeta.model.description import ModelSpec
from bayesmeta.summaries.types import DEFAULT_LEVEL, Summary
from bayesmeta.workflows.bayes_factors import MODELS, four_models

_GRID = 4001  # points of the mixture cdfs the averaged quantiles are read from


@dataclass(frozen=True)
class ModelAverage:
    """Posterior model probabilities, inclusion Bayes factors and averaged posteriors.

    ``mu`` and ``tau`` are the model-averaged posteriors (point masses at 0 included);
    ``models`` each model's own posterior of ``mu`` and ``tau`` (None where fixed at 0).
    """

    prior_probabilities: dict[str, float]
    posterior_probabilities: dict[str, float]
    log_ml: dict[str, float]
    log_inclusion_bf_effect: float
    log_inclusion_bf_heterogeneity: float
    mu: Summary
    tau: Summary
    models: dict[str, dict[str, Summary | None]]

    def to_dict(self) -> dict[str, Any]:
        """JSON form (values on the model scale)."""

        def maybe(s: Summary | None) -> dict[str, Any] | None:
            return s.to_dict() if s is not None else None

        return {
            "prior_probabilities": dict(self.prior_probabilities),
            "posterior_probabilities": dict(self.posterior_probabilities),
            "log_marginal_likelihood": dict(self.log_ml),
            "inclusion_bf_effect": math.exp(self.log_inclusion_bf_effect),
            "log_inclusion_bf_effect": self.log_inclusion_bf_effect,
            "inclusion_bf_heterogeneity": _exp(self.log_inclusion_bf_heterogeneity),
            "log_inclusion_bf_heterogeneity": self.log_inclusion_bf_heterogeneity,
            "mu": self.mu.to_dict(),
            "tau": self.tau.to_dict(),
            "models": {
                m: {k: maybe(v) for k, v in parts.items()} for m, parts in self.models.items()
            },
        }


def _exp(x: float) -> float:
    return math.exp(x) if x < 709 else math.inf


def _prior_probabilities(given: Mapping[str, float] | None) -> dict[str, float]:
    probs = dict.fromkeys(MODELS, 0.25) if given is None else dict(given)
    if set(probs) != set(MODELS):
        raise OptionError(f"prior model probabilities need exactly the models {', '.join(MODELS)}")
    if not all(math.isfinite(p) and p >= 0 for p in probs.values()) or sum(probs.values()) <= 0:
        raise OptionError("prior model probabilities must be non-negative with a positive sum")
    total = sum(probs.values())
    return {m: probs[m] / total for m in MODELS}


def _summary(marginal: Any, level: float) -> Summary:
    return Summary(
        mean=float(marginal.mean),
        median=float(marginal.median),
        sd=float(marginal.sd),
        interval=marginal.interval(level),
        level=level,
    )


def _mixture(parts: list[tuple[float, Any]], level: float, lower: float | None) -> Summary:
    """Summary of ``sum w_j marginal_j`` (a marginal None is a point mass at 0)."""
    tails = [(1e-9, 1 - 1e-9)]
    for w, m in parts:
        if m is not None and w > 0:
            tails.append(tuple(float(x) for x in m.ppf(np.array([1e-9, 1 - 1e-9]))))
    lo = min(t[0] for t in tails) if lower is None else lower
    hi = max(t[1] for t in tails)
    x = np.linspace(min(lo, 0.0), max(hi, 0.0), _GRID)
    x = np.unique(np.append(x, 0.0))
    cdf = np.zeros_like(x)
    mean = second = 0.0
    for w, m in parts:
        if m is None:
            cdf += w * (x >= 0)
        else:
            cdf += w * np.asarray(m.cdf(x), dtype=float)
            mean += w * float(m.mean)
            second += w * (float(m.sd) ** 2 + float(m.mean) ** 2)
    cdf = np.maximum.accumulate(np.clip(cdf, 0.0, 1.0))

    def ppf(q: float) -> float:
        i = int(np.searchsorted(cdf, q, side="left"))
        if i == 0:
            return float(x[0])
        if cdf[i] - cdf[i - 1] > 1e-3:  # a jump: the point mass at 0
            return float(x[i])
        return float(np.interp(q, cdf[i - 1 : i + 1], x[i - 1 : i + 1]))

    return Summary(
        mean=mean,
        median=ppf(0.5),
        sd=math.sqrt(max(second - mean**2, 0.0)),
        interval=(ppf((1 - level) / 2), ppf((1 + level) / 2)),
        level=level,
    )


def model_average(
    spec: ModelSpec,
    prior_probabilities: Mapping[str, float] | None = None,
    level: float = DEFAULT_LEVEL,
) -> ModelAverage:
    """Average the four models of ``spec``'s likelihood and priors (see the module docstring).

    Raises
    ------
    BayesmetaError
        Moderators, a model the exact engines do not cover, or prior probabilities that are
        not four non-negative numbers with a positive sum.
    """
    prior = _prior_probabilities(prior_probabilities)
    fits = four_models(spec)  # the fits that give the marginal likelihoods give the marginals
    ml = fits.log_ml
    if not all(math.isfinite(v) for v in ml.values()):
        raise BayesmetaError("model averaging needs proper priors (a finite marginal likelihood)")
    log_post = {m: math.log(prior[m]) + ml[m] if prior[m] > 0 else -math.inf for m in MODELS}
    top = max(log_post.values())
    norm = top + math.log(sum(math.exp(v - top) for v in log_post.values()))
    post = {m: math.exp(log_post[m] - norm) for m in MODELS}

    def log_odds(probs: dict[str, float], yes: tuple[str, str], no: tuple[str, str]) -> float:
        a, b = sum(probs[m] for m in yes), sum(probs[m] for m in no)
        return math.log(a) - math.log(b) if a > 0 and b > 0 else math.nan

    def inclusion(yes: tuple[str, str], no: tuple[str, str]) -> float:
        # from log marginal likelihoods, so an odds of 1e300 is not lost to rounding
        num = np.logaddexp(*(math.log(max(prior[m], 1e-300)) + ml[m] for m in yes))
        den = np.logaddexp(*(math.log(max(prior[m], 1e-300)) + ml[m] for m in no))
        return float(num - den) - log_odds(prior, yes, no)

    effect, null = ("effect_random", "effect_common"), ("null_random", "null_common")
    random, common = ("effect_random", "null_random"), ("effect_common", "null_common")
    mu = _mixture([(post[m], fits.mu[m]) for m in MODELS], level, None)
    tau = _mixture([(post[m], fits.tau[m]) for m in MODELS], level, 0.0)
    models = {
        m: {
            "mu": _summary(fits.mu[m], level) if fits.mu[m] is not None else None,
            "tau": _summary(fits.tau[m], level) if fits.tau[m] is not None else None,
        }
        for m in MODELS
    }
    return ModelAverage(
        prior_probabilities=prior,
        posterior_probabilities=post,
        log_ml=ml,
        log_inclusion_bf_effect=inclusion(effect, null),
        log_inclusion_bf_heterogeneity=inclusion(random, common),
        mu=mu,
        tau=tau,
        models=models,
    )


def average(
    data: Any,
    *,
    model: str = "auto",
    priors: Any = None,
    prior_probabilities: Mapping[str, float] | None = None,
    level: float = DEFAULT_LEVEL,
) -> ModelAverage:
    """Bayesian model averaging of ``data`` over the four models (:func:`model_average`).

    Parameters
    ----------
    data
        Loaded data (:func:`bayesmeta.load`), a DataFrame or a CSV path.
    model
        The likelihood, as for :func:`bayesmeta.analyze` (``"auto"``: from the data).
    priors
        Priors for ``mu``, ``tau`` (and ``baseline``), as for :func:`bayesmeta.analyze`;
        the null models fix ``mu`` and/or ``tau`` at 0 and keep the others.
    prior_probabilities
        Prior probability of each model (keys ``effect_random``, ``effect_common``,
        ``null_random``, ``null_common``; normalised); equal by default.
    level
        Level of the intervals.
    """
    from bayesmeta.workflows.analyze import as_data

    spec = ModelSpec.describe(as_data(data), model=model, priors=priors)
    return model_average(spec, prior_probabilities, level)
