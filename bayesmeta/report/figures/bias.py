"""The publication-bias ensemble's figure: the model-averaged weight function, and the
bias-adjusted averaged effect beside the unadjusted one (it only reads the result)."""

from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure

from bayesmeta.io.reported import RATIO_MEASURES
from bayesmeta.report.figures import literal_text
from bayesmeta.report.figures.axes import FONT_SIZE
from bayesmeta.workflows.bias import BiasEnsemble

BLUE, GREY = "#2166ac", "#636363"


@literal_text
def ensemble(result: BiasEnsemble) -> Figure:
    """Left: the averaged weight of each interval of one-sided p-values (mean, shaded 95%
    interval), 1 for the most significant; right: the averaged effect (median and interval)
    unadjusted, bias-adjusted, and adjusted conditional on an effect."""
    fig = Figure(figsize=(9.0, 3.2))
    wf_ax = fig.add_axes((0.07, 0.2, 0.4, 0.68), gid="weight-function")
    mu_ax = fig.add_axes((0.68, 0.2, 0.3, 0.68), gid="averaged-effect")
    wf = result.weight_function
    edges = np.array((0.0, *wf.cuts, 1.0))
    mean = np.array(wf.mean)
    lo, hi = (np.array([x[i] for x in wf.interval]) for i in (0, 1))
    wf_ax.stairs(mean, edges, baseline=None, color=BLUE, linewidth=1.8, label="mean")
    wf_ax.stairs(hi, edges, baseline=lo, fill=True, color=BLUE, alpha=0.18, label="95% CrI")
    wf_ax.set_xlim(0, 1)
    wf_ax.set_ylim(0, 1.05)
    wf_ax.set_xlabel(f"one-sided p-value ({result.direction} effects favoured)", fontsize=FONT_SIZE)
    wf_ax.set_ylabel("relative probability of publication", fontsize=FONT_SIZE)
    wf_ax.set_title("Model-averaged weight function", fontsize=FONT_SIZE)
    for cut in wf.cuts:
        wf_ax.axvline(cut, color=GREY, linewidth=0.4, linestyle=":")
    wf_ax.legend(fontsize=FONT_SIZE - 1, loc="lower right", frameon=False)
    ratio = result.measure in RATIO_MEASURES
    rows = [("unadjusted (no bias)", result.unadjusted, GREY), ("bias-adjusted", result.mu, BLUE)]
    if result.mu_conditional is not None:
        rows.append(("adjusted, given an effect", result.mu_conditional, BLUE))
    for i, (_, s, colour) in enumerate(rows):
        y = len(rows) - 1 - i
        show = (lambda v: math.exp(v)) if ratio else (lambda v: v)
        mu_ax.plot([show(s.interval[0]), show(s.interval[1])], [y, y], color=colour, linewidth=2)
        mu_ax.plot([show(s.median)], [y], "o", color=colour)
    mu_ax.axvline(1.0 if ratio else 0.0, color=GREY, linewidth=0.8, linestyle="--")
    if ratio:
        from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

        mu_ax.set_xscale("log")
        mu_ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        mu_ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        mu_ax.xaxis.set_minor_formatter(NullFormatter())
    mu_ax.set_yticks(range(len(rows)), [r[0] for r in reversed(rows)], fontsize=FONT_SIZE)
    mu_ax.set_ylim(-0.6, len(rows) - 0.4)
    label = result.measure if ratio else f"mu ({result.measure})"
    mu_ax.set_xlabel(f"{label}: median and {result.level:.0%} CrI", fontsize=FONT_SIZE)
    mu_ax.set_title("Model-averaged effect", fontsize=FONT_SIZE)
    return fig
