"""PyMC model builders: each returns a plain :class:`pymc.Model` for research code to extend.

The builders only describe the model; sampling lives in :mod:`bayesmeta.engines.nuts`. Variables
are named alike across models (``mu``, ``tau``, ``theta``, ``theta_new``) with a ``study``
coordinate from the study names, so summaries and plots work on any of them.

All random-effects models are non-centred (``theta = mu + tau * z``), which samples without
divergences when ``tau`` is near zero, as it often is with few small studies.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from bayesmeta.io.counts import SingleArmData, TwoArmData
from bayesmeta.model.moderators import Moderators
from bayesmeta.model.priors import PriorSet, check_scale_prior

if TYPE_CHECKING:
    import pymc as pm


def _study_effects(
    priors: PriorSet, k: int, common_effect: bool, mods: Moderators | None = None
) -> pm.TensorVariable:
    """Add ``mu``, ``tau``, ``theta`` (per study) and ``theta_new`` to the current model.

    Non-centred: ``theta = mu + tau * z``, ``theta_new = mu + tau * z_new``. With
    ``common_effect`` there is no ``tau`` and every ``theta`` equals ``mu``. Moderators add
    ``beta`` (slopes of the centred covariates, so ``mu`` is the effect at their means) with
    the derived ``intercept`` (effect at covariate value 0), and subgroups give ``mu``, and
    with ``separate_tau`` also ``tau``, a ``subgroup`` dimension.
    """
    import pymc as pm

    model = pm.modelcontext(None)
    sub = mods is not None and mods.group is not None
    if sub:
        model.add_coord("subgroup", list(mods.levels))
    mu = priors.mu.to_pymc("mu", **({"dims": "subgroup"} if sub else {}))
    mu_i = mu[mods.group] if sub else mu
    if mods is not None and mods.x is not None:
        model.add_coord("covariate", list(mods.names))
        x = pm.Data("covariates", mods.x, dims=("study", "covariate"))
        beta = mods.prior_beta.to_pymc("beta", dims="covariate")
        mu_i = mu_i + pm.math.dot(x, beta)
        pm.Deterministic(
            "intercept",
            mu - pm.math.dot(np.asarray(mods.centers), beta),
            **({"dims": "subgroup"} if sub else {}),
        )
    new_dims = {"dims": "subgroup"} if sub else {}
    if common_effect:
        pm.Deterministic("theta_new", mu, **new_dims)
        return pm.Deterministic("theta", mu_i + pm.math.zeros(k), dims="study")
    separate = sub and mods.separate_tau
    tau = check_scale_prior(priors.tau).to_pymc("tau", **({"dims": "subgroup"} if separate else {}))
    tau_i = tau[mods.group] if separate else tau
    z = pm.Normal("z", 0.0, 1.0, dims="study")
    z_new = pm.Normal("z_new", 0.0, 1.0, **new_dims)
    pm.Deterministic("theta_new", mu + tau * z_new, **new_dims)
    return pm.Deterministic("theta", mu_i + tau_i * z, dims="study")


def _tag(
    model: pm.Model,
    data: TwoArmData | SingleArmData,
    priors: PriorSet,
    common_effect: bool,
    moderators: Moderators | None,
) -> None:
    """Mark ``model`` as sampleable by the disk-cached kernels of :mod:`bayesmeta.engines.kernels`
    (used by :func:`bayesmeta.engines.nuts.fit` only while the model is left unchanged; the
    kernels have no moderators, so such models go through PyTensor)."""
    from bayesmeta.engines import kernels as compiled

    if moderators is not None and not moderators.empty:
        return
    compiled.tag(model, compiled.fast_model(data, priors=priors, common_effect=common_effect))


def binomial_normal(
    data: TwoArmData,
    *,
    priors: PriorSet | None = None,
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
        Validated two-arm counts.
    priors
        Priors on ``mu``, ``tau`` and ``baseline`` (``alpha``); defaults in :class:`PriorSet`.
    common_effect
        If true, ``tau = 0``: every study shares the log odds ratio ``mu``.
    moderators
        Covariates (meta-regression, ``beta``) and/or subgroups (``mu`` per subgroup); see
        :func:`bayesmeta.model.moderators.moderators`.
    """
    import pymc as pm

    priors = priors or PriorSet()
    with pm.Model(coords={"study": list(data.study)}) as model:
        n_t = pm.Data("treatment_total", np.asarray(data.treatment_total), dims="study")
        n_c = pm.Data("control_total", np.asarray(data.control_total), dims="study")
        alpha = priors.baseline.to_pymc("alpha", dims="study")
        theta = _study_effects(priors, data.k, common_effect, moderators)
        pm.Binomial(
            "control_events", n=n_c, logit_p=alpha, observed=data.control_events, dims="study"
        )
        pm.Binomial(
            "treatment_events",
            n=n_t,
            logit_p=alpha + theta,
            observed=data.treatment_events,
            dims="study",
        )
    _tag(model, data, priors, common_effect, moderators)
    return model


def proportion(
    data: SingleArmData,
    *,
    priors: PriorSet | None = None,
    common_effect: bool = False,
    moderators: Moderators | None = None,
) -> pm.Model:
    """Binomial-normal (random-intercept logistic) model for single-arm proportions.

    ``logit p[i] = theta[i] = mu + tau * z[i]``; ``mu`` is the pooled logit proportion and
    ``theta_new`` the logit proportion in a new study (Hamza et al. 2008, J Clin Epidemiol
    61:41-51; metafor ``rma.glmm(measure = "PLO")``). ``moderators`` as in
    :func:`binomial_normal`.
    """
    import pymc as pm

    priors = priors or PriorSet()
    with pm.Model(coords={"study": list(data.study)}) as model:
        n = pm.Data("total", np.asarray(data.total), dims="study")
        theta = _study_effects(priors, data.k, common_effect, moderators)
        pm.Binomial("events", n=n, logit_p=theta, observed=data.events, dims="study")
    _tag(model, data, priors, common_effect, moderators)
    return model


def normal_normal(
    yi: np.ndarray,
    vi: np.ndarray,
    study: tuple[str, ...] | list[str],
    *,
    priors: PriorSet | None = None,
    common_effect: bool = False,
    moderators: Moderators | None = None,
) -> pm.Model:
    """Normal-normal hierarchical model on reported effects ``yi`` with variances ``vi``.

    ``y[i] ~ N(theta[i], v[i])``, ``theta[i] = mu + tau * z[i]``. The exact engine
    (:mod:`bayesmeta.engines.exact`) computes the same posterior by quadrature; this builder is the
    NUTS twin, for research code that extends the model. ``moderators`` as in
    :func:`binomial_normal`.
    """
    import pymc as pm

    priors = priors or PriorSet()
    with pm.Model(coords={"study": list(study)}) as model:
        se = pm.Data("se", np.sqrt(np.asarray(vi, dtype=float)), dims="study")
        theta = _study_effects(priors, len(study), common_effect, moderators)
        pm.Normal("y", mu=theta, sigma=se, observed=np.asarray(yi, dtype=float), dims="study")
    return model
