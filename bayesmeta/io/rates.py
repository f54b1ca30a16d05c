"""Two-arm incidence-rate data: events and person-time per arm (for incidence rate ratios).

``treatment_events, treatment_time, control_events, control_time`` (control is the
reference); metafor's ``x1i, t1i, x2i, t2i`` and RevMan-style spellings ("Experimental events",
"Experimental person-time") are accepted. Events are whole numbers (0 is valid: the
Poisson-normal model needs no correction); person-time is a positive finite number (any unit,
the same in both arms), anything else is a one-line error naming the row and column.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from bayesmeta.errors import DataError
from bayesmeta.io import multiarm
from bayesmeta.io.cells import CellError, parse_number
from bayesmeta.io.counts import SYNONYMS as COUNT_SYNONYMS
from bayesmeta.io.counts import (
    _integers,
    _missing,
    _numeric_if_possible,
    read_with_roles,
    study_labels,
)
from bayesmeta.io.studies import _Studies
from bayesmeta.io.table import has_roles, match_roles

RATE_COLUMNS = ("treatment_events", "treatment_time", "control_events", "control_time")
TIME_ROLES = ("treatment_time", "control_time")
SYNONYMS: dict[str, tuple[str, ...]] = {
    "study": COUNT_SYNONYMS["study"],
    "treatment_events": (*COUNT_SYNONYMS["treatment_events"], "x1i", "x1"),
    "treatment_time": (
        "treatment_time",
        "t1i",
        "t1",
        "treatment_person_time",
        "experimental_person_time",
        "intervention_person_time",
        "experimental_time",
        "intervention_time",
        "person_time_e",
        "time_e",
        "e_time",
    ),
    "control_events": (*COUNT_SYNONYMS["control_events"], "x2i", "x2"),
    "control_time": (
        "control_time",
        "t2i",
        "t2",
        "control_person_time",
        "person_time_c",
        "time_c",
        "c_time",
    ),
}


@dataclass(frozen=True)
class RateData(_Studies):
    """Per-study events and person-time in a treatment and a control arm."""

    study: tuple[str, ...]
    treatment_events: np.ndarray
    treatment_time: np.ndarray
    control_events: np.ndarray
    control_time: np.ndarray
    covariates: pd.DataFrame = field(repr=False)
    source: str = "data"
    label_of: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)
    warnings: tuple[str, ...] = field(default=(), repr=False, compare=False)

    design = "rates"

    @property
    def zero_cell(self) -> np.ndarray:
        """Studies without events in at least one arm."""
        return (self.treatment_events == 0) | (self.control_events == 0)

    @property
    def double_zero(self) -> np.ndarray:
        """Studies without events in either arm."""
        return (self.treatment_events == 0) & (self.control_events == 0)

    def _counts(self) -> dict[str, np.ndarray]:
        return {c: getattr(self, c) for c in RATE_COLUMNS}


def is_rates(frame: pd.DataFrame, mapping: Mapping[str, str] | None = None) -> bool:
    """The table has person-time columns (then it is read as rates)."""
    return bool(has_roles(frame, TIME_ROLES, SYNONYMS, dict(mapping or {})))


def _times(frame: pd.DataFrame, column: str, role: str, studies: list[str], source: str):
    out = np.empty(len(frame), dtype=float)
    for i, raw in enumerate(frame[column].tolist()):
        try:
            value = parse_number(raw, role)
        except CellError as exc:
            raise DataError(
                str(exc), source=source, row=i + 1, study=studies[i], column=column
            ) from None
        if value <= 0:
            raise DataError(
                f"{role} must be positive (person-time at risk), got {value:g}",
                source=source,
                row=i + 1,
                study=studies[i],
                column=column,
            )
        out[i] = value
    return out


def load_rates(
    source: str | Path | pd.DataFrame, *, columns: Mapping[str, str] | None = None
) -> RateData:
    """Read and validate incidence-rate data (see the module docstring).

    Raises
    ------
    DataError
        With the row and column of the first problem found (a missing column, events that
        are not whole numbers, person-time of zero or below, fewer than 2 studies).
    """
    frame, name, mapping = read_with_roles(source, columns, SYNONYMS)
    found = match_roles(frame, ("study", *RATE_COLUMNS), SYNONYMS, mapping, name)
    _missing(RATE_COLUMNS, found, frame, name)
    if len(frame) == 0:
        raise DataError("no studies: the file has a header but no rows", source=name)
    labels = study_labels(frame, found.get("study"), name)
    studies = list(multiarm.disambiguate(labels))
    values = {
        r: (_times if r in TIME_ROLES else _integers)(frame, found[r], r, studies, name)
        for r in RATE_COLUMNS
    }
    if len(frame) < 2:
        raise DataError(f"a meta-analysis needs at least 2 studies, got {len(frame)}", source=name)
    covariates = frame.drop(columns=list(found.values())).reset_index(drop=True)
    data = RateData(
        study=tuple(studies),
        covariates=covariates.apply(_numeric_if_possible),
        source=name,
        label_of={s: lab for s, lab in zip(studies, labels, strict=True) if s != lab},
        **values,
    )
    return replace(data, warnings=multiarm.repeated_label_warnings(labels, studies))
