"""Scales of the pooled effect: one registry that models, summaries, reports and plots read.

A model's ``mu`` and ``theta`` live on its scale (log odds ratio, logit proportion, log hazard
ratio...). The :class:`Scale` says how values are shown (``exp`` for log ratios, the inverse
logit for logits), the label of the shown values, and the names of the extra posterior blocks
on the shown scale (``odds_ratio``, ``proportion``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np


def inv_logit(x: Any) -> Any:
    """Inverse of the logit: log odds -> probability."""
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=float)))


def identity(x: Any) -> Any:
    """Values shown as they are."""
    return x


@dataclass(frozen=True)
class Scale:
    """One scale of ``mu``: its name (as in the JSON), how values are shown, and labels.

    ``show`` maps a value on this scale to the shown scale (monotone increasing); ``label``
    names the shown values (``"OR"``); ``pooled`` and ``predictive`` are the JSON names of the
    shown-scale summaries of ``mu`` and ``theta_new`` (None: not reported); ``below`` is how
    ``P(mu < 0)`` reads on the shown scale; ``ratio_of`` names the shown-scale summary of a
    difference of two ``mu`` (subgroups), if reported; ``axis`` is the axis title of plots
    (``"Odds ratio"``; the label when not set); ``digits`` the decimals of shown values in
    tables (4 for risk differences, which are often below 0.01); ``unit_interval``: shown
    values are probabilities (an axis from 0 to 1, no null value; ``below`` compares with 0.5);
    ``in_units``: values are in the outcome's own units (mean differences), so no default
    prior can be right for them.
    """

    name: str
    label: str
    show: Callable[[Any], Any]
    pooled: str | None = None
    predictive: str | None = None
    below: str = "P(mu < 0)"
    ratio_of: str | None = None
    axis: str | None = None
    digits: int = 2
    unit_interval: bool = False
    in_units: bool = False

    @property
    def log_ratio(self) -> bool:
        """Values are log ratios (shown as ratios on a log axis)."""
        return self.show is np.exp


SCALES: dict[str, Scale] = {
    s.name: s
    for s in (
        Scale(
            "log_odds_ratio",
            "OR",
            np.exp,
            "odds_ratio",
            "predictive_odds_ratio",
            "P(OR < 1)",
            "ratio_of_odds_ratios",
            "Odds ratio",
        ),
        Scale(
            "logit_proportion",
            "proportion",
            inv_logit,
            "proportion",
            "predictive_proportion",
            "P(p < 0.5)",
            axis="Proportion",
            unit_interval=True,
        ),
        Scale("log_risk_ratio", "RR", np.exp, axis="Risk ratio"),
        Scale(
            "log_rate_ratio",
            "IRR",
            np.exp,
            "rate_ratio",
            "predictive_rate_ratio",
            "P(IRR < 1)",
            "ratio_of_rate_ratios",
            "Incidence rate ratio",
        ),
        Scale(
            "risk_difference", "RD", identity, below="P(RD < 0)", axis="Risk difference", digits=4
        ),
        Scale("log_hazard_ratio", "HR", np.exp, axis="Hazard ratio"),
        Scale("log_ratio_of_means", "ROM", np.exp, axis="Ratio of means"),
        Scale("md", "MD", identity, axis="Mean difference", in_units=True),
        Scale("smd", "SMD", identity, axis="Standardised mean difference"),
    )
}
# measure of an effect size (escalc / reported input) -> scale name
MEASURE_SCALES = {
    "OR": "log_odds_ratio",
    "PLO": "logit_proportion",
    "RR": "log_risk_ratio",
    "IRR": "log_rate_ratio",
    "RD": "risk_difference",
    "HR": "log_hazard_ratio",
    "ROM": "log_ratio_of_means",
}


def scale(name: str) -> Scale:
    """The registered scale ``name``; any other (``smd``, ``md``, ``generic``...) is shown as
    is, labelled by its measure (``SMD``; ``effect`` for a generic estimate)."""
    label = "effect" if name == "generic" else name.upper()
    return SCALES.get(name) or Scale(name, label, identity)


def scale_of_measure(measure: str) -> Scale:
    """The scale of effect sizes of ``measure`` (``OR`` -> log odds ratio, ``SMD`` -> smd)."""
    return scale(MEASURE_SCALES.get(measure, measure.lower()))
