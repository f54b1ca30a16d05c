"""Read any supported input: two-arm counts, single-arm counts or reported effect sizes.

Counts are recognised by their columns (:func:`bayesmeta.io.counts.detect_design`); anything else
is read as reported estimates with standard errors or confidence intervals
(:mod:`bayesmeta.io.reported`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from bayesmeta.io.counts import StudyData, detect_design, load, read_table
from bayesmeta.io.reported import ESTIMATE_COLUMNS, ReportedEffects, load_reported

ESTIMATE_ROLES = ("estimate", "se", "ci_lower", "ci_upper", "vi")


def load_any(
    source: str | Path | pd.DataFrame,
    *,
    columns: Mapping[str, str] | None = None,
    ci_level: float = 0.95,
) -> StudyData | ReportedEffects:
    """Validated data from a CSV path or DataFrame, whichever of the three kinds it holds."""
    frame, _ = read_table(source)
    mapping = dict(columns or {})
    design = detect_design(frame, {k: v for k, v in mapping.items() if k not in ESTIMATE_ROLES})
    if design == "unknown" and _looks_reported(frame, mapping):
        return load_reported(source, ci_level=ci_level, columns=mapping)
    return load(source, columns=mapping)


def _looks_reported(frame: pd.DataFrame, mapping: Mapping[str, str]) -> bool:
    from bayesmeta.io.counts import _normalise

    if any(role in mapping for role in ESTIMATE_ROLES):
        return True
    return any(_normalise(col) in ESTIMATE_COLUMNS for col in frame.columns)
