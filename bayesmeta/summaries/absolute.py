"""Absolute effects from the posterior of the log odds ratio, at control-group risks given.

At a control-group risk ``p0`` and a log odds ratio ``theta``, the risk with treatment is
``expit(logit(p0) + theta)``. On every posterior draw of ``theta = mu`` (the pooled effect)
and of ``theta = theta_new`` (the effect in a new study) this gives the posterior of the
treated risk, of the risk difference per 1,000 (``1000 (risk - p0)``) and of the risk ratio
(``risk / p0``): medians with equal-tailed intervals. The number needed to treat is
``1000 / |median risk difference per 1,000|``, with its direction: one event fewer (a benefit
when events are harmful: NNTB) or one more (NNTH) per that many treated. The exact engine's
normal-normal posterior gives the same summaries without sampling
(:func:`exact_absolute_effects`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special

from bayesmeta.errors import OptionError
from bayesmeta.model.description import ModelSpec
from bayesmeta.summaries.draws import describe
from bayesmeta.summaries.types import DEFAULT_LEVEL, Summary

TRANSFORMATION = (
    "treated risk = expit(logit(p0) + theta) over the posterior of theta = mu (pooled) or "
    "theta_new (new study); risk difference per 1,000 = 1000 (risk - p0); risk ratio = "
    "risk / p0; NNT = 1000 / |median risk difference per 1,000|"
)


@dataclass(frozen=True)
class AbsoluteEffect:
    """The absolute effect of one log odds ratio (``of``: ``"pooled"`` or ``"new_study"``) at
    the control-group risk ``baseline_risk``."""

    baseline_risk: float
    of: str
    treated_risk: Summary
    risk_difference_per_1000: Summary
    risk_ratio: Summary

    @property
    def nnt(self) -> float | None:
        """Number needed to treat for one event fewer or more (None: median difference 0)."""
        median = self.risk_difference_per_1000.median
        return 1000 / abs(median) if median != 0 else None

    @property
    def direction(self) -> str:
        """``"fewer"`` or ``"more"`` events with treatment (by the median difference)."""
        return "fewer" if self.risk_difference_per_1000.median < 0 else "more"

    def to_dict(self) -> dict[str, Any]:
        """``{treated_risk, risk_difference_per_1000, risk_ratio, nnt, nnt_direction}``."""
        return {
            "treated_risk": self.treated_risk.to_dict(),
            "risk_difference_per_1000": self.risk_difference_per_1000.to_dict(),
            "risk_ratio": self.risk_ratio.to_dict(),
            "nnt": self.nnt,
            "nnt_direction": f"one event {self.direction} per nnt treated",
        }


@dataclass(frozen=True)
class AbsoluteEffects:
    """Absolute effects at each control-group risk, for the pooled effect and a new study."""

    effects: tuple[AbsoluteEffect, ...]

    def to_dict(self) -> dict[str, Any]:
        """``{transformation, baseline_risks: {"0.05": {pooled, new_study}, ...}}``."""
        risks: dict[str, dict[str, Any]] = {}
        for e in self.effects:
            risks.setdefault(format(e.baseline_risk, "g"), {})[e.of] = e.to_dict()
        return {"transformation": TRANSFORMATION, "baseline_risks": risks}


def check_baseline_risks(risks: Sequence[float]) -> tuple[float, ...]:
    """``risks`` as a tuple of floats, each strictly between 0 and 1.

    Raises
    ------
    OptionError
        A risk that is not a number in (0, 1).
    """
    out = []
    for r in risks:
        try:
            value = float(r)
        except (TypeError, ValueError):
            raise OptionError(f"--baseline-risk: {r!r} is not a number") from None
        if not 0 < value < 1:
            raise OptionError(
                f"--baseline-risk: {r} is not a risk strictly between 0 and 1 (e.g. 0.05)"
            )
        out.append(value)
    return tuple(out)


def parse_baseline_risks(text: str) -> tuple[float, ...]:
    """``"0.05,0.20"`` -> ``(0.05, 0.2)`` (see :func:`check_baseline_risks`); at least one."""
    risks = check_baseline_risks([t.strip() for t in text.split(",") if t.strip()])
    if not risks:
        raise OptionError("--baseline-risk: give one or more risks, e.g. 0.05,0.20")
    return risks


def _effect(p0: float, of: str, summaries: dict[str, Summary]) -> AbsoluteEffect:
    return AbsoluteEffect(p0, of, **summaries)


def _maps(p0: float) -> dict[str, Any]:
    """Treated risk, risk difference per 1,000 and risk ratio as functions of the log OR."""

    def risk(theta: Any) -> Any:
        return special.expit(special.logit(p0) + np.asarray(theta, dtype=float))

    return {
        "treated_risk": risk,
        "risk_difference_per_1000": lambda t: 1000 * (risk(t) - p0),
        "risk_ratio": lambda t: risk(t) / p0,
    }


def absolute_effects(
    mu: np.ndarray,
    theta_new: np.ndarray,
    baseline_risks: Sequence[float],
    *,
    level: float = DEFAULT_LEVEL,
) -> AbsoluteEffects:
    """The absolute effects of the draws of ``mu`` and ``theta_new`` (log odds ratios) at each
    control-group risk (module docstring)."""
    effects = []
    for p0 in check_baseline_risks(baseline_risks):
        for of, theta in (("pooled", mu), ("new_study", theta_new)):
            x = np.asarray(theta, dtype=float).ravel()
            summaries = {k: describe(f(x), level=level) for k, f in _maps(p0).items()}
            effects.append(_effect(p0, of, summaries))
    return AbsoluteEffects(tuple(effects))


def exact_absolute_effects(
    spec: ModelSpec, baseline_risks: Sequence[float], *, level: float = DEFAULT_LEVEL
) -> AbsoluteEffects:
    """The absolute effects of a normal-normal model without moderators, exactly: each map is
    increasing in the log OR, so its quantiles are the mapped quantiles of the exact marginals
    of ``mu`` and ``theta_new`` (mixtures of normals), and its mean and SD are integrated per
    component by Gauss-Hermite quadrature (:func:`bayesmeta.summaries.exact.shown_summary`)."""
    from bayesmeta.engines import exact
    from bayesmeta.model.scales import Scale
    from bayesmeta.summaries.exact import shown_summary, summary

    y, v, study = spec.normal.y, spec.normal.v, spec.normal.study
    if spec.common_effect:
        post = exact.common_effect_posterior(y, v, prior_mu=spec.priors.mu, study=study)
    else:
        post = exact.nnhm_posterior(
            y, v, prior_mu=spec.priors.mu, prior_tau=spec.priors.tau, study=study
        )
    effects = []
    for p0 in check_baseline_risks(baseline_risks):
        for of, marginal in (("pooled", post.mu), ("new_study", post.theta_new)):
            value = summary(marginal, level=level)
            summaries = {
                k: shown_summary(Scale(k, k, f), value, marginal) for k, f in _maps(p0).items()
            }
            effects.append(_effect(p0, of, summaries))
    return AbsoluteEffects(tuple(effects))
