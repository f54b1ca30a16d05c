"""Prior sensitivity: the same meta-analysis refitted under several priors for tau.

With few studies the heterogeneity SD ``tau`` is weakly identified and its prior shapes the
width of the interval for the pooled effect. :func:`prior_sensitivity` fits the model once per
tau prior (same data, mu prior, baseline prior and seed) and returns one summary row per prior,
so the answer's dependence on the tau prior can be read off one table.
"""

from __future__ import annotations

from typing import Any

from bayesmeta.engines.nuts import SamplerSettings
from bayesmeta.errors import BayesmetaError
from bayesmeta.io.counts import SingleArmData, StudyData
from bayesmeta.io.reported import ReportedEffects
from bayesmeta.model.priors import Prior, PriorSet, check_scale_prior, parse_prior
from bayesmeta.report.terminal import scale_transform
from bayesmeta.workflows.analyze import analyze, default_priors, resolve_model

# Turner et al. (2015) priors are for log odds ratios; single-arm (logit proportion) analyses
# use exponential(2) (prior median of tau 0.35) in its place.
TURNER_DEFAULT = "turner(all-cause mortality, pharmacological vs placebo/control)"
COMMON_TAU_PRIORS = ("half-normal(0.5)", "half-normal(1)", "half-cauchy(0.5)")


def default_tau_priors(two_arm: bool = True) -> list[Prior]:
    """The tau priors compared when none are given.

    Parameters
    ----------
    two_arm
        True for log odds ratios (adds the Turner et al. all-cause mortality prior), False for
        logit proportions (adds ``exponential(2)``).

    Returns
    -------
    list of Prior
        ``half-normal(0.5)``, ``half-normal(1)``, ``half-cauchy(0.5)`` and the fourth prior.
    """
    fourth = TURNER_DEFAULT if two_arm else "exponential(2)"
    return [parse_prior(text) for text in (*COMMON_TAU_PRIORS, fourth)]


def prior_sensitivity(
    data: StudyData | ReportedEffects,
    tau_priors: list[Prior] | None,
    *,
    settings: SamplerSettings,
    mu_prior: Prior | None = None,
    model: str = "auto",
) -> list[dict[str, Any]]:
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
        ``"binomial-normal"``, ``"proportion"`` or ``"auto"``.

    Returns
    -------
    list of dict
        Per prior: ``prior`` (its text), ``measure`` (``"OR"``, ``"proportion"``, ``"HR"``...),
        ``median`` and ``ci95`` of the pooled effect on that scale (quantiles map exactly),
        ``prob_mu_below_0`` (P(OR < 1) for odds ratios), ``tau_median``, ``tau_ci95`` and
        ``converged``.
    """
    chosen = resolve_model(data, model)
    base = default_priors(chosen, data)
    proportion = isinstance(data, SingleArmData)
    priors = tau_priors if tau_priors is not None else default_tau_priors(not proportion)
    if not priors:
        raise BayesmetaError("give at least one prior for tau")
    for prior in priors:
        check_scale_prior(prior, "tau")
    rows = []
    for tau in priors:
        result = analyze(
            data,
            model=chosen,
            priors=PriorSet(mu=mu_prior or base.mu, tau=tau, baseline=base.baseline),
            settings=settings,
            frequentist=("random_dl",),
        )
        post = result.posterior
        fn, label = scale_transform(post.scale)
        rows.append(
            {
                "prior": str(tau),
                "measure": label,
                "median": float(fn(post.mu["median"])),
                "ci95": [float(fn(v)) for v in post.mu["ci95"]],
                "prob_mu_below_0": post.prob_mu_below_0,
                "tau_median": post.tau["median"],
                "tau_ci95": list(post.tau["ci95"]),
                "converged": result.converged,
            }
        )
    return rows
