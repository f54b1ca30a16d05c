"""Prior distributions: one registry of families that every engine reads, and small prior values.

A prior family is one row of :data:`FAMILIES` (a :class:`Family`): its parameters, support,
scipy distribution (exact engine, prior tables), PyMC distribution (PyMC builders), the code the
hand-written kernels know it by, PyMC's default starting value, and its text form. Adding a
family is adding a row here plus its branch in ``bayesmeta.engines._numba.prior_logp``.

A :class:`Prior` is a family name and its parameters. ``str(prior)`` gives back the CLI syntax
(``"half-normal(0.5)"``) and :func:`parse_prior` reads it.

Defaults (see ``docs/priors.md`` for the reasoning):

- ``mu``: ``normal(0, 2.82)`` puts 95% of the prior mass on odds ratios between 1/250 and 250
  (Gunhan, Rover & Friede 2020, Res Synth Methods 11:74-90).
- ``tau``: ``half-normal(0.5)`` for log odds ratios, a weakly informative prior that allows
  "fairly high" heterogeneity while ruling out extreme values (Friede et al. 2017, Biom J
  59:658-671; Rover et al. 2021, Res Synth Methods 12:448-474).
- study baselines ``alpha``: ``normal(0, 10)``, vague on the log-odds scale (as in MetaStan).
- ``nu``, the degrees of freedom of Student-t random effects (``--random-effects t``):
  ``gamma(2, 0.1)`` (mean 20, median 17, mode 10; 5% below 3.6, 0.5% below 1), Juarez & Steel
  (2010, J Bus Econ Stat 28:52-66), the Stan prior-choice recommendation for a t's degrees
  of freedom: it rules out neither near-normal effects nor heavy tails.
- single-arm (logit proportion) models: ``normal(0, 1.5)`` on the pooled logit is close to
  uniform on the proportion scale (its logistic transform has a flat-topped density on
  (0.05, 0.95)); ``half-normal(1)`` on tau allows the larger heterogeneity usual for proportions.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from bayesmeta.errors import OptionError
from bayesmeta.model import densities, turner

if TYPE_CHECKING:
    import pymc as pm

Support = Literal["real", "positive", "interval"]
Params = tuple[float, ...]


def _stats() -> Any:
    from scipy import stats  # here, not at module level: it costs ~0.5 s to import

    return stats


@dataclass(frozen=True)
class Family:
    """One prior family, as every engine needs it.

    ``positive`` names the parameters that must be above 0; ``scipy`` gives the frozen scipy
    distribution, ``pymc`` the PyMC class name and keyword arguments, ``code`` the number
    ``bayesmeta.engines._numba.prior_logp`` knows it by, and ``support_point`` PyMC's default
    starting value (its ``support_point``). ``numpy``, when given, is the same distribution as
    a :class:`~bayesmeta.model.densities.LocScale`, whose ``logpdf`` and ``ppf`` equal scipy's
    bit for bit without importing scipy.stats. ``proper`` is False for the improper
    (constant-density) priors, which only the exact normal-normal engine takes
    (:func:`check_proper`).
    """

    name: str
    params: tuple[str, ...]
    positive: tuple[str, ...]
    support: Support
    code: int
    scipy: Callable[[Params], Any]
    pymc: tuple[str, Callable[[Params], dict[str, float]]]
    support_point: Callable[[Params], float]
    numpy: Callable[[Params], Any] | None = None
    defaults: tuple[tuple[str, float], ...] = ()
    proper: bool = True

    def keywords(self) -> dict[str, int]:
        """Parameter position by keyword: this family's names (``scale``) and PyMC's (``beta``)."""
        pymc_names = self.pymc[1](tuple(float(i) for i in range(len(self.params))))
        return {
            **{k: int(v) for k, v in pymc_names.items()},
            **{n: i for i, n in enumerate(self.params)},
        }


@dataclass(frozen=True)
class _HalfT:
    """|T| for T ~ Student-t(nu, 0, sigma): scipy has no folded t, so fold it here."""

    nu: float
    sigma: float

    def logpdf(self, x: np.ndarray | float) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        dens = math.log(2.0) + _stats().t.logpdf(x, df=self.nu, scale=self.sigma)
        return np.where(x >= 0, dens, -np.inf)

    def cdf(self, x: np.ndarray | float) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        t = _stats().t.cdf(x, df=self.nu, scale=self.sigma)
        return np.where(x >= 0, 2.0 * t - 1.0, 0.0)

    def ppf(self, q: np.ndarray | float) -> np.ndarray:
        q = np.asarray(q, dtype=float)
        return _stats().t.ppf((1.0 + q) / 2.0, df=self.nu, scale=self.sigma)


@dataclass(frozen=True)
class _Improper:
    """The constant density 1 on ``[lower, inf)`` (``-inf``: the whole line): an improper
    prior has a log density up to a constant, but no cdf or quantiles."""

    lower: float

    def logpdf(self, x: np.ndarray | float) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        return np.where(x >= self.lower, 0.0, -np.inf)

    def _no(self, *_: Any) -> np.ndarray:
        raise OptionError("an improper prior has no cdf or quantiles (it does not integrate to 1)")

    cdf = ppf = _no


FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        Family(
            "normal", ("mu", "sigma"), ("sigma",), "real", 0,
            lambda p: _stats().norm(loc=p[0], scale=p[1]),
            ("Normal", lambda p: {"mu": p[0], "sigma": p[1]}),
            lambda p: p[0],
            numpy=lambda p: densities.LocScale(densities.NORM, p[0], p[1]),
            defaults=(("mu", 0.0), ("sigma", 1.0)),
        ),
        Family(
            "half-normal", ("sigma",), ("sigma",), "positive", 1,
            lambda p: _stats().halfnorm(scale=p[0]),
            ("HalfNormal", lambda p: {"sigma": p[0]}),
            lambda p: p[0],
            numpy=lambda p: densities.LocScale(densities.HALFNORM, 0.0, p[0]),
            defaults=(("sigma", 1.0),),
        ),
        Family(
            "half-cauchy", ("scale",), ("scale",), "positive", 2,
            lambda p: _stats().halfcauchy(scale=p[0]),
            ("HalfCauchy", lambda p: {"beta": p[0]}),
            lambda p: p[0],
            numpy=lambda p: densities.LocScale(densities.HALFCAUCHY, 0.0, p[0]),
        ),
        Family(
            "half-student-t", ("nu", "sigma"), ("nu", "sigma"), "positive", 3,
            lambda p: _HalfT(nu=p[0], sigma=p[1]),
            ("HalfStudentT", lambda p: {"nu": p[0], "sigma": p[1]}),
            lambda p: p[1],
            defaults=(("sigma", 1.0),),
        ),
        Family(
            "uniform", ("lower", "upper"), (), "interval", 4,
            lambda p: _stats().uniform(loc=p[0], scale=p[1] - p[0]),
            ("Uniform", lambda p: {"lower": p[0], "upper": p[1]}),
            lambda p: 0.5 * (p[0] + p[1]),
            numpy=lambda p: densities.LocScale(densities.UNIFORM, p[0], p[1] - p[0]),
            defaults=(("lower", 0.0), ("upper", 1.0)),
        ),
        Family(
            "exponential", ("rate",), ("rate",), "positive", 5,
            lambda p: _stats().expon(scale=1.0 / p[0]),
            ("Exponential", lambda p: {"lam": p[0]}),
            lambda p: 1.0 / p[0],
            numpy=lambda p: densities.LocScale(densities.EXPON, 0.0, 1.0 / p[0]),
        ),
        Family(
            "lognormal", ("mu", "sigma"), ("sigma",), "positive", 6,
            lambda p: _stats().lognorm(s=p[1], scale=math.exp(p[0])),
            ("LogNormal", lambda p: {"mu": p[0], "sigma": p[1]}),
            lambda p: math.exp(p[0] + 0.5 * p[1] ** 2),
            defaults=(("mu", 0.0), ("sigma", 1.0)),
        ),
        Family(
            "inverse-gamma", ("shape", "scale"), ("shape", "scale"), "positive", 7,
            lambda p: _stats().invgamma(a=p[0], scale=p[1]),
            ("InverseGamma", lambda p: {"alpha": p[0], "beta": p[1]}),
            lambda p: p[1] / (p[0] - 1.0) if p[0] > 1.0 else p[1] / (p[0] + 1.0),
            numpy=lambda p: densities.InverseGamma(p[0], p[1]),
        ),
        Family(
            "gamma", ("shape", "rate"), ("shape", "rate"), "positive", 8,
            lambda p: _stats().gamma(a=p[0], scale=1.0 / p[1]),
            ("Gamma", lambda p: {"alpha": p[0], "beta": p[1]}),
            lambda p: p[0] / p[1],
        ),
        # improper priors, the R bayesmeta package's defaults (Rover 2020, J Stat Softw 93(6),
        # sec. 2.2): the exact normal-normal engine only (check_proper)
        Family(
            "flat", (), (), "real", -1,
            lambda p: _Improper(-math.inf), ("Flat", lambda p: {}), lambda p: 0.0,
            proper=False,
        ),
        Family(
            "uniform-improper", (), (), "positive", -2,
            lambda p: _Improper(0.0), ("HalfFlat", lambda p: {}), lambda p: 1.0,
            proper=False,
        ),
    )
}  # fmt: skip
_ALIASES = {name.replace("-", ""): name for name in FAMILIES}
_SYNTAX = re.compile(r"^\s*([A-Za-z][A-Za-z_\- ]*?)\s*\((.*)\)\s*$")


def _fmt(x: float) -> str:
    """The shortest text that reads back as ``x`` (``10``, ``2.82``, ``1000001``, ``1e-05``)."""
    text = repr(float(x))
    return text[:-2] if text.endswith(".0") else text


def _from_keywords(family: Family, keywords: Mapping[str, float]) -> tuple[float, ...]:
    """Parameters in registry order from keywords (this family's or PyMC's names)."""
    position = family.keywords()
    unknown = sorted(set(keywords) - set(position))
    if unknown:
        raise OptionError(
            f"{family.name} ({family.pymc[0]}) has no parameter {', '.join(unknown)}; "
            f"it takes {', '.join(position)}"
        )
    values: list[float | None] = [None] * len(family.params)
    for key, value in {**dict(family.defaults), **keywords}.items():
        values[position[key]] = value
    missing = [
        "/".join(k for k, i in position.items() if i == j)
        for j, v in enumerate(values)
        if v is None
    ]
    if missing:
        raise OptionError(f"{family.name} ({family.pymc[0]}) needs {', '.join(missing)}")
    return tuple(float(v) for v in values)  # type: ignore[arg-type]


def _family_name(name: str) -> str:
    """The registry name of a family spelled as here or as PyMC's class (``HalfNormal``)."""
    if name in FAMILIES:
        return name
    found = _ALIASES.get(re.sub(r"[\s_\-]+", "", str(name).lower()))
    if found is None:
        raise OptionError(f"unknown prior family {name!r}; choose one of {', '.join(FAMILIES)}")
    return found


@dataclass(frozen=True, init=False)
class Prior:
    """A prior distribution: family name (a key of :data:`FAMILIES`) and its parameters.

    Written as here, ``Prior("half-normal", (0.5,))``, or as PyMC writes the distribution:
    its class name and keywords, ``Prior("HalfNormal", sigma=0.5)``, ``Prior("HalfCauchy",
    beta=1)``, ``Prior("Normal", mu=0, sigma=2.82)``; parameters left out take PyMC's
    defaults (``Normal``: ``mu=0, sigma=1``). Both give the same value:
    ``Prior("HalfNormal", sigma=0.5) == parse_prior("half-normal(0.5)")`` and its ``str`` is
    ``"half-normal(0.5)"``.

    ``label``, when set, is the CLI text the prior was made from and what ``str`` returns, e.g.
    ``turner(all-cause mortality, pharmacological vs. placebo / control)`` for a ``lognormal``
    (see :func:`turner_prior`).

    Raises
    ------
    OptionError
        An unknown family or keyword, a parameter missing, not a number or out of range.
    """

    family: str
    params: Params
    label: str | None

    def __init__(
        self,
        family: str,
        params: Sequence[float] | float | None = None,
        label: str | None = None,
        **keywords: float,
    ) -> None:
        name = _family_name(family)
        spec = FAMILIES[name]
        if params is None:
            params = _from_keywords(spec, keywords)
        elif keywords:
            raise OptionError(
                f"prior {family!r}: give the parameters as a tuple or as keywords, not both"
            )
        elif isinstance(params, int | float | np.number) and not isinstance(params, bool):
            params = (params,)
        try:
            values = tuple(float(p) for p in params)  # type: ignore[union-attr]
        except (TypeError, ValueError):
            raise OptionError(f"prior {family!r}: parameters must be numbers") from None
        object.__setattr__(self, "family", name)
        object.__setattr__(self, "params", values)
        object.__setattr__(self, "label", label)
        self._check()

    def _check(self) -> None:
        names = self.spec.params
        if len(self.params) != len(names):
            raise OptionError(
                f"{self.family} takes {len(names)} parameter(s) ({', '.join(names)}), "
                f"got {len(self.params)}"
            )
        if not all(math.isfinite(p) for p in self.params):
            raise OptionError(f"{self}: parameters must be finite numbers")
        named = dict(zip(names, self.params, strict=True))
        for key in self.spec.positive:
            if named[key] <= 0:
                raise OptionError(f"{self}: {key} must be positive, got {_fmt(named[key])}")
        if self.spec.support == "interval" and not named["lower"] < named["upper"]:
            raise OptionError(f"{self}: lower must be below upper")

    def __str__(self) -> str:
        if self.label is not None:
            return self.label
        if not self.params:
            return self.family
        return f"{self.family}({', '.join(_fmt(p) for p in self.params)})"

    @property
    def spec(self) -> Family:
        """The family's registry row."""
        return FAMILIES[self.family]

    @property
    def proper(self) -> bool:
        """False for an improper prior (``flat``, ``uniform-improper``)."""
        return self.spec.proper

    @property
    def support(self) -> tuple[float, float]:
        """Interval of values with positive density."""
        kind = self.spec.support
        if kind == "real":
            return (-math.inf, math.inf)
        if kind == "positive":
            return (0.0, math.inf)
        return (self.params[0], self.params[1])

    def scipy(self) -> Any:
        """The same distribution as a frozen scipy.stats object."""
        return self.spec.scipy(self.params)

    def _fast(self) -> Any:
        """The distribution as numpy computes it (scipy.stats' numbers), else scipy's."""
        make = self.spec.numpy
        return make(self.params) if make is not None else self.scipy()

    def logpdf(self, x: np.ndarray | float) -> np.ndarray:
        """Log density at ``x`` (``-inf`` outside the support)."""
        return np.asarray(self._fast().logpdf(x), dtype=float)

    def cdf(self, x: np.ndarray | float) -> np.ndarray:
        """Cumulative distribution function at ``x``."""
        return np.asarray(self.scipy().cdf(x), dtype=float)

    def ppf(self, q: np.ndarray | float) -> np.ndarray:
        """Quantile function at probabilities ``q``."""
        return np.asarray(self._fast().ppf(q), dtype=float)

    def support_point(self) -> float:
        """PyMC's default starting value of this prior (e.g. the mean or the scale)."""
        return self.spec.support_point(self.params)

    def to_pymc(self, name: str, **kwargs: Any) -> pm.Distribution:
        """Create the PyMC random variable ``name`` (inside a model context)."""
        import pymc as pm

        cls, arguments = self.spec.pymc
        return getattr(pm, cls)(name, **arguments(self.params), **kwargs)


def turner_prior(outcome: str, comparison: str | None = None) -> Prior:
    """Prior for ``tau`` (log-OR scale) from Turner et al. (2015), Table IV.

    ``lognormal(m / 2, s / 2)`` where ``log tau^2 ~ N(m, s^2)``; its ``str`` is
    ``turner(OUTCOME, COMPARISON)`` with the canonical names, which :func:`parse_prior` reads
    back. Arguments as :func:`bayesmeta.model.turner.turner_parameters`.
    """
    m, s, label = turner.turner_parameters(outcome, comparison)
    return Prior("lognormal", (m / 2.0, s / 2.0), label=label)


def parse_prior(text: str | Prior) -> Prior:
    """Parse ``"half-normal(0.5)"``-style text (case, spaces, ``_``/``-`` are forgiven).

    ``turner(OUTCOME, A vs B)`` gives :func:`turner_prior`; a :class:`Prior` is returned as is.
    """
    if isinstance(text, Prior):
        return text
    bare = _ALIASES.get(re.sub(r"[\s_\-]+", "", str(text).lower()))
    if bare is not None and not FAMILIES[bare].params:  # "flat", "uniform-improper"
        return Prior(bare, ())
    match = _SYNTAX.match(str(text))
    if not match:
        raise OptionError(
            f"cannot read prior {text!r}: write FAMILY(PARAMS), e.g. 'half-normal(0.5)'; "
            f"families: {', '.join(FAMILIES)}"
        )
    raw_name, raw_args = match.groups()
    key = re.sub(r"[\s_\-]+", "", raw_name.lower())
    if key == "turner":
        return turner_prior(*turner.split_arguments(raw_args))
    family = _ALIASES.get(key)
    if family is None:
        raise OptionError(
            f"unknown prior family {raw_name!r} in {text!r}; choose one of {', '.join(FAMILIES)}"
        )
    args = [a.strip() for a in raw_args.split(",")] if raw_args.strip() else []
    try:
        params = tuple(float(a) for a in args)
    except ValueError:
        raise OptionError(f"prior {text!r}: parameters must be numbers") from None
    return Prior(family, params)


# What NUTS and the kernels handle in double precision: scale parameters in [1e-6, 1e6],
# locations within +-1e6, a log-normal's log-location within +-log(1e6) and log-scale up to 10
# (its mean exp(mu + sigma^2 / 2), PyMC's starting value, must stay finite). The exact engine
# has no such limit (a half-normal(1e300) is flat over the likelihood there).
SAMPLER_RANGE = (1e-6, 1e6)
_LOCATION = (-1e6, 1e6)
_SAMPLER_RANGES: dict[str, dict[str, tuple[float, float]]] = {
    "lognormal": {"mu": (-math.log(1e6), math.log(1e6)), "sigma": (1e-6, 10.0)},
    "inverse-gamma": {"shape": (1e-2, 1e6)},
}


def check_for_sampler(prior: Prior, what: str) -> Prior:
    """``prior`` if its parameters are in the range the sampler handles, else OptionError.

    Raises
    ------
    OptionError
        Naming the prior, the parameter, its range and what was given.
    """
    family = prior.spec
    if not family.proper:
        raise OptionError(
            f"prior for {what} {prior} is improper: NUTS needs a proper prior (the improper "
            "priors are for --engine exact with --model normal-normal)"
        )
    for name, value in zip(family.params, prior.params, strict=True):
        default = SAMPLER_RANGE if name in family.positive else _LOCATION
        lo, hi = _SAMPLER_RANGES.get(family.name, {}).get(name, default)
        if not lo <= value <= hi:
            raise OptionError(
                f"prior for {what} {prior}: {name} must be between {lo:g} and {hi:g} for the "
                f"sampler, got {_fmt(value)}"
            )
    return prior


def check_scale_prior(prior: Prior, what: str = "tau") -> Prior:
    """A prior for a standard deviation must live on the positive half-line."""
    lo, _ = prior.support
    if lo < 0:
        raise OptionError(
            f"prior for {what} must put no mass below 0 (got {prior}); use e.g. half-normal(0.5)"
        )
    return prior


DEFAULT_MU = Prior("normal", (0.0, 2.82))
DEFAULT_TAU = Prior("half-normal", (0.5,))
DEFAULT_BASELINE = Prior("normal", (0.0, 10.0))
DEFAULT_BETA = Prior("normal", (0.0, 10.0))
DEFAULT_NU = Prior("gamma", (2.0, 0.1))

PriorLike = Prior | str
PRIOR_FIELDS = ("mu", "tau", "baseline", "nu")  # the fields of a PriorSet


@dataclass(frozen=True)
class PriorSet:
    """The priors of a meta-analysis model: pooled effect, heterogeneity, study baselines and
    the degrees of freedom ``nu`` of Student-t random effects.

    Each accepts a :class:`Prior` or its text (``PriorSet(tau="half-cauchy(0.5)")``).
    """

    mu: Prior = DEFAULT_MU
    tau: Prior = DEFAULT_TAU
    baseline: Prior = DEFAULT_BASELINE
    nu: Prior = DEFAULT_NU

    def __post_init__(self) -> None:
        for name in PRIOR_FIELDS:
            value = getattr(self, name)
            if isinstance(value, str):
                object.__setattr__(self, name, parse_prior(value))
            elif not isinstance(value, Prior):
                raise TypeError(
                    f"PriorSet.{name} must be a Prior or prior text such as "
                    f"'half-normal(0.5)', got {type(value).__name__}"
                )
        check_scale_prior(self.tau, "tau")
        check_scale_prior(self.nu, "nu")

    @classmethod
    def of(
        cls, priors: PriorSet | Mapping[str, PriorLike | None] | None = None, **given: Any
    ) -> PriorSet:
        """Priors from a PriorSet, a mapping or keywords of :class:`Prior` or prior text.

        ``PriorSet.of({"tau": "half-cauchy(0.5)"})`` and ``PriorSet.of(tau="half-cauchy(0.5)")``
        give the defaults with that tau prior; None values are left at the defaults.
        """
        if isinstance(priors, PriorSet):
            return priors.with_overrides(**given)
        return cls().with_overrides(**{**dict(priors or {}), **given})

    def with_overrides(self, **given: PriorLike | None) -> PriorSet:
        """These priors with those in ``given`` (Prior or prior text) put in their place."""
        unknown = sorted(set(given) - set(PRIOR_FIELDS))
        if unknown:
            raise OptionError(
                f"unknown prior name(s) {', '.join(unknown)}; valid: {', '.join(PRIOR_FIELDS)}"
            )
        chosen = {k: parse_prior(v) for k, v in given.items() if v is not None}
        return replace(self, **chosen) if chosen else self

    def to_dict(self) -> dict[str, str]:
        """CLI strings of each prior (what the JSON output records)."""
        return {name: str(getattr(self, name)) for name in PRIOR_FIELDS}

    def check_for_sampler(self) -> PriorSet:
        """These priors of ``mu``, ``tau`` and ``baseline``, if every parameter is in the range
        the sampler handles (:func:`check_for_sampler`; ``nu`` is checked where a model has it,
        :meth:`bayesmeta.model.description.ModelSpec.check_for_sampler`)."""
        for name in ("mu", "tau", "baseline"):
            check_for_sampler(getattr(self, name), name)
        return self


PROPORTION_PRIORS = PriorSet(mu=Prior("normal", (0.0, 1.5)), tau=Prior("half-normal", (1.0,)))


def default_priors(scale: str) -> PriorSet:
    """The default priors of a model on ``scale`` (see the module docstring)."""
    return PROPORTION_PRIORS if scale == "logit_proportion" else PriorSet()
