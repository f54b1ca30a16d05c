"""Subgroups in the exact binomial engine against a brute-force quadrature.

``tests/reference/binomial_subgroups.json`` (``tests/reference/binomial_subgroups.py``: quad
for each study's baseline integral, dense trapezoid and Simpson grids, the differences by
convolution): bcg by allocation, shared and separate tau and the common-effect model. Every
subgroup's ``mu`` and ``tau`` (mean, SD, quantiles) within 1e-3, ``log p(y)`` within 1e-3; the
differences between subgroups, read off 40,000 exact draws, within 4 Monte Carlo standard
errors.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
from scipy import stats

import bayesmeta

ROOT = Path(__file__).resolve().parents[2]
REF = json.loads((ROOT / "tests" / "reference" / "binomial_subgroups.json").read_text())
N_DRAWS = 40_000
QS = (0.025, 0.5, 0.975)


@pytest.fixture(scope="module", params=["shared", "separate", "common"])
def fitted(request) -> tuple[str, dict]:
    data = bayesmeta.load(ROOT / "examples" / "bcg.csv")
    mods = bayesmeta.moderators(
        data.covariates, subgroup="alloc", separate_tau=request.param == "separate"
    )
    result = bayesmeta.analyze(
        data,
        model="binomial-normal",
        engine="exact",
        moderators=mods,
        common_effect=request.param == "common",
        priors={"mu": "normal(0, 10)", "tau": "half-normal(0.5)"},
    )
    return request.param, result.to_dict()


def _values(s: dict) -> list[float]:
    return [s["mean"], s["sd"], s["ci95"][0], s["median"], s["ci95"][1]]


def _ref(r: dict) -> list[float]:
    return [r["mean"], r["sd"], r["q"][0], r["q"][1], r["q"][2]]


def test_subgroup_posteriors_match_brute_force(fitted) -> None:
    kind, out = fitted
    ref = REF[kind]
    groups = out["posterior"]["subgroups"]["levels"]
    assert list(groups) == REF["levels"]
    for level, want in ref["groups"].items():
        got = groups[level]
        assert _values(got["mu"]) == pytest.approx(_ref(want["mu"]), abs=1e-3)
        assert got["prob_mu_below_0"] == pytest.approx(want["mu"]["p_below_0"], abs=1e-4)
        if kind == "common":
            assert got.get("tau") is None and got["theta_new"] == got["mu"]
            continue
        tau = got["tau"] if kind == "separate" else out["posterior"]["tau"]
        assert _values(tau) == pytest.approx(_ref(want.get("tau", ref.get("tau"))), abs=1e-3)
    if kind != "shared":
        assert out["posterior"].get("tau") is None
    assert out["log_marginal_likelihood"] == pytest.approx(ref["log_marginal_likelihood"], abs=1e-3)


def test_subgroup_differences_within_monte_carlo_error(fitted) -> None:
    """Quantile q of 40,000 independent draws has the SE sqrt(q (1 - q) / n) / f(x_q); f from
    the normal with the reference's SD (the differences are near-normal)."""
    kind, out = fitted
    diffs = out["posterior"]["subgroups"]["differences"]
    for name, want in REF[kind]["differences"].items():
        got, sd = diffs[name], want["sd"]
        se_mean = sd / math.sqrt(N_DRAWS)
        assert got["mean"] == pytest.approx(want["mean"], abs=4 * se_mean)
        assert got["sd"] == pytest.approx(sd, abs=4 * sd / math.sqrt(2 * N_DRAWS))
        values = (got["ci95"][0], got["median"], got["ci95"][1])
        for q, x, w in zip(QS, values, want["q"], strict=True):
            se = math.sqrt(q * (1 - q) / N_DRAWS) / (stats.norm.pdf(stats.norm.ppf(q)) / sd)
            assert x == pytest.approx(w, abs=4 * se)
        p = want["p_below_0"]
        assert got["prob_below_0"] == pytest.approx(p, abs=4 * math.sqrt(p * (1 - p) / N_DRAWS))


def test_exact_subgroups_import_no_pymc() -> None:
    code = (
        "import sys, bayesmeta\n"
        "d = bayesmeta.load('examples/bcg.csv')\n"
        "m = bayesmeta.moderators(d.covariates, subgroup='alloc', separate_tau=True)\n"
        "r = bayesmeta.analyze(d, model='binomial-normal', engine='exact', moderators=m)\n"
        "assert r.to_dict()['posterior']['subgroups']['levels']['random']['tau']\n"
        "heavy = [m for m in ('pymc', 'pytensor', 'arviz', 'nutpie') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
