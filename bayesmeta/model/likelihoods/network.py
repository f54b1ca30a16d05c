"""Arm-level binary network data: TSD2's binomial-logit network meta-analysis.

NICE DSU Technical Support Document 2 (Dias, Welton, Sutton, Ades 2011, updated 2016),
program 1(c) (random effects) and 1(b) (fixed effect): in study i with baseline (lowest-coded)
arm b, ``logit p[i, b] = alpha[i]`` and ``logit p[i, k] = alpha[i] + delta[i, k]``; the study
effects ``delta[i, k] ~ N(d[t_k] - d[t_b], tau^2)`` with ``d[reference] = 0``, the basic
parameters ``d`` the log odds ratios of every treatment against the reference, one
heterogeneity ``tau`` shared by every comparison (consistency), and in a multi-arm trial
``cov(delta[i, j], delta[i, k]) = tau^2 / 2``. The model is written non-centred: the
``a - 1`` effects of an ``a``-arm study are ``d[t_k] - d[t_b] + tau * (L z)_k`` with ``L`` the
Cholesky factor of the matrix with 1 on its diagonal and 1/2 elsewhere, ``z`` standard normal
(the same distribution as TSD2's conditional form; it samples without divergences when tau is
small). :func:`bayesmeta.engines.network.build` returns the plain ``pm.Model``; research code
can extend it.

Priors come from the prior registry as a :class:`~bayesmeta.model.priors.PriorSet`: ``mu`` is
the prior of each basic parameter ``d_k`` (a log odds ratio against the reference, so the
pairwise default ``normal(0, 2.82)`` applies with the same reasoning), ``tau`` that of the
heterogeneity (default ``half-normal(0.5)``) and ``baseline`` that of the study baselines
(default ``normal(0, 10)``). :data:`TSD2_PRIORS` are TSD2's (``d ~ N(0, 100^2)``,
``mu_i ~ N(0, 100^2)``, ``tau ~ U(0, 5)``), to reproduce its numbers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from bayesmeta.model.likelihoods.base import Likelihood
from bayesmeta.model.priors import PriorSet

if TYPE_CHECKING:
    from bayesmeta.io.network import NetworkData

TSD2_PRIORS = PriorSet(mu="normal(0, 100)", tau="uniform(0, 5)", baseline="normal(0, 100)")
PRIOR_SETS = {"default": PriorSet(), "tsd2": TSD2_PRIORS}


def multiarm_factor(data: NetworkData) -> np.ndarray:
    """The ``(arms, arms - studies)`` matrix taking the standard normal ``z`` (one per
    non-baseline arm) to the arms' random-effect deviations in units of tau: zero rows for
    baseline arms, and in each study the Cholesky factor of its ``1, 1/2`` correlation matrix."""
    n_effect = data.n_arms - data.k
    out = np.zeros((data.n_arms, n_effect))
    width = int(data.arms_per_study.max()) - 1
    corr = np.full((width, width), 0.5) + 0.5 * np.eye(width)
    chol = np.linalg.cholesky(corr)
    column = 0
    for i in range(data.k):
        start, m = int(data.start[i]), int(data.arms_per_study[i]) - 1
        out[start + 1 : start + 1 + m, column : column + m] = chol[:m, :m]
        column += m
    return out


class NetworkBinomial(Likelihood):
    """TSD2's binomial-logit network meta-analysis (see the module docstring)."""

    name = "network-binomial"
    needs = "arm-level network data (bayesmeta network)"
    measure = "OR"
    design = "network"
    baseline = True
    exact_refusal = "no exact engine integrates the network model; it is sampled by NUTS"
    references = ("dias2011tsd2",)
    citations = {  # noqa: RUF012 (a class constant, never mutated)
        "dias2011tsd2": "Dias S, Welton NJ, Sutton AJ, Ades AE. NICE DSU Technical Support "
        "Document 2: a generalised linear modelling framework for pairwise and network "
        "meta-analysis of randomised controlled trials. 2011, last updated September 2016. "
        "Available from http://www.nicedsu.org.uk",
    }
    cell_titles = ("Treatment", "Events/total")

    @property
    def data_class(self) -> type:
        from bayesmeta.io.network import NetworkData

        return NetworkData

    def arrays(self, spec: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        d = spec.data
        return {"total": d.total}, {"events": d.events}

    def observe(self, data: dict[str, Any], theta: Any, alpha: Any) -> None:
        """Binomial arms: ``theta`` are the arms' effects against their study's baseline arm
        (0 there), ``alpha`` the arms' study baselines."""
        import pymc as pm

        pm.Binomial(
            "events", n=data["total"], logit_p=alpha + theta, observed=data["events"], dims="arm"
        )

    def methods_text(self, data: Any, scale: str) -> str:
        return (
            "We fitted a Bayesian network meta-analysis with the binomial likelihood and logit "
            "link (NICE DSU TSD2, program 1(c)): the events in each arm are binomial, each study "
            "has its own baseline log odds, the study-specific log odds ratios against the "
            "study's baseline arm are normal around the differences of the basic parameters "
            "(log odds ratios against the reference treatment) with one heterogeneity standard "
            "deviation tau, correlated by tau^2/2 within multi-arm trials."
        )

    def reference_direction(self, data: Any) -> str:
        return (
            f"odds ratio of an event, each treatment vs {data.reference} "
            "(OR > 1: more events than on the reference)"
        )

    def cells(self, data: Any, index: Any) -> list[str]:
        arms = np.flatnonzero(np.isin(data.arm_study, np.atleast_1d(index)))
        return [
            "; ".join(data.treatments[data.arm_treatment[a]] for a in arms),
            "; ".join(f"{data.events[a]}/{data.total[a]}" for a in arms),
        ]

    def data_block(self, data: Any) -> dict[str, Any]:
        return {
            "arms": data.n_arms,
            "treatments": list(data.treatments),
            "reference": data.reference,
            "patients": int(data.total.sum()),
        }

    def data_rows(self, data: Any, show: Any, scale: str) -> tuple[list[str], list[list[str]]]:
        columns = ["Study", "Treatment", "Events", "Total"]
        rows = [
            [data.study[s], data.treatments[t], str(r), str(n)]
            for s, t, r, n in zip(
                data.arm_study, data.arm_treatment, data.events, data.total, strict=True
            )
        ]
        return columns, rows
