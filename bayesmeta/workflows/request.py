"""One analysis as the command line or a TOML specification asks for it.

``bayesmeta fit`` builds an :class:`AnalysisRequest` from its options and ``bayesmeta run``
from a specification file (:meth:`AnalysisRequest.from_spec`); both then take the same path:
:func:`plan` reads the data and checks every choice before any fitting, :func:`execute` fits.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from bayesmeta.engines.nuts import SamplerSettings
from bayesmeta.errors import BayesmetaError, OptionError
from bayesmeta.frequentist import methods as frequentist_methods
from bayesmeta.io.counts import StudyData
from bayesmeta.io.examples import example as find_example
from bayesmeta.io.inputs import counts_measure, load
from bayesmeta.io.reported import ReportedEffects
from bayesmeta.io.spec import Spec
from bayesmeta.io.table import TableFile
from bayesmeta.model.description import ModelSpec
from bayesmeta.model.likelihoods import NAMES
from bayesmeta.model.moderators import moderators
from bayesmeta.model.priors import DEFAULT_BETA, Prior, parse_prior
from bayesmeta.summaries.absolute import STUDIES, Benefit, check_baseline_risks
from bayesmeta.workflows.analyze import (
    AnalysisResult,
    analyze_model,
    check_absolute,
    resolve_engine,
)

PRIOR_NAMES = ("mu", "tau", "baseline", "beta")


@dataclass(frozen=True)
class AnalysisRequest:
    """What to analyse and how: the data, the model options, priors and sampler settings.

    ``priors`` maps some of ``mu``, ``tau``, ``baseline`` and ``beta`` (meta-regression slopes)
    to a prior or its text; the others are the model's defaults. ``methods`` are the
    frequentist rows to show (None: the defaults for the data). ``split_shared_control``
    divides control arms that multi-arm trials share between their comparisons
    (:func:`bayesmeta.io.multiarm.split_shared_control`). ``reading`` says how to read the
    file: ``sheet``, ``separator``, ``decimal``, ``encoding``, ``outcome``
    (:class:`bayesmeta.io.table.TableFile`). ``measure`` is the measure of the frequentist
    rows of two-arm counts (OR, RR, RD), or the effect measure of a continuous outcome (MD,
    SMD, ROM: :mod:`bayesmeta.io.continuous`; None: MD); ``baseline_risks`` the control-group
    risks of the absolute effects (:mod:`bayesmeta.summaries.absolute`; ``"studies"``: from
    the study baselines), ``benefit`` the clinically relevant difference of their probability
    of benefit; ``checks`` asks for the model checks (:mod:`bayesmeta.summaries.checks`).
    """

    data: Path | None = None
    example: str | None = None
    columns: Mapping[str, str] = field(default_factory=dict)
    ci_level: float = 0.95
    reading: Mapping[str, str] = field(default_factory=dict)
    model: str = "auto"
    engine: str = "auto"
    priors: Mapping[str, Prior | str] = field(default_factory=dict)
    common_effect: bool = False
    covariates: tuple[str, ...] = ()
    subgroup: str | None = None
    separate_tau: bool = False
    compare: bool = False
    bayes_factors: bool = False
    hdi: bool = False
    settings: SamplerSettings = field(default_factory=SamplerSettings)
    methods: tuple[str, ...] | None = None
    split_shared_control: bool = False
    measure: str | None = None
    baseline_risks: tuple[float | str, ...] = ()
    benefit: Benefit | None = None
    checks: bool = False

    @classmethod
    def from_spec(cls, spec: Spec) -> AnalysisRequest:
        """The request a TOML specification (:func:`bayesmeta.io.spec.load_spec`) makes.

        Raises
        ------
        BayesmetaError
            A prior that does not parse or an unknown model, naming the file and section.
        """
        where = str(spec.path)
        if spec.model not in (*NAMES, "auto"):
            raise BayesmetaError(
                f"{where}: [model] name {spec.model!r} is unknown; choose one of "
                f"{', '.join(NAMES)}, auto"
            )
        priors = {}
        for key, text in spec.priors.items():
            try:
                priors[key] = parse_prior(text)
            except BayesmetaError as exc:
                raise BayesmetaError(f"{where}: [priors] {key}: {exc}") from None
        known = {f.name for f in fields(SamplerSettings)}
        sampler = {k: v for k, v in spec.sampler.items() if k in known}
        if "target_accept" in sampler:
            sampler["target_accept"] = float(sampler["target_accept"])
        absolute = spec.absolute
        try:
            risks = check_baseline_risks(absolute.get("baseline_risks", ()))
            threshold = absolute.get("benefit_threshold")
            benefit = None
            if threshold is not None:
                benefit = Benefit(threshold, fewer=not absolute.get("desirable_events", False))
        except BayesmetaError as exc:
            raise BayesmetaError(f"{where}: [absolute] {exc}") from None
        if (threshold is not None or "desirable_events" in absolute) and not risks:
            raise BayesmetaError(
                f"{where}: [absolute] benefit_threshold and desirable_events need baseline_risks"
            )
        return cls(
            data=spec.data_path,
            example=spec.example,
            columns=dict(spec.columns),
            ci_level=spec.ci_level,
            reading=dict(spec.reading),
            model=spec.model,
            engine=spec.engine,
            priors=priors,
            common_effect=spec.common_effect,
            covariates=spec.covariates,
            subgroup=spec.subgroup,
            separate_tau=spec.separate_tau,
            settings=SamplerSettings(**sampler),
            measure=spec.measure.upper() if spec.measure else None,
            baseline_risks=risks,
            benefit=benefit,
        )


@dataclass(frozen=True)
class Plan:
    """A checked request: the model description, the engine and the frequentist rows shown."""

    request: AnalysisRequest
    spec: ModelSpec
    engine: str
    methods: tuple[str, ...]


def input_path(request: AnalysisRequest) -> Path:
    """The file ``request`` reads: its CSV path or the shipped example's.

    Raises
    ------
    BayesmetaError
        Neither or both of a path and an example; an unknown example; a network example
        (one row per arm), which only ``bayesmeta network`` analyses.
    """
    if (request.data is None) == (request.example is None):
        raise BayesmetaError("give either a DATA.csv path or --example NAME")
    if request.example is not None:
        found = find_example(request.example)
        if found.design == "network":
            raise BayesmetaError(
                f"example {request.example} is a network (one row per arm); analyse it with "
                f"bayesmeta network --example {request.example}"
            )
        return found.path
    return Path(request.data)


def load_data(request: AnalysisRequest) -> StudyData | ReportedEffects:
    """The validated data of ``request``: its data file or shipped example."""
    return load(
        TableFile(input_path(request), **request.reading),
        columns=request.columns,
        ci_level=request.ci_level,
        split_shared_control=request.split_shared_control,
        measure=request.measure,
    )


def plan(request: AnalysisRequest) -> Plan:
    """Read the data and check every choice of ``request`` (model, engine, priors, moderators,
    methods) before any fitting.

    Raises
    ------
    BayesmetaError
        The first problem found, in one line.
    """
    unknown = sorted(set(request.priors) - set(PRIOR_NAMES))
    if unknown:
        raise BayesmetaError(
            f"unknown prior name(s) {', '.join(unknown)}; valid: {', '.join(PRIOR_NAMES)}"
        )
    priors = {k: parse_prior(v) for k, v in request.priors.items()}
    data = load_data(request)
    mods = moderators(
        data.covariates,
        names=request.covariates,
        subgroup=request.subgroup,
        separate_tau=request.separate_tau,
        prior_beta=priors.pop("beta", DEFAULT_BETA),
    )
    spec = ModelSpec.describe(
        data,
        model=request.model,
        priors=priors,
        common_effect=request.common_effect,
        moderators=mods,
    )
    engine = resolve_engine(spec.likelihood, request.engine)
    spec.check_proper(engine, bayes_factors=request.bayes_factors or request.compare)
    if engine == "exact" and spec.family.exact != "exact" and spec.moderators is not None:
        raise OptionError(
            f"the exact engine for --model {spec.likelihood} has no moderators; use --engine nuts"
        )
    if engine == "nuts":
        spec.check_for_sampler()
    measure = counts_measure(data, request.measure)
    request = _posterior_measure(request, spec, engine, measure)
    check_absolute(spec, request.baseline_risks, engine)
    if measure is not None:
        frequentist_methods.inputs(data, measure=measure)
    shown = request.methods or frequentist_methods.shown_by_default(data)
    return Plan(request, spec, engine, frequentist_methods.check_methods(shown, data))


def _posterior_measure(
    request: AnalysisRequest, spec: ModelSpec, engine: str, measure: str | None
) -> AnalysisRequest:
    """``request`` with the control risks of the studies (``"studies"``) when it asks for RR
    or RD without control risks and the model can give them (the binomial-normal model's
    baselines under NUTS, no moderators): the posterior then reports the measure chosen."""
    if (
        measure in ("RR", "RD")
        and not request.baseline_risks
        and spec.family.baseline
        and engine == "nuts"
        and spec.moderators is None
        and spec.scale.name == "log_odds_ratio"
    ):
        return replace(request, baseline_risks=(STUDIES,))
    return request


def execute(planned: Plan) -> AnalysisResult:
    """Fit a planned analysis."""
    r = planned.request
    return analyze_model(
        planned.spec,
        engine=planned.engine,
        settings=r.settings,
        compare=r.compare,
        bayes_factors=r.bayes_factors,
        hdi=r.hdi,
        measure=counts_measure(planned.spec.data, r.measure),
        baseline_risks=r.baseline_risks,
        benefit=r.benefit,
        exact_check=True,
        checks=r.checks,
    )
