"""Brute-force reference for subgroups in the exact binomial engine (run from the repository
root; a few minutes).

    python tests/reference/binomial_subgroups.py  # writes tests/reference/binomial_subgroups.json

bcg (examples/bcg.csv) with subgroups by treatment allocation (``alloc``), the two-arm
binomial-normal model with baselines ~ N(0, 10^2), ``theta_i ~ N(mu_g, tau^2)`` (shared tau) or
``N(mu_g, tau_g^2)`` (separate tau) or ``theta_i = mu_g`` (common effect), ``mu_g ~ N(0, 10^2)``,
``tau ~ half-normal(0.5)``.

A different method from ``bayesmeta.engines.exact_binomial`` at every step (plain numpy/scipy):
each study's ``log g_i(theta)`` by ``scipy.integrate.quad`` over its baseline
(:func:`binomial_bruteforce.log_g_two_arm`, on a grid of step 0.02 read off a cubic spline on
one of step 0.004); ``int g_i N(theta; mu, tau^2)`` by the trapezoid rule on that grid (the
``z`` rule of ``binomial_bruteforce.py`` below ``tau = 0.04``); Simpson's rule on uniform grids
of ``MU_N`` ``mu`` and ``TAU_N`` ``tau`` points over hand-set boxes that hold the posterior.

- separate tau: each subgroup on its own ``(mu_g, tau_g)`` grid; ``log p(y)`` the sum.
- shared tau: ``Z_g(tau) = int p(mu_g) p(y_g | mu_g, tau) dmu_g`` on every tau node,
  ``p(tau | y) ~ p(tau) prod_g Z_g(tau)``, each ``mu_g``'s marginal the mixture over tau of
  its conditional.
- common effect (``tau = 0``): each subgroup's ``mu_g`` on its own, ``log p(y)`` the sum.
- differences ``mu_b - mu_a`` (every level against the first, as the package reports them):
  the convolution of the two (conditional, for a shared tau) densities on the ``mu`` grid,
  summed over tau for a shared tau.

Quantiles from the cumulative trapezoid rule (linear interpolation); halving the steps moves
them by less than 1e-4.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import integrate, interpolate, special, stats

sys.path.insert(0, str(Path(__file__).resolve().parent))
from binomial_bruteforce import D_G, D_THETA, QS, TAU_SWITCH, log_g_two_arm

ROOT = Path(__file__).resolve().parents[2]
MU_BOX, MU_N = (-7.0, 5.0), 1501  # wide: mu given a large tau is wide too
TAU_BOX, TAU_N = (0.0, 2.5), 401
THETA_BOX = (-5.0, 3.0)
PRIOR_MU, PRIOR_TAU = stats.norm(0, 10), stats.halfnorm(scale=0.5)


def simpson(n, h):
    w = np.ones(n)
    w[1:-1:2], w[2:-1:2] = 4, 2
    return w * h / 3


def summary(x, dens, w):
    p = dens * w
    p = p / p.sum()
    mean = float(p @ x)
    cdf = integrate.cumulative_trapezoid(dens, x, initial=0)
    cdf /= cdf[-1]
    return {
        "mean": mean,
        "sd": math.sqrt(float(p @ x**2) - mean**2),
        "q": [float(np.interp(q, cdf, x)) for q in QS],
        "p_below_0": float(np.interp(0.0, x, cdf)),
    }


def log_lik(logg, theta, mu, tau):
    """Each study's (rows of logg) log int g_i N(theta; mu, tau^2), (k, mu, tau)."""
    top = logg.max(axis=1, keepdims=True)
    g = np.exp(logg - top)
    splines = [interpolate.CubicSpline(theta, lg) for lg in logg]
    z = np.arange(-9, 9 + 1e-9, 0.05)
    wz = np.full(len(z), 0.05) * stats.norm.pdf(z)
    out = np.zeros((len(logg), len(mu), len(tau)))
    for j, t in enumerate(tau):
        if t == 0:
            lh = np.array([s(mu) for s in splines])
        elif t < TAU_SWITCH:
            pts = mu[:, None] + t * z[None, :]
            lh = np.array([special.logsumexp(s(pts) + np.log(wz), axis=1) for s in splines])
        else:
            z2 = ((theta[:, None] - mu[None, :]) / t) ** 2
            kern = np.exp(-0.5 * z2) * (D_THETA / (t * math.sqrt(2 * math.pi)))
            lh = np.log(g @ kern) + top
        out[:, :, j] = lh
    return out


def difference(x, h, fa, fb):
    """Density of mu_b - mu_a on the grid of differences (independent densities fa, fb)."""
    dens = np.convolve(fb, fa[::-1]) * h
    d = (np.arange(len(dens)) - (len(fa) - 1)) * h
    return d, dens


def main() -> None:
    d = pd.read_csv(ROOT / "examples" / "bcg.csv")
    levels = sorted(d.alloc.unique())
    theta = np.arange(THETA_BOX[0], THETA_BOX[1] + D_THETA / 2, D_THETA)
    coarse = np.arange(THETA_BOX[0], THETA_BOX[1] + D_G / 2, D_G)
    cols = ("treatment_events", "treatment_total", "control_events", "control_total")
    logg = np.array(
        [
            interpolate.CubicSpline(coarse, log_g_two_arm(*(float(r[c]) for c in cols), coarse))(
                theta
            )
            for _, r in d.iterrows()
        ]
    )
    mu = np.linspace(*MU_BOX, MU_N)
    tau = np.linspace(*TAU_BOX, TAU_N)
    h = mu[1] - mu[0]
    wmu, wtau = simpson(MU_N, h), simpson(TAU_N, tau[1] - tau[0])
    with np.errstate(divide="ignore"):
        lp_tau = PRIOR_TAU.logpdf(tau)
    each = log_lik(logg, theta, mu, tau)
    lp = {
        g: each[(d.alloc == g).to_numpy()].sum(axis=0) + PRIOR_MU.logpdf(mu)[:, None]
        for g in levels
    }
    out: dict = {"levels": levels}
    # separate tau: independent (mu_g, tau_g) posteriors
    sep: dict = {"log_marginal_likelihood": 0.0, "groups": {}, "differences": {}}
    f_mu = {}
    for g in levels:
        post = lp[g] + lp_tau[None, :]
        top = post.max()
        dens = np.exp(post - top)
        norm = float(wmu @ dens @ wtau)
        sep["log_marginal_likelihood"] += top + math.log(norm)
        f_mu[g] = dens @ wtau / norm
        sep["groups"][g] = {
            "mu": summary(mu, f_mu[g], wmu),
            "tau": summary(tau, wmu @ dens / norm, wtau),
        }
    for g in levels[1:]:
        x, dens = difference(mu, h, f_mu[levels[0]], f_mu[g])
        sep["differences"][f"{g} - {levels[0]}"] = summary(x, dens, np.ones(len(x)))
    out["separate"] = sep
    # shared tau: Z_g(tau), p(tau | y) ~ p(tau) prod Z_g, mu_g | tau, y
    top = {g: lp[g].max() for g in levels}
    cond = {g: np.exp(lp[g] - top[g]) for g in levels}  # (mu, tau), unnormalised
    log_z = {g: np.log(wmu @ cond[g]) + top[g] for g in levels}
    log_t = lp_tau + sum(log_z.values())
    t_top = log_t.max()
    f_tau = np.exp(log_t - t_top)
    norm = float(f_tau @ wtau)
    f_tau /= norm
    shared: dict = {"log_marginal_likelihood": t_top + math.log(norm), "groups": {}}
    shared["tau"] = summary(tau, f_tau, wtau)
    conditional = {g: cond[g] / (wmu @ cond[g])[None, :] for g in levels}  # p(mu_g | tau)
    for g in levels:
        shared["groups"][g] = {"mu": summary(mu, conditional[g] @ (f_tau * wtau), wmu)}
    shared["differences"] = {}
    for g in levels[1:]:
        total = None
        for j in range(TAU_N):
            if f_tau[j] * wtau[j] == 0:
                continue
            x, dens = difference(mu, h, conditional[levels[0]][:, j], conditional[g][:, j])
            total = (
                dens * f_tau[j] * wtau[j] if total is None else total + dens * f_tau[j] * wtau[j]
            )
        shared["differences"][f"{g} - {levels[0]}"] = summary(x, total, np.ones(len(x)))
    out["shared"] = shared
    # common effect (tau = 0, the first tau node) in every subgroup: independent posteriors
    common: dict = {"log_marginal_likelihood": 0.0, "groups": {}, "differences": {}}
    f_common = {}
    for g in levels:
        top0 = lp[g][:, 0].max()
        dens = np.exp(lp[g][:, 0] - top0)
        norm = float(wmu @ dens)
        common["log_marginal_likelihood"] += top0 + math.log(norm)
        f_common[g] = dens / norm
        common["groups"][g] = {"mu": summary(mu, f_common[g], wmu)}
    for g in levels[1:]:
        x, dens = difference(mu, h, f_common[levels[0]], f_common[g])
        common["differences"][f"{g} - {levels[0]}"] = summary(x, dens, np.ones(len(x)))
    out["common"] = common
    out["provenance"] = (
        "tests/reference/binomial_subgroups.py (numpy "
        f"{np.__version__}, scipy {__import__('scipy').__version__})"
    )
    path = ROOT / "tests" / "reference" / "binomial_subgroups.json"
    path.write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
