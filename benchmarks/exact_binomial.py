"""Time the exact binomial engine in process (issue 18: 13 studies <= 20 ms, 1,000 <= 2 s,
memory linear in k), and write its section of ``benchmarks/RESULTS.md``.

Run: ``python benchmarks/exact_binomial.py``. Times ``binomial_normal_posterior`` with the
default priors (best of 5 after a warm-up, one run for k = 1000; the fit and its summaries:
mu, tau, theta_new and every shrunken theta_i at three quantiles) on bcg and on simulated
two-arm data of k studies (baseline risk 0.05-0.4, 40-400 patients per arm,
theta ~ N(-0.5, 0.3^2), seed 1), with the peak of Python's traced memory (tracemalloc) of one
such run. The section between the markers below is replaced in place (``benchmarks/run.py``
keeps it when it rewrites the file).
"""

from __future__ import annotations

import os
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

from bayesmeta.engines.exact_binomial import binomial_normal_posterior

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
BEGIN, END = "<!-- exact_binomial: begin -->", "<!-- exact_binomial: end -->"
PRIORS = {"prior_mu": "normal(0, 2.82)", "prior_tau": "half-normal(0.5)"}
QS = np.array([0.025, 0.5, 0.975])


def simulated(k: int, seed: int = 1) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    n_c, n_t = rng.integers(40, 401, k), rng.integers(40, 401, k)
    p_c = rng.uniform(0.05, 0.4, k)
    theta = rng.normal(-0.5, 0.3, k)
    p_t = 1 / (1 + np.exp(-(np.log(p_c / (1 - p_c)) + theta)))
    return rng.binomial(n_t, p_t), n_t, rng.binomial(n_c, p_c), n_c


def one_fit(data: tuple[np.ndarray, ...]) -> None:
    post = binomial_normal_posterior(*data, **PRIORS)
    for marginal in (post.mu, post.tau, post.theta_new):
        marginal.ppf(QS)
    post.theta.ppf(QS)
    post.theta.moments()


def best_of(data: tuple[np.ndarray, ...], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        one_fit(data)
        times.append(time.perf_counter() - start)
    return min(times)


def peak_mib(data: tuple[np.ndarray, ...]) -> float:
    tracemalloc.start()
    one_fit(data)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def section() -> list[str]:
    d = pd.read_csv(ROOT / "examples" / "bcg.csv")
    bcg = tuple(
        d[c].to_numpy()
        for c in ("treatment_events", "treatment_total", "control_events", "control_total")
    )
    rows = [("bcg (k = 13)", bcg, 0.020)] + [
        (f"simulated, k = {k}", simulated(k), 2.0 if k == 1000 else None) for k in (100, 1000)
    ]
    load = os.getloadavg()[0]
    lines = [
        BEGIN,
        "## Exact binomial engine (`python benchmarks/exact_binomial.py`, in process)",
        "",
        f"Best of 5 (k = 1000: one run) after a warm-up; load average {load:.1f} on 2 cores "
        "at the start.",
        "",
        "| data | target s | wall s | peak traced memory MiB |",
        "|---|---|---|---|",
    ]
    one_fit(bcg)  # imports and first-call costs
    for label, data, target in rows:
        limit = f"<= {target:g}" if target is not None else "-"
        runs = 5 if len(data[0]) < 1000 else 1
        lines.append(f"| {label} | {limit} | {best_of(data, runs):.3f} | {peak_mib(data):.1f} |")
    return [*lines, END]


def main() -> None:
    lines = section()
    print("\n".join(lines))
    text = RESULTS.read_text()
    block = "\n".join(lines)
    if BEGIN in text:
        head, rest = text.split(BEGIN, 1)
        text = head + block + rest.split(END, 1)[1]
    else:
        text = text.replace("## Notes", block + "\n\n## Notes", 1)
    RESULTS.write_text(text)


if __name__ == "__main__":
    main()
