"""Forest plot of an analysis (matplotlib, drawn without a display)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from bayesmeta.frequentist.methods import METHODS, shown_by_default
from bayesmeta.frequentist.results import PooledEstimate

if TYPE_CHECKING:
    from bayesmeta.workflows.analyze import AnalysisResult


def forest_plot(
    result: AnalysisResult,
    path: str | Path,
    *,
    fmt: str = "png",
    methods: Sequence[str] | None = None,
) -> None:
    """Observed study effects with CIs and shrunken estimates with CrIs, then the pooled
    posterior effect (per subgroup if any), the prediction interval for a new study and the
    frequentist pooled estimates of ``methods`` (default: those ``fit`` shows); ratios on a
    log axis, proportions for single-arm data."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scale, post = result.scale, result.posterior
    rows: list[tuple[str, float, float, float, str, str]] = []  # label, est, lo, hi, marker, colour
    for name in result.data.study:
        obs = result.observed.get(name)
        if obs is not None:
            rows.append((name, obs.estimate, *obs.interval, "s", "black"))
        else:
            rows.append((f"{name} (not estimable)", np.nan, np.nan, np.nan, "s", "black"))
        sh = post.theta.get(name)
        if sh is not None:
            rows.append(("", sh.median, *sh.interval, "o", "tab:blue"))
    if post.mu is not None:
        pooled = [("", post.mu, post.theta_new)]
    else:
        pooled = [(f" {name}", g.mu, g.theta_new) for name, g in (post.subgroups or {}).items()]
    pct = f"{result.level * 100:g}%"
    for suffix, mu, new in pooled:
        rows.append(
            (f"Bayesian pooled{suffix} ({pct} CrI)", mu.median, *mu.interval, "D", "tab:red")
        )
        rows.append(
            (f"New study{suffix} ({pct} PrI)", new.median, *new.interval, "D", "tab:orange")
        )
    for key in methods or shown_by_default(result.data):
        estimate = result.frequentist.get(key)
        if isinstance(estimate, PooledEstimate):
            label = METHODS[key].label
            rows.append((label, estimate.estimate, *estimate.ci, "D", "tab:gray"))

    height = 1.0 + 0.28 * len(rows)
    fig, ax = plt.subplots(figsize=(8, height))
    ys = np.arange(len(rows))[::-1]
    show = scale.show
    for y, (_, est, lo, hi, marker, colour) in zip(ys, rows, strict=True):
        if np.isfinite(est):
            ax.plot([show(lo), show(hi)], [y, y], color=colour, lw=1.2)
            ax.plot(show(est), y, marker=marker, color=colour, ms=5)
    ax.set_yticks(ys, [r[0] for r in rows], fontsize=8)
    if scale.log_ratio:
        ax.set_xscale("log")
        ax.axvline(1.0, color="grey", lw=0.8, ls="--")
        ax.set_xlabel(f"{scale.label} (log scale); blue: shrunken estimates")
    else:
        ax.set_xlabel(f"{scale.label}; blue: shrunken estimates")
    ax.set_title(f"{result.model} model ({result.engine}), {result.data.k} studies")
    fig.tight_layout()
    fig.savefig(path, format=fmt, dpi=120)
    plt.close(fig)
