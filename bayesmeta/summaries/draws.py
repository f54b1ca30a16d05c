"""Posterior summaries from MCMC draws: intervals, probabilities, shown scale, shrunken effects.

Plain numpy on the pooled draws of all chains (:class:`~bayesmeta.engines.draws.Draws`, or a
DataTree, which is read as such). Equal-tailed intervals are the default (they map
exactly to the odds-ratio scale under ``exp``); highest-density intervals come from ArviZ on
request.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from bayesmeta.engines.draws import Draws, as_draws
from bayesmeta.model.scales import Scale
from bayesmeta.summaries.types import (
    DEFAULT_LEVEL,
    Difference,
    PosteriorSummary,
    Subgroup,
    Summary,
)

if TYPE_CHECKING:
    from xarray import DataTree


def describe(draws: np.ndarray, *, level: float = DEFAULT_LEVEL, hdi: bool = False) -> Summary:
    """Mean, median, SD and equal-tailed interval of ``draws`` (and the HDI if asked)."""
    x = np.asarray(draws, dtype=float).ravel()
    lo, med, hi = np.quantile(x, [(1 - level) / 2, 0.5, (1 + level) / 2])
    return Summary(
        mean=float(x.mean()),
        median=float(med),
        sd=float(x.std(ddof=1)),
        interval=(float(lo), float(hi)),
        level=level,
        hdi=hdi_interval(x, level) if hdi else None,
    )


def describe_columns(
    draws: np.ndarray, names: list[str], *, level: float = DEFAULT_LEVEL
) -> dict[str, Summary]:
    """:func:`describe` of each column of ``draws`` (draws x columns), named by ``names``.

    All columns at once (one quantile call, one mean, one SD), with the numbers
    :func:`describe` gives column by column: each column is reduced as one contiguous row, as
    :func:`describe` reduces it.
    """
    rows = np.ascontiguousarray(np.asarray(draws, dtype=float).T)
    lo, med, hi = np.quantile(rows, [(1 - level) / 2, 0.5, (1 + level) / 2], axis=1)
    mean, sd = rows.mean(axis=1), rows.std(axis=1, ddof=1)
    return {
        name: Summary(
            mean=float(mean[i]),
            median=float(med[i]),
            sd=float(sd[i]),
            interval=(float(lo[i]), float(hi[i])),
            level=level,
        )
        for i, name in enumerate(names)
    }


def hdi_interval(x: np.ndarray, level: float = DEFAULT_LEVEL) -> tuple[float, float]:
    """Narrowest interval holding ``level`` of the draws (ArviZ's HDI)."""
    import arviz_stats as azs

    lo, hi = np.asarray(azs.hdi(np.asarray(x, dtype=float), prob=level)).ravel()
    return float(lo), float(hi)


def mapped(summary: Summary, draws: np.ndarray, fn: Callable[[Any], Any]) -> Summary:
    """Summary of ``fn(draws)`` for a monotone increasing ``fn`` (``np.exp``, inverse logit).

    Quantiles map through ``fn`` exactly; mean and SD are recomputed from the mapped draws.
    """
    values = fn(np.asarray(draws, dtype=float).ravel())
    return Summary(
        mean=float(values.mean()),
        median=float(fn(summary.median)),
        sd=float(values.std(ddof=1)),
        interval=(float(fn(summary.interval[0])), float(fn(summary.interval[1]))),
        level=summary.level,
        hdi=hdi_interval(values, summary.level) if summary.hdi is not None else None,
    )


def with_probability(summary: Summary, draws: np.ndarray) -> Summary:
    """``summary`` with P(value < 0) from the draws."""
    return replace(summary, prob_below_0=float(np.mean(np.asarray(draws) < 0)))


def shown(
    scale: Scale, mu: Summary, mu_draws: np.ndarray, new: Summary, new_draws: np.ndarray
) -> tuple[Summary | None, Summary | None]:
    """``mu`` and ``theta_new`` on the shown scale (odds ratio, proportion), if it has them."""
    if scale.pooled is None:
        return None, None
    return mapped(mu, mu_draws, scale.show), mapped(new, new_draws, scale.show)


def difference(scale: Scale, summary: Summary, draws: np.ndarray) -> Difference:
    """A subgroup difference with P(< 0) and, for log odds ratios, the ratio of odds ratios."""
    summary = with_probability(summary, draws)
    ratio = mapped(summary, draws, scale.show) if scale.ratio_of is not None else None
    return Difference(summary, ratio)


def _draws(idata: Draws, name: str) -> np.ndarray:
    """Draws of ``name`` with chain and draw flattened (other dimensions kept)."""
    values = idata.posterior[name]
    return values.reshape(-1, *values.shape[2:])


def _levels(idata: Draws, dim: str) -> list[str]:
    return idata.labels(dim)


def summarize(
    idata: Draws | DataTree, *, scale: Scale, level: float = DEFAULT_LEVEL, hdi: bool = False
) -> PosteriorSummary:
    """Summaries of ``mu``, ``tau``, ``theta_new``, each study's ``theta`` and P(mu < 0), plus
    the regression coefficients, subgroup effects and ``nu`` (Student-t random effects) when
    the model has them."""
    idata = as_draws(idata)
    post = idata.posterior
    theta = _draws(idata, "theta")
    thetas = describe_columns(theta, _levels(idata, "study"), level=level)
    tau = None
    if "tau" in post and post["tau"].ndim == 2:
        tau = describe(_draws(idata, "tau"), level=level, hdi=hdi)
    nu = describe(_draws(idata, "nu"), level=level, hdi=hdi) if "nu" in post else None
    coefficients = _regression(idata, level, hdi) if "beta" in post else None
    if "subgroup" in idata.var_dims("mu"):
        subgroups, differences = _subgroups(idata, scale, level, hdi)
        return PosteriorSummary(
            scale=scale,
            theta=thetas,
            tau=tau,
            coefficients=coefficients,
            subgroups=subgroups,
            differences=differences,
            nu=nu,
        )
    mu, new = _draws(idata, "mu"), _draws(idata, "theta_new")
    mu_s, new_s = describe(mu, level=level, hdi=hdi), describe(new, level=level, hdi=hdi)
    pooled, predictive = shown(scale, mu_s, mu, new_s, new)
    return PosteriorSummary(
        scale=scale,
        theta=thetas,
        mu=mu_s,
        tau=tau,
        theta_new=new_s,
        prob_mu_below_0=float(np.mean(mu < 0)),
        pooled=pooled,
        predictive=predictive,
        coefficients=coefficients,
        nu=nu,
    )


def _regression(idata: Draws, level: float, hdi: bool) -> dict[str, Summary]:
    """Slopes of the covariates and the intercept (effect at covariate value 0)."""
    beta = _draws(idata, "beta")
    coefs: dict[str, Summary] = {}
    intercept = _draws(idata, "intercept")
    if intercept.ndim == 1:
        coefs["intercept"] = with_probability(describe(intercept, level=level, hdi=hdi), intercept)
    else:
        for g, name in enumerate(_levels(idata, "subgroup")):
            coefs[f"intercept[{name}]"] = with_probability(
                describe(intercept[:, g], level=level, hdi=hdi), intercept[:, g]
            )
    for j, name in enumerate(_levels(idata, "covariate")):
        coefs[name] = with_probability(describe(beta[:, j], level=level, hdi=hdi), beta[:, j])
    return coefs


def _subgroups(
    idata: Draws, scale: Scale, level: float, hdi: bool
) -> tuple[dict[str, Subgroup], dict[str, Difference]]:
    """Per subgroup: mu, theta_new (and tau if separate); differences against the first."""
    post = idata.posterior
    mu, new = _draws(idata, "mu"), _draws(idata, "theta_new")
    levels = _levels(idata, "subgroup")
    separate = "tau" in post and "subgroup" in idata.var_dims("tau")
    tau = _draws(idata, "tau") if separate else None
    groups: dict[str, Subgroup] = {}
    for g, name in enumerate(levels):
        m = describe(mu[:, g], level=level, hdi=hdi)
        n = describe(new[:, g], level=level, hdi=hdi)
        pooled, predictive = shown(scale, m, mu[:, g], n, new[:, g])
        groups[name] = Subgroup(
            mu=m,
            theta_new=n,
            prob_mu_below_0=float(np.mean(mu[:, g] < 0)),
            pooled=pooled,
            predictive=predictive,
            tau=describe(tau[:, g], level=level, hdi=hdi) if tau is not None else None,
        )
    differences = {}
    for g, name in enumerate(levels[1:], start=1):
        diff = mu[:, g] - mu[:, 0]
        differences[f"{name} - {levels[0]}"] = difference(
            scale, describe(diff, level=level, hdi=hdi), diff
        )
    return groups, differences


def probability(draws: Draws | DataTree, name: str, below: float, above: float) -> float:
    """P(``above`` < ``name`` < ``below``): the share of the draws of the scalar ``name``
    (``mu``, ``tau``, ``theta_new``) strictly between the two (``-inf``/``inf`` for one-sided).

    Raises
    ------
    BayesmetaError
        ``name`` is not a scalar of the posterior (with subgroups ``mu`` is one per subgroup).
    """
    from bayesmeta.errors import OptionError

    post = as_draws(draws).posterior
    if name not in post or post[name].ndim != 2:
        raise OptionError(
            f"probability() needs a single {name!r} in the posterior; this model has "
            f"{'one per subgroup' if name in post else 'none'}"
        )
    x = np.asarray(post[name], dtype=float).ravel()
    return float(np.mean((x > above) & (x < below)))
