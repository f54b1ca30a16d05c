"""The Bayesian publication-bias ensemble (``bayesmeta bias``, :func:`bias`).

RoBMA-PSMA's 36 models (:mod:`bayesmeta.model.bias`) on each study's effect and standard
error, each model's marginal likelihood by quadrature
(:mod:`bayesmeta.engines.bias_quadrature`). Posterior model probabilities are
``pi_m p(y | m) / sum pi p(y | .)``; the inclusion Bayes factor of the effect (of
heterogeneity, of publication bias) is the posterior odds of the models with it against those
without over their prior odds. The model-averaged ``mu`` is the mixture of the models'
posteriors with a point mass at 0 of the null models' probability (RoBMA's definition);
``unadjusted`` is the same average over the four models without bias. The averaged weight
function gives each interval of one-sided p-values (cut at every step of every weight
function, two-sided steps at ``s / 2`` and ``1 - s / 2``) its posterior weight, 1 under the
models without selection.

The likelihood is each study's normal approximation ``y_i ~ N(., se_i^2)``, as RoBMA's bias
models use: two-arm counts enter as their escalc effect and standard error.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from bayesmeta.engines.bias_quadrature import BiasModel, ModelFit, fit_model
from bayesmeta.errors import DataError, OptionError
from bayesmeta.model.bias import BIAS_COMPONENTS, DIRECTIONS, BiasPriors, bias_priors
from bayesmeta.summaries.types import DEFAULT_LEVEL, Summary
from bayesmeta.workflows.average import _mixture

MIN_STUDIES = 5  # the largest model has five parameters


@dataclass(frozen=True)
class ModelRow:
    """One model's prior and posterior probability and its log marginal likelihood."""

    model: BiasModel
    prior: float
    posterior: float
    log_ml: float
    log_ml_error: float
    mu: Summary | None

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "effect": self.model.effect,
            "heterogeneity": self.model.random,
            "bias": self.model.bias.name,
            "prior_probability": self.prior,
            "posterior_probability": self.posterior,
            "log_marginal_likelihood": self.log_ml,
            "log_marginal_likelihood_error": self.log_ml_error,
            "mu": self.mu.to_dict() if self.mu is not None else None,
        }


@dataclass(frozen=True)
class WeightFunction:
    """The model-averaged weight of each interval of one-sided p-values (``cuts`` between)."""

    cuts: tuple[float, ...]
    mean: tuple[float, ...]
    interval: tuple[tuple[float, float], ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        edges = (0.0, *self.cuts, 1.0)
        return {
            "intervals": [[a, b] for a, b in itertools.pairwise(edges)],
            "mean": list(self.mean),
            "ci95": [list(x) for x in self.interval],
        }


@dataclass(frozen=True)
class BiasEnsemble:
    """The ensemble's models, inclusion Bayes factors and model-averaged estimates.

    ``mu`` is the bias-adjusted model-averaged effect, ``mu_conditional`` the same over the
    models with an effect only, ``unadjusted`` the average of the four models without bias;
    ``tau``, ``pet`` and ``peese`` averaged with point masses at 0.
    """

    measure: str
    k: int
    direction: str
    priors: BiasPriors
    models: tuple[ModelRow, ...]
    log_inclusion_bf: dict[str, float]
    mu: Summary
    mu_conditional: Summary | None
    unadjusted: Summary
    tau: Summary
    pet: Summary
    peese: Summary
    weight_function: WeightFunction
    level: float = DEFAULT_LEVEL

    @property
    def max_log_ml_error(self) -> float:
        """The largest estimated quadrature error of a log marginal likelihood."""
        return max(r.log_ml_error for r in self.models)

    def component_probabilities(self, which: str) -> tuple[float, float]:
        """Prior and posterior probability of ``effect``, ``heterogeneity`` or ``bias``."""
        test = _COMPONENT[which]
        rows = [r for r in self.models if test(r.model)]
        return sum(r.prior for r in rows), sum(r.posterior for r in rows)

    def to_dict(self) -> dict[str, Any]:
        """JSON form (``mu`` on the model scale, e.g. log odds ratios)."""
        components = {}
        for name in _COMPONENT:
            prior, post = self.component_probabilities(name)
            lbf = self.log_inclusion_bf[name]
            components[name] = {
                "prior_probability": prior,
                "posterior_probability": post,
                "inclusion_bf": math.exp(lbf) if lbf < 709 else math.inf,
                "log_inclusion_bf": lbf,
            }
        return {
            "measure": self.measure,
            "k": self.k,
            "effect_direction": self.direction,
            "likelihood": "normal approximation of each study (y, se)",
            "priors": self.priors.to_dict(),
            "components": components,
            "mu": self.mu.to_dict(),
            "mu_conditional": self.mu_conditional.to_dict() if self.mu_conditional else None,
            "mu_unadjusted": self.unadjusted.to_dict(),
            "tau": self.tau.to_dict(),
            "pet": self.pet.to_dict(),
            "peese": self.peese.to_dict(),
            "weight_function": self.weight_function.to_dict(),
            "max_log_marginal_likelihood_error": self.max_log_ml_error,
            "models": [r.to_dict() for r in self.models],
        }


_COMPONENT = {
    "effect": lambda m: m.effect,
    "heterogeneity": lambda m: m.random,
    "bias": lambda m: m.bias.kind != "none",
}


class _GridMarginal:
    """A posterior density known on an increasing grid (its log interpolated by a cubic
    spline onto a fine grid): cdf, ppf, mean and sd as :func:`_mixture` reads them."""

    def __init__(self, x: np.ndarray, density: np.ndarray):
        from scipy.interpolate import CubicSpline

        keep = density > 0
        x, logd = x[keep], np.log(density[keep])
        fine = np.linspace(x[0], x[-1], 40 * len(x))
        dens = np.exp(CubicSpline(x, logd)(fine))
        cdf = np.concatenate([[0.0], np.cumsum(0.5 * (dens[1:] + dens[:-1]) * np.diff(fine))])
        self.x, self._cdf = fine, cdf / cdf[-1]
        p = dens / np.trapezoid(dens, fine)
        self.mean = float(np.trapezoid(p * fine, fine))
        self.sd = float(math.sqrt(max(np.trapezoid(p * (fine - self.mean) ** 2, fine), 0.0)))

    def cdf(self, x: np.ndarray) -> np.ndarray:
        return np.interp(x, self.x, self._cdf, left=0.0, right=1.0)

    def ppf(self, q: np.ndarray) -> np.ndarray:
        return np.interp(q, self._cdf, self.x)

    @property
    def median(self) -> float:
        return float(self.ppf(np.array(0.5)))

    def interval(self, level: float) -> tuple[float, float]:
        lo, hi = self.ppf(np.array([(1 - level) / 2, (1 + level) / 2]))
        return float(lo), float(hi)


def _weighted_summary(values: np.ndarray, weights: np.ndarray, level: float) -> Summary:
    """Summary of a discrete distribution (quadrature nodes; point masses)."""
    order = np.argsort(values, kind="stable")
    v, w = values[order], weights[order] / np.sum(weights)
    cum = np.cumsum(w)

    def q(p: float) -> float:
        return float(v[min(int(np.searchsorted(cum, p, side="left")), v.size - 1)])

    mean = float(np.dot(w, v))
    return Summary(
        mean=mean,
        median=q(0.5),
        sd=float(math.sqrt(max(np.dot(w, (v - mean) ** 2), 0.0))),
        interval=(q((1 - level) / 2), q((1 + level) / 2)),
        level=level,
    )


def _averaged(
    fits: Sequence[tuple[float, ModelFit]], name: str, fill: float, level: float
) -> Summary:
    """Model-averaged summary of node parameter ``name``; ``fill`` where a model lacks it."""
    values, weights = [], []
    for p, fit in fits:
        got = fit.nodes.values.get(name)
        if got is None or not _has(fit.model, name):
            values.append(np.array([fill]))
            weights.append(np.array([p]))
        else:
            values.append(np.asarray(got))
            weights.append(p * fit.nodes.weights)
    return _weighted_summary(np.concatenate(values), np.concatenate(weights), level)


def _has(model: BiasModel, name: str) -> bool:
    return {
        "tau": model.random,
        "pet": model.bias.kind == "pet",
        "peese": model.bias.kind == "peese",
    }[name]


def _union_cuts() -> tuple[float, ...]:
    """Every weight function's steps as one-sided p-values."""
    cuts: set[float] = set()
    for comp in BIAS_COMPONENTS.values():
        for s in comp.steps:
            cuts |= {s} if comp.sides == "one" else {s / 2, 1 - s / 2}
    return tuple(sorted(cuts))


def _weight_function(fits: Sequence[tuple[float, ModelFit]], level: float) -> WeightFunction:
    cuts = _union_cuts()
    edges = np.array((0.0, *cuts, 1.0))
    mids = 0.5 * (edges[1:] + edges[:-1])
    means, intervals = [], []
    for p1 in mids:
        values, weights = [], []
        for p, fit in fits:
            comp = fit.model.bias
            if comp.kind != "weightfunction":
                values.append(np.array([1.0]))
                weights.append(np.array([p]))
                continue
            pv = p1 if comp.sides == "one" else 2 * min(p1, 1 - p1)
            from_most = int(np.searchsorted(np.array(sorted(comp.steps)), pv, side="right"))
            column = comp.n_omega - from_most  # omega is ordered least to most significant
            values.append(fit.nodes.values["omega"][:, column])
            weights.append(p * fit.nodes.weights)
        s = _weighted_summary(np.concatenate(values), np.concatenate(weights), level)
        means.append(s.mean)
        intervals.append(s.interval)
    return WeightFunction(cuts, tuple(means), tuple(intervals))


def _prior_probabilities(
    effect: float, heterogeneity: float, bias: float
) -> dict[BiasModel, float]:
    for name, p in (("effect", effect), ("heterogeneity", heterogeneity), ("bias", bias)):
        if not (math.isfinite(p) and 0 < p < 1):
            raise OptionError(f"--prior-{name} must be a probability in (0, 1), got {p}")
    total = sum(c.weight for c in BIAS_COMPONENTS.values() if c.kind != "none")
    out = {}
    for comp in BIAS_COMPONENTS.values():
        pb = 1 - bias if comp.kind == "none" else bias * comp.weight / total
        for eff in (True, False):
            for ran in (True, False):
                p = (effect if eff else 1 - effect) * (heterogeneity if ran else 1 - heterogeneity)
                out[BiasModel(eff, ran, comp)] = p * pb
    return out


def _effects(data: Any, measure: str | None, level: float) -> tuple[np.ndarray, np.ndarray, str]:
    """Each study's effect and standard error (escalc for counts)."""
    from bayesmeta.frequentist.methods import design_of, inputs

    design = design_of(data)
    if design in ("single-arm",):
        raise DataError(
            "the publication-bias models need comparative effects (two-arm counts, rates or "
            f"reported effects); these are {design} data"
        )
    es = inputs(data, level, measure).es
    return np.asarray(es.yi, float), np.sqrt(np.asarray(es.vi, float)), es.measure


def ensemble(
    y: np.ndarray,
    se: np.ndarray,
    *,
    measure: str = "y",
    priors: BiasPriors | None = None,
    effect_direction: str = "auto",
    prior_effect: float = 0.5,
    prior_heterogeneity: float = 0.5,
    prior_bias: float = 0.5,
    level: float = DEFAULT_LEVEL,
) -> BiasEnsemble:
    """The ensemble on effects ``y`` with standard errors ``se`` (see the module docstring).

    Raises
    ------
    BayesmetaError
        Fewer than five studies, a standard error not positive, an unknown direction or
        prior probabilities outside (0, 1).
    """
    y, se = np.asarray(y, float), np.asarray(se, float)
    if effect_direction not in DIRECTIONS:
        raise OptionError(
            f"unknown --effect-direction {effect_direction!r}; valid: {', '.join(DIRECTIONS)}"
        )
    if y.size < MIN_STUDIES:
        raise DataError(
            f"the publication-bias ensemble needs at least {MIN_STUDIES} studies (its largest "
            f"model has {MIN_STUDIES} parameters); these data have {y.size}"
        )
    if not (np.all(np.isfinite(y)) and np.all(np.isfinite(se)) and np.all(se > 0)):
        raise DataError("every study needs a finite effect and a positive standard error")
    priors = priors if priors is not None else bias_priors("default", scale=measure)
    sign = -1.0 if effect_direction == "negative" else 1.0
    prior = _prior_probabilities(prior_effect, prior_heterogeneity, prior_bias)
    fits = {m: fit_model(m, sign * y, se, priors, sign) for m in prior}
    log_post = {m: math.log(prior[m]) + fits[m].log_ml for m in prior}
    norm = float(np.logaddexp.reduce(list(log_post.values())))
    post = {m: math.exp(v - norm) for m, v in log_post.items()}

    def log_bf(test: Any) -> float:
        yes = [m for m in prior if test(m)]
        no = [m for m in prior if not test(m)]
        num = np.logaddexp.reduce([log_post[m] for m in yes])
        den = np.logaddexp.reduce([log_post[m] for m in no])
        prior_odds = math.log(sum(prior[m] for m in yes)) - math.log(sum(prior[m] for m in no))
        return float(num - den) - prior_odds

    marg = {m: _GridMarginal(f.mu_grid, f.mu_density) for m, f in fits.items() if m.effect}
    rows = tuple(
        ModelRow(
            m,
            prior[m],
            post[m],
            fits[m].log_ml,
            fits[m].log_ml_error,
            _summary(marg[m], level) if m in marg else None,
        )
        for m in prior
    )
    mu = _mixture([(post[m], marg.get(m)) for m in prior], level, None)
    p_effect = sum(post[m] for m in marg)
    conditional = (
        _mixture([(post[m] / p_effect, marg[m]) for m in marg], level, None)
        if p_effect > 0
        else None
    )
    plain = [m for m in prior if m.bias.kind == "none"]
    p_plain = sum(post[m] for m in plain)
    unadjusted = _mixture([(post[m] / p_plain, marg.get(m)) for m in plain], level, None)
    weighted = [(post[m], fits[m]) for m in prior]
    return BiasEnsemble(
        measure=measure,
        k=int(y.size),
        direction=effect_direction,
        priors=priors,
        models=rows,
        log_inclusion_bf={name: log_bf(test) for name, test in _COMPONENT.items()},
        mu=mu,
        mu_conditional=conditional,
        unadjusted=unadjusted,
        tau=_averaged(weighted, "tau", 0.0, level),
        pet=_averaged(weighted, "pet", 0.0, level),
        peese=_averaged(weighted, "peese", 0.0, level),
        weight_function=_weight_function(weighted, level),
        level=level,
    )


def _summary(m: _GridMarginal, level: float) -> Summary:
    return Summary(m.mean, m.median, m.sd, m.interval(level), level)


def bias(
    data: Any,
    *,
    priors: str | BiasPriors = "default",
    prior_mu: str | None = None,
    prior_tau: str | None = None,
    effect_direction: str = "auto",
    prior_effect: float = 0.5,
    prior_heterogeneity: float = 0.5,
    prior_bias: float = 0.5,
    measure: str | None = None,
    level: float = DEFAULT_LEVEL,
) -> BiasEnsemble:
    """Bayesian publication-bias ensemble (RoBMA-PSMA's 36 models) of ``data``.

    Parameters
    ----------
    data
        Two-arm counts (their escalc effects, in ``measure``), rates or reported effects,
        e.g. from :func:`bayesmeta.load`.
    priors
        ``"default"`` (the package's ``mu`` and ``tau`` priors, RoBMA's PET/PEESE priors),
        ``"robma"`` (RoBMA-PSMA's: N(0, 1), InvGamma(1, 0.15), Cauchy+(0, 1), Cauchy+(0, 5))
        or a :class:`~bayesmeta.model.bias.BiasPriors`; ``prior_mu``/``prior_tau`` override.
    effect_direction
        ``"positive"`` or ``"negative"``: the direction publication favours (one-sided
        p-values; the sign of the PET/PEESE terms); ``"auto"`` (the default): the direction
        of the common-effect (inverse-variance) estimate, as ``classic`` assumes (RoBMA's
        default is ``"positive"``).
    prior_effect, prior_heterogeneity, prior_bias
        Prior probabilities of an effect, of heterogeneity and of publication bias (the last
        split among the bias components as RoBMA-PSMA splits it).

    Examples
    --------
    >>> import bayesmeta
    >>> data = bayesmeta.load_example("bcg")
    >>> fit = bayesmeta.bias(data, effect_direction="negative")  # doctest: +SKIP
    """
    y, se, scale = _effects(data, measure, level)
    if effect_direction == "auto":
        w = 1 / np.asarray(se, dtype=float) ** 2
        effect_direction = "negative" if np.sum(w * np.asarray(y, dtype=float)) < 0 else "positive"
    if priors == "default":
        # as every analysis: the default priors are refused on a scale in the outcome's units
        from bayesmeta.model.description import _check_priors_in_units, scale_of_data

        given = {n for n, p in (("mu", prior_mu), ("tau", prior_tau)) if p is not None}
        _check_priors_in_units(scale_of_data(data), given, common_effect=False)
    if not isinstance(priors, BiasPriors):
        priors = bias_priors(priors, scale=scale, mu=prior_mu, tau=prior_tau)
    return ensemble(
        y,
        se,
        measure=scale,
        priors=priors,
        effect_direction=effect_direction,
        prior_effect=prior_effect,
        prior_heterogeneity=prior_heterogeneity,
        prior_bias=prior_bias,
        level=level,
    )
