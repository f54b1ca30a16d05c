"""Read continuous outcomes (means, SDs and group sizes per arm); effect sizes as ``escalc``.

A row per study with each arm's mean, standard deviation and size: metafor's ``m1i, sd1i, n1i,
m2i, sd2i, n2i`` (arm 1 = treatment) or RevMan-style ``treatment_mean, treatment_sd,
treatment_total, control_mean, control_sd, control_total`` ("Experimental Mean",
"Mean_e"...). :func:`load_continuous` validates them (:class:`ContinuousData`) and
:func:`effects` turns them into the ``yi, vi`` of one measure exactly as metafor 3.8's
``escalc`` does with its defaults (Viechtbauer W, J Stat Softw 2010;36(3)):

- ``MD``, the raw mean difference ``m1 - m2``, ``vi = sd1^2/n1 + sd2^2/n2`` (``vtype="LS"``,
  no equal-variance assumption; RevMan's formula too);
- ``SMD``, Hedges' g: ``J (m1 - m2) / s_p`` with the pooled SD ``s_p`` and the exact bias
  correction ``J = Gamma(m/2) / (sqrt(m/2) Gamma((m-1)/2))``, ``m = n1 + n2 - 2`` (Hedges
  1981), ``vi = 1/n1 + 1/n2 + g^2 / (2 (n1 + n2))`` (``vtype="LS"``);
- ``ROM``, the log ratio of means ``log(m1/m2)``, ``vi = sd1^2/(n1 m1^2) + sd2^2/(n2 m2^2)``
  (Hedges, Gurevitch & Curtis 1999, Ecology 80:1150); both means must be positive.

The result is :class:`~bayesmeta.io.reported.ReportedEffects` of that measure, so every
estimator and model for reported effects takes it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import special

from bayesmeta.errors import DataError, OptionError
from bayesmeta.io import multiarm
from bayesmeta.io.cells import CellError, is_missing, parse_count, parse_number, plain
from bayesmeta.io.counts import SYNONYMS as COUNT_SYNONYMS
from bayesmeta.io.counts import _numeric_if_possible, read_with_roles, study_labels
from bayesmeta.io.reported import ArmStatistics, ReportedEffects
from bayesmeta.io.table import Source, has_roles, match_roles, names

MEASURES = ("MD", "SMD", "ROM")
# measure -> what it is, for the description of the model ("SMD (Hedges' g) from ...")
NAMES = {"MD": "mean difference", "SMD": "Hedges' g", "ROM": "ratio of means"}
ARMS = ("treatment", "control")
STATS = ("mean", "sd", "total")
ROLES = tuple(f"{arm}_{stat}" for arm in ARMS for stat in STATS)


def _spellings(arm: str, metafor: str, revman: tuple[str, ...], stat: str) -> tuple[str, ...]:
    return (f"{arm}_{stat}", metafor, *(f"{w}_{stat}" for w in revman), f"{stat}_{arm[0]}")


_TREATED = ("experimental", "intervention", "treated", "e")
_CONTROL = ("c",)
SYNONYMS: dict[str, tuple[str, ...]] = {
    "study": COUNT_SYNONYMS["study"],
    "treatment_mean": (*_spellings("treatment", "m1i", _TREATED, "mean"), "mean_e", "mean1"),
    "treatment_sd": (*_spellings("treatment", "sd1i", _TREATED, "sd"), "sd_e", "sd1"),
    "treatment_total": COUNT_SYNONYMS["treatment_total"],
    "control_mean": (*_spellings("control", "m2i", _CONTROL, "mean"), "mean2"),
    "control_sd": (*_spellings("control", "sd2i", _CONTROL, "sd"), "sd2"),
    "control_total": COUNT_SYNONYMS["control_total"],
}
MEAN_ROLES = ("treatment_mean", "treatment_sd", "control_mean", "control_sd")


@dataclass(frozen=True)
class ContinuousData:
    """Each study's mean, SD and size in the treatment (1) and control (2) arm."""

    study: tuple[str, ...]
    m1: np.ndarray
    sd1: np.ndarray
    n1: np.ndarray
    m2: np.ndarray
    sd2: np.ndarray
    n2: np.ndarray
    covariates: pd.DataFrame = field(repr=False)
    source: str = "data"
    warnings: tuple[str, ...] = field(default=(), repr=False, compare=False)

    @property
    def k(self) -> int:
        """Number of studies."""
        return len(self.study)


def is_continuous(frame: pd.DataFrame, mapping: Mapping[str, str]) -> bool:
    """The table has a mean or SD column (of either arm): read it as continuous outcomes."""
    return bool(has_roles(frame, MEAN_ROLES, SYNONYMS, mapping))


def load_continuous(source: Source, columns: Mapping[str, str] | None = None) -> ContinuousData:
    """Read and validate means, SDs and group sizes of two arms (see the module docstring).

    Raises
    ------
    DataError
        A column missing, or the first bad cell (row, study and column named): a blank arm,
        an SD of zero or below, a group of fewer than 2.
    """
    frame, name, mapping = read_with_roles(source, columns, SYNONYMS)
    found = match_roles(frame, tuple(SYNONYMS), SYNONYMS, mapping, name)
    missing = [r for r in ROLES if r not in found]
    if missing:
        raise DataError(
            f"continuous outcomes need each arm's mean, SD and size; no column for "
            f"{', '.join(missing)} (found {names(frame.columns)}; map one with --columns "
            f"{missing[0]}=NAME); one-arm means are not analysed",
            source=name,
        )
    if len(frame) < 2:
        raise DataError(f"a meta-analysis needs at least 2 studies, got {len(frame)}", source=name)
    labels = study_labels(frame, found.get("study"), name)
    studies = list(multiarm.disambiguate(labels))
    values: dict[str, np.ndarray] = {r: np.empty(len(frame)) for r in ROLES}
    for i in range(len(frame)):
        where = {"source": name, "row": i + 1, "study": studies[i]}
        for arm in ARMS:
            cells = [frame.at[i, found[f"{arm}_{s}"]] for s in STATS]
            if all(is_missing(c) for c in cells):
                raise DataError(
                    f"the {arm} arm is blank; a continuous outcome needs both arms' mean, SD "
                    "and size (one-arm data cannot give MD, SMD or ROM)",
                    **where,
                )
        for role in ROLES:
            column = found[role]
            raw = frame.at[i, column]
            try:
                if role.endswith("total"):
                    value: float = parse_count(raw, role)
                else:
                    value = parse_number(raw, role)
            except CellError as exc:
                raise DataError(str(exc), column=column, **where) from None
            if role.endswith("sd") and value <= 0:
                raise DataError(f"the SD must be positive, got {value:g}", column=column, **where)
            if role.endswith("total") and value < 2:
                raise DataError(
                    f"a group needs at least 2 participants for an SD, got {value:g}",
                    column=column,
                    **where,
                )
            values[role][i] = value
    covariates = frame.drop(columns=list(found.values())).reset_index(drop=True)
    return ContinuousData(
        study=tuple(studies),
        m1=values["treatment_mean"],
        sd1=values["treatment_sd"],
        n1=values["treatment_total"],
        m2=values["control_mean"],
        sd2=values["control_sd"],
        n2=values["control_total"],
        covariates=covariates.apply(_numeric_if_possible),
        source=name,
        warnings=tuple(multiarm.repeated_label_warnings(labels, studies)),
    )


def hedges_correction(df: np.ndarray) -> np.ndarray:
    """Hedges' exact small-sample correction ``J(m) = Gamma(m/2) / (sqrt(m/2) Gamma((m-1)/2))``."""
    m = np.asarray(df, dtype=float)
    return np.exp(special.gammaln(m / 2) - 0.5 * np.log(m / 2) - special.gammaln((m - 1) / 2))


def effects(data: ContinuousData, measure: str = "MD") -> ReportedEffects:
    """The ``yi, vi`` of ``measure`` (``MD``, ``SMD``, ``ROM``) as metafor's ``escalc``.

    Raises
    ------
    OptionError
        An unknown measure.
    DataError
        ``ROM`` with a mean of zero or below (the row named).
    """
    m1, sd1, n1, m2, sd2, n2 = data.m1, data.sd1, data.n1, data.m2, data.sd2, data.n2
    if measure == "MD":
        yi, vi = m1 - m2, sd1**2 / n1 + sd2**2 / n2
    elif measure == "SMD":
        pooled = np.sqrt(((n1 - 1) * sd1**2 + (n2 - 1) * sd2**2) / (n1 + n2 - 2))
        yi = hedges_correction(n1 + n2 - 2) * (m1 - m2) / pooled
        vi = 1 / n1 + 1 / n2 + yi**2 / (2 * (n1 + n2))
    elif measure == "ROM":
        for arm, means in (("treatment", m1), ("control", m2)):
            bad = np.flatnonzero(means <= 0)
            if bad.size:
                i = int(bad[0])
                raise DataError(
                    f"the ratio of means (ROM) needs positive means, got the {arm} mean "
                    f"{means[i]:g}",
                    source=data.source,
                    row=i + 1,
                    study=data.study[i],
                )
        yi = np.log(m1 / m2)
        vi = sd1**2 / (n1 * m1**2) + sd2**2 / (n2 * m2**2)
    else:
        raise OptionError(
            f"--measure {plain(measure)} does not apply to means and SDs; choose one of "
            f"{', '.join(MEASURES)}"
        )
    return ReportedEffects(
        study=data.study,
        yi=np.asarray(yi, dtype=float),
        vi=np.asarray(vi, dtype=float),
        measure=measure,
        covariates=data.covariates,
        source=data.source,
        warnings=data.warnings,
        origin=f"({NAMES[measure]}) from means, SDs and group sizes, as metafor's escalc",
        arms=ArmStatistics(m1, sd1, n1, m2, sd2, n2),
    )
