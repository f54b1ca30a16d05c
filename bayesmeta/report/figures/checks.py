"""The prior predictive figure: what the priors imply for a study's effect and, for two-arm
counts with study baselines, for an arm's event proportion, beside the observed values.

Draws the :class:`~bayesmeta.summaries.checks.PriorPredictive` the analysis computed; it
computes nothing itself.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from bayesmeta.report.figures import literal_text
from bayesmeta.report.figures.axes import FONT_SIZE
from bayesmeta.summaries.checks import PriorPredictive

PRIOR, OBSERVED = "#b2182b", "#252525"


@literal_text
def prior_predictive(prior: PriorPredictive, log_axis: bool) -> Figure:
    """Histogram of the prior predictive study effect (log axis for ratios) with the observed
    effects as ticks and, when modelled, of the arms' event proportions."""
    panels = 2 if prior.event_draws is not None else 1
    fig = Figure(figsize=(3.6 * panels + 0.4, 2.8))
    axes = fig.subplots(1, panels, squeeze=False)[0]
    ax = axes[0]
    values = prior.effect_draws[np.isfinite(prior.effect_draws) & (prior.effect_draws > 0)]
    if log_axis:
        lo, hi = np.quantile(values, [0.005, 0.995])
        bins = np.geomspace(min(lo, prior.observed_effects.min()),
                            max(hi, prior.observed_effects.max()), 50)  # fmt: skip
        from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

        ax.set_xscale("log")
        ax.xaxis.set_major_locator(LogLocator(base=10.0, numticks=8))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:g}"))
        ax.xaxis.set_minor_formatter(NullFormatter())
    else:
        values = prior.effect_draws[np.isfinite(prior.effect_draws)]
        bins = 50
    ax.hist(values, bins=bins, color=PRIOR, alpha=0.55, density=False, gid="prior-predictive")
    _ticks(ax, prior.observed_effects)
    ax.set_xlabel(f"{prior.label.capitalize()} of a study", fontsize=FONT_SIZE + 0.5)
    ax.set_ylabel("Prior predictive draws", fontsize=FONT_SIZE + 0.5)
    if prior.event_draws is not None and prior.observed_events is not None:
        ev = axes[1]
        ev.hist(prior.event_draws, bins=np.linspace(0, 1, 41), color=PRIOR, alpha=0.55,
                gid="prior-predictive-events")  # fmt: skip
        _ticks(ev, prior.observed_events)
        ev.set_xlabel("Event proportion of an arm", fontsize=FONT_SIZE + 0.5)
    for a in axes:
        a.tick_params(labelsize=FONT_SIZE)
        for side in ("top", "right"):
            a.spines[side].set_visible(False)
    axes[0].plot([], [], "|", color=OBSERVED, label="observed")
    axes[0].legend(fontsize=FONT_SIZE, frameon=False, loc="upper right")
    fig.tight_layout()
    return fig


def _ticks(ax, values: np.ndarray) -> None:
    """The observed values as ticks along the bottom of ``ax``."""
    top = ax.get_ylim()[1]
    ax.vlines(values, 0, 0.06 * top, color=OBSERVED, lw=1, gid="observed")
