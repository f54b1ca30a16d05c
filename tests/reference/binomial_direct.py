"""Direct double integrals for single two-arm studies (run from the repository root).

    python tests/reference/binomial_direct.py  # writes tests/reference/binomial_direct.json

For each study and ``(mu, tau)``: ``log int int Bin(r_c | n_c, expit a) Bin(r_t | n_t,
expit(a + t)) N(a; 0, 10^2) N(t; mu, tau^2) da dt`` by nested ``scipy.integrate.quad``
(adaptive Gauss-Kronrod in both directions; the inner one told where its peak is, found by
``scipy.optimize.minimize_scalar``) over ``t`` within 12 tau of the integrand's maximum
(``scipy.optimize.minimize``) and ``a`` from 80 below to 60 above it, the integrand scaled by
its maximum; relative tolerances 1e-10 and 1e-11. Cases: a zero cell, a double zero, all
events in one arm, a study of 200,000 patients.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from scipy import integrate, optimize

ROOT = Path(__file__).resolve().parents[2]
STUDIES = [(0, 50, 7, 48), (0, 40, 0, 45), (30, 30, 25, 28), (312, 100_000, 480, 100_000)]
POINTS = [(-0.4, 0.05), (0.3, 0.8)]


def softplus(x: float) -> float:
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


def direct(study, mu, tau):
    rt, nt, rc, nc = study
    const = (
        math.lgamma(nt + 1) - math.lgamma(rt + 1) - math.lgamma(nt - rt + 1)
        + math.lgamma(nc + 1) - math.lgamma(rc + 1) - math.lgamma(nc - rc + 1)
        - 2 * math.log(math.sqrt(2 * math.pi)) - math.log(10.0) - math.log(tau)
    )  # fmt: skip

    def logf(a, t):
        return (
            rc * a - nc * softplus(a) + rt * (a + t) - nt * softplus(a + t)
            - 0.5 * (a / 10.0) ** 2 - 0.5 * ((t - mu) / tau) ** 2
        )  # fmt: skip

    start = [math.log((rc + 0.5) / (nc - rc + 0.5)), mu]
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
    return const + top + math.log(val)


def main() -> None:
    out = [
        {"study": list(s), "mu": m, "tau": t, "log_lik": direct(s, m, t)}
        for s in STUDIES
        for m, t in POINTS
    ]
    path = ROOT / "tests" / "reference" / "binomial_direct.json"
    path.write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
