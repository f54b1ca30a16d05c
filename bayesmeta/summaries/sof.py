"""A GRADE-style summary of findings from the posterior of one or more outcomes.

One row per outcome and control-group risk (Guyatt et al., GRADE guidelines 1 and 12, J Clin
Epidemiol 2011;64:383-394 and 2013;66:158-172): the
participants (studies), the relative effect with its interval, the anticipated absolute effects
(the risk with control and with treatment per 1,000, and their difference), the posterior
probability of a clinically relevant benefit at the threshold the user gives, and a certainty
column left empty: the reviewer rates it on the GRADE domains (:data:`GRADE_DOMAINS`);
bayesmeta does not rate certainty. Every number is a summary the analysis already computed
(:mod:`bayesmeta.summaries.absolute`): the rows only select and arrange them
(:func:`bayesmeta.workflows.sof.rows_of` builds them from an analysis).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from bayesmeta.summaries.absolute import AbsoluteEffect, Benefit, nnt_label
from bayesmeta.summaries.types import Summary

GRADE_DOMAINS = (
    "risk of bias",
    "inconsistency",
    "indirectness",
    "imprecision",
    "publication bias",
)
CERTAINTY_NOTE = (
    "Certainty of the evidence (GRADE): to be rated by the reviewer on "
    + ", ".join(GRADE_DOMAINS)
    + "; bayesmeta does not rate certainty"
)


@dataclass(frozen=True)
class SofRow:
    """One outcome at one control-group risk.

    ``relative`` is the posterior of the pooled relative effect on its shown scale
    (``relative_label``: the odds ratio, or the risk ratio at the control risk when the
    analysis asked for ``--measure RR``); ``effect`` the absolute effect of the pooled log odds
    ratio at ``effect.baseline_risk``. ``participants`` is None when the data do not give group
    sizes; ``sized`` is the number of studies that give them (fewer than ``studies`` when
    some reported only an estimate).
    """

    outcome: str
    studies: int
    participants: int | None
    sized: int
    relative_label: str
    relative: Summary
    effect: AbsoluteEffect
    harmful: bool = True

    @property
    def nnt_label(self) -> str:
        """``NNTB`` (number needed to treat for one more benefit) or ``NNTH`` (for one more
        harm), by the direction of the median difference and whether events are harmful."""
        return nnt_label(self.effect.direction, self.harmful)

    @property
    def control_per_1000(self) -> float:
        """The risk with control per 1,000 (the median risk from the studies for those)."""
        e = self.effect
        risk = e.control_risk.median if e.control_risk is not None else e.baseline_risk
        return 1000 * float(risk)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields (the certainty empty: the reviewer's)."""
        e = self.effect
        return {
            "outcome": self.outcome,
            "studies": self.studies,
            "participants": self.participants,
            "studies_with_sizes": self.sized,
            "relative_effect": {"measure": self.relative_label, **self.relative.to_dict()},
            "baseline_risk": e.baseline_risk,
            "risk_with_control_per_1000": self.control_per_1000,
            "risk_with_treatment_per_1000": _per_1000(e.treated_risk).to_dict(),
            "risk_difference_per_1000": e.risk_difference_per_1000.to_dict(),
            "nnt": e.nnt,
            "nnt_label": self.nnt_label,
            "p_benefit": e.p_benefit,
            "certainty": None,
        }


@dataclass(frozen=True)
class SummaryOfFindings:
    """The rows of a summary-of-findings table and what its footnotes say."""

    rows: tuple[SofRow, ...]
    level: float
    benefit: Benefit | None
    notes: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """``{rows, level, benefit, notes, certainty_domains}``."""
        return {
            "rows": [r.to_dict() for r in self.rows],
            "level": self.level,
            "benefit": self.benefit.describe() if self.benefit is not None else None,
            "certainty_domains": list(GRADE_DOMAINS),
            "notes": list(self.notes),
        }


def _per_1000(s: Summary) -> Summary:
    """A risk summary as events per 1,000."""
    return Summary(
        mean=1000 * s.mean,
        median=1000 * s.median,
        sd=1000 * s.sd,
        interval=(1000 * s.interval[0], 1000 * s.interval[1]),
        level=s.level,
    )


def participants(data: Any) -> tuple[int | None, int]:
    """The participants of two-arm counts (both arms' sizes summed) and the number of studies
    that gave them: mixed data (:class:`~bayesmeta.io.mixed.MixedData`) sum their count
    studies only; ``(None, 0)`` without sizes."""
    totals = [getattr(data, name, None) for name in ("treatment_total", "control_total")]
    if any(t is None for t in totals):
        return None, 0
    counted = np.asarray(getattr(data, "counted", np.ones(data.k, dtype=bool)), dtype=bool)
    n = int(sum(np.sum(np.asarray(t)[counted]) for t in totals))
    return n, int(counted.sum())
