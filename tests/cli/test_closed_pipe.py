"""Output files are written whatever happens to stdout (issue 22).

``bayesmeta classic DATA --json out.json | head -1``: ``head`` exits after one line, the next
write to stdout fails with EPIPE, and the command used to stop there, dropping its JSON file.
Here the reading end of the pipe is closed before the command prints anything, so every write
to stdout fails.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES, default_signals

HR = str(EXAMPLES / "steurer2006_hr.csv")


def run_with_stdout_closed(args: list[str], cwd: Path) -> tuple[int, str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "bayesmeta", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=default_signals,
    )
    proc.stdout.close()  # nobody reads stdout: the child's first write gets EPIPE
    err = proc.stderr.read()
    proc.stderr.close()
    return proc.wait(timeout=120), err


@pytest.mark.parametrize(
    ("args", "output"),
    [
        (["classic", HR, "--json", "out.json"], "out.json"),
        (["fit", HR, "--engine", "exact", "--json", "out.json"], "out.json"),
        (["report", HR, "--engine", "exact", "--no-influence", "--out", "r.html"], "r.html"),
    ],
)
def test_outputs_are_written_when_stdout_is_closed(tmp_path: Path, args, output) -> None:
    code, err = run_with_stdout_closed(args, tmp_path)
    assert code == 0, err
    assert "Traceback" not in err
    written = tmp_path / output
    assert written.is_file(), err
    if output.endswith(".json"):
        doc = json.loads(written.read_text())
        assert doc["data"]["k"] == 4
    else:
        assert written.read_text().rstrip().endswith("</html>")
    assert sorted(p.name for p in tmp_path.iterdir()) == [output]  # no temporary files left
