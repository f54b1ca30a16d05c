"""Continuous outcomes from means, SDs and group sizes against R metafor 3.8-1.

``escalc("MD" | "SMD" | "ROM", m1i, sd1i, n1i, m2i, sd2i, n2i)`` with its defaults and
``rma(method = "EE" | "DL" | "REML", test = "z" | "knha")`` on the shipped dat.normand1999
(examples/normand1999.csv; Normand 1999, Stat Med 18:321) and on dat.curtis1998 (Curtis &
Wang 1998, Oecologia 113:299; not shipped, 102 comparisons), and the SMD outcome 1.2 of R
meta's Fleiss1993.rm5 read from the RevMan file (its numbers typed into the R script).
Reference values and the R commands: ``tests/reference/metafor_continuous.R`` (``.json``),
R 4.2.2, metadat 1.2-0.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import bayesmeta
from bayesmeta import load_example
from bayesmeta.io.inputs import load
from bayesmeta.io.table import TableFile
from tests.conftest import EXAMPLES, REFERENCE, fails_cleanly

REF = json.loads((REFERENCE / "metafor_continuous.json").read_text())
DATASETS = ("normand1999", "curtis1998", "fleiss1993_rm5")
MEASURES = ("MD", "SMD", "ROM")
BLOCKS = {
    "fixed_iv": "iv_fixed",
    "random_dl": "re_dl",
    "random_reml": "re_reml",
    "random_dl_hksj": "re_dl_hksj",
    "random_reml_hksj": "re_reml_hksj",
}
COLUMNS = ("m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i")


def frame(name: str) -> pd.DataFrame:
    data = REF[name]["data"]
    return pd.DataFrame(
        {"study": data.get("source", data.get("study")), **{c: data[c] for c in COLUMNS}}
    )


@pytest.mark.parametrize("measure", MEASURES)
@pytest.mark.parametrize("name", DATASETS)
def test_effect_sizes_are_escalcs(name: str, measure: str) -> None:
    data = load(frame(name), measure=measure)
    ref = REF[name][measure]
    assert data.measure == measure
    np.testing.assert_allclose(data.yi, ref["yi"], rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(data.vi, ref["vi"], rtol=1e-6, atol=0)


@pytest.mark.parametrize("measure", MEASURES)
@pytest.mark.parametrize("name", DATASETS)
def test_every_estimator_matches_rma(name: str, measure: str) -> None:
    result = bayesmeta.classic(load(frame(name), measure=measure))
    for method, block in BLOCKS.items():
        pe, ref = result.estimates[method], REF[name][measure][block]
        got = {"est": pe.estimate, "se": pe.se, "ci_lb": pe.ci[0], "ci_ub": pe.ci[1],
               "tau2": pe.tau2, "Q": pe.q}  # fmt: skip
        if method != "fixed_iv":
            got["pi_lb"], got["pi_ub"] = pe.pi
        for key, value in got.items():
            assert value == pytest.approx(ref[key], rel=1e-6, abs=1e-10), (method, key)
        assert pe.p == pytest.approx(ref["pval"], rel=1e-6, abs=1e-300), method


def test_a_revman_continuous_outcome_is_read_in_its_measure_as_escalc() -> None:
    """RevMan analysed Fleiss 1993 outcome 1.2 as an SMD: read so by default, as escalc."""
    review = TableFile(REFERENCE.parent / "io/data/revman/Fleiss1993.rm5", outcome="1.2")
    ref = REF["fleiss1993_rm5"]
    data = load(review)
    assert data.measure == "SMD" and data.study == tuple(ref["data"]["study"])
    np.testing.assert_allclose(data.yi, ref["SMD"]["yi"], rtol=1e-6)
    np.testing.assert_allclose(data.vi, ref["SMD"]["vi"], rtol=1e-6)
    reml = bayesmeta.classic(data).estimates["random_reml_hksj"]
    assert reml.estimate == pytest.approx(ref["SMD"]["re_reml_hksj"]["est"], rel=1e-6)
    assert reml.ci == pytest.approx(
        (ref["SMD"]["re_reml_hksj"]["ci_lb"], ref["SMD"]["re_reml_hksj"]["ci_ub"]), rel=1e-6
    )
    md = load(review, measure="MD")
    np.testing.assert_allclose(md.yi, ref["MD"]["yi"], rtol=1e-6)
    np.testing.assert_allclose(md.vi, ref["MD"]["vi"], rtol=1e-6)


def test_the_shipped_example_is_metadats_normand1999() -> None:
    shipped = pd.read_csv(EXAMPLES / "normand1999.csv")
    pd.testing.assert_frame_equal(shipped, frame("normand1999"), check_dtype=False)
    data = load_example("normand1999")
    assert data.measure == "MD"
    np.testing.assert_allclose(data.yi, REF["normand1999"]["MD"]["yi"], rtol=1e-12)


def test_the_measure_is_case_insensitive_and_md_by_default() -> None:
    assert load(frame("normand1999"), measure="rom").measure == "ROM"
    assert load(frame("normand1999")).measure == "MD"


def test_revman_spellings_read_the_same_arms() -> None:
    """RevMan's "Experimental Mean" ... "Control Total" are arm 1 and arm 2 of escalc."""
    revman = frame("normand1999").rename(
        columns=dict(zip(COLUMNS, ("Experimental Mean", "Experimental SD", "Experimental Total",
                                   "Control Mean", "Control SD", "Control Total"), strict=True))
    )  # fmt: skip
    data = load(revman, measure="SMD")
    np.testing.assert_allclose(data.yi, REF["normand1999"]["SMD"]["yi"], rtol=1e-12)


def test_fit_exact_engine_takes_the_escalc_effects() -> None:
    """The exact normal-normal posterior from raw statistics is that of metafor's yi, vi; a
    ratio of means is analysed on the log scale and shown as a ratio."""
    ref = REF["normand1999"]["ROM"]
    from_raw = bayesmeta.analyze(load(frame("normand1999"), measure="ROM"), model="normal-normal")
    given = pd.DataFrame({"study": frame("normand1999")["study"], "yi": ref["yi"], "vi": ref["vi"]})
    from_yi = bayesmeta.analyze(given, model="normal-normal")
    assert from_raw.engine == from_yi.engine == "exact"
    raw, given_yi = from_raw.posterior, from_yi.posterior
    assert raw.mu.mean == pytest.approx(given_yi.mu.mean, rel=1e-9)
    assert raw.mu.interval == pytest.approx(given_yi.mu.interval, rel=1e-9)
    assert raw.tau.median == pytest.approx(given_yi.tau.median, rel=1e-9)
    assert raw.scale.label == "ROM" and raw.scale.log_ratio
    # the frequentist rows beside the posterior are rma's
    dl = from_raw.frequentist["random_dl"]
    assert dl.estimate == pytest.approx(ref["re_dl"]["est"], rel=1e-6)


def _csv(tmp_path, rows: list[str]) -> str:
    path = tmp_path / "cont.csv"
    path.write_text("study,m1i,sd1i,n1i,m2i,sd2i,n2i\n" + "\n".join(rows) + "\n")
    return str(path)


GOOD = ["A,10,2,20,12,3,21", "B,11,2.5,30,12,2,28"]


@pytest.mark.parametrize(
    ("row", "measure", "says"),
    [
        ("C,10,0,20,12,3,21", "MD", "row 3 ('C'), column 'sd1i': the SD must be positive"),
        ("C,10,2,1,12,3,21", "SMD", "row 3 ('C'), column 'n1i': a group needs at least 2"),
        ("C,10,2,20,-1,3,21", "ROM", "row 3 ('C'): the ratio of means (ROM) needs positive means"),
        ("C,10,2,20,,,", "SMD", "row 3 ('C'): the control arm is blank"),
    ],
)
def test_bad_rows_are_one_line_errors_naming_the_row(tmp_path, row, measure, says) -> None:
    line = fails_cleanly(["classic", _csv(tmp_path, [*GOOD, row]), "--measure", measure])
    assert says in line


def test_arms_beside_a_reported_estimate_are_refused_not_guessed(tmp_path) -> None:
    """An escalc output (yi, vi beside m1i...) might be an SMD: neither is silently chosen."""
    path = tmp_path / "escalc.csv"
    frame("normand1999").assign(yi=1.0, vi=0.1).to_csv(path, index=False)
    assert "both each arm's means and SDs and a reported estimate" in fails_cleanly(
        ["classic", str(path)]
    )


def test_a_measure_the_data_do_not_have_is_refused(tmp_path) -> None:
    assert "does not apply to means and SDs" in fails_cleanly(
        ["classic", _csv(tmp_path, GOOD), "--measure", "RR"]
    )
    assert "applies to continuous outcomes" in fails_cleanly(
        ["classic", "--example", "bcg", "--measure", "SMD"]
    )


def test_forest_plot_shows_each_arms_mean_sd_and_size() -> None:
    from bayesmeta.report.figures.forest import forest_layout
    from bayesmeta.workflows.presentation import forest_numbers

    result = bayesmeta.analyze(load_example("normand1999", measure="SMD"), model="normal-normal")
    layout = forest_layout(result, forest_numbers(result))
    assert [c.key for c in layout.columns][1:3] == ["treatment", "control"]
    first = next(r for r in layout.rows if r.kind == "study")
    assert (first.cells["treatment"], first.cells["control"]) == ("55 (47) 155", "75 (64) 156")
    pooled = next(r for r in layout.rows if r.kind != "study" and "treatment" in r.cells)
    assert pooled.cells["treatment"] == str(sum(REF["normand1999"]["data"]["n1i"]))


def test_methods_paragraph_says_the_estimates_were_computed_from_the_arms() -> None:
    from bayesmeta.report.methods import _model

    result = bayesmeta.analyze(load_example("normand1999", measure="ROM"), model="normal-normal")
    text = _model(result).text
    assert "y_i (log ratio of means, ROM), computed from each arm's mean, SD and size" in text


def test_classic_and_fit_on_the_command_line_take_the_measure(tmp_path) -> None:
    """One --measure: applied when a continuous outcome is read, not passed on as the
    measure of the frequentist rows (which is for two-arm counts)."""
    from typer.testing import CliRunner

    from bayesmeta.cli import app

    out = tmp_path / "c.json"
    args = ["classic", "--example", "normand1999", "--measure", "smd", "--json", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "Measure: SMD (Hedges' g) from means, SDs and group sizes" in result.output
    saved = json.loads(out.read_text())
    assert saved["effect_sizes"]["measure"] == "SMD"
    ref = REF["normand1999"]["SMD"]["re_reml"]
    assert saved["frequentist"]["random_reml"]["estimate"] == pytest.approx(ref["est"], rel=1e-6)
    fit_out = tmp_path / "f.json"
    args = ["fit", "--example", "normand1999", "--measure", "ROM", "--json", str(fit_out)]
    result = CliRunner().invoke(app, [*args, "--quiet"])
    assert result.exit_code == 0, result.output
    fitted = json.loads(fit_out.read_text())
    assert "frequentist_measure" not in fitted
    assert fitted["posterior"]["scale"] == "log_ratio_of_means"


def test_mean_differences_need_priors_on_the_outcomes_scale(tmp_path) -> None:
    """The default priors are made for log odds ratios: on a mean difference in days they would
    decide the answer (posterior tau 3.3 against DerSimonian-Laird's 14 on normand1999), so a
    Bayesian fit of MD without --prior-mu and --prior-tau is refused; with them, the exact
    posterior median of mu is that of a brute-force integral (mu analytic given tau, tau on a
    dense grid) with mu ~ N(0, 100^2), tau ~ half-normal(20)."""
    from scipy import optimize, stats

    data = load(frame("normand1999"))
    with pytest.raises(bayesmeta.OptionError, match="MD is in the outcome's units"):
        bayesmeta.analyze(data, model="normal-normal")
    with pytest.raises(bayesmeta.OptionError, match="--prior-tau"):
        bayesmeta.analyze(data, model="normal-normal", priors={"mu": "normal(0, 100)"})
    assert "outcome's units" in fails_cleanly(
        ["fit", "--example", "normand1999", "--engine", "exact"]
    )
    fit = bayesmeta.analyze(
        data, model="normal-normal", priors={"mu": "normal(0, 100)", "tau": "half-normal(20)"}
    )
    y, v = np.asarray(data.yi), np.asarray(data.vi)
    tau = np.linspace(1e-6, 200, 200_001)[:, None]
    w = 1 / (v + tau**2)
    prec = w.sum(1) + 1 / 100**2
    mean = (w * y).sum(1) / prec
    log_m = 0.5 * np.log(w).sum(1) - 0.5 * np.log(prec) - 0.5 * ((w * y**2).sum(1) - prec * mean**2)
    post = np.exp(log_m - log_m.max()) * stats.halfnorm.pdf(tau[:, 0], scale=20)
    post /= post.sum()
    sd = 1 / np.sqrt(prec)

    def cdf(m: float) -> float:
        return float((post * stats.norm.cdf(m, mean, sd)).sum()) - 0.5

    assert fit.posterior.mu.median == pytest.approx(optimize.brentq(cdf, -100, 100), abs=1e-3)
