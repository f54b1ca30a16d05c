"""Small-study tests. Egger: ``regtest(rma(yi, vi, method = "EE"), model = "lm")`` from the
shared ``NAME.metafor.json`` (metafor 3.8-1, R 4.2.2). Harbord and Peters: computed in R with
``lm`` exactly as ``meta::metabias`` defines them (``tests/reference/metafor_extra.R``)::

    lm(I(Z / sqrt(V)) ~ sqrt(V))                        # Harbord: intercept test
    lm(yi ~ I(1 / N), weights = 1 / (1 / xt + 1 / (N - xt)))  # Peters: slope test
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import bayesmeta
from bayesmeta import smallstudy
from bayesmeta.effects import effect_sizes
from bayesmeta.errors import BayesmetaError

ROOT = Path(__file__).resolve().parents[1]
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
    from dataclasses import replace
    two = replace(es, study=es.study[:2], yi=es.yi[:2], vi=es.vi[:2])
    with pytest.raises(BayesmetaError, match="at least 3"):
        smallstudy.egger(two)
