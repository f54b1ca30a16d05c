"""Intervals of the residual tau^2 of a meta-regression against metafor 3.8-1 (R 4.2.2).

References: ``tests/reference/metafor_metareg_confint.R``: ``confint(rma(yi, vi, mods = f,
method = M))`` (the generalised Q-profile interval of tau^2 and the I^2, H^2 limits from it)
and, for ML and REML, ``confint(..., type = "PL")``, for M in DL, REML, ML, PM, EB, HE, SJ, HS
on the meta-regressions of ``metafor_issue20.json`` (bcg, shipped; metadat's hackshaw1998,
molloy2014 and konstantopoulos2011, not shipped; their yi, vi and covariates are there).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from bayesmeta.frequentist.metareg import meta_regression
from bayesmeta.model.moderators import design_matrix
from tests.conftest import REFERENCE
from tests.frequentist.test_metareg import effect_sizes

REF = json.loads((REFERENCE / "metafor_metareg_confint.json").read_text())
CASES = [(n, mods, m) for n, r in REF.items() for mods, by in r.items() for m in by]


@pytest.mark.parametrize(("name", "mods", "method"), CASES)
def test_residual_tau2_intervals_match_confint(name, mods, method) -> None:
    es, covariates = effect_sizes(name)
    x, names = design_matrix(covariates, mods.split("+"))
    fit = meta_regression(es, x, names, method=method, with_r2=False)
    ref = REF[name][mods][method]
    assert fit.tau2 == pytest.approx(ref["tau2"], rel=1e-6, abs=1e-10)
    q = ref["qprofile"]
    for got, want in ((fit.tau2_ci, "tau2"), (fit.i2_ci, "I2"), (fit.h2_ci, "H2")):
        np.testing.assert_allclose(got, q[want][1:], rtol=1e-6, atol=1e-8, err_msg=want)
    if "pl" in ref:
        np.testing.assert_allclose(fit.tau2_ci_pl, ref["pl"]["tau2"][1:], rtol=1e-6, atol=1e-8)
    else:
        assert fit.tau2_ci_pl is None
    block = fit.to_dict()
    assert block["tau2_ci95"] == list(fit.tau2_ci) and block["i2_ci95"] == list(fit.i2_ci)


def test_common_effect_meta_regression_has_no_tau2_interval() -> None:
    es, covariates = effect_sizes("bcg")
    x, names = design_matrix(covariates, ["ablat"])
    fit = meta_regression(es, x, names, method="EE")
    assert fit.tau2_ci is None and "tau2_ci95" not in fit.to_dict()
