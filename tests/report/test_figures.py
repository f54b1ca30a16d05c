"""The figures other than the forest plot, read back from the matplotlib objects.

Independent references: the common-effect estimate and Egger's line from metafor
(``tests/reference/metafor_report.json``: ``rma(yi, vi, method = "EE")`` and
``coef(regtest(..., model = "lm")$fit)``, R 4.2.2, metafor 3.8-1); prior densities from
scipy.stats; posterior densities from the exact engine (tested against an independent
numerical integration in tests/engines/test_exact.py).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import stats

from bayesmeta import plots
from bayesmeta.errors import BayesmetaError
from bayesmeta.workflows.analyze import analyze
from tests.conftest import REFERENCE
from tests.report.conftest import load

REF = json.loads((REFERENCE / "metafor_report.json").read_text())


def lines(ax, gid):
    return [line for line in ax.lines if line.get_gid() == gid]


def panel(fig, gid):
    return next(ax for ax in fig.axes if ax.get_gid() == gid)


@pytest.mark.parametrize("name", ["bcg", "li2007", "nielweise2007"])
def test_funnel_plot_centre_region_and_egger_line(name):
    data = load(name)
    fig = plots.funnel(data)
    ax = panel(fig, "funnel-panel")
    ref = REF[name]
    assert ax.get_xlabel() == "Odds ratio" and ax.get_xscale() == "log"
    assert ax.get_ylabel() == "Standard error (log odds ratio)"
    assert ax.yaxis_inverted()
    points = next(c for c in ax.collections if c.get_gid() == "studies").get_offsets()
    np.testing.assert_allclose(points[:, 0], np.exp(ref["yi"]), rtol=1e-10)
    np.testing.assert_allclose(points[:, 1], np.sqrt(ref["vi"]), rtol=1e-10)
    centre = lines(ax, "centre")[0].get_xdata()[0]
    assert centre == pytest.approx(math.exp(ref["ee_estimate"]), rel=1e-10)
    egger = lines(ax, "egger")[0]
    x, se = egger.get_xdata(), egger.get_ydata()
    line = ref["egger_line"]
    np.testing.assert_allclose(np.log(x), line["intercept"] + line["slope"] * se, rtol=1e-9)
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert f"t = {line['z']:.2f}" in labels[-1] and "Egger" in labels[-1]


def test_funnel_plot_of_proportions_and_too_few_studies(write_csv):
    fig = plots.funnel(load("pritz1997_prop"))
    ax = panel(fig, "funnel-panel")
    assert ax.get_xlabel() == "Proportion" and ax.get_xlim() == (0.0, 1.0)
    rows = "study,events,total\nA,3,10\nB,5,12\n"
    with pytest.raises(BayesmetaError, match="at least 3 studies"):
        plots.funnel(load_any(write_csv(rows)))


def load_any(path):
    from bayesmeta.io.inputs import load as read

    return read(path)


def test_pooled_posterior_with_prior_exact_engine(exact_fits):
    result = exact_fits["bcg"]
    fig = plots.posterior(result)
    ax = panel(fig, "posterior-panel")
    assert ax.get_xlabel() == "Odds ratio" and ax.get_xscale() == "log"
    assert ax.get_ylabel() == "Density (log odds ratio scale)"
    prior = lines(ax, "prior")[0]
    x = np.log(prior.get_xdata())
    np.testing.assert_allclose(prior.get_ydata(), stats.norm(0, 2.82).pdf(x), rtol=1e-12)
    post = lines(ax, "posterior")[0]
    grid = np.log(post.get_xdata())
    density = post.get_ydata()
    assert np.trapezoid(density, grid) == pytest.approx(1.0, abs=0.01)
    assert grid[np.argmax(density)] == pytest.approx(result.posterior.mu.median, abs=0.05)
    assert ax.get_title(loc="left") == f"P(OR < 1) = {result.posterior.prob_mu_below_0:.4f}"


def test_tau_posterior_with_prior(exact_fits):
    result = exact_fits["li2007"]
    fig = plots.tau(result)
    ax = panel(fig, "tau-panel")
    prior = lines(ax, "prior")[0]
    np.testing.assert_allclose(
        prior.get_ydata(), stats.halfnorm(scale=0.5).pdf(prior.get_xdata()), rtol=1e-12
    )
    post = lines(ax, "posterior")[0]
    assert np.trapezoid(post.get_ydata(), post.get_xdata()) == pytest.approx(1.0, abs=0.02)
    median = lines(ax, "median")[0].get_xdata()[0]
    assert median == pytest.approx(result.posterior.tau.median, rel=1e-12)


def test_no_tau_plot_for_a_common_effect_model():
    result = analyze(load("bcg"), model="normal-normal", common_effect=True)
    with pytest.raises(BayesmetaError, match="common-effect"):
        plots.tau(result)


def test_no_trace_or_rank_plot_without_draws(exact_fits):
    for draw in (plots.trace, plots.rank):
        with pytest.raises(BayesmetaError, match="exact engine"):
            draw(exact_fits["bcg"])


@pytest.mark.sampling
def test_mcmc_figures_and_kde_posterior(bcg_nuts):
    trace = plots.trace(bcg_nuts)
    labels = {ax.get_ylabel() for ax in trace.axes} | {ax.get_xlabel() for ax in trace.axes}
    assert {"mu", "tau"} <= labels
    rank = plots.rank(bcg_nuts)
    assert sorted(ax.get_title() for ax in rank.axes if ax.get_title()) == ["mu", "tau"]
    ax = panel(plots.posterior(bcg_nuts), "posterior-panel")
    post = lines(ax, "posterior")[0]
    mode = float(np.log(post.get_xdata()[np.argmax(post.get_ydata())]))
    assert mode == pytest.approx(bcg_nuts.posterior.mu.median, abs=0.1)


def test_sensitivity_figure_rows(bcg_exact_report):
    result, rows = bcg_exact_report.result, bcg_exact_report.sensitivity
    fig = plots.sensitivity(rows, primary=result.priors.tau)
    ax = panel(fig, "effect-panel")
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == [str(r.prior) for r in rows]
    bold = [t.get_text() for t in ax.get_yticklabels() if t.get_fontweight() == "bold"]
    assert bold == ["half-normal(0.5)"]
    medians = [float(c.get_offsets()[0, 0]) for c in ax.collections]
    np.testing.assert_allclose(medians, [math.exp(r.mu.median) for r in rows], rtol=1e-12)
    with pytest.raises(BayesmetaError):
        plots.sensitivity([])


def test_influence_figure_rows(bcg_exact_influence):
    result, infl = bcg_exact_influence
    fig = plots.influence(infl)
    ax = panel(fig, "effect-panel")
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["None omitted", *(f"Without {s}" for s in result.data.study)]
    assert len(ax.collections) == 2 * len(labels)  # Bayesian and frequentist per row
