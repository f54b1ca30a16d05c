"""Small-study tests. Egger: ``regtest(rma(yi, vi, method = "EE"), model = "lm")`` from the
shared ``NAME.metafor.json`` (metafor 3.8-1, R 4.2.2). Harbord and Peters: computed in R with
``lm`` exactly as ``meta::metabias`` defines them (``tests/reference/metafor_extra.R``)::

    lm(I(Z / sqrt(V)) ~ sqrt(V))                        # Harbord: intercept test
    lm(yi ~ I(1 / N), weights = 1 / (1 / xt + 1 / (N - xt)))  # Peters: slope test
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import bayesmeta
from bayesmeta.effects import effect_sizes
from bayesmeta.errors import BayesmetaError
from bayesmeta.frequentist import smallstudy
from bayesmeta.frequentist.classic import classic
from bayesmeta.frequentist.results import Skipped

ROOT = Path(__file__).resolve().parents[2]
REF = ROOT / "tests" / "reference"
EXTRA = json.loads((REF / "metafor_extra.json").read_text())
NAMES = ("bcg", "li2007", "nielweise2007")


def load(name):
    return bayesmeta.load(ROOT / "examples" / f"{name}.csv")


@pytest.mark.parametrize("name", NAMES)
def test_egger_matches_regtest(name):
    ref = json.loads((REF / f"{name}.metafor.json").read_text())["egger"]
    test = smallstudy.egger(effect_sizes(load(name)))
    assert test.z == pytest.approx(ref["z"], rel=1e-10)
    assert test.p == pytest.approx(ref["pval"], rel=1e-10)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("method", ["harbord", "peters"])
def test_harbord_and_peters_match_r(name, method):
    ref = EXTRA["small_study"][name][method]
    test = getattr(smallstudy, method)(load(name))
    assert test.z == pytest.approx(ref["z"], rel=1e-10)
    assert test.p == pytest.approx(ref["pval"], rel=1e-10)
    assert test.to_dict()["method"] == method


def test_needs_three_studies():
    es = effect_sizes(load("bcg"))
    two = replace(es, study=es.study[:2], yi=es.yi[:2], vi=es.vi[:2])
    with pytest.raises(BayesmetaError, match="at least 3"):
        smallstudy.egger(two)


def counts(rows):
    frame = pd.DataFrame(
        rows, columns=["treatment_events", "treatment_total", "control_events", "control_total"]
    )
    frame.insert(0, "study", [f"s{i}" for i in range(len(frame))])
    return bayesmeta.load(frame)


def test_all_double_zero_egger_is_skipped_not_a_huge_t():
    data = counts([(0, 10, 0, 12), (0, 20, 0, 25), (0, 30, 0, 31), (0, 15, 0, 19)])
    out = classic(data, methods=["egger", "harbord", "peters"]).estimates
    assert out["egger"] == Skipped(
        "egger", "egger test needs at least 3 studies that are not double-zero, got 0"
    )
    assert all(isinstance(out[m], Skipped) for m in ("harbord", "peters"))


def test_egger_keeps_double_zero_studies_when_three_others_remain():
    """As metafor's regtest on the default escalc (drop00 = FALSE): the corrected double-zero
    study is one of the k points; only the count of informative studies is checked."""
    data = counts([(1, 10, 3, 10), (2, 20, 3, 25), (4, 30, 9, 31), (0, 15, 0, 19)])
    es = effect_sizes(data)
    with_data, alone = smallstudy.egger(es, data), smallstudy.egger(es)
    assert with_data == alone
    assert with_data.k == 4
    two_informative = counts([(1, 10, 3, 10), (2, 20, 3, 25), (0, 30, 0, 31), (0, 15, 0, 19)])
    with pytest.raises(BayesmetaError, match="not double-zero, got 2"):
        smallstudy.egger(effect_sizes(two_informative), two_informative)


def test_identical_effects_are_skipped_not_significant():
    """Equal effects fit the line exactly; the t statistic was rounding noise (t = 3.4,
    p = 0.006 on bcg's variances) before the zero-residual check."""
    es = effect_sizes(load("bcg"))
    with pytest.raises(BayesmetaError, match="no residual variance"):
        smallstudy.egger(replace(es, yi=np.full(es.k, 0.3)))


def test_effects_exactly_on_the_line_are_skipped():
    es = effect_sizes(load("bcg"))
    with pytest.raises(BayesmetaError, match="no residual variance"):
        smallstudy.egger(replace(es, yi=0.2 + 1.5 * np.sqrt(es.vi)))


def test_equal_precision_is_skipped_not_a_linalg_error():
    data = counts([(1, 10, 2, 10)] * 4)
    assert classic(data, methods=["egger"]).estimates["egger"] == Skipped(
        "egger",
        "egger test: every study has the same precision, so the regression line is not estimable",
    )


REPORT_REF = json.loads((REF / "metafor_report.json").read_text())


@pytest.mark.parametrize("name", (*NAMES, "pritz1997_prop"))
def test_egger_line_matches_regtest_fit(name):
    """``coef(regtest(rma(yi, vi, method = "EE"), model = "lm")$fit)`` (metafor_report.R)."""
    ref = REPORT_REF[name]["egger_line"]
    intercept, slope = smallstudy.egger_line(effect_sizes(load(name)))
    assert intercept == pytest.approx(ref["intercept"], rel=1e-10)
    assert slope == pytest.approx(ref["slope"], rel=1e-10)


def test_egger_line_needs_different_standard_errors():
    es = effect_sizes(load("bcg"))
    same = replace(es, vi=np.full(es.k, 0.1))
    with pytest.raises(BayesmetaError, match="different standard errors"):
        smallstudy.egger_line(same)
