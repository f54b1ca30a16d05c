"""Batch runs: rows equal single fits, failures are recorded, runs resume, Dask gives the same.

Data: the shipped examples bcg (Colditz et al. 1994), li2007 and nielweise2007 (see
examples/datasets.toml), stacked into one long CSV; "bad" is li2007 with an impossible count.
Draws are tiny (2 chains x 200): the fits are not converged, which is irrelevant to equality.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from bayesmeta.engines.nuts import SamplerSettings
from bayesmeta.errors import BayesmetaError
from bayesmeta.workflows.batch import (
    COLUMNS,
    INPUT_KEY,
    BatchOptions,
    Job,
    derive_seed,
    job_fingerprint,
    methods_for,
    read_jobs,
    read_progress,
    run_batch,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
NAMES = ("bcg", "li2007", "nielweise2007")
COUNTS = ["study", "treatment_events", "treatment_total", "control_events", "control_total"]
SETTINGS = SamplerSettings(chains=2, draws=200, tune=200, seed=11)
OPTIONS = BatchOptions(settings=SETTINGS)
# Posterior columns compared with single fits; equal to the last bit (same seed, same model).
POSTERIOR = ["mu_median", "mu_ci_lower", "mu_ci_upper", "tau_median", "or_median", "rhat_max"]


def _example(name: str) -> pd.DataFrame:
    return pd.read_csv(EXAMPLES / f"{name}.csv", dtype=str, keep_default_na=False)[COUNTS]


@pytest.fixture(scope="module")
def long_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    frames = [_example(n).assign(meta_analysis=n) for n in NAMES]
    bad = _example("li2007").assign(meta_analysis="bad")
    bad.loc[0, "treatment_events"] = "999"
    path = tmp_path_factory.mktemp("batch") / "long.csv"
    pd.concat([*frames, bad]).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def single_fits() -> dict[str, dict[str, float]]:
    """Each example fitted alone by ``analyze`` with the seed the batch derives for it."""
    from bayesmeta.io.counts import load
    from bayesmeta.workflows.analyze import analyze
    from bayesmeta.workflows.batch import result_row

    out = {}
    for name in NAMES:
        seed = derive_seed(SETTINGS.seed, name)
        data = load(_example(name))
        result = analyze(data, settings=replace(SETTINGS, seed=seed), frequentist=methods_for(data))
        out[name] = result_row(name, result, seed, OPTIONS)
    return out


@pytest.fixture(scope="module")
def local_table(long_csv: Path, tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    progress = tmp_path_factory.mktemp("local") / "results.jsonl"
    return run_batch(read_jobs(long_csv), OPTIONS, progress, workers=2, show_progress=False)


def test_derive_seed_depends_on_base_and_name_only() -> None:
    assert derive_seed(1, "bcg") == derive_seed(1, "bcg")
    assert len({derive_seed(1, "bcg"), derive_seed(2, "bcg"), derive_seed(1, "li2007")}) == 3
    assert 0 <= derive_seed(1, "bcg") < 2**32


def test_read_jobs_long_csv_keeps_order_and_drops_group_column(long_csv: Path) -> None:
    jobs = read_jobs(long_csv)
    assert [j.name for j in jobs] == [*NAMES, "bad"]
    assert list(jobs[0].source.columns) == COUNTS


def test_read_jobs_folder_and_toml(tmp_path: Path) -> None:
    for name in ("li2007", "bcg"):
        _example(name).to_csv(tmp_path / f"{name}.csv", index=False)
    assert [j.name for j in read_jobs(tmp_path)] == ["bcg", "li2007"]
    spec = tmp_path / "list.toml"
    spec.write_text('files = ["bcg.csv"]\n[meta_analyses]\nLi = "li2007.csv"\n')
    assert [(j.name, j.source) for j in read_jobs(spec)] == [
        ("bcg", tmp_path / "bcg.csv"),
        ("Li", tmp_path / "li2007.csv"),
    ]


def test_missing_group_column_is_a_user_error(long_csv: Path) -> None:
    with pytest.raises(BayesmetaError, match="group column 'trial_set' is not in the data"):
        read_jobs(long_csv, group_column="trial_set")


@pytest.mark.sampling
def test_rows_equal_single_fits_with_derived_seed(
    local_table: pd.DataFrame, single_fits: dict[str, dict[str, float]]
) -> None:
    assert list(local_table.columns) == list(COLUMNS)
    rows = local_table.set_index("name")
    for name in NAMES:
        assert rows.loc[name, "status"] == "ok"
        assert rows.loc[name, "seed"] == derive_seed(SETTINGS.seed, name)
        for column in [*POSTERIOR, "dl_estimate", "reml_hksj_ci_lower", "mh_estimate"]:
            assert rows.loc[name, column] == single_fits[name][column], (name, column)


@pytest.mark.sampling
def test_failure_is_recorded_with_reason_and_batch_continues(local_table: pd.DataFrame) -> None:
    bad = local_table.set_index("name").loc["bad"]
    assert bad["status"] == "failed"
    assert "events (999) exceed the total" in bad["reason"]
    assert (local_table["status"] == "ok").sum() == len(NAMES)


def _fake_row(name: str, options: BatchOptions = OPTIONS) -> dict[str, object]:
    """A finished row of the job ``Job(name, pd.DataFrame())``."""
    return {"name": name, "status": "ok", "reason": "", "mu_median": -0.5,
            "options": options.describe(),
            INPUT_KEY: job_fingerprint(Job(name, pd.DataFrame()))}  # fmt: skip


def test_finished_names_are_skipped_and_torn_line_dropped(tmp_path: Path) -> None:
    progress = tmp_path / "r.jsonl"
    lines = [json.dumps(_fake_row(n)) for n in ("a", "b")]
    progress.write_text("\n".join(lines) + '\n{"name": "c", "sta')  # died mid-line
    assert set(read_progress(progress)) == {"a", "b"}
    assert progress.read_text().endswith("\n")
    jobs = [Job("b", pd.DataFrame()), Job("a", pd.DataFrame())]  # nothing left to fit
    table = run_batch(jobs, OPTIONS, progress, workers=1, show_progress=False)
    assert list(table["name"]) == ["b", "a"]


def test_progress_from_other_options_is_refused(tmp_path: Path) -> None:
    progress = tmp_path / "r.jsonl"
    other = BatchOptions(settings=replace(SETTINGS, seed=99))
    progress.write_text(json.dumps(_fake_row("a", other)) + "\n")
    with pytest.raises(BayesmetaError, match="made with other options"):
        run_batch([Job("a", pd.DataFrame())], OPTIONS, progress, show_progress=False)


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-c", "from bayesmeta.cli import app; app()", *args]


@pytest.mark.sampling
def test_killed_batch_resumes_and_lists_each_meta_analysis_once(
    long_csv: Path, tmp_path: Path
) -> None:
    """Killed (SIGKILL) after its first result line, a batch resumes from its progress file.

    10,000 draws make each fit take about 2 s, so the kill lands between two result lines
    even on a loaded machine (with 200 draws the remaining fits took 0.3 s, and a slow poll
    sometimes saw the batch already finished)."""
    out = tmp_path / "results.csv"
    progress = tmp_path / "results.jsonl"
    args = ["batch", str(long_csv), "--out", str(out), "--chains", "2", "--draws", "10000",
            "--tune", "200", "--seed", "11", "--workers", "1"]  # fmt: skip
    proc = subprocess.Popen(_cli(*args), start_new_session=True, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 90
    while not (progress.exists() and progress.read_text().count("\n") >= 1):
        assert proc.poll() is None and time.monotonic() < deadline, "no result line appeared"
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    first = progress.read_text().count("\n")
    assert 1 <= first < len(NAMES) + 1 and not out.exists()

    finished = subprocess.run(_cli(*args), capture_output=True, text=True, check=False)
    assert finished.returncode == 3, finished.stderr  # "bad" failed
    assert "resuming from" in finished.stderr
    names = [json.loads(line)["name"] for line in progress.read_text().splitlines()]
    assert sorted(names) == sorted([*NAMES, "bad"])
    table = pd.read_csv(out)
    assert list(table["name"]) == [*NAMES, "bad"]
    assert list(table["status"]) == ["ok", "ok", "ok", "failed"]

    again = CliRunner().invoke(__import__("bayesmeta.cli").cli.app, args)
    assert again.exit_code == 2
    assert "exists; pass --force" in again.output


def test_cli_bad_input_is_one_line_exit_2(long_csv: Path, tmp_path: Path) -> None:
    from bayesmeta.cli import app

    result = CliRunner().invoke(
        app, ["batch", str(long_csv), "--out", str(tmp_path / "r.csv"), "--group-column", "x"]
    )
    assert result.exit_code == 2
    assert result.output.strip().count("\n") == 0
    assert "group column 'x' is not in the data" in result.output


@pytest.mark.sampling
def test_dask_local_cluster_gives_the_local_results(
    long_csv: Path, tmp_path: Path, single_fits: dict[str, dict[str, float]]
) -> None:
    distributed = pytest.importorskip("distributed")
    jobs = [j for j in read_jobs(long_csv) if j.name in ("li2007", "nielweise2007")]
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        table = run_batch(
            jobs,
            OPTIONS,
            tmp_path / "dask.jsonl",
            scheduler=cluster.scheduler_address,
            show_progress=False,
        )
    rows = table.set_index("name")
    for job in jobs:
        for column in POSTERIOR:
            assert rows.loc[job.name, column] == single_fits[job.name][column], column


@pytest.mark.parametrize("name", ["r.jsonl", "r.parquet", "r"])
def test_out_that_is_not_csv_is_refused_before_fitting(
    long_csv: Path, tmp_path: Path, name: str
) -> None:
    # r.jsonl would be its own progress file (deleted by --force), r.parquet would be written
    # as CSV and then replaced by the Parquet copy: both are refused before anything runs.
    from bayesmeta.cli import app

    out = tmp_path / name
    out.write_text("keep me\n")
    for force in ([], ["--force"]):
        result = CliRunner().invoke(app, ["batch", str(long_csv), "--out", str(out), *force])
        assert result.exit_code == 2
        assert result.output.strip().count("\n") == 0
        assert "give a file name ending in .csv" in result.output
    assert out.read_text() == "keep me\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


def test_existing_parquet_copy_is_refused_before_fitting(long_csv: Path, tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    from bayesmeta.cli import app

    (tmp_path / "r.parquet").write_text("old")
    result = CliRunner().invoke(app, ["batch", str(long_csv), "--out", str(tmp_path / "r.csv")])
    assert result.exit_code == 2
    assert "r.parquet exists; pass --force" in result.output
    assert not (tmp_path / "r.jsonl").exists()


def test_toml_list_that_is_not_utf8_is_a_user_error(tmp_path: Path) -> None:
    spec = tmp_path / "list.toml"
    spec.write_bytes(b'files = ["caf\xe9.csv"]\n')  # Latin-1
    with pytest.raises(BayesmetaError, match=r"list\.toml: not UTF-8 text \(byte 0xe9"):
        read_jobs(spec)


@pytest.mark.sampling
def test_one_core_per_fit_gives_the_same_draws() -> None:
    # Local workers run each fit with cores=1 (one_core_per_worker); the draws must be those
    # of the default (a thread per core), or batch rows would differ from single fits.
    from bayesmeta.io.counts import load
    from bayesmeta.workflows.analyze import analyze
    from bayesmeta.workflows.batch import one_core_per_worker

    assert one_core_per_worker(OPTIONS).settings == replace(SETTINGS, cores=1)
    assert one_core_per_worker(OPTIONS).describe() == OPTIONS.describe()
    data = load(_example("bcg"))
    posteriors = []
    for cores in (None, 1):
        fit = analyze(data, settings=replace(SETTINGS, cores=cores)).fit
        assert fit is not None
        posteriors.append(fit.idata["posterior"].to_dataset())
    default, one_core = posteriors
    assert set(default.data_vars) >= {"mu", "tau", "theta"}
    for name in default.data_vars:
        np.testing.assert_array_equal(default[name].values, one_core[name].values, err_msg=name)


def test_a_progress_row_with_the_old_interval_columns_is_fitted_again(tmp_path) -> None:
    """The batch columns are *_ci_lower/*_ci_upper (as in every table); an ``ok`` row written
    with the earlier *_ci_low/*_ci_high would leave those columns blank, so it is refitted."""
    import json

    from bayesmeta.workflows.batch import ProgressWarning, read_progress

    path = tmp_path / "progress.jsonl"
    old = {"name": "a", "status": "ok", "mu_median": -0.7, "mu_ci_low": -1.1, "mu_ci_high": -0.3}
    new = {"name": "b", "status": "ok", "mu_median": -0.7, "mu_ci_lower": -1.1}
    path.write_text(f"{json.dumps(old)}\n{json.dumps(new)}\n")
    with pytest.warns(ProgressWarning, match="line 1 .*earlier bayesmeta"):
        rows = read_progress(path)
    assert list(rows) == ["b"]


def test_cli_batch_engine_exact_rows_match_the_brute_force_reference(
    long_csv: Path, tmp_path: Path
) -> None:
    """``batch --engine exact``: every count meta-analysis fitted by quadrature in the worker
    (no draws: converged, no R-hat), bcg's row equal to the brute-force quadrature of
    tests/reference/binomial_bruteforce.json (default priors normal(0, 2.82) would differ:
    the reference's are given here), the bad one a failure row with its reason."""
    from bayesmeta.cli import app

    reference = json.loads(
        (EXAMPLES.parent / "tests" / "reference" / "binomial_bruteforce.json").read_text()
    )["bcg"]
    out = tmp_path / "exact.csv"
    args = ["batch", str(long_csv), "--out", str(out), "--engine", "exact", "--workers", "1"]
    args += ["--prior-mu", "normal(0, 10)", "--prior-tau", "half-normal(0.5)"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 3, result.output  # one meta-analysis failed
    rows = pd.read_csv(out).set_index("name")
    assert (rows.loc[list(NAMES), "status"] == "ok").all()
    assert rows.loc[list(NAMES), "converged"].all()
    assert rows.loc[list(NAMES), "rhat_max"].isna().all()
    assert rows.loc["bad", "status"] == "failed"
    assert rows.loc["bcg", "mu_median"] == pytest.approx(reference["mu"]["q"][1], abs=1e-3)
    assert rows.loc["bcg", "tau_median"] == pytest.approx(reference["tau"]["q"][1], abs=1e-3)
    assert "engine=exact" in rows.loc["bcg", "options"]


def test_unknown_batch_engine_is_refused_before_fitting() -> None:
    with pytest.raises(BayesmetaError, match="unknown engine 'gibbs'"):
        BatchOptions(engine="gibbs")
