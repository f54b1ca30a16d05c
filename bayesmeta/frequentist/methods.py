"""The frequentist methods: one registry of name, label, function and where each applies.

Each :class:`Method` is one row of :data:`METHODS`: its name (the JSON block name), its label
in reports and plots, the function that computes it, the designs it applies to (two-arm counts,
single-arm counts, reported effects), the designs where ``bayesmeta fit`` shows it by default,
its column prefix in batch tables, whether it is an inverse-variance fit whose study weights
``1 / (v_i + tau^2)`` a forest plot shows (``weights``: ``"common"`` or ``"random"``), and the
two-arm measures it gives (``measures``: Peto, the GLMM and the Harbord and Peters tests are
odds-ratio methods; on risk ratios or differences they are skipped rows saying so). An
inverse-variance row also names its tau^2 estimator (``tau2``: ``"EE"`` for the common effect)
and test (``"z"`` or Hartung-Knapp ``"knha"``): the same method then fits models with
moderators, a meta-regression or a subgroup analysis (:mod:`bayesmeta.frequentist.metareg`).
The registry's order is the order of the JSON blocks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bayesmeta.effects import TWO_ARM_MEASURES, EffectSizes, effect_sizes
from bayesmeta.errors import BayesmetaError, OptionError
from bayesmeta.frequentist import glmm, rates, smallstudy
from bayesmeta.frequentist.pooled import common_effect, mantel_haenszel, peto, random_effects
from bayesmeta.frequentist.results import DEFAULT_LEVEL, Estimate, Skipped
from bayesmeta.frequentist.rootfind import R_TOL
from bayesmeta.io.counts import StudyData, TwoArmData
from bayesmeta.io.mixed import MixedData
from bayesmeta.io.reported import ReportedEffects
from bayesmeta.model.likelihoods import native

TWO_ARM, SINGLE_ARM, REPORTED, RATES = "two-arm", "single-arm", "reported", "rates"
ALL = frozenset({TWO_ARM, SINGLE_ARM, REPORTED, RATES})
# two-arm designs whose counts give more than effect sizes (MH, GLMM)
COUNTS = frozenset({TWO_ARM, RATES})
ESTIMATES = frozenset({TWO_ARM, REPORTED, RATES})  # where Hartung-Knapp applies


@dataclass(frozen=True)
class Inputs:
    """What a method computes from: the data, their effect sizes (whose ``measure`` is the
    two-arm measure: OR, RR or RD), the interval level and the root tolerance of the
    Paule-Mandel search (metafor's default)."""

    data: StudyData | ReportedEffects
    es: EffectSizes
    level: float
    pm_tol: float = R_TOL


@dataclass(frozen=True)
class Method:
    """One frequentist method (see the module docstring)."""

    name: str
    label: str
    compute: Callable[[Inputs], Estimate]
    designs: frozenset[str]
    shown: frozenset[str] = frozenset()
    column: str | None = None
    weights: str | None = None
    measures: frozenset[str] = frozenset(TWO_ARM_MEASURES)
    tau2: str | None = None
    test: str = "z"

    @property
    def moderated(self) -> bool:
        """A random-effects fit that also takes moderators (meta-regression, subgroups)."""
        return self.tau2 is not None and self.tau2 != "EE"


RANDOM, COMMON = "random", "common"
ODDS_RATIO = frozenset({"OR"})


def _random(method: str, test: str = "z") -> Callable[[Inputs], Estimate]:
    return lambda i: random_effects(i.es, method=method, test=test, level=i.level, pm_tol=i.pm_tol)


def _effects_random(
    method: str,
    label: str,
    column: str,
    test: str = "z",
    designs: frozenset[str] | None = None,
    shown: frozenset[str] = frozenset(),
) -> Method:
    """A tau^2 estimator that needs only estimates and variances: counts or reported effects
    (``designs``: two-arm and reported unless given); with ``test="knha"`` its Hartung-Knapp
    row."""
    hk = test == "knha"
    return Method(
        f"random_{method.lower()}" + ("_hksj" if hk else ""),
        label + (" + Hartung-Knapp" if hk else ""),
        _random(method, test),
        designs if designs is not None else frozenset({TWO_ARM, REPORTED}),
        shown=shown,
        column=column + ("_hksj" if hk else ""),
        weights=RANDOM,
        tau2=method,
        test=test,
    )


def _by_design(functions: dict[str, Callable[[Inputs], Estimate]]) -> Callable[[Inputs], Estimate]:
    """A method computed by the function for the data's design."""
    return lambda i: functions[design_of(i.data)](i)


def _egger(given: Inputs) -> Estimate:
    """Egger's test; with counts it also needs 3 studies that are not double-zero."""
    data = given.data if isinstance(given.data, TwoArmData) else None
    return smallstudy.egger(given.es, data)


METHODS: dict[str, Method] = {
    m.name: m
    for m in (
        Method("mantel_haenszel", "Mantel-Haenszel (common)",
               _by_design({
                   TWO_ARM: lambda i: mantel_haenszel(i.data, measure=i.es.measure, level=i.level),
                   RATES: lambda i: rates.mantel_haenszel_irr(i.data, level=i.level),
               }), COUNTS, shown=COUNTS, column="mh"),
        Method("peto", "Peto (common)", lambda i: peto(i.data, level=i.level),
               frozenset({TWO_ARM}), column="peto", measures=ODDS_RATIO),
        Method("fixed_iv", "Inverse-variance (common)",
               lambda i: common_effect(i.es, level=i.level), ALL, shown=ALL, column="iv",
               weights=COMMON, tau2="EE"),
        _effects_random("DL", "DerSimonian-Laird", "dl", designs=ALL, shown=ALL),
        _effects_random("REML", "REML", "reml", designs=ALL, shown=ALL),
        _effects_random("PM", "Paule-Mandel", "pm"),
        _effects_random("ML", "ML", "ml"),
        _effects_random("EB", "Empirical Bayes", "eb"),
        _effects_random("HE", "Hedges", "he"),
        _effects_random("SJ", "Sidik-Jonkman", "sj"),
        _effects_random("HS", "Hunter-Schmidt", "hs"),
        _effects_random("REML", "REML", "reml", "knha", designs=ESTIMATES, shown=ESTIMATES),
        _effects_random("DL", "DL", "dl", "knha", designs=ESTIMATES),
        *(_effects_random(m, label, m.lower(), "knha")
          for m, label in (("PM", "PM"), ("ML", "ML"), ("EB", "EB"), ("HE", "HE"), ("SJ", "SJ"),
                           ("HS", "HS"))),
        Method("glmm_um_fs", "Binomial-normal GLMM (ML)",
               lambda i: glmm.binomial_normal_ml(i.data, level=i.level), frozenset({TWO_ARM}),
               column="glmm", measures=ODDS_RATIO),
        Method("glmm_poisson", "Poisson-normal GLMM (ML)",
               lambda i: rates.poisson_normal_ml(i.data, level=i.level), frozenset({RATES}),
               shown=frozenset({RATES}), column="glmm"),
        Method("glmm", "Binomial-normal GLMM (ML)",
               lambda i: glmm.random_intercept_ml(i.data, level=i.level),
               frozenset({SINGLE_ARM}), shown=frozenset({SINGLE_ARM}), column="glmm"),
        Method("egger", "Egger's test", _egger, frozenset({TWO_ARM, REPORTED})),
        Method("harbord", "Harbord's test", lambda i: smallstudy.harbord(i.data),
               frozenset({TWO_ARM}), measures=ODDS_RATIO),
        Method("peters", "Peters' test", lambda i: smallstudy.peters(i.data),
               frozenset({TWO_ARM}), measures=ODDS_RATIO),
    )
}  # fmt: skip


def design_of(data: StudyData | ReportedEffects) -> str:
    """``"two-arm"``, ``"single-arm"``, ``"reported"``...: the design of the likelihood
    native to ``data`` (:attr:`~bayesmeta.model.likelihoods.base.Likelihood.design`)."""
    return native(data).design


def need_counts(data: StudyData | ReportedEffects) -> tuple[str, ...]:
    """Labels of the two-arm methods that reported effects cannot give (they need counts)."""
    if design_of(data) != REPORTED:
        return ()
    return tuple(
        dict.fromkeys(
            m.label
            for m in METHODS.values()
            if TWO_ARM in m.designs and not m.designs & {REPORTED, SINGLE_ARM}
        )
    )


def available(data: StudyData | ReportedEffects) -> tuple[str, ...]:
    """Names of the methods that apply to ``data``, in registry order."""
    design = design_of(data)
    return tuple(m.name for m in METHODS.values() if design in m.designs)


def shown_by_default(data: StudyData | ReportedEffects) -> tuple[str, ...]:
    """The methods ``bayesmeta fit`` shows for ``data`` unless told otherwise."""
    design = design_of(data)
    return tuple(m.name for m in METHODS.values() if design in m.shown)


def check_methods(names: Sequence[str], data: StudyData | ReportedEffects) -> tuple[str, ...]:
    """``names`` as a tuple, after checking each applies to ``data``.

    Raises
    ------
    TypeError
        ``names`` is a single string rather than a sequence of names.
    BayesmetaError
        A name is not a method for this design; the valid ones are listed.
    """
    if isinstance(names, str):
        raise TypeError(
            f"methods must be a sequence of method names, e.g. ({names!r},), not a string"
        )
    valid = available(data)
    unknown = [m for m in names if m not in valid]
    if unknown:
        raise OptionError(
            f"unknown frequentist method(s) {', '.join(map(str, unknown))} for "
            f"{design_of(data)} data; valid: {', '.join(valid)}"
        )
    return tuple(names)


def inputs(
    data: StudyData | ReportedEffects,
    level: float = DEFAULT_LEVEL,
    measure: str | None = None,
    pm_tol: float = R_TOL,
) -> Inputs:
    """The effect sizes the methods use: those of the data's likelihood
    (:meth:`~bayesmeta.model.likelihoods.base.Likelihood.effect_sizes`: escalc log odds
    ratios for two-arm counts, 0.5 added to all cells of a study with a zero cell; logits;
    log rate ratios; the reported estimates with their variances), or for two-arm counts
    escalc's ``measure`` (OR, RR or RD); ``pm_tol`` is the root tolerance of the Paule-Mandel
    search.

    Raises
    ------
    OptionError
        ``measure`` is not OR, RR or RD, or is given for data that are not two-arm counts
        (a mixed table of counts and reported odds ratios takes OR only).
    """
    if isinstance(data, MixedData) and measure is not None:
        if measure != data.measure:
            raise OptionError(
                f"--measure {measure}: the estimates this table reports are odds ratios, so its "
                "studies are pooled as odds ratios only (leave out --measure)"
            )
        measure = None
    if measure is not None and not isinstance(data, TwoArmData):
        raise OptionError(f"--measure applies to two-arm counts; these are {design_of(data)} data")
    if measure is not None and measure not in TWO_ARM_MEASURES:
        raise OptionError(f"unknown measure {measure!r}; valid: {', '.join(TWO_ARM_MEASURES)}")
    es = native(data).effect_sizes(data) if measure is None else effect_sizes(data, measure=measure)
    return Inputs(data, es, level, pm_tol)


def compute(names: Sequence[str], given: Inputs) -> dict[str, Estimate]:
    """Each method in ``names`` on ``given``; one that cannot be computed on these data is
    :class:`~bayesmeta.frequentist.results.Skipped` with the reason."""
    out: dict[str, Estimate] = {}
    two_arm = isinstance(given.data, TwoArmData)
    for name in names:
        method = METHODS[name]
        if two_arm and given.es.measure not in method.measures:
            out[name] = Skipped(name, f"odds ratios only; not for measure {given.es.measure}")
            continue
        try:
            out[name] = method.compute(given)
        except BayesmetaError as exc:
            out[name] = Skipped(name, str(exc))
    return out
