"""Read a table (CSV, workbook, RevMan outcome or DataFrame) as text; find each role's column.

Shared by the count reader (:mod:`bayesmeta.io.counts`) and the reported-effects reader
(:mod:`bayesmeta.io.reported`). Every file becomes a table of cell texts first: a CSV in its
dialect (:mod:`bayesmeta.io.dialect`: separator, decimal comma, encoding), a workbook's sheet
(:mod:`bayesmeta.io.workbook`) or a RevMan 5 outcome (:mod:`bayesmeta.io.revman`), so that
every check of the readers applies to all of them alike. Two rules keep a table from being
misread silently:

- Every CSV row has at most as many fields as the header (extra *blank* fields, a trailing
  comma, are dropped): an unquoted comma inside a study name would otherwise shift every
  value one column to the right. Rows whose fields are all blank are skipped, like blank
  lines; row numbers in messages count the data rows that remain (1 = first row after the
  header).
- Each role (``treatment_events``, ``se``...) has exactly one column, and each column at most
  one role: two roles mapped to one column, or two columns spelled like one role (both
  ``treatment_events`` and ``ai``), are errors naming both. An explicit mapping settles which
  column a role uses; a column mapped explicitly to one role is not a candidate for another.
  For the study label, only the best-ranked spelling counts (a table with ``trial`` and
  ``author`` columns is common; the other is kept as a covariate).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from bayesmeta.errors import DataError
from bayesmeta.io import dialect
from bayesmeta.io.cells import plain, show, trim
from bayesmeta.io.workbook import is_workbook, read_sheets

STUDY = "study"


def normalise(name: object) -> str:
    """Lower case, non-alphanumeric runs to ``_``: "Experimental Events" -> experimental_events."""
    return re.sub(r"[^0-9a-z]+", "_", str(name).strip().lower()).strip("_")


def names(columns: Iterable[object]) -> str:
    """The column names of a table for a message, each quoted on one line."""
    return ", ".join(show(c, 40) for c in columns) or "none"


@dataclass(frozen=True)
class TableFile:
    """A data file and how to read it: a CSV, a workbook or a RevMan 5 review.

    ``sheet`` (workbooks) is a sheet's name or its number (1 = first); ``separator``,
    ``decimal`` and ``encoding`` (CSV) override what :mod:`bayesmeta.io.dialect` detects;
    ``outcome`` (RevMan) is an outcome's number (``1.2``) or name. Options that do not apply
    to the file are errors, so none is silently ignored.
    """

    path: Path
    sheet: str | None = None
    separator: str | None = None
    decimal: str | None = None
    encoding: str | None = None
    outcome: str | None = None

    def __fspath__(self) -> str:
        return str(self.path)


@dataclass(frozen=True)
class Table:
    """A table already read (every cell as text), its name for messages and what the reader
    noted on the way (a sheet chosen, rows above the header skipped, a file's dialect)."""

    frame: pd.DataFrame
    name: str
    notes: tuple[str, ...] = ()


Source = str | Path | pd.DataFrame | TableFile | Table


def read_table(
    source: Source,
    study_aliases: Iterable[str] = (),
    roles: Mapping[str, Iterable[str]] | None = None,
) -> tuple[pd.DataFrame, str]:
    """A table (every cell as text, exactly as written) or a copy of a DataFrame, and its name.

    A DataFrame's index is used as the study column when it is named like one (any of
    ``study_aliases``, e.g. after ``df.set_index("study")``), or when it is a non-default
    index of text and no column is named like a study column; any other index is dropped.
    ``roles`` (role -> normalised spellings) find the header row and sheet of a workbook; see
    :func:`read_source`.
    """
    table = read_source(source, study_aliases, roles)
    return table.frame, table.name


def read_source(
    source: Source,
    study_aliases: Iterable[str] = (),
    roles: Mapping[str, Iterable[str]] | None = None,
) -> Table:
    """:func:`read_table` with the reader's notes.

    A CSV's encoding, separator and decimal mark are detected (:mod:`bayesmeta.io.dialect`).
    In a workbook (:mod:`bayesmeta.io.workbook`) the header is the first row (of the first
    20) in which at least two columns are named like ``roles``; rows above it (a title) are
    skipped, with a note. Without ``sheet`` the sheet read is the first that has such a header
    (else the first that is not empty). A RevMan 5 file (``.rm5``) gives the table of one
    outcome (:mod:`bayesmeta.io.revman`).
    """
    if isinstance(source, Table):
        return Table(source.frame.copy(), source.name, source.notes)
    if isinstance(source, pd.DataFrame):
        return Table(_frame(source, frozenset(study_aliases)), "data")
    file = source if isinstance(source, TableFile) else TableFile(Path(source))
    path = file.path
    name = str(path)
    if path.is_dir():
        raise DataError("is a folder, not a data file", source=name)
    if not path.is_file():
        raise DataError("file not found", source=name)
    suffix = path.suffix.lower()
    if suffix == ".rm5":
        from bayesmeta.io import revman

        _refuse(file, ("sheet", "separator", "decimal", "encoding"), "a RevMan file")
        frame, where, note = revman.outcome_table(path, file.outcome)
        return Table(frame, where, (note,))
    _refuse(file, ("outcome",), "not a RevMan file (.rm5)")
    if suffix in UNREAD_WORKBOOKS:
        raise DataError(
            f"{suffix} workbooks are not read; save the sheet as .xlsx, .ods or .csv", source=name
        )
    if is_workbook(path):
        _refuse(file, ("separator", "decimal", "encoding"), "a workbook")
        return _read_workbook(file, roles or {})
    _refuse(file, ("sheet",), "not a workbook (.xlsx, .xls, .ods)")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read the file: {exc.strerror or exc}", source=name) from None
    text, encoding = dialect.decode(data, file.encoding, name)
    found = dialect.sniff(text, dialect.separator(file.separator), file.decimal, name)
    found = replace(found, encoding=encoding)
    notes = () if found == dialect.Dialect() else (f"{name}: read as {found.describe()}",)
    return Table(parse_csv(text, name, found), name, notes)


def _refuse(file: TableFile, options: tuple[str, ...], what: str) -> None:
    for option in options:
        if getattr(file, option) is not None:
            raise DataError(f"--{option} does not apply: the file is {what}", source=str(file.path))


def parse_csv(
    text: str, source: str = "data", dialect_: dialect.Dialect | None = None
) -> pd.DataFrame:
    """Parse CSV text into a DataFrame of strings; see the module docstring for the rules."""
    found = dialect_ or dialect.Dialect()
    reader = csv.reader(
        io.StringIO(text, newline=""), delimiter=found.separator, skipinitialspace=True
    )
    rows: list[tuple[int, list[str]]] = []
    try:
        for fields in reader:
            if any(trim(f) for f in fields):
                rows.append((reader.line_num, fields))
    except csv.Error as exc:
        raise DataError(
            f"cannot parse as CSV at line {reader.line_num}: {plain(exc)}", source=source
        ) from None
    if not rows:
        raise DataError("the file is empty", source=source)
    frame = rows_to_frame(rows, source)
    return _decimal_commas(frame, source) if found.decimal == "," else frame


def rows_to_frame(rows: list[tuple[int, list[str]]], source: str) -> pd.DataFrame:
    """The table of non-blank ``rows`` (line number, fields): the first is the header; see
    the module docstring for the rules."""
    header = [trim(h) for h in rows[0][1]]
    body = rows[1:]
    width = len(header)
    while width > 1 and header[width - 1] == "" and all(_blank_from(f, width - 1) for _, f in body):
        width -= 1  # a trailing comma on every line: an empty last column, not data
    header = [h or f"Unnamed: {i}" for i, h in enumerate(header[:width])]
    _unique_header(header, source)
    data: list[list[str]] = []
    for row, (line, fields) in enumerate(body, start=1):
        if len(fields) > width and not _blank_from(fields, width):
            raise DataError(
                f"{len(fields)} fields but the header has {width} (line {line}); a name or value "
                'that contains a comma must be in double quotes, e.g. "Smith, 2005"',
                source=source,
                row=row,
            )
        data.append((fields + [""] * width)[:width])
    return pd.DataFrame(data, columns=header, dtype=object)


def _decimal_commas(frame: pd.DataFrame, source: str) -> pd.DataFrame:
    """Numbers written with a decimal comma as plain numbers; a point in one is an error."""
    out = frame.copy()
    for column in out.columns:
        values = out[column].tolist()
        for i, raw in enumerate(values):
            try:
                values[i] = dialect.decimal_cell(raw)
            except ValueError as exc:
                raise DataError(str(exc), source=source, row=i + 1, column=column) from None
        out[column] = pd.Series(values, dtype=object)
    return out


UNREAD_WORKBOOKS = (".xlsb", ".numbers")  # workbook formats pandas reads only with other packages
HEADER_ROWS = 20  # a header is looked for in the first rows of a sheet


def _read_workbook(file: TableFile, roles: Mapping[str, Iterable[str]]) -> Table:
    name = str(file.path)
    sheets = read_sheets(file.path)
    rows_of = {
        sheet: [(i, r) for i, r in enumerate(rows, start=1) if any(trim(c) for c in r)]
        for sheet, rows in sheets.items()
    }
    spellings = {role: frozenset(aliases) for role, aliases in roles.items()}
    notes = []
    if file.sheet is not None:
        sheet = _sheet(file.sheet, list(sheets), name)
        header = _header(rows_of[sheet], spellings)
    else:
        found = [(s, _header(rows_of[s], spellings, strict=True)) for s in sheets]
        with_header = [(s, h) for s, h in found if h is not None]
        if with_header:
            sheet, header = with_header[0]
        else:
            sheet = next((s for s in sheets if rows_of[s]), next(iter(sheets)))
            header = 0
        if len(sheets) > 1:
            number = list(sheets).index(sheet) + 1
            why = "the first with the columns needed" if with_header else "the first not empty"
            notes.append(f"{name}: read sheet {sheet!r} ({number} of {len(sheets)}), {why}")
    where = f"{name} [sheet {sheet}]" if len(sheets) > 1 or file.sheet else name
    rows = rows_of[sheet]
    if not rows:
        raise DataError("the sheet is empty", source=where)
    assert header is not None
    if header:
        skipped = "; ".join(
            plain(" ".join(trim(c) for c in r if trim(c))) for _, r in rows[:header]
        )
        notes.append(
            f"{where}: the header is row {rows[header][0]}; skipped "
            f"{header} row{'s' if header > 1 else ''} above it: {skipped}"
        )
    rows = _without_empty_columns(rows[header:])
    return Table(rows_to_frame(rows, where), where, tuple(notes))


def _without_empty_columns(rows: list[tuple[int, list[str]]]) -> list[tuple[int, list[str]]]:
    """``rows`` without the columns that are blank in every row, header included (a table
    that starts in column B, a blank column between two parts of it)."""
    width = max(len(cells) for _, cells in rows)
    keep = [j for j in range(width) if any(j < len(c) and trim(c[j]) for _, c in rows)]
    return [(n, [cells[j] if j < len(cells) else "" for j in keep]) for n, cells in rows]


def _sheet(wanted: str, sheets: list[str], source: str) -> str:
    """The sheet named ``wanted``, or numbered so (1 = first)."""
    if wanted in sheets:
        return wanted
    text = trim(wanted)
    if text.isascii() and text.isdigit() and 1 <= int(text) <= len(sheets):
        return sheets[int(text) - 1]
    raise DataError(
        f"--sheet {show(wanted)}: no such sheet; the workbook has {names(sheets)} "
        f"(or give a number 1 to {len(sheets)})",
        source=source,
    )


def _header(
    rows: list[tuple[int, list[str]]],
    spellings: Mapping[str, frozenset[str]],
    *,
    strict: bool = False,
) -> int | None:
    """The index in ``rows`` of the first row naming at least two roles' columns (0 if none,
    or None with ``strict``)."""
    for i, (_, cells) in enumerate(rows[:HEADER_ROWS]):
        named = {normalise(c) for c in cells if trim(c)}
        if sum(1 for s in spellings.values() if named & s) >= 2:
            return i
    return None if strict else 0


def _blank_from(fields: list[str], start: int) -> bool:
    return all(not trim(f) for f in fields[start:])


def _unique_header(header: list[object], source: str) -> None:
    seen: dict[object, int] = {}
    for i, name in enumerate(header, start=1):
        if name in seen:
            raise DataError(
                f"two columns are named {show(name)} (columns {seen[name]} and {i}); rename one",
                source=source,
            )
        seen[name] = i


def _frame(frame: pd.DataFrame, study_aliases: frozenset[str]) -> pd.DataFrame:
    """A copy with a default index, the index moved into a study column where it is one."""
    _unique_header(list(frame.columns), "data")
    out = frame.copy()
    index = out.index
    if isinstance(index, pd.MultiIndex):
        raise DataError("the DataFrame has a MultiIndex; call reset_index() first", source="data")
    named_like_study = index.name is not None and normalise(index.name) in study_aliases
    has_study = any(normalise(c) in study_aliases for c in out.columns)
    text_index = (
        not isinstance(index, pd.RangeIndex)
        and len(index) > 0
        and all(isinstance(v, str) for v in index)
    )
    if named_like_study or (text_index and not has_study):
        column = index.name if index.name is not None else STUDY
        if column in out.columns:
            raise DataError(
                f"the DataFrame has both an index and a column named {show(column)}; "
                "drop one or call reset_index(drop=True)",
                source="data",
            )
        out.insert(0, column, list(index))
    return out.reset_index(drop=True)


def match_roles(
    frame: pd.DataFrame,
    roles: tuple[str, ...],
    aliases: Mapping[str, tuple[str, ...]],
    mapping: Mapping[str, str],
    source: str,
) -> dict[str, str]:
    """The column of each role found in ``frame`` (roles not found are left out).

    Parameters
    ----------
    frame
        The table; its column names are matched after :func:`normalise`.
    roles
        The roles to look for, in order (``study`` first if wanted).
    aliases
        Accepted normalised spellings per role, best first.
    mapping
        Explicit ``role -> column`` choices; they win over spellings.
    source
        Name of the table for messages.

    Raises
    ------
    DataError
        A mapped column not in the table; one column for two roles; two columns for one role.
    """
    columns = list(frame.columns)
    explicit: dict[str, str] = {}
    for role in roles:
        if role not in mapping:
            continue
        column = mapping[role]
        if column not in columns:
            raise DataError(
                f"column {show(column)} given for {role} is not in the data "
                f"(columns: {names(columns)})",
                source=source,
            )
        other = next((r for r, c in explicit.items() if c == column), None)
        if other is not None:
            raise DataError(
                f"column {show(column)} is mapped to both {other} and {role}; "
                "each role needs its own column",
                source=source,
            )
        explicit[role] = column
    found = dict(explicit)
    claimed = {c: r for r, c in explicit.items()}
    for role in roles:
        if role in explicit:
            continue
        candidates = _candidates(columns, aliases[role], best_only=role == STUDY)
        free = [c for c in candidates if c not in claimed]
        if len(free) > 1:
            raise DataError(
                f"columns {show(free[0])} and {show(free[1])} are both {role}; drop or rename "
                f"one, or choose with --columns {role}=NAME",
                source=source,
            )
        if free:
            found[role] = free[0]
            claimed[free[0]] = role
        elif candidates:
            column = candidates[0]
            raise DataError(
                f"column {show(column)} is mapped to {claimed[column]} but its name says "
                f"{role}; map {role} to another column (--columns {role}=NAME)",
                source=source,
            )
    return {role: found[role] for role in roles if role in found}


def has_roles(
    frame: pd.DataFrame,
    roles: tuple[str, ...],
    aliases: Mapping[str, tuple[str, ...]],
    mapping: Mapping[str, str],
) -> list[str]:
    """The roles that are mapped or have a column spelled like them (no conflict checks)."""
    columns = list(frame.columns)
    mapped = [r for r in roles if r in mapping and mapping[r] in columns]
    return [r for r in roles if r in mapped or _candidates(columns, aliases[r], best_only=False)]


def _candidates(columns: list[object], aliases: tuple[str, ...], *, best_only: bool) -> list:
    """Columns whose normalised name is one of ``aliases`` (best spelling first)."""
    ranked = sorted(
        (aliases.index(normalise(c)), i) for i, c in enumerate(columns) if normalise(c) in aliases
    )
    if best_only and ranked:
        ranked = [r for r in ranked if r[0] == ranked[0][0]]
    return [columns[i] for _, i in ranked]
