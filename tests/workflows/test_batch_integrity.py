"""Batch and simulation outputs that used to be silently wrong or unsafe (issue 22).

No test here samples: the meta-analyses have one study, or an impossible count, and fail
validation at once, which is enough to see which rows a run keeps, refits and writes.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from bayesmeta.cli import app
from bayesmeta.engines.nuts import SamplerSettings
from bayesmeta.errors import BayesmetaError
from bayesmeta.workflows.batch import (
    BatchOptions,
    Job,
    ProgressWarning,
    run_batch,
    table_paths,
    write_table,
)
from bayesmeta.workflows.simulate import METHODS, Scenario, summarise
from tests.conftest import fails_cleanly

runner = CliRunner()
OPTIONS = BatchOptions(settings=SamplerSettings(chains=2, draws=200, tune=200, seed=3))
HEADER = "study,treatment_events,treatment_total,control_events,control_total\n"


def _impossible(events: int) -> pd.DataFrame:
    """Two studies, the first with more events than patients: refused with its count."""
    return pd.DataFrame(
        {
            "study": ["a", "b"],
            "treatment_events": [str(events), "3"],
            "treatment_total": ["10", "10"],
            "control_events": ["1", "2"],
            "control_total": ["10", "10"],
        }
    )


def test_a_resumed_batch_refits_the_meta_analyses_whose_data_changed(tmp_path: Path) -> None:
    progress = tmp_path / "r.jsonl"
    jobs = [Job("x", _impossible(11)), Job("y", _impossible(12))]
    first = run_batch(jobs, OPTIONS, progress, workers=1, show_progress=False)
    assert "(11) exceed" in first.loc[0, "reason"] and "(12) exceed" in first.loc[1, "reason"]
    changed = [Job("x", _impossible(13)), Job("y", _impossible(12))]
    with pytest.warns(ProgressWarning, match=r"the data of 1 meta-analysis changed .*'x'"):
        second = run_batch(changed, OPTIONS, progress, workers=1, show_progress=False)
    assert "(13) exceed" in second.loc[0, "reason"]  # not the row of the old data
    assert "(12) exceed" in second.loc[1, "reason"]
    names = [json.loads(line)["name"] for line in progress.read_text().splitlines()]
    assert names == ["x", "y", "x"]  # y was not fitted again


def test_a_resumed_batch_of_csv_files_sees_a_file_change(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "one.csv").write_text(HEADER + "a,1,10,2,10\n")
    out = tmp_path / "r.csv"
    assert (
        runner.invoke(app, ["batch", str(folder), "--out", str(out), "--workers", "1"]).exit_code
        == 4
    )
    (folder / "one.csv").write_text(HEADER + "a,1,10,2,10\nb,2,10,3,10\nc,12,10,3,10\n")
    out.unlink()
    out.with_suffix(".parquet").unlink(missing_ok=True)
    result = runner.invoke(app, ["batch", str(folder), "--out", str(out), "--workers", "1"])
    assert "warning: " in result.output and "changed since its row was written" in result.output
    assert "(12) exceed" in pd.read_csv(out).loc[0, "reason"]


@pytest.mark.parametrize("name", ["r.CSV", "r.Csv"])
def test_outputs_that_differ_only_in_the_case_of_csv_are_refused(tmp_path: Path, name) -> None:
    # r.csv and r.CSV would share r.jsonl and r.parquet, under two different locks
    with pytest.raises(BayesmetaError, match=r"ending in \.csv \(in lower case\)"):
        table_paths(tmp_path / name)
    data = tmp_path / "long.csv"
    data.write_text("meta_analysis," + HEADER + "m,a,1,10,2,10\n")
    line = fails_cleanly(["batch", str(data), "--out", str(tmp_path / name)])
    assert "in lower case" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["long.csv"]


FORMULAS = ['=HYPERLINK("http://x","y")', "+SUM(A1)", "-2+3", "@cmd", "\tx", "\rx"]


def test_text_cells_that_a_spreadsheet_would_run_are_neutralised(tmp_path: Path) -> None:
    table = pd.DataFrame(
        {
            "name": [*FORMULAS, "plain", "-0.5"],
            "mu_median": [-0.5, 1.0, -2.0, 3.0, -4.0, 5.0, -6.0, -7.0],
        }
    )
    out = tmp_path / "t.csv"
    written = write_table(table, out)
    back = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert list(back["name"]) == [*("'" + f for f in FORMULAS), "plain", "-0.5"]
    assert list(back["mu_median"]) == ["-0.5", "1.0", "-2.0", "3.0", "-4.0", "5.0", "-6.0", "-7.0"]
    if len(written) == 2:  # Parquet keeps the text as it is
        assert list(pd.read_parquet(written[1])["name"]) == list(table["name"])
    assert table.loc[0, "name"] == FORMULAS[0]  # the caller's table is not changed


def test_a_batch_table_neutralises_meta_analysis_names(tmp_path: Path) -> None:
    data = tmp_path / "long.csv"
    data.write_text("meta_analysis," + HEADER + '"=1+2",a,1,10,2,10\n@x,a,1,10,2,10\n')
    out = tmp_path / "r.csv"
    assert (
        runner.invoke(app, ["batch", str(data), "--out", str(out), "--workers", "1"]).exit_code == 4
    )
    back = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert list(back["name"]) == ["'=1+2", "'@x"]
    # the progress file keeps the names as they are (a resume matches them)
    names = [
        json.loads(line)["name"] for line in out.with_suffix(".jsonl").read_text().splitlines()
    ]
    assert sorted(names) == ["=1+2", "@x"]


def test_scenarios_whose_names_are_prefixes_of_each_other_are_scored_apart() -> None:
    short = Scenario("a", k=3, mu=0.0, tau=0.1, baseline_risk=0.2, arm_size=(50, 60), replicates=2)
    long = Scenario("a b", k=3, mu=1.0, tau=0.1, baseline_risk=0.2, arm_size=(50, 60), replicates=2)
    names = [s.replicate_name(i) for s in (short, long) for i in range(2)]
    assert names[2].startswith("simulated a ")  # what the old prefix match took for "a"
    fake = pd.DataFrame(
        {
            "name": names,
            "mu_median": [0.1, -0.1, 1.2, 1.0],
            "mu_ci_lower": [-1.0] * 2 + [0.5] * 2,
            "mu_ci_upper": [1.0] * 2 + [1.5] * 2,
            **{c: [np.nan] * 4 for m in ("dl", "reml", "reml_hksj") for c in METHODS[m]},
        }
    )
    bayes = summarise(fake, [short, long]).query("method == 'bayes'").set_index("scenario")
    assert list(bayes["n"]) == [2, 2]
    assert bayes.loc["a", "bias"] == pytest.approx(0.0, abs=1e-12)  # (0.1 - 0.1) / 2
    assert bayes.loc["a b", "bias"] == pytest.approx(0.1, abs=1e-12)  # (0.2 + 0.0) / 2
    assert bayes.loc["a", "rmse"] == pytest.approx(0.1, abs=1e-12)
    assert bayes.loc["a b", "rmse"] == pytest.approx(math.sqrt(0.02), abs=1e-12)
