"""Effect sizes against metafor 3.8-1 ``escalc`` (tests/reference/metafor_extra.R, R 4.2.2):
``escalc(m, ai, n1i, ci, n2i)`` for m in OR, RR, RD (defaults: add = 1/2, to = "only0",
drop00 = FALSE, vtype = "LS") and ``to = "all"``; edge-case tables stored with the counts."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import bayesmeta
from bayesmeta.effects import effect_sizes
from bayesmeta.errors import BayesmetaError

ROOT = Path(__file__).resolve().parents[1]
EXTRA = json.loads((ROOT / "tests" / "reference" / "metafor_extra.json").read_text())


def table(rows: list[tuple[int, int, int, int]]) -> bayesmeta.TwoArmData:
    frame = pd.DataFrame(
        rows, columns=["treatment_events", "treatment_total", "control_events", "control_total"]
    )
    frame.insert(0, "study", [f"s{i + 1}" for i in range(len(rows))])
    return bayesmeta.load(frame)


def bcg():
    return bayesmeta.load(ROOT / "examples" / "bcg.csv")


@pytest.mark.parametrize("measure", ["RR", "RD"])
def test_measures_match_escalc(measure):
    es = effect_sizes(bcg(), measure=measure)
    np.testing.assert_allclose(es.yi, EXTRA[f"bcg_{measure}"]["yi"], rtol=1e-12)
    np.testing.assert_allclose(es.vi, EXTRA[f"bcg_{measure}"]["vi"], rtol=1e-12)


def test_correction_all_matches_escalc_to_all():
    es = effect_sizes(bcg(), correction="all")
    np.testing.assert_allclose(es.yi, EXTRA["bcg_OR_all"]["yi"], rtol=1e-12)
    assert es.corrected == bcg().study


@pytest.mark.parametrize("case", list(EXTRA["edge"]))
def test_edge_tables_match_escalc_defaults(case):
    ref = EXTRA["edge"][case]
    rows = [(r["ai"], r["n1i"], r["ci"], r["n2i"]) for r in ref["counts"]]
    es = effect_sizes(table(rows))
    np.testing.assert_allclose(es.yi, ref["yi"], rtol=1e-12)
    np.testing.assert_allclose(es.vi, ref["vi"], rtol=1e-12)


def test_only0_corrects_zero_cell_studies_and_keeps_double_zeros():
    data = table([(0, 30, 0, 32), (2, 80, 6, 78), (0, 25, 3, 27)])
    es = effect_sizes(data)
    assert es.corrected == ("s1", "s3") and es.dropped == () and es.k == 3
    assert es.yi[0] == pytest.approx(np.log(0.5 * 32.5 / (30.5 * 0.5)))
    assert es.to_dict() == {
        "measure": "OR",
        "correction": "only0",
        "corrected": ["s1", "s3"],
        "dropped": [],
        "k": 3,
    }


def test_drop00_drops_double_zero_studies_with_a_reason():
    es = effect_sizes(table([(0, 30, 0, 32), (2, 80, 6, 78), (1, 25, 3, 27)]), drop00=True)
    assert es.dropped == ("s1",) and "double zero" in es.to_dict()["dropped_reasons"]["s1"]


def test_no_correction_drops_zero_cell_studies():
    es = effect_sizes(table([(0, 30, 4, 32), (2, 80, 6, 78), (1, 25, 3, 27)]), correction="none")
    assert es.dropped == ("s1",) and es.corrected == () and es.k == 2
    assert es.yi[0] == pytest.approx(np.log(2 * 72 / (78 * 6)))


def test_treatment_arm_correction_by_hand():
    """Sweeting et al. (2004): treatment cells get 2 * 0.5 * n_t / (n_t + n_c) = 100/400 = 0.25,
    control cells 0.75; equal arms give the usual 0.5."""
    es = effect_sizes(
        table([(0, 100, 5, 300), (0, 50, 3, 50), (4, 90, 6, 95)]), correction="treatment-arm"
    )
    a, b, c, d = 0.25, 100.25, 5.75, 295.75
    assert es.yi[0] == pytest.approx(np.log(a * d / (b * c)), rel=1e-14)
    assert es.vi[0] == pytest.approx(1 / a + 1 / b + 1 / c + 1 / d, rel=1e-14)
    assert es.yi[1] == pytest.approx(np.log(0.5 * 47.5 / (50.5 * 3.5)), rel=1e-14)
    assert es.corrected == ("s1", "s2")


def test_logit_proportion_by_hand():
    """escalc "PLO": log(x / (n - x)), 1/x + 1/(n - x); 0.5 added to x and n - x at x = 0 or n."""
    frame = pd.DataFrame({"study": ["a", "b", "c"], "events": [3, 0, 10], "total": [10, 8, 10]})
    es = effect_sizes(bayesmeta.load(frame))
    assert es.measure == "PLO" and es.corrected == ("b", "c")
    np.testing.assert_allclose(es.yi, [np.log(3 / 7), np.log(0.5 / 8.5), np.log(10.5 / 0.5)])
    np.testing.assert_allclose(es.vi, [1 / 3 + 1 / 7, 1 / 0.5 + 1 / 8.5, 1 / 10.5 + 1 / 0.5])


def test_unknown_options_list_the_valid_ones():
    with pytest.raises(BayesmetaError, match="valid: OR, RR, RD"):
        effect_sizes(bcg(), measure="SMD")
    with pytest.raises(BayesmetaError, match="valid: only0, all"):
        effect_sizes(bcg(), correction="half")
