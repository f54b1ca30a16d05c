"""Study-level moderators: covariates for meta-regression and subgroup membership.

Covariates are centred at their means before entering a model, so ``mu`` is the effect at the
average covariate values and the slopes are not correlated with it (better sampling, and an
interpretable ``mu``); the intercept at covariate value 0, as metafor reports it, is derived.
Text covariates become indicator columns against their first (sorted) level, as R's factors.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from bayesmeta.errors import BayesmetaError
from bayesmeta.io.cells import is_missing
from bayesmeta.model.priors import DEFAULT_BETA, Prior


@dataclass(frozen=True)
class Moderators:
    """Covariates (centred) and subgroups of the studies, ready for a model builder.

    ``x`` is ``(k, p)`` with columns ``names`` centred at ``centers``; ``group`` holds each
    study's subgroup index into ``levels``; ``separate_tau`` gives each subgroup its own tau.
    Covariates that are linearly dependent with the intercept (or the subgroup means) are
    refused when the object is made (:func:`check_rank`), however it is made.
    """

    x: np.ndarray | None = None
    names: tuple[str, ...] = ()
    centers: np.ndarray | None = None
    group: np.ndarray | None = None
    levels: tuple[str, ...] = ()
    subgroup: str | None = None
    separate_tau: bool = False
    prior_beta: Prior = DEFAULT_BETA

    def __post_init__(self) -> None:
        if self.x is None:
            return
        k = self.x.shape[0]
        if self.group is None:
            first, names = np.ones((k, 1)), ("intercept",)
        else:  # one mean per subgroup in place of the intercept
            first = (self.group[:, None] == np.arange(len(self.levels))).astype(float)
            names = tuple(f"{self.subgroup}[{level}]" for level in self.levels)
        check_rank(np.column_stack([first, self.x]), (*names, *self.names))

    @property
    def empty(self) -> bool:
        """No covariates and no subgroups."""
        return self.x is None and self.group is None

    def to_dict(self) -> dict:
        """What the JSON records about the moderators."""
        out: dict = {}
        if self.x is not None:
            out["covariates"] = list(self.names)
            out["centers"] = [float(c) for c in self.centers]
            out["prior_beta"] = str(self.prior_beta)
        if self.group is not None:
            out["subgroup"] = self.subgroup
            out["levels"] = list(self.levels)
            out["separate_tau"] = self.separate_tau
        return out


def design_matrix(
    covariates: pd.DataFrame, names: Sequence[str], *, intercept: bool = True
) -> tuple[np.ndarray, tuple[str, ...]]:
    """Design matrix from covariate columns (text columns get treatment contrasts).

    Numeric columns enter as they are; a text column with levels ``a < b < c`` (sorted, the
    first is the reference, as R's ``factor``) becomes indicator columns ``name[b]``,
    ``name[c]``.

    Raises
    ------
    BayesmetaError
        An unknown or repeated covariate, a missing value (blank or ``NA``: the rows are
        named), a covariate with the same value in every study, or columns that are linearly
        dependent together with the intercept (:func:`check_rank`).
    """
    repeated = next((n for i, n in enumerate(names) if n in names[:i]), None)
    if repeated is not None:
        raise BayesmetaError(f"covariate {repeated!r} is given twice; give each covariate once")
    columns, labels = [], []
    for name in names:
        if name not in covariates.columns:
            raise BayesmetaError(
                f"unknown covariate {name!r}; the data have {', '.join(map(str, covariates))}"
            )
        col = covariates[name]
        missing = np.flatnonzero([is_missing(v) for v in col])
        if missing.size:
            rows = ", ".join(str(r + 1) for r in missing[:10]) + (
                ", ..." if missing.size > 10 else ""
            )
            raise BayesmetaError(
                f"covariate {name!r} is missing in row{'s' if missing.size > 1 else ''} {rows}; "
                "a meta-regression needs it for every study: fill it in, or remove those rows "
                "from the data"
            )
        if pd.api.types.is_numeric_dtype(col):
            values = col.to_numpy(dtype=float)
            if np.ptp(values) == 0:
                raise BayesmetaError(f"covariate {name!r} has the same value in every study")
            columns.append(values)
            labels.append(str(name))
            continue
        levels = sorted(col.astype(str).unique())
        if len(levels) < 2:
            raise BayesmetaError(f"covariate {name!r} has the same value in every study")
        for level in levels[1:]:
            columns.append((col.astype(str) == level).to_numpy(dtype=float))
            labels.append(f"{name}[{level}]")
    ones = np.ones((len(covariates), 1))
    raw = np.column_stack(columns) if columns else np.empty((len(covariates), 0))
    check_rank(np.column_stack([ones, raw]), ("intercept", *labels))
    if intercept:
        return np.column_stack([ones, raw]), ("intercept", *labels)
    return raw, tuple(labels)


def check_rank(x: np.ndarray, labels: Sequence[str]) -> None:
    """Refuse a design matrix whose columns are linearly dependent, naming them.

    A rank-deficient design has no unique coefficients: a sampler then wanders along the
    ridge of equally good slopes and the least-squares fit is undefined, so both are refused
    before any fitting. Columns are compared after scaling each to unit length, so a
    covariate in large units (years) is judged like one in small units.

    Raises
    ------
    BayesmetaError
        Naming the first column that is a linear combination of earlier ones and those ones.
    """
    k, p = x.shape
    if p > k:
        raise BayesmetaError(
            f"{p} coefficients ({', '.join(labels)}) cannot be estimated from {k} studies; "
            "use fewer covariates"
        )
    scaled = x / np.linalg.norm(x, axis=0)
    for j in range(1, p):
        before = scaled[:, :j]
        coef, *_ = np.linalg.lstsq(before, scaled[:, j], rcond=None)
        if np.linalg.norm(before @ coef - scaled[:, j]) < 1e-8:
            used = [labels[i] for i in np.flatnonzero(np.abs(coef) > 1e-8)]
            raise BayesmetaError(
                f"the covariate column {labels[j]!r} is a linear combination of "
                f"{', '.join(repr(u) for u in used)} in these studies (the design matrix is "
                "rank-deficient, so the slopes are not identified); drop one of them"
            )


def check_moderators(value: object) -> Moderators | None:
    """``value`` if it is :class:`Moderators` or None, else a TypeError saying how to make one
    (a list of column names is the usual mistake)."""
    if value is None or isinstance(value, Moderators):
        return value
    hint = ""
    if isinstance(value, list | tuple | str):
        names = [value] if isinstance(value, str) else list(value)
        hint = f": bayesmeta.moderators(data.covariates, names={names!r})"
    raise TypeError(f"moderators must be made by bayesmeta.moderators{hint}, got {value!r:.60}")


def moderators(
    covariates: pd.DataFrame,
    *,
    names: Sequence[str] = (),
    subgroup: str | None = None,
    separate_tau: bool = False,
    prior_beta: Prior = DEFAULT_BETA,
) -> Moderators:
    """Build :class:`Moderators` from the data's covariate columns.

    Raises ``BayesmetaError`` for unknown, repeated or incomplete columns (a blank or ``NA``
    cell: the rows are named), a covariate without variation, covariates that are linearly
    dependent (with the intercept, or with the subgroup means) and a subgroup column with a
    single level.
    """
    if separate_tau and subgroup is None:
        raise BayesmetaError("--separate-tau needs --subgroup")
    x = centers = group = None
    labels: tuple[str, ...] = ()
    levels: tuple[str, ...] = ()
    if names:
        raw, labels = design_matrix(covariates, list(names), intercept=False)
        centers = raw.mean(axis=0)
        x = raw - centers
    if subgroup is not None:
        if subgroup not in covariates.columns:
            raise BayesmetaError(
                f"unknown subgroup column {subgroup!r}; the data have "
                f"{', '.join(map(str, covariates.columns)) or 'no extra columns'}"
            )
        col = covariates[subgroup]
        missing = col.isna().to_numpy() | (col.astype(str).str.strip() == "").to_numpy()
        if missing.any():
            row = int(np.flatnonzero(missing)[0]) + 1
            raise BayesmetaError(f"row {row}, column {subgroup!r}: subgroup is missing")
        text = col.astype(str)
        # Numbers sort as numbers ("2" before "10"), text alphabetically; the first is the
        # reference level, as in R's factor().
        order = sorted(col.unique()) if pd.api.types.is_numeric_dtype(col) else None
        levels = tuple(str(v) for v in order) if order else tuple(sorted(text.unique()))
        if len(levels) < 2:
            raise BayesmetaError(f"subgroup column {subgroup!r} has a single level {levels[0]!r}")
        group = np.array([levels.index(v) for v in text], dtype=np.int64)
    return Moderators(x, labels, centers, group, levels, subgroup, separate_tau, prior_beta)
