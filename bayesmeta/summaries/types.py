"""Typed posterior summaries: what a meta-analyst reads off a posterior, engine-independent.

The NUTS summaries (:mod:`bayesmeta.summaries.draws`) and the exact ones
(:mod:`bayesmeta.summaries.exact`) both produce these values; the terminal report, the plots and
the JSON writer read their fields. ``to_dict`` gives the JSON form documented in
``docs/json.md``, where an interval at level 0.95 is written as ``ci95`` (``hdi95``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bayesmeta.io.output import level_key
from bayesmeta.model.scales import Scale

DEFAULT_LEVEL = 0.95


def check_level(level: object) -> float:
    """``level`` if it is a probability strictly between 0 and 1 (an interval's level).

    Raises
    ------
    TypeError
        Not a number.
    OptionError
        Out of (0, 1), e.g. 95 for 0.95 (the message says so).
    """
    from bayesmeta.errors import OptionError

    if isinstance(level, bool) or not isinstance(level, int | float):
        raise TypeError(f"level must be a number such as 0.95, got {type(level).__name__}")
    if not 0 < level < 1:
        hint = f" (for {level:g}% write {level / 100:g})" if 1 < level < 100 else ""
        raise OptionError(f"level must be between 0 and 1, got {level:g}{hint}")
    return float(level)


@dataclass(frozen=True)
class Summary:
    """Posterior summary of one scalar quantity.

    ``interval`` is the equal-tailed interval at ``level``; ``hdi`` the highest-density
    interval at the same level, when asked for; ``prob_below_0`` is P(value < 0), reported for
    regression coefficients and subgroup differences.
    """

    mean: float
    median: float
    sd: float
    interval: tuple[float, float]
    level: float = DEFAULT_LEVEL
    hdi: tuple[float, float] | None = None
    prob_below_0: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """``{mean, median, sd, ci95[, hdi95][, prob_below_0]}``."""
        out: dict[str, Any] = {
            "mean": self.mean,
            "median": self.median,
            "sd": self.sd,
            level_key("ci", self.level): list(self.interval),
        }
        if self.hdi is not None:
            out[level_key("hdi", self.level)] = list(self.hdi)
        if self.prob_below_0 is not None:
            out["prob_below_0"] = self.prob_below_0
        return out


@dataclass(frozen=True)
class Difference:
    """Difference of two subgroups' ``mu`` and, for log odds ratios, its ratio of odds ratios."""

    summary: Summary
    ratio: Summary | None = None

    def to_dict(self, scale: Scale) -> dict[str, Any]:
        out = self.summary.to_dict()
        if self.ratio is not None and scale.ratio_of is not None:
            out[scale.ratio_of] = self.ratio.to_dict()
        return out


@dataclass(frozen=True)
class Subgroup:
    """Pooled effect, new-study effect (and tau with separate tau) of one subgroup."""

    mu: Summary
    theta_new: Summary
    prob_mu_below_0: float
    pooled: Summary | None = None
    predictive: Summary | None = None
    tau: Summary | None = None

    def to_dict(self, scale: Scale) -> dict[str, Any]:
        out: dict[str, Any] = {
            "mu": self.mu.to_dict(),
            "theta_new": self.theta_new.to_dict(),
            "prob_mu_below_0": self.prob_mu_below_0,
        }
        out.update(_shown(scale, self.pooled, self.predictive))
        if self.tau is not None:
            out["tau"] = self.tau.to_dict()
        return out


def _shown(scale: Scale, pooled: Summary | None, predictive: Summary | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if pooled is not None and scale.pooled is not None:
        out[scale.pooled] = pooled.to_dict()
    if predictive is not None and scale.predictive is not None:
        out[scale.predictive] = predictive.to_dict()
    return out


@dataclass(frozen=True)
class PosteriorSummary:
    """The posterior on the model scale (log OR, logit...) with shown-scale versions.

    ``pooled`` and ``predictive`` are ``mu`` and ``theta_new`` on the shown scale (odds ratio,
    proportion; None for scales shown as they are). ``theta`` maps each study to its shrunken
    effect. With subgroups there is no single ``mu``: ``mu``, ``theta_new`` and
    ``prob_mu_below_0`` are None and ``subgroups`` (by level) and ``differences`` (``"b - a"``,
    against the first level) hold them. With covariates ``mu`` is the effect at the covariate
    means and ``coefficients`` holds the intercept (effect at covariate value 0) and slopes.
    ``nu`` is the degrees of freedom of Student-t random effects (None for normal ones).
    """

    scale: Scale
    theta: dict[str, Summary]
    mu: Summary | None = None
    tau: Summary | None = None
    theta_new: Summary | None = None
    prob_mu_below_0: float | None = None
    pooled: Summary | None = None
    predictive: Summary | None = None
    coefficients: dict[str, Summary] | None = None
    subgroups: dict[str, Subgroup] | None = None
    differences: dict[str, Difference] | None = None
    nu: Summary | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON block ``posterior``."""
        out: dict[str, Any] = {"scale": self.scale.name}
        for name in ("mu", "tau", "nu", "theta_new"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value.to_dict()
        if self.prob_mu_below_0 is not None:
            out["prob_mu_below_0"] = self.prob_mu_below_0
            out["prob_mu_above_0"] = 1.0 - self.prob_mu_below_0
        out.update(_shown(self.scale, self.pooled, self.predictive))
        if self.coefficients is not None:
            out["regression"] = {
                "coefficients": {k: v.to_dict() for k, v in self.coefficients.items()}
            }
        if self.subgroups is not None:
            out["subgroups"] = {
                "levels": {k: v.to_dict(self.scale) for k, v in self.subgroups.items()},
                "differences": {
                    k: v.to_dict(self.scale) for k, v in (self.differences or {}).items()
                },
            }
        out["theta"] = {k: v.to_dict() for k, v in self.theta.items()}
        return out
