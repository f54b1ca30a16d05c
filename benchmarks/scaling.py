"""Time ``bayesmeta classic`` and the R-hat/ESS diagnostics as the number of studies k grows.

Run: ``python benchmarks/scaling.py [--ks 10 100 1000 2000 10000] [--repeats 3]`` (about a
minute on 2 cores). Prints a Markdown table; writes nothing.

The data are simulated here with a fixed seed; they are not real trials. Each data set has k
two-arm studies with arms of 20-200 patients (uniform), control risk 0.2 in every study and
true log odds ratios drawn from N(-0.5, 0.3^2); the events are binomial. For each k:

- ``classic`` in process: :func:`bayesmeta.frequentist.classic.classic` on the loaded data
  (every estimator, the GLMM included), median of ``--repeats`` runs after one warm-up run;
- ``classic`` CLI: the whole ``bayesmeta classic data.csv`` process, start to exit, on the
  same data written to a temporary directory (imports, reading, the report), median of
  ``--repeats`` runs;
- R-hat + ESS: :func:`bayesmeta.engines.diagnostics.rhat`, ``ess_bulk`` and ``ess_tail``
  together on 4 chains x 2,000 draws of k simulated AR(1) quantities (phi = 0.5), median of
  ``--repeats`` runs.

The last line gives the ratio of the k = 2,000 and k = 1,000 times (linear cost: 2).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

import bayesmeta
from bayesmeta.engines import diagnostics
from bayesmeta.frequentist.classic import classic

BAYESMETA = str(Path(sys.executable).parent / "bayesmeta")
SEED = 2026
ARM_SIZE = (20, 200)
CONTROL_RISK = 0.2
LOG_OR, TAU = -0.5, 0.3
CHAINS, DRAWS, PHI = 4, 2000, 0.5


def simulated_studies(k: int, seed: int = SEED) -> pd.DataFrame:
    """``k`` simulated two-arm studies (names ``simulated00001``...), as a bayesmeta table."""
    rng = np.random.default_rng([seed, k])
    n_t, n_c = rng.integers(ARM_SIZE[0], ARM_SIZE[1] + 1, size=(2, k))
    theta = rng.normal(LOG_OR, TAU, size=k)
    alpha = np.log(CONTROL_RISK / (1 - CONTROL_RISK))
    return pd.DataFrame(
        {
            "study": [f"simulated{i + 1:05d}" for i in range(k)],
            "treatment_events": rng.binomial(n_t, 1 / (1 + np.exp(-(alpha + theta)))),
            "treatment_total": n_t,
            "control_events": rng.binomial(n_c, CONTROL_RISK),
            "control_total": n_c,
        }
    )


def simulated_draws(k: int, seed: int = SEED) -> np.ndarray:
    """AR(1) draws ``(CHAINS, DRAWS, k)`` with unit innovations (simulated, not a fit)."""
    rng = np.random.default_rng([seed, k, 1])
    draws = rng.standard_normal((CHAINS, DRAWS, k))
    for t in range(1, DRAWS):
        draws[:, t] += PHI * draws[:, t - 1]
    return draws


def median_seconds(run: Callable[[], object], repeats: int, warm_up: bool = True) -> float:
    """Median wall seconds of ``run()`` over ``repeats`` runs (after one untimed run)."""
    if warm_up:
        run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def cli_seconds(csv: Path, repeats: int) -> float:
    """Median wall seconds of the whole ``bayesmeta classic csv`` process."""

    def run() -> None:
        subprocess.run([BAYESMETA, "classic", str(csv)], check=True, stdout=subprocess.DEVNULL)

    return median_seconds(run, repeats, warm_up=False)


def diagnostics_seconds(k: int, repeats: int) -> float:
    """Median seconds of R-hat, bulk ESS and tail ESS of ``k`` simulated quantities."""
    draws = simulated_draws(k)

    def run() -> None:
        diagnostics.rhat(draws)
        diagnostics.ess_bulk(draws)
        diagnostics.ess_tail(draws)

    return median_seconds(run, repeats, warm_up=False)


def measure(k: int, repeats: int, tmp: Path) -> dict[str, float]:
    frame = simulated_studies(k)
    csv = tmp / f"simulated_k{k}.csv"
    frame.to_csv(csv, index=False)
    data = bayesmeta.load(frame)
    return {
        "classic": median_seconds(lambda: classic(data), repeats),
        "cli": cli_seconds(csv, repeats),
        "diagnostics": diagnostics_seconds(k, repeats),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--ks", type=int, nargs="+", default=[10, 100, 1000, 2000, 10000])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(
        f"Simulated data (seed {SEED}; not real trials): two-arm studies, arms of "
        f"{ARM_SIZE[0]}-{ARM_SIZE[1]}, control risk {CONTROL_RISK}, log OR {LOG_OR}, "
        f"tau {TAU}; diagnostics on {CHAINS} x {DRAWS} simulated AR(1) draws (phi {PHI}) "
        f"of k quantities. Median of {args.repeats} runs; nproc {os.cpu_count()}, load "
        f"average at start {os.getloadavg()[0]:.2f}.\n"
    )
    print("| k (simulated studies) | classic in-process s | classic CLI s | R-hat + ESS s |")
    print("|---:|---:|---:|---:|")
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for k in args.ks:
            r = results[k] = measure(k, args.repeats, Path(tmp))
            row = f"| {k:,} | {r['classic']:.3f} | {r['cli']:.2f} | {r['diagnostics']:.3f} |"
            print(row, flush=True)
    if 1000 in results and 2000 in results:
        ratio = {key: results[2000][key] / results[1000][key] for key in results[1000]}
        print(
            f"\nk = 2,000 / k = 1,000: classic in-process {ratio['classic']:.2f}x, "
            f"CLI {ratio['cli']:.2f}x, R-hat + ESS {ratio['diagnostics']:.2f}x"
        )


if __name__ == "__main__":
    main()
