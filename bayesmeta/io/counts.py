"""Read and validate study-level data: two-arm 2x2 counts and single-arm proportions.

First step of the pipeline (read -> effect sizes -> model -> fit -> summaries -> report).
Everything downstream can assume the counts here are valid integers with
``0 <= events <= total`` and ``total > 0``, at least two studies and unique study names.
Zero cells and double-zero studies are valid: the binomial models use them as they are.

Repeated study labels (multi-arm trials, common author-year labels) are kept and renamed
``"label [2]"``... (:mod:`bayesmeta.io.multiarm`); what the reader noticed but accepted is in
the data's ``warnings``: repeated labels, control arms shared by the comparisons of a multi-arm
trial, and counts that carry no information on the effect (:mod:`bayesmeta.io.information`).
How each cell is read is in :mod:`bayesmeta.io.cells`, how the table and its columns are read
in :mod:`bayesmeta.io.table`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from bayesmeta.errors import DataError
from bayesmeta.io import multiarm
from bayesmeta.io.cells import (
    CellError,
    is_missing,
    is_number_text,
    parse_count,
    parse_label,
    plain,
    trim,
)
from bayesmeta.io.information import information_warnings
from bayesmeta.io.studies import TWO_ARM_COLUMNS, SingleArmData, StudyData, TwoArmData
from bayesmeta.io.table import Source, has_roles, match_roles, names, normalise
from bayesmeta.io.table import read_table as _read_table

SINGLE_ARM_COLUMNS = ("events", "total")
# the data classes live in bayesmeta.io.studies; this module reads them from tables
__all__ = [
    "SINGLE_ARM_COLUMNS",
    "TWO_ARM_COLUMNS",
    "SingleArmData",
    "StudyData",
    "TwoArmData",
    "detect_design",
    "load",
    "read_table",
    "read_with_roles",
]

# Accepted spellings, after normalisation (lower case, runs of non-alphanumerics -> "_").
# metafor: ai, n1i, ci, n2i / xi, ni; RevMan exports: "Experimental Events", "Control Total";
# meta (R): event.e, n.e, event.c, n.c.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "study": (
        "study",
        "studlab",
        "study_id",
        "study_or_subgroup",
        "author",
        "authors",
        "trial",
        "name",
        "label",
    ),
    "treatment_events": (
        "treatment_events",
        "ai",
        "event_e",
        "events_e",
        "event_t",
        "events_t",
        "experimental_events",
        "intervention_events",
        "treated_events",
        "tpos",
        "xt",
        "r1",
        "e_events",
    ),
    "treatment_total": (
        "treatment_total",
        "n1i",
        "n_e",
        "n_t",
        "experimental_total",
        "intervention_total",
        "treated_total",
        "nt",
        "n1",
        "e_total",
    ),
    "control_events": (
        "control_events",
        "ci",
        "event_c",
        "events_c",
        "cpos",
        "xc",
        "r2",
        "c_events",
    ),
    "control_total": ("control_total", "n2i", "n_c", "nc", "n2", "c_total"),
    "events": ("events", "xi", "event", "responders", "successes", "r", "x"),
    "total": ("total", "ni", "n", "patients", "sample_size"),
}

Design = Literal["auto", "two-arm", "single-arm"]


def _normalise(name: str) -> str:
    return normalise(name)


def read_table(source: Source) -> tuple[pd.DataFrame, str]:
    """Read a CSV (all cells as text, so validation sees what the user wrote) or a DataFrame.

    See :func:`bayesmeta.io.table.read_table`; a DataFrame index named like a study column
    (``df.set_index("study")``) becomes the study column.
    """
    return _read_table(source, SYNONYMS["study"], SYNONYMS)


def read_with_roles(
    source: Source,
    columns: Mapping[str, str] | None,
    roles: Mapping[str, tuple[str, ...]],
) -> tuple[pd.DataFrame, str, dict[str, str]]:
    """Read the table and check an explicit column mapping names only known ``roles``."""
    mapping = dict(columns or {})
    study_names = list(roles.get("study", SYNONYMS["study"]))
    if "study" in mapping:
        study_names.append(normalise(mapping["study"]))
    mapped = {f"column {c}": (normalise(c),) for c in mapping.values()}
    frame, name = _read_table(source, study_names, {**roles, **mapped})
    unknown = set(mapping) - set(roles)
    if unknown:
        raise DataError(
            f"unknown column role(s) {', '.join(plain(r) for r in sorted(unknown, key=str))}; "
            f"valid: {', '.join(roles)}",
            source=name,
        )
    if frame.shape[1] == 0:
        raise DataError("the file is empty", source=name)
    if not looks_like_data(frame, mapping, roles):
        raise DataError(
            "does not look like a table of studies: no column of its header has a known "
            "name; expected a table whose first row names the columns, e.g. "
            "study,treatment_events,treatment_total,control_events,control_total or "
            "study,yi,se (map other names with --columns ROLE=NAME)",
            source=name,
        )
    return frame, name, mapping


def looks_like_data(
    frame: pd.DataFrame,
    mapping: Mapping[str, str] | None = None,
    roles: Mapping[str, tuple[str, ...]] = SYNONYMS,
) -> bool:
    """Some column is named like one of the reader's ``roles`` (or a count column), or is
    mapped to one.

    Messages about a table that fails this quote none of its text: a file that is not a
    table of studies (a specification pointing at ``/etc/shadow``) must not be echoed.
    """
    known = {alias for table in (roles, SYNONYMS) for a in table.values() for alias in a}
    columns = set(frame.columns)
    return any(normalise(c) in known for c in columns) or any(
        c in columns for c in (mapping or {}).values()
    )


def _match_columns(
    frame: pd.DataFrame, roles: tuple[str, ...], mapping: Mapping[str, str], source: str
) -> dict[str, str]:
    """Map each role (canonical name) to a column of ``frame``; roles not found are left out."""
    return match_roles(frame, roles, SYNONYMS, mapping, source)


def detect_design(frame: pd.DataFrame, mapping: Mapping[str, str] | None = None) -> str:
    """'two-arm' if the four count columns are present, 'single-arm' if events/total are."""
    mapping = dict(mapping or {})
    two = has_roles(frame, TWO_ARM_COLUMNS, SYNONYMS, mapping)
    if len(two) == len(TWO_ARM_COLUMNS):
        return "two-arm"
    one = has_roles(frame, SINGLE_ARM_COLUMNS, SYNONYMS, mapping)
    if len(one) == len(SINGLE_ARM_COLUMNS):
        return "single-arm"
    return "two-arm" if two else "single-arm" if one else "unknown"


def _integers(
    frame: pd.DataFrame, column: str, role: str, studies: list[str], source: str
) -> np.ndarray:
    """Parse a count column (:func:`bayesmeta.io.cells.parse_count`); locate any bad cell.

    Counts are below ``2**53``, so they stay exact as floats (and within int64) and the effect
    sizes and likelihoods downstream see the number that was written.
    """
    out = np.empty(len(frame), dtype=np.int64)
    for i, raw in enumerate(frame[column].tolist()):
        try:
            out[i] = parse_count(raw, role)
        except CellError as exc:
            raise DataError(
                str(exc), source=source, row=i + 1, study=studies[i], column=column
            ) from None
    return out


def study_labels(frame: pd.DataFrame, column: str | None, source: str) -> list[str]:
    """The study labels as written (``Study 1``... without a study column); located errors."""
    if column is None:
        return [f"Study {i + 1}" for i in range(len(frame))]
    out = []
    for i, raw in enumerate(frame[column].tolist()):
        try:
            out.append(parse_label(raw))
        except CellError as exc:
            raise DataError(str(exc), source=source, row=i + 1, column=column) from None
    return out


def _studies(frame: pd.DataFrame, column: str | None, source: str) -> list[str]:
    """Unique study names: the labels, repeats renamed ``"label [2]"`` (see multiarm)."""
    return list(multiarm.disambiguate(study_labels(frame, column, source)))


def _check_totals(
    events: np.ndarray, total: np.ndarray, cols: tuple[str, str], studies: list[str], source: str
) -> None:
    for i in range(len(total)):
        if total[i] == 0:
            raise DataError(
                "total must be at least 1, got 0",
                source=source,
                row=i + 1,
                study=studies[i],
                column=cols[1],
            )
        if events[i] > total[i]:
            raise DataError(
                f"events ({events[i]}) exceed the total ({total[i]}) in column {names([cols[1]])}",
                source=source,
                row=i + 1,
                study=studies[i],
                column=cols[0],
            )


def _missing(
    roles: tuple[str, ...], found: Mapping[str, str], frame: pd.DataFrame, source: str
) -> None:
    missing = [r for r in roles if r not in found]
    if missing:
        raise DataError(
            f"missing column(s) {', '.join(missing)}; found {names(frame.columns)} "
            "(map yours with --columns ROLE=NAME)",
            source=source,
        )


def load(
    source: str | Path | pd.DataFrame,
    *,
    design: Design = "auto",
    columns: Mapping[str, str] | None = None,
    split_shared_control: bool = False,
) -> StudyData:
    """Read and validate study data from a CSV path or a pandas DataFrame.

    Parameters
    ----------
    source
        Path to a CSV file, or a DataFrame (an index named like a study column is used as
        the study names).
    design
        ``"two-arm"`` (``study,treatment_events,treatment_total,control_events,control_total``),
        ``"single-arm"`` (``study,events,total``) or ``"auto"`` to decide from the columns.
    columns
        Explicit mapping from canonical names (``treatment_events``, ``study``...) to the
        column names in the data; other roles are found by their common spellings
        (metafor ``ai,n1i,ci,n2i`` / ``xi,ni``; RevMan "Experimental Events"...).
    split_shared_control
        Divide a control arm shared by the comparisons of a multi-arm trial (rows with the
        same label and control counts) between them, as the Cochrane Handbook v6.4, section
        23.3.4, describes (:func:`bayesmeta.io.multiarm.split_shared_control`). Two-arm
        counts only: single-arm data get a warning that nothing was split.

    Returns
    -------
    TwoArmData or SingleArmData
        Validated counts; every other column is kept as a study covariate; ``warnings`` lists
        repeated labels, shared control arms and counts without information on the effect.

    Raises
    ------
    DataError
        With the row and column of the first problem found.
    """
    frame, name, mapping = read_with_roles(source, columns, SYNONYMS)
    if design == "auto":
        detected = detect_design(frame, mapping)
        design = "two-arm" if detected == "unknown" else detected  # type: ignore[assignment]
    roles = TWO_ARM_COLUMNS if design == "two-arm" else SINGLE_ARM_COLUMNS
    found = _match_columns(frame, ("study", *roles), mapping, name)
    _missing(roles, found, frame, name)
    if len(frame) == 0:
        raise DataError("no studies: the file has a header but no rows", source=name)
    labels = study_labels(frame, found.get("study"), name)
    studies = list(multiarm.disambiguate(labels))
    counts = {r: _integers(frame, found[r], r, studies, name) for r in roles}
    pairs = (
        [("treatment_events", "treatment_total"), ("control_events", "control_total")]
        if design == "two-arm"
        else [("events", "total")]
    )
    for ev, tot in pairs:
        _check_totals(counts[ev], counts[tot], (found[ev], found[tot]), studies, name)
    if len(frame) < 2:
        raise DataError(f"a meta-analysis needs at least 2 studies, got {len(frame)}", source=name)
    covariates = frame.drop(columns=list(found.values())).reset_index(drop=True)
    covariates = covariates.apply(_numeric_if_possible)
    common = {
        "study": tuple(studies),
        "covariates": covariates,
        "source": name,
        "label_of": {s: lab for s, lab in zip(studies, labels, strict=True) if s != lab},
    }
    notes = multiarm.repeated_label_warnings(labels, studies)
    if design == "single-arm":
        single = SingleArmData(**common, **counts)
        unsplit = (multiarm.NOTHING_TO_SPLIT,) if split_shared_control else ()
        return replace(single, warnings=(*notes, *information_warnings(single), *unsplit))
    two = TwoArmData(**common, **counts)
    shared = multiarm.shared_control_warnings(two)
    two = replace(two, warnings=(*notes, *shared, *information_warnings(two)))
    return multiarm.split_shared_control(two) if split_shared_control else two


def _numeric_if_possible(column: pd.Series) -> pd.Series:
    """Covariates arrive as text; convert a column to numbers when every value given is one.

    Only ASCII decimal numbers count (as for reported effects): ``1_998``, fullwidth or
    other non-ASCII digits keep the column as text instead of becoming numbers. Missing cells
    (blank, ``NA``...) become NaN in a numeric column, so a column with a gap stays numeric
    instead of turning into categories; an all-missing column stays as it is.
    """
    if column.dtype.kind in "iuf":
        return column
    values = column.tolist()
    given = [v for v in values if not is_missing(v)]
    if not given:
        return column
    for v in given:
        if isinstance(v, str):
            if not is_number_text(v):
                return column
        elif not _is_real(v):
            return column
    numbers = pd.to_numeric(
        column.map(lambda v: np.nan if is_missing(v) else trim(v) if isinstance(v, str) else v)
    )
    return numbers.astype(float) if numbers.dtype == object else numbers  # ints beyond int64


def _is_real(value: object) -> bool:
    return not isinstance(value, bool | np.bool_) and isinstance(
        value, int | float | np.integer | np.floating
    )
