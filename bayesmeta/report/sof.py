"""The summary-of-findings table (:mod:`bayesmeta.summaries.sof`) as text: a
:class:`~bayesmeta.report.document.Table` for the report, and Markdown, HTML (one
self-contained page) or CSV for ``bayesmeta sof``. Every number is formatted here, none
computed.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

from bayesmeta.errors import BayesmetaError
from bayesmeta.report.document import Table, markdown_cell
from bayesmeta.report.format import num, percent, probability
from bayesmeta.summaries.absolute import STUDIES, AbsoluteEffects, nnt_label
from bayesmeta.summaries.sof import GRADE_DOMAINS, SofRow, SummaryOfFindings
from bayesmeta.summaries.types import Summary

FORMATS = (".md", ".html", ".csv")


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


def sof_table(sof: SummaryOfFindings) -> Table:
    """The table: one row per outcome and control risk; the certainty cells left empty."""
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
    headers = columns(sof)
    return Table(headers, rows, [False] * len(headers))


def absolute_table(absolute: AbsoluteEffects, level: float) -> Table:
    """The absolute effects of an analysis (as the terminal prints them): each control risk,
    for the pooled effect and a new study."""
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
            "-" if nnt is None else f"{nnt_label(e.direction, harmful)} {math.ceil(nnt)}",
        ]
        if absolute.benefit is not None:
            row.append(probability(e.p_benefit))
        rows.append(row)
    return Table(columns, rows, [False] * len(columns))


def render_markdown(sof: SummaryOfFindings, title: str) -> str:
    """The table as Markdown with its footnotes."""
    t = sof_table(sof)
    lines = [f"# {markdown_cell(title)}", ""]
    lines.append("| " + " | ".join(markdown_cell(c) for c in t.columns) + " |")
    lines.append("|" + "---|" * len(t.columns))
    lines += ["| " + " | ".join(markdown_cell(c) for c in row) + " |" for row in t.rows]
    lines.append("")
    lines += [f"- {markdown_cell(note, literal=False)}" for note in sof.notes]
    return "\n".join(lines) + "\n"


def render_html(sof: SummaryOfFindings, title: str) -> str:
    """The table as one self-contained HTML page (no scripts, no external resources)."""
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    env = Environment(
        loader=PackageLoader("bayesmeta.report", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    return env.get_template("sof.html").render(
        title=title, sof=sof_table(sof), notes=sof.notes, domains=GRADE_DOMAINS
    )


def render_csv(sof: SummaryOfFindings) -> str:
    """The table as CSV: the cells as shown, then the numbers behind them, one row each."""
    t = sof_table(sof)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    numbers = [
        "relative_median",
        "relative_lower",
        "relative_upper",
        "control_per_1000",
        "treated_per_1000_median",
        "treated_per_1000_lower",
        "treated_per_1000_upper",
        "difference_per_1000_median",
        "difference_per_1000_lower",
        "difference_per_1000_upper",
        "p_benefit",
    ]
    writer.writerow([*t.columns, *numbers])
    for cells, row in zip(t.rows, sof.rows, strict=True):
        e = row.effect
        risk, rd = e.treated_risk, e.risk_difference_per_1000
        values = [
            row.relative.median,
            *row.relative.interval,
            row.control_per_1000,
            1000 * risk.median,
            *(1000 * v for v in risk.interval),
            rd.median,
            *rd.interval,
            e.p_benefit,
        ]
        writer.writerow([*cells, *("" if v is None else repr(float(v)) for v in values)])
    return out.getvalue()


def render(sof: SummaryOfFindings, out: Path, title: str) -> str:
    """The text of ``out`` by its suffix (.md, .html, .csv).

    Raises
    ------
    BayesmetaError
        Another suffix.
    """
    suffix = out.suffix.lower()
    if suffix == ".md":
        return render_markdown(sof, title)
    if suffix == ".html":
        return render_html(sof, title)
    if suffix == ".csv":
        return render_csv(sof)
    raise BayesmetaError(
        f"--out {out}: a summary of findings is .md, .html or .csv, got {out.suffix or 'none'}"
    )


def check_format(out: Path) -> None:
    """Refuse an output suffix :func:`render` cannot write, before any fitting."""
    if out.suffix.lower() not in FORMATS:
        raise BayesmetaError(
            f"--out {out}: a summary of findings is .md, .html or .csv, got {out.suffix or 'none'}"
        )
