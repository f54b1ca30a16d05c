"""What a mixed table (2x2 counts beside reported odds ratios, examples/bcg_mixed.csv) is told:
the methods that need counts, a ``--measure`` it cannot have, the batch columns it gets and
the methods paragraph of a normal-normal fit. Numbers against metafor
(tests/reference/metafor_mixed.json, tests/reference/make_bcg_mixed.R)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import bayesmeta
from bayesmeta.cli import app
from bayesmeta.model.likelihoods import LIKELIHOODS
from bayesmeta.workflows.batch import methods_for

runner = CliRunner()
METAFOR = json.loads((Path(__file__).parents[1] / "reference" / "metafor_mixed.json").read_text())


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_classic_says_the_count_methods_need_counts_from_every_study() -> None:
    result = runner.invoke(app, ["classic", "--example", "bcg_mixed"])
    assert result.exit_code == 0, result.output
    assert (
        "Need 2x2 counts from every study (5 report an estimate only), so not computed: "
        "Mantel-Haenszel (common)" in _flat(result.output)
    )


def test_measure_rr_is_refused_saying_the_reported_estimates_are_odds_ratios() -> None:
    result = runner.invoke(app, ["classic", "--example", "bcg_mixed", "--measure", "RR"])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "the estimates this table reports are odds ratios" in lines[0]


def test_measure_or_is_the_tables_own_and_gives_metafors_rows(tmp_path) -> None:
    out = tmp_path / "mixed.json"
    result = runner.invoke(app, ["classic", "--example", "bcg_mixed", "--measure", "OR",
                                 "--json", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = json.loads(out.read_text())["frequentist"]
    assert rows["random_reml"]["estimate"] == pytest.approx(
        METAFOR["random_reml"]["estimate"], rel=1e-6
    )


def test_batch_rows_of_reported_estimates_have_the_effects_methods() -> None:
    """No Mantel-Haenszel without counts in every study, and Hartung-Knapp as for any
    reported effects (metafor ``rma(yi, vi, test = "knha")``)."""
    data = bayesmeta.load_example("bcg_mixed")
    assert methods_for(data) == ("random_dl", "random_reml", "random_reml_hksj")
    assert methods_for(bayesmeta.load_example("steurer2006_hr")) == methods_for(data)


def test_normal_normal_methods_text_says_which_estimates_were_computed() -> None:
    data = bayesmeta.load_example("bcg_mixed")
    text = LIKELIHOODS["normal-normal"].methods_text(data, "log odds ratio")
    computed, reported = text.split("as reported by")
    assert "escalc's from the 2x2 counts of 8 studies (Aronson 1948" in computed
    assert "Ferguson & Simes 1949" not in computed
    assert reported.startswith(" the other 5 (Ferguson & Simes 1949")
    assert "Aronson 1948" not in reported
