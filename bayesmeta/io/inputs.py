"""Read any supported input: two-arm counts, single-arm counts, incidence rates (events and
person-time, :mod:`bayesmeta.io.rates`), reported effect sizes, or counts and reported odds
ratios in one table (:mod:`bayesmeta.io.mixed`).

Rates are recognised by their person-time columns, a mixed table by count and estimate
columns with some rows that have no counts (:func:`bayesmeta.io.mixed.is_mixed`), counts by
their columns (:func:`bayesmeta.io.counts.detect_design`); anything else
is read as reported estimates with standard errors or confidence intervals
(:mod:`bayesmeta.io.reported`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd

from bayesmeta.errors import DataError, OptionError
from bayesmeta.io import continuous, counts, mixed
from bayesmeta.io.counts import (
    SINGLE_ARM_COLUMNS,
    TWO_ARM_COLUMNS,
    StudyData,
    _normalise,
)
from bayesmeta.io.multiarm import NOTHING_TO_SPLIT
from bayesmeta.io.rates import SYNONYMS as RATE_SYNONYMS
from bayesmeta.io.rates import RateData, is_rates, load_rates
from bayesmeta.io.reported import ESTIMATE_COLUMNS, SYNONYMS, ReportedEffects, load_reported
from bayesmeta.io.table import Source, TableFile, has_roles, read_source

ESTIMATE_ROLES = ("estimate", "se", "ci_lower", "ci_upper", "vi")
DESIGNS = ("auto", "two-arm", "single-arm", "rates", "reported", "continuous", "mixed")


def load(
    source: Source,
    *,
    design: str = "auto",
    columns: Mapping[str, str] | None = None,
    ci_level: float = 0.95,
    split_shared_control: bool = False,
    measure: str | None = None,
) -> StudyData | RateData | ReportedEffects | mixed.MixedData:
    """Read and validate study data from a CSV path or a DataFrame.

    Parameters
    ----------
    source
        A CSV, workbook (``.xlsx``, ``.xls``, ``.ods``) or RevMan 5 (``.rm5``) path, a
        :class:`~bayesmeta.io.table.TableFile` saying how to read one (sheet, separator,
        decimal mark, encoding, outcome), or a DataFrame (a ``study`` column, or an index of
        study names).
    design
        ``"two-arm"`` (``treatment_events, treatment_total, control_events, control_total``),
        ``"single-arm"`` (``events, total``), ``"rates"`` (``treatment_events,
        treatment_time, control_events, control_time``; metafor ``x1i, t1i, x2i, t2i``),
        ``"reported"`` (an estimate with its SE, variance or CI), ``"continuous"`` (each
        arm's mean, SD and size: :mod:`bayesmeta.io.continuous`), ``"mixed"`` (rows with
        2x2 counts and rows with a reported odds ratio: :mod:`bayesmeta.io.mixed`) or
        ``"auto"``: from the
        columns, which may use metafor, RevMan or R meta spellings (``ai, n1i, ci, n2i``;
        "Experimental Events"; ``yi, vi``; ``m1i, sd1i, n1i``...).
    columns
        Explicit ``role -> column`` mapping (count roles or reported-effect roles).
    ci_level
        Level of reported confidence intervals.
    split_shared_control
        Divide control arms shared by multi-arm trials (two-arm counts only; see
        :func:`bayesmeta.io.multiarm.split_shared_control`). For other data nothing is split
        and the data carry a warning saying so.
    measure
        Effect measure of continuous outcomes: ``"MD"`` (the default; a RevMan outcome's
        own), ``"SMD"`` or ``"ROM"``, computed as metafor's ``escalc``; other data refuse
        these. Other measures (two-arm counts' OR, RR, RD) are left to the frequentist
        methods (:meth:`~bayesmeta.model.likelihoods.base.Likelihood.frequentist_measure`).

    Returns
    -------
    TwoArmData, SingleArmData, RateData, ReportedEffects or MixedData
        Validated data; other columns are kept as covariates; ``warnings`` lists what the
        reader accepted with a note (repeated labels, shared control arms, data without
        information on the effect).

    Raises
    ------
    DataError
        With the row and column of the first problem found.
    OptionError
        An unknown ``design``, or a ``measure`` the data do not have.
    """
    if design not in DESIGNS:
        raise OptionError(f"unknown design {design!r}; choose one of {', '.join(DESIGNS)}")
    mapping = dict(columns or {})
    spelled = {**counts.SYNONYMS, **RATE_SYNONYMS, **SYNONYMS, **continuous.SYNONYMS}
    mapped = {f"column {c}": (_normalise(c),) for c in mapping.values()}
    table = read_source(source, counts.SYNONYMS["study"], {**spelled, **mapped})
    frame = table.frame
    given = source
    if not isinstance(source, pd.DataFrame):
        source = table  # read once: each reader then sees the same sheet and header
    if design == "continuous" or (design == "auto" and continuous.is_continuous(frame, mapping)):
        if design == "auto" and _looks_reported(frame, mapping):
            raise DataError(
                "the table has both each arm's means and SDs and a reported estimate column "
                "(yi, smd...); drop one: the estimate to compute MD, SMD or ROM from the arms, "
                "the arms to analyse the estimates as reported",
                source=table.name,
            )
        wanted = (measure or _revman_measure(given) or "MD").upper()
        data = continuous.effects(continuous.load_continuous(source, mapping), wanted)
        if split_shared_control:
            data = replace(data, warnings=(*data.warnings, NOTHING_TO_SPLIT))
        return _noted(data, table.notes)
    if measure is not None and measure.upper() in continuous.MEASURES:
        raise OptionError(
            f"--measure {measure} applies to continuous outcomes (each arm's mean, SD and "
            "size); these data have no mean or SD columns"
        )
    if design in ("two-arm", "single-arm"):
        data = counts.load(
            source, design=design, columns=columns, split_shared_control=split_shared_control
        )
        return _noted(data, table.notes)
    if design == "rates" or (design == "auto" and is_rates(frame, mapping)):
        data = load_rates(source, columns=mapping)
        if split_shared_control:
            data = replace(data, warnings=(*data.warnings, NOTHING_TO_SPLIT))
        return _noted(data, table.notes)
    if design == "mixed" or (design == "auto" and mixed.is_mixed(frame, mapping)):
        data = mixed.load_mixed(source, ci_level=ci_level, columns=mapping)
        if split_shared_control:
            data = replace(data, warnings=(*data.warnings, NOTHING_TO_SPLIT))
        return _noted(data, table.notes)
    if design == "reported" or _reads_as_reported(frame, mapping):
        data = load_reported(source, ci_level=ci_level, columns=mapping)
    else:
        data = counts.load(source, columns=mapping, split_shared_control=split_shared_control)
    if split_shared_control and isinstance(data, ReportedEffects):
        data = replace(data, warnings=(*data.warnings, NOTHING_TO_SPLIT))
    return _noted(data, table.notes)


def _revman_measure(source: Source) -> str | None:
    """The measure of a RevMan 5 continuous outcome (the default of ``measure``)."""
    if isinstance(source, str | Path):
        source = TableFile(Path(source))
    if isinstance(source, TableFile) and source.path.suffix.lower() == ".rm5":
        from bayesmeta.io import revman

        return revman.continuous_measure(source.path, source.outcome)
    return None


def _noted(data: StudyData | ReportedEffects, notes: tuple[str, ...]) -> Any:
    """``data`` with the reader's notes (sheet chosen, title rows, dialect) first."""
    return replace(data, warnings=(*notes, *data.warnings)) if notes else data


def _reads_as_reported(frame: pd.DataFrame, mapping: Mapping[str, str]) -> bool:
    """Reported effects: an estimate role is mapped, or an estimate column is there and the
    count columns are not all there (``study,yi,vi,n`` has a total but no events: the sample
    size beside an effect, not a count table)."""
    if not _looks_reported(frame, mapping):
        return False
    if any(role in mapping for role in ESTIMATE_ROLES):
        return True
    counts_mapping = {k: v for k, v in mapping.items() if k not in ESTIMATE_ROLES}
    two = has_roles(frame, TWO_ARM_COLUMNS, counts.SYNONYMS, counts_mapping)
    one = has_roles(frame, SINGLE_ARM_COLUMNS, counts.SYNONYMS, counts_mapping)
    return len(two) < len(TWO_ARM_COLUMNS) and len(one) < len(SINGLE_ARM_COLUMNS)


def _looks_reported(frame: pd.DataFrame, mapping: Mapping[str, str]) -> bool:
    """An estimate role is mapped or an estimate column (yi, log_or, smd...) is there."""
    if any(role in mapping for role in ESTIMATE_ROLES):
        return True
    return any(_normalise(col) in ESTIMATE_COLUMNS for col in frame.columns)
