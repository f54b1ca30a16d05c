"""Exact posterior of the binomial models (two-arm binomial-normal, single-arm proportions) by
quadrature.

Model (as :mod:`bayesmeta.engines.pymc` builds it)::

    two-arm:    r_ci ~ Bin(n_ci, expit a_i),  r_ti ~ Bin(n_ti, expit(a_i + theta_i)),  a_i ~ p(a)
    single-arm: r_i ~ Bin(n_i, expit theta_i)
    theta_i | mu, tau ~ N(mu, tau^2)  (tau = 0: common effect),  mu ~ p(mu),  tau ~ p(tau).

Given ``(mu, tau)`` the studies are independent, so
``p(y | mu, tau) = prod_i int g_i(theta) N(theta; mu, tau^2) dtheta`` with the study likelihood
``g_i(theta) = int Bin(r_ci | expit a) Bin(r_ti | expit(a + theta)) p(a) da`` (two-arm) or
``Bin(r_i | expit theta)`` (single-arm). Each integrand is log-concave (binomial likelihoods in
the logit are log-concave, and so is a normal baseline prior), so every one-dimensional
integral is done the same way (:func:`_log_integral`): Newton steps to the mode, Newton steps
to the two points where the log integrand has fallen by ``DROP`` (so a skewed integrand, as a
zero cell or a double-zero study gives, is covered on its long side), then one Gauss-Legendre
panel on each side of the mode. ``log g_i`` (two-arm) is computed once per study on a uniform
grid whose spacing follows the study's standard error (a study of 10,000 patients gets nodes a
few thousandths apart), with its exact first and second derivatives, and read by cubic Hermite
interpolation (quadratic extrapolation outside the grid, where ``log g_i`` is concave).

``(mu, tau)`` is integrated on a product grid: ``mu`` uniform (trapezoid rule, spectrally
accurate for a density that has decayed at both ends), ``tau`` through
``u = tau / (c + tau)`` (``c`` the prior median, as :mod:`bayesmeta.engines.exact` does) on
composite Gauss-Legendre panels; the box is where the log posterior is within ``LOG_DROP`` of
its maximum, found on coarse grids that widen until the box is inside and narrow until it is
resolved. Marginals of ``mu`` and ``tau`` interpolate the log density between nodes;
``theta_new`` is the mixture of normals over the grid, with the ``mu`` grid refined by
interpolation where ``tau`` is small against its spacing; a shrunken ``theta_i`` has the
density ``g_i(t) sum_m w_m N(t; mu_m, tau_m^2) / h_i(mu_m, tau_m)`` over that grid
(:class:`ShrunkenEffects`). ``docs/reference/exact-binomial.md`` states the accuracy tested.

numpy and scipy only: this module imports no PyMC.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from scipy import special

from bayesmeta.engines.exact import NormalMixture, _Marginal
from bayesmeta.errors import BayesmetaError
from bayesmeta.model.priors import Prior, check_scale_prior, parse_prior

GL_X, GL_W = np.polynomial.legendre.leggauss(16)
PANEL_X, PANEL_W = np.polynomial.legendre.leggauss(8)
DROP = 25.0  # each 1-d integrand is integrated where its log is within this of its maximum
LOG_DROP = 30.0  # the (mu, tau) box: where the log posterior is within this of its maximum
N_MU = 48  # mu nodes of the final grid
N_PANELS = 6  # Gauss-Legendre panels (8 nodes each) in u = tau / (c + tau)
COARSE = 21  # points per side of the box-finding grids
T_POINTS = 321  # points of each shrunken effect's density
FINE = 32  # refinement of the grids the marginal cdfs are read from
MAX_TABLE = 4000  # grid points of one study's log g
CHUNK = 50_000  # (study, mu, tau) triples integrated at a time (memory stays bounded)
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


# --------------------------------------------------------------------------------------------
# one-dimensional log-concave integrals
# --------------------------------------------------------------------------------------------

Fun = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray, np.ndarray]]


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
    log_int = special.logsumexp(log_w, axis=1)
    if moments is None:
        return log_int, None
    w = np.exp(log_w - log_int[:, None])
    return log_int, np.einsum("nq,nqp->np", w, moments(nodes))


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

    def __call__(self, idx: np.ndarray, theta: np.ndarray):
        raise NotImplementedError


class _SingleArm(_StudyLikelihood):
    def __init__(self, events: np.ndarray, total: np.ndarray) -> None:
        self.r, self.n = np.asarray(events, float), np.asarray(total, float)
        self.k = len(self.r)
        self.const = _log_binom(self.n, self.r)
        self.center = np.log((self.r + 0.5) / (self.n - self.r + 0.5))
        self.width = np.sqrt(1.0 / (self.r + 0.5) + 1.0 / (self.n - self.r + 0.5))

    def __call__(self, idx, theta):
        shape = idx.shape + (1,) * (theta.ndim - idx.ndim)
        r, n, c = (a[idx].reshape(shape) for a in (self.r, self.n, self.const))
        f, f1, f2 = _binomial_logit(r, n, theta)
        return f + c, f1, f2


class _TwoArm(_StudyLikelihood):
    """``log g_i`` on a uniform grid per study, read by cubic Hermite interpolation."""

    def __init__(self, rt, nt, rc, nc, baseline: Prior, lo: float, hi: float) -> None:
        if baseline.family != "normal":
            raise BayesmetaError(
                f"the exact engine needs a normal prior for the study baselines, got {baseline}"
                " (use --engine nuts)"
            )
        rt, nt, rc, nc = (np.asarray(a, float) for a in (rt, nt, rc, nc))
        self.k = len(rt)
        self.center = np.log((rt + 0.5) * (nc - rc + 0.5) / ((nt - rt + 0.5) * (rc + 0.5)))
        self.width = np.sqrt(
            1 / (rt + 0.5) + 1 / (nt - rt + 0.5) + 1 / (rc + 0.5) + 1 / (nc - rc + 0.5)
        )
        lo_i = np.minimum(lo, self.center - 10.0 * self.width)
        hi_i = np.maximum(hi, self.center + 10.0 * self.width)
        step = np.maximum(np.minimum(0.05, self.width / 6.0), (hi_i - lo_i) / (MAX_TABLE - 1))
        size = np.ceil((hi_i - lo_i) / step).astype(int) + 1
        self.lo, self.step, self.size = lo_i, step, size
        width = int(size.max())
        grid = lo_i[:, None] + step[:, None] * np.arange(width)
        valid = np.arange(width)[None, :] < size[:, None]
        idx, col = np.nonzero(valid)
        theta = grid[idx, col]
        m, s = baseline.params
        const = _log_binom(nt, rt) + _log_binom(nc, rc) - math.log(s) - _LOG_SQRT_2PI

        def fun(a):
            sh = (len(idx),) + (1,) * (a.ndim - 1)
            th = theta.reshape(sh)
            f_c, d_c, dd_c = _binomial_logit(rc[idx].reshape(sh), nc[idx].reshape(sh), a)
            f_t, d_t, dd_t = _binomial_logit(rt[idx].reshape(sh), nt[idx].reshape(sh), a + th)
            z = (a - m) / s
            return f_c + f_t - 0.5 * z * z, d_c + d_t - z / s, dd_c + dd_t - 1.0 / s**2

        def mom(a):
            sh = (len(idx),) + (1,) * (a.ndim - 1)
            _, d_t, dd_t = _binomial_logit(
                rt[idx].reshape(sh), nt[idx].reshape(sh), a + theta.reshape(sh)
            )
            return np.stack([d_t, d_t * d_t, dd_t], axis=-1)

        a0 = np.log((rc[idx] + 0.5) / (nc[idx] - rc[idx] + 0.5))
        log_g, e = _log_integral(fun, a0, mom)
        f, d1, d2 = (np.zeros((self.k, width)) for _ in range(3))
        f[idx, col], d1[idx, col] = log_g + const[idx], e[:, 0]
        d2[idx, col] = e[:, 1] - e[:, 0] ** 2 + e[:, 2]
        # cubic Hermite on each interval as c0 + c1 s + c2 s^2 + c3 s^3, s in [0, 1]
        hd0, hd1 = step[:, None] * d1[:, :-1], step[:, None] * d1[:, 1:]
        df = f[:, 1:] - f[:, :-1]
        coef = np.stack([f[:, :-1], hd0, 3 * df - 2 * hd0 - hd1, -2 * df + hd0 + hd1])
        self.coef = coef.reshape(4, -1)  # interval j of study i at i * (width - 1) + j
        self.row = (width - 1) * np.arange(self.k)
        last = size - 1
        rows = np.arange(self.k)
        self.ends = np.stack(  # (k, 2 ends, value / slope / curvature)
            [np.stack([a_[rows, 0], a_[rows, last]], axis=1) for a_ in (f, d1, d2)], axis=2
        )

    def __call__(self, idx, theta):
        shape = idx.shape + (1,) * (theta.ndim - idx.ndim)
        lo, h, size, row = (
            a[idx].reshape(shape) for a in (self.lo, self.step, self.size, self.row)
        )
        t = (theta - lo) / h
        j = np.clip(np.floor(t), 0, size - 2)
        s = t - j
        flat = (row + j.astype(np.intp)).ravel()
        c0, c1, c2, c3 = (np.take(self.coef[q], flat).reshape(t.shape) for q in range(4))
        val = c0 + s * (c1 + s * (c2 + s * c3))
        der = (c1 + s * (2.0 * c2 + 3.0 * s * c3)) / h
        sec = (2.0 * c2 + 6.0 * s * c3) / (h * h)
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
            der[out] = de + se * dx
            sec[out] = se
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
        if counts is not None:
            self.center[~self.reported] = counts.center
            self.width[~self.reported] = counts.width

    def __call__(self, idx, theta):
        shape = idx.shape + (1,) * (theta.ndim - idx.ndim)
        y, v = (a[idx].reshape(shape) for a in (self.y, self.v))
        d = y - theta
        val = -0.5 * d * d / v - 0.5 * np.log(v) - _LOG_SQRT_2PI
        der = d / v
        sec = np.broadcast_to(-1.0 / v, val.shape).copy()
        counted = ~self.reported[idx]
        if counted.any():
            assert self.counts is not None
            f, f1, f2 = self.counts(self.position[idx[counted]], theta[counted])
            val[counted], der[counted], sec[counted] = f, f1, f2
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


def _evaluate(lik: _StudyLikelihood, mu: np.ndarray, tau: np.ndarray, moments: bool) -> _Evaluated:
    """Each study's ``log int g_i(theta) N(theta; mu, tau^2) dtheta`` on the ``mu x tau`` grid
    (``tau`` = 0 gives ``log g_i(mu)``), summed over studies; optionally the conditional mean
    and variance of each ``theta_i`` given ``mu, tau, y_i``."""
    J, L, k = len(mu), len(tau), lik.k
    M, T = np.meshgrid(mu, tau, indexing="ij")
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

            def fun(x, ip=ip, mp=mp, tp=tp):
                sh = (len(ip),) + (1,) * (x.ndim - 1)
                f, f1, f2 = lik(ip, x)
                mm, tt = mp.reshape(sh), tp.reshape(sh)
                z = (x - mm) / tt
                return (
                    f - 0.5 * z * z - np.log(tt) - _LOG_SQRT_2PI,
                    f1 - z / tt,
                    f2 - 1.0 / tt**2,
                )

            # start at the normal approximation of g_i combined with N(mu, tau^2)
            c, w = lik.center[ip], lik.width[ip]
            x0 = (c / w**2 + mp / tp**2) / (1 / w**2 + 1 / tp**2)

            def mom(x):
                return np.stack([x, x * x], axis=-1)

            li, e = _log_integral(fun, x0, mom if moments else None)
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
    (``log_density``) on a grid ``FINE`` times finer and integrates it by the trapezoid rule.
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
    ) -> None:
        self._dv_dx = dv_dx
        self.weight = weight / weight.sum()
        self.means = to_x(nodes)
        self.sds = np.zeros_like(self.means)
        self.lower_bounded = lower_bounded
        self._to_x, self._from_x = to_x, from_x
        v = np.linspace(lower, upper, FINE * len(nodes) + 1)
        lp = log_density(v)
        pdf = np.exp(lp - np.max(lp))
        cdf = np.concatenate([[0.0], np.cumsum((pdf[1:] + pdf[:-1]) / 2.0 * np.diff(v))])
        self._v, self._cdf, self._pdf = v, cdf / cdf[-1], pdf / cdf[-1]

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
        inside = (v >= self._v[0]) & (v <= self._v[-1])
        return np.where(inside, np.interp(v, self._v, self._pdf) * self._dv_dx(x), 0.0)


class ShrunkenEffects:
    """The shrunken ``theta_i | y``, one per study: ``[i]`` is study ``i``'s marginal.

    Its density is ``g_i(t) sum_m w_m N(t; mu_m, tau_m^2) / h_i(mu_m, tau_m)`` over the grid
    nodes ``m`` (exact given the grid), read on ``T_POINTS`` points over its mean +- 8 SD
    and integrated by the trapezoid rule; nodes whose ``tau`` is below two steps of that
    grid add their normal (conditional mean and SD) cdf instead, as their conditional is
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
            t = np.linspace(mean[i] - 8 * sd[i], mean[i] + 8 * sd[i], T_POINTS)
            dt = t[1] - t[0]
            narrow = self._tau < 2 * dt
            wide = ~narrow
            lw = log_w[wide] - self._log_h[i, wide] - np.log(self._tau[wide]) - _LOG_SQRT_2PI
            z = (t[:, None] - self._mu[wide]) / self._tau[wide]
            log_g = self._lik(np.full(len(t), i), t)[0]
            log_d = log_g + special.logsumexp(lw - 0.5 * z * z, axis=1)
            dens = np.exp(log_d)
            cdf = np.concatenate([[0.0], np.cumsum((dens[1:] + dens[:-1]) / 2.0 * dt)])
            if narrow.any():
                zn = (t[:, None] - self._cm[i, narrow]) / self._cs[i, narrow]
                cdf = cdf + special.ndtr(zn) @ self._w[narrow]
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
    mu: np.ndarray  # (J,)
    u: np.ndarray  # (L,)
    tau: np.ndarray  # (L,)
    w_mu: np.ndarray
    w_u: np.ndarray  # includes the Jacobian dtau/du
    w_panel: np.ndarray  # the plain Gauss-Legendre weights in u
    log_post: np.ndarray  # (J, L) log p(y | mu, tau) + log p(mu) + log p(tau) (no jacobian)
    evaluated: _Evaluated
    log_norm: float
    mu_range: tuple[float, float]
    u_range: tuple[float, float]


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
        w = self._weights.sum(axis=1)
        # interpolate log p(mu, tau | y) along mu for each tau node (near-quadratic there,
        # unlike the marginal, a mixture over tau), then sum over the tau nodes
        cols = (g.log_post + np.log(g.w_u)[None, :] - g.log_norm).T  # (L, J)

        def log_density(v: np.ndarray) -> np.ndarray:
            return special.logsumexp(_lagrange4(g.mu[0], g.mu[1] - g.mu[0], cols, v), axis=0)

        return GridMarginal(g.mu, w, log_density, *g.mu_range)

    @cached_property
    def tau(self) -> GridMarginal | None:
        """Posterior of the between-study SD (None for the common-effect model)."""
        if self.common_effect:
            return None
        g, c = self._grid, self._c
        w = self._weights.sum(axis=0)
        log_f = np.log(np.maximum(w / g.w_panel, 1e-300)).reshape(N_PANELS, -1)
        edges = np.linspace(*g.u_range, N_PANELS + 1)
        nodes = g.u.reshape(N_PANELS, -1)
        return GridMarginal(
            g.u,
            w,
            lambda v: _panel_interpolate(edges, nodes, log_f, v),
            *g.u_range,
            to_x=lambda u: c * u / (1.0 - u),
            from_x=lambda t: np.clip(t / (c + t), 0.0, 1.0),
            lower_bounded=True,
            dv_dx=lambda t: c / (c + t) ** 2,
        )

    @cached_property
    def _weights(self) -> np.ndarray:
        g = self._grid
        lw = g.log_post + np.log(g.w_mu)[:, None] + np.log(g.w_u)[None, :]
        return np.exp(lw - g.log_norm)

    @cached_property
    def _components(self) -> tuple[np.ndarray, ...]:
        """Flattened (weight, mu, tau, cond mean (k, n), cond sd (k, n), log h (k, n)) with
        the mu grid refined where tau is small against its spacing."""
        g = self._grid
        ev = g.evaluated
        delta = g.mu[1] - g.mu[0]
        parts = []
        for col in range(len(g.tau)):
            t = g.tau[col]
            r = int(min(32, max(1, math.ceil(3.0 * delta / t)))) if t > 0 else 1
            if r == 1:
                mu, lp = g.mu, g.log_post[:, col]
                w = g.w_mu
                cm, cv = ev.cond_mean[:, :, col], ev.cond_var[:, :, col]
                lh = ev.log_h[:, :, col]
            else:
                mu = np.linspace(g.mu[0], g.mu[-1], (len(g.mu) - 1) * r + 1)
                lp = _lagrange4(g.mu[0], delta, g.log_post[:, col], mu)
                w = np.full(len(mu), delta / r)
                w[[0, -1]] /= 2.0
                cm = _lagrange4(g.mu[0], delta, ev.cond_mean[:, :, col], mu)
                cv = np.maximum(_lagrange4(g.mu[0], delta, ev.cond_var[:, :, col], mu), 1e-300)
                lh = _lagrange4(g.mu[0], delta, ev.log_h[:, :, col], mu)
            lw = lp + np.log(w) + np.log(g.w_u[col])
            parts.append((lw, mu, np.full(len(mu), t), cm, np.sqrt(cv), lh))
        lw = np.concatenate([p[0] for p in parts])
        weight = np.exp(lw - special.logsumexp(lw))
        keep = weight > 1e-16
        return (
            weight[keep] / weight[keep].sum(),
            np.concatenate([p[1] for p in parts])[keep],
            np.concatenate([p[2] for p in parts])[keep],
            np.concatenate([p[3] for p in parts], axis=1)[:, keep],
            np.concatenate([p[4] for p in parts], axis=1)[:, keep],
            np.concatenate([p[5] for p in parts], axis=1)[:, keep],
        )

    @cached_property
    def theta_new(self) -> NormalMixture | GridMarginal:
        """Predictive distribution of the effect in a new study."""
        if self.common_effect:
            return self.mu
        w, mu, tau = self._components[:3]
        return NormalMixture(w, mu, tau)

    @cached_property
    def theta(self) -> ShrunkenEffects | None:
        """Shrunken study effects (None for the common-effect model, where each is ``mu``)."""
        if self.common_effect:
            return None
        return ShrunkenEffects(self._lik, *self._components)

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
    """The (mu, tau) grid over the box holding the posterior, and the scale ``c`` of u
    (``prior_mu`` None: ``mu`` fixed at 0)."""
    mu_center, mu_sd, tau_hi = start
    fixed = prior_mu is None  # mu = 0 (the null hypothesis of no effect)
    mu_lo_s, mu_hi_s = (0.0, 0.0) if fixed else prior_mu.support
    if prior_tau is None:
        c, u_support = 1.0, 0.0
    else:
        with np.errstate(over="ignore"):
            c = float(prior_tau.ppf(0.5))
        hi_t = prior_tau.support[1]
        u_support = 1.0 if math.isinf(hi_t) else hi_t / (c + hi_t)

    def log_post(mu, tau, moments=False):
        ev = _evaluate(lik, mu, tau, moments)
        with np.errstate(divide="ignore"):
            lp = ev.loglik + (0.0 if fixed else prior_mu.logpdf(mu)[:, None])
            if prior_tau is not None:
                lp = lp + prior_tau.logpdf(tau)[None, :]
        return np.where(np.isnan(lp), -np.inf, lp), ev

    def tau_of(u):
        return c * u / (1.0 - u)

    def log_jac(u):
        return math.log(c) - 2.0 * np.log1p(-u)

    a, b = max(mu_center - 8 * mu_sd, mu_lo_s), min(mu_center + 8 * mu_sd, mu_hi_s)
    ua, ub = 0.0, min(u_support, (tau_hi / (c + tau_hi)) if prior_tau is not None else 0.0)
    if fixed:
        a = b = 0.0
    for _ in range(12):
        mu = np.zeros(1) if fixed else np.linspace(a, b, COARSE)
        if prior_tau is None:
            u = np.zeros(1)
            lp, _ = log_post(mu, np.zeros(1))
        else:
            u = ua + (ub - ua) * (np.arange(COARSE) + 0.5) / COARSE
            lp, _ = log_post(mu, tau_of(u))
            lp = lp + log_jac(u)[None, :]
        top = np.max(lp)
        if not np.isfinite(top):
            raise BayesmetaError("the posterior could not be evaluated (no finite density)")
        keep = lp > top - LOG_DROP
        rows, cols = np.flatnonzero(keep.any(axis=1)), np.flatnonzero(keep.any(axis=0))
        grow = False
        width = b - a
        if fixed:
            rows = np.array([1, COARSE - 2])  # nothing to widen or narrow in mu
        if rows[0] == 0 and a > mu_lo_s:
            a, grow = max(a - width, mu_lo_s), True
        if rows[-1] == COARSE - 1 and b < mu_hi_s:
            b, grow = min(b + width, mu_hi_s), True
        if prior_tau is not None and cols[-1] == COARSE - 1 and ub < u_support:
            ub, grow = min(u_support, ub + (1.0 - ub) / 2.0), True
        if grow:
            continue
        if fixed:
            na = nb = 0.0
            done = True
        else:
            na = mu[max(rows[0] - 1, 0)]
            nb = mu[min(rows[-1] + 1, COARSE - 1)]
            done = (nb - na) > 0.3 * width
        if prior_tau is not None:
            step = (ub - ua) / COARSE
            nua = ua if cols[0] == 0 else ua + step * (cols[0] - 0.5)
            nub = min(ub, ua + step * (cols[-1] + 1.5))
            done = done and (nub - nua) > 0.3 * (ub - ua)
            ua, ub = nua, nub
        a, b = na, nb
        if done:
            break
    if fixed:
        mu, w_mu = np.zeros(1), np.ones(1)
    else:
        mu = np.linspace(a, b, N_MU)
        w_mu = np.full(N_MU, (b - a) / (N_MU - 1))
        w_mu[[0, -1]] /= 2.0
    if prior_tau is None:
        u, w_panel, tau, w_u = np.zeros(1), np.ones(1), np.zeros(1), np.ones(1)
    else:
        u, w_panel = _gl_panels(ua, ub, N_PANELS)
        tau = tau_of(u)
        w_u = w_panel * np.exp(log_jac(u))
    lp, ev = log_post(mu, tau, moments=prior_tau is not None)
    log_norm = float(special.logsumexp(lp + np.log(w_mu)[:, None] + np.log(w_u)[None, :]))
    if not math.isfinite(log_norm):
        raise BayesmetaError("the posterior could not be normalised (no finite density)")
    return _Grid(mu, u, tau, w_mu, w_u, w_panel, lp, ev, log_norm, (a, b), (ua, ub)), c


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
    """Each study's ``g_i`` for two-arm (``TwoArmData``), single-arm or mixed counts and
    reported log odds ratios (``MixedData``)."""
    if hasattr(data, "reported"):  # bayesmeta.io.mixed.MixedData
        counted = data.counts
        counts = study_likelihood(counted, prior_baseline) if counted.k else None
        return _Mixed(counts, data.reported, data.yi, data.vi)
    if hasattr(data, "treatment_events"):
        rt, nt, rc, nc = (
            np.asarray(a, dtype=float)
            for a in (data.treatment_events, data.treatment_total, data.control_events,
                      data.control_total)
        )  # fmt: skip
        y0 = np.log((rt + 0.5) * (nc - rc + 0.5) / ((nt - rt + 0.5) * (rc + 0.5)))
        return _TwoArm(rt, nt, rc, nc, parse_prior(prior_baseline), y0.min() - 6, y0.max() + 6)
    return _SingleArm(data.events, data.total)


def grid_log_likelihood(lik: _StudyLikelihood, mu: np.ndarray, tau: np.ndarray) -> np.ndarray:
    """``log p(y | mu, tau) = sum_i log int g_i(theta) N(theta; mu, tau^2) dtheta`` on the
    ``mu x tau`` product grid (shape ``(len(mu), len(tau))``; ``tau = 0`` gives
    ``sum_i log g_i(mu)``). It does not depend on the priors of ``mu`` and ``tau``, so a map of
    the posterior over many priors (:mod:`bayesmeta.workflows.robustness`) computes it once."""
    mu, tau = (np.atleast_1d(np.asarray(a, dtype=float)) for a in (mu, tau))
    return _evaluate(lik, mu, tau, False).loglik
