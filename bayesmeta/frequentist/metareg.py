"""Mixed-effects meta-regression and subgroup analyses, matched to metafor 3.8-1 ``rma.uni``.

:func:`meta_regression` is ``rma(yi, vi, mods = X, method = M, test = T)``: tau^2 by the
estimator's moderator form (residual Q and the projection ``P = W - W X (X'WX)^-1 X'W``),
coefficients by weighted least squares with ``w = 1 / (v + tau^2)``, Wald z or Hartung-Knapp
t tests, the omnibus test QM of every coefficient but the intercept (chi^2 on m df, or F on
(m, k - p) with Hartung-Knapp), the residual heterogeneity test QE, I^2 and H^2 from the
typical variance ``(k - p) / tr(P)``, and R^2 = ``(tau^2_RE - tau^2) / tau^2_RE`` against the
intercept-only fit (Raudenbush 1994). :func:`subgroup_analysis` is the test for subgroup
differences as RevMan and meta's ``metagen(subgroup = )`` report it: a fit per subgroup (its
own tau^2), and Q between = the common-effect Q of the subgroup estimates with their SEs, on
G - 1 degrees of freedom (fixed-effect and random-effects versions); beside it the
mixed-effects model with one tau^2, ``rma(mods = ~ factor(group))``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from scipy import special

from bayesmeta.effects import EffectSizes
from bayesmeta.errors import BayesmetaError
from bayesmeta.frequentist.pooled import (
    MAXITER,
    TAU2_METHODS,
    THRESHOLD,
    common_effect,
    projection,
    random_effects,
    tau2_max,
    tau2_se,
)
from bayesmeta.frequentist.results import DEFAULT_LEVEL, PooledEstimate, tails
from bayesmeta.frequentist.rootfind import R_TOL, uniroot
from bayesmeta.io.output import level_key

EPS = 2.220446049250313e-16


def _rss(y: np.ndarray, v: np.ndarray, x: np.ndarray) -> float:
    """Weighted residual sum of squares ``y' P y`` (the generalised Q at these variances)."""
    p, _ = projection(v, x)
    return float(y @ p @ y)


def _loglik(tau2: float, y: np.ndarray, v: np.ndarray, x: np.ndarray, method: str) -> float:
    """ML or REML log-likelihood of the mixed-effects model (metafor's ``ll.ML``/``ll.REML``)."""
    w = 1 / (v + tau2)
    xwx = x.T @ (x * w[:, None])
    beta = np.linalg.solve(xwx, x.T @ (w * y))
    rss = float(np.sum(w * (y - x @ beta) ** 2))
    k, p = x.shape
    if method == "ML":
        return -0.5 * (k * np.log(2 * np.pi) + np.sum(np.log(v + tau2)) + rss)
    logdet = np.linalg.slogdet(xwx)[1]
    return -0.5 * ((k - p) * np.log(2 * np.pi) + np.sum(np.log(v + tau2)) + logdet + rss)


def tau2_mods(
    y: np.ndarray, v: np.ndarray, x: np.ndarray, method: str, *, pm_tol: float = R_TOL
) -> tuple[float, float]:
    """Residual tau^2 and its standard error, as ``rma.uni`` with moderators ``x``.

    Returns ``(tau2, se_tau2)``; tau^2 is truncated at 0 as metafor (``tau2.min = 0``), and
    ``se_tau2`` is metafor's ``se.tau2`` for the estimator.

    Raises
    ------
    BayesmetaError
        Unknown method, no convergence of Fisher scoring, or a Paule-Mandel tau^2 beyond the
        search (``pooled.tau2_max``).
    """
    k, p = x.shape
    if method == "EE":
        return 0.0, float("nan")  # the common-effect model: no tau^2 to estimate
    if method not in TAU2_METHODS:
        raise BayesmetaError(f"unknown tau^2 method {method!r}; valid: {', '.join(TAU2_METHODS)}")
    if method in ("HS", "DL"):
        pm, w = projection(v, x)
        rss = float(y @ pm @ y)
        raw = (rss - k) / w.sum() if method == "HS" else (rss - (k - p)) / np.trace(pm)
    elif method == "SJ":
        tau0 = float(np.var(y))  # R's var(y) (k - 1) / k
        raw = tau0 * _rss(y, v + tau0, x) / (k - p)
    elif method == "PM":
        target, top = k - p, tau2_max(y)
        if _rss(y, v, x) < target:
            raw = 0.0
        elif _rss(y, v + top, x) > target:
            raise BayesmetaError(f"Paule-Mandel tau^2 is above {top:.4g}; use another estimator")
        else:
            raw = uniroot(
                lambda t: _rss(y, v + t, x) - target, 0.0, top, tol=pm_tol, maxiter=MAXITER
            )
    else:
        pu = np.eye(k) - x @ np.linalg.solve(x.T @ x, x.T)  # Hedges, also the start below
        raw = (float(y @ pu @ y) - float(np.sum(np.diag(pu) * v))) / (k - p)
        if method != "HE":
            raw = _scoring(y, v, x, method, max(0.0, raw))
    tau2 = max(0.0, float(raw))
    return tau2, tau2_se(method, y, v, x, tau2)


def _scoring(y: np.ndarray, v: np.ndarray, x: np.ndarray, method: str, tau2: float) -> float:
    """ML, REML or EB by metafor's Fisher-scoring loop from ``tau2``, with its check of a
    local maximum above tau^2 = 0."""
    k, p = x.shape
    for _ in range(MAXITER + 1):
        pm, w = projection(v + tau2, x)
        py = pm @ y
        if method == "ML":
            adj = (py @ py - w.sum()) / np.sum(w**2)
        elif method == "REML":
            adj = (py @ py - np.trace(pm)) / np.sum(pm * pm)
        else:
            adj = (float(y @ py) * k / (k - p) - k) / w.sum()
        adj = 0.0 if np.isnan(adj) else float(adj)
        while tau2 + adj < 0:
            adj /= 2
        tau2 += adj
        if abs(adj) <= THRESHOLD:
            break
    else:
        raise BayesmetaError(f"{method} estimation of tau^2 did not converge")
    if (
        method in ("ML", "REML")
        and _loglik(0.0, y, v, x, method) - _loglik(tau2, y, v, x, method) > R_TOL
        and tau2 > THRESHOLD
    ):
        return 0.0  # metafor's check for a local maximum above tau^2 = 0
    return tau2


@dataclass(frozen=True)
class MetaRegression:
    """A mixed-effects meta-regression (metafor ``rma(mods = ...)``).

    ``names`` label the coefficients (``intercept`` first); ``ci`` is ``(k, 2)`` at ``level``;
    ``stat`` holds z (or t with Hartung-Knapp, ``df`` = k - p) statistics. ``qm`` tests every
    coefficient but the intercept, or the intercept when it is the only one (``qm_df``: chi^2
    df, or the F test's (m, k - p)); ``qe`` is the residual heterogeneity on ``k - p`` df;
    ``r2`` in percent (None without moderators); ``s2w`` the Hartung-Knapp scale of ``vcov``
    (1 for z tests). ``tau2_ci`` is the Q-profile interval of the residual tau^2 with
    ``i2_ci``, ``h2_ci`` from its limits (metafor's ``confint``; None for EE), ``tau2_ci_pl``
    the profile-likelihood one (ML, REML: ``confint(type = "PL")``).
    """

    method: str
    test: str
    names: tuple[str, ...]
    coef: np.ndarray
    se: np.ndarray
    stat: np.ndarray
    p: np.ndarray
    ci: np.ndarray
    vcov: np.ndarray
    tau2: float
    se_tau2: float
    i2: float
    h2: float
    r2: float | None
    qm: float
    qm_df: tuple[int, ...]
    qm_p: float
    qe: float
    qe_df: int
    qe_p: float
    k: int
    level: float = DEFAULT_LEVEL
    s2w: float = 1.0
    tau2_ci: tuple[float, float] | None = None
    i2_ci: tuple[float, float] | None = None
    h2_ci: tuple[float, float] | None = None
    tau2_ci_pl: tuple[float, float] | None = None

    @property
    def df(self) -> int | None:
        """Degrees of freedom of the t tests (Hartung-Knapp), else None."""
        return self.k - len(self.names) if self.test == "knha" else None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``coefficients`` by name ``{estimate, se, z|t, p, ci95}`` and the tests."""
        stat = "t" if self.test == "knha" else "z"
        coefficients = {
            name: {
                "estimate": float(self.coef[j]),
                "se": float(self.se[j]),
                stat: float(self.stat[j]),
                "p": float(self.p[j]),
                level_key("ci", self.level): [float(c) for c in self.ci[j]],
            }
            for j, name in enumerate(self.names)
        }
        out: dict[str, Any] = {
            "method": self.method,
            "test": self.test,
            "k": self.k,
            "coefficients": coefficients,
            "qm": self.qm,
            "qm_df": list(self.qm_df),
            "qm_p": self.qm_p,
            "qe": self.qe,
            "qe_df": self.qe_df,
            "qe_p": self.qe_p,
            "tau2": self.tau2,
            "se_tau2": self.se_tau2,
            "i2": self.i2,
            "h2": self.h2,
        }
        if self.df is not None:
            out["df"] = self.df
        if self.r2 is not None:
            out["r2"] = self.r2
        for prefix, interval in (
            ("tau2_ci", self.tau2_ci),
            ("i2_ci", self.i2_ci),
            ("h2_ci", self.h2_ci),
            ("tau2_pl_ci", self.tau2_ci_pl),
        ):
            if interval is not None:
                out[level_key(prefix, self.level)] = [float(c) for c in interval]
        return out


def tau2_qprofile_mods(
    y: np.ndarray, v: np.ndarray, x: np.ndarray, tau2: float, *, level: float = DEFAULT_LEVEL
) -> tuple[float, float]:
    """Q-profile CI of the residual tau^2 (Viechtbauer 2007), metafor's ``confint`` of an
    ``rma`` fit with moderators: the limits solve ``QE(tau^2) = y' P(tau^2) y`` equal to the
    chi^2_{k-p} quantiles ``(1 + level) / 2`` (lower) and ``(1 - level) / 2`` (upper) on
    [0, max(100, 10 tau2)] with R's ``uniroot``; a limit below 0 is 0."""
    k, p = x.shape
    hi = max(100.0, 10 * tau2)
    lower_tail, upper_tail = tails(level)
    crit_u, crit_l = special.chdtri(k - p, lower_tail), special.chdtri(k - p, upper_tail)

    def q(t: float) -> float:
        return _rss(y, v + t, x)

    q_lo, q_hi = q(0.0), q(hi)
    if q_lo < crit_l:
        return (0.0, 0.0)
    ub = hi if q_hi > crit_l else uniroot(lambda t: q(t) - crit_l, 0.0, hi)
    if q_hi > crit_u:
        return (hi, hi)
    lb = 0.0 if q_lo < crit_u else uniroot(lambda t: q(t) - crit_u, 0.0, hi)
    return (lb, ub)


def tau2_profile_ci_mods(
    y: np.ndarray,
    v: np.ndarray,
    x: np.ndarray,
    tau2: float,
    method: str,
    *,
    level: float = DEFAULT_LEVEL,
) -> tuple[float, float]:
    """Profile-likelihood CI of the residual tau^2 (ML, REML), metafor's ``confint(type =
    "PL")`` with moderators: where ``-2 (ll(t) - ll(tau2))`` reaches the chi^2_1 quantile, on
    [0, tau2] and [tau2, max(100, 10 tau2)]; a limit beyond the search is its end."""
    crit = float(special.chdtri(1, 1 - level))
    top = _loglik(tau2, y, v, x, method)

    def gap(t: float) -> float:
        return -2 * (_loglik(t, y, v, x, method) - top) - crit

    hi = max(100.0, 10 * tau2)
    lb = 0.0 if gap(0.0) < 0 else uniroot(gap, 0.0, tau2, maxiter=1000)
    ub = hi if gap(hi) < 0 else uniroot(gap, tau2, hi, maxiter=1000)
    return (lb, ub)


def meta_regression(
    es: EffectSizes,
    x: np.ndarray,
    names: Sequence[str],
    *,
    method: str = "REML",
    test: str = "z",
    level: float = DEFAULT_LEVEL,
    pm_tol: float = R_TOL,
    with_r2: bool = True,
) -> MetaRegression:
    """``rma(yi, vi, mods = x, method = method, test = test)`` with an intercept column.

    Parameters
    ----------
    es
        Effect sizes of the k studies.
    x
        ``(k, p)`` design matrix in the order of ``es.study``, its first column the intercept
        (as :func:`bayesmeta.model.moderators.design_matrix` makes it).
    names
        Column labels of ``x``.
    method, test, level, pm_tol
        tau^2 estimator, ``"z"`` or ``"knha"``, interval level, Paule-Mandel root tolerance.
    with_r2
        Also fit the intercept-only model for R^2 (metafor's ``skipr2 = FALSE``).

    Raises
    ------
    BayesmetaError
        Fewer studies than coefficients + 1, collinear columns, or the tau^2 estimator fails.
    """
    if test not in ("z", "knha"):
        raise BayesmetaError(f"unknown test {test!r}; valid: z, knha")
    y, v = es.yi, es.vi
    x = np.asarray(x, dtype=float)
    k, p = x.shape
    if k <= p:
        raise BayesmetaError(
            f"a meta-regression with {p} coefficients needs more than {p} studies, got {k}"
        )
    if np.linalg.matrix_rank(x) < p:
        raise BayesmetaError(
            f"the moderators are collinear (the design matrix {', '.join(names)} has rank "
            f"{np.linalg.matrix_rank(x)} < {p})"
        )
    tau2, se_tau2 = tau2_mods(y, v, x, method, pm_tol=pm_tol)
    w = 1 / (v + tau2)
    xwx = x.T @ (x * w[:, None])
    vb = np.linalg.inv(xwx)
    beta = vb @ (x.T @ (w * y))
    tested = slice(1, None) if p > 1 else slice(0, 1)  # metafor's btt: the intercept alone
    m = max(p - 1, 1)
    s2w = 1.0
    if test == "knha":
        rss = float(np.sum(w * (y - x @ beta) ** 2))
        s2w = 0.0 if rss <= EPS else rss / (k - p)
        vb = vb * s2w
    se = np.sqrt(np.diag(vb))
    stat = beta / se
    b, vbb = beta[tested], vb[tested, tested]
    qm = float(b @ np.linalg.solve(vbb, b))
    if test == "knha":
        qm /= m
        qm_df: tuple[int, ...] = (m, k - p)
        qm_p = float(special.fdtrc(m, k - p, qm))
        pval = 2 * special.stdtr(k - p, -np.abs(stat))
        crit = float(special.stdtrit(k - p, tails(level)[1]))
    else:
        qm_df = (m,)
        qm_p = float(special.chdtrc(m, qm))
        pval = 2 * special.ndtr(-np.abs(stat))
        crit = float(special.ndtri(tails(level)[1]))
    pm, _ = projection(v, x)
    qe = max(0.0, float(y @ pm @ y))
    vt = (k - p) / float(np.trace(pm))
    if method == "EE":  # metafor's I^2 and H^2 of a common-effect model, from QE
        i2, h2 = max(0.0, 100 * (qe - (k - p)) / qe) if qe > 0 else 0.0, qe / (k - p)
    else:
        i2, h2 = 100 * tau2 / (vt + tau2), tau2 / vt + 1
    tau2_ci = i2_ci = h2_ci = pl_ci = None
    if method != "EE":
        tau2_ci = tau2_qprofile_mods(y, v, x, tau2, level=level)
        i2_ci = tuple(100 * t / (vt + t) for t in tau2_ci)
        h2_ci = tuple(t / vt + 1 for t in tau2_ci)
        if method in ("ML", "REML"):
            pl_ci = tau2_profile_ci_mods(y, v, x, tau2, method, level=level)
    r2 = None
    if p > 1 and with_r2 and method != "EE":
        tau2_re = tau2_mods(y, v, np.ones((k, 1)), method, pm_tol=pm_tol)[0]
        r2 = 0.0 if tau2_re == 0 else max(0.0, 100 * (tau2_re - tau2) / tau2_re)
    return MetaRegression(
        method=method,
        test=test,
        names=tuple(names),
        coef=beta,
        se=se,
        stat=stat,
        p=pval,
        ci=np.column_stack([beta - crit * se, beta + crit * se]),
        vcov=vb,
        tau2=tau2,
        se_tau2=se_tau2,
        i2=i2,
        h2=h2,
        r2=r2,
        qm=qm,
        qm_df=qm_df,
        qm_p=qm_p,
        qe=qe,
        qe_df=k - p,
        qe_p=float(special.chdtrc(k - p, qe)),
        k=k,
        level=level,
        s2w=s2w,
        tau2_ci=tau2_ci,
        i2_ci=i2_ci,
        h2_ci=h2_ci,
        tau2_ci_pl=pl_ci,
    )


@dataclass(frozen=True)
class QBetween:
    """The test for subgroup differences: Q between subgroups on ``df`` degrees of freedom."""

    q: float
    df: int
    p: float

    def to_dict(self) -> dict[str, Any]:
        """``{q, df, p}``."""
        return {"q": self.q, "df": self.df, "p": self.p}


def q_between(fits: Sequence[PooledEstimate]) -> QBetween:
    """``sum w_g (est_g - est_w)^2`` with ``w_g = 1 / se_g^2`` (the common-effect Q of the
    subgroup estimates), on G - 1 df, as meta's ``metagen(subgroup = )`` and RevMan."""
    est = np.array([f.estimate for f in fits])
    w = 1 / np.array([f.se for f in fits]) ** 2
    q = float(np.sum(w * (est - np.sum(w * est) / w.sum()) ** 2))
    df = len(fits) - 1
    return QBetween(q, df, float(special.chdtrc(df, q)))


@dataclass(frozen=True)
class SubgroupFits:
    """One analysis of the subgroups: each level's fit and Q between them; for a
    random-effects method also the mixed-effects model with one tau^2 (``mixed_effects``)."""

    method: str
    levels: dict[str, PooledEstimate]
    between: QBetween
    mixed_effects: MetaRegression | None = None

    def to_dict(self) -> dict[str, Any]:
        """``{method, levels: {level: block}, q_between: {q, df, p}[, mixed_effects]}``."""
        out: dict[str, Any] = {
            "method": self.method,
            "levels": {g: f.to_dict() for g, f in self.levels.items()},
            "q_between": self.between.to_dict(),
        }
        if self.mixed_effects is not None:
            out["mixed_effects"] = self.mixed_effects.to_dict()
        return out


def _subset(es: EffectSizes, keep: np.ndarray) -> EffectSizes:
    return replace(
        es, study=tuple(np.asarray(es.study, dtype=object)[keep]), yi=es.yi[keep], vi=es.vi[keep]
    )


def subgroup_analysis(
    es: EffectSizes,
    group: Sequence[str],
    levels: Sequence[str],
    *,
    method: str | None = "REML",
    test: str = "z",
    level: float = DEFAULT_LEVEL,
    column: str = "group",
    pm_tol: float = R_TOL,
) -> SubgroupFits:
    """Fits per subgroup and the test for subgroup differences.

    ``group`` gives each study's level (order of ``es.study``). ``method=None``: common-effect
    (inverse-variance) fits, the fixed-effect test; otherwise random-effects fits with their
    own tau^2 by ``method`` (a subgroup of one study has tau^2 = 0, its own effect), Q between
    from their estimates and SEs, and the mixed-effects model ``rma(mods = ~ factor(group),
    method = method, test = test)`` whose QM tests the same hypothesis with a common tau^2
    (its coefficients named ``column[level]``).

    Raises
    ------
    BayesmetaError
        A level without studies.
    """
    group = np.asarray(group, dtype=object)
    fits: dict[str, PooledEstimate] = {}
    for g in levels:
        sub = _subset(es, group == g)
        if sub.k == 0:
            raise BayesmetaError(f"subgroup {g!r} has no study with an effect estimate")
        if method is None or sub.k == 1:
            fits[g] = common_effect(sub, level=level)
        else:
            fits[g] = random_effects(sub, method=method, test=test, level=level, pm_tol=pm_tol)
    mixed = None
    if method is not None:
        x = np.column_stack([np.ones(es.k)] + [(group == g).astype(float) for g in levels[1:]])
        names = ("intercept", *(f"{column}[{g}]" for g in levels[1:]))
        mixed = meta_regression(es, x, names, method=method, test=test, level=level, pm_tol=pm_tol)
    name = (
        "fixed_iv"
        if method is None
        else f"random_{method.lower()}" + ("_hksj" if test == "knha" else "")
    )
    return SubgroupFits(name, fits, q_between(list(fits.values())), mixed)
