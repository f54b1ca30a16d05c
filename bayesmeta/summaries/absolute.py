"""Absolute effects from the posterior of the log odds ratio, at control-group risks given.

At a control-group risk ``p0`` and a log odds ratio ``theta``, the risk with treatment is
``expit(logit(p0) + theta)``. On every posterior draw of ``theta = mu`` (the pooled effect)
and of ``theta = theta_new`` (the effect in a new study) this gives the posterior of the
treated risk, of the risk difference per 1,000 (``1000 (risk - p0)``) and of the risk ratio
(``risk / p0``): medians with equal-tailed intervals. The number needed to treat is
``1000 / |median risk difference per 1,000|``, with its direction: one event fewer (a benefit
when events are harmful: NNTB) or one more (NNTH) per that many treated.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special

from bayesmeta.errors import OptionError
from bayesmeta.summaries.draws import describe
from bayesmeta.summaries.types import DEFAULT_LEVEL, Summary

TRANSFORMATION = (
    "treated risk = expit(logit(p0) + theta) on each posterior draw, theta = mu (pooled) or "
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
    """``"0.05,0.20"`` -> ``(0.05, 0.2)`` (see :func:`check_baseline_risks`)."""
    return check_baseline_risks([t.strip() for t in text.split(",") if t.strip()])


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
            risk = special.expit(special.logit(p0) + np.asarray(theta, dtype=float).ravel())
            effects.append(
                AbsoluteEffect(
                    baseline_risk=p0,
                    of=of,
                    treated_risk=describe(risk, level=level),
                    risk_difference_per_1000=describe(1000 * (risk - p0), level=level),
                    risk_ratio=describe(risk / p0, level=level),
                )
            )
    return AbsoluteEffects(tuple(effects))
