"""Prior against posterior: of the pooled effect (on the odds-ratio axis) and of tau.

Densities are per unit of the model scale (log odds ratio, logit, log hazard ratio...), so the
prior and the posterior are drawn on the same footing; the effect axis shows the values on the
shown scale (odds ratios on a log axis). The posterior density comes from the draws by a
Gaussian kernel density estimate (Scott's bandwidth; reflected at 0 for tau) for NUTS, and
from the exact marginal densities for the exact engine (:mod:`bayesmeta.engines.exact`). The
shaded band is the equal-tailed credible interval of the analysis, the line its median.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from bayesmeta.errors import BayesmetaError
from bayesmeta.model.priors import Prior
from bayesmeta.report.figures import literal_text
from bayesmeta.report.figures.axes import FONT_SIZE, range_axis
from bayesmeta.report.format import percent, probability
from bayesmeta.summaries.types import Summary
from bayesmeta.workflows.analyze import AnalysisResult

POSTERIOR, PRIOR = "#2166ac", "#7f7f7f"
COLOURS = ("#2166ac", "#b2182b", "#1b7837", "#762a83", "#e08214", "#35978f")
GRID = 512


@dataclass(frozen=True)
class Density:
    """A density on a grid of model-scale values, with the summary it belongs to."""

    label: str
    x: np.ndarray
    density: np.ndarray
    summary: Summary


def _draws(result: AnalysisResult, name: str) -> np.ndarray:
    """Draws of ``name``, chains and draws flattened (other dimensions kept)."""
    values = np.asarray(result.fit.idata["posterior"][name])
    return values.reshape(-1, *values.shape[2:])


def _kde(draws: np.ndarray, grid: np.ndarray, reflect_at_zero: bool = False) -> np.ndarray:
    from scipy.stats import gaussian_kde

    kde = gaussian_kde(draws)
    density = kde(grid)
    if reflect_at_zero:
        density = np.where(grid >= 0, density + kde(-grid), 0.0)
    return density


def _grid(summaries: list[Summary], lower: float | None = None) -> np.ndarray:
    """A grid covering every interval, widened by one interval width on either side."""
    lo = min(s.interval[0] for s in summaries)
    hi = max(s.interval[1] for s in summaries)
    width = hi - lo
    start = lo - 0.6 * width if lower is None else max(lower, lo - 0.6 * width)
    return np.linspace(start, hi + 0.6 * width, GRID)


def _exact(result: AnalysisResult) -> object:
    """The exact posterior the fit kept (models without moderators)."""
    if result.exact_posterior is None:
        raise BayesmetaError(
            "posterior densities of exact fits with moderators are not drawn; use --engine nuts"
        )
    return result.exact_posterior


def pooled_densities(result: AnalysisResult) -> list[Density]:
    """Posterior densities of the pooled effect ``mu`` (one per subgroup if any)."""
    post = result.posterior
    if post.subgroups:
        summaries = {f"mu, {name}": g.mu for name, g in post.subgroups.items()}
    else:
        summaries = {"mu": post.mu}
    grid = _grid(list(summaries.values()))
    if result.fit is None:
        return [Density("mu", grid, np.asarray(_exact(result).mu.pdf(grid)), post.mu)]
    draws = _draws(result, "mu")
    if draws.ndim == 1:
        return [Density("mu", grid, _kde(draws, grid), post.mu)]
    return [
        Density(label, grid, _kde(draws[:, g], grid), s)
        for g, (label, s) in enumerate(summaries.items())
    ]


def tau_densities(result: AnalysisResult) -> list[Density]:
    """Posterior densities of tau (one per subgroup with separate tau)."""
    post = result.posterior
    if result.common_effect:
        raise BayesmetaError("a common-effect model has no tau (it is fixed at 0)")
    if post.tau is not None:
        summaries = {"tau": post.tau}
    else:
        summaries = {f"tau, {n}": g.tau for n, g in (post.subgroups or {}).items() if g.tau}
    grid = _grid(list(summaries.values()), lower=0.0)
    grid = np.linspace(0.0, grid[-1], GRID)
    if result.fit is None:
        return [Density("tau", grid, np.asarray(_exact(result).tau.pdf(grid)), post.tau)]
    draws = _draws(result, "tau")
    if draws.ndim == 1:
        return [Density("tau", grid, _kde(draws, grid, True), post.tau)]
    return [
        Density(label, grid, _kde(draws[:, g], grid, True), s)
        for g, (label, s) in enumerate(summaries.items())
    ]


def _draw(
    ax: Axes, densities: list[Density], prior: Prior, show: Callable[[Any], Any], level: float
) -> None:
    """Posterior curves with their interval bands and medians, and the prior, on ``ax``."""
    for i, d in enumerate(densities):
        colour = COLOURS[i % len(COLOURS)] if len(densities) > 1 else POSTERIOR
        x = show(d.x)
        ax.plot(x, d.density, color=colour, lw=1.6, gid="posterior",
                label=f"Posterior{'' if len(densities) == 1 else ' ' + d.label}")  # fmt: skip
        lo, hi = d.summary.interval
        band = (d.x >= lo) & (d.x <= hi)
        label = f"{percent(level)} CrI" if i == 0 else None
        ax.fill_between(x[band], d.density[band], color=colour, alpha=0.18, lw=0,
                        gid="interval", label=label)  # fmt: skip
        median = float(np.interp(d.summary.median, d.x, d.density))
        ax.plot([show(d.summary.median)] * 2, [0, median], color=colour, lw=1, ls="--",
                gid="median")  # fmt: skip
    grid = densities[0].x
    if prior.proper:  # an improper prior has no density to draw (it does not integrate to 1)
        prior_density = np.exp(prior.logpdf(grid))
        ax.plot(show(grid), prior_density, color=PRIOR, lw=1.3, ls=(0, (4, 2)), gid="prior",
                label=f"Prior: {prior}")  # fmt: skip
    else:
        ax.plot([], [], color="none", label=f"Prior: {prior} (improper, not drawn)")
    ax.set_ylim(bottom=0)
    ax.tick_params(labelsize=FONT_SIZE)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


@literal_text
def pooled_posterior(result: AnalysisResult) -> Figure:
    """Posterior of the pooled effect (odds ratio...) with its prior overlaid.

    Raises
    ------
    BayesmetaError
        An exact fit with moderators (no density available).
    """
    from matplotlib.figure import Figure

    densities = pooled_densities(result)
    scale = result.scale
    fig = Figure(figsize=(6.0, 4.0))
    ax = fig.add_axes((0.11, 0.22, 0.85, 0.7), gid="posterior-panel")
    _draw(ax, densities, result.priors.mu, scale.show, result.level)
    values = [float(scale.show(v)) for d in densities for v in (d.x[0], d.x[-1])]
    axis = range_axis(scale, min(values), max(values), result.data)
    axis.apply(ax, null_style={"ls": ":", "color": "0.5"})
    ax.set_ylabel(f"Density ({scale.name.replace('_', ' ')} scale)", fontsize=FONT_SIZE + 0.5)
    post = result.posterior
    if post.prob_mu_below_0 is not None:
        p = probability(post.prob_mu_below_0)
        ax.set_title(f"{scale.below} {p if p[0] in '<>' else '= ' + p}",
                     fontsize=FONT_SIZE + 0.5, loc="left", gid="probability")  # fmt: skip
    _legend(fig, ax)
    return fig


def _legend(fig: Figure, ax: Axes) -> None:
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), frameon=False,
               fontsize=FONT_SIZE, bbox_to_anchor=(0.5, 0.0))  # fmt: skip


@literal_text
def tau_posterior(result: AnalysisResult) -> Figure:
    """Posterior of the between-study SD tau with its prior overlaid.

    Raises
    ------
    BayesmetaError
        A common-effect model, or an exact fit with moderators.
    """
    from matplotlib.figure import Figure

    densities = tau_densities(result)
    fig = Figure(figsize=(6.0, 4.0))
    ax = fig.add_axes((0.11, 0.22, 0.85, 0.7), gid="tau-panel")
    _draw(ax, densities, result.priors.tau, lambda x: x, result.level)
    ax.set_xlim(0, densities[0].x[-1])
    ax.set_xlabel(f"τ, between-study SD ({result.scale.name.replace('_', ' ')} scale)",
                  fontsize=FONT_SIZE + 0.5)  # fmt: skip
    ax.set_ylabel("Density", fontsize=FONT_SIZE + 0.5)
    _legend(fig, ax)
    return fig
