"""bayesmeta: Bayesian meta-analysis of clinical studies.

Exact binomial-normal hierarchical models in PyMC, beside the frequentist estimators
(Mantel-Haenszel, inverse-variance, DerSimonian-Laird ...) that reviewers expect, matched to
R metafor. The public API is listed in ``__all__``; its functions load their modules on first
use, so ``import bayesmeta`` is quick and imports no PyMC.

    >>> import bayesmeta
    >>> data = bayesmeta.load_example("bcg")
    >>> result = bayesmeta.analyze(data, seed=1)        # doctest: +SKIP
    >>> result.summary()                                 # doctest: +SKIP
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

from bayesmeta.errors import BayesmetaError, DataError, OptionError

# public name -> module that defines it
_PUBLIC = {
    "load": "bayesmeta.io.inputs",
    "load_example": "bayesmeta.io.examples",
    "analyze": "bayesmeta.workflows.analyze",
    "average": "bayesmeta.workflows.average",
    "bias": "bayesmeta.workflows.bias",
    "from_draws": "bayesmeta.workflows.analyze",
    "AnalysisResult": "bayesmeta.workflows.analyze",
    "classic": "bayesmeta.frequentist.classic",
    "ClassicResult": "bayesmeta.frequentist.classic",
    "sample": "bayesmeta.models",
    "SamplerSettings": "bayesmeta.engines.nuts",
    "ConvergenceWarning": "bayesmeta.engines.nuts",
    "Prior": "bayesmeta.model.priors",
    "PriorSet": "bayesmeta.model.priors",
    "parse_prior": "bayesmeta.model.priors",
    "ModelSpec": "bayesmeta.model.description",
    "moderators": "bayesmeta.model.moderators",
    "TwoArmData": "bayesmeta.io.counts",
    "SingleArmData": "bayesmeta.io.counts",
    "ReportedEffects": "bayesmeta.io.reported",
    "MixedData": "bayesmeta.io.mixed",
    "NetworkData": "bayesmeta.io.network",
    "load_network": "bayesmeta.io.network",
    "network": "bayesmeta.workflows.network",
    "NetworkResult": "bayesmeta.workflows.network",
    "influence": "bayesmeta.workflows.influence",
    "prior_sensitivity": "bayesmeta.workflows.sensitivity",
    "robustness": "bayesmeta.workflows.robustness",
    "turner_prior": "bayesmeta.model.priors",
    "turner_table": "bayesmeta.workflows.sensitivity",
}
_MODULES = ("models", "plots")

__all__ = [
    "AnalysisResult",
    "BayesmetaError",
    "ClassicResult",
    "ConvergenceWarning",
    "DataError",
    "MixedData",
    "ModelSpec",
    "NetworkData",
    "NetworkResult",
    "OptionError",
    "Prior",
    "PriorSet",
    "ReportedEffects",
    "SamplerSettings",
    "SingleArmData",
    "TwoArmData",
    "__version__",
    "analyze",
    "average",
    "bias",
    "classic",
    "from_draws",
    "influence",
    "load",
    "load_example",
    "load_network",
    "models",
    "moderators",
    "network",
    "parse_prior",
    "plots",
    "prior_sensitivity",
    "robustness",
    "sample",
    "turner_prior",
    "turner_table",
]

if TYPE_CHECKING:
    from bayesmeta import models, plots
    from bayesmeta.engines.nuts import ConvergenceWarning, SamplerSettings
    from bayesmeta.frequentist.classic import ClassicResult, classic
    from bayesmeta.io.counts import SingleArmData, TwoArmData
    from bayesmeta.io.examples import load_example
    from bayesmeta.io.inputs import load
    from bayesmeta.io.mixed import MixedData
    from bayesmeta.io.network import NetworkData, load_network
    from bayesmeta.io.reported import ReportedEffects
    from bayesmeta.model.description import ModelSpec
    from bayesmeta.model.moderators import moderators
    from bayesmeta.model.priors import Prior, PriorSet, parse_prior, turner_prior
    from bayesmeta.models import sample
    from bayesmeta.workflows.analyze import AnalysisResult, analyze, from_draws
    from bayesmeta.workflows.average import average
    from bayesmeta.workflows.bias import bias
    from bayesmeta.workflows.influence import influence
    from bayesmeta.workflows.network import NetworkResult, network
    from bayesmeta.workflows.robustness import robustness
    from bayesmeta.workflows.sensitivity import prior_sensitivity, turner_table


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from bayesmeta.io.output import package_version

        value: Any = package_version()
    elif name in _PUBLIC:
        value = getattr(import_module(_PUBLIC[name]), name)
    elif name in _MODULES:
        value = import_module(f"bayesmeta.{name}")
    else:
        raise AttributeError(f"module 'bayesmeta' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
