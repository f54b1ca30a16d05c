"""Issue 22's tracebacks, hangs and unclear messages, each reproduced through the command line:
a one-line error with exit code 2, or a clean result where the input is valid.

Data: ``examples/bcg.csv`` (Colditz et al. 1994, JAMA 271:698; R metadat ``dat.bcg``) and
small tables written by the tests.
"""

from __future__ import annotations

import json
import math
import os
import re
import socket
import subprocess
import sys
import time

import pytest
from typer.testing import CliRunner

from bayesmeta.cli import app
from tests.conftest import EXAMPLES, fails_cleanly

runner = CliRunner()
BCG = str(EXAMPLES / "bcg.csv")
EFFECTS = "study,yi,vi,alloc\na,0.1,0.04,random\nb,0.5,0.09,random\nc,-0.2,0.05,random\n"


def long_csv(tmp_path) -> str:
    path = tmp_path / "long.csv"
    path.write_text("meta_analysis,study,yi,vi\nm,a,0.1,0.04\nm,b,0.5,0.09\nm,c,-0.2,0.05\n")
    return str(path)


def test_an_empty_example_name_is_an_unknown_example() -> None:
    assert "unknown example ''" in fails_cleanly(["classic", "--example", ""])


@pytest.mark.parametrize("out", ["", "/"])
def test_batch_out_must_name_a_file(tmp_path, out: str) -> None:
    line = fails_cleanly(["batch", long_csv(tmp_path), "--out", out])
    assert "is a folder, not a file name" in line


def test_simulate_out_must_name_a_file(tmp_path) -> None:
    grid = tmp_path / "grid.toml"
    grid.write_text('[[scenario]]\nname = "a"\nk = 5\nmu = 0\ntau = 0.1\nreplicates = 2\n')
    assert "is a folder, not a file name" in fails_cleanly(["simulate", str(grid), "--out", ""])


@pytest.mark.parametrize(
    ("option", "value"),
    [("--leave-one-out", ""), ("--cumulative", ""), ("--cumulative", "  ")],
)
def test_empty_classic_options_are_refused(option: str, value: str) -> None:
    line = fails_cleanly(["classic", BCG, option, value])
    assert f"{option} needs a value" in line


@pytest.mark.parametrize("value", ["", "random_dl,", " , "])
def test_empty_methods_are_refused(value: str) -> None:
    line = fails_cleanly(["fit", BCG, "--model", "normal-normal", "--methods", value])
    assert "--methods expects method names" in line


def test_separate_tau_with_common_effect_is_refused() -> None:
    args = ["fit", BCG, "--model", "normal-normal", "--subgroup", "alloc", "--separate-tau"]
    line = fails_cleanly([*args, "--common-effect"])
    assert "--separate-tau" in line and "--common-effect" in line


def test_a_constant_text_covariate_is_named(write_csv) -> None:
    path = write_csv(EFFECTS)
    line = fails_cleanly(["fit", str(path), "--model", "normal-normal", "--covariate", "alloc"])
    assert line == "error: covariate 'alloc' has the same value in every study"


DOLLARS = (
    "study,yi,vi,grp\n"
    '"Smith $5 & Co",0.1,0.04,a$b\n'
    "Jones $\\frac$,0.5,0.09,a$b\n"  # mathtext would fail to parse this one
    "Lee,-0.2,0.05,c $x$\n"
    "Kim,0.3,0.02,c $x$\n"
)


@pytest.mark.parametrize(
    ("kind", "extra", "expected"),
    [
        ("forest", ["--subgroup", "grp", "--favours", "Less $,More $"],
         ["Smith $5 &amp; Co", "Jones $\\frac$", "grp = a$b", "grp = c $x$", "Less $", "More $"]),
        ("influence", [], ["Without Smith $5 &amp; Co", "Without Jones $\\frac$"]),
    ],
)  # fmt: skip
def test_dollar_signs_in_labels_are_text(write_csv, tmp_path, kind, extra, expected) -> None:
    path = write_csv(DOLLARS)
    out = tmp_path / f"{kind}.svg"
    args = ["plot", kind, str(path), "--model", "normal-normal", *extra, "--out", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    svg = out.read_text()
    for label in expected:  # one <text> element each, as written (svg.fonttype = "none")
        assert f">{label}</text>" in svg, label


def test_dollar_signs_in_the_report(write_csv, tmp_path) -> None:
    path = write_csv(DOLLARS)
    out = tmp_path / "report.html"
    args = ["report", str(path), "--model", "normal-normal"]
    result = runner.invoke(app, [*args, "--favours", "Less $,More $", "--out", str(out)])
    assert result.exit_code == 0, result.output
    html = out.read_text()
    assert "Smith $5 &amp; Co" in html and "Jones $\\frac$" in html
    assert "Figure not drawn" not in html


@pytest.mark.parametrize(
    ("column", "value"), [("vi", "1e-30"), ("vi", "5e-324"), ("se", "1e-160"), ("se", "1e-14")]
)
def test_a_variance_too_small_to_pool_is_refused_with_its_row(write_csv, column, value) -> None:
    # vi = 5e-324 made Egger's test fail with "SVD did not converge"; 1e-30 gave a
    # DerSimonian-Laird fit of zero width (metafor's estimates change with the exponent)
    others = {"vi": ("0.04", "0.05", "0.1"), "se": ("0.2", "0.22", "0.3")}[column]
    rows = [
        f"a,0.1,{value}",
        *(f"{s},{y},{v}" for s, y, v in zip("bcd", (0.5, -0.2, 0.6), others, strict=True)),
    ]
    path = write_csv(f"study,yi,{column}\n" + "\n".join(rows) + "\n")
    line = fails_cleanly(["classic", str(path)])
    assert f"row 1 ('a'), column '{column}': the variance" in line
    assert "too small to pool" in line


def test_reml_that_cancelled_to_an_infinite_step_is_bounded(write_csv, tmp_path) -> None:
    # k = 2, variances 3e9 apart: bayesmeta halved an infinite step forever; metafor 3.8-1
    # gives tau^2 = 0, estimate -4.124603897, se 0.0013665026 (tests/reference/metafor_hostile.json)
    path = write_csv(
        "study,yi,vi\na,-4.124603898833988,1.8673294441689288e-06\nb,1.2173235970140484,5599.727694997371\n"
    )
    out = tmp_path / "c.json"
    result = runner.invoke(app, ["classic", str(path), "--json", str(out)])
    assert result.exit_code == 0, result.output
    reml = json.loads(out.read_text())["frequentist"]["random_reml"]
    assert reml["tau2"] == 0.0
    assert reml["estimate"] == pytest.approx(-4.12460389705263, rel=1e-9)


@pytest.mark.parametrize(
    "command", [["classic"], ["batch", "--out", "r.csv"], ["run"], ["simulate", "--out", "s.csv"]]
)
def test_a_named_pipe_is_said_to_be_one(tmp_path, monkeypatch, command) -> None:
    # reading a FIFO without a writer would wait forever; it was "file not found" before
    monkeypatch.chdir(tmp_path)
    fifo = tmp_path / ("data.toml" if command[0] in ("run", "simulate") else "data.csv")
    os.mkfifo(fifo)
    line = fails_cleanly([command[0], str(fifo), *command[1:]])
    assert line == f"error: {fifo}: is a named pipe (FIFO), not a file; give a saved file"


def test_a_device_is_said_to_be_one() -> None:
    line = fails_cleanly(["classic", "/dev/null"])
    assert line == "error: /dev/null: is a character device, not a file; give a saved file"


@pytest.mark.sampling
def test_batch_with_a_missing_file_or_an_unconverged_fit_exits_3(tmp_path) -> None:
    lines = (EXAMPLES / "bcg.csv").read_text().splitlines()
    (tmp_path / "bcg.csv").write_text("\n".join(lines[:7]) + "\n")  # the first six trials
    jobs = tmp_path / "jobs.toml"
    jobs.write_text('files = ["bcg.csv", "missing.csv"]\n')
    out = tmp_path / "r.csv"
    args = ["batch", str(jobs), "--out", str(out), "--workers", "1"]
    result = runner.invoke(app, [*args, "--chains", "2", "--draws", "100", "--tune", "100"])
    assert result.exit_code == 3, result.output
    assert "failed: missing: " in result.output and "file not found" in result.output
    assert "not converged: bcg: " in result.output  # 2 x 100 draws: ESS below 400
    assert out.exists()  # the table is still written


def test_a_cp1252_terminal_gets_ascii_replacements(write_csv, tmp_path) -> None:
    # UnicodeEncodeError on a Windows console before; characters cp1252 lacks degrade
    path = write_csv("study,yi,vi\nτ-trial ≥ 2 ━,0.1,0.04\nb,0.5,0.09\nc,-0.2,0.05\n")
    env = {**os.environ, "PYTHONIOENCODING": "cp1252"}
    args = [sys.executable, "-m", "bayesmeta", "fit", str(path), "--model", "normal-normal"]
    proc = subprocess.run(args, capture_output=True, env=env, cwd=tmp_path, check=False)
    assert proc.returncode == 0, proc.stderr.decode("cp1252")
    out = proc.stdout.decode("cp1252")
    assert "tau-trial >= 2 -" in out and "Traceback" not in proc.stderr.decode("cp1252")
    bad = [*args[:4], "--columns", "τ≥", str(path)]  # an error message with them, on stderr
    proc = subprocess.run(bad, capture_output=True, env=env, cwd=tmp_path, check=False)
    assert proc.returncode == 2
    assert proc.stderr.decode("cp1252").startswith("error: --columns expects ROLE=COLUMN pairs")
    assert "'tau>='" in proc.stderr.decode("cp1252")


SCENARIO = 'name = "a"\nmu = 0\ntau = 0.1\nbaseline_risk = 0.1\narm_size = [10, 20]\n'


@pytest.mark.parametrize(
    ("grid", "expected"),
    [
        ("[[scenario]]\nk = 100000000\nreplicates = 2\n",
         "k must be an integer from 2 to 10,000, got 100000000"),
        ("[[scenario]]\nk = 5\nreplicates = 1000000000\n",
         "replicates must be an integer from 1 to 100,000, got 1000000000"),
        ("replicates = 100000\n[[scenario]]\nk = 10000\n",
         "the grid's 100,000 replicates would take about 93.3 GB before the first fit"),
    ],
)  # fmt: skip
def test_simulation_sizes_are_checked_before_any_allocation(tmp_path, grid, expected) -> None:
    path = tmp_path / "grid.toml"
    path.write_text(grid + SCENARIO)
    line = fails_cleanly(["simulate", str(path), "--out", str(tmp_path / "s.csv")])
    assert expected in line


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (["ablat"] * 100_000, "[model] covariates lists 100,000 columns; at most 50"),
        (["ablat", "year", "alloc"] * 5, "15 covariate slopes for 13 studies"),
    ],
)
def test_a_huge_covariate_list_is_refused_before_building(tmp_path, names, expected) -> None:
    (tmp_path / "bcg.csv").write_text((EXAMPLES / "bcg.csv").read_text())
    spec = tmp_path / "spec.toml"
    listed = ", ".join(f'"{n}"' for n in names)
    spec.write_text(
        f'[data]\npath = "bcg.csv"\n[model]\nname = "normal-normal"\ncovariates = [{listed}]\n'
    )
    assert expected in fails_cleanly(["run", str(spec)])


def test_text_covariate_levels_count_as_slopes(write_csv) -> None:
    path = write_csv("study,yi,vi,g,x\na,0.1,0.04,p,1\nb,0.5,0.09,q,2\nc,-0.2,0.05,r,4\n")
    args = ["fit", str(path), "--model", "normal-normal", "--covariate", "g", "--covariate", "x"]
    line = fails_cleanly(args)
    # checked on the design matrix (text levels counted): intercept + 3 slopes > 3 studies
    assert "4 coefficients (intercept, g[q], g[r], x) cannot be estimated from 3 studies" in line


@pytest.mark.parametrize(
    "address", ["not an address", "tcp://", "tcp://127.0.0.1:99999", "http://x:1"]
)
def test_a_malformed_scheduler_address_is_refused_at_once(tmp_path, address: str) -> None:
    line = fails_cleanly(["batch", long_csv(tmp_path), "--out", str(tmp_path / "r.csv"),
                          "--scheduler", address])  # fmt: skip
    assert line.startswith(f"error: --scheduler {address!r} is not a Dask scheduler address")


def test_an_unreachable_scheduler_is_one_line_after_a_short_wait(tmp_path, monkeypatch) -> None:
    pytest.importorskip("distributed")
    from bayesmeta.workflows import batch

    monkeypatch.setattr(batch, "CONNECT_TIMEOUT", 1.0)
    with socket.socket() as probe:  # a port of this machine nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    lines = (EXAMPLES / "bcg.csv").read_text().splitlines()
    data = tmp_path / "long.csv"
    data.write_text("\n".join(["meta_analysis," + lines[0], *(f"m,{r}" for r in lines[1:5])]))
    out = tmp_path / "r.csv"
    started = time.monotonic()
    line = fails_cleanly(["batch", str(data), "--out", str(out),
                          "--scheduler", f"tcp://127.0.0.1:{port}"])  # fmt: skip
    assert time.monotonic() - started < 20  # Dask's own default waits 30 s
    assert line.startswith(
        f"error: cannot reach the Dask scheduler at tcp://127.0.0.1:{port} within 1 s"
    )
    assert not out.exists()


def _options_of(command: str) -> set[str]:
    from typer.main import get_command

    cmd = get_command(app).commands[command]
    return {o for p in cmd.params for o in (*p.opts, *p.secondary_opts) if o.startswith("--")}


BAD_TABLES = {
    "no estimate": "study,foo,bar\na,1,2\nb,3,4\n",
    "two estimates": "study,yi,log_or,vi\na,0.1,0.1,0.04\nb,0.5,0.5,0.09\n",
    "no events": "study,treatment_total,control_events,control_total\na,10,1,10\nb,10,2,10\n",
    "a uniform prior for the exact engine": "study,yi,vi\na,0.1,0.04\nb,0.5,0.09\n",
}


def _invocations(tmp_path, table: str) -> dict[str, list[str]]:
    data = tmp_path / "data.csv"
    data.write_text(table)
    header, *rows = table.splitlines()
    long = tmp_path / "long.csv"
    long.write_text("\n".join([f"meta_analysis,{header}", *(f"m,{r}" for r in rows)]) + "\n")
    spec = tmp_path / "spec.toml"
    spec.write_text(f'[data]\npath = "{data}"\n[model]\nname = "normal-normal"\n')
    nn = ["--model", "normal-normal", "--prior-mu", "uniform(-1, 1)"]
    return {
        "classic": ["classic", str(data)],
        "fit": ["fit", str(data), *nn],
        "report": ["report", str(data), *nn, "--out", str(tmp_path / "r.html")],
        "plot": ["plot", "forest", str(data), *nn, "--out", str(tmp_path / "f.svg")],
        "sensitivity": ["sensitivity", str(data), "--prior-mu", "uniform(-1, 1)"],
        "batch": ["batch", str(long), "--out", str(tmp_path / "b.csv")],
        "run": ["run", str(spec)],
    }


@pytest.mark.parametrize("table", BAD_TABLES)
def test_every_suggested_option_exists_on_the_command(tmp_path, table: str) -> None:
    """``sensitivity`` suggested --engine and ``batch`` --columns, which they do not have."""
    for command, args in _invocations(tmp_path, BAD_TABLES[table]).items():
        result = runner.invoke(app, args)
        assert result.exit_code in (0, 2, 4), (args, result.output)
        suggested = set(re.findall(r"--[a-z][a-z0-9-]*", result.output))
        assert suggested <= _options_of(command), (command, result.output)


def test_suggestions_the_command_has_are_kept() -> None:
    line = fails_cleanly(["fit", BCG, "--model", "normal-normal", "--prior-mu", "uniform(0, 1)"])
    assert line.endswith("(use --engine nuts for other prior families)")
    line = fails_cleanly(["classic", BCG, "--columns", "estimate=nope"])
    assert "column 'nope' given for estimate is not in the data" in line


def _many_studies(write_csv, k: int):
    rows = [f"s{i},{0.1 * math.sin(i):.4f},{0.02 + 0.01 * (i % 7):.3f}" for i in range(k)]
    return write_csv("study,yi,vi\n" + "\n".join(rows) + "\n")


def test_a_forest_plot_of_too_many_studies_is_refused(write_csv, tmp_path) -> None:
    # 2,000 studies asked matplotlib for a 240-megapixel image
    path = _many_studies(write_csv, 400)
    out = tmp_path / "f.png"
    line = fails_cleanly(
        ["plot", "forest", str(path), "--model", "normal-normal", "--out", str(out)]
    )
    assert "a forest plot of 40" in line and "at most 300 rows are drawn" in line
    assert not out.exists()
    line = fails_cleanly(["fit", str(path), "--model", "normal-normal", "--plot", str(out)])
    assert line.startswith("error: a forest plot of 400 rows would be 101 inches tall")
