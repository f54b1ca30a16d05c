"""PyMC model builders, each returning a plain :class:`pymc.Model` for research code to extend,
and :func:`sample`, which samples them (or any PyMC model) fast.

Each builder describes the model (:class:`~bayesmeta.model.description.ModelSpec`) and builds
it with :func:`bayesmeta.engines.pymc.build`. Priors are a
:class:`~bayesmeta.model.priors.PriorSet` or a mapping of ``mu``, ``tau``, ``baseline`` to a
:class:`~bayesmeta.model.priors.Prior` or prior text (``{"tau": "half-cauchy(0.5)"}``); priors
not given are the model's defaults (``docs/priors.md``).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import pymc as pm
from xarray import DataTree

from bayesmeta.engines import nuts
from bayesmeta.engines.pymc import build
from bayesmeta.io.counts import SingleArmData, StudyData, TwoArmData
from bayesmeta.io.reported import ReportedEffects
from bayesmeta.model.description import ModelSpec
from bayesmeta.model.likelihoods.binomial_normal import BinomialNormal
from bayesmeta.model.likelihoods.normal_normal import NormalNormal
from bayesmeta.model.likelihoods.proportion import Proportion
from bayesmeta.model.moderators import Moderators
from bayesmeta.model.priors import Prior, PriorSet

Priors = PriorSet | Mapping[str, Prior | str] | None

__all__ = ["binomial_normal", "normal_normal", "proportion", "sample"]


def _model(
    likelihood: str,
    data: StudyData | ReportedEffects,
    priors: Priors,
    common_effect: bool,
    moderators: Moderators | None,
) -> pm.Model:
    spec = ModelSpec.describe(
        data,
        model=likelihood,
        priors=priors,
        common_effect=common_effect,
        moderators=moderators,
    )
    return build(spec)


def binomial_normal(
    data: TwoArmData,
    *,
    priors: Priors = None,
    common_effect: bool = False,
    moderators: Moderators | None = None,
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
        Validated two-arm counts (:func:`bayesmeta.load`).
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

    Returns
    -------
    pymc.Model
        With a ``study`` coordinate and the variables ``alpha``, ``mu``, ``tau``, ``z``,
        ``z_new``, ``theta`` and ``theta_new``. Every datum is a ``pm.Data`` container
        (``treatment_total``, ``control_total``, ``treatment_events_data``,
        ``control_events_data``), so ``pm.set_data`` swaps in another dataset of the same size.
    """
    return _model(BinomialNormal.name, data, priors, common_effect, moderators)


def proportion(
    data: SingleArmData,
    *,
    priors: Priors = None,
    common_effect: bool = False,
    moderators: Moderators | None = None,
) -> pm.Model:
    """Binomial-normal (random-intercept logistic) model for single-arm proportions.

    ``logit p[i] = theta[i] = mu + tau * z[i]``; ``mu`` is the pooled logit proportion and
    ``theta_new`` the logit proportion in a new study (Hamza et al. 2008, J Clin Epidemiol
    61:41-51; metafor ``rma.glmm(measure = "PLO")``). Other arguments as
    :func:`binomial_normal`.
    """
    return _model(Proportion.name, data, priors, common_effect, moderators)


def normal_normal(
    data: StudyData | ReportedEffects,
    *,
    priors: Priors = None,
    common_effect: bool = False,
    moderators: Moderators | None = None,
) -> pm.Model:
    """Normal-normal hierarchical model on study estimates with their variances.

    ``y[i] ~ N(theta[i], v[i])``, ``theta[i] = mu + tau * z[i]``, on reported effects, or on
    the escalc log odds ratios (logits) of counts with double-zero studies left out
    (:func:`bayesmeta.model.description.normal_inputs`). The exact engine
    (:mod:`bayesmeta.engines.exact`) computes the same posterior by quadrature; this builder is
    the NUTS twin, for research code that extends the model. Other arguments as
    :func:`binomial_normal`.
    """
    return _model(NormalNormal.name, data, priors, common_effect, moderators)


def sample(
    model: ModelSpec | pm.Model,
    *,
    draws: int = 2000,
    tune: int = 1000,
    chains: int = 4,
    seed: int = 1,
    target_accept: float | None = None,
    cores: int | None = None,
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
        A ``pymc.Model`` or a :class:`~bayesmeta.model.description.ModelSpec`.
    draws, tune, chains
        Draws per chain after tuning, tuning steps, chains.
    seed
        Random seed (0 to 2**32 - 1); the same seed gives the same draws.
    target_accept
        NUTS target acceptance rate; None: 0.99 for builder models with covariates
        (meta-regression: small residual heterogeneity makes a funnel that 0.9 crosses with
        divergences on bcg ~ ablat), 0.9 otherwise.
    cores
        Threads for the chains (None: all cores).

    Returns
    -------
    xarray.DataTree
        ``posterior``, ``sample_stats``, ``observed_data``, ``constant_data``; the root
        attributes record the convergence checks.
    """
    settings = nuts.SamplerSettings(
        chains=chains, draws=draws, tune=tune, seed=seed, target_accept=target_accept, cores=cores
    ).for_model(model)
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
    if not diag.converged:
        warnings.warn(
            f"the draws did not converge ({'; '.join(diag.problems)}): do not use them as they "
            "are; raise target_accept or tune, or reparameterise the model",
            nuts.ConvergenceWarning,
            stacklevel=2,
        )
    return idata
