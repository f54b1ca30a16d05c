"""The figures ``bayesmeta plot KIND`` draws and the report embeds: one registry.

Each :class:`Kind` says what it shows (its caption), which parts of the analysis it needs
(:data:`bayesmeta.workflows.report.PARTS`; none for the funnel plot, which needs no fit), and
how it is drawn from :class:`~bayesmeta.workflows.report.Analyses`: from numbers computed
there (:class:`~bayesmeta.workflows.presentation.Presentation`), never computing any.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from matplotlib.figure import Figure

from bayesmeta.errors import BayesmetaError
from bayesmeta.report.figures import (
    Style,
    bias,
    checks,
    diagnostics,
    forest,
    funnel,
    influence,
    mcmc,
    posterior,
    robustness,
)
from bayesmeta.workflows.analyze import AnalysisResult
from bayesmeta.workflows.presentation import NotRun
from bayesmeta.workflows.report import Analyses


@dataclass(frozen=True)
class Kind:
    """One kind of figure: its CLI name, caption, the analysis parts it needs, and how to draw
    it (from the analyses and the presentation :class:`~bayesmeta.report.figures.Style`)."""

    name: str
    caption: str
    parts: tuple[str, ...]
    draw: Callable[[Analyses, Style], Figure]


def _result(contents: Analyses) -> AnalysisResult:
    if contents.result is None:
        raise BayesmetaError("this figure needs a fitted model")
    return contents.result


def _sensitivity(contents: Analyses, style: Style) -> Figure:
    rows = contents.sensitivity
    if isinstance(rows, NotRun):
        raise BayesmetaError(f"prior sensitivity not run: {rows.reason}")
    return influence.sensitivity(rows, primary=contents.result.priors.tau)


def _influence(contents: Analyses, style: Style) -> Figure:
    if isinstance(contents.influence, NotRun):
        raise BayesmetaError(f"leave-one-out influence not run: {contents.influence.reason}")
    return influence.influence(contents.influence)


def _read[T](part: T | NotRun) -> T:
    """A part of the presentation, or its reason as the error."""
    if isinstance(part, NotRun):
        raise BayesmetaError(part.reason)
    return part


def _average(contents: Analyses, style: Style) -> Figure:
    if isinstance(contents.average, NotRun):
        raise BayesmetaError(f"model averaging not run: {contents.average.reason}")
    return robustness.model_average(contents.average, _result(contents).scale)


def _robustness(contents: Analyses, style: Style) -> Figure:
    if isinstance(contents.robustness, NotRun):
        raise BayesmetaError(f"prior robustness map not run: {contents.robustness.reason}")
    return robustness.robustness_map(contents.robustness)


def _forest(contents: Analyses, style: Style) -> Figure:
    result = _result(contents)
    return forest.forest(result, _read(contents.presentation.forest), favours=style.favours)


def _funnel(contents: Analyses, style: Style) -> Figure:
    return funnel.funnel(_read(contents.presentation.funnel))


def _contour_funnel(contents: Analyses, style: Style) -> Figure:
    p = contents.presentation
    return funnel.funnel(_read(p.funnel), contours=True, filled=p.trimfill)


def _prior_predictive(contents: Analyses, style: Style) -> Figure:
    result = _result(contents)
    ran = result.checks
    if ran is None:
        raise BayesmetaError("the model checks were not run (fit --checks)")
    if ran.prior_predictive is None:
        raise BayesmetaError(ran.reasons["prior_predictive"])
    return checks.prior_predictive(ran.prior_predictive, log_axis=result.scale.log_ratio)


def _bias(contents: Analyses, style: Style) -> Figure:
    if isinstance(contents.bias, NotRun):
        raise BayesmetaError(f"publication-bias ensemble not run: {contents.bias.reason}")
    return bias.ensemble(contents.bias)


def _baujat(contents: Analyses, style: Style) -> Figure:
    return diagnostics.baujat(_read(contents.presentation.baujat))


def _gosh(contents: Analyses, style: Style) -> Figure:
    return diagnostics.gosh(_read(contents.presentation.gosh))


KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind("forest", "Forest plot: observed and shrunken study effects, pooled estimates, "
             "prediction interval and heterogeneity.", ("fit",), _forest),
        Kind("posterior", "Posterior of the pooled effect (solid) with its prior (dashed); "
             "shaded: the credible interval.", ("fit",),
             lambda c, s: posterior.pooled_posterior(_result(c))),
        Kind("tau", "Posterior of the between-study standard deviation tau with its prior.",
             ("fit",), lambda c, s: posterior.tau_posterior(_result(c))),
        Kind("sensitivity", "Pooled effect and tau under each prior for tau (bold: the "
             "analysis' prior).", ("fit", "sensitivity"), _sensitivity),
        Kind("average", "Model averaging: prior and posterior probability of each model, and "
             "the effect under each model with an effect beside the model-averaged one (exact "
             "marginal likelihoods).", ("fit", "average"), _average),
        Kind("robustness", "Prior robustness map: P(benefit) and the Bayes factors for the "
             "effect and for heterogeneity over the scales of the priors of mu and tau; black "
             "line: where the conclusion flips; star: the analysis' priors.",
             ("fit", "robustness"), _robustness),
        Kind("influence", "Pooled effect and tau without each study: Bayesian refits and "
             "frequentist leave-one-out.", ("fit", "influence"), _influence),
        Kind("funnel", "Funnel plot: study effects against their standard errors, the pseudo "
             "confidence region around the common-effect estimate and Egger's line.", (),
             _funnel),
        Kind("contour_funnel", "Contour-enhanced funnel plot: shaded where a study's p-value "
             "against no effect is below 0.10, 0.05 and 0.01; open circles: the studies "
             "trim-and-fill (REML, L0) imputes, with its adjusted estimate.", (),
             _contour_funnel),
        Kind("bias", "Publication-bias ensemble (RoBMA-PSMA's 36 models): the model-averaged "
             "weight function of one-sided p-values, and the averaged effect unadjusted and "
             "adjusted for bias.", ("bias",), _bias),
        Kind("baujat", "Baujat plot: each study's contribution to heterogeneity against its "
             "influence on the common-effect estimate.", ("baujat",), _baujat),
        Kind("gosh", "GOSH plot: common-effect estimate against I^2 in subsets of the studies "
             "(all subsets up to 100,000, random ones beyond).", ("gosh",), _gosh),
        Kind("trace", "Trace and per-chain density of mu and tau (ArviZ).", ("fit",),
             lambda c, s: mcmc.trace(_result(c))),
        Kind("prior_predictive", "Prior predictive: a study's effect (and an arm's event "
             "proportion, for counts with study baselines) drawn from the priors alone; "
             "ticks: the observed values.", ("fit",), _prior_predictive),
        Kind("rank", "Rank ECDF difference of each chain with the 95% simultaneous envelope "
             "(ArviZ).", ("fit",), lambda c, s: mcmc.rank(_result(c))),
    )
}  # fmt: skip


def kind(name: str) -> Kind:
    """The registered figure ``name``; unknown names list the valid ones."""
    if name not in KINDS:
        raise BayesmetaError(f"unknown figure {name!r}; choose one of {', '.join(KINDS)}")
    return KINDS[name]
