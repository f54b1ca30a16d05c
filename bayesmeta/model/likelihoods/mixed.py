"""Counts and reported odds ratios in one analysis: each study its own likelihood.

A study with 2x2 counts contributes the binomial-normal model's two binomial arms with its own
baseline; a study that reported only an odds ratio (with its CI or SE) contributes a normal
likelihood of its reported log odds ratio with the standard error treated as known::

    counts:    r_c[i] ~ Bin(n_c[i], expit alpha[i]),
               r_t[i] ~ Bin(n_t[i], expit(alpha[i] + theta[i]))
    reported:  y[i] ~ N(theta[i], se[i]^2)
    every study:  theta[i] ~ N(mu, tau^2)

so both kinds share ``mu`` and ``tau`` on the log odds ratio scale. This is the "mixed data"
meta-analysis of Dias et al. (NICE DSU TSD 2, 2011, section 3.3: arm-level binomial data beside
trial-level log odds ratios with their SEs, sharing the random effects). It is not identical
to the all-counts fit even when a reported row is its counts' own escalc log odds ratio: the
normal density of the log odds ratio is the large-sample approximation of the binomial
likelihood (with its baseline integrated out), exact only as the counts grow.

In the PyMC model every array spans all studies: the binomial arms of a reported study have
``n = 0`` trials (log likelihood exactly 0) and the normal term of a count study has weight 0
(:data:`REPORTED`), so each study's log likelihood is one entry of ``study``; a reported
study's baseline ``alpha[i]`` has no data and stays at its prior.
"""

from __future__ import annotations

from typing import Any

from bayesmeta.model.likelihoods.base import Likelihood, listed
from bayesmeta.model.likelihoods.binomial_normal import BinomialNormal

REPORTED = "reported"  # the 0/1 weight of each study's normal term (a given array)


class MixedBinomialNormal(Likelihood):
    """Binomial arms for count studies, a normal reported log odds ratio for the others, one
    ``theta[i] ~ N(mu, tau^2)`` (module docstring)."""

    name = "mixed-binomial-normal"
    needs = "a table of 2x2 counts and reported odds ratios (bayesmeta.io.mixed)"
    measure = "OR"
    design = "reported"  # the frequentist rows pool the studies' log odds ratios
    batch_methods = ("random_dl", "random_reml", "random_reml_hksj")  # no counts: no MH
    baseline = True
    readable_arrays = False
    exact = "exact_binomial"
    references = ("smith1995", "jackson2018", "dias2011")
    citations = {  # noqa: RUF012 (a class constant, never mutated)
        "dias2011": "Dias S, Welton NJ, Sutton AJ, Ades AE. NICE DSU Technical Support "
        "Document 2: a generalised linear modelling framework for pairwise and network "
        "meta-analysis of randomised controlled trials. 2011 (updated 2016), section 3.3."
    }
    cell_titles = ("Treatment", "Control", "Reported")
    forest_titles = (
        ("treatment", "Treatment\nevents/total"),
        ("control", "Control\nevents/total"),
        ("reported", "Reported\n(as given)"),
    )
    corrected_use = "the Bayesian model uses the counts as they are."

    @property
    def data_class(self) -> type:
        from bayesmeta.io.mixed import MixedData

        return MixedData

    def frequentist_measure(self, data: Any, measure: str | None) -> str | None:
        if measure is not None and measure != data.measure:
            from bayesmeta.errors import OptionError

            raise OptionError(
                f"--measure {measure}: the estimates this table reports are odds ratios, so its "
                "studies are pooled as odds ratios only (leave out --measure)"
            )
        return None

    def arrays(self, spec: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        import numpy as np

        d = spec.data
        weight = d.reported.astype(float)
        given = {
            "treatment_total": d.treatment_total,
            "control_total": d.control_total,
            "se": np.where(d.reported, np.sqrt(d.vi), 1.0),
            REPORTED: weight,
        }
        observed = {
            "control_events": d.control_events,
            "treatment_events": d.treatment_events,
            "y": np.where(d.reported, d.yi, 0.0),
        }
        return given, observed

    def observe(self, data: dict[str, Any], theta: Any, alpha: Any) -> None:
        import pymc as pm

        # the count studies' arms, as the two-arm model observes them (a reported study's
        # arms have n = 0, so their log likelihood is 0)
        BinomialNormal.observe(self, data, theta, alpha)
        pm.CustomDist(
            "y",
            theta,
            data["se"],
            data[REPORTED],
            logp=_weighted_normal_logp,
            random=_normal_random,
            observed=data["y"],
            dims="study",
        )

    def methods_text(self, data: Any, scale: str) -> str:
        counted = [s for s, r in zip(data.study, data.reported, strict=True) if not r]
        reported = [s for s, r in zip(data.study, data.reported, strict=True) if r]
        return (
            "We fitted a Bayesian random-effects meta-analysis in which each study contributes "
            f"the likelihood of the data it gave. The {len(counted)} studies with 2x2 counts "
            f"({listed(counted)}) entered with the exact binomial likelihood (binomial-normal "
            "model with fixed study baselines: the control-arm log odds alpha_i is a "
            "study-specific parameter, the treatment-arm log odds is alpha_i + theta_i; zero "
            f"cells used as they are). The {len(reported)} studies that reported an odds "
            f"ratio only ({listed(reported)}) entered with a normal likelihood of their "
            "reported log odds ratio, y_i ~ N(theta_i, se_i^2), the standard error (from the "
            "reported SE, or the width of the confidence interval on the log scale) treated "
            "as known. All studies share theta_i ~ N(mu, tau^2) (Dias et al. 2011, section "
            "3.3)."
        )

    def reference_direction(self, data: Any) -> str:
        return "odds ratio of an event, treatment vs control (OR < 1: fewer events on treatment)"

    def measure_note(self, data: Any) -> str | None:
        k_reported = int(data.reported.sum())
        return (
            f"log odds ratios: escalc of the {data.k - k_reported} studies with counts, as "
            f"reported by the other {k_reported}"
        )

    def cells(self, data: Any, index: Any) -> list[str]:
        import numpy as np

        rows = np.atleast_1d(np.arange(data.k)[index])
        if len(rows) == 1 and data.reported[rows[0]]:
            return ["", "", data.as_reported[rows[0]]]
        counted = rows[~data.reported[rows]]
        sums = [int(getattr(data, c)[counted].sum()) for c in _COUNT_COLUMNS]
        n_reported = len(rows) - len(counted)
        also = f"+ {n_reported} reported" if n_reported else ""
        return [f"{sums[0]}/{sums[1]}", f"{sums[2]}/{sums[3]}", also]

    def data_block(self, data: Any) -> dict[str, Any]:
        counted = data.counted
        return {
            "k_counts": int(counted.sum()),
            "k_reported": int(data.reported.sum()),
            "reported": [s for s, r in zip(data.study, data.reported, strict=True) if r],
            "k_zero_cell": int(data.zero_cell.sum()),
            "k_double_zero": int(data.double_zero.sum()),
            "patients": int(data.treatment_total.sum() + data.control_total.sum()),
        }

    def header(self, data: Any, block: dict[str, Any]) -> str:
        return (
            f": {block['k_counts']} with counts ({block['patients']} patients; "
            f"{block['k_zero_cell']} with a zero cell), {block['k_reported']} with a reported "
            "odds ratio"
        )

    def zero_cell_line(self, block: dict[str, Any], native_model: bool) -> str | None:
        if not block["k_zero_cell"]:
            return None
        if native_model:
            return "Zero cells are used as they are by the binomial model (no correction)."
        return "Normal-normal model on escalc log odds ratios (0.5 added to zero cells)."

    def effect_sizes(self, data: Any) -> Any:
        return mixed_effect_sizes(data)

    def effect_inputs(self, data: Any) -> tuple[Any, Any, tuple[str, ...]]:
        es = mixed_effect_sizes(data, drop00=True)
        return es.yi, es.vi, es.study

    def data_rows(self, data: Any, show: Any, scale: str) -> tuple[list[str], list[list[str]]]:
        columns = ["Study", "Treatment events", "Treatment total", "Control events"]
        columns += ["Control total", "Reported (as given)"]
        rows = []
        for i, s in enumerate(data.study):
            if data.reported[i]:
                rows.append([str(s), "", "", "", "", data.as_reported[i]])
            else:
                rows.append([str(s), *(str(getattr(data, c)[i]) for c in _COUNT_COLUMNS), ""])
        return columns, rows


_COUNT_COLUMNS = ("treatment_events", "treatment_total", "control_events", "control_total")


def _weighted_normal_logp(value: Any, mu: Any, sigma: Any, weight: Any) -> Any:
    """``weight * log N(value; mu, sigma^2)``: the normal term of the studies with weight 1."""
    import pymc as pm

    return weight * pm.logp(pm.Normal.dist(mu, sigma), value)


def _normal_random(mu: Any, sigma: Any, weight: Any, rng: Any = None, size: Any = None) -> Any:
    """A reported log odds ratio drawn given ``theta`` (count studies' draws are unused)."""
    return rng.normal(mu, sigma, size=size)


def mixed_effect_sizes(data: Any, *, drop00: bool = False) -> Any:
    """Each study's log odds ratio and variance: metafor ``escalc(measure = "OR")`` of the
    count studies (0.5 added to every cell of a study with a zero cell; ``drop00`` leaves out
    double zeros) and the reported studies' log odds ratios with their variances, in table
    order."""
    import numpy as np

    from bayesmeta.effects import EffectSizes, effect_sizes

    yi, vi = data.yi.copy(), data.vi.copy()
    counted = data.counted
    corrected: tuple[str, ...] = ()
    if counted.any():
        es = effect_sizes(data.counts, measure="OR")
        yi[counted], vi[counted] = es.yi, es.vi
        corrected = es.corrected
    dropped = data.double_zero if drop00 else np.zeros(data.k, dtype=bool)
    names = np.asarray(data.study, dtype=object)
    return EffectSizes(
        study=tuple(names[~dropped]),
        yi=yi[~dropped],
        vi=vi[~dropped],
        measure="OR",
        correction="only0",
        corrected=tuple(s for s in corrected if s not in set(names[dropped])),
        dropped=tuple(names[dropped]),
        reasons=("double zero (no events in either arm)",) * int(dropped.sum()),
    )
