"""The model description: one backend-free, immutable value that every engine reads.

A :class:`ModelSpec` says what is fitted - the likelihood, the data, the priors, random or
common effect, and the moderators - and nothing about how. The PyMC builder
(:mod:`bayesmeta.engines.pymc`), the cached kernels (:mod:`bayesmeta.engines.kernels`) and the
exact quadrature engine (:mod:`bayesmeta.summaries.exact`) each turn the same description into
their own form, so none of them has to guess what another built.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

import numpy as np

from bayesmeta.errors import OptionError
from bayesmeta.io.counts import StudyData
from bayesmeta.io.reported import ReportedEffects
from bayesmeta.model.likelihoods import Likelihood, likelihood, native, resolve
from bayesmeta.model.moderators import Moderators, check_moderators
from bayesmeta.model.priors import PriorSet, check_for_sampler, default_priors
from bayesmeta.model.random_effects import RandomEffects, random_effects
from bayesmeta.model.scales import Scale, scale_of_measure

OBSERVED_SUFFIX = "_data"  # engines hold observed NAME in a data container NAME_data

AnyData = StudyData | ReportedEffects


@dataclass(frozen=True)
class NormalInputs:
    """Study estimates ``y`` with variances ``v`` for a normal-normal model."""

    y: np.ndarray
    v: np.ndarray
    study: tuple[str, ...]


def normal_inputs(data: AnyData) -> NormalInputs:
    """Estimates, variances and study names of ``data`` for a normal-normal model
    (:meth:`~bayesmeta.model.likelihoods.base.Likelihood.effect_inputs` of its likelihood)."""
    return NormalInputs(*native(data).effect_inputs(data))


def resolve_likelihood(data: AnyData, model: str = "auto") -> str:
    """The likelihood for ``data``: checks an explicit choice, picks one for ``"auto"``."""
    return resolve(data, model).name


def _check_priors_in_units(scale: Scale, given: set[str], common_effect: bool) -> None:
    """Refuse the default priors on a scale in the outcome's units (mean differences).

    The defaults are made for log odds ratios; on a mean difference in days or mmHg they are
    arbitrary and can dominate the posterior (a half-normal(0.5) tau against a between-study
    SD of 14 days), so the user states priors on the outcome's scale.
    """
    needed = ["mu"] if common_effect else ["mu", "tau"]
    missing = [name for name in needed if name not in given]
    if scale.in_units and missing:
        options = " and ".join(f"--prior-{name}" for name in missing)
        raise OptionError(
            f"{scale.label} is in the outcome's units, where the default priors (made for log "
            f"odds ratios) would decide the answer: give {options} on that scale, e.g. "
            "--prior-mu 'normal(0, 100)' --prior-tau 'half-normal(10)' for days (or "
            "--measure SMD where the studies report means and SDs)"
        )


def reference_direction(data: AnyData) -> str:
    """What the effect measures and which way it points."""
    return native(data).reference_direction(data)


@dataclass(frozen=True)
class ModelSpec:
    """A meta-analysis model: likelihood, data, priors, random or common effect, moderators.

    Parameters
    ----------
    likelihood
        The name of a registered likelihood (:mod:`bayesmeta.model.likelihoods`): two-arm
        counts with fixed study baselines, single-arm counts, or estimates with variances
        (counts converted with the escalc conventions, :func:`normal_inputs`).
    data
        Validated data (:func:`bayesmeta.load`).
    priors
        Priors on ``mu``, ``tau`` and the study baselines (binomial-normal only).
    common_effect
        ``tau = 0``: every study shares ``mu``.
    moderators
        Covariates and/or subgroups (None, or empty, for neither).
    random_effects
        The distribution of the study effects around ``mu``
        (:mod:`bayesmeta.model.random_effects`): ``"normal"`` or ``"t"`` (Student-t with
        degrees of freedom ``nu``).
    """

    likelihood: str
    data: AnyData = field(repr=False)
    priors: PriorSet = field(default_factory=PriorSet)
    common_effect: bool = False
    moderators: Moderators | None = None
    random_effects: str = "normal"

    def __post_init__(self) -> None:
        resolve(self.data, self.likelihood)
        random_effects(self.random_effects)
        if self.common_effect and self.effects.parameters:
            raise OptionError(
                f"--random-effects {self.random_effects} shapes the study effects but "
                "--common-effect has none (tau = 0); choose one"
            )
        if not isinstance(self.priors, PriorSet):
            object.__setattr__(self, "priors", PriorSet.of(self.priors))
        if self.moderators is not None and self.moderators.empty:
            object.__setattr__(self, "moderators", None)
        if self.common_effect and self.moderators is not None and self.moderators.separate_tau:
            raise OptionError(
                "--separate-tau gives each subgroup its own tau but --common-effect fixes "
                "tau = 0; choose one"
            )

    @classmethod
    def describe(
        cls,
        data: AnyData,
        *,
        model: str = "auto",
        priors: PriorSet | dict[str, Any] | None = None,
        common_effect: bool = False,
        moderators: Moderators | None = None,
        random_effects: str = "normal",
    ) -> ModelSpec:
        """The description for ``data`` with the model's default priors where none is given.

        ``priors`` is a complete :class:`PriorSet`, or a mapping of some of ``mu``, ``tau``,
        ``baseline``, ``nu`` to a :class:`~bayesmeta.model.priors.Prior` or prior text that
        replaces those defaults.
        """
        check_moderators(moderators)
        likelihood = resolve_likelihood(data, model)
        if not isinstance(priors, PriorSet):
            scale = scale_of_data(data)
            given = {k for k, v in dict(priors or {}).items() if v is not None}
            _check_priors_in_units(scale, given, common_effect)
            priors = default_priors(scale.name).with_overrides(**dict(priors or {}))
        return cls(likelihood, data, priors, common_effect, moderators, random_effects)

    def check_for_sampler(self) -> ModelSpec:
        """This description, if the sampler can handle its priors (parameters in range).

        Raises
        ------
        OptionError
            A prior parameter out of the sampler's range (the exact engine has no such limit).
        """
        self.priors.check_for_sampler()
        for name in self.effects.parameters:
            check_for_sampler(getattr(self.priors, name), name)
        if self.moderators is not None:
            check_for_sampler(self.moderators.prior_beta, "the slopes")
        return self

    def improper(self) -> tuple[str, ...]:
        """The names of the priors the model uses that are improper (``flat``,
        ``uniform-improper``)."""
        used = [n for n in self.prior_names if not getattr(self.priors, n).proper]
        if self.moderators is not None and self.moderators.x is not None:
            used += [] if self.moderators.prior_beta.proper else ["beta"]
        return tuple(used)

    def check_proper(self, engine: str, *, bayes_factors: bool = False) -> ModelSpec:
        """This description, if its improper priors (if any) give a proper posterior that
        ``engine`` computes.

        Improper priors (the R bayesmeta package's defaults: ``flat`` for ``mu``,
        ``uniform-improper`` for ``tau``) are for the exact normal-normal engine, without
        Bayes factors (a marginal likelihood under an improper prior is arbitrary). With
        ``p`` flat coefficients, ``p(y | tau)`` falls as ``tau^-(k - p)``, so a uniform prior
        on ``tau`` gives a proper posterior when ``k - p >= 2`` (Rover 2020, J Stat Softw
        93(6), sec. 2.2).

        Raises
        ------
        OptionError
            In one line: where the improper prior is refused and why.
        """
        names = self.improper()
        if not names:
            return self
        priors = {n: getattr(self.priors, n) for n in names if n != "beta"}
        if "beta" in names:
            priors["beta"] = self.moderators.prior_beta
        what = ", ".join(f"{n} ~ {p}" for n, p in priors.items())
        if engine != "exact" or self.family.exact != "exact":
            raise OptionError(
                f"the improper prior {what} is for --engine exact with --model normal-normal "
                f"(got --model {self.likelihood} --engine {engine}); give a proper prior"
            )
        if bayes_factors:
            raise OptionError(
                f"Bayes factors need proper priors (with {what} a marginal likelihood is "
                "arbitrary); give proper priors for mu and tau"
            )
        if "tau" in names and not self.common_effect:
            mods = self.moderators
            n_mu = len(mods.levels) if mods is not None and mods.group is not None else 1
            flat = n_mu * ("mu" in names) + (len(mods.names) if "beta" in names else 0)
            k = len(self.study)
            if k - flat < 2:
                raise OptionError(
                    f"the posterior is improper: {what} needs at least {flat + 2} studies "
                    f"(got {k}); give a proper prior for tau"
                )
        return self

    def with_data(self, data: AnyData) -> ModelSpec:
        """The same model on other data of the same kind."""
        return replace(self, data=data)

    @property
    def scale(self) -> Scale:
        """The scale of ``mu`` and ``theta``."""
        return scale_of_data(self.data)

    @property
    def family(self) -> Likelihood:
        """The registered likelihood of the model."""
        return likelihood(self.likelihood)

    @property
    def effects(self) -> RandomEffects:
        """The registered distribution of the study effects."""
        return random_effects(self.random_effects)

    @property
    def baseline(self) -> bool:
        """The model has study baselines ``alpha``."""
        return self.family.baseline

    @property
    def prior_names(self) -> tuple[str, ...]:
        """The priors the model uses: ``mu``; ``tau`` unless common-effect; ``baseline`` for
        a likelihood with study baselines; those of the random-effects distribution (``nu``
        of Student-t effects)."""
        return (
            "mu",
            *(() if self.common_effect else ("tau",)),
            *(("baseline",) if self.baseline else ()),
            *self.effects.parameters,
        )

    def priors_used(self) -> dict[str, str | None]:
        """``mu``, ``tau`` and ``baseline`` as prior text, None for one the model does not use
        (what result files record: a prior the model has no parameter for was not used);
        ``nu`` only for a model that has it."""
        given = self.priors.to_dict()
        shown = [n for n in given if n in ("mu", "tau", "baseline") or n in self.prior_names]
        return {name: given[name] if name in self.prior_names else None for name in shown}

    @cached_property
    def normal(self) -> NormalInputs:
        """Estimates and variances of a normal-normal model (:func:`normal_inputs`)."""
        return normal_inputs(self.data)

    @property
    def study(self) -> tuple[str, ...]:
        """The studies in the model (a normal-normal model on counts leaves out double zeros)."""
        return self.normal.study if self.family.derived_data else self.data.study

    def arrays(self) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """The model's data by name: ``(given, observed)``.

        ``given`` are the quantities the likelihood conditions on (arm sizes; standard errors),
        ``observed`` the outcomes (event counts; estimates). Every engine names them so: the
        PyMC model holds each in a ``pm.Data`` container (observed ones as ``NAME_data``) and
        records them in ``constant_data`` / ``observed_data``, as does the kernel engine.
        """
        given, observed = self.family.arrays(self)
        return (
            {k: np.asarray(v) for k, v in given.items()},
            {k: np.asarray(v) for k, v in observed.items()},
        )


def scale_of_data(data: AnyData) -> Scale:
    """The scale every model of ``data`` works on: that of its likelihood's measure (log odds
    ratios for two-arm counts, logits for single-arm counts, the reported measure's scale for
    reported effects)."""
    return scale_of_measure(native(data).measure_of(data))
