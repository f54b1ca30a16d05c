"""Single-arm counts: the binomial-normal (random-intercept logistic) model of proportions."""

from __future__ import annotations

from typing import Any

from bayesmeta.model.likelihoods.base import Likelihood, sums


class Proportion(Likelihood):
    """``logit p[i] = theta[i]``, ``theta[i] ~ N(mu, tau^2)`` (Hamza et al. 2008, J Clin
    Epidemiol 61:41)."""

    name = "proportion"
    needs = "single-arm counts (study,events,total)"
    measure = "PLO"
    checks_information = True
    design = "single-arm"
    kernel = "prop"
    exact = "exact_binomial"
    cell_titles = ("Events",)
    forest_titles = (("events", "Events/\ntotal"),)
    corrected_note = "* 0.5 added to the events and non-events of a study with 0 or all events"

    @property
    def data_class(self) -> type:
        from bayesmeta.io.studies import SingleArmData

        return SingleArmData

    def arrays(self, spec: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        return {"total": spec.data.total}, {"events": spec.data.events}

    def observe(self, data: dict[str, Any], theta: Any, alpha: Any) -> None:
        import pymc as pm

        pm.Binomial("events", n=data["total"], logit_p=theta, observed=data["events"], dims="study")

    check_statistic = (
        "the study's logit proportion (escalc PLO: 0.5 added to events and non-events of a "
        "study with 0 or all events), replicated as binomial counts"
    )

    def observed_statistic(self, spec: Any) -> tuple[tuple[str, ...], Any]:
        d = spec.data
        return tuple(d.study), logit_proportion(d.events, d.total)

    def replicate_statistic(self, spec: Any, post: dict[str, Any], theta: Any, rng: Any) -> Any:
        import numpy as np
        from scipy import special

        n = np.broadcast_to(np.asarray(spec.data.total), theta.shape)
        return logit_proportion(rng.binomial(n, special.expit(theta)), n)

    def integrated_loo(
        self, spec: Any, post: dict[str, Any], mean: Any, tau: Any, rng: Any
    ) -> tuple[Any, Any]:
        from bayesmeta.model.likelihoods.integrated import BinomialArm

        arm = BinomialArm(spec.data.events, spec.data.total)
        t = logit_proportion(arm.predictive(mean, tau, rng), spec.data.total)
        return arm.log_integrated(mean, tau), t

    def methods_text(self, data: Any, scale: str) -> str:
        return (
            "We fitted a Bayesian random-effects meta-analysis of proportions with the exact "
            "binomial likelihood: the events of study i are binomial with logit p_i = theta_i, "
            "theta_i ~ N(mu, tau^2). Studies with 0 or all events are used as they are."
        )

    def reference_direction(self, data: Any) -> str:
        return "proportion of patients with the event (logit scale for mu and tau)"

    def cells(self, data: Any, index: Any) -> list[str]:
        return [f"{sums(data.events, index)}/{sums(data.total, index)}"]

    def data_block(self, data: Any) -> dict[str, Any]:
        return {"k_zero_cell": int(data.zero_cell.sum()), "patients": int(data.total.sum())}

    def header(self, data: Any, block: dict[str, Any]) -> str:
        return f", {block['patients']} patients"

    def data_rows(self, data: Any, show: Any, scale: str) -> tuple[list[str], list[list[str]]]:
        rows = [
            [str(s), str(x), str(n)]
            for s, x, n in zip(data.study, data.events, data.total, strict=True)
        ]
        return ["Study", "Events", "Total"], rows


def logit_proportion(events: Any, total: Any) -> Any:
    """escalc's ``PLO``: ``log(x / (n - x))``, with 0.5 added to events and non-events of a
    study with 0 or all events (``add = 1/2, to = "only0"``)."""
    import numpy as np

    x, n = np.asarray(events, dtype=float), np.asarray(total, dtype=float)
    add = np.where((x == 0) | (x == n), 0.5, 0.0)
    return np.log(x + add) - np.log(n - x + add)
