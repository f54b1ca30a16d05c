"""PyMC model builders, each returning a plain :class:`pymc.Model` for research code to extend,
and :func:`sample`, which samples them (or any PyMC model) fast.

Each builder describes the model (:class:`~bayesmeta.model.description.ModelSpec`) and builds
it with :func:`bayesmeta.engines.pymc.build`. Priors are a
:class:`~bayesmeta.model.priors.PriorSet` or a mapping of ``mu``, ``tau``, ``baseline``, ``nu`` to a
:class:`~bayesmeta.model.priors.Prior` (also as PyMC writes it, ``Prior("HalfNormal",
sigma=0.5)``) or prior text (``{"tau": "half-cauchy(0.5)"}``); priors not given are the model's
defaults (``docs/priors.md``). Data are what :func:`bayesmeta.load` returns or reads (a
DataFrame, a path).

    >>> import bayesmeta as bm
    >>> from bayesmeta import Prior
    >>> model = bm.models.binomial_normal(
    ...     "examples/bcg.csv", priors={"tau": Prior("HalfNormal", sigma=0.5)}
    ... )  # doctest: +SKIP
    >>> idata = bm.sample(model, random_seed=1)  # doctest: +SKIP
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import pymc as pm
from xarray import DataTree

from bayesmeta.engines import nuts
from bayesmeta.engines.pymc import build
from bayesmeta.io.counts import SingleArmData, StudyData, TwoArmData
from bayesmeta.io.mixed import MixedData
from bayesmeta.io.reported import ReportedEffects
from bayesmeta.model.description import ModelSpec
from bayesmeta.model.likelihoods.binomial_normal import BinomialNormal
from bayesmeta.model.likelihoods.mixed import MixedBinomialNormal
from bayesmeta.model.likelihoods.normal_normal import NormalNormal
from bayesmeta.model.likelihoods.proportion import Proportion
from bayesmeta.model.moderators import Moderators
from bayesmeta.model.priors import Prior, PriorSet

Priors = PriorSet | Mapping[str, Prior | str] | None

__all__ = ["binomial_normal", "mixed", "normal_normal", "proportion", "sample"]


Data = StudyData | ReportedEffects | MixedData | pd.DataFrame | str | Path


def _model(
    likelihood: str,
    data: Data,
    priors: Priors,
    common_effect: bool,
    moderators: Moderators | None,
    random_effects: str,
) -> pm.Model:
    from bayesmeta.workflows.analyze import as_data

    spec = ModelSpec.describe(
        as_data(data),
        model=likelihood,
        priors=priors,
        common_effect=common_effect,
        moderators=moderators,
        random_effects=random_effects,
    )
    return build(spec)


def binomial_normal(
    data: TwoArmData | pd.DataFrame | str | Path,
    *,
    priors: Priors = None,
    common_effect: bool = False,
    moderators: Moderators | None = None,
    random_effects: str = "normal",
) -> pm.Model:
    """Binomial-normal hierarchical model for 2x2 counts, fixed study baselines.

    ``logit p_c[i] = alpha[i]``, ``logit p_t[i] = alpha[i] + theta[i]``,
    ``theta[i] = mu + tau * z[i]``, ``z[i] ~ N(0, 1)``, with priors on ``alpha`` (each study's
    control-arm log odds), ``mu`` (pooled log odds ratio, treatment vs control) and ``tau``
    (between-study SD of the log odds ratio). ``theta_new ~ N(mu, tau^2)`` is the log odds ratio
    in a new study. This is model 4 of Jackson et al. 2018 (Stat Med 37:1059-1085), the
    "UM.FS" model of metafor's ``rma.glmm``, and MetaStan's binomial-normal model.

    Zero cells and double-zero studies need no continuity correction: the binomial likelihood
    uses the counts as they are.

    Parameters
    ----------
    data
        Validated two-arm counts (:func:`bayesmeta.load`), or what ``load`` reads: a
        DataFrame or a path.
    priors
        Priors on ``mu``, ``tau`` and ``baseline`` (``alpha``); see the module docstring.
    common_effect
        If true, ``tau = 0``: every study shares the log odds ratio ``mu``.
    moderators
        Covariates (meta-regression, ``beta``) and/or subgroups (``mu`` per subgroup); see
        :func:`bayesmeta.model.moderators.moderators`. Covariates are centred; with them,
        sample at target acceptance 0.99 (:func:`sample`'s default for such models): at
        ``pm.sample``'s 0.9 the small residual heterogeneity of bcg ~ latitude gave 67
        divergences, at 0.99 none.
    random_effects
        ``"normal"`` (``z[i] ~ N(0, 1)``) or ``"t"``: ``z[i] ~ Student-t(nu)`` with ``nu``
        (prior ``priors["nu"]``, default gamma(2, 0.1)); see
        :mod:`bayesmeta.model.random_effects`.

    Returns
    -------
    pymc.Model
        With a ``study`` coordinate and the variables ``alpha``, ``mu``, ``tau``, ``z``,
        ``z_new``, ``theta`` and ``theta_new``. Every datum is a ``pm.Data`` container
        (``treatment_total``, ``control_total``, ``treatment_events_data``,
        ``control_events_data``), so ``pm.set_data`` swaps in another dataset of the same size.
    """
    return _model(BinomialNormal.name, data, priors, common_effect, moderators, random_effects)


def proportion(
    data: SingleArmData | pd.DataFrame | str | Path,
    *,
    priors: Priors = None,
    common_effect: bool = False,
    moderators: Moderators | None = None,
    random_effects: str = "normal",
) -> pm.Model:
    """Binomial-normal (random-intercept logistic) model for single-arm proportions.

    ``logit p[i] = theta[i] = mu + tau * z[i]``; ``mu`` is the pooled logit proportion and
    ``theta_new`` the logit proportion in a new study (Hamza et al. 2008, J Clin Epidemiol
    61:41-51; metafor ``rma.glmm(measure = "PLO")``). Other arguments as
    :func:`binomial_normal`.
    """
    return _model(Proportion.name, data, priors, common_effect, moderators, random_effects)


def mixed(
    data: MixedData | pd.DataFrame | str | Path,
    *,
    priors: Priors = None,
    common_effect: bool = False,
    moderators: Moderators | None = None,
    random_effects: str = "normal",
) -> pm.Model:
    """Counts and reported odds ratios in one model: each study its own likelihood.

    A study with 2x2 counts has the binomial arms of :func:`binomial_normal` with its baseline
    ``alpha[i]``; a study that reported only an odds ratio (CI or SE) has
    ``y[i] ~ N(theta[i], se[i]^2)`` on its log odds ratio; all share
    ``theta[i] = mu + tau * z[i]`` (:mod:`bayesmeta.model.likelihoods.mixed`; Dias et al.,
    NICE DSU TSD 2, section 3.3). Data are a mixed table (:mod:`bayesmeta.io.mixed`).

    Returns
    -------
    pymc.Model
        The variables of :func:`binomial_normal` (a reported study's ``alpha[i]`` has no data:
        it stays at its prior) and the observed ``y``, whose log density is weighted by the
        ``reported`` container (1 for reported studies, 0 for count studies, whose arms are
        ``treatment_events_data``...; a reported study's arms have 0 patients). Other
        arguments as :func:`binomial_normal`.
    """
    return _model(MixedBinomialNormal.name, data, priors, common_effect, moderators, random_effects)


def normal_normal(
    data: Data,
    *,
    priors: Priors = None,
    common_effect: bool = False,
    moderators: Moderators | None = None,
    random_effects: str = "normal",
) -> pm.Model:
    """Normal-normal hierarchical model on study estimates with their variances.

    ``y[i] ~ N(theta[i], v[i])``, ``theta[i] = mu + tau * z[i]``, on reported effects, or on
    the escalc log odds ratios (logits) of counts with double-zero studies left out
    (:func:`bayesmeta.model.description.normal_inputs`). The exact engine
    (:mod:`bayesmeta.engines.exact`) computes the same posterior by quadrature; this builder is
    the NUTS twin, for research code that extends the model. Other arguments as
    :func:`binomial_normal`.
    """
    return _model(NormalNormal.name, data, priors, common_effect, moderators, random_effects)


def sample(
    model: ModelSpec | pm.Model | None = None,
    *,
    draws: int = 2000,
    tune: int = 1000,
    chains: int = 4,
    seed: int | None = None,
    random_seed: int | None = None,
    target_accept: float | None = None,
    cores: int | None = None,
    progressbar: bool = False,
    idata_kwargs: Mapping[str, Any] | None = None,
    **unsupported: Any,
) -> DataTree:
    """Draw from the posterior of a PyMC model (or a model description), as ``pm.sample`` does.

    A model from the builders above left unchanged (data swapped in with ``pm.set_data``
    included) is sampled through the cached kernels; any other model is compiled once per
    structure in this process and reused for later models of the same structure on new data
    (:func:`bayesmeta.engines.nuts.compile_model`). Draws that fail the convergence checks
    (R-hat <= 1.01, bulk and tail ESS >= 400, no divergence) raise a
    :class:`~bayesmeta.engines.nuts.ConvergenceWarning` naming the problems; they are
    returned all the same.

    Parameters
    ----------
    model
        A ``pymc.Model`` or a :class:`~bayesmeta.model.description.ModelSpec`; None: the
        model of the enclosing ``with pm.Model():`` block, as ``pm.sample`` takes it.
    draws, tune, chains
        Draws per chain after tuning, tuning steps, chains.
    seed, random_seed
        Random seed (0 to 2**32 - 1; ``random_seed`` is ``pm.sample``'s name for it, give
        one of them); the same seed gives the same draws. None: 1.
    target_accept
        NUTS target acceptance rate; None: 0.99 for builder models with covariates
        (meta-regression: small residual heterogeneity makes a funnel that 0.9 crosses with
        divergences on bcg ~ ablat), 0.9 otherwise.
    cores
        Threads for the chains (None: all cores).
    progressbar
        Show the chains' progress on a terminal.
    idata_kwargs
        ``{"log_likelihood": True}`` adds a ``log_likelihood`` group (each observed
        variable's pointwise log likelihood, as ``pm.sample`` gives it), for
        ``arviz_stats.loo``; no other key is supported.

    Returns
    -------
    xarray.DataTree
        ``posterior``, ``sample_stats``, ``observed_data``, ``constant_data`` (and
        ``log_likelihood`` if asked); the root attributes record the convergence checks.

    Raises
    ------
    TypeError
        An argument of ``pm.sample`` that this function cannot honour (``step``, ``init``,
        ``nuts_sampler``...), named; a model that is neither a ``pymc.Model`` nor a
        description; no model given outside a ``with`` block.

    Examples
    --------
    >>> import pymc as pm
    >>> import bayesmeta as bm
    >>> with bm.models.binomial_normal(bm.load_example("bcg")):  # doctest: +SKIP
    ...     idata = bm.sample(random_seed=1, idata_kwargs={"log_likelihood": True})
    """
    if unsupported:
        raise TypeError(_unsupported(unsupported))
    model = _the_model(model)
    log_likelihood = _log_likelihood_asked(idata_kwargs)
    if seed is not None and random_seed is not None and seed != random_seed:
        raise TypeError(f"give seed or random_seed, not both (got {seed} and {random_seed})")
    chosen = random_seed if random_seed is not None else seed
    from bayesmeta import progress

    settings = nuts.SamplerSettings(
        chains=chains,
        draws=draws,
        tune=tune,
        seed=1 if chosen is None else chosen,
        target_accept=target_accept,
        cores=cores,
    ).for_model(model)
    with progress.shown(bool(progressbar)):
        idata, seconds = nuts.draw(model, settings)
    diag = nuts.diagnose(idata, seconds=seconds, settings=settings)
    idata.attrs.update(
        {
            "bayesmeta_converged": int(diag.converged),
            "bayesmeta_rhat_max": diag.rhat_max,
            "bayesmeta_ess_bulk_min": diag.ess_bulk_min,
            "bayesmeta_ess_tail_min": diag.ess_tail_min,
            "bayesmeta_divergences": diag.divergences,
        }
    )
    if log_likelihood:
        pm_model = build(model) if isinstance(model, ModelSpec) else model
        pm.compute_log_likelihood(idata, model=pm_model, progressbar=False)
    if not diag.converged:
        warnings.warn(
            f"the draws did not converge ({'; '.join(diag.problems)}): do not use them as they "
            "are; raise target_accept or tune, or reparameterise the model",
            nuts.ConvergenceWarning,
            stacklevel=2,
        )
    return idata


def _the_model(model: Any) -> ModelSpec | pm.Model:
    """``model``, or the model of the enclosing ``with`` block when None; else TypeError."""
    if model is None:
        try:
            return pm.modelcontext(None)
        except TypeError:
            raise TypeError(
                "no model to sample: pass one (bm.sample(model)) or call bm.sample inside "
                "`with model:`"
            ) from None
    if not isinstance(model, ModelSpec | pm.Model):
        raise TypeError(
            "sample takes a pymc.Model or a bayesmeta ModelSpec as its first argument "
            f"(draws, tune, ... by keyword), got {type(model).__name__} {model!r:.40}"
        )
    return model


def _log_likelihood_asked(idata_kwargs: Mapping[str, Any] | None) -> bool:
    """Whether ``idata_kwargs`` asks for the log likelihood; TypeError for any other key."""
    given = dict(idata_kwargs or {})
    other = sorted(set(given) - {"log_likelihood"})
    if other:
        raise TypeError(
            f"bayesmeta.sample cannot honour idata_kwargs {', '.join(map(repr, other))}; "
            "it supports only log_likelihood"
        )
    return bool(given.get("log_likelihood", False))


def _unsupported(given: Mapping[str, Any]) -> str:
    """The message for keyword arguments sample does not take, naming pm.sample's ones."""
    import inspect

    of_pymc = set(inspect.signature(pm.sample).parameters)
    honoured = [n for n in given if n in of_pymc]
    unknown = [n for n in given if n not in of_pymc]
    parts = []
    if honoured:
        parts.append(
            f"bayesmeta.sample cannot honour pm.sample's argument(s) {', '.join(honoured)} "
            "(it samples with nutpie's NUTS; use pm.sample for these)"
        )
    if unknown:
        parts.append(f"sample() got unexpected keyword argument(s) {', '.join(unknown)}")
    return "; ".join(parts) + (
        "; it takes model, draws, tune, chains, seed/random_seed, target_accept, cores, "
        "progressbar, idata_kwargs"
    )
