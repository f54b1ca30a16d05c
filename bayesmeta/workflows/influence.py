"""Leave-one-out influence: the pooled effect and tau without each study in turn.

Bayesian: the same model is refitted to the data without study ``i``, for every ``i``, with
the same engine, priors and sampler settings (seed included). This is exact for the exact
engine and has only Monte Carlo error for NUTS, also for the studies that matter most: an
importance-sampling shortcut (reweighting the full posterior draws by ``1 / p(y_i | theta)``,
PSIS-LOO) is least reliable exactly for influential studies, where the full posterior and the
posterior without the study differ most. The cost is one fit per study (about a second each
with the cached NUTS kernels).

Frequentist: metafor's ``leave1out`` of the random-effects model
(:func:`bayesmeta.frequentist.pooled.leave_one_out`), REML by default (metafor's default
estimator).

Models with covariates or subgroups are not covered: without a study the covariate centres and
subgroup levels change, so "the pooled effect without study i" is not one quantity.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np
import pandas as pd

from bayesmeta.engines.nuts import SamplerSettings
from bayesmeta.errors import BayesmetaError
from bayesmeta.frequentist import methods as frequentist_methods
from bayesmeta.frequentist.pooled import TAU2_METHODS, leave_one_out, random_effects
from bayesmeta.frequentist.results import PooledEstimate
from bayesmeta.io.counts import StudyData
from bayesmeta.io.reported import ReportedEffects
from bayesmeta.model.scales import Scale
from bayesmeta.summaries.types import Summary
from bayesmeta.workflows.analyze import AnalysisResult, analyze_model

MIN_STUDIES = 3


@dataclass(frozen=True)
class Omitted:
    """The Bayesian fit without one study: pooled effect and tau (model scale)."""

    mu: Summary
    tau: Summary | None
    prob_mu_below_0: float
    converged: bool

    def to_dict(self) -> dict[str, Any]:
        """``{mu, tau, prob_mu_below_0, converged}``."""
        return {
            "mu": self.mu.to_dict(),
            "tau": self.tau.to_dict() if self.tau is not None else None,
            "prob_mu_below_0": self.prob_mu_below_0,
            "converged": self.converged,
        }


@dataclass(frozen=True)
class Influence:
    """Leave-one-out fits, by omitted study, beside the fits to all studies.

    ``bayesian`` and ``frequentist`` map each omitted study to the fit without it;
    ``full_bayesian`` (the analysis) and ``full_frequentist`` use every study. ``method`` is
    the tau^2 estimator of the frequentist fits, ``engine`` and ``settings`` those of the
    Bayesian refits.
    """

    scale: Scale
    full_bayesian: Omitted
    full_frequentist: PooledEstimate
    bayesian: dict[str, Omitted]
    frequentist: dict[str, PooledEstimate]
    method: str
    engine: str
    settings: SamplerSettings | None

    @property
    def studies(self) -> tuple[str, ...]:
        """The omitted studies, in input order."""
        return tuple(self.bayesian)

    def to_frame(self) -> pd.DataFrame:
        """One row per omitted study (``"(none)"`` first: all studies), model scale: the
        Bayesian ``mu`` (median, ``ci_lower``, ``ci_upper``), ``prob_mu_below_0``,
        ``tau_median`` and ``converged``, beside the frequentist ``freq_estimate``,
        ``freq_ci_lower``, ``freq_ci_upper`` and ``freq_tau2``."""

        def row(bayes: Omitted, freq: PooledEstimate | None) -> dict[str, Any]:
            lo, hi = bayes.mu.interval
            flo, fhi = freq.ci if freq is not None else (None, None)
            return {
                "median": bayes.mu.median,
                "ci_lower": lo,
                "ci_upper": hi,
                "prob_mu_below_0": bayes.prob_mu_below_0,
                "tau_median": bayes.tau.median if bayes.tau is not None else None,
                "converged": bayes.converged,
                "freq_estimate": freq.estimate if freq is not None else None,
                "freq_ci_lower": flo,
                "freq_ci_upper": fhi,
                "freq_tau2": freq.tau2 if freq is not None else None,
            }

        rows = {"(none)": row(self.full_bayesian, self.full_frequentist)}
        rows.update({s: row(self.bayesian[s], self.frequentist.get(s)) for s in self.studies})
        frame = pd.DataFrame.from_dict(rows, orient="index")
        frame.index.name = "omitted"
        frame.attrs["level"] = self.full_bayesian.mu.level
        return frame

    def to_dict(self) -> dict[str, Any]:
        """JSON form: model-scale summaries per omitted study."""
        return {
            "scale": self.scale.name,
            "frequentist_method": self.method,
            "engine": self.engine,
            "full": {
                "bayesian": self.full_bayesian.to_dict(),
                "frequentist": self.full_frequentist.to_dict(),
            },
            "omitted": {
                study: {
                    "bayesian": self.bayesian[study].to_dict(),
                    "frequentist": self.frequentist[study].to_dict()
                    if study in self.frequentist
                    else None,
                }
                for study in self.studies
            },
        }


def without(data: StudyData | ReportedEffects, index: int) -> StudyData | ReportedEffects:
    """``data`` without the study at ``index`` (every per-study field and covariate row)."""
    keep = np.arange(data.k) != index
    changes: dict[str, Any] = {}
    for f in fields(data):
        value = getattr(data, f.name)
        if f.name == "study":
            changes[f.name] = tuple(s for s, k in zip(value, keep, strict=True) if k)
        elif isinstance(value, np.ndarray) and value.shape[:1] == (data.k,):
            changes[f.name] = value[keep]
        elif isinstance(value, pd.DataFrame):
            changes[f.name] = value.iloc[np.flatnonzero(keep)].reset_index(drop=True)
    return replace(data, **changes)


def _summary(result: AnalysisResult) -> Omitted:
    post = result.posterior
    return Omitted(post.mu, post.tau, post.prob_mu_below_0, result.converged)


def influence(
    result: AnalysisResult,
    *,
    settings: SamplerSettings | None = None,
    method: str = "REML",
) -> Influence:
    """Leave-one-out influence of each study on the pooled effect and tau of ``result``.

    Parameters
    ----------
    result
        The analysis of all studies (no covariates or subgroups).
    settings
        NUTS settings of the refits (default: those the analysis was asked for, which are
        ``result.fit.settings`` unless it was refitted with stricter ones).
    method
        tau^2 estimator of the frequentist leave-one-out fits (``TAU2_METHODS``).

    Raises
    ------
    BayesmetaError
        A model with moderators, fewer than 3 studies, or an unknown ``method``.
    """
    spec = result.spec
    if spec.moderators is not None:
        raise BayesmetaError(
            "leave-one-out influence is computed for models without covariates or subgroups"
        )
    if spec.data.k < MIN_STUDIES:
        raise BayesmetaError(f"leave-one-out needs at least {MIN_STUDIES} studies")
    if method not in TAU2_METHODS:
        raise BayesmetaError(f"unknown tau^2 method {method!r}; valid: {', '.join(TAU2_METHODS)}")
    if settings is None and result.fit is not None:
        settings = result.fit.settings
    bayesian = {}
    for i, study in enumerate(spec.data.study):
        refit = analyze_model(
            spec.with_data(without(spec.data, i)),
            engine=result.engine,
            settings=settings,
            frequentist=(),
            level=result.level,
        )
        bayesian[study] = _summary(refit)
    es = frequentist_methods.inputs(spec.data, result.level).es
    return Influence(
        scale=result.scale,
        full_bayesian=_summary(result),
        full_frequentist=random_effects(es, method=method, level=result.level),
        bayesian=bayesian,
        frequentist={  # a deletion whose fit fails has no frequentist row (shown as -)
            s: fit
            for s, fit in leave_one_out(es, method, level=result.level).items()
            if isinstance(fit, PooledEstimate)
        },
        method=method,
        engine=result.engine,
        settings=settings if result.engine == "nuts" else None,
    )
