"""The validated study data: two-arm 2x2 counts and single-arm counts.

Values only: :mod:`bayesmeta.io.counts` reads them from tables, :mod:`bayesmeta.io.multiarm`
and :mod:`bayesmeta.io.information` inspect them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

TWO_ARM_COLUMNS = ("treatment_events", "treatment_total", "control_events", "control_total")


class _Studies:
    """What both count designs share: the number of studies and a flat table of the data.

    ``study`` holds unique names; ``label_of`` maps a renamed repeat (``"A [2]"``) to its
    label as written (``"A"``), so :attr:`labels` survives taking a subset of the studies with
    :func:`dataclasses.replace`; ``warnings`` holds one-line notes on what the reader accepted
    but the user should know (shown with the results).
    """

    study: tuple[str, ...]
    covariates: pd.DataFrame
    label_of: Mapping[str, str]
    warnings: tuple[str, ...]

    @property
    def labels(self) -> tuple[str, ...]:
        """Each study's label as written (repeated for the rows of a multi-arm trial)."""
        return tuple(self.label_of.get(s, s) for s in self.study)

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
    """Per-study event counts in a treatment and a control arm (control is the reference).

    ``split_controls`` lists the studies whose shared control arm was divided between them
    (:func:`bayesmeta.io.multiarm.split_shared_control`), one tuple of names per arm.
    """

    study: tuple[str, ...]
    treatment_events: np.ndarray
    treatment_total: np.ndarray
    control_events: np.ndarray
    control_total: np.ndarray
    covariates: pd.DataFrame = field(repr=False)
    source: str = "data"
    label_of: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)
    warnings: tuple[str, ...] = field(default=(), repr=False, compare=False)
    split_controls: tuple[tuple[str, ...], ...] = field(default=(), repr=False, compare=False)

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
    label_of: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)
    warnings: tuple[str, ...] = field(default=(), repr=False, compare=False)

    design = "single-arm"

    @property
    def zero_cell(self) -> np.ndarray:
        """Studies with no events or with events in every patient."""
        return (self.events == 0) | (self.events == self.total)

    def _counts(self) -> dict[str, np.ndarray]:
        return {"events": self.events, "total": self.total}


StudyData = TwoArmData | SingleArmData
