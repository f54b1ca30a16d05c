"""Meta-regression and subgroup analyses against metafor 3.8-1 (R 4.2.2).

References: ``tests/reference/metafor_issue20.R`` (block ``metareg``), ``rma(yi, vi, mods = f,
method = M, test = T)`` for M in DL, REML, ML, PM, EB, HE, SJ, HS and T in z, knha, on the shipped
bcg data (escalc OR defaults) and on metadat datasets the package does not ship:
dat.hackshaw1998 (yi, vi as given; a categorical moderator with single-study levels),
dat.molloy2014 (escalc ZCOR) and dat.konstantopoulos2011 (yi, vi as given; 11 subgroups). Their
yi, vi and covariates are in the JSON. Subgroups: a fit per level (``method = "EE"`` for a
single study), Q between = ``rma(est, sei = se, method = "EE")$QE`` of the subgroup estimates
(the test meta's ``metagen(subgroup = )`` and RevMan report), and the mixed-effects model
``rma(mods = ~ factor(g))``.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import bayesmeta
from bayesmeta.cli import app
from bayesmeta.effects import EffectSizes
from bayesmeta.frequentist.metareg import meta_regression, subgroup_analysis
from bayesmeta.model.moderators import design_matrix, moderators
from tests.conftest import EXAMPLES, REFERENCE, fails_cleanly

REF = json.loads((REFERENCE / "metafor_issue20.json").read_text())["metareg"]
REGRESSIONS = [
    (name, mods, key)
    for name, r in REF.items()
    for mods, blocks in (r["regressions"] or {}).items()
    for key in blocks
]
SUBGROUPS = [
    (name, g, key)
    for name, r in REF.items()
    for g, sub in (r["subgroups"] or {}).items()
    for key in sub
    if key != "levels"
]


def effect_sizes(name: str) -> tuple[EffectSizes, pd.DataFrame]:
    r = REF[name]
    y, v = np.array(r["yi"]), np.array(r["vi"])
    es = EffectSizes(tuple(f"s{i}" for i in range(len(y))), y, v, "generic", "none", (), ())
    return es, pd.DataFrame(r["covariates"])


def close(got, expected, what: str) -> None:
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-10, err_msg=what)


@pytest.mark.parametrize(("name", "mods", "key"), REGRESSIONS)
def test_meta_regression_matches_rma(name, mods, key):
    es, covariates = effect_sizes(name)
    x, names = design_matrix(covariates, mods.split("+"))
    method, test = key.split("_")
    ref = REF[name]["regressions"][mods][key]
    fit = meta_regression(es, x, names, method=method, test=test)
    assert len(fit.names) == len(ref["names"])  # R: "intrcpt", "allocrandom" ... same order
    for got, want in (
        (fit.coef, "est"), (fit.se, "se"), (fit.stat, "stat"), (fit.p, "pval"),
        (fit.ci[:, 0], "ci_lb"), (fit.ci[:, 1], "ci_ub"), (fit.tau2, "tau2"),
        (fit.se_tau2, "se_tau2"), (fit.i2, "I2"), (fit.h2, "H2"), (fit.qm, "QM"),
        (fit.qm_p, "QMp"), (fit.qe, "QE"), (fit.qe_p, "QEp"), (fit.r2, "R2"),
    ):  # fmt: skip
        close(got, ref[want], want)
    assert list(fit.qm_df) == [d for d in np.atleast_1d(ref["QMdf"]) if d is not None]


@pytest.mark.parametrize(("name", "column", "key"), SUBGROUPS)
def test_subgroup_analysis_matches_metafor(name, column, key):
    es, covariates = effect_sizes(name)
    mods = moderators(covariates, subgroup=column)
    sub = REF[name]["subgroups"][column]
    assert list(mods.levels) == list(np.atleast_1d(sub["levels"]).astype(str))
    group = np.asarray(mods.levels, dtype=object)[mods.group]
    method, test = (None, "z") if key == "fixed" else key.split("_")
    fits = subgroup_analysis(es, group, mods.levels, method=method, test=test, column=column)
    ref = sub[key]
    close(fits.between.q, ref["Q"], "Q between")
    close(fits.between.p, ref["pval"], "p")
    assert fits.between.df == ref["df"]
    for level, pe in fits.levels.items():
        r = ref["levels"][level]
        for got, want in (
            (pe.estimate, "est"), (pe.se, "se"), (pe.ci[0], "ci_lb"), (pe.ci[1], "ci_ub"),
            (pe.p, "pval"), (pe.tau2, "tau2"), (pe.i2, "I2"),
        ):  # fmt: skip
            close(got, r[want], f"{level} {want}")
        assert pe.k == r["k"]
    if method is not None:
        mixed, r = fits.mixed_effects, ref["mixed"]
        for got, want in ((mixed.qm, "QM"), (mixed.qm_p, "QMp"), (mixed.tau2, "tau2"),
                          (mixed.coef, "est"), (mixed.se, "se"), (mixed.qe, "QE")):  # fmt: skip
            close(got, r[want], f"mixed {want}")


def test_classic_cli_meta_regression_and_subgroups_json(tmp_path):
    """``classic --covariate --subgroup`` on bcg: the JSON blocks carry metafor's numbers."""
    out = tmp_path / "c.json"
    args = ["classic", "--example", "bcg", "--covariate", "ablat", "--subgroup", "alloc"]
    result = CliRunner().invoke(app, [*args, "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert "Meta-regression on ablat" in result.output
    assert "Test for subgroup differences" in result.output
    d = json.loads(out.read_text())
    fit = d["meta_regression"]["fits"]["random_reml"]
    ref = REF["bcg"]["regressions"]["ablat"]["REML_z"]
    close(fit["coefficients"]["ablat"]["estimate"], ref["est"][1], "slope")
    close(fit["qm"], ref["QM"], "QM")
    close(fit["r2"], ref["R2"], "R2")
    hk = d["meta_regression"]["fits"]["random_reml_hksj"]
    assert hk["df"] == 11 and "t" in hk["coefficients"]["ablat"]
    sub = d["subgroups"]
    assert sub["by"] == "alloc" and sub["levels"] == ["alternate", "random", "systematic"]
    close(
        sub["fits"]["fixed_iv"]["q_between"]["q"],
        REF["bcg"]["subgroups"]["alloc"]["fixed"]["Q"],
        "Q",
    )
    close(
        sub["fits"]["random_dl"]["q_between"]["q"],
        REF["bcg"]["subgroups"]["alloc"]["DL_z"]["Q"],
        "Q",
    )
    assert "meta_regression" not in d["frequentist"]  # the existing blocks are unchanged


def test_classic_api_matches_cli():
    result = bayesmeta.classic(EXAMPLES / "bcg.csv", covariates=["alloc"])
    fit = result.meta_regression.fits["random_dl"]
    ref = REF["bcg"]["regressions"]["alloc"]["DL_z"]
    assert fit.names == ("intercept", "alloc[random]", "alloc[systematic]")
    close(fit.coef, ref["est"], "coef")


@pytest.mark.parametrize(
    ("option", "fragment"),
    [
        (["--covariate", "nosuch"], "unknown covariate 'nosuch'"),
        (["--subgroup", "nosuch"], "unknown subgroup column 'nosuch'"),
    ],
)
def test_classic_bad_moderator_is_one_line(option, fragment):
    line = fails_cleanly(["classic", "--example", "bcg", *option])
    assert fragment in line
