"""One Bayesian meta-analysis from validated data to a typed result (the library's main entry).

:func:`analyze` describes the model (:class:`~bayesmeta.model.description.ModelSpec`), picks
the engine, summarises the posterior and puts the frequentist estimates beside it.
:class:`AnalysisResult` has named, typed fields; its ``to_dict`` is the JSON output documented
in ``docs/json.md``.
"""

from __future__ import annotations

import hashlib
import math
import platform
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
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
from bayesmeta.summaries.absolute import STUDIES, AbsoluteEffects, Benefit, check_baseline_risks
from bayesmeta.summaries.checks import ModelChecks
from bayesmeta.summaries.crosscheck import quadrature
from bayesmeta.summaries.types import DEFAULT_LEVEL, PosteriorSummary, check_level
from bayesmeta.workflows.bayes_factors import BayesFactors
from bayesmeta.workflows.compare import Comparison

if TYPE_CHECKING:
    from xarray import DataTree

ENGINES = ("nuts", "exact")
AnyData = StudyData | ReportedEffects


def resolve_engine(likelihood: str, engine: str = "auto") -> str:
    """The engine for ``likelihood``: ``auto`` is the exact engine where the likelihood asks
    for it by default (normal-normal) and NUTS otherwise; ``exact`` is there for every
    likelihood an exact engine integrates (:attr:`Likelihood.exact`)."""
    lik = likelihoods.likelihood(likelihood)
    if engine == "auto":
        return "exact" if lik.exact_default else "nuts"
    if engine not in ENGINES:
        raise OptionError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    if engine == "exact" and lik.exact is None:
        which = " / ".join(n for n, other in LIKELIHOODS.items() if other.exact is not None)
        raise OptionError(
            f"the exact engine needs --model {which} (got {likelihood}: {lik.exact_refusal})"
        )
    return engine


@dataclass(frozen=True)
class AnalysisResult:
    """Everything one analysis produced, with the description that determines it.

    ``diagnostics`` and ``fit`` are None for the exact engine (no sampling);
    ``log_marginal_likelihood`` is None for NUTS. ``comparison`` holds the random- vs
    common-effect comparison when asked for. ``frequentist`` maps method names to their typed
    estimates, on ``measure`` (two-arm counts: OR, RR or RD; None: the model's own scale);
    ``observed`` each study to its own estimate. ``absolute`` holds the absolute effects at
    the control-group risks asked for (:mod:`bayesmeta.summaries.absolute`); ``checks`` the
    model checks (:mod:`bayesmeta.summaries.checks`) when asked for.
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
    bayes_factors: BayesFactors | None = None
    checks: ModelChecks | None = None

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

    def summary(self, level: float | None = None) -> pd.DataFrame:
        """The posterior as a tidy table (:func:`bayesmeta.summaries.frame.summary_frame`): a
        row per quantity, columns mean, median, sd, ``ci_lower``/``ci_upper`` at ``level``
        (None: the result's own, in ``frame.attrs["level"]``), ``prob_below_null`` (P(effect
        below no effect: 0 on the model scale, 1 for a ratio, so P(OR < 1) on the
        ``odds_ratio`` row), R-hat and ESS. Another level costs no refit
        (:meth:`posterior_at`).

        >>> result = bayesmeta.analyze(bayesmeta.load_example("bcg"))  # doctest: +SKIP
        >>> result.summary(level=0.8).loc["odds_ratio", ["ci_lower", "ci_upper"]]  # doctest: +SKIP
        """
        from bayesmeta.summaries.frame import summary_frame

        post = self.posterior_at(level)
        frame = summary_frame(post)
        if self._checks is not None:  # R-hat and ESS do not depend on the level
            attrs = dict(frame.attrs)
            frame = frame.join(self._checks)
            frame.attrs.update(attrs)
        below = {"mu": post.prob_mu_below_0}
        if post.theta_new is not None and (self.fit is not None or self.moderators is None):
            below["theta_new"] = self.probability("theta_new", below=0.0)
        for name, s in (post.coefficients or {}).items():
            below[name if name.startswith("intercept") else f"beta[{name}]"] = s.prob_below_0
        for name, d in (post.differences or {}).items():
            below[f"difference[{name}]"] = d.summary.prob_below_0
        for level_name, group in (post.subgroups or {}).items():
            below[f"mu[{level_name}]"] = group.prob_mu_below_0
        scale = post.scale
        for shown, model_name in ((scale.pooled, "mu"), (scale.predictive, "theta_new")):
            if shown is not None:
                below[shown] = below.get(model_name)
                for level_name in post.subgroups or {}:
                    if model_name == "mu":
                        below[f"{shown}[{level_name}]"] = below.get(f"mu[{level_name}]")
        column = pd.Series({k: v for k, v in below.items() if v is not None}, dtype=float)
        frame.insert(
            list(frame.columns).index("ci_upper") + 1,
            "prob_below_null",
            column.reindex(frame.index),
        )
        return frame

    def to_frame(self, level: float | None = None) -> pd.DataFrame:
        """The posterior as a DataFrame, the method name every table-like result shares
        (:meth:`bayesmeta.ClassicResult.to_frame`); the same table as :meth:`summary`."""
        return self.summary(level)

    def __repr__(self) -> str:
        """One line: model, engine, k, the pooled effect with its interval, tau, convergence
        (the full result is in :meth:`summary` and :meth:`to_dict`)."""
        post, scale = self.posterior, self.scale
        parts = [self.model, f"engine={self.engine}", f"k={self.data.k}"]
        main, name = (post.pooled, scale.pooled) if post.pooled is not None else (post.mu, "mu")
        if main is not None:
            lo, hi = main.interval
            parts.append(f"{name}={main.median:.3g} [{main.level:.0%} {lo:.3g}, {hi:.3g}]")
        elif post.subgroups is not None:
            parts.append(f"subgroups={', '.join(post.subgroups)}")
        if post.tau is not None:
            parts.append(f"tau={post.tau.median:.3g}")
        parts.append("converged" if self.converged else "NOT CONVERGED")
        return f"AnalysisResult({', '.join(parts)})"

    def _repr_html_(self) -> str:
        """Notebook display: the one-line description over the summary of the pooled
        quantities (the study rows are in :meth:`summary`)."""
        from html import escape

        frame = self.summary()
        rows = [i for i in frame.index if not str(i).startswith("theta[")]
        table = frame.loc[rows].to_html(float_format=lambda x: f"{x:.4g}", na_rep="")
        return f"<p><code>{escape(repr(self))}</code></p>{table}"

    @cached_property
    def _checks(self) -> pd.DataFrame | None:
        """R-hat and ESS of each row of :meth:`summary` (None for the exact engine), computed
        once: they are the costly part of the table."""
        from bayesmeta.summaries.frame import CHECKS, summary_frame

        if self.fit is None:
            return None
        frame = summary_frame(self.posterior, self.fit.draws)
        return frame[[c for c in CHECKS if c in frame.columns]]

    def posterior_at(self, level: float | None = None) -> PosteriorSummary:
        """The posterior summarised at ``level`` without refitting: from the draws (NUTS) or
        the exact quadrature; None or the result's level: :attr:`posterior` itself. The
        numbers equal those of ``analyze(..., level=level)`` with the same seed."""
        if level is None or level == self.level:
            return self.posterior
        level = check_level(level)
        hdi = any(s.hdi is not None for s in self.posterior.theta.values())
        if self.fit is not None:
            from bayesmeta.summaries.draws import summarize

            return summarize(self.fit.draws, scale=self.scale, level=level, hdi=hdi)
        from bayesmeta.summaries import exact

        return exact.summarize(self.spec, level=level, hdi=hdi)[0]

    def probability(
        self, quantity: str = "mu", *, below: float | None = None, above: float | None = None
    ) -> float:
        """Posterior probability that ``quantity`` is below ``below`` and/or above ``above``.

        ``quantity`` is ``"mu"``, ``"tau"``, ``"theta_new"`` (thresholds on the model scale,
        e.g. log odds ratios) or a shown-scale name of the result (``"odds_ratio"``,
        ``"predictive_odds_ratio"``: thresholds on that scale). Both bounds give the
        probability of the interval between them. From the draws (NUTS) or exactly (the exact
        engine); no refit.

        >>> import math
        >>> result.probability("mu", below=math.log(0.8))  # doctest: +SKIP
        >>> result.probability("odds_ratio", below=0.8)  # the same number  # doctest: +SKIP

        Raises
        ------
        OptionError
            An unknown quantity, no bound given, or a model without that single quantity.
        """
        scale = self.scale
        shown = {scale.pooled: "mu", scale.predictive: "theta_new"}
        names = {"mu": "mu", "tau": "tau", "theta_new": "theta_new"}
        names.update({k: v for k, v in shown.items() if k is not None})
        if quantity not in names:
            raise OptionError(f"unknown quantity {quantity!r}; choose one of {', '.join(names)}")
        if below is None and above is None:
            raise OptionError("give below=, above= or both (a threshold on the quantity)")
        hi = math.inf if below is None else float(below)
        lo = -math.inf if above is None else float(above)
        if quantity in shown:
            hi, lo = _model_scale(scale, hi), _model_scale(scale, lo)
        name = names[quantity]
        if self.fit is not None:
            from bayesmeta.summaries.draws import probability

            return probability(self.fit.draws, name, hi, lo)
        from bayesmeta.summaries.exact import probability as exact_probability

        return exact_probability(self.spec, name, hi, lo)

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
        if self.bayes_factors is not None:
            out["bayes_factors"] = self.bayes_factors.to_dict()
        if self.checks is not None:
            out["checks"] = self.checks.to_dict()
        out["frequentist"] = {k: v.to_dict() for k, v in self.frequentist.items()}
        if self.frequentist_meta_regression is not None:
            out["frequentist_meta_regression"] = self.frequentist_meta_regression.to_dict()
        if self.frequentist_subgroups is not None:
            out["frequentist_subgroups"] = self.frequentist_subgroups.to_dict()
        out["studies"] = self.studies()
        out["environment"] = _environment()
        return out


def _model_scale(scale: Scale, value: float) -> float:
    """The model-scale value that ``scale.show`` maps to ``value`` (``show`` is increasing;
    values beyond the shown scale's range map to -inf / inf)."""
    if math.isinf(value):
        return value
    lo, hi = -745.0, 745.0  # exp and expit saturate in double precision beyond these
    with np.errstate(over="ignore", divide="ignore"):
        if value <= scale.show(lo):
            return -math.inf
        if value >= scale.show(hi):
            return math.inf
        for _ in range(200):
            mid = 0.5 * (lo + hi)
            lo, hi = (mid, hi) if scale.show(mid) < value else (lo, mid)
    return 0.5 * (lo + hi)


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
    baseline_risks: Sequence[float | str] = (),
    benefit: Benefit | None = None,
    bayes_factors: bool = False,
    exact_check: bool = False,
    checks: bool = False,
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
        ``"nuts"``, ``"exact"`` (quadrature, where the likelihood has an exact engine) or
        ``"auto"`` (exact where the likelihood's default is, NUTS otherwise).
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
        odds ratios without moderators; exact for the exact engine). ``"studies"``: the
        posterior predictive control risk of the binomial-normal model's study baselines.
    benefit
        A clinically relevant difference per 1,000 (:class:`~bayesmeta.summaries.absolute.
        Benefit`): each absolute effect also gets the posterior probability of a benefit at
        least that large.

    bayes_factors
        Also compute the Bayes factors for the effect and for heterogeneity from exact
        marginal likelihoods (:func:`bayesmeta.workflows.bayes_factors.bayes_factors`; models
        without moderators, whatever the engine).
    exact_check
        A NUTS result also records its largest quantile distance from the exact posterior
        (``diagnostics.exact_check``, in posterior SDs) where the exact engines cover the
        model; it costs one exact fit (``bayesmeta fit`` always asks for it).
    checks
        Also compute the model checks (``result.checks``, :mod:`bayesmeta.summaries.checks`):
        each study's posterior predictive p-value, with NUTS its LOO-PIT value and Pareto k
        (this adds the ``log_likelihood`` group), and the prior predictive summary.

    Warns
    -----
    ConvergenceWarning
        The final draws (after the one refit) fail the convergence checks; the result says
        which (``result.diagnostics.problems``).

    Raises
    ------
    TypeError
        ``data``, ``priors``, ``settings`` or ``moderators`` of a type that cannot be used.
    BayesmetaError
        Invalid data or options, with the same message the command line prints.
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
        benefit=benefit,
        bayes_factors=bayes_factors,
        exact_check=exact_check,
        checks=checks,
    )
    if not result.converged and result.diagnostics is not None:
        warnings.warn(
            f"the draws did not converge even after the refit "
            f"({'; '.join(result.diagnostics.problems)}): do not use them as they are; "
            "raise the settings' draws and tune, or give a more informative prior",
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
    baseline_risks: Sequence[float | str] = (),
    benefit: Benefit | None = None,
    bayes_factors: bool = False,
    exact_check: bool = False,
    checks: bool = False,
) -> AnalysisResult:
    """:func:`analyze` for a model description (other arguments as there).

    ``exact_check``: a NUTS result also records its distance from the exact posterior
    (``diagnostics.exact_check``) where the exact engines cover the model; it costs an exact
    fit, so the commands that report one analysis ask for it and refits (influence,
    sensitivity, batches) do not.
    """
    if settings is not None and not isinstance(settings, SamplerSettings):
        raise TypeError(f"settings must be SamplerSettings, got {type(settings).__name__}")
    level = check_level(level)
    seed = (settings or SamplerSettings()).seed
    engine = resolve_engine(spec.likelihood, engine)
    spec.check_proper(engine, bayes_factors=bayes_factors or compare)
    risks = check_absolute(spec, baseline_risks, engine)
    common = shared_fields(spec, engine, frequentist, level, measure)
    if bayes_factors:
        from bayesmeta.workflows.bayes_factors import bayes_factors as compute

        common["bayes_factors"] = compute(spec)
    if engine == "exact":
        from bayesmeta.workflows.compare import bayes_factor

        engine_module = quadrature(spec)
        posterior, lml = engine_module.summarize(spec, level=level, hdi=hdi)
        if risks:
            from bayesmeta.summaries.absolute import exact_absolute_effects

            common["absolute"] = exact_absolute_effects(spec, risks, level=level, benefit=benefit)
        comparison = None
        if compare:
            other = _other(spec)
            comparison = bayes_factor(lml, engine_module.summarize(other)[1], spec.common_effect)
        if checks:
            common["checks"] = _exact_checks(spec, engine_module, seed)
        return AnalysisResult(
            posterior=posterior, comparison=comparison, log_marginal_likelihood=lml, **common
        )
    from bayesmeta.engines import nuts
    from bayesmeta.summaries.draws import summarize

    result = nuts.fit(spec, settings)
    if log_likelihood or checks:
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
    posterior = summarize(result.draws, scale=spec.scale, level=level, hdi=hdi)
    diagnostics = result.diagnostics
    if exact_check:
        from bayesmeta.summaries.crosscheck import exact_check as distance

        diagnostics = replace(diagnostics, exact_check=distance(spec, posterior, level))
    absolute = None
    if risks:
        from bayesmeta.summaries.absolute import absolute_effects

        post = result.draws.posterior
        absolute = absolute_effects(
            post["mu"],
            post["theta_new"],
            risks,
            level=level,
            alpha=_baselines(spec, post.get("alpha")),
            benefit=benefit,
        )
    if checks:
        from bayesmeta.summaries.checks import model_checks

        common["checks"] = model_checks(spec, seed=seed, draws=result.draws, loo=True)
    return AnalysisResult(
        posterior=posterior,
        diagnostics=diagnostics,
        fit=result,
        comparison=comparison,
        absolute=absolute,
        **common,
    )


def _exact_checks(spec: ModelSpec, engine_module: Any, seed: int) -> ModelChecks:
    """The model checks of an exact fit: the posterior predictive p-values are exact for
    the normal-normal engine (the exact binomial engine has none: they need draws)."""
    from bayesmeta.summaries.checks import model_checks, not_covered

    posterior = None
    if spec.family.exact == "exact" and not_covered(spec) is None:
        posterior = engine_module.fitted_posterior(spec)
    return model_checks(
        spec,
        seed=seed,
        exact_posterior=posterior,
        no_posterior="the exact binomial engine has no draws to replicate: use --engine nuts",
    )


def _baselines(spec: ModelSpec, alpha: np.ndarray | None) -> np.ndarray | None:
    """The draws of the study baselines that data inform: those of the count studies of
    mixed data (a reported study's baseline stays at its prior), all otherwise."""
    counted = getattr(spec.data, "counted", None)
    if alpha is None or counted is None:
        return alpha
    return np.asarray(alpha)[..., np.asarray(counted, dtype=bool)]


def check_absolute(
    spec: ModelSpec, baseline_risks: Sequence[float | str], engine: str = "nuts"
) -> tuple[float | str, ...]:
    """The control-group risks of the absolute effects, checked against the model and the
    engine that fits it.

    Raises
    ------
    OptionError
        A risk outside (0, 1); a model not on the log odds ratio scale or with moderators;
        risks from the studies without study baselines in the draws.
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
    if STUDIES in risks and (not spec.family.baseline or engine != "nuts"):
        raise OptionError(
            "--baseline-risk studies needs the study baselines of the binomial-normal model "
            "(--model binomial-normal --engine nuts)"
        )
    return risks


def shared_fields(
    spec: ModelSpec,
    engine: str,
    frequentist: Sequence[str] | None,
    level: float,
    measure: str | None = None,
) -> dict[str, Any]:
    """The fields of an :class:`AnalysisResult` that do not depend on the engine: the
    description, the frequentist estimates (on ``measure``; meta-regression and subgroups
    with moderators) and each study's observed effect."""
    data = spec.data
    methods = frequentist_methods.check_methods(
        frequentist if frequentist is not None else frequentist_methods.available(data), data
    )
    given = frequentist_methods.inputs(data, level, measure)
    regression = groups = None
    if spec.moderators is not None:
        regression, groups = from_moderators(
            data, given.es, spec.moderators, spec.moderators.names, level=level
        )
    return {
        "spec": spec,
        "engine": engine,
        "frequentist": frequentist_methods.compute(methods, given),
        "frequentist_meta_regression": regression,
        "frequentist_subgroups": groups,
        "observed": wald_intervals(native(data).effect_sizes(data), level=level),
        "level": level,
        "measure": measure,
    }


def from_draws(
    idata: Any,
    data: AnyData | pd.DataFrame | str | Path,
    *,
    model: str = "auto",
    priors: PriorSet | Mapping[str, Prior | str] | None = None,
    common_effect: bool = False,
    moderators: Moderators | None = None,
    frequentist: Sequence[str] | None = None,
    level: float = DEFAULT_LEVEL,
    hdi: bool = False,
) -> AnalysisResult:
    """An :class:`AnalysisResult` from draws you made yourself, e.g. of a builder model you
    extended or a PyMC model you wrote, so that summaries, probabilities, the forest plot and
    the report work on them.

    ``idata`` (an ArviZ ``DataTree``) must hold the posterior variables bayesmeta reports, by
    these names: ``mu`` (pooled effect), ``tau`` (between-study SD; absent for a common effect),
    ``theta`` (each study's effect, dimension ``study`` in the order of ``data``) and
    ``theta_new`` (a new study's effect), and ``sample_stats`` with ``diverging`` (as
    ``pm.sample`` and :func:`bayesmeta.sample` give them). ``model``, ``priors``,
    ``common_effect`` and ``moderators`` describe the model that made them, for the report's
    methods text (the draws are not checked against them); other arguments as :func:`analyze`.

    >>> idata = bayesmeta.sample(my_model, random_seed=1)  # doctest: +SKIP
    >>> result = bayesmeta.from_draws(idata, data)  # doctest: +SKIP
    >>> result.summary(level=0.8)  # doctest: +SKIP

    Raises
    ------
    OptionError
        A variable missing from the draws, or ``theta``'s studies not those of ``data``.
    """
    from bayesmeta.engines import nuts
    from bayesmeta.engines.draws import Draws
    from bayesmeta.summaries.draws import summarize

    level = check_level(level)
    spec = ModelSpec.describe(
        as_data(data),
        model=model,
        priors=priors,
        common_effect=common_effect,
        moderators=moderators,
    )
    draws = Draws.from_datatree(idata)
    needed = ["mu", "theta", "theta_new", *(() if spec.common_effect else ("tau",))]
    missing = [name for name in needed if name not in draws.posterior]
    if "diverging" not in draws.sample_stats:
        missing.append("sample_stats.diverging")
    if missing:
        raise OptionError(
            f"the draws lack {', '.join(missing)}: name the pooled effect mu, the "
            "between-study SD tau, the study effects theta (dims='study') and a new study's "
            "effect theta_new"
        )
    if draws.var_dims("theta") != ["study"] or draws.labels("study") != list(spec.study):
        raise OptionError(
            "theta must have the one dimension 'study' with the studies of the data, in order"
        )
    mu = draws.posterior["mu"]
    settings = SamplerSettings(
        chains=int(mu.shape[0]),
        draws=max(int(mu.shape[1]), 4),
        tune=int(draws.group_attrs.get("posterior", {}).get("tuning_steps", 0) or 0),
        seed=int(draws.attrs.get("bayesmeta_seed", 1)),
    ).for_model(spec)
    diagnostics = nuts.diagnose(draws, settings=settings)
    return AnalysisResult(
        posterior=summarize(draws, scale=spec.scale, level=level, hdi=hdi),
        diagnostics=diagnostics,
        fit=Fit(draws, diagnostics, settings),
        **shared_fields(spec, "nuts", frequentist, level),
    )


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
