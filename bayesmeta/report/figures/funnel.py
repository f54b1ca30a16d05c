"""Funnel plot: each study's effect against its standard error, with the pseudo-confidence
region around the common-effect estimate and Egger's regression line.

As metafor's ``funnel(rma(yi, vi, method = "EE"))``: the standard error runs down the vertical
axis (0 at the top), the region is ``estimate +- z * SE`` (z = 1.96 at 95%) around the
inverse-variance common-effect estimate, and the line is Egger's regression ``yi = b0 + b1 *
SE`` (weights ``1 / vi``; Egger et al. 1997, BMJ 315:629), whose slope is Egger's test. Ratios
are shown on a log axis, so the region is a triangle; logit proportions are shown as
proportions, where it curves. Effect sizes as the frequentist methods use them (escalc
conventions: 0.5 added to the cells of a study with a zero cell).
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from bayesmeta.effects import EffectSizes
from bayesmeta.errors import BayesmetaError
from bayesmeta.frequentist import methods as frequentist_methods
from bayesmeta.frequentist.pooled import common_effect, z_quantile
from bayesmeta.frequentist.smallstudy import egger, egger_line
from bayesmeta.io.counts import StudyData, TwoArmData
from bayesmeta.io.reported import ReportedEffects
from bayesmeta.model.description import scale_of_data
from bayesmeta.report.figures import literal_text
from bayesmeta.report.figures.axes import FONT_SIZE, effect_axis
from bayesmeta.report.format import p_value, percent
from bayesmeta.summaries.types import DEFAULT_LEVEL

REGION, LINE = "#f0f0f0", "#b2182b"


@literal_text
def funnel(data: StudyData | ReportedEffects, *, level: float = DEFAULT_LEVEL) -> Figure:
    """Funnel plot of ``data`` (module docstring); returns the figure, writes nothing.

    Parameters
    ----------
    data
        Validated data (:func:`bayesmeta.load`); an analysis' ``result.data``.
    level
        Level of the pseudo-confidence region (0.95).

    Raises
    ------
    BayesmetaError
        Fewer than 3 studies with an effect estimate.
    """
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    es = frequentist_methods.inputs(data, level).es
    if es.k < 3:
        raise BayesmetaError(f"a funnel plot needs at least 3 studies, got {es.k}")
    scale = scale_of_data(data)
    show = scale.show
    se = np.sqrt(es.vi)
    centre = common_effect(es, level=level).estimate
    z = z_quantile(level)
    top = 1.08 * float(se.max())
    grid = np.linspace(0.0, top, 200)
    lower, upper = show(centre - z * grid), show(centre + z * grid)
    axis = effect_axis(scale, [*show(es.yi), *lower, *upper], data)
    fig = Figure(figsize=(6.0, 5.0))
    ax = fig.add_axes((0.12, 0.29, 0.84, 0.68), gid="funnel-panel")
    axis.apply(ax, null_style={"ls": ":", "color": "0.5"})
    ax.fill_betweenx(grid, lower, upper, color=REGION, zorder=0, gid="region")
    for edge in (lower, upper):
        ax.plot(edge, grid, color="0.45", lw=0.8, ls="--", zorder=1)
    ax.axvline(float(show(centre)), color="0.2", lw=0.9, zorder=1, gid="centre")
    handles = [
        Patch(facecolor=REGION, edgecolor="0.45", ls="--",
              label=f"Pseudo {percent(level)} confidence region"),
        Line2D([], [], color="0.2", lw=0.9, label="Common-effect estimate (inverse variance)"),
    ]  # fmt: skip
    line = _egger(data, es)
    if line is not None:
        (b0, b1), label = line
        ax.plot(show(b0 + b1 * grid), grid, color=LINE, lw=1.2, zorder=2, gid="egger")
        handles.append(Line2D([], [], color=LINE, lw=1.2, label=label))
    ax.scatter(show(es.yi), se, s=22, color="black", zorder=3, gid="studies", linewidths=0)
    ax.set_ylim(top, 0.0)
    ax.set_ylabel(f"Standard error ({scale.name.replace('_', ' ')})", fontsize=FONT_SIZE + 0.5)
    ax.tick_params(labelsize=FONT_SIZE)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    fig.legend(handles=handles, loc="lower center", ncol=1, frameon=False, fontsize=FONT_SIZE,
               bbox_to_anchor=(0.5, 0.0))  # fmt: skip
    return fig


def _egger(
    data: StudyData | ReportedEffects, es: EffectSizes
) -> tuple[tuple[float, float], str] | None:
    """Egger's line and its legend label (with the test), or None when it is not defined."""
    try:
        coefficients = egger_line(es)
        test = egger(es, data if isinstance(data, TwoArmData) else None)
    except BayesmetaError:
        return None
    label = f"Egger's regression (t = {test.z:.2f}, df = {test.df}, p = {p_value(test.p)})"
    return coefficients, label
