"""Bayesian model checks: posterior predictive p-values, LOO-PIT and the prior predictive.

**Posterior predictive p-value of each study** (Gelman et al. 2014, Bayesian Data Analysis,
3rd ed., ch. 6; Meng 1994, Ann Stat 22:1142). The study's statistic ``T_i`` (its observed
effect) is compared with replicates ``T_i^rep`` made with a *new* study effect:
``theta_i^rep ~ N(x_i' beta, tau^2)`` at ``(beta, tau)`` from the posterior, then the study's
data given ``theta_i^rep``; ``p_lower = P(T_i^rep < T_i | y) + P(T_i^rep = T_i | y) / 2`` (the
mid-p; the second term is 0 for continuous replicates) and the two-sided p-value is
``2 min(p_lower, 1 - p_lower)``. A small value flags a study the model does not predict: an
outlier beyond the heterogeneity the model allows.

Each likelihood defines its statistic and replicates (``Likelihood.check_statistic``,
``observed_statistic``, ``replicate_statistic``):

- normal-normal: ``T_i = y_i`` and ``y_i^rep ~ N(theta_i^rep, v_i)``, the replicates of the R
  bayesmeta package's ``pppvalue`` (Rover 2020, J Stat Softw 93(6), sec. 3.4); the exact
  engine integrates ``p_lower`` over the posterior (``ExactPosterior.predictive_p``), NUTS
  averages it over the draws.
- binomial-normal: the study's arms are replicated as counts, ``r_c^rep ~ Bin(n_c,
  expit(alpha_i))``, ``r_t^rep ~ Bin(n_t, expit(alpha_i + theta_i^rep))`` with the study's
  baseline ``alpha_i`` from the posterior, and ``T_i`` is the log odds ratio of the counts as
  escalc computes it (0.5 added to every cell of a table with a zero cell), for the observed
  and every replicated table alike.
- proportion: ``r^rep ~ Bin(n, expit(theta_i^rep))`` and ``T_i`` escalc's logit proportion
  (0.5 added to events and non-events at 0 or all events).
- poisson-normal: both arms' events replicated as Poisson counts at their person-time, and
  ``T_i`` escalc's log incidence rate ratio (0.5 added to both counts at a zero).

**LOO-PIT** (NUTS; Vehtari et al. 2017, Stat Comput 27:1413; Sailynoja et al. 2022, Stat
Comput 32:32): ``P(T_i^rep <= T_i | y_-i)``, PSIS-weighted by ``arviz_stats.loo_pit``, and
each study's Pareto k from ``arviz_stats.loo`` (above 0.7: the weights, hence its PIT value,
are not reliable). Both use the *integrated* leave-one-out (Vehtari, Mononen, Tolvanen,
Sivula & Winther 2016, JMLR 17(103), sec. 4; the R bayesmeta package's leave-one-out):
the log likelihood of each draw is ``log p(y_i | x_i' beta, tau, alpha_i)`` with the
study's effect ``theta_i ~ N(x_i' beta, tau^2)`` integrated out, and ``T_i^rep`` comes from
the same integrated predictive (a new effect, then the data). The plain
``log p(y_i | theta_i, alpha_i)`` would make the weights unstable: a study's own data pin
down its ``theta_i``, so leaving it out moves that parameter far (Pareto k above 0.7 for 12
of bcg's 13 studies). ``Likelihood.integrated_loo`` defines what is left out:

- normal-normal: ``y_i``, ``log N(y_i; x_i' beta, tau^2 + v_i)`` in closed form;
- binomial-normal and Poisson-normal: the treatment arm given the control arm (which fixes
  ``alpha_i``; the baselines are not linked across studies),
  ``log int Bin(r_ti | n_ti, expit(alpha_i + theta)) N(theta; x_i' beta, tau^2) dtheta`` (or
  the Poisson analogue) by adaptive Gauss-Hermite quadrature
  (:mod:`bayesmeta.model.likelihoods.integrated`), and ``T_i^rep`` the log odds (rate)
  ratio of the replicated treatment arm against the observed control arm;
- proportion: the study's events, the same integral with no baseline.

**Prior predictive** (Gabry et al. 2019, J R Stat Soc A 182:389): what the priors alone imply
for a study's effect (``theta ~ N(mu, tau^2)`` with ``mu`` and ``tau`` from their priors) on
the shown scale and, for two-arm counts with study baselines, for the arms' event counts at
the studies' sizes; Monte Carlo, seeded.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import special

from bayesmeta.errors import BayesmetaError
from bayesmeta.model.description import ModelSpec

PRIOR_DRAWS = 4000
EXTREME = 10.0  # the prior predictive reports P(ratio < 1/10 or > 10)
PARETO_K = 0.7  # above it, PSIS leave-one-out weights are unreliable (Vehtari et al. 2024)
FLAG = 0.05  # a two-sided posterior predictive p-value below it flags the study
QUANTILES = (0.025, 0.25, 0.5, 0.75, 0.975)
LOO_LIKELIHOOD = (
    "integrated: log p(y_i | x_i' beta, tau, alpha_i) with theta_i ~ N(x_i' beta, tau^2) "
    "integrated out (two-arm counts and rates: the treatment arm given the control arm)"
)


@dataclass(frozen=True)
class StudyCheck:
    """One study's checks: its statistic, ``P(T^rep < T) + P(T^rep = T) / 2`` and, for NUTS,
    its LOO-PIT value and Pareto k."""

    study: str
    observed: float
    p_lower: float
    loo_pit: float | None = None
    pareto_k: float | None = None

    @property
    def p_value(self) -> float:
        """Two-sided posterior predictive p-value, ``2 min(p_lower, 1 - p_lower)``."""
        return min(1.0, 2.0 * min(self.p_lower, 1.0 - self.p_lower))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return {
            "study": self.study,
            "observed": self.observed,
            "p_lower": self.p_lower,
            "p_value": self.p_value,
            "loo_pit": self.loo_pit,
            "pareto_k": self.pareto_k,
        }


@dataclass(frozen=True)
class PosteriorPredictive:
    """Per-study posterior predictive checks and, for NUTS, the PSIS-LOO summary."""

    statistic: str
    method: str
    studies: tuple[StudyCheck, ...]
    elpd_loo: float | None = None
    elpd_loo_se: float | None = None
    p_loo: float | None = None

    def flagged(self) -> list[str]:
        """Studies with a two-sided p-value below :data:`FLAG`."""
        return [s.study for s in self.studies if s.p_value < FLAG]

    def high_k(self) -> list[str]:
        """Studies whose Pareto k is above :data:`PARETO_K`."""
        return [s.study for s in self.studies if s.pareto_k is not None and s.pareto_k > PARETO_K]

    def line(self) -> str:
        """The report's one line on the posterior predictive checks."""
        flagged = self.flagged()
        how = "exact" if self.method == "exact" else "from the draws"
        text = (
            f"posterior predictive p-values of the {len(self.studies)} studies' observed "
            f"effects ({how}; replicates with a new study effect): "
        )
        if flagged:
            text += f"{len(flagged)} below {FLAG:g} ({', '.join(flagged)})"
        else:
            low = min(s.p_value for s in self.studies)
            text += f"none below {FLAG:g} (smallest {low:.2f})"
        if self.elpd_loo is not None:
            high = self.high_k()
            text += (
                f"; LOO-PIT (ArviZ; leave-one-out with each study's effect integrated out) for "
                f"every study, {len(high)} of {len(self.studies)} with Pareto k above "
                f"{PARETO_K:g} (their LOO-PIT values are not reliable)"
            )
        return text

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        out: dict[str, Any] = {
            "statistic": self.statistic,
            "replicate": "a new study effect theta_i ~ N(mu, tau^2) from the posterior",
            "method": self.method,
            "flag_below": FLAG,
            "flagged": self.flagged(),
            "studies": [s.to_dict() for s in self.studies],
        }
        if self.elpd_loo is not None:
            out["loo"] = {
                "log_likelihood": LOO_LIKELIHOOD,
                "elpd_loo": self.elpd_loo,
                "se": self.elpd_loo_se,
                "p_loo": self.p_loo,
                "pareto_k_above": PARETO_K,
                "high_pareto_k": self.high_k(),
            }
        return out


@dataclass(frozen=True)
class PriorPredictive:
    """What the priors imply for a study's effect and, where modelled, its event counts.

    ``effect`` holds the quantiles (:data:`QUANTILES`) of a study's effect on the shown scale
    (``label``) and ``extreme`` its probability beyond 1/10 or 10 (ratios) or outside 1% to
    99% (proportions); ``events`` the quantiles of an arm's event proportion and
    ``arms_all_or_none`` the share of simulated arms with no events or only events, beside
    ``observed_all_or_none`` in the data. The draws are kept for the figure.
    """

    label: str
    effect: dict[str, float]
    extreme: float | None
    extreme_text: str | None
    effect_draws: np.ndarray = field(repr=False)
    observed_effects: np.ndarray = field(repr=False)
    priors: str = ""
    events: dict[str, float] | None = None
    arms_all_or_none: float | None = None
    observed_all_or_none: float | None = None
    event_draws: np.ndarray | None = field(default=None, repr=False)
    observed_events: np.ndarray | None = field(default=None, repr=False)

    def line(self) -> str:
        """The report's one line on the prior predictive."""
        lo, hi = self.effect["q0.025"], self.effect["q0.975"]
        text = (
            f"the priors ({self.priors}) put 95% of a study's {self.label} between "
            f"{_fmt(lo)} and {_fmt(hi)}"
        )
        if self.extreme is not None:
            text += f" and {self.extreme:.0%} {self.extreme_text}"
        if self.arms_all_or_none is not None:
            text += (
                f"; {self.arms_all_or_none:.0%} of simulated arms have no events or only "
                f"events (observed: {self.observed_all_or_none:.0%})"
            )
        return text

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        out: dict[str, Any] = {
            "draws": int(self.effect_draws.size),
            "effect": {"label": self.label, **self.effect, "extreme": self.extreme},
            "extreme_means": self.extreme_text,
        }
        if self.events is not None:
            out["events"] = {
                "event_proportion": self.events,
                "arms_all_or_none": self.arms_all_or_none,
                "observed_all_or_none": self.observed_all_or_none,
            }
        return out


def _fmt(x: float) -> str:
    return f"{x:.3g}" if abs(x) < 1e4 else f"{x:.2e}"


@dataclass(frozen=True)
class ModelChecks:
    """The checks of one analysis; a check that does not apply is None with its reason."""

    posterior_predictive: PosteriorPredictive | None
    prior_predictive: PriorPredictive | None
    reasons: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON block ``checks`` (``docs/json.md``)."""
        out: dict[str, Any] = {}
        for name, value in (
            ("posterior_predictive", self.posterior_predictive),
            ("prior_predictive", self.prior_predictive),
        ):
            out[name] = value.to_dict() if value is not None else {"not_run": self.reasons[name]}
        return out


# --------------------------------------------------------------------------------------------
# statistics and replicates, one row per likelihood
# --------------------------------------------------------------------------------------------


def not_covered(spec: ModelSpec) -> str | None:
    """Why the posterior predictive checks do not cover ``spec`` (None: they do)."""
    from bayesmeta.model.likelihoods import LIKELIHOODS

    if spec.family.check_statistic is None:
        covered = [n for n, lik in LIKELIHOODS.items() if lik.check_statistic is not None]
        return (
            f"posterior predictive checks are implemented for the {', '.join(covered)} "
            f"models, not {spec.likelihood}"
        )
    mods = spec.moderators
    if mods is not None and mods.group is not None and mods.separate_tau:
        return "posterior predictive checks do not cover a separate tau per subgroup"
    return None


# --------------------------------------------------------------------------------------------
# posterior predictive: exact and from draws
# --------------------------------------------------------------------------------------------


def exact_predictive(spec: ModelSpec, posterior: Any) -> PosteriorPredictive:
    """The per-study p-values of a normal-normal fit by the exact engine (``posterior``: its
    ``ExactPosterior`` or ``MetaRegressionPosterior``), integrated exactly."""
    study, y = spec.family.observed_statistic(spec)
    p = posterior.predictive_p()
    checks = tuple(
        StudyCheck(name, float(t), float(q)) for name, t, q in zip(study, y, p, strict=True)
    )
    return PosteriorPredictive(spec.family.check_statistic, "exact", checks)


def _flat(draws: dict[str, np.ndarray], name: str) -> np.ndarray:
    x = np.asarray(draws[name], dtype=float)
    return x.reshape(x.shape[0] * x.shape[1], *x.shape[2:])


def _fitted(spec: ModelSpec, post: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Each study's mean effect ``x_i' beta`` and heterogeneity SD (draws x studies)."""
    theta = post["theta"]
    if spec.common_effect:
        return theta, np.zeros_like(theta)
    tau = np.broadcast_to(post["tau"][:, None], theta.shape)  # one tau (not_covered)
    return theta - tau * post["z"], tau


def draws_predictive(
    spec: ModelSpec, draws: Any, *, seed: int, loo: bool = False
) -> PosteriorPredictive:
    """The per-study p-values from NUTS draws (a :class:`~bayesmeta.engines.draws.Draws`)
    and, with ``loo``, the integrated LOO-PIT values and Pareto k of ArviZ (module
    docstring).

    Raises
    ------
    BayesmetaError
        A model :func:`not_covered` names.
    """
    reason = not_covered(spec)
    if reason is not None:
        raise BayesmetaError(reason)
    family = spec.family
    study, observed = family.observed_statistic(spec)
    rng = np.random.default_rng(seed)
    post = {name: _flat(draws.posterior, name) for name in draws.posterior}
    mean, tau = _fitted(spec, post)
    new = mean + tau * rng.standard_normal(mean.shape)
    replicated = family.replicate_statistic(spec, post, new, rng)
    p_lower = (replicated < observed).mean(axis=0) + 0.5 * (replicated == observed).mean(axis=0)
    pit: list[float | None] = [None] * len(study)
    khat: list[float | None] = [None] * len(study)
    loo_values: tuple[float | None, float | None, float | None] = (None, None, None)
    if loo:
        log_lik, left_out = family.integrated_loo(spec, post, mean, tau, rng)
        shape = np.asarray(draws.posterior["mu"]).shape[:2]
        pit, khat, loo_values = _loo_pit(
            left_out.reshape(*shape, -1), observed, log_lik.reshape(*shape, -1), study, seed
        )
    checks = tuple(
        StudyCheck(name, float(t), float(q), p, k)
        for name, t, q, p, k in zip(study, observed, p_lower, pit, khat, strict=True)
    )
    return PosteriorPredictive(family.check_statistic, "draws", checks, *loo_values)


def _loo_pit(
    replicated: np.ndarray,
    observed: np.ndarray,
    log_likelihood: Any,
    study: tuple[str, ...],
    seed: int,
) -> tuple[list[float | None], list[float | None], tuple[float, float, float]]:
    """LOO-PIT values, Pareto k and ``(elpd_loo, se, p_loo)`` from ``arviz_stats`` with the
    replicates and log likelihood (chain x draw x study) of the integrated leave-one-out."""
    import warnings

    import arviz_stats
    from arviz_base import from_dict

    ll = np.asarray(log_likelihood, dtype=float)
    tree = from_dict(
        {
            "posterior": {"log_lik_sum": ll.sum(axis=-1)},
            "log_likelihood": {"effect": ll},
            "posterior_predictive": {"effect": replicated},
            "observed_data": {"effect": observed},
        },
        dims={"effect": ["study"]},
        coords={"study": list(study)},
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # high Pareto k is reported per study, not warned
        pit = arviz_stats.loo_pit(tree, var_names="effect", random_state=seed)["effect"]
        loo = arviz_stats.loo(tree, var_name="effect", pointwise=True)
    values = np.asarray(pit, dtype=float)
    k = np.asarray(loo.pareto_k, dtype=float)
    summary = (float(loo.elpd), float(loo.se), float(loo.p))
    return [float(v) for v in values], [float(x) for x in k], summary


# --------------------------------------------------------------------------------------------
# prior predictive
# --------------------------------------------------------------------------------------------


def prior_predictive(spec: ModelSpec, *, seed: int, n: int = PRIOR_DRAWS) -> PriorPredictive:
    """What the priors of ``spec`` imply for a study's effect and (two-arm counts with study
    baselines) for its arms' events, from ``n`` seeded draws.

    Raises
    ------
    BayesmetaError
        An improper prior (it has no prior predictive distribution).
    """
    improper = spec.improper()
    if improper:
        raise BayesmetaError(
            f"no prior predictive distribution: the prior for {', '.join(improper)} is improper"
        )
    rng = np.random.default_rng(seed)
    priors, scale = spec.priors, spec.scale
    mu = priors.mu.ppf(rng.uniform(size=n))
    tau = np.zeros(n) if spec.common_effect else priors.tau.ppf(rng.uniform(size=n))
    theta = mu + tau * rng.standard_normal(n)
    with np.errstate(over="ignore"):
        shown = np.asarray(scale.show(theta), dtype=float)
    label = scale.axis.lower() if scale.axis else scale.label
    effect = {
        f"q{q:g}": float(v) for q, v in zip(QUANTILES, np.quantile(shown, QUANTILES), strict=True)
    }
    extreme, text = None, None
    if scale.log_ratio:
        extreme = float(np.mean(np.abs(theta) > math.log(EXTREME)))
        text = f"below 1/{EXTREME:g} or above {EXTREME:g}"
    elif scale.unit_interval:
        extreme = float(np.mean((shown < 0.01) | (shown > 0.99)))
        text = "below 1% or above 99%"
    used = ", ".join(f"{name} ~ {getattr(priors, name)}" for name in spec.prior_names)
    observed = np.asarray(scale.show(np.asarray(spec.normal.y, dtype=float)), dtype=float)
    out = PriorPredictive(label, effect, extreme, text, shown, observed, used)
    if spec.baseline and getattr(spec.data, "design", None) == "two-arm":
        out = _with_events(spec, out, mu, tau, rng)
    return out


def _with_events(
    spec: ModelSpec, out: PriorPredictive, mu: np.ndarray, tau: np.ndarray, rng: Any
) -> PriorPredictive:
    """Add the arms' event proportions the priors imply at the studies' arm sizes: each
    draw gives every study a baseline from its prior and an effect ``N(mu, tau^2)``."""
    from dataclasses import replace

    d, n = spec.data, len(mu)
    alpha = spec.priors.baseline.ppf(rng.uniform(size=(n, d.k)))
    effect = mu[:, None] + tau[:, None] * rng.standard_normal((n, d.k))
    n1, n2 = np.asarray(d.treatment_total), np.asarray(d.control_total)
    c = rng.binomial(np.broadcast_to(n2, alpha.shape), special.expit(alpha))
    a = rng.binomial(np.broadcast_to(n1, alpha.shape), special.expit(alpha + effect))
    events = np.concatenate([(c / n2).ravel(), (a / n1).ravel()])
    extreme = np.concatenate([((c == 0) | (c == n2)).ravel(), ((a == 0) | (a == n1)).ravel()])
    seen = np.concatenate(
        [
            (np.asarray(d.control_events) == 0) | (np.asarray(d.control_events) == n2),
            (np.asarray(d.treatment_events) == 0) | (np.asarray(d.treatment_events) == n1),
        ]
    )
    observed = np.concatenate(
        [np.asarray(d.control_events) / n2, np.asarray(d.treatment_events) / n1]
    )
    quantiles = np.quantile(events, QUANTILES)
    return replace(
        out,
        events={f"q{q:g}": float(v) for q, v in zip(QUANTILES, quantiles, strict=True)},
        arms_all_or_none=float(extreme.mean()),
        observed_all_or_none=float(seen.mean()),
        event_draws=events,
        observed_events=observed,
    )


def model_checks(
    spec: ModelSpec,
    *,
    seed: int,
    exact_posterior: Any | None = None,
    draws: Any | None = None,
    loo: bool = False,
    no_posterior: str = "no posterior to check",
) -> ModelChecks:
    """Every check of one fit: the exact engine's posterior (``exact_posterior``) or NUTS
    ``draws`` (with ``loo``: and their integrated LOO-PIT and Pareto k); a check that does
    not apply is None with its reason in ``reasons`` (``no_posterior``: why neither is given)."""
    reasons: dict[str, str] = {}
    ppc: PosteriorPredictive | None = None
    reason = not_covered(spec)
    if reason is None and exact_posterior is not None:
        ppc = exact_predictive(spec, exact_posterior)
    elif reason is None and draws is not None:
        ppc = draws_predictive(spec, draws, seed=seed, loo=loo)
    else:
        reasons["posterior_predictive"] = reason or no_posterior
    prior: PriorPredictive | None = None
    try:
        prior = prior_predictive(spec, seed=seed)
    except BayesmetaError as exc:
        reasons["prior_predictive"] = str(exc)
    return ModelChecks(ppc, prior, reasons)
