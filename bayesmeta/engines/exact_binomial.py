"""Exact posterior of the binomial models (two-arm binomial-normal, single-arm proportions)
and of the Poisson-normal rates model by quadrature.

Model (as :mod:`bayesmeta.engines.pymc` builds it)::

    two-arm:    r_ci ~ Bin(n_ci, expit a_i),  r_ti ~ Bin(n_ti, expit(a_i + theta_i)),  a_i ~ p(a)
    single-arm: r_i ~ Bin(n_i, expit theta_i)
    rates:      x_ci ~ Pois(t_ci e^a_i),  x_ti ~ Pois(t_ti e^(a_i + theta_i)),  a_i ~ p(a)
    theta_i | mu, tau ~ N(mu, tau^2)  (tau = 0: common effect),  mu ~ p(mu),  tau ~ p(tau).

Given ``(mu, tau)`` the studies are independent, so
``p(y | mu, tau) = prod_i int g_i(theta) N(theta; mu, tau^2) dtheta`` with the study likelihood
``g_i(theta) = int Bin(r_ci | expit a) Bin(r_ti | expit(a + theta)) p(a) da`` (two-arm; rates:
the Poisson arms), or ``Bin(r_i | expit theta)`` (single-arm). Each integrand is log-concave
(binomial likelihoods in the logit and Poisson ones in the log rate are log-concave, and so is
a normal baseline prior). A "regular" study (every cell with ``REGULAR`` events and
non-events) has near-normal integrands, integrated by adaptive Gauss-Hermite quadrature
(:func:`_gauss_hermite_integral`); the others (zero cells, double zeros: skewed integrands)
by Newton steps to the mode, Newton steps to the two points where the log integrand has
fallen by ``DROP``, and one Gauss-Legendre panel on each side (:func:`_log_integral`).
``log g_i`` (two-arm, rates) is computed once per study on a uniform grid whose spacing
follows the study's standard error (``STEP``, at most ``MAX_STEP``), with its exact first and
second derivatives, and read by quintic Hermite interpolation (quadratic extrapolation
outside the grid, where ``log g_i`` is concave).

``(mu, tau)``: ``tau`` through ``u = tau / (c + tau)`` (``c`` the prior median, as
:mod:`bayesmeta.engines.exact` does) on composite Gauss-Legendre panels over where the
posterior of ``u`` is within ``LOG_DROP`` of its maximum; for each ``tau`` node, ``N_MU``
``mu`` nodes uniform over ``Z_SPAN`` conditional SDs either side of the conditional mean of
``mu`` (trapezoid rule), read off coarse passes (:func:`_posterior`), so the grid follows the
funnel of the joint posterior. Marginals of ``mu`` and ``tau`` interpolate the log density
between nodes; ``theta_new`` is the mixture of normals over the grid, with a column's ``mu``
nodes refined by interpolation where ``tau`` is small against their spacing; a shrunken
``theta_i`` has the density ``g_i(t) sum_m w_m N(t; mu_m, tau_m^2) / h_i(mu_m, tau_m)`` over
that grid (:class:`ShrunkenEffects`). ``docs/reference/exact-binomial.md`` states how the
error is controlled and the accuracy tested.

numpy and scipy only: this module imports no PyMC.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property, partial

import numpy as np
from scipy import special

from bayesmeta.engines.exact import NormalMixture, _Marginal
from bayesmeta.errors import BayesmetaError
from bayesmeta.model.priors import Prior, check_scale_prior, parse_prior

GL_X, GL_W = np.polynomial.legendre.leggauss(16)
PANEL_X, PANEL_W = np.polynomial.legendre.leggauss(8)


def _gauss_hermite(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and log weights of ``int f(x) dx = sum w e^(x^2) f(x)``."""
    x, w = np.polynomial.hermite.hermgauss(n)
    return x, np.log(w) + x**2


GH_THETA_NODES = 12
GH_BASELINE = _gauss_hermite(20)  # each study's baseline integral (once per table point)
GH_THETA = _gauss_hermite(GH_THETA_NODES)  # theta_i at each (mu, tau) node
GH_COARSE = _gauss_hermite(8)  # and at the nodes of the coarse passes that place the grid
REGULAR = 3  # a study whose every cell has this many events and non-events is "regular"
DROP = 25.0  # each 1-d integrand is integrated where its log is within this of its maximum
LOG_DROP = 30.0  # the u range: where the log posterior of u is within this of its maximum
END_DROP = 20.0  # a mu column is widened when its end nodes are within this of its peak
N_MU = 25  # mu nodes of each tau column of the final grid
Z_SPAN = 8.0  # over the conditional mean of mu +- this many conditional SDs
COARSE_MU = 13  # mu nodes of each column of the coarse passes
FINE_MU = 16  # mu's cdf is read from a grid this many times finer than the finest column
MAX_FINE = 20_000  # and at most this many points
N_PANELS = 5  # Gauss-Legendre panels (8 nodes each) in u = tau / (c + tau)
COARSE = 13  # tau columns of the coarse passes that find the u range
T_POINTS = 81  # points of each shrunken effect's density (log interpolated T_FINE times finer)
T_FINE = 8
FINE = 32  # refinement of the grids the marginal cdfs are read from
MAX_TABLE = 4000  # grid points of one study's log g
STEP = 0.75  # spacing of each study's log g table, in units of its standard error
MAX_STEP = 0.25  # and at most this
CHUNK = 50_000  # (study, mu, tau) triples integrated at a time (memory stays bounded)
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


# --------------------------------------------------------------------------------------------
# one-dimensional log-concave integrals
# --------------------------------------------------------------------------------------------


def _logsumexp(a: np.ndarray, axis: int | None = None) -> np.ndarray:
    """``log sum exp(a)`` along ``axis`` (scipy's, without its array-API overhead, which
    dominated the small batches here); ``-inf`` where every term is."""
    top = np.max(a, axis=axis, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(divide="ignore"):
        out = np.log(np.sum(np.exp(a - top), axis=axis, keepdims=True)) + top
    return np.squeeze(out, axis=axis) if axis is not None else out.reshape(())


Fun = Callable[..., tuple[np.ndarray, np.ndarray | None, np.ndarray | None]]


def _log_integral(
    fun: Fun, x0: np.ndarray, moments: Callable[[np.ndarray], np.ndarray] | None = None
) -> tuple[np.ndarray, np.ndarray | None]:
    """``log int exp(F(x)) dx`` for a batch of concave ``F`` (``fun(x)`` gives ``F, F', F''``
    for ``x`` of shape ``(N,)`` or ``(N, Q)``), and optionally ``E[m(x)]`` for ``m = moments``
    (returning ``(..., p)``) under the normalised integrand.
    """
    x = np.array(x0, dtype=float)
    for _ in range(30):
        _, f1, f2 = fun(x)
        sd = 1.0 / np.sqrt(-f2)
        step = np.clip(-f1 / f2, -4.0 * sd, 4.0 * sd)
        x = x + step
        if np.all(np.abs(step) <= 1e-9 * (1.0 + np.abs(x)) + 1e-6 * sd):
            break
    top, _, f2 = fun(x)
    sd = 1.0 / np.sqrt(-f2)
    target = top - DROP
    ends = []
    for side in (-1.0, 1.0):
        xs = x + side * math.sqrt(2.0 * DROP) * sd
        for _ in range(40):
            fs, f1s, _ = fun(xs)
            outward = np.minimum(side * f1s, -1e-300)  # slope away from the mode (< 0)
            step = np.clip((fs - target) / -outward, -0.5 * np.abs(xs - x), 16.0 * sd)
            xs = xs + side * step
            if np.all(np.abs(fs - target) < 0.05):
                break
        ends.append(xs)
    # one Gauss-Legendre panel on each side of the mode: a side may be long and flat (a
    # zero cell's tail, bounded only by a prior) while the other falls off within a few units
    lo, hi = ends
    left, right = (x - lo) / 2.0, (hi - x) / 2.0
    nodes = np.concatenate(
        [(lo + left)[:, None] + left[:, None] * GL_X, (x + right)[:, None] + right[:, None] * GL_X],
        axis=1,
    )
    f, _, _ = fun(nodes)
    log_w = f + np.log(np.concatenate([left[:, None] * GL_W, right[:, None] * GL_W], axis=1))
    log_int = _logsumexp(log_w, axis=1)
    if moments is None:
        return log_int, None
    w = np.exp(log_w - log_int[:, None])
    return log_int, np.einsum("nq,nqp->np", w, moments(nodes))


def _gauss_hermite_integral(
    fun: Fun,
    x0: np.ndarray,
    moments: Callable[[np.ndarray], np.ndarray] | None = None,
    rule: tuple[np.ndarray, np.ndarray] = GH_BASELINE,
) -> tuple[np.ndarray, np.ndarray | None]:
    """As :func:`_log_integral`, by adaptive Gauss-Hermite quadrature (``rule`` at the
    mode, scaled by the curvature there): exact for a Gaussian integrand and accurate to
    about 1e-7 for the near-Gaussian ones of studies whose every cell has a few events and
    non-events (:attr:`_StudyLikelihood.regular`); the skewed integrands of zero cells are
    left to :func:`_log_integral`, which finds where each side has fallen by ``DROP``."""
    x = np.array(x0, dtype=float)
    for _ in range(30):
        _, f1, f2 = fun(x)
        sd = 1.0 / np.sqrt(-f2)
        step = np.clip(-f1 / f2, -4.0 * sd, 4.0 * sd)
        x = x + step
        if np.all(np.abs(step) <= 1e-6 * sd):
            break
    _, _, f2 = fun(x)
    scale = math.sqrt(2.0) / np.sqrt(-f2)
    gx, glw = rule
    nodes = x[:, None] + scale[:, None] * gx
    f, _, _ = fun(nodes, False)
    log_w = f + glw + np.log(scale)[:, None]
    log_int = _logsumexp(log_w, axis=1)
    if moments is None:
        return log_int, None
    w = np.exp(log_w - log_int[:, None])
    return log_int, np.einsum("nq,nqp->np", w, moments(nodes))


def _integrate(
    regular: np.ndarray,
    fun: Callable[[np.ndarray], Fun],
    x0: np.ndarray,
    moments: Callable[[np.ndarray], Callable[[np.ndarray], np.ndarray]] | None = None,
    rule: tuple[np.ndarray, np.ndarray] = GH_BASELINE,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Integrals of a batch (``fun(sel)`` and ``moments(sel)`` restricted to rows ``sel``):
    Gauss-Hermite on the ``regular`` rows, :func:`_log_integral` on the others."""
    out = np.empty(len(x0))
    mo = None
    for use, method in (
        (regular, partial(_gauss_hermite_integral, rule=rule)),
        (~regular, _log_integral),
    ):
        if not use.any():
            continue
        sel = np.flatnonzero(use)
        li, e = method(fun(sel), x0[sel], None if moments is None else moments(sel))
        out[sel] = li
        if e is not None:
            if mo is None:
                mo = np.empty((len(x0), e.shape[1]))
            mo[sel] = e
    return out, mo


# --------------------------------------------------------------------------------------------
# study likelihoods g_i(theta)
# --------------------------------------------------------------------------------------------


def _log_binom(n: np.ndarray, r: np.ndarray) -> np.ndarray:
    return special.gammaln(n + 1.0) - special.gammaln(r + 1.0) - special.gammaln(n - r + 1.0)


def _binomial_logit(r, n, x):
    """``log Bin(r | n, expit x)`` without its constant, with first and second derivatives."""
    p = special.expit(x)
    return r * x - n * np.logaddexp(0.0, x), r - n * p, -n * p * (1.0 - p)


class _StudyLikelihood:
    """``log g_i(theta)`` with its derivatives for study indices ``idx``."""

    k: int
    center: np.ndarray  # (k,) a rough location of each study's information on theta
    width: np.ndarray  # (k,) and its standard error (1-d scale of g_i)
    regular: np.ndarray  # (k,) every cell has REGULAR events and non-events (g_i near-normal)

    def __call__(self, idx: np.ndarray, theta: np.ndarray, deriv: bool = True):
        """``log g``, and (``deriv``) its first and second derivatives, else None."""
        raise NotImplementedError

    @cached_property
    def peak(self) -> tuple[np.ndarray, np.ndarray]:
        """Each regular study's mode of ``log g_i`` and the SD its curvature there gives
        (Newton steps from ``center``), the normal approximation the integrals start from;
        ``center, width`` for the others (a zero cell's ``g_i`` may have no mode)."""
        rows = np.arange(self.k)
        x, sd = self.center.copy(), self.width.copy()
        for _ in range(20):
            _, f1, f2 = self(rows, x)
            step = np.clip(-f1 / f2, -2.0 * self.width, 2.0 * self.width)
            x = np.where(self.regular, x + step, x)
            if np.all(np.abs(step[self.regular]) <= 1e-9 * self.width[self.regular]):
                break
        _, _, f2 = self(rows, x)
        sd = np.where(self.regular, 1.0 / np.sqrt(-f2), sd)
        return x, sd


class _SingleArm(_StudyLikelihood):
    def __init__(self, events: np.ndarray, total: np.ndarray) -> None:
        self.r, self.n = np.asarray(events, float), np.asarray(total, float)
        self.k = len(self.r)
        self.const = _log_binom(self.n, self.r)
        self.center = np.log((self.r + 0.5) / (self.n - self.r + 0.5))
        self.width = np.sqrt(1.0 / (self.r + 0.5) + 1.0 / (self.n - self.r + 0.5))
        self.regular = np.minimum(self.r, self.n - self.r) >= REGULAR

    def __call__(self, idx, theta, deriv: bool = True):
        shape = idx.shape + (1,) * (theta.ndim - idx.ndim)
        r, n, c = (a[idx].reshape(shape) for a in (self.r, self.n, self.const))
        if not deriv:
            return r * theta - n * np.logaddexp(0.0, theta) + c, None, None
        f, f1, f2 = _binomial_logit(r, n, theta)
        return f + c, f1, f2


def _poisson_log(x, t, eta):
    """``log Pois(x | t e^eta)`` without ``x log t - log x!``, with first and second
    derivatives in ``eta``."""
    mean = t * np.exp(eta)
    return x * eta - mean, x - mean, -mean


class _TwoArm(_StudyLikelihood):
    """``log g_i`` on a uniform grid per study, read by quintic Hermite interpolation.

    ``arm`` is the likelihood of each arm given its linear predictor: ``"binomial"``
    (``rt, nt, rc, nc`` events and totals, logit link) or ``"poisson"`` (events and
    person-time, log link: the Poisson-normal rates model).
    """

    def __init__(
        self, rt, nt, rc, nc, baseline: Prior, lo: float, hi: float, arm: str = "binomial"
    ) -> None:
        if baseline.family != "normal":
            raise BayesmetaError(
                f"the exact engine needs a normal prior for the study baselines, got {baseline}"
                " (use --engine nuts)"
            )
        rt, nt, rc, nc = (np.asarray(a, float) for a in (rt, nt, rc, nc))
        self.k = len(rt)
        m, s = baseline.params
        if arm == "poisson":  # events rt, rc per person-time nt, nc
            arm_fn = _poisson_log
            lt, lc = np.log((rt + 0.5) / nt), np.log((rc + 0.5) / nc)
            wt, wc = rt + 0.5, rc + 0.5
            const = (
                rt * np.log(nt) - special.gammaln(rt + 1.0) + rc * np.log(nc)
                - special.gammaln(rc + 1.0)
            )  # fmt: skip
            self.regular = np.minimum(rt, rc) >= REGULAR
        else:
            arm_fn = _binomial_logit
            lt, lc = np.log((rt + 0.5) / (nt - rt + 0.5)), np.log((rc + 0.5) / (nc - rc + 0.5))
            wt = 1.0 / (1.0 / (rt + 0.5) + 1.0 / (nt - rt + 0.5))
            wc = 1.0 / (1.0 / (rc + 0.5) + 1.0 / (nc - rc + 0.5))
            const = _log_binom(nt, rt) + _log_binom(nc, rc)
            self.regular = np.minimum.reduce([rt, nt - rt, rc, nc - rc]) >= REGULAR
        const = const - math.log(s) - _LOG_SQRT_2PI
        self.center = lt - lc
        self.width = np.sqrt(1.0 / wt + 1.0 / wc)
        lo_i = np.minimum(lo, self.center - 10.0 * self.width)
        hi_i = np.maximum(hi, self.center + 10.0 * self.width)
        step = np.maximum(np.minimum(MAX_STEP, self.width * STEP), (hi_i - lo_i) / (MAX_TABLE - 1))
        size = np.ceil((hi_i - lo_i) / step).astype(int) + 1
        self.lo, self.step, self.size = lo_i, step, size
        # ragged table: point j of study i at start[i] + j, interval j at start[i] - i + j
        start = np.concatenate([[0], np.cumsum(size)[:-1]])
        idx = np.repeat(np.arange(self.k), size)
        col = np.arange(int(size.sum())) - start[idx]
        theta = lo_i[idx] + step[idx] * col

        def fun(sel):
            i = idx[sel]
            r_c, n_c, r_t, n_t, th = rc[i], nc[i], rt[i], nt[i], theta[sel]

            def f(a, deriv=True):
                sh = (len(i),) + (1,) * (a.ndim - 1)
                f_c, d_c, dd_c = arm_fn(r_c.reshape(sh), n_c.reshape(sh), a)
                f_t, d_t, dd_t = arm_fn(r_t.reshape(sh), n_t.reshape(sh), a + th.reshape(sh))
                z = (a - m) / s
                return f_c + f_t - 0.5 * z * z, d_c + d_t - z / s, dd_c + dd_t - 1.0 / s**2

            return f

        def mom(sel):
            i = idx[sel]
            r_t, n_t, th = rt[i], nt[i], theta[sel]

            def f(a):
                sh = (len(i),) + (1,) * (a.ndim - 1)
                _, d_t, dd_t = arm_fn(r_t.reshape(sh), n_t.reshape(sh), a + th.reshape(sh))
                return np.stack([d_t, d_t * d_t, dd_t], axis=-1)

            return f

        # start each baseline where the two arms' normal approximations agree
        a0 = (wc[idx] * lc[idx] + wt[idx] * (lt[idx] - theta)) / (wc[idx] + wt[idx])
        log_g, e = _integrate(self.regular[idx], fun, a0, mom)
        f = log_g + const[idx]
        d1, d2 = e[:, 0], e[:, 1] - e[:, 0] ** 2 + e[:, 2]
        # quintic Hermite on each interval (value, slope and curvature at both ends) as
        # sum_q c_q s^q, s in [0, 1]
        inner = np.ones(len(f), dtype=bool)
        inner[start + size - 1] = False  # the last point of each study starts no interval
        h = step[idx][inner]
        f0, d0, e0 = f[inner], h * d1[inner], h * h * d2[inner]
        nxt = np.flatnonzero(inner) + 1
        f1, g1, e1 = f[nxt], h * d1[nxt], h * h * d2[nxt]
        df = f1 - f0
        self.coef = np.stack(
            [
                f0,
                d0,
                0.5 * e0,
                10 * df - 6 * d0 - 4 * g1 - 1.5 * e0 + 0.5 * e1,
                -15 * df + 8 * d0 + 7 * g1 + 1.5 * e0 - e1,
                6 * df - 3 * d0 - 3 * g1 - 0.5 * e0 + 0.5 * e1,
            ],
            axis=1,
        )  # (intervals, 6)
        self.coef = np.ascontiguousarray(self.coef.T)  # (6, intervals)
        self.row = start - np.arange(self.k)
        ends = np.stack([start, start + size - 1], axis=1)  # (k, 2)
        self.ends = np.stack([f[ends], d1[ends], d2[ends]], axis=2)  # (k, 2, 3)

    def __call__(self, idx, theta, deriv: bool = True):
        shape = idx.shape + (1,) * (theta.ndim - idx.ndim)
        lo, h, size, row = (
            a[idx].reshape(shape) for a in (self.lo, self.step, self.size, self.row)
        )
        t = (theta - lo) / h
        j = np.clip(np.floor(t), 0, size - 2)
        s = t - j
        c0, c1, c2, c3, c4, c5 = np.take(self.coef, (row + j.astype(np.intp)).ravel(), axis=1)
        c0, c1, c2, c3, c4, c5 = (c.reshape(t.shape) for c in (c0, c1, c2, c3, c4, c5))
        val = c0 + s * (c1 + s * (c2 + s * (c3 + s * (c4 + s * c5))))
        der = sec = None
        if deriv:
            der = (c1 + s * (2.0 * c2 + s * (3.0 * c3 + s * (4.0 * c4 + s * 5.0 * c5)))) / h
            sec = (2.0 * c2 + s * (6.0 * c3 + s * (12.0 * c4 + s * 20.0 * c5))) / (h * h)
        # outside the grid: the quadratic with the end point's exact value and derivatives
        out = (t < 0) | (t > size - 1)
        if out.any():
            which = (t > size - 1)[out].astype(np.intp)
            rows = np.broadcast_to(idx.reshape(shape), t.shape)[out]
            fe, de, se = (self.ends[rows, which, q] for q in range(3))
            x_end = (
                np.broadcast_to(lo, t.shape)[out]
                + np.broadcast_to(h * (size - 1), t.shape)[out] * which
            )
            dx = theta[out] - x_end
            val[out] = fe + de * dx + 0.5 * se * dx * dx
            if deriv:
                der[out] = de + se * dx
                sec[out] = se
        if not deriv:
            return val, None, None
        return val, der, np.minimum(sec, -1e-12)


class _Mixed(_StudyLikelihood):
    """Count studies' ``log g_i`` (:class:`_TwoArm`) beside reported studies' normal density
    ``log N(y_i; theta, v_i)`` of their log odds ratio (:mod:`bayesmeta.io.mixed`)."""

    def __init__(self, counts: _TwoArm | None, reported: np.ndarray, y, v) -> None:
        self.reported = np.asarray(reported, dtype=bool)
        self.k = len(self.reported)
        self.counts = counts
        self.position = np.cumsum(~self.reported) - 1  # each count study's index in counts
        self.y = np.where(self.reported, np.asarray(y, float), 0.0)
        self.v = np.where(self.reported, np.asarray(v, float), 1.0)
        self.center, self.width = self.y.copy(), np.sqrt(self.v)
        self.regular = np.ones(self.k, dtype=bool)  # a normal density is as regular as it gets
        if counts is not None:
            self.center[~self.reported] = counts.center
            self.width[~self.reported] = counts.width
            self.regular[~self.reported] = counts.regular

    def __call__(self, idx, theta, deriv: bool = True):
        shape = idx.shape + (1,) * (theta.ndim - idx.ndim)
        y, v = (a[idx].reshape(shape) for a in (self.y, self.v))
        d = y - theta
        val = -0.5 * d * d / v - 0.5 * np.log(v) - _LOG_SQRT_2PI
        der = d / v if deriv else None
        sec = np.broadcast_to(-1.0 / v, val.shape).copy() if deriv else None
        counted = np.broadcast_to(~self.reported[idx].reshape(shape), val.shape)
        if counted.any():
            assert self.counts is not None
            rows = np.broadcast_to(self.position[idx].reshape(shape), val.shape)[counted]
            f, f1, f2 = self.counts(rows, theta[counted], deriv)
            val[counted] = f
            if deriv:
                der[counted], sec[counted] = f1, f2
        return val, der, sec


def mixed_posterior(
    data, *, prior_mu: Prior | str, prior_tau: Prior | str | None, prior_baseline: Prior | str
) -> BinomialPosterior:
    """Exact posterior of the mixed model (:mod:`bayesmeta.model.likelihoods.mixed`): count
    studies' binomial arms with their baselines integrated out, reported studies' normal
    log odds ratios (``prior_tau=None``: common effect)."""
    return _fit(study_likelihood(data, prior_baseline), data.study, prior_mu, prior_tau)


# --------------------------------------------------------------------------------------------
# p(y | mu, tau) on a grid
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Evaluated:
    loglik: np.ndarray  # (J, L): sum over studies of log int g_i N(theta; mu, tau^2)
    cond_mean: np.ndarray | None  # (k, J, L): E[theta_i | mu, tau, y_i]
    cond_var: np.ndarray | None
    log_h: np.ndarray | None  # (k, J, L): each study's log int g_i N(theta; mu, tau^2)


def _evaluate(
    lik: _StudyLikelihood,
    mu: np.ndarray,
    tau: np.ndarray,
    moments: bool,
    rule: tuple[np.ndarray, np.ndarray] = GH_THETA,
) -> _Evaluated:
    """Each study's ``log int g_i(theta) N(theta; mu, tau^2) dtheta`` on the ``mu x tau`` grid
    (``mu`` 1-d: the product grid; ``(J, L)``: column ``l`` at ``tau[l]``; ``tau`` = 0 gives
    ``log g_i(mu)``), summed over studies; optionally the conditional mean
    and variance of each ``theta_i`` given ``mu, tau, y_i``."""
    if mu.ndim == 1:
        M, T = np.meshgrid(mu, tau, indexing="ij")
    else:  # a mu column (J, L) for each tau
        M, T = mu, np.broadcast_to(tau[None, :], mu.shape)
    (J, L), k = M.shape, lik.k
    total = np.zeros((J, L))
    mean = np.zeros((k, J, L)) if moments else None
    var = np.zeros((k, J, L)) if moments else None
    log_h = np.zeros((k, J, L)) if moments else None
    per = max(1, CHUNK // (J * L))
    for start in range(0, k, per):
        studies = np.arange(start, min(k, start + per))
        idx = np.repeat(studies, J * L)
        m = np.tile(M.ravel(), len(studies))
        t = np.tile(T.ravel(), len(studies))
        pos = t > 0
        out = np.empty(len(idx))
        mo = np.empty((len(idx), 2))
        if (~pos).any():
            out[~pos] = lik(idx[~pos], m[~pos])[0]
            mo[~pos] = np.column_stack([m[~pos], np.zeros((~pos).sum())])
        if pos.any():
            ip, mp, tp = idx[pos], m[pos], t[pos]

            def fun(sel, ip=ip, mp=mp, tp=tp):
                i, mm, tt = ip[sel], mp[sel], tp[sel]

                log_tau = np.log(tt) + _LOG_SQRT_2PI

                def f(x, deriv=True):
                    sh = (len(i),) + (1,) * (x.ndim - 1)
                    g, g1, g2 = lik(i, x, deriv)
                    mu_, tau_ = mm.reshape(sh), tt.reshape(sh)
                    z = (x - mu_) / tau_
                    val = g - 0.5 * z * z - log_tau.reshape(sh)
                    if not deriv:
                        return val, None, None
                    return val, g1 - z / tau_, g2 - 1.0 / tau_**2

                return f

            # start at the normal approximation of g_i combined with N(mu, tau^2)
            c, w = (a[ip] for a in lik.peak)
            x0 = (c / w**2 + mp / tp**2) / (1 / w**2 + 1 / tp**2)

            def mom(sel):
                return lambda x: np.stack([x, x * x], axis=-1)

            li, e = _integrate(lik.regular[ip], fun, x0, mom if moments else None, rule)
            out[pos] = li
            if moments:
                mo[pos] = np.column_stack([e[:, 0], e[:, 1] - e[:, 0] ** 2])
        block = out.reshape(len(studies), J, L)
        total += block.sum(axis=0)
        if moments:
            mean[studies] = mo[:, 0].reshape(len(studies), J, L)
            log_h[studies] = block
            var[studies] = np.maximum(mo[:, 1], 0.0).reshape(len(studies), J, L)
    return _Evaluated(total, mean, var, log_h)


# --------------------------------------------------------------------------------------------
# one-dimensional marginals read off the grid
# --------------------------------------------------------------------------------------------


def _lagrange4(x0: float, h: float, values: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Local cubic (4-point Lagrange) interpolation of ``values[..., n]`` given on the uniform
    grid ``x0 + h * arange(n)``, at ``x`` (1-d)."""
    n = values.shape[-1]
    t = (np.asarray(x, dtype=float) - x0) / h
    j = np.clip(np.floor(t) - 1, 0, n - 4).astype(np.intp)
    s = t - j
    w = np.stack(
        [
            -(s - 1) * (s - 2) * (s - 3) / 6,
            s * (s - 2) * (s - 3) / 2,
            -s * (s - 1) * (s - 3) / 2,
            s * (s - 1) * (s - 2) / 6,
        ]
    )  # (4, len(x))
    picked = np.stack([np.take(values, j + q, axis=-1) for q in range(4)])
    return (picked * w.reshape((4,) + (1,) * (values.ndim - 1) + (len(t),))).sum(axis=0)


def _panel_interpolate(edges: np.ndarray, nodes: np.ndarray, values: np.ndarray, x) -> np.ndarray:
    """The polynomial through each panel's Gauss-Legendre nodes (``nodes, values`` of shape
    ``(P, Q)``), evaluated at ``x`` in the panel holding it (barycentric form)."""
    x = np.asarray(x, dtype=float)
    p = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, len(edges) - 2)
    xn = nodes[p]  # (n, Q)
    diff = xn[:, :, None] - xn[:, None, :]
    np.einsum("nii->ni", diff)[...] = 1.0
    bary = 1.0 / diff.prod(axis=2)
    d = x[:, None] - xn
    exact = np.isclose(d, 0.0, atol=1e-300, rtol=0)
    d = np.where(exact, 1.0, d)
    terms = bary / d
    out = (terms * values[p]).sum(axis=1) / terms.sum(axis=1)
    hit = exact.any(axis=1)
    if hit.any():
        out[hit] = values[p][hit][exact[hit]]
    return out


class GridMarginal(_Marginal):
    """A marginal posterior known by its density at grid nodes.

    ``weight`` and ``means`` are the quadrature nodes and weights (``sds`` zeros), so moments
    of any function are ``sum w f(x)`` and :func:`bayesmeta.summaries.exact.shown_summary`
    treats it as a mixture of point masses; the cdf interpolates the log density
    (``log_density``) on ``points`` (``FINE`` times the nodes) over ``table`` (the support
    ``lower, upper`` unless given) and integrates it by the trapezoid rule; the pdf is the
    interpolated density itself, anywhere in the support.
    """

    def __init__(
        self,
        nodes: np.ndarray,
        weight: np.ndarray,
        log_density: Callable[[np.ndarray], np.ndarray],
        lower: float,
        upper: float,
        to_x: Callable[[np.ndarray], np.ndarray] = lambda v: v,
        from_x: Callable[[np.ndarray], np.ndarray] = lambda v: v,
        lower_bounded: bool = False,
        dv_dx: Callable[[np.ndarray], np.ndarray] = np.ones_like,
        points: int | None = None,
        table: tuple[float, float] | None = None,
    ) -> None:
        self._dv_dx = dv_dx
        self.weight = weight / weight.sum()
        self.means = to_x(nodes)
        self.sds = np.zeros_like(self.means)
        self.lower_bounded = lower_bounded
        self._to_x, self._from_x = to_x, from_x
        self._log_density, self._support = log_density, (lower, upper)
        v = np.linspace(*(table or (lower, upper)), points or FINE * len(nodes) + 1)
        lp = log_density(v)
        top = np.max(lp)
        pdf = np.exp(lp - top)
        cdf = np.concatenate([[0.0], np.cumsum((pdf[1:] + pdf[:-1]) / 2.0 * np.diff(v))])
        self._v, self._cdf = v, cdf / cdf[-1]
        self._log_scale = top + math.log(cdf[-1])

    @property
    def mean(self) -> float:
        return float(self.weight @ self.means)

    @property
    def sd(self) -> float:
        return math.sqrt(max(float(self.weight @ self.means**2) - self.mean**2, 0.0))

    def cdf(self, x):
        return np.interp(self._from_x(np.asarray(x, dtype=float)), self._v, self._cdf)

    def ppf(self, q):
        q = np.asarray(q, dtype=float)
        return self._to_x(np.interp(q, self._cdf, self._v))

    def pdf(self, x):
        """Posterior density (0 outside the range the grid covers)."""
        x = np.asarray(x, dtype=float)
        v = self._from_x(x)
        inside = (v >= self._support[0]) & (v <= self._support[1])
        out = np.zeros(np.shape(v))
        if np.any(inside):
            vin = np.atleast_1d(v)[np.atleast_1d(inside)]
            dens = np.exp(self._log_density(vin) - self._log_scale)
            np.atleast_1d(out)[np.atleast_1d(inside)] = dens
        return out * self._dv_dx(x)


class ShrunkenEffects:
    """The shrunken ``theta_i | y``, one per study: ``[i]`` is study ``i``'s marginal.

    Its density is ``g_i(t) sum_m w_m N(t; mu_m, tau_m^2) / h_i(mu_m, tau_m)`` over the grid
    nodes ``m`` (exact given the grid), read on ``T_POINTS`` points over its mean +- 8 SD,
    its log interpolated ``T_FINE`` times finer and integrated by the trapezoid rule; nodes
    whose ``tau`` is below two steps of that grid add their normal (conditional mean and SD)
    cdf instead (summed on the coarse grid and interpolated), as their conditional is
    ``N(mu, tau^2)`` reweighted by a ``g_i`` that is flat over that width.
    """

    def __init__(self, lik, weight, mu, tau, cond_mean, cond_sd, log_h) -> None:
        self._lik, self._w, self._mu, self._tau = lik, weight, mu, tau
        self._cm, self._cs, self._log_h = cond_mean, cond_sd, log_h

    def moments(self) -> tuple[np.ndarray, np.ndarray]:
        """Posterior means and SDs of every study's effect (exact mixture moments)."""
        mean = self._cm @ self._w
        var = (self._cs**2 + self._cm**2) @ self._w - mean**2
        return mean, np.sqrt(np.maximum(var, 0.0))

    @cached_property
    def _marginals(self) -> list[GridMarginal]:
        mean, sd = self.moments()
        out = []
        log_w = np.log(self._w)
        for i in range(len(mean)):
            lo, dt = mean[i] - 8 * sd[i], 16 * sd[i] / (T_POINTS - 1)
            t = lo + dt * np.arange(T_POINTS)
            narrow = self._tau < 2 * dt
            wide = ~narrow
            lw = log_w[wide] - self._log_h[i, wide] - np.log(self._tau[wide]) - _LOG_SQRT_2PI
            z = (t[:, None] - self._mu[wide]) / self._tau[wide]
            log_g = self._lik(np.full(len(t), i), t, False)[0]
            log_d = log_g + _logsumexp(lw - 0.5 * z * z, axis=1)
            # the log density is smooth on this grid (every wide component spans two steps):
            # interpolate it onto one T_FINE times finer, integrated by the trapezoid rule
            fine = lo + (dt / T_FINE) * np.arange((T_POINTS - 1) * T_FINE + 1)
            with np.errstate(invalid="ignore"):
                dens = np.exp(_lagrange4(lo, dt, np.maximum(log_d, -1e300), fine))
            dens = np.where(np.isfinite(dens), dens, 0.0)
            step = dt / T_FINE
            cdf = np.concatenate([[0.0], np.cumsum((dens[1:] + dens[:-1]) / 2.0 * step)])
            if narrow.any():  # their mixture is smooth on the coarse grid (refined mu)
                zn = (t[:, None] - self._cm[i, narrow]) / self._cs[i, narrow]
                cdf = cdf + _lagrange4(lo, dt, special.ndtr(zn) @ self._w[narrow], fine)
            t = fine
            out.append(_TabulatedMarginal(t, cdf / cdf[-1], mean[i], sd[i]))
        return out

    def ppf(self, q) -> np.ndarray:
        """Quantiles ``(k, len(q))``."""
        q = np.atleast_1d(np.asarray(q, dtype=float))
        return np.array([m.ppf(q) for m in self._marginals])

    def __getitem__(self, i: int) -> _TabulatedMarginal:
        return self._marginals[i]


class _TabulatedMarginal(_Marginal):
    """A marginal known by its cdf on a grid (linear interpolation)."""

    def __init__(self, x: np.ndarray, cdf: np.ndarray, mean: float, sd: float) -> None:
        self._x, self._cdf, self.mean, self.sd = x, np.maximum.accumulate(cdf), mean, sd

    def cdf(self, x):
        return np.interp(np.asarray(x, dtype=float), self._x, self._cdf)

    def ppf(self, q):
        return np.interp(np.asarray(q, dtype=float), self._cdf, self._x)


# --------------------------------------------------------------------------------------------
# the posterior
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Grid:
    """The (mu, tau) quadrature: column ``l`` is ``tau[l]`` with ``mu`` nodes ``mu[:, l]``,
    uniform from ``mu0[l]`` in steps ``h_mu[l]`` over where ``mu`` given that ``tau`` holds
    its posterior (the grid follows the funnel: narrow in ``mu`` where ``tau`` is small)."""

    mu: np.ndarray  # (J, L)
    mu0: np.ndarray  # (L,)
    h_mu: np.ndarray  # (L,)
    u: np.ndarray  # (L,)
    tau: np.ndarray  # (L,)
    w_mu: np.ndarray  # (J, L) trapezoid weights
    w_u: np.ndarray  # (L,) includes the Jacobian dtau/du
    w_panel: np.ndarray  # the plain Gauss-Legendre weights in u
    log_post: np.ndarray  # (J, L) log p(y | mu, tau) + log p(mu) + log p(tau) (no jacobian)
    evaluated: _Evaluated
    log_norm: float
    u_range: tuple[float, float]
    log_prior_u: Callable[[np.ndarray], np.ndarray] | None = None  # log p(tau(u)) dtau/du


@dataclass(frozen=True)
class BinomialPosterior:
    """Exact posterior of a binomial model: ``mu``, ``tau``, ``theta_new`` and the shrunken
    ``theta`` (one mixture per study, order of ``study``) as one-dimensional posteriors with
    ``mean``, ``sd``, ``median``, ``cdf``, ``ppf``, ``interval(level)``, ``hdi(level)``;
    ``log_marginal_likelihood`` is ``log p(y)``. ``tau`` is None for the common-effect model.
    """

    study: tuple[str, ...]
    common_effect: bool
    _grid: _Grid
    _c: float
    _lik: _StudyLikelihood

    @cached_property
    def mu(self) -> GridMarginal:
        """Posterior of the pooled effect."""
        g = self._grid
        # interpolate log p(mu, tau | y) along mu within each tau column (near-quadratic
        # there, unlike the marginal, a mixture over tau), then sum over the columns
        cols = (g.log_post + np.log(g.w_u)[None, :] - g.log_norm).T  # (L, J)
        # the cdf is read where the nodes hold mass (the wide tau columns span far), two of
        # their column's steps beyond
        held_nodes = self._weights > 1e-14
        pad = 2.0 * np.broadcast_to(g.h_mu[None, :], g.mu.shape)[held_nodes]
        lo = float(max(np.min(g.mu[held_nodes] - pad), g.mu.min()))
        hi = float(min(np.max(g.mu[held_nodes] + pad), g.mu.max()))
        held = held_nodes.any(axis=0)

        n = g.mu.shape[0]
        live = np.flatnonzero(g.h_mu > 0)  # columns with mu nodes to interpolate between

        def log_density(v: np.ndarray) -> np.ndarray:
            x0, h, vals = g.mu0[live, None], g.h_mu[live, None], cols[live]
            t = (v[None, :] - x0) / h  # (L, P) position in each column's nodes
            j = np.clip(np.floor(t) - 1, 0, n - 4).astype(np.intp)
            s = t - j
            w = (
                -(s - 1) * (s - 2) * (s - 3) / 6,
                s * (s - 2) * (s - 3) / 2,
                -s * (s - 1) * (s - 3) / 2,
                s * (s - 1) * (s - 2) / 6,
            )
            with np.errstate(invalid="ignore"):
                out = sum(w[q] * np.take_along_axis(vals, j + q, axis=1) for q in range(4))
            out = np.where((t >= 0) & (t <= n - 1), out, -np.inf)
            return _logsumexp(out, axis=0)

        steps = g.h_mu[held & (g.h_mu > 0)]
        step = float(steps.min()) if len(steps) else 1.0
        points = int(
            min(MAX_FINE, max(FINE * g.mu.shape[0], math.ceil(FINE_MU * (hi - lo) / step)))
        )
        return GridMarginal(
            g.mu.ravel(),
            self._weights.ravel(),
            log_density,
            float(g.mu.min()),
            float(g.mu.max()),
            points=points + 1,
            table=(lo, hi),
        )

    @cached_property
    def tau(self) -> GridMarginal | None:
        """Posterior of the between-study SD (None for the common-effect model)."""
        if self.common_effect:
            return None
        g, c = self._grid, self._c
        w = self._weights.sum(axis=0)
        # interpolate the log marginal likelihood part of the density of u (smooth), the
        # prior's part (steep where u nears 1) is known: added back exactly
        prior_u = g.log_prior_u if g.log_prior_u is not None else np.zeros_like
        with np.errstate(divide="ignore"):
            at_nodes = prior_u(g.u)
        ok = np.all(np.isfinite(at_nodes))
        if not ok:
            prior_u, at_nodes = np.zeros_like, np.zeros_like(g.u)
        log_f = np.log(np.maximum(w / g.w_panel, 1e-300)) - at_nodes
        log_f = log_f.reshape(N_PANELS, -1)
        edges = np.linspace(*g.u_range, N_PANELS + 1)
        nodes = g.u.reshape(N_PANELS, -1)

        def log_density(v: np.ndarray) -> np.ndarray:
            with np.errstate(divide="ignore"):
                return _panel_interpolate(edges, nodes, log_f, v) + prior_u(v)

        return GridMarginal(
            g.u,
            w,
            log_density,
            *g.u_range,
            to_x=lambda u: c * u / (1.0 - u),
            from_x=lambda t: np.clip(t / (c + t), 0.0, 1.0),
            lower_bounded=True,
            dv_dx=lambda t: c / (c + t) ** 2,
        )

    @cached_property
    def _weights(self) -> np.ndarray:
        g = self._grid
        lw = g.log_post + np.log(g.w_mu) + np.log(g.w_u)[None, :]
        return np.exp(lw - g.log_norm)

    def _refined(self, floor: float, conditional: bool = True) -> tuple[np.ndarray, ...]:
        """Flattened (weight, mu, tau, cond mean (k, n), cond sd (k, n), log h (k, n)) with
        each column's mu nodes spaced at most a third of its tau or of ``floor``, whichever
        is larger (``inf``: the grid's own nodes), refined by interpolation; without the
        conditional moments and ``log h`` (None) unless ``conditional``."""
        g = self._grid
        ev = g.evaluated
        parts = []
        for col in range(len(g.tau)):
            t, delta, x0 = g.tau[col], g.h_mu[col], g.mu0[col]
            scale = max(t, floor)
            r = int(min(32, max(1, math.ceil(3.0 * delta / scale)))) if scale > 0 else 1
            if r == 1:
                mu, lp = g.mu[:, col], g.log_post[:, col]
                w = g.w_mu[:, col]
                cm, cv = ev.cond_mean[:, :, col], ev.cond_var[:, :, col]
                lh = ev.log_h[:, :, col]
            else:
                mu = x0 + (delta / r) * np.arange((g.mu.shape[0] - 1) * r + 1)
                lp = _lagrange4(x0, delta, g.log_post[:, col], mu)
                w = np.full(len(mu), delta / r)
                w[[0, -1]] /= 2.0
                cm = cv = lh = None
                if conditional:
                    cm = _lagrange4(x0, delta, ev.cond_mean[:, :, col], mu)
                    cv = np.maximum(_lagrange4(x0, delta, ev.cond_var[:, :, col], mu), 1e-300)
                    lh = _lagrange4(x0, delta, ev.log_h[:, :, col], mu)
            lw = lp + np.log(w) + np.log(g.w_u[col])
            sd = None if cv is None else np.sqrt(cv)
            parts.append((lw, mu, np.full(len(mu), t), cm, sd, lh))
        lw = np.concatenate([p[0] for p in parts])
        weight = np.exp(lw - _logsumexp(lw))
        # the smallest components holding 1e-13 of the mass in all are left out
        order = np.argsort(weight)
        keep = np.ones(len(weight), dtype=bool)
        keep[order[np.cumsum(weight[order]) < 1e-13]] = False
        out = [
            weight[keep] / weight[keep].sum(),
            np.concatenate([p[1] for p in parts])[keep],
            np.concatenate([p[2] for p in parts])[keep],
        ]
        for q in (3, 4, 5):
            out.append(
                np.concatenate([p[q] for p in parts], axis=1)[:, keep] if conditional else None
            )
        return tuple(out)

    @cached_property
    def theta_new(self) -> NormalMixture | GridMarginal:
        """Predictive distribution of the effect in a new study."""
        if self.common_effect:
            return self.mu
        w, mu, tau = self._refined(0.0, conditional=False)[:3]
        return NormalMixture(w, mu, tau)

    @cached_property
    def theta(self) -> ShrunkenEffects | None:
        """Shrunken study effects (None for the common-effect model, where each is ``mu``)."""
        if self.common_effect:
            return None
        # each effect's cdf is read on steps of a fifth of its SD: mu nodes a third of that
        # apart make the narrow columns' mixture smooth there (no need for tau / 3)
        _, sd = ShrunkenEffects(self._lik, *self._refined(math.inf)).moments()
        return ShrunkenEffects(self._lik, *self._refined(16.0 * float(sd.min()) / (T_POINTS - 1)))

    def _conditional_mu(self, col: np.ndarray, q: np.ndarray) -> np.ndarray:
        """``mu`` at probability ``q`` of its conditional given the ``tau`` of column ``col``
        (each column's log density interpolated ``FINE`` times finer, trapezoid cdf)."""
        g = self._grid
        out = np.empty(len(col))
        n = g.mu.shape[0]
        for c in np.unique(col):
            at = col == c
            x = g.mu0[c] + (g.h_mu[c] / FINE) * np.arange((n - 1) * FINE + 1)
            lp = _lagrange4(g.mu0[c], g.h_mu[c], g.log_post[:, c], x)
            dens = np.exp(lp - np.max(lp))
            cdf = np.concatenate([[0.0], np.cumsum((dens[1:] + dens[:-1]) / 2.0)])
            out[at] = np.interp(q[at], cdf / cdf[-1], x)
        return out

    @property
    def prob_mu_below_0(self) -> float:
        return float(self.mu.cdf(0.0))

    @property
    def log_marginal_likelihood(self) -> float:
        return self._grid.log_norm


def _gl_panels(a: float, b: float, panels: int) -> tuple[np.ndarray, np.ndarray]:
    edges = np.linspace(a, b, panels + 1)
    half = np.diff(edges)[:, None] / 2.0
    nodes = (edges[:-1, None] + half) + half * PANEL_X
    return nodes.ravel(), (half * PANEL_W).ravel()


def _posterior(
    lik: _StudyLikelihood,
    prior_mu: Prior | None,
    prior_tau: Prior | None,
    start: tuple[float, float, float],
) -> tuple[_Grid, float]:
    """The (mu, tau) grid over where the posterior is, and the scale ``c`` of u
    (``prior_mu`` None: ``mu`` fixed at 0); :func:`_shared_posterior` with one group."""
    grids, c = _shared_posterior([lik], prior_mu, prior_tau, start)
    return grids[0], c


def _shared_posterior(
    liks: list[_StudyLikelihood],
    prior_mu: Prior | None,
    prior_tau: Prior | None,
    start: tuple[float, float, float],
) -> tuple[list[_Grid], float]:
    """One (mu_g, tau) grid per group of studies ``liks`` with a shared ``tau`` (subgroups:
    ``theta_i ~ N(mu_g, tau^2)``, ``mu_g`` independent a priori), and the scale ``c`` of u.

    Given ``tau`` the groups are independent, so the posterior of ``tau`` is
    ``p(tau) prod_g Z_g(tau)`` with ``Z_g(tau) = int p(mu_g) p(y_g | mu_g, tau) dmu_g``, and
    group ``g``'s grid holds ``p(mu_g, tau | y)``: its own column times the other groups'
    ``Z_h(tau)`` (every grid has the same ``log_norm``, ``log p(y)``).

    ``tau``: coarse columns in ``u`` widen until the top one is ``LOG_DROP`` below the
    largest and narrow to where the marginal of ``u`` is within ``LOG_DROP`` of its maximum.
    ``mu`` given each ``tau``: a uniform stretch of ``Z_SPAN`` conditional SDs either side of
    its conditional mean, both read off the previous pass (the first pass from the studies'
    normal approximations), clipped to the prior's support.
    """
    fixed = prior_mu is None  # mu = 0 (the null hypothesis of no effect)
    mu_lo_s, mu_hi_s = (0.0, 0.0) if fixed else prior_mu.support
    if prior_tau is None:
        c, u_support = 1.0, 0.0
    else:
        with np.errstate(over="ignore"):
            c = float(prior_tau.ppf(0.5))
        hi_t = prior_tau.support[1]
        u_support = 1.0 if math.isinf(hi_t) else hi_t / (c + hi_t)

    def tau_of(u):
        return c * u / (1.0 - u)

    def log_jac(u):
        return math.log(c) - 2.0 * np.log1p(-u) if prior_tau is not None else np.zeros_like(u)

    def log_prior_tau(tau):
        if prior_tau is None:
            return np.zeros_like(tau)
        with np.errstate(divide="ignore"):
            return prior_tau.logpdf(tau)

    def log_prior_u(u):
        return log_prior_tau(tau_of(u)) + log_jac(u)

    def normal_approx(lik, tau):
        """Conditional mean and SD of mu given tau from the studies' normal approximations."""
        y, v = lik.peak[0], lik.peak[1] ** 2
        w = 1.0 / (v[:, None] + tau[None, :] ** 2)
        return (w * y[:, None]).sum(axis=0) / w.sum(axis=0), 1.0 / np.sqrt(w.sum(axis=0))

    def columns(center, sd, n, span):
        """mu nodes (n, L), their first node and step per column."""
        if fixed:
            z = np.zeros((1, len(center)))
            return z, np.zeros(len(center)), np.zeros(len(center))
        a = np.maximum(center - span * sd, mu_lo_s)
        b = np.minimum(center + span * sd, mu_hi_s)
        h = (b - a) / (n - 1)
        return a[None, :] + h[None, :] * np.arange(n)[:, None], a, h

    def log_post(lik, mu, tau, moments=False, rule=GH_THETA):
        """log p(y_g | mu, tau) + log p(mu) (without the prior of tau)."""
        ev = _evaluate(lik, mu, tau, moments, rule)
        with np.errstate(divide="ignore"):
            lp = ev.loglik + (0.0 if fixed else prior_mu.logpdf(mu))
        return np.where(np.isnan(lp), -np.inf, lp), ev

    def column_moments(mu, lp, w_mu):
        """log of each column's mass, the conditional mean and SD of mu, and whether an end
        node of the column still holds density within LOG_DROP of the column's peak."""
        top = np.max(lp, axis=0)
        top_ok = np.where(np.isfinite(top), top, 0.0)
        with np.errstate(divide="ignore"):
            wts = np.exp(lp - top_ok) * w_mu
        mass = wts.sum(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            mean = (wts * mu).sum(axis=0) / mass
            sd = np.sqrt(np.maximum((wts * mu**2).sum(axis=0) / mass - mean**2, 0.0))
            log_mass = np.log(mass) + top
        ends = np.maximum(lp[0], lp[-1]) > top - END_DROP
        return log_mass, mean, sd, ends

    def trapezoid(h, n):
        if fixed:
            return np.ones((1, len(h)))
        w = np.ones((n, len(h))) * h[None, :]
        w[[0, -1]] /= 2.0
        return w

    # coarse passes: the u range, and the conditional mean and SD of mu along it (per group)
    tau_hi = start[2]
    ua, ub = 0.0, min(u_support, (tau_hi / (c + tau_hi)) if prior_tau is not None else 0.0)
    known = [None] * len(liks)
    for _ in range(12):
        if prior_tau is None:
            u = np.zeros(1)
        else:
            u = ua + (ub - ua) * (np.arange(COARSE) + 0.5) / COARSE
        tau = tau_of(u)
        lm = log_prior_tau(tau) + log_jac(u)
        means = []
        for g, lik in enumerate(liks):
            if known[g] is None:
                center, sd = normal_approx(lik, tau)
                sd = np.maximum(sd, 1e-3 * (1.0 + np.abs(center)))
            else:
                center = np.interp(u, known[g][0], known[g][1])
                sd = np.interp(u, known[g][0], known[g][2])
            mu, a, h = columns(center, sd, COARSE_MU, Z_SPAN + 4.0)
            lp, _ = log_post(lik, mu, tau, rule=GH_COARSE)
            log_mass, mean, msd, _ = column_moments(mu, lp, trapezoid(h, COARSE_MU))
            lm = lm + log_mass
            means.append((mean, msd))
        top = np.max(lm)
        if not np.isfinite(top):
            raise BayesmetaError("the posterior could not be evaluated (no finite density)")
        for g, (mean, msd) in enumerate(means):
            good = np.isfinite(lm) & np.isfinite(mean) & (msd > 0)
            if fixed:
                good = np.isfinite(lm)
                mean, msd = np.zeros_like(u), np.ones_like(u)
            known[g] = (u[good], mean[good], msd[good])
        if prior_tau is None:
            break
        keep = np.flatnonzero(lm > top - LOG_DROP)
        if keep[-1] == COARSE - 1 and ub < u_support:
            ub = min(u_support, ub + (1.0 - ub) / 2.0)
            continue
        step = (ub - ua) / COARSE
        nua = ua if keep[0] == 0 else ua + step * (keep[0] - 0.5)
        nub = min(ub, ua + step * (keep[-1] + 1.5))
        done = (nub - nua) > 0.3 * (ub - ua)
        ua, ub = nua, nub
        if done:
            break
    # the final grid
    if prior_tau is None:
        u, w_panel, tau, w_u = np.zeros(1), np.ones(1), np.zeros(1), np.ones(1)
    else:
        u, w_panel = _gl_panels(ua, ub, N_PANELS)
        tau = tau_of(u)
        w_u = w_panel * np.exp(log_jac(u))
    parts = []
    for g, lik in enumerate(liks):
        center = np.interp(u, known[g][0], known[g][1])
        sd = np.interp(u, known[g][0], known[g][2])
        span = Z_SPAN
        for _ in range(4):
            mu, a, h = columns(center, sd, N_MU, span)
            w_mu = trapezoid(h, N_MU)
            lp, ev = log_post(lik, mu, tau, moments=prior_tau is not None)
            *_, ends = column_moments(mu, lp, w_mu)
            clipped = (a <= mu_lo_s) | (a + h * (N_MU - 1) >= mu_hi_s)
            if fixed or not np.any(ends & ~clipped):
                break
            span *= 1.5  # a skewed conditional: its long side reaches beyond the span
        log_mass = column_moments(mu, lp, w_mu)[0]
        parts.append((mu, a, h, w_mu, lp, ev, log_mass))
    total_mass = sum(p[6] for p in parts)
    grids = []
    for mu, a, h, w_mu, lp, ev, log_mass in parts:
        others = total_mass - log_mass if len(parts) > 1 else 0.0
        lp = lp + (log_prior_tau(tau) + others)[None, :]
        log_norm = float(_logsumexp(lp + np.log(w_mu) + np.log(w_u)[None, :]))
        if not math.isfinite(log_norm):
            raise BayesmetaError("the posterior could not be normalised (no finite density)")
        grids.append(
            _Grid(mu, a, h, u, tau, w_mu, w_u, w_panel, lp, ev, log_norm, (ua, ub), log_prior_u)
        )
    return grids, c


def _start(lik: _StudyLikelihood, prior_tau: Prior | None) -> tuple[float, float, float]:
    """Rough centre and spread of mu and an upper end for tau, from the studies' normal
    approximations (DerSimonian-Laird), to start the box search."""
    y, v = lik.center, lik.width**2
    w = 1 / v
    ce = float(w @ y / w.sum())
    q = float(w @ (y - ce) ** 2)
    t2 = max(0.0, (q - (len(y) - 1)) / (w.sum() - (w**2).sum() / w.sum())) if len(y) > 1 else 0.0
    wr = 1 / (v + t2)
    m = float(wr @ y / wr.sum())
    sd = math.sqrt(1 / wr.sum())
    tau_hi = 3.0 * math.sqrt(t2) + 2.0 * float(np.std(y)) + 0.5
    if prior_tau is not None:
        tau_hi = max(tau_hi, float(prior_tau.ppf(0.5)))
    return m, max(sd, 0.05), tau_hi


def _fit(lik, study, prior_mu, prior_tau) -> BinomialPosterior:
    prior_mu = parse_prior(prior_mu)
    if prior_mu.spec.support == "positive":
        raise BayesmetaError(f"the prior for mu must allow negative values, got {prior_mu}")
    tau = None if prior_tau is None else check_scale_prior(parse_prior(prior_tau), "tau")
    grid, c = _posterior(lik, prior_mu, tau, _start(lik, tau))
    return BinomialPosterior(tuple(study), tau is None, grid, c, lik)


def _names(study, k):
    names = (
        tuple(str(s) for s in study)
        if study is not None
        else tuple(f"Study {i + 1}" for i in range(k))
    )
    if len(names) != k:
        raise BayesmetaError(f"need {k} study names, got {len(names)}")
    return names


def binomial_normal_posterior(
    treatment_events,
    treatment_total,
    control_events,
    control_total,
    *,
    prior_mu: Prior | str,
    prior_tau: Prior | str | None,
    prior_baseline: Prior | str = "normal(0, 10)",
    study=None,
) -> BinomialPosterior:
    """Exact posterior of the two-arm binomial-normal model with fixed study baselines.

    ``prior_tau=None`` fits the common-effect model (``tau = 0``). ``prior_baseline`` must be
    normal (it keeps each study's baseline integral log-concave). See the module docstring.
    """
    rt, nt, rc, nc = (
        np.asarray(a, dtype=float).ravel()
        for a in (treatment_events, treatment_total, control_events, control_total)
    )
    if len(rt) < 1:
        raise BayesmetaError("no studies to analyse")
    y0 = np.log((rt + 0.5) * (nc - rc + 0.5) / ((nt - rt + 0.5) * (rc + 0.5)))
    lo, hi = float(y0.min()) - 6.0, float(y0.max()) + 6.0
    lik = _TwoArm(rt, nt, rc, nc, parse_prior(prior_baseline), lo, hi)
    return _fit(lik, _names(study, len(rt)), prior_mu, prior_tau)


def rates_posterior(
    treatment_events,
    treatment_time,
    control_events,
    control_time,
    *,
    prior_mu: Prior | str,
    prior_tau: Prior | str | None,
    prior_baseline: Prior | str = "normal(0, 10)",
    study=None,
) -> BinomialPosterior:
    """Exact posterior of the Poisson-normal rates model with fixed study baselines
    (``log rate_c = a_i``, ``log rate_t = a_i + theta_i``, events Poisson with mean rate x
    person-time; ``prior_tau=None``: common effect). ``theta`` is the log incidence rate
    ratio; the baselines need a normal prior, as in :func:`binomial_normal_posterior`."""
    xt, tt, xc, tc = (
        np.asarray(a, dtype=float).ravel()
        for a in (treatment_events, treatment_time, control_events, control_time)
    )
    if len(xt) < 1:
        raise BayesmetaError("no studies to analyse")
    lik = _rates_likelihood(xt, tt, xc, tc, parse_prior(prior_baseline))
    return _fit(lik, _names(study, len(xt)), prior_mu, prior_tau)


def _rates_likelihood(xt, tt, xc, tc, baseline: Prior) -> _TwoArm:
    y0 = np.log((xt + 0.5) / tt) - np.log((xc + 0.5) / tc)
    return _TwoArm(xt, tt, xc, tc, baseline, y0.min() - 6.0, y0.max() + 6.0, arm="poisson")


def proportion_posterior(
    events, total, *, prior_mu: Prior | str, prior_tau: Prior | str | None, study=None
) -> BinomialPosterior:
    """Exact posterior of the single-arm logit-normal model for proportions
    (``prior_tau=None``: common effect)."""
    r, n = (np.asarray(a, dtype=float).ravel() for a in (events, total))
    if len(r) < 1:
        raise BayesmetaError("no studies to analyse")
    lik = _SingleArm(r, n)
    return _fit(lik, _names(study, len(r)), prior_mu, prior_tau)


def null_posterior(
    lik: _StudyLikelihood, prior_tau: Prior | str | None, study=None
) -> BinomialPosterior:
    """The posterior with ``mu = 0`` fixed (no effect): ``tau`` and the marginal likelihood
    (its ``mu`` is the point mass at 0, not a grid marginal)."""
    tau = None if prior_tau is None else check_scale_prior(parse_prior(prior_tau), "tau")
    grid, c = _posterior(lik, None, tau, _start(lik, tau))
    return BinomialPosterior(_names(study, lik.k), tau is None, grid, c, lik)


def null_log_marginal_likelihood(lik: _StudyLikelihood, prior_tau: Prior | str | None) -> float:
    """``log p(y | mu = 0)`` (``prior_tau`` None: also ``tau = 0``), integrated over ``tau``."""
    return null_posterior(lik, prior_tau).log_marginal_likelihood


def study_likelihood(data, prior_baseline: Prior | str = "normal(0, 10)") -> _StudyLikelihood:
    """Each study's ``g_i`` for two-arm (``TwoArmData``), rates (``RateData``), single-arm
    or mixed counts and reported log odds ratios (``MixedData``)."""
    if hasattr(data, "reported"):  # bayesmeta.io.mixed.MixedData
        counted = data.counts
        counts = study_likelihood(counted, prior_baseline) if counted.k else None
        return _Mixed(counts, data.reported, data.yi, data.vi)
    if hasattr(data, "treatment_time"):
        xt, tt, xc, tc = (
            np.asarray(a, dtype=float)
            for a in (data.treatment_events, data.treatment_time, data.control_events,
                      data.control_time)
        )  # fmt: skip
        return _rates_likelihood(xt, tt, xc, tc, parse_prior(prior_baseline))
    if hasattr(data, "treatment_events"):
        rt, nt, rc, nc = (
            np.asarray(a, dtype=float)
            for a in (data.treatment_events, data.treatment_total, data.control_events,
                      data.control_total)
        )  # fmt: skip
        y0 = np.log((rt + 0.5) * (nc - rc + 0.5) / ((nt - rt + 0.5) * (rc + 0.5)))
        return _TwoArm(rt, nt, rc, nc, parse_prior(prior_baseline), y0.min() - 6, y0.max() + 6)
    return _SingleArm(data.events, data.total)


class _Subset(_StudyLikelihood):
    """The studies ``rows`` of ``lik`` (one subgroup), as a likelihood of its own."""

    def __init__(self, lik: _StudyLikelihood, rows: np.ndarray) -> None:
        self._lik, self._rows = lik, np.asarray(rows, dtype=np.intp)
        self.k = len(self._rows)
        self.center, self.width = lik.center[self._rows], lik.width[self._rows]
        self.regular = lik.regular[self._rows]

    def __call__(self, idx, theta, deriv: bool = True):
        return self._lik(self._rows[idx], theta, deriv)


@dataclass(frozen=True)
class SubgroupPosterior:
    """Exact posterior of subgroups ``theta_i ~ N(mu_g, tau^2)`` (``separate_tau``:
    ``tau_g``): ``groups[level]`` is subgroup ``level``'s :class:`BinomialPosterior` (its
    ``mu`` is ``mu_g``, its ``theta`` its studies' shrunken effects in the order of its
    ``study``); with a shared ``tau`` each holds ``p(mu_g, tau | y)`` and their ``tau`` is the
    one shared posterior. ``log_marginal_likelihood`` is ``log p(y)`` of the whole model."""

    groups: dict[str, BinomialPosterior]
    separate_tau: bool
    log_marginal_likelihood: float

    def mu_draws(self, n: int, seed: int) -> dict[str, np.ndarray]:
        """``n`` exact joint draws of every subgroup's ``mu`` (for their differences):
        independent per subgroup with separate ``tau``; with a shared one, a ``tau`` node by
        its posterior weight, then each ``mu_g`` from its conditional given that ``tau``."""
        rng = np.random.default_rng(seed)
        if self.separate_tau:
            return {lvl: p.mu.ppf(rng.uniform(size=n)) for lvl, p in self.groups.items()}
        first = next(iter(self.groups.values()))
        w = first._weights.sum(axis=0)
        col = rng.choice(len(w), size=n, p=w / w.sum())
        return {lvl: p._conditional_mu(col, rng.uniform(size=n)) for lvl, p in self.groups.items()}


def subgroup_posterior(
    lik: _StudyLikelihood,
    group: np.ndarray,
    levels: tuple[str, ...],
    *,
    prior_mu: Prior | str,
    prior_tau: Prior | str | None,
    separate_tau: bool,
    study=None,
) -> SubgroupPosterior:
    """Exact posterior of subgroups of the studies of ``lik`` (``group``: each study's index
    into ``levels``; ``mu_g`` independent with prior ``prior_mu``). ``separate_tau``: each
    subgroup its own ``tau`` (independent fits, ``log p(y)`` their sum); otherwise one ``tau``
    integrated once, each ``mu_g`` given it (:func:`_shared_posterior`); ``prior_tau`` None:
    the common-effect model (``tau = 0``) in every subgroup."""
    prior_mu = parse_prior(prior_mu)
    if prior_mu.spec.support == "positive":
        raise BayesmetaError(f"the prior for mu must allow negative values, got {prior_mu}")
    tau = None if prior_tau is None else check_scale_prior(parse_prior(prior_tau), "tau")
    names = np.asarray(_names(study, lik.k), dtype=object)
    group = np.asarray(group, dtype=np.intp)
    rows = [np.flatnonzero(group == g) for g in range(len(levels))]
    if any(len(r) == 0 for r in rows):
        empty = [lvl for lvl, r in zip(levels, rows, strict=True) if len(r) == 0]
        raise BayesmetaError(f"subgroup {empty[0]} has no studies")
    subs = [_Subset(lik, r) for r in rows]
    if separate_tau:
        posts = [_fit(sub, names[r], prior_mu, tau) for sub, r in zip(subs, rows, strict=True)]
        lml = float(sum(p.log_marginal_likelihood for p in posts))
    else:
        start = max((_start(sub, tau) for sub in [lik, *subs]), key=lambda s: s[2])
        grids, c = _shared_posterior(subs, prior_mu, tau, start)
        posts = [
            BinomialPosterior(tuple(names[r]), tau is None, grid, c, sub)
            for grid, sub, r in zip(grids, subs, rows, strict=True)
        ]
        lml = grids[0].log_norm
    return SubgroupPosterior(dict(zip(levels, posts, strict=True)), separate_tau, lml)


def grid_log_likelihood(lik: _StudyLikelihood, mu: np.ndarray, tau: np.ndarray) -> np.ndarray:
    """``log p(y | mu, tau) = sum_i log int g_i(theta) N(theta; mu, tau^2) dtheta`` on the
    ``mu x tau`` product grid (shape ``(len(mu), len(tau))``; ``tau = 0`` gives
    ``sum_i log g_i(mu)``). It does not depend on the priors of ``mu`` and ``tau``, so a map of
    the posterior over many priors (:mod:`bayesmeta.workflows.robustness`) computes it once."""
    mu, tau = (np.atleast_1d(np.asarray(a, dtype=float)) for a in (mu, tau))
    return _evaluate(lik, mu, tau, False).loglik
