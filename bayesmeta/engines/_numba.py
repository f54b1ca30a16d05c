"""numba kernels behind :mod:`bayesmeta.engines.kernels`: log density, gradient and expansion.

Each ``logp_*`` function has nutpie's C signature ``(dim, x, grad, logp, user_data) -> code``
and each ``expand_*`` function ``(dim, n_expanded, x, out, user_data) -> code``;
:mod:`bayesmeta.engines.kernels` wraps them with ``numba.cfunc(..., cache=True)``. ``user_data``
points to a float64 array laid out as :meth:`~bayesmeta.engines.kernel_model.KernelModel.user_data`
writes it.

Models (all non-centred, as in :mod:`bayesmeta.engines.pymc`): with ``theta = mu + tau * z``,

- binomial-normal: ``y_c ~ Bin(n_c, logit^-1(alpha))``, ``y_t ~ Bin(n_t, logit^-1(alpha +
  theta))``;
- proportion: ``y ~ Bin(n, logit^-1(theta))``;

``z, z_new ~ N(0, 1)``; priors on ``mu``, ``tau`` and ``alpha`` by the family codes of the
prior registry (``Family.code`` in :mod:`bayesmeta.model.priors`); common-effect variants have
``theta = mu``. Log densities are normalised (binomial coefficients included) so they equal
PyMC's ``model.logp()``.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from bayesmeta.engines.kernel_model import H_BASE, H_CONST, H_MU, H_TAU, HEADER

LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
LOG2 = math.log(2.0)
LOGPI = math.log(math.pi)

# Helpers are compiled into the C callbacks, which bayesmeta.engines.kernels caches on disk with
# all they call; they are not cached on their own.
jit = numba.njit(fastmath=False, error_model="numpy")


@jit
def log_sigmoid(x):
    """log(1 / (1 + exp(-x))) without overflow."""
    if x >= 0:
        return -math.log1p(math.exp(-x))
    return x - math.log1p(math.exp(x))


@jit
def sigmoid(x):
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


@jit
def logistic_parts(x):
    """``log_sigmoid(x)``, ``log_sigmoid(-x)`` and ``sigmoid(x)`` from one ``exp`` and one
    ``log1p``: all three use ``e = exp(-|x|)`` and ``log1p(e)``, so the values are those of
    the three functions above, bit for bit, at a third of the cost."""
    if x >= 0:
        e = math.exp(-x)
        l1p = math.log1p(e)
        return -l1p, -x - l1p, 1.0 / (1.0 + e)
    e = math.exp(x)
    l1p = math.log1p(e)
    return x - l1p, -l1p, e / (1.0 + e)


@jit
def untransform(tr, p0, p1, u):
    """Constrained value, log Jacobian, dx/du and d(log Jacobian)/du of PyMC's transforms:
    identity (0), log (1) and interval (2, bounds p0 < p1)."""
    return untransform_k(tr, p0, p1, u, transform_const(tr, p0, p1))


@jit
def transform_const(tr, p0, p1):
    """The part of :func:`untransform_k` that does not depend on ``u``."""
    if tr == 2:
        return math.log(p1 - p0)
    return 0.0


@jit
def untransform_k(tr, p0, p1, u, k):
    """:func:`untransform` given ``k = transform_const(tr, p0, p1)``."""
    if tr == 1:
        x = math.exp(u)
        return x, u, x, 1.0
    if tr == 2:
        ls_u, ls_minus_u, s = logistic_parts(u)
        width = p1 - p0
        return (
            p0 + width * s,
            k + ls_u + ls_minus_u,
            width * s * (1.0 - s),
            1.0 - 2.0 * s,
        )
    return u, 0.0, 1.0, 0.0


@jit
def prior_logp(fam, p0, p1, x):
    """Log density and its derivative in ``x`` of the prior family ``fam`` (codes in
    ``Family.code`` in :mod:`bayesmeta.model.priors`), for ``x`` inside the support."""
    return prior_logp_k(fam, p0, p1, x, prior_const(fam, p0, p1))


@jit
def prior_const(fam, p0, p1):
    """The leading part of each family's log density that does not depend on ``x``, computed
    once per evaluation rather than once per study (:func:`prior_logp_k` adds the rest in the
    same order, so the sums are unchanged)."""
    if fam == 0 or fam == 6:  # normal, lognormal: log(sigma)
        return math.log(p1)
    if fam == 1:  # half-normal
        return LOG2 - LOG_SQRT_2PI - math.log(p0)
    if fam == 2:  # half-cauchy
        return LOG2 - LOGPI - math.log(p0)
    if fam == 3:  # half-student-t(nu, sigma)
        nu, s = p0, p1
        return (
            LOG2
            + math.lgamma(0.5 * (nu + 1.0))
            - math.lgamma(0.5 * nu)
            - 0.5 * math.log(nu * math.pi)
            - math.log(s)
        )
    if fam == 4:  # uniform(lower, upper)
        return -math.log(p1 - p0)
    if fam == 7:  # inverse-gamma(shape, scale)
        return p0 * math.log(p1) - math.lgamma(p0)
    if fam == 8:  # gamma(shape, rate)
        return p0 * math.log(p1) - math.lgamma(p0)
    return math.log(p0)  # exponential(rate)


@jit
def prior_logp_k(fam, p0, p1, x, k):
    """:func:`prior_logp` given ``k = prior_const(fam, p0, p1)``."""
    if fam == 0:  # normal(mu, sigma)
        r = (x - p0) / p1
        return -0.5 * r * r - k - LOG_SQRT_2PI, -r / p1
    if fam == 1:  # half-normal(sigma)
        r = x / p0
        return k - 0.5 * r * r, -r / p0
    if fam == 2:  # half-cauchy(beta)
        r = x / p0
        return k - math.log1p(r * r), -2.0 * x / (p0 * p0 + x * x)
    if fam == 3:  # half-student-t(nu, sigma)
        nu, s = p0, p1
        r = x / s
        return k - 0.5 * (nu + 1.0) * math.log1p(r * r / nu), -(nu + 1.0) * x / (nu * s * s + x * x)
    if fam == 4:  # uniform(lower, upper)
        return k, 0.0
    if fam == 5:  # exponential(rate)
        return k - p0 * x, -p0
    if fam == 7:  # inverse-gamma(shape, scale)
        return k - (p0 + 1.0) * math.log(x) - p1 / x, (p1 / x - (p0 + 1.0)) / x
    if fam == 8:  # gamma(shape, rate)
        return k + (p0 - 1.0) * math.log(x) - p1 * x, (p0 - 1.0) / x - p1
    # lognormal(mu, sigma)
    lx = math.log(x)
    r = (lx - p0) / p1
    return -lx - k - LOG_SQRT_2PI - 0.5 * r * r, -(1.0 + r / p1) / x


@jit
def prior_term(head, slot, u):
    """Prior + Jacobian of one parameter at unconstrained ``u``: (x, logp, d logp / du,
    dx / du)."""
    fam, tr, p0, p1 = head[slot], head[slot + 1], head[slot + 2], head[slot + 3]
    return prior_term_k(fam, tr, p0, p1, u, prior_const(fam, p0, p1), transform_const(tr, p0, p1))


@jit
def prior_term_k(fam, tr, p0, p1, u, k_prior, k_transform):
    """:func:`prior_term` with the constants of the prior and the transform given (the
    per-study baseline priors share them)."""
    x, logjac, dxdu, djac = untransform_k(tr, p0, p1, u, k_transform)
    lp, dlp = prior_logp_k(fam, p0, p1, x, k_prior)
    return x, lp + logjac, dlp * dxdu + djac, dxdu


@jit
def binomial(n, y, eta):
    """log Bin(y | n, logit^-1(eta)) without the binomial coefficient, and d/d eta."""
    ls_eta, ls_minus_eta, s = logistic_parts(eta)
    return y * ls_eta + (n - y) * ls_minus_eta, y - n * s


@jit
def _logp_bn(x, grad, data, random):
    """Binomial-normal log density; fills ``grad`` and returns the log density."""
    k = int(data[0])
    n_t = data[HEADER : HEADER + k]
    y_t = data[HEADER + k : HEADER + 2 * k]
    n_c = data[HEADER + 2 * k : HEADER + 3 * k]
    y_c = data[HEADER + 3 * k : HEADER + 4 * k]
    mu, logp, dmu, dmudu = prior_term(data, H_MU, x[k])
    logp += data[H_CONST]
    tau = 0.0
    dtau = 0.0
    dtaudu = 0.0
    if random:
        tau, lp, dtau, dtaudu = prior_term(data, H_TAU, x[k + 1])
        logp += lp
        z_new = x[2 * k + 2]
        logp += -0.5 * z_new * z_new - LOG_SQRT_2PI
        grad[2 * k + 2] = -z_new
    dmu_lik = 0.0
    dtau_lik = 0.0
    fam, tr, p0, p1 = data[H_BASE], data[H_BASE + 1], data[H_BASE + 2], data[H_BASE + 3]
    k_prior, k_transform = prior_const(fam, p0, p1), transform_const(tr, p0, p1)
    for i in range(k):
        alpha, lp, dalpha, dadu = prior_term_k(fam, tr, p0, p1, x[i], k_prior, k_transform)
        logp += lp
        z = 0.0
        if random:
            z = x[k + 2 + i]
            logp += -0.5 * z * z - LOG_SQRT_2PI
        lc, rc = binomial(n_c[i], y_c[i], alpha)
        lt, rt = binomial(n_t[i], y_t[i], alpha + mu + tau * z)
        logp += lc + lt
        grad[i] = dalpha + (rc + rt) * dadu
        dmu_lik += rt
        if random:
            dtau_lik += rt * z
            grad[k + 2 + i] = rt * tau - z
    grad[k] = dmu + dmu_lik * dmudu
    if random:
        grad[k + 1] = dtau + dtau_lik * dtaudu
    return logp


@jit
def _logp_prop(x, grad, data, random):
    """Single-arm (proportion) log density; fills ``grad`` and returns the log density."""
    k = int(data[0])
    n = data[HEADER : HEADER + k]
    y = data[HEADER + k : HEADER + 2 * k]
    mu, logp, dmu, dmudu = prior_term(data, H_MU, x[0])
    logp += data[H_CONST]
    tau = 0.0
    dtau = 0.0
    dtaudu = 0.0
    if random:
        tau, lp, dtau, dtaudu = prior_term(data, H_TAU, x[1])
        logp += lp
        z_new = x[k + 2]
        logp += -0.5 * z_new * z_new - LOG_SQRT_2PI
        grad[k + 2] = -z_new
    dmu_lik = 0.0
    dtau_lik = 0.0
    for i in range(k):
        z = 0.0
        if random:
            z = x[2 + i]
            logp += -0.5 * z * z - LOG_SQRT_2PI
        lt, rt = binomial(n[i], y[i], mu + tau * z)
        logp += lt
        dmu_lik += rt
        if random:
            dtau_lik += rt * z
            grad[2 + i] = rt * tau - z
    grad[0] = dmu + dmu_lik * dmudu
    if random:
        grad[1] = dtau + dtau_lik * dtaudu
    return logp


@jit
def _n_params(kind_bn, random, k):
    n = 1 + (k if kind_bn else 0)
    if random:
        n += 2 + k
    return n


@jit
def _finish(logp, grad, logp_out):
    logp_out[0] = logp
    for g in grad:
        if not math.isfinite(g):
            return 3
    if not math.isfinite(logp):
        return 4
    return 0


@jit
def _arrays(dim, x_, grad_, user_data, kind_bn, random):
    """The parameter vector, gradient and data arrays behind the raw pointers, or
    ``n = -1`` if ``dim`` is not this model's number of parameters."""
    head = numba.carray(user_data, (HEADER,), np.float64)
    k = int(head[0])
    n = _n_params(kind_bn, random, k)
    size = HEADER + (4 if kind_bn else 2) * k
    data = numba.carray(user_data, (size,), np.float64)
    if dim != n:
        n = -1
    m = max(n, 0)
    return numba.carray(x_, (m,)), numba.carray(grad_, (m,)), data, n


# One entry point per variant, each calling only its own density, so that a cold compile
# types and lowers one model, not all four.


def logp_bn_re(dim, x_, grad_, logp_, user_data):
    x, grad, data, n = _arrays(dim, x_, grad_, user_data, True, True)
    if n < 0:
        return -1
    return _finish(_logp_bn(x, grad, data, True), grad, numba.carray(logp_, (1,)))


def logp_bn_ce(dim, x_, grad_, logp_, user_data):
    x, grad, data, n = _arrays(dim, x_, grad_, user_data, True, False)
    if n < 0:
        return -1
    return _finish(_logp_bn(x, grad, data, False), grad, numba.carray(logp_, (1,)))


def logp_prop_re(dim, x_, grad_, logp_, user_data):
    x, grad, data, n = _arrays(dim, x_, grad_, user_data, False, True)
    if n < 0:
        return -1
    return _finish(_logp_prop(x, grad, data, True), grad, numba.carray(logp_, (1,)))


def logp_prop_ce(dim, x_, grad_, logp_, user_data):
    x, grad, data, n = _arrays(dim, x_, grad_, user_data, False, False)
    if n < 0:
        return -1
    return _finish(_logp_prop(x, grad, data, False), grad, numba.carray(logp_, (1,)))


@jit
def _expand(dim, n_out, x_, out_, user_data, kind_bn, random):
    """Write the value variables, then the transformed ones (mu, tau, alpha if transformed),
    then theta_new and theta: the order of ``FastModel.expanded``."""
    head = numba.carray(user_data, (HEADER,), np.float64)
    k = int(head[0])
    n = _n_params(kind_bn, random, k)
    if dim != n:
        return -1
    x = numba.carray(x_, (n,))
    out = numba.carray(out_, (n_out,))
    for i in range(n):
        out[i] = x[i]
    cur = n
    off = k if kind_bn else 0
    mu = untransform(head[H_MU + 1], head[H_MU + 2], head[H_MU + 3], x[off])[0]
    if head[H_MU + 1] != 0:
        out[cur] = mu
        cur += 1
    tau = 0.0
    if random:
        tau = untransform(head[H_TAU + 1], head[H_TAU + 2], head[H_TAU + 3], x[off + 1])[0]
        if head[H_TAU + 1] != 0:
            out[cur] = tau
            cur += 1
    if kind_bn and head[H_BASE + 1] != 0:
        for i in range(k):
            out[cur] = untransform(head[H_BASE + 1], head[H_BASE + 2], head[H_BASE + 3], x[i])[0]
            cur += 1
    if random:
        out[cur] = mu + tau * x[off + 2 + k]
    else:
        out[cur] = mu
    cur += 1
    for i in range(k):
        out[cur + i] = mu + tau * x[off + 2 + i] if random else mu
    cur += k
    if cur != n_out:
        return -2
    return 0


def expand_bn_re(dim, n_out, x_, out_, user_data):
    return _expand(dim, n_out, x_, out_, user_data, True, True)


def expand_bn_ce(dim, n_out, x_, out_, user_data):
    return _expand(dim, n_out, x_, out_, user_data, True, False)


def expand_prop_re(dim, n_out, x_, out_, user_data):
    return _expand(dim, n_out, x_, out_, user_data, False, True)


def expand_prop_ce(dim, n_out, x_, out_, user_data):
    return _expand(dim, n_out, x_, out_, user_data, False, False)
