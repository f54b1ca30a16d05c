"""Incidence rate ratios against metafor: escalc("IRR"), rma.mh(measure = "IRR"),
rma(yi, vi) with EE, DL, REML and Hartung-Knapp, rma.glmm(measure = "IRR", model = "UM.FS").

References: tests/reference/metafor_rates.json from tests/reference/metafor_rates.R (R 4.2.2,
metafor 3.8-1, metadat, lme4; the exact commands are in the script). Datasets: the shipped
examples/nielweise2008.csv (Niel-Weise et al. 2008, metadat dat.nielweise2008) and a fixture
the team did not ship, tests/frequentist/data/hart1999_rates.csv (Hart et al. 1999, metadat
dat.hart1999: strokes per patient-year, warfarin vs placebo or control), plus a hypothetical
table with arms without events. The GLMM is compared with the tightly maximised lme4 deviance
(``glmm_refined``), as the binomial GLMM in tests/frequentist/test_glmm.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bayesmeta.errors import DataError
from bayesmeta.frequentist.classic import classic
from bayesmeta.io.inputs import load
from bayesmeta.io.rates import RateData
from bayesmeta.model.likelihoods.poisson_normal import irr_effect_sizes

ROOT = Path(__file__).resolve().parents[2]
REF = json.loads((ROOT / "tests/reference/metafor_rates.json").read_text())
SOURCES = {
    "nielweise2008": ROOT / "examples/nielweise2008.csv",
    "hart1999": Path(__file__).parent / "data/hart1999_rates.csv",
}
BLOCKS = {
    "fixed_iv": "iv_fixed",
    "random_dl": "re_dl",
    "random_reml": "re_reml",
    "random_dl_hksj": "re_dl_hksj",
    "random_reml_hksj": "re_reml_hksj",
    "mantel_haenszel": "mh",
}


def _zero_arm() -> RateData:
    c = REF["zero_arm"]["counts"]
    frame = pd.DataFrame(
        {
            "study": [f"S{i + 1}" for i in range(len(c))],
            "x1i": [r["x1i"] for r in c],
            "t1i": [r["t1i"] for r in c],
            "x2i": [r["x2i"] for r in c],
            "t2i": [r["t2i"] for r in c],
        }
    )
    return load(frame)


@pytest.fixture(scope="module", params=[*SOURCES, "zero_arm"])
def case(request):
    name = request.param
    data = _zero_arm() if name == "zero_arm" else load(SOURCES[name])
    return name, data, classic(data)


def test_escalc_irr(case):
    name, data, _ = case
    es = irr_effect_sizes(data)
    np.testing.assert_allclose(es.yi, REF[name]["yi"], rtol=1e-10)
    np.testing.assert_allclose(es.vi, REF[name]["vi"], rtol=1e-10)


@pytest.mark.parametrize("method", BLOCKS)
def test_inverse_variance_and_mantel_haenszel(case, method):
    name, _, result = case
    est, ref = result.estimates[method], REF[name][BLOCKS[method]]
    assert est.estimate == pytest.approx(ref["est"], rel=1e-6, abs=1e-10)
    assert est.se == pytest.approx(ref["se"], rel=1e-6)
    assert est.ci == pytest.approx((ref["ci_lb"], ref["ci_ub"]), rel=1e-6, abs=1e-10)
    assert est.p == pytest.approx(ref["pval"], rel=1e-6)
    assert est.tau2 == pytest.approx(ref["tau2"], rel=1e-6, abs=1e-10)
    assert est.q == pytest.approx(ref["Q"], rel=1e-6)
    assert est.i2 == pytest.approx(ref["I2"], rel=1e-6, abs=1e-8)
    if "pi_lb" in ref:
        assert est.pi == pytest.approx((ref["pi_lb"], ref["pi_ub"]), rel=1e-6)


def test_poisson_normal_glmm_at_the_lme4_optimum(case):
    name, _, result = case
    est, ref = result.estimates["glmm_poisson"], REF[name]["glmm_refined"]
    assert est.estimate == pytest.approx(ref["est"], rel=1e-6)
    assert est.tau2 == pytest.approx(ref["tau2"], rel=1e-5, abs=1e-8)
    # the reference SE is from optimHess (finite differences, ndeps 1e-3), ours from central
    # differences of step 1e-3: both agree with rma.glmm's own SE to about 4e-6
    assert est.se == pytest.approx(ref["se"], rel=1e-6)
    assert est.se == pytest.approx(REF[name]["glmm_um_fs"]["se"], rel=1e-5)
    assert est.k == REF[name]["glmm_um_fs"]["k"]


def test_rates_are_read_from_metafor_columns():
    data = load(SOURCES["hart1999"])
    assert isinstance(data, RateData) and data.k == 6
    assert data.treatment_time[0] == 413.0


@pytest.mark.parametrize("bad", ["0", "-3", "abc"])
def test_person_time_of_zero_or_below_is_a_located_error(bad):
    frame = pd.read_csv(SOURCES["hart1999"], dtype=str)
    frame.loc[2, "t2i"] = bad
    with pytest.raises(DataError) as err:
        load(frame)
    message = str(err.value)
    assert "row 3" in message and "'t2i'" in message and "\n" not in message
