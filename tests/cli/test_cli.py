"""The command line: one-line errors with exit code 2, the JSON contract, light imports."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from typer.testing import CliRunner

from bayesmeta.cli import app
from tests.conftest import fails_cleanly, reference

runner = CliRunner()

HEADER = "study,treatment_events,treatment_total,control_events,control_total\n"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("study,treatment_events,treatment_total\nA,1,10\nB,2,10\n", "missing column"),
        (HEADER + "A,1,10,2,10\nB,x,12,3,11\n", "row 2 ('B'), column 'treatment_events'"),
        (HEADER + "A,1,10,-2,10\nB,0,12,3,11\n", "cannot be negative"),
        (HEADER + "A,11,10,2,10\nB,0,12,3,11\n", "exceed the total"),
        (HEADER + "A,1,0,2,10\nB,0,12,3,11\n", "total must be at least 1"),
        (HEADER + "Smith, J,1,10,2,10\nB,0,12,3,11\n", "must be in double quotes"),
        ("", "empty"),
        (HEADER + "A,1,10,2,10\n", "at least 2 studies"),
    ],
)
@pytest.mark.parametrize("command", ["fit", "classic"])
def test_bad_data_is_one_line_and_exit_2(write_csv, command: str, text: str, fragment: str) -> None:
    line = fails_cleanly([command, str(write_csv(text))])
    assert line.startswith("error:")
    assert fragment in line


def test_malformed_prior_is_one_line_and_exit_2() -> None:
    line = fails_cleanly(["fit", "--example", "bcg", "--prior-tau", "half-normal(-1)"])
    assert "sigma must be positive" in line


def test_unknown_example_lists_the_valid_ones() -> None:
    line = fails_cleanly(["fit", "--example", "nope"])
    assert "bcg" in line and "nielweise2007" in line


def test_existing_output_is_not_overwritten(tmp_path) -> None:
    out = tmp_path / "result.json"
    out.write_text("keep me")
    line = fails_cleanly(["classic", "--example", "bcg", "--json", str(out)])
    assert "--force" in line
    assert out.read_text() == "keep me"


def test_classic_json_matches_metafor(tmp_path) -> None:
    out = tmp_path / "classic.json"
    result = runner.invoke(app, ["classic", "--example", "bcg", "--json", str(out)])
    assert result.exit_code == 0, result.output
    freq = json.loads(out.read_text())["frequentist"]
    ref = reference("bcg", "metafor")
    assert freq["random_dl"]["tau2"] == pytest.approx(ref["re_dl"]["tau2"], rel=1e-6)
    assert freq["random_dl"]["pi95"] == pytest.approx(
        [ref["re_dl"]["pi_lb"], ref["re_dl"]["pi_ub"]], rel=1e-6
    )
    assert freq["mantel_haenszel"]["estimate"] == pytest.approx(ref["mh"]["est"], rel=1e-6)


def test_help_and_classic_do_not_import_pymc() -> None:
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from bayesmeta.cli import app\n"
        "r = CliRunner()\n"
        "assert r.invoke(app, ['--help']).exit_code == 0\n"
        "assert r.invoke(app, ['classic', '--example', 'bcg']).exit_code == 0\n"
        "mods = ('pymc', 'pytensor', 'arviz', 'nutpie', 'matplotlib')\n"
        "heavy = [m for m in mods if m in sys.modules]\n"
        "print(heavy)\n"
        "assert not heavy, heavy\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.sampling
def test_fit_json_contract_and_reference_posterior(tmp_path) -> None:
    """`fit` with the reference priors on the CLI: JSON keys of the issue, values vs Stan and
    metafor. Tolerances as in tests/engines/test_nuts_vs_stan.py."""
    out, plot = tmp_path / "bcg.json", tmp_path / "bcg.png"
    args = [
        "fit",
        "--example",
        "bcg",
        "--prior-mu",
        "normal(0, 10)",
        "--prior-tau",
        "half-normal(0.5)",
        "--prior-baseline",
        "normal(0, 10)",
        "--seed",
        "20261127",
        "--json",
        str(out),
        "--plot",
        str(plot),
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "Pooled OR" in result.output and "Mantel-Haenszel" in result.output
    assert plot.stat().st_size > 10_000
    doc = json.loads(out.read_text())
    assert doc["data"]["k"] == 13 and doc["data"]["k_zero_cell"] == 0
    assert doc["data"]["k_double_zero"] == 0
    post, stan = doc["posterior"], reference("bcg", "stan")
    for name in ("mu", "tau"):
        assert set(post[name]) >= {"mean", "median", "sd", "ci95"}
        assert post[name]["median"] == pytest.approx(stan[name]["median"], abs=0.03)
        assert post[name]["ci95"][0] == pytest.approx(stan[name]["q025"], abs=0.06)
        assert post[name]["ci95"][1] == pytest.approx(stan[name]["q975"], abs=0.06)
    assert set(post["theta_new"]) >= {"median", "ci95"}
    assert set(post["odds_ratio"]) >= {"median", "ci95"}
    assert post["prob_mu_below_0"] == pytest.approx(stan["p_mu_below_0"], abs=0.01)
    diag = doc["diagnostics"]
    assert set(diag) >= {
        "rhat_max",
        "ess_bulk_min",
        "ess_tail_min",
        "divergences",
        "converged",
        "sampler",
        "chains",
        "draws",
        "seconds",
    }
    assert diag["converged"] is True and diag["sampler"] == "nutpie"
    metafor = reference("bcg", "metafor")
    freq = doc["frequentist"]
    for ours, theirs in (
        ("mantel_haenszel", "mh"),
        ("fixed_iv", "iv_fixed"),
        ("random_dl", "re_dl"),
    ):
        assert set(freq[ours]) >= {"estimate", "se", "ci95", "p"}
        assert freq[ours]["estimate"] == pytest.approx(metafor[theirs]["est"], rel=1e-6)
        assert freq[ours]["se"] == pytest.approx(metafor[theirs]["se"], rel=1e-6)
    dl = freq["random_dl"]
    assert dl["i2"] == pytest.approx(metafor["re_dl"]["I2"], rel=1e-6)
    assert dl["h2"] == pytest.approx(metafor["re_dl"]["H2"], rel=1e-6)
    assert dl["q"] == pytest.approx(metafor["re_dl"]["Q"], rel=1e-6)
    assert dl["q_p"] == pytest.approx(metafor["re_dl"]["Qp"], rel=1e-6)


def test_unsupported_plot_format_is_refused_before_fitting(tmp_path) -> None:
    line = fails_cleanly(["fit", "--example", "bcg", "--plot", str(tmp_path / "forest.xyz")])
    assert ".png, .pdf or .svg" in line


def test_unknown_frequentist_method_is_refused_before_fitting() -> None:
    line = fails_cleanly(["fit", "--example", "bcg", "--methods", "random_dl,mantel"])
    assert "mantel" in line and "mantel_haenszel" in line


def test_outputs_get_the_usual_file_permissions(tmp_path) -> None:
    import os
    import stat

    from bayesmeta.io.output import write_json

    path = write_json(tmp_path / "out.json", {"a": 1})
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask


@pytest.mark.sampling
def test_saved_posterior_opens_with_xarray(tmp_path) -> None:
    """--save-posterior on a fresh install (h5py is a declared dependency) writes NetCDF that
    xarray.open_datatree reads back with mu, tau and theta, equal to the JSON's summaries."""
    import xarray as xr

    out, posterior = tmp_path / "fit.json", tmp_path / "draws.nc"
    args = ["fit", "--example", "bcg", "--seed", "3"]
    result = CliRunner().invoke(
        app, [*args, "--json", str(out), "--save-posterior", str(posterior)]
    )
    assert result.exit_code in (0, 3), result.output
    tree = xr.open_datatree(posterior, engine="h5netcdf")
    assert {"mu", "tau", "theta"} <= set(tree["posterior"].data_vars)
    assert tree["posterior"]["theta"].sizes["study"] == 13
    median = float(np.median(np.asarray(tree["posterior"]["mu"])))
    assert median == pytest.approx(json.loads(out.read_text())["posterior"]["mu"]["median"])


@pytest.mark.sampling
def test_target_accept_given_on_the_command_line_is_used(tmp_path) -> None:
    out = tmp_path / "r.json"
    args = ["fit", "--example", "bcg", "--seed", "3"]
    result = runner.invoke(app, [*args, "--target-accept", "0.95", "--json", str(out)])
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())
    assert not doc["diagnostics"]["refitted"]
    assert doc["sampler"]["target_accept"] == doc["diagnostics"]["target_accept"] == 0.95
