"""A batch's processes and files under interruption, damage and competition.

Killing ``bayesmeta batch`` stops its worker processes (checked with psutil after the kill);
a damaged progress line is reported and its meta-analysis refitted; two batches on one output
do not both run; a batch in which nothing could be fitted exits 4. Data: the shipped examples
bcg and li2007 (examples/datasets.toml) stacked into one long CSV.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import default_signals

psutil = pytest.importorskip("psutil")

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
COUNTS = ["study", "treatment_events", "treatment_total", "control_events", "control_total"]
SMALL = ["--chains", "2", "--draws", "200", "--tune", "200", "--seed", "11"]


@pytest.fixture(scope="module")
def long_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    frames = []
    for name in ("bcg", "li2007", "nielweise2007"):
        frame = pd.read_csv(EXAMPLES / f"{name}.csv", dtype=str, keep_default_na=False)
        frames.append(frame[COUNTS].assign(meta_analysis=name))
    path = tmp_path_factory.mktemp("lifecycle") / "long.csv"
    pd.concat(frames).to_csv(path, index=False)
    return path


def bayesmeta(*args: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "bayesmeta", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=default_signals,
        **kwargs,
    )


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bayesmeta", *args], capture_output=True, text=True, check=False
    )


def wait_for(condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def busy_workers(pid: int) -> list:
    """The parent's child processes, once two of them have started fitting (CPU used)."""
    parent = psutil.Process(pid)
    found: list = []

    def fitting() -> bool:
        found[:] = parent.children(recursive=True)
        busy = [p for p in found if _cpu(p) > 0.5]
        return len(busy) >= 2

    wait_for(fitting)
    return found


def _cpu(process) -> float:
    try:
        times = process.cpu_times()
    except psutil.Error:
        return 0.0
    return times.user + times.system


@pytest.mark.sampling
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL])
def test_killing_a_batch_stops_its_workers(long_csv: Path, tmp_path: Path, signum: int) -> None:
    """Long fits (4 x 200,000 draws) on two workers: after the signal to the parent alone,
    every process it started is gone within seconds, not when its fit would have ended. With
    SIGINT/SIGTERM the parent stops them itself (and exits 130/143); with SIGKILL the workers
    die with their parent (Linux parent-death signal)."""
    if signum == signal.SIGKILL and not sys.platform.startswith("linux"):
        pytest.skip("workers follow a killed parent on Linux only")
    out = tmp_path / "r.csv"
    proc = bayesmeta("batch", str(long_csv), "--out", str(out), "--workers", "2",
                     "--draws", "200000")  # fmt: skip
    children = busy_workers(proc.pid)
    os.kill(proc.pid, signum)
    _, err = proc.communicate(timeout=30)
    _, alive = psutil.wait_procs(children, timeout=15)
    assert not alive, f"left running: {alive}"
    if signum != signal.SIGKILL:
        assert proc.returncode == 128 + signum, err
        assert err.strip().splitlines()[-1].startswith("interrupted by"), err
    assert not out.exists()
    assert not (tmp_path / "r.csv.lock").exists() or signum == signal.SIGKILL


def test_stopped_workers_leave_no_semaphore_for_the_resource_tracker() -> None:
    """After :func:`stop_workers` returns, the pool's named semaphores are released: the
    process may end at once (``os._exit``) without multiprocessing's resource tracker printing
    "leaked semaphore" warnings after the command's last line. Before the executor's manager
    thread was waited for, they were still there when it returned (CI saw the warnings)."""
    import concurrent.futures as cf
    import multiprocessing

    from bayesmeta.workflows.batch import stop_workers

    executor = cf.ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn"))
    futures = [executor.submit(time.sleep, 60) for _ in range(4)]
    queues = (executor._call_queue, executor._result_queue)
    locks = [q._rlock for q in queues] + [q._wlock for q in queues] + [queues[0]._sem]
    files = [Path("/dev/shm/sem." + lock._semlock.name.lstrip("/")) for lock in locks]
    del queues, locks
    if not all(path.exists() for path in files):
        pytest.skip("named semaphores are not files in /dev/shm here")
    wait_for(lambda: any(future.running() for future in futures))
    stop_workers(executor)
    assert [path for path in files if path.exists()] == []


@pytest.mark.sampling
def test_damaged_progress_lines_are_reported_and_refitted(long_csv: Path, tmp_path: Path):
    out, progress = tmp_path / "r.csv", tmp_path / "r.jsonl"
    first = run("batch", str(long_csv), "--out", str(out), "--workers", "1", *SMALL)
    assert first.returncode in (0, 3), first.stderr  # 3: 200 draws may not converge
    rows = progress.read_text().splitlines()
    good = next(line for line in rows if json.loads(line)["name"] == "bcg")
    damaged = ["{}", "[1, 2]", '{"status": "ok"}', "not json at all", '"bcg"']
    progress.write_text("\n".join([good, *damaged]) + "\n")
    out.unlink()
    out.with_suffix(".parquet").unlink(missing_ok=True)
    second = run("batch", str(long_csv), "--out", str(out), "--workers", "1", *SMALL)
    assert second.returncode in (0, 3), second.stderr
    warned = [line for line in second.stderr.splitlines() if line.startswith("warning:")]
    assert len(warned) == len(damaged), second.stderr
    assert all("fitted again" in line for line in warned)
    assert "Traceback" not in second.stderr
    table = pd.read_csv(out)
    assert list(table["name"]) == ["bcg", "li2007", "nielweise2007"]
    assert list(table["status"]) == ["ok", "ok", "ok"]
    appended = progress.read_text().splitlines()[1 + len(damaged) :]
    names = sorted(json.loads(line)["name"] for line in appended)
    assert names == ["li2007", "nielweise2007"]  # bcg's good row kept, not refitted


@pytest.mark.sampling
def test_a_second_batch_on_the_same_output_refuses_at_once(long_csv: Path, tmp_path: Path):
    out = tmp_path / "r.csv"
    lock = tmp_path / "r.csv.lock"
    first = bayesmeta("batch", str(long_csv), "--out", str(out), "--workers", "1",
                      "--draws", "20000")  # fmt: skip
    wait_for(lock.exists)
    started = time.monotonic()
    second = run("batch", str(long_csv), "--out", str(out), "--workers", "1", *SMALL)
    assert time.monotonic() - started < 15  # refused before any fitting
    assert second.returncode == 2, second.stderr
    lines = second.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: another bayesmeta batch (pid ")
    assert str(first.pid) in lines[0]
    assert first.poll() is None, "the first batch must go on"
    os.kill(first.pid, signal.SIGTERM)
    first.communicate(timeout=30)
    assert not lock.exists(), "the lock is removed when its batch ends"


@pytest.mark.sampling
def test_a_stale_lock_of_a_dead_process_is_taken_over(long_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.csv"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    (tmp_path / "r.csv.lock").write_text(f"pid {dead.stdout.strip()} on somewhere\n")
    result = run("batch", str(long_csv), "--out", str(out), "--workers", "1", *SMALL)
    assert result.returncode in (0, 3), result.stderr
    assert out.exists() and not (tmp_path / "r.csv.lock").exists()


def test_a_batch_where_every_meta_analysis_failed_exits_4(tmp_path: Path) -> None:
    data = tmp_path / "bad.csv"
    data.write_text(
        "meta_analysis,study,treatment_events,treatment_total,control_events,control_total\n"
        "a,s1,20,10,1,10\na,s2,1,10,1,10\nb,s1,1,10,1,10\n"
    )
    out = tmp_path / "r.csv"
    result = run("batch", str(data), "--out", str(out), "--workers", "1", *SMALL)
    assert result.returncode == 4, result.stderr
    assert "error: every meta-analysis failed" in result.stderr
    assert list(pd.read_csv(out)["status"]) == ["failed", "failed"]  # the reasons are kept


def test_an_empty_job_list_is_a_one_line_error(tmp_path: Path) -> None:
    jobs = tmp_path / "jobs.toml"
    jobs.write_text("files = []\n")
    result = run("batch", str(jobs), "--out", str(tmp_path / "r.csv"))
    assert result.returncode == 2
    assert result.stderr.strip().startswith("error:") and len(result.stderr.splitlines()) == 1
