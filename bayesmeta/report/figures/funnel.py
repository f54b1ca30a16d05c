"""Funnel plot: each study's effect against its standard error, with the pseudo-confidence
region around the common-effect estimate and Egger's regression line.

As metafor's ``funnel(rma(yi, vi, method = "EE"))``: the standard error runs down the vertical
axis (0 at the top), the region is ``estimate +- z * SE`` (z = 1.96 at 95%) around the
inverse-variance common-effect estimate, and the line is Egger's regression ``yi = b0 + b1 *
SE`` (weights ``1 / vi``; Egger et al. 1997, BMJ 315:629), whose slope is Egger's test. Ratios
are shown on a log axis, so the region is a triangle; logit proportions are shown as
proportions, where it curves. Effect sizes as the frequentist methods use them (escalc
conventions: 0.5 added to the cells of a study with a zero cell).

With ``contours=True`` the plot is contour-enhanced (Peters et al. 2008, J Clin Epidemiol
61:991): shaded where a study's two-sided p-value against no effect is below 0.10, 0.05 and
0.01 (the edges from :func:`bayesmeta.frequentist.bias.contour_z`); ``filled`` adds the
studies a trim-and-fill imputed (open circles) and its adjusted estimate. Every number is
computed by :func:`bayesmeta.workflows.presentation.funnel_numbers`; this module draws.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from bayesmeta.frequentist.bias import TrimFill
from bayesmeta.report.figures import literal_text
from bayesmeta.report.figures.axes import FONT_SIZE, effect_axis
from bayesmeta.report.format import p_value, percent
from bayesmeta.workflows.presentation import FunnelNumbers

REGION, LINE = "#f0f0f0", "#b2182b"
CONTOUR_SHADES = {0.10: "#d9d9d9", 0.05: "#a6a6a6", 0.01: "#737373"}


@literal_text
def funnel(
    numbers: FunnelNumbers,
    *,
    contours: bool = False,
    filled: TrimFill | None = None,
    measure: str | None = None,
) -> Figure:
    """Funnel plot (module docstring); returns the figure, writes nothing.

    Parameters
    ----------
    numbers
        What it draws (:func:`bayesmeta.workflows.presentation.funnel_numbers` of the data).
    contours
        Shade the p < 0.10, 0.05, 0.01 regions around no effect.
    filled
        A trim-and-fill result whose imputed studies and estimate are drawn.
    """
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    scale, level, data = numbers.scale, numbers.level, numbers.data
    show = scale.show
    yi = numbers.yi
    se = np.sqrt(numbers.vi)
    centre, z = numbers.centre, numbers.z
    top = 1.08 * float(se.max())
    grid = np.linspace(0.0, top, 200)
    lower, upper = show(centre - z * grid), show(centre + z * grid)
    extent = [*show(yi), *lower, *upper]
    if filled is not None:
        extent += [*show(np.asarray(filled.filled_yi))]
    zs = numbers.contours if contours else {}
    for z_edge in zs.values():
        extent += [*show(np.array([-z_edge * top, z_edge * top]))]
    axis = effect_axis(scale, extent, data)
    fig = Figure(figsize=(6.0, 5.0))
    ax = fig.add_axes((0.12, 0.29, 0.84, 0.68), gid="funnel-panel")
    axis.apply(ax, null_style={"ls": ":", "color": "0.5"})
    if zs:
        # beyond every point drawn (clipped by the axis limits); smaller p drawn on top
        far = min(700.0, 10 * (float(np.abs(yi).max()) + max(zs.values()) * top) + 1)
        for p_level, z_edge in zs.items():
            shade = CONTOUR_SHADES.get(p_level, "#bdbdbd")
            for sign in (-1.0, 1.0):
                ax.fill_betweenx(
                    grid,
                    show(sign * z_edge * grid),
                    show(sign * far + 0 * grid),
                    color=shade,
                    zorder=0,
                    lw=0,
                    gid=f"contour-{p_level:g}",
                )
    else:
        ax.fill_betweenx(grid, lower, upper, color=REGION, zorder=0, gid="region")
    for edge in (lower, upper):
        ax.plot(edge, grid, color="0.45", lw=0.8, ls="--", zorder=1)
    ax.axvline(float(show(centre)), color="0.2", lw=0.9, zorder=1, gid="centre")
    handles = [
        Patch(facecolor="white" if zs else REGION, edgecolor="0.45", ls="--",
              label=f"Pseudo {percent(level)} confidence region"),
        Line2D([], [], color="0.2", lw=0.9, label="Common-effect estimate (inverse variance)"),
    ]  # fmt: skip
    handles += [Patch(facecolor=CONTOUR_SHADES.get(p, "#bdbdbd"), label=f"p < {p:g}")
                for p in zs]  # fmt: skip
    if filled is not None and filled.k0 > 0:
        ax.scatter(
            show(np.asarray(filled.filled_yi)),
            np.sqrt(filled.filled_vi),
            s=22,
            facecolors="white",
            edgecolors="black",
            zorder=3,
            gid="filled",
        )
        ax.axvline(
            float(show(filled.fit.estimate)),
            color="0.2",
            lw=0.9,
            ls="-.",
            zorder=1,
            gid="filled-estimate",
        )
        handles.append(
            Line2D(
                [],
                [],
                marker="o",
                ls="",
                markerfacecolor="white",
                markeredgecolor="black",
                label=f"Filled by trim-and-fill ({filled.k0}, {filled.estimator})",
            )
        )
        handles.append(Line2D([], [], color="0.2", lw=0.9, ls="-.",
                              label="Trim-and-fill estimate"))  # fmt: skip
    if numbers.egger is not None:
        (b0, b1), test = numbers.egger
        label = f"Egger's regression (t = {test.z:.2f}, df = {test.df}, p = {p_value(test.p)})"
        ax.plot(show(b0 + b1 * grid), grid, color=LINE, lw=1.2, zorder=2, gid="egger")
        handles.append(Line2D([], [], color=LINE, lw=1.2, label=label))
    ax.scatter(show(yi), se, s=22, color="black", zorder=3, gid="studies", linewidths=0)
    ax.set_ylim(top, 0.0)
    ax.set_ylabel(f"Standard error ({scale.name.replace('_', ' ')})", fontsize=FONT_SIZE + 0.5)
    ax.tick_params(labelsize=FONT_SIZE)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    # the legend grows downwards: 1.45 in for the plain plot's 3 entries, 0.22 in per entry
    legend_in = 0.79 + 0.22 * len(handles)
    height = legend_in + 3.55
    fig.set_size_inches(6.0, height)
    ax.set_position((0.12, legend_in / height, 0.84, 3.4 / height))
    fig.legend(handles=handles, loc="lower center", ncol=1, frameon=False, fontsize=FONT_SIZE,
               bbox_to_anchor=(0.5, 0.0))  # fmt: skip
    return fig
