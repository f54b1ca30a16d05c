"""Two-arm counts: the binomial-normal model with fixed study baselines."""

from __future__ import annotations

from typing import Any

from bayesmeta.model.likelihoods.base import Likelihood, sums


class BinomialNormal(Likelihood):
    """``logit p_c[i] = alpha[i]``, ``logit p_t[i] = alpha[i] + theta[i]``,
    ``theta[i] ~ N(mu, tau^2)`` (Jackson et al. 2018, Stat Med 37:1059, model 4; metafor
    ``rma.glmm`` "UM.FS"; MetaStan's binomial-normal model)."""

    name = "binomial-normal"
    needs = "two-arm counts"
    measure = "OR"
    checks_information = True
    design = "two-arm"
    baseline = True
    kernel = "bn"
    exact = "exact_binomial"
    references = ("smith1995", "jackson2018")
    cell_titles = ("Treatment", "Control")
    forest_titles = (
        ("treatment", "Treatment\nevents/total"),
        ("control", "Control\nevents/total"),
    )

    @property
    def data_class(self) -> type:
        from bayesmeta.io.studies import TwoArmData

        return TwoArmData

    def arrays(self, spec: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        d = spec.data
        given = {"treatment_total": d.treatment_total, "control_total": d.control_total}
        observed = {"control_events": d.control_events, "treatment_events": d.treatment_events}
        return given, observed

    def observe(self, data: dict[str, Any], theta: Any, alpha: Any) -> None:
        import pymc as pm

        pm.Binomial(
            "control_events",
            n=data["control_total"],
            logit_p=alpha,
            observed=data["control_events"],
            dims="study",
        )
        pm.Binomial(
            "treatment_events",
            n=data["treatment_total"],
            logit_p=alpha + theta,
            observed=data["treatment_events"],
            dims="study",
        )

    check_statistic = (
        "the study's log odds ratio from its counts (escalc: 0.5 added to every cell of a "
        "table with a zero cell), replicated as binomial counts in both arms"
    )

    def observed_statistic(self, spec: Any) -> tuple[tuple[str, ...], Any]:
        d = spec.data
        t = log_odds_ratio(d.treatment_events, d.treatment_total, d.control_events,
                           d.control_total)  # fmt: skip
        return tuple(d.study), t

    def replicate_statistic(self, spec: Any, post: dict[str, Any], theta: Any, rng: Any) -> Any:
        import numpy as np
        from scipy import special

        d, alpha = spec.data, post["alpha"]
        n1 = np.broadcast_to(np.asarray(d.treatment_total), theta.shape)
        n2 = np.broadcast_to(np.asarray(d.control_total), theta.shape)
        c = rng.binomial(n2, special.expit(alpha))
        a = rng.binomial(n1, special.expit(alpha + theta))
        return log_odds_ratio(a, n1, c, n2)

    def integrated_loo(
        self, spec: Any, post: dict[str, Any], mean: Any, tau: Any, rng: Any
    ) -> tuple[Any, Any]:
        # the treatment arm given the control arm (which fixes alpha_i: the baselines are
        # not linked across studies, so a study without it would be its prior alone)
        from bayesmeta.model.likelihoods.integrated import BinomialArm

        d = spec.data
        arm = BinomialArm(d.treatment_events, d.treatment_total, post["alpha"])
        a = arm.predictive(mean, tau, rng)
        t = log_odds_ratio(a, d.treatment_total, d.control_events, d.control_total)
        return arm.log_integrated(mean, tau), t

    def methods_text(self, data: Any, scale: str) -> str:
        return (
            "We fitted a Bayesian random-effects meta-analysis with the exact binomial "
            "likelihood (binomial-normal model with fixed study baselines): the events in "
            "each arm of study i are binomial, the control-arm log odds alpha_i is a "
            "study-specific parameter, the treatment-arm log odds is alpha_i + theta_i, and "
            "the study's log odds ratio theta_i ~ N(mu, tau^2). Zero cells are used as they "
            "are, without continuity corrections."
        )

    def reference_direction(self, data: Any) -> str:
        return "odds ratio of an event, treatment vs control (OR < 1: fewer events on treatment)"

    def cells(self, data: Any, index: Any) -> list[str]:
        return [
            f"{sums(data.treatment_events, index)}/{sums(data.treatment_total, index)}",
            f"{sums(data.control_events, index)}/{sums(data.control_total, index)}",
        ]

    def data_block(self, data: Any) -> dict[str, Any]:
        return {
            "k_zero_cell": int(data.zero_cell.sum()),
            "k_double_zero": int(data.double_zero.sum()),
            "patients": int(data.treatment_total.sum() + data.control_total.sum()),
        }

    def header(self, data: Any, block: dict[str, Any]) -> str:
        return (
            f", {block['patients']} patients; {block['k_zero_cell']} with a zero cell, "
            f"{block['k_double_zero']} double-zero"
        )

    def zero_cell_line(self, block: dict[str, Any], native_model: bool) -> str | None:
        if not block["k_zero_cell"]:
            return None
        if native_model:
            return "Zero cells are used as they are by the binomial model (no correction)."
        return "Normal-normal model on escalc log odds ratios (0.5 added to zero cells)."

    def data_rows(self, data: Any, show: Any, scale: str) -> tuple[list[str], list[list[str]]]:
        columns = ["Study", "Treatment events", "Treatment total", "Control events"]
        columns.append("Control total")
        rows = [
            [str(s), str(a), str(n1), str(c), str(n2)]
            for s, a, n1, c, n2 in zip(
                data.study,
                data.treatment_events,
                data.treatment_total,
                data.control_events,
                data.control_total,
                strict=True,
            )
        ]
        return columns, rows


def log_odds_ratio(a: Any, n1: Any, c: Any, n2: Any) -> Any:
    """escalc's log odds ratio of ``a/n1`` vs ``c/n2`` events: 0.5 added to every cell of a
    table with a zero cell (``add = 1/2, to = "only0"``), double zeros kept."""
    import numpy as np

    a, n1, c, n2 = (np.asarray(x, dtype=float) for x in (a, n1, c, n2))
    b, d = n1 - a, n2 - c
    add = np.where((a == 0) | (b == 0) | (c == 0) | (d == 0), 0.5, 0.0)
    return np.log((a + add) * (d + add)) - np.log((b + add) * (c + add))
