"""Every frequentist estimator on one dataset, as ``bayesmeta classic`` reports it (no PyMC).

:func:`classic` computes the methods of the registry (:mod:`bayesmeta.frequentist.methods`)
that apply to the data, and optionally a leave-one-study-out and a cumulative meta-analysis,
into a :class:`ClassicResult` with named fields; its ``to_dict`` is the JSON of
``bayesmeta classic --json`` (``docs/json.md``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from bayesmeta.effects import EffectSizes
from bayesmeta.errors import OptionError
from bayesmeta.frequentist import methods as registry
from bayesmeta.frequentist.bias import PublicationBias, publication_bias
from bayesmeta.frequentist.pooled import cumulative, leave_one_out
from bayesmeta.frequentist.results import (
    DEFAULT_LEVEL,
    AsymmetryTest,
    Estimate,
    PooledEstimate,
)
from bayesmeta.io.counts import SingleArmData, StudyData
from bayesmeta.io.ordering import ordering
from bayesmeta.io.reported import ReportedEffects
from bayesmeta.model.likelihoods import LIKELIHOODS, native


@dataclass(frozen=True)
class Sequential:
    """Random-effects fits of a leave-one-out (``kind="omitted"``) or cumulative
    (``kind="added"``) analysis, keyed by the study left out or added; ``by`` is the ordering
    column of a cumulative analysis."""

    kind: str
    method: str
    fits: dict[str, PooledEstimate]
    by: str | None = None

    def to_dict(self) -> dict[str, Any]:
        head = {"by": self.by} if self.by is not None else {}
        return {
            **head,
            "method": self.method,
            self.kind: {s: r.to_dict() for s, r in self.fits.items()},
        }


@dataclass(frozen=True)
class ClassicResult:
    """The frequentist analysis of one dataset.

    ``estimates`` maps each method name (registry order) to its
    :class:`~bayesmeta.frequentist.results.PooledEstimate`,
    :class:`~bayesmeta.frequentist.results.AsymmetryTest` or
    :class:`~bayesmeta.frequentist.results.Skipped`.
    """

    data: StudyData | ReportedEffects
    effect_sizes: EffectSizes
    estimates: dict[str, Estimate]
    leave_one_out: Sequential | None = None
    cumulative: Sequential | None = None
    level: float = DEFAULT_LEVEL
    publication_bias: PublicationBias | None = None

    def to_frame(self) -> pd.DataFrame:
        """One row per method (index: its name) with its label, estimate, se, interval ends,
        p, k, tau2 (with its interval), I^2, H^2, Q, its p, prediction interval ends and the
        t-test's df; small-study tests give their statistic ``z``; a method that could not be
        computed gives the reason in ``skipped``. Intervals are at ``frame.attrs["level"]``,
        on the measure ``frame.attrs["measure"]`` (OR, RR, RD, PLO or the reported one)."""
        rows = {}
        for name, e in self.estimates.items():
            row: dict[str, Any] = {"label": registry.METHODS[name].label}
            if isinstance(e, PooledEstimate):
                row.update(
                    estimate=e.estimate,
                    se=e.se,
                    ci_lower=e.ci[0],
                    ci_upper=e.ci[1],
                    p=e.p,
                    k=e.k,
                    tau2=e.tau2,
                    i2=e.i2,
                    h2=e.h2,
                    q=e.q,
                    q_p=e.q_p,
                    df=e.df,
                )
                for prefix, pair in (("tau2_ci", e.tau2_ci), ("pi", e.pi)):
                    if pair is not None:
                        row[f"{prefix}_lower"], row[f"{prefix}_upper"] = pair
            elif isinstance(e, AsymmetryTest):
                row.update(z=e.z, p=e.p, df=e.df, k=e.k)
            else:
                row["skipped"] = e.reason
            rows[name] = row
        frame = pd.DataFrame.from_dict(rows, orient="index")
        frame.index.name = "method"
        frame.attrs["level"] = self.level
        frame.attrs["measure"] = self.effect_sizes.measure
        return frame

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``bayesmeta classic --json``."""
        from bayesmeta.io.output import package_version

        d = self.data
        info: dict[str, Any] = {
            "source": d.source,
            "design": registry.design_of(d),
            "k": d.k,
        }
        block = native(d).data_block(d)
        info.update({k: block[k] for k in ("k_zero_cell", "k_double_zero") if k in block})
        info["warnings"] = list(d.warnings)
        out: dict[str, Any] = {
            "bayesmeta_version": package_version(),
            "measure": self.effect_sizes.measure,
            "data": info,
            "effect_sizes": self.effect_sizes.to_dict(),
            "frequentist": {k: v.to_dict() for k, v in self.estimates.items()},
        }
        if self.leave_one_out is not None:
            out["leave_one_out"] = self.leave_one_out.to_dict()
        if self.cumulative is not None:
            out["cumulative"] = self.cumulative.to_dict()
        if self.publication_bias is not None:
            out["publication_bias"] = self.publication_bias.to_dict()
        return out


def classic(
    data: StudyData | ReportedEffects | pd.DataFrame | str | Path,
    *,
    methods: Sequence[str] | None = None,
    leave_one_out_method: str | None = None,
    cumulative_by: str | None = None,
    level: float = DEFAULT_LEVEL,
    measure: str | None = None,
    bias: bool = False,
    effect_direction: str = "positive",
    selection_steps: Sequence[float] = (0.025,),
) -> ClassicResult:
    """All frequentist analyses of ``data``, as metafor would report them.

    Parameters
    ----------
    data
        Validated counts or reported effects (:func:`bayesmeta.load`), or a DataFrame or CSV
        path it reads. Two-arm data use the escalc effects of ``measure``, single-arm data
        logit proportions, reported effects their estimates.
    methods
        Method names (default: every method that applies; :func:`~bayesmeta.frequentist.
        methods.available`).
    leave_one_out_method
        tau^2 estimator (e.g. ``"DL"``) of a leave-one-study-out analysis, if wanted.
    cumulative_by
        A covariate column (e.g. ``"year"``): a cumulative meta-analysis in that order, with
        the leave-one-out estimator or DL.
    level
        Level of every interval (0.95).
    measure
        Two-arm counts only: ``"OR"`` (log odds ratio, the default), ``"RR"`` (log risk ratio)
        or ``"RD"`` (risk difference), as escalc (0.5 added to all cells of a study with a zero
        cell; double-zero studies kept, ``drop00 = FALSE``) and ``rma.mh`` (no correction).
        Peto's method, the GLMM and the Harbord and Peters tests are odds-ratio methods:
        skipped rows on RR or RD.
    bias
        Also the publication-bias analyses (:func:`~bayesmeta.frequentist.bias.
        publication_bias`: trim-and-fill, PET/PEESE, selection models, rank test, fail-safe
        N), with ``effect_direction`` and ``selection_steps``.

    Raises
    ------
    BayesmetaError
        A name in ``methods`` does not apply to the data, the ordering column is unknown, or
        ``measure`` is unknown or given for data that are not two-arm counts, or ``bias``
        on single-arm data (publication-bias methods compare studies' effects).
    """
    if isinstance(data, pd.DataFrame | str | Path):
        from bayesmeta.io.inputs import load

        data = load(data)
    elif not any(isinstance(data, lik.data_class) for lik in LIKELIHOODS.values()):
        raise TypeError(
            "data must be loaded data (bayesmeta.load), a pandas DataFrame or a CSV path, "
            f"got {type(data).__name__}"
        )
    names = registry.check_methods(methods, data) if methods is not None else None
    given = registry.inputs(data, level, measure)
    estimates = registry.compute(names or registry.available(data), given)
    method = leave_one_out_method or "DL"
    loo = None
    if leave_one_out_method:
        loo = Sequential("omitted", method, leave_one_out(given.es, method=method, level=level))
    cum = None
    if cumulative_by:
        analysed = set(given.es.study)
        order = [s for s in ordering(data, cumulative_by) if s in analysed]
        fits = cumulative(given.es, order, method=method, level=level)
        cum = Sequential("added", method, fits, by=cumulative_by)
    pb = None
    if bias:
        if isinstance(data, SingleArmData):
            raise OptionError(
                "publication-bias analyses need two-arm counts or reported effects; "
                "single-arm proportions are not supported"
            )
        pb = publication_bias(
            given.es, level=level, effect_direction=effect_direction, steps=selection_steps
        )
    return ClassicResult(data, given.es, estimates, loo, cum, level, pb)
