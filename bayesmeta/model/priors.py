"""Prior distributions as small values: parsed from CLI strings, used by PyMC and by scipy.

A :class:`Prior` is a family name and its parameters. ``str(prior)`` gives back the CLI syntax
(``"half-normal(0.5)"``), :meth:`Prior.to_pymc` creates the PyMC variable (PyMC is imported only
then), and :meth:`Prior.logpdf` / :meth:`Prior.cdf` / :meth:`Prior.ppf` give the same density in
numpy for the exact engine and the prior tables.

Defaults (see ``docs/priors.md`` for the reasoning):

- ``mu``: ``normal(0, 2.82)`` puts 95% of the prior mass on odds ratios between 1/250 and 250
  (Gunhan, Rover & Friede 2020, Res Synth Methods 11:74-90).
- ``tau``: ``half-normal(0.5)`` for log odds ratios, a weakly informative prior that allows
  "fairly high" heterogeneity while ruling out extreme values (Friede et al. 2017, Biom J
  59:658-671; Rover et al. 2021, Res Synth Methods 12:448-474).
- study baselines ``alpha``: ``normal(0, 10)``, vague on the log-odds scale (as in MetaStan).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from bayesmeta.errors import BayesmetaError

if TYPE_CHECKING:
    import pymc as pm

# family -> (parameter names, support)
FAMILIES: dict[str, tuple[tuple[str, ...], str]] = {
    "normal": (("mu", "sigma"), "real"),
    "half-normal": (("sigma",), "positive"),
    "half-cauchy": (("scale",), "positive"),
    "half-student-t": (("nu", "sigma"), "positive"),
    "uniform": (("lower", "upper"), "interval"),
    "exponential": (("rate",), "positive"),
    "lognormal": (("mu", "sigma"), "positive"),
}
_ALIASES = {name.replace("-", ""): name for name in FAMILIES}
_SYNTAX = re.compile(r"^\s*([A-Za-z][A-Za-z_\- ]*?)\s*\((.*)\)\s*$")


def _fmt(x: float) -> str:
    return f"{x:g}"


@dataclass(frozen=True)
class Prior:
    """A prior distribution: family name (as in :data:`FAMILIES`) and its parameters.

    ``label``, when set, is the CLI text the prior was made from and what ``str`` returns, e.g.
    ``turner(all-cause mortality, pharmacological vs. placebo / control)`` for a ``lognormal``
    (see :mod:`bayesmeta.model.turner`).
    """

    family: str
    params: tuple[float, ...]
    label: str | None = None

    def __post_init__(self) -> None:
        if self.family not in FAMILIES:
            raise BayesmetaError(
                f"unknown prior family {self.family!r}; choose one of {', '.join(FAMILIES)}"
            )
        names, support = FAMILIES[self.family]
        if len(self.params) != len(names):
            raise BayesmetaError(
                f"{self.family} takes {len(names)} parameter(s) ({', '.join(names)}), "
                f"got {len(self.params)}"
            )
        if not all(math.isfinite(p) for p in self.params):
            raise BayesmetaError(f"{self}: parameters must be finite numbers")
        named = dict(zip(names, self.params, strict=True))
        for key in ("sigma", "scale", "rate", "nu"):
            if key in named and named[key] <= 0:
                raise BayesmetaError(f"{self}: {key} must be positive, got {_fmt(named[key])}")
        if support == "interval" and not named["lower"] < named["upper"]:
            raise BayesmetaError(f"{self}: lower must be below upper")

    def __str__(self) -> str:
        if self.label is not None:
            return self.label
        return f"{self.family}({', '.join(_fmt(p) for p in self.params)})"

    @property
    def support(self) -> tuple[float, float]:
        """Interval of values with positive density."""
        kind = FAMILIES[self.family][1]
        if kind == "real":
            return (-math.inf, math.inf)
        if kind == "positive":
            return (0.0, math.inf)
        return (self.params[0], self.params[1])

    def scipy(self) -> Any:
        """The same distribution as a frozen scipy.stats object."""
        from scipy import stats  # here, not at module level: it costs ~0.5 s to import

        p = self.params
        match self.family:
            case "normal":
                return stats.norm(loc=p[0], scale=p[1])
            case "half-normal":
                return stats.halfnorm(scale=p[0])
            case "half-cauchy":
                return stats.halfcauchy(scale=p[0])
            case "half-student-t":
                return _HalfT(nu=p[0], sigma=p[1])
            case "uniform":
                return stats.uniform(loc=p[0], scale=p[1] - p[0])
            case "exponential":
                return stats.expon(scale=1.0 / p[0])
            case "lognormal":
                return stats.lognorm(s=p[1], scale=math.exp(p[0]))
        raise AssertionError(self.family)  # unreachable: validated in __post_init__

    def logpdf(self, x: np.ndarray | float) -> np.ndarray:
        """Log density at ``x`` (``-inf`` outside the support)."""
        return np.asarray(self.scipy().logpdf(x), dtype=float)

    def cdf(self, x: np.ndarray | float) -> np.ndarray:
        """Cumulative distribution function at ``x``."""
        return np.asarray(self.scipy().cdf(x), dtype=float)

    def ppf(self, q: np.ndarray | float) -> np.ndarray:
        """Quantile function at probabilities ``q``."""
        return np.asarray(self.scipy().ppf(q), dtype=float)

    def to_pymc(self, name: str, **kwargs: Any) -> pm.Distribution:
        """Create the PyMC random variable ``name`` (inside a model context)."""
        import pymc as pm

        p = self.params
        match self.family:
            case "normal":
                return pm.Normal(name, mu=p[0], sigma=p[1], **kwargs)
            case "half-normal":
                return pm.HalfNormal(name, sigma=p[0], **kwargs)
            case "half-cauchy":
                return pm.HalfCauchy(name, beta=p[0], **kwargs)
            case "half-student-t":
                return pm.HalfStudentT(name, nu=p[0], sigma=p[1], **kwargs)
            case "uniform":
                return pm.Uniform(name, lower=p[0], upper=p[1], **kwargs)
            case "exponential":
                return pm.Exponential(name, lam=p[0], **kwargs)
            case "lognormal":
                return pm.LogNormal(name, mu=p[0], sigma=p[1], **kwargs)
        raise AssertionError(self.family)


@dataclass(frozen=True)
class _HalfT:
    """|T| for T ~ Student-t(nu, 0, sigma): scipy has no folded t, so fold it here."""

    nu: float
    sigma: float

    def logpdf(self, x: np.ndarray | float) -> np.ndarray:
        from scipy import stats

        x = np.asarray(x, dtype=float)
        dens = math.log(2.0) + stats.t.logpdf(x, df=self.nu, scale=self.sigma)
        return np.where(x >= 0, dens, -np.inf)

    def cdf(self, x: np.ndarray | float) -> np.ndarray:
        from scipy import stats

        x = np.asarray(x, dtype=float)
        return np.where(x >= 0, 2.0 * stats.t.cdf(x, df=self.nu, scale=self.sigma) - 1.0, 0.0)

    def ppf(self, q: np.ndarray | float) -> np.ndarray:
        from scipy import stats

        q = np.asarray(q, dtype=float)
        return stats.t.ppf((1.0 + q) / 2.0, df=self.nu, scale=self.sigma)


def parse_prior(text: str | Prior) -> Prior:
    """Parse ``"half-normal(0.5)"``-style text (case, spaces, ``_``/``-`` are forgiven)."""
    if isinstance(text, Prior):
        return text
    match = _SYNTAX.match(str(text))
    if not match:
        raise BayesmetaError(
            f"cannot read prior {text!r}: write FAMILY(PARAMS), e.g. 'half-normal(0.5)'; "
            f"families: {', '.join(FAMILIES)}"
        )
    raw_name, raw_args = match.groups()
    key = re.sub(r"[\s_\-]+", "", raw_name.lower())
    if key == "turner":
        from bayesmeta.model.turner import parse_turner  # turner builds on Prior

        return parse_turner(raw_args)
    family = _ALIASES.get(key)
    if family is None:
        raise BayesmetaError(
            f"unknown prior family {raw_name!r} in {text!r}; choose one of {', '.join(FAMILIES)}"
        )
    args = [a.strip() for a in raw_args.split(",")] if raw_args.strip() else []
    try:
        params = tuple(float(a) for a in args)
    except ValueError:
        raise BayesmetaError(f"prior {text!r}: parameters must be numbers") from None
    return Prior(family, params)


def check_scale_prior(prior: Prior, what: str = "tau") -> Prior:
    """A prior for a standard deviation must live on the positive half-line."""
    lo, _ = prior.support
    if lo < 0:
        raise BayesmetaError(
            f"prior for {what} must put no mass below 0 (got {prior}); use e.g. half-normal(0.5)"
        )
    return prior


DEFAULT_MU = Prior("normal", (0.0, 2.82))
DEFAULT_TAU = Prior("half-normal", (0.5,))
DEFAULT_BASELINE = Prior("normal", (0.0, 10.0))


@dataclass(frozen=True)
class PriorSet:
    """The priors of a binomial-normal model: pooled effect, heterogeneity, study baselines."""

    mu: Prior = DEFAULT_MU
    tau: Prior = DEFAULT_TAU
    baseline: Prior = DEFAULT_BASELINE

    def __post_init__(self) -> None:
        check_scale_prior(self.tau, "tau")

    def to_dict(self) -> dict[str, str]:
        """CLI strings of each prior (what the JSON output records)."""
        return {"mu": str(self.mu), "tau": str(self.tau), "baseline": str(self.baseline)}
