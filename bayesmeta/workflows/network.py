"""Network meta-analysis: arm-level data -> TSD2's model sampled by nutpie -> its summaries.

:func:`network` is the API (``bayesmeta.network``) and what ``bayesmeta network`` runs: it
reads and checks the network (:mod:`bayesmeta.io.network`), builds TSD2's binomial-logit
model (:mod:`bayesmeta.engines.network`), samples it with NUTS (nutpie, through
:func:`bayesmeta.engines.nuts.fit`, convergence judged on ``d``, ``tau`` and the study
baselines) and summarises the draws (:mod:`bayesmeta.summaries.network`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from bayesmeta.engines.nuts import Fit, SamplerSettings
from bayesmeta.errors import BayesmetaError, OptionError
from bayesmeta.frequentist.network import NetworkFit, network_meta_analysis
from bayesmeta.io.network import NetworkData, load_network
from bayesmeta.model.likelihoods.network import PRIOR_SETS, NetworkBinomial
from bayesmeta.model.priors import Prior, PriorSet
from bayesmeta.summaries.network import Interval, NetworkSummary, deviance_fit, summarise


@dataclass(frozen=True)
class UmeFit:
    """The unrelated mean effects model (:func:`bayesmeta.engines.network.build_ume`) fitted
    beside the consistency model: its NUTS fit, residual deviance ``Dbar``, ``pD`` and DIC
    (TSD4: a consistency model whose DIC is close to or below the UME model's shows no
    evidence of inconsistency)."""

    fit: Fit
    resdev: float
    p_d: float

    @property
    def dic(self) -> float:
        """``Dbar + pD``."""
        return self.resdev + self.p_d

    def to_dict(self) -> dict[str, Any]:
        """The JSON ``ume`` block (docs/json.md)."""
        return {
            "residual_deviance": self.resdev,
            "pD": self.p_d,
            "DIC": self.dic,
            "diagnostics": self.fit.diagnostics.to_dict(),
        }


def ume(
    data: NetworkData,
    priors: PriorSet,
    *,
    common_effect: bool = False,
    settings: SamplerSettings | None = None,
) -> UmeFit:
    """Fit the UME model of ``data`` with NUTS (convergence judged on ``d``, ``alpha`` and
    ``tau``) and its residual deviance, pD and DIC (as the consistency model's)."""
    from bayesmeta.engines import network as engine
    from bayesmeta.engines import nuts

    model = engine.build_ume(data, priors, common_effect=common_effect)
    names = ["d", "alpha"] + ([] if common_effect else ["tau"])
    fit = nuts.fit(model, settings or SamplerSettings(), var_names=names)
    resdev, p_d = deviance_fit(fit.draws.posterior, data)
    return UmeFit(fit, resdev, p_d)


@dataclass(frozen=True)
class NodeSplit:
    """A node-split of the comparison ``treatment`` vs ``versus`` (Dias et al. 2010): the
    posteriors of its direct and indirect log odds ratios and of their difference, with the
    Bayesian p-value ``2 min(P(difference > 0), P(difference < 0))``."""

    treatment: str
    versus: str
    direct: Interval
    indirect: Interval
    difference: Interval
    p_value: float
    fit: Fit


def node_split(
    data: NetworkData,
    treatment: str,
    versus: str,
    priors: PriorSet,
    *,
    common_effect: bool = False,
    settings: SamplerSettings | None = None,
    level: float = 0.95,
) -> NodeSplit:
    """Fit the node-splitting model of ``treatment`` vs ``versus`` with NUTS (the baseline of
    the studies holding both is ``versus``; :func:`bayesmeta.engines.network.build_node_split`).
    """
    import numpy as np

    from bayesmeta.engines import network as engine
    from bayesmeta.engines import nuts

    code = {t: i for i, t in enumerate(data.treatments)}
    for name in (treatment, versus):
        if name not in code:
            raise OptionError(f"{name!r} is not a treatment of the network")
    pair = (code[versus], code[treatment])
    if pair[::-1] not in data.edges() and pair not in data.edges():
        raise OptionError(f"no study compares {treatment} with {versus}: nothing to split")
    split = engine.split_baseline(data, pair)
    model = engine.build_node_split(split, pair, priors, common_effect=common_effect)
    names = ["d", "direct", "alpha"] + ([] if common_effect else ["tau"])
    fit = nuts.fit(model, settings or SamplerSettings(), var_names=names)
    post = fit.draws.posterior
    flat = {k: np.asarray(post[k]).ravel() for k in ("direct", "indirect", "difference")}
    diff = flat["difference"]
    p_value = float(2 * min((diff > 0).mean(), (diff < 0).mean()))
    return NodeSplit(
        treatment,
        versus,
        Interval.of(flat["direct"], level),
        Interval.of(flat["indirect"], level),
        Interval.of(diff, level),
        p_value,
        fit,
    )


@dataclass(frozen=True)
class NetworkResult:
    """A fitted network meta-analysis: data, priors, the NUTS fit and its summaries, and
    beside them the frequentist contrast-based NMA (metafor's ``rma.mv``; None where it cannot
    be computed)."""

    data: NetworkData
    priors: PriorSet
    common_effect: bool
    fit: Fit
    summary: NetworkSummary
    frequentist: NetworkFit | None = None
    ume: UmeFit | None = None

    @property
    def converged(self) -> bool:
        """The draws (and the UME model's, if fitted) pass the convergence checks (R-hat,
        ESS, divergences)."""
        ume_ok = self.ume is None or self.ume.fit.diagnostics.converged
        return self.fit.diagnostics.converged and ume_ok

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``bayesmeta network --json`` (docs/json.md)."""
        from bayesmeta.workflows.analyze import _environment

        lik = NetworkBinomial()
        settings = self.fit.settings
        priors = {
            "d": str(self.priors.mu),
            "tau": None if self.common_effect else str(self.priors.tau),
            "baseline": str(self.priors.baseline),
        }
        out = {
            "bayesmeta_version": _environment()["bayesmeta"],
            "environment": _environment(),
            "model": lik.name,
            "engine": "nuts",
            "common_effect": self.common_effect,
            "scale": "log_odds_ratio",
            "data": {
                "source": self.data.source,
                "design": lik.design,
                "k": self.data.k,
                **lik.data_block(self.data),
            },
            "priors": priors,
            "sampler": {
                "chains": settings.chains,
                "draws": settings.draws,
                "tune": settings.tune,
                "seed": settings.seed,
                "target_accept": settings.target_accept,
            },
            "diagnostics": self.fit.diagnostics.to_dict(),
            "network": self.summary.to_dict(),
            "frequentist": None if self.frequentist is None else self.frequentist.to_dict(),
        }
        if self.ume is not None:
            out["ume"] = self.ume.to_dict()
        return out


def frequentist_network(
    data: NetworkData, *, common_effect: bool = False, level: float = 0.95
) -> NetworkFit | None:
    """The frequentist NMA of ``data`` against its reference: REML (``EE`` for the
    common-effect model), as metafor's ``rma.mv``; None where it cannot be computed."""
    arms = pd.DataFrame(
        {
            "study": [data.study[i] for i in data.arm_study],
            "treatment": [data.treatments[j] for j in data.arm_treatment],
            "events": data.events,
            "total": data.total,
        }
    )
    method = "EE" if common_effect else "REML"
    try:
        return network_meta_analysis(arms, data.treatments[0], method=method, level=level)
    except BayesmetaError:
        return None


def network_priors(
    priors: str | PriorSet | Mapping[str, Prior | str | None] | None = None,
) -> PriorSet:
    """The priors of a network model: a named set (``"default"``, ``"tsd2"``), a PriorSet, or
    a mapping of some of ``d`` (alias ``mu``), ``tau``, ``baseline`` over the defaults."""
    if priors is None:
        return PRIOR_SETS["default"]
    if isinstance(priors, PriorSet):
        return priors
    if isinstance(priors, str):
        if priors not in PRIOR_SETS:
            raise OptionError(
                f"unknown prior set {priors!r}; choose one of {', '.join(PRIOR_SETS)}"
            )
        return PRIOR_SETS[priors]
    given = dict(priors)
    if "d" in given:
        given["mu"] = given.pop("d")
    return PriorSet.of(given)


def network(
    data: NetworkData | pd.DataFrame | str | Path,
    *,
    reference: str | None = None,
    priors: str | PriorSet | Mapping[str, Prior | str | None] | None = None,
    common_effect: bool = False,
    higher_is_better: bool = False,
    settings: SamplerSettings | None = None,
    seed: int | None = None,
    ci_level: float = 0.95,
    fit_ume: bool = False,
) -> NetworkResult:
    """Bayesian network meta-analysis of arm-level binary data (NICE DSU TSD2).

    Parameters
    ----------
    data
        :class:`~bayesmeta.io.network.NetworkData`, or a file / DataFrame with one row per arm
        (``study, treatment, events, total``).
    reference
        The reference treatment (None: the most connected); ignored for NetworkData.
    priors
        ``"default"`` (``d ~ normal(0, 2.82)``, ``tau ~ half-normal(0.5)``, baselines
        ``normal(0, 10)``), ``"tsd2"`` (TSD2's ``normal(0, 100)``, ``uniform(0, 5)``,
        ``normal(0, 100)``), a PriorSet (``mu`` is the prior of each ``d``) or a mapping.
    common_effect
        The fixed-effect model (TSD2 program 1(b)): ``tau = 0``.
    higher_is_better
        The events are wanted (rank 1 = the highest odds); else harmful (the lowest).
    settings, seed
        NUTS settings; ``seed`` replaces the settings' seed.
    ci_level
        Level of the equal-tailed intervals.
    fit_ume
        Also fit the unrelated mean effects model (:func:`ume`, same priors and settings) to
        compare its fit with the consistency model's.

    Raises
    ------
    BayesmetaError
        Bad data (one line naming row and column) or options.
    """
    from dataclasses import replace

    from bayesmeta.engines import network as engine
    from bayesmeta.engines import nuts

    if not 0 < ci_level < 1:
        raise OptionError(f"ci_level must be between 0 and 1, got {ci_level}")
    if not isinstance(data, NetworkData):
        data = load_network(data, reference=reference)
    chosen = network_priors(priors)
    chosen.check_for_sampler()
    settings = settings or SamplerSettings()
    if seed is not None:
        settings = replace(settings, seed=seed)
    model = engine.build(data, chosen, common_effect=common_effect)
    names = ["d", "alpha"] + ([] if common_effect else ["tau"])
    fit = nuts.fit(model, settings, var_names=names)
    summary = summarise(
        fit.draws.posterior,
        data,
        higher_is_better=higher_is_better,
        level=ci_level,
        seed=fit.settings.seed,
    )
    frequentist = frequentist_network(data, common_effect=common_effect, level=ci_level)
    inconsistency = (
        ume(data, chosen, common_effect=common_effect, settings=settings) if fit_ume else None
    )
    return NetworkResult(data, chosen, common_effect, fit, summary, frequentist, inconsistency)
