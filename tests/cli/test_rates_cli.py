"""``bayesmeta classic`` and ``fit`` on an incidence-rate CSV the team did not ship.

Data: tests/frequentist/data/hart1999_rates.csv (Hart RG, Benavente O, McBride R, Pearce LA.
Antithrombotic therapy to prevent stroke in patients with atrial fibrillation: a meta-analysis.
Ann Intern Med 1999;131(7):492-501; R metadat dat.hart1999: strokes per patient-year, warfarin
vs placebo or control; metafor's column names x1i, t1i, x2i, t2i). References: metafor 3.8-1
(tests/reference/metafor_rates.R -> metafor_rates.json) and rstan 2.21, 4 x 9,000 draws
(tests/reference/stan_rates.R -> hart1999.stan.json).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bayesmeta.cli import app
from tests.conftest import fails_cleanly, reference

runner = CliRunner()
HART = Path(__file__).resolve().parents[1] / "frequentist/data/hart1999_rates.csv"
METAFOR = json.loads(
    (Path(__file__).resolve().parents[1] / "reference/metafor_rates.json").read_text()
)["hart1999"]


def test_classic_json_gives_metafor_irrs(tmp_path) -> None:
    out = tmp_path / "classic.json"
    result = runner.invoke(app, ["classic", str(HART), "--json", str(out)])
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())
    assert doc["data"]["design"] == "rates" and doc["effect_sizes"]["measure"] == "IRR"
    freq = doc["frequentist"]
    for name, key in (("mantel_haenszel", "mh"), ("random_reml", "re_reml")):
        assert freq[name]["estimate"] == pytest.approx(METAFOR[key]["est"], rel=1e-6)
        assert freq[name]["ci95"] == pytest.approx(
            [METAFOR[key]["ci_lb"], METAFOR[key]["ci_ub"]], rel=1e-6
        )
    hk = METAFOR["re_reml_hksj"]
    assert freq["random_reml_hksj"]["ci95"] == pytest.approx([hk["ci_lb"], hk["ci_ub"]], rel=1e-6)
    glmm = METAFOR["glmm_refined"]
    assert freq["glmm_poisson"]["estimate"] == pytest.approx(glmm["est"], rel=1e-6)
    assert freq["glmm_poisson"]["se"] == pytest.approx(glmm["se"], rel=1e-6)


def test_person_time_of_zero_is_one_line_and_exit_2(tmp_path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("study,x1i,t1i,x2i,t2i\nA,1,100,2,120\nB,3,0,4,90\n")
    for command in ("classic", "fit"):
        line = fails_cleanly([command, str(bad)])
        assert "row 2 ('B'), column 't1i'" in line and "positive" in line


@pytest.mark.sampling
def test_fit_posterior_matches_stan(tmp_path) -> None:
    """Small seeded fit (4 x 1,000 draws); tolerances about 3 Monte Carlo SEs of our
    quantiles (sd / sqrt(ESS) * 1.25 with ESS > 500: 0.03 for medians, 0.07 for interval
    ends of mu; tau's upper tail is wider) plus the reference's 0.005."""
    out = tmp_path / "fit.json"
    args = ["fit", str(HART), "--json", str(out), "--seed", "20261204", "--draws", "1000"]
    args += ["--prior-mu", "normal(0, 10)", "--prior-tau", "half-normal(0.5)"]
    args += ["--prior-baseline", "normal(0, 10)", "--quiet"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())
    ref = reference("hart1999", "stan")
    assert doc["model"] == "poisson-normal" and doc["diagnostics"]["converged"]
    mu, tau = doc["posterior"]["mu"], doc["posterior"]["tau"]
    assert mu["median"] == pytest.approx(ref["mu"]["median"], abs=0.03)
    assert mu["ci95"] == pytest.approx([ref["mu"]["q025"], ref["mu"]["q975"]], abs=0.07)
    assert tau["median"] == pytest.approx(ref["tau"]["median"], abs=0.03)
    assert tau["ci95"][1] == pytest.approx(ref["tau"]["q975"], abs=0.08)
