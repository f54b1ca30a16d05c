"""Prior sensitivity: the same meta-analysis refitted under several priors for tau.

With few studies the heterogeneity SD ``tau`` is weakly identified and its prior shapes the
width of the interval for the pooled effect. :func:`prior_sensitivity` fits the model once per
tau prior (same data, mu prior, baseline prior and seed) and returns one summary row per prior,
so the answer's dependence on the tau prior can be read off one table.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import pandas as pd

from bayesmeta import progress
from bayesmeta.engines.nuts import SamplerSettings
from bayesmeta.errors import BayesmetaError
from bayesmeta.io.counts import StudyData
from bayesmeta.io.reported import ReportedEffects
from bayesmeta.model import turner
from bayesmeta.model.description import ModelSpec
from bayesmeta.model.priors import Prior, check_scale_prior, parse_prior
from bayesmeta.model.scales import Scale
from bayesmeta.summaries.types import Summary
from bayesmeta.workflows.analyze import analyze_model

# Turner et al. (2015) priors are for log odds ratios only; on any other scale (logit
# proportions, log hazard ratios, SMDs...) exponential(2) (prior median of tau 0.35) takes its
# place.
TURNER_DEFAULT = "turner(all-cause mortality, pharmacological vs placebo/control)"
OTHER_DEFAULT = "exponential(2)"
COMMON_TAU_PRIORS = ("half-normal(0.5)", "half-normal(1)", "half-cauchy(0.5)")


def turner_table() -> pd.DataFrame:
    """Table IV of Turner et al. (2015, Stat Med 34:984-998) as a DataFrame: a row per outcome
    type and comparison (the marginal "any" row last) with ``log_tau2_mean``, ``log_tau2_sd``
    and ``prior``, the ``turner(...)`` text that :func:`bayesmeta.parse_prior` reads (a
    log-normal on tau with half those parameters), ready for :func:`prior_sensitivity`.

    >>> import bayesmeta
    >>> bayesmeta.turner_table().loc[0, "prior"]
    'turner(all-cause mortality, pharmacological vs. placebo / control)'
    """
    rows = [
        (outcome, comparison, m, s, f"turner({outcome}, {comparison})")
        for outcome, cells in turner.TABLE_IV.items()
        for comparison, (m, s) in zip(turner.COMPARISONS, cells, strict=True)
    ]
    rows.append((turner.ANY, None, *turner.MARGINAL, f"turner({turner.ANY})"))
    columns = ["outcome", "comparison", "log_tau2_mean", "log_tau2_sd", "prior"]
    return pd.DataFrame(rows, columns=columns)


def default_tau_priors(log_odds_ratio: bool = True) -> list[Prior]:
    """The tau priors compared when none are given.

    Parameters
    ----------
    log_odds_ratio
        True for log odds ratios (adds the Turner et al. all-cause mortality prior), False for
        any other scale (adds ``exponential(2)``).

    Returns
    -------
    list of Prior
        ``half-normal(0.5)``, ``half-normal(1)``, ``half-cauchy(0.5)`` and the fourth prior.
    """
    fourth = TURNER_DEFAULT if log_odds_ratio else OTHER_DEFAULT
    return [parse_prior(text) for text in (*COMMON_TAU_PRIORS, fourth)]


@dataclass(frozen=True)
class SensitivityRow:
    """One fit of a prior-sensitivity analysis: the tau prior and what it gave."""

    prior: Prior
    scale: Scale
    mu: Summary
    tau: Summary
    prob_mu_below_0: float
    converged: bool

    def to_dict(self) -> dict[str, Any]:
        """``{prior, measure, median, ci95, prob_mu_below_0, tau_median, tau_ci95, converged}``
        with the pooled effect on the shown scale (quantiles map exactly)."""
        show = self.scale.show
        return {
            "prior": str(self.prior),
            "measure": self.scale.label,
            "median": float(show(self.mu.median)),
            "ci95": [float(show(v)) for v in self.mu.interval],
            "prob_mu_below_0": self.prob_mu_below_0,
            "tau_median": self.tau.median,
            "tau_ci95": list(self.tau.interval),
            "converged": self.converged,
        }


def prior_sensitivity(
    data: StudyData | ReportedEffects,
    tau_priors: list[Prior] | None,
    *,
    settings: SamplerSettings,
    mu_prior: Prior | None = None,
    model: str = "auto",
    random_effects: str = "normal",
    nu_prior: Prior | None = None,
    engine: str = "auto",
) -> list[SensitivityRow]:
    """Fit ``data`` once per tau prior and summarise each fit in one row.

    Parameters
    ----------
    data
        Validated data from :func:`bayesmeta.load`.
    tau_priors
        Priors for tau, in the order of the rows; None: :func:`default_tau_priors` for the
        design of ``data``.
    settings
        NUTS settings, the same (seed included) for every fit.
    mu_prior
        Prior of the pooled effect; None: the model's default.
    model
        A registered likelihood (:mod:`bayesmeta.model.likelihoods`) or ``"auto"``.
    random_effects, nu_prior
        The distribution of the study effects (:mod:`bayesmeta.model.random_effects`) and,
        for Student-t ones, the prior of their degrees of freedom (None: the default).
    engine
        ``"nuts"``, ``"exact"`` or ``"auto"``, as for :func:`bayesmeta.analyze`: every refit
        uses it (``bayesmeta report --engine exact`` refits by quadrature, not by NUTS).

    Returns
    -------
    list of SensitivityRow
        One per tau prior, in order.
    """
    base = ModelSpec.describe(
        data, model=model, priors={"mu": mu_prior, "nu": nu_prior}, random_effects=random_effects
    )
    odds = base.scale.name == "log_odds_ratio"
    priors = tau_priors if tau_priors is not None else default_tau_priors(odds)
    if not priors:
        raise BayesmetaError("give at least one prior for tau")
    for prior in priors:
        check_scale_prior(prior, "tau")
    rows = []
    with progress.bar("Tau priors", len(priors)) as bar:
        for tau in priors:
            spec = replace(base, priors=replace(base.priors, tau=tau))
            result = analyze_model(
                spec, engine=engine, settings=settings, frequentist=("random_dl",)
            )
            post = result.posterior
            rows.append(
                SensitivityRow(
                    tau, result.scale, post.mu, post.tau, post.prob_mu_below_0, result.converged
                )
            )
            if bar is not None:
                bar.advance(str(tau))
    return rows
