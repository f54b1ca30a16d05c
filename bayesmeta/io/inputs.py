"""Read any supported input: two-arm counts, single-arm counts or reported effect sizes.

Counts are recognised by their columns (:func:`bayesmeta.io.counts.detect_design`); anything else
is read as reported estimates with standard errors or confidence intervals
(:mod:`bayesmeta.io.reported`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

import pandas as pd

from bayesmeta.io.counts import StudyData, _normalise, detect_design, load, read_table
from bayesmeta.io.multiarm import NOTHING_TO_SPLIT
from bayesmeta.io.reported import ESTIMATE_COLUMNS, ReportedEffects, load_reported

ESTIMATE_ROLES = ("estimate", "se", "ci_lower", "ci_upper", "vi")


def load_any(
    source: str | Path | pd.DataFrame,
    *,
    columns: Mapping[str, str] | None = None,
    ci_level: float = 0.95,
    split_shared_control: bool = False,
) -> StudyData | ReportedEffects:
    """Validated data from a CSV path or DataFrame, whichever of the three kinds it holds.

    Parameters
    ----------
    source
        CSV path or DataFrame.
    columns
        Explicit ``role -> column`` mapping (count roles or reported-effect roles).
    ci_level
        Level of reported confidence intervals.
    split_shared_control
        Divide control arms shared by multi-arm trials (two-arm counts only; see
        :func:`bayesmeta.io.multiarm.split_shared_control`). For other data nothing is split
        and the data carry a warning saying so.

    Raises
    ------
    DataError
        With the row and column of the first problem found.
    """
    frame, _ = read_table(source)
    mapping = dict(columns or {})
    design = detect_design(frame, {k: v for k, v in mapping.items() if k not in ESTIMATE_ROLES})
    if design == "unknown" and _looks_reported(frame, mapping):
        data: StudyData | ReportedEffects = load_reported(
            source, ci_level=ci_level, columns=mapping
        )
    else:
        data = load(source, columns=mapping, split_shared_control=split_shared_control)
    if split_shared_control and isinstance(data, ReportedEffects):
        data = replace(data, warnings=(*data.warnings, NOTHING_TO_SPLIT))
    return data


def _looks_reported(frame: pd.DataFrame, mapping: Mapping[str, str]) -> bool:
    if any(role in mapping for role in ESTIMATE_ROLES):
        return True
    return any(_normalise(col) in ESTIMATE_COLUMNS for col in frame.columns)
