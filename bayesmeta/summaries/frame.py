"""A posterior summary as a tidy table: one row per quantity, with its convergence checks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from bayesmeta.engines.draws import Draws, as_draws
from bayesmeta.summaries.types import PosteriorSummary, Summary

if TYPE_CHECKING:
    from xarray import DataTree

COLUMNS = ("mean", "median", "sd", "ci_lower", "ci_upper", "hdi_lower", "hdi_upper")
CHECKS = ("r_hat", "ess_bulk", "ess_tail")


def _rows(post: PosteriorSummary) -> list[tuple[str, Summary, tuple[str, dict[str, str]] | None]]:
    """(row name, summary, (posterior variable, its coordinates) or None) in report order.

    Quantities on the shown scale (odds ratio, proportion) point to the variable they map
    from: R-hat and ESS are rank-based, so a monotone transform leaves them as they are.
    """
    scale = post.scale
    rows: list[tuple[str, Summary, tuple[str, dict[str, str]] | None]] = []
    for name, value, var in (
        ("mu", post.mu, "mu"),
        ("tau", post.tau, "tau"),
        ("nu", post.nu, "nu"),
        ("theta_new", post.theta_new, "theta_new"),
        (scale.pooled, post.pooled, "mu"),
        (scale.predictive, post.predictive, "theta_new"),
    ):
        if value is not None and name is not None:
            rows.append((name, value, (var, {})))
    for name, value in (post.coefficients or {}).items():
        if name.startswith("intercept"):
            level = name[len("intercept[") : -1] if "[" in name else None
            rows.append((name, value, ("intercept", {"subgroup": level} if level else {})))
        else:
            rows.append((f"beta[{name}]", value, ("beta", {"covariate": name})))
    for level, group in (post.subgroups or {}).items():
        at = {"subgroup": level}
        for name, value, var in (
            ("mu", group.mu, "mu"),
            ("theta_new", group.theta_new, "theta_new"),
            ("tau", group.tau, "tau"),
            (scale.pooled, group.pooled, "mu"),
            (scale.predictive, group.predictive, "theta_new"),
        ):
            if value is not None and name is not None:
                rows.append((f"{name}[{level}]", value, (var, at)))
    for name, d in (post.differences or {}).items():
        rows.append((f"difference[{name}]", d.summary, None))
    for study, value in post.theta.items():
        rows.append((f"theta[{study}]", value, ("theta", {"study": study})))
    return rows


def _select(draws: Draws, name: str, at: dict[str, str]) -> np.ndarray:
    """Draws (chain x draw) of ``name`` at the coordinates ``at`` (one label per other dim)."""
    values = draws.posterior[name]
    index = tuple(draws.labels(dim).index(at[dim]) for dim in draws.var_dims(name))
    return np.asarray(values[(slice(None), slice(None), *index)])


def summary_frame(post: PosteriorSummary, idata: Draws | DataTree | None = None) -> pd.DataFrame:
    """One row per quantity (``mu``, ``tau``, ``theta_new``, the shown-scale blocks such as
    ``odds_ratio``, coefficients, subgroups, each study's ``theta[...]``) with columns
    ``mean, median, sd, ci_lower, ci_upper`` (at the summary's level, in ``frame.attrs``),
    ``hdi_lower, hdi_upper`` (if computed), ``prob_below_0`` and, from the draws when given,
    ``r_hat, ess_bulk, ess_tail``."""
    from bayesmeta.engines import diagnostics

    draws = as_draws(idata) if idata is not None else None
    records: dict[str, dict[str, Any]] = {}
    checked: list[tuple[str, np.ndarray]] = []
    level = None
    for name, s, var in _rows(post):
        level = s.level
        hdi = s.hdi or (np.nan, np.nan)
        record: dict[str, Any] = dict(
            zip(COLUMNS, (s.mean, s.median, s.sd, *s.interval, *hdi), strict=True)
        )
        record["prob_below_0"] = s.prob_below_0 if s.prob_below_0 is not None else np.nan
        record.update(dict.fromkeys(CHECKS, np.nan))
        records[name] = record
        if draws is not None and var is not None and var[0] in draws.posterior:
            checked.append((name, _select(draws, *var)))
    if checked:  # every row's R-hat and ESS in one call (the same numbers, row by row)
        values = diagnostics.rhat_ess(np.stack([x for _, x in checked], axis=-1))
        for j, (name, _) in enumerate(checked):
            records[name].update(zip(CHECKS, (float(v[j]) for v in values), strict=True))
    frame = pd.DataFrame.from_dict(records, orient="index")
    frame.index.name = "quantity"
    frame = frame.dropna(axis="columns", how="all")
    frame.attrs["level"] = level
    return frame
