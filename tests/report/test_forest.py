"""The forest plot, read back from the matplotlib figure: axis, ticks, columns, rows, squares,
diamonds, weights and the heterogeneity line.

Independent references: study weights from metafor (``weights(rma(yi, vi, method = "REML"))``,
``tests/reference/metafor_report.json``, made by ``tests/reference/metafor_report.R``, R 4.2.2,
metafor 3.8-1) and Q / I^2 from ``rma(yi, vi, method = "REML")`` in the shared
``tests/reference/NAME.metafor.json``. Posterior values come from the fit being drawn.
"""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest

from bayesmeta.model.scales import scale_of_measure
from bayesmeta.plots import forest
from bayesmeta.report.figures import format_of, save
from bayesmeta.report.figures.axes import axis_title, effect_axis, tick_label
from bayesmeta.report.figures.forest import value_text
from bayesmeta.workflows.presentation import weight_method
from tests.conftest import REFERENCE, reference

WEIGHTS = json.loads((REFERENCE / "metafor_report.json").read_text())
STANDARD_TICKS = ["0.1", "0.2", "0.5", "1", "2", "5", "10"]


def texts(fig, gid):
    return [t.get_text() for t in fig.texts if t.get_gid() == gid]


def panel(fig):
    return next(ax for ax in fig.axes if ax.get_gid() == "forest-panel")


def patches(fig, prefix):
    return [p for p in panel(fig).patches if (p.get_gid() or "").startswith(prefix)]


def scatter(fig, gid):
    return next(c for c in panel(fig).collections if c.get_gid() == gid)


def test_tick_labels_are_plain_numbers():
    assert [tick_label(t) for t in (0.001, 0.1, 0.2, 1, 10, 100)] == [
        "0.001",
        "0.1",
        "0.2",
        "1",
        "10",
        "100",
    ]


def test_ratio_axis_is_symmetric_and_as_narrow_as_the_values_allow():
    odds = scale_of_measure("OR")
    axis = effect_axis(odds, [0.3, 0.9, 2.5])
    assert axis.limits == (0.1, 10) and [tick_label(t) for t in axis.ticks] == STANDARD_TICKS
    assert effect_axis(odds, [0.06]).limits == (1 / 20, 20)
    # confidence limits of zero-cell studies widen the axis to 1/50 ... 50 at most
    assert effect_axis(odds, [0.5], wide=[0.001, 300]).limits == (1 / 50, 50)
    assert effect_axis(odds, [0.004]).limits == (1 / 1000, 1000)


def test_axis_titles_name_the_measure():
    assert axis_title(scale_of_measure("OR")) == "Odds ratio"
    assert axis_title(scale_of_measure("HR")) == "Hazard ratio"
    assert axis_title(scale_of_measure("RR")) == "Risk ratio"
    assert axis_title(scale_of_measure("PLO")) == "Proportion"


def test_cell_numbers():
    assert [value_text(x) for x in (0.4712, 0.0723, 0.0999, 12.34, 250.2)] == [
        "0.47",
        "0.072",
        "0.10",
        "12.3",
        "250",
    ]
    assert value_text(float("nan")) == "-"


@pytest.mark.sampling
def test_binomial_normal_forest_plot(bcg_nuts):
    """bcg, 13 trials: every element the issue lists, read back from the figure."""
    result = bcg_nuts
    fig = forest(result)
    ax = panel(fig)
    assert ax.get_xlabel() == "Odds ratio"
    assert ax.get_xscale() == "log"
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert all(re.fullmatch(r"\d+(\.\d+)?", t) for t in labels), labels
    assert [t for t in labels if t in STANDARD_TICKS] == STANDARD_TICKS
    favours = [a.get_text() for a in ax.texts if a.get_gid() == "favours"]
    assert favours == ["Favours treatment", "Favours control"]
    assert texts(fig, "header") == [
        "Study",
        "Treatment\nevents/total",
        "Control\nevents/total",
        "Observed OR\n[95% CI]",
        "Shrunken OR\n[95% CrI]",
        "Weight\n(REML)",
    ]
    studies = list(result.data.study)
    shown = ["Mantel-Haenszel (common)", "Inverse-variance (common)", "DerSimonian-Laird"]
    shown += ["REML", "REML + Hartung-Knapp"]
    pooled = ["Bayesian random effects", "Prediction interval (new study)", *shown]
    assert texts(fig, "cell:study") == studies + pooled
    assert texts(fig, "cell:treatment")[:2] == ["4/123", "6/306"]  # Aronson, Ferguson & Simes
    assert texts(fig, "cell:control")[:2] == ["11/139", "29/303"]
    # one square (observed) and one circle (shrunken) per study
    assert len(scatter(fig, "observed").get_offsets()) == result.data.k
    circles = [c for c in ax.collections if c.get_gid() == "shrunken"]
    assert len(circles) == result.data.k
    # diamonds: the Bayesian pooled effect and each frequentist estimate shown
    gids = [p.get_gid() for p in patches(fig, "diamond:")]
    assert gids == [
        "diamond:bayesian",
        "diamond:mantel_haenszel",
        "diamond:fixed_iv",
        "diamond:random_dl",
        "diamond:random_reml",
        "diamond:random_reml_hksj",
    ]
    xs = patches(fig, "diamond:bayesian")[0].get_xy()[:, 0]
    assert xs.min() == pytest.approx(result.posterior.pooled.interval[0], rel=1e-12)
    assert xs.max() == pytest.approx(result.posterior.pooled.interval[1], rel=1e-12)
    bar = patches(fig, "prediction")[0]
    assert bar.get_x() == pytest.approx(result.posterior.predictive.interval[0], rel=1e-12)
    assert bar.get_x() + bar.get_width() == pytest.approx(
        result.posterior.predictive.interval[1], rel=1e-12
    )
    reml = patches(fig, "diamond:random_reml")[0].get_xy()[:, 0]
    metafor = reference("bcg", "metafor")["re_reml"]
    assert reml.min() == pytest.approx(math.exp(metafor["ci_lb"]), rel=1e-6)
    # weights: metafor's REML weights, printed and as square areas (heavier, bigger)
    expected = WEIGHTS["bcg"]["weights_reml"]
    assert texts(fig, "cell:weight") == [f"{w:.1f}%" for w in expected] + ["100%"]
    areas = scatter(fig, "observed").get_sizes()
    assert np.argmax(areas) == np.argmax(expected) and np.argmin(areas) == np.argmin(expected)
    # the observed and shrunken columns are the analysis' numbers
    first = result.posterior.theta["Aronson 1948"]
    assert texts(fig, "cell:shrunken")[0] == (
        f"{math.exp(first.median):.2f} [{math.exp(first.interval[0]):.2f}, "
        f"{math.exp(first.interval[1]):.2f}]"
    )
    notes = texts(fig, "note")
    tau = result.posterior.tau
    assert notes[0].startswith(f"Heterogeneity: τ = {tau.median:.2f} [{tau.interval[0]:.2f}, ")
    assert notes[1] == (
        f"I² = {metafor['I2']:.1f}%, Q = {metafor['Q']:.2f}, df = 12, p < 0.0001 (REML)"
    )


def test_methods_choose_the_diamonds_and_the_weights(exact_fits):
    fig = forest(exact_fits["li2007"], methods=("random_dl",))
    assert [p.get_gid() for p in patches(fig, "diamond:")] == [
        "diamond:bayesian",
        "diamond:random_dl",
    ]
    assert texts(fig, "header")[-1] == "Weight\n(DerSimonian-Laird)"
    expected = WEIGHTS["li2007"]["weights_dl"]
    assert texts(fig, "cell:weight")[:-1] == [f"{w:.1f}%" for w in expected]
    assert weight_method(exact_fits["li2007"], ("mantel_haenszel",)) is None
    no_weights = forest(exact_fits["li2007"], methods=("mantel_haenszel",))
    assert "Weight" not in " ".join(texts(no_weights, "header"))


def test_zero_cells_are_marked_and_wide_intervals_clipped(exact_fits):
    result = exact_fits["nielweise2007"]
    fig = forest(result)
    observed = texts(fig, "cell:observed")
    assert observed[0].endswith("*")  # 0/116 vs 3/117: 0.5 added
    assert "* 0.5 added to every cell of a study with a zero cell" in texts(fig, "note")
    assert panel(fig).get_xlim() == pytest.approx((1 / 50, 50))
    assert any(line.get_gid() == "clipped" for line in panel(fig).lines)
    # the double-zero study is not in the normal-normal model (escalc drop00)
    assert "not in model" in texts(fig, "cell:shrunken")


def test_single_arm_forest_plot(exact_fits):
    result = exact_fits["pritz1997_prop"]
    fig = forest(result)
    ax = panel(fig)
    assert ax.get_xlabel() == "Proportion" and ax.get_xscale() == "linear"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "0.2", "0.4", "0.6", "0.8", "1"]
    assert not [a for a in ax.texts if a.get_gid() == "favours"]
    assert texts(fig, "header")[:2] == ["Study", "Events/\ntotal"]
    assert texts(fig, "header")[2].startswith("Observed proportion")
    assert texts(fig, "cell:events")[0] == "16/17"
    assert len(scatter(fig, "observed").get_offsets()) == 14


def test_reported_effects_forest_plot(exact_fits):
    result = exact_fits["bcg_rr"]
    fig = forest(result)
    ax = panel(fig)
    assert ax.get_xlabel() == "Risk ratio" and ax.get_xscale() == "log"
    assert texts(fig, "header") == [
        "Study",
        "Observed RR\n[95% CI]",
        "Shrunken RR\n[95% CrI]",
        "Weight\n(REML)",
    ]
    # the observed column shows the ratios as read (rounded to 2 decimals)
    assert texts(fig, "cell:observed")[0].startswith("0.41 [0.13, 1.26]")


def test_subgroups_get_their_own_pooled_rows(exact_fits):
    result = exact_fits["bcg_alloc"]
    fig = forest(result)
    levels = ("alternate", "random", "systematic")
    labels = texts(fig, "cell:study")
    assert [t for t in labels if t.startswith("alloc = ")] == [f"alloc = {g}" for g in levels]
    assert [t for t in labels if t.startswith("Bayesian")] == [
        f"Bayesian random effects, {g}" for g in levels
    ]
    gids = [p.get_gid() for p in patches(fig, "diamond:")]
    assert gids.count("diamond:bayesian") == 3
    assert gids.count("diamond:random_reml") == 3 + 1  # each subgroup, then all studies
    assert len(patches(fig, "prediction")) == 3
    for g, level in enumerate(levels):
        mu = result.posterior.subgroups[level].mu
        bayes = patches(fig, "diamond:bayesian")[g].get_xy()[:, 0]
        assert bayes.max() == pytest.approx(math.exp(mu.interval[1]), rel=1e-12)


@pytest.mark.parametrize("fmt", ["png", "svg", "pdf"])
def test_saved_formats(exact_fits, tmp_path, fmt):
    path = tmp_path / f"forest.{fmt}"
    save(forest(exact_fits["bcg"]), path)
    data = path.read_bytes()
    signature = {"png": b"\x89PNG", "svg": b"<?xml", "pdf": b"%PDF"}[fmt]
    assert data.startswith(signature)
    if fmt == "svg":  # text kept as text, not glyph paths
        text = data.decode()
        assert "<text" in text and "Odds ratio" in text and "Favours treatment" in text


def test_unknown_figure_format_is_refused(tmp_path):
    from bayesmeta.errors import BayesmetaError

    with pytest.raises(BayesmetaError, match=r"\.png, \.pdf or \.svg"):
        format_of(tmp_path / "forest.jpg")


def test_favours_labels_can_be_swapped_for_wanted_events(exact_fits):
    fig = forest(exact_fits["bcg"], favours=("Favours control", "Favours treatment"))
    labels = [a.get_text() for a in panel(fig).texts if a.get_gid() == "favours"]
    assert labels == ["Favours control", "Favours treatment"]
