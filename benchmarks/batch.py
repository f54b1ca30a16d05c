"""Time ``bayesmeta batch`` on 200 simulated ten-study meta-analyses (throughput target: 8/s).

Run: ``python benchmarks/batch.py [--n 200] [--workers 2] [--profile]``.

The meta-analyses are simulated here with a fixed seed
(``bayesmeta.workflows.simulate.simulation_jobs``:
k = 10, mu = log(0.7), tau = 0.3, control risk 0.2, arms of 50-200); their names say
"simulated". One warm-up batch of 4 meta-analyses fills the compiled-kernel cache first, so the
timed run is what a user sees on the second batch of the day. The whole ``bayesmeta batch``
process is timed, start to exit, with default sampler settings (4 chains x 2000 draws, 1000
tuning). ``--profile`` also times ``run_one`` on 20 of the meta-analyses in this process, as a
worker runs it, and prints the top of the cumulative cProfile of 20 more (the cost of one
worker's fit).
"""

from __future__ import annotations

import argparse
import cProfile
import math
import os
import pstats
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import pandas as pd

from bayesmeta.workflows.batch import BatchOptions, Job, one_core_per_worker, run_one
from bayesmeta.workflows.simulate import Scenario, simulation_jobs

BAYESMETA = str(Path(sys.executable).parent / "bayesmeta")
SCENARIO = Scenario(
    "k10", k=10, mu=math.log(0.7), tau=0.3, baseline_risk=0.2, arm_size=(50, 200), replicates=1
)


def simulated_jobs(n: int, seed: int = 2026) -> list[Job]:
    """``n`` simulated ten-study two-arm meta-analyses (names ``simulated k10 0001``...)."""
    return simulation_jobs([replace(SCENARIO, replicates=n)], seed)


def write_long_csv(jobs: list[Job], path: Path) -> Path:
    frames = [job.source.assign(meta_analysis=job.name) for job in jobs]
    pd.concat(frames).to_csv(path, index=False)
    return path


def busy_seconds() -> float:
    """CPU seconds spent by the whole machine so far (user + system, all processes; Linux)."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system = (int(v) for v in fields[:3])
    return (user + nice + system) / os.sysconf("SC_CLK_TCK")


def time_batch(
    csv: Path, out: Path, workers: int, engine: str = "nuts"
) -> tuple[float, float, float]:
    """Wall seconds of ``bayesmeta batch``, the CPU seconds of its processes and of the machine.

    The machine's figure exceeds the batch's when other programs ran meanwhile: the wall time
    is then not the batch's alone.
    """
    cmd = [BAYESMETA, "batch", str(csv), "--out", str(out), "--workers", str(workers), "--force"]
    cmd += ["--engine", engine]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    machine = busy_seconds()
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    own = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return wall, own, busy_seconds() - machine


def profile(jobs: list[Job]) -> None:
    """Time ``run_one`` as a local worker runs it (cores=1), then profile it with cProfile."""
    options = one_core_per_worker(BatchOptions())
    run_one(jobs[0], options)  # imports and kernel loading, as a worker's first job
    start = time.perf_counter()
    for job in jobs[1:21]:
        run_one(job, options)
    print(
        f"run_one: {(time.perf_counter() - start) / 20:.3f} s per meta-analysis (20, one process)"
    )
    profiler = cProfile.Profile()
    profiler.enable()
    for job in jobs[21:41]:
        run_one(job, options)
    profiler.disable()
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--keep", type=Path, help="Copy the results table here.")
    args = parser.parse_args()
    jobs = simulated_jobs(args.n)
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        warm = write_long_csv(jobs[:4], base / "warm.csv")
        time_batch(warm, base / "warm_results.csv", args.workers)
        csv = write_long_csv(jobs, base / "simulated.csv")
        out = base / "results.csv"
        seconds, own_cpu, machine_cpu = time_batch(csv, out, args.workers)
        table = pd.read_csv(out)
    if args.keep:
        table.to_csv(args.keep, index=False)
    ok = int((table["status"] == "ok").sum())
    print(
        f"{args.n} simulated meta-analyses, --workers {args.workers}: {seconds:.1f} s, "
        f"{args.n / seconds:.2f} per second; {ok} ok, {int(table['converged'].sum())} converged, "
        f"median {table['seconds'].median():.2f} s per fit, "
        f"{int(table['refitted'].sum())} refitted"
    )
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(
        f"CPU: batch {own_cpu:.1f} s ({own_cpu / args.n:.2f} s per meta-analysis), "
        f"whole machine {machine_cpu:.1f} s (other programs: {machine_cpu - own_cpu:.1f} s); "
        f"peak memory of one process {peak:.0f} MB"
    )
    if args.profile:
        profile(jobs)


if __name__ == "__main__":
    main()
