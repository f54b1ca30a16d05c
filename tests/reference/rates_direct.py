"""Direct integrals for the Poisson-normal rates model (run from the repository root).

    python tests/reference/rates_direct.py  # writes tests/reference/rates_direct.json

1. Single studies: ``log int int Pois(x_c | t_c e^a) Pois(x_t | t_t e^(a + t)) N(a; 0, 10^2)
   N(t; mu, tau^2) da dt`` by nested ``scipy.integrate.quad`` (adaptive Gauss-Kronrod in both
   directions; the inner one told where its peak is, found by
   ``scipy.optimize.minimize_scalar``) over ``t`` within 12 tau of the integrand's maximum
   (``scipy.optimize.minimize``) and ``a`` from 80 below to 60 above it, scaled by its
   maximum; relative tolerances 1e-10 and 1e-11. Cases: 7/1344 vs 11/1988 person-years, an
   arm without events, no events in either arm, 3,000 events in 10^6 person-years.
2. The common-effect model on examples/nielweise2008.csv with ``mu ~ N(0, 10^2)``:
   ``g_i(mu) = int Pois Pois N(a; 0, 10^2) da`` by ``quad`` for each study, and
   ``log p(y)``, the posterior mean, SD and 2.5/50/97.5% quantiles of ``mu`` from
   ``quad`` over ``mu`` (quantiles by ``brentq`` on the cumulative integral).
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

from scipy import integrate, optimize

ROOT = Path(__file__).resolve().parents[2]
STUDIES = [(7, 1344, 11, 1988), (0, 900, 6, 850), (0, 500, 0, 480), (3000, 1e6, 3300, 1e6)]
POINTS = [(-0.4, 0.05), (0.3, 0.8)]
A_SD = 10.0


def log_pois(x: float, t: float, eta: float) -> float:
    return x * (eta + math.log(t)) - t * math.exp(eta) - math.lgamma(x + 1)


def log_a_term(a: float) -> float:
    return -0.5 * (a / A_SD) ** 2 - math.log(A_SD) - 0.5 * math.log(2 * math.pi)


def direct(study, mu, tau):
    xt, tt, xc, tc = study

    def logf(a, t):
        return (
            log_pois(xc, tc, a) + log_pois(xt, tt, a + t) + log_a_term(a)
            - 0.5 * ((t - mu) / tau) ** 2 - math.log(tau) - 0.5 * math.log(2 * math.pi)
        )  # fmt: skip

    start = [math.log((xc + 0.5) / tc), mu]
    best = optimize.minimize(lambda x: -logf(*x), start, method="Nelder-Mead",
                             options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 4000})  # fmt: skip
    top = -best.fun
    a0, t0 = best.x

    def inner(t):
        peak = optimize.minimize_scalar(lambda a: -logf(a, t), bounds=(a0 - 80, a0 + 80),
                                        method="bounded", options={"xatol": 1e-9}).x  # fmt: skip
        val, _ = integrate.quad(lambda a: math.exp(logf(a, t) - top), a0 - 80, a0 + 60,
                                points=[peak], limit=400, epsabs=0, epsrel=1e-11)  # fmt: skip
        return val

    val, _ = integrate.quad(inner, t0 - 12 * tau, t0 + 12 * tau, points=[t0], limit=400,
                            epsabs=0, epsrel=1e-10)  # fmt: skip
    return top + math.log(val)


def log_g(study, theta):
    """``log int Pois Pois N(a) da`` of one study at ``theta``."""
    xt, tt, xc, tc = study

    def logf(a):
        return log_pois(xc, tc, a) + log_pois(xt, tt, a + theta) + log_a_term(a)

    peak = optimize.minimize_scalar(lambda a: -logf(a), bounds=(-60, 40), method="bounded",
                                    options={"xatol": 1e-10}).x  # fmt: skip
    top = logf(peak)
    val, _ = integrate.quad(lambda a: math.exp(logf(a) - top), peak - 80, peak + 60,
                            points=[peak], limit=400, epsabs=0, epsrel=1e-12)  # fmt: skip
    return top + math.log(val)


def common_effect(studies):
    def log_post(m):
        return (
            sum(log_g(s, m) for s in studies)
            - 0.5 * (m / 10) ** 2
            - math.log(10 * math.sqrt(2 * math.pi))
        )

    best = optimize.minimize_scalar(lambda m: -log_post(m), bounds=(-5, 5), method="bounded",
                                    options={"xatol": 1e-10}).x  # fmt: skip
    top = log_post(best)

    def dens(m):
        return math.exp(log_post(m) - top)

    lo, hi = best - 3.0, best + 3.0
    opts = {"points": [best], "limit": 400, "epsabs": 0, "epsrel": 1e-10}
    total, _ = integrate.quad(dens, lo, hi, **opts)
    mean = integrate.quad(lambda m: m * dens(m), lo, hi, **opts)[0] / total
    second = integrate.quad(lambda m: m * m * dens(m), lo, hi, **opts)[0] / total

    def cdf(x):
        return integrate.quad(dens, lo, x, limit=400, epsabs=0, epsrel=1e-10)[0] / total

    q = [
        optimize.brentq(lambda x, p=p: cdf(x) - p, lo, hi, xtol=1e-10) for p in (0.025, 0.5, 0.975)
    ]
    return {
        "log_marginal_likelihood": top + math.log(total),
        "mu": {"mean": mean, "sd": math.sqrt(second - mean**2), "q": q},
    }


def main() -> None:
    single = [
        {"study": list(s), "mu": m, "tau": t, "log_lik": direct(s, m, t)}
        for s in STUDIES
        for m, t in POINTS
    ]
    with (ROOT / "examples" / "nielweise2008.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    studies = [
        tuple(float(r[c]) for c in ("treatment_events", "treatment_time", "control_events",
                                    "control_time"))
        for r in rows
    ]  # fmt: skip
    out = {
        "single_studies": single,
        "nielweise2008_common": {"prior_mu": "normal(0, 10)", **common_effect(studies)},
        "provenance": "tests/reference/rates_direct.py (scipy.integrate.quad, nested)",
    }
    path = ROOT / "tests" / "reference" / "rates_direct.json"
    path.write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
