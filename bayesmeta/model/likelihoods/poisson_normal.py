"""Incidence rates: the Poisson-normal model with fixed study baselines.

Events in each arm of study i are Poisson with mean rate x person-time::

    log rate_c[i] = alpha[i]
    log rate_t[i] = alpha[i] + theta[i],      theta[i] ~ N(mu, tau^2)

so ``theta[i]`` is the study's log incidence rate ratio (treatment vs control) and ``mu`` the
pooled one (metafor ``rma.glmm(measure = "IRR", model = "UM.FS")`` is its ML counterpart;
Stijnen, Hamza & Ozdemir 2010, Stat Med 29:3046, section 2.2). Zero events are used as they
are. The study estimates beside it (observed IRRs, the inverse-variance methods) follow metafor
``escalc(measure = "IRR")``: ``yi = log(x1/t1) - log(x2/t2)``, ``vi = 1/x1 + 1/x2``, 0.5 added
to both event counts of a study with no event in an arm.
"""

from __future__ import annotations

from typing import Any

from bayesmeta.model.likelihoods.base import Likelihood, sums


class PoissonNormal(Likelihood):
    """The Poisson-normal model of two-arm events per person-time (module docstring)."""

    name = "poisson-normal"
    needs = "events and person-time per arm (treatment_events, treatment_time, ...)"
    measure = "IRR"
    design = "rates"
    baseline = True
    exact = "exact_binomial"
    references = ("stijnen2010",)
    citations = {  # noqa: RUF012 (a class constant, never mutated)
        "stijnen2010": "Stijnen T, Hamza TH, Ozdemir P. Random effects meta-analysis of event "
        "outcome in the framework of the generalized linear mixed model with applications in "
        "sparse data. Stat Med 2010;29(29):3046-3067."
    }
    cell_titles = ("Treatment", "Control")
    forest_titles = (
        ("treatment", "Treatment\nevents/time"),
        ("control", "Control\nevents/time"),
    )
    corrected_note = "* 0.5 added to both event counts of a study with no event in an arm"
    corrected_use = "the Bayesian Poisson model uses the counts as they are."

    @property
    def data_class(self) -> type:
        from bayesmeta.io.rates import RateData

        return RateData

    def arrays(self, spec: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        d = spec.data
        given = {"treatment_time": d.treatment_time, "control_time": d.control_time}
        observed = {"control_events": d.control_events, "treatment_events": d.treatment_events}
        return given, observed

    def observe(self, data: dict[str, Any], theta: Any, alpha: Any) -> None:
        import pymc as pm

        log_c = pm.math.log(data["control_time"])
        log_t = pm.math.log(data["treatment_time"])
        pm.Poisson(
            "control_events",
            mu=pm.math.exp(alpha + log_c),
            observed=data["control_events"],
            dims="study",
        )
        pm.Poisson(
            "treatment_events",
            mu=pm.math.exp(alpha + theta + log_t),
            observed=data["treatment_events"],
            dims="study",
        )

    def methods_text(self, data: Any, scale: str) -> str:
        return (
            "We fitted a Bayesian random-effects meta-analysis of incidence rates with the "
            "exact Poisson likelihood (Poisson-normal model with fixed study baselines): the "
            "events in each arm of study i are Poisson with mean rate times person-time, the "
            "control-arm log rate alpha_i is a study-specific parameter, the treatment-arm log "
            "rate is alpha_i + theta_i, and the study's log incidence rate ratio "
            "theta_i ~ N(mu, tau^2). Arms without events are used as they are, without "
            "continuity corrections."
        )

    def reference_direction(self, data: Any) -> str:
        return (
            "incidence rate ratio, treatment vs control (IRR < 1: fewer events per "
            "person-time on treatment)"
        )

    def cells(self, data: Any, index: Any) -> list[str]:
        return [
            f"{sums(data.treatment_events, index)}/{sums(data.treatment_time, index):g}",
            f"{sums(data.control_events, index)}/{sums(data.control_time, index):g}",
        ]

    def data_block(self, data: Any) -> dict[str, Any]:
        return {
            "k_zero_cell": int(data.zero_cell.sum()),
            "k_double_zero": int(data.double_zero.sum()),
            "person_time": float(data.treatment_time.sum() + data.control_time.sum()),
        }

    def header(self, data: Any, block: dict[str, Any]) -> str:
        return (
            f", {block['person_time']:g} person-time; {block['k_zero_cell']} with an arm "
            f"without events, {block['k_double_zero']} without any"
        )

    def zero_cell_line(self, block: dict[str, Any], native_model: bool) -> str | None:
        if not block["k_zero_cell"]:
            return None
        if native_model:
            return "Arms without events are used as they are by the Poisson model (no correction)."
        return "Normal-normal model on escalc log rate ratios (0.5 added to zero counts)."

    check_statistic = (
        "the study's log incidence rate ratio from its counts (escalc IRR: 0.5 added to both "
        "counts of a study with a zero), replicated as Poisson counts in both arms"
    )

    def observed_statistic(self, spec: Any) -> tuple[tuple[str, ...], Any]:
        d = spec.data
        t = log_rate_ratio(d.treatment_events, d.treatment_time, d.control_events,
                           d.control_time)  # fmt: skip
        return tuple(d.study), t

    def replicate_statistic(self, spec: Any, post: dict[str, Any], theta: Any, rng: Any) -> Any:
        import numpy as np

        d, alpha = spec.data, post["alpha"]
        t1 = np.broadcast_to(np.asarray(d.treatment_time, dtype=float), theta.shape)
        t2 = np.broadcast_to(np.asarray(d.control_time, dtype=float), theta.shape)
        c = rng.poisson(t2 * np.exp(alpha))
        a = rng.poisson(t1 * np.exp(alpha + theta))
        return log_rate_ratio(a, t1, c, t2)

    def integrated_loo(
        self, spec: Any, post: dict[str, Any], mean: Any, tau: Any, rng: Any
    ) -> tuple[Any, Any]:
        # the treatment arm given the control arm, as for two-arm counts
        from bayesmeta.model.likelihoods.integrated import PoissonArm

        d = spec.data
        arm = PoissonArm(d.treatment_events, d.treatment_time, post["alpha"])
        a = arm.predictive(mean, tau, rng)
        t = log_rate_ratio(a, d.treatment_time, d.control_events, d.control_time)
        return arm.log_integrated(mean, tau), t

    def effect_sizes(self, data: Any) -> Any:
        return irr_effect_sizes(data)

    def effect_inputs(self, data: Any) -> tuple[Any, Any, tuple[str, ...]]:
        es = irr_effect_sizes(data, drop00=True)
        return es.yi, es.vi, es.study

    def data_rows(
        self, data: Any, show: Any, scale: str
    ) -> tuple[list[str], list[list[str | float]]]:
        columns = ["Study", "Treatment events", "Treatment time", "Control events"]
        columns.append("Control time")
        rows = [
            [str(s), str(a), f"{t1:g}", str(c), f"{t2:g}"]
            for s, a, t1, c, t2 in zip(
                data.study,
                data.treatment_events,
                data.treatment_time,
                data.control_events,
                data.control_time,
                strict=True,
            )
        ]
        return columns, rows


def irr_effect_sizes(data: Any, *, add: float = 0.5, drop00: bool = False) -> Any:
    """Log incidence rate ratios and their variances, as metafor
    ``escalc(measure = "IRR", x1i, t1i, x2i, t2i)`` (``add = 1/2, to = "only0"``; ``drop00``
    leaves out studies without events in either arm)."""
    import numpy as np

    from bayesmeta.effects import EffectSizes

    inc = np.where(data.zero_cell, add, 0.0)
    x1, x2 = data.treatment_events + inc, data.control_events + inc
    yi = np.log(x1 / data.treatment_time) - np.log(x2 / data.control_time)
    vi = 1 / x1 + 1 / x2
    keep = ~data.double_zero if drop00 else np.ones(data.k, dtype=bool)
    names = np.asarray(data.study, dtype=object)
    return EffectSizes(
        study=tuple(names[keep]),
        yi=np.asarray(yi[keep], dtype=float),
        vi=np.asarray(vi[keep], dtype=float),
        measure="IRR",
        correction="only0",
        corrected=tuple(names[data.zero_cell & keep]),
        dropped=tuple(names[~keep]),
        reasons=("double zero (no events in either arm)",) * int((~keep).sum()),
    )


def log_rate_ratio(x1: Any, t1: Any, x2: Any, t2: Any) -> Any:
    """escalc's log incidence rate ratio of ``x1`` events in time ``t1`` vs ``x2`` in ``t2``:
    0.5 added to both counts where either is 0 (``add = 1/2, to = "only0"``)."""
    import numpy as np

    x1, x2 = np.asarray(x1, dtype=float), np.asarray(x2, dtype=float)
    inc = np.where((x1 == 0) | (x2 == 0), 0.5, 0.0)
    return np.log((x1 + inc) / t1) - np.log((x2 + inc) / t2)
