"""Case diagnostics of an inverse-variance fit, matched to metafor 3.8-1.

:func:`influence` is ``influence(rma(yi, vi, mods, method, test))``: each study left out in
turn, with the same estimator and test, gives the externally studentized residual, DFFITS,
Cook's distance, the covariance ratio, DFBETAS and tau^2 and QE without the study, beside the
full fit's hat values and weights, and metafor's flag of influential studies. :func:`baujat`
gives the two coordinates of a Baujat plot (``baujat(rma(...))``), :func:`gosh` the fits to
subsets of the studies for a GOSH plot (``gosh(rma(...))``; Olkin, Dahabreh & Trikalinos 2012,
Res Synth Methods 3:214). The figures only draw these numbers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from scipy import special

from bayesmeta.effects import EffectSizes
from bayesmeta.errors import BayesmetaError
from bayesmeta.frequentist.metareg import MetaRegression, meta_regression

EPS = 2.220446049250313e-16


def _design(es: EffectSizes, x: np.ndarray | None, names: Sequence[str] | None):
    if x is None:
        return np.ones((es.k, 1)), ("intercept",)
    return np.asarray(x, dtype=float), tuple(names or ())


def _subset(es: EffectSizes, keep: np.ndarray) -> EffectSizes:
    return replace(
        es, study=tuple(np.asarray(es.study, dtype=object)[keep]), yi=es.yi[keep], vi=es.vi[keep]
    )


def _fit(es, x, names, method, test) -> MetaRegression:
    return meta_regression(es, x, names, method=method, test=test, with_r2=False)


@dataclass(frozen=True)
class Influence:
    """metafor's ``influence()`` of one model, one value per study (order of ``study``).

    ``dfbetas`` is ``(k, p)`` over the coefficients ``names``; ``influential`` is metafor's
    ``inf`` flag: |DFFITS| > 3 sqrt(p / (k - p)), or P(chi^2_p < Cook's distance) > 0.5, or a
    hat value above 3 p / k, or any |DFBETAS| > 1. A study whose deletion cannot be fitted
    has NaN.
    """

    method: str
    test: str
    study: tuple[str, ...]
    names: tuple[str, ...]
    rstudent: np.ndarray
    dffits: np.ndarray
    cook_d: np.ndarray
    cov_r: np.ndarray
    tau2_del: np.ndarray
    qe_del: np.ndarray
    hat: np.ndarray
    weight: np.ndarray
    dfbetas: np.ndarray
    influential: np.ndarray

    def to_dict(self) -> dict[str, Any]:
        """``{method, test, studies: {study: {rstudent, dffits, cook_d, cov_r, tau2_del, qe_del,
        hat, weight, dfbetas: {coefficient: value}, influential}}}``."""
        studies = {}
        for i, name in enumerate(self.study):
            row = {
                key: _number(getattr(self, key)[i])
                for key in ("rstudent", "dffits", "cook_d", "cov_r", "tau2_del", "qe_del", "hat")
            }
            row["weight"] = float(self.weight[i])
            row["dfbetas"] = {c: _number(self.dfbetas[i, j]) for j, c in enumerate(self.names)}
            row["influential"] = bool(self.influential[i])
            studies[name] = row
        return {"method": self.method, "test": self.test, "studies": studies}


def _number(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def influence(
    es: EffectSizes,
    x: np.ndarray | None = None,
    names: Sequence[str] | None = None,
    *,
    method: str = "REML",
    test: str = "z",
) -> Influence:
    """Leave-one-out case diagnostics of ``rma(yi, vi, mods = x, method, test)``.

    ``x`` is the design matrix with its intercept column (None: the intercept only).

    Raises
    ------
    BayesmetaError
        Fewer than 3 studies (2 without moderators), or the full model cannot be fitted.
    """
    x, names = _design(es, x, names)
    k, p = x.shape
    if k < p + 2:
        raise BayesmetaError(
            f"influence diagnostics need at least {p + 2} studies for {p} coefficients, got {k}"
        )
    full = _fit(es, x, names, method, test)
    y, v = es.yi, es.vi
    w = 1 / (v + full.tau2)
    hat = np.einsum("ij,jk,ik->i", x, np.linalg.inv(x.T @ (x * w[:, None])), x) * w
    weight = 100 * w / w.sum()
    pred = x @ full.coef
    svb = np.linalg.inv(full.vcov)
    det_full = np.linalg.det(full.vcov)
    out = {
        key: np.full(k, np.nan) for key in ("rstudent", "dffits", "cook_d", "cov_r", "tau2", "qe")
    }
    dfbetas = np.full((k, p), np.nan)
    for i in range(k):
        keep = np.arange(k) != i
        try:
            fit = _fit(_subset(es, keep), x[keep], names, method, test)
        except BayesmetaError:
            continue
        delpred = float(x[i] @ fit.coef)
        vdelpred = float(x[i] @ fit.vcov @ x[i])
        out["tau2"][i], out["qe"][i] = fit.tau2, fit.qe
        out["dffits"][i] = (pred[i] - delpred) / np.sqrt(fit.s2w * hat[i] * (fit.tau2 + v[i]))
        vb_del = np.linalg.inv(x.T @ (x / (v + fit.tau2)[:, None]))
        dfb = full.coef - fit.coef
        dfbetas[i] = dfb / np.sqrt(fit.s2w * np.diag(vb_del))
        out["cook_d"][i] = dfb @ svb @ dfb
        out["cov_r"][i] = np.linalg.det(fit.vcov) / det_full
        resid = y[i] - delpred
        resid = 0.0 if abs(resid) < 100 * EPS else resid
        se = np.sqrt(v[i] * fit.s2w + vdelpred + fit.tau2 * fit.s2w)
        out["rstudent"][i] = resid / se
    with np.errstate(invalid="ignore"):
        flag = (
            (np.abs(out["dffits"]) > 3 * np.sqrt(p / (k - p)))
            | (special.chdtr(p, out["cook_d"]) > 0.5)
            | (hat > 3 * p / k)
            | np.any(np.abs(dfbetas) > 1, axis=1)
        )
    return Influence(
        method=method,
        test=test,
        study=tuple(es.study),
        names=tuple(names),
        rstudent=out["rstudent"],
        dffits=out["dffits"],
        cook_d=out["cook_d"],
        cov_r=out["cov_r"],
        tau2_del=out["tau2"],
        qe_del=out["qe"],
        hat=hat,
        weight=weight,
        dfbetas=dfbetas,
        influential=flag,
    )


@dataclass(frozen=True)
class Baujat:
    """Coordinates of a Baujat plot (Baujat et al. 2002, Stat Med 21:2641), per study: ``x``
    the squared Pearson residual ``(y_i - fit_i)^2 / (tau^2 + v_i)`` (for a common-effect fit
    the study's contribution to Q), ``y`` the influence on the fitted value
    ``(fit without i - fit)^2 / var(fit without i)``."""

    method: str
    study: tuple[str, ...]
    x: np.ndarray
    y: np.ndarray

    def to_dict(self) -> dict[str, Any]:
        """``{method, studies: {study: {x, y}}}``."""
        return {
            "method": self.method,
            "studies": {
                s: {"x": _number(self.x[i]), "y": _number(self.y[i])}
                for i, s in enumerate(self.study)
            },
        }


def baujat(
    es: EffectSizes,
    x: np.ndarray | None = None,
    names: Sequence[str] | None = None,
    *,
    method: str = "EE",
    test: str = "z",
) -> Baujat:
    """metafor's ``baujat(rma(yi, vi, mods = x, method))``; ``method="EE"`` (the plot's
    usual common-effect form) or a tau^2 estimator."""
    x, names = _design(es, x, names)
    k = es.k
    fixed = method == "EE"
    fit_method = "DL" if fixed else method

    def fit(sub_es: EffectSizes, sub_x: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
        if fixed:
            w = 1 / sub_es.vi
            vb = np.linalg.inv(sub_x.T @ (sub_x * w[:, None]))
            return vb @ (sub_x.T @ (w * sub_es.yi)), vb, 0.0
        r = _fit(sub_es, sub_x, names, fit_method, test)
        return r.coef, r.vcov, r.tau2

    beta, _, tau2 = fit(es, x)
    pred = x @ beta
    xs = (es.yi - pred) ** 2 / (tau2 + es.vi)
    ys = np.full(k, np.nan)
    for i in range(k):
        keep = np.arange(k) != i
        try:
            b, vb, _ = fit(_subset(es, keep), x[keep])
        except BayesmetaError:
            continue
        ys[i] = (x[i] @ b - pred[i]) ** 2 / (x[i] @ vb @ x[i])
    return Baujat(method, tuple(es.study), xs, ys)


@dataclass(frozen=True)
class Gosh:
    """Fits to subsets of the studies (``include``: ``(N, k)`` booleans), sorted by their
    size ``k``; ``exact`` when they are all subsets (else random ones)."""

    method: str
    study: tuple[str, ...]
    include: np.ndarray
    k: np.ndarray
    qe: np.ndarray
    i2: np.ndarray
    h2: np.ndarray
    tau2: np.ndarray
    estimate: np.ndarray
    exact: bool

    def to_dict(self) -> dict[str, Any]:
        """Summary for the JSON: the method, N, whether exact, and each statistic's range."""
        return {
            "method": self.method,
            "subsets": len(self.k),
            "exact": self.exact,
            "estimate_range": [float(np.nanmin(self.estimate)), float(np.nanmax(self.estimate))],
            "i2_range": [float(np.nanmin(self.i2)), float(np.nanmax(self.i2))],
        }


MAX_SUBSETS = 100_000


def gosh(
    es: EffectSizes,
    *,
    method: str = "EE",
    subsets: int = MAX_SUBSETS,
    seed: int = 1,
) -> Gosh:
    """metafor's ``gosh(rma(yi, vi, method))`` for the intercept-only model.

    All non-empty subsets when there are at most ``subsets`` of them (2^k - 1), else
    ``subsets`` random ones drawn as metafor does (a size from Binomial(k, 1/2) restricted to
    1..k, then that many studies), from a NumPy generator seeded with ``seed``. ``method``
    ``"EE"`` and ``"DL"`` use metafor's closed forms (I^2 = (Q - df) / Q, H^2 = Q / df);
    other estimators refit each subset.
    """
    k = es.k
    total = 2**k - 1
    exact = total <= subsets
    if exact:
        codes = np.arange(1, 2**k, dtype=np.int64)
        include = (codes[:, None] >> np.arange(k)) & 1 == 1
    else:
        rng = np.random.default_rng(seed)
        sizes = np.arange(1, k + 1)
        prob = special.binom(k, sizes) / (2.0**k - 1)
        size = rng.choice(sizes, size=subsets, p=prob / prob.sum())
        include = np.zeros((subsets, k), dtype=bool)
        for row, m in enumerate(size):
            include[row, rng.choice(k, m, replace=False)] = True
    n_sub = include.sum(1)
    order = np.argsort(n_sub, kind="stable")
    include, n_sub = include[order], n_sub[order]
    if method in ("EE", "DL"):
        qe, i2, h2, tau2, est = _closed_form(es.yi, es.vi, include, method == "DL")
    else:
        rows = [_refit(es, keep, method) for keep in include]
        qe, i2, h2, tau2, est = (np.array(c) for c in zip(*rows, strict=True))
    return Gosh(method, tuple(es.study), include, n_sub, qe, i2, h2, tau2, est, exact)


def _closed_form(y, v, include, dl: bool):
    """metafor's fast path of ``gosh`` for EE and DL fits, vectorised over the subsets."""
    w = np.where(include, 1 / v, 0.0)
    sw = w.sum(1)
    est = (w * y).sum(1) / sw
    q = (w * (y - est[:, None]) ** 2).sum(1)
    df = include.sum(1) - 1
    with np.errstate(divide="ignore", invalid="ignore"):
        i2 = np.where(df > 0, np.maximum(0, 100 * (q - df) / q), 0.0)
        h2 = np.where(df > 0, q / df, 1.0)
        i2 = np.where(np.isnan(i2), 0.0, i2)
        tau2 = np.zeros_like(q)
        if dl:
            tau2 = np.where(df > 0, np.maximum(0, (q - df) / (sw - (w**2).sum(1) / sw)), 0.0)
            ws = np.where(include, 1 / (v + tau2[:, None]), 0.0)
            est = (ws * y).sum(1) / ws.sum(1)
    q = np.where(df > 0, q, 0.0)
    return q, i2, h2, tau2, est


def _refit(es: EffectSizes, keep: np.ndarray, method: str):
    sub = _subset(es, keep)
    if sub.k == 1:
        return 0.0, 0.0, 1.0, 0.0, float(sub.yi[0])
    try:
        r = _fit(sub, np.ones((sub.k, 1)), ("intercept",), method, "z")
    except BayesmetaError:
        return (np.nan,) * 5
    return r.qe, r.i2, r.h2, r.tau2, float(r.coef[0])
