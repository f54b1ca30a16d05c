"""One Bayesian meta-analysis from validated data to a typed result (the library's main entry).

:func:`analyze` describes the model (:class:`~bayesmeta.model.description.ModelSpec`), picks
the engine, summarises the posterior and puts the frequentist estimates beside it.
:class:`AnalysisResult` has named, typed fields; its ``to_dict`` is the JSON output documented
in ``docs/json.md``.
"""

from __future__ import annotations

import hashlib
import platform
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from bayesmeta.effects import ObservedEffect, wald_intervals
from bayesmeta.engines.nuts import ConvergenceWarning, Diagnostics, Fit, SamplerSettings
from bayesmeta.errors import OptionError
from bayesmeta.frequentist import methods as frequentist_methods
from bayesmeta.frequentist.classic import MetaRegressions, Subgroups, from_moderators
from bayesmeta.frequentist.results import Estimate
from bayesmeta.io.counts import StudyData
from bayesmeta.io.reported import ReportedEffects
from bayesmeta.model import likelihoods
from bayesmeta.model.description import ModelSpec, reference_direction
from bayesmeta.model.likelihoods import LIKELIHOODS, native
from bayesmeta.model.moderators import Moderators
from bayesmeta.model.priors import Prior, PriorSet
from bayesmeta.model.scales import Scale, scale_of_measure
from bayesmeta.summaries.absolute import AbsoluteEffects, check_baseline_risks
from bayesmeta.summaries.types import DEFAULT_LEVEL, PosteriorSummary
from bayesmeta.workflows.compare import Comparison

if TYPE_CHECKING:
    from xarray import DataTree

ENGINES = ("nuts", "exact")
AnyData = StudyData | ReportedEffects


def resolve_engine(likelihood: str, engine: str = "auto") -> str:
    """The engine for ``likelihood``: the exact engine where the likelihood supports it (its
    default there), NUTS otherwise."""
    exact = likelihoods.likelihood(likelihood).exact
    if engine == "auto":
        return "exact" if exact else "nuts"
    if engine not in ENGINES:
        raise OptionError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    if engine == "exact" and not exact:
        which = " or ".join(f"--model {n}" for n, lik in LIKELIHOODS.items() if lik.exact)
        raise OptionError(f"the exact engine needs {which} (got {likelihood})")
    return engine


@dataclass(frozen=True)
class AnalysisResult:
    """Everything one analysis produced, with the description that determines it.

    ``diagnostics`` and ``fit`` are None for the exact engine (no sampling);
    ``log_marginal_likelihood`` is None for NUTS. ``comparison`` holds the random- vs
    common-effect comparison when asked for. ``frequentist`` maps method names to their typed
    estimates, on ``measure`` (two-arm counts: OR, RR or RD; None: the model's own scale);
    ``observed`` each study to its own estimate. ``absolute`` holds the absolute effects at
    the control-group risks asked for (:mod:`bayesmeta.summaries.absolute`).
    """

    spec: ModelSpec
    engine: str
    posterior: PosteriorSummary
    frequentist: dict[str, Estimate]
    observed: dict[str, ObservedEffect]
    diagnostics: Diagnostics | None = None
    fit: Fit | None = None
    comparison: Comparison | None = None
    log_marginal_likelihood: float | None = None
    level: float = DEFAULT_LEVEL
    measure: str | None = None
    absolute: AbsoluteEffects | None = None
    frequentist_meta_regression: MetaRegressions | None = None
    frequentist_subgroups: Subgroups | None = None

    @property
    def model(self) -> str:
        """The likelihood's name (:mod:`bayesmeta.model.likelihoods`)."""
        return self.spec.likelihood

    @property
    def data(self) -> AnyData:
        """The validated data the model was fitted to."""
        return self.spec.data

    @property
    def priors(self) -> PriorSet:
        """The priors used (``str`` of each is the command line's text)."""
        return self.spec.priors

    @property
    def common_effect(self) -> bool:
        """True if ``tau`` was fixed at 0 (common-effect model)."""
        return self.spec.common_effect

    @property
    def moderators(self) -> Moderators | None:
        """Covariates and subgroups of the model, if any."""
        return self.spec.moderators

    @property
    def scale(self) -> Scale:
        """Scale of ``mu`` and ``theta``: log odds ratio, logit proportion, log hazard ratio..."""
        return self.spec.scale

    @property
    def frequentist_scale(self) -> Scale:
        """Scale of the frequentist rows: that of ``measure`` when given, else the model's."""
        return scale_of_measure(self.measure) if self.measure else self.scale

    @property
    def converged(self) -> bool:
        """True for exact results; the NUTS diagnostics' verdict otherwise."""
        return self.diagnostics is None or self.diagnostics.converged

    @property
    def idata(self) -> DataTree | None:
        """The posterior draws as an ArviZ DataTree (None for the exact engine): groups
        ``posterior``, ``sample_stats``, ``observed_data``, ``constant_data`` (and
        ``log_likelihood`` when asked for); its attributes record the package version, model,
        priors, sampler settings and seed."""
        return self.fit.idata if self.fit is not None else None

    def summary(self) -> pd.DataFrame:
        """The posterior as a tidy table (:func:`bayesmeta.summaries.frame.summary_frame`): a
        row per quantity, columns mean, median, sd, interval ends, R-hat and ESS."""
        from bayesmeta.summaries.frame import summary_frame

        return summary_frame(self.posterior, self.idata)

    def data_dict(self) -> dict[str, Any]:
        """JSON block ``data``: counts of studies, zero cells, the data checksum and the
        reader's warnings (repeated labels, shared control arms, no information on the
        effect)."""
        d = self.data
        out: dict[str, Any] = {
            "source": d.source,
            "design": getattr(d, "design", "reported"),
            "k": d.k,
            "sha256": hashlib.sha256(_frame(d).to_csv(index=False).encode()).hexdigest(),
        }
        out.update(native(d).data_block(d))
        out["warnings"] = list(d.warnings)
        return out

    def studies(self) -> list[dict[str, Any]]:
        """Per-study rows: input values, observed effect (escalc conventions), shrunken effect."""
        rows = []
        for record in _frame(self.data).to_dict(orient="records"):
            name = str(record["study"])
            observed = self.observed.get(name)
            shrunken = self.posterior.theta.get(name)
            rows.append(
                {
                    **{k: _plain(v) for k, v in record.items()},
                    "observed": observed.to_dict() if observed is not None else None,
                    "shrunken": shrunken.to_dict() if shrunken is not None else None,
                }
            )
        return rows

    def to_dict(self) -> dict[str, Any]:
        """The JSON output (values on the model scale; see ``docs/json.md``)."""
        from bayesmeta.io.output import package_version

        out: dict[str, Any] = {
            "bayesmeta_version": package_version(),
            "model": self.model,
            "engine": self.engine,
            "common_effect": self.common_effect,
            "scale": self.scale.name,
            "reference": reference_direction(self.data),
            "data": self.data_dict(),
            "priors": self.spec.priors_used(),
            "posterior": self.posterior.to_dict(),
        }
        if self.moderators is not None:
            out["moderators"] = self.moderators.to_dict()
        if self.diagnostics is not None and self.fit is not None:
            out["diagnostics"] = self.diagnostics.to_dict()
            s = self.fit.settings
            out["sampler"] = {
                "chains": s.chains,
                "draws": s.draws,
                "tune": s.tune,
                "seed": s.seed,
                "target_accept": s.target_accept,
            }
        else:
            out["diagnostics"] = {"converged": True, "sampler": "exact quadrature"}
        if self.log_marginal_likelihood is not None:
            out["log_marginal_likelihood"] = self.log_marginal_likelihood
        if self.comparison is not None:
            out["comparison"] = self.comparison.to_dict()
        if self.absolute is not None:
            out["absolute_effects"] = self.absolute.to_dict()
        if self.measure is not None:
            out["frequentist_measure"] = self.measure
        out["frequentist"] = {k: v.to_dict() for k, v in self.frequentist.items()}
        if self.frequentist_meta_regression is not None:
            out["frequentist_meta_regression"] = self.frequentist_meta_regression.to_dict()
        if self.frequentist_subgroups is not None:
            out["frequentist_subgroups"] = self.frequentist_subgroups.to_dict()
        out["studies"] = self.studies()
        out["environment"] = _environment()
        return out


def _frame(data: AnyData) -> pd.DataFrame:
    return native(data).flat(data)


def _plain(value: Any) -> Any:
    """numpy scalars -> Python scalars for JSON."""
    return value.item() if isinstance(value, np.generic) else value


def _environment() -> dict[str, str]:
    from importlib.metadata import version

    out = {"python": platform.python_version()}
    for pkg in ("bayesmeta", "pymc", "nutpie", "arviz", "numpy", "scipy"):
        out[pkg] = version(pkg)
    return out


def analyze(
    data: AnyData | pd.DataFrame | str | Path,
    *,
    seed: int | None = None,
    model: str = "auto",
    engine: str = "auto",
    priors: PriorSet | Mapping[str, Prior | str] | None = None,
    settings: SamplerSettings | None = None,
    common_effect: bool = False,
    moderators: Moderators | None = None,
    compare: bool = False,
    hdi: bool = False,
    frequentist: Sequence[str] | None = None,
    level: float = DEFAULT_LEVEL,
    log_likelihood: bool = False,
    measure: str | None = None,
    baseline_risks: Sequence[float] = (),
) -> AnalysisResult:
    """Fit the Bayesian model to ``data`` and put the frequentist estimates beside it.

    Parameters
    ----------
    data
        Validated data from :func:`bayesmeta.load`, or a DataFrame or CSV path it reads.
    seed
        Random seed of the sampler (0 to 2**32 - 1); replaces ``settings.seed`` when given.
    model
        A registered likelihood (:mod:`bayesmeta.model.likelihoods`; ``bayesmeta priors``
        lists them: two-arm counts, single-arm counts, estimates with standard errors, to
        which counts are converted with the escalc conventions) or ``"auto"`` (from the data).
    engine
        ``"nuts"`` or ``"exact"`` (quadrature; where the likelihood supports it, its default).
    priors
        A :class:`PriorSet`, or a mapping of some of ``mu``, ``tau``, ``baseline`` to a prior
        or prior text, replacing the model's defaults (``docs/priors.md``).
    settings
        NUTS settings (:class:`SamplerSettings`).
    common_effect
        Fit the common-effect (tau = 0) variant.
    moderators
        Covariates and/or subgroups (:func:`bayesmeta.model.moderators.moderators`).
    compare
        Also fit the other of random/common effect and compare them: PSIS-LOO (ArviZ) for NUTS,
        the Bayes factor for the exact engine.
    hdi
        Also report highest-density intervals.
    frequentist
        Frequentist method names (:mod:`bayesmeta.frequentist.methods`); None: all that apply.
    level
        Level of every interval (0.95).
    log_likelihood
        Add to ``result.idata`` a ``log_likelihood`` group with each study's log likelihood
        (one variable, both arms summed), so ``arviz_stats.loo(result.idata)`` leaves out
        studies (NUTS only).
    measure
        Two-arm counts: the measure of the frequentist rows, ``"OR"``, ``"RR"`` or ``"RD"``
        (:func:`bayesmeta.classic`). The Bayesian model stays on the log odds ratio scale;
        ask for ``baseline_risks`` to have risk ratios and differences from its posterior.
    baseline_risks
        Control-group risks (e.g. ``(0.05, 0.2)``): the absolute effects of the pooled log
        odds ratio and of a new study's at each (:mod:`bayesmeta.summaries.absolute`; log
        odds ratios without moderators; exact for the exact engine).

    Raises
    ------
    TypeError
        ``data``, ``priors`` or ``settings`` of a type that cannot be used.
    BayesmetaError
        Invalid data or options, with the same message the command line prints.

    Warns
    -----
    ConvergenceWarning
        The final draws (after the automatic refit) fail the convergence checks, as
        ``pm.sample`` and :func:`bayesmeta.sample` warn; ``result.diagnostics.problems`` says
        which.
    """
    data = as_data(data)
    if seed is not None:
        settings = replace(settings or SamplerSettings(), seed=seed)
    spec = ModelSpec.describe(
        data, model=model, priors=priors, common_effect=common_effect, moderators=moderators
    )
    result = analyze_model(
        spec,
        engine=engine,
        settings=settings,
        compare=compare,
        hdi=hdi,
        frequentist=frequentist,
        level=level,
        log_likelihood=log_likelihood,
        measure=measure,
        baseline_risks=baseline_risks,
    )
    if not result.converged:
        warnings.warn(
            f"the draws did not converge ({'; '.join(result.diagnostics.problems)}), even "
            "after the refit: do not use these numbers as they are; raise draws, tune or "
            "target_accept",
            ConvergenceWarning,
            stacklevel=2,
        )
    return result


def as_data(data: Any) -> AnyData:
    """``data`` if already validated; a DataFrame or a CSV path read by :func:`bayesmeta.load`.

    Raises
    ------
    TypeError
        Anything else.
    """
    if any(isinstance(data, lik.data_class) for lik in LIKELIHOODS.values()):
        return data
    if isinstance(data, pd.DataFrame | str | Path):
        from bayesmeta.io.inputs import load

        return load(data)
    raise TypeError(
        "data must be loaded data (bayesmeta.load), a pandas DataFrame or a CSV path, "
        f"got {type(data).__name__}"
    )


def analyze_model(
    spec: ModelSpec,
    *,
    engine: str = "auto",
    settings: SamplerSettings | None = None,
    compare: bool = False,
    hdi: bool = False,
    frequentist: Sequence[str] | None = None,
    level: float = DEFAULT_LEVEL,
    log_likelihood: bool = False,
    measure: str | None = None,
    baseline_risks: Sequence[float] = (),
) -> AnalysisResult:
    """:func:`analyze` for a model description (other arguments as there)."""
    if settings is not None and not isinstance(settings, SamplerSettings):
        raise TypeError(f"settings must be SamplerSettings, got {type(settings).__name__}")
    data = spec.data
    engine = resolve_engine(spec.likelihood, engine)
    risks = check_absolute(spec, baseline_risks)
    methods = frequentist_methods.check_methods(
        frequentist if frequentist is not None else frequentist_methods.available(data), data
    )
    given = frequentist_methods.inputs(data, level, measure)
    regression = groups = None
    if spec.moderators is not None:
        regression, groups = from_moderators(
            data, given.es, spec.moderators, spec.moderators.names, level=level
        )
    common = {
        "spec": spec,
        "engine": engine,
        "frequentist": frequentist_methods.compute(methods, given),
        "frequentist_meta_regression": regression,
        "frequentist_subgroups": groups,
        "observed": wald_intervals(native(data).effect_sizes(data), level=level),
        "level": level,
        "measure": measure,
    }
    if engine == "exact":
        from bayesmeta.summaries import exact
        from bayesmeta.workflows.compare import bayes_factor

        posterior, lml = exact.summarize(spec, level=level, hdi=hdi)
        if risks:
            from bayesmeta.summaries.absolute import exact_absolute_effects

            common["absolute"] = exact_absolute_effects(spec, risks, level=level)
        comparison = None
        if compare:
            other = _other(spec)
            comparison = bayes_factor(lml, exact.summarize(other)[1], spec.common_effect)
        return AnalysisResult(
            posterior=posterior, comparison=comparison, log_marginal_likelihood=lml, **common
        )
    from bayesmeta.engines import nuts
    from bayesmeta.summaries.draws import summarize

    result = nuts.fit(spec, settings)
    if log_likelihood:
        from bayesmeta.engines.draws import Draws
        from bayesmeta.engines.pymc import with_log_likelihood

        draws = Draws.from_datatree(with_log_likelihood(spec, result.idata))
        result = replace(result, draws=draws)
    result.draws.update_attrs(provenance(spec, result.settings))
    comparison = None
    if compare:
        from bayesmeta.workflows.compare import loo_comparison

        other = _other(spec)
        comparison = loo_comparison(spec, result, other, nuts.fit(other, settings))
    absolute = None
    if risks:
        from bayesmeta.summaries.absolute import absolute_effects

        post = result.draws.posterior
        absolute = absolute_effects(post["mu"], post["theta_new"], risks, level=level)
    return AnalysisResult(
        posterior=summarize(result.draws, scale=spec.scale, level=level, hdi=hdi),
        diagnostics=result.diagnostics,
        fit=result,
        comparison=comparison,
        absolute=absolute,
        **common,
    )


def check_absolute(spec: ModelSpec, baseline_risks: Sequence[float]) -> tuple[float, ...]:
    """The control-group risks of the absolute effects, checked against the model.

    Raises
    ------
    OptionError
        A risk outside (0, 1); a model not on the log odds ratio scale or with moderators.
    """
    risks = check_baseline_risks(baseline_risks)
    if not risks:
        return risks
    if spec.scale.name != "log_odds_ratio":
        raise OptionError(
            f"--baseline-risk needs odds ratios (two-arm counts or reported ORs); this model "
            f"is on the {spec.scale.name} scale"
        )
    if spec.moderators is not None:
        raise OptionError("--baseline-risk is not available with covariates or subgroups")
    return risks


def provenance(spec: ModelSpec, settings: SamplerSettings) -> dict[str, str | int | float]:
    """What produced a set of draws, as DataTree attributes (text and numbers, so they survive
    NetCDF): package version, model, priors, moderators and sampler settings with the seed."""
    import json

    from bayesmeta.io.output import package_version

    mods = spec.moderators.to_dict() if spec.moderators is not None else {}
    return {
        "bayesmeta_version": package_version(),
        "bayesmeta_model": spec.likelihood,
        "bayesmeta_common_effect": int(spec.common_effect),
        "bayesmeta_priors": json.dumps(spec.priors_used()),
        "bayesmeta_moderators": json.dumps(mods),
        "bayesmeta_sampler": json.dumps(
            {
                "chains": settings.chains,
                "draws": settings.draws,
                "tune": settings.tune,
                "target_accept": settings.target_accept,
            }
        ),
        "bayesmeta_seed": settings.seed,
    }


def _other(spec: ModelSpec) -> ModelSpec:
    """The same model with the other effect assumption (random <-> common)."""
    return replace(spec, common_effect=not spec.common_effect)
