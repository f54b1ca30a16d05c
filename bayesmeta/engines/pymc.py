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

from bayesmeta.model.description import OBSERVED_SUFFIX, ModelSpec

if TYPE_CHECKING:
    import pymc as pm

_RECORD = "bayesmeta_spec"
LOG_LIKELIHOOD = "per_study"  # the one variable of the log_likelihood group


def _study_effects(spec: ModelSpec, k: int) -> pm.TensorVariable:
    """Add ``mu``, ``tau``, ``theta`` (per study) and ``theta_new`` to the current model.

    Non-centred: ``theta = mu + tau * z``, ``theta_new = mu + tau * z_new``, with ``z`` as the
    random-effects distribution says (:mod:`bayesmeta.model.random_effects`). With
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
    z, z_new = spec.effects.standardised(priors, new_dims)
    pm.Deterministic("theta_new", mu + tau * z_new, **new_dims)
    return pm.Deterministic("theta", mu_i + tau_i * z, dims="study")


def build(spec: ModelSpec) -> pm.Model:
    """The PyMC model of ``spec``: study baselines ``alpha`` (if the likelihood has them),
    the study effects (:func:`_study_effects`), then the likelihood's observed variables
    (:meth:`~bayesmeta.model.likelihoods.base.Likelihood.observe`; each likelihood's module
    says which model it is).

    Every datum is a ``pm.Data`` container (:meth:`ModelSpec.arrays`: arm sizes as
    ``treatment_total``..., observed counts as ``control_events_data``...), so ``pm.set_data``
    swaps in another dataset of the same size.
    """
    import pymc as pm

    given, observed = spec.arrays()
    with pm.Model(coords={"study": list(spec.study)}) as model:
        data = {name: pm.Data(name, value, dims="study") for name, value in given.items()}
        data.update(
            {
                name: pm.Data(name + OBSERVED_SUFFIX, value, dims="study")
                for name, value in observed.items()
            }
        )
        family = spec.family
        alpha = spec.priors.baseline.to_pymc("alpha", dims="study") if family.baseline else None
        theta = _study_effects(spec, len(spec.study))
        family.observe(data, theta, alpha)
    setattr(model, _RECORD, (spec, _structure(model)))
    return model


def _structure(model: pm.Model) -> tuple[Any, ...]:
    """The model's variables, transforms and coordinate names (not the data values)."""
    return (
        tuple(model.named_vars),
        tuple(v.name for v in model.value_vars),
        tuple(v.name for v in model.potentials),
        tuple(model.coords),
    )


def current_data(model: pm.Model) -> dict[str, np.ndarray]:
    """The values of every ``pm.Data`` container of ``model`` now, by name."""
    return {v.name: np.asarray(v.get_value()) for v in model.data_vars}


def built_from(model: Any) -> ModelSpec | None:
    """The description :func:`build` made ``model`` from, whatever was added since (None for
    a model not built here)."""
    record = getattr(model, _RECORD, None)
    return record[0] if record is not None else None


def spec_of(model: Any) -> ModelSpec | None:
    """The description ``model`` stands for, if :func:`build` made it and it is unchanged.

    None for a model not built here, or one that research code extended or changed since
    (another variable, potential or transform). Data swapped in with ``pm.set_data`` are
    read back (and validated as input data): the description then holds the new data.

    Raises
    ------
    DataError
        The swapped-in counts are not valid counts (e.g. events above totals).
    """
    record = getattr(model, _RECORD, None)
    if record is None:
        return None
    spec, structure = record
    if _structure(model) != structure:
        return None
    given, observed = spec.arrays()
    now = current_data(model)
    study = tuple(str(s) for s in model.coords["study"])
    arrays = {**given, **{k + OBSERVED_SUFFIX: v for k, v in observed.items()}}
    if study == tuple(spec.study) and all(np.array_equal(now[k], v) for k, v in arrays.items()):
        return spec
    if spec.family.derived_data or not spec.family.readable_arrays or spec.moderators is not None:
        return None  # their data are derived (effect sizes, centred covariates): rebuild
    from bayesmeta.io.inputs import load

    frame = {"study": list(study)}
    frame.update({k: now[k] for k in given})
    frame.update({k: now[k + OBSERVED_SUFFIX] for k in observed})
    import pandas as pd

    return spec.with_data(load(pd.DataFrame(frame)))


def structure_key(model: pm.Model) -> tuple[Any, ...]:
    """What a compiled model depends on apart from data values: the log density and the
    posterior variables as graphs, with constants by value and data containers by name, dtype
    and shape. Equal keys can share one compiled model, given the new data."""
    from pytensor.graph.basic import Constant
    from pytensor.graph.traversal import io_toposort
    from pytensor.tensor.sharedvar import TensorSharedVariable

    outputs = [model.logp(), *model.unobserved_value_vars]
    nodes = io_toposort(model.value_vars, outputs)
    index = {v: ("value", i) for i, v in enumerate(model.value_vars)}
    key: list[Any] = [_structure(model)]
    for n, node in enumerate(nodes):
        inputs = []
        for var in node.inputs:
            if var in index:
                inputs.append(index[var])
            elif isinstance(var, TensorSharedVariable):
                value = var.get_value()
                inputs.append(("data", var.name, str(value.dtype), value.shape))
            elif isinstance(var, Constant):
                data = np.asarray(var.data)
                inputs.append(("const", str(data.dtype), data.shape, data.tobytes()))
            else:
                inputs.append(("other", str(var.type)))
        key.append((str(node.op), tuple(inputs)))
        for j, out in enumerate(node.outputs):
            index[out] = ("node", n, j)
    key.append(tuple(index.get(out) for out in outputs))
    return tuple(key)


def with_log_likelihood(spec: ModelSpec, idata: Any) -> Any:
    """A copy of ``idata`` (draws of the model ``spec`` describes) with a ``log_likelihood``
    group holding each study's log likelihood (both arms summed for two-arm data) as one
    variable, ``per_study``: a study is the unit that LOO leaves out, and ``arviz_stats.loo``
    needs no ``var_name``."""
    import pymc as pm
    from xarray import DataTree

    ll = pm.compute_log_likelihood(
        idata, model=build(spec), extend_inferencedata=False, progressbar=False
    )
    total = sum(ll[name] for name in ll.data_vars)
    tree = idata.copy()
    tree["log_likelihood"] = DataTree(total.to_dataset(name=LOG_LIKELIHOOD))
    return tree
