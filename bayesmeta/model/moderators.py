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
from bayesmeta.model.priors import DEFAULT_BETA, Prior


@dataclass(frozen=True)
class Moderators:
    """Covariates (centred) and subgroups of the studies, ready for a model builder.

    ``x`` is ``(k, p)`` with columns ``names`` centred at ``centers``; ``group`` holds each
    study's subgroup index into ``levels``; ``separate_tau`` gives each subgroup its own tau.
    """

    x: np.ndarray | None = None
    names: tuple[str, ...] = ()
    centers: np.ndarray | None = None
    group: np.ndarray | None = None
    levels: tuple[str, ...] = ()
    subgroup: str | None = None
    separate_tau: bool = False
    prior_beta: Prior = DEFAULT_BETA

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
    """
    columns, labels = ([np.ones(len(covariates))], ["intercept"]) if intercept else ([], [])
    for name in names:
        if name not in covariates.columns:
            raise BayesmetaError(
                f"unknown covariate {name!r}; the data have {', '.join(map(str, covariates))}"
            )
        col = covariates[name]
        if col.isna().any():
            row = int(np.flatnonzero(col.isna().to_numpy())[0]) + 1
            raise BayesmetaError(f"covariate {name!r} is missing in row {row}")
        if pd.api.types.is_numeric_dtype(col):
            columns.append(col.to_numpy(dtype=float))
            labels.append(str(name))
            continue
        levels = sorted(col.astype(str).unique())
        if len(levels) < 2:
            raise BayesmetaError(f"covariate {name!r} has the same value in every study")
        for level in levels[1:]:
            columns.append((col.astype(str) == level).to_numpy(dtype=float))
            labels.append(f"{name}[{level}]")
    return np.column_stack(columns), tuple(labels)


def _too_many(slopes: int, k: int, how: str = "") -> str:
    return (
        f"{slopes} covariate slopes{how} for {k} studies: a meta-regression fits at most "
        "k - 1 (one study more than slopes); use fewer covariates"
    )


def moderators(
    covariates: pd.DataFrame,
    *,
    names: Sequence[str] = (),
    subgroup: str | None = None,
    separate_tau: bool = False,
    prior_beta: Prior = DEFAULT_BETA,
) -> Moderators:
    """Build :class:`Moderators` from the data's covariate columns.

    Raises ``BayesmetaError`` for unknown or incomplete columns, a covariate without variation
    and a subgroup column with a single level.
    """
    if separate_tau and subgroup is None:
        raise BayesmetaError("--separate-tau needs --subgroup")
    k = len(covariates)
    if len(names) > max(k - 1, 0):
        raise BayesmetaError(_too_many(len(names), k))
    x = centers = group = None
    labels: tuple[str, ...] = ()
    levels: tuple[str, ...] = ()
    if names:
        raw, labels = design_matrix(covariates, list(names), intercept=False)
        if raw.shape[1] > k - 1:  # text covariates: one column per level but the first
            raise BayesmetaError(_too_many(raw.shape[1], k, " (with the levels of text ones)"))
        centers = raw.mean(axis=0)
        x = raw - centers
        flat = [labels[j] for j in range(x.shape[1]) if np.allclose(x[:, j], 0.0)]
        if flat:
            raise BayesmetaError(f"covariate {flat[0]!r} has the same value in every study")
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
