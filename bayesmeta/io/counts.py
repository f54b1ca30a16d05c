"""Read and validate study-level data: two-arm 2x2 counts and single-arm proportions.

First step of the pipeline (read -> effect sizes -> model -> fit -> summaries -> report).
Everything downstream can assume the counts here are valid integers with
``0 <= events <= total`` and ``total > 0``, at least two studies and unique study names.
Zero cells and double-zero studies are valid: the binomial models use them as they are.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from bayesmeta.errors import DataError

TWO_ARM_COLUMNS = ("treatment_events", "treatment_total", "control_events", "control_total")
SINGLE_ARM_COLUMNS = ("events", "total")

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
    return re.sub(r"[^0-9a-z]+", "_", str(name).strip().lower()).strip("_")


class _Studies:
    """What both count designs share: the number of studies and a flat table of the data."""

    study: tuple[str, ...]
    covariates: pd.DataFrame

    @property
    def k(self) -> int:
        """Number of studies."""
        return len(self.study)

    def _counts(self) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def to_frame(self) -> pd.DataFrame:
        """The counts (canonical column names) followed by the covariates."""
        counts = pd.DataFrame({"study": list(self.study), **self._counts()})
        return pd.concat([counts, self.covariates.reset_index(drop=True)], axis=1)


@dataclass(frozen=True)
class TwoArmData(_Studies):
    """Per-study event counts in a treatment and a control arm (control is the reference)."""

    study: tuple[str, ...]
    treatment_events: np.ndarray
    treatment_total: np.ndarray
    control_events: np.ndarray
    control_total: np.ndarray
    covariates: pd.DataFrame = field(repr=False)
    source: str = "data"

    design = "two-arm"

    @property
    def zero_cell(self) -> np.ndarray:
        """Studies with at least one zero cell in their 2x2 table."""
        a, c = self.treatment_events, self.control_events
        b, d = self.treatment_total - a, self.control_total - c
        return (a == 0) | (b == 0) | (c == 0) | (d == 0)

    @property
    def double_zero(self) -> np.ndarray:
        """Studies with no events in either arm (or events in every patient of both arms)."""
        a, c = self.treatment_events, self.control_events
        all_t, all_c = a == self.treatment_total, c == self.control_total
        return ((a == 0) & (c == 0)) | (all_t & all_c)

    def _counts(self) -> dict[str, np.ndarray]:
        return {c: getattr(self, c) for c in TWO_ARM_COLUMNS}


@dataclass(frozen=True)
class SingleArmData(_Studies):
    """Per-study events among patients in one arm (for pooled proportions)."""

    study: tuple[str, ...]
    events: np.ndarray
    total: np.ndarray
    covariates: pd.DataFrame = field(repr=False)
    source: str = "data"

    design = "single-arm"

    @property
    def zero_cell(self) -> np.ndarray:
        """Studies with no events or with events in every patient."""
        return (self.events == 0) | (self.events == self.total)

    def _counts(self) -> dict[str, np.ndarray]:
        return {"events": self.events, "total": self.total}


StudyData = TwoArmData | SingleArmData


def read_table(source: str | Path | pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """Read a CSV (all columns as text, so validation sees what the user wrote)."""
    if isinstance(source, pd.DataFrame):
        return source.copy(), "data"
    path = Path(source)
    name = str(path)
    if path.is_dir():
        raise DataError("is a folder, not a CSV file", source=name)
    if not path.is_file():
        raise DataError("file not found", source=name)
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except pd.errors.EmptyDataError:
        raise DataError("the file is empty", source=name) from None
    except UnicodeDecodeError:
        raise DataError(
            "cannot read the file as UTF-8 text; save it as UTF-8 CSV", source=name
        ) from None
    except pd.errors.ParserError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"cannot parse as CSV: {first}", source=name) from None
    if frame.shape[1] == 1 and ";" in str(frame.columns[0]):
        raise DataError(
            "the columns are separated by semicolons; bayesmeta reads comma-separated files",
            source=name,
        )
    return frame, name


def read_with_roles(
    source: str | Path | pd.DataFrame,
    columns: Mapping[str, str] | None,
    roles: Mapping[str, tuple[str, ...]],
) -> tuple[pd.DataFrame, str, dict[str, str]]:
    """Read the table and check an explicit column mapping names only known ``roles``."""
    frame, name = read_table(source)
    mapping = dict(columns or {})
    unknown = set(mapping) - set(roles)
    if unknown:
        raise DataError(
            f"unknown column role(s) {', '.join(sorted(unknown))}; valid: {', '.join(roles)}",
            source=name,
        )
    if frame.shape[1] == 0:
        raise DataError("the file is empty", source=name)
    return frame, name, mapping


def _match_columns(
    frame: pd.DataFrame, roles: tuple[str, ...], mapping: Mapping[str, str], source: str
) -> dict[str, str]:
    """Map each role (canonical name) to a column of ``frame``; None where not found."""
    by_norm: dict[str, str] = {}
    for col in frame.columns:
        by_norm.setdefault(_normalise(col), col)
    found: dict[str, str] = {}
    for role in roles:
        if role in mapping:
            user = mapping[role]
            if user not in frame.columns:
                raise DataError(
                    f"column {user!r} given for {role} is not in the data "
                    f"(columns: {', '.join(map(str, frame.columns))})",
                    source=source,
                )
            found[role] = user
            continue
        for alias in SYNONYMS[role]:
            if alias in by_norm:
                found[role] = by_norm[alias]
                break
    return found


def detect_design(frame: pd.DataFrame, mapping: Mapping[str, str] | None = None) -> str:
    """'two-arm' if the four count columns are present, 'single-arm' if events/total are."""
    mapping = dict(mapping or {})
    two = _match_columns(frame, TWO_ARM_COLUMNS, mapping, "data")
    if len(two) == len(TWO_ARM_COLUMNS):
        return "two-arm"
    one = _match_columns(frame, SINGLE_ARM_COLUMNS, mapping, "data")
    if len(one) == len(SINGLE_ARM_COLUMNS):
        return "single-arm"
    return "two-arm" if two else "single-arm" if one else "unknown"


def _integers(
    frame: pd.DataFrame, column: str, role: str, studies: list[str], source: str
) -> np.ndarray:
    """Parse a count column: integers in ``[0, 2**53)``; say which row and column otherwise.

    The upper bound keeps every count exact as a float (and within int64), so the effect
    sizes and likelihoods downstream see the number that was written.
    """
    out = np.empty(len(frame), dtype=np.int64)
    for i, raw in enumerate(frame[column].tolist()):

        def error(message: str, i: int = i) -> DataError:
            return DataError(message, source=source, row=i + 1, study=studies[i], column=column)

        text = str(raw).strip() if raw is not None else ""
        if text == "" or text.lower() in {"na", "nan", "none", "null"}:
            raise error(f"{role} is missing")
        try:
            value = float(text)
        except ValueError:
            raise error(f"{role} must be a whole number, got {text!r}") from None
        if not np.isfinite(value) or value != np.floor(value):
            raise error(f"{role} must be a whole number, got {text!r}")
        if value < 0:
            raise error(f"{role} cannot be negative, got {text}")
        if value >= 2**53:
            raise error(
                f"count too large: {role} must be below 2**53 = 9007199254740992, got {text}"
            )
        out[i] = int(value)
    return out


def _studies(frame: pd.DataFrame, column: str | None, source: str) -> list[str]:
    if column is None:
        return [f"Study {i + 1}" for i in range(len(frame))]
    names = [str(v).strip() if v is not None else "" for v in frame[column].tolist()]
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        if name == "" or name.lower() == "nan":
            raise DataError("study name is missing", source=source, row=i + 1, column=column)
        if name in seen:
            raise DataError(
                f"duplicate study name {name!r} (also row {seen[name]})",
                source=source,
                row=i + 1,
                column=column,
            )
        seen[name] = i + 1
    return names


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
                f"events ({events[i]}) exceed the total ({total[i]}) in column {cols[1]!r}",
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
            f"missing column(s) {', '.join(missing)}; found {', '.join(map(str, frame.columns))} "
            "(map yours with --columns ROLE=NAME)",
            source=source,
        )


def load(
    source: str | Path | pd.DataFrame,
    *,
    design: Design = "auto",
    columns: Mapping[str, str] | None = None,
) -> StudyData:
    """Read and validate study data from a CSV path or a pandas DataFrame.

    Parameters
    ----------
    source
        Path to a CSV file, or a DataFrame.
    design
        ``"two-arm"`` (``study,treatment_events,treatment_total,control_events,control_total``),
        ``"single-arm"`` (``study,events,total``) or ``"auto"`` to decide from the columns.
    columns
        Explicit mapping from canonical names (``treatment_events``, ``study``...) to the
        column names in the data; other roles are found by their common spellings
        (metafor ``ai,n1i,ci,n2i`` / ``xi,ni``; RevMan "Experimental Events"...).

    Returns
    -------
    TwoArmData or SingleArmData
        Validated counts; every other column is kept as a study covariate.

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
    studies = _studies(frame, found.get("study"), name)
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
    if design == "two-arm":
        return TwoArmData(study=tuple(studies), covariates=covariates, source=name, **counts)
    return SingleArmData(study=tuple(studies), covariates=covariates, source=name, **counts)


def _numeric_if_possible(column: pd.Series) -> pd.Series:
    """Covariates arrive as text; convert a column to numbers when every value is one."""
    try:
        return pd.to_numeric(column)
    except (ValueError, TypeError):
        return column
