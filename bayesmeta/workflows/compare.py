"""Random- against common-effect model: PSIS-LOO for NUTS fits, the Bayes factor for exact ones.

Vehtari, Gelman & Gabry (2017, Stat Comput 27:1413) for PSIS-LOO, with studies as the units
left out (both arms of a two-arm study together); the exact engine's marginal likelihoods give
the Bayes factor directly.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from bayesmeta.engines.nuts import Fit
from bayesmeta.engines.pymc import LOG_LIKELIHOOD, with_log_likelihood
from bayesmeta.model.description import ModelSpec


@dataclass(frozen=True)
class BayesFactor:
    """Bayes factor of the random- against the common-effect model (exact marginals)."""

    log_bf_random_vs_common: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": "bayes_factor",
            "log_bf_random_vs_common": self.log_bf_random_vs_common,
            "bf_random_vs_common": math.exp(self.log_bf_random_vs_common),
        }


@dataclass(frozen=True)
class LooComparison:
    """PSIS-LOO of both fits and the random- minus common-effect ELPD difference with its SE."""

    elpd_loo_random: float
    elpd_loo_common: float
    se_random: float
    se_common: float
    elpd_diff_random_minus_common: float
    se_diff: float
    pareto_k_max: float
    studies_pareto_k_above_0_7: int

    def to_dict(self) -> dict[str, Any]:
        return {"method": "psis_loo", **self.__dict__}


Comparison = BayesFactor | LooComparison


def bayes_factor(lml: float, other: float, common_effect: bool) -> BayesFactor:
    """From the log marginal likelihoods of the fitted model and of the other one."""
    return BayesFactor(float((other - lml) if common_effect else (lml - other)))


def loo_comparison(spec: ModelSpec, fit: Fit, other_spec: ModelSpec, other: Fit) -> LooComparison:
    """PSIS-LOO (ArviZ) of a fit of ``spec`` and of the other effect model ``other_spec``."""
    import arviz_stats as azs

    def loo(s: ModelSpec, f: Fit) -> Any:
        with warnings.catch_warnings():  # high Pareto k is reported in the result instead
            warnings.simplefilter("ignore", UserWarning)
            return azs.loo(with_log_likelihood(s, f.idata), var_name=LOG_LIKELIHOOD)

    this, that = loo(spec, fit), loo(other_spec, other)
    random_, common = (that, this) if spec.common_effect else (this, that)
    diff_i = np.asarray(random_.elpd_i).ravel() - np.asarray(common.elpd_i).ravel()
    return LooComparison(
        elpd_loo_random=float(random_.elpd),
        elpd_loo_common=float(common.elpd),
        se_random=float(random_.se),
        se_common=float(common.se),
        elpd_diff_random_minus_common=float(diff_i.sum()),
        se_diff=float(np.sqrt(len(diff_i) * np.var(diff_i, ddof=1))),
        pareto_k_max=float(max(np.max(random_.pareto_k), np.max(common.pareto_k))),
        studies_pareto_k_above_0_7=int(
            max(
                np.sum(np.asarray(random_.pareto_k) > 0.7),
                np.sum(np.asarray(common.pareto_k) > 0.7),
            )
        ),
    )
