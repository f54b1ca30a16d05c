"""The PyMC engine: a :class:`~bayesmeta.model.description.ModelSpec` as a plain ``pm.Model``.

:func:`build` returns a model research code can extend. Variables are named alike across
likelihoods (``mu``, ``tau``, ``theta``, ``theta_new``) with a ``study`` coordinate from the
study names, so summaries and plots work on any of them. All random-effects models are
non-centred (``theta = mu + tau * z``), which samples without divergences when ``tau`` is near
zero, as it often is with few small studies.

The model remembers the description it was built from and its own structure when built;
:func:`spec_of` gives the description back only while nothing was added to or changed in the
model, so the sampler can use the cached kernels for it (:mod:`bayesmeta.engines.nuts`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from bayesmeta.model.description import ModelSpec

if TYPE_CHECKING:
    import pymc as pm

_RECORD = "bayesmeta_spec"


def _study_effects(spec: ModelSpec, k: int) -> pm.TensorVariable:
    """Add ``mu``, ``tau``, ``theta`` (per study) and ``theta_new`` to the current model.

    Non-centred: ``theta = mu + tau * z``, ``theta_new = mu + tau * z_new``. With
    ``common_effect`` there is no ``tau`` and every ``theta`` equals ``mu``. Moderators add
    ``beta`` (slopes of the centred covariates, so ``mu`` is the effect at their means) with
    the derived ``intercept`` (effect at covariate value 0), and subgroups give ``mu``, and
    with ``separate_tau`` also ``tau``, a ``subgroup`` dimension.
    """
    import pymc as pm

    priors, mods = spec.priors, spec.moderators
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
    if spec.common_effect:
        pm.Deterministic("theta_new", mu, **new_dims)
        return pm.Deterministic("theta", mu_i + pm.math.zeros(k), dims="study")
    separate = sub and mods.separate_tau
    tau = priors.tau.to_pymc("tau", **({"dims": "subgroup"} if separate else {}))
    tau_i = tau[mods.group] if separate else tau
    z = pm.Normal("z", 0.0, 1.0, dims="study")
    z_new = pm.Normal("z_new", 0.0, 1.0, **new_dims)
    pm.Deterministic("theta_new", mu + tau * z_new, **new_dims)
    return pm.Deterministic("theta", mu_i + tau_i * z, dims="study")


def build(spec: ModelSpec) -> pm.Model:
    """The PyMC model of ``spec``.

    - binomial-normal: ``logit p_c[i] = alpha[i]``, ``logit p_t[i] = alpha[i] + theta[i]``
      (Jackson et al. 2018, Stat Med 37:1059, model 4; metafor ``rma.glmm`` "UM.FS";
      MetaStan's binomial-normal model);
    - proportion: ``logit p[i] = theta[i]`` (Hamza et al. 2008, J Clin Epidemiol 61:41);
    - normal-normal: ``y[i] ~ N(theta[i], v[i])`` on :func:`~bayesmeta.model.description.
      normal_inputs`.
    """
    import pymc as pm

    study = spec.study
    with pm.Model(coords={"study": list(study)}) as model:
        data = spec.data
        if spec.likelihood == "binomial-normal":
            n_t = pm.Data("treatment_total", np.asarray(data.treatment_total), dims="study")
            n_c = pm.Data("control_total", np.asarray(data.control_total), dims="study")
            alpha = spec.priors.baseline.to_pymc("alpha", dims="study")
            theta = _study_effects(spec, len(study))
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
        elif spec.likelihood == "proportion":
            n = pm.Data("total", np.asarray(data.total), dims="study")
            theta = _study_effects(spec, len(study))
            pm.Binomial("events", n=n, logit_p=theta, observed=data.events, dims="study")
        else:
            inputs = spec.normal
            se = pm.Data("se", np.sqrt(np.asarray(inputs.v, dtype=float)), dims="study")
            theta = _study_effects(spec, len(study))
            pm.Normal("y", mu=theta, sigma=se, observed=np.asarray(inputs.y), dims="study")
    setattr(model, _RECORD, (spec, _fingerprint(model)))
    return model


def _fingerprint(model: pm.Model) -> tuple[Any, ...]:
    """What identifies the model as built: its variables, transforms, coordinates and data."""
    return (
        tuple(model.named_vars),
        tuple(v.name for v in model.value_vars),
        tuple(v.name for v in model.potentials),
        tuple((k, tuple(v)) for k, v in model.coords.items()),
        tuple((v.name, np.asarray(v.get_value()).tobytes()) for v in model.data_vars),
        tuple(
            (rv.name, np.asarray(model.rvs_to_values[rv].data).tobytes())
            for rv in model.observed_RVs
        ),
    )


def spec_of(model: Any) -> ModelSpec | None:
    """The description ``model`` was built from by :func:`build`, if it is still that model.

    None for a model not built here, or one that research code extended or changed since
    (another variable, potential, transform, coordinate or data value).
    """
    record = getattr(model, _RECORD, None)
    if record is None:
        return None
    spec, fingerprint = record
    return spec if _fingerprint(model) == fingerprint else None
