"""``bayesmeta report`` and ``bayesmeta plot``: the same numbers as ``fit --json`` with the same
seed, one-line errors with exit code 2, outputs checked before any fitting, inputs never
written over, and the same model options as ``fit``."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from bayesmeta.cli import app
from tests.conftest import EXAMPLES, fails_cleanly
from tests.report.test_document import parse, table_with

runner = CliRunner()
SHORT = ["--draws", "500", "--tune", "500", "--seed", "11"]


def option_names(command: str) -> set[str]:
    import typer.main

    cmd = typer.main.get_command(app).commands[command]
    return {opt for p in cmd.params if p.param_type_name == "option" for opt in p.opts}


def test_report_and_plot_take_the_model_options_of_fit():
    # A figure has no absolute-effect table: plot takes --measure and --baseline-risk (the
    # forest plot on RR or RD), not the benefit options.
    # --checks is fit's own: every report and plot computes the model checks (issue 20).
    absolute = {"--baseline-risk", "--benefit-threshold", "--desirable-events"}
    fit = option_names("fit") - {"--json", "--save-posterior", "--plot", "--force", "--checks"}
    assert fit <= option_names("report")
    assert fit - absolute <= option_names("plot")
    assert {"--prior-tau", "--subgroup", "--seed", "--draws", "--methods"} <= fit


@pytest.fixture(scope="module")
def bcg_outputs(tmp_path_factory):
    """`fit --checks --json` and `report` (with sensitivity and influence) on bcg, same
    options."""
    folder = tmp_path_factory.mktemp("bcg")
    fit_args = ["fit", "--example", "bcg", *SHORT, "--checks", "--json", str(folder / "f.json")]
    fit = runner.invoke(app, fit_args)  # a report is fit --checks (model checks included)
    report = runner.invoke(
        app, ["report", "--example", "bcg", *SHORT, "--out", str(folder / "r.html")]
    )
    return folder, fit, report


@pytest.mark.sampling
def test_report_numbers_equal_fit_json_with_the_same_seed(bcg_outputs):
    folder, fit, report = bcg_outputs
    assert fit.exit_code in (0, 3), fit.output
    assert report.exit_code == fit.exit_code, report.output
    assert f"wrote {folder / 'r.html'}" in report.output
    fitted = json.loads((folder / "f.json").read_text())
    html = (folder / "r.html").read_text()
    page = parse(html)
    embedded = json.loads(page.json)["analysis"]
    for doc in (fitted, embedded):
        doc["diagnostics"].pop("seconds")  # wall time, the only field allowed to differ
    assert embedded == fitted
    post = fitted["posterior"]
    rows = {r[0]: r for r in table_with(page, "Quantity")}
    assert rows["Pooled OR"][1] == f"{post['odds_ratio']['median']:.3f}"
    assert rows["Pooled mu (log_odds_ratio)"][3] == f"{post['mu']['sd']:.3f}"
    lo, hi = post["tau"]["ci95"]
    assert rows["Heterogeneity SD, tau"][4] == f"[{lo:.3f}, {hi:.3f}]"
    freq = {r[0]: r for r in table_with(page, "Method")}
    assert freq["DerSimonian-Laird"][4] == f"{fitted['frequentist']['random_dl']['tau2']:.3f}"
    diag = {r[0]: r[1] for r in table_with(page, "Check")}
    assert diag["Max R-hat (mu, tau, theta, theta_new)"] == (
        f"{fitted['diagnostics']['rhat_max']:.3f}"
    )
    assert diag["Seed"] == "11"


@pytest.mark.sampling
def test_report_has_every_section_with_nuts(bcg_outputs):
    folder, _, _ = bcg_outputs
    html = (folder / "r.html").read_text()
    page = parse(html)
    for figure in ("forest", "posterior", "tau", "sensitivity", "influence", "funnel"):
        assert f"figure-{figure}" in page.ids
    assert "figure-trace" in page.ids and "figure-rank" in page.ids
    influence = table_with(page, "Omitted study")
    assert len(influence) == 1 + 1 + 13  # header, all studies, one row per trial
    sensitivity = table_with(page, "Prior for tau")
    assert len(sensitivity) == 1 + 4
    prov = {r[0]: r[1] for r in table_with(page, "Item")}
    import hashlib

    expected = hashlib.sha256((EXAMPLES / "bcg.csv").read_bytes()).hexdigest()
    assert prov["Data file SHA-256"] == expected
    assert "--seed 11" in prov["Command"] and "--draws 500" in prov["Command"]
    assert "NUTS (nutpie), 4 chains x 500 draws, seed 11" in html


def test_markdown_report_writes_its_figures_beside_it(tmp_path):
    out = tmp_path / "r.md"
    args = ["report", "--example", "bcg", "--model", "normal-normal", "--no-influence"]
    result = runner.invoke(app, [*args, "--no-sensitivity", "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text()
    for name in ("forest", "posterior", "tau", "funnel"):
        figure = tmp_path / f"r-{name}.png"
        assert figure.read_bytes().startswith(b"\x89PNG")
        assert f"](r-{name}.png)" in text
    assert not (tmp_path / "r-trace.png").exists()  # exact engine: no chains
    assert "*Not run: not asked for.*" in text


def test_report_refuses_a_bad_suffix_before_fitting(tmp_path):
    line = fails_cleanly(["report", "--example", "bcg", "--out", str(tmp_path / "r.pdf")])
    assert ".html" in line and ".md" in line


def test_report_does_not_overwrite_without_force(tmp_path):
    out = tmp_path / "r.md"
    (tmp_path / "r-rank.png").write_text("keep me")
    line = fails_cleanly(["report", "--example", "bcg", "--out", str(out)])
    assert "r-rank.png exists" in line and "--force" in line
    assert (tmp_path / "r-rank.png").read_text() == "keep me" and not out.exists()


def test_outputs_are_never_written_over_an_input(tmp_path):
    data = tmp_path / "bcg.csv"
    data.write_text((EXAMPLES / "bcg.csv").read_text())
    for force in ([], ["--force"]):
        line = fails_cleanly(["fit", str(data), "--json", str(data), *force])
        assert "is an input" in line
    assert data.read_text() == (EXAMPLES / "bcg.csv").read_text()


def test_spec_file_with_model_options_is_refused(tmp_path):
    spec = tmp_path / "bcg.toml"
    spec.write_text('[data]\nexample = "bcg"\n[model]\nname = "normal-normal"\n')
    line = fails_cleanly(["report", str(spec), "--draws", "600", "--out", str(tmp_path / "r.html")])
    assert "bcg.toml is a specification file" in line and "--draws" in line


def test_report_from_a_spec_file(tmp_path):
    spec = tmp_path / "bcg.toml"
    spec.write_text('[data]\nexample = "bcg"\n[model]\nname = "normal-normal"\n')
    out = tmp_path / "r.html"
    args = ["report", str(spec), "--out", str(out), "--no-sensitivity", "--no-influence"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    prov = {r[0]: r[1] for r in table_with(parse(out.read_text()), "Item")}
    import hashlib

    assert prov["Specification SHA-256"] == hashlib.sha256(spec.read_bytes()).hexdigest()
    assert prov["Command"] == f"bayesmeta report {spec}"


def test_plot_unknown_kind_lists_the_valid_ones(tmp_path):
    line = fails_cleanly(["plot", "violin", "--example", "bcg", "--out", str(tmp_path / "v.png")])
    assert "forest" in line and "funnel" in line and "influence" in line


def test_plot_refuses_an_unknown_figure_format(tmp_path):
    line = fails_cleanly(["plot", "forest", "--example", "bcg", "--out", str(tmp_path / "f.jpg")])
    assert ".png, .pdf or .svg" in line


@pytest.mark.parametrize("fmt", ["svg", "pdf", "png"])
def test_plot_forest_in_each_format(tmp_path, fmt):
    out = tmp_path / f"forest.{fmt}"
    args = ["plot", "forest", "--example", "li2007", "--model", "normal-normal", "--out", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    data = out.read_bytes()
    assert data.startswith({"svg": b"<?xml", "pdf": b"%PDF", "png": b"\x89PNG"}[fmt])
    if fmt == "svg":
        assert "Odds ratio" in data.decode() and "Morton 1984" in data.decode()


def test_plot_trace_of_an_exact_fit_is_a_clear_error(tmp_path):
    args = ["plot", "trace", "--example", "bcg", "--model", "normal-normal"]
    line = fails_cleanly([*args, "--out", str(tmp_path / "t.png")])
    assert "exact engine draws no MCMC chains" in line


def test_plot_funnel_needs_no_fit_and_no_pymc(tmp_path):
    out = tmp_path / "funnel.svg"
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from bayesmeta.cli import app\n"
        f"args = ['plot', 'funnel', '--example', 'bcg', '--out', {str(out)!r}]\n"
        "r = CliRunner().invoke(app, args)\n"
        "assert r.exit_code == 0, r.output\n"
        "heavy = [m for m in ('pymc', 'pytensor', 'nutpie', 'arviz') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Egger" in out.read_text()


def test_favours_needs_two_labels(tmp_path):
    args = ["plot", "forest", "--example", "bcg", "--favours", "better", "--out"]
    line = fails_cleanly([*args, str(tmp_path / "f.png")])
    assert "--favours expects two labels" in line


def favours_labels(svg: str) -> list[str]:
    """The favours labels of an SVG forest plot, left to right."""
    found = re.findall(r'<g id="favours">\s*<text[^>]*\sx="([-\d.]+)"[^>]*>([^<]*)</text>', svg)
    return [label for _, label in sorted((float(x), label) for x, label in found)]


@pytest.mark.sampling
def test_a_shipped_example_of_wanted_events_has_its_favours_labels(tmp_path):
    """hasselblad1998 counts quitters: an odds ratio above 1 favours the intervention, so its
    forest plot says so on the right of 1 (bcg keeps the usual labels); --favours overrides."""
    out = tmp_path / "h.svg"
    args = ["plot", "forest", "--example", "hasselblad1998", *SHORT, "--out", str(out)]
    done = runner.invoke(app, args)
    assert done.exit_code in (0, 3), done.output
    assert favours_labels(out.read_text()) == ["Favours control", "Favours treatment"]
    exact = ["--model", "normal-normal"]
    for example, favours, expected in [
        ("hasselblad1998", [], ["Favours control", "Favours treatment"]),
        ("hasselblad1998", ["--favours", "Fewer quit,More quit"], ["Fewer quit", "More quit"]),
        ("bcg", [], ["Favours treatment", "Favours control"]),
    ]:
        out = tmp_path / f"{example}-{len(favours)}.svg"
        args = ["fit", "--example", example, *exact, *favours, "--plot", str(out)]
        done = runner.invoke(app, args)
        assert done.exit_code == 0, done.output
        assert favours_labels(out.read_text()) == expected


def test_fit_favours_needs_a_plot():
    line = fails_cleanly(["fit", "--example", "bcg", "--favours", "Worse,Better"])
    assert line == "error: --favours labels the forest plot: give --plot as well"
