"""Baujat and GOSH plots: they draw the statistics of
:mod:`bayesmeta.frequentist.influence` and compute nothing.

- :func:`baujat`: each study's contribution to heterogeneity (squared Pearson residual)
  against its influence on the pooled result, labelled by its row number, as metafor's
  ``baujat``.
- :func:`gosh`: the pooled estimate against I^2 of every fitted subset of the studies (all
  subsets up to a size, random ones beyond), as metafor's ``plot(gosh(...))``.
"""

from __future__ import annotations

from matplotlib.figure import Figure

from bayesmeta.frequentist.influence import Baujat, Gosh
from bayesmeta.report.figures.axes import FONT_SIZE

POINT = "#2166ac"


def baujat(stats: Baujat) -> Figure:
    """Baujat plot of ``stats`` (:func:`bayesmeta.frequentist.influence.baujat`)."""
    fig = Figure(figsize=(6.0, 4.5))
    ax = fig.add_subplot()
    ax.scatter(stats.x, stats.y, s=14, color=POINT, zorder=3)
    for i, (x, y) in enumerate(zip(stats.x, stats.y, strict=True)):
        ax.annotate(str(i + 1), (x, y), xytext=(3, 3), textcoords="offset points",
                    fontsize=FONT_SIZE)  # fmt: skip
    common = stats.method == "EE"
    ax.set_xlabel(
        "Contribution to overall heterogeneity" if common else "Squared Pearson residual",
        fontsize=FONT_SIZE + 0.5,
    )
    ax.set_ylabel("Influence on overall result", fontsize=FONT_SIZE + 0.5)
    ax.grid(color="#dddddd", linewidth=0.5)
    ax.tick_params(labelsize=FONT_SIZE)
    fig.tight_layout()
    return fig


def gosh(stats: Gosh) -> Figure:
    """GOSH plot of ``stats`` (:func:`bayesmeta.frequentist.influence.gosh`): the estimate
    (model scale) against I^2, one point per subset."""
    fig = Figure(figsize=(6.0, 4.5))
    ax = fig.add_subplot()
    alpha = min(1.0, max(0.1, 200 / max(len(stats.k), 1)))
    ax.scatter(stats.estimate, stats.i2, s=4, color=POINT, alpha=alpha, linewidths=0)
    ax.set_xlabel("Pooled estimate (model scale)", fontsize=FONT_SIZE + 0.5)
    ax.set_ylabel("I² (%)", fontsize=FONT_SIZE + 0.5)
    kind = "all" if stats.exact else "random"
    ax.set_title(
        f"GOSH: {len(stats.k)} subsets ({kind}), {stats.method}",
        fontsize=FONT_SIZE + 0.5,
        loc="left",
    )
    ax.tick_params(labelsize=FONT_SIZE)
    fig.tight_layout()
    return fig
