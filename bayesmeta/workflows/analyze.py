"""One Bayesian meta-analysis from validated data to a result object (the library's main entry).

``analyze`` builds the model, fits it, summarises the posterior and puts the frequentist
estimates beside it. :class:`AnalysisResult` has named fields; its ``to_dict`` is the JSON
output documented in ``docs/json.md``.
"""

from __future__ import annotations

import hashlib
import platform
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from bayesmeta.effects import effect_sizes
from bayesmeta.engines.nuts import Diagnostics, Fit, SamplerSettings
from bayesmeta.errors import BayesmetaError
from bayesmeta.io.counts import SingleArmData, StudyData, TwoArmData
from bayesmeta.io.reported import ReportedEffects
from bayesmeta.model.priors import Prior, PriorSet
from bayesmeta.summaries.draws import PosteriorSummary

if TYPE_CHECKING:  # moderators imports the exact engine (scipy.optimize): ~1 s
    from bayesmeta.model.moderators import Moderators

MODELS = ("binomial-normal", "proportion", "normal-normal")
ENGINES = ("nuts", "exact")

# Frequentist methods shown by `fit` unless chosen otherwise (the JSON always has these).
DEFAULT_FREQUENTIST = (
    "mantel_haenszel",
    "fixed_iv",
    "random_dl",
    "random_reml",
    "random_reml_hksj",
)
DEFAULT_FREQUENTIST_SINGLE = ("fixed_iv", "random_dl", "random_reml", "glmm")
DEFAULT_FREQUENTIST_REPORTED = ("fixed_iv", "random_dl", "random_reml", "random_reml_hksj")
REPORTED_METHODS = {
    "fixed_iv": None,
    "random_dl": ("DL", "z"),
    "random_reml": ("REML", "z"),
    "random_pm": ("PM", "z"),
    "random_reml_hksj": ("REML", "knha"),
    "random_dl_hksj": ("DL", "knha"),
}
SCALES = {"OR": "log_odds_ratio", "RR": "log_risk_ratio", "HR": "log_hazard_ratio"}
# Scale of mu and theta in the binomial count models.
COUNT_MODEL_SCALES = {"binomial-normal": "log_odds_ratio", "proportion": "logit_proportion"}


def default_methods(data: AnyData) -> tuple[str, ...]:
    """The frequentist rows `fit` shows unless told otherwise."""
    if isinstance(data, TwoArmData):
        return DEFAULT_FREQUENTIST
    if isinstance(data, SingleArmData):
        return DEFAULT_FREQUENTIST_SINGLE
    return DEFAULT_FREQUENTIST_REPORTED


def available_methods(data: AnyData) -> tuple[str, ...]:
    """Names of the frequentist blocks that can be requested for ``data``."""
    from bayesmeta.frequentist.pooled import SINGLE_ARM_BLOCKS, TWO_ARM_BLOCKS

    if isinstance(data, TwoArmData):
        return TWO_ARM_BLOCKS
    if isinstance(data, SingleArmData):
        return SINGLE_ARM_BLOCKS
    return tuple(REPORTED_METHODS)


# Single-arm default: normal(0, 1.5) on the pooled logit is close to uniform on the proportion
# scale (its logistic transform has a flat-topped density on (0.05, 0.95)); half-normal(1) on
# tau allows the larger heterogeneity usual for proportions (docs/priors.md).
PROPORTION_PRIORS = PriorSet(mu=Prior("normal", (0.0, 1.5)), tau=Prior("half-normal", (1.0,)))

AnyData = StudyData | ReportedEffects


def default_priors(model: str, data: AnyData | None = None) -> PriorSet:
    """The default priors of ``model`` (see ``docs/priors.md``)."""
    if model == "proportion" or isinstance(data, SingleArmData):
        return PROPORTION_PRIORS
    return PriorSet()


def resolve_model(data: AnyData, model: str = "auto") -> str:
    """The model for ``data``: checks an explicit choice, picks one for ``"auto"``."""
    if model == "auto":
        if isinstance(data, ReportedEffects):
            return "normal-normal"
        return "binomial-normal" if isinstance(data, TwoArmData) else "proportion"
    if model not in MODELS:
        raise BayesmetaError(f"unknown model {model!r}; choose one of {', '.join(MODELS)}")
    if model == "normal-normal":
        return model
    needs = TwoArmData if model == "binomial-normal" else SingleArmData
    if not isinstance(data, needs):
        what = "two-arm counts" if needs is TwoArmData else "single-arm counts (study,events,total)"
        raise BayesmetaError(f"model {model} needs {what}")
    return model


def resolve_engine(model: str, engine: str = "auto") -> str:
    """The exact engine is the default (and only possible) non-NUTS engine: normal-normal."""
    if engine == "auto":
        return "exact" if model == "normal-normal" else "nuts"
    if engine not in ENGINES:
        raise BayesmetaError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    if engine == "exact" and model != "normal-normal":
        raise BayesmetaError(f"the exact engine needs --model normal-normal (got {model})")
    return engine


def effect_inputs(data: AnyData) -> tuple[np.ndarray, np.ndarray, tuple[str, ...], str]:
    """Study estimates ``y``, variances ``v``, study names and scale for normal-normal models.

    Counts are turned into log odds ratios (two-arm) or logits (single-arm) with metafor's
    ``escalc`` conventions (0.5 added to the cells of studies with a zero cell). Double-zero
    studies are left out (``drop00 = TRUE``): under the normal approximation their corrected
    log odds ratio of about 0 is an artefact of the correction, not information; the binomial
    model uses them as they are.
    """
    if isinstance(data, ReportedEffects):
        return data.yi, data.vi, data.study, SCALES.get(data.measure, data.measure.lower())
    measure = "OR" if isinstance(data, TwoArmData) else "PLO"
    es = effect_sizes(data, measure=measure, drop00=measure == "OR")
    scale = "log_odds_ratio" if measure == "OR" else "logit_proportion"
    return es.yi, es.vi, es.study, scale


@dataclass(frozen=True)
class AnalysisResult:
    """Everything one analysis produced, with the inputs that determine it.

    ``diagnostics`` and ``fit`` are None for the exact engine (no sampling);
    ``log_marginal_likelihood`` is None for NUTS. ``comparison`` holds the random- vs
    common-effect comparison when asked for (PSIS-LOO for NUTS, a Bayes factor for exact).
    """

    model: str
    engine: str
    data: AnyData
    priors: PriorSet
    common_effect: bool
    posterior: PosteriorSummary
    diagnostics: Diagnostics | None
    frequentist: dict[str, Any]
    observed: dict[str, dict[str, Any]]
    fit: Fit | None = None
    moderators: Moderators | None = None
    comparison: dict[str, Any] | None = None
    log_marginal_likelihood: float | None = None

    @property
    def scale(self) -> str:
        """Scale of ``mu`` and ``theta``: log odds ratio, logit proportion, log hazard ratio..."""
        return self.posterior.scale

    @property
    def converged(self) -> bool:
        """True for exact results; the NUTS diagnostics' verdict otherwise."""
        return self.diagnostics is None or self.diagnostics.converged

    def data_dict(self) -> dict[str, Any]:
        """JSON block ``data``: counts of studies, zero cells and the data checksum."""
        d = self.data
        frame = _frame(d)
        out: dict[str, Any] = {
            "source": d.source,
            "design": getattr(d, "design", "reported"),
            "k": d.k,
            "sha256": hashlib.sha256(frame.to_csv(index=False).encode()).hexdigest(),
        }
        if isinstance(d, TwoArmData):
            out["k_zero_cell"] = int(d.zero_cell.sum())
            out["k_double_zero"] = int(d.double_zero.sum())
            out["patients"] = int(d.treatment_total.sum() + d.control_total.sum())
        elif isinstance(d, SingleArmData):
            out["k_zero_cell"] = int(d.zero_cell.sum())
            out["patients"] = int(d.total.sum())
        else:
            out["measure"] = d.measure
        return out

    def studies(self) -> list[dict[str, Any]]:
        """Per-study rows: input values, observed effect (escalc conventions), shrunken effect."""
        rows = []
        for record in _frame(self.data).to_dict(orient="records"):
            name = str(record["study"])
            rows.append(
                {
                    **{k: _plain(v) for k, v in record.items()},
                    "observed": self.observed.get(name),
                    "shrunken": self.posterior.theta.get(name),
                }
            )
        return rows

    def to_dict(self) -> dict[str, Any]:
        """The JSON output (values on the model scale; see ``docs/json.md``)."""
        from bayesmeta import __version__

        out: dict[str, Any] = {
            "bayesmeta_version": __version__,
            "model": self.model,
            "engine": self.engine,
            "common_effect": self.common_effect,
            "scale": self.scale,
            "reference": reference_direction(self.data),
            "data": self.data_dict(),
            "priors": self.priors.to_dict(),
            "posterior": self.posterior.to_dict(),
        }
        if self.moderators is not None and not self.moderators.empty:
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
            out["comparison"] = self.comparison
        out["frequentist"] = self.frequentist
        out["studies"] = self.studies()
        out["environment"] = _environment()
        return out


def _frame(data: AnyData) -> pd.DataFrame:
    if isinstance(data, ReportedEffects):
        base = pd.DataFrame({"study": list(data.study), "yi": data.yi, "se": np.sqrt(data.vi)})
        return pd.concat([base, data.covariates.reset_index(drop=True)], axis=1)
    return data.to_frame()


def _plain(value: Any) -> Any:
    """numpy scalars -> Python scalars for JSON."""
    return value.item() if isinstance(value, np.generic) else value


def reference_direction(data: AnyData) -> str:
    """What the effect measures and which way it points."""
    if isinstance(data, TwoArmData):
        return "odds ratio of an event, treatment vs control (OR < 1: fewer events on treatment)"
    if isinstance(data, SingleArmData):
        return "proportion of patients with the event (logit scale for mu and tau)"
    if data.ratio:
        return f"{data.measure} as reported (log scale for mu and tau)"
    return f"{data.measure} as reported"


def _environment() -> dict[str, str]:
    from importlib.metadata import version

    out = {"python": platform.python_version()}
    for pkg in ("bayesmeta", "pymc", "nutpie", "arviz", "numpy", "scipy"):
        out[pkg] = version(pkg)
    return out


def observed_effects(data: AnyData) -> dict[str, dict[str, Any]]:
    """Each study's own estimate with its 95% Wald CI.

    Log odds ratios (two-arm) or logits (single-arm) as metafor's ``escalc`` gives them (0.5
    added to the cells of studies with a zero cell, marked ``corrected``); reported effects as
    given.
    """
    if isinstance(data, ReportedEffects):
        y, v, study, corrected = data.yi, data.vi, data.study, ()
    else:
        es = effect_sizes(data, measure="OR" if isinstance(data, TwoArmData) else "PLO")
        y, v, study, corrected = es.yi, es.vi, es.study, es.corrected
    z = 1.959963984540054
    return {
        name: {
            "estimate": float(yi),
            "se": float(np.sqrt(vi)),
            "ci95": [float(yi - z * np.sqrt(vi)), float(yi + z * np.sqrt(vi))],
            "corrected": name in corrected,
        }
        for name, yi, vi in zip(study, y, v, strict=True)
    }


def frequentist_blocks(data: AnyData, methods: tuple[str, ...] | None = None) -> dict[str, Any]:
    """The frequentist comparison as JSON blocks (see :func:`bayesmeta.frequentist.pooled.classic`).

    For reported effects: inverse-variance common effect and DL/REML/PM random effects, with
    Hartung-Knapp variants.
    """
    from bayesmeta.effects import EffectSizes
    from bayesmeta.frequentist import pooled as frequentist

    if not isinstance(data, ReportedEffects):
        blocks = frequentist.classic(data, methods=list(methods) if methods else None)
        return {k: (v.to_dict() if hasattr(v, "to_dict") else v) for k, v in blocks.items()}
    es = EffectSizes(data.study, data.yi, data.vi, data.measure, "none", (), ())
    chosen = methods or tuple(REPORTED_METHODS)
    unknown = [m for m in chosen if m not in REPORTED_METHODS]
    if unknown:
        raise BayesmetaError(
            f"unknown method(s) {', '.join(unknown)} for reported effects; "
            f"choose from {', '.join(REPORTED_METHODS)}"
        )
    out = {}
    for name in chosen:
        spec = REPORTED_METHODS[name]
        if spec is None:
            fit = frequentist.common_effect(es)
        else:
            fit = frequentist.random_effects(es, method=spec[0], test=spec[1])
        out[name] = fit.to_dict()
    return out


def analyze(
    data: AnyData,
    *,
    model: str = "auto",
    engine: str = "auto",
    priors: PriorSet | None = None,
    settings: SamplerSettings | None = None,
    common_effect: bool = False,
    moderators: Moderators | None = None,
    compare: bool = False,
    hdi: bool = False,
    frequentist: tuple[str, ...] | None = None,
) -> AnalysisResult:
    """Fit the Bayesian model to ``data`` and put the frequentist estimates beside it.

    Parameters
    ----------
    data
        Validated data from :func:`bayesmeta.load` or :func:`bayesmeta.io.reported.load_reported`.
    model
        ``"binomial-normal"`` (two-arm counts), ``"proportion"`` (single-arm counts),
        ``"normal-normal"`` (estimates with standard errors; counts are converted with the
        escalc conventions) or ``"auto"`` (from the data).
    engine
        ``"nuts"`` or ``"exact"`` (quadrature; normal-normal only, its default).
    priors, settings
        Priors and NUTS settings (defaults: :func:`default_priors`, :class:`SamplerSettings`).
    common_effect
        Fit the common-effect (tau = 0) variant.
    moderators
        Covariates and/or subgroups (:func:`bayesmeta.model.moderators.moderators`).
    compare
        Also fit the other of random/common effect and compare them: PSIS-LOO (ArviZ) for NUTS,
        the Bayes factor for the exact engine.
    hdi
        Also report 95% highest-density intervals.
    frequentist
        Methods for the frequentist comparison (block names of ``classic``); None: all.
    """
    model = resolve_model(data, model)
    engine = resolve_engine(model, engine)
    priors = priors or default_priors(model, data)
    mods = moderators if moderators is not None and not moderators.empty else None
    common = {"data": data, "priors": priors, "moderators": mods}
    if engine == "exact":
        posterior, lml = _exact(data, priors, common_effect, mods, hdi)
        comparison = None
        if compare:
            _, other = _exact(data, priors, not common_effect, mods, hdi)
            comparison = _bayes_factor(lml, other, common_effect)
        return AnalysisResult(
            model=model,
            engine=engine,
            common_effect=common_effect,
            posterior=posterior,
            diagnostics=None,
            frequentist=frequentist_blocks(data, frequentist),
            observed=observed_effects(data),
            comparison=comparison,
            log_marginal_likelihood=lml,
            **common,
        )
    from bayesmeta.engines import nuts as fitting
    from bayesmeta.summaries import draws as summaries

    if mods is None and not compare and model != "normal-normal":
        # The same model as the PyMC builders, sampled through cached kernels without
        # importing PyMC (bayesmeta.engines.kernels; tested equal to the PyMC log density).
        from bayesmeta.engines.kernels import fast_model

        pm_model = fast_model(data, priors=priors, common_effect=common_effect)
        scale = COUNT_MODEL_SCALES[model]
    else:
        pm_model, scale = _pymc_model(model, data, priors, common_effect, mods)
    result = fitting.fit(pm_model, settings)
    comparison = None
    if compare:
        other_model, _ = _pymc_model(model, data, priors, not common_effect, mods)
        other = fitting.fit(other_model, settings)
        comparison = _loo_comparison(pm_model, result, other_model, other, common_effect)
    return AnalysisResult(
        model=model,
        engine=engine,
        common_effect=common_effect,
        posterior=summaries.summarize(result.idata, scale=scale, hdi=hdi),
        diagnostics=result.diagnostics,
        frequentist=frequentist_blocks(data, frequentist),
        observed=observed_effects(data),
        fit=result,
        comparison=comparison,
        **common,
    )


def _exact(data, priors, common_effect, mods, hdi) -> tuple[PosteriorSummary, float]:
    from bayesmeta.summaries.exact import exact_summary

    y, v, study, scale = effect_inputs(data)
    return exact_summary(
        y,
        v,
        study,
        priors=priors,
        common_effect=common_effect,
        moderators=mods,
        scale=scale,
        hdi=hdi,
    )


def _pymc_model(model, data, priors, common_effect, mods) -> tuple[Any, str]:
    from bayesmeta.engines import pymc as models

    if model in COUNT_MODEL_SCALES:
        builder = models.binomial_normal if model == "binomial-normal" else models.proportion
        built = builder(data, priors=priors, common_effect=common_effect, moderators=mods)
        return built, COUNT_MODEL_SCALES[model]
    y, v, study, scale = effect_inputs(data)
    built = models.normal_normal(
        y, v, study, priors=priors, common_effect=common_effect, moderators=mods
    )
    return built, scale


def _bayes_factor(lml: float, other: float, common_effect: bool) -> dict[str, Any]:
    """Bayes factor of the random- against the common-effect model (exact marginals)."""
    log_bf = (other - lml) if common_effect else (lml - other)
    return {
        "method": "bayes_factor",
        "log_bf_random_vs_common": float(log_bf),
        "bf_random_vs_common": float(np.exp(log_bf)),
    }


def _with_study_loglik(pm_model: Any, fit: Fit) -> Any:
    """The fit's DataTree with a ``log_likelihood`` group holding each study's log likelihood
    (both arms summed for two-arm data) as ``per_study``: a study is the unit left
    out by LOO."""
    import pymc as pm
    from xarray import DataTree

    ll = pm.compute_log_likelihood(
        fit.idata, model=pm_model, extend_inferencedata=False, progressbar=False
    )
    total = sum(ll[name] for name in ll.data_vars)
    tree = fit.idata.copy()
    tree["log_likelihood"] = DataTree(total.to_dataset(name="per_study"))
    return tree


def _loo_comparison(
    model: Any, fit: Fit, other_model: Any, other: Fit, common_effect: bool
) -> dict[str, Any]:
    """PSIS-LOO of both fits (ArviZ) and the random- minus common-effect ELPD difference with
    its standard error (Vehtari, Gelman & Gabry 2017, Stat Comput 27:1413)."""
    import arviz_stats as azs

    def loo(m: Any, f: Fit) -> Any:
        with warnings.catch_warnings():  # high Pareto k is reported in the result instead
            warnings.simplefilter("ignore", UserWarning)
            return azs.loo(_with_study_loglik(m, f), var_name="per_study")

    this, that = loo(model, fit), loo(other_model, other)
    random_, common = (that, this) if common_effect else (this, that)
    diff_i = np.asarray(random_.elpd_i).ravel() - np.asarray(common.elpd_i).ravel()
    return {
        "method": "psis_loo",
        "elpd_loo_random": float(random_.elpd),
        "elpd_loo_common": float(common.elpd),
        "se_random": float(random_.se),
        "se_common": float(common.se),
        "elpd_diff_random_minus_common": float(diff_i.sum()),
        "se_diff": float(np.sqrt(len(diff_i) * np.var(diff_i, ddof=1))),
        "pareto_k_max": float(max(np.max(random_.pareto_k), np.max(common.pareto_k))),
        "studies_pareto_k_above_0_7": int(
            max(
                np.sum(np.asarray(random_.pareto_k) > 0.7),
                np.sum(np.asarray(common.pareto_k) > 0.7),
            )
        ),
    }
