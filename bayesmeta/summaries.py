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

    ``odds_ratio`` and ``predictive_odds_ratio`` are ``exp(mu)`` and ``exp(theta_new)``; for
    single-arm models ``proportion`` and ``predictive_proportion`` hold the inverse-logit.
    ``theta`` maps each study to its shrunken effect.
    """

    mu: dict[str, Any]
    tau: dict[str, Any] | None
    theta_new: dict[str, Any]
    prob_mu_below_0: float
    theta: dict[str, dict[str, Any]]
    scale: str
    extra: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """JSON block ``posterior``."""
        out: dict[str, Any] = {"scale": self.scale, "mu": self.mu}
        if self.tau is not None:
            out["tau"] = self.tau
        out["theta_new"] = self.theta_new
        out["prob_mu_below_0"] = self.prob_mu_below_0
        out["prob_mu_above_0"] = 1.0 - self.prob_mu_below_0
        out.update(self.extra)
        out["theta"] = self.theta
        return out


def _draws(idata: DataTree, name: str) -> np.ndarray:
    """Draws of ``name`` with chain and draw flattened (study dimension kept last)."""
    da = idata["posterior"][name]
    values = np.asarray(da)
    return values.reshape(-1, *values.shape[2:])


def summarize(
    idata: DataTree, *, scale: str = "log_odds_ratio", hdi: bool = False
) -> PosteriorSummary:
    """Summaries of ``mu``, ``tau``, ``theta_new``, each study's ``theta`` and P(mu < 0).

    ``scale`` is ``"log_odds_ratio"`` (adds odds-ratio blocks) or ``"logit_proportion"``
    (adds proportion blocks); any other scale adds nothing.
    """
    post = idata["posterior"]
    mu = _draws(idata, "mu")
    new = _draws(idata, "theta_new")
    theta = _draws(idata, "theta")
    studies = [str(s) for s in np.asarray(post["theta"].coords["study"])]
    mu_s, new_s = describe(mu, hdi=hdi), describe(new, hdi=hdi)
    extra: dict[str, Any] = {}
    if scale == "log_odds_ratio":
        extra["odds_ratio"] = mapped_summary(mu_s, mu, np.exp)
        extra["predictive_odds_ratio"] = mapped_summary(new_s, new, np.exp)
    elif scale == "logit_proportion":
        extra["proportion"] = mapped_summary(mu_s, mu, inv_logit)
        extra["predictive_proportion"] = mapped_summary(new_s, new, inv_logit)
    return PosteriorSummary(
        mu=mu_s,
        tau=describe(_draws(idata, "tau"), hdi=hdi) if "tau" in post else None,
        theta_new=new_s,
        prob_mu_below_0=float(np.mean(mu < 0)),
        theta={s: describe(theta[:, i]) for i, s in enumerate(studies)},
        scale=scale,
        extra=extra,
    )
