"""Progress bars: shown on a terminal for work longer than about a second, never otherwise.

The command runs with its stderr on a pseudo-terminal (Linux/macOS), as in an interactive
shell; the bar is rich's, so its text (label, draws done of all, chains, divergences) is
searched in what the terminal received.
"""

from __future__ import annotations

import os
import select
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pty = pytest.importorskip("pty")


def on_terminal(*args: str, cwd: Path) -> tuple[int, str]:
    """Run ``python -m bayesmeta ARGS`` with stderr on a pseudo-terminal; return the exit code
    and everything written to the terminal."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bayesmeta", *args],
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=slave,
        env={**os.environ, "COLUMNS": "120"},
    )
    os.close(slave)
    chunks = []
    while True:
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:  # the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        elif proc.poll() is not None:
            break
    proc.wait(timeout=60)
    os.close(master)
    return proc.returncode, b"".join(chunks).decode(errors="replace")


@pytest.mark.sampling
def test_a_long_fit_shows_chains_draws_and_divergences(tmp_path: Path) -> None:
    code, shown = on_terminal("fit", "--example", "bcg", "--draws", "40000", cwd=tmp_path)
    assert code == 0, shown
    assert "Sampling" in shown and "/168000" in shown  # 4 chains x (40,000 + 1,000 tuning)
    assert "4 chains" in shown and "divergences" in shown


@pytest.mark.sampling
def test_quiet_shows_no_bar(tmp_path: Path) -> None:
    args = ("fit", "--example", "bcg", "--draws", "40000", "--quiet")
    code, shown = on_terminal(*args, cwd=tmp_path)
    assert code == 0, shown
    assert "Sampling" not in shown


def test_a_short_fit_shows_no_bar(tmp_path: Path) -> None:
    """The default fit of bcg takes well under a second of sampling: no bar flickers."""
    code, shown = on_terminal("fit", "--example", "bcg", cwd=tmp_path)
    assert code == 0, shown
    assert "Sampling" not in shown


def test_no_bar_when_stderr_is_not_a_terminal(tmp_path: Path) -> None:
    args = ["fit", "--example", "bcg", "--draws", "40000", "--tune", "300"]
    proc = subprocess.run([sys.executable, "-m", "bayesmeta", *args], cwd=tmp_path,
                          capture_output=True, text=True, check=False)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "Sampling" not in proc.stderr and "━" not in proc.stderr


def test_a_long_leave_one_out_shows_its_bar(tmp_path: Path) -> None:
    """classic --leave-one-out refits k times (seconds for 8,000 simulated studies)."""
    rng = np.random.default_rng(5)
    k = 8000
    n = rng.integers(20, 200, size=(2, k))
    pd.DataFrame(
        {
            "study": [f"simulated{i}" for i in range(k)],
            "treatment_events": rng.binomial(n[0], 0.15),
            "treatment_total": n[0],
            "control_events": rng.binomial(n[1], 0.2),
            "control_total": n[1],
        }
    ).to_csv(tmp_path / "sim.csv", index=False)
    code, shown = on_terminal("classic", "sim.csv", "--leave-one-out", "DL", cwd=tmp_path)
    assert code == 0, shown
    assert "Leave one out" in shown and "/8000" in shown
