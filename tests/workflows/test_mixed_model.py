"""The mixed-format model: count studies' binomial arms beside reported log odds ratios.

References, all on the shipped ``examples/bcg_mixed.csv`` (bcg with five trials given as their
escalc log OR and SE only; ``tests/reference/make_bcg_mixed.R``):

- ``tests/reference/bcg_mixed.stan.json``: the same mixed likelihood in Stan
  (``tests/reference/mixed.stan``, run by ``tests/reference/stan_mixed.R``: rstan 2.21,
  4 chains x 9,000 draws after 1,000 warm-up, adapt_delta 0.95, seed 20261127, alpha_i ~
  N(0, 10^2), mu ~ N(0, 10^2), tau ~ HalfNormal(0.5)). The exact engine must be within 4 Monte
  Carlo SEs (MCSE of a quantile ``sqrt(q (1 - q) / ESS) / density``, ESS the reference's
  smallest); the NUTS fit within 3 of its own MCSEs plus 0.015 for the reference's.
- ``tests/reference/metafor_mixed.json`` (metafor 3.8-1): ``rma(yi, vi, method)`` on the count
  rows' escalc log ORs and the reported log ORs with ``se^2`` as written.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import bayesmeta
from bayesmeta.effects import effect_sizes
from bayesmeta.model.description import ModelSpec
from bayesmeta.model.likelihoods import native
from bayesmeta.summaries import exact_binomial as exact
from tests.conftest import EXAMPLES, ROOT

STAN = json.loads((ROOT / "tests/reference/bcg_mixed.stan.json").read_text())
METAFOR = json.loads((ROOT / "tests/reference/metafor_mixed.json").read_text())
PRIORS = {"mu": "normal(0, 10)", "tau": "half-normal(0.5)", "baseline": "normal(0, 10)"}
QS = np.array([0.025, 0.5, 0.975])
COUNT_COLUMNS = ("treatment_events", "treatment_total", "control_events", "control_total")


@pytest.fixture(scope="module")
def data():
    return bayesmeta.load_example("bcg_mixed")


@pytest.fixture(scope="module")
def posterior(data):
    return exact.posterior(ModelSpec.describe(data, priors=PRIORS))


def test_exact_engine_matches_the_stan_twin(posterior) -> None:
    assert STAN["rhat_max"] < 1.01 and STAN["divergences"] == 0
    ess = STAN["n_eff_min"]
    for name in ("mu", "tau", "theta_new"):
        m, r = getattr(posterior, name), STAN[name]
        got = np.asarray(m.ppf(QS))
        mcse = np.sqrt(QS * (1 - QS) / ess) / np.asarray(m.pdf(got))
        want = np.array([r["q025"], r["median"], r["q975"]])
        assert np.all(np.abs(got - want) < 4 * mcse), (name, got, want, mcse)
        assert abs(m.mean - r["mean"]) < 4 * r["sd"] / math.sqrt(ess), name


def test_shrunken_effects_match_the_stan_twin(data, posterior) -> None:
    ess = STAN["n_eff_min"]
    for i, ref in enumerate(STAN["theta"]):
        assert posterior.theta[i].mean == pytest.approx(
            ref["mean"], abs=4 * ref["sd"] / math.sqrt(ess)
        ), data.study[i]


def test_frequentist_rows_match_metafor(data) -> None:
    es = native(data).effect_sizes(data)
    np.testing.assert_allclose(es.yi, METAFOR["yi"], rtol=1e-12)
    np.testing.assert_allclose(es.vi, METAFOR["vi"], rtol=1e-12)
    result = bayesmeta.classic(data)
    for name in ("fixed_iv", "random_dl", "random_reml", "random_reml_hksj", "random_dl_hksj"):
        got, ref = result.estimates[name], METAFOR[name]
        assert got.estimate == pytest.approx(ref["estimate"], rel=1e-6), name
        assert got.se == pytest.approx(ref["se"], rel=1e-6), name
        assert got.ci == pytest.approx((ref["ci_lb"], ref["ci_ub"]), rel=1e-6), name
        assert (got.tau2 or 0.0) == pytest.approx(ref["tau2"], rel=1e-6, abs=1e-12), name
        if name != "fixed_iv":
            assert got.pi == pytest.approx((ref["pi_lb"], ref["pi_ub"]), rel=1e-6), name


def _converted(rows: list[str]) -> pd.DataFrame:
    """bcg with ``rows`` given only as their counts' own escalc log OR and SE (full
    precision)."""
    bcg = pd.read_csv(EXAMPLES / "bcg.csv")
    es = effect_sizes(bayesmeta.load(bcg))
    reported = bcg["study"].isin(rows).to_numpy()
    frame = bcg.astype(object)
    frame["log_or"] = np.where(reported, es.yi, None)
    frame["se"] = np.where(reported, np.sqrt(es.vi), None)
    for column in COUNT_COLUMNS:
        frame[column] = np.where(reported, None, bcg[column])
    return frame


def test_reported_rows_equal_to_their_counts_agree_closely_with_the_all_counts_fit() -> None:
    """The normal density of a study's log OR is the large-sample approximation of its binomial
    likelihood (baseline integrated out): close with bcg's large trials, not identical."""
    counts = bayesmeta.load(EXAMPLES / "bcg.csv")
    mixed = bayesmeta.load(_converted(list(STAN["reported"])))
    a = exact.posterior(ModelSpec.describe(mixed, priors=PRIORS))
    b = exact.posterior(ModelSpec.describe(counts, priors=PRIORS))
    for name in ("mu", "tau", "theta_new"):
        got, want = np.asarray(getattr(a, name).ppf(QS)), np.asarray(getattr(b, name).ppf(QS))
        assert np.abs(got - want).max() < 0.03, (name, got, want)
    assert abs(a.mu.ppf(0.5) - b.mu.ppf(0.5)) > 1e-4  # an approximation, not the same model


def test_a_single_reported_row_is_its_normal_density() -> None:
    """One reported study beside counts: its shrunken effect in a common-effect model equals
    mu, and the log marginal likelihood adds its normal density (checked against the counts'
    model times the closed-form normal integral over mu ~ N(0, 10^2))."""
    bcg = pd.read_csv(EXAMPLES / "bcg.csv")
    rest = bayesmeta.load(bcg.iloc[1:].reset_index(drop=True))
    mixed = bayesmeta.load(_converted([bcg["study"][0]]))
    y, v = mixed.yi[0], mixed.vi[0]
    both = exact.posterior(ModelSpec.describe(mixed, priors=PRIORS, common_effect=True))
    alone = exact.posterior(ModelSpec.describe(rest, priors=PRIORS, common_effect=True))
    # p(y_1 | rest) = int N(y_1; mu, v) p(mu | rest) dmu, by quadrature of alone's mu marginal
    grid = np.linspace(alone.mu.ppf(1e-9), alone.mu.ppf(1 - 1e-9), 20001)
    dens = alone.mu.pdf(grid) * np.exp(-0.5 * (y - grid) ** 2 / v) / math.sqrt(2 * math.pi * v)
    log_pred = math.log(np.trapezoid(dens, grid))
    assert both.log_marginal_likelihood == pytest.approx(
        alone.log_marginal_likelihood + log_pred, abs=2e-4
    )


def test_study_table_forest_and_methods_show_each_row_as_given(data) -> None:
    lik = native(data)
    assert lik.name == "mixed-binomial-normal"
    assert lik.cells(data, 1) == ["", "", "log OR -1.6662 (SE 0.4562)"]
    assert lik.cells(data, 0) == ["4/123", "11/139", ""]
    pooled = lik.forest_cells(data, np.arange(data.k))
    assert pooled[2] == "+ 5 reported"
    assert pooled[0] == f"{data.treatment_events.sum()}/{data.treatment_total.sum()}"
    columns, rows = lik.data_rows(data, float, "log odds ratio")
    assert columns[-1] == "Reported (as given)" and rows[1][1:5] == ["", "", "", ""]
    text = lik.methods_text(data, "log odds ratio")
    assert "The 8 studies with 2x2 counts (Aronson 1948, " in text
    assert "The 5 studies that reported an odds ratio only (Ferguson & Simes 1949, " in text


def test_fit_exact_writes_json_and_imports_no_pymc(tmp_path) -> None:
    out = tmp_path / "fit.json"
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from bayesmeta.cli import app\n"
        f"r = CliRunner().invoke(app, ['fit', '--example', 'bcg_mixed', '--engine', 'exact', "
        f"'--json', {str(out)!r}])\n"
        "assert r.exit_code == 0, r.output\n"
        "heavy = [m for m in ('pymc', 'pytensor', 'arviz', 'nutpie') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    doc = json.loads(out.read_text())
    assert doc["model"] == "mixed-binomial-normal" and doc["data"]["design"] == "mixed"
    assert doc["data"]["k_counts"] == 8 and doc["data"]["reported"] == STAN["reported"]
    assert doc["studies"][1]["treatment_events"] is None and doc["studies"][0]["se"] is None
    assert doc["studies"][1]["yi"] == -1.6662


@pytest.mark.sampling
@pytest.mark.filterwarnings("ignore::bayesmeta.ConvergenceWarning")
def test_pymc_model_sampled_with_nutpie_matches_the_stan_twin(data) -> None:
    """4 x 500 draws: R-hat about 1.02 on mu and tau, as for bcg's counts alone (the large
    trials' z); the tolerance is from the Monte Carlo error of these draws."""
    import arviz_stats as azs

    model = bayesmeta.models.mixed(data, priors=PRIORS)
    assert {"alpha", "mu", "tau", "theta", "y", "treatment_events"} <= set(model.named_vars)
    idata = bayesmeta.sample(model, draws=500, tune=700, chains=4, random_seed=20261204)
    for name in ("mu", "tau", "theta_new"):
        draws = np.asarray(idata["posterior"][name])
        for q, key in zip(QS, ("q025", "median", "q975"), strict=True):
            tol = 3 * float(azs.mcse(draws, method="quantile", prob=q)) + 0.015
            assert np.quantile(draws, q) == pytest.approx(STAN[name][key], abs=tol), (name, q)


def test_swapped_data_are_not_read_back_as_counts(data) -> None:
    import pymc as pm

    from bayesmeta.engines.pymc import spec_of

    model = bayesmeta.models.mixed(data, priors=PRIORS)
    assert spec_of(model) is not None
    y = np.asarray(model["y_data"].get_value()).copy()
    y[1] += 0.5
    with model:
        pm.set_data({"y_data": y})
    assert spec_of(model) is None  # sampled as the PyMC model it now is


def test_leaving_out_a_study_and_moderators(data) -> None:
    from bayesmeta.model.moderators import moderators
    from bayesmeta.workflows.influence import without

    rest = without(data, 1)
    assert rest.k == 12 and rest.as_reported.tolist()[1] == ""
    assert int(rest.reported.sum()) == 4 and rest.covariates.shape[0] == 12
    spec = ModelSpec.describe(rest, priors=PRIORS)
    assert exact.posterior(spec).mu.ppf(0.5) < 0
    model = bayesmeta.models.mixed(
        data, priors=PRIORS, moderators=moderators(data.covariates, names=["ablat"])
    )
    assert np.isfinite(model.compile_logp()(model.initial_point()))


def test_pymc_log_density_is_binomial_arms_plus_reported_normals(data) -> None:
    """The built model's joint log density equals scipy's: binomial arms of the count studies,
    normal densities of the reported log ORs, and the priors (every alpha_i, also those of
    the reported studies, which have no data), an independent route."""
    from scipy import stats

    model = bayesmeta.models.mixed(data, priors=PRIORS)
    rng = np.random.default_rng(1)
    k, c, r = data.k, data.counted, data.reported
    alpha, z, z_new = rng.normal(-4, 0.5, k), rng.normal(size=k), rng.normal()
    mu, tau = -0.7, 0.4
    point = {"alpha": alpha, "mu": mu, "tau_log__": np.log(tau), "z": z, "z_new": z_new}
    theta = mu + tau * z
    expit = 1 / (1 + np.exp(-alpha))
    expit_t = 1 / (1 + np.exp(-(alpha + theta)))
    terms = [
        stats.binom.logpmf(data.control_events[c], data.control_total[c], expit[c]),
        stats.binom.logpmf(data.treatment_events[c], data.treatment_total[c], expit_t[c]),
        stats.norm.logpdf(data.yi[r], theta[r], np.sqrt(data.vi[r])),
        stats.norm(0, 10).logpdf(alpha),
        stats.norm(0, 10).logpdf(mu),
        stats.halfnorm(scale=0.5).logpdf(tau) + np.log(tau),
        stats.norm.logpdf(z),
        stats.norm.logpdf(z_new),
    ]
    logps = model.point_logps(point, round_vals=15)
    for name, term in zip(("control_events", "treatment_events", "y"), terms, strict=False):
        assert logps[name] == pytest.approx(float(np.sum(term)), rel=1e-10), name
    expected = sum(float(np.sum(t)) for t in terms)
    assert float(model.compile_logp()(point)) == pytest.approx(expected, abs=1e-6)


def test_forest_plot_shows_each_row_as_given(data) -> None:
    """Counts in the arm columns, the reported estimate as written in its own column; the REML
    diamond and weights are metafor's (``weights(rma(yi, vi, method = "REML"))``)."""
    from bayesmeta.plots import forest

    result = bayesmeta.analyze(data, engine="exact", priors=PRIORS)
    fig = forest(result)

    def texts(gid: str) -> list[str]:
        return [t.get_text() for t in fig.texts if t.get_gid() == gid]

    assert texts("header")[:4] == [
        "Study",
        "Treatment\nevents/total",
        "Control\nevents/total",
        "Reported\n(as given)",
    ]
    assert texts("cell:treatment")[:2] == ["4/123", ""]
    assert texts("cell:reported")[:2] == ["", "log OR -1.6662 (SE 0.4562)"]
    assert texts("cell:reported")[data.k] == "+ 5 reported"  # the Bayesian pooled row
    weights = [f"{w:.1f}%" for w in METAFOR["weights_reml"]]
    assert texts("cell:weight") == [*weights, "100%"]
    panel = next(ax for ax in fig.axes if ax.get_gid() == "forest-panel")
    reml = next(p for p in panel.patches if p.get_gid() == "diamond:random_reml").get_xy()[:, 0]
    ref = METAFOR["random_reml"]
    assert (reml.min(), reml.max()) == pytest.approx(
        (math.exp(ref["ci_lb"]), math.exp(ref["ci_ub"])), rel=1e-6
    )
