"""Simulation studies: scenario grids, simulated counts, the scoring of methods, end to end."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bayesmeta.engines.nuts import SamplerSettings
from bayesmeta.errors import BayesmetaError
from bayesmeta.workflows.batch import BatchOptions
from bayesmeta.workflows.simulate import (
    METHODS,
    Scenario,
    read_scenarios,
    run_simulation,
    simulation_jobs,
    summarise,
)

TRUTH = Scenario("s", k=3, mu=-0.5, tau=0.2, baseline_risk=0.2, arm_size=(50, 200), replicates=3)


def test_summarise_matches_hand_computed_values() -> None:
    # Three fake replicates with truth mu = -0.5. Bayes: estimates -0.4, -0.3, -0.5 with
    # intervals [-0.8, 0.0] (covers), [-0.45, -0.15] (misses), [-1.0, -0.4] (covers);
    # DL: one replicate has no estimate (skipped block) and is left out.
    fake = pd.DataFrame(
        {
            "name": [TRUTH.replicate_name(i) for i in range(3)],
            "mu_median": [-0.4, -0.3, -0.5],
            "mu_ci_lower": [-0.8, -0.45, -1.0],
            "mu_ci_upper": [0.0, -0.15, -0.4],
            "dl_estimate": [-0.3, np.nan, -0.6],
            "dl_ci_lower": [-0.4, np.nan, -0.9],
            "dl_ci_upper": [0.1, np.nan, -0.3],
            **{c: [np.nan] * 3 for m in ("reml", "reml_hksj") for c in METHODS[m]},
        }
    )
    summary = summarise(fake, [TRUTH]).set_index("method")
    bayes, dl = summary.loc["bayes"], summary.loc["dl"]
    # errors 0.1, 0.2, 0.0 -> bias 0.1; RMSE sqrt((0.01 + 0.04 + 0) / 3)
    assert bayes["n"] == 3
    assert bayes["bias"] == pytest.approx(0.1, abs=1e-12)
    assert bayes["rmse"] == pytest.approx(math.sqrt(0.05 / 3), abs=1e-12)
    assert bayes["coverage"] == pytest.approx(2 / 3)
    assert bayes["mean_width"] == pytest.approx((0.8 + 0.3 + 0.6) / 3)
    # errors 0.2, -0.1 -> bias 0.05, RMSE sqrt(0.025); [-0.4, 0.1] misses, [-0.9, -0.3] covers
    assert dl["n"] == 2
    assert dl["bias"] == pytest.approx(0.05, abs=1e-12)
    assert dl["rmse"] == pytest.approx(math.sqrt(0.025), abs=1e-12)
    assert dl["coverage"] == 0.5
    assert dl["mean_width"] == pytest.approx(0.55)
    assert summary.loc["reml", "n"] == 0 and math.isnan(summary.loc["reml", "bias"])


def test_simulated_counts_are_reproducible_and_named_simulated() -> None:
    first, again = simulation_jobs([TRUTH], seed=7), simulation_jobs([TRUTH], seed=7)
    other = simulation_jobs([TRUTH], seed=8)
    assert [j.name for j in first] == ["simulated s 0001", "simulated s 0002", "simulated s 0003"]
    for a, b in zip(first, again, strict=True):
        pd.testing.assert_frame_equal(a.source, b.source)
    assert not first[0].source.equals(other[0].source)
    table = first[0].source
    assert len(table) == 3
    assert table["treatment_total"].between(50, 200).all()
    assert (table["treatment_events"] <= table["treatment_total"]).all()


def test_read_scenarios_applies_default_replicates_and_rejects_unknown_keys(
    tmp_path: Path,
) -> None:
    grid = tmp_path / "grid.toml"
    grid.write_text(
        "replicates = 4\n[[scenario]]\nname = 'a'\nk = 5\nmu = -0.3\ntau = 0.3\n"
        "baseline_risk = 0.2\narm_size = [50, 200]\n"
    )
    (scenario,) = read_scenarios(grid)
    assert scenario.replicates == 4 and scenario.arm_size == (50, 200)
    grid.write_text("[[scenario]]\nname = 'a'\nk = 5\nsigma = 1\n")
    with pytest.raises(BayesmetaError, match=r"unknown key\(s\) \['sigma'\]"):
        read_scenarios(grid)


def test_impossible_scenario_is_a_user_error() -> None:
    with pytest.raises(BayesmetaError, match="baseline_risk must be in"):
        Scenario("x", k=5, mu=0.0, tau=0.1, baseline_risk=1.5, arm_size=(5, 9), replicates=1)


@pytest.mark.sampling
def test_three_replicates_end_to_end(tmp_path: Path) -> None:
    options = BatchOptions(settings=SamplerSettings(chains=2, draws=200, tune=200, seed=3))
    rows, summary = run_simulation(
        [TRUTH], options, tmp_path / "sim.jsonl", workers=1, show_progress=False
    )
    assert list(rows["status"]) == ["ok"] * 3
    assert rows["name"].str.contains("simulated").all()
    assert list(summary["method"]) == list(METHODS)
    assert (summary["n"] == 3).all()
    assert summary["coverage"].between(0, 1).all()
    assert (summary["mean_width"] > 0).all()


GRID = (
    "[[scenario]]\nname = 'a'\nk = 5\nmu = -0.3\ntau = 0.3\nbaseline_risk = 0.2\n"
    "arm_size = [50, 200]\nreplicates = 2\n"
)


def _grid_with(tmp_path: Path, key: str, value: str) -> Path:
    """GRID with ``key = value`` in place of the scenario's own line for ``key``."""
    lines = [line for line in GRID.splitlines() if not line.startswith(f"{key} =")]
    path = tmp_path / "grid.toml"
    path.write_text("\n".join([*lines, f"{key} = {value}"]) + "\n")
    return path


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("replicates", "0", "replicates must be an integer >= 1, got 0"),
        ("replicates", "2.5", "replicates must be an integer >= 1, got 2.5"),
        ("replicates", "'10'", "replicates must be an integer >= 1, got '10'"),
        ("k", "1", "k must be an integer >= 2, got 1"),
        ("k", "true", "k must be an integer >= 2, got True"),
        ("arm_size", "[200, 50]", r"arm_size must be \[low, high\], two integers with 1 <= low"),
        ("arm_size", "[50]", r"arm_size must be .* got \[50\]"),
        ("arm_size", "[0, 10]", r"arm_size must be .* got \[0, 10\]"),
        ("arm_size", "[5.5, 10]", r"arm_size must be .* got \[5.5, 10\]"),
        ("baseline_risk", "0", r"baseline_risk must be a number in \(0, 1\), got 0"),
        ("baseline_risk", "1.2", r"baseline_risk must be a number in \(0, 1\), got 1.2"),
        ("tau", "-0.1", "tau must be a finite number >= 0, got -0.1"),
        ("tau", "inf", "tau must be a finite number >= 0, got inf"),
        ("mu", "nan", "mu must be a finite number, got nan"),
        ("mu", "'-0.3'", "mu must be a finite number, got '-0.3'"),
        ("name", "''", "name must be a non-empty string"),
    ],
)
def test_each_grid_key_is_validated_with_scenario_and_key_named(
    tmp_path: Path, key: str, value: str, message: str
) -> None:
    grid = _grid_with(tmp_path, key, value)
    where = r"grid\.toml: scenario 1( \([^)]*\))?: "
    with pytest.raises(BayesmetaError, match=where + message):
        read_scenarios(grid)


def test_unknown_and_missing_keys_are_listed_with_the_valid_ones(tmp_path: Path) -> None:
    grid = _grid_with(tmp_path, "sigma", "1")
    with pytest.raises(BayesmetaError) as info:
        read_scenarios(grid)
    assert "scenario 1 ('a'): unknown key(s) ['sigma']" in str(info.value)
    assert "valid keys: name, k, mu, tau, baseline_risk, arm_size, replicates" in str(info.value)
    grid.write_text("[[scenario]]\nname = 'b'\nk = 5\n")
    with pytest.raises(BayesmetaError, match=r"missing \['mu', 'tau', 'baseline_risk'"):
        read_scenarios(grid)
    grid.write_text("replicate = 3\n" + GRID)
    with pytest.raises(BayesmetaError, match=r"unknown top-level key\(s\) \['replicate'\]"):
        read_scenarios(grid)


def test_top_level_replicates_is_validated(tmp_path: Path) -> None:
    grid = tmp_path / "grid.toml"
    grid.write_text("replicates = 0\n" + GRID.replace("replicates = 2\n", ""))
    with pytest.raises(BayesmetaError, match=r"grid\.toml: top-level replicates must be"):
        read_scenarios(grid)


def test_grid_that_is_not_utf8_or_not_toml_names_the_file(tmp_path: Path) -> None:
    grid = tmp_path / "grid.toml"
    grid.write_bytes(GRID.replace("'a'", "'caf\xe9'").encode("latin-1"))
    with pytest.raises(BayesmetaError, match=r"grid\.toml: not UTF-8 text \(byte 0xe9"):
        read_scenarios(grid)
    grid.write_text("[[scenario]\n")
    with pytest.raises(BayesmetaError, match=r"grid\.toml: not valid TOML"):
        read_scenarios(grid)


def _simulate(*args: str) -> tuple[int, str]:
    from typer.testing import CliRunner

    from bayesmeta.cli import app

    result = CliRunner().invoke(app, ["simulate", *args])
    return result.exit_code, result.output


def test_cli_bad_grid_is_one_line_exit_2(tmp_path: Path) -> None:
    grid = tmp_path / "grid.toml"
    grid.write_bytes(b"\xff\xfe[[scenario]]\n")
    code, output = _simulate(str(grid), "--out", str(tmp_path / "s.csv"))
    assert code == 2
    assert output.strip().count("\n") == 0
    assert "not UTF-8 text" in output


@pytest.mark.parametrize("name", ["s.parquet", "s.jsonl"])
def test_cli_out_must_be_csv(tmp_path: Path, name: str) -> None:
    grid = _grid_with(tmp_path, "replicates", "1")
    code, output = _simulate(str(grid), "--out", str(tmp_path / name), "--force")
    assert code == 2
    assert "give a file name ending in .csv" in output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["grid.toml"]


@pytest.mark.parametrize("existing", ["s.csv", "s.parquet"])
def test_cli_existing_summary_is_refused_before_any_fitting(tmp_path: Path, existing: str) -> None:
    if existing.endswith(".parquet"):
        pytest.importorskip("pyarrow")
    grid = _grid_with(tmp_path, "replicates", "1")
    (tmp_path / existing).write_text("old")
    code, output = _simulate(str(grid), "--out", str(tmp_path / "s.csv"))
    assert code == 2
    assert f"{existing} exists; pass --force" in output
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["grid.toml", existing])
