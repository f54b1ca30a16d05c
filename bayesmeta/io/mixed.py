"""Read a table that mixes two-arm counts and reported odds ratios (one comparison).

Reviews often have some trials with 2x2 counts and others that report only an odds ratio with
its confidence interval, or a log odds ratio with its standard error. Such a table has the four
count columns (``treatment_events, treatment_total, control_events, control_total`` or their
metafor / RevMan spellings) *and* an odds-ratio estimate column (``log_or`` or ``or``) with its
uncertainty (``se``, ``vi`` or ``ci_lower, ci_upper``, as :mod:`bayesmeta.io.reported` reads
them). Each row is read by what it carries:

- all four counts: a count study (its estimate cells, if any, are not used: the counts are, and
  a warning names the rows that had both);
- no counts and an estimate: a reported study, read as :func:`bayesmeta.io.reported.load_reported`
  reads a row (ratios on the log scale, the SE from the CI...);
- some counts but not all four, or neither counts nor an estimate: a one-line error naming the
  row.

The estimate must be an odds ratio: the count studies' effect is their log odds ratio, which
the reported studies share (``theta_i ~ N(mu, tau^2)``). :class:`MixedData` is the result; the
mixed likelihood (:mod:`bayesmeta.model.likelihoods.mixed`) fits it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bayesmeta.errors import BayesmetaError, DataError
from bayesmeta.io import counts, multiarm, reported
from bayesmeta.io.cells import is_missing, show, trim
from bayesmeta.io.studies import TWO_ARM_COLUMNS, TwoArmData
from bayesmeta.io.table import has_roles, match_roles, normalise

ESTIMATE_ROLES = ("estimate", "se", "vi", "ci_lower", "ci_upper")
SYNONYMS: dict[str, tuple[str, ...]] = {
    "study": counts.SYNONYMS["study"],
    **{role: counts.SYNONYMS[role] for role in TWO_ARM_COLUMNS},
    **{role: reported.SYNONYMS[role] for role in ESTIMATE_ROLES},
}
COUNTS, REPORTED = "counts", "reported"


@dataclass(frozen=True)
class MixedData:
    """Studies with 2x2 counts beside studies with a reported log odds ratio.

    ``reported[i]`` says study ``i`` gave a log odds ratio ``yi[i]`` with variance ``vi[i]``
    (NaN for count studies); the count arrays hold the counts of the other studies (0 for
    reported ones). ``as_reported[i]`` (an array of text, like every per-study field) is
    what a reported study gave, as written (``"OR 0.25 (0.10 to 0.61)"``, ``"log OR -1.39
    (SE 0.46)"``); empty for count studies.
    """

    study: tuple[str, ...]
    reported: np.ndarray
    treatment_events: np.ndarray
    treatment_total: np.ndarray
    control_events: np.ndarray
    control_total: np.ndarray
    yi: np.ndarray
    vi: np.ndarray
    as_reported: np.ndarray
    covariates: pd.DataFrame = field(repr=False)
    source: str = "data"
    label_of: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)
    warnings: tuple[str, ...] = field(default=(), repr=False, compare=False)

    design = "mixed"
    measure = "OR"

    @property
    def k(self) -> int:
        """Number of studies."""
        return len(self.study)

    @property
    def labels(self) -> tuple[str, ...]:
        """Each study's label as written."""
        return tuple(self.label_of.get(s, s) for s in self.study)

    @property
    def counted(self) -> np.ndarray:
        """The studies given as counts."""
        return ~self.reported

    @property
    def counts(self) -> TwoArmData:
        """The count studies alone, as two-arm data."""
        keep = self.counted
        return TwoArmData(
            study=tuple(np.asarray(self.study, dtype=object)[keep]),
            treatment_events=self.treatment_events[keep],
            treatment_total=self.treatment_total[keep],
            control_events=self.control_events[keep],
            control_total=self.control_total[keep],
            covariates=self.covariates.loc[keep].reset_index(drop=True),
            source=self.source,
        )

    @property
    def zero_cell(self) -> np.ndarray:
        """Count studies with a zero cell (False for reported studies)."""
        a, c = self.treatment_events, self.control_events
        b, d = self.treatment_total - a, self.control_total - c
        return self.counted & ((a == 0) | (b == 0) | (c == 0) | (d == 0))

    @property
    def double_zero(self) -> np.ndarray:
        """Count studies without events in either arm, or with events in every patient."""
        a, c = self.treatment_events, self.control_events
        none = (a == 0) & (c == 0)
        every = (a == self.treatment_total) & (c == self.control_total)
        return self.counted & (none | every)

    def to_frame(self) -> pd.DataFrame:
        """One row per study: the counts (blank for reported studies), ``yi`` and ``se``
        (blank for count studies), then the covariates."""
        cells: dict[str, Any] = {"study": list(self.study)}
        for column in TWO_ARM_COLUMNS:
            values = getattr(self, column)
            cells[column] = pd.array(
                [None if r else int(v) for v, r in zip(values, self.reported, strict=True)],
                dtype="Int64",
            )
        cells["yi"] = self.yi
        cells["se"] = np.sqrt(self.vi)
        frame = pd.DataFrame(cells)
        return pd.concat([frame, self.covariates.reset_index(drop=True)], axis=1)


def is_mixed(frame: pd.DataFrame, mapping: Mapping[str, str]) -> bool:
    """The table has the four count columns and an estimate column, and some row has no
    counts: a mixed table (a table whose every row has counts is read as counts)."""
    count_mapping = {k: v for k, v in mapping.items() if k not in ESTIMATE_ROLES}
    if len(has_roles(frame, TWO_ARM_COLUMNS, counts.SYNONYMS, count_mapping)) < 4:
        return False
    if not has_roles(frame, ("estimate",), reported.SYNONYMS, mapping):
        return False
    try:
        found = match_roles(frame, TWO_ARM_COLUMNS, counts.SYNONYMS, count_mapping, "data")
    except DataError:
        return False  # the count reader reports the conflict
    blank = np.column_stack([frame[c].map(is_missing).to_numpy(bool) for c in found.values()])
    return bool(blank.all(axis=1).any())


def load_mixed(
    source: str | Path | pd.DataFrame,
    *,
    ci_level: float = 0.95,
    columns: Mapping[str, str] | None = None,
) -> MixedData:
    """Read a table of count studies and studies with a reported odds ratio (module docstring).

    Parameters
    ----------
    source
        A CSV path, a DataFrame or a table already read.
    ci_level
        Confidence level of the reported intervals.
    columns
        Explicit ``role -> column`` mapping (count roles and reported-effect roles).

    Raises
    ------
    DataError
        A row with only some of its counts, or with neither counts nor an estimate; an
        estimate that is not an odds ratio; any error of the count or reported readers, with
        the row of the table.
    """
    if not 0 < ci_level < 1:
        raise BayesmetaError(f"ci_level must be between 0 and 1, got {ci_level}")
    frame, name, mapping = counts.read_with_roles(source, columns, SYNONYMS)
    found = match_roles(frame, tuple(SYNONYMS), SYNONYMS, mapping, name)
    missing = [role for role in TWO_ARM_COLUMNS if role not in found]
    if missing:
        raise DataError(f"missing column(s) {', '.join(missing)}", source=name)
    reported._check_roles(found, frame, name)
    measure, ratio = reported.ESTIMATE_COLUMNS.get(normalise(found["estimate"]), ("generic", False))
    if measure != "OR":
        raise DataError(
            f"the estimate column {show(found['estimate'])} reads as {measure}; beside 2x2 "
            "counts the reported estimates must be odds ratios, in a column named log_or "
            "(with se, vi or a CI of the log) or or (with its CI)",
            source=name,
        )
    if len(frame) < 2:
        raise DataError(f"a meta-analysis needs at least 2 studies, got {len(frame)}", source=name)
    labels = counts.study_labels(frame, found.get("study"), name)
    studies = list(multiarm.disambiguate(labels))
    kinds, both = _kinds(frame, found, studies, name)
    is_reported = np.array([kind == REPORTED for kind in kinds])
    k = len(frame)
    count_values = {c: np.zeros(k, dtype=np.int64) for c in TWO_ARM_COLUMNS}
    rows = np.flatnonzero(~is_reported)
    if rows.size:
        part, part_studies = _part(frame, rows, studies)
        parsed = {
            r: _located(rows, lambda r=r: counts._integers(part, found[r], r, part_studies, name))
            for r in TWO_ARM_COLUMNS
        }
        for events, total in (TWO_ARM_COLUMNS[:2], TWO_ARM_COLUMNS[2:]):
            _located(
                rows,
                lambda e=events, t=total: counts._check_totals(
                    parsed[e], parsed[t], (found[e], found[t]), part_studies, name
                ),
            )
        for column, values in parsed.items():
            count_values[column][rows] = values
    yi, vi = np.full(k, np.nan), np.full(k, np.nan)
    shown = [""] * k
    notes: tuple[str, ...] = ()
    rows = np.flatnonzero(is_reported)
    if rows.size:
        part, part_studies = _part(frame, rows, studies)
        estimate = found["estimate"]
        why = "it is a ratio" if ratio else ""
        written = _located(
            rows, lambda: reported._numbers(part, estimate, part_studies, name, positive=why)
        )
        y = np.log(written) if ratio else written
        _located(rows, lambda: reported._check_estimates(y, part_studies, name, estimate))
        uses = {role: found[role] for role in ESTIMATE_ROLES if role in found}
        v, notes = _located(
            rows,
            lambda: reported._variances(
                part, uses, y, ratio, ci_level, part_studies, name, [int(i) + 1 for i in rows]
            ),
        )
        column = uses.get("se") or uses.get("vi") or uses["ci_lower"]
        _located(rows, lambda: reported._check_variances(v, part_studies, name, column))
        yi[rows], vi[rows] = y, v
        for j, i in enumerate(rows):
            shown[i] = _as_reported(part.iloc[j], uses, ratio)
    used = list(found.values())
    covariates = frame.drop(columns=used).reset_index(drop=True)
    warnings = (*multiarm.repeated_label_warnings(labels, studies), *_both_warning(both), *notes)
    return MixedData(
        study=tuple(studies),
        reported=is_reported,
        **count_values,
        yi=yi,
        vi=vi,
        as_reported=np.array(shown, dtype=object),
        covariates=covariates.apply(counts._numeric_if_possible),
        source=name,
        label_of={s: lab for s, lab in zip(studies, labels, strict=True) if s != lab},
        warnings=warnings,
    )


def _kinds(
    frame: pd.DataFrame, found: Mapping[str, str], studies: list[str], source: str
) -> tuple[list[str], list[tuple[int, str]]]:
    """Each row's kind (counts or reported) and the rows that gave both (number, study)."""
    kinds, both = [], []
    for i in range(len(frame)):
        row = frame.iloc[i]
        blank = [is_missing(row[found[c]]) for c in TWO_ARM_COLUMNS]
        has_estimate = not is_missing(row[found["estimate"]])
        where = {"source": source, "row": i + 1, "study": studies[i]}
        if any(blank) and not all(blank):
            column = found[TWO_ARM_COLUMNS[blank.index(True)]]
            raise DataError(
                f"some counts but not {show(column)}: give all four counts, or none and a "
                "reported odds ratio",
                column=column,
                **where,
            )
        if all(blank) and not has_estimate:
            raise DataError(
                "neither 2x2 counts nor a reported estimate; give the four counts, or "
                f"{show(found['estimate'])} with its uncertainty",
                **where,
            )
        kinds.append(REPORTED if all(blank) else COUNTS)
        if not any(blank) and has_estimate:
            both.append((i + 1, studies[i]))
    return kinds, both


def _both_warning(both: list[tuple[int, str]]) -> tuple[str, ...]:
    if not both:
        return ()
    listed = ", ".join(f"{row} ({show(study)})" for row, study in both[:10])
    listed += ", ..." if len(both) > 10 else ""
    s = "s" if len(both) > 1 else ""
    return (
        f"row{s} {listed}: both 2x2 counts and a reported estimate; the counts are used "
        "(binomial likelihood), the reported estimate is not",
    )


def _part(frame: pd.DataFrame, rows: np.ndarray, studies: list[str]) -> tuple[pd.DataFrame, list]:
    return frame.iloc[rows].reset_index(drop=True), [studies[i] for i in rows]


def _located[T](rows: np.ndarray, read: Callable[[], T]) -> T:
    """``read()`` of a part of the table; an error names the row of the whole table."""
    try:
        return read()
    except DataError as exc:
        if exc.row is None:
            raise
        raise DataError(
            _message(exc),
            source=exc.source,
            row=int(rows[exc.row - 1]) + 1,
            study=exc.study,
            column=exc.column,
        ) from None


def _message(exc: DataError) -> str:
    """The message of a located error without its location prefix."""
    text = str(exc)
    prefix = f"{exc.source}: " if exc.source else ""
    text = text.removeprefix(prefix)
    where = [f"row {exc.row}" + (f" ({exc.study!r})" if exc.study else "")]
    if exc.column is not None:
        where.append(f"column {exc.column!r}")
    return text.removeprefix(", ".join(where) + ": ")


def _as_reported(row: pd.Series, uses: Mapping[str, str], ratio: bool) -> str:
    """What a reported study gave, as written: the OR with its CI, or the log OR with its SE."""
    estimate = trim(str(row[uses["estimate"]]))
    name = "OR" if ratio else "log OR"
    if "ci_lower" in uses and "ci_upper" in uses:
        lower, upper = (trim(str(row[uses[r]])) for r in ("ci_lower", "ci_upper"))
        if not (is_missing(lower) or is_missing(upper)):
            return f"{name} {estimate} ({lower} to {upper})"
    if "se" in uses:
        return f"{name} {estimate} (SE {trim(str(row[uses['se']]))})"
    return f"{name} {estimate} (variance {trim(str(row[uses['vi']]))})"
