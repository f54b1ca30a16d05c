"""Marginal likelihoods and posteriors of the publication-bias models by quadrature.

Each model of :mod:`bayesmeta.model.bias` has up to five parameters: ``mu``, ``tau``, and
either one PET/PEESE coefficient or up to three free weights. Each is written as its prior's
quantile of a standard normal coordinate (``theta = F^-1(Phi(z))``; the weights' Dirichlet by
stick-breaking with Beta quantiles), so the prior is N(0, I) in ``z`` and no tail of the
posterior is heavier than a Gaussian's. The coordinates are whitened by the posterior mode and
the Cholesky factor ``L`` of the inverse Hessian there, ``z = mode + L u``, and integrated by
the trapezoidal rule on the lattice ``u in h Z^d`` (:data:`STEP` by dimension) inside an
ellipsoid reaching, along each whitened axis and on each side, as far as the log density takes
to fall ``R^2 / 2 + 2`` below its maximum (at least ``R``, the radius holding all but 1e-10 of
a standard normal); for an analytic integrand that rule converges exponentially as ``h``
shrinks (Trefethen & Weideman 2014, SIAM Rev 56:385). A second lattice shifted by ``h / 2``
gives the error estimate: the two are averaged, their difference plus the mass near the
region's edge is ``log_ml_error``. For a weight function the normal terms and interval
probabilities depend on (``mu``, ``tau``) only and are computed once per distinct pair.

The likelihood of study ``i`` under a weight function ``omega`` on the p-value intervals
cut at ``steps`` (one-sided p of ``y / se`` in the expected direction, or two-sided) is
RoBMA's weighted normal: ``omega_j(i) phi(y_i; m_i, s_i) / sum_j omega_j P_ij`` with
``m_i = mu`` (+ ``b se_i`` PET, + ``b se_i^2`` PEESE), ``s_i^2 = se_i^2 + tau^2`` and ``P_ij`` the
probability of interval ``j`` under ``N(m_i, s_i^2)`` (Hedges 1992, Stat Sci 7:246;
Vevea & Hedges 1995, Psychometrika 60:419).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import linalg, optimize, special

from bayesmeta.model.bias import BiasComponent, BiasPriors
from bayesmeta.model.priors import Prior

STEP = {0: 1.0, 1: 0.2, 2: 0.3, 3: 0.6, 4: 1.0, 5: 1.1}  # lattice step h by dimension
MAX_NODES = 150_000  # per lattice
PRUNE = 1e-10  # posterior nodes kept: weight above this fraction of the largest
_CHUNK = 20000  # nodes evaluated at once (memory: nodes x studies x intervals)
_LOG_2PI = math.log(2.0 * math.pi)


@dataclass(frozen=True)
class BiasModel:
    """One model of the ensemble: effect or not, random or common effect, a bias component."""

    effect: bool
    random: bool
    bias: BiasComponent

    @property
    def name(self) -> str:
        """``effect/random/PET``-style label."""
        return "/".join(
            (
                "effect" if self.effect else "null",
                "random" if self.random else "common",
                self.bias.name,
            )
        )

    @property
    def dim(self) -> int:
        """Number of free parameters."""
        return int(self.effect) + int(self.random) + self.bias.n_params


@dataclass(frozen=True)
class WeightedNodes:
    """Quadrature nodes of one model's posterior: parameter values by name, normalised weights."""

    values: dict[str, np.ndarray]
    weights: np.ndarray

    def mean(self, name: str) -> float:
        """Posterior mean of parameter ``name``."""
        return float(np.dot(self.weights, self.values[name]))


@dataclass(frozen=True)
class ModelFit:
    """One model's log marginal likelihood (with its estimated quadrature error), posterior
    nodes, and the posterior density of ``mu`` on a lattice line (None without ``mu``)."""

    model: BiasModel
    log_ml: float
    log_ml_error: float
    nodes: WeightedNodes
    mu_grid: np.ndarray | None
    mu_density: np.ndarray | None
    n_nodes: int


def _interval_index(t: np.ndarray, crit: np.ndarray, two: bool) -> np.ndarray:
    """Index (0 = least significant) of each study's interval of ``t = y / se``."""
    x = np.abs(t) if two else t
    return np.searchsorted(crit, x, side="right")


def _crit_t(component: BiasComponent) -> np.ndarray:
    """Cut points on ``t = y / se``, increasing (least to most significant)."""
    p = np.asarray(component.steps, dtype=float)
    if component.sides == "two":
        p = p / 2.0
    return np.sort(-special.ndtri(p))


class _Posterior:
    """The log posterior density of one model in unconstrained coordinates, vectorised over
    rows of ``z`` (n x dim)."""

    def __init__(
        self, model: BiasModel, y: np.ndarray, se: np.ndarray, priors: BiasPriors, sign: float
    ):
        self.model, self.y, self.se, self.priors, self.sign = model, y, se, priors, sign
        names: list[str] = []
        if model.effect:
            names.append("mu")
        if model.random:
            names.append("tau")
        comp = model.bias
        if comp.kind in ("pet", "peese"):
            names.append(comp.kind)
        elif comp.kind == "weightfunction":
            names += [f"x{j}" for j in range(comp.n_omega)]
            self.crit = _crit_t(comp)[None, :] * se[:, None]  # k x (J-1)
            self.observed = _interval_index(y / se, _crit_t(comp), comp.sides == "two")
        self.names = names

    def params(self, z: np.ndarray) -> dict[str, np.ndarray]:
        """Parameter values (``mu``, ``tau``, ``pet``/``peese``, ``omega`` n x J) at ``z``."""
        n = z.shape[0]
        col = {name: z[:, i] for i, name in enumerate(self.names)}
        pri = self.priors
        out: dict[str, np.ndarray] = {
            "mu": _from_normal(pri.mu, col["mu"]) if "mu" in col else np.zeros(n),
            "tau": _from_normal(pri.tau, col["tau"]) if "tau" in col else np.zeros(n),
        }
        comp = self.model.bias
        if comp.kind in ("pet", "peese"):
            out[comp.kind] = _from_normal(
                pri.pet if comp.kind == "pet" else pri.peese, col[comp.kind]
            )
        elif comp.kind == "weightfunction":
            out["omega"] = self.omega(z[:, len(self.names) - comp.n_omega :])
        return out

    def omega(self, zw: np.ndarray) -> np.ndarray:
        """The weights (n x J, least to most significant, the last 1) at coordinates ``zw``.

        Dirichlet(1, ..., 1) by stick-breaking: ``eta_j = V_j prod_{l<j} (1 - V_l)`` with
        ``V_j ~ Beta(1, J - j)``, ``1 - V_j = Phi(-z_j)^(1 / (J - j))``; ``omega`` its
        cumulative sums."""
        n, n_free = zw.shape
        n_eta = n_free + 1
        left = np.ones(n)
        eta = np.empty((n, n_eta))
        for j in range(n_free):
            rest = np.exp(special.log_ndtr(-zw[:, j]) / (n_eta - 1 - j))  # 1 - V_j
            eta[:, j] = left * (1.0 - rest)
            left = left * rest
        eta[:, -1] = left
        return np.minimum(np.cumsum(eta, axis=1), 1.0)

    def log_prior(self, z: np.ndarray) -> np.ndarray:
        """Log prior density of ``z``: standard normal (every parameter is its prior's
        quantile of ``Phi(z)``)."""
        return -0.5 * np.sum(z**2, axis=1) - 0.5 * z.shape[1] * _LOG_2PI

    def log_likelihood(self, par: dict[str, np.ndarray]) -> np.ndarray:
        """Log likelihood of the studies at each row of parameters."""
        mean, var = self._normal_terms(par)
        ll = np.sum(-0.5 * (_LOG_2PI + np.log(var) + (self.y - mean) ** 2 / var), axis=1)
        if self.model.bias.kind != "weightfunction":
            return ll
        omega = par["omega"]  # n x J, increasing, omega[:, -1] = 1
        norm = np.einsum("nkj,nj->nk", self._interval_probabilities(mean, var), omega)
        return ll + np.sum(np.log(omega[:, self.observed]), axis=1) - np.sum(np.log(norm), axis=1)

    def _normal_terms(self, par: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Mean and variance (n x k) of each study's effect."""
        y, se = self.y, self.se
        mean = self.sign * par["mu"][:, None] + np.zeros_like(y)[None, :]
        kind = self.model.bias.kind
        if kind == "pet":
            mean = mean + par["pet"][:, None] * se[None, :]
        elif kind == "peese":
            mean = mean + par["peese"][:, None] * (se**2)[None, :]
        return mean, se[None, :] ** 2 + par["tau"][:, None] ** 2

    def _interval_probabilities(self, mean: np.ndarray, var: np.ndarray) -> np.ndarray:
        """P(study i's t falls in interval j) under N(mean, var): n x k x J."""
        c = self.crit[None, :, :]  # 1 x k x (J-1)
        m, s = mean[:, :, None], np.sqrt(var)[:, :, None]
        below = special.ndtr((c - m) / s)  # P(Y < c_j)
        if self.model.bias.sides == "two":  # P(|Y| < c_j)
            below = below - special.ndtr((-c - m) / s)
        cdf = np.concatenate([np.zeros_like(m), below, np.ones_like(m)], axis=2)
        return np.diff(cdf, axis=2)

    def weighted(self, base: np.ndarray, inverse: np.ndarray, zw: np.ndarray) -> np.ndarray:
        """Log posterior of a weight-function model at ``(base[inverse], zw)``: ``base``
        holds the distinct (mu, tau) coordinates, ``zw`` the weights' log-ratios."""
        n_base = base.shape[0]
        zb = np.column_stack([base[inverse], zw]) if base.shape[1] else zw
        par_b = self.params(np.column_stack([base, np.zeros((n_base, zw.shape[1]))]))
        mean, var = self._normal_terms(par_b)
        with np.errstate(divide="ignore", invalid="ignore"):
            normal = np.sum(-0.5 * (_LOG_2PI + np.log(var) + (self.y - mean) ** 2 / var), axis=1)
            prob = self._interval_probabilities(mean, var)
            omega = self.omega(zw)
            counts = np.bincount(self.observed, minlength=self.model.bias.n_omega + 1)
            out = self.log_prior(zb) + normal[inverse] + np.log(omega) @ counts
            for i in range(0, len(zb), _CHUNK):
                sl = slice(i, i + _CHUNK)
                norm = np.einsum("nkj,nj->nk", prob[inverse[sl]], omega[sl])
                out[sl] -= np.sum(np.log(norm), axis=1)
        return np.where(np.isfinite(out), out, -np.inf)

    def __call__(self, z: np.ndarray) -> np.ndarray:
        par = self.params(z)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = self.log_prior(z) + self.log_likelihood(par)
        return np.where(np.isfinite(out), out, -np.inf)


def _from_normal(prior: Prior, z: np.ndarray) -> np.ndarray:
    """The ``Phi(z)`` quantile of ``prior`` (exact for a normal prior; computed from the
    nearer tail otherwise)."""
    if prior.family == "normal":
        return prior.params[0] + prior.params[1] * z
    zc = np.clip(z, -37.0, 37.0)
    lower = prior.ppf(special.ndtr(np.minimum(zc, 0.0)))
    upper = prior.ppf(-np.expm1(special.log_ndtr(-np.maximum(zc, 0.0))))
    return np.where(zc <= 0.0, lower, upper)


def _start(post: _Posterior) -> np.ndarray:
    """A starting point: the inverse-variance mean, tau 0.1 + the spread, b = 0.5, the
    weights' prior median; as prior quantiles."""
    y, se, pri = post.y, post.se, post.priors
    w = 1.0 / se**2
    values = {
        "mu": (pri.mu, post.sign * float(np.sum(w * y) / np.sum(w))),
        "tau": (pri.tau, 0.1 + float(np.std(y))),
        "pet": (pri.pet, 0.5),
        "peese": (pri.peese, 0.5),
    }
    z = []
    for name in post.names:
        if name in values:
            prior, v = values[name]
            z.append(float(special.ndtri(np.clip(prior.cdf(v), 1e-6, 1 - 1e-6))))
        else:
            z.append(0.0)
    return np.array(z)


def _hessian(f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, h: float = 1e-3) -> np.ndarray:
    """Central-difference Hessian of a vectorised ``f`` at ``x``, one batch of evaluations."""
    d = x.size
    eye = np.eye(d) * h
    pts = [x]
    for i in range(d):
        for j in range(i, d):
            for si, sj in ((1, 1), (1, -1), (-1, 1), (-1, -1)):
                pts.append(x + si * eye[i] + sj * eye[j])
    vals = f(np.array(pts))
    hess = np.empty((d, d))
    k = 1
    for i in range(d):
        for j in range(i, d):
            pp, pm, mp, mm = vals[k : k + 4]
            k += 4
            hess[i, j] = hess[j, i] = (pp - pm - mp + mm) / (4 * h * h)
    return hess


def _ball(step: float, shift: float, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Lattice points ``u = step (k + shift)`` (``k`` integer) inside the ellipsoid with
    semi-axes ``low`` below and ``high`` above 0 on each axis, by increasing ellipsoid norm."""
    grid = np.zeros((1, 0))
    norm = np.zeros(1)
    for lo, hi in zip(low, high, strict=True):  # grow one axis at a time, pruning as we go
        ks = np.arange(-math.ceil(lo / step) - 1, math.ceil(hi / step) + 2)
        axis = (ks + shift) * step
        scaled = np.where(axis < 0, axis / lo, axis / hi) ** 2
        keep = scaled <= 1.0
        axis, scaled = axis[keep], scaled[keep]
        grid = np.column_stack([np.repeat(grid, axis.size, axis=0), np.tile(axis, len(grid))])
        norm = np.repeat(norm, axis.size) + np.tile(scaled, len(norm))
        inside = norm <= 1.0
        grid, norm = grid[inside], norm[inside]
    order = np.argsort(norm, kind="stable")
    return grid[order], norm[order]


def _lattice(nb: int, step: float, shift: float, low: np.ndarray, high: np.ndarray):
    """The region's lattice as (base points, base index of each node, nodes): the first
    ``nb`` coordinates (mu, tau) of each node are ``base[index]``."""
    base, base_norm = _ball(step, shift, low[:nb], high[:nb])
    rest, rest_norm = _ball(step, shift, low[nb:], high[nb:])
    counts = np.searchsorted(rest_norm, 1.0 - base_norm, side="right")
    index = np.repeat(np.arange(len(base)), counts)
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    inner = np.arange(index.size) - starts
    return base, index, np.column_stack([base[index], rest[inner]])


def _reach(post: _Posterior, mode: np.ndarray, chol: np.ndarray, radius: float):
    """How far (in whitened units, at least ``radius``) the posterior reaches from the mode
    below and above along each whitened axis: where its log density first falls
    ``radius^2 / 2 + 2`` below the mode's (a skewed posterior reaches further than its
    curvature at the mode says: a prior plateau beside a sharp likelihood edge)."""
    d = mode.size
    ts = radius * np.array([1.0, 1.25, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.5, 8.0])
    drop = 0.5 * radius**2 + 2.0
    top = float(post(mode[None, :])[0])
    low, high = np.empty(d), np.empty(d)
    for j in range(d):
        for sign, out in ((-1.0, low), (1.0, high)):
            u = np.zeros((ts.size, d))
            u[:, j] = sign * ts
            vals = post(mode[None, :] + u @ chol.T)
            fallen = np.nonzero(vals < top - drop)[0]
            out[j] = ts[fallen[0]] if fallen.size else ts[-1]
    return low, high


def _scaled_norm(u: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Squared ellipsoid norm of the rows of ``u``."""
    return np.sum(np.where(u < 0, u / low, u / high) ** 2, axis=1)


def _base_nodes(dim: int) -> float:
    """Nodes of one lattice of step STEP[dim] in the ball of _radius(dim)."""
    r = _radius(dim) / STEP[dim]
    return math.pi ** (dim / 2) / math.gamma(dim / 2 + 1) * r**dim


def _radius(dim: int) -> float:
    """The ball holding all but 1e-10 of a standard normal's mass in ``dim`` dimensions."""
    from scipy import stats

    return float(math.sqrt(stats.chi2.isf(1e-10, dim)))


def _log_density(
    post: _Posterior, z: np.ndarray, zbase: np.ndarray, index: np.ndarray
) -> np.ndarray:
    """``post`` at the rows of ``z``; for a weight function the normal terms and interval
    probabilities, which depend on ``mu`` and ``tau`` only, once per base point ``zbase``
    (``z[:, :nb] == zbase[index]``)."""
    if post.model.bias.kind != "weightfunction":
        return np.concatenate([post(z[i : i + _CHUNK]) for i in range(0, len(z), _CHUNK)])
    return post.weighted(zbase, index, z[:, zbase.shape[1] :])


def fit_model(
    model: BiasModel, y: np.ndarray, se: np.ndarray, priors: BiasPriors, sign: float = 1.0
) -> ModelFit:
    """Marginal likelihood and posterior of ``model`` on ``y, se`` (see the module docstring).

    ``y`` is in the expected direction of the effect (negated, with ``sign = -1``, for a
    negative direction, as RoBMA does); ``mu`` stays on the scale of the data: the mean of
    study ``i`` is ``sign mu`` (+ the PET/PEESE term).
    """
    post = _Posterior(model, y, se, priors, sign)
    d = len(post.names)
    if d == 0:
        par = post.params(np.zeros((1, 0)))
        log_ml = float(post.log_likelihood(par)[0])
        return ModelFit(model, log_ml, 0.0, WeightedNodes(par, np.ones(1)), None, None, 1)

    def objective(x: np.ndarray) -> float:
        v = float(post(x[None, :])[0])
        return -v if math.isfinite(v) else 1e300

    mode = optimize.minimize(objective, _start(post), method="BFGS", options={"gtol": 1e-8}).x
    hess = -_hessian(post, mode)
    vals, vecs = np.linalg.eigh(0.5 * (hess + hess.T))
    vals = np.maximum(vals, 1e-8 * max(float(vals.max()), 1e-8))
    chol = linalg.cholesky((vecs / vals) @ vecs.T, lower=True)
    log_det = float(np.sum(np.log(np.diag(chol))))
    step = STEP[d]
    nb = int(model.effect) + int(model.random) if model.bias.kind == "weightfunction" else 0
    low, high = _reach(post, mode, chol, _radius(d))
    # a wide reach would multiply the nodes: widen the step instead, beyond MAX_NODES
    volume = float(np.prod((low + high) / (2.0 * _radius(d))))
    step *= max(1.0, volume * _base_nodes(d) / MAX_NODES) ** (1.0 / d)
    parts = []
    for shift in (0.0, 0.5):
        ubase, index, u = _lattice(nb, step, shift, low, high)
        z = mode[None, :] + u @ chol.T
        zbase = mode[None, :nb] + ubase @ chol[:nb, :nb].T
        parts.append((u, z, _log_density(post, z, zbase, index)))
    top = max(float(np.max(p[2])) for p in parts)
    f = [np.exp(p[2] - top) for p in parts]
    sums = [float(np.sum(x)) for x in f]
    log_scale = top + d * math.log(step) + log_det
    log_ml = math.log(0.5 * (sums[0] + sums[1])) + log_scale
    # the two lattices' difference, plus the mass near the region's edge (what lies beyond
    # it is of that order)
    edge = sum(
        float(np.sum(x[_scaled_norm(p[0], low, high) > 0.8])) for x, p in zip(f, parts, strict=True)
    ) / sum(sums)
    log_ml_error = abs(math.log(sums[0] / sums[1])) + edge
    weights = np.concatenate(f) / (sums[0] + sums[1])
    keep = weights > PRUNE * weights.max()  # nodes that cannot move a summary
    u = np.concatenate([p[0] for p in parts])[keep]
    z = np.concatenate([p[1] for p in parts])[keep]
    weights = weights[keep] / np.sum(weights[keep])
    values = post.params(z)
    mu_grid = mu_density = None
    if model.effect:
        # mu = mode_0 + L_00 u_0: the two lattices' lines of constant u_0, interleaved
        line = np.rint(u[:, 0] / (0.5 * step)).astype(int)
        ks = np.arange(line.min(), line.max() + 1)
        mass = np.bincount(line - line.min(), weights=weights, minlength=ks.size)
        width = 0.5 * step * chol[0, 0]
        z0 = mode[0] + ks * width
        mu_grid = _from_normal(priors.mu, z0)
        # density of z_0 over dmu/dz_0 = phi(z_0) / prior(mu)
        log_phi = -0.5 * (z0**2 + _LOG_2PI)
        mu_density = mass / width * np.exp(priors.mu.logpdf(mu_grid) - log_phi)
    return ModelFit(
        model, log_ml, log_ml_error, WeightedNodes(values, weights), mu_grid, mu_density, len(z)
    )
