"""Publication-bias tools, matched to R metafor 3.8-1 (numpy/scipy only).

- :func:`trimfill`: Duval & Tweedie's (2000, Biometrics 56:455) trim-and-fill, metafor
  ``trimfill(rma(yi, vi, method = M), estimator = "L0" | "R0")``. The side is metafor's: the
  sign of the slope of ``yi ~ sqrt(vi)`` fitted with the same method (missing studies on the
  left when the slope is positive). The filled studies' ``yi`` and ``vi`` are returned.
- :func:`fail_safe_n`: Rosenthal's (1979, Psychol Bull 86:638; Stouffer's sum of z),
  Orwin's (1983, J Educ Stat 8:157; unweighted mean, target half of it by default) and
  Rosenberg's (2005, Evolution 59:464; weighted) fail-safe N, metafor ``fsn``.
- :func:`rank_test`: Begg & Mazumdar's (1994, Biometrics 50:1088) rank correlation, metafor
  ``ranktest``: Kendall's tau-b of the standardised deviates and the variances, with R's
  exact p-value when there are no ties and the normal approximation otherwise.
- :func:`limit_regression`: PET and PEESE (Stanley & Doucouliagos 2014, Res Synth Methods
  5:60) as their authors define them: weighted least squares ``yi ~ sei`` (PET) or
  ``yi ~ vi`` (PEESE) with weights ``1 / vi`` and a multiplicative dispersion (R
  ``lm(yi ~ sqrt(vi), weights = 1 / vi)``, metafor ``regtest(model = "lm", predictor =
  "sei" | "vi")``); the intercept is the effect of a study with no sampling error, tested
  with t(k - 2).
- :func:`selection_model`: Vevea & Hedges' (1995, Psychometrika 60:419) step-function and
  Citkowicz & Vevea's (2017, Psychol Methods 22:63) beta selection models by maximum
  likelihood, metafor ``selmodel(rma(yi, vi, method = "ML" | "EE"), type = "stepfun" |
  "beta")``, with the likelihood-ratio test of selection against the ML model without it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from scipy import optimize, special, stats

from bayesmeta.effects import EffectSizes
from bayesmeta.errors import BayesmetaError, OptionError
from bayesmeta.frequentist.pooled import common_effect, random_effects, tau2_estimate
from bayesmeta.frequentist.results import DEFAULT_LEVEL, PooledEstimate
from bayesmeta.io.output import level_key

TRIMFILL_ESTIMATORS = ("L0", "R0")
TRIMFILL_METHODS = ("EE", "DL", "REML", "ML")
FSN_TYPES = ("Rosenthal", "Orwin", "Rosenberg")
ALTERNATIVES = ("greater", "less", "two.sided")
EFFECT_DIRECTIONS = ("auto", "positive", "negative")
SELECTION_TYPES = ("stepfun", "beta")


def _floats(values: Sequence[float]) -> list[float]:
    return [float(v) for v in values]


def _fit(es: EffectSizes, method: str, level: float) -> PooledEstimate:
    if method == "EE":
        return common_effect(es, level=level)
    return random_effects(es, method=method, level=level)


def _need(es: EffectSizes, k: int, what: str) -> None:
    if es.k < k:
        raise BayesmetaError(f"{what} needs at least {k} studies, got {es.k}")


# --- trim-and-fill ------------------------------------------------------------------------


@dataclass(frozen=True)
class TrimFill:
    """Trim-and-fill: the number of missing studies ``k0`` (its SE; for R0 the p-value of
    k0 = 0), the side they are missing from, the fit on the filled data and the filled
    studies' effects and variances."""

    method: str
    estimator: str
    side: str
    k0: int
    se_k0: float
    p_k0: float | None
    fit: PooledEstimate
    filled_yi: tuple[float, ...]
    filled_vi: tuple[float, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        out: dict[str, Any] = {
            "method": self.method,
            "estimator": self.estimator,
            "side": self.side,
            "k0": self.k0,
            "se_k0": self.se_k0,
        }
        if self.p_k0 is not None:
            out["p_k0"] = self.p_k0
        out["filled"] = self.fit.to_dict()
        out["filled_yi"] = _floats(self.filled_yi)
        out["filled_vi"] = _floats(self.filled_vi)
        return out


def _metareg_slope(y: np.ndarray, v: np.ndarray, x: np.ndarray, method: str) -> float:
    """Slope of the (mixed-effects) meta-regression ``y ~ x`` with tau^2 by ``method``."""
    X = np.column_stack([np.ones(len(y)), x])

    def coef(tau2: float) -> tuple[np.ndarray, float, float]:
        w = 1 / (v + tau2)
        xtwx = X.T @ (w[:, None] * X)
        b = np.linalg.solve(xtwx, X.T @ (w * y))
        rss = float(np.sum(w * (y - X @ b) ** 2))
        return b, rss, float(np.linalg.slogdet(xtwx)[1])

    if method == "EE":
        return float(coef(0.0)[0][1])
    if method == "DL":
        w = 1 / v
        xtwx_inv = np.linalg.inv(X.T @ (w[:, None] * X))
        trace = w.sum() - np.trace(xtwx_inv @ (X.T @ ((w**2)[:, None] * X)))
        tau2 = max(0.0, (coef(0.0)[1] - (len(y) - 2)) / trace)
        return float(coef(tau2)[0][1])

    def negll(tau2: float) -> float:
        _, rss, logdet = coef(tau2)
        extra = logdet if method == "REML" else 0.0
        return 0.5 * (np.sum(np.log(v + tau2)) + extra + rss)

    hi = 100 * max(1.0, float(np.var(y)))
    best = optimize.minimize_scalar(negll, bounds=(0.0, hi), method="bounded",
                                    options={"xatol": 1e-12})  # fmt: skip
    tau2 = best.x if negll(best.x) < negll(0.0) else 0.0
    return float(coef(tau2)[0][1])


def trimfill(
    es: EffectSizes,
    *,
    method: str = "REML",
    estimator: str = "L0",
    side: str | None = None,
    level: float = DEFAULT_LEVEL,
    maxiter: int = 100,
) -> TrimFill:
    """Trim-and-fill as metafor ``trimfill(rma(yi, vi, method = method), estimator)``.

    Parameters
    ----------
    es
        Effect sizes (at least 3 studies).
    method
        ``"EE"`` (common effect) or a tau^2 estimator of the random-effects model (DL, REML,
        ML), used for every fit, including the one that chooses the side.
    estimator
        ``"L0"`` or ``"R0"`` (Duval & Tweedie 2000).
    side
        ``"left"`` or ``"right"``: where studies are missing; by default metafor's choice.

    Raises
    ------
    BayesmetaError
        Too few studies, an unknown option, or no convergence in ``maxiter`` iterations.
    """
    if estimator not in TRIMFILL_ESTIMATORS:
        raise OptionError(f"unknown trim-and-fill estimator {estimator!r}; valid: L0, R0")
    if method not in TRIMFILL_METHODS:
        raise OptionError(
            f"unknown trim-and-fill method {method!r}; valid: {', '.join(TRIMFILL_METHODS)}"
        )
    if side not in (None, "left", "right"):
        raise OptionError(f"unknown side {side!r}; valid: left, right")
    _need(es, 3, "trim-and-fill")
    yi, vi = es.yi, es.vi
    if side is None:
        side = "right" if _metareg_slope(yi, vi, np.sqrt(vi), method) < 0 else "left"
    sign = -1.0 if side == "right" else 1.0
    order = np.argsort(sign * yi, kind="stable")
    y, v = sign * yi[order], vi[order]
    k = len(y)
    k0, previous, iteration = 0, -1, 0
    beta, centred = 0.0, y
    se_k0 = 0.0
    while k0 != previous:
        previous = k0
        iteration += 1
        if iteration > maxiter:
            raise BayesmetaError("trim-and-fill did not converge")
        kept = replace(es, study=es.study[: k - k0], yi=y[: k - k0], vi=v[: k - k0])
        beta = _fit(kept, method, level).estimate
        centred = y - beta
        ranks = np.empty(k)
        ranks[np.argsort(np.abs(centred), kind="stable")] = np.arange(1, k + 1)
        signed = np.sign(centred) * ranks
        if estimator == "R0":
            estimate = (k - np.max(-signed[signed < 0])) - 1 if np.any(signed < 0) else k - 1
            se_k0 = np.sqrt(2 * max(0.0, estimate) + 2)
        else:
            sr = signed[signed > 0].sum()
            estimate = (4 * sr - k * (k + 1)) / (2 * k - 1)
            var_sr = (
                k * (k + 1) * (2 * k + 1)
                + 10 * estimate**3
                + 27 * estimate**2
                + 17 * estimate
                - 18 * k * estimate**2
                - 18 * k * estimate
                + 6 * k**2 * estimate
            ) / 24
            se_k0 = 4 * np.sqrt(var_sr) / (2 * k - 1)
        k0 = int(max(0, np.round(estimate)))  # R's round: half to even, as numpy's
        se_k0 = max(0.0, float(se_k0))
    if k0 > 0:
        mirrored = -(centred - beta)[k - k0 :] * sign
        filled_yi, filled_vi = mirrored, v[k - k0 :]
        names = tuple(f"Filled {i + 1}" for i in range(k0))
        full = replace(es, study=(*es.study, *names), yi=np.r_[yi, filled_yi],
                       vi=np.r_[vi, filled_vi])  # fmt: skip
        fit = _fit(full, method, level)
    else:
        filled_yi, filled_vi = np.empty(0), np.empty(0)
        fit = _fit(es, method, level)
    p_k0 = None
    if estimator == "R0":
        m = np.arange(-1, k0)
        p_k0 = float(1 - np.sum(special.comb(m + 1, m + 1) * 0.5 ** (m + 2)))
    return TrimFill(method, estimator, side, k0, se_k0, p_k0, fit, tuple(filled_yi),
                    tuple(filled_vi))  # fmt: skip


# --- fail-safe N ----------------------------------------------------------------------------


@dataclass(frozen=True)
class FailSafeN:
    """Fail-safe N of one type: the number of null studies that would bring the result to
    ``alpha`` (Rosenthal, Rosenberg) or to ``target`` (Orwin); ``p`` is the combined
    p-value (Rosenthal: one-sided Stouffer; Rosenberg: two-sided z), ``mean`` the average
    effect (Orwin: unweighted; Rosenberg: weighted)."""

    type: str
    n: int
    alpha: float
    p: float | None = None
    mean: float | None = None
    target: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields that are set."""
        out: dict[str, Any] = {"type": self.type, "n": self.n, "alpha": self.alpha}
        for key in ("p", "mean", "target"):
            value = getattr(self, key)
            if value is not None:
                out[key] = float(value)
        return out


def fail_safe_n(
    es: EffectSizes, type: str = "Rosenthal", *, alpha: float = 0.05, target: float | None = None
) -> FailSafeN:
    """Fail-safe N as metafor ``fsn(yi, vi, type, alpha, target)`` (Stouffer's test).

    Raises
    ------
    BayesmetaError
        An unknown type, or no studies.
    """
    if type not in FSN_TYPES:
        raise OptionError(f"unknown fail-safe N type {type!r}; valid: {', '.join(FSN_TYPES)}")
    _need(es, 1, "fail-safe N")
    yi, vi, k = es.yi, es.vi, es.k
    p = mean = None
    if type == "Rosenthal":
        z = abs(np.sum(yi / np.sqrt(vi)) / np.sqrt(k))
        p = float(special.ndtr(-z))
        n = max(0.0, k * (z / special.ndtri(1 - alpha)) ** 2 - k)
        target = None
    elif type == "Orwin":
        mean = float(np.mean(yi))
        target = mean / 2 if target is None else float(target)
        if target == 0:
            n = np.inf
        else:
            if np.sign(target) != np.sign(mean):
                target = -target
            n = max(0.0, k * (mean - target) / target)
    else:
        w = 1 / vi
        mean = float(np.sum(w * yi) / w.sum())
        z = mean / np.sqrt(1 / w.sum())
        p = float(2 * special.ndtr(-abs(z)))
        n = max(0.0, k * ((np.sum(w * yi) / special.ndtri(1 - alpha / 2)) ** 2 - w.sum()) / w.sum())
        target = None
    if np.isinf(n):
        raise BayesmetaError("Orwin's fail-safe N is infinite for a target of 0")
    n = np.ceil(n) if abs(n - np.round(n)) >= np.sqrt(np.finfo(float).eps) else np.round(n)
    return FailSafeN(type, int(n), alpha, p, mean, target)


# --- rank correlation test ----------------------------------------------------------------------


@dataclass(frozen=True)
class RankTest:
    """Begg and Mazumdar's test: Kendall's tau-b and its two-sided p-value (``exact``:
    from the permutation distribution, else the normal approximation, used with ties)."""

    tau: float
    p: float
    k: int
    exact: bool

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return {"tau": self.tau, "p": self.p, "k": self.k, "exact": self.exact}


def _kendall_cdf(q: int, n: int) -> float:
    """P(T <= q) for T the number of concordant pairs of n untied observations (R's
    ``pkendall``), from the inversion counts of a random permutation."""
    dist = np.ones(1)
    for m in range(2, n + 1):
        new = np.zeros(len(dist) + m - 1)
        for shift in range(m):
            new[shift : shift + len(dist)] += dist
        dist = new / m
    return float(dist[: q + 1].sum()) if q >= 0 else 0.0


def rank_test(es: EffectSizes) -> RankTest:
    """Begg and Mazumdar's rank correlation test as metafor ``ranktest(yi, vi)``.

    Raises
    ------
    BayesmetaError
        Fewer than 3 studies, or tau undefined (all variances or all deviates equal).
    """
    _need(es, 3, "the rank correlation test")
    yi, vi, n = es.yi, es.vi, es.k
    w = 1 / vi
    theta = np.sum(w * yi) / w.sum()
    ystar = (yi - theta) / np.sqrt(vi - 1 / w.sum())
    tau = float(stats.kendalltau(ystar, vi, variant="b").statistic)
    if not np.isfinite(tau):
        raise BayesmetaError("rank correlation test: Kendall's tau is undefined (no variation)")
    ties = len(np.unique(ystar)) < n or len(np.unique(vi)) < n
    if not ties:
        q = int(np.round((tau + 1) * n * (n - 1) / 4))
        half = _kendall_cdf(q - 1, n) if q > n * (n - 1) / 4 else None
        p = 1 - half if half is not None else _kendall_cdf(q, n)
        return RankTest(tau, float(min(1.0, 2 * p)), n, True)
    counts = [np.unique(a, return_counts=True)[1] for a in (ystar, vi)]
    t0 = n * (n - 1) / 2
    tx, ty = (np.sum(c * (c - 1)) / 2 for c in counts)
    s = tau * np.sqrt((t0 - tx) * (t0 - ty))
    cx, cy = counts
    var_s = (
        (n * (n - 1) * (2 * n + 5) - np.sum(cx * (cx - 1) * (2 * cx + 5))
         - np.sum(cy * (cy - 1) * (2 * cy + 5))) / 18
        + np.sum(cx * (cx - 1)) * np.sum(cy * (cy - 1)) / (2 * n * (n - 1))
        + np.sum(cx * (cx - 1) * (cx - 2)) * np.sum(cy * (cy - 1) * (cy - 2))
        / (9 * n * (n - 1) * (n - 2))
    )  # fmt: skip
    z = s / np.sqrt(var_s)
    return RankTest(tau, float(2 * special.ndtr(-abs(z))), n, False)


# --- PET and PEESE ------------------------------------------------------------------------------


@dataclass(frozen=True)
class LimitRegression:
    """PET (``predictor="sei"``) or PEESE (``"vi"``): the intercept (the bias-adjusted
    effect) with its SE, t-based interval and p-value on ``df = k - 2``, and the slope with
    its SE and p-value (PET's slope test is Egger's test)."""

    method: str
    estimate: float
    se: float
    ci: tuple[float, float]
    t: float
    p: float
    slope: float
    slope_se: float
    slope_p: float
    df: int
    k: int
    level: float = DEFAULT_LEVEL

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return {
            "method": self.method,
            "estimate": self.estimate,
            "se": self.se,
            level_key("ci", self.level): _floats(self.ci),
            "t": self.t,
            "p": self.p,
            "slope": self.slope,
            "slope_se": self.slope_se,
            "slope_p": self.slope_p,
            "df": self.df,
            "k": self.k,
        }


LIMIT_PREDICTORS = {"pet": "sei", "peese": "vi"}


def limit_regression(
    es: EffectSizes, method: str = "pet", *, level: float = DEFAULT_LEVEL
) -> LimitRegression:
    """PET or PEESE by weighted least squares (module docstring).

    Raises
    ------
    BayesmetaError
        Fewer than 3 studies, all with the same variance, or a fit with no residual.
    """
    if method not in LIMIT_PREDICTORS:
        raise OptionError(f"unknown limit regression {method!r}; valid: pet, peese")
    label = method.upper()
    _need(es, 3, label)
    yi, vi, k = es.yi, es.vi, es.k
    x = np.sqrt(vi) if method == "pet" else vi
    if np.ptp(x) == 0:
        raise BayesmetaError(f"{label}: every study has the same variance, so no line is fitted")
    X = np.column_stack([np.ones(k), x])
    w = 1 / vi
    xtwx = X.T @ (w[:, None] * X)
    b = np.linalg.solve(xtwx, X.T @ (w * yi))
    rss = float(np.sum(w * (yi - X @ b) ** 2))
    if rss <= np.finfo(float).eps * float(np.sum(w * yi**2)):
        raise BayesmetaError(f"{label}: the line fits every study exactly (no residual variance)")
    df = k - 2
    se = np.sqrt(rss / df * np.diag(np.linalg.inv(xtwx)))
    t = b / se
    p = 2 * special.stdtr(df, -np.abs(t))
    crit = special.stdtrit(df, (1 + level) / 2)
    ci = (float(b[0] - crit * se[0]), float(b[0] + crit * se[0]))
    return LimitRegression(method, float(b[0]), float(se[0]), ci, float(t[0]), float(p[0]),
                           float(b[1]), float(se[1]), float(p[1]), df, k, level)  # fmt: skip


# --- selection models ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SelectionModel:
    """A selection model fitted by maximum likelihood.

    ``estimate`` (with ``se``, Wald ``ci`` and ``p``) is the selection-adjusted effect,
    ``tau2`` (``se_tau2``) the between-study variance (0 for ``random=False``), ``delta`` the
    selection parameters (``stepfun``: the relative probability of publication of each
    p-value interval ``(steps[j-1], steps[j]]``, the first fixed at 1; ``beta``: the two
    shape parameters), ``counts`` the studies per interval. ``lrt`` tests ``delta`` at the
    value of no selection (chi-square, ``lrt_df``) against the ML model without selection
    (log-likelihood ``loglik0``). Standard errors are from the numerical Hessian of the
    log-likelihood; ``None`` where it is not invertible or a parameter is on its bound.
    """

    type: str
    alternative: str
    steps: tuple[float, ...]
    random: bool
    estimate: float
    se: float | None
    ci: tuple[float, float] | None
    p: float | None
    tau2: float
    se_tau2: float | None
    delta: tuple[float, ...]
    se_delta: tuple[float | None, ...]
    counts: tuple[int, ...]
    loglik: float
    loglik0: float
    lrt: float
    lrt_df: int
    lrt_p: float
    k: int
    level: float = DEFAULT_LEVEL

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        out: dict[str, Any] = {
            "type": self.type,
            "alternative": self.alternative,
            "random": self.random,
            "estimate": self.estimate,
            "se": self.se,
            level_key("ci", self.level): None if self.ci is None else _floats(self.ci),
            "p": self.p,
            "tau2": self.tau2,
            "se_tau2": self.se_tau2,
            "delta": _floats(self.delta),
            "se_delta": list(self.se_delta),
            "loglik": self.loglik,
            "loglik0": self.loglik0,
            "lrt": self.lrt,
            "lrt_df": self.lrt_df,
            "lrt_p": self.lrt_p,
            "k": self.k,
        }
        if self.type == "stepfun":
            out["steps"] = _floats(self.steps)
            out["counts"] = list(self.counts)
        return out


def _one_sided(y: np.ndarray, sd: np.ndarray, alternative: str) -> np.ndarray:
    """The p-value of ``y`` with standard error ``sd`` (metafor's ``.selmodel.pval``)."""
    z = y / sd
    if alternative == "greater":
        return special.ndtr(-z)
    if alternative == "less":
        return special.ndtr(z)
    return 2 * special.ndtr(-np.abs(z))


def _step_normaliser(
    mu: float, tau2: float, vi: np.ndarray, steps: np.ndarray, delta: np.ndarray, alt: str
) -> np.ndarray:
    """``A_i = sum_j delta_j P(p_i in interval j)`` under ``y_i ~ N(mu, vi + tau2)``."""
    sd, total = np.sqrt(vi), np.sqrt(vi + tau2)
    bounds = np.r_[0.0, steps]

    def upper_mass(p: float) -> np.ndarray:
        """P(p-value <= p) for the study's observed-effect distribution."""
        if alt == "two.sided":
            cut = sd * special.ndtri(1 - p / 2)
            return special.ndtr((mu - cut) / total) + special.ndtr((-cut - mu) / total)
        cut = sd * special.ndtri(1 - p)
        return (
            special.ndtr((mu - cut) / total)
            if alt == "greater"
            else special.ndtr((-cut - mu) / total)
        )

    cdf = [np.zeros_like(vi) if b == 0 else np.ones_like(vi) if b == 1 else upper_mass(b)
           for b in bounds]  # fmt: skip
    return sum(delta[j] * (cdf[j + 1] - cdf[j]) for j in range(len(steps)))


PVAL_MIN_BETA = 1e-5


def _beta_weight(p: np.ndarray, delta: np.ndarray) -> np.ndarray:
    p = np.clip(p, PVAL_MIN_BETA, 1 - PVAL_MIN_BETA)
    return p ** (delta[0] - 1) * (1 - p) ** (delta[1] - 1)


def _panel_rule(
    lo: float, hi: float, panels: int = 64, order: int = 16
) -> tuple[np.ndarray, np.ndarray]:
    """Composite Gauss-Legendre nodes and weights on ``[lo, hi]``."""
    x, w = np.polynomial.legendre.leggauss(order)
    edges = np.linspace(lo, hi, panels + 1)
    half, mid = np.diff(edges) / 2, (edges[:-1] + edges[1:]) / 2
    return (mid[:, None] + half[:, None] * x).ravel(), (half[:, None] * w).ravel()


_ZC = float(special.ndtri(1 - PVAL_MIN_BETA))
_Z, _WZ = _panel_rule(-_ZC, _ZC)
_P_GREATER = special.ndtr(-_Z)  # the rule is symmetric: "less" is the reversed array


def _beta_normaliser(
    mu: float, tau2: float, vi: np.ndarray, delta: np.ndarray, alt: str
) -> np.ndarray:
    """``A_i = int w(p(y)) N(y; mu, vi + tau2) dy`` for every study at once.

    On ``z = y / sqrt(vi)``: beyond ``|z| = zc``, where the p-value reaches its clip
    ``PVAL_MIN_BETA``, the weight is constant and the mass a normal tail probability; on
    ``[-zc, zc]`` the integrand is smooth (the density of z has SD >= 1) and is integrated by
    composite Gauss-Legendre quadrature (64 panels of 16 nodes), accurate to about 1e-12
    relative. One-sided p-values only (``alt`` greater or less).
    """
    zc, z, wz = _ZC, _Z, _WZ
    sd, total = np.sqrt(vi)[:, None], np.sqrt(vi + tau2)[:, None]
    p = _P_GREATER if alt == "greater" else _P_GREATER[::-1]
    density = np.exp(-0.5 * ((sd * z - mu) / total) ** 2) * (sd / total / np.sqrt(2 * np.pi))
    middle = density @ (_beta_weight(p, delta) * wz)
    upper_p, lower_p = (PVAL_MIN_BETA, 1 - PVAL_MIN_BETA)[:: 1 if alt == "greater" else -1]
    sd, total = sd[:, 0], total[:, 0]
    upper = special.ndtr((mu - sd * zc) / total) * _beta_weight(np.array([upper_p]), delta)
    lower = special.ndtr((-sd * zc - mu) / total) * _beta_weight(np.array([lower_p]), delta)
    return middle + upper + lower


def _selection_loglik(
    params: np.ndarray,
    yi: np.ndarray,
    vi: np.ndarray,
    kind: str,
    steps: np.ndarray,
    group: np.ndarray,
    pvals: np.ndarray,
    alt: str,
    random: bool,
) -> float:
    """Log-likelihood at ``(mu, [tau2], free deltas)``."""
    mu = params[0]
    tau2 = max(params[1], 0.0) if random else 0.0
    free = params[2:] if random else params[1:]
    density = stats.norm.logpdf(yi, mu, np.sqrt(vi + tau2))
    if kind == "stepfun":
        delta = np.r_[1.0, free]
        with np.errstate(divide="ignore"):
            log_w = np.log(delta[group])
        norm = _step_normaliser(mu, tau2, vi, steps, delta, alt)
    else:
        delta = free
        log_w = np.log(_beta_weight(pvals, delta))
        norm = _beta_normaliser(mu, tau2, vi, delta, alt)
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.sum(log_w + density - np.log(norm)))


def _hessian(f, x: np.ndarray) -> np.ndarray:
    """Hessian of ``f`` at ``x`` by central differences with Richardson extrapolation."""
    n = len(x)

    def at(h: np.ndarray) -> np.ndarray:
        hess = np.empty((n, n))
        f0 = f(x)
        for i in range(n):
            for j in range(i, n):
                ei, ej = np.eye(n)[i] * h[i], np.eye(n)[j] * h[j]
                if i == j:
                    hess[i, i] = (f(x + ei) - 2 * f0 + f(x - ei)) / h[i] ** 2
                else:
                    hess[i, j] = hess[j, i] = (
                        f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej) + f(x - ei - ej)
                    ) / (4 * h[i] * h[j])
        return hess

    h = 1e-3 * np.maximum(np.abs(x), 1e-2)
    coarse, fine = at(2 * h), at(h)
    return fine + (fine - coarse) / 3


def selection_model(
    es: EffectSizes,
    type: str = "stepfun",
    *,
    steps: Sequence[float] = (0.025,),
    alternative: str = "greater",
    random: bool = True,
    level: float = DEFAULT_LEVEL,
) -> SelectionModel:
    """A selection model by maximum likelihood, as metafor ``selmodel``.

    Parameters
    ----------
    es
        Effect sizes.
    type
        ``"stepfun"`` (Vevea & Hedges 1995) or ``"beta"`` (Citkowicz & Vevea 2017).
    steps
        Cut points of the p-values for ``stepfun`` (1 is added): ``(0.025,)`` is the
        three-parameter selection model (3PSM) of Iyengar & Greenhouse (1988) as usually
        fitted.
    alternative
        The p-values selected on: ``"greater"`` (one-sided, positive effects significant),
        ``"less"`` or ``"two.sided"``.
    random
        Random effects (tau^2 by ML, metafor's fit on ``rma(method = "ML")``) or a common
        effect (``method = "EE"``).

    Raises
    ------
    BayesmetaError
        An unknown option, fewer studies than parameters, an interval with no p-value in it
        (its weight is not estimable), or an optimiser that does not converge.
    """
    if type not in SELECTION_TYPES:
        raise OptionError(f"unknown selection model {type!r}; valid: stepfun, beta")
    if alternative not in ALTERNATIVES:
        raise OptionError(f"unknown alternative {alternative!r}; valid: {', '.join(ALTERNATIVES)}")
    if type == "beta" and alternative == "two.sided":
        raise OptionError(
            "the beta selection model is fitted to one-sided p-values; use alternative "
            "'greater' or 'less'"
        )
    yi, vi, k = es.yi, es.vi, es.k
    cuts = np.unique(np.asarray(steps, dtype=float))
    if type == "stepfun" and (cuts.size == 0 or np.any((cuts <= 0) | (cuts > 1))):
        raise OptionError("selection model steps must be p-values in (0, 1]")
    cuts = cuts if cuts[-1] == 1 else np.r_[cuts, 1.0]
    free = len(cuts) - 1 if type == "stepfun" else 2
    parameters = 1 + int(random) + free
    label = "step-function" if type == "stepfun" else "beta"
    if k < parameters:
        raise BayesmetaError(
            f"the {label} selection model has {parameters} parameters but only {k} studies"
        )
    pvals = _one_sided(yi, np.sqrt(vi), alternative)
    group = np.searchsorted(cuts, pvals, side="left")
    counts = tuple(int(c) for c in np.bincount(group, minlength=len(cuts)))
    if type == "stepfun" and 0 in counts[1:]:
        empty = [f"({lo:g}, {hi:g}]" for lo, hi, c in zip(cuts[:-1], cuts[1:], counts[1:],
                                                           strict=True) if c == 0]  # fmt: skip
        raise BayesmetaError(
            f"step-function selection model: no study has a p-value in {', '.join(empty)}, "
            "so its weight cannot be estimated; choose other steps"
        )
    args = (yi, vi, type, cuts, group, pvals, alternative, random)

    def negll(x: np.ndarray) -> float:
        value = -_selection_loglik(x, *args)
        return value if np.isfinite(value) else 1e300

    tau2_ml = tau2_estimate(es, "ML") if random else 0.0
    w = 1 / (vi + tau2_ml)
    mu0 = float(np.sum(w * yi) / w.sum())
    start = [mu0] + ([tau2_ml + 0.001] if random else []) + [1.0] * free
    lower = 0.0 if type == "stepfun" else 1e-5
    bounds = [(None, None)] + ([(0.0, None)] if random else []) + [(lower, 100.0)] * free
    best = None
    for method in ("L-BFGS-B", "Nelder-Mead"):
        res = optimize.minimize(negll, start, method=method, bounds=bounds,
                                options={"maxiter": 20000, "ftol": 1e-15, "gtol": 1e-10}
                                if method == "L-BFGS-B" else
                                {"maxiter": 20000, "xatol": 1e-10, "fatol": 1e-13})  # fmt: skip
        if best is None or res.fun < best.fun:
            best = res
        start = res.x
    if best is None or not np.isfinite(best.fun) or best.fun >= 1e300:
        raise BayesmetaError(f"the {label} selection model did not converge")
    x = best.x
    loglik = -float(best.fun)
    ll0 = _null_loglik(yi, vi, tau2_ml)
    lrt = max(0.0, 2 * (loglik - ll0))
    on_bound = [False] + ([x[1] <= 1e-8] if random else []) + [
        d <= lower + 1e-6 or d >= 100 - 1e-6 for d in x[1 + int(random):]
    ]  # fmt: skip
    se: list[float | None] = [None] * len(x)
    try:
        cov = np.linalg.inv(_hessian(negll, x))
        diag = np.diag(cov)
        se = [
            float(np.sqrt(d)) if d > 0 and not bound else None
            for d, bound in zip(diag, on_bound, strict=True)
        ]
    except np.linalg.LinAlgError:
        pass
    mu = float(x[0])
    ci = p = None
    if se[0] is not None:
        z = special.ndtri((1 + level) / 2)
        ci = (mu - z * se[0], mu + z * se[0])
        p = float(2 * special.ndtr(-abs(mu / se[0])))
    deltas = tuple(x[1 + int(random) :])
    delta = (1.0, *deltas) if type == "stepfun" else deltas
    se_delta = ((None,) if type == "stepfun" else ()) + tuple(se[1 + int(random) :])
    return SelectionModel(
        type, alternative, tuple(cuts) if type == "stepfun" else (), random, mu, se[0], ci, p,
        float(x[1]) if random else 0.0, se[1] if random else None, delta, se_delta,
        counts if type == "stepfun" else (), loglik, ll0, lrt, free,
        float(special.chdtrc(free, lrt)), k, level,
    )  # fmt: skip


def _null_loglik(yi: np.ndarray, vi: np.ndarray, tau2: float) -> float:
    """Log-likelihood of the normal model without selection at its ML estimate of mu."""
    w = 1 / (vi + tau2)
    mu = np.sum(w * yi) / w.sum()
    return float(np.sum(stats.norm.logpdf(yi, mu, np.sqrt(vi + tau2))))


# --- the registry of publication-bias analyses ------------------------------------------------


def expected_direction(es: EffectSizes) -> str:
    """The direction of the common-effect estimate of ``es``: ``"negative"`` below 0, else
    ``"positive"`` (the direction selection is assumed to favour unless one is given)."""
    return "negative" if common_effect(es).estimate < 0 else "positive"


@dataclass(frozen=True)
class BiasSettings:
    """What the publication-bias analyses are computed with: the interval level, the
    direction of the expected effect (``"positive"``: one-sided selection on
    ``alternative="greater"``; ``"negative"``: ``"less"``), the step function's cut points
    and whether the direction is the data's (:func:`expected_direction`) or was given."""

    level: float = DEFAULT_LEVEL
    effect_direction: str = "positive"
    steps: tuple[float, ...] = (0.025,)
    from_data: bool = False

    @property
    def alternative(self) -> str:
        """metafor's ``alternative`` for the selection models."""
        return "greater" if self.effect_direction == "positive" else "less"


@dataclass(frozen=True)
class BiasMethod:
    """One publication-bias analysis: its JSON name, its label and its function."""

    name: str
    label: str
    compute: Any  # Callable[[EffectSizes, BiasSettings], result]


def _tf(method: str, estimator: str) -> Any:
    return lambda es, s: trimfill(es, method=method, estimator=estimator, level=s.level)


BIAS_METHODS: dict[str, BiasMethod] = {
    m.name: m
    for m in (
        BiasMethod("trimfill_common_l0", "Trim-and-fill (common effect, L0)", _tf("EE", "L0")),
        BiasMethod("trimfill_common_r0", "Trim-and-fill (common effect, R0)", _tf("EE", "R0")),
        BiasMethod("trimfill_random_l0", "Trim-and-fill (REML, L0)", _tf("REML", "L0")),
        BiasMethod("trimfill_random_r0", "Trim-and-fill (REML, R0)", _tf("REML", "R0")),
        BiasMethod("pet", "PET (WLS on the SE)",
                   lambda es, s: limit_regression(es, "pet", level=s.level)),
        BiasMethod("peese", "PEESE (WLS on the variance)",
                   lambda es, s: limit_regression(es, "peese", level=s.level)),
        BiasMethod("selection_step", "Step-function selection model (ML)",
                   lambda es, s: selection_model(es, "stepfun", steps=s.steps,
                                                 alternative=s.alternative, level=s.level)),
        BiasMethod("selection_beta", "Beta selection model (ML)",
                   lambda es, s: selection_model(es, "beta", alternative=s.alternative,
                                                 level=s.level)),
        BiasMethod("rank_test", "Begg and Mazumdar's rank correlation test",
                   lambda es, s: rank_test(es)),
        BiasMethod("fsn_rosenthal", "Fail-safe N (Rosenthal)",
                   lambda es, s: fail_safe_n(es, "Rosenthal")),
        BiasMethod("fsn_orwin", "Fail-safe N (Orwin)", lambda es, s: fail_safe_n(es, "Orwin")),
        BiasMethod("fsn_rosenberg", "Fail-safe N (Rosenberg)",
                   lambda es, s: fail_safe_n(es, "Rosenberg")),
    )
}  # fmt: skip


@dataclass(frozen=True)
class PublicationBias:
    """Every publication-bias analysis of one dataset (:data:`BIAS_METHODS` order); one that
    cannot be computed is a :class:`~bayesmeta.frequentist.results.Skipped` with the reason."""

    settings: BiasSettings
    results: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """The ``publication_bias`` block of ``bayesmeta classic --json`` (docs/json.md)."""
        return {
            "effect_direction": self.settings.effect_direction,
            "steps": _floats(self.settings.steps),
            **{name: r.to_dict() for name, r in self.results.items()},
        }


def publication_bias(
    es: EffectSizes,
    *,
    level: float = DEFAULT_LEVEL,
    effect_direction: str = "auto",
    steps: Sequence[float] = (0.025,),
) -> PublicationBias:
    """Every analysis of :data:`BIAS_METHODS` on ``es``.

    Parameters
    ----------
    es
        Effect sizes (two-arm log odds ratios or reported effects).
    effect_direction
        ``"positive"`` or ``"negative"``: the direction of the effects the selection models
        assume are favoured for publication (one-sided p-values; metafor's ``alternative =
        "greater"`` or ``"less"``); ``"auto"`` (default): the direction of the common-effect
        estimate (:func:`expected_direction`), so that a protective treatment (log odds ratio
        below 0) is assumed to be published when significantly protective.
    steps
        Cut points of the step-function selection model (one-sided p-values).

    Raises
    ------
    BayesmetaError
        An unknown effect direction or invalid steps.
    """
    from bayesmeta.frequentist.results import Skipped

    if effect_direction not in EFFECT_DIRECTIONS:
        raise OptionError(
            f"unknown effect direction {effect_direction!r}; valid: {', '.join(EFFECT_DIRECTIONS)}"
        )
    cuts = tuple(float(s) for s in steps)
    if not cuts or any(not 0 < s < 1 for s in cuts):
        raise OptionError(f"selection model steps must be p-values in (0, 1), got {list(cuts)}")
    from_data = effect_direction == "auto"
    direction = expected_direction(es) if from_data else effect_direction
    settings = BiasSettings(level, direction, cuts, from_data)
    results: dict[str, Any] = {}
    for name, method in BIAS_METHODS.items():
        try:
            results[name] = method.compute(es, settings)
        except BayesmetaError as exc:
            results[name] = Skipped(name, str(exc))
    return PublicationBias(settings, results)


CONTOUR_LEVELS = (0.10, 0.05, 0.01)


def contour_z(levels: Sequence[float] = CONTOUR_LEVELS) -> dict[float, float]:
    """The two-sided significance contours of a contour-enhanced funnel plot (Peters et al.
    2008, J Clin Epidemiol 61:991): for each p-value level, the ``z`` with ``|y| / se = z``
    on its edge (1.645, 1.960, 2.576 for 0.10, 0.05, 0.01), around the null effect 0."""
    return {float(p): float(special.ndtri(1 - p / 2)) for p in levels}
