"""Frequentist pooled estimates, matched to R metafor 3.8-1 (third pipeline step, classic side).

Pure numpy/scipy. Each estimator reproduces metafor's computation, including its iteration
and root-finding tolerances, so the numbers agree with ``rma.mh``, ``rma.peto`` and ``rma.uni``
to about 1e-10 rather than only to those tolerances. Formulas: Viechtbauer (2005, J Educ Behav
Stat 30:261) for the tau^2 estimators and Fisher scoring; Higgins & Thompson (2002, Stat Med
21:1539) for I^2 and H^2; Viechtbauer (2007, Stat Med 26:37) for the Q-profile CI of tau^2;
Riley, Higgins & Deeks (2011, BMJ 342:d549) for the prediction interval.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np
from scipy import special

from bayesmeta import progress
from bayesmeta.effects import EffectSizes, effect_sizes
from bayesmeta.errors import BayesmetaError
from bayesmeta.frequentist.results import DEFAULT_LEVEL, PooledEstimate, Skipped, tails
from bayesmeta.frequentist.rootfind import R_TOL, uniroot
from bayesmeta.io.counts import TwoArmData

TAU2_METHODS = ("DL", "REML", "ML", "PM", "EB", "HE", "SJ", "HS")
# metafor rma.uni control defaults (Fisher scoring and the PM search).
THRESHOLD, MAXITER, TAU2_MAX = 1e-5, 100, 100.0


def z_quantile(level: float) -> float:
    """The normal quantile of a two-sided interval at ``level`` (1.96 for 0.95)."""
    return float(special.ndtri((1 + level) / 2))


def _z_summary(method: str, est: float, se: float, k: int, level: float, **extra) -> PooledEstimate:
    """Wald CI and two-sided p-value from the normal distribution."""
    p = 2 * special.ndtr(-abs(est / se))
    z = z_quantile(level)
    ci = (est - z * se, est + z * se)
    return PooledEstimate(method, float(est), float(se), ci, float(p), k, level=level, **extra)


def _heterogeneity_fixed(q: float, df: int) -> dict:
    """Q, its p-value, I^2 = max(0, (Q - df) / Q) and H^2 = Q / df (metafor, fixed models)."""
    if df < 1:
        return {"q": 0.0, "q_p": 1.0, "i2": 0.0, "h2": 1.0}
    q = max(0.0, q)
    i2 = max(0.0, 100 * (q - df) / q) if q > 0 else 0.0
    return {"q": q, "q_p": float(special.chdtrc(df, q)), "i2": i2, "h2": q / df}


def _mh_odds_ratio(a, b, c, d) -> tuple[float, float]:
    """MH log odds ratio with the variance of Robins, Breslow & Greenland (1986, Biometrics
    42:311)."""
    n = a + b + c + d
    P, Q_ = (a + d) / n, (b + c) / n
    R_i, S_i = a * d / n, b * c / n
    R, S = R_i.sum(), S_i.sum()
    if R == 0 or S == 0:
        raise BayesmetaError("Mantel-Haenszel odds ratio is 0 or infinite (no informative tables)")
    var = 0.5 * (
        (P * R_i).sum() / R**2 + (P * S_i + Q_ * R_i).sum() / (R * S) + (Q_ * S_i).sum() / S**2
    )
    return float(np.log(R / S)), float(var)


def _mh_risk_ratio(a, b, c, d) -> tuple[float, float]:
    """MH log risk ratio with the variance of Greenland & Robins (1985, Biometrics 41:55)."""
    n1, n2 = a + b, c + d
    n = n1 + n2
    R, S = np.sum(a * n2 / n), np.sum(c * n1 / n)
    if a.sum() == 0 or c.sum() == 0:
        raise BayesmetaError("Mantel-Haenszel risk ratio is 0 or infinite (no events in one arm)")
    var = np.sum(n1 / n * (n2 / n) * (a + c) - a / n * c) / (R * S)
    return float(np.log(R / S)), float(var)


def _mh_risk_difference(a, b, c, d) -> tuple[float, float]:
    """MH risk difference with the variance of Greenland & Robins (1985, Biometrics 41:55)."""
    n1, n2 = a + b, c + d
    n = n1 + n2
    weight = np.sum(n1 * (n2 / n))
    est = np.sum(a * (n2 / n) - c * (n1 / n)) / weight
    var = (
        est * np.sum(c * (n1 / n) ** 2 - a * (n2 / n) ** 2 + n1 / n * (n2 / n) * (n2 - n1) / 2)
        + np.sum(a * (n2 - c) / n + c * (n1 - a) / n) / 2
    ) / weight**2
    return float(est), float(var)


# measure -> the Mantel-Haenszel estimate and its variance from the uncorrected cells a, b, c, d
MH_ESTIMATORS: dict[str, Callable[..., tuple[float, float]]] = {
    "OR": _mh_odds_ratio,
    "RR": _mh_risk_ratio,
    "RD": _mh_risk_difference,
}


def mantel_haenszel(
    data: TwoArmData, *, measure: str = "OR", level: float = DEFAULT_LEVEL
) -> PooledEstimate:
    """Mantel-Haenszel pooled log odds ratio, log risk ratio or risk difference (metafor
    ``rma.mh(measure = "OR" | "RR" | "RD")``).

    No continuity correction for the estimate. Q is ``sum((yi - est)^2 / vi)`` over the escalc
    effects of ``measure`` (0.5 added to zero-cell studies, double-zero studies left out), as
    metafor reports it.

    Raises
    ------
    BayesmetaError
        An unknown measure, or the MH odds ratio or risk ratio is 0 or infinite.
    """
    if measure not in MH_ESTIMATORS:
        raise BayesmetaError(
            f"unknown Mantel-Haenszel measure {measure!r}; valid: {', '.join(MH_ESTIMATORS)}"
        )
    a = data.treatment_events.astype(float)
    b = data.treatment_total - a
    c = data.control_events.astype(float)
    d = data.control_total - c
    est, var = MH_ESTIMATORS[measure](a, b, c, d)
    es = effect_sizes(data, measure=measure, drop00=True)
    q = float(np.sum((es.yi - est) ** 2 / es.vi))
    return _z_summary(
        "mantel_haenszel",
        est,
        np.sqrt(var),
        data.k,
        level,
        tau2=0.0,
        **_heterogeneity_fixed(q, es.k - 1),
    )


def peto(data: TwoArmData, *, level: float = DEFAULT_LEVEL) -> PooledEstimate:
    """Peto's one-step log odds ratio (Yusuf et al. 1985, Prog Cardiovasc Dis 27:335).

    ``est = sum(O - E) / sum(V)`` with the hypergeometric mean ``E`` and variance ``V`` of the
    treatment events, ``se = 1 / sqrt(sum V)``; Q as metafor ``rma.peto``.

    Raises
    ------
    BayesmetaError
        If one of the two outcomes never occurs in any table.
    """
    o_minus_e, v = _peto_terms(data)
    if v.sum() == 0:
        raise BayesmetaError("one of the two outcomes never occurred: Peto's method cannot be used")
    est = o_minus_e.sum() / v.sum()
    pos = v > 0
    q = float(np.sum(o_minus_e[pos] ** 2 / v[pos]) - o_minus_e.sum() ** 2 / v.sum())
    k_yi = int(np.sum(~data.double_zero))
    het = _heterogeneity_fixed(q, k_yi - 1) if pos.sum() > 1 else _heterogeneity_fixed(0.0, 0)
    return _z_summary("peto", est, 1 / np.sqrt(v.sum()), data.k, level, tau2=0.0, **het)


def _peto_terms(data: TwoArmData) -> tuple[np.ndarray, np.ndarray]:
    """Observed minus expected treatment events and their hypergeometric variance, per study."""
    a = data.treatment_events.astype(float)
    n1 = data.treatment_total.astype(float)
    n2 = data.control_total.astype(float)
    n = n1 + n2
    events = a + data.control_events
    non_events = n - events
    expected = events * n1 / n
    v = events * non_events * (n1 / n) * (n2 / n) / (n - 1)
    return a - expected, v


def _weighted_mean(y: np.ndarray, w: np.ndarray) -> float:
    return float(np.sum(w * y) / np.sum(w))


def _q(tau2: float, y: np.ndarray, v: np.ndarray) -> float:
    """Generalised Q: ``sum(w (y - mu_w)^2)`` with ``w = 1 / (v + tau2)``."""
    w = 1 / (v + tau2)
    return float(np.sum(w * (y - _weighted_mean(y, w)) ** 2))


def common_effect(es: EffectSizes, *, level: float = DEFAULT_LEVEL) -> PooledEstimate:
    """Inverse-variance common-effect estimate (metafor ``rma(method = "EE")``)."""
    y, v = es.yi, es.vi
    w = 1 / v
    est = _weighted_mean(y, w)
    return _z_summary(
        "fixed_iv",
        est,
        np.sqrt(1 / w.sum()),
        es.k,
        level,
        tau2=0.0,
        **_heterogeneity_fixed(_q(0.0, y, v), es.k - 1),
    )


def _tau2_dl(y: np.ndarray, v: np.ndarray) -> float:
    """DerSimonian & Laird (1986, Control Clin Trials 7:177) moment estimator."""
    w = 1 / v
    return (_q(0.0, y, v) - (len(y) - 1)) / (np.sum(w * _others(w)) / w.sum())


def _tau2_he(y: np.ndarray, v: np.ndarray) -> float:
    """Hedges (1983) unweighted moment estimator: ``(RSS - (k-1)/k sum v) / (k - 1)``."""
    k = len(y)
    return (np.sum((y - y.mean()) ** 2) - v.sum() * (k - 1) / k) / (k - 1)


def _tau2_hs(y: np.ndarray, v: np.ndarray) -> float:
    """Hunter & Schmidt (2004) estimator: ``(Q - k) / sum(1/v)``."""
    return (_q(0.0, y, v) - len(y)) / np.sum(1 / v)


def _tau2_sj(y: np.ndarray, v: np.ndarray) -> float:
    """Sidik & Jonkman (2005, J Biopharm Stat 15:823), started at ``mean((y - ybar)^2)``."""
    tau0 = np.mean((y - y.mean()) ** 2)
    return tau0 * _q(tau0, y, v) / (len(y) - 1)


def _tau2_pm(y: np.ndarray, v: np.ndarray, tol: float = R_TOL) -> float:
    """Paule & Mandel (1982, J Res NBS 87:377): the tau^2 where Q(tau^2) = k - 1.

    Found as metafor does, with R's ``uniroot`` on [0, 100] at ``tol`` (metafor's default
    ``control = list(tol = .Machine$double.eps^0.25)``).
    """
    target = len(y) - 1
    if _q(0.0, y, v) < target:
        return 0.0
    top = tau2_max(y)
    if _q(top, y, v) > target:
        raise BayesmetaError(f"Paule-Mandel tau^2 is above {top:.4g}; use another estimator")
    return uniroot(lambda t: _q(t, y, v) - target, 0.0, top, tol=tol, maxiter=MAXITER)


def tau2_max(y: np.ndarray) -> float:
    """Upper end of the Paule-Mandel search: metafor's ``max(100, 10 * mad(yi)^2)`` (R's
    ``mad``, scaled by 1.4826), so effects on wide scales (mean differences) are found too."""
    mad = 1.4826 * float(np.median(np.abs(y - np.median(y))))
    return max(TAU2_MAX, 10 * mad**2)


def _scoring_step(method: str, tau2: float, y: np.ndarray, v: np.ndarray) -> float:
    """One Fisher-scoring (ML, REML) or empirical-Bayes (EB) update of tau^2 (Viechtbauer 2005)."""
    w = 1 / (v + tau2)
    sw = w.sum()
    r = w * (y - _weighted_mean(y, w))  # P y
    if method == "ML":
        return (np.sum(r**2) - sw) / np.sum(w**2)
    if method == "REML":
        # tr(P) and tr(PP) of P = W - w w' / sum(w) as sums of non-negative terms, with each
        # "sum of the others" summed directly, so a study far more precise than the rest
        # does not cancel them away (the textbook form S2 - 2 S3 / S1 + S2^2 / S1^2 reaches 0
        # or below at a variance ratio near 1e9, and the step becomes infinite).
        others, others2 = _others(w), _others(w**2)
        tr_p = np.sum(w * others) / sw
        tr_pp = (np.sum(w**2 * others**2) + np.sum(w**2 * others2)) / sw**2
        return (np.sum(r**2) - tr_p) / tr_pp
    k = len(y)  # EB (Morris 1983)
    return (np.sum(r * (y - _weighted_mean(y, w))) * k / (k - 1) - k) / sw


def _others(x: np.ndarray) -> np.ndarray:
    """``sum(x) - x[i]`` for each i, the largest term's computed from the others themselves."""
    out = x.sum() - x
    i = int(np.argmax(x))
    out[i] = np.sum(np.delete(x, i))
    return out


def _tau2_iterative(method: str, y: np.ndarray, v: np.ndarray) -> float:
    """ML, REML or EB by metafor's scoring loop: HE start, threshold 1e-5, step halving at 0."""
    tau2 = max(0.0, _tau2_he(y, v))
    converged = False
    for _ in range(MAXITER):
        step = _scoring_step(method, tau2, y, v)
        step = 0.0 if np.isnan(step) else step
        if not np.isfinite(step):
            break  # halving an infinite step would never end
        while tau2 + step < 0:
            step /= 2
        tau2 += step
        if abs(step) <= THRESHOLD:
            converged = True
            break
    if not converged:
        raise BayesmetaError(f"{method} estimation of tau^2 did not converge (Fisher scoring)")
    if (
        method in ("ML", "REML")
        and _loglik(0.0, y, v, method) - _loglik(tau2, y, v, method) > (2.220446049250313e-16**0.25)
        and tau2 > THRESHOLD
    ):
        return 0.0  # metafor's check for a local maximum above tau^2 = 0
    return tau2


def _loglik(tau2: float, y: np.ndarray, v: np.ndarray, method: str) -> float:
    """Log-likelihood (ML) or restricted log-likelihood (REML) of the random-effects model."""
    w = 1 / (v + tau2)
    q = np.sum(w * (y - _weighted_mean(y, w)) ** 2)
    k = len(y)
    if method == "ML":
        return -0.5 * (k * np.log(2 * np.pi) + np.sum(np.log(v + tau2)) + q)
    return -0.5 * ((k - 1) * np.log(2 * np.pi) + np.sum(np.log(v + tau2)) + np.log(w.sum()) + q)


TAU2_ESTIMATORS: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
    "DL": _tau2_dl,
    "HE": _tau2_he,
    "HS": _tau2_hs,
    "SJ": _tau2_sj,
    "PM": _tau2_pm,
    "REML": lambda y, v: _tau2_iterative("REML", y, v),
    "ML": lambda y, v: _tau2_iterative("ML", y, v),
    "EB": lambda y, v: _tau2_iterative("EB", y, v),
}


def tau2_estimate(es: EffectSizes, method: str = "DL", *, pm_tol: float = R_TOL) -> float:
    """Between-study variance tau^2 by ``method`` (one of ``TAU2_METHODS``), truncated at 0;
    ``pm_tol`` is the root tolerance of the Paule-Mandel search."""
    if method not in TAU2_ESTIMATORS:
        raise BayesmetaError(f"unknown tau^2 method {method!r}; valid: {', '.join(TAU2_METHODS)}")
    if es.k < 2:
        return 0.0
    if method == "PM":
        return max(0.0, float(_tau2_pm(es.yi, es.vi, pm_tol)))
    return max(0.0, float(TAU2_ESTIMATORS[method](es.yi, es.vi)))


def projection(v: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``P = W - W X (X'WX)^-1 X'W`` with ``W = diag(1 / v)``, and the weights ``1 / v``."""
    w = 1 / v
    wx = x * w[:, None]
    p = np.diag(w) - wx @ np.linalg.solve(x.T @ wx, wx.T)
    return p, w


DENSE_MAX = 2000  # up to this many studies the projection is formed (32 MB at 2,000)


class _Projection:
    """Traces of ``P = W - U B U'`` (``U = W X``, ``B = (X'WX)^-1``, ``W = diag(w)``) against a
    diagonal ``D = diag(d)``.

    Up to :data:`DENSE_MAX` studies from the k x k matrix itself (sums of its elements, which
    stay accurate when one study's weight dwarfs the others'); beyond, in O(k p^2) from the
    low-rank form, as a 10,000-study leave-one-out would otherwise form 10,000 dense 800 MB
    matrices.
    """

    def __init__(self, w: np.ndarray, x: np.ndarray) -> None:
        self.w, self.u = w, x * w[:, None]
        self.b = np.linalg.inv(x.T @ self.u)
        self.p = projection(1 / w, x)[0] if len(w) <= DENSE_MAX else None

    def _s(self, d: np.ndarray) -> np.ndarray:
        return self.u.T @ (self.u * d[:, None])  # U' D U

    def tr_pd(self, d: np.ndarray) -> float:
        """``tr(P D)``."""
        if self.p is not None:
            return float(np.sum(np.diag(self.p) * d))
        return float(np.sum(self.w * d) - np.trace(self.b @ self._s(d)))

    def tr_pdpd(self, d: np.ndarray) -> float:
        """``tr(P D P D)``."""
        if self.p is not None:
            pd_ = self.p * d[None, :]
            return float(np.sum(pd_ * pd_.T))
        s_d, b = self._s(d), self.b
        cross = np.trace(b @ self._s(d**2 * self.w))
        return float(np.sum((self.w * d) ** 2) - 2 * cross + np.trace(b @ s_d @ b @ s_d))

    def tr_dpp(self, d: np.ndarray) -> float:
        """``tr(D P P)``."""
        if self.p is not None:
            return float(np.sum(self.p * self.p * d[None, :]))
        b, ones = self.b, np.ones_like(d)
        cross = np.trace(b @ self._s(d * self.w))
        return float(
            np.sum(d * self.w**2) - 2 * cross + np.trace(b @ self._s(ones) @ b @ self._s(d))
        )


def tau2_se(method: str, y: np.ndarray, v: np.ndarray, x: np.ndarray, tau2: float) -> float:
    """Standard error of the tau^2 estimate, metafor's ``se.tau2`` (``rma.uni``), for the
    design ``x`` (a column of ones without moderators)."""
    k, p = x.shape
    t = max(tau2, 0.0)
    ones = np.ones(k)
    if method in ("DL", "HS"):
        pm = _Projection(1 / v, x)
        tr = pm.tr_pd(ones)
        scale = tr if method == "DL" else float(np.sum(1 / v))
        return float(np.sqrt(2 * (k - p) + 4 * t * tr + 2 * t**2 * pm.tr_pdpd(ones)) / scale)
    if method == "HE":
        m = _Projection(ones, x)  # I - X (X'X)^-1 X'
        var = 2 * m.tr_pdpd(v) + 4 * t * m.tr_pd(v) + 2 * t**2 * (k - p)
        return float(np.sqrt(var) / (k - p))
    if method == "SJ":
        tau0 = float(np.var(y))  # the start, R's var(y) (k - 1) / k
        pm = _Projection(1 / (v + tau0), x)
        var = 2 * pm.tr_pdpd(v) + 4 * t * pm.tr_dpp(v) + 2 * t**2 * pm.tr_pdpd(ones)
        return float(tau0 / (k - p) * np.sqrt(var))
    w = 1 / (v + t)
    if method == "ML":
        return float(np.sqrt(2 / np.sum(w**2)))
    if method == "REML":
        return float(np.sqrt(2 / _Projection(w, x).tr_pdpd(ones)))
    return float(np.sqrt(2 * k**2 / (k - p)) / w.sum())  # EB, PM


def tau2_profile_ci(
    es: EffectSizes, tau2: float, method: str, *, level: float = DEFAULT_LEVEL
) -> tuple[float, float]:
    """Profile-likelihood CI of tau^2 (ML or REML), metafor's ``confint(type = "PL")``.

    The limits are where ``-2 (ll(t) - ll(tau2))`` reaches the chi^2_1 quantile at ``level``,
    found with R's ``uniroot`` on [0, tau2] and [tau2, max(100, 10 tau2)]; a limit beyond the
    search range is its end.
    """
    if method not in ("ML", "REML"):
        raise BayesmetaError(f"a profile-likelihood CI needs ML or REML, not {method}")
    y, v = es.yi, es.vi
    crit = float(special.chdtri(1, 1 - level))
    top = _loglik(tau2, y, v, method)

    def gap(t: float) -> float:
        return -2 * (_loglik(t, y, v, method) - top) - crit

    hi = max(100.0, 10 * tau2)
    lb = 0.0 if gap(0.0) < 0 else uniroot(gap, 0.0, tau2, maxiter=1000)
    ub = hi if gap(hi) < 0 else uniroot(gap, tau2, hi, maxiter=1000)
    return (lb, ub)


def tau2_qprofile(
    es: EffectSizes, tau2: float = 0.0, *, level: float = DEFAULT_LEVEL
) -> tuple[float, float]:
    """Q-profile confidence interval of tau^2 (Viechtbauer 2007), as metafor ``confint``.

    The limits solve ``Q(tau^2) = chi2_{k-1}`` quantiles ``(1 + level) / 2`` (lower) and
    ``(1 - level) / 2`` (upper) on [0, max(100, 10 tau2)] with R's ``uniroot``; a limit that
    would be negative is 0.
    """
    y, v, df = es.yi, es.vi, es.k - 1
    hi = max(100.0, 10 * tau2)
    lower_tail, upper_tail = tails(level)
    crit_u, crit_l = special.chdtri(df, lower_tail), special.chdtri(df, upper_tail)
    q_lo, q_hi = _q(0.0, y, v), _q(hi, y, v)
    if q_lo < crit_l:
        return (0.0, 0.0)
    ub = hi if q_hi > crit_l else uniroot(lambda t: _q(t, y, v) - crit_l, 0.0, hi)
    if q_hi > crit_u:
        return (hi, hi)
    lb = 0.0 if q_lo < crit_u else uniroot(lambda t: _q(t, y, v) - crit_u, 0.0, hi)
    return (lb, ub)


def _vt(v: np.ndarray) -> float:
    """Typical within-study variance ``(k - 1) sum w / ((sum w)^2 - sum w^2)`` (Higgins 2002)."""
    w = 1 / v
    return (len(v) - 1) * w.sum() / np.sum(w * _others(w))


def weights(es: EffectSizes, tau2: float = 0.0) -> np.ndarray:
    """Percentage weight of each study in an inverse-variance fit with between-study variance
    ``tau2``: ``100 w_i / sum(w)`` with ``w_i = 1 / (v_i + tau2)``, as metafor's ``weights()``
    of an ``rma`` fit (``tau2 = 0``: the common-effect weights)."""
    if tau2 < 0 or not np.isfinite(tau2):
        raise BayesmetaError(f"tau^2 must be a finite number >= 0, got {tau2}")
    w = 1 / (es.vi + tau2)
    return 100 * w / w.sum()


def random_effects(
    es: EffectSizes,
    *,
    method: str = "DL",
    test: str = "z",
    level: float = DEFAULT_LEVEL,
    pm_tol: float = R_TOL,
) -> PooledEstimate:
    """Random-effects estimate with tau^2 by ``method``, as metafor ``rma(yi, vi, method, test)``.

    Parameters
    ----------
    es
        Effect sizes (at least 2 studies).
    method
        tau^2 estimator: DL, REML, ML, PM, EB, HE, SJ or HS.
    test
        ``"z"`` (normal) or ``"knha"``: Hartung & Knapp (2001, Stat Med 20:3875) / Sidik &
        Jonkman (2002, Stat Med 21:3153) variance ``sum(w (y - mu)^2) / ((k - 1) sum w)`` and
        t(k - 1) for the CI, the p-value and the prediction interval.
    pm_tol
        Root tolerance of the Paule-Mandel search (metafor's default).

    Returns
    -------
    PooledEstimate
        With tau^2, its standard error (metafor's ``se.tau2``) and Q-profile CI (for ML and
        REML also the profile-likelihood CI), I^2 = tau^2 / (tau^2 + vt) and H^2 = tau^2 / vt
        + 1 with their CIs from the Q-profile limits (``confint``), the common-effect Q, and
        the prediction interval ``est +- crit sqrt(se^2 + tau^2)``.
    """
    if test not in ("z", "knha"):
        raise BayesmetaError(f"unknown test {test!r}; valid: z, knha")
    if es.k < 2:
        raise BayesmetaError(f"a random-effects model needs at least 2 studies, got {es.k}")
    tau2 = tau2_estimate(es, method, pm_tol=pm_tol)
    y, v, k = es.yi, es.vi, es.k
    w = 1 / (v + tau2)
    est = _weighted_mean(y, w)
    se = np.sqrt(1 / w.sum())
    q = _q(0.0, y, v)
    vt = _vt(v)
    tau2_ci = tau2_qprofile(es, tau2, level=level)
    het = {
        "tau2": tau2,
        "tau2_ci": tau2_ci,
        "i2": 100 * tau2 / (vt + tau2),
        "h2": tau2 / vt + 1,
        "q": q,
        "q_p": float(special.chdtrc(k - 1, q)),
        "se_tau2": tau2_se(method, y, v, np.ones((k, 1)), tau2),
        "i2_ci": tuple(100 * t / (vt + t) for t in tau2_ci),
        "h2_ci": tuple(t / vt + 1 for t in tau2_ci),
    }
    if method in ("ML", "REML"):
        het["tau2_ci_pl"] = tau2_profile_ci(es, tau2, method, level=level)
    name = f"random_{method.lower()}" + ("_hksj" if test == "knha" else "")
    if test == "z":
        half = z_quantile(level) * np.sqrt(se**2 + tau2)
        return _z_summary(name, est, se, k, level, pi=(est - half, est + half), **het)
    rss = float(np.sum(w * (y - est) ** 2))
    se = np.sqrt(0.0 if rss <= 2.220446049250313e-16 else rss / (k - 1) * se**2)
    crit = special.stdtrit(k - 1, tails(level)[1])
    p = 2 * special.stdtr(k - 1, -abs(est / se)) if se > 0 else 0.0
    half = crit * np.sqrt(se**2 + tau2)
    return PooledEstimate(
        name,
        float(est),
        float(se),
        (est - crit * se, est + crit * se),
        float(p),
        k,
        pi=(est - half, est + half),
        df=k - 1,
        level=level,
        **het,
    )


def _subset(es: EffectSizes, keep: np.ndarray) -> EffectSizes:
    return replace(
        es, study=tuple(np.asarray(es.study, dtype=object)[keep]), yi=es.yi[keep], vi=es.vi[keep]
    )


def subset_counts(data: TwoArmData, keep: np.ndarray) -> TwoArmData:
    """The two-arm ``data`` of the studies where ``keep`` is true (in the order of ``keep``
    when it is an index array)."""
    idx = np.arange(data.k)[keep]
    return replace(
        data,
        study=tuple(data.study[i] for i in idx),
        treatment_events=data.treatment_events[idx],
        treatment_total=data.treatment_total[idx],
        control_events=data.control_events[idx],
        control_total=data.control_total[idx],
        covariates=data.covariates.iloc[idx].reset_index(drop=True),
    )


COUNT_METHODS = {"MH": mantel_haenszel, "PETO": peto}
SEQUENTIAL_METHODS = (*TAU2_METHODS, "EE", *COUNT_METHODS)


def _sequential_fit(
    es: EffectSizes, data: TwoArmData | None, idx: np.ndarray, method: str, level: float
) -> PooledEstimate | Skipped:
    """One fit of a leave-one-out or cumulative analysis: ``method`` on the studies ``idx``
    (of ``data`` for Mantel-Haenszel and Peto, of ``es`` otherwise); one that cannot be
    computed (a Mantel-Haenszel odds ratio of 0) is :class:`Skipped`, where metafor has NA."""
    try:
        if method in COUNT_METHODS:
            sub_counts = subset_counts(data, idx)
            if method == "MH":  # on the measure of the effect sizes (OR, RR or RD)
                return mantel_haenszel(sub_counts, measure=es.measure, level=level)
            if es.measure != "OR":
                raise BayesmetaError("Peto's method gives odds ratios only")
            return peto(sub_counts, level=level)
        sub = _subset(es, idx)
        if method == "EE" or sub.k == 1:
            return common_effect(sub, level=level)
        return random_effects(sub, method=method, level=level)
    except BayesmetaError as exc:
        return Skipped(method, str(exc))


def _check_sequential(method: str, data: TwoArmData | None) -> None:
    if method not in SEQUENTIAL_METHODS:
        raise BayesmetaError(f"unknown method {method!r}; valid: {', '.join(SEQUENTIAL_METHODS)}")
    if method in COUNT_METHODS and data is None:
        raise BayesmetaError(f"{method} needs two-arm counts")


def leave_one_out(
    es: EffectSizes,
    method: str = "DL",
    *,
    level: float = DEFAULT_LEVEL,
    data: TwoArmData | None = None,
) -> dict[str, PooledEstimate | Skipped]:
    """Fit without each study in turn (metafor ``leave1out``), by omitted study.

    ``method`` is a tau^2 estimator (random effects), ``"EE"`` (inverse-variance common
    effect), or ``"MH"`` / ``"PETO"`` on the counts ``data`` (``leave1out(rma.mh(...))``,
    ``leave1out(rma.peto(...))``; every study of ``data`` is left out in turn).
    """
    _check_sequential(method, data)
    names = data.study if method in COUNT_METHODS else es.study
    out = {}
    with progress.bar("Leave one out", len(names)) as bar:
        for i, name in enumerate(names):
            keep = np.flatnonzero(np.arange(len(names)) != i)
            out[name] = _sequential_fit(es, data, keep, method, level)
            if bar is not None:
                bar.advance()
    return out


def cumulative(
    es: EffectSizes,
    order: Sequence[str],
    method: str = "DL",
    *,
    level: float = DEFAULT_LEVEL,
    data: TwoArmData | None = None,
) -> dict[str, PooledEstimate | Skipped]:
    """Cumulative meta-analysis (metafor ``cumul``): studies added in ``order``.

    Returns the fit after each study is added, keyed by that study; with a tau^2 estimator
    the first entry (one study) is the study's own effect with tau^2 = 0. ``method`` as in
    :func:`leave_one_out` (``"MH"`` / ``"PETO"``: ``cumul(rma.mh(...))`` on ``data``).
    """
    _check_sequential(method, data)
    names = data.study if method in COUNT_METHODS else es.study
    position = {name: i for i, name in enumerate(names)}
    unknown = [s for s in order if s not in position]
    if unknown or len(set(order)) != len(order):
        raise BayesmetaError(
            f"order must name each study at most once; unknown: {', '.join(map(str, unknown))}"
        )
    out = {}
    with progress.bar("Cumulative", len(order)) as bar:
        for n in range(1, len(order) + 1):
            idx = np.array([position[s] for s in order[:n]])
            out[order[n - 1]] = _sequential_fit(es, data, idx, method, level)
            if bar is not None:
                bar.advance()
    return out


@dataclass(frozen=True)
class Blups:
    """Best linear unbiased predictions of the true study effects (metafor ``blup``):
    ``pred = l y + (1 - l) mu`` with ``l = tau^2 / (tau^2 + v)``, its SE and the interval at
    ``level`` (t on k - 1 df with Hartung-Knapp)."""

    method: str
    study: tuple[str, ...]
    pred: np.ndarray
    se: np.ndarray
    pi: np.ndarray
    level: float = DEFAULT_LEVEL

    def to_dict(self) -> dict:
        """``{method, studies: {study: {pred, se, pi95}}}``."""
        from bayesmeta.io.output import level_key

        key = level_key("pi", self.level)
        return {
            "method": self.method,
            "studies": {
                s: {"pred": float(self.pred[i]), "se": float(self.se[i]),
                    key: [float(v) for v in self.pi[i]]}
                for i, s in enumerate(self.study)
            },
        }  # fmt: skip


def blup(
    es: EffectSizes, method: str = "REML", *, test: str = "z", level: float = DEFAULT_LEVEL
) -> Blups:
    """metafor's ``blup(rma(yi, vi, method, test))`` for the random-effects model."""
    fit = random_effects(es, method=method, test=test, level=level)
    lam = fit.tau2 / (fit.tau2 + es.vi)
    pred = lam * es.yi + (1 - lam) * fit.estimate
    se = np.sqrt(lam * es.vi + (1 - lam) ** 2 * fit.se**2)
    if test == "knha":
        crit = float(special.stdtrit(es.k - 1, tails(level)[1]))
    else:
        crit = z_quantile(level)
    name = f"random_{method.lower()}" + ("_hksj" if test == "knha" else "")
    return Blups(
        name,
        tuple(es.study),
        pred,
        se,
        np.column_stack([pred - crit * se, pred + crit * se]),
        level,
    )
