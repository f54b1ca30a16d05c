"""Robustness figures: the pooled effect and tau across priors for tau (prior sensitivity) and
without each study in turn (leave-one-out influence).

Both are dot-and-interval charts with one row per fit: the pooled effect on the effect axis
(odds ratios on a log axis) on the left, tau on the right, and dashed lines at the values of
the main analysis.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from bayesmeta.errors import BayesmetaError
from bayesmeta.model.priors import Prior
from bayesmeta.report.figures import literal_text
from bayesmeta.report.figures.axes import FONT_SIZE, effect_axis
from bayesmeta.report.format import percent
from bayesmeta.summaries.types import Summary
from bayesmeta.workflows.influence import Influence
from bayesmeta.workflows.sensitivity import SensitivityRow

BAYES, FREQUENTIST = "#2166ac", "#636363"
ROW = 0.26  # inches per row


def _panels(n_rows: int, label_width: float) -> tuple[Figure, Axes, Axes]:
    from matplotlib.figure import Figure

    height = 1.3 + ROW * n_rows
    width = label_width + 6.2
    fig = Figure(figsize=(width, height))
    bottom, top = 0.85 / height, 1 - 0.35 / height
    left = (label_width + 0.15) / width
    effect = fig.add_axes((left, bottom, 3.5 / width, top - bottom), gid="effect-panel")
    tau = fig.add_axes(
        (left + 3.75 / width, bottom, 2.2 / width, top - bottom), sharey=effect, gid="tau-panel"
    )
    for ax in (effect, tau):
        ax.set_ylim(n_rows - 0.5, -0.5)
        ax.tick_params(labelsize=FONT_SIZE)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    tau.tick_params(axis="y", left=False, labelleft=False)
    return fig, effect, tau


def _interval(
    ax: Axes, s: Summary, y: float, show: Callable[[Any], Any], colour: str, marker: str
) -> None:
    lo, hi = (float(show(v)) for v in s.interval)
    ax.plot([lo, hi], [y, y], color=colour, lw=1.2, zorder=2)
    ax.scatter([float(show(s.median))], [y], color=colour, marker=marker, s=22, zorder=3,
               linewidths=0, gid="estimate")  # fmt: skip


def _label_width(labels: Sequence[str]) -> float:
    from bayesmeta.report.figures.forest import text_width

    return max(text_width(label) for label in labels) + 0.1


@literal_text
def sensitivity(rows: Sequence[SensitivityRow], *, primary: Prior | None = None) -> Figure:
    """The pooled effect and tau (posterior median and credible interval) under each prior for
    tau, from :func:`bayesmeta.workflows.sensitivity.prior_sensitivity`; ``primary`` (the
    analysis' prior) is drawn in bold with reference lines at its values.

    Raises
    ------
    BayesmetaError
        No rows.
    """
    if not rows:
        raise BayesmetaError("no prior-sensitivity fits to draw")
    labels = [str(r.prior) for r in rows]
    fig, effect, tau = _panels(len(rows), _label_width(labels))
    scale = rows[0].scale
    show = scale.show
    values = [float(show(v)) for r in rows for v in (*r.mu.interval, r.mu.median)]
    axis = effect_axis(scale, values)
    axis.apply(effect)
    for y, row in enumerate(rows):
        _interval(effect, row.mu, y, show, BAYES, "o")
        _interval(tau, row.tau, y, lambda x: x, BAYES, "o")
        if primary is not None and row.prior == primary:
            effect.axvline(float(show(row.mu.median)), color=BAYES, lw=0.7, ls="--", zorder=1)
            tau.axvline(row.tau.median, color=BAYES, lw=0.7, ls="--", zorder=1)
    effect.set_yticks(range(len(rows)), labels, fontsize=FONT_SIZE)
    for tick, row in zip(effect.get_yticklabels(), rows, strict=True):
        if primary is not None and row.prior == primary:
            tick.set_fontweight("bold")
    level = percent(rows[0].mu.level)
    effect.set_title(f"Pooled {scale.label}: median, {level} CrI", fontsize=FONT_SIZE + 0.5,
                     loc="left")  # fmt: skip
    tau.set_title(f"τ: median, {level} CrI", fontsize=FONT_SIZE + 0.5, loc="left")
    tau.set_xlim(left=0)
    tau.set_xlabel("τ", fontsize=FONT_SIZE + 0.5)
    return fig


@literal_text
def influence(result: Influence) -> Figure:
    """The pooled effect and tau without each study (Bayesian: posterior median and credible
    interval; frequentist: estimate and confidence interval), with dashed lines at the fits to
    all studies (:func:`bayesmeta.workflows.influence.influence`)."""
    from matplotlib.lines import Line2D

    labels = ["None omitted", *(f"Without {s}" for s in result.studies)]
    fig, effect, tau = _panels(len(labels), _label_width(labels))
    show = result.scale.show
    rows = [(result.full_bayesian, result.full_frequentist)]
    rows += [(result.bayesian[s], result.frequentist.get(s)) for s in result.studies]
    values = []
    for bayes, freq in rows:
        values += [float(show(v)) for v in (*bayes.mu.interval, bayes.mu.median)]
        if freq is not None:
            values += [float(show(v)) for v in freq.ci]
    effect_axis(result.scale, values).apply(effect)
    for y, (bayes, freq) in enumerate(rows):
        _interval(effect, bayes.mu, y - 0.14, show, BAYES, "o")
        if bayes.tau is not None:
            _interval(tau, bayes.tau, y - 0.14, lambda x: x, BAYES, "o")
        if freq is not None:
            frequentist = Summary(freq.estimate, freq.estimate, freq.se, freq.ci, freq.level)
            _interval(effect, frequentist, y + 0.14, show, FREQUENTIST, "s")
            tau.scatter([np.sqrt(freq.tau2 or 0.0)], [y + 0.14], color=FREQUENTIST, marker="s",
                        s=22, linewidths=0, zorder=3, gid="estimate")  # fmt: skip
    full_bayes, full_freq = rows[0]
    effect.axvline(float(show(full_bayes.mu.median)), color=BAYES, lw=0.7, ls="--", zorder=1)
    effect.axvline(float(show(full_freq.estimate)), color=FREQUENTIST, lw=0.7, ls="--", zorder=1)
    if full_bayes.tau is not None:
        tau.axvline(full_bayes.tau.median, color=BAYES, lw=0.7, ls="--", zorder=1)
    effect.set_yticks(range(len(labels)), labels, fontsize=FONT_SIZE)
    effect.get_yticklabels()[0].set_fontweight("bold")
    level = percent(full_bayes.mu.level)
    effect.set_title(f"Pooled {result.scale.label}", fontsize=FONT_SIZE + 0.5, loc="left")
    tau.set_title("τ", fontsize=FONT_SIZE + 0.5, loc="left")
    tau.set_xlim(left=0)
    tau.set_xlabel("τ", fontsize=FONT_SIZE + 0.5)
    handles = [
        Line2D([], [], color=BAYES, marker="o", ms=4, lw=1.2,
               label=f"Bayesian: median, {level} CrI"),
        Line2D([], [], color=FREQUENTIST, marker="s", ms=4, lw=1.2,
               label=f"Frequentist ({result.method}): estimate, {level} CI; √τ²"),
    ]  # fmt: skip
    fig.legend(handles=handles, loc="lower center", ncol=2, frameon=False, fontsize=FONT_SIZE,
               bbox_to_anchor=(0.5, 0.0))  # fmt: skip
    return fig
