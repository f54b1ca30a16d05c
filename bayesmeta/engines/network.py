"""The PyMC model of a network meta-analysis (:mod:`bayesmeta.model.likelihoods.network`).

:func:`build` gives the plain ``pm.Model`` of TSD2's binomial-logit network meta-analysis and
:func:`build_ume` its unrelated mean effects (UME) model (TSD4, Dias et al. 2013: one free
mean per observed comparison of a study's baseline arm with another of its arms, no
consistency; the same baselines, random effects and likelihood).
:func:`bayesmeta.engines.nuts.fit` samples both with nutpie (the PyMC path: the cached
kernels and the exact engines do not implement them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from bayesmeta.model.description import OBSERVED_SUFFIX
from bayesmeta.model.likelihoods.network import NetworkBinomial, multiarm_factor
from bayesmeta.model.priors import PriorSet

if TYPE_CHECKING:
    import pymc as pm

    from bayesmeta.io.network import NetworkData


def build(
    data: NetworkData, priors: PriorSet | None = None, *, common_effect: bool = False
) -> pm.Model:
    """The PyMC model of TSD2's network meta-analysis of ``data`` (module docstring).

    Variables: ``alpha`` (study baselines, dims ``study``), ``d`` (basic parameters, dims
    ``contrast``: every treatment but the reference), ``tau`` and ``z`` (random effects only),
    ``delta`` (each arm's log odds ratio against its study's baseline arm, dims ``arm``) and the
    observed ``events``. Arm sizes are the ``pm.Data`` container ``total``, events
    ``events_data``.
    """
    import pymc as pm
    import pytensor.tensor as pt

    priors = priors if priors is not None else PriorSet()
    baseline_trt = data.arm_treatment[data.start][data.arm_study]
    arms = [
        f"{data.study[s]}: {data.treatments[t]}"
        for s, t in zip(data.arm_study, data.arm_treatment, strict=True)
    ]
    coords = {
        "study": list(data.study),
        "treatment": list(data.treatments),
        "contrast": list(data.treatments[1:]),
        "arm": arms,
    }
    with pm.Model(coords=coords) as model:
        total = pm.Data("total", data.total, dims="arm")
        events = pm.Data("events" + OBSERVED_SUFFIX, data.events, dims="arm")
        alpha = priors.baseline.to_pymc("alpha", dims="study")
        d = priors.mu.to_pymc("d", dims="contrast")
        d_all = pt.concatenate([pt.zeros(1), d])
        mean = d_all[data.arm_treatment] - d_all[baseline_trt]
        _observe(model, data, priors, mean, arms, total, events, alpha, common_effect)
    return model


def ume_comparisons(data: NetworkData) -> list[tuple[int, int]]:
    """The observed comparisons ``(baseline treatment, treatment)`` (treatment codes) of the
    UME model: each study's baseline arm against each of its other arms, sorted."""
    baseline_trt = data.arm_treatment[data.start][data.arm_study]
    pairs = {
        (int(b), int(t))
        for b, t, base in zip(baseline_trt, data.arm_treatment, data.baseline_arm, strict=True)
        if not base
    }
    return sorted(pairs)


def build_ume(
    data: NetworkData, priors: PriorSet | None = None, *, common_effect: bool = False
) -> pm.Model:
    """The PyMC unrelated mean effects model of ``data`` (module docstring).

    As :func:`build`, but ``d`` (dims ``comparison``, labelled ``"treatment vs baseline"``,
    in :func:`ume_comparisons`' order) holds one log odds ratio per observed comparison, each
    with the prior of ``priors.mu``; an arm's mean effect is its comparison's ``d``.
    """
    import pymc as pm
    import pytensor.tensor as pt

    priors = priors if priors is not None else PriorSet()
    baseline_trt = data.arm_treatment[data.start][data.arm_study]
    pairs = ume_comparisons(data)
    index = {pair: k for k, pair in enumerate(pairs)}
    # arm -> its comparison (baseline arms point at a zero appended after the comparisons)
    arm_comparison = np.array(
        [
            len(pairs) if base else index[(int(b), int(t))]
            for b, t, base in zip(baseline_trt, data.arm_treatment, data.baseline_arm, strict=True)
        ]
    )
    arms = [
        f"{data.study[s]}: {data.treatments[t]}"
        for s, t in zip(data.arm_study, data.arm_treatment, strict=True)
    ]
    coords = {
        "study": list(data.study),
        "comparison": [f"{data.treatments[t]} vs {data.treatments[b]}" for b, t in pairs],
        "arm": arms,
    }
    with pm.Model(coords=coords) as model:
        total = pm.Data("total", data.total, dims="arm")
        events = pm.Data("events" + OBSERVED_SUFFIX, data.events, dims="arm")
        alpha = priors.baseline.to_pymc("alpha", dims="study")
        d = priors.mu.to_pymc("d", dims="comparison")
        mean = pt.concatenate([d, pt.zeros(1)])[arm_comparison]
        _observe(model, data, priors, mean, arms, total, events, alpha, common_effect)
    return model


def split_baseline(data: NetworkData, pair: tuple[int, int]) -> NetworkData:
    """``data`` with, in each study holding both treatments of ``pair = (x, y)``, the ``x``
    arm moved first (the study's baseline, as node-splitting needs); other studies unchanged."""
    from dataclasses import replace

    x, y = pair
    split = {
        i for i in range(data.k) if {x, y} <= set(data.arm_treatment[data.arm_study == i].tolist())
    }
    order = sorted(
        range(data.n_arms),
        key=lambda a: (
            data.arm_study[a],
            not (data.arm_study[a] in split and data.arm_treatment[a] == x),
            a,
        ),
    )
    return replace(
        data,
        arm_study=data.arm_study[order],
        arm_treatment=data.arm_treatment[order],
        events=data.events[order],
        total=data.total[order],
        rows=tuple(data.rows[a] for a in order),
    )


def build_node_split(
    data: NetworkData,
    pair: tuple[int, int],
    priors: PriorSet | None = None,
    *,
    common_effect: bool = False,
) -> pm.Model:
    """The PyMC node-splitting model (Dias et al. 2010) of the comparison ``pair = (x, y)``
    (treatment codes) in ``data``, which must be :func:`split_baseline`'s order for ``pair``.

    As :func:`build`, but in the studies holding both ``x`` and ``y`` (baseline ``x``) the
    ``y`` arm's mean effect is the free ``direct`` (prior ``priors.mu``), the other arms
    following consistency; ``indirect = d_y - d_x`` and ``difference = direct - indirect``
    are deterministic.
    """
    import pymc as pm
    import pytensor.tensor as pt

    x, y = pair
    priors = priors if priors is not None else PriorSet()
    baseline_trt = data.arm_treatment[data.start][data.arm_study]
    is_direct = np.array(
        [
            b == x and t == y and x in data.arm_treatment[data.arm_study == s]
            for b, t, s in zip(baseline_trt, data.arm_treatment, data.arm_study, strict=True)
        ]
    )
    arms = [
        f"{data.study[s]}: {data.treatments[t]}"
        for s, t in zip(data.arm_study, data.arm_treatment, strict=True)
    ]
    coords = {"study": list(data.study), "contrast": list(data.treatments[1:]), "arm": arms}
    with pm.Model(coords=coords) as model:
        total = pm.Data("total", data.total, dims="arm")
        events = pm.Data("events" + OBSERVED_SUFFIX, data.events, dims="arm")
        alpha = priors.baseline.to_pymc("alpha", dims="study")
        d = priors.mu.to_pymc("d", dims="contrast")
        direct = priors.mu.to_pymc("direct")
        d_all = pt.concatenate([pt.zeros(1), d])
        consistent = d_all[data.arm_treatment] - d_all[baseline_trt]
        mean = pt.where(pt.as_tensor(is_direct), direct, consistent)
        indirect = pm.Deterministic("indirect", d_all[y] - d_all[x])
        pm.Deterministic("difference", direct - indirect)
        _observe(model, data, priors, mean, arms, total, events, alpha, common_effect)
    return model


def _observe(
    model: pm.Model,
    data: NetworkData,
    priors: PriorSet,
    mean: Any,
    arms: list[str],
    total: Any,
    events: Any,
    alpha: Any,
    common_effect: bool,
) -> None:
    """Add the arms' effects ``delta`` around ``mean`` (random effects of covariance
    ``tau^2 / 2`` within multi-arm studies unless ``common_effect``) and the binomial data."""
    import pymc as pm
    import pytensor.tensor as pt

    if common_effect:
        delta = pm.Deterministic("delta", mean, dims="arm")
    else:
        model.add_coord(
            "effect", [a for a, b in zip(arms, data.baseline_arm, strict=True) if not b]
        )
        tau = priors.tau.to_pymc("tau")
        z = pm.Normal("z", 0.0, 1.0, dims="effect")
        factor = pt.as_tensor(multiarm_factor(data))
        delta = pm.Deterministic("delta", mean + tau * pt.dot(factor, z), dims="arm")
    NetworkBinomial().observe({"total": total, "events": events}, delta, alpha[data.arm_study])
