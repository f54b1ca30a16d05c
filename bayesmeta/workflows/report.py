"""What a report is made of: the analysis ``fit`` runs, plus its prior sensitivity, its
leave-one-out influence, its model averaging and prior robustness map, and the provenance of
its input.

:func:`analyses` takes a planned request (:func:`bayesmeta.workflows.request.plan`, the path
``fit`` and ``run`` share) and runs what is asked: the main fit exactly as ``fit`` runs it (so
the report's numbers are those of ``fit --json`` with the same seed), the same model refitted
under the tau priors of ``bayesmeta sensitivity`` (the analysis' own prior first), and the
leave-one-out refits (:mod:`bayesmeta.workflows.influence`), and what the figures and tables
show beyond the fit (:mod:`bayesmeta.workflows.presentation`: forest weights, funnel,
small-study and publication-bias tests, case diagnostics; Baujat and GOSH when asked for), so
that the report only formats. Where the exact engines integrate the model (normal-normal,
binomial-normal, proportions; no moderators), whatever engine the fit used, the report also
runs the four-model averaging of ``bayesmeta average`` and the prior
robustness map of ``bayesmeta robustness`` (milliseconds to seconds: no sampling). A part that
does not apply to the model (prior sensitivity of a common-effect model, influence with
moderators...) is :class:`NotRun` with the reason; the report says so rather than leaving a
gap.
"""

from __future__ import annotations

import hashlib
import shlex
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bayesmeta.errors import BayesmetaError
from bayesmeta.io.options import SAMPLER_OPTIONS
from bayesmeta.model.likelihoods import native
from bayesmeta.model.priors import Prior
from bayesmeta.summaries.absolute import risk_text
from bayesmeta.summaries.sof import SummaryOfFindings
from bayesmeta.workflows.analyze import AnalysisResult
from bayesmeta.workflows.average import ModelAverage, model_average
from bayesmeta.workflows.bias import BiasEnsemble
from bayesmeta.workflows.influence import Influence, influence
from bayesmeta.workflows.presentation import NotRun, Presentation, presentation
from bayesmeta.workflows.request import AnalysisRequest, Plan, execute, input_path
from bayesmeta.workflows.robustness import RobustnessMap, robustness_map
from bayesmeta.workflows.sensitivity import SensitivityRow, default_tau_priors, prior_sensitivity

PARTS = ("fit", "sensitivity", "influence", "baujat", "gosh", "average", "robustness", "bias")
# what ``analyses`` runs unless told otherwise: everything the report shows
REPORT_PARTS = ("fit", "sensitivity", "influence", "average", "robustness")


@dataclass(frozen=True)
class Provenance:
    """Where the numbers came from: the input files with their SHA-256, the command that
    reproduces them, the seed and the time the report was made (UTC, ISO 8601)."""

    data_path: str
    data_sha256: str
    spec_path: str | None
    spec_sha256: str | None
    command: str
    seed: int
    created: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return {
            "data": {"path": self.data_path, "sha256": self.data_sha256},
            "spec": {"path": self.spec_path, "sha256": self.spec_sha256}
            if self.spec_path
            else None,
            "command": self.command,
            "seed": self.seed,
            "created": self.created,
        }


@dataclass(frozen=True)
class Analyses:
    """Everything a report or a figure of one analysis needs.

    ``result`` is None when only figures that need no fit were asked for (the funnel plot).
    ``sof`` is the summary of findings of the analysis when it has absolute effects
    (``--baseline-risk``).
    """

    plan: Plan
    result: AnalysisResult | None
    sensitivity: list[SensitivityRow] | NotRun
    influence: Influence | NotRun
    provenance: Provenance
    presentation: Presentation
    average: ModelAverage | NotRun
    robustness: RobustnessMap | NotRun
    bias: BiasEnsemble | NotRun
    sof: SummaryOfFindings | None = None

    @property
    def data(self) -> Any:
        """The validated data."""
        return self.plan.spec.data

    @property
    def measure(self) -> str | None:
        """The measure of two-arm counts' frequentist rows and figures (None: the model's)."""
        return native(self.data).frequentist_measure(self.data, self.plan.request.measure)

    @property
    def methods(self) -> tuple[str, ...]:
        """The frequentist methods shown (as ``fit`` shows them)."""
        return self.plan.methods


def sha256(path: Path) -> str:
    """SHA-256 of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def command_line(
    request: AnalysisRequest, command: str = "report", spec: Path | None = None
) -> str:
    """The ``bayesmeta`` command line that makes the same analysis, every setting spelled out
    (defaults included, so the line still holds if a default changes)."""
    if spec is not None:
        return shlex.join(["bayesmeta", *command.split(), str(spec)])
    args = ["bayesmeta", *command.split()]  # "plot forest": two words
    args += ["--example", request.example] if request.example else [str(request.data)]
    args += ["--model", request.model, "--engine", request.engine]
    for name, prior in sorted(request.priors.items()):
        args += [f"--prior-{name}", str(prior)]
    if request.common_effect:
        args.append("--common-effect")
    if request.random_effects != "normal":
        args += ["--random-effects", request.random_effects]
    for covariate in request.covariates:
        args += ["--covariate", covariate]
    if request.subgroup:
        args += ["--subgroup", request.subgroup]
    if request.separate_tau:
        args.append("--separate-tau")
    if request.compare:
        args.append("--compare")
    if request.bayes_factors:
        args.append("--bayes-factors")
    if request.checks:  # fit's: every report computes the checks
        args.append("--checks")
    if request.hdi:
        args.append("--hdi")
    for name, value in request.reading.items():  # --sheet ... --outcome
        args += [f"--{name}", value]
    if request.columns:
        args += ["--columns", ",".join(f"{k}={v}" for k, v in request.columns.items())]
    if request.ci_level != 0.95:
        args += ["--ci-level", f"{request.ci_level:g}"]
    if request.methods:
        args += ["--methods", ",".join(request.methods)]
    if request.measure:
        args += ["--measure", request.measure]
    if request.baseline_risks:
        args += ["--baseline-risk", ",".join(map(risk_text, request.baseline_risks))]
    if request.benefit is not None:
        args += ["--benefit-threshold", f"{request.benefit.threshold:g}"]
        args += [] if request.benefit.fewer else ["--desirable-events"]
    for option in SAMPLER_OPTIONS:
        args += option.arguments(getattr(request.settings, option.name))
    return shlex.join(args)


def provenance(
    request: AnalysisRequest, *, command: str = "report", spec: Path | None = None
) -> Provenance:
    """The provenance of an analysis of ``request`` (``spec``: its TOML file, if any)."""
    path = input_path(request)
    return Provenance(
        data_path=str(path),
        data_sha256=sha256(path),
        spec_path=str(spec) if spec is not None else None,
        spec_sha256=sha256(spec) if spec is not None else None,
        command=command_line(request, command, spec),
        seed=request.settings.seed,
        created=datetime.now(UTC).replace(microsecond=0).isoformat(),
    )


def sensitivity_priors(result: AnalysisResult) -> list[Prior]:
    """The analysis' tau prior, then those ``bayesmeta sensitivity`` compares by default."""
    defaults = default_tau_priors(result.scale.name == "log_odds_ratio")
    return [result.priors.tau, *(p for p in defaults if p != result.priors.tau)]


def run_sensitivity(planned: Plan, result: AnalysisResult) -> list[SensitivityRow] | NotRun:
    """The pooled effect and tau under each of :func:`sensitivity_priors`, with the analysis'
    mu prior, model, engine and sampler settings (seed included); NotRun where it does not
    apply."""
    if result.common_effect:
        return NotRun("a common-effect model has no tau, so there is no prior for tau to vary")
    if result.moderators is not None:
        return NotRun(
            "prior sensitivity is computed for models without covariates or subgroups; rerun "
            "without --covariate/--subgroup for it"
        )
    return prior_sensitivity(
        result.data,
        sensitivity_priors(result),
        settings=planned.request.settings,
        mu_prior=result.priors.mu,
        model=result.model,
        random_effects=result.spec.random_effects,
        nu_prior=result.priors.nu,
        engine=result.engine,
    )


def run_influence(planned: Plan, result: AnalysisResult) -> Influence | NotRun:
    """Leave-one-out influence with the analysis' settings; NotRun where it does not apply."""
    try:
        return influence(result, settings=planned.request.settings)
    except BayesmetaError as exc:
        return NotRun(str(exc))


def _exact_reason(result: AnalysisResult) -> str | None:
    """Why the exact engines' model comparisons do not apply to ``result``'s model, or None."""
    if result.spec.family.exact is None:
        return (
            f"no exact engine integrates the {result.model} likelihood, so its marginal "
            "likelihoods are not computed"
        )
    if result.moderators is not None:
        return "computed for models without covariates or subgroups"
    return None


def run_average(planned: Plan, result: AnalysisResult) -> ModelAverage | NotRun:
    """The four-model averaging of ``bayesmeta average`` with equal prior model probabilities
    (the exact engines' marginal likelihoods, whatever engine the fit used); NotRun where it
    does not apply."""
    reason = _exact_reason(result)
    if reason is not None:
        return NotRun(reason)
    try:
        return model_average(planned.spec, None, result.level)
    except BayesmetaError as exc:
        return NotRun(str(exc))


def run_robustness(planned: Plan, result: AnalysisResult) -> RobustnessMap | NotRun:
    """The prior robustness map of ``bayesmeta robustness`` with its default grid (no check
    cells: its accuracy is tested); NotRun where it does not apply."""
    reason = _exact_reason(result)
    if reason is None and result.common_effect:
        reason = "a common-effect model has no tau, so there is no prior for tau to vary"
    if reason is not None:
        return NotRun(reason)
    try:
        return robustness_map(planned.spec, check=False)
    except BayesmetaError as exc:
        return NotRun(str(exc))


def run_bias(planned: Plan) -> BiasEnsemble | NotRun:
    """The Bayesian publication-bias ensemble of the data, selection assumed to favour the
    direction of the common-effect estimate (as the report's frequentist bias table);
    NotRun where it does not apply."""
    from bayesmeta.frequentist.bias import expected_direction
    from bayesmeta.frequentist.methods import inputs
    from bayesmeta.workflows.bias import bias

    data = planned.spec.data
    try:
        return bias(data, effect_direction=expected_direction(inputs(data).es))
    except BayesmetaError as exc:
        return NotRun(str(exc))


def analyses(
    planned: Plan,
    *,
    parts: tuple[str, ...] = REPORT_PARTS,
    command: str = "report",
    spec: Path | None = None,
) -> Analyses:
    """Run the parts of a report that are asked for (``PARTS``: fit, sensitivity, influence,
    average, robustness, bias, and the Baujat and GOSH diagnostics), then what the figures
    and tables show (:func:`bayesmeta.workflows.presentation.presentation`).

    The fit is :func:`bayesmeta.workflows.request.execute`, exactly what ``bayesmeta fit
    --checks`` runs (the model checks are part of every report); sensitivity and influence
    need it, the publication-bias ensemble does not.
    """
    unknown = sorted(set(parts) - set(PARTS))
    if unknown:
        raise BayesmetaError(f"unknown report part(s) {', '.join(unknown)}; valid: {PARTS}")
    skipped = NotRun("not asked for")
    checked = replace(planned, request=replace(planned.request, checks=True))
    result = execute(checked) if set(parts) & set(REPORT_PARTS) else None
    sensitivity: list[SensitivityRow] | NotRun = skipped
    infl: Influence | NotRun = skipped
    if result is not None and "sensitivity" in parts:
        sensitivity = run_sensitivity(planned, result)
    if result is not None and "influence" in parts:
        infl = run_influence(planned, result)
    average: ModelAverage | NotRun = skipped
    robust: RobustnessMap | NotRun = skipped
    if result is not None and "average" in parts:
        average = run_average(planned, result)
    if result is not None and "robustness" in parts:
        robust = run_robustness(planned, result)
    table = None
    if result is not None and result.absolute is not None:
        from bayesmeta.workflows.sof import table_of

        table = table_of([(input_path(planned.request).stem, result)])
    return Analyses(
        plan=planned,
        result=result,
        sensitivity=sensitivity,
        influence=infl,
        provenance=provenance(planned.request, command=command, spec=spec),
        presentation=presentation(
            planned.spec.data,
            result,
            methods=planned.methods,
            influence_method=None if isinstance(infl, NotRun) else infl.method,
            parts=parts,
            measure=native(planned.spec.data).frequentist_measure(
                planned.spec.data, planned.request.measure
            ),
        ),
        average=average,
        robustness=robust,
        bias=run_bias(planned) if "bias" in parts else skipped,
        sof=table,
    )
