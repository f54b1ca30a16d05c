"""One Bayesian meta-analysis from validated data to a result object (the library's main entry).

``analyze`` builds the model, fits it, summarises the posterior and puts the frequentist
estimates beside it. :class:`AnalysisResult` has named fields; its ``to_dict`` is the JSON
output documented in ``docs/json.md``.
"""

from __future__ import annotations

import hashlib
import platform
from dataclasses import dataclass
from typing import Any

import numpy as np

from bayesmeta.data import SingleArmData, StudyData, TwoArmData
from bayesmeta.effects import effect_sizes
from bayesmeta.errors import BayesmetaError
from bayesmeta.fitting import Diagnostics, Fit, SamplerSettings
from bayesmeta.priors import Prior, PriorSet
from bayesmeta.summaries import PosteriorSummary

MODELS = ("binomial-normal", "proportion")

# Frequentist methods shown by `fit` unless chosen otherwise (the JSON always has these).
DEFAULT_FREQUENTIST = (
    "mantel_haenszel",
    "fixed_iv",
    "random_dl",
    "random_reml",
    "random_reml_hksj",
)
DEFAULT_FREQUENTIST_SINGLE = ("fixed_iv", "random_dl", "random_reml", "glmm")


# Single-arm default: normal(0, 1.5) on the pooled logit is close to uniform on the proportion
# scale (its logistic transform has a flat-topped density on (0.05, 0.95)); half-normal(1) on
# tau allows the larger heterogeneity usual for proportions (docs/priors.md).
PROPORTION_PRIORS = PriorSet(mu=Prior("normal", (0.0, 1.5)), tau=Prior("half-normal", (1.0,)))


def default_priors(model: str) -> PriorSet:
    """The default priors of ``model`` (see ``docs/priors.md``)."""
    return PROPORTION_PRIORS if model == "proportion" else PriorSet()


def resolve_model(data: StudyData, model: str = "auto") -> str:
    """The model for ``data``: checks an explicit choice, picks one for ``"auto"``."""
    if model == "auto":
        return "binomial-normal" if isinstance(data, TwoArmData) else "proportion"
    if model not in MODELS:
        raise BayesmetaError(f"unknown model {model!r}; choose one of {', '.join(MODELS)}")
    needs = TwoArmData if model == "binomial-normal" else SingleArmData
    if not isinstance(data, needs):
        what = "two-arm counts" if needs is TwoArmData else "single-arm counts (study,events,total)"
        raise BayesmetaError(f"model {model} needs {what}")
    return model


@dataclass(frozen=True)
class AnalysisResult:
    """Everything one analysis produced, with the inputs that determine it."""

    model: str
    data: StudyData
    priors: PriorSet
    common_effect: bool
    posterior: PosteriorSummary
    diagnostics: Diagnostics
    frequentist: dict[str, Any]
    observed: dict[str, dict[str, Any]]
    fit: Fit

    @property
    def scale(self) -> str:
        """Scale of ``mu`` and ``theta``: log odds ratio or logit proportion."""
        return self.posterior.scale

    def data_dict(self) -> dict[str, Any]:
        """JSON block ``data``: counts of studies, zero cells and the data checksum."""
        d = self.data
        out: dict[str, Any] = {
            "source": d.source,
            "design": d.design,
            "k": d.k,
            "k_zero_cell": int(d.zero_cell.sum()),
            "sha256": hashlib.sha256(d.to_frame().to_csv(index=False).encode()).hexdigest(),
        }
        if isinstance(d, TwoArmData):
            out["k_double_zero"] = int(d.double_zero.sum())
            out["patients"] = int(d.treatment_total.sum() + d.control_total.sum())
        else:
            out["patients"] = int(d.total.sum())
        return out

    def studies(self) -> list[dict[str, Any]]:
        """Per-study rows: counts, observed effect (escalc conventions), shrunken effect."""
        frame = self.data.to_frame()
        rows = []
        for record in frame.to_dict(orient="records"):
            name = str(record["study"])
            rows.append(
                {
                    **{k: _plain(v) for k, v in record.items()},
                    "observed": self.observed.get(name),
                    "shrunken": self.posterior.theta[name],
                }
            )
        return rows

    def to_dict(self) -> dict[str, Any]:
        """The JSON output (values on the model scale; see ``docs/json.md``)."""
        from bayesmeta import __version__

        return {
            "bayesmeta_version": __version__,
            "model": self.model,
            "engine": "nuts",
            "common_effect": self.common_effect,
            "scale": self.scale,
            "reference": reference_direction(self.data),
            "data": self.data_dict(),
            "priors": self.priors.to_dict(),
            "posterior": self.posterior.to_dict(),
            "diagnostics": self.diagnostics.to_dict(),
            "sampler": {
                "chains": self.fit.settings.chains,
                "draws": self.fit.settings.draws,
                "tune": self.fit.settings.tune,
                "seed": self.fit.settings.seed,
                "target_accept": self.fit.settings.target_accept,
            },
            "frequentist": self.frequentist,
            "studies": self.studies(),
            "environment": _environment(),
        }


def _plain(value: Any) -> Any:
    """numpy scalars -> Python scalars for JSON."""
    return value.item() if isinstance(value, np.generic) else value


def reference_direction(data: StudyData) -> str:
    """What the effect measures and which way it points."""
    if isinstance(data, TwoArmData):
        return "odds ratio of an event, treatment vs control (OR < 1: fewer events on treatment)"
    return "proportion of patients with the event (logit scale for mu and tau)"


def _environment() -> dict[str, str]:
    from importlib.metadata import version

    out = {"python": platform.python_version()}
    for pkg in ("pymc", "nutpie", "arviz", "numpy", "scipy"):
        out[pkg] = version(pkg)
    return out


def observed_effects(data: StudyData) -> dict[str, dict[str, Any]]:
    """Each study's own estimate with its 95% Wald CI, as metafor's ``escalc`` gives it.

    Log odds ratios for two-arm data, logit proportions for single-arm data; 0.5 is added to
    the cells of studies with a zero cell (marked ``corrected``). Studies without an estimate
    (double-zero) are absent.
    """
    measure = "OR" if isinstance(data, TwoArmData) else "PLO"
    es = effect_sizes(data, measure=measure)
    se = np.sqrt(es.vi)
    out = {}
    for name, y, s in zip(es.study, es.yi, se, strict=True):
        out[name] = {
            "estimate": float(y),
            "se": float(s),
            "ci95": [float(y - 1.959963984540054 * s), float(y + 1.959963984540054 * s)],
            "corrected": name in es.corrected,
        }
    return out


def frequentist_blocks(data: StudyData, methods: tuple[str, ...] | None = None) -> dict[str, Any]:
    """The frequentist comparison (see :func:`bayesmeta.frequentist.classic`) as JSON blocks."""
    from bayesmeta.frequentist import classic

    blocks = classic(data, methods=list(methods) if methods else None)
    return {k: (v.to_dict() if hasattr(v, "to_dict") else v) for k, v in blocks.items()}


def analyze(
    data: StudyData,
    *,
    model: str = "auto",
    priors: PriorSet | None = None,
    settings: SamplerSettings | None = None,
    common_effect: bool = False,
    hdi: bool = False,
    frequentist: tuple[str, ...] | None = None,
) -> AnalysisResult:
    """Fit the Bayesian model to ``data`` and put the frequentist estimates beside it.

    Parameters
    ----------
    data
        Validated data from :func:`bayesmeta.load`.
    model
        ``"binomial-normal"`` (two-arm counts), ``"proportion"`` (single-arm) or ``"auto"``.
    priors, settings
        Priors and NUTS settings (defaults: :class:`PriorSet`, :class:`SamplerSettings`).
    common_effect
        Fit the common-effect (tau = 0) variant.
    hdi
        Also report 95% highest-density intervals.
    frequentist
        Methods for the frequentist comparison (block names of ``classic``); None: all.
    """
    from bayesmeta import fitting, models, summaries

    model = resolve_model(data, model)
    priors = priors or default_priors(model)
    if isinstance(data, TwoArmData):
        pm_model = models.binomial_normal(data, priors=priors, common_effect=common_effect)
        scale = "log_odds_ratio"
    else:
        pm_model = models.proportion(data, priors=priors, common_effect=common_effect)
        scale = "logit_proportion"
    result = fitting.fit(pm_model, settings)
    return AnalysisResult(
        model=model,
        data=data,
        priors=priors,
        common_effect=common_effect,
        posterior=summaries.summarize(result.idata, scale=scale, hdi=hdi),
        diagnostics=result.diagnostics,
        frequentist=frequentist_blocks(data, frequentist),
        observed=observed_effects(data),
        fit=result,
    )
