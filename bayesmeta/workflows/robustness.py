"""Prior robustness map: the posterior probability of benefit and the Bayes factors for the
effect and for heterogeneity over a grid of prior scales (``tau ~ half-normal(s_tau)`` by
``mu ~ normal(m, s_mu^2)``), for the models the exact engines integrate.

The likelihood ``p(y | mu, tau)`` does not depend on the priors, so it is computed once on fixed
nodes and re-weighted by every prior pair (a 30 x 30 map costs about as much as one exact fit):

- ``tau``: composite 8-node Gauss-Legendre panels on ``[0, s_min / 4]`` and then on panels
  growing geometrically by :data:`TAU_RATIO` up to ``s_max sqrt(80)`` (where the widest
  half-normal prior has fallen by ``exp(-40)``), so every scale of the map is resolved alike;
- ``mu``, normal-normal model: integrated in closed form given ``tau`` (``mu | tau, y`` is
  normal, ``p(y | tau)`` and ``P(mu < 0 | tau, y)`` have closed forms);
- ``mu``, binomial models: for each ``tau`` node that carries weight under some prior pair,
  ``log p(y | mu, tau)`` from the exact binomial engine's per-study integrals
  (:func:`bayesmeta.engines.exact_binomial.grid_log_likelihood`) at :data:`MU_POINTS` points
  spanning ``MU_MARGIN`` conditional posterior SDs of ``mu`` either side of where it lives
  under the widest and the narrowest ``mu`` prior (located by the studies' normal
  approximations), read by a cubic spline on Gauss-Legendre panels split at 0 and no wider
  than the grid spacing or the smallest ``mu`` prior SD; ``log p(y | mu = 0, tau)`` at 0
  directly.

For each prior pair: ``P(benefit) = P(mu < 0 | y)`` (``mu > 0`` with ``benefit="higher"``),
``BF_effect = p(y | mu ~ prior) / p(y | mu = 0)`` (both with ``tau ~ prior``) and
``BF_heterogeneity = p(y | tau ~ prior) / p(y | tau = 0)`` (both with ``mu ~ prior``), the
definitions of :mod:`bayesmeta.workflows.bayes_factors`. The accuracy is checked on every run:
the map's values at the two opposite corner cells (and at the analysis' own prior, when it is a
cell) against direct fits by the exact engine with those priors, an independent quadrature
(:attr:`RobustnessMap.check`).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from scipy import interpolate, special

from bayesmeta.errors import BayesmetaError, OptionError
from bayesmeta.model.description import ModelSpec
from bayesmeta.model.priors import Prior

TAU_SCALES = (0.05, 2.0)  # default range of the tau half-normal scale (log spaced)
MU_SCALES = (0.1, 10.0)  # default range of the mu normal SD (log spaced)
POINTS = 30  # default number of scales on each axis
THRESHOLD = 0.5  # default P(benefit) at which the conclusion flips
BENEFITS = ("lower", "higher")  # benefit is mu < 0 ("lower") or mu > 0
TAU_RATIO = 1.4  # ratio of successive tau panel edges
TAU_TAIL = math.sqrt(80.0)  # half-normal(s) has fallen by exp(-40) at s * TAU_TAIL
MU_MARGIN = 10.0  # conditional posterior SDs of mu around its approximate range
MU_POINTS = 33  # mu points per tau node at which the binomial likelihood is evaluated
_X, _W = np.polynomial.legendre.leggauss(8)
_LOG_2PI = math.log(2.0 * math.pi)


@dataclass(frozen=True)
class RobustnessMap:
    """P(benefit) and the log Bayes factors on a grid of prior scales.

    Arrays are ``(len(tau_scales), len(mu_scales))``: row ``i`` is ``tau ~
    half-normal(tau_scales[i])``, column ``j`` is ``mu ~ normal(mu_mean, mu_scales[j])``.
    ``log_marginal_likelihood`` is ``log p(y)`` of the random-effects model with each prior
    pair. ``analysis`` is the analysis' own prior pair when it is of these families (else None);
    ``check`` compares cells with direct exact fits; ``nodes`` says how many ``(mu, tau)``
    nodes the likelihood was computed on.
    """

    model: str
    measure: str
    benefit: str
    threshold: float
    mu_mean: float
    tau_scales: np.ndarray
    mu_scales: np.ndarray
    prob_benefit: np.ndarray
    log_bf_effect: np.ndarray
    log_bf_heterogeneity: np.ndarray
    log_marginal_likelihood: np.ndarray
    analysis: dict[str, float] | None
    check: list[dict[str, float]]
    nodes: dict[str, int]
    seconds: float

    @property
    def benefit_text(self) -> str:
        """``"mu < 0"`` or ``"mu > 0"``."""
        return "mu < 0" if self.benefit == "lower" else "mu > 0"

    @property
    def accuracy(self) -> dict[str, float]:
        """Largest difference from the direct exact fits of :attr:`check` (NaN without)."""

        def worst(key: str) -> float:
            return max((c[key] for c in self.check), default=math.nan)

        return {
            "prob_benefit": worst("prob_benefit_error"),
            "log_bf": max(worst("log_bf_effect_error"), worst("log_bf_heterogeneity_error")),
        }

    def flips(self) -> dict[str, bool]:
        """Whether each conclusion changes somewhere on the map (P(benefit) crosses the
        threshold; a Bayes factor crosses 1)."""

        def crosses(a: np.ndarray, at: float) -> bool:
            return bool(np.nanmin(a) < at < np.nanmax(a))

        return {
            "prob_benefit": crosses(self.prob_benefit, self.threshold),
            "bf_effect": crosses(self.log_bf_effect, 0.0),
            "bf_heterogeneity": crosses(self.log_bf_heterogeneity, 0.0),
        }

    def summary_lines(self, timing: bool = True) -> list[str]:
        """What the map shows, in a few lines: the grid (and the time taken, with
        ``timing``), the range of each quantity and whether its conclusion flips, and the
        accuracy check."""
        n_tau, n_mu = self.prob_benefit.shape
        t, m = self.tau_scales, self.mu_scales
        flips = self.flips()

        def verdict(flip: bool, above: bool, what: str) -> str:
            if flip:
                return f"the conclusion flips on the map ({what})"
            return "no flip: " + ("above" if above else "below") + f" {what} on the whole map"

        def bf(x: float) -> str:
            return f"{_exp(x):.3g}" if x < 709 else f"e^{x:.0f}"

        p = self.prob_benefit
        lines = [
            f"Prior robustness map ({self.model}, {self.measure}): {n_tau} x {n_mu} prior "
            f"pairs, tau ~ half-normal({t[0]:g} .. {t[-1]:g}), "
            f"mu ~ normal({self.mu_mean:g}, {m[0]:g} .. {m[-1]:g})"
            + (f"; {self.seconds:.2f} s" if timing else ""),
            f"P({self.benefit_text} | data): {p.min():.4g} to {p.max():.4g}; "
            + verdict(flips["prob_benefit"], bool(p.min() > self.threshold),
                      f"P = {self.threshold:g}"),
        ]  # fmt: skip
        for name, values in (
            ("effect", self.log_bf_effect),
            ("heterogeneity", self.log_bf_heterogeneity),
        ):
            key = f"bf_{name}"
            lines.append(
                f"Bayes factor for {name}: {bf(values.min())} to {bf(values.max())}; "
                + verdict(flips[key], bool(values.min() > 0), "BF = 1")
            )
        if self.analysis is not None:
            lines.append(
                f"The analysis' priors: tau ~ half-normal({self.analysis['tau_scale']:g}), "
                f"mu ~ normal({self.mu_mean:g}, {self.analysis['mu_sd']:g}) (the star)"
            )
        if self.check:
            acc = self.accuracy
            lines.append(
                f"Checked against direct exact fits at {len(self.check)} cells: largest "
                f"difference {acc['prob_benefit']:.1e} in P, {acc['log_bf']:.1e} in log BF"
            )
        return lines

    def rows(self) -> list[dict[str, float]]:
        """One row per cell (the CSV grid)."""
        out = []
        for i, st in enumerate(self.tau_scales):
            for j, sm in enumerate(self.mu_scales):
                out.append(
                    {
                        "tau_scale": float(st),
                        "mu_sd": float(sm),
                        "prob_benefit": float(self.prob_benefit[i, j]),
                        "log_bf_effect": float(self.log_bf_effect[i, j]),
                        "bf_effect": _exp(float(self.log_bf_effect[i, j])),
                        "log_bf_heterogeneity": float(self.log_bf_heterogeneity[i, j]),
                        "bf_heterogeneity": _exp(float(self.log_bf_heterogeneity[i, j])),
                    }
                )
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON form (block ``robustness``)."""
        return {
            "model": self.model,
            "measure": self.measure,
            "benefit": self.benefit_text,
            "threshold": self.threshold,
            "priors": {
                "tau": "half-normal(tau_scale)",
                "mu": f"normal({self.mu_mean:g}, mu_sd)",
            },
            "tau_scales": [float(x) for x in self.tau_scales],
            "mu_sds": [float(x) for x in self.mu_scales],
            "prob_benefit": self.prob_benefit.tolist(),
            "log_bf_effect": self.log_bf_effect.tolist(),
            "log_bf_heterogeneity": self.log_bf_heterogeneity.tolist(),
            "log_marginal_likelihood": self.log_marginal_likelihood.tolist(),
            "analysis_prior": self.analysis,
            "flips": self.flips(),
            "accuracy": {"checked_cells": self.check, "max_error": self.accuracy},
            "nodes": dict(self.nodes),
        }


def _exp(x: float) -> float:
    return math.exp(x) if x < 709 else math.inf


def _scales(bounds: tuple[float, float], points: int, what: str) -> np.ndarray:
    lo, hi = (float(b) for b in bounds)
    if not (math.isfinite(lo) and math.isfinite(hi) and 0 < lo < hi):
        raise OptionError(f"{what}: need 0 < low < high, got {lo:g}:{hi:g}")
    return np.geomspace(lo, hi, points)


def _tau_rule(s_min: float, s_max: float) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights of the tau quadrature (module docstring)."""
    a, top = s_min / 4.0, s_max * TAU_TAIL
    n = max(1, math.ceil(math.log(top / a) / math.log(TAU_RATIO)))
    edges = np.concatenate([[0.0], a * TAU_RATIO ** np.arange(n + 1)])
    half = np.diff(edges)[:, None] / 2.0
    nodes = (edges[:-1, None] + half) + half * _X
    return nodes.ravel(), (half * _W).ravel()


def _log_halfnormal(tau: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """``log half-normal(tau; scale)`` as a ``(len(scale), len(tau))`` array."""
    s = scale[:, None]
    return 0.5 * math.log(2.0 / math.pi) - np.log(s) - 0.5 * (tau[None, :] / s) ** 2


def _log_normal(x: np.ndarray, mean: float, sd: np.ndarray) -> np.ndarray:
    """``log N(x; mean, sd^2)`` as a ``(len(sd), len(x))`` array."""
    s = sd[:, None]
    return -0.5 * _LOG_2PI - np.log(s) - 0.5 * ((x[None, :] - mean) / s) ** 2


@dataclass(frozen=True)
class _Given:
    """For each mu prior SD (rows) and tau node (columns; column 0 is ``tau = 0``):
    ``log int p(y | mu, tau) N(mu; m, s^2) dmu`` split into the benefit and harm sides of 0,
    and ``log p(y | mu = 0, tau)``."""

    log_benefit: np.ndarray
    log_harm: np.ndarray
    log_null: np.ndarray

    @property
    def log_evidence(self) -> np.ndarray:
        return np.logaddexp(self.log_benefit, self.log_harm)


def _normal_given(
    y: np.ndarray, v: np.ndarray, tau: np.ndarray, m: float, sd: np.ndarray
) -> _Given:
    """:class:`_Given` of the normal-normal model, in closed form.

    Given ``tau``: ``p(y | mu, tau) = C exp(-W (mu - ybar)^2 / 2)`` with ``w_i = 1/(v_i +
    tau^2)``, ``W = sum w_i``, ``ybar = sum w_i y_i / W`` and ``log C = -k/2 log 2pi + 1/2
    sum log w_i - 1/2 sum w_i (y_i - ybar)^2``; so ``int p(y | mu, tau) N(mu; m, s^2) dmu =
    C sqrt(2pi / W) N(ybar; m, 1/W + s^2)`` and ``mu | tau, y`` is normal with precision
    ``W + 1/s^2`` and mean ``(W ybar + m / s^2) / (W + 1/s^2)``.
    """
    w = 1.0 / (v[None, :] + tau[:, None] ** 2)  # (L, k)
    W = w.sum(axis=1)
    ybar = (w * y).sum(axis=1) / W
    log_c = 0.5 * (-len(y) * _LOG_2PI + np.log(w).sum(axis=1)) - 0.5 * (
        w * (y[None, :] - ybar[:, None]) ** 2
    ).sum(axis=1)
    s2 = sd[:, None] ** 2
    total = 1.0 / W[None, :] + s2
    log_a = (
        log_c
        + 0.5 * (_LOG_2PI - np.log(W))
        - 0.5 * (_LOG_2PI + np.log(total) + (ybar - m) ** 2 / total)
    )
    prec = W[None, :] + 1.0 / s2
    z = -((W * ybar)[None, :] + m / s2) / prec * np.sqrt(prec)  # (0 - mean) / sd
    return _Given(
        log_a + special.log_ndtr(z), log_a + special.log_ndtr(-z), log_c - W * ybar**2 / 2
    )


def _binomial_given(
    spec: ModelSpec, tau: np.ndarray, m: float, sd: np.ndarray, tau_scales: np.ndarray
) -> tuple[_Given, dict[str, int]]:
    """:class:`_Given` of a binomial model: for each tau node that carries weight under some
    prior pair, the likelihood on a uniform mu grid of :data:`MU_POINTS` points over where
    ``mu`` lives given that ``tau``, read by a cubic spline on Gauss-Legendre panels split at 0
    (module docstring)."""
    from bayesmeta.engines import exact_binomial

    lik = exact_binomial.study_likelihood(spec.data, spec.priors.baseline)
    # the studies' normal approximations: where mu lives given each tau, for the widest and
    # the narrowest mu prior, and which tau nodes carry weight under some prior pair
    c, v = lik.center, lik.width**2
    W = (1.0 / (v[None, :] + tau[:, None] ** 2)).sum(axis=1)
    ybar = (c[None, :] / (v[None, :] + tau[:, None] ** 2)).sum(axis=1) / W
    ends = []
    for s in (float(sd.max()), float(sd.min())):
        prec = W + 1.0 / s**2
        mean, half = (W * ybar + m / s**2) / prec, MU_MARGIN / np.sqrt(prec)
        ends += [mean - half, mean + half]
    lo, hi = np.minimum(ends[0], ends[2]), np.maximum(ends[1], ends[3])
    approx = _normal_given(c, v, tau, m, sd).log_evidence  # (n_mu, L)
    weight = approx[None, :, 1:] + _log_halfnormal(tau[1:], tau_scales)[:, None, :]
    used = np.concatenate(
        [[True], (weight > weight.max(axis=2, keepdims=True) - 40.0).any(axis=(0, 1))]
    )
    below, above = (np.full((len(sd), len(tau)), -np.inf) for _ in range(2))
    for col in np.flatnonzero(used):
        x = np.linspace(lo[col], hi[col], MU_POINTS)
        spline = interpolate.CubicSpline(
            x, exact_binomial.grid_log_likelihood(lik, x, tau[col : col + 1])[:, 0]
        )
        width = min(x[1] - x[0], float(sd.min()))
        for a, b, out in ((x[0], min(0.0, x[-1]), below), (max(0.0, x[0]), x[-1], above)):
            if b <= a:
                continue
            n = math.ceil((b - a) / width)
            edges = np.linspace(a, b, n + 1)
            half = np.diff(edges)[:, None] / 2.0
            nodes = ((edges[:-1, None] + half) + half * _X).ravel()
            log_w = np.log((half * _W).ravel()) + spline(nodes)
            out[:, col] = special.logsumexp(_log_normal(nodes, m, sd) + log_w[None, :], axis=1)
    null = exact_binomial.grid_log_likelihood(lik, np.zeros(1), tau)[0]
    nodes = {"mu": MU_POINTS, "tau": int(used.sum())}
    return _Given(below, above, null), nodes


def _grid(spec: ModelSpec, tau_scales, mu_scales, m: float):
    """log P(benefit), log P(harm) and the three marginal likelihoods on the map."""
    t, wt = _tau_rule(float(tau_scales.min()), float(tau_scales.max()))
    tau = np.concatenate([[0.0], t])
    if spec.family.exact == "exact":
        given = _normal_given(spec.normal.y, spec.normal.v, tau, m, mu_scales)
        nodes = {"mu": 0, "tau": len(tau)}
    elif spec.family.exact == "exact_binomial":
        given, nodes = _binomial_given(spec, tau, m, mu_scales, tau_scales)
    else:
        from bayesmeta.model.likelihoods import LIKELIHOODS

        which = ", ".join(n for n, lik in LIKELIHOODS.items() if lik.exact is not None)
        raise BayesmetaError(
            f"the robustness map needs a model an exact engine integrates ({which}), "
            f"got {spec.likelihood}"
        )
    log_prior = np.log(wt)[None, :] + _log_halfnormal(t, tau_scales)  # (n_tau, L)

    def over_tau(a: np.ndarray) -> np.ndarray:  # (n_mu, L) -> (n_tau, n_mu), a row at a time
        return np.stack([special.logsumexp(row[None, :] + a[:, 1:], axis=1) for row in log_prior])

    benefit, harm = over_tau(given.log_benefit), over_tau(given.log_harm)
    null = special.logsumexp(log_prior + given.log_null[None, 1:], axis=1)  # (n_tau,)
    common = given.log_evidence[:, 0]  # (n_mu,)
    return benefit, harm, null, common, nodes


def _check_cell(spec: ModelSpec, tau_scale: float, mu_sd: float, m: float, lower: bool):
    """P(benefit) and the log Bayes factors at one prior pair, from direct exact fits."""
    tau_p, mu_p = Prior("half-normal", (tau_scale,)), Prior("normal", (m, mu_sd))
    cell = replace(spec, priors=replace(spec.priors, mu=mu_p, tau=tau_p))
    if spec.family.exact == "exact":
        from bayesmeta.engines import exact
        from bayesmeta.workflows.bayes_factors import NULL_SD

        y, v = spec.normal.y, spec.normal.v
        re = exact.nnhm_posterior(y, v, prior_mu=mu_p, prior_tau=tau_p)
        ce = exact.common_effect_posterior(y, v, prior_mu=mu_p)
        null = exact.nnhm_posterior(y, v, prior_mu=Prior("normal", (0.0, NULL_SD)), prior_tau=tau_p)
        p, ml, ml_ce, ml_null = (
            re.prob_mu_below_0,
            re.log_marginal_likelihood,
            ce.log_marginal_likelihood,
            null.log_marginal_likelihood,
        )
    else:
        from bayesmeta.engines import exact_binomial
        from bayesmeta.summaries.exact_binomial import posterior

        re = posterior(replace(cell, common_effect=False))
        ce = posterior(replace(cell, common_effect=True))
        lik = exact_binomial.study_likelihood(spec.data, spec.priors.baseline)
        p, ml, ml_ce = re.prob_mu_below_0, re.log_marginal_likelihood, ce.log_marginal_likelihood
        ml_null = exact_binomial.null_log_marginal_likelihood(lik, tau_p)
    return (p if lower else 1.0 - p), ml - ml_null, ml - ml_ce


def robustness_map(
    spec: ModelSpec,
    *,
    tau_scales: tuple[float, float] = TAU_SCALES,
    mu_scales: tuple[float, float] = MU_SCALES,
    points: int | tuple[int, int] = POINTS,
    threshold: float = THRESHOLD,
    benefit: str = "lower",
    check: bool = True,
) -> RobustnessMap:
    """The prior robustness map of ``spec`` (its likelihood, data and baseline prior).

    Parameters
    ----------
    spec
        A model without moderators that an exact engine integrates.
    tau_scales, mu_scales
        Lowest and highest half-normal scale of ``tau`` and normal SD of ``mu`` (log spaced).
    points
        Scales per axis (one number, or ``(tau, mu)``), at least 2.
    threshold
        The P(benefit) whose contour the map draws (the conclusion flips there).
    benefit
        ``"lower"``: benefit is ``mu < 0`` (fewer events on treatment); ``"higher"``: ``mu > 0``.
    check
        Compare the corner cells (and the analysis' prior, if a cell) with direct exact fits.

    Raises
    ------
    BayesmetaError
        Moderators, a model no exact engine integrates, or options out of range.
    """
    start = time.perf_counter()
    if spec.moderators is not None:
        raise BayesmetaError("the robustness map is computed for models without moderators")
    if not spec.effects.exact:
        raise BayesmetaError(f"no robustness map: {spec.effects.refusal}")
    if benefit not in BENEFITS:
        raise OptionError(f"benefit must be one of {', '.join(BENEFITS)}, got {benefit!r}")
    if not 0.0 < threshold < 1.0:
        raise OptionError(f"the threshold of P(benefit) must be in (0, 1), got {threshold:g}")
    n_tau, n_mu = (points, points) if isinstance(points, int) else points
    if min(n_tau, n_mu) < 2 or max(n_tau, n_mu) > 400:
        raise OptionError(f"points per axis must be 2 to 400, got {n_tau} x {n_mu}")
    taus = _scales(tau_scales, n_tau, "tau scales")
    mus = _scales(mu_scales, n_mu, "mu scales")
    mu_prior = spec.priors.mu
    m = float(mu_prior.params[0]) if mu_prior.family == "normal" else 0.0
    lower = benefit == "lower"
    good, bad, null, common, nodes = _grid(spec, taus, mus, m)
    if not lower:
        good, bad = bad, good
    ml = np.logaddexp(good, bad)
    prob = np.exp(good - ml)
    log_bf_effect = ml - null[:, None]
    log_bf_het = ml - common[None, :]
    analysis = None
    tau_prior = spec.priors.tau
    if tau_prior.family == "half-normal" and mu_prior.family == "normal":
        analysis = {"tau_scale": float(tau_prior.params[0]), "mu_sd": float(mu_prior.params[1])}
    checks = []
    if check:
        cells = {(0, 0), (n_tau - 1, n_mu - 1)}
        if analysis is not None:
            i = np.flatnonzero(np.isclose(taus, analysis["tau_scale"], rtol=1e-9))
            j = np.flatnonzero(np.isclose(mus, analysis["mu_sd"], rtol=1e-9))
            if len(i) and len(j):
                cells.add((int(i[0]), int(j[0])))
        for i, j in sorted(cells):
            p, bf_e, bf_h = _check_cell(spec, float(taus[i]), float(mus[j]), m, lower)
            checks.append(
                {
                    "tau_scale": float(taus[i]),
                    "mu_sd": float(mus[j]),
                    "prob_benefit_error": abs(float(prob[i, j]) - p),
                    "log_bf_effect_error": abs(float(log_bf_effect[i, j]) - bf_e),
                    "log_bf_heterogeneity_error": abs(float(log_bf_het[i, j]) - bf_h),
                }
            )
    return RobustnessMap(
        model=spec.likelihood,
        measure=spec.scale.label,
        benefit=benefit,
        threshold=float(threshold),
        mu_mean=m,
        tau_scales=taus,
        mu_scales=mus,
        prob_benefit=prob,
        log_bf_effect=log_bf_effect,
        log_bf_heterogeneity=log_bf_het,
        log_marginal_likelihood=ml,
        analysis=analysis,
        check=checks,
        nodes=nodes,
        seconds=time.perf_counter() - start,
    )


def robustness(
    data: Any,
    *,
    model: str = "auto",
    priors: Any = None,
    tau_scales: tuple[float, float] = TAU_SCALES,
    mu_scales: tuple[float, float] = MU_SCALES,
    points: int | tuple[int, int] = POINTS,
    threshold: float = THRESHOLD,
    benefit: str = "lower",
    check: bool = True,
) -> RobustnessMap:
    """Prior robustness map of ``data``: P(benefit) and the Bayes factors for the effect and
    for heterogeneity on a grid of prior scales (:func:`robustness_map`).

    Parameters
    ----------
    data
        Loaded data (:func:`bayesmeta.load`), a DataFrame or a CSV path.
    model
        The likelihood, as for :func:`bayesmeta.analyze` (``"auto"``: from the data); one an
        exact engine integrates.
    priors
        Priors as for :func:`bayesmeta.analyze`: the mean of a normal ``mu`` prior and the
        baseline prior are kept; the map varies the scales.
    tau_scales, mu_scales, points, threshold, benefit, check
        As :func:`robustness_map`.

    Examples
    --------
    >>> import bayesmeta
    >>> m = bayesmeta.robustness(bayesmeta.load_example("bcg"), model="normal-normal")
    >>> m.prob_benefit.shape
    (30, 30)
    """
    from bayesmeta.workflows.analyze import as_data

    spec = ModelSpec.describe(as_data(data), model=model, priors=priors)
    return robustness_map(
        spec,
        tau_scales=tau_scales,
        mu_scales=mu_scales,
        points=points,
        threshold=threshold,
        benefit=benefit,
        check=check,
    )
