"""One table model for every renderer: the terminal (rich), the HTML and the Markdown report.

A :class:`Table` is text only (every number already formatted): its column headers, rows of
cells, which columns are numbers (right-aligned), an optional title and notes printed under
it. :func:`to_rich` and :func:`print_table` render it on the terminal, :func:`to_html` and
:func:`to_markdown` as HTML and Markdown with the ``table`` macros of
``bayesmeta/report/templates/table.html`` and ``table.md``, which the report's templates use.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Table:
    """A table of text: column headers, rows of cells, which columns are numbers
    (right-aligned; the others left), title and notes."""

    columns: list[str]
    rows: list[list[str]]
    numeric: list[bool] = field(default_factory=list)
    title: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def align(self) -> list[str]:
        """``"right"`` for each numeric column, ``"left"`` for the others."""
        return ["right" if self.is_numeric(j) else "left" for j in range(len(self.columns))]

    def add_row(self, *cells: str) -> None:
        """Append a row of ``cells`` (a short row padded with blanks)."""
        self.rows.append([*cells, *[""] * (len(self.columns) - len(cells))])

    def is_numeric(self, j: int) -> bool:
        """Whether column ``j`` holds numbers (columns not listed in ``numeric`` are text)."""
        return j < len(self.numeric) and self.numeric[j]


def table(
    columns: list[str],
    rows: list[list[str]],
    first_text: int = 1,
    *,
    title: str | None = None,
    notes: list[str] | None = None,
) -> Table:
    """A :class:`Table` whose first ``first_text`` columns are text and the others numbers;
    a short row is padded with blank cells."""
    numeric = [j >= first_text for j in range(len(columns))]
    padded = [[*row, *[""] * (len(columns) - len(row))] for row in rows]
    return Table(columns, padded, numeric, title, list(notes or ()))


def to_rich(t: Table, **options: Any) -> Any:
    """``t`` as a :class:`rich.table.Table`: borderless, title on the left (``options``
    override those settings, e.g. ``pad_edge=True``); the notes are not part of it."""
    from rich.table import Table as RichTable

    settings: dict[str, Any] = {"title_justify": "left", "box": None, "pad_edge": False}
    out = RichTable(title=t.title, **{**settings, **options})
    for column, align in zip(t.columns, t.align, strict=True):
        out.add_column(column, justify=align)
    for row in t.rows:
        out.add_row(*row)
    return out


def print_table(t: Table, console: Any, **options: Any) -> None:
    """Print ``t`` on the rich ``console`` (:func:`to_rich`), then each note on its line."""
    console.print(to_rich(t, **options))
    for note in t.notes:
        console.print(note)


def markdown_cell(text: object, literal: bool = True) -> str:
    """Text safe inside a Markdown table cell, on one line: ``|``, ``<``, ``>`` and
    backslashes escaped, and with ``literal`` (text such as study names) every other markup
    character too, so it prints exactly as given."""
    out = str(text).replace("\\", "\\\\")
    for ch in "|<>" + ("*_`[]#~" if literal else ""):
        out = out.replace(ch, "\\" + ch)
    return " ".join(out.splitlines())


def environment() -> Any:
    """The Jinja2 environment of the report's templates (``bayesmeta/report/templates``):
    HTML autoescaped, undefined names an error, the ``md`` filter (:func:`markdown_cell`)."""
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    env = Environment(
        loader=PackageLoader("bayesmeta.report", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["md"] = markdown_cell
    return env


def to_html(t: Table, css_class: str = "") -> str:
    """``t`` as an HTML ``<table>`` (cells escaped), its notes as paragraphs after it."""
    return str(environment().get_template("table.html").module.table(t, css_class))


def to_markdown(t: Table) -> str:
    """``t`` as a Markdown table (cells escaped), its notes as paragraphs after it."""
    return str(environment().get_template("table.md").module.table(t))
