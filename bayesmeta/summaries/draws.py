"""Posterior summaries from draws: intervals, probabilities, odds-ratio scale, shrunken effects.

Plain numpy on the pooled draws of all chains. Equal-tailed intervals are the default (they map
exactly to the odds-ratio scale under ``exp``); highest-density intervals come from ArviZ on
request.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from xarray import DataTree

CI_PROB = 0.95


def describe(draws: np.ndarray, *, hdi: bool = False) -> dict[str, Any]:
    """Mean, median, SD and 95% equal-tailed interval of ``draws`` (and the 95% HDI if asked)."""
    x = np.asarray(draws, dtype=float).ravel()
    lo, med, hi = np.quantile(x, [(1 - CI_PROB) / 2, 0.5, (1 + CI_PROB) / 2])
    out: dict[str, Any] = {
        "mean": float(x.mean()),
        "median": float(med),
        "sd": float(x.std(ddof=1)),
        "ci95": [float(lo), float(hi)],
    }
    if hdi:
        out["hdi95"] = hdi_interval(x)
    return out


def hdi_interval(x: np.ndarray, prob: float = CI_PROB) -> list[float]:
    """Narrowest interval holding ``prob`` of the draws (ArviZ's HDI)."""
    import arviz_stats as azs

    lo, hi = np.asarray(azs.hdi(np.asarray(x, dtype=float), prob=prob)).ravel()
    return [float(lo), float(hi)]


def mapped_summary(summary: dict[str, Any], draws: np.ndarray, fn: Any) -> dict[str, Any]:
    """Summary of ``fn(draws)`` for a monotone increasing ``fn`` (``np.exp``, inverse logit).

    Quantiles map through ``fn`` exactly; mean and SD are recomputed from the mapped draws.
    """
    mapped = fn(np.asarray(draws, dtype=float).ravel())
    out = {
        "mean": float(mapped.mean()),
        "median": float(fn(summary["median"])),
        "sd": float(mapped.std(ddof=1)),
        "ci95": [float(fn(v)) for v in summary["ci95"]],
    }
    if "hdi95" in summary:
        out["hdi95"] = hdi_interval(mapped)
    return out


def inv_logit(x: Any) -> Any:
    """Inverse of the logit: log odds -> probability."""
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=float)))


@dataclass(frozen=True)
class PosteriorSummary:
    """What a meta-analyst reads off the posterior, on the model scale (log OR or logit).

    ``extra`` holds ``odds_ratio`` and ``predictive_odds_ratio`` (``exp(mu)``,
    ``exp(theta_new)``) or, for single-arm models, ``proportion`` and ``predictive_proportion``.
    ``theta`` maps each study to its shrunken effect. With subgroups there is no single ``mu``:
    ``mu``, ``theta_new`` and ``prob_mu_below_0`` are None and ``subgroups`` holds them per
    subgroup; with covariates ``mu`` is the effect at the covariate means and ``regression``
    holds the coefficients.
    """

    mu: dict[str, Any] | None
    tau: dict[str, Any] | None
    theta_new: dict[str, Any] | None
    prob_mu_below_0: float | None
    theta: dict[str, dict[str, Any]]
    scale: str
    extra: dict[str, Any]
    regression: dict[str, Any] | None = None
    subgroups: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON block ``posterior``."""
        out: dict[str, Any] = {"scale": self.scale}
        if self.mu is not None:
            out["mu"] = self.mu
        if self.tau is not None:
            out["tau"] = self.tau
        if self.theta_new is not None:
            out["theta_new"] = self.theta_new
        if self.prob_mu_below_0 is not None:
            out["prob_mu_below_0"] = self.prob_mu_below_0
            out["prob_mu_above_0"] = 1.0 - self.prob_mu_below_0
        out.update(self.extra)
        if self.regression is not None:
            out["regression"] = self.regression
        if self.subgroups is not None:
            out["subgroups"] = self.subgroups
        out["theta"] = self.theta
        return out


def _draws(idata: DataTree, name: str) -> np.ndarray:
    """Draws of ``name`` with chain and draw flattened (other dimensions kept)."""
    values = np.asarray(idata["posterior"][name])
    return values.reshape(-1, *values.shape[2:])


def scale_blocks(
    scale: str, mu: dict, mu_draws: np.ndarray, new: dict | None, new_draws: np.ndarray | None
) -> dict[str, Any]:
    """Odds-ratio (``exp``) or proportion (inverse-logit) versions of mu and theta_new."""
    names = {
        "log_odds_ratio": ("odds_ratio", "predictive_odds_ratio", np.exp),
        "logit_proportion": ("proportion", "predictive_proportion", inv_logit),
    }
    if scale not in names:
        return {}
    pooled, predictive, fn = names[scale]
    out = {pooled: mapped_summary(mu, mu_draws, fn)}
    if new is not None and new_draws is not None:
        out[predictive] = mapped_summary(new, new_draws, fn)
    return out


def with_probability(summary: dict[str, Any], draws: np.ndarray) -> dict[str, Any]:
    """``summary`` plus P(value < 0) from the draws."""
    return {**summary, "prob_below_0": float(np.mean(np.asarray(draws) < 0))}


def summarize(
    idata: DataTree, *, scale: str = "log_odds_ratio", hdi: bool = False
) -> PosteriorSummary:
    """Summaries of ``mu``, ``tau``, ``theta_new``, each study's ``theta`` and P(mu < 0), plus
    the regression coefficients and subgroup effects when the model has them.

    ``scale`` is ``"log_odds_ratio"`` (adds odds-ratio blocks) or ``"logit_proportion"``
    (adds proportion blocks); any other scale adds nothing.
    """
    post = idata["posterior"]
    theta = _draws(idata, "theta")
    studies = [str(s) for s in np.asarray(post["theta"].coords["study"])]
    thetas = {s: describe(theta[:, i]) for i, s in enumerate(studies)}
    tau = (
        describe(_draws(idata, "tau"), hdi=hdi) if "tau" in post and post["tau"].ndim == 2 else None
    )
    regression = _regression(idata, hdi) if "beta" in post else None
    if "subgroup" in post["mu"].dims:
        return PosteriorSummary(
            None, tau, None, None, thetas, scale, {}, regression, _subgroups(idata, scale, hdi)
        )
    mu, new = _draws(idata, "mu"), _draws(idata, "theta_new")
    mu_s, new_s = describe(mu, hdi=hdi), describe(new, hdi=hdi)
    return PosteriorSummary(
        mu=mu_s,
        tau=tau,
        theta_new=new_s,
        prob_mu_below_0=float(np.mean(mu < 0)),
        theta=thetas,
        scale=scale,
        extra=scale_blocks(scale, mu_s, mu, new_s, new),
        regression=regression,
    )


def _levels(idata: DataTree, dim: str) -> list[str]:
    return [str(v) for v in np.asarray(idata["posterior"].coords[dim])]


def _regression(idata: DataTree, hdi: bool) -> dict[str, Any]:
    """Slopes of the covariates and the intercept (effect at covariate value 0)."""
    beta = _draws(idata, "beta")
    coefs: dict[str, Any] = {}
    intercept = _draws(idata, "intercept")
    if intercept.ndim == 1:
        coefs["intercept"] = with_probability(describe(intercept, hdi=hdi), intercept)
    else:
        for g, level in enumerate(_levels(idata, "subgroup")):
            coefs[f"intercept[{level}]"] = with_probability(
                describe(intercept[:, g], hdi=hdi), intercept[:, g]
            )
    for j, name in enumerate(_levels(idata, "covariate")):
        coefs[name] = with_probability(describe(beta[:, j], hdi=hdi), beta[:, j])
    return {"coefficients": coefs}


def _subgroups(idata: DataTree, scale: str, hdi: bool) -> dict[str, Any]:
    """Per subgroup: mu, theta_new (and tau if separate); differences against the first."""
    post = idata["posterior"]
    mu, new = _draws(idata, "mu"), _draws(idata, "theta_new")
    levels = _levels(idata, "subgroup")
    separate = "tau" in post and "subgroup" in post["tau"].dims
    tau = _draws(idata, "tau") if separate else None
    out: dict[str, Any] = {"levels": {}, "differences": {}}
    for g, level in enumerate(levels):
        m, n = describe(mu[:, g], hdi=hdi), describe(new[:, g], hdi=hdi)
        block = {"mu": m, "theta_new": n, "prob_mu_below_0": float(np.mean(mu[:, g] < 0))}
        block.update(scale_blocks(scale, m, mu[:, g], n, new[:, g]))
        if tau is not None:
            block["tau"] = describe(tau[:, g], hdi=hdi)
        out["levels"][level] = block
    for g, level in enumerate(levels[1:], start=1):
        diff = mu[:, g] - mu[:, 0]
        d = with_probability(describe(diff, hdi=hdi), diff)
        if scale == "log_odds_ratio":
            d["ratio_of_odds_ratios"] = mapped_summary(d, diff, np.exp)
        out["differences"][f"{level} - {levels[0]}"] = d
    return out
