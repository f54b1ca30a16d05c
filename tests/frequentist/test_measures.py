"""``classic(measure=...)`` and ``bayesmeta classic --measure``: odds ratios, risk ratios and
risk differences against R metafor 3.8-1 (R 4.2.2).

Reference: ``tests/reference/metafor_measures.json``, written by
``Rscript tests/reference/metafor_measures.R`` (versions recorded in the JSON). Per dataset and
measure: ``escalc(measure)`` defaults (0.5 added to all cells of a study with a zero cell,
double-zero studies kept: ``drop00 = FALSE``), ``rma.mh(measure)`` (no correction; Q over the
escalc effects with ``drop00 = TRUE``), ``rma(yi, vi, method = M)`` for every tau^2 estimator
with ``predict()`` and ``confint()``, ``test = "knha"`` for DL and REML, ``leave1out()`` and
``cumul()`` of the DL fit, ``regtest(model = "lm")``. Data: every shipped two-arm example and
three metadat datasets the package does not ship (``tests/frequentist/data/README.md``).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import bayesmeta
from bayesmeta.cli import app
from bayesmeta.frequentist.classic import classic
from bayesmeta.frequentist.pooled import TAU2_METHODS, cumulative
from bayesmeta.frequentist.results import AsymmetryTest, PooledEstimate, Skipped
from tests.conftest import fails_cleanly

ROOT = Path(__file__).resolve().parents[2]
REF = json.loads((ROOT / "tests" / "reference" / "metafor_measures.json").read_text())
FILES = {
    **{n: ROOT / "examples" / f"{n}.csv" for n in ("bcg", "li2007", "nielweise2007")},
    "hasselblad1998": ROOT / "examples" / "hasselblad1998.csv",
    **{
        n: ROOT / "tests" / "frequentist" / "data" / f"{n}.csv"
        for n in ("yusuf1985_table6", "egger2001", "collins1985a")
    },
}
MEASURES = ("OR", "RR", "RD")
RTOL, ATOL = 1e-6, 1e-10
BLOCKS = {
    "mh": "mantel_haenszel",
    "iv_fixed": "fixed_iv",
    **{f"re_{m.lower()}": f"random_{m.lower()}" for m in TAU2_METHODS},
    "re_dl_hksj": "random_dl_hksj",
    "re_reml_hksj": "random_reml_hksj",
}
OR_ONLY = ("peto", "glmm_um_fs", "harbord", "peters")


def close(ours, theirs) -> None:
    np.testing.assert_allclose(np.asarray(ours, float), np.asarray(theirs, float), RTOL, ATOL)


def check_fit(e: PooledEstimate, ref: dict) -> None:
    close(
        [e.estimate, e.se, *e.ci, e.p, e.i2, e.h2, e.q, e.q_p],
        [ref[k] for k in ("est", "se", "ci_lb", "ci_ub", "pval", "I2", "H2", "Q", "Qp")],
    )
    assert e.k == ref["k"]
    close(e.tau2, ref["tau2"])
    if "pi_lb" in ref:
        close([*e.pi, *e.tau2_ci], [ref["pi_lb"], ref["pi_ub"], ref["tau2_lb"], ref["tau2_ub"]])


def check_sequence(fits: dict[str, PooledEstimate], ref: dict) -> None:
    rows = list(fits.values())
    close([r.estimate for r in rows], ref["est"])
    close([r.ci for r in rows], np.column_stack([ref["ci_lb"], ref["ci_ub"]]))
    close([r.tau2 for r in rows], ref["tau2"])
    close([r.i2 for r in rows], ref["I2"])


@pytest.fixture(scope="module")
def results():
    return {
        (name, m): classic(bayesmeta.load(path), measure=m, leave_one_out_method="DL")
        for name, path in FILES.items()
        for m in MEASURES
    }


@pytest.mark.parametrize("measure", MEASURES)
@pytest.mark.parametrize("name", FILES)
def test_every_estimator_matches_metafor(results, name: str, measure: str) -> None:
    result, ref = results[name, measure], REF[name][measure]
    es = result.effect_sizes
    assert es.measure == measure and not es.dropped
    close(es.yi, ref["yi"])
    close(es.vi, ref["vi"])
    for block, method in BLOCKS.items():
        check_fit(result.estimates[method], ref[block])
    egger = result.estimates["egger"]
    assert isinstance(egger, AsymmetryTest)
    close([egger.z, egger.p], [ref["egger"]["z"], ref["egger"]["pval"]])
    check_sequence(result.leave_one_out.fits, ref["leave1out_dl"])
    check_sequence(cumulative(es, es.study, "DL"), ref["cumul_dl"])
    assert result.to_frame().attrs["measure"] == measure


@pytest.mark.parametrize("measure", ("RR", "RD"))
def test_odds_ratio_methods_are_skipped_rows_saying_so(results, measure: str) -> None:
    result = results["nielweise2007", measure]
    for method in OR_ONLY:
        skipped = result.estimates[method]
        assert isinstance(skipped, Skipped)
        assert skipped.reason == f"odds ratios only; not for measure {measure}"
    assert not any(isinstance(results["bcg", "OR"].estimates[m], Skipped) for m in OR_ONLY)


def test_measure_in_json_and_terminal(tmp_path) -> None:
    out = tmp_path / "rd.json"
    result = CliRunner().invoke(
        app, ["classic", "--example", "bcg", "--measure", "rd", "--json", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "Measure: risk difference (RD)" in result.output
    written = json.loads(out.read_text())
    assert written["measure"] == "RD" and written["effect_sizes"]["measure"] == "RD"
    mh, ref = written["frequentist"]["mantel_haenszel"], REF["bcg"]["RD"]["mh"]
    close([mh["estimate"], *mh["ci95"]], [ref["est"], ref["ci_lb"], ref["ci_ub"]])
    assert written["frequentist"]["peto"] == {"skipped": "odds ratios only; not for measure RD"}


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--example", "bcg", "--measure", "HR"], "unknown measure 'HR'; valid: OR, RR, RD"),
        (["--example", "pritz1997_prop", "--measure", "RR"], "applies to two-arm counts"),
    ],
)
def test_bad_measure_is_one_line(args: list[str], fragment: str) -> None:
    assert fragment in fails_cleanly(["classic", *args])
