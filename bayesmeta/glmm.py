"""Binomial-normal generalised linear mixed models by maximum likelihood (metafor ``rma.glmm``).

Two-arm data, metafor's ``model = "UM.FS"`` (Turner et al. 2000, Stat Med 19:3417; Stijnen,
Hamza & Ozdemir 2010, Stat Med 29:3046): fixed study intercepts ``alpha_i`` and a random
log odds ratio ``theta_i ~ N(mu, tau^2)``, with metafor's default random-effect coding
(``coding = 1/2``)::

    logit p_treatment[i] = alpha_i + mu + u_i / 2
    logit p_control[i]   = alpha_i      - u_i / 2,      u_i ~ N(0, tau^2)

Single-arm data (``measure = "PLO"``): ``logit p_i = mu + u_i``. Each study's integral over
``u_i`` is done by adaptive Gauss-Hermite quadrature with 7 nodes centred at the conditional
mode and scaled by its curvature, as lme4's ``glmer(nAGQ = 7)`` that metafor calls (Pinheiro &
Bates 1995, J Comput Graph Stat 4:12). The likelihood is maximised by Newton's method with
analytic derivatives; the standard error of ``mu`` comes from the inverse of the full observed
information over (fixed effects, tau), as lme4's ``vcov``. Double-zero studies carry no
information on the odds ratio and are dropped, as metafor's ``drop00 = TRUE``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special, stats

from bayesmeta.data import SingleArmData, TwoArmData
from bayesmeta.effects import effect_sizes
from bayesmeta.errors import BayesmetaError
from bayesmeta.frequentist import PooledEstimate

N_NODES = 7  # lme4 nAGQ used by metafor's rma.glmm
GH_X, GH_W = special.roots_hermite(N_NODES)
LOG_GH = np.log(GH_W) + GH_X**2 - 0.5 * np.log(np.pi)  # for z = m + sqrt(2) s x


@dataclass(frozen=True)
class _Design:
    """Binomial rows: events, trials, study index, fixed-effect row, random-effect coefficient."""

    events: np.ndarray
    trials: np.ndarray
    study: np.ndarray
    X: np.ndarray
    g: np.ndarray
    k: int


def _two_arm_design(data: TwoArmData) -> _Design:
    keep = ~data.double_zero
    k = int(keep.sum())
    eye = np.eye(k)
    X_t = np.column_stack([eye, np.ones(k)])  # alpha_i + mu
    X_c = np.column_stack([eye, np.zeros(k)])  # alpha_i
    events = np.concatenate([data.treatment_events[keep], data.control_events[keep]])
    trials = np.concatenate([data.treatment_total[keep], data.control_total[keep]])
    return _Design(
        events=events.astype(float),
        trials=trials.astype(float),
        study=np.concatenate([np.arange(k), np.arange(k)]),
        X=np.vstack([X_t, X_c]),
        g=np.concatenate([np.full(k, 0.5), np.full(k, -0.5)]),
        k=k,
    )


def _single_arm_design(data: SingleArmData) -> _Design:
    k = data.k
    return _Design(data.events.astype(float), data.total.astype(float), np.arange(k),
                   np.ones((k, 1)), np.ones(k), k)


def _modes(d: _Design, beta: np.ndarray, tau: float) -> tuple[np.ndarray, np.ndarray]:
    """Conditional mode of each study's standardised random effect and the scale there."""
    eta0 = d.X @ beta
    m = np.zeros(d.k)
    for _ in range(100):
        eta = eta0 + d.g * tau * m[d.study]
        p = special.expit(eta)
        grad = np.bincount(d.study, d.g * tau * (d.events - d.trials * p), d.k) - m
        curv = np.bincount(d.study, (d.g * tau) ** 2 * d.trials * p * (1 - p), d.k) + 1
        step = np.clip(grad / curv, -5, 5)
        m += step
        if np.max(np.abs(step)) < 1e-12:
            break
    eta = eta0 + d.g * tau * m[d.study]
    p = special.expit(eta)
    curv = np.bincount(d.study, (d.g * tau) ** 2 * d.trials * p * (1 - p), d.k) + 1
    return m, 1 / np.sqrt(curv)


def _nodes(d: _Design, beta: np.ndarray, tau: float) -> tuple[np.ndarray, np.ndarray]:
    """Adaptive quadrature nodes z (k, J) and their log weights (density of z included)."""
    m, s = _modes(d, beta, tau)
    z = m[:, None] + np.sqrt(2) * s[:, None] * GH_X[None, :]
    logw = LOG_GH[None, :] + np.log(np.sqrt(2) * s)[:, None] - 0.5 * np.log(2 * np.pi) - z**2 / 2
    return z, logw


def _terms(d: _Design, theta: np.ndarray, z: np.ndarray, logw: np.ndarray):
    """Per-node log integrand and its pieces at parameters ``theta = (beta, tau)``."""
    beta, tau = theta[:-1], theta[-1]
    zr = z[d.study]  # (rows, J)
    eta = (d.X @ beta)[:, None] + d.g[:, None] * tau * zr
    ll_rows = d.events[:, None] * eta - d.trials[:, None] * np.logaddexp(0, eta)
    log_f = np.zeros_like(z)
    np.add.at(log_f, d.study, ll_rows)
    return log_f + logw, eta, zr


def _loglik(d: _Design, theta: np.ndarray) -> float:
    """Adaptive Gauss-Hermite log-likelihood (binomial coefficients omitted)."""
    z, logw = _nodes(d, theta[:-1], theta[-1])
    log_f, _, _ = _terms(d, theta, z, logw)
    return float(special.logsumexp(log_f, axis=1).sum())


def _derivatives(d: _Design, theta: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Log-likelihood, gradient and Hessian in ``theta`` with the nodes held where they are."""
    z, logw = _nodes(d, theta[:-1], theta[-1])
    log_f, eta, zr = _terms(d, theta, z, logw)
    ll_i = special.logsumexp(log_f, axis=1)
    pi = np.exp(log_f - ll_i[:, None])  # posterior weights of the nodes, (k, J)
    p = special.expit(eta)
    resid = d.events[:, None] - d.trials[:, None] * p
    info = d.trials[:, None] * p * (1 - p)
    # augmented design per row and node: (X_row, g_row * z)
    xa = np.concatenate([np.broadcast_to(d.X[:, None, :], (*eta.shape, d.X.shape[1])),
                         (d.g[:, None] * zr)[:, :, None]], axis=2)
    score = np.zeros((d.k, z.shape[1], xa.shape[2]))
    np.add.at(score, d.study, resid[:, :, None] * xa)
    grad_i = np.einsum("ij,ijp->ip", pi, score)
    hess = (-np.einsum("rj,rjp,rjq->pq", pi[d.study] * info, xa, xa)
            + np.einsum("ij,ijp,ijq->pq", pi, score, score) - grad_i.T @ grad_i)
    return float(ll_i.sum()), grad_i.sum(axis=0), hess


def _maximise(d: _Design, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Damped Newton ascent; returns the maximiser and the Hessian there."""
    ll, grad, hess = _derivatives(d, theta)
    for _ in range(200):
        step = _newton_step(grad, hess)
        t = 1.0
        while t > 1e-10:
            trial = theta + t * step
            trial[-1] = abs(trial[-1])  # the likelihood is symmetric in tau
            ll_trial = _loglik(d, trial)
            if ll_trial >= ll - 1e-12 * abs(ll):
                break
            t /= 2
        theta = trial
        ll, grad, hess = _derivatives(d, theta)
        if np.max(np.abs(t * step)) < 1e-10:
            return theta, hess
    raise BayesmetaError("binomial-normal GLMM: maximum likelihood did not converge")


def _newton_step(grad: np.ndarray, hess: np.ndarray) -> np.ndarray:
    """Newton step, with Levenberg damping while the Hessian is not negative definite."""
    lam = 0.0
    eye = np.eye(len(grad))
    for _ in range(60):
        try:
            np.linalg.cholesky(-(hess - lam * eye))
            return np.linalg.solve(-(hess - lam * eye), grad)
        except np.linalg.LinAlgError:
            lam = max(2 * lam, 1e-6 * max(1.0, np.max(np.abs(np.diag(hess)))))
    return grad


def _fit(d: _Design, theta0: np.ndarray, k: int, vi: np.ndarray, method: str) -> PooledEstimate:
    theta, hess = _maximise(d, theta0)
    mu, tau = theta[-2], theta[-1]
    cov = np.linalg.inv(-hess)
    se = float(np.sqrt(cov[-2, -2]))
    tau2 = float(tau**2)
    w = 1 / vi
    vt = (len(vi) - 1) * w.sum() / (w.sum() ** 2 - np.sum(w**2))
    p = 2 * stats.norm.sf(abs(mu / se))
    z = stats.norm.ppf(0.975)
    return PooledEstimate(method, float(mu), se, (mu - z * se, mu + z * se), float(p), k,
                          tau2=tau2, i2=100 * tau2 / (vt + tau2), h2=tau2 / vt + 1)


def binomial_normal_ml(data: TwoArmData) -> PooledEstimate:
    """ML fit of the binomial-normal model with fixed study intercepts (metafor "UM.FS").

    Returns
    -------
    PooledEstimate
        ``estimate`` is the mean log odds ratio ``mu``; ``tau2`` the variance of the true
        log odds ratios; I^2 and H^2 as metafor, from the escalc sampling variances.

    Raises
    ------
    BayesmetaError
        Fewer than 2 studies with events, or no convergence.
    """
    d = _two_arm_design(data)
    if d.k < 2:
        raise BayesmetaError(
            f"the GLMM needs at least 2 studies that are not double-zero, got {d.k}"
        )
    es = effect_sizes(data, measure="OR", drop00=True)
    c = d.events[d.k:] + 0.5
    alpha0 = np.log(c / (d.trials[d.k:] - d.events[d.k:] + 0.5))
    theta0 = np.concatenate([alpha0, [np.sum(es.yi / es.vi) / np.sum(1 / es.vi), 0.5]])
    return _fit(d, theta0, d.k, es.vi, "glmm_um_fs")


def random_intercept_ml(data: SingleArmData) -> PooledEstimate:
    """ML fit of the random-intercept logistic model for proportions (``rma.glmm``, "PLO").

    ``estimate`` is the mean logit proportion, ``tau2`` the between-study variance.
    """
    es = effect_sizes(data, measure="PLO")
    theta0 = np.array([np.sum(es.yi / es.vi) / np.sum(1 / es.vi), 0.5])
    return _fit(_single_arm_design(data), theta0, data.k, es.vi, "glmm")
