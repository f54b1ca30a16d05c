"""Forest plot of an analysis (matplotlib, drawn without a display)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from bayesmeta.report.terminal import FREQUENTIST_LABELS, scale_transform

if TYPE_CHECKING:
    from bayesmeta.workflows.analyze import AnalysisResult

POOLED_METHODS = ("mantel_haenszel", "random_dl", "random_reml_hksj", "glmm_um_fs", "glmm")


def forest_plot(result: AnalysisResult, path: str | Path, *, fmt: str = "png") -> None:
    """Observed study effects with 95% CIs and shrunken estimates with 95% CrIs, then the
    pooled posterior effect (per subgroup if any), the prediction interval for a new study and
    frequentist pooled estimates; ratios on a log axis, proportions for single-arm data."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fn, label = scale_transform(result.scale)
    post = result.posterior
    rows: list[tuple[str, float, float, float, str, str]] = []  # label, est, lo, hi, kind, colour
    for name in result.data.study:
        obs = result.observed.get(name)
        if obs is not None:
            rows.append((name, obs["estimate"], *obs["ci95"], "s", "black"))
        else:
            rows.append((f"{name} (not estimable)", np.nan, np.nan, np.nan, "s", "black"))
        sh = post.theta.get(name)
        if sh is not None:
            rows.append(("", sh["median"], *sh["ci95"], "o", "tab:blue"))
    pooled = (
        [("", post.mu, post.theta_new)]
        if post.mu is not None
        else [
            (f" {level}", b["mu"], b["theta_new"]) for level, b in post.subgroups["levels"].items()
        ]
    )
    for suffix, mu, new in pooled:
        rows.append(
            (f"Bayesian pooled{suffix} (95% CrI)", mu["median"], *mu["ci95"], "D", "tab:red")
        )
        rows.append(
            (f"New study{suffix} (95% PrI)", new["median"], *new["ci95"], "D", "tab:orange")
        )
    for key in POOLED_METHODS:
        block = result.frequentist.get(key)
        if isinstance(block, dict) and "estimate" in block:
            label = FREQUENTIST_LABELS.get(key, key)
            rows.append((label, block["estimate"], *block["ci95"], "D", "tab:gray"))

    height = 1.0 + 0.28 * len(rows)
    fig, ax = plt.subplots(figsize=(8, height))
    ys = np.arange(len(rows))[::-1]
    for y, (_, est, lo, hi, marker, colour) in zip(ys, rows, strict=True):
        if np.isfinite(est):
            ax.plot([fn(lo), fn(hi)], [y, y], color=colour, lw=1.2)
            ax.plot(fn(est), y, marker=marker, color=colour, ms=5)
    ax.set_yticks(ys, [r[0] for r in rows], fontsize=8)
    if fn is np.exp:
        ax.set_xscale("log")
        ax.axvline(1.0, color="grey", lw=0.8, ls="--")
        ax.set_xlabel(f"{label} (log scale); blue: shrunken estimates")
    else:
        ax.set_xlabel(f"{label}; blue: shrunken estimates")
    ax.set_title(f"{result.model} model ({result.engine}), {result.data.k} studies")
    fig.tight_layout()
    fig.savefig(path, format=fmt, dpi=120)
    plt.close(fig)
