"""Every estimator on reported effects (yi, vi) against R metafor 3.8-1.

Data: Kacker (2004, Metrologia 41:132), 9 laboratories' means and squared standard
uncertainties; reference values and the R commands in ``tests/reference/metafor_reported.R``
(``.json``), R 4.2.2.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

import bayesmeta
from bayesmeta.frequentist.methods import available, need_counts
from bayesmeta.frequentist.results import AsymmetryTest
from tests.conftest import REFERENCE

REF = json.loads((REFERENCE / "metafor_reported.json").read_text())
BLOCKS = {
    "fixed_iv": "iv_fixed",
    **{f"random_{m}": f"re_{m}" for m in ("dl", "reml", "pm", "ml", "eb", "he", "sj", "hs")},
    "random_reml_hksj": "re_reml_hksj",
    "random_dl_hksj": "re_dl_hksj",
}


@pytest.fixture(scope="module")
def result():
    frame = pd.DataFrame({k: REF["data"][k] for k in ("study", "yi", "vi")})
    return bayesmeta.classic(frame)


# Hartung-Knapp for the other tau^2 estimators (their numbers: tests/frequentist/test_metareg.py)
HKSJ = {f"random_{m}_hksj" for m in ("pm", "ml", "eb", "he", "sj", "hs")}


def test_every_estimator_that_needs_only_estimates_is_computed(result) -> None:
    assert set(result.estimates) == set(BLOCKS) | HKSJ | {"egger"}
    assert list(result.estimates) == list(available(result.data))
    assert "Mantel-Haenszel (common)" in need_counts(result.data)


@pytest.mark.parametrize("name", list(BLOCKS))
def test_matches_metafor(result, name: str) -> None:
    ref, pe = REF[BLOCKS[name]], result.estimates[name]
    got = {"est": pe.estimate, "se": pe.se, "ci_lb": pe.ci[0], "ci_ub": pe.ci[1], "tau2": pe.tau2,
           "I2": pe.i2, "H2": pe.h2, "Q": pe.q}  # fmt: skip
    if pe.pi is not None:
        got["pi_lb"], got["pi_ub"] = pe.pi
    if pe.tau2_ci is not None:
        got["tau2_lb"], got["tau2_ub"] = pe.tau2_ci
    for key, value in got.items():
        # tau^2 of 0 (common effect) is compared absolutely
        assert value == pytest.approx(ref[key], rel=1e-6, abs=1e-12), key
    assert pe.p == pytest.approx(ref["pval"], rel=1e-6, abs=1e-300)


def test_egger_matches_metafor(result) -> None:
    egger = result.estimates["egger"]
    assert isinstance(egger, AsymmetryTest)
    assert egger.z == pytest.approx(REF["egger"]["z"], rel=1e-6)
    assert egger.p == pytest.approx(REF["egger"]["pval"], rel=1e-6)
    assert egger.df == REF["egger"]["df"]


def test_fit_shows_the_same_rows_for_reported_effects(tmp_path) -> None:
    """The frequentist rows beside the exact posterior are the same numbers."""
    path = tmp_path / "kacker.csv"
    pd.DataFrame({k: REF["data"][k] for k in ("study", "yi", "vi")}).to_csv(path, index=False)
    result = bayesmeta.analyze(path)
    assert result.engine == "exact"
    dl = result.frequentist["random_dl"]
    assert dl.estimate == pytest.approx(REF["re_dl"]["est"], rel=1e-12)
    hk = result.frequentist["random_reml_hksj"]
    assert hk.ci == pytest.approx((REF["re_reml_hksj"]["ci_lb"], REF["re_reml_hksj"]["ci_ub"]))
