"""Frequentist incidence-rate-ratio methods: Mantel-Haenszel and the Poisson-normal GLMM.

Both on two-arm events and person-time (:class:`~bayesmeta.io.rates.RateData`), as metafor
``rma.mh(measure = "IRR")`` and ``rma.glmm(measure = "IRR", model = "UM.FS")``. The
inverse-variance methods (IV, DL, REML, Hartung-Knapp) run on the escalc log rate ratios
(:func:`bayesmeta.model.likelihoods.poisson_normal.irr_effect_sizes`) like any effect sizes.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from bayesmeta.errors import BayesmetaError
from bayesmeta.frequentist.pooled import _heterogeneity_fixed, _z_summary
from bayesmeta.frequentist.results import DEFAULT_LEVEL, PooledEstimate
from bayesmeta.io.rates import RateData
from bayesmeta.model.likelihoods.poisson_normal import irr_effect_sizes

N_NODES = 7  # lme4 nAGQ used by metafor's rma.glmm
GH_X, GH_W = special.roots_hermite(N_NODES)
LOG_GH = np.log(GH_W) + GH_X**2 - 0.5 * np.log(np.pi)
STEP = 1e-3  # finite-difference step (parameters are log rates and tau: order 1)


def mantel_haenszel_irr(data: RateData, *, level: float = DEFAULT_LEVEL) -> PooledEstimate:
    """Mantel-Haenszel pooled log incidence rate ratio (metafor ``rma.mh(measure = "IRR")``).

    ``est = log(R / S)``, ``R = sum(x1 t2 / T)``, ``S = sum(x2 t1 / T)``, ``T = t1 + t2``, with
    the variance ``sum(t1 t2 (x1 + x2) / T^2) / (R S)`` of Greenland & Robins (1985, Biometrics
    41:55); no continuity correction. Q is over the escalc log rate ratios of the studies with
    events (0.5 added to a study with an arm without events), as metafor reports it.

    Raises
    ------
    BayesmetaError
        No events in either arm of every study, or in one arm of all (the MH ratio is 0 or
        infinite).
    """
    x1, x2 = data.treatment_events.astype(float), data.control_events.astype(float)
    t1, t2 = data.treatment_time, data.control_time
    total = t1 + t2
    r, s = np.sum(x1 * t2 / total), np.sum(x2 * t1 / total)
    if r == 0 or s == 0:
        raise BayesmetaError("Mantel-Haenszel rate ratio is 0 or infinite (no events in an arm)")
    est = float(np.log(r / s))
    var = np.sum(t1 * t2 * (x1 + x2) / total**2) / (r * s)
    es = irr_effect_sizes(data, drop00=True)
    q = float(np.sum((es.yi - est) ** 2 / es.vi))
    het = _heterogeneity_fixed(q, es.k - 1)
    return _z_summary("mantel_haenszel", est, np.sqrt(var), data.k, level, tau2=0.0, **het)


class _Rows:
    """The GLMM's Poisson rows: treatment then control arm of the studies with events."""

    def __init__(self, data: RateData) -> None:
        keep = ~data.double_zero
        self.k = int(keep.sum())
        self.x = np.stack([data.treatment_events[keep], data.control_events[keep]]).astype(float)
        t = np.stack([data.treatment_time[keep], data.control_time[keep]])
        self.offset = np.log(t)
        self.arm = np.array([1.0, 0.0])[:, None]  # coefficient of mu
        self.g = np.array([0.5, -0.5])[:, None]  # metafor's random-effect coding (1/2)
        self.const = special.gammaln(self.x + 1).sum(axis=0)

    def eta(self, alpha: np.ndarray, mu: float, tau: float, b: np.ndarray) -> np.ndarray:
        """Linear predictors (arm, study, node) at standardised random effects ``b``."""
        base = alpha + self.arm * mu + self.offset
        return base[..., None] + (self.g * tau)[..., None] * b[None]

    def study_loglik(self, alpha: np.ndarray, mu: float, tau: float) -> np.ndarray:
        """Each study's adaptive Gauss-Hermite log-likelihood (lme4's ``nAGQ = 7``): nodes at
        the conditional mode of the standardised random effect, scaled by its curvature."""
        m = np.zeros(self.k)
        for _ in range(100):
            rate = np.exp(self.eta(alpha, mu, tau, m[:, None])[..., 0])
            grad = np.sum(self.g * tau * (self.x - rate), axis=0) - m
            curv = np.sum((self.g * tau) ** 2 * rate, axis=0) + 1
            step = np.clip(grad / curv, -5, 5)
            m += step
            if np.max(np.abs(step)) < 1e-13:
                break
        rate = np.exp(self.eta(alpha, mu, tau, m[:, None])[..., 0])
        s = 1 / np.sqrt(np.sum((self.g * tau) ** 2 * rate, axis=0) + 1)
        z = m[:, None] + np.sqrt(2) * s[:, None] * GH_X[None, :]
        logw = LOG_GH + np.log(np.sqrt(2) * s)[:, None] - 0.5 * np.log(2 * np.pi) - z**2 / 2
        eta = self.eta(alpha, mu, tau, z)
        ll = np.sum(self.x[..., None] * eta - np.exp(eta), axis=0) - self.const[:, None]
        return special.logsumexp(ll + logw, axis=1)


def _derivatives(rows: _Rows, theta: np.ndarray):
    """Gradient and Hessian of the log-likelihood in ``theta = (alpha_1..k, mu, tau)`` by
    central differences; study i involves only ``alpha_i``, ``mu`` and ``tau``, so each
    difference moves all alphas at once and the Hessian is an arrowhead."""
    k, h = rows.k, STEP

    def f(da: float = 0.0, dm: float = 0.0, dt: float = 0.0) -> np.ndarray:
        return rows.study_loglik(theta[:k] + da, theta[k] + dm, theta[k + 1] + dt)

    shifts = [(1, 0, 0), (0, 1, 0), (0, 0, 1)]
    f0 = f()
    grad = np.zeros((k, 3))
    second = np.zeros((k, 3, 3))
    for p, e in enumerate(shifts):
        u = np.array(e, dtype=float) * h
        fp, fm = f(*u), f(*-u)
        fp2, fm2 = f(*2 * u), f(*-2 * u)
        grad[:, p] = (8 * (fp - fm) - (fp2 - fm2)) / (12 * h)
        second[:, p, p] = (-fp2 + 16 * fp - 30 * f0 + 16 * fm - fm2) / (12 * h**2)
        for q in range(p):
            v = np.array(shifts[q], dtype=float) * h
            second[:, p, q] = second[:, q, p] = (
                f(*(u + v)) - f(*(u - v)) - f(*(v - u)) + f(*(-u - v))
            ) / (4 * h**2)
    g = np.concatenate([grad[:, 0], grad[:, 1:].sum(0)])
    hess = np.zeros((k + 2, k + 2))
    hess[np.arange(k), np.arange(k)] = second[:, 0, 0]
    hess[:k, k:] = second[:, 0, 1:]
    hess[k:, :k] = second[:, 0, 1:].T
    hess[k:, k:] = second[:, 1:, 1:].sum(0)
    return float(f0.sum()), g, hess


def _maximise(rows: _Rows, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Damped Newton ascent (Levenberg) to the maximum likelihood; ``tau >= 0``."""
    ll, g, hess = _derivatives(rows, theta)
    for _ in range(200):
        lam = 0.0
        while True:
            a = -hess + lam * np.eye(len(theta))
            if np.all(np.linalg.eigvalsh(a) > 0):
                break
            lam = max(2 * lam, 1e-6 * max(1.0, float(np.max(np.abs(hess)))))
        step = np.linalg.solve(a, g)
        t = 1.0
        while t > 1e-10:
            trial = theta + t * step
            trial[-1] = abs(trial[-1])  # the likelihood is even in tau
            if rows.study_loglik(trial[:-2], trial[-2], trial[-1]).sum() >= ll - 1e-12 * abs(ll):
                break
            t /= 2
        theta = trial
        ll, g, hess = _derivatives(rows, theta)
        if np.max(np.abs(t * step)) < 1e-10:
            return theta, hess
    raise BayesmetaError("Poisson-normal GLMM: maximum likelihood did not converge")


def poisson_normal_ml(data: RateData, *, level: float = DEFAULT_LEVEL) -> PooledEstimate:
    """ML fit of the Poisson-normal model with fixed study intercepts (metafor
    ``rma.glmm(measure = "IRR", model = "UM.FS")``: lme4 ``glmer``, ``nAGQ = 7``).

    ``log rate_t = alpha_i + mu + u_i / 2 + log t1``, ``log rate_c = alpha_i - u_i / 2 + log
    t2``, ``u_i ~ N(0, tau^2)``; studies without events are left out. The SE of ``mu`` is from
    the inverse of the full observed information over (alphas, mu, tau), as lme4's ``vcov``.

    Returns
    -------
    PooledEstimate
        ``estimate`` is the mean log rate ratio, ``tau2`` the between-study variance; I^2 and
        H^2 from the escalc sampling variances, as metafor.

    Raises
    ------
    BayesmetaError
        Fewer than 2 studies with events, no events in one arm of every study, or no
        convergence.
    """
    rows = _Rows(data)
    if rows.k < 2:
        raise BayesmetaError(f"the GLMM needs at least 2 studies with events, got {rows.k}")
    if not (rows.x[0].any() and rows.x[1].any()):
        raise BayesmetaError("no events in one arm of every study: the GLMM is not estimable")
    es = irr_effect_sizes(data, drop00=True)
    alpha0 = np.log((rows.x[1] + 0.5) / np.exp(rows.offset[1]))
    mu0 = np.sum(es.yi / es.vi) / np.sum(1 / es.vi)
    theta, hess = _maximise(rows, np.concatenate([alpha0, [mu0, 0.5]]))
    mu, tau = theta[-2], theta[-1]
    cov = np.linalg.inv(-hess)
    se = float(np.sqrt(cov[-2, -2]))
    tau2 = float(tau**2)
    w = 1 / es.vi
    vt = (es.k - 1) * w.sum() / (w.sum() ** 2 - np.sum(w**2))
    p = 2 * special.ndtr(-abs(mu / se))
    z = special.ndtri((1 + level) / 2)
    return PooledEstimate(
        "glmm_poisson",
        float(mu),
        se,
        (mu - z * se, mu + z * se),
        float(p),
        rows.k,
        tau2=tau2,
        i2=100 * tau2 / (vt + tau2),
        h2=tau2 / vt + 1,
        level=level,
    )
