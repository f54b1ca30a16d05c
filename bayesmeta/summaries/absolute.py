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

The control-group risk may also come from the studies (``--baseline-risk studies``,
:data:`STUDIES`): the posterior predictive control risk of the model's baselines, the control
risk of a study drawn at random from those analysed, ``p0 = expit(alpha_J)`` with ``J``
uniform over the studies. On every draw and every study, ``p0 = expit(alpha_i)`` and the
treated risk ``expit(alpha_i + theta)``; the summaries are over all (draw, study) pairs. The
binomial-normal model's baselines are fixed effects (no distribution of their own), so this is
the spread of the analysed studies' control risks, not that of a new population.

With a :class:`Benefit` (a clinically relevant difference per 1,000), each effect also has
the posterior probability of a benefit at least that large.
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
STUDIES = "studies"
STUDIES_TRANSFORMATION = (
    "control risk from the studies: the posterior predictive control risk of the model's "
    "baselines, p0 = expit(alpha_J) with J a study drawn uniformly (every draw and study: "
    "p0 = expit(alpha_i), treated risk = expit(alpha_i + theta))"
)


@dataclass(frozen=True)
class Benefit:
    """A clinically relevant benefit: at least ``threshold`` events per 1,000 fewer (``fewer``,
    events are harmful) or more (events are desirable) with treatment."""

    threshold: float
    fewer: bool = True

    def __post_init__(self) -> None:
        if not (isinstance(self.threshold, int | float) and 0 <= self.threshold < 1000):
            raise OptionError(
                f"--benefit-threshold: {self.threshold!r} is not a number of events per "
                "1,000 in [0, 1000)"
            )

    def holds(self, rd_per_1000: np.ndarray) -> np.ndarray:
        """Whether each risk difference per 1,000 is a benefit at least this large."""
        x = np.asarray(rd_per_1000, dtype=float)
        return x <= -self.threshold if self.fewer else x >= self.threshold

    def log_or_bound(self, p0: float) -> float:
        """The log odds ratio at which the difference at ``p0`` is the threshold (the benefit
        is ``theta <=`` it when ``fewer``, ``>=`` it otherwise; -/+inf when out of reach)."""
        p1 = p0 - self.threshold / 1000 if self.fewer else p0 + self.threshold / 1000
        if not 0 < p1 < 1:
            return -np.inf if self.fewer else np.inf
        return float(special.logit(p1) - special.logit(p0))

    def describe(self) -> str:
        """``"at least 10 fewer events per 1,000"``."""
        return f"at least {self.threshold:g} {'fewer' if self.fewer else 'more'} events per 1,000"


@dataclass(frozen=True)
class AbsoluteEffect:
    """The absolute effect of one log odds ratio (``of``: ``"pooled"`` or ``"new_study"``) at
    the control-group risk ``baseline_risk``."""

    baseline_risk: float | str
    of: str
    treated_risk: Summary
    risk_difference_per_1000: Summary
    risk_ratio: Summary
    control_risk: Summary | None = None
    p_benefit: float | None = None

    @property
    def nnt(self) -> float | None:
        """Number needed to treat for one event fewer or more (None: median difference 0)."""
        median = self.risk_difference_per_1000.median
        return 1000 / abs(median) if median != 0 else None

    @property
    def direction(self) -> str:
        """``"fewer"`` or ``"more"`` events with treatment (by the median difference)."""
        return "fewer" if self.risk_difference_per_1000.median < 0 else "more"

    @property
    def baseline_text(self) -> str:
        """The control-group risk as given on the command line (:func:`risk_text`)."""
        return risk_text(self.baseline_risk)

    def nnt_label(self, harmful: bool = True) -> str:
        """``NNTB`` or ``NNTH`` for this effect (:func:`nnt_label`)."""
        return nnt_label(self.direction, harmful)

    def to_dict(self, harmful: bool = True) -> dict[str, Any]:
        """``{treated_risk, risk_difference_per_1000, risk_ratio, nnt, nnt_direction,
        nnt_label}`` (``nnt_label`` NNTB or NNTH when the events are ``harmful``, or
        desirable), with ``control_risk`` for the risk from the studies and ``p_benefit``
        with a benefit."""
        out: dict[str, Any] = {}
        if self.control_risk is not None:
            out["control_risk"] = self.control_risk.to_dict()
        out |= {
            "treated_risk": self.treated_risk.to_dict(),
            "risk_difference_per_1000": self.risk_difference_per_1000.to_dict(),
            "risk_ratio": self.risk_ratio.to_dict(),
            "nnt": self.nnt,
            "nnt_direction": f"one event {self.direction} per nnt treated",
            "nnt_label": nnt_label(self.direction, harmful),
        }
        if self.p_benefit is not None:
            out["p_benefit"] = self.p_benefit
        return out


@dataclass(frozen=True)
class AbsoluteEffects:
    """Absolute effects at each control-group risk, for the pooled effect and a new study."""

    effects: tuple[AbsoluteEffect, ...]
    benefit: Benefit | None = None

    def at(self, baseline_risk: float | str, of: str = "pooled") -> AbsoluteEffect:
        """The effect at one control-group risk (as given) for ``of``."""
        for e in self.effects:
            if e.baseline_risk == baseline_risk and e.of == of:
                return e
        raise KeyError((baseline_risk, of))

    def to_dict(self) -> dict[str, Any]:
        """``{transformation, baseline_risks: {"0.05": {pooled, new_study}, ...}}`` (the risk
        from the studies under ``"studies"``, its definition in ``studies``; ``benefit``: the
        threshold of ``p_benefit``)."""
        risks: dict[str, dict[str, Any]] = {}
        for e in self.effects:
            harmful = self.benefit is None or self.benefit.fewer
            risks.setdefault(risk_text(e.baseline_risk), {})[e.of] = e.to_dict(harmful)
        out: dict[str, Any] = {"transformation": TRANSFORMATION, "baseline_risks": risks}
        if STUDIES in risks:
            out["studies"] = STUDIES_TRANSFORMATION
        if self.benefit is not None:
            out["benefit"] = self.benefit.describe()
        return out


def nnt_label(direction: str, harmful: bool = True) -> str:
    """``NNTB`` (treated per one more benefit) or ``NNTH`` (per one more harm) for a median
    difference of ``direction`` (``"fewer"`` / ``"more"`` events) when events are ``harmful``
    (or desirable)."""
    return "NNTB" if (direction == "fewer") == harmful else "NNTH"


def risk_text(risk: float | str) -> str:
    """A control-group risk as given on the command line: ``0.05``, ``studies``."""
    return risk if isinstance(risk, str) else format(risk, "g")


def check_baseline_risks(risks: Sequence[float | str]) -> tuple[float | str, ...]:
    """``risks`` as a tuple of floats, each strictly between 0 and 1, or :data:`STUDIES`
    (the control risks of the studies).

    Raises
    ------
    OptionError
        A risk that is not a number in (0, 1) nor ``studies``.
    """
    out: list[float | str] = []
    for r in risks:
        if isinstance(r, str) and r.strip().lower() == STUDIES:
            if STUDIES not in out:
                out.append(STUDIES)
            continue
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


def parse_baseline_risks(text: str) -> tuple[float | str, ...]:
    """``"0.05,0.20,studies"`` -> ``(0.05, 0.2, "studies")`` (:func:`check_baseline_risks`);
    at least one."""
    risks = check_baseline_risks([t.strip() for t in text.split(",") if t.strip()])
    if not risks:
        raise OptionError("--baseline-risk: give one or more risks, e.g. 0.05,0.20 or studies")
    return risks


def _maps(p0: float) -> dict[str, Any]:
    """Treated risk, risk difference per 1,000 and risk ratio as functions of the log OR."""

    def risk(theta: Any) -> Any:
        return special.expit(special.logit(p0) + np.asarray(theta, dtype=float))

    return {
        "treated_risk": risk,
        "risk_difference_per_1000": lambda t: 1000 * (risk(t) - p0),
        "risk_ratio": lambda t: risk(t) / p0,
    }


def _from_studies(
    alpha: np.ndarray, theta: np.ndarray, level: float, benefit: Benefit | None
) -> dict[str, Any]:
    """The summaries over every (draw, study) pair of control risk ``expit(alpha)`` and
    treated risk ``expit(alpha + theta)``."""
    a = np.asarray(alpha, dtype=float)
    a = a.reshape(-1, a.shape[-1])
    t = np.asarray(theta, dtype=float).reshape(-1, 1)
    p0, risk = special.expit(a), special.expit(a + t)
    rd = (1000 * (risk - p0)).ravel()
    return {
        "control_risk": describe(p0.ravel(), level=level),
        "treated_risk": describe(risk.ravel(), level=level),
        "risk_difference_per_1000": describe(rd, level=level),
        "risk_ratio": describe((risk / p0).ravel(), level=level),
        "p_benefit": float(np.mean(benefit.holds(rd))) if benefit is not None else None,
    }


def absolute_effects(
    mu: np.ndarray,
    theta_new: np.ndarray,
    baseline_risks: Sequence[float | str],
    *,
    level: float = DEFAULT_LEVEL,
    alpha: np.ndarray | None = None,
    benefit: Benefit | None = None,
) -> AbsoluteEffects:
    """The absolute effects of the draws of ``mu`` and ``theta_new`` (log odds ratios) at each
    control-group risk (module docstring); ``alpha``: the draws of the study baselines (last
    axis the studies, the other axes as ``mu``'s), needed for :data:`STUDIES`.

    Raises
    ------
    OptionError
        :data:`STUDIES` without ``alpha``.
    """
    effects = []
    for p0 in check_baseline_risks(baseline_risks):
        for of, theta in (("pooled", mu), ("new_study", theta_new)):
            if p0 == STUDIES:
                if alpha is None:
                    raise OptionError(
                        "--baseline-risk studies needs the study baselines of the "
                        "binomial-normal model (--model binomial-normal --engine nuts)"
                    )
                fields = _from_studies(alpha, theta, level, benefit)
            else:
                x = np.asarray(theta, dtype=float).ravel()
                values = {k: f(x) for k, f in _maps(p0).items()}
                fields = {k: describe(v, level=level) for k, v in values.items()}
                if benefit is not None:
                    rd = values["risk_difference_per_1000"]
                    fields["p_benefit"] = float(np.mean(benefit.holds(rd)))
            effects.append(AbsoluteEffect(p0, of, **fields))
    return AbsoluteEffects(tuple(effects), benefit)


def exact_absolute_effects(
    spec: ModelSpec,
    baseline_risks: Sequence[float | str],
    *,
    level: float = DEFAULT_LEVEL,
    benefit: Benefit | None = None,
) -> AbsoluteEffects:
    """The absolute effects of a model an exact engine integrates (normal-normal or
    binomial-normal, no moderators), exactly: each map is increasing in the log OR, so its
    quantiles are the mapped quantiles of the exact marginals of ``mu`` and ``theta_new``, and
    its mean and SD are integrated over their mixture components or quadrature nodes
    (:func:`bayesmeta.summaries.exact.shown_summary`); the probability of a benefit is the
    marginal's cdf at :meth:`Benefit.log_or_bound`."""
    from bayesmeta.model.scales import Scale
    from bayesmeta.summaries.crosscheck import quadrature
    from bayesmeta.summaries.exact import shown_summary, summary

    post = quadrature(spec).posterior(spec)
    new = post.mu if spec.common_effect else post.theta_new
    effects = []
    for p0 in check_baseline_risks(baseline_risks):
        if p0 == STUDIES:
            raise OptionError(
                "--baseline-risk studies needs the draws of the binomial-normal model's study "
                "baselines (--model binomial-normal --engine nuts)"
            )
        for of, marginal in (("pooled", post.mu), ("new_study", new)):
            value = summary(marginal, level=level)
            fields: dict[str, Any] = {
                k: shown_summary(Scale(k, k, f), value, marginal) for k, f in _maps(p0).items()
            }
            if benefit is not None:
                below = float(marginal.cdf(benefit.log_or_bound(p0)))
                fields["p_benefit"] = below if benefit.fewer else 1 - below
            effects.append(AbsoluteEffect(p0, of, **fields))
    return AbsoluteEffects(tuple(effects), benefit)
