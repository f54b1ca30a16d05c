"""Brute-force reference for the exact binomial engine (run from the repository root).

    python tests/reference/binomial_bruteforce.py  # writes tests/reference/binomial_bruteforce.json
    python tests/reference/binomial_bruteforce.py bcg_wide  # recomputes only these cases

A different method from ``bayesmeta.engines.exact_binomial`` at every step, plain numpy/scipy:

- ``g_i(theta)``, two-arm: ``scipy.integrate.quad`` (adaptive Gauss-Kronrod) over the study
  baseline ``a`` at every point of a theta grid (spacing ``D_G``, then a cubic spline of
  ``log g`` onto the dense grid of spacing ``D_THETA``), the integrand
  scaled by its maximum (found by ``scipy.optimize.minimize_scalar``), which quad is told as a
  break point; single-arm: the binomial probability itself.
- ``int g_i(theta) N(theta; mu, tau^2) dtheta`` on a dense ``(mu, tau)`` grid: the trapezoid
  rule on the theta grid where ``tau >= TAU_SWITCH`` (at least 10 grid steps per tau); below
  it, the trapezoid rule in ``z = (theta - mu) / tau`` (step 0.05 on [-9, 9]) with ``log g``
  read off a cubic spline; ``g_i(mu)`` at ``tau = 0``.
- ``(mu, tau)``: Simpson's rule on uniform grids (401 x 401) over hand-set boxes that hold
  the posterior; quantiles from the cumulative trapezoid of the marginal densities, linear
  interpolation. ``theta_new``: its cdf ``sum w Phi((t - mu) / tau)`` on a grid of ``t``.
- Shrunken ``theta_i`` (bcg, pritz1997_prop): the cdf of ``theta_i | mu, tau, y_i`` by the
  cumulative trapezoid rule over the theta grid, averaged over a 201 x 201 ``(mu, tau)`` grid.

Accurate to about 1e-4 on quantiles (halving the steps moves them by less). Takes a few
minutes.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import integrate, interpolate, optimize, special, stats

ROOT = Path(__file__).resolve().parents[2]
D_THETA = 0.004
D_G = 0.02  # quad is run on this grid; log g is read off its cubic spline on the D_THETA one
_G_CACHE: dict = {}
TAU_SWITCH = 0.04
QS = (0.025, 0.5, 0.975)

CASES = {
    # name: data, model, prior mu, prior tau (None: common effect), mu box, tau box, theta box
    "bcg": ("bcg", "two-arm", ("norm", 0, 10), ("halfnorm", 0.5), (-2.2, 0.7), (0, 2.0), (-5, 3)),
    "bcg_common": ("bcg", "two-arm", ("norm", 0, 10), None, (-0.65, -0.2), None, (-5, 3)),
    # a wide tau prior (the box reaches tau = 4: widening it from 3 moves log p(y) by 1e-6)
    "bcg_wide": ("bcg", "two-arm", ("norm", 0, 10), ("halfnorm", 2.0), (-2.6, 1.0), (0, 4.0),
                 (-5, 3)),
    "li2007": (
        "li2007", "two-arm", ("norm", 0, 10), ("halfnorm", 0.5), (-2.2, 1.0), (0, 1.9), (-6, 4)
    ),
    "li2007_cauchy": (
        "li2007", "two-arm", ("norm", 0, 2.82), ("halfcauchy", 0.5), (-2.4, 1.2), (0, 2.6), (-6, 4)
    ),
    "nielweise2007": (
        "nielweise2007", "two-arm", ("norm", 0, 10), ("halfnorm", 0.5), (-3.6, 0.6), (0, 2.1),
        (-8, 5),
    ),
    "pritz1997_prop": (
        "pritz1997_prop", "single-arm", ("norm", 0, 10), ("halfnorm", 1.0), (-0.8, 3.8), (0, 3.0),
        (-6, 9),
    ),
}  # fmt: skip
THETA_STUDIES = ("bcg", "pritz1997_prop")


def prior(spec):
    family, *params = spec
    if family == "norm":
        return stats.norm(params[0], params[1])
    return getattr(stats, family)(scale=params[0])


def log_g_two_arm(rt, nt, rc, nc, theta):
    """log g(theta) for one study at each theta, baseline a ~ N(0, 10^2), by quad."""
    const = (
        special.gammaln(nt + 1) - special.gammaln(rt + 1) - special.gammaln(nt - rt + 1)
        + special.gammaln(nc + 1) - special.gammaln(rc + 1) - special.gammaln(nc - rc + 1)
    )  # fmt: skip
    out = np.empty(len(theta))
    log_prior = -math.log(10.0 * math.sqrt(2.0 * math.pi))

    def softplus(x):
        return max(x, 0.0) + math.log1p(math.exp(-abs(x)))

    for j, t in enumerate(theta):

        def logf(a, t=t):
            return (
                rc * a - nc * softplus(a) + rt * (a + t) - nt * softplus(a + t)
                - 0.005 * a * a + log_prior
            )  # fmt: skip

        best = optimize.minimize_scalar(lambda a: -logf(a), bounds=(-80, 80), method="bounded",
                                        options={"xatol": 1e-10})  # fmt: skip
        a0, top = best.x, -best.fun
        val, _ = integrate.quad(
            lambda a, top=top: math.exp(logf(a) - top), -120, 120, points=[a0], limit=400,
            epsabs=0, epsrel=1e-10,
        )  # fmt: skip
        out[j] = const + top + math.log(val)
    return out


def simpson_weights(n, h):
    w = np.ones(n)
    w[1:-1:2], w[2:-1:2] = 4, 2
    return w * h / 3


def quantiles(x, dens):
    cdf = integrate.cumulative_trapezoid(dens, x, initial=0)
    cdf /= cdf[-1]
    return [float(np.interp(q, cdf, x)) for q in QS]


def summary(x, dens, weights=None):
    w = dens * (weights if weights is not None else 1)
    w = w / w.sum()
    mean = float(w @ x)
    return {
        "mean": mean,
        "sd": math.sqrt(float(w @ x**2) - mean**2),
        "q": quantiles(x, dens),
    }


def run(name, case):
    data, model, pmu, ptau, mu_box, tau_box, th_box = case
    d = pd.read_csv(ROOT / "examples" / f"{data}.csv")
    theta = np.arange(th_box[0], th_box[1] + D_THETA / 2, D_THETA)
    if model == "two-arm":
        key = (data, th_box)
        if key not in _G_CACHE:
            cols = ("treatment_events", "treatment_total", "control_events", "control_total")
            coarse = np.arange(th_box[0], th_box[1] + D_G / 2, D_G)
            _G_CACHE[key] = np.array(
                [
                    interpolate.CubicSpline(
                        coarse, log_g_two_arm(*(float(row[c]) for c in cols), coarse)
                    )(theta)
                    for _, row in d.iterrows()
                ]
            )
        logg = _G_CACHE[key]
    else:
        r, n = d.events.to_numpy(float)[:, None], d.total.to_numpy(float)[:, None]
        logg = (
            special.gammaln(n + 1) - special.gammaln(r + 1) - special.gammaln(n - r + 1)
            + r * theta - n * np.logaddexp(0, theta)
        )  # fmt: skip
    k = len(logg)
    top = logg.max(axis=1, keepdims=True)
    g = np.exp(logg - top)
    splines = [interpolate.CubicSpline(theta, lg) for lg in logg]
    mu = np.linspace(*mu_box, 401)
    tau = np.linspace(*tau_box, 401) if ptau is not None else np.zeros(1)
    z = np.arange(-9, 9 + 1e-9, 0.05)
    wz = np.full(len(z), 0.05) * stats.norm.pdf(z)
    loglik = np.zeros((len(mu), len(tau)))
    logh = np.zeros((k, len(mu), len(tau)))
    for j, t in enumerate(tau):
        if t == 0:
            lh = np.array([s(mu) for s in splines])
        elif t < TAU_SWITCH:
            pts = mu[:, None] + t * z[None, :]
            lh = np.array([special.logsumexp(s(pts) + np.log(wz), axis=1) for s in splines])
        else:
            kern = stats.norm.pdf(theta[:, None], mu[None, :], t) * D_THETA
            with np.errstate(divide="ignore"):
                lh = np.log(g @ kern) + top
        logh[:, :, j] = lh
        loglik[:, j] = lh.sum(axis=0)
    lp = loglik + prior(pmu).logpdf(mu)[:, None]
    if ptau is not None:
        lp += prior(ptau).logpdf(tau)[None, :]
    wmu = simpson_weights(len(mu), mu[1] - mu[0])
    wtau = simpson_weights(len(tau), tau[1] - tau[0]) if ptau is not None else np.ones(1)
    shift = lp.max()
    dens = np.exp(lp - shift)
    norm = float(wmu @ dens @ wtau)
    out = {"log_marginal_likelihood": shift + math.log(norm)}
    W = dens * wmu[:, None] * wtau[None, :] / norm
    f_mu = dens @ wtau / norm
    out["mu"] = summary(mu, f_mu, wmu)
    out["p_mu_below_0"] = float(
        np.interp(0.0, mu, integrate.cumulative_trapezoid(f_mu, mu, initial=0))
    )
    if ptau is None:
        return out
    f_tau = wmu @ dens / norm
    out["tau"] = summary(tau, f_tau, wtau)
    t_grid = np.linspace(mu_box[0] - 4 * tau_box[1], mu_box[1] + 4 * tau_box[1], 3001)
    cdf = np.zeros(len(t_grid))
    for j, t in enumerate(tau):
        if t == 0:
            cdf += (mu[None, :] <= t_grid[:, None]) @ W[:, j]
        else:
            cdf += special.ndtr((t_grid[:, None] - mu[None, :]) / t) @ W[:, j]
    mean = float(mu @ W.sum(axis=1))
    var = float((mu**2) @ W.sum(axis=1) + W.sum(axis=0) @ tau**2) - mean**2
    out["theta_new"] = {
        "mean": mean,
        "sd": math.sqrt(var),
        "q": [float(np.interp(q, cdf, t_grid)) for q in QS],
    }
    if name in THETA_STUDIES:
        out["theta"] = theta_summaries(d, theta, g, top, mu, tau, W, logh)
    return out


def theta_summaries(d, theta, g, top, mu, tau, W, logh):
    """Shrunken theta_i on the 201 x 201 subgrid of every other node."""
    sub_mu, sub_tau = slice(0, None, 2), slice(0, None, 2)
    Ws = W[sub_mu][:, sub_tau]  # every other node of Simpson's rule: a uniform pattern
    Ws = Ws / Ws.sum()
    m_s, t_s = mu[sub_mu], tau[sub_tau]
    out = {}
    for i, study in enumerate(d.study):
        cdf = np.zeros(len(theta))
        mean = second = 0.0
        for j, t in enumerate(t_s):
            if t < TAU_SWITCH:
                continue  # (these datasets put no posterior mass there: checked)
            dens = g[i][:, None] * stats.norm.pdf(theta[:, None], m_s[None, :], t)
            dens /= np.exp(logh[i, sub_mu, 2 * j] - top[i])[None, :]
            c = integrate.cumulative_trapezoid(dens, theta, axis=0, initial=0)
            cdf += c @ Ws[:, j]
            mean += (theta @ dens * D_THETA) @ Ws[:, j]
            second += (theta**2 @ dens * D_THETA) @ Ws[:, j]
        cdf /= cdf[-1]
        out[str(study)] = {
            "mean": float(mean),
            "sd": math.sqrt(max(second - mean**2, 0.0)),
            "q": [float(np.interp(q, cdf, theta)) for q in QS],
        }
    return out


def main(names: list[str]) -> None:
    path = ROOT / "tests" / "reference" / "binomial_bruteforce.json"
    results = json.loads(path.read_text()) if names else {}
    results.pop("provenance", None)
    for name in names or CASES:
        results[name] = run(name, CASES[name])
        print(name, json.dumps(results[name]["mu"]), flush=True)
    results["provenance"] = (
        "tests/reference/binomial_bruteforce.py (numpy "
        f"{np.__version__}, scipy {__import__('scipy').__version__})"
    )
    path.write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
