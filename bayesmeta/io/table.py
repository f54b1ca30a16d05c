"""Read a table (CSV file or DataFrame) as text and find the column of each role.

Shared by the count reader (:mod:`bayesmeta.io.counts`) and the reported-effects reader
(:mod:`bayesmeta.io.reported`). Two rules keep a table from being misread silently:

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
from pathlib import Path

import pandas as pd

from bayesmeta.errors import DataError
from bayesmeta.io.cells import plain, show, trim

STUDY = "study"


def normalise(name: object) -> str:
    """Lower case, non-alphanumeric runs to ``_``: "Experimental Events" -> experimental_events."""
    return re.sub(r"[^0-9a-z]+", "_", str(name).strip().lower()).strip("_")


def names(columns: Iterable[object]) -> str:
    """The column names of a table for a message, each quoted on one line."""
    return ", ".join(show(c, 40) for c in columns) or "none"


def read_table(
    source: str | Path | pd.DataFrame, study_aliases: Iterable[str] = ()
) -> tuple[pd.DataFrame, str]:
    """A CSV (every cell as text, exactly as written) or a copy of a DataFrame, and its name.

    A DataFrame's index is used as the study column when it is named like one (any of
    ``study_aliases``, e.g. after ``df.set_index("study")``), or when it is a non-default
    index of text and no column is named like a study column; any other index is dropped.
    """
    if isinstance(source, pd.DataFrame):
        return _frame(source, frozenset(study_aliases)), "data"
    path = Path(source)
    name = str(path)
    if path.is_dir():
        raise DataError("is a folder, not a CSV file", source=name)
    check_file(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DataError(
            "cannot read the file as UTF-8 text; save it as UTF-8 CSV", source=name
        ) from None
    except OSError as exc:
        raise DataError(f"cannot read the file: {exc.strerror or exc}", source=name) from None
    return parse_csv(text, name), name


def check_file(path: Path) -> None:
    """Refuse anything but an existing regular file, saying what it is: reading a named pipe
    would wait for a writer forever, and a device or socket is no data file.

    Raises
    ------
    DataError
        Not found, a folder, a named pipe (FIFO), a device or a socket.
    """
    import stat

    try:
        mode = path.stat().st_mode
    except OSError:
        raise DataError("file not found", source=str(path)) from None
    kinds = (
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISFIFO, "a named pipe (FIFO)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    )
    for test, kind in kinds:
        if test(mode):
            raise DataError(f"is {kind}, not a file; give a saved file", source=str(path))


def parse_csv(text: str, source: str = "data") -> pd.DataFrame:
    """Parse CSV text into a DataFrame of strings; see the module docstring for the rules."""
    reader = csv.reader(io.StringIO(text, newline=""), skipinitialspace=True)
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
    header = [trim(h) for h in rows[0][1]]
    if len(header) == 1 and ";" in header[0]:
        raise DataError(
            "the columns are separated by semicolons; bayesmeta reads comma-separated files",
            source=source,
        )
    if len(header) == 1 and "\t" in header[0]:
        raise DataError(
            "the columns are separated by tabs; bayesmeta reads comma-separated files",
            source=source,
        )
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
