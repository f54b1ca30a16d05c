"""Posterior summaries of the normal-normal model from the exact engine, typed as the NUTS ones
(:mod:`bayesmeta.summaries.draws`), so reports and JSON treat both engines alike.

Quantiles, medians and intervals are exact (quadrature). Means and SDs on the odds-ratio or
proportion scale are exact too: the posterior of ``mu`` (and of ``theta_new``) is a mixture of
normals, so ``E[exp(mu)]`` has a closed form and ``E[expit(mu)]`` is integrated by
Gauss-Hermite quadrature per component (:func:`shown`). Only intercepts of meta-regressions and
P(difference < 0) between subgroups come from 40,000 independent exact draws (Monte Carlo SE
below 0.3% of a posterior SD).
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np

from bayesmeta.engines import exact
from bayesmeta.errors import BayesmetaError
from bayesmeta.model.description import ModelSpec
from bayesmeta.model.moderators import Moderators
from bayesmeta.model.scales import Scale
from bayesmeta.summaries.draws import describe, difference, with_probability
from bayesmeta.summaries.types import (
    DEFAULT_LEVEL,
    Difference,
    PosteriorSummary,
    Subgroup,
    Summary,
)

N_DRAWS = 40_000
SEED = 20261127
GH_NODES = 64  # Gauss-Hermite nodes per mixture component for E[g(x)] on a shown scale
EDGE = 16  # the quadrature's last panel of tau nodes (exact.GL_X)
EDGE_SHARE = 1e-9  # a moment with more than this share there does not converge: inf


class _Shown(exact._Marginal):
    """``show(x)`` for ``x`` with the exact marginal ``marginal`` (``show`` increasing)."""

    def __init__(self, marginal: exact.NormalMixture, show: Any) -> None:
        self.marginal, self.show = marginal, show

    def ppf(self, q: np.ndarray | float) -> np.ndarray:
        return self.show(self.marginal.ppf(q))


def shown_summary(
    scale: Scale,
    value: Summary,
    marginal: exact.NormalMixture,
    *,
    edge: np.ndarray | None = None,
    edge_share: float = EDGE_SHARE,
) -> Summary:
    """``value`` (the summary of ``marginal``) on the shown scale, exactly.

    Quantiles map through ``scale.show``; for ``exp``, ``E[e^x] = sum_j w_j e^(m_j + s_j^2/2)``
    and ``E[e^2x] = sum_j w_j e^(2 m_j + 2 s_j^2)``, infinite (written as null) where they
    diverge: the last panel of tau's quadrature nodes still holds more than
    :data:`EDGE_SHARE` of ``E[e^x]`` (e.g. a flat prior on mu, whose ``Var[mu | tau]`` grows
    as ``tau^2``, with a tau prior heavier-tailed than a normal); any other map is
    integrated against each normal component by Gauss-Hermite quadrature (:data:`GH_NODES`
    nodes). ``edge`` marks the components at the end of tau's range where the quadrature
    orders them otherwise (default: the last :data:`EDGE`), ``edge_share`` the share of
    ``E[e^x]`` there beyond which the moment is infinite. The HDI, when asked for, is the
    shortest interval of the mapped quantiles.
    """
    w, m, sd = marginal.weight, marginal.means, marginal.sds
    if scale.log_ratio:
        with np.errstate(over="ignore"):  # a moment that does not exist is inf (JSON null)
            terms = w * np.exp(m + sd**2 / 2.0)
            mean = float(w @ np.exp(m + sd**2 / 2.0))
            second = float(w @ np.exp(2.0 * m + 2.0 * sd**2))
        if edge is None:
            edge = np.arange(len(w)) >= len(w) - EDGE if len(w) > EDGE else np.zeros(len(w), bool)
        if terms[edge].sum() > edge_share * mean:
            mean = second = math.inf  # the integrand still counts where tau's range ends
    else:
        x, h = np.polynomial.hermite.hermgauss(GH_NODES)
        values = scale.show(m[:, None] + math.sqrt(2.0) * sd[:, None] * x[None, :])
        h = h / math.sqrt(math.pi)
        mean = float(w @ (values @ h))
        second = float(w @ ((values**2) @ h))
    lo, hi = value.interval
    with np.errstate(over="ignore", invalid="ignore"):
        var = np.float64(second) - np.float64(mean) ** 2
    return Summary(
        mean=mean,
        median=float(scale.show(value.median)),
        sd=math.sqrt(max(float(var), 0.0)) if np.isfinite(var) else math.inf,
        interval=(float(scale.show(lo)), float(scale.show(hi))),
        level=value.level,
        hdi=_Shown(marginal, scale.show).hdi(value.level) if value.hdi is not None else None,
    )


def shown(
    scale: Scale,
    mu: Summary,
    mu_post: exact.NormalMixture,
    new: Summary,
    new_post: exact.NormalMixture,
) -> tuple[Summary | None, Summary | None]:
    """``mu`` and ``theta_new`` on the shown scale (odds ratio, proportion), if it has them."""
    if scale.pooled is None:
        return None, None
    return shown_summary(scale, mu, mu_post), shown_summary(scale, new, new_post)


def summary(marginal: Any, *, level: float = DEFAULT_LEVEL, hdi: bool = False) -> Summary:
    """Typed summary of one exact marginal posterior (``exact.NormalMixture`` or tau's)."""
    return Summary(
        mean=float(marginal.mean),
        median=marginal.median,
        sd=float(marginal.sd),
        interval=marginal.interval(level),
        level=level,
        hdi=marginal.hdi(level) if hdi else None,
    )


def study_summaries(
    mix: exact.NormalMixture, study: tuple[str, ...], *, level: float, hdi: bool
) -> dict[str, Summary]:
    """Summaries of each shrunken study effect (central intervals for all studies at once)."""
    means, sds = mix.moments()
    q = mix.ppf(np.array([(1 - level) / 2, 0.5, (1 + level) / 2]))
    return {
        name: Summary(
            mean=float(means[i]),
            median=float(q[i, 1]),
            sd=float(sds[i]),
            interval=(float(q[i, 0]), float(q[i, 2])),
            level=level,
            hdi=mix[i].hdi(level) if hdi else None,
        )
        for i, name in enumerate(study)
    }


def summarize(
    spec: ModelSpec,
    *,
    level: float = DEFAULT_LEVEL,
    hdi: bool = False,
    fitted: exact.ExactPosterior | None = None,
) -> tuple[PosteriorSummary, float]:
    """Exact posterior summaries and the log marginal likelihood of a normal-normal ``spec``.

    ``fitted`` is :func:`posterior` of ``spec`` when already computed (a model without
    moderators): summaries at another level then cost no quadrature.

    Raises
    ------
    BayesmetaError
        A combination the exact engine does not cover (common effect with moderators,
        separate tau per subgroup with covariates): use the NUTS engine.
    """
    if spec.family.exact != "exact":
        raise BayesmetaError(f"the exact engine cannot fit the {spec.likelihood} model")
    mods = spec.moderators
    if mods is None:
        return _plain(spec, level, hdi, fitted if fitted is not None else posterior(spec))
    if spec.common_effect:
        raise BayesmetaError(
            "the exact engine has no common-effect model with moderators; use --engine nuts"
        )
    if mods.group is not None and mods.separate_tau:
        if mods.x is not None:
            raise BayesmetaError("separate tau per subgroup with covariates needs --engine nuts")
        return _separate(spec, mods, level, hdi)
    return _regression(spec, mods, level, hdi)


def posterior(spec: ModelSpec) -> exact.ExactPosterior:
    """The exact posterior of a normal-normal ``spec`` without moderators."""
    y, v, study = spec.normal.y, spec.normal.v, spec.normal.study
    if spec.common_effect:
        return exact.common_effect_posterior(y, v, prior_mu=spec.priors.mu, study=study)
    return exact.nnhm_posterior(
        y, v, prior_mu=spec.priors.mu, prior_tau=spec.priors.tau, study=study
    )


def _plain(
    spec: ModelSpec, level: float, hdi: bool, post: exact.ExactPosterior
) -> tuple[PosteriorSummary, float]:
    study = spec.normal.study
    mu = summary(post.mu, level=level, hdi=hdi)
    new = summary(post.theta_new, level=level, hdi=hdi)
    pooled, predictive = shown(spec.scale, mu, post.mu, new, post.theta_new)
    result = PosteriorSummary(
        scale=spec.scale,
        theta=study_summaries(post.theta, study, level=level, hdi=hdi),
        mu=mu,
        tau=None if spec.common_effect else summary(post.tau, level=level, hdi=hdi),
        theta_new=new,
        prob_mu_below_0=post.prob_mu_below_0,
        pooled=pooled,
        predictive=predictive,
    )
    return result, post.log_marginal_likelihood


def _design(mods: Moderators, k: int) -> tuple[np.ndarray, list[str], int]:
    """Columns: one per subgroup (cell means) or an intercept, then the centred covariates."""
    if mods.group is not None:
        first = np.eye(len(mods.levels))[mods.group]
        names = [f"mu[{level}]" for level in mods.levels]
    else:
        first, names = np.ones((k, 1)), ["mu"]
    cols = [first] if mods.x is None else [first, mods.x]
    return np.column_stack(cols), [*names, *mods.names], first.shape[1]


def _metareg(spec: ModelSpec, mods: Moderators) -> tuple[exact.MetaRegressionPosterior, int]:
    """The exact meta-regression posterior of ``spec`` and its number of ``mu`` columns."""
    y, v, study = spec.normal.y, spec.normal.v, spec.normal.study
    x, names, n_mu = _design(mods, len(y))
    prior_beta = [spec.priors.mu] * n_mu + [mods.prior_beta] * (len(names) - n_mu)
    post = exact.metareg_posterior(
        y, v, x, prior_beta=prior_beta, prior_tau=spec.priors.tau, names=names, study=study
    )
    return post, n_mu


def fitted_posterior(spec: ModelSpec) -> Any:
    """The exact posterior object of a normal-normal ``spec`` (``ExactPosterior``, or
    ``MetaRegressionPosterior`` with moderators and one tau), for what the summaries do not
    hold (the posterior predictive checks)."""
    if spec.moderators is None:
        return posterior(spec)
    return _metareg(spec, spec.moderators)[0]


def _regression(
    spec: ModelSpec, mods: Moderators, level: float, hdi: bool
) -> tuple[PosteriorSummary, float]:
    study = spec.normal.study
    post, n_mu = _metareg(spec, mods)
    names = list(post.names)
    d = post.draws(N_DRAWS, seed=SEED)
    unit = np.eye(len(names))

    def coefficient(name: str) -> Summary:
        mix = post.coefficient(name)
        return replace(summary(mix, level=level, hdi=hdi), prob_below_0=float(mix.cdf(0.0)))

    def predicted(x: np.ndarray, new_study: bool) -> Summary:
        return summary(post.predict(x, new_study=new_study), level=level, hdi=hdi)

    def predictive_of(j: int) -> exact.NormalMixture:
        return post.predict(unit[j], new_study=True)

    coefficients = None
    if mods.x is not None:
        coefficients = {}
        for j, name in enumerate(names[:n_mu]):
            label = "intercept" if n_mu == 1 else f"intercept[{mods.levels[j]}]"
            c = unit[j].copy()
            c[n_mu:] = -mods.centers
            draws = d[name] - mods.centers @ np.array([d[b] for b in mods.names])
            coefficients[label] = with_probability(predicted(c, new_study=False), draws)
        for name in mods.names:
            coefficients[name] = coefficient(name)
    theta_new = {n: predicted(unit[j], new_study=True) for j, n in enumerate(names[:n_mu])}
    theta = study_summaries(post.theta, study, level=level, hdi=hdi)
    if mods.group is None:
        mu = replace(coefficient("mu"), prob_below_0=None)
        pooled, predictive = shown(
            spec.scale, mu, post.coefficient("mu"), theta_new["mu"], predictive_of(0)
        )
        result = PosteriorSummary(
            scale=spec.scale,
            theta=theta,
            mu=mu,
            tau=summary(post.tau, level=level, hdi=hdi),
            theta_new=theta_new["mu"],
            prob_mu_below_0=float(post.coefficient("mu").cdf(0.0)),
            pooled=pooled,
            predictive=predictive,
            coefficients=coefficients,
        )
        return result, post.log_marginal_likelihood
    groups = {}
    for j, group in enumerate(mods.levels):
        name = names[j]
        mu = replace(coefficient(name), prob_below_0=None)
        new = theta_new[name]
        pooled, predictive = shown(spec.scale, mu, post.coefficient(name), new, predictive_of(j))
        groups[group] = Subgroup(
            mu=mu,
            theta_new=new,
            prob_mu_below_0=float(post.coefficient(name).cdf(0.0)),
            pooled=pooled,
            predictive=predictive,
        )
    differences = {}
    for j, group in enumerate(mods.levels[1:], start=1):
        diff = d[names[j]] - d[names[0]]
        differences[f"{group} - {mods.levels[0]}"] = difference(
            spec.scale, predicted(unit[j] - unit[0], new_study=False), diff
        )
    result = PosteriorSummary(
        scale=spec.scale,
        theta=theta,
        tau=summary(post.tau, level=level, hdi=hdi),
        coefficients=coefficients,
        subgroups=groups,
        differences=differences,
    )
    return result, post.log_marginal_likelihood


def _separate(
    spec: ModelSpec, mods: Moderators, level: float, hdi: bool
) -> tuple[PosteriorSummary, float]:
    """Independent normal-normal fits per subgroup (each with its own mu and tau)."""
    y, v, study = spec.normal.y, spec.normal.v, spec.normal.study
    groups: dict[str, Subgroup] = {}
    draws: dict[str, np.ndarray] = {}
    theta: dict[str, Summary] = {}
    lml = 0.0
    names = np.asarray(study, dtype=object)
    for g, group in enumerate(mods.levels):
        keep = mods.group == g
        kept = tuple(names[keep])
        post = exact.nnhm_posterior(
            y[keep], v[keep], prior_mu=spec.priors.mu, prior_tau=spec.priors.tau, study=kept
        )
        d = post.draws(N_DRAWS, seed=SEED + g)
        mu = summary(post.mu, level=level, hdi=hdi)
        new = summary(post.theta_new, level=level, hdi=hdi)
        pooled, predictive = shown(spec.scale, mu, post.mu, new, post.theta_new)
        groups[group] = Subgroup(
            mu=mu,
            theta_new=new,
            prob_mu_below_0=post.prob_mu_below_0,
            pooled=pooled,
            predictive=predictive,
            tau=summary(post.tau, level=level, hdi=hdi),
        )
        draws[group] = d["mu"]
        theta.update(study_summaries(post.theta, kept, level=level, hdi=hdi))
        lml += post.log_marginal_likelihood
    differences: dict[str, Difference] = {}
    first = mods.levels[0]
    for group in mods.levels[1:]:
        diff = draws[group] - draws[first]
        differences[f"{group} - {first}"] = difference(
            spec.scale, describe(diff, level=level), diff
        )
    result = PosteriorSummary(
        scale=spec.scale,
        theta={s: theta[s] for s in study},
        subgroups=groups,
        differences=differences,
    )
    return result, lml


def probability(
    spec: ModelSpec, name: str, below: float, above: float, fitted: Any = None
) -> float:
    """P(``above`` < ``name`` < ``below``) from the exact marginal of ``mu``, ``tau`` or
    ``theta_new`` (model scale; :func:`bayesmeta.summaries.draws.probability` says more) of
    ``fitted``, the exact posterior of ``spec`` from either exact engine (None: the
    normal-normal one, computed here)."""
    if spec.moderators is not None:
        raise BayesmetaError(
            "probability() of an exact fit with moderators is not available; use engine='nuts'"
        )
    marginal = getattr(fitted if fitted is not None else posterior(spec), name)

    def cdf(x: float) -> float:
        if math.isinf(x):
            return 1.0 if x > 0 else 0.0
        return float(np.asarray(marginal.cdf(np.array([x]))).ravel()[0])

    return max(cdf(below) - cdf(above), 0.0)
