"""Summaries of a network meta-analysis posterior: league table, ranks, SUCRA, model fit.

Every number is a function of the posterior draws of the basic parameters ``d`` (log odds
ratios against the reference), ``tau``, the study baselines ``alpha`` and the arms' effects
``delta`` (:mod:`bayesmeta.engines.network`):

- league table: for every ordered pair, the log odds ratio ``d_a - d_b`` (median, equal-tailed
  interval) and its predictive interval in a new study, ``d_a - d_b + tau * e``, ``e`` standard
  normal (drawn once per posterior draw, seeded);
- ranks: per draw, rank 1 is the best treatment: the largest ``d`` when the events are wanted
  (``higher_is_better``), the smallest otherwise; rank probabilities, the mean rank, SUCRA
  (Salanti et al. 2011: the mean of the cumulative rank probabilities over ranks 1 to T - 1)
  and P(best) = P(rank 1);
- fit (TSD2 section 3.1): the posterior mean residual deviance ``Dbar`` (binomial deviance
  against the saturated model, summed over arms; about the number of arms for a model that fits),
  ``pD = Dbar - D(rbar)`` with ``rbar`` the posterior mean fitted events, and ``DIC = Dbar + pD``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy.special import expit, xlogy

if TYPE_CHECKING:
    from bayesmeta.io.network import NetworkData


@dataclass(frozen=True)
class Interval:
    """Posterior mean, median, SD and equal-tailed interval of one quantity."""

    mean: float
    median: float
    sd: float
    lower: float
    upper: float

    @classmethod
    def of(cls, draws: np.ndarray, level: float) -> Interval:
        lo, mid, hi = np.quantile(draws, [(1 - level) / 2, 0.5, (1 + level) / 2])
        return cls(float(draws.mean()), float(mid), float(draws.std(ddof=1)), float(lo), float(hi))

    def to_dict(self) -> dict[str, float]:
        """JSON-ready fields."""
        return {
            "mean": self.mean,
            "median": self.median,
            "sd": self.sd,
            "lower": self.lower,
            "upper": self.upper,
        }


@dataclass(frozen=True)
class NetworkSummary:
    """What a network meta-analysis reports (see the module docstring)."""

    treatments: tuple[str, ...]
    reference: str
    higher_is_better: bool
    level: float
    d: dict[str, Interval]
    tau: Interval | None
    league: dict[tuple[str, str], tuple[Interval, Interval]]
    rank_prob: dict[str, list[float]]
    mean_rank: dict[str, float]
    sucra: dict[str, float]
    p_best: dict[str, float]
    resdev: float
    p_d: float
    dic: float
    n_arms: int

    @property
    def direction(self) -> str:
        """Which way ranks point, in words."""
        if self.higher_is_better:
            return "events are wanted: rank 1 has the highest odds of the event"
        return "events are harmful: rank 1 has the lowest odds of the event"

    def to_dict(self) -> dict[str, Any]:
        """The JSON ``network`` block (docs/json.md)."""
        return {
            "treatments": list(self.treatments),
            "reference": self.reference,
            "higher_is_better": self.higher_is_better,
            "direction": self.direction,
            "ci_level": self.level,
            "d": {t: v.to_dict() for t, v in self.d.items()},
            "tau": self.tau.to_dict() if self.tau is not None else None,
            "league": [
                {
                    "treatment": a,
                    "comparator": b,
                    "log_or": est.to_dict(),
                    "or": {
                        "median": float(np.exp(est.median)),
                        "lower": float(np.exp(est.lower)),
                        "upper": float(np.exp(est.upper)),
                    },
                    "predictive": {"lower": pred.lower, "upper": pred.upper},
                }
                for (a, b), (est, pred) in self.league.items()
            ],
            "ranks": {
                t: {
                    "probabilities": self.rank_prob[t],
                    "mean_rank": self.mean_rank[t],
                    "sucra": self.sucra[t],
                    "p_best": self.p_best[t],
                }
                for t in self.treatments
            },
            "fit": {
                "residual_deviance": self.resdev,
                "pD": self.p_d,
                "DIC": self.dic,
                "data_points": self.n_arms,
            },
        }


def _flat(values: np.ndarray) -> np.ndarray:
    """Draws of shape ``(chain, draw, ...)`` as ``(chain * draw, ...)``."""
    values = np.asarray(values)
    return values.reshape(values.shape[0] * values.shape[1], *values.shape[2:])


def residual_deviance(events: np.ndarray, total: np.ndarray, fitted: np.ndarray) -> np.ndarray:
    """Binomial residual deviance of fitted events ``fitted`` (``(..., arms)``), per arm."""
    r, n = events, total
    return 2 * (xlogy(r, r / fitted) + xlogy(n - r, (n - r) / (n - fitted)))


def deviance_fit(posterior: dict[str, np.ndarray], data: NetworkData) -> tuple[float, float]:
    """The posterior mean residual deviance ``Dbar`` and ``pD = Dbar - D(rbar)`` (module
    docstring) of the draws ``alpha`` and ``delta`` (``(chain, draw, ...)``) of any model of
    ``data`` (consistency or UME)."""
    alpha, delta = _flat(posterior["alpha"]), _flat(posterior["delta"])
    fitted = data.total * expit(alpha[:, data.arm_study] + delta)
    resdev = float(residual_deviance(data.events, data.total, fitted).sum(axis=1).mean())
    at_mean = float(residual_deviance(data.events, data.total, fitted.mean(axis=0)).sum())
    return resdev, resdev - at_mean


def rank_probabilities(d_all: np.ndarray, higher_is_better: bool) -> np.ndarray:
    """``(treatment, rank)`` probabilities from draws ``(draws, treatment)``; rank 0 = best."""
    score = -d_all if higher_is_better else d_all
    ranks = np.argsort(np.argsort(score, axis=1, kind="stable"), axis=1, kind="stable")
    n = d_all.shape[1]
    return np.stack([(ranks == r).mean(axis=0) for r in range(n)], axis=1)


def summarise(
    posterior: dict[str, np.ndarray],
    data: NetworkData,
    *,
    higher_is_better: bool = False,
    level: float = 0.95,
    seed: int = 1,
) -> NetworkSummary:
    """The summaries of the posterior draws ``posterior`` (``d``, ``tau`` unless fixed
    effect, ``alpha``, ``delta``; each ``(chain, draw, ...)``) of a model of ``data``."""
    treatments = data.treatments
    d = _flat(posterior["d"])
    d_all = np.concatenate([np.zeros((d.shape[0], 1)), d], axis=1)
    tau = _flat(posterior["tau"]) if "tau" in posterior else None
    noise = np.random.default_rng(seed).standard_normal(d.shape[0])
    league = {}
    for a, ta in enumerate(treatments):
        for b, tb in enumerate(treatments):
            if a == b:
                continue
            diff = d_all[:, a] - d_all[:, b]
            pred = diff + (tau * noise if tau is not None else 0.0)
            league[(ta, tb)] = (Interval.of(diff, level), Interval.of(pred, level))
    probs = rank_probabilities(d_all, higher_is_better)
    n_t = len(treatments)
    cumulative = np.cumsum(probs, axis=1)
    sucra = cumulative[:, :-1].sum(axis=1) / (n_t - 1)
    mean_rank = probs @ np.arange(1, n_t + 1)
    resdev, p_d = deviance_fit(posterior, data)
    return NetworkSummary(
        treatments=treatments,
        reference=data.reference,
        higher_is_better=higher_is_better,
        level=level,
        d={t: Interval.of(d[:, k], level) for k, t in enumerate(treatments[1:])},
        tau=Interval.of(tau, level) if tau is not None else None,
        league=league,
        rank_prob={t: [float(p) for p in probs[k]] for k, t in enumerate(treatments)},
        mean_rank={t: float(mean_rank[k]) for k, t in enumerate(treatments)},
        sucra={t: float(sucra[k]) for k, t in enumerate(treatments)},
        p_best={t: float(probs[k, 0]) for k, t in enumerate(treatments)},
        resdev=resdev,
        p_d=p_d,
        dic=resdev + p_d,
        n_arms=data.n_arms,
    )
