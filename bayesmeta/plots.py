"""Publication figures of a meta-analysis: the public plotting API.

Each function returns a :class:`matplotlib.figure.Figure` and writes nothing; :func:`save`
writes one as PNG, SVG (text kept as text) or PDF::

    import bayesmeta
    from bayesmeta import plots

    result = bayesmeta.analyze("examples/bcg.csv")
    plots.save(plots.forest(result), "forest.pdf")
    plots.save(plots.funnel(result.data), "funnel.svg")

- :func:`forest`: study columns, weights, observed and shrunken effects, pooled diamonds,
  prediction interval, heterogeneity line (:mod:`bayesmeta.report.figures.forest`).
- :func:`funnel`: effects against standard errors with the pseudo-confidence region and
  Egger's line (takes the data, needs no fit).
- :func:`posterior` and :func:`tau`: the pooled effect's and tau's posterior with the prior.
- :func:`trace` and :func:`rank`: MCMC diagnostics drawn by ArviZ (NUTS fits only).
- :func:`sensitivity`: the pooled effect across priors for tau
  (rows of :func:`bayesmeta.workflows.sensitivity.prior_sensitivity`).
- :func:`influence`: leave-one-out influence
  (:func:`bayesmeta.workflows.influence.influence`).
- :func:`robustness_map`: P(benefit) and the Bayes factors over the prior scales
  (:func:`bayesmeta.robustness`); :func:`model_average`: the four models' probabilities and the
  model-averaged effect (:func:`bayesmeta.average`).
- :func:`baujat` and :func:`gosh`: the frequentist case diagnostics
  (:func:`bayesmeta.frequentist.influence.baujat`, :func:`~bayesmeta.frequentist.influence.gosh`).

The same figures come from the command line as ``bayesmeta plot KIND DATA --out FILE``.
The numbers a figure shows beyond the fit are computed here
(:mod:`bayesmeta.workflows.presentation`); :mod:`bayesmeta.report.figures` draws them.
"""

from __future__ import annotations

from collections.abc import Sequence

from matplotlib.figure import Figure

from bayesmeta.frequentist.bias import TrimFill
from bayesmeta.io.counts import StudyData
from bayesmeta.io.reported import ReportedEffects
from bayesmeta.report.figures import FAVOURS, save
from bayesmeta.report.figures import forest as forest_figure
from bayesmeta.report.figures import funnel as funnel_figure
from bayesmeta.report.figures.diagnostics import baujat, gosh
from bayesmeta.report.figures.influence import influence, sensitivity
from bayesmeta.report.figures.mcmc import rank, trace
from bayesmeta.report.figures.posterior import pooled_posterior as posterior
from bayesmeta.report.figures.posterior import tau_posterior as tau
from bayesmeta.report.figures.robustness import model_average, robustness_map
from bayesmeta.summaries.types import DEFAULT_LEVEL
from bayesmeta.workflows.analyze import AnalysisResult
from bayesmeta.workflows.presentation import forest_numbers, funnel_numbers

__all__ = [
    "baujat",
    "forest",
    "funnel",
    "gosh",
    "influence",
    "model_average",
    "posterior",
    "rank",
    "robustness_map",
    "save",
    "sensitivity",
    "tau",
    "trace",
]


def forest(
    result: AnalysisResult,
    *,
    methods: Sequence[str] | None = None,
    favours: tuple[str, str] = FAVOURS,
    title: str | None = None,
) -> Figure:
    """Forest plot of ``result`` (:mod:`bayesmeta.report.figures.forest`).

    On the measure of the frequentist rows (``analyze(..., measure="RR")``): the studies'
    escalc estimates, diamonds and weights on it and the posterior pooled risk ratio or risk
    difference at the analysis' control-group risks (``baseline_risks``; without them the
    Bayesian rows are left out with a note).

    Parameters
    ----------
    result
        An analysis (:func:`bayesmeta.workflows.analyze.analyze`).
    methods
        Frequentist estimates drawn as diamonds, by registry name (default: those
        ``bayesmeta fit`` shows); the weights are those of
        :func:`bayesmeta.workflows.presentation.weight_method`.
    favours
        Labels under the axis, left and right of the line of no effect.
    title
        Optional title above the columns.
    """
    numbers = forest_numbers(result, methods)
    return forest_figure.forest(result, numbers, favours=favours, title=title)


def funnel(
    data: StudyData | ReportedEffects,
    *,
    level: float = DEFAULT_LEVEL,
    contours: bool = False,
    filled: TrimFill | None = None,
    measure: str | None = None,
) -> Figure:
    """Funnel plot of ``data`` (:mod:`bayesmeta.report.figures.funnel`).

    Parameters
    ----------
    data
        Validated data (:func:`bayesmeta.load`); an analysis' ``result.data``.
    level
        Level of the pseudo-confidence region (0.95).
    contours
        Shade the p < 0.10, 0.05, 0.01 regions around no effect.
    filled
        A trim-and-fill result whose imputed studies and estimate are drawn.
    measure
        Two-arm counts: ``"OR"``, ``"RR"`` or ``"RD"`` (escalc's effect sizes; None: the
        model's log odds ratio).

    Raises
    ------
    BayesmetaError
        Fewer than 3 studies with an effect estimate.
    """
    numbers = funnel_numbers(data, level, measure)
    return funnel_figure.funnel(numbers, contours=contours, filled=filled)
