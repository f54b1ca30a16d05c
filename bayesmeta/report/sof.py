"""The summary-of-findings table (:mod:`bayesmeta.summaries.sof`) and the absolute effects
as cells of text: column headers and rows, which the report
(:mod:`bayesmeta.report.document`) and ``bayesmeta sof`` (:mod:`bayesmeta.report.sof_files`)
lay out. Every number is formatted here, none computed.
"""

from __future__ import annotations

import math

from bayesmeta.report.format import num, percent, probability
from bayesmeta.summaries.absolute import STUDIES, AbsoluteEffects
from bayesmeta.summaries.sof import SofRow, SummaryOfFindings
from bayesmeta.summaries.types import Summary

Cells = tuple[list[str], list[list[str]]]


def _count(n: int) -> str:
    return f"{n:,}"


def _difference(x: float) -> str:
    """``46 fewer`` / ``12 more`` / ``0 fewer`` (a difference per 1,000, rounded)."""
    r = round(x)
    return f"{abs(r)} {'more' if r > 0 else 'fewer'}"


def _participants(row: SofRow) -> str:
    n = "-" if row.participants is None else _count(row.participants)
    studies = f"{row.studies} {'study' if row.studies == 1 else 'studies'}"
    if row.participants is not None and row.sized < row.studies:
        studies += f"; sizes from {row.sized}"
    return f"{n} ({studies})"


def _relative(row: SofRow) -> str:
    s = row.relative
    return f"{row.relative_label} {num(s.median)} ({num(s.interval[0])} to {num(s.interval[1])})"


def _control(row: SofRow) -> str:
    per_1000 = f"{round(row.control_per_1000)} per 1,000"
    return f"{per_1000} (from the studies)" if row.effect.baseline_risk == STUDIES else per_1000


def _treated(s: Summary) -> str:
    lo, hi = (1000 * v for v in s.interval)
    return f"{round(1000 * s.median)} per 1,000 ({round(lo)} to {round(hi)})"


def _risk_difference(s: Summary) -> str:
    lo, hi = s.interval
    return f"{_difference(s.median)} per 1,000 (from {_difference(lo)} to {_difference(hi)})"


def _nnt(row: SofRow) -> str:
    nnt = row.effect.nnt
    return "-" if nnt is None else f"{row.nnt_label} {math.ceil(nnt)}"


def columns(sof: SummaryOfFindings) -> list[str]:
    """The column headers (with the interval level; the probability of benefit only with a
    benefit threshold)."""
    level = percent(sof.level)
    benefit = [] if sof.benefit is None else [f"P(benefit: {sof.benefit.describe()})"]
    return [
        "Outcome",
        "Participants (studies)",
        f"Relative effect ({level} CrI)",
        "Risk with control",
        f"Risk with treatment ({level} CrI)",
        f"Risk difference with treatment ({level} CrI)",
        "NNT",
        *benefit,
        "Certainty (GRADE)",
    ]


def sof_cells(sof: SummaryOfFindings) -> Cells:
    """The table's headers and rows: one row per outcome and control risk; the certainty
    cells left empty."""
    rows = []
    for row in sof.rows:
        e = row.effect
        rows.append(
            [
                row.outcome,
                _participants(row),
                _relative(row),
                _control(row),
                _treated(e.treated_risk),
                _risk_difference(e.risk_difference_per_1000),
                _nnt(row),
                *([] if sof.benefit is None else [probability(e.p_benefit)]),
                "",
            ]
        )
    return columns(sof), rows


def absolute_cells(absolute: AbsoluteEffects, level: float) -> Cells:
    """The absolute effects of an analysis (as the terminal prints them), headers and rows:
    each control risk, for the pooled effect and a new study."""
    harmful = absolute.benefit is None or absolute.benefit.fewer
    pct = percent(level)
    columns = [
        "Control risk",
        "Effect",
        f"Treated risk per 1,000 ({pct} CrI)",
        f"Difference per 1,000 ({pct} CrI)",
        f"RR ({pct} CrI)",
        "NNT",
    ]
    if absolute.benefit is not None:
        columns.append(f"P({absolute.benefit.describe()})")
    rows = []
    for e in absolute.effects:
        if e.control_risk is None:
            control = f"{round(1000 * float(e.baseline_risk))} per 1,000"
        else:
            lo, hi = (round(1000 * v) for v in e.control_risk.interval)
            control = f"studies: {round(1000 * e.control_risk.median)} per 1,000 ({lo} to {hi})"
        rr = e.risk_ratio
        nnt = e.nnt
        row = [
            control,
            "pooled" if e.of == "pooled" else "new study",
            _treated(e.treated_risk),
            _risk_difference(e.risk_difference_per_1000),
            f"{num(rr.median)} ({num(rr.interval[0])} to {num(rr.interval[1])})",
            "-" if nnt is None else f"{e.nnt_label(harmful)} {math.ceil(nnt)}",
        ]
        if absolute.benefit is not None:
            row.append(probability(e.p_benefit))
        rows.append(row)
    return columns, rows
