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
analytic derivatives: the exact gradient, the nodes moving with the parameters, against the
fixed-node Hessian (each step O(k)); the standard error of ``mu`` comes from the inverse of the
full observed information over (fixed effects, tau), nodes moving, as lme4's ``vcov``. Double-zero
studies carry no information on the odds ratio and are dropped, as metafor's ``drop00 = TRUE``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from scipy import special

from bayesmeta.effects import effect_sizes
from bayesmeta.errors import BayesmetaError
from bayesmeta.frequentist.results import DEFAULT_LEVEL, PooledEstimate
from bayesmeta.io.counts import SingleArmData, TwoArmData

N_NODES = 7  # lme4 nAGQ used by metafor's rma.glmm
MAX_STEP = 5.0  # largest change of any parameter in one Newton step (logit units)
MAX_ITER = 200  # Newton steps
STEP_TOL = 1e-9  # converged when no parameter moves more than this in a step
ARMIJO = 1e-4  # fraction of the predicted increase a step must achieve
HESS_STEP = 1e-5  # central-difference step of the exact Hessian
LL_ROUNDING = 1e-13  # relative rounding of the log-likelihood: smaller predicted gains are noise
GH_X, GH_W = special.roots_hermite(N_NODES)
LOG_GH = np.log(GH_W) + GH_X**2 - 0.5 * np.log(np.pi)  # for z = m + sqrt(2) s x


@dataclass(frozen=True)
class _Design:
    """Binomial rows in arm blocks, each listing studies 0..k-1 in order.

    ``x`` is the row's coefficient of ``mu`` and ``g`` of the random effect; with ``local``
    each study also has its own fixed intercept ``alpha_i`` (the first k parameters).
    """

    events: np.ndarray
    trials: np.ndarray
    x: np.ndarray
    g: np.ndarray
    k: int
    local: bool

    @cached_property
    def study(self) -> np.ndarray:
        """Study index of each row."""
        return np.tile(np.arange(self.k), len(self.events) // self.k)

    def eta0(self, theta: np.ndarray) -> np.ndarray:
        """Fixed part of the linear predictor per row."""
        alpha = theta[: self.k][self.study] if self.local else 0.0
        return alpha + self.x * theta[-2]


def _two_arm_design(data: TwoArmData) -> _Design:
    keep = ~data.double_zero
    events = np.concatenate([data.treatment_events[keep], data.control_events[keep]])
    trials = np.concatenate([data.treatment_total[keep], data.control_total[keep]])
    k = int(keep.sum())
    return _Design(
        events.astype(float),
        trials.astype(float),
        np.repeat([1.0, 0.0], k),
        np.repeat([0.5, -0.5], k),
        k,
        local=True,
    )


def _single_arm_design(data: SingleArmData) -> _Design:
    return _Design(
        data.events.astype(float),
        data.total.astype(float),
        np.ones(data.k),
        np.ones(data.k),
        data.k,
        local=False,
    )


def _modes(d: _Design, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Conditional mode of each study's standardised random effect and the scale there."""
    eta0, tau = d.eta0(theta), theta[-1]
    m = np.zeros(d.k)
    for _ in range(100):
        eta = eta0 + d.g * tau * m[d.study]
        p = special.expit(eta)
        grad = _by_study(d, d.g * tau * (d.events - d.trials * p)) - m
        curv = _by_study(d, (d.g * tau) ** 2 * d.trials * p * (1 - p)) + 1
        step = np.clip(grad / curv, -5, 5)
        m += step
        if np.max(np.abs(step)) < 1e-12:
            break
    eta = eta0 + d.g * tau * m[d.study]
    p = special.expit(eta)
    curv = _by_study(d, (d.g * tau) ** 2 * d.trials * p * (1 - p)) + 1
    return m, 1 / np.sqrt(curv)


def _nodes(d: _Design, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Adaptive quadrature nodes z (k, J) and their log weights (density of z included)."""
    return _grid(*_modes(d, theta))


def _grid(m: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nodes ``z = m + sqrt(2) s x`` for modes ``m`` and scales ``s``, and their log weights."""
    z = m[:, None] + np.sqrt(2) * s[:, None] * GH_X[None, :]
    logw = LOG_GH[None, :] + np.log(np.sqrt(2) * s)[:, None] - 0.5 * np.log(2 * np.pi) - z**2 / 2
    return z, logw


def _terms(d: _Design, theta: np.ndarray, z: np.ndarray, logw: np.ndarray):
    """Per-node log integrand and its pieces at parameters ``theta = (alpha, mu, tau)``."""
    zr = z[d.study]  # (rows, J)
    eta = d.eta0(theta)[:, None] + d.g[:, None] * theta[-1] * zr
    ll_rows = d.events[:, None] * eta - d.trials[:, None] * np.logaddexp(0, eta)
    return _by_study(d, ll_rows) + logw, eta, zr


def _by_study(d: _Design, rows: np.ndarray) -> np.ndarray:
    """Sum an array over the rows of each study (rows are arm blocks of studies 0..k-1)."""
    return rows.reshape((-1, d.k, *rows.shape[1:])).sum(axis=0)


def _loglik(d: _Design, theta: np.ndarray) -> float:
    """Adaptive Gauss-Hermite log-likelihood (binomial coefficients omitted)."""
    z, logw = _nodes(d, theta)
    log_f, _, _ = _terms(d, theta, z, logw)
    return float(special.logsumexp(log_f, axis=1).sum())


def _derivatives(d: _Design, theta: np.ndarray):
    """Log-likelihood, gradient and Hessian blocks, nodes held where they are.

    Returns ``ll, (g_local, g_shared), (h_local_diag, h_local_shared, h_shared)`` with shared
    parameters ``(mu, tau)``; the local (alpha) block of the Hessian is diagonal.
    """
    z, logw = _nodes(d, theta)
    log_f, eta, zr = _terms(d, theta, z, logw)
    ll_i = special.logsumexp(log_f, axis=1)
    pi = np.exp(log_f - ll_i[:, None])  # posterior weights of the nodes, (k, J)
    p = special.expit(eta)
    resid = d.events[:, None] - d.trials[:, None] * p
    info = d.trials[:, None] * p * (1 - p) * pi[d.study]
    xs = np.stack([np.broadcast_to(d.x[:, None], eta.shape), d.g[:, None] * zr], axis=2)
    sc_s = _by_study(d, resid[:, :, None] * xs)  # (k, J, 2)
    g_s_i = np.einsum("ij,ijp->ip", pi, sc_s)
    h_s = (
        -np.einsum("rj,rjp,rjq->pq", info, xs, xs)
        + np.einsum("ij,ijp,ijq->pq", pi, sc_s, sc_s)
        - g_s_i.T @ g_s_i
    )
    if not d.local:
        return float(ll_i.sum()), (np.zeros(0), g_s_i.sum(0)), (np.zeros(0), np.zeros((0, 2)), h_s)
    sc_l = _by_study(d, resid)  # (k, J)
    g_l = np.sum(pi * sc_l, axis=1)
    h_l = -_by_study(d, info).sum(1) + np.sum(pi * sc_l**2, axis=1) - g_l**2
    h_ls = (
        -_by_study(d, info[:, :, None] * xs).sum(1)
        + np.einsum("ij,ijp->ip", pi * sc_l, sc_s)
        - g_l[:, None] * g_s_i
    )
    return float(ll_i.sum()), (g_l, g_s_i.sum(0)), (h_l, h_ls, h_s)


def _eta_slopes(d: _Design, b: np.ndarray) -> np.ndarray:
    """Derivatives of each row's linear predictor at standardised random effects ``b`` (rows
    first) in ``(alpha_i, mu, tau)``, or in ``(mu, tau)`` without study intercepts."""
    shape = (-1,) + (1,) * (b.ndim - 1)
    cols = [np.broadcast_to(d.x.reshape(shape), b.shape), d.g.reshape(shape) * b]
    if d.local:
        cols.insert(0, np.ones_like(b))
    return np.stack(cols, axis=-1)


def _gradient(d: _Design, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact gradient ``(g_local, g_shared)`` of the AGQ log-likelihood (``_study_gradients``
    summed over the studies for the shared parameters), laid out as in ``_derivatives``."""
    g = _study_gradients(d, theta)
    if d.local:
        return g[:, 0], g[:, 1:].sum(0)
    return np.zeros(0), g.sum(0)


def _study_gradients(d: _Design, theta: np.ndarray) -> np.ndarray:
    """Each study's exact gradient of its AGQ log-likelihood, the nodes moving with the
    parameters: shape (k, P) over ``(alpha_i, mu, tau)``, or ``(mu, tau)`` without intercepts.

    Let ``h_i(b)`` be study i's log density of its counts and of its standardised random
    effect ``b``, and ``h1, h2, h3`` its derivatives in ``b``. The nodes are ``z_ij = m_i +
    sqrt(2) s_i x_j`` with ``h1(m_i) = 0``, ``s_i = c_i^(-1/2)`` and ``c_i = -h2(m_i)``; the
    log-likelihood is ``log sum_j w_j s_i exp(h_i(z_ij) + x_j^2)`` up to a constant. Its
    derivative in a parameter ``q`` is the fixed-node score plus ``sum_j pi_ij h1(z_ij)
    dz_ij/dq + d log s_i/dq``, with ``dm_i/dq = (dh1/dq)(m_i) / c_i`` (implicit function
    theorem on the mode equation) and ``dc_i/dq = -((dh2/dq)(m_i) + h3(m_i) dm_i/dq)``.
    Study i involves only ``alpha_i``, ``mu`` and ``tau``, so the cost is O(k).

    """
    tau = theta[-1]
    m, s = _modes(d, theta)
    z, logw = _grid(m, s)
    log_f, eta, zr = _terms(d, theta, z, logw)
    pi = np.exp(log_f - special.logsumexp(log_f, axis=1)[:, None])  # node weights, (k, J)
    resid = d.events[:, None] - d.trials[:, None] * special.expit(eta)  # (rows, J)
    score = _by_study(d, resid[:, :, None] * _eta_slopes(d, zr))  # fixed nodes, (k, J, P)
    h1_nodes = tau * _by_study(d, d.g[:, None] * resid) - z
    # at the mode; l1, l2, l3: derivatives of the binomial log-likelihood in eta
    gt = d.g * tau
    mr = m[d.study]
    p = special.expit(d.eta0(theta) + gt * mr)
    l1 = d.events - d.trials * p
    l2 = -d.trials * p * (1 - p)
    l3 = l2 * (1 - 2 * p)
    slopes = _eta_slopes(d, mr)  # (rows, P)
    dh1 = _by_study(d, (l2 * gt)[:, None] * slopes)  # (k, P), b held fixed
    dh2 = _by_study(d, (l3 * gt**2)[:, None] * slopes)
    dh1[:, -1] += _by_study(d, l1 * d.g)  # tau also multiplies b in eta
    dh2[:, -1] += _by_study(d, 2 * l2 * d.g * gt)
    h3 = _by_study(d, l3 * gt**3)
    c = s[:, None] ** -2
    dm = dh1 / c
    dlog_s = 0.5 * (dh2 + h3[:, None] * dm) / c
    dz = dm[:, None, :] + np.sqrt(2) * GH_X[None, :, None] * (s[:, None] * dlog_s)[:, None, :]
    return np.einsum("ij,ijp->ip", pi, score + h1_nodes[:, :, None] * dz) + dlog_s


def _exact_hessian(d: _Design, theta: np.ndarray, h: float = HESS_STEP):
    """Hessian blocks of the AGQ log-likelihood, nodes moving, as lme4's ``vcov`` uses them.

    Central differences of the exact gradient: study i's gradient depends on ``alpha_i`` and
    the shared parameters only, so moving every intercept at once gives the intercept block
    (diagonal) and its cross terms in two gradient evaluations, and each shared parameter
    two more. The fixed-node Hessian that steers the Newton steps leaves out the nodes'
    movement, which changes the SE of ``mu`` by up to 0.2% (Stijnen et al. 2010's
    single-arm example). Returns ``(h_local_diag, h_local_shared, h_shared)``.
    """
    n_local = d.k if d.local else 0

    def central(direction: np.ndarray) -> np.ndarray:
        plus = _study_gradients(d, theta + h * direction)
        return (plus - _study_gradients(d, theta - h * direction)) / (2 * h)

    h_s = np.empty((2, 2))
    cross = []
    for j in range(2):
        e = np.zeros(len(theta))
        e[n_local + j] = 1.0
        diff = central(e)
        h_s[:, j] = diff[:, -2:].sum(0)
        cross.append(diff[:, 0] if d.local else np.zeros(0))
    h_s = (h_s + h_s.T) / 2
    if not d.local:
        return np.zeros(0), np.zeros((0, 2)), h_s
    e = np.zeros(len(theta))
    e[:n_local] = 1.0
    diff = central(e)
    h_ls = (diff[:, 1:] + np.column_stack(cross)) / 2
    return diff[:, 0], h_ls, h_s


def _maximise(d: _Design, theta: np.ndarray):
    """Damped Newton ascent on the AGQ log-likelihood; the maximiser and the Hessian blocks there.

    Each step solves the analytic fixed-node Hessian against the exact gradient
    (``_gradient``, the nodes moving with the parameters), so it is an ascent direction of the
    very function the line search evaluates. (Steps from the fixed-node score are not: near
    the optimum that score is still off by the nodes' movement, 1e-3 on the Stijnen et al.
    single-arm example, and a line search on the AGQ log-likelihood then accepts only tiny
    steps that never meet a stopping rule.) A step is accepted on sufficient increase
    (Armijo, against the increase the gradient predicts); once the predicted increase is below
    the rounding of the log-likelihood the step is taken whole, as Newton's method converges
    quadratically there. A step that would move a parameter by more than ``MAX_STEP`` is
    shortened first: a study intercept overshooting to where its curvature vanishes asks for
    an enormous next step, which the halving line search then takes some 30 likelihood
    evaluations to undo.
    """
    ll, _, hess = _derivatives(d, theta)
    for _ in range(MAX_ITER):
        grad = _gradient(d, theta)
        step = _newton_step(grad, hess)
        gain = float(np.concatenate(grad) @ step)  # predicted increase of the log-likelihood
        size = float(np.max(np.abs(step)))
        t = 1.0 if size <= MAX_STEP else MAX_STEP / size
        if gain > LL_ROUNDING * max(1.0, abs(ll)):
            while True:
                trial = theta + t * step
                trial[-1] = abs(trial[-1])  # the likelihood is symmetric in tau
                if _loglik(d, trial) >= ll + ARMIJO * t * gain:
                    break
                t /= 2
                if t < 1e-10:
                    raise BayesmetaError(
                        "binomial-normal GLMM: maximum likelihood did not converge (no step "
                        "along the Newton direction increases the likelihood)"
                    )
        else:
            trial = theta + t * step
            trial[-1] = abs(trial[-1])
        theta = trial
        ll, _, hess = _derivatives(d, theta)
        if t * size < STEP_TOL:
            return theta, hess
    raise BayesmetaError("binomial-normal GLMM: maximum likelihood did not converge")


def _shared_information(hess, lam: float = 0.0) -> np.ndarray:
    """Information on (mu, tau) with the alphas profiled out: -(H_ss - H_ls' H_ll^-1 H_ls)."""
    h_l, h_ls, h_s = hess
    return -(h_s - lam * np.eye(2)) + h_ls.T @ (h_ls / (h_l - lam)[:, None])


def _newton_step(grad, hess) -> np.ndarray:
    """Newton step for the arrowhead Hessian, Levenberg-damped until negative definite."""
    (g_l, g_s), (h_l, h_ls, _) = grad, hess
    if not all(np.all(np.isfinite(a)) for a in (*grad, *hess)):
        raise BayesmetaError(
            "the GLMM is not estimable for these data: its likelihood's derivatives are not "
            "finite during the maximisation"
        )
    scale = max(1.0, float(np.max(np.abs(hess[2]))))
    lam = 0.0
    for _ in range(60):
        info = _shared_information(hess, lam)
        if np.all(h_l - lam < 0) and np.all(np.linalg.eigvalsh(info) > 0):
            rhs = g_s - h_ls.T @ (g_l / (h_l - lam))
            step_s = np.linalg.solve(info, rhs)
            step_l = -(g_l + h_ls @ step_s) / (h_l - lam)
            return np.concatenate([step_l, step_s])
        lam = max(2 * lam, 1e-6 * scale)
    return np.concatenate([g_l, g_s])


NOT_ESTIMABLE = "the GLMM is not estimable (the ML estimate is at infinity)"


def _check_estimable(events: np.ndarray, trials: np.ndarray, what: str) -> None:
    """Raise unless some row has both events and non-events.

    If every row has 0 events or only events, the likelihood approaches its supremum (each
    row fitted exactly, p = 0 or 1) only as a linear predictor goes to -inf or +inf, so the
    ML estimate does not exist (the Newton iterations drift and the information vanishes).
    """
    if not np.any((events > 0) & (events < trials)):
        raise BayesmetaError(f"no {what} has both events and non-events: {NOT_ESTIMABLE}")


def _fit(
    d: _Design, theta0: np.ndarray, k: int, vi: np.ndarray, method: str, level: float
) -> PooledEstimate:
    theta, _ = _maximise(d, theta0)
    mu, tau = theta[-2], theta[-1]
    info = _shared_information(_exact_hessian(d, theta))
    if not (np.all(np.isfinite(info)) and np.all(np.linalg.eigvalsh(info) > 0)):
        # a degenerate design the up-front checks do not catch: the likelihood is flat in
        # some direction at the point reached, so the SE of mu does not exist
        raise BayesmetaError(
            f"the GLMM is not estimable for these data: its information matrix is singular "
            f"where the maximisation stopped (mu = {mu:.3g}, tau = {tau:.3g})"
        )
    se = float(np.sqrt(np.linalg.inv(info)[0, 0]))
    tau2 = float(tau**2)
    w = 1 / vi
    vt = (len(vi) - 1) * w.sum() / (w.sum() ** 2 - np.sum(w**2))
    p = 2 * special.ndtr(-abs(mu / se))
    z = special.ndtri((1 + level) / 2)
    return PooledEstimate(
        method,
        float(mu),
        se,
        (mu - z * se, mu + z * se),
        float(p),
        k,
        tau2=tau2,
        i2=100 * tau2 / (vt + tau2),
        h2=tau2 / vt + 1,
        level=level,
    )


def binomial_normal_ml(data: TwoArmData, *, level: float = DEFAULT_LEVEL) -> PooledEstimate:
    """ML fit of the binomial-normal model with fixed study intercepts (metafor "UM.FS").

    Returns
    -------
    PooledEstimate
        ``estimate`` is the mean log odds ratio ``mu``; ``tau2`` the variance of the true
        log odds ratios; I^2 and H^2 as metafor, from the escalc sampling variances.

    Raises
    ------
    BayesmetaError
        Fewer than 2 studies that are not double-zero; no treatment arm or no control arm
        with both events and non-events (the ML estimate of ``mu`` or of the study
        intercepts is then at infinity); no convergence; or a singular information matrix.
    """
    d = _two_arm_design(data)
    if d.k < 2:
        raise BayesmetaError(
            f"the GLMM needs at least 2 studies that are not double-zero, got {d.k}"
        )
    for arm, rows in (("treatment", slice(0, d.k)), ("control", slice(d.k, None))):
        _check_estimable(d.events[rows], d.trials[rows], f"{arm} arm")
    es = effect_sizes(data, measure="OR", drop00=True)
    c = d.events[d.k :] + 0.5
    alpha0 = np.log(c / (d.trials[d.k :] - d.events[d.k :] + 0.5))
    theta0 = np.concatenate([alpha0, [np.sum(es.yi / es.vi) / np.sum(1 / es.vi), 0.5]])
    return _fit(d, theta0, d.k, es.vi, "glmm_um_fs", level)


def random_intercept_ml(data: SingleArmData, *, level: float = DEFAULT_LEVEL) -> PooledEstimate:
    """ML fit of the random-intercept logistic model for proportions (``rma.glmm``, "PLO").

    ``estimate`` is the mean logit proportion, ``tau2`` the between-study variance.

    Raises
    ------
    BayesmetaError
        No study has both events and non-events (the ML estimate of ``mu`` is at -inf or
        +inf, or ``tau`` at infinity), no convergence, or a singular information matrix.
    """
    _check_estimable(data.events, data.total, "study")
    es = effect_sizes(data, measure="PLO")
    theta0 = np.array([np.sum(es.yi / es.vi) / np.sum(1 / es.vi), 0.5])
    return _fit(_single_arm_design(data), theta0, data.k, es.vi, "glmm", level)
