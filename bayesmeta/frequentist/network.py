"""Frequentist contrast-based network meta-analysis: the multivariate random-effects model.

The model of metafor's ``rma.mv`` for a network (Salanti et al. 2008; Lu & Ades 2004): each
study gives the log odds ratios of its arms against its baseline arm, ``y_i ~ N(X_i d +
delta_i, V_i)``, with the within-study covariance of a multi-arm study (its contrasts share the
baseline arm, so ``cov(y_ij, y_ik)`` is the baseline's variance ``1/x_b + 1/(n_b - x_b)``) and
random effects ``delta_i ~ N(0, tau^2 S)``, ``S`` one on the diagonal and 1/2 off it (a common
heterogeneity for every comparison, ``struct = "CS", rho = 1/2``). The basic parameters ``d_t``
are the log odds ratios of every treatment against the reference; every other contrast is
``d_y - d_x`` (the league table). tau^2 by REML (or ML), or 0 (EE, the common-effect model).
numpy and scipy only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import linalg, optimize, stats

from bayesmeta.errors import DataError, OptionError
from bayesmeta.io.output import level_key

NETWORK_METHODS = ("REML", "ML", "EE")
ARM_COLUMNS = ("study", "treatment", "events", "total")
ADD = 0.5


@dataclass(frozen=True)
class Contrast:
    """The log odds ratio of ``treatment`` against ``versus`` with its SE and z-interval."""

    treatment: str
    versus: str
    estimate: float
    se: float
    ci: tuple[float, float]
    z: float
    p: float

    def to_dict(self, level: float) -> dict[str, Any]:
        """JSON form; the interval is keyed by ``level`` (``ci95``)."""
        return {
            "treatment": self.treatment,
            "versus": self.versus,
            "estimate": self.estimate,
            "se": self.se,
            level_key("ci", level): list(self.ci),
            "z": self.z,
            "p": self.p,
        }


@dataclass(frozen=True)
class NetworkFit:
    """A fitted contrast-based network meta-analysis.

    ``treatments`` starts with the reference; ``basic`` holds the log odds ratios of the others
    against it (their covariance is ``vcov``, in that order) and ``pairwise`` every contrast
    ``d_y - d_x`` with ``x`` before ``y`` in ``treatments``. ``q`` is the test of residual
    heterogeneity and inconsistency (``QE``: the common-effect fit's weighted residual sum of
    squares, ``k - p`` degrees of freedom), ``k`` the number of contrasts, ``loglik`` the
    maximised (restricted, for REML) log-likelihood as metafor's ``logLik``.
    """

    method: str
    reference: str
    treatments: tuple[str, ...]
    basic: tuple[Contrast, ...]
    pairwise: tuple[Contrast, ...]
    vcov: np.ndarray
    tau2: float
    q: float
    q_df: int
    q_p: float
    k: int
    loglik: float
    level: float

    def to_dict(self) -> dict[str, Any]:
        """JSON form: every field, contrasts as lists of dicts, ``vcov`` as nested lists."""
        return {
            "method": self.method,
            "reference": self.reference,
            "treatments": list(self.treatments),
            "basic": [c.to_dict(self.level) for c in self.basic],
            "pairwise": [c.to_dict(self.level) for c in self.pairwise],
            "vcov": self.vcov.tolist(),
            "tau2": self.tau2,
            "q": self.q,
            "q_df": self.q_df,
            "q_p": self.q_p,
            "k": self.k,
            "loglik": self.loglik,
            "level": self.level,
        }


@dataclass(frozen=True)
class _Contrasts:
    y: np.ndarray
    v: np.ndarray
    x: np.ndarray
    s: np.ndarray
    treatments: tuple[str, ...]


def _contrasts(arms: pd.DataFrame, reference: str) -> _Contrasts:
    """Every study's log ORs against its baseline arm, their covariance and the design.

    A study's baseline is the reference if it has that arm, else its first treatment in the
    order of ``treatments``. A study with an arm of no or all events has 1/2 added to every cell
    of all its tables (as ``escalc(add = 1/2, to = "all")``), so the shared baseline is the same
    in each of its contrasts.
    """
    missing = [c for c in ARM_COLUMNS if c not in arms.columns]
    if missing:
        raise DataError(f"arm-level data need the columns {', '.join(missing)}")
    names = [str(t) for t in arms["treatment"]]
    if reference not in names:
        raise OptionError(f"reference treatment {reference!r} is not in the network")
    treatments = (reference, *sorted(set(names) - {reference}))
    order = {t: i for i, t in enumerate(treatments)}
    ys, rows, blocks = [], [], []
    for study, group in arms.groupby("study", sort=False):
        trt = [str(t) for t in group["treatment"]]
        if len(set(trt)) != len(trt):
            raise DataError(f"study {study!r} has the same treatment in more than one arm")
        if len(trt) < 2:
            raise DataError(f"study {study!r} has one arm: it compares nothing")
        x = group["events"].to_numpy(float)
        n = group["total"].to_numpy(float)
        idx = sorted(range(len(trt)), key=lambda j: order[trt[j]])
        add = ADD if np.any((x == 0) | (x == n)) else 0.0
        b = idx[0]
        var_b = 1 / (x[b] + add) + 1 / (n[b] - x[b] + add)
        logit_b = np.log((x[b] + add) / (n[b] - x[b] + add))
        m = len(idx) - 1
        block = np.full((m, m), var_b)
        for r, j in enumerate(idx[1:]):
            ys.append(np.log((x[j] + add) / (n[j] - x[j] + add)) - logit_b)
            block[r, r] = var_b + 1 / (x[j] + add) + 1 / (n[j] - x[j] + add)
            row = np.zeros(len(treatments))
            row[order[trt[j]]] += 1
            row[order[trt[b]]] -= 1
            rows.append(row[1:])
        blocks.append(block)
    x_mat = np.array(rows)
    if np.linalg.matrix_rank(x_mat) < len(treatments) - 1:
        raise DataError("the network is not connected: some treatments cannot be compared")
    s = linalg.block_diag(*[np.where(np.eye(len(b)) == 1, 1.0, 0.5) for b in blocks])
    return _Contrasts(np.array(ys), linalg.block_diag(*blocks), x_mat, s, treatments)


def _gls(c: _Contrasts, tau2: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """GLS estimate, its covariance, M^-1 and the projection P at ``tau2``."""
    m_inv = np.linalg.inv(c.v + tau2 * c.s)
    xtw = c.x.T @ m_inv
    vb = np.linalg.inv(xtw @ c.x)
    p = m_inv - xtw.T @ vb @ xtw
    return vb @ xtw @ c.y, vb, m_inv, p


def _score(c: _Contrasts, tau2: float, reml: bool) -> float:
    """Derivative of the (restricted) log-likelihood in tau^2."""
    _, _, m_inv, p = _gls(c, tau2)
    py = p @ c.y
    trace = np.sum((p if reml else m_inv) * c.s)
    return 0.5 * (py @ c.s @ py - trace)


def _loglik(c: _Contrasts, tau2: float, reml: bool) -> float:
    """The log-likelihood as metafor's ``logLik`` (REML with its ``log|X'X|`` term)."""
    m = c.v + tau2 * c.s
    _, _, m_inv, p = _gls(c, tau2)
    k, q = c.x.shape
    logdet = np.linalg.slogdet(m)[1]
    if not reml:
        return -0.5 * (k * np.log(2 * np.pi) + logdet + c.y @ p @ c.y)
    xwx = np.linalg.slogdet(c.x.T @ m_inv @ c.x)[1]
    xx = np.linalg.slogdet(c.x.T @ c.x)[1]
    return -0.5 * ((k - q) * np.log(2 * np.pi) - xx + logdet + xwx + c.y @ p @ c.y)


def _tau2(c: _Contrasts, reml: bool) -> float:
    """The root of the score in tau^2 >= 0 (0 when the likelihood falls from tau^2 = 0)."""
    if _score(c, 0.0, reml) <= 0:
        return 0.0
    upper = max(1.0, 10 * float(np.var(c.y)))
    while _score(c, upper, reml) > 0:
        upper *= 10
    return optimize.brentq(lambda t: _score(c, t, reml), 0.0, upper, xtol=1e-15, rtol=1e-15)


def _contrast(treatment, versus, est, se, z_crit) -> Contrast:
    z = est / se
    return Contrast(
        treatment,
        versus,
        float(est),
        float(se),
        (float(est - z_crit * se), float(est + z_crit * se)),
        float(z),
        float(2 * stats.norm.sf(abs(z))),
    )


def network_meta_analysis(
    arms: pd.DataFrame, reference: str, *, method: str = "REML", level: float = 0.95
) -> NetworkFit:
    """Contrast-based network meta-analysis of arm-level binary data, as metafor's ``rma.mv``.

    Parameters
    ----------
    arms
        One row per arm: ``study``, ``treatment``, ``events``, ``total``.
    reference
        The treatment every basic parameter is compared with.
    method
        ``"REML"`` (default), ``"ML"`` or ``"EE"`` (common effect, tau^2 = 0).
    level
        Level of the z-intervals.

    Returns
    -------
    NetworkFit
        Basic parameters, all pairwise log odds ratios, tau^2 and the Q test.
    """
    if method not in NETWORK_METHODS:
        raise OptionError(f"method {method!r} is not one of {', '.join(NETWORK_METHODS)}")
    c = _contrasts(arms, reference)
    reml = method == "REML"
    tau2 = 0.0 if method == "EE" else _tau2(c, reml)
    b, vb, _, _ = _gls(c, tau2)
    b_fe, _, m_inv_fe, _ = _gls(c, 0.0)
    resid = c.y - c.x @ b_fe
    k, n_par = c.x.shape
    q = float(resid @ m_inv_fe @ resid)
    z_crit = stats.norm.ppf((1 + level) / 2)
    t = c.treatments
    full = np.concatenate([[0.0], b])
    pairwise = []
    for i in range(len(t)):
        for j in range(i + 1, len(t)):
            w = np.zeros(len(t))
            w[j], w[i] = 1.0, -1.0
            se = float(np.sqrt(w[1:] @ vb @ w[1:]))
            pairwise.append(_contrast(t[j], t[i], full[j] - full[i], se, z_crit))
    return NetworkFit(
        method=method,
        reference=reference,
        treatments=t,
        basic=tuple(
            _contrast(t[i + 1], reference, b[i], np.sqrt(vb[i, i]), z_crit) for i in range(len(b))
        ),
        pairwise=tuple(pairwise),
        vcov=vb,
        tau2=float(tau2),
        q=q,
        q_df=k - n_par,
        q_p=float(stats.chi2.sf(q, k - n_par)),
        k=k,
        loglik=float(_loglik(c, tau2, method != "ML")),
        level=level,
    )
