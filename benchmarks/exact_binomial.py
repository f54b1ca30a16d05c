"""Time the exact binomial engine in process (issue 18: 13 studies <= 20 ms, 1,000 <= 2 s,
memory linear in k) and ``bayesmeta batch --engine exact`` (>= 100 ten-study meta-analyses
per second on 2 cores), and write their section of ``benchmarks/RESULTS.md``.

Run: ``python benchmarks/exact_binomial.py``. Times ``binomial_normal_posterior`` with the
default priors (best of 5 after a warm-up, one run for k = 1000; the fit and its summaries:
mu, tau, theta_new and every shrunken theta_i at three quantiles) on bcg and on simulated
two-arm data of k studies (baseline risk 0.05-0.4, 40-400 patients per arm,
theta ~ N(-0.5, 0.3^2), seed 1): wall and CPU seconds (the machine is shared: CPU seconds
are disturbed less), with the peak of Python's traced memory (tracemalloc) of one such run.
The batch is ``benchmarks/batch.py``'s: 200 simulated ten-study meta-analyses, 2 workers,
the whole process timed after a warm-up batch. The section between the markers below is
replaced in place (``benchmarks/run.py`` keeps it when it rewrites the file).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

from bayesmeta.engines.exact_binomial import binomial_normal_posterior

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))  # batch.py's simulated meta-analyses
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


def best_of(data: tuple[np.ndarray, ...], runs: int) -> tuple[float, float]:
    """Best wall and best CPU seconds of ``runs`` fits."""
    wall, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        one_fit(data)
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return min(wall), min(cpu)


def batch_rate(n: int = 200, workers: int = 2) -> tuple[float, float, int]:
    """Meta-analyses per second of ``bayesmeta batch --engine exact`` (wall), CPU seconds
    per meta-analysis, and how many rows are ok."""
    from batch import simulated_jobs, time_batch, write_long_csv

    jobs = simulated_jobs(n)
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        warm = write_long_csv(jobs[:4], base / "warm.csv")
        time_batch(warm, base / "warm.out.csv", workers, engine="exact")
        csv = write_long_csv(jobs, base / "simulated.csv")
        wall, own, _ = time_batch(csv, base / "results.csv", workers, engine="exact")
        ok = int((pd.read_csv(base / "results.csv")["status"] == "ok").sum())
    return n / wall, own / n, ok


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
        "| data | target s | wall s | CPU s | peak traced memory MiB |",
        "|---|---|---|---|---|",
    ]
    one_fit(bcg)  # imports and first-call costs
    for label, data, target in rows:
        limit = f"<= {target:g}" if target is not None else "-"
        runs = 5 if len(data[0]) < 1000 else 1
        wall, cpu = best_of(data, runs)
        lines.append(f"| {label} | {limit} | {wall:.3f} | {cpu:.3f} | {peak_mib(data):.1f} |")
    rate, cpu_each, ok = batch_rate()
    lines += [
        "",
        f"`bayesmeta batch --engine exact --workers 2` on 200 simulated ten-study "
        f"meta-analyses (`benchmarks/batch.py`'s): {rate:.1f} per second (target >= 100), "
        f"{cpu_each * 1000:.0f} ms CPU per meta-analysis, {ok} ok; load average "
        f"{os.getloadavg()[0]:.1f} at the end.",
    ]
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
