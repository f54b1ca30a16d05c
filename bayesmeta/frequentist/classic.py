"""Every frequentist estimator on one dataset, as ``bayesmeta classic`` reports it (no PyMC).

:func:`classic` computes the methods of the registry (:mod:`bayesmeta.frequentist.methods`)
that apply to the data, and optionally a leave-one-study-out and a cumulative meta-analysis,
a meta-regression on covariates and a subgroup analysis (:func:`moderated`), into a
:class:`ClassicResult` with named fields; its ``to_dict`` is the JSON of
``bayesmeta classic --json`` (``docs/json.md``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bayesmeta.effects import EffectSizes
from bayesmeta.errors import BayesmetaError, OptionError
from bayesmeta.frequentist import methods as registry
from bayesmeta.frequentist.bias import PublicationBias, publication_bias
from bayesmeta.frequentist.influence import Baujat, Influence, baujat, influence
from bayesmeta.frequentist.metareg import (
    MetaRegression,
    SubgroupFits,
    meta_regression,
    subgroup_analysis,
)
from bayesmeta.frequentist.pooled import COUNT_METHODS, Blups, blup, cumulative, leave_one_out
from bayesmeta.frequentist.results import (
    DEFAULT_LEVEL,
    AsymmetryTest,
    Estimate,
    PooledEstimate,
    Skipped,
)
from bayesmeta.frequentist.rootfind import R_TOL
from bayesmeta.io.counts import SingleArmData, StudyData, TwoArmData
from bayesmeta.io.ordering import ordering
from bayesmeta.io.reported import ReportedEffects
from bayesmeta.model.likelihoods import LIKELIHOODS, native
from bayesmeta.model.moderators import Moderators, design_matrix, moderators


@dataclass(frozen=True)
class Sequential:
    """Random-effects fits of a leave-one-out (``kind="omitted"``) or cumulative
    (``kind="added"``) analysis, keyed by the study left out or added; ``by`` is the ordering
    column of a cumulative analysis."""

    kind: str
    method: str
    fits: dict[str, PooledEstimate | Skipped]
    by: str | None = None

    def to_dict(self) -> dict[str, Any]:
        head = {"by": self.by} if self.by is not None else {}
        return {
            **head,
            "method": self.method,
            self.kind: {s: r.to_dict() for s, r in self.fits.items()},
        }


@dataclass(frozen=True)
class MetaRegressions:
    """A mixed-effects meta-regression on ``covariates`` by every random-effects method of the
    registry that applies (``fits``: method name -> fit, or why it was skipped)."""

    covariates: tuple[str, ...]
    fits: dict[str, MetaRegression | Skipped]

    def to_dict(self) -> dict[str, Any]:
        """``{covariates, fits: {method: block}}``."""
        return {
            "covariates": list(self.covariates),
            "fits": {name: f.to_dict() for name, f in self.fits.items()},
        }


@dataclass(frozen=True)
class Subgroups:
    """A subgroup analysis on column ``by``: for the common-effect and each random-effects
    method, every level's fit and the test for subgroup differences."""

    by: str
    levels: tuple[str, ...]
    fits: dict[str, SubgroupFits | Skipped]

    def to_dict(self) -> dict[str, Any]:
        """``{by, levels, fits: {method: block}}``."""
        return {
            "by": self.by,
            "levels": list(self.levels),
            "fits": {name: f.to_dict() for name, f in self.fits.items()},
        }


def _rows(data: StudyData | ReportedEffects, es: EffectSizes) -> list[int]:
    """Positions in ``data`` of the studies ``es`` keeps, in its order."""
    position = {name: i for i, name in enumerate(data.study)}
    return [position[name] for name in es.study]


def _moderated_methods(data: StudyData | ReportedEffects) -> list[registry.Method]:
    design = registry.design_of(data)
    return [m for m in registry.METHODS.values() if m.tau2 is not None and design in m.designs]


def regressions(
    data: StudyData | ReportedEffects,
    es: EffectSizes,
    x: np.ndarray,
    names: Sequence[str],
    covariates: Sequence[str],
    *,
    level: float = DEFAULT_LEVEL,
    pm_tol: float = R_TOL,
) -> MetaRegressions:
    """The meta-regression by every random-effects method of the registry that applies:
    ``x`` is the design matrix (intercept first, labels ``names``) of the studies of ``data``,
    ``covariates`` the columns it was made from."""
    x = np.asarray(x, dtype=float)[_rows(data, es)]
    fits: dict[str, MetaRegression | Skipped] = {}
    for m in _moderated_methods(data):
        if not m.moderated:
            continue
        try:
            fits[m.name] = meta_regression(
                es, x, names, method=m.tau2, test=m.test, level=level, pm_tol=pm_tol
            )
        except BayesmetaError as exc:
            fits[m.name] = Skipped(m.name, str(exc))
    return MetaRegressions(tuple(covariates), fits)


def subgroups(
    data: StudyData | ReportedEffects,
    es: EffectSizes,
    group: Sequence[str],
    levels: Sequence[str],
    by: str,
    *,
    level: float = DEFAULT_LEVEL,
    pm_tol: float = R_TOL,
) -> Subgroups:
    """The subgroup analysis by the common-effect and every random-effects method of the
    registry that applies; ``group`` is each study's level (studies of ``data``)."""
    group = np.asarray(group, dtype=object)[_rows(data, es)]
    fits: dict[str, SubgroupFits | Skipped] = {}
    for m in _moderated_methods(data):
        try:
            fits[m.name] = subgroup_analysis(
                es,
                group,
                levels,
                method=m.tau2 if m.moderated else None,
                test=m.test,
                level=level,
                column=by,
                pm_tol=pm_tol,
            )
        except BayesmetaError as exc:
            fits[m.name] = Skipped(m.name, str(exc))
    return Subgroups(by, tuple(levels), fits)


def moderated(
    data: StudyData | ReportedEffects,
    es: EffectSizes,
    *,
    covariates: Sequence[str] = (),
    subgroup: str | None = None,
    level: float = DEFAULT_LEVEL,
    pm_tol: float = R_TOL,
) -> tuple[MetaRegressions | None, Subgroups | None]:
    """Meta-regression on ``covariates`` and subgroup analysis on ``subgroup``.

    Every inverse-variance method of the registry that applies to ``data`` fits them: the
    random-effects ones (their tau^2 estimator and test) the meta-regression, metafor's
    ``rma(yi, vi, mods = ~ covariates, method, test)``; those and the common-effect method the
    subgroups. Text covariates get R's treatment contrasts against their first level.

    Raises
    ------
    BayesmetaError
        An unknown, incomplete or constant covariate or subgroup column.
    """
    if not covariates and subgroup is None:
        return None, None
    mods = moderators(data.covariates, names=covariates, subgroup=subgroup)
    return from_moderators(data, es, mods, covariates, level=level, pm_tol=pm_tol)


def from_moderators(
    data: StudyData | ReportedEffects,
    es: EffectSizes,
    mods: Moderators,
    covariates: Sequence[str],
    *,
    level: float = DEFAULT_LEVEL,
    pm_tol: float = R_TOL,
) -> tuple[MetaRegressions | None, Subgroups | None]:
    """:func:`moderated` for moderators already built (a Bayesian model's): the covariates'
    design is ``mods.x`` moved back from its centres, with an intercept column."""
    regression = groups = None
    if mods.x is not None:
        x = np.column_stack([np.ones(data.k), mods.x + mods.centers])
        regression = regressions(data, es, x, ("intercept", *mods.names), covariates, level=level)
    if mods.group is not None:
        group = np.asarray(mods.levels, dtype=object)[mods.group]
        groups = subgroups(data, es, group, mods.levels, mods.subgroup, level=level, pm_tol=pm_tol)
    return regression, groups


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
    meta_regression: MetaRegressions | None = None
    subgroups: Subgroups | None = None
    influence: Influence | None = None
    baujat: Baujat | None = None
    blups: Blups | None = None
    publication_bias: PublicationBias | None = None

    @property
    def shown(self) -> tuple[str, ...]:
        """The methods ``bayesmeta fit`` shows for these data (the moderator tables' rows)."""
        return registry.shown_by_default(self.data)

    @property
    def need_counts(self) -> tuple[str, ...]:
        """Labels of the methods these data cannot give because they need 2x2 counts."""
        return registry.need_counts(self.data)

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
        if self.meta_regression is not None:
            out["meta_regression"] = self.meta_regression.to_dict()
        if self.subgroups is not None:
            out["subgroups"] = self.subgroups.to_dict()
        if self.influence is not None:
            out["influence"] = self.influence.to_dict()
        if self.baujat is not None:
            out["baujat"] = self.baujat.to_dict()
        if self.blups is not None:
            out["blup"] = self.blups.to_dict()
        return out


def classic(
    data: StudyData | ReportedEffects | pd.DataFrame | str | Path,
    *,
    methods: Sequence[str] | None = None,
    leave_one_out_method: str | None = None,
    cumulative_by: str | None = None,
    covariates: Sequence[str] = (),
    subgroup: str | None = None,
    level: float = DEFAULT_LEVEL,
    measure: str | None = None,
    bias: bool = False,
    effect_direction: str = "auto",
    selection_steps: Sequence[float] = (0.025,),
    pm_tol: float = R_TOL,
    influence_method: str | None = None,
    blup_method: str | None = None,
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
        Method of a leave-one-study-out analysis, if wanted: a tau^2 estimator (e.g.
        ``"DL"``), ``"EE"`` (common effect), or ``"MH"`` / ``"PETO"`` (two-arm counts).
    cumulative_by
        A covariate column (e.g. ``"year"``): a cumulative meta-analysis in that order, with
        the leave-one-out estimator or DL.
    covariates
        Covariate columns of a mixed-effects meta-regression (:func:`moderated`).
    subgroup
        A column whose levels are the subgroups of a subgroup analysis.
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
        N), with ``effect_direction`` (``"positive"``, ``"negative"`` or ``"auto"``: the
        direction of the common-effect estimate) and ``selection_steps``.
    pm_tol
        Root tolerance of the Paule-Mandel search (default metafor's, about 1.2e-4).
    influence_method
        A tau^2 estimator (e.g. ``"REML"``): metafor's ``influence()`` of that random-effects
        model (the meta-regression on ``covariates`` when given) and the Baujat coordinates of
        the common-effect model.
    blup_method
        A tau^2 estimator: metafor's ``blup()`` of that random-effects model.

    Raises
    ------
    BayesmetaError
        A name in ``methods`` does not apply to the data, the ordering column is unknown, or
        a moderator column is unknown, incomplete or constant, or ``measure`` is unknown or
        given for data that are not two-arm counts, or ``bias`` on single-arm data
        (publication-bias methods compare studies' effects).
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
    given = registry.inputs(data, level, measure=measure, pm_tol=pm_tol)
    estimates = registry.compute(names or registry.available(data), given)
    method = (leave_one_out_method or "DL").upper()
    counts = data if isinstance(data, TwoArmData) else None
    loo = None
    if leave_one_out_method:
        fits = leave_one_out(given.es, method=method, level=level, data=counts)
        loo = Sequential("omitted", method, fits)
    cum = None
    if cumulative_by:
        analysed = set(data.study if method in COUNT_METHODS else given.es.study)
        order = [s for s in ordering(data, cumulative_by) if s in analysed]
        fits = cumulative(given.es, order, method=method, level=level, data=counts)
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
    blups = blup(given.es, blup_method, level=level) if blup_method else None
    regression, groups = moderated(
        data, given.es, covariates=tuple(covariates), subgroup=subgroup, level=level, pm_tol=pm_tol
    )
    infl = bau = None
    if influence_method:
        x = names = None
        if covariates:
            x, names = design_matrix(_covariates_of(data, given.es), list(covariates))
        infl = influence(given.es, x, names, method=influence_method)
        bau = baujat(given.es, x, names, method="EE")
    return ClassicResult(
        data, given.es, estimates, loo, cum, level, regression, groups, infl, bau, blups, pb
    )


def _covariates_of(data: StudyData | ReportedEffects, es: EffectSizes) -> pd.DataFrame:
    """The covariate rows of the studies ``es`` keeps, in its order."""
    return data.covariates.iloc[_rows(data, es)].reset_index(drop=True)
