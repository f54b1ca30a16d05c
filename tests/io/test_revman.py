"""RevMan 5 review files: the numbers read are those RevMan published for each outcome.

The files are real (tests/io/data/revman/README.md): R meta's Fleiss1993.rm5 and two outcomes
of the Cochrane review "Antibiotics for sore throat" (CD000023). Each outcome's study rows are
read here a second time with the standard library's XML parser, independently of
bayesmeta.io.revman, and RevMan's own results stored with the outcome (``EFFECT_SIZE``,
``CI_START``, ``CI_END``, ``TAU2``, ``I2`` and each study's ``EFFECT_SIZE`` and ``SE``) are
the reference: the published analysis.
"""

from __future__ import annotations

import csv
import math
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from bayesmeta.cli import app
from bayesmeta.effects import effect_sizes
from bayesmeta.errors import DataError
from bayesmeta.frequentist.classic import classic
from bayesmeta.io.inputs import load
from bayesmeta.io.table import TableFile
from tests.conftest import fails_cleanly

DATA = Path(__file__).parent / "data" / "revman"
FLEISS = DATA / "Fleiss1993.rm5"
SORE = DATA / "sore_throat_extract.rm5"
Z = 1.959963984540054


def published(path: Path, number: str) -> tuple[ET.Element, dict[str, tuple[str, str]]]:
    """The outcome numbered ``number`` and the studies (id -> name, year), read with ET."""
    root = ET.parse(path).getroot()
    c, o = number.split(".")
    comparison = next(e for e in root.iter("COMPARISON") if e.get("NO") == c)
    outcome = next(e for e in comparison if e.tag.endswith("_OUTCOME") and e.get("NO") == o)
    studies = {s.get("ID"): (s.get("NAME"), s.get("YEAR")) for s in root.iter("STUDY")}
    return outcome, studies


def plain_csv(path: Path, number: str, out: Path) -> Path:
    """The outcome's counts as a plain CSV, written from the XML without bayesmeta."""
    outcome, studies = published(path, number)
    with out.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["study", "ai", "n1i", "ci", "n2i", "year"])
        for row in outcome.iter("DICH_DATA"):
            name, year = studies[row.get("STUDY_ID")]
            writer.writerow(
                [name, *(row.get(k) for k in ("EVENTS_1", "TOTAL_1", "EVENTS_2", "TOTAL_2")), year]
            )
    return out


def numbers(result: object) -> dict:
    """The effect sizes and every frequentist estimate of a ``classic`` result's JSON."""
    out = result.to_dict()
    return {k: out[k] for k in ("effect_sizes", "frequentist")}


def test_outcomes_are_listed_with_revman_numbers() -> None:
    result = CliRunner().invoke(app, ["outcomes", str(FLEISS)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].endswith("Examples from Fleiss 1993")
    assert "1.1" in lines[2] and "dichotomous" in lines[2] and "OR" in lines[2]
    assert "7 studies" in lines[2] and "Aspirin for Preventing Death" in lines[2]
    assert "1.2" in lines[3] and "continuous" in lines[3] and "SMD" in lines[3]
    assert "not supported yet" not in lines[3]


def test_fleiss_mantel_haenszel_odds_ratio_is_the_published_one(tmp_path) -> None:
    """Outcome 1.1 is analysed in RevMan with MH odds ratios, common effect (RANDOM=NO)."""
    outcome, _ = published(FLEISS, "1.1")
    assert (outcome.get("METHOD"), outcome.get("EFFECT_MEASURE"), outcome.get("RANDOM")) == (
        "MH",
        "OR",
        "NO",
    )
    data = load(TableFile(FLEISS, outcome="1.1"))
    assert data.study == ("MRC-1", "CDP", "MRC-2", "GASP", "PARIS", "AMIS", "ISIS-2")
    assert list(data.covariates["year"]) == [1974, 1976, 1979, 1979, 1980, 1980, 1988]
    mh = classic(data, methods=["mantel_haenszel"]).estimates["mantel_haenszel"]
    pairs = ((mh.estimate, "EFFECT_SIZE"), (mh.ci[0], "CI_START"), (mh.ci[1], "CI_END"))
    for ours, key in pairs:
        assert math.exp(ours) == pytest.approx(float(outcome.get(key)), rel=1e-9), key
    assert mh.i2 == pytest.approx(float(outcome.get("I2")), rel=1e-9)
    same = classic(load(plain_csv(FLEISS, "1.1", tmp_path / "fleiss.csv")))
    assert numbers(classic(data)) == numbers(same)


@pytest.mark.parametrize("number", ["1.1", "1.2"])
def test_sore_throat_outcomes_give_the_published_risk_ratios(tmp_path, number: str) -> None:
    """Two outcomes of one review, each chosen: RevMan's per-study log RR and SE, and its
    random-effects result (DerSimonian-Laird, Q about the MH estimate; RevMan 5 statistical
    methods), from the counts read; classic gives the numbers of the same counts in a CSV."""
    outcome, _ = published(SORE, number)
    data = load(TableFile(SORE, outcome=number))
    es = effect_sizes(data, measure="RR")
    rows = list(outcome.iter("DICH_DATA"))
    np.testing.assert_allclose(es.yi, [math.log(float(r.get("EFFECT_SIZE"))) for r in rows], 1e-12)
    np.testing.assert_allclose(np.sqrt(es.vi), [float(r.get("SE")) for r in rows], 1e-12)
    a, n1, c, n2 = (
        data.treatment_events,
        data.treatment_total,
        data.control_events,
        data.control_total,
    )
    n = n1 + n2
    log_mh = math.log(np.sum(a * n2 / n) / np.sum(c * n1 / n))
    w = 1 / es.vi
    q = np.sum(w * (es.yi - log_mh) ** 2)
    tau2 = max(0.0, (q - (len(w) - 1)) / (w.sum() - np.sum(w**2) / w.sum()))
    ws = 1 / (es.vi + tau2)
    mu, se = np.sum(ws * es.yi) / ws.sum(), ws.sum() ** -0.5
    assert tau2 == pytest.approx(float(outcome.get("TAU2")), rel=1e-9)
    assert math.exp(mu) == pytest.approx(float(outcome.get("EFFECT_SIZE")), rel=1e-9)
    assert math.exp(mu - Z * se) == pytest.approx(float(outcome.get("CI_START")), rel=1e-9)
    assert math.exp(mu + Z * se) == pytest.approx(float(outcome.get("CI_END")), rel=1e-9)
    same = classic(load(plain_csv(SORE, number, tmp_path / "sore.csv")))
    assert numbers(classic(data)) == numbers(same)


def test_subgroups_are_a_column_and_groups_and_favours_are_kept() -> None:
    from bayesmeta.cli.common import default_favours
    from bayesmeta.workflows.request import AnalysisRequest

    data = load(TableFile(SORE, outcome="1.2"))
    levels = list(dict.fromkeys(data.covariates["subgroup"]))
    assert levels == [
        "Symptom of sore throat on day 3: blinded studies",
        "Symptom of sore throat on day 3: unblinded studies",
    ]
    assert "treatment = Antibiotics, control = Placebo" in data.warnings[0]
    assert "RevMan analysed RR, bayesmeta analyses odds ratios" in data.warnings[0]
    assert "SWAP_EVENTS" not in data.warnings[0]
    request = AnalysisRequest(data=SORE, reading={"outcome": "1.1"})
    assert default_favours(request) == ("Favours antibiotics", "Favours placebo")


@pytest.mark.parametrize("number", ["1.1", "1.2"])
def test_outcome_by_name_and_the_exact_normal_normal_fit_match_the_csv(tmp_path, number) -> None:
    from bayesmeta.workflows.request import AnalysisRequest, execute, plan

    by_name = load(TableFile(SORE, outcome="symptom of sore throat on day 3"))
    assert by_name.study == load(TableFile(SORE, outcome="1.1")).study
    csv_path = plain_csv(SORE, number, tmp_path / "a.csv")
    fits = [
        execute(plan(AnalysisRequest(data=path, model="normal-normal", engine="exact", reading=r)))
        for path, r in ((SORE, {"outcome": number}), (csv_path, {}))
    ]
    ours, csv_fit = (f.to_dict()["posterior"] for f in fits)
    assert ours == csv_fit


def test_review_errors_are_one_line() -> None:
    assert "choose one with --outcome NUMBER (1.1, 1.2" in fails_cleanly(["classic", str(FLEISS)])
    assert "no such outcome" in fails_cleanly(["classic", str(SORE), "--outcome", "3.1"])
    line = fails_cleanly(["classic", str(SORE), "--outcome", "1.1", "--sheet", "1"])
    assert "--sheet does not apply: the file is a RevMan file" in line


def test_hostile_xml_is_refused_without_expanding_entities(tmp_path) -> None:
    bomb = tmp_path / "bomb.rm5"
    bomb.write_text(
        '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><COCHRANE_REVIEW>&b;</COCHRANE_REVIEW>'
    )
    with pytest.raises(DataError, match="declares entities"):
        load(TableFile(bomb, outcome="1.1"))
    other = tmp_path / "other.rm5"
    other.write_text("<html></html>")
    with pytest.raises(DataError, match="not a RevMan 5 review"):
        load(other)


def test_batch_reads_one_meta_analysis_per_outcome() -> None:
    from bayesmeta.io.counts import load as load_counts
    from bayesmeta.workflows.batch import read_jobs

    jobs = read_jobs(FLEISS)
    assert [j.name for j in jobs] == [
        "1.1 Aspirin for Preventing Death after Myocardial Infarction",
        "1.2 Mental Health Treatment versus Control",
    ]
    assert load_counts(jobs[0].source).k == 7
    assert load(jobs[1].source).measure == "SMD"  # the measure RevMan analysed it in


def test_generic_inverse_variance_hazard_ratios_are_reported_effects(tmp_path) -> None:
    """No public RevMan file with a generic inverse-variance outcome was found: this one is
    written here, in RevMan's layout (IV_DATA with EFFECT_SIZE, the ratio, and SE, of the log
    ratio, as R meta's read.rm5 reads them), from the hazard ratios of the shipped steurer2006
    example; the reference is the same numbers in a plain CSV."""
    rows = list(csv.DictReader((Path(__file__).parents[2] / "examples/steurer2006_hr.csv").open()))
    ses = [
        (math.log(float(r["ci_upper"])) - math.log(float(r["ci_lower"]))) / (2 * Z) for r in rows
    ]
    studies = "".join(f'<STUDY ID="S{i}" NAME="{r["study"]}" YEAR=""/>' for i, r in enumerate(rows))
    data = "".join(
        f'<IV_DATA EFFECT_SIZE="{r["hr"]}" SE="{se!r}" STUDY_ID="S{i}"/>'
        for i, (r, se) in enumerate(zip(rows, ses, strict=True))
    )
    review = tmp_path / "giv.rm5"
    review.write_text(
        f'<?xml version="1.0" encoding="UTF-8"?><COCHRANE_REVIEW><STUDIES>{studies}</STUDIES>'
        '<ANALYSES_AND_DATA><COMPARISON NO="1"><NAME>Purine analogues</NAME>'
        '<IV_OUTCOME NO="1" EFFECT_MEASURE="HR" LOG_DATA="YES"><NAME>Overall survival</NAME>'
        f"<GROUP_LABEL_1>Purine</GROUP_LABEL_1><GROUP_LABEL_2>Alkylator</GROUP_LABEL_2>{data}"
        "</IV_OUTCOME></COMPARISON></ANALYSES_AND_DATA></COCHRANE_REVIEW>"
    )
    plain = tmp_path / "giv.csv"
    plain.write_text(
        "study,hr,se\n"
        + "".join(f'"{r["study"]}",{r["hr"]},{se!r}\n' for r, se in zip(rows, ses, strict=True))
    )
    ours = load(review)
    assert ours.measure == "HR" and ours.study == tuple(r["study"] for r in rows)
    np.testing.assert_allclose(ours.yi, [math.log(float(r["hr"])) for r in rows], 1e-15)
    assert numbers(classic(ours)) == numbers(classic(load(plain)))
    entered_as_ratios = review.read_text().replace('LOG_DATA="YES"', 'LOG_DATA="NO"')
    review.write_text(entered_as_ratios)
    with pytest.raises(DataError, match="entered on the ratio scale"):
        load(review)


def test_mean_differences_are_the_ones_revman_exported(tmp_path) -> None:
    """Fleiss1993_CR.csv is RevMan's own export of this review when outcome 1.2 was analysed
    as a mean difference (inverse variance, common effect): per-study MD and SE and the pooled
    MD, printed to 8 decimals. The .rm5 has the same means, SDs and totals, its measure since
    changed to SMD; the copy here says MD again."""
    export = list(csv.DictReader((DATA / "Fleiss1993_CR.csv").open(encoding="utf-8")))
    rows = [r for r in export if r["Outcome Number"] == "2" and r["Data Type"] == ""]
    pooled = next(r for r in export if r["Outcome Number"] == "2" and r["Data Type"] == "CON")
    assert (pooled["Effect Measure"], pooled["Statistical Method"]) == ("MD", "IV")
    review = tmp_path / "fleiss_md.rm5"
    text = FLEISS.read_text(encoding="latin-1")
    review.write_text(text.replace('EFFECT_MEASURE="SMD"', 'EFFECT_MEASURE="MD"'), "latin-1")
    data = load(TableFile(review, outcome="1.2"))
    assert data.measure == "MD" and data.study == tuple(r["Name"] for r in rows)
    np.testing.assert_allclose(data.yi, [float(r["Effect Estimate"]) for r in rows], atol=5e-9)
    np.testing.assert_allclose(np.sqrt(data.vi), [float(r["SE"]) for r in rows], atol=5e-9)
    iv = classic(data, methods=["fixed_iv"]).estimates["fixed_iv"]
    assert iv.estimate == pytest.approx(float(pooled["Effect Estimate"]), abs=5e-9)
    assert iv.ci[0] == pytest.approx(float(pooled["CI Start"]), abs=5e-9)
    assert iv.ci[1] == pytest.approx(float(pooled["CI End"]), abs=5e-9)
    assert iv.q == pytest.approx(float(pooled["Q"]), abs=5e-9)
    bad = review.read_text("latin-1").replace('SD_1="4.7"', 'SD_1="0"')
    review.write_text(bad, "latin-1")
    with pytest.raises(DataError, match=r"row 1 \('Davis'\), column 'treatment_sd': the SD"):
        load(TableFile(review, outcome="1.2"))


def test_other_outcome_kinds_are_listed_but_refused(tmp_path) -> None:
    """O - E outcomes (IPD_OUTCOME) are not analysed: the Fleiss SMD outcome relabelled so."""
    text = FLEISS.read_text(encoding="latin-1").replace("CONT_", "IPD_")
    review = tmp_path / "fleiss_ipd.rm5"
    review.write_text(text, "latin-1")
    line = fails_cleanly(["classic", str(review), "--outcome", "1.2"])
    assert "O - E and variance outcome" in line and "not supported yet" in line
