"""``bayesmeta sof``'s files: the summary-of-findings table (:mod:`bayesmeta.report.sof`'s
cells) as Markdown, one self-contained HTML page or CSV.
"""

from __future__ import annotations

from pathlib import Path

from bayesmeta.errors import BayesmetaError
from bayesmeta.report.document import markdown_cell
from bayesmeta.report.sof import sof_cells
from bayesmeta.summaries.sof import GRADE_DOMAINS, SummaryOfFindings

FORMATS = (".md", ".html", ".csv")


def render_markdown(sof: SummaryOfFindings, title: str) -> str:
    """The table as Markdown with its footnotes."""
    headers, rows = sof_cells(sof)
    lines = [f"# {markdown_cell(title)}", ""]
    lines.append("| " + " | ".join(markdown_cell(c) for c in headers) + " |")
    lines.append("|" + "---|" * len(headers))
    lines += ["| " + " | ".join(markdown_cell(c) for c in row) + " |" for row in rows]
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
    headers, rows = sof_cells(sof)
    return env.get_template("sof.html").render(
        title=title, columns=headers, rows=rows, notes=sof.notes, domains=GRADE_DOMAINS
    )


def render_csv(sof: SummaryOfFindings) -> str:
    """The table as CSV: the cells as shown, then the numbers behind them, one row each (text
    a spreadsheet would run as a formula quoted, :func:`bayesmeta.io.output.spreadsheet_safe`)."""
    import pandas as pd

    from bayesmeta.io.output import spreadsheet_safe

    headers, cells = sof_cells(sof)
    records = []
    for shown, row in zip(cells, sof.rows, strict=True):
        e = row.effect
        risk, rd = e.treated_risk, e.risk_difference_per_1000
        numbers = {
            "relative_median": row.relative.median,
            "relative_lower": row.relative.interval[0],
            "relative_upper": row.relative.interval[1],
            "control_per_1000": row.control_per_1000,
            "treated_per_1000_median": 1000 * risk.median,
            "treated_per_1000_lower": 1000 * risk.interval[0],
            "treated_per_1000_upper": 1000 * risk.interval[1],
            "difference_per_1000_median": rd.median,
            "difference_per_1000_lower": rd.interval[0],
            "difference_per_1000_upper": rd.interval[1],
            "p_benefit": e.p_benefit,
        }
        records.append({**dict(zip(headers, shown, strict=True)), **numbers})
    table = spreadsheet_safe(pd.DataFrame.from_records(records))
    return table.to_csv(index=False, lineterminator="\n")


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
