"""How the cost of ``bayesmeta classic`` and ``bayesmeta fit`` grows with the number of studies k.

Run: ``python benchmarks/scaling.py [--ks 10 100 1000 2000 10000] [--fit-ks 10 100 1000]
[--repeats 3] [--json FILE]`` (a few minutes on 2 cores; add 10000 to ``--fit-ks`` for the
largest fit, about five more). Prints Markdown tables; writes only ``--json``.

The data are simulated here with a fixed seed; they are not real trials. Each data set has k
two-arm studies with arms of 20-200 patients (uniform), control risk 0.2 in every study and
true log odds ratios drawn from N(-0.5, 0.3^2); the events are binomial. For each k:

- ``classic`` in process: :func:`bayesmeta.frequentist.classic.classic` on the loaded data
  (every estimator, the GLMM included), median of ``--repeats`` runs after one warm-up run;
- ``classic`` CLI: the whole ``bayesmeta classic data.csv`` process, start to exit, on the
  same data written to a temporary directory (imports, reading, the report), median of
  ``--repeats`` runs;
- R-hat + ESS: :func:`bayesmeta.engines.diagnostics.rhat_ess` (one pass) and the three
  functions called one by one, on 4 chains x 2,000 draws of k simulated AR(1) quantities
  (phi = 0.5), median of ``--repeats`` runs;
- ``fit`` (``--fit-ks``), each step of :func:`bayesmeta.workflows.analyze.analyze_model` timed
  on its own in one process (default model and sampler: 4 chains x 2,000 draws after 1,000
  tuning, both cores): reading the data, the frequentist rows and observed effects, loading
  the kernels, sampling, R-hat/ESS, the summaries; then the whole ``bayesmeta fit data.csv``
  process (one run for k >= 1,000; ``--repeats`` below).

The last lines give the ratio of the k = 2,000 and k = 1,000 times (linear cost: 2).
"""

from __future__ import annotations

import argparse
import json
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
FIT_STEPS = ("read", "frequentist", "kernels", "sample", "diagnose", "summaries")


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


def cli_seconds(args: list[str], repeats: int) -> float:
    """Median wall seconds of the whole ``bayesmeta ARGS`` process."""

    def run() -> None:
        subprocess.run([BAYESMETA, *args], check=True, stdout=subprocess.DEVNULL)

    return median_seconds(run, repeats, warm_up=False)


def diagnostics_seconds(k: int, repeats: int) -> tuple[float, float]:
    """Median seconds of R-hat, bulk ESS and tail ESS of ``k`` simulated quantities: in one
    pass (rhat_ess) and as three calls."""
    draws = simulated_draws(k)

    def three() -> None:
        diagnostics.rhat(draws)
        diagnostics.ess_bulk(draws)
        diagnostics.ess_tail(draws)

    return (
        median_seconds(lambda: diagnostics.rhat_ess(draws), repeats, warm_up=False),
        median_seconds(three, repeats, warm_up=False),
    )


def measure_classic(k: int, repeats: int, tmp: Path) -> dict[str, float]:
    frame = simulated_studies(k)
    csv = tmp / f"simulated_k{k}.csv"
    frame.to_csv(csv, index=False)
    data = bayesmeta.load(frame)
    one_pass, three = diagnostics_seconds(k, repeats)
    return {
        "classic": median_seconds(lambda: classic(data), repeats),
        "cli": cli_seconds(["classic", str(csv)], repeats),
        "diagnostics": one_pass,
        "diagnostics_three_calls": three,
    }


def measure_fit(k: int, repeats: int, tmp: Path) -> dict[str, float]:
    """Each step of one fit in this process, then the whole ``bayesmeta fit`` process."""
    from bayesmeta.effects import effect_sizes, wald_intervals
    from bayesmeta.engines import nuts
    from bayesmeta.frequentist import methods
    from bayesmeta.model.description import ModelSpec
    from bayesmeta.summaries.draws import summarize

    csv = tmp / f"simulated_k{k}.csv"
    simulated_studies(k).to_csv(csv, index=False)
    out: dict[str, float] = {}

    def step(name: str, fn: Callable[[], object]) -> object:
        start = time.perf_counter()
        value = fn()
        out[name] = time.perf_counter() - start
        return value

    data = step("read", lambda: bayesmeta.load(csv))
    spec = ModelSpec.describe(data)
    shown = methods.check_methods(methods.available(data), data)
    step(
        "frequentist",
        lambda: (
            methods.compute(shown, methods.inputs(data, 0.95)),
            wald_intervals(effect_sizes(data)),
        ),
    )
    compiled = step("kernels", lambda: nuts.compile_model(spec))
    settings = nuts.SamplerSettings()
    draws, _ = step("sample", lambda: nuts.sample(spec, settings, compiled))
    diag = step("diagnose", lambda: nuts.diagnose(draws, settings=settings))
    step("summaries", lambda: summarize(draws, scale=spec.scale))
    out["converged"] = float(diag.converged)
    out["process"] = cli_seconds(["fit", str(csv), "--quiet"], 1 if k >= 1000 else repeats)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--ks", type=int, nargs="+", default=[10, 100, 1000, 2000, 10000])
    parser.add_argument("--fit-ks", type=int, nargs="*", default=[10, 100, 1000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", type=Path, help="Also write the numbers here.")
    args = parser.parse_args()
    print(
        f"Simulated data (seed {SEED}; not real trials): two-arm studies, arms of "
        f"{ARM_SIZE[0]}-{ARM_SIZE[1]}, control risk {CONTROL_RISK}, log OR {LOG_OR}, "
        f"tau {TAU}; diagnostics on {CHAINS} x {DRAWS} simulated AR(1) draws (phi {PHI}) "
        f"of k quantities. Median of {args.repeats} runs; nproc {os.cpu_count()}, load "
        f"average at start {os.getloadavg()[0]:.2f}.\n"
    )
    results: dict[str, dict[int, dict[str, float]]] = {"classic": {}, "fit": {}}
    with tempfile.TemporaryDirectory() as tmp:
        print("| k (simulated studies) | classic in-process s | classic CLI s | "
              "R-hat + ESS s (one pass) | (three calls) |")  # fmt: skip
        print("|---:|---:|---:|---:|---:|")
        for k in args.ks:
            r = results["classic"][k] = measure_classic(k, args.repeats, Path(tmp))
            print(f"| {k:,} | {r['classic']:.3f} | {r['cli']:.2f} | {r['diagnostics']:.3f} | "
                  f"{r['diagnostics_three_calls']:.3f} |", flush=True)  # fmt: skip
        if args.fit_ks:
            print("\n| k | read | frequentist | kernels | sample | R-hat/ESS | summaries | "
                  "`bayesmeta fit` process s |")  # fmt: skip
            print("|---:|---:|---:|---:|---:|---:|---:|---:|")
        for k in args.fit_ks:
            r = results["fit"][k] = measure_fit(k, args.repeats, Path(tmp))
            cells = " | ".join(f"{r[s]:.2f}" for s in FIT_STEPS)
            print(f"| {k:,} | {cells} | {r['process']:.2f} |", flush=True)
    classic_k = results["classic"]
    if 1000 in classic_k and 2000 in classic_k:
        ratio = {key: classic_k[2000][key] / classic_k[1000][key] for key in classic_k[1000]}
        print(
            f"\nk = 2,000 / k = 1,000: classic in-process {ratio['classic']:.2f}x, "
            f"CLI {ratio['cli']:.2f}x, R-hat + ESS {ratio['diagnostics']:.2f}x"
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
