"""What the figures and the report show beyond the fit, computed here so that
``bayesmeta/report`` only formats and draws (``tests/test_layout.py`` holds it).

- :func:`forest_numbers`: the forest plot's frequentist diamonds, its study weights
  (``1 / (v_i + tau^2)`` of :func:`weight_method`'s model, as metafor's ``weights()``) and that
  model fitted to each subgroup's studies; on a measure other than the model's
  (``--measure RR``), each study's escalc estimate of that measure and the posterior pooled
  effect on it at the analysis' control-group risks (:class:`PooledOnMeasure`).
- :func:`funnel_numbers`: a funnel plot's effect sizes, the common-effect centre, the
  significance contours and Egger's line and test; :func:`trimfill_l0` the studies the REML
  L0 trim-and-fill imputes (the contour-enhanced funnel).
- :func:`small_study_tests`, :func:`bias_analyses` and :func:`case_diagnostics`: the report's
  small-study, publication-bias and ``influence()`` tables.
- :func:`presentation` gathers them for :class:`~bayesmeta.workflows.report.Analyses`
  (:class:`Presentation`); a part that cannot be computed is :class:`NotRun` with the reason.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from bayesmeta.effects import EffectSizes, ObservedEffect, wald_intervals
from bayesmeta.errors import BayesmetaError
from bayesmeta.frequentist import influence as frequentist_influence
from bayesmeta.frequentist import methods as frequentist_methods
from bayesmeta.frequentist.bias import PublicationBias, TrimFill, contour_z, publication_bias
from bayesmeta.frequentist.influence import Baujat, Gosh
from bayesmeta.frequentist.influence import Influence as CaseDiagnostics
from bayesmeta.frequentist.methods import METHODS, RANDOM
from bayesmeta.frequentist.pooled import common_effect, z_quantile
from bayesmeta.frequentist.pooled import weights as study_weights
from bayesmeta.frequentist.results import AsymmetryTest, PooledEstimate, Skipped
from bayesmeta.frequentist.smallstudy import egger, egger_line
from bayesmeta.io.counts import StudyData
from bayesmeta.io.reported import ReportedEffects
from bayesmeta.model.description import scale_of_data
from bayesmeta.model.likelihoods import native
from bayesmeta.model.scales import Scale, scale_of_measure
from bayesmeta.summaries.absolute import AbsoluteEffect
from bayesmeta.summaries.types import DEFAULT_LEVEL
from bayesmeta.workflows.analyze import AnalysisResult

PREFERRED_WEIGHTS = ("random_reml", "random_reml_hksj")  # metafor's default tau^2 estimator
SMALL_STUDY_TESTS = ("egger", "harbord", "peters")


@dataclass(frozen=True)
class NotRun:
    """A part of the report that was not computed, and why."""

    reason: str


@dataclass(frozen=True)
class PooledOnMeasure:
    """The posterior pooled effect and a new study's effect on the forest plot's measure at
    one control-group risk (``baseline``, as given: ``0.05`` or ``studies``): medians and
    equal-tailed intervals ``(median, lower, upper)`` on the measure's scale (log risk ratio,
    risk difference), from the absolute effects (:mod:`bayesmeta.summaries.absolute`)."""

    baseline: str
    pooled: tuple[float, float, float]
    new_study: tuple[float, float, float]


@dataclass(frozen=True)
class ForestNumbers:
    """The frequentist side of a forest plot: the pooled estimates drawn as diamonds
    (``methods``, registry names), the model whose weights are shown (``weights_by``), each
    study's weight in percent, and that model fitted to each subgroup's studies (None for a
    subgroup of fewer than 2).

    On a measure other than the model's (``measure``, e.g. ``"RR"``; None: the model's scale),
    ``observed`` holds each study's escalc estimate of it with its Wald interval, ``bayesian``
    the posterior on it at each control-group risk of the analysis, and ``bayesian_note`` why
    there is none (the model's posterior has no such measure without a control risk)."""

    methods: tuple[str, ...]
    weights_by: str | None
    weights: dict[str, float] = field(default_factory=dict)
    subgroups: dict[str, PooledEstimate | None] = field(default_factory=dict)
    measure: str | None = None
    observed: dict[str, ObservedEffect] = field(default_factory=dict)
    bayesian: tuple[PooledOnMeasure, ...] = ()
    bayesian_note: str | None = None


@dataclass(frozen=True)
class FunnelNumbers:
    """What a funnel plot draws: the effect sizes (escalc conventions) and their variances, on
    the model scale of ``data``; the inverse-variance common-effect estimate the region is
    centred on and the normal quantile of its ``level``; the significance contours by p-value
    (:func:`~bayesmeta.frequentist.bias.contour_z`); Egger's line (intercept, slope) with its
    test, or None where it is not defined."""

    data: StudyData | ReportedEffects
    scale: Scale
    level: float
    yi: np.ndarray
    vi: np.ndarray
    centre: float
    z: float
    contours: dict[float, float]
    egger: tuple[tuple[float, float], AsymmetryTest] | None


@dataclass(frozen=True)
class Presentation:
    """Everything a figure or the report shows that the fit does not hold (module docstring).

    ``heterogeneity_method`` is the frequentist model whose tau^2, I^2 and Q the report
    shows beside the posterior (:func:`weight_method`). ``small_study`` maps each test of
    :data:`SMALL_STUDY_TESTS` to its result (None: it does not apply to these data); it is
    empty without a fit."""

    funnel: FunnelNumbers | NotRun
    trimfill: TrimFill | None
    forest: ForestNumbers | NotRun
    heterogeneity_method: str | None
    small_study: dict[str, AsymmetryTest | Skipped | None]
    publication_bias: PublicationBias | NotRun
    case_diagnostics: CaseDiagnostics | NotRun
    baujat: Baujat | NotRun
    gosh: Gosh | NotRun


def weight_method(result: AnalysisResult, methods: Sequence[str]) -> str | None:
    """The frequentist model whose study weights are shown: REML (or REML with Hartung-Knapp,
    the same weights) when shown, else the first random-effects inverse-variance method shown,
    else the common-effect inverse-variance one; None when none of these is shown."""
    shown = [m for m in methods if isinstance(result.frequentist.get(m), PooledEstimate)]
    weighted = [m for m in shown if METHODS[m].weights is not None]
    for name in (*PREFERRED_WEIGHTS, *(m for m in weighted if METHODS[m].weights == RANDOM)):
        if name in weighted:
            return name
    return weighted[0] if weighted else None


def forest_numbers(result: AnalysisResult, methods: Sequence[str] | None = None) -> ForestNumbers:
    """The frequentist numbers of the forest plot of ``result`` (:class:`ForestNumbers`), on
    the measure of its frequentist rows (``result.measure``).

    ``methods``: the pooled estimates drawn as diamonds (default: those ``bayesmeta fit``
    shows for the data). On a measure other than the model's, the studies' own estimates are
    escalc's of that measure (zero cells as ``classic --measure``), the weights those of the
    weighting model on it, and the Bayesian rows the posterior pooled risk ratio or risk
    difference at the control-group risks of ``result.absolute`` (none without them).
    """
    methods = tuple(methods or frequentist_methods.shown_by_default(result.data))
    measure = _other_measure(result)
    es = frequentist_methods.inputs(result.data, result.level, measure).es
    extra: dict[str, Any] = {}
    if measure is not None:
        bayesian = _pooled_on_measure(result, measure)
        extra = {
            "measure": measure,
            "observed": wald_intervals(es, level=result.level),
            "bayesian": bayesian,
            "bayesian_note": None if bayesian else _no_bayesian_rows(result, measure),
        }
    weights_by = weight_method(result, methods)
    if weights_by is None:
        return ForestNumbers(methods, None, **extra)
    tau2 = result.frequentist[weights_by].tau2 or 0.0
    weights = dict(zip(es.study, study_weights(es, tau2).tolist(), strict=True))
    groups: dict[str, PooledEstimate | None] = {}
    if result.posterior.subgroups:
        mods = result.moderators
        for g, level in enumerate(mods.levels):
            names = {result.data.study[i] for i in np.flatnonzero(mods.group == g)}
            groups[level] = _subgroup_estimate(result, es, names, weights_by)
    return ForestNumbers(methods, weights_by, weights, groups, **extra)


def _other_measure(result: AnalysisResult) -> str | None:
    """The measure of the frequentist rows when it is not the model's scale, else None."""
    if result.measure is None or scale_of_measure(result.measure).name == result.scale.name:
        return None
    return result.measure


def _on_measure(effect: AbsoluteEffect, measure: str) -> tuple[float, float, float]:
    """``(median, lower, upper)`` of ``effect`` on the scale of ``measure`` ``"RR"`` (log risk
    ratio) or ``"RD"`` (risk difference): the quantiles map through these increasing maps."""
    if measure == "RR":
        s, f = effect.risk_ratio, np.log
    else:
        s, f = effect.risk_difference_per_1000, lambda x: x / 1000
    return float(f(s.median)), float(f(s.interval[0])), float(f(s.interval[1]))


def _pooled_on_measure(result: AnalysisResult, measure: str) -> tuple[PooledOnMeasure, ...]:
    """The posterior pooled and new-study effects on ``measure`` at each control-group risk
    of the analysis (none without absolute effects, or on a measure they do not give)."""
    if result.absolute is None or measure not in ("RR", "RD"):
        return ()
    return tuple(
        PooledOnMeasure(
            e.baseline_text,
            _on_measure(e, measure),
            _on_measure(result.absolute.at(e.baseline_risk, "new_study"), measure),
        )
        for e in result.absolute.effects
        if e.of == "pooled"
    )


def _no_bayesian_rows(result: AnalysisResult, measure: str) -> str:
    """Why the forest plot on ``measure`` has no Bayesian rows."""
    model = result.scale.name.replace("_", " ")
    where = f"Bayesian rows left out: the model's posterior is on the {model} scale"
    if measure not in ("RR", "RD"):
        return f"{where}, not on {measure}"
    if result.moderators is not None:
        return f"{where}; its {measure} needs a control risk, not given with moderators"
    return f"{where}; its {measure} needs a control-group risk (--baseline-risk)"


def _subgroup_estimate(
    result: AnalysisResult, es: EffectSizes, names: set[str], method: str
) -> PooledEstimate | None:
    """``method`` fitted to the studies ``names`` (None with fewer than 2)."""
    keep = np.array([s in names for s in es.study])
    if keep.sum() < 2:
        return None
    subset = replace(
        es, study=tuple(np.asarray(es.study, dtype=object)[keep]), yi=es.yi[keep], vi=es.vi[keep]
    )
    given = frequentist_methods.Inputs(result.data, subset, result.level)
    estimate = METHODS[method].compute(given)
    return estimate if isinstance(estimate, PooledEstimate) else None


def funnel_numbers(
    data: StudyData | ReportedEffects, level: float = DEFAULT_LEVEL, measure: str | None = None
) -> FunnelNumbers:
    """What the funnel plot of ``data`` draws (:class:`FunnelNumbers`); ``measure`` of
    two-arm counts: ``"OR"``, ``"RR"`` or ``"RD"`` (escalc's effect sizes; None: the model's
    log odds ratio).

    Raises
    ------
    BayesmetaError
        Fewer than 3 studies with an effect estimate.
    """
    es = frequentist_methods.inputs(data, level, measure).es
    if es.k < 3:
        raise BayesmetaError(f"a funnel plot needs at least 3 studies, got {es.k}")
    try:
        line = egger_line(es)
        test = egger(es, data if native(data).count_methods else None)
        egger_fit: tuple[tuple[float, float], AsymmetryTest] | None = (line, test)
    except BayesmetaError:
        egger_fit = None
    return FunnelNumbers(
        data=data,
        scale=scale_of_measure(measure) if measure else scale_of_data(data),
        level=level,
        yi=np.asarray(es.yi),
        vi=np.asarray(es.vi),
        centre=common_effect(es, level=level).estimate,
        z=z_quantile(level),
        contours=contour_z(),
        egger=egger_fit,
    )


def trimfill_l0(data: StudyData | ReportedEffects, measure: str | None = None) -> TrimFill | None:
    """The REML L0 trim-and-fill of ``data`` (on ``measure``, as :func:`funnel_numbers`),
    or None where it cannot be computed."""
    from bayesmeta.frequentist.bias import trimfill

    try:
        return trimfill(frequentist_methods.inputs(data, measure=measure).es)
    except BayesmetaError:
        return None


def small_study_tests(result: AnalysisResult) -> dict[str, AsymmetryTest | Skipped | None]:
    """Egger's, Harbord's and Peters' tests of the fit (Egger's computed here when the fit's
    methods did not include it); None where a test does not apply to the data."""
    out: dict[str, AsymmetryTest | Skipped | None] = {}
    for name in SMALL_STUDY_TESTS:
        test = result.frequentist.get(name)
        if test is None and name == "egger":
            try:
                test = egger(frequentist_methods.inputs(result.data, result.level).es)
            except BayesmetaError as exc:
                test = Skipped(name, str(exc))
        out[name] = test
    return out


def bias_analyses(result: AnalysisResult) -> PublicationBias | NotRun:
    """The publication-bias analyses of the fit's data, selection assumed to favour effects
    in the direction of the common-effect estimate; NotRun for single-arm data."""
    data = result.data
    if native(data).bias_refusal is not None:
        return NotRun(
            "Publication-bias methods compare effects between studies; not for proportions."
        )
    es = frequentist_methods.inputs(data, result.level).es
    return publication_bias(es, level=result.level, effect_direction="auto")


def case_diagnostics(
    data: StudyData | ReportedEffects, method: str, level: float
) -> CaseDiagnostics | NotRun:
    """metafor's ``influence()`` of the ``method`` random-effects model of ``data``."""
    es = frequentist_methods.inputs(data, level).es
    try:
        return frequentist_influence.influence(es, method=method)
    except BayesmetaError as exc:
        return NotRun(str(exc))


def baujat(data: StudyData | ReportedEffects) -> Baujat:
    """metafor's ``baujat()`` of the common-effect model of ``data``."""
    return frequentist_influence.baujat(frequentist_methods.inputs(data).es, method="EE")


def gosh(data: StudyData | ReportedEffects) -> Gosh:
    """metafor's ``gosh()`` of the common-effect model of ``data``."""
    return frequentist_influence.gosh(frequentist_methods.inputs(data).es, method="EE")


def _attempt(compute: Callable[..., Any], *args: Any) -> Any:
    """``compute(*args)``, or NotRun with the message of its error."""
    try:
        return compute(*args)
    except BayesmetaError as exc:
        return NotRun(str(exc))


def presentation(
    data: StudyData | ReportedEffects,
    result: AnalysisResult | None,
    *,
    methods: Sequence[str],
    influence_method: str | None,
    parts: Sequence[str] = (),
    measure: str | None = None,
) -> Presentation:
    """Compute what the figures and the report show (:class:`Presentation`).

    The funnel and trim-and-fill always (they need no fit); the forest plot's numbers, the
    small-study tests and the publication-bias analyses with a fit; the case diagnostics
    with the leave-one-out analysis (``influence_method``: its frequentist model); Baujat and
    GOSH (GOSH refits up to 100,000 subsets) only when named in ``parts``; the funnel and
    trim-and-fill of two-arm counts on ``measure`` (None: the model's log odds ratio).
    """
    skipped = NotRun("not asked for")
    no_fit = NotRun("this figure needs a fitted model")
    return Presentation(
        funnel=_attempt(funnel_numbers, data, DEFAULT_LEVEL, measure),
        trimfill=trimfill_l0(data, measure),
        forest=no_fit if result is None else _attempt(forest_numbers, result, methods),
        heterogeneity_method=None if result is None else weight_method(result, methods),
        small_study={} if result is None else small_study_tests(result),
        publication_bias=no_fit if result is None else _attempt(bias_analyses, result),
        case_diagnostics=skipped
        if result is None or influence_method is None
        else case_diagnostics(data, influence_method, result.level),
        baujat=_attempt(baujat, data) if "baujat" in parts else skipped,
        gosh=_attempt(gosh, data) if "gosh" in parts else skipped,
    )
