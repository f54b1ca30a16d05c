"""Time bayesmeta as a user runs it, as whole processes, and write ``benchmarks/RESULTS.md``.

Run: ``python benchmarks/run.py`` (10-15 minutes on 2 cores; ``--quick`` for 2 repeats,
``--no-fit-10000`` to skip the largest fit, about 5 minutes of it).

Whole processes are timed from start to exit (median of N after one warm-up run; peak memory
is the child's ``ru_maxrss``; CPU is the child's user + system time, which other programs on
the machine disturb far less than the wall time). The "cold" fit empties the cache directories
before every run (``BAYESMETA_CACHE_DIR``, ``NUMBA_CACHE_DIR`` and PyTensor's ``compiledir``
all point into a temporary directory), the "warm" fit reuses them. The simulated
binomial-normal datasets (10, 100 and 1,000 studies) are generated here with a fixed seed; they
are simulated, not real trials. ``benchmarks/scaling.py`` gives the table of how the cost grows
with k, ``benchmarks/batch.py`` the batch rate. The profile of the warm ``fit`` is taken in a
fresh process with cProfile, and its imports with ``-X importtime``.
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


def run_process(cmd: list[str], env: dict[str, str]) -> tuple[float, float, int, float]:
    """Wall seconds, peak RSS (MB), exit code and CPU seconds (user + system) of one child."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    proc.stderr.close()
    return seconds, usage.ru_maxrss / 1024, proc.returncode, usage.ru_utime + usage.ru_stime


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
    if cold is None and repeats > 1:
        _, _, code, _ = run_process(cmd, env)
        if code not in (0, 3):  # 3: fitted but not converged
            return {"name": name, "skipped": f"exit code {code}"}
    times, mems, cpus = [], [], []
    for _ in range(repeats):
        if cold is not None:
            shutil.rmtree(cold, ignore_errors=True)
        seconds, mem, code, cpu = run_process(cmd, env)
        if code not in (0, 3):
            return {"name": name, "skipped": f"exit code {code}"}
        times.append(seconds)
        mems.append(mem)
        cpus.append(cpu)
    return {
        "name": name,
        "median_s": statistics.median(times),
        "min_s": min(times),
        "max_s": max(times),
        "cpu_s": statistics.median(cpus),
        "peak_mb": max(mems),
        "runs": len(times),
        "load": os.getloadavg()[0],
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
from bayesmeta.engines.nuts import fit
from bayesmeta.model.description import ModelSpec
data = load(sys.argv[1])
t1 = time.perf_counter()
result = fit(ModelSpec.describe(data))
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
sys.argv = ["bayesmeta", "fit", "--example", "bcg", "--quiet"]
prof = cProfile.Profile()
prof.enable()
try:
    app()
except SystemExit:
    pass
prof.disable()
total = time.perf_counter() - t0
stats = pstats.Stats(prof).stats
wanted = {
    ("engines/nuts.py", "<module>"):
        "import bayesmeta.engines.nuts (numpy; pandas, scipy.special via the data layer)",
    ("report/terminal.py", "<module>"): "import bayesmeta.report.terminal (rich)",
    ("workflows/analyze.py", "analyze_model"): "analyze_model (all below)",
    ("frequentist/methods.py", "compute"): "  frequentist comparison",
    ("engines/nuts.py", "compile_model"): "  compile_model (the kernels' shared libraries)",
    ("engines/nuts.py", "sample"): "  sample (nutpie's NUTS, 4 chains x 3,000 draws)",
    ("engines/nutpie_adapter.py", "_trace"): "    of which arrow trace -> numpy arrays",
    ("engines/nuts.py", "diagnose"): "  diagnose (R-hat, bulk and tail ESS in one pass)",
    ("summaries/draws.py", "summarize"): "  summaries",
    ("report/terminal.py", "render"): "render report (rich)",
}
phases = dict.fromkeys(wanted.values(), 0.0)
for (path, _, func), row in stats.items():
    for (file, name), label in wanted.items():
        if path.endswith("/" + file) and func == name:
            phases[label] += row[3]
print(json.dumps({"total": total, "import bayesmeta.cli (typer)": t_import, **phases}))
"""

FIT_IMPORTS = ("numpy", "pandas", "pyarrow", "scipy.special._ufuncs", "typer", "pydantic",
               "rich.console", "bayesmeta.engines.nuts", "bayesmeta.report.terminal")  # fmt: skip


def fit_imports(env: dict[str, str]) -> list[tuple[str, float]]:
    """Cumulative import seconds of the main packages inside one warm ``bayesmeta fit``
    (``python -X importtime``; each counted where it is first imported)."""
    cmd = [PYTHON, "-X", "importtime", "-m", "bayesmeta", "fit", "--example", "bcg", "--quiet"]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    found: dict[str, float] = {}
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _, cumulative, name = (part.strip() for part in line.split("|"))
        if name in FIT_IMPORTS and cumulative.isdigit():
            found[name] = max(found.get(name, 0.0), int(cumulative) / 1e6)
    return sorted(found.items(), key=lambda kv: -kv[1])


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
        # set here: every bayesmeta module is compiled from source in every process (an
        # installed wheel has its .pyc files), which adds ~0.03-0.05 s to each command
        "PYTHONDONTWRITEBYTECODE": os.environ.get("PYTHONDONTWRITEBYTECODE", "unset"),
        **{pkg: version(pkg) for pkg in PACKAGES},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 repeats instead of 5")
    parser.add_argument("--no-fit-10000", action="store_true", help="skip the k = 10,000 fit")
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
        sim_details: dict = {}
        for k in (10, 100, 1000):
            csv = tmp_path / f"simulated_{k}.csv"
            subprocess.run([PYTHON, "-c", SIMULATE, str(k), str(csv)], check=True)
            print(f"timing: simulated binomial-normal, {k} studies ...", file=sys.stderr)
            rows.append(timed(f"`bayesmeta fit` on {k:,} simulated studies",
                              [BAYESMETA, "fit", str(csv), "--quiet"], warm_env,
                              max(2, repeats - 2) if k < 1000 else 3))  # fmt: skip
            detail = subprocess.run([PYTHON, "-c", FIT_SCRIPT, str(csv)], env=warm_env,
                                    capture_output=True, text=True)  # fmt: skip
            sim_details[k] = json.loads(detail.stdout.strip().splitlines()[-1])
            if k == 100:
                rows.append(timed("`bayesmeta classic` on 100 simulated studies (whole process)",
                                  [BAYESMETA, "classic", str(csv)], warm_env, repeats))  # fmt: skip
                inner = subprocess.run([PYTHON, "-c", CLASSIC_SCRIPT, str(csv)], env=warm_env,
                                       capture_output=True, text=True, check=True)  # fmt: skip
                sim_details[k]["classic_s"] = json.loads(inner.stdout)["classic_s"]
        csv = tmp_path / "simulated_10000.csv"
        subprocess.run([PYTHON, "-c", SIMULATE, "10000", str(csv)], check=True)
        rows.append(timed("`bayesmeta classic` on 10,000 simulated studies (whole process)",
                          [BAYESMETA, "classic", str(csv)], warm_env, repeats))  # fmt: skip
        print("timing: how cost grows with k (benchmarks/scaling.py) ...", file=sys.stderr)
        fit_ks = ["10", "100", "1000"] + ([] if args.no_fit_10000 else ["10000"])
        scaling_json = tmp_path / "scaling.json"
        scaling_cmd = [PYTHON, str(ROOT / "benchmarks" / "scaling.py"), "--ks", "10", "100",
                       "1000", "10000", "--fit-ks", *fit_ks, "--repeats", "1", "--json",
                       str(scaling_json)]  # fmt: skip
        subprocess.run(scaling_cmd, env=warm_env, check=True, stdout=subprocess.DEVNULL)
        scaling = json.loads(scaling_json.read_text())
        print("timing: batch of 200 ten-study meta-analyses ...", file=sys.stderr)
        batch = subprocess.run([PYTHON, str(ROOT / "benchmarks" / "batch.py")], env=warm_env,
                               capture_output=True, text=True, check=True)  # fmt: skip
        sim_details["batch"] = batch.stdout.strip().splitlines()[-2:]
        print("profiling the warm fit ...", file=sys.stderr)
        phase = subprocess.run([PYTHON, "-c", PHASES], env=warm_env, capture_output=True,
                               text=True)  # fmt: skip
        phases = json.loads(phase.stdout.strip().splitlines()[-1])
        in_fit = fit_imports(warm_env)
        imports = import_costs(warm_env)
    info["load_at_end"] = f"{os.getloadavg()[0]:.1f}"
    write_results(args.out, info, rows, sim_details, scaling, phases, in_fit, imports)
    print(f"wrote {args.out}", file=sys.stderr)


def _row(rows: list[dict], prefix: str) -> dict:
    return next((r for r in rows if r["name"].startswith(prefix) and "skipped" not in r), {})


def targets(rows: list[dict], batch: list[str] | None) -> list[str]:
    """The issue 13 targets beside what was measured (medians; R + Stan from the issue)."""
    warm = _row(rows, "`bayesmeta fit --example bcg`, warm")
    exact = _row(rows, "`bayesmeta fit --example bcg --model normal-normal`")
    classic = _row(rows, "`bayesmeta classic --example bcg`")
    large = _row(rows, "`bayesmeta fit` on 1,000 simulated")
    rate = next((line for line in batch or [] if "per second" in line), "")
    per_second = rate.split(" s, ")[1].split(" per second")[0] if " s, " in rate else "?"

    def cell(row: dict, key: str = "median_s") -> str:
        return f"{row[key]:.2f}" if row else "n/a"

    return [
        "| target (issue 13) | limit | measured median s (CPU s) |",
        "|---|---|---|",
        f"| warm `fit --example bcg`, whole process | <= 1.3 s (0.30 x R + Stan 4.0-4.6 s) | "
        f"{cell(warm)} ({cell(warm, 'cpu_s')}) |",
        f"| `fit --model normal-normal` vs `classic` on bcg | at most as slow | "
        f"{cell(exact)} ({cell(exact, 'cpu_s')}) vs {cell(classic)} ({cell(classic, 'cpu_s')}) |",
        f"| `fit` on 1,000 simulated studies | <= 19 s (0.25 x R + Stan 74-76 s) | "
        f"{cell(large)} ({cell(large, 'cpu_s')}) |",
        f"| batch of ten-study meta-analyses, 2 workers | >= 8 per second | {per_second} per s |",
    ]


def growth(scaling: dict) -> list[str]:
    """The table of how the cost of classic and fit grows with k."""
    classic, fit = scaling.get("classic", {}), scaling.get("fit", {})
    ks = sorted({int(k) for k in classic} | {int(k) for k in fit})
    lines = [
        "| k | `classic` process s | `classic()` in process s | `fit` process s | "
        "sampling s | R-hat/ESS s | summaries s | frequentist s |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for k in ks:
        c, f = classic.get(str(k), {}), fit.get(str(k), {})

        def num(d: dict, key: str, fmt: str = ".2f") -> str:
            return format(d[key], fmt) if key in d else "-"

        lines.append(
            f"| {k:,} | {num(c, 'cli')} | {num(c, 'classic', '.3f')} | {num(f, 'process')} | "
            f"{num(f, 'sample')} | {num(f, 'diagnose')} | {num(f, 'summaries')} | "
            f"{num(f, 'frequentist')} |"
        )
    return lines


def write_results(
    out: Path,
    info: dict[str, str],
    rows: list[dict],
    sims: dict,
    scaling: dict,
    phases: dict[str, float],
    in_fit: list[tuple[str, float]],
    imports: list[tuple[str, float]],
) -> None:
    batch = sims.pop("batch", None)
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
        "## Targets",
        "",
        *targets(rows, batch),
        "",
        "The machine is shared: its load average (above; 2 cores) shows how much other programs",
        "ran meanwhile. CPU seconds (user + system of the process) are disturbed far less.",
        "",
        "## Whole processes",
        "",
        "Median wall time of N runs after one warm-up (cold: caches emptied before each run);",
        "CPU is the median user + system time; peak memory is the largest `ru_maxrss` of the",
        "child over the runs; load is the 1-minute load average after the runs.",
        "",
        "| what | median s | min s | max s | CPU s | peak MB | runs | load |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        if "skipped" in row:
            lines.append(f"| {row['name']} | skipped ({row['skipped']}) | | | | | | |")
            continue
        lines.append(
            f"| {row['name']} | {row['median_s']:.2f} | {row['min_s']:.2f} | "
            f"{row['max_s']:.2f} | {row['cpu_s']:.2f} | {row['peak_mb']:.0f} | {row['runs']} | "
            f"{row['load']:.1f} |"
        )
    lines += [
        "",
        "Simulated binomial-normal fits (4 chains x 2,000 draws, tune 1,000; in-process times "
        "of one run):",
        "",
        "| studies | load s | fit s (kernels + sample + diagnose) | converged | R-hat max | "
        "min ESS | divergences |",
        "|---:|---:|---:|---|---:|---:|---:|",
    ]
    for k, d in sims.items():
        lines.append(
            f"| {k:,} | {d['load_s']:.2f} | {d['fit_s']:.2f} | {d['converged']} | "
            f"{d['rhat_max']:.3f} | {d['ess_min']:.0f} | {d['divergences']} |"
        )
    if "classic_s" in sims.get(100, {}):
        lines += [
            "",
            f"`classic()` (every frequentist estimator, GLMM included) on the 100 simulated "
            f"studies, in process after start-up: {sims[100]['classic_s']:.3f} s.",
        ]
    lines += [
        "",
        "## How cost grows with k (`python benchmarks/scaling.py`, one run each)",
        "",
        "Simulated studies (arms of 20-200, control risk 0.2; see the script). `fit` is the",
        "default model and sampler on both cores; its steps are timed one by one in process.",
        "",
        *growth(scaling),
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
        "Imports inside that fit (`python -X importtime -m bayesmeta fit --example bcg`;",
        "cumulative, each where it is first imported, so nested ones overlap):",
        "",
        "| module | s |",
        "|---|---:|",
        *(f"| {name} | {sec:.3f} |" for name, sec in in_fit),
        "",
        "Import cost of the heavy packages, each alone in a fresh process (median of 3; each",
        "includes what it imports, so they overlap). A warm `fit` imports pandas and none of",
        "the others: nutpie only as its extension module, numba only to build the kernels once:",
        "",
        "| package | s |",
        "|---|---:|",
        *(f"| {name} | {sec:.2f} |" for name, sec in imports),
        "",
        *_kept_sections(out),
        NOTES,
    ]
    out.write_text("\n".join(lines) + "\n")


def _kept_sections(out: Path) -> list[str]:
    """Sections other scripts write into the file (benchmarks/exact_binomial.py,
    benchmarks/bias.py), kept."""
    text = out.read_text() if out.exists() else ""
    kept = []
    for name in ("exact_binomial", "bias"):
        begin, end = f"<!-- {name}: begin -->", f"<!-- {name}: end -->"
        if begin in text:
            kept += [begin + text.split(begin, 1)[1].split(end, 1)[0] + end, ""]
    return kept


NOTES = """## Notes

- History. Before commit 17eb6fb a warm `bayesmeta fit --example bcg` took 12 s
  (`nutpie.compile_pymc_model` re-typed nutpie's numba C-callback wrappers in every process).
  Hand-written kernels cached by numba brought it to 2-2.7 s; issue 13 measured 1.8-2.1 s for
  it, 30 s for 1,000 studies, 4.2-5.2 meta-analyses per second in a batch, and 2.0-2.6 s for
  `fit --model normal-normal`.
- What issue 13 changed, every number unchanged (tested bit for bit) unless said:
  - `bayesmeta.engines.nutpie_adapter.sample` drives nutpie's Rust sampler through
    `nutpie._lib`, loaded without the `nutpie` package, whose `sample` module imports xarray
    and ArviZ. The draws become numpy arrays (`engines.draws.Draws`); the DataTree is built
    only when asked for (`--save-posterior`, `--compare`, `result.idata`), identical to
    `nutpie.sample`'s. That also made Ctrl-C raise instead of returning a short trace.
  - The kernels are numba's code linked once by `cc` into shared libraries under the cache
    directory (`engines.native`): a fit no longer imports numba (0.5 s). Without a C compiler
    numba's disk cache serves as before.
  - The kernels share `exp(-|x|)` and `log1p` between the three logistic terms of a binomial
    and compute the baseline prior's constants once per gradient: 62 -> 32 us per gradient at
    k = 1,000, the same bits (compared with the straightforward formulas in the tests).
  - R-hat, bulk and tail ESS in one pass (`diagnostics.rhat_ess`, a fifth less); the per-study
    summaries in one numpy call; draws converted without filling arrays first.
  - `fit --model normal-normal`: the prior's density without importing scipy.stats (the same
    bits, `model.densities`), scipy.optimize only for HDIs, and the odds-ratio (proportion)
    means and SDs exact instead of from 40,000 draws (1.3 s). These four numbers changed, by
    their former Monte Carlo error; `tests/summaries/test_exact.py` integrates them
    independently and agrees with the new values to 1e-5.
- What remains in the warm single fit (profile above): importing numpy, pandas (with
  pyarrow) and scipy.special, which the data layer and the frequentist rows need (about half a
  second together); typer with pydantic (~0.1 s); nutpie's sampling (0.3-0.4 s wall: 12,000
  draws at about 11 us of nutpie's own work each, the gradient being under 1 us at k = 13);
  the report (rich, ~0.05 s).
- Large k: sampling is 80-90% of a fit. At k = 1,000 about 370,000 gradients of 32 us (two
  `exp` and two `log1p` per study; vector math would change the numbers) make ~12 CPU
  seconds, split over both cores when they are free; R-hat/ESS (1.3-1.7 s, argsort and FFTs of
  1,003 quantities), the summaries (0.3-0.4 s, quantiles of 1,000 studies) and the 1,000-row
  terminal table (rich, ~0.7 s) follow. At k = 10,000 the fit takes about 5 minutes and
  5 GB: nutpie keeps every draw of the 30,000 expanded values (alpha, z, theta) of all
  12,000 iterations (tuning included) in its arrow trace before they become arrays.
- `classic` is linear in k (0.3 s in process at k = 10,000). Its leave-one-out and cumulative
  analyses refit k times, so they are quadratic by nature (11-19 s at k = 10,000); they show a
  progress bar on a terminal.
- A batch fit costs about 0.19 CPU seconds (sampling 0.13 s, R-hat/ESS 0.03 s, refits of one
  in nine included), so two free cores give about 10 meta-analyses per second; what other
  programs take of the machine comes off that (the batch line prints their CPU time).
- The machine is shared with other jobs (see the load averages); wall times vary by +-30 %,
  CPU times much less.
"""


if __name__ == "__main__":
    main()
