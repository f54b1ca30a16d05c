"""Per-study effect sizes and their sampling variances (second pipeline step).

Matches R metafor's ``escalc`` (Viechtbauer 2010, J Stat Softw 36(3)) for the measures used
here: log odds ratio ("OR"), log risk ratio ("RR"), risk difference ("RD"; large-sample
variance, ``vtype = "LS"``) and logit proportion ("PLO") for single-arm data.

Continuity corrections (``correction``):

``"only0"``
    escalc's default: ``add`` (0.5) is added to all four cells of each study with a zero cell.
``"all"``
    ``add`` is added to all four cells of every study.
``"treatment-arm"``
    Treatment-arm continuity correction of Sweeting, Sutton & Lambert (2004, Stat Med
    23:1351, "What to add to nothing?"), applied to studies with a zero cell: a correction
    proportional to the reciprocal of the size of the opposite arm, scaled so the two arms'
    corrections sum to ``2 * add`` (1 by default): the treatment cells get
    ``2 * add * n_t / (n_t + n_c)``, the control cells ``2 * add * n_c / (n_t + n_c)``.
    With equal arms this is the ``"only0"`` correction.
``"none"``
    No correction; a study whose effect or variance is then undefined (a zero cell for OR/RR,
    zero variance for RD, 0 or all events for PLO) is dropped with that reason.

Double-zero studies (no events, or only events, in both arms) are kept with the correction,
as escalc does by default (``drop00 = FALSE``) for every measure; ``drop00=True`` drops them,
as escalc's ``drop00 = TRUE`` (for RD as well: ``rma.mh(measure = "RD")`` computes its Q so).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from bayesmeta.errors import BayesmetaError
from bayesmeta.io.counts import SingleArmData, TwoArmData
from bayesmeta.io.output import level_key

TWO_ARM_MEASURES = ("OR", "RR", "RD")
SINGLE_ARM_MEASURES = ("PLO",)
CORRECTIONS = ("only0", "all", "treatment-arm", "none")


@dataclass(frozen=True)
class EffectSizes:
    """Effects ``yi`` with sampling variances ``vi`` for the studies kept, in input order."""

    study: tuple[str, ...]
    yi: np.ndarray
    vi: np.ndarray
    measure: str
    correction: str
    corrected: tuple[str, ...]
    dropped: tuple[str, ...]
    reasons: tuple[str, ...] = ()

    @property
    def k(self) -> int:
        """Number of studies kept."""
        return len(self.study)

    def to_dict(self) -> dict:
        """JSON-ready summary: measure, correction, corrected and dropped studies, k."""
        out: dict = {
            "measure": self.measure,
            "correction": self.correction,
            "corrected": list(self.corrected),
            "dropped": list(self.dropped),
            "k": self.k,
        }
        if self.reasons:
            out["dropped_reasons"] = dict(zip(self.dropped, self.reasons, strict=True))
        return out


def _check_options(measure: str, correction: str, add: float, valid: tuple[str, ...]) -> None:
    if measure not in valid:
        raise BayesmetaError(
            f"unknown measure {measure!r} for this design; valid: {', '.join(valid)}"
        )
    if correction not in CORRECTIONS:
        raise BayesmetaError(
            f"unknown continuity correction {correction!r}; valid: {', '.join(CORRECTIONS)}"
        )
    if not (np.isfinite(add) and add >= 0):
        raise BayesmetaError(f"continuity correction add must be a number >= 0, got {add}")


def _increments(data: TwoArmData, correction: str, add: float) -> tuple[np.ndarray, np.ndarray]:
    """Amount added to each cell of the treatment and of the control arm, per study."""
    zero = data.zero_cell
    n_t = data.treatment_total.astype(float)
    n_c = data.control_total.astype(float)
    if correction == "all":
        return np.full(data.k, add), np.full(data.k, add)
    if correction == "only0":
        return np.where(zero, add, 0.0), np.where(zero, add, 0.0)
    if correction == "treatment-arm":
        inc_t = 2 * add * n_t / (n_t + n_c)
        return np.where(zero, inc_t, 0.0), np.where(zero, 2 * add - inc_t, 0.0)
    return np.zeros(data.k), np.zeros(data.k)


def _two_arm(data: TwoArmData, measure: str, inc_t: np.ndarray, inc_c: np.ndarray):
    """escalc formulas on the corrected 2x2 cells a, b (treatment) and c, d (control)."""
    a = data.treatment_events + inc_t
    b = data.treatment_total - data.treatment_events + inc_t
    c = data.control_events + inc_c
    d = data.control_total - data.control_events + inc_c
    n1, n2 = a + b, c + d
    with np.errstate(divide="ignore", invalid="ignore"):
        if measure == "OR":
            yi = np.log(a * d / (b * c))
            vi = 1 / a + 1 / b + 1 / c + 1 / d
        elif measure == "RR":
            yi = np.log(a / n1) - np.log(c / n2)
            vi = 1 / a - 1 / n1 + 1 / c - 1 / n2
        else:  # RD, large-sample variance
            p1, p2 = a / n1, c / n2
            yi = p1 - p2
            vi = p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2
    return yi, vi


def effect_sizes(
    data: TwoArmData | SingleArmData,
    *,
    measure: str = "OR",
    correction: str = "only0",
    add: float = 0.5,
    drop00: bool = False,
) -> EffectSizes:
    """Per-study effects and sampling variances, as metafor ``escalc``.

    Parameters
    ----------
    data
        Validated two-arm or single-arm counts.
    measure
        ``"OR"`` (log odds ratio), ``"RR"`` (log risk ratio), ``"RD"`` (risk difference) for
        two-arm data; ``"PLO"`` (logit proportion) for single-arm data (``"OR"``, the default,
        is read as ``"PLO"`` there).
    correction
        ``"only0"`` (escalc default), ``"all"``, ``"treatment-arm"`` (Sweeting et al. 2004) or
        ``"none"``; see the module docstring.
    add
        Size of the continuity correction (0.5).
    drop00
        Drop double-zero studies, as escalc's ``drop00 = TRUE``.

    Returns
    -------
    EffectSizes
        Studies kept, their ``yi`` and ``vi``, and which studies were corrected or dropped.

    Raises
    ------
    BayesmetaError
        Unknown measure or correction, or fewer than one usable study.
    """
    if isinstance(data, SingleArmData):
        return _single_arm(data, "PLO" if measure == "OR" else measure, correction, add)
    _check_options(measure, correction, add, TWO_ARM_MEASURES)
    inc_t, inc_c = _increments(data, correction, add)
    yi, vi = _two_arm(data, measure, inc_t, inc_c)
    reasons = np.full(data.k, "", dtype=object)
    if drop00:
        reasons[data.double_zero] = "double zero (no events in either arm)"
    undefined = ~(np.isfinite(yi) & np.isfinite(vi) & (vi > 0)) & (reasons == "")
    reasons[undefined] = "zero cell without continuity correction"
    keep = reasons == ""
    corrected = keep & ((inc_t > 0) | (inc_c > 0))
    return _result(data.study, yi, vi, measure, correction, keep, corrected, reasons)


def _single_arm(data: SingleArmData, measure: str, correction: str, add: float) -> EffectSizes:
    """Logit proportion ``log(x / (n - x))`` with variance ``1/x + 1/(n - x)`` (escalc "PLO")."""
    _check_options(measure, correction, add, SINGLE_ARM_MEASURES)
    x = data.events.astype(float)
    m = (data.total - data.events).astype(float)
    if correction == "all":
        inc = np.full(data.k, add)
    elif correction in ("only0", "treatment-arm"):
        inc = np.where(data.zero_cell, add, 0.0)
    else:
        inc = np.zeros(data.k)
    x, m = x + inc, m + inc
    with np.errstate(divide="ignore", invalid="ignore"):
        yi = np.log(x / m)
        vi = 1 / x + 1 / m
    reasons = np.where(np.isfinite(yi) & np.isfinite(vi), "", "0 or all events without correction")
    keep = reasons == ""
    return _result(data.study, yi, vi, measure, correction, keep, keep & (inc > 0), reasons)


def _result(study, yi, vi, measure, correction, keep, corrected, reasons) -> EffectSizes:
    names = np.asarray(study, dtype=object)
    if not keep.any():
        raise BayesmetaError(
            f"no study has a defined {measure} effect with correction {correction!r}"
        )
    return EffectSizes(
        study=tuple(names[keep]),
        yi=np.asarray(yi[keep], dtype=float),
        vi=np.asarray(vi[keep], dtype=float),
        measure=measure,
        correction=correction,
        corrected=tuple(names[corrected]),
        dropped=tuple(names[~keep]),
        reasons=tuple(reasons[~keep]),
    )


@dataclass(frozen=True)
class ObservedEffect:
    """One study's own estimate with its Wald interval at ``level``; ``corrected`` when 0.5
    was added to its cells (zero cell)."""

    estimate: float
    se: float
    interval: tuple[float, float]
    corrected: bool
    level: float = 0.95

    def to_dict(self) -> dict:
        """``{estimate, se, ci95, corrected}``."""
        return {
            "estimate": self.estimate,
            "se": self.se,
            level_key("ci", self.level): list(self.interval),
            "corrected": self.corrected,
        }


def wald_intervals(es: EffectSizes, *, level: float = 0.95) -> dict[str, ObservedEffect]:
    """Each study of ``es`` with its Wald interval at ``level``, by study name."""
    z = float(special.ndtri((1 + level) / 2))
    return {
        name: ObservedEffect(
            estimate=float(yi),
            se=float(np.sqrt(vi)),
            interval=(float(yi - z * np.sqrt(vi)), float(yi + z * np.sqrt(vi))),
            corrected=name in es.corrected,
            level=level,
        )
        for name, yi, vi in zip(es.study, es.yi, es.vi, strict=True)
    }
