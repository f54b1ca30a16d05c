"""Heterogeneity: se of tau^2, Q-profile and profile-likelihood CIs, I^2/H^2 CIs, Hartung-Knapp
for every tau^2 estimator, the Paule-Mandel tolerance; against metafor 3.8-1 (R 4.2.2).

References: ``tests/reference/metafor_issue20.R`` (block ``heterogeneity``): ``rma(yi, vi,
method = M)`` with ``se.tau2`` and ``confint()``; ``confint(type = "PL")`` for ML and REML;
``rma(..., test = "knha")`` with ``predict()``. Data: the shipped bcg, li2007, nielweise2007
(escalc OR) and pritz1997_prop (PLO), and metadat's dat.hackshaw1998, dat.molloy2014 (ZCOR),
dat.normand1999 (MD, continuous) and dat.konstantopoulos2011, whose yi and vi are in the JSON.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import bayesmeta
from bayesmeta.effects import EffectSizes
from bayesmeta.frequentist.pooled import TAU2_METHODS, random_effects
from tests.conftest import EXAMPLES, REFERENCE

ISSUE20 = json.loads((REFERENCE / "metafor_issue20.json").read_text())
REF = ISSUE20["heterogeneity"]
CASES = [(name, m) for name in REF for m in TAU2_METHODS]


def effect_sizes(name: str) -> EffectSizes:
    y, v = np.array(REF[name]["yi"]), np.array(REF[name]["vi"])
    return EffectSizes(tuple(f"s{i}" for i in range(len(y))), y, v, "generic", "none", (), ())


def close(got, expected, what: str) -> None:
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-10, err_msg=what)


@pytest.mark.parametrize(("name", "method"), CASES)
def test_heterogeneity_intervals_match_confint(name, method):
    ref = REF[name][method]
    pe = random_effects(effect_sizes(name), method=method)
    close(pe.tau2, ref["tau2"], "tau2")
    close(pe.se_tau2, ref["se_tau2"], "se.tau2")
    close(pe.tau2_ci, (ref["tau2_lb"], ref["tau2_ub"]), "Q-profile tau2")
    close(pe.i2_ci, (ref["I2_lb"], ref["I2_ub"]), "I2 CI")
    close(pe.h2_ci, (ref["H2_lb"], ref["H2_ub"]), "H2 CI")
    if method in ("ML", "REML"):
        close(pe.tau2_ci_pl, (ref["tau2_pl_lb"], ref["tau2_pl_ub"]), "PL tau2")
    else:
        assert pe.tau2_ci_pl is None


@pytest.mark.parametrize(("name", "method"), CASES)
def test_hartung_knapp_for_every_estimator(name, method):
    ref = REF[name][method]["knha"]
    pe = random_effects(effect_sizes(name), method=method, test="knha")
    for got, key in ((pe.estimate, "est"), (pe.se, "se"), (pe.ci[0], "ci_lb"),
                     (pe.ci[1], "ci_ub"), (pe.p, "pval"), (pe.pi[0], "pi_lb"),
                     (pe.pi[1], "pi_ub"), (pe.tau2, "tau2")):  # fmt: skip
        close(got, ref[key], key)
    assert pe.df == len(REF[name]["yi"]) - 1


def test_hartung_knapp_rows_in_classic_json():
    """The registry's new rows carry the same numbers (bcg, escalc OR defaults)."""
    result = bayesmeta.classic(EXAMPLES / "bcg.csv")
    for method in ("PM", "ML", "EB", "HE", "SJ", "HS"):
        block = result.to_dict()["frequentist"][f"random_{method.lower()}_hksj"]
        close(block["estimate"], REF["bcg"][method]["knha"]["est"], method)
        close(block["ci95"], [REF["bcg"][method]["knha"][k] for k in ("ci_lb", "ci_ub")], method)
    reml = result.to_dict()["frequentist"]["random_reml"]
    close(reml["tau2_pl_ci95"], [REF["bcg"]["REML"][k] for k in ("tau2_pl_lb", "tau2_pl_ub")], "")
    close(reml["i2_ci95"], [REF["bcg"]["REML"][k] for k in ("I2_lb", "I2_ub")], "I2")
    close(reml["se_tau2"], REF["bcg"]["REML"]["se_tau2"], "se_tau2")


def test_paule_mandel_tolerance_is_an_option():
    """``control = list(tol = 1e-12)`` moves metafor's PM tau^2 by 3e-5; the default stays."""
    ref = ISSUE20["pm_tol"]
    es = effect_sizes("bcg")
    close(random_effects(es, method="PM").tau2, ref["tau2_default"], "default")
    close(random_effects(es, method="PM", pm_tol=ref["tol"]).tau2, ref["tau2"], "tight")
    assert abs(ref["tau2"] - ref["tau2_default"]) > 1e-6


def test_pm_tol_on_the_command_line(tmp_path):
    from typer.testing import CliRunner

    from bayesmeta.cli import app

    out = tmp_path / "c.json"
    args = ["classic", "--example", "bcg", "--pm-tol", "1e-12", "--json", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    tau2 = json.loads(out.read_text())["frequentist"]["random_pm"]["tau2"]
    close(tau2, ISSUE20["pm_tol"]["tau2"], "tau2")
