"""Pooled estimators against R metafor 3.8-1 (R 4.2.2).

References:
- ``tests/reference/NAME.metafor.json``: the shared reference set (``metafor_ref.R``); blocks
  ``mh`` = ``rma.mh(measure = "OR")``, ``peto`` = ``rma.peto()``, ``iv_fixed`` =
  ``rma(yi, vi, method = "EE")``, ``re_M`` = ``rma(yi, vi, method = M)`` with ``predict()``
  (``pi_lb``/``pi_ub``) and ``confint()`` (``tau2_lb``/``tau2_ub``), ``re_M_hksj`` with
  ``test = "knha"``, ``leave1out_dl`` = ``leave1out(rma(yi, vi, method = "DL"))``, where
  ``yi, vi`` come from ``escalc(measure = "OR")`` (or ``"PLO"``) with its defaults.
- ``tests/reference/metafor_extra.json``: ``tests/reference/metafor_extra.R`` (same R and
  metafor; hypothetical tables for the edge cases, the same commands as above).
Datasets: Colditz et al. 1994 (bcg), Li et al. 2007, Niel-Weise et al. 2007, Pritz 1997.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import bayesmeta
from bayesmeta.effects import effect_sizes
from bayesmeta.errors import BayesmetaError
from bayesmeta.frequentist import pooled as fq
from bayesmeta.frequentist.classic import classic
from bayesmeta.frequentist.methods import available
from bayesmeta.frequentist.results import PooledEstimate, Skipped
from bayesmeta.frequentist.rootfind import uniroot

ROOT = Path(__file__).resolve().parents[2]
REF = ROOT / "tests" / "reference"
RTOL = 1e-6
TWO_ARM = ("bcg", "li2007", "nielweise2007")
DATASETS = (*TWO_ARM, "pritz1997_prop")
RE_BLOCKS = {f"re_{m.lower()}": m for m in fq.TAU2_METHODS}
EXTRA = json.loads((REF / "metafor_extra.json").read_text())


def load(name: str):
    return bayesmeta.load(ROOT / "examples" / f"{name}.csv")


def reference(name: str) -> dict:
    return json.loads((REF / f"{name}.metafor.json").read_text())


def from_rows(rows: list[dict]) -> bayesmeta.TwoArmData:
    """Counts stored by the R script (metafor names ai, n1i, ci, n2i) as TwoArmData."""
    frame = pd.DataFrame(rows).rename(
        columns={
            "ai": "treatment_events",
            "n1i": "treatment_total",
            "ci": "control_events",
            "n2i": "control_total",
        }
    )
    frame.insert(0, "study", [f"study {i + 1}" for i in range(len(frame))])
    return bayesmeta.load(frame)


def flatten(pe: PooledEstimate) -> dict[str, float]:
    """Our result under metafor's field names."""
    out = {
        "est": pe.estimate,
        "se": pe.se,
        "ci_lb": pe.ci[0],
        "ci_ub": pe.ci[1],
        "pval": pe.p,
        "tau2": pe.tau2,
        "I2": pe.i2,
        "H2": pe.h2,
        "Q": pe.q,
        "Qp": pe.q_p,
        "k": pe.k,
    }
    if pe.pi is not None:
        out["pi_lb"], out["pi_ub"] = pe.pi
    if pe.tau2_ci is not None:
        out["tau2_lb"], out["tau2_ub"] = pe.tau2_ci
    return out


def assert_matches(pe: PooledEstimate, ref: dict, rtol: float = RTOL) -> None:
    ours = flatten(pe)
    checked = [key for key, value in ref.items() if value is not None and key in ours]
    assert len(checked) >= 8
    for key in checked:
        # atol only for values that are exactly 0 in metafor (tau2 at the boundary, I2 = 0)
        assert ours[key] == pytest.approx(ref[key], rel=rtol, abs=1e-12), key


def ours_for(block: str, data, es) -> PooledEstimate:
    if block == "mh":
        return fq.mantel_haenszel(data)
    if block == "peto":
        return fq.peto(data)
    if block == "iv_fixed":
        return fq.common_effect(es)
    method = block.split("_")[1].upper()
    return fq.random_effects(es, method=method, test="knha" if block.endswith("hksj") else "z")


BLOCKS = ["iv_fixed", *RE_BLOCKS, "re_dl_hksj", "re_reml_hksj"]
CASES = [(name, block) for name in TWO_ARM for block in ["mh", "peto", *BLOCKS]]
CASES += [("pritz1997_prop", b) for b in ("iv_fixed", "re_dl", "re_reml")]


@pytest.mark.parametrize(("name", "block"), CASES)
def test_matches_metafor(name, block):
    data = load(name)
    assert_matches(ours_for(block, data, effect_sizes(data)), reference(name)[block])


@pytest.mark.parametrize("name", TWO_ARM)
def test_leave_one_out_matches_metafor(name):
    ref = reference(name)["leave1out_dl"]
    loo = fq.leave_one_out(effect_sizes(load(name)), method="DL")
    assert list(loo) == list(load(name).study)
    for key, attr in (("est", "estimate"), ("se", "se"), ("tau2", "tau2")):
        got = [getattr(pe, attr) for pe in loo.values()]
        np.testing.assert_allclose(got, ref[key], rtol=RTOL, atol=1e-12)


EDGE_CASES = [
    (case, block)
    for case, blocks in EXTRA["edge"].items()
    for block, value in blocks.items()
    if block in ("mh", "peto", *BLOCKS) and "error" not in value and value.get("est") is not None
]


@pytest.mark.parametrize(("case", "block"), EDGE_CASES)
def test_edge_cases_match_metafor(case, block):
    """tau^2 = 0, k = 2, a zero arm, one zero cell, double zeros (metafor_extra.R)."""
    ref = EXTRA["edge"][case]
    data = from_rows(ref["counts"])
    assert_matches(ours_for(block, data, effect_sizes(data)), ref[block])


def test_mantel_haenszel_undefined_when_an_arm_never_has_events():
    """metafor returns NA for the MH estimate here (metafor_extra.json: mh.est is null)."""
    ref = EXTRA["edge"]["zero_treatment_arm"]
    assert ref["mh"]["est"] is None
    with pytest.raises(BayesmetaError, match="Mantel-Haenszel"):
        fq.mantel_haenszel(from_rows(ref["counts"]))


@pytest.mark.parametrize("measure", ["RR", "RD"])
def test_other_measures_random_dl(measure):
    ref = EXTRA[f"bcg_{measure}"]["re_dl"]
    assert_matches(fq.random_effects(effect_sizes(load("bcg"), measure=measure)), ref)


def test_mantel_haenszel_of_identical_tables_by_hand():
    """Two copies of one table: the MH OR is the table's ad/bc, and the Robins-Breslow-
    Greenland variance reduces to Woolf's (1/a + 1/b + 1/c + 1/d) / 2."""
    frame = pd.DataFrame(
        {
            "study": ["x", "y"],
            "treatment_events": [6, 6],
            "treatment_total": [20, 20],
            "control_events": [9, 9],
            "control_total": [21, 21],
        }
    )
    pe = fq.mantel_haenszel(bayesmeta.load(frame))
    a, b, c, d = 6, 14, 9, 12
    assert pe.estimate == pytest.approx(np.log(a * d / (b * c)), rel=1e-14)
    assert pe.se**2 == pytest.approx((1 / a + 1 / b + 1 / c + 1 / d) / 2, rel=1e-14)
    assert pe.q == pytest.approx(0.0, abs=1e-20)


def test_dersimonian_laird_by_hand():
    """tau2 = (Q - (k - 1)) / (sum w - sum w^2 / sum w) (DerSimonian & Laird 1986, eq. 8), with
    Q = sum w (y - y_w)^2 and w = 1 / v; the z prediction interval is est +- 1.96 sqrt(se^2 +
    tau2). Three bcg trials far apart (Q > k - 1), so the formula, not its truncation at 0, is
    what is checked."""
    es = effect_sizes(load("bcg"))
    sub = fq._subset(es, np.array([1, 3, 7]))
    y, w = sub.yi, 1 / sub.vi
    q = np.sum(w * (y - np.sum(w * y) / w.sum()) ** 2)
    assert q > 2 * (sub.k - 1)
    tau2 = (q - (sub.k - 1)) / (w.sum() - np.sum(w**2) / w.sum())
    pe = fq.random_effects(sub, method="DL")
    assert pe.q == pytest.approx(q, rel=1e-12)
    assert pe.tau2 == pytest.approx(tau2, rel=1e-12) and tau2 > 0
    wr = 1 / (sub.vi + tau2)
    assert pe.estimate == pytest.approx(np.sum(wr * y) / wr.sum(), rel=1e-12)
    assert pe.se == pytest.approx(np.sqrt(1 / wr.sum()), rel=1e-12)
    half = 1.959963984540054 * np.sqrt(pe.se**2 + tau2)
    assert pe.pi == pytest.approx((pe.estimate - half, pe.estimate + half), rel=1e-12)


def test_paule_mandel_solves_the_generalised_q_equation():
    """PM tau2 is where Q(tau2) = k - 1 (Paule & Mandel 1982), up to R uniroot's 1.2e-4."""
    es = effect_sizes(load("bcg"))
    tau2 = fq.tau2_estimate(es, "PM")
    assert fq._q(tau2, es.yi, es.vi) == pytest.approx(es.k - 1, abs=1e-2)
    assert abs(tau2 - 0.341176212154706) < 1e-12  # and exactly metafor's uniroot answer


def test_hksj_variance_by_hand():
    """Hartung & Knapp (2001): se^2 = sum w (y - mu)^2 / ((k - 1) sum w), t(k - 1)."""
    es = effect_sizes(load("li2007"))
    pe = fq.random_effects(es, method="REML", test="knha")
    w = 1 / (es.vi + pe.tau2)
    expected = np.sum(w * (es.yi - pe.estimate) ** 2) / ((es.k - 1) * w.sum())
    assert pe.se**2 == pytest.approx(expected, rel=1e-12)
    assert pe.df == es.k - 1


def test_uniroot_is_brent_with_r_tolerance():
    root = uniroot(lambda x: x**2 - 2, 0.0, 2.0)
    assert abs(root - np.sqrt(2)) < 1.3e-4
    assert uniroot(lambda x: x - 0.25, 0.0, 1.0) == pytest.approx(0.25, abs=1e-15)


def test_cumulative_ends_at_the_full_fit_and_starts_with_one_study():
    es = effect_sizes(load("bcg"))
    order = list(reversed(es.study))
    cum = fq.cumulative(es, order, method="REML")
    assert list(cum) == order
    full = fq.random_effects(es, method="REML")
    assert cum[order[-1]].estimate == pytest.approx(full.estimate, rel=1e-14)
    first = cum[order[0]]
    assert first.estimate == pytest.approx(es.yi[-1]) and first.se**2 == pytest.approx(es.vi[-1])
    with pytest.raises(BayesmetaError, match="unknown"):
        fq.cumulative(es, ["nope"])


def test_classic_blocks_and_json():
    result = classic(load("nielweise2007"))
    assert list(result.estimates) == list(available(result.data))
    assert list(result.estimates)[:3] == ["mantel_haenszel", "peto", "fixed_iv"]
    for block in result.estimates.values():
        json.dumps(block.to_dict())
    assert result.estimates["random_reml_hksj"].to_dict()["df"] == 17
    assert "df" not in result.estimates["random_reml"].to_dict()
    single = classic(load("pritz1997_prop"))
    assert list(single.estimates) == ["fixed_iv", "random_dl", "random_reml", "glmm"]


def test_classic_rejects_unknown_methods_listing_valid_ones():
    with pytest.raises(BayesmetaError, match="valid: fixed_iv, random_dl"):
        classic(load("pritz1997_prop"), methods=["random_dl", "mantel_haenszel"])


def test_classic_records_why_a_block_was_skipped():
    result = classic(from_rows(EXTRA["edge"]["k2"]["counts"]), methods=["egger", "random_dl"])
    assert isinstance(result.estimates["egger"], Skipped)
    assert "at least 3 studies" in result.estimates["egger"].reason
    assert result.estimates["egger"].to_dict() == {"skipped": result.estimates["egger"].reason}
    assert isinstance(result.estimates["random_dl"], PooledEstimate)


def test_unknown_tau2_method_and_test():
    es = effect_sizes(load("bcg"))
    with pytest.raises(BayesmetaError, match="valid: DL, REML"):
        fq.random_effects(es, method="XX")
    with pytest.raises(BayesmetaError, match="knha"):
        fq.random_effects(es, test="t")


def test_classic_on_100_studies_estimates_every_method():
    rng = np.random.default_rng(20261127)
    n = rng.integers(40, 400, size=(100, 2))
    p_c = rng.uniform(0.05, 0.3, 100)
    p_t = 1 / (1 + np.exp(-(np.log(p_c / (1 - p_c)) - 0.3 + rng.normal(0, 0.3, 100))))
    frame = pd.DataFrame(
        {
            "study": [f"s{i}" for i in range(100)],
            "treatment_events": rng.binomial(n[:, 0], p_t),
            "treatment_total": n[:, 0],
            "control_events": rng.binomial(n[:, 1], p_c),
            "control_total": n[:, 1],
        }
    )
    result = classic(bayesmeta.load(frame))
    assert not any(isinstance(v, Skipped) for v in result.estimates.values())


def test_engine_imports_no_bayesian_stack():
    code = (
        "import sys, bayesmeta.frequentist.pooled, bayesmeta.frequentist.glmm, "
        "bayesmeta.frequentist.smallstudy; "
        "heavy = ('pymc', 'arviz', 'pytensor', 'matplotlib'); "
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# tests/reference/metafor_report.json: tests/reference/metafor_report.R (R 4.2.2, metafor
# 3.8-1): weights(rma(yi, vi, method = M)) and leave1out(rma(yi, vi, method = "REML")).
REPORT_REF = json.loads((REF / "metafor_report.json").read_text())


@pytest.mark.parametrize("name", DATASETS)
@pytest.mark.parametrize("method", ["REML", "DL"])
def test_weights_match_metafor(name, method):
    ref = REPORT_REF[name]
    es = effect_sizes(load(name))
    assert list(es.study) == ref["study"]
    tau2 = fq.tau2_estimate(es, method)
    assert tau2 == pytest.approx(ref[f"tau2_{method.lower()}"], rel=RTOL)
    w = fq.weights(es, tau2)
    np.testing.assert_allclose(w, ref[f"weights_{method.lower()}"], rtol=RTOL)
    assert w.sum() == pytest.approx(100.0)


@pytest.mark.parametrize("name", DATASETS)
def test_common_effect_weights_match_metafor(name):
    np.testing.assert_allclose(
        fq.weights(effect_sizes(load(name))), REPORT_REF[name]["weights_ee"], rtol=1e-10
    )


def test_weights_refuse_a_negative_tau2():
    with pytest.raises(BayesmetaError, match="tau\\^2"):
        fq.weights(effect_sizes(load("bcg")), -0.1)


@pytest.mark.parametrize("name", DATASETS)
def test_reml_leave_one_out_matches_metafor(name):
    ref = REPORT_REF[name]["leave1out_reml"]
    loo = fq.leave_one_out(effect_sizes(load(name)), method="REML")
    np.testing.assert_allclose([e.estimate for e in loo.values()], ref["est"], rtol=RTOL)
    np.testing.assert_allclose([e.ci[0] for e in loo.values()], ref["ci_lb"], rtol=RTOL)
    np.testing.assert_allclose([e.tau2 for e in loo.values()], ref["tau2"], rtol=1e-5, atol=1e-8)
