"""The figures ``bayesmeta plot KIND`` draws and the report embeds: one registry.

Each :class:`Kind` says what it shows (its caption), which parts of the analysis it needs
(:data:`bayesmeta.workflows.report.PARTS`; none for the funnel plot, which needs no fit), and
how it is drawn from :class:`~bayesmeta.workflows.report.Analyses`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from matplotlib.figure import Figure

from bayesmeta.errors import BayesmetaError
from bayesmeta.frequentist import influence as case_diagnostics
from bayesmeta.frequentist import methods as frequentist_methods
from bayesmeta.frequentist.bias import TrimFill
from bayesmeta.report.figures import (
    Style,
    diagnostics,
    forest,
    funnel,
    influence,
    mcmc,
    posterior,
)
from bayesmeta.workflows.analyze import AnalysisResult
from bayesmeta.workflows.report import Analyses, NotRun


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


def _trimfill(contents: Analyses) -> TrimFill | None:
    """The REML L0 trim-and-fill of the data, or None where it cannot be computed."""
    from bayesmeta.frequentist.bias import trimfill

    try:
        return trimfill(frequentist_methods.inputs(contents.data, measure=contents.measure).es)
    except BayesmetaError:
        return None


def _baujat(contents: Analyses, style: Style) -> Figure:
    es = frequentist_methods.inputs(contents.data).es
    return diagnostics.baujat(case_diagnostics.baujat(es, method="EE"))


def _gosh(contents: Analyses, style: Style) -> Figure:
    es = frequentist_methods.inputs(contents.data).es
    return diagnostics.gosh(case_diagnostics.gosh(es, method="EE"))


KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind("forest", "Forest plot: observed and shrunken study effects, pooled estimates, "
             "prediction interval and heterogeneity.", ("fit",),
             lambda c, s: forest.forest(_result(c), methods=c.methods, favours=s.favours)),
        Kind("posterior", "Posterior of the pooled effect (solid) with its prior (dashed); "
             "shaded: the credible interval.", ("fit",),
             lambda c, s: posterior.pooled_posterior(_result(c))),
        Kind("tau", "Posterior of the between-study standard deviation tau with its prior.",
             ("fit",), lambda c, s: posterior.tau_posterior(_result(c))),
        Kind("sensitivity", "Pooled effect and tau under each prior for tau (bold: the "
             "analysis' prior).", ("fit", "sensitivity"), _sensitivity),
        Kind("influence", "Pooled effect and tau without each study: Bayesian refits and "
             "frequentist leave-one-out.", ("fit", "influence"), _influence),
        Kind("funnel", "Funnel plot: study effects against their standard errors, the pseudo "
             "confidence region around the common-effect estimate and Egger's line.", (),
             lambda c, s: funnel.funnel(c.data, measure=c.measure)),
        Kind("contour_funnel", "Contour-enhanced funnel plot: shaded where a study's p-value "
             "against no effect is below 0.10, 0.05 and 0.01; open circles: the studies "
             "trim-and-fill (REML, L0) imputes, with its adjusted estimate.", (),
             lambda c, s: funnel.funnel(c.data, contours=True, filled=_trimfill(c),
                                        measure=c.measure)),
        Kind("baujat", "Baujat plot: each study's contribution to heterogeneity against its "
             "influence on the common-effect estimate.", (), _baujat),
        Kind("gosh", "GOSH plot: common-effect estimate against I^2 in subsets of the studies "
             "(all subsets up to 100,000, random ones beyond).", (), _gosh),
        Kind("trace", "Trace and per-chain density of mu and tau (ArviZ).", ("fit",),
             lambda c, s: mcmc.trace(_result(c))),
        Kind("rank", "Rank ECDF difference of each chain with the 95% simultaneous envelope "
             "(ArviZ).", ("fit",), lambda c, s: mcmc.rank(_result(c))),
    )
}  # fmt: skip


def kind(name: str) -> Kind:
    """The registered figure ``name``; unknown names list the valid ones."""
    if name not in KINDS:
        raise BayesmetaError(f"unknown figure {name!r}; choose one of {', '.join(KINDS)}")
    return KINDS[name]
