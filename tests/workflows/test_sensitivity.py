"""Prior sensitivity and the prior tables: `bayesmeta priors` and `bayesmeta sensitivity`."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from bayesmeta.cli import app
from bayesmeta.workflows.sensitivity import TURNER_DEFAULT, default_tau_priors

runner = CliRunner()

# Fast settings: few draws, so the fits may be flagged as not converged (exit code 3); the
# checks below allow for the Monte Carlo error that comes with them.
FAST = ["--chains", "2", "--draws", "300", "--tune", "300", "--seed", "7"]


def test_priors_lists_families_defaults_and_tau_quantiles() -> None:
    result = runner.invoke(app, ["priors"])
    assert result.exit_code == 0, result.output
    # half-normal(sigma) median: sigma * Phi^-1(0.75) = 0.5 * 0.6745 = 0.337.
    rows = [line for line in result.output.splitlines() if "half-normal(0.5)" in line]
    assert rows and all("0.337" in row.split() for row in rows), rows
    for family in ("half-cauchy", "half-student-t", "lognormal", "turner"):
        assert family in result.output
    assert "all-cause mortality" in result.output  # the Turner et al. table


def test_default_tau_priors_follow_the_scale() -> None:
    two_arm = [str(p) for p in default_tau_priors(log_odds_ratio=True)]
    single = [str(p) for p in default_tau_priors(log_odds_ratio=False)]
    assert two_arm[:3] == single[:3] == ["half-normal(0.5)", "half-normal(1)", "half-cauchy(0.5)"]
    assert two_arm[3].startswith("turner(all-cause mortality, pharmacological vs. placebo")
    assert TURNER_DEFAULT.startswith("turner(")
    assert single[3] == "exponential(2)"


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--example", "bcg", "--prior-tau", "normal(0, 1)"], "no mass below 0"),
        (["--example", "bcg", "--prior-tau", "half-normal(-1)"], "sigma must be positive"),
        (["--example", "bcg", "--prior-tau", "turner(nonsense, drug vs placebo)"], "unknown"),
        (["--prior-tau", "half-normal(1)"], "either a DATA.csv path or --example"),
    ],
)
def test_sensitivity_errors_are_one_line_exit_2(args: list[str], fragment: str) -> None:
    result = runner.invoke(app, ["sensitivity", *args])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and fragment in lines[0], result.output


@pytest.mark.sampling
def test_sensitivity_table_on_bcg(tmp_path) -> None:
    out = tmp_path / "sens.json"
    narrow, wide = "half-normal(0.5)", "half-normal(2)"
    args = ["sensitivity", "--example", "bcg", "--prior-tau", narrow, "--prior-tau", wide]
    result = runner.invoke(app, [*args, *FAST, "--json", str(out)])
    assert result.exit_code in (0, 3), result.output  # 3: short chains flagged, not an error
    assert narrow in result.output and wide in result.output and "P(OR < 1)" in result.output
    rows = json.loads(out.read_text())["rows"]
    assert [r["prior"] for r in rows] == [narrow, wide]
    # Stan reference (tests/reference/bcg.stan.json, 36,000 draws): median mu -0.753, so OR
    # exp(-0.753) = 0.471, under mu ~ normal(0, 10). Our default mu prior normal(0, 2.82) moves
    # the median by far less than 0.01 here (13 studies dominate it); the 0.05 tolerance is for
    # the Monte Carlo error of 600 draws (posterior SD of the OR about 0.10, ESS >= 70 gives a
    # median error of about 0.015) plus that prior difference.
    assert abs(rows[0]["median"] - 0.47) < 0.05
    assert rows[0]["prob_mu_below_0"] > 0.99
    # A wider prior for tau lets tau be larger, so the pooled OR is less certain.
    width = [r["ci95"][1] - r["ci95"][0] for r in rows]
    assert width[1] >= width[0], rows
    assert rows[1]["tau_median"] >= rows[0]["tau_median"], rows
    again = runner.invoke(app, [*args, *FAST, "--json", str(out)])
    assert again.exit_code == 2 and "exists" in again.output


def test_sensitivity_on_reported_hazard_ratios_with_the_exact_engine(tmp_path) -> None:
    """Reported log HRs: rows on the HR scale, log-ratio default priors; the exact engine
    makes the rows exact, so the HR median is exp of the exact posterior median of mu."""
    import math

    from bayesmeta.engines.nuts import SamplerSettings
    from bayesmeta.io.inputs import load
    from bayesmeta.model.priors import PriorSet, parse_prior
    from bayesmeta.workflows.analyze import analyze
    from bayesmeta.workflows.sensitivity import prior_sensitivity

    path = tmp_path / "hr.csv"
    path.write_text("study,log_hr,se\nA,-0.3,0.2\nB,-0.1,0.15\nC,-0.5,0.3\nD,0.05,0.25\n")
    data = load(path)
    priors = [parse_prior("half-normal(0.5)"), parse_prior("half-cauchy(0.5)")]
    rows = prior_sensitivity(data, priors, settings=SamplerSettings(), model="normal-normal")
    assert [r.to_dict()["measure"] for r in rows] == ["HR", "HR"]
    exact = analyze(data, priors=PriorSet(tau=priors[0]))
    assert rows[0].to_dict()["median"] == pytest.approx(
        math.exp(exact.posterior.mu.median), rel=1e-12
    )
    assert all(r.converged for r in rows)


def test_turner_priors_are_not_the_default_for_hazard_ratios(tmp_path) -> None:
    """Turner et al.'s priors are for log odds ratios: reported log HRs get exponential(2)."""
    from bayesmeta.engines.nuts import SamplerSettings
    from bayesmeta.io.inputs import load
    from bayesmeta.workflows.sensitivity import prior_sensitivity

    path = tmp_path / "hr.csv"
    path.write_text("study,log_hr,se\nA,-0.3,0.2\nB,-0.1,0.15\nC,-0.5,0.3\n")
    rows = prior_sensitivity(load(path), None, settings=SamplerSettings())
    assert [str(r.prior) for r in rows][-1] == "exponential(2)"


def test_report_sensitivity_under_engine_exact_refits_by_quadrature(monkeypatch) -> None:
    """``bayesmeta report --engine exact``: the main fit and every tau-prior refit are exact
    fits of the binomial-normal model; NUTS is never called (it raises here)."""
    from dataclasses import replace

    from bayesmeta.engines import nuts
    from bayesmeta.summaries.exact_binomial import posterior
    from bayesmeta.workflows.report import analyses
    from bayesmeta.workflows.request import AnalysisRequest, plan

    def no_nuts(*args: object, **kwargs: object) -> None:
        raise AssertionError("NUTS was called under --engine exact")

    monkeypatch.setattr(nuts, "fit", no_nuts)
    planned = plan(AnalysisRequest(example="bcg", engine="exact"))
    contents = analyses(planned, parts=("fit", "sensitivity"))
    assert contents.result.engine == "exact"
    rows = contents.sensitivity
    assert [str(r.prior) for r in rows[:3]] == [
        "half-normal(0.5)",
        "half-normal(1)",
        "half-cauchy(0.5)",
    ]
    spec = planned.spec
    for row in rows:
        direct = posterior(replace(spec, priors=replace(spec.priors, tau=row.prior)))
        assert row.mu.median == pytest.approx(direct.mu.median, abs=1e-12)
        assert row.tau.median == pytest.approx(direct.tau.median, abs=1e-12)
        assert row.prob_mu_below_0 == pytest.approx(direct.prob_mu_below_0, abs=1e-12)
        assert row.converged


def test_sensitivity_command_engine_exact_refits_by_quadrature(monkeypatch, tmp_path) -> None:
    from dataclasses import replace

    from bayesmeta.engines import nuts
    from bayesmeta.io.examples import load_example
    from bayesmeta.model.description import ModelSpec
    from bayesmeta.summaries.exact_binomial import posterior

    def no_nuts(*args: object, **kwargs: object) -> None:
        raise AssertionError("NUTS was called under --engine exact")

    monkeypatch.setattr(nuts, "fit", no_nuts)
    out = tmp_path / "sens.json"
    args = ["sensitivity", "--example", "bcg", "--engine", "exact"]
    result = runner.invoke(app, [*args, "--prior-tau", "half-normal(1)", "--json", str(out)])
    assert result.exit_code == 0, result.output
    (row,) = json.loads(out.read_text())["rows"]
    spec = ModelSpec.describe(load_example("bcg"))
    direct = posterior(replace(spec, priors=replace(spec.priors, tau="half-normal(1)")))
    assert row["tau_median"] == pytest.approx(direct.tau.median, abs=1e-12)
    assert row["prob_mu_below_0"] == pytest.approx(direct.prob_mu_below_0, abs=1e-12)
    bad = runner.invoke(app, [*args[:3], "--engine", "fast"])
    assert bad.exit_code == 2 and "unknown engine 'fast'" in bad.output
