"""Regression tests for small-study effects (funnel-plot asymmetry).

Each test fits a weighted least-squares line with a multiplicative dispersion and reports the
t statistic of one coefficient with ``k - 2`` degrees of freedom:

- Egger et al. (1997, BMJ 315:629) as metafor ``regtest(model = "lm")``: ``yi ~ sqrt(vi)``
  with weights ``1 / vi``; the slope is tested (metafor calls the statistic ``zval``).
  Double-zero studies enter with their 0.5 correction, as in metafor's default escalc, but
  at least 3 other studies are required.
- Harbord, Egger & Sterne (2006, Stat Med 25:3443): ``Z / sqrt(V) ~ sqrt(V)`` by ordinary
  least squares, with the efficient score ``Z = O - E`` and its hypergeometric variance ``V``
  (Peto's); the intercept is tested. Studies with ``V = 0`` are left out.
- Peters et al. (2006, JAMA 295:676): log odds ratio ``~ 1 / N`` (``N`` the study's total size)
  with weights ``1 / (1 / (events) + 1 / (non-events))``; the slope is tested. Studies with no
  events or no non-events are left out.

A test that cannot be computed (too few studies, every study with the same precision, or an
exact fit with no residual variance) raises ``BayesmetaError``, which
``frequentist.classic`` records as ``{"skipped": reason}``.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from bayesmeta.effects import EffectSizes, effect_sizes
from bayesmeta.errors import BayesmetaError
from bayesmeta.frequentist.pooled import _peto_terms
from bayesmeta.frequentist.results import AsymmetryTest
from bayesmeta.io.counts import TwoArmData

EPS = np.finfo(float).eps


def _wls_t(y: np.ndarray, x: np.ndarray, w: np.ndarray, coef: int, method: str) -> AsymmetryTest:
    """t test of coefficient ``coef`` (0 intercept, 1 slope) of the WLS fit ``y ~ 1 + x``.

    Raises
    ------
    BayesmetaError
        Fewer than 3 studies; ``x`` the same in every study (the line is not identified); or
        a fit with no residual variance, ``sum(w r^2) <= eps * sum(w y^2)`` (all effects
        equal, e.g. all double-zero studies), where the t statistic is 0/0 and rounding
        decides whether it comes out as NaN or as 1e11.
    """
    k = len(y)
    if k < 3:
        raise BayesmetaError(f"{method} test needs at least 3 studies, got {k}")
    X = np.column_stack([np.ones(k), x])
    if np.linalg.matrix_rank(np.sqrt(w)[:, None] * X) < 2:
        raise BayesmetaError(
            f"{method} test: every study has the same precision, so the regression line is "
            "not estimable"
        )
    xtwx = X.T @ (w[:, None] * X)
    beta = _wls_coefficients(y, x, w)
    resid = y - X @ beta
    rss = float(np.sum(w * resid**2))
    if rss <= EPS * float(np.sum(w * y**2)):
        raise BayesmetaError(
            f"{method} test: the regression fits every study exactly (no residual variance), "
            "so the test is undefined"
        )
    s2 = rss / (k - 2)
    se = np.sqrt(s2 * np.linalg.inv(xtwx)[coef, coef])
    t = float(beta[coef] / se)
    return AsymmetryTest(method, t, float(2 * special.stdtr(k - 2, -abs(t))), k - 2, k)


def _wls_coefficients(y: np.ndarray, x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Intercept and slope of the weighted least-squares line ``y ~ 1 + x``."""
    X = np.column_stack([np.ones(len(y)), x])
    return np.linalg.solve(X.T @ (w[:, None] * X), X.T @ (w * y))


def egger_line(es: EffectSizes) -> tuple[float, float]:
    """Intercept and slope of Egger's regression ``yi = b0 + b1 sei`` (weights ``1 / vi``).

    The line a funnel plot draws (effect against standard error), as metafor's
    ``coef(regtest(rma(yi, vi, method = "EE"), model = "lm")$fit)``; the test of the slope is
    :func:`egger`.

    Raises
    ------
    BayesmetaError
        Fewer than 3 studies, or every study with the same standard error.
    """
    se = np.sqrt(es.vi)
    if es.k < 3 or np.ptp(se) == 0:
        raise BayesmetaError("Egger's line needs at least 3 studies with different standard errors")
    intercept, slope = _wls_coefficients(es.yi, se, 1 / es.vi)
    return float(intercept), float(slope)


def egger(es: EffectSizes, data: TwoArmData | None = None) -> AsymmetryTest:
    """Egger's regression test as metafor ``regtest(rma(yi, vi, method = "EE"), model = "lm")``.

    Parameters
    ----------
    es
        Effect sizes. Double-zero studies stay in the regression with their continuity
        correction, as in metafor's default ``escalc`` (``drop00 = FALSE``).
    data
        The counts behind ``es`` (two-arm). When given, the test also needs at least 3
        studies in ``es`` that are not double-zero: a corrected double-zero study's effect,
        ``log((n_c + 0.5) / (n_t + 0.5))``, depends only on the arm sizes, not on outcomes.

    Raises
    ------
    BayesmetaError
        Too few (informative) studies, or a degenerate fit (see ``_wls_t``).
    """
    if data is not None:
        double_zero = set(np.asarray(data.study, dtype=object)[data.double_zero])
        informative = sum(s not in double_zero for s in es.study)
        if informative < 3:
            raise BayesmetaError(
                f"egger test needs at least 3 studies that are not double-zero, got {informative}"
            )
    return _wls_t(es.yi, np.sqrt(es.vi), 1 / es.vi, 1, "egger")


def harbord(data: TwoArmData) -> AsymmetryTest:
    """Harbord's score-based test for log odds ratios (Harbord et al. 2006)."""
    score, v = _peto_terms(data)
    pos = v > 0
    return _wls_t(score[pos] / np.sqrt(v[pos]), np.sqrt(v[pos]), np.ones(pos.sum()), 0, "harbord")


def peters(data: TwoArmData) -> AsymmetryTest:
    """Peters' test: escalc log odds ratio regressed on 1/N (Peters et al. 2006)."""
    events = data.treatment_events + data.control_events
    n = data.treatment_total + data.control_total
    informative = (events > 0) & (events < n)
    es = effect_sizes(data, measure="OR")
    names = set(es.study)
    keep = informative & np.array([s in names for s in data.study])
    kept = set(np.asarray(data.study)[keep])
    yi = np.array([y for s, y in zip(es.study, es.yi, strict=True) if s in kept])
    w = 1 / (1 / events[keep] + 1 / (n[keep] - events[keep]))
    return _wls_t(yi, 1 / n[keep], w.astype(float), 1, "peters")
