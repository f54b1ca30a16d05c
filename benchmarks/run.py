"""Time bayesmeta as a user runs it, as whole processes, and write ``benchmarks/RESULTS.md``.

Run: ``python benchmarks/run.py`` (about 5 minutes on 2 cores; ``--quick`` for 2 repeats).

Whole processes are timed from start to exit (median of N after one warm-up run; peak memory
is the child's ``ru_maxrss``). The "cold" fit empties the cache directories before every run
(``BAYESMETA_CACHE_DIR``, ``NUMBA_CACHE_DIR`` and PyTensor's ``compiledir`` all point into a
temporary directory), the "warm" fit reuses them. The simulated binomial-normal datasets
(10, 100 and 1,000 studies) are generated here with a fixed seed; they are simulated, not
real trials. The profile of the warm ``fit`` is taken in a fresh process with cProfile and
``-X importtime``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
BAYESMETA = str(Path(PYTHON).parent / "bayesmeta")
PACKAGES = ("numpy", "scipy", "pymc", "pytensor", "nutpie", "numba", "arviz-base", "arviz-stats")


def run_process(cmd: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    """Wall seconds, peak RSS (MB) and exit code of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    proc.stderr.close()
    return seconds, usage.ru_maxrss / 1024, proc.returncode


def cache_env(base: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["BAYESMETA_CACHE_DIR"] = str(base / "bayesmeta")
    env["NUMBA_CACHE_DIR"] = str(base / "numba")
    env["PYTENSOR_FLAGS"] = f"compiledir={base / 'pytensor'}"
    return env


def timed(
    name: str, cmd: list[str], env: dict[str, str], repeats: int, cold: Path | None = None
) -> dict:
    """Median wall time and peak memory of ``cmd`` over ``repeats`` runs (after a warm-up;
    with ``cold``, that directory is emptied before every run instead)."""
    if cold is None:
        _, _, code = run_process(cmd, env)
        if code not in (0, 3):  # 3: fitted but not converged
            return {"name": name, "skipped": f"exit code {code}"}
    times, mems = [], []
    for _ in range(repeats):
        if cold is not None:
            shutil.rmtree(cold, ignore_errors=True)
        seconds, mem, code = run_process(cmd, env)
        if code not in (0, 3):
            return {"name": name, "skipped": f"exit code {code}"}
        times.append(seconds)
        mems.append(mem)
    return {
        "name": name,
        "median_s": statistics.median(times),
        "min_s": min(times),
        "max_s": max(times),
        "peak_mb": max(mems),
        "runs": len(times),
    }


SIMULATE = """
import sys, time, numpy as np
from pathlib import Path
k, out = int(sys.argv[1]), Path(sys.argv[2])
rng = np.random.default_rng(20261127 + k)
n_t = rng.integers(50, 500, size=k); n_c = rng.integers(50, 500, size=k)
alpha = rng.normal(-2.0, 0.5, size=k); theta = rng.normal(-0.5, 0.3, size=k)
y_c = rng.binomial(n_c, 1 / (1 + np.exp(-alpha)))
y_t = rng.binomial(n_t, 1 / (1 + np.exp(-(alpha + theta))))
rows = ["study,treatment_events,treatment_total,control_events,control_total"]
rows += [f"sim{i + 1},{y_t[i]},{n_t[i]},{y_c[i]},{n_c[i]}" for i in range(k)]
out.write_text("\\n".join(rows) + "\\n")
"""

FIT_SCRIPT = """
import sys, time, json
t0 = time.perf_counter()
from bayesmeta import load
from bayesmeta.engines.kernels import fast_model
from bayesmeta.engines.nuts import fit
data = load(sys.argv[1])
t1 = time.perf_counter()
result = fit(fast_model(data))
t2 = time.perf_counter()
d = result.diagnostics
print(json.dumps({"load_s": t1 - t0, "fit_s": t2 - t1, "converged": d.converged,
                  "rhat_max": d.rhat_max, "ess_min": min(d.ess_bulk_min, d.ess_tail_min),
                  "divergences": d.divergences}))
"""

EXACT_SCRIPT = """
import time
t0 = time.perf_counter()
from bayesmeta import load
from bayesmeta.effects import effect_sizes
from bayesmeta.engines.exact import nnhm_posterior
from bayesmeta.io.examples import example
es = effect_sizes(load(example("bcg").path), measure="OR")
t1 = time.perf_counter()
nnhm_posterior(es.yi, es.vi, prior_mu="normal(0, 2.82)", prior_tau="half-normal(0.5)")
"""

CLASSIC_SCRIPT = """
import sys, time, json
from bayesmeta import load
from bayesmeta.frequentist.classic import classic
data = load(sys.argv[1])
t0 = time.perf_counter()
classic(data)
print(json.dumps({"classic_s": time.perf_counter() - t0}))
"""

PHASES = """
import cProfile, json, pstats, sys, time
t0 = time.perf_counter()
from bayesmeta.cli import app
t_import = time.perf_counter() - t0
sys.argv = ["bayesmeta", "fit", "--example", "bcg"]
prof = cProfile.Profile()
t1 = time.perf_counter()
prof.enable()
try:
    app()
except SystemExit:
    pass
prof.disable()
total = time.perf_counter() - t0
stats = pstats.Stats(prof).stats
wanted = {
    ("analysis.py", "<module>"): "import bayesmeta.workflows.analyze (frequentist, effects, scipy)",
    ("report.py", "<module>"): "import bayesmeta.report.terminal",
    ("analysis.py", "analyze"): "analyze (all below)",
    ("fitting.py", "compile_model"): "compile_model (load cached kernels, import numba)",
    ("fitting.py", "sample"): "sample (import nutpie, NUTS, draws -> DataTree)",
    ("sample.py", "_arrow_to_arviz"): "  of which draws -> DataTree (xarray)",
    ("fitting.py", "diagnose"): "diagnose (R-hat, ESS: bayesmeta.engines.diagnostics, numpy)",
    ("summaries.py", "summarize"): "summaries",
    ("analysis.py", "frequentist_blocks"): "frequentist comparison",
    ("report.py", "render"): "render report",
}
phases = dict.fromkeys(wanted.values(), 0.0)
for (path, _, func), row in stats.items():
    for (file, name), label in wanted.items():
        if path.endswith("/" + file) and func == name:
            phases[label] += row[3]
print(json.dumps({"total": total, "import bayesmeta.cli (typer, rich, pandas)": t_import,
                  **phases}))
"""


def import_costs(env: dict[str, str]) -> list[tuple[str, float]]:
    """Seconds to import each heavy package alone in a fresh process (with what it imports,
    so they overlap: arviz_stats includes scipy.stats and xarray)."""
    out = []
    for name in ("scipy.stats", "pandas", "xarray", "dask.array", "pymc", "numba",
                 "arviz_base", "arviz_stats", "arviz", "nutpie"):  # fmt: skip
        code = (
            f"import time; t = time.perf_counter(); import {name}; print(time.perf_counter() - t)"
        )
        times = []
        for _ in range(3):
            proc = subprocess.run([PYTHON, "-c", code], env=env, capture_output=True, text=True)
            if proc.returncode == 0:
                times.append(float(proc.stdout.strip()))
        if times:
            out.append((name, statistics.median(times)))
    return sorted(out, key=lambda kv: -kv[1])


def machine() -> dict[str, str]:
    cpu = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "python": platform.python_version(),
        "load_at_start": f"{load:.1f}",
        **{pkg: version(pkg) for pkg in PACKAGES},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 repeats instead of 5")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "RESULTS.md")
    args = parser.parse_args()
    repeats = 2 if args.quick else 5
    info = machine()
    rows = []
    with tempfile.TemporaryDirectory(prefix="bayesmeta-bench-") as tmp:
        tmp_path = Path(tmp)
        cold_dir = tmp_path / "cold"
        cold_env = cache_env(cold_dir)
        warm_env = cache_env(tmp_path / "warm")
        fit_cmd = [BAYESMETA, "fit", "--example", "bcg"]
        print("timing: help, classic, fit (cold, warm) ...", file=sys.stderr)
        rows.append(timed("`bayesmeta --help`", [BAYESMETA, "--help"], warm_env, repeats))
        rows.append(
            timed("`bayesmeta classic --example bcg`", [BAYESMETA, "classic", "--example", "bcg"],
                  warm_env, repeats)
        )  # fmt: skip
        rows.append(timed("`bayesmeta fit --example bcg`, cold cache", fit_cmd, cold_env,
                          max(2, repeats - 2), cold=cold_dir))  # fmt: skip
        rows.append(timed("`bayesmeta fit --example bcg`, warm cache", fit_cmd, warm_env, repeats))
        rows.append(timed("`bayesmeta fit --example bcg --model normal-normal` (exact engine)",
                          [*fit_cmd, "--model", "normal-normal"], warm_env, repeats))  # fmt: skip
        rows.append(timed("exact NNHM engine on bcg (`nnhm_posterior`, whole process)",
                          [PYTHON, "-c", EXACT_SCRIPT], warm_env, repeats))  # fmt: skip
        sim_details = {}
        for k in (10, 100, 1000):
            csv = tmp_path / f"simulated_{k}.csv"
            subprocess.run([PYTHON, "-c", SIMULATE, str(k), str(csv)], check=True)
            print(f"timing: simulated binomial-normal, {k} studies ...", file=sys.stderr)
            cmd = [PYTHON, "-c", FIT_SCRIPT, str(csv)]
            rows.append(timed(f"binomial-normal fit, {k:,} simulated studies (whole process)",
                              cmd, warm_env, max(2, repeats - 2)))  # fmt: skip
            detail = subprocess.run(cmd, env=warm_env, capture_output=True, text=True)
            sim_details[k] = json.loads(detail.stdout.strip().splitlines()[-1])
            if k == 100:
                rows.append(timed("`bayesmeta classic` on 100 simulated studies (whole process)",
                                  [BAYESMETA, "classic", str(csv)], warm_env, repeats))  # fmt: skip
                inner = subprocess.run([PYTHON, "-c", CLASSIC_SCRIPT, str(csv)], env=warm_env,
                                       capture_output=True, text=True, check=True)  # fmt: skip
                sim_details[k]["classic_s"] = json.loads(inner.stdout)["classic_s"]
        print("timing: batch of 200 ten-study meta-analyses ...", file=sys.stderr)
        batch = subprocess.run([PYTHON, str(ROOT / "benchmarks" / "batch.py")], env=warm_env,
                               capture_output=True, text=True, check=True)  # fmt: skip
        sim_details["batch"] = batch.stdout.strip().splitlines()[-2:]
        print("profiling the warm fit ...", file=sys.stderr)
        phase = subprocess.run([PYTHON, "-c", PHASES], env=warm_env, capture_output=True,
                               text=True)  # fmt: skip
        phases = json.loads(phase.stdout.strip().splitlines()[-1])
        imports = import_costs(warm_env)
    write_results(args.out, info, rows, sim_details, phases, imports)
    print(f"wrote {args.out}", file=sys.stderr)


def write_results(
    out: Path,
    info: dict[str, str],
    rows: list[dict],
    sims: dict[int, dict],
    phases: dict[str, float],
    imports: list[tuple[str, float]],
) -> None:
    lines = [
        "# Benchmarks",
        "",
        "Written by `python benchmarks/run.py`; do not edit by hand (the notes at the end are",
        "kept in the script).",
        "",
        "## Machine",
        "",
        *(f"- {key}: {value}" for key, value in info.items()),
        "",
        "## Whole processes",
        "",
        "Median wall time of N runs after one warm-up (cold: caches emptied before each run);",
        "peak memory is the largest `ru_maxrss` of the child over the runs.",
        "",
        "| what | median s | min s | max s | peak MB | runs |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        if "skipped" in row:
            lines.append(f"| {row['name']} | skipped ({row['skipped']}) | | | | |")
            continue
        lines.append(
            f"| {row['name']} | {row['median_s']:.2f} | {row['min_s']:.2f} | "
            f"{row['max_s']:.2f} | {row['peak_mb']:.0f} | {row['runs']} |"
        )
    lines += [
        "",
        "Simulated binomial-normal fits (4 chains x 2,000 draws, tune 1,000; in-process times "
        "of one run):",
        "",
        "| studies | load s | fit s (compile + sample + diagnose) | converged | R-hat max | "
        "min ESS | divergences |",
        "|---:|---:|---:|---|---:|---:|---:|",
    ]
    for k, d in sims.items():
        if k == "batch":
            continue
        lines.append(
            f"| {k:,} | {d['load_s']:.2f} | {d['fit_s']:.2f} | {d['converged']} | "
            f"{d['rhat_max']:.3f} | {d['ess_min']:.0f} | {d['divergences']} |"
        )
    batch = sims.pop("batch", None)
    if "classic_s" in sims.get(100, {}):
        lines += [
            "",
            f"`classic()` (every frequentist estimator, GLMM included) on the 100 simulated "
            f"studies, in process after start-up: {sims[100]['classic_s']:.3f} s.",
        ]
    if batch:
        lines += [
            "",
            "## Batch (`python benchmarks/batch.py`: 200 simulated ten-study meta-analyses, "
            "`bayesmeta batch --workers 2`, default sampler settings)",
            "",
            *(f"- {line}" for line in batch),
        ]
    lines += [
        "",
        "## Where the warm `bayesmeta fit --example bcg` spends its time",
        "",
        "One fresh process, cProfile (which slows pure-Python code, so the parts add up to more",
        "than the median above). Cumulative seconds:",
        "",
        "| phase | s |",
        "|---|---:|",
        *(f"| {name} | {sec:.2f} |" for name, sec in phases.items()),
        "",
        "Import cost of the heavy packages, each alone in a fresh process (median of 3; each",
        "includes what it imports, so they overlap):",
        "",
        "| package | s |",
        "|---|---:|",
        *(f"| {name} | {sec:.2f} |" for name, sec in imports),
        "",
        NOTES,
    ]
    out.write_text("\n".join(lines) + "\n")


NOTES = """## Notes

- Before this work (commit 17eb6fb), a warm `bayesmeta fit --example bcg` took 12 s on this
  machine (measured 11.9 s and 12.0 s): `nutpie.compile_pymc_model` spent 8-12 s in every
  process, 80 % of it in numba type inference and lowering of nutpie's C-callback wrappers,
  which numba cannot cache (they close over PyTensor's generated functions: "dynamic
  globals"); PyTensor's own numba functions were cached but the wrappers were not.
- Now the bayesmeta models are sampled through hand-written log densities and gradients
  (`bayesmeta/_kernels.py`) compiled by numba as C callbacks with `cache=True` into
  `~/.cache/bayesmeta` (or `$BAYESMETA_CACHE_DIR`). Data and prior parameters are read at run
  time, so one artefact per model variant serves every dataset, study count and prior. They
  are tested equal to PyMC's log density and gradient (`tests/engines/test_kernels.py`) and the
  posteriors match Stan (`tests/engines/test_nuts_vs_stan.py`).
- nutpie's `sample` module imports all of ArviZ (arviz_plots, matplotlib: ~1.2 s) only for
  `from_dict`; `bayesmeta.engines.kernels.nutpie_sample` imports nutpie with a stand-in that serves
  `arviz_base.from_dict` and is removed straight afterwards.
- `analysis.analyze` samples models without moderators through `compiled.fast_model`, so a
  plain `fit` never imports PyMC; R-hat and ESS are computed by `bayesmeta.engines.diagnostics`
  (numpy, tested equal to arviz_stats to 1e-10), so it does not import arviz_stats either.
- p-values and critical values come from `scipy.special` (the functions scipy.stats itself
  calls), so a fit no longer imports `scipy.stats` (~0.6 s).
- What remains (see the profile): numba's start-up and loading of the cached kernels
  (~1 s), pandas (~0.4 s; also needed by xarray), turning the draws into a DataTree (~0.5 s,
  including xarray importing `dask.array` only to test whether arrays are dask arrays,
  because the `dask` extra is installed), typer/rich, and the sampling itself (~0.4 s). What
  would get below 2 s: a kernel shipped as a compiled shared library instead of numba's
  cache, and building the posterior DataTree without xarray's duck-array checks.
- The machine is shared with other jobs (see the load average above); figures vary by +-30 %.
"""


if __name__ == "__main__":
    main()
