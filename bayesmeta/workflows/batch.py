"""Many meta-analyses in one run: one result row each, resumable, on local cores or Dask.

Input is a long CSV with a column naming the meta-analysis, a folder of CSVs (one
meta-analysis per file, named by file stem) or a TOML file listing CSVs. Each meta-analysis is
validated with :func:`bayesmeta.io.counts.load` and fitted with
:func:`bayesmeta.workflows.analyze.analyze`
in a worker process; its row (posterior summaries, diagnostics, frequentist estimates, status)
is appended to a JSON-lines progress file as soon as it finishes, flushed and fsync'ed, so an
interrupted run loses nothing and a rerun skips what is already there. The seed of each
meta-analysis is derived from the base seed and its name (:func:`derive_seed`), so a row equals
what ``analyze`` gives for that meta-analysis alone with that seed, whichever worker ran it and
in whatever order. Columns are listed in ``docs/batch.md``.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import hashlib
import json
import math
import multiprocessing
import os
import platform
import re
import signal
import sys
import time
import tomllib
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bayesmeta import progress
from bayesmeta.engines.nuts import ConvergenceWarning, SamplerSettings
from bayesmeta.errors import BayesmetaError, OptionError
from bayesmeta.frequentist.methods import METHODS, REPORTED, design_of
from bayesmeta.frequentist.results import Estimate, PooledEstimate
from bayesmeta.io.counts import StudyData, TwoArmData, looks_like_data, read_table
from bayesmeta.io.output import check_writable, spreadsheet_safe, write_atomic
from bayesmeta.io.table import TableFile, check_file
from bayesmeta.model.priors import Prior, check_for_sampler, check_scale_prior, parse_prior
from bayesmeta.summaries.types import Summary
from bayesmeta.workflows.analyze import AnalysisResult

DEFAULT_GROUP_COLUMN = "meta_analysis"

# Frequentist methods put beside the posterior (column prefixes from the method registry).
TWO_ARM_METHODS = ("mantel_haenszel", "random_dl", "random_reml", "random_reml_hksj")
SINGLE_ARM_METHODS = ("random_dl", "random_reml")
REPORTED_METHODS = ("random_dl", "random_reml", "random_reml_hksj")  # no counts: no MH
_METHOD_FIELDS = ("estimate", "ci_lower", "ci_upper", "tau2", "i2")

COLUMNS: tuple[str, ...] = (
    "name",
    "status",
    "reason",
    "model",
    "k",
    "seed",
    "mu_median",
    "mu_ci_lower",
    "mu_ci_upper",
    "tau_median",
    "tau_ci_lower",
    "tau_ci_upper",
    "or_median",
    "or_ci_lower",
    "or_ci_upper",
    "theta_new_ci_lower",
    "theta_new_ci_upper",
    "prob_mu_below_0",
    "rhat_max",
    "ess_bulk_min",
    "ess_tail_min",
    "divergences",
    "converged",
    "refitted",
    "seconds",
    *(f"{METHODS[m].column}_{f}" for m in TWO_ARM_METHODS for f in _METHOD_FIELDS),
    "options",
)


BATCH_ENGINES = ("nuts", "exact", "auto")  # as --engine of fit


@dataclass(frozen=True)
class BatchOptions:
    """Model options shared by every meta-analysis of a batch (those of ``bayesmeta fit``).

    A prior left as None takes the model's default (``docs/priors.md``), so two-arm and
    single-arm meta-analyses can share a batch. ``settings.seed`` is the base
    seed from which each meta-analysis' own seed is derived. ``measure`` puts the frequentist
    columns of two-arm counts on the log risk ratio (``"RR"``) or the risk difference
    (``"RD"``) instead of the log odds ratio; the posterior columns stay on the model's scale.
    """

    prior_mu: Prior | None = None
    prior_tau: Prior | None = None
    prior_baseline: Prior | None = None
    common_effect: bool = False
    settings: SamplerSettings = field(default_factory=SamplerSettings)
    engine: str = "nuts"
    measure: str | None = None

    def __post_init__(self) -> None:
        """Refuse priors the sampler cannot handle, a tau prior with mass below 0 and an
        unknown engine, before any meta-analysis is fitted."""
        if self.engine not in BATCH_ENGINES:
            raise OptionError(
                f"unknown engine {self.engine!r}; choose one of {', '.join(BATCH_ENGINES)}"
            )
        for name, prior in self.priors().items():
            if prior is not None:
                check_for_sampler(prior, name)
        if self.prior_tau is not None:
            check_scale_prior(self.prior_tau, "tau")

    @classmethod
    def from_strings(
        cls,
        *,
        prior_mu: str | None = None,
        prior_tau: str | None = None,
        prior_baseline: str | None = None,
        common_effect: bool = False,
        settings: SamplerSettings | None = None,
        engine: str = "nuts",
        measure: str | None = None,
    ) -> BatchOptions:
        """Options from CLI prior strings such as ``"half-normal(0.5)"``.

        Raises
        ------
        BayesmetaError
            A measure other than OR, RR, RD.
        """
        measure = measure.upper() if measure else None
        if measure not in (None, "OR", "RR", "RD"):
            raise BayesmetaError(f"--measure {measure}: a batch's measure is OR, RR or RD")
        measure = None if measure == "OR" else measure  # the default, and the same rows
        return cls(
            prior_mu=parse_prior(prior_mu) if prior_mu else None,
            prior_tau=parse_prior(prior_tau) if prior_tau else None,
            prior_baseline=parse_prior(prior_baseline) if prior_baseline else None,
            common_effect=common_effect,
            settings=settings or SamplerSettings(),
            engine=engine,
            measure=measure,
        )

    def priors(self) -> dict[str, Prior | None]:
        """The given priors by name (None: the model's default)."""
        return {"mu": self.prior_mu, "tau": self.prior_tau, "baseline": self.prior_baseline}

    def describe(self) -> str:
        """One-line text of the options; rows carry it so a resume can check it matches."""
        s = self.settings
        priors = ", ".join(
            f"{n}={p if p is not None else 'default'}"
            for n, p in (
                ("mu", self.prior_mu),
                ("tau", self.prior_tau),
                ("baseline", self.prior_baseline),
            )
        )
        measure = f"measure={self.measure}; " if self.measure else ""
        text = (
            f"{priors}; {measure}common_effect={self.common_effect}; chains={s.chains} "
            f"draws={s.draws} "
            f"tune={s.tune} seed={s.seed} target_accept={s.target_accept or 'per model'}"
        )
        # NUTS rows keep the text earlier versions wrote (a resume compares it)
        return text if self.engine == "nuts" else f"{text}; engine={self.engine}"


@dataclass(frozen=True)
class Job:
    """One meta-analysis to run: its name and its study rows (a DataFrame, a CSV path or one
    outcome of a RevMan file)."""

    name: str
    source: pd.DataFrame | Path | TableFile = field(repr=False)


def methods_for(data: StudyData) -> tuple[str, ...]:
    """The frequentist methods a batch row reports for ``data`` (reported estimates, also
    beside counts in a mixed table: those of the effects, with Hartung-Knapp)."""
    if isinstance(data, TwoArmData):
        return TWO_ARM_METHODS
    return REPORTED_METHODS if design_of(data) == REPORTED else SINGLE_ARM_METHODS


def derive_seed(base: int, name: str) -> int:
    """The seed of meta-analysis ``name``: the first 4 bytes of SHA-256 of ``"base:name"``.

    It depends only on the base seed and the name, never on the order or the worker, and
    stays below 2**32 (valid for numpy and nutpie).
    """
    digest = hashlib.sha256(f"{base}:{name}".encode()).digest()
    return int.from_bytes(digest[:4], "little")


# --- input -------------------------------------------------------------------------------


def jobs_from_frame(frame: pd.DataFrame, group_column: str = DEFAULT_GROUP_COLUMN) -> list[Job]:
    """Split a long table into one job per value of ``group_column`` (first-appearance order)."""
    if group_column not in frame.columns and not looks_like_data(frame):
        raise BayesmetaError(  # quoting none of it: it may be any file
            "the input does not look like a long table of studies: no column of its header "
            f"has a known name; expected a table with a {group_column!r} column and "
            "the study columns, e.g. meta_analysis,study,treatment_events,treatment_total,"
            "control_events,control_total"
        )
    if group_column not in frame.columns:
        raise BayesmetaError(
            f"group column {group_column!r} is not in the data "
            f"(columns: {', '.join(map(str, frame.columns))}); choose it with --group-column"
        )
    names = frame[group_column].astype(str).str.strip()
    if (names == "").any():
        row = int(np.flatnonzero((names == "").to_numpy())[0]) + 1
        raise BayesmetaError(f"row {row}: the meta-analysis name in {group_column!r} is missing")
    rest = frame.drop(columns=[group_column])
    return [Job(name, rest[names == name].reset_index(drop=True)) for name in dict.fromkeys(names)]


def read_toml(path: Path) -> dict[str, Any]:
    """The table of the TOML file ``path``.

    Raises
    ------
    BayesmetaError
        One line naming the file: unreadable, not UTF-8 (TOML is UTF-8 by definition), or not
        valid TOML.
    """
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BayesmetaError(
            f"{path}: not UTF-8 text (byte {exc.object[exc.start]:#04x} at offset {exc.start}); "
            "save it as UTF-8"
        ) from None
    except OSError as exc:
        raise BayesmetaError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise BayesmetaError(f"{path}: not valid TOML: {exc}") from None


def _jobs_from_toml(path: Path) -> list[Job]:
    """``files = ["a.csv", ...]`` (named by stem) and/or ``[meta_analyses]`` name = "file.csv".

    Raises
    ------
    BayesmetaError
        Unknown keys, or a value of the wrong type, naming the type expected.
    """
    spec = read_toml(path)
    unknown = set(spec) - {"files", "meta_analyses"}
    if unknown:
        raise BayesmetaError(
            f"{path}: unknown key(s) {', '.join(sorted(unknown))}; valid: files, meta_analyses"
        )
    files = spec.get("files", [])
    if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
        raise BayesmetaError(
            f'{path}: files must be a list of CSV paths, e.g. files = ["a.csv"], got {files!r}'
        )
    named = spec.get("meta_analyses", {})
    if not isinstance(named, dict) or not all(isinstance(f, str) for f in named.values()):
        raise BayesmetaError(
            f'{path}: [meta_analyses] must be a table of name = "file.csv", got {named!r}'
        )
    pairs = [(Path(f).stem, f) for f in files] + list(named.items())
    if not pairs:
        raise BayesmetaError(f"{path}: no meta-analyses listed (files = [...] or [meta_analyses])")
    jobs = [Job(str(name), path.parent / str(file)) for name, file in pairs]
    _check_unique(jobs, str(path))
    return jobs


def _check_unique(jobs: Sequence[Job], where: str) -> None:
    seen: set[str] = set()
    for job in jobs:
        if job.name in seen:
            raise BayesmetaError(f"{where}: meta-analysis name {job.name!r} appears twice")
        seen.add(job.name)


def read_jobs(
    source: str | Path, *, group_column: str = DEFAULT_GROUP_COLUMN, sheet: str | None = None
) -> list[Job]:
    """The meta-analyses of a long table, a folder of CSVs, a TOML list or a RevMan review.

    Parameters
    ----------
    source
        ``*.csv``: a long table, one row per study, ``group_column`` naming the
        meta-analysis. A folder: every ``*.csv`` in it, named by file stem. ``*.toml``:
        ``files = [...]`` and/or a ``[meta_analyses]`` table of name = path (relative to the
        TOML file). ``*.rm5``: every outcome of the RevMan 5 review, named by its number and
        name (``1.2 Mortality``); one RevMan cannot analyse (continuous...) fails with the
        reason. A workbook (``.xlsx``, ``.xls``, ``.ods``): a long table on ``sheet`` (default:
        found as for one meta-analysis).
    group_column
        Column of the long table that names the meta-analysis.
    sheet
        The workbook's sheet (name or number).

    Raises
    ------
    BayesmetaError
        Unreadable input, a missing group column or duplicate names. Problems inside one
        meta-analysis' data are not raised here: they become that meta-analysis' failure.
    """
    path = Path(source)
    if path.is_dir():
        files = sorted(path.glob("*.csv"))
        if not files:
            raise BayesmetaError(f"{path}: the folder has no *.csv files")
        return [Job(f.stem, f) for f in files]
    check_file(path)
    if path.suffix.lower() == ".toml":
        return _jobs_from_toml(path)
    if path.suffix.lower() == ".rm5":
        from bayesmeta.io.revman import read_review

        review = read_review(path)
        if not review.outcomes:
            raise BayesmetaError(f"{path}: the review has no outcomes")
        return [
            Job(f"{o.number} {o.name}", TableFile(path, outcome=o.number)) for o in review.outcomes
        ]
    frame, _ = read_table(TableFile(path, sheet=sheet))
    return jobs_from_frame(frame, group_column)


def input_files(source: str | Path, jobs: Sequence[Job]) -> list[Path]:
    """Every file a batch reads: the source (CSV, TOML or folder) and each job's CSV."""
    return [Path(source), *(job.source for job in jobs if isinstance(job.source, Path))]


def check_not_an_input_folder(outputs: Sequence[Path], inputs: Sequence[Path]) -> None:
    """Refuse an output in a folder of input CSVs: the next run would read it as a job.

    Raises
    ------
    BayesmetaError
        Naming the output and the folder.
    """
    folders = [p.resolve() for p in inputs if p.is_dir()]
    for path in outputs:
        if path.suffix.lower() == ".csv" and path.resolve().parent in folders:
            raise BayesmetaError(
                f"cannot write {path} into {path.parent}: the next run would read it as a "
                "meta-analysis; write the results outside the input folder"
            )


# --- one meta-analysis ---------------------------------------------------------------------


def _interval(prefix: str, summary: Summary | None) -> dict[str, float]:
    lo, hi = summary.interval if summary is not None else (math.nan, math.nan)
    return {f"{prefix}_ci_lower": lo, f"{prefix}_ci_upper": hi}


def _frequentist_columns(estimates: dict[str, Estimate], names: Sequence[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in names:
        prefix = METHODS[name].column
        e = estimates.get(name)
        pooled = e if isinstance(e, PooledEstimate) else None
        out[f"{prefix}_estimate"] = pooled.estimate if pooled else math.nan
        out[f"{prefix}_ci_lower"], out[f"{prefix}_ci_upper"] = (
            pooled.ci if pooled else (math.nan, math.nan)
        )
        tau2 = pooled.tau2 if pooled else None
        i2 = pooled.i2 if pooled else None
        out[f"{prefix}_tau2"] = tau2 if tau2 is not None else math.nan
        out[f"{prefix}_i2"] = i2 if i2 is not None else math.nan
    return out


def result_row(
    name: str, result: AnalysisResult, seed: int, options: BatchOptions, seconds: float = math.nan
) -> dict[str, Any]:
    """The batch row of one :class:`~bayesmeta.workflows.analyze.AnalysisResult`
    (``seconds``: the fit's time where no sampler measured it, the exact engine)."""
    post, diag = result.posterior, result.diagnostics
    odds = post.pooled if result.scale.pooled == "odds_ratio" else None
    sampled = {  # the exact engine has no draws: nothing to diagnose
        "rhat_max": diag.rhat_max if diag else math.nan,
        "ess_bulk_min": diag.ess_bulk_min if diag else math.nan,
        "ess_tail_min": diag.ess_tail_min if diag else math.nan,
        "divergences": diag.divergences if diag else 0,
        "converged": diag.converged if diag else True,
        "refitted": diag.refitted if diag else False,
        "seconds": diag.seconds if diag else seconds,
    }
    row: dict[str, Any] = {
        "name": name,
        "status": "ok",
        "reason": "" if diag is None or diag.converged else "; ".join(diag.problems),
        "model": result.model,
        "k": result.data.k,
        "seed": seed,
        "mu_median": post.mu.median,
        **_interval("mu", post.mu),
        "tau_median": post.tau.median if post.tau else math.nan,
        **_interval("tau", post.tau),
        "or_median": odds.median if odds else math.nan,
        **_interval("or", odds),
        **_interval("theta_new", post.theta_new),
        "prob_mu_below_0": post.prob_mu_below_0,
        **sampled,
    }
    row.update(_frequentist_columns(result.frequentist, methods_for(result.data)))
    row["options"] = options.describe()
    return row


def failure_row(name: str, reason: str, seed: int, options: BatchOptions) -> dict[str, Any]:
    """The row of a meta-analysis that could not be fitted, with the reason."""
    return {
        "name": name,
        "status": "failed",
        "reason": reason,
        "seed": seed,
        "options": options.describe(),
    }


def run_one(job: Job, options: BatchOptions) -> dict[str, Any]:
    """Validate and fit one meta-analysis; a user-data problem becomes a failure row.

    Runs in a worker. A :class:`BayesmetaError` (invalid counts, too few studies...) is the
    expected failure; any other exception (e.g. the sampler failing on degenerate data) is
    recorded too, with its type, so one meta-analysis never stops a batch.
    """
    from bayesmeta.io.counts import load
    from bayesmeta.workflows.analyze import analyze

    seed = derive_seed(options.settings.seed, job.name)
    try:
        data = load(job.source)
        start = time.perf_counter()
        with warnings.catch_warnings():  # the table's converged column says it, row by row
            warnings.simplefilter("ignore", ConvergenceWarning)
            result = analyze(
                data,
                priors=options.priors(),
                settings=replace(options.settings, seed=seed),
                common_effect=options.common_effect,
                frequentist=methods_for(data),
                engine=options.engine,
                measure=options.measure if isinstance(data, TwoArmData) else None,
            )
        seconds = time.perf_counter() - start
    except BayesmetaError as exc:
        return failure_row(job.name, str(exc), seed, options)
    except Exception as exc:  # recorded with its type, not swallowed (see docstring)
        return failure_row(job.name, f"{type(exc).__name__}: {exc}", seed, options)
    return result_row(job.name, result, seed, options, seconds)


# --- progress file ---------------------------------------------------------------------------

# Key of a progress row holding the SHA-256 of its meta-analysis' data (not a table column).
INPUT_KEY = "input_sha256"


def job_fingerprint(job: Job) -> str | None:
    """SHA-256 of a job's data: its file's bytes (with how it is read: a RevMan outcome, a
    sheet...), or its rows as CSV text (None: the file cannot be read, and the job will fail
    saying why).

    A progress row records it, so a resumed batch fits again each meta-analysis whose data
    changed since its row was written instead of mixing old results with new data.
    """
    if isinstance(job.source, pd.DataFrame):
        return hashlib.sha256(job.source.to_csv(index=False).encode()).hexdigest()
    try:
        digest = hashlib.sha256(Path(job.source).read_bytes())
    except OSError:
        return None
    if isinstance(job.source, TableFile):
        digest.update(repr(replace(job.source, path=Path())).encode())
    return digest.hexdigest()


class ProgressWarning(UserWarning):
    """A line of a batch progress file that is not a result row (its meta-analysis is
    fitted again)."""


def _row_problem(row: Any) -> str | None:
    """Why a parsed progress line is not a result row (None: it is one)."""
    if not isinstance(row, dict):
        return f"a JSON {type(row).__name__}, not an object"
    if not isinstance(row.get("name"), str):
        return "no meta-analysis name"
    if row.get("status") not in ("ok", "failed"):
        return "no status ok or failed"
    if row["status"] == "ok" and "mu_ci_low" in row:
        return "written by an earlier bayesmeta, with columns *_ci_low/*_ci_high"
    return None


def read_progress(path: Path) -> dict[str, dict[str, Any]]:
    """Rows already in the JSON-lines file, by name; a torn last line is cut off the file.

    A line is only torn if the process died while writing it (each line is fsync'ed). Any
    other line that is not a result row (not JSON, ``{}``, ``[1, 2]``, no name or status) is
    reported by a :class:`ProgressWarning` and skipped, so its meta-analysis is fitted again.
    """
    if not path.exists():
        return {}
    text = path.read_text(errors="replace")
    complete = text[: text.rfind("\n") + 1]
    if complete != text:
        with path.open("r+") as fh:
            fh.truncate(len(complete.encode()))
    rows = {}
    for number, line in enumerate(complete.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            problem: str | None = "not JSON"
        else:
            problem = _row_problem(row)
        if problem is not None:
            warnings.warn(
                f"{path}: line {number} is not a result row ({problem}); skipped, its "
                "meta-analysis is fitted again",
                ProgressWarning,
                stacklevel=2,
            )
            continue
        rows[row["name"]] = row
    return rows


def _json_value(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def append_row(path: Path, row: dict[str, Any]) -> None:
    """Append ``row`` as one JSON line, flushed and fsync'ed before returning."""
    line = json.dumps({k: _json_value(v) for k, v in row.items()}, allow_nan=False)
    with path.open("a") as fh:
        fh.write(line + "\n")
        fh.flush()
        os.fsync(fh.fileno())


# --- running -------------------------------------------------------------------------------


def _worker_started() -> None:
    """In each local worker: leave Ctrl-C to the parent (which stops the workers), and on
    Linux die with the parent even if it is killed outright (SIGKILL)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM, 0, 0, 0)
        if os.getppid() == 1:  # the parent died before prctl took effect
            os._exit(1)


def stop_workers(executor: cf.ProcessPoolExecutor, timeout: float = 10.0) -> None:
    """Cancel what has not started and terminate the worker processes, waiting for them.

    ``shutdown(cancel_futures=True)`` alone lets every running fit finish (minutes for a large
    one) with nobody to record it; the workers are terminated (SIGTERM, then SIGKILL)
    instead. Python 3.14 has ``terminate_workers()``; before, the processes are in
    ``_processes``. The executor's manager thread is waited for too: until it ends it holds
    the queues' named semaphores, and a process that exits before they are released leaves
    multiprocessing's resource tracker to print "leaked semaphore" warnings after the
    command's last line.
    """
    processes = list((getattr(executor, "_processes", None) or {}).values())
    manager = getattr(executor, "_executor_manager_thread", None)
    executor.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.terminate()
    deadline = time.monotonic() + timeout
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
        if process.is_alive():
            process.kill()
            process.join(1.0)
    if manager is not None:
        manager.join(max(1.0, deadline - time.monotonic()))


# A Dask scheduler address: [protocol://]host[:port], the host a name, IPv4 or [IPv6].
_SCHEDULER = re.compile(
    r"(?:(?:tcp|tls|ucx|ws|wss)://)?(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])"
    r"(?::(?P<port>[0-9]{1,5}))?"
)
CONNECT_TIMEOUT = 5.0  # seconds to reach a scheduler (Dask's default is 30)


def check_scheduler(address: str) -> str:
    """``address`` if it has the form of a Dask scheduler address (``tcp://host:8786``).

    Raises
    ------
    BayesmetaError
        Any other form, or a port outside 1-65535.
    """
    match = _SCHEDULER.fullmatch(address.strip())
    port = match.group("port") if match else None
    if match is None or (port is not None and not 1 <= int(port) <= 65535):
        raise BayesmetaError(
            f"--scheduler {address!r} is not a Dask scheduler address; give e.g. "
            "tcp://127.0.0.1:8786"
        )
    return address.strip()


def _connect(scheduler: str) -> Any:
    """A Dask client of ``scheduler``, or a one-line error within :data:`CONNECT_TIMEOUT`."""
    try:
        from distributed import Client
    except ImportError:
        raise BayesmetaError(
            "--scheduler needs dask.distributed: pip install 'bayesmeta[dask]'"
        ) from None
    try:
        return Client(scheduler, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError, ValueError) as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise BayesmetaError(
            f"cannot reach the Dask scheduler at {scheduler} within {CONNECT_TIMEOUT:g} s "
            f"({reason}); start it (dask scheduler) or check the address"
        ) from None


@contextmanager
def _executor(scheduler: str | None, workers: int) -> Iterator[cf.Executor]:
    """Worker processes on this machine, or a Dask cluster's executor if ``scheduler`` is set.

    Local workers are stopped (not left to finish their fits) when the batch is interrupted or
    fails; they ignore Ctrl-C themselves and die with the parent process (Linux).
    """
    if scheduler is not None:
        with _connect(scheduler) as client, client.get_executor() as executor:
            yield executor
        return
    context = multiprocessing.get_context("spawn")  # no forked numba/Rust thread state
    executor = cf.ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=_worker_started
    )
    try:
        yield executor
    except BaseException:  # Ctrl-C or an error: do not keep fitting what will not be recorded
        stop_workers(executor)
        raise
    executor.shutdown(wait=True)


def _progress_bar(total: int, done: int, enabled: bool | None) -> Any:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    bar = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        disable=not (progress.active() if enabled is None else enabled),
    )
    bar.add_task("meta-analyses", total=total, completed=done)
    return bar


def run_batch(
    jobs: Sequence[Job],
    options: BatchOptions,
    progress_file: str | Path,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    show_progress: bool | None = None,
) -> pd.DataFrame:
    """Fit every job not yet in ``progress_file``; return all rows in job order.

    Parameters
    ----------
    jobs
        Meta-analyses with unique names (see :func:`read_jobs`, :func:`jobs_from_frame`).
    options
        Priors, sampler settings (base seed) and common effect, shared by all jobs.
    progress_file
        JSON-lines file; rows are appended as jobs finish and read back on a rerun.
    workers
        Local worker processes (default: the number of cores); 1 runs in this process.
        Ignored when ``scheduler`` is given.
    scheduler
        Address of a Dask scheduler (``tcp://host:8786``): run the jobs on that cluster.
    show_progress
        Show a rich progress bar on stderr (None: if :mod:`bayesmeta.progress` is on, as
        under the command line on a terminal without ``--quiet``).

    Returns
    -------
    pandas.DataFrame
        One row per job (columns :data:`COLUMNS`), in the order of ``jobs``.

    Raises
    ------
    BayesmetaError
        Duplicate names, or a progress file written with other options.
    """
    _check_unique(jobs, "batch")
    path = Path(progress_file)
    done = read_progress(path)
    described = options.describe()
    other = {r.get("options") for r in done.values()} - {described}
    if other:
        raise BayesmetaError(
            f"{path} holds results made with other options ({other.pop()}); "
            "rerun with the same options, or remove the file (--force) to start over"
        )
    prints = {job.name: job_fingerprint(job) for job in jobs}
    changed = [
        j.name for j in jobs if j.name in done and done[j.name].get(INPUT_KEY) != prints[j.name]
    ]
    if changed:
        warnings.warn(
            f"{path}: the data of {len(changed)} meta-analys{'is' if len(changed) == 1 else 'es'} "
            f"changed since {'its row was' if len(changed) == 1 else 'their rows were'} written "
            f"({', '.join(map(repr, changed[:5]))}{', ...' if len(changed) > 5 else ''}); "
            "fitted again",
            ProgressWarning,
            stacklevel=2,
        )
        for name in changed:
            del done[name]
    todo = [job for job in jobs if job.name not in done]
    workers = workers or os.cpu_count() or 1
    with _progress_bar(len(jobs), len(jobs) - len(todo), show_progress) as bar:
        task = bar.task_ids[0]
        if todo and scheduler is None and workers == 1:
            for job in todo:
                with progress.shown(False):  # one bar: the batch's
                    row = run_one(job, options)
                done[job.name] = _record(path, row, prints, bar, task)
        elif todo:
            run_options = options if scheduler is not None else one_core_per_worker(options)
            with _executor(scheduler, workers) as executor:
                futures = [executor.submit(run_one, job, run_options) for job in todo]
                for future in cf.as_completed(futures):
                    row = future.result()
                    done[row["name"]] = _record(path, row, prints, bar, task)
    return pd.DataFrame([done[job.name] for job in jobs], columns=list(COLUMNS))


def one_core_per_worker(options: BatchOptions) -> BatchOptions:
    """``options`` with each fit's chains run one after another (``cores=1``), for local workers.

    nutpie's default (``cores=None``) starts a sampler thread per core for every fit, so N
    worker processes on N cores would run up to N x min(chains, N) threads; with one thread per
    fit the worker processes alone share out the cores. On 2 cores the throughput is the same
    either way (docs/batch.md, "Throughput"); the threads stay as many as the workers on larger
    machines too. The draws do not depend on ``cores`` (each chain's generator is seeded from
    the seed and the chain number; tested in tests/workflows/test_batch.py), so rows still equal
    single
    fits, and ``describe()`` leaves ``cores`` out, so progress files resume across this choice.
    """
    return replace(options, settings=replace(options.settings, cores=1))


def _record(
    path: Path, row: dict[str, Any], prints: dict[str, str | None], bar: Any, task: Any
) -> dict[str, Any]:
    row = {**row, INPUT_KEY: prints[row["name"]]}
    append_row(path, row)
    bar.advance(task)
    return row


def table_paths(out: str | Path) -> list[Path]:
    """The files :func:`write_table` writes for ``out``: the CSV, and Parquet when pyarrow is here.

    ``out`` must end in ``.csv``: the Parquet copy (``.parquet``) and the progress file
    (``.jsonl``) are named by swapping that suffix, so any other name would make one of them
    the results table itself. The suffix must be exactly ``.csv``: ``r.csv`` and ``r.CSV``
    would otherwise share ``r.jsonl`` and ``r.parquet`` while holding different locks.
    """
    out = Path(out)
    if out.suffix.lower() != ".csv":
        raise BayesmetaError(
            f"--out {out}: give a file name ending in .csv "
            "(the .parquet copy and the .jsonl progress file are written beside it)"
        )
    if out.suffix != ".csv":
        raise BayesmetaError(
            f"--out {out}: give a file name ending in .csv (in lower case): the .parquet copy "
            f"and the .jsonl progress file beside it are named from it, and {out.name} and "
            f"{out.stem}.csv would share them"
        )
    if find_spec("pyarrow") is None:
        return [out]
    return [out, out.with_suffix(".parquet")]


def write_table(table: pd.DataFrame, out: str | Path, *, overwrite: bool = False) -> list[Path]:
    """Write ``table`` as CSV (and Parquet beside it when pyarrow is installed), atomically.

    Text cells of the CSV that a spreadsheet would run as a formula are neutralised
    (:func:`bayesmeta.io.output.spreadsheet_safe`); the Parquet copy keeps the text as it is.
    """
    paths = table_paths(out)
    for path in paths:
        check_writable(path, overwrite=overwrite)
    csv, *parquet = paths
    text = spreadsheet_safe(table)
    written = [write_atomic(csv, lambda tmp: text.to_csv(tmp, index=False), overwrite=overwrite)]
    for path in parquet:
        written.append(
            write_atomic(path, lambda tmp: table.to_parquet(tmp, index=False), overwrite=True)
        )
    return written


def lock_path(out: str | Path) -> Path:
    """The lock file of a batch writing the table ``out``: ``OUT.lock`` beside it."""
    out = Path(out)
    return out.with_name(out.name + ".lock")


@contextmanager
def output_lock(out: str | Path) -> Iterator[Path]:
    """Hold ``OUT.lock`` (:func:`lock_path`) while a batch writes the table ``out``.

    A second batch (or simulation) on the same output stops at once instead of doing the same
    work and mixing rows into one progress file. The lock is an advisory ``flock`` on the
    file, which the system releases when its process ends, however it ends: a lock file left
    by a killed process is taken over. The file holds the owner's process id and host, for
    the message; it is removed when the block ends. Without ``fcntl`` (Windows) the file is
    created exclusively and a lock of a process that no longer runs is taken over.

    Raises
    ------
    BayesmetaError
        Another live process holds the lock, or the lock cannot be created.
    """
    path = lock_path(out)
    owner = f"pid {os.getpid()} on {platform.node() or 'this host'}"
    try:
        fd = _acquire(path, owner)
    except OSError as exc:
        raise BayesmetaError(f"cannot create the lock {path}: {exc.strerror or exc}") from None
    try:
        yield path
    finally:
        with contextlib.suppress(OSError):
            if os.path.samestat(os.stat(path), os.fstat(fd)):
                os.unlink(path)
        os.close(fd)


def _busy(path: Path) -> BayesmetaError:
    try:
        holder = path.read_text().strip() or "another process"
    except OSError:
        holder = "another process"
    return BayesmetaError(
        f"another bayesmeta batch ({holder}) is writing this output (lock {path}); wait for it "
        f"to finish, or delete {path} if that process is gone"
    )


def _acquire(path: Path, owner: str) -> int:
    """Lock ``path`` for this process and write ``owner`` into it; return the descriptor."""
    try:
        import fcntl
    except ImportError:  # Windows: exclusive creation, stale if its process is gone
        return _acquire_exclusive(path, owner)
    for _ in range(10):
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise _busy(path) from None
        # the holder we waited on may have removed the file meanwhile: lock the file at path
        try:
            same = os.path.samestat(os.stat(path), os.fstat(fd))
        except FileNotFoundError:
            same = False
        if same:
            os.ftruncate(fd, 0)
            os.write(fd, f"{owner}\n".encode())
            return fd
        os.close(fd)
    raise _busy(path)


def _acquire_exclusive(path: Path, owner: str) -> int:
    for _ in range(2):
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            if _holder_alive(path):
                raise _busy(path) from None
            path.unlink(missing_ok=True)  # left by a process that is gone
            continue
        os.write(fd, f"{owner}\n".encode())
        return fd
    raise _busy(path)


def _holder_alive(path: Path) -> bool:
    """Whether the process named in a lock file (``pid N on HOST``) still runs here."""
    try:
        words = path.read_text().split()
        pid, host = int(words[1]), " ".join(words[3:])
    except (OSError, ValueError, IndexError):
        return True  # unreadable: do not take it over
    if host != (platform.node() or "this host") or os.name != "posix":
        return True  # cannot tell (os.kill(pid, 0) would end the process on Windows)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def progress_path(out: str | Path) -> Path:
    """The JSON-lines progress file that sits beside the results table ``out``."""
    return Path(out).with_suffix(".jsonl")
