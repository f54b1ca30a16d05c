"""Figures of the exact engines' model comparisons: the prior robustness map (heat maps of
P(benefit) and the Bayes factors over the prior scales, with the line where the conclusion
flips) and the model-averaging chart (prior against posterior model probabilities; the
averaged posterior of the effect beside each model's).

They draw what :mod:`bayesmeta.workflows.robustness` and :mod:`bayesmeta.workflows.average`
computed; nothing is computed here.
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from bayesmeta.model.scales import Scale
from bayesmeta.report.figures import literal_text
from bayesmeta.report.figures.axes import FONT_SIZE
from bayesmeta.workflows.average import ModelAverage
from bayesmeta.workflows.robustness import RobustnessMap

FLIP = "#000000"
PRIOR, POSTERIOR = "#bdbdbd", "#2166ac"
MODEL_LABELS = {
    "effect_random": "effect, random",
    "effect_common": "effect, common",
    "null_random": "no effect, random",
    "null_common": "no effect, common",
}
BF_LIMIT = 3.0  # colour scale of log10 BF: -3 .. 3 (1/1000 .. 1000); beyond is clipped


def _plain_log(ax: Axes, axes: str = "xy") -> None:
    """Log axes labelled 0.1, 1, 10 (the figures draw text literally, without mathtext)."""
    from matplotlib.ticker import FuncFormatter, NullFormatter

    for name in axes:
        axis = ax.xaxis if name == "x" else ax.yaxis
        axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        axis.set_minor_formatter(NullFormatter())


def _heat(
    fig: Figure, ax: Axes, rmap: RobustnessMap, values: np.ndarray, title: str, kind: str
) -> None:
    x, y = rmap.mu_scales, rmap.tau_scales
    if kind == "prob":
        mesh = ax.pcolormesh(x, y, values, cmap="RdBu", vmin=0.0, vmax=1.0, shading="nearest")
        level, label = rmap.threshold, f"P = {rmap.threshold:g}"
    else:
        mesh = ax.pcolormesh(x, y, np.clip(values, -BF_LIMIT, BF_LIMIT), cmap="PuOr_r",
                             vmin=-BF_LIMIT, vmax=BF_LIMIT, shading="nearest")  # fmt: skip
        level, label = 0.0, "BF = 1"
    if np.nanmin(values) < level < np.nanmax(values):
        ax.contour(x, y, values, levels=[level], colors=FLIP, linewidths=1.6)
        label = f"black line: {label}"
    else:
        side = "above" if np.nanmin(values) >= level else "below"
        label = f"{side} {label} on the whole map"
    ax.set_xscale("log")
    ax.set_yscale("log")
    _plain_log(ax)
    ax.set_title(f"{title}\n({label})", fontsize=FONT_SIZE)
    ax.set_xlabel("SD of the normal prior of mu", fontsize=FONT_SIZE)
    ax.tick_params(labelsize=FONT_SIZE - 1)
    if rmap.analysis is not None:
        ax.scatter([rmap.analysis["mu_sd"]], [rmap.analysis["tau_scale"]], marker="*", s=90,
                   color="white", edgecolors="black", linewidths=0.8, zorder=3,
                   gid="analysis-prior")  # fmt: skip
    bar = fig.colorbar(mesh, ax=ax, fraction=0.05, pad=0.03)
    bar.ax.tick_params(labelsize=FONT_SIZE - 1)
    if kind != "prob":
        bar.set_label("log10 Bayes factor (clipped at +-3)", fontsize=FONT_SIZE - 1)


@literal_text
def robustness_map(rmap: RobustnessMap) -> Figure:
    """Three heat maps over (mu prior SD, tau prior scale): P(benefit) with its contour at
    the threshold, log10 BF for the effect and for heterogeneity with their contour at BF = 1;
    a star marks the analysis' own priors when they are of these families."""
    fig = Figure(figsize=(13.5, 4.3), layout="constrained")
    axes = fig.subplots(1, 3, sharey=True)
    log10 = 1.0 / math.log(10.0)
    _heat(fig, axes[0], rmap, rmap.prob_benefit, f"P({rmap.benefit_text} | data)", "prob")
    _heat(fig, axes[1], rmap, rmap.log_bf_effect * log10, "BF effect (mu != 0 vs mu = 0)", "bf")
    _heat(fig, axes[2], rmap, rmap.log_bf_heterogeneity * log10,
          "BF heterogeneity (tau > 0 vs tau = 0)", "bf")  # fmt: skip
    axes[0].set_ylabel("scale of the half-normal prior of tau", fontsize=FONT_SIZE)
    return fig


def _interval(ax: Axes, y: float, s: object, show, colour: str) -> None:
    lo, hi = (float(show(v)) for v in s.interval)  # type: ignore[attr-defined]
    ax.plot([lo, hi], [y, y], color=colour, lw=1.4)
    ax.scatter([float(show(s.median))], [y], color=colour, s=26, zorder=3)  # type: ignore[attr-defined]


@literal_text
def model_average(avg: ModelAverage, scale: Scale) -> Figure:
    """Left: prior and posterior probability of each model. Right: the posterior median and
    interval of the effect under each model with an effect, and the model-averaged one (the
    null models put their probability at no effect)."""
    fig = Figure(figsize=(10.0, 3.4), layout="constrained")
    probs, effect = fig.subplots(1, 2, width_ratios=(1.0, 1.2))
    models = list(MODEL_LABELS)
    y = np.arange(len(models))
    prior = [avg.prior_probabilities[m] for m in models]
    post = [avg.posterior_probabilities[m] for m in models]
    probs.barh(y - 0.18, prior, height=0.34, color=PRIOR, label="prior")
    probs.barh(y + 0.18, post, height=0.34, color=POSTERIOR, label="posterior")
    probs.set_yticks(y, [MODEL_LABELS[m] for m in models], fontsize=FONT_SIZE)
    probs.set_ylim(len(models) - 0.5, -0.5)
    probs.set_xlim(0.0, 1.0)
    probs.set_xlabel("model probability", fontsize=FONT_SIZE)
    probs.legend(fontsize=FONT_SIZE - 1, frameon=False, loc="lower right")
    rows = [(MODEL_LABELS[m], avg.models[m]["mu"]) for m in models if avg.models[m]["mu"]]
    rows.append(("model-averaged", avg.mu))
    show = scale.show
    for i, (_, s) in enumerate(rows):
        _interval(effect, float(i), s, show, POSTERIOR if i < len(rows) - 1 else FLIP)
    effect.axvline(float(show(0.0)), color="#969696", lw=0.8, ls="--")
    effect.set_yticks(range(len(rows)), [label for label, _ in rows], fontsize=FONT_SIZE)
    effect.set_ylim(len(rows) - 0.5, -0.5)
    if scale.log_ratio:
        effect.set_xscale("log")
        _plain_log(effect, "x")
    level = round(100 * avg.mu.level)
    effect.set_xlabel(f"{scale.label}: median and {level}% interval", fontsize=FONT_SIZE)
    for ax in (probs, effect):
        ax.tick_params(labelsize=FONT_SIZE - 1)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    return fig
