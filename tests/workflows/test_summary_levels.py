"""Summaries at any level and probabilities of thresholds without refitting (issue 17, item 2):
``result.summary(level=0.8)`` equals the 80% analysis with the same seed, and both engines'
numbers match independent computations: the quantiles of the draws (NUTS) and a brute-force
integral over tau written here (exact normal-normal)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats

import bayesmeta as bm

SETTINGS = {"draws": 300, "tune": 300, "chains": 2}
quiet = pytest.mark.filterwarnings("ignore::bayesmeta.engines.nuts.ConvergenceWarning")


@pytest.fixture(scope="module")
def bcg():
    return bm.load_example("bcg")


@pytest.fixture(scope="module")
def nuts_result(bcg):
    return bm.analyze(bcg, seed=11, settings=bm.SamplerSettings(**SETTINGS))


@pytest.fixture(scope="module")
def exact_result(bcg):
    return bm.analyze(bcg, model="normal-normal", priors={"mu": "normal(0, 10)"})


@pytest.mark.sampling
@quiet
def test_a_nuts_summary_at_80_percent_equals_the_80_percent_fit(bcg, nuts_result) -> None:
    refit = bm.analyze(bcg, seed=11, settings=bm.SamplerSettings(**SETTINGS), level=0.8)
    pd.testing.assert_frame_equal(nuts_result.summary(level=0.8), refit.summary())
    assert nuts_result.summary(level=0.8).attrs["level"] == 0.8
    mu = np.asarray(nuts_result.idata["posterior"]["mu"]).ravel()
    frame = nuts_result.summary(level=0.8)
    np.testing.assert_allclose(
        frame.loc["mu", ["ci_lower", "ci_upper"]], np.quantile(mu, [0.1, 0.9]), rtol=1e-12
    )
    np.testing.assert_allclose(
        frame.loc["odds_ratio", ["ci_lower", "ci_upper"]],
        np.exp(np.quantile(mu, [0.1, 0.9])),
        rtol=1e-12,
    )
    # the result's own level is unchanged by asking for another
    pd.testing.assert_frame_equal(nuts_result.summary(), nuts_result.summary(level=0.95))


@pytest.mark.sampling
@quiet
def test_nuts_probabilities_are_shares_of_the_draws(nuts_result) -> None:
    post = nuts_result.idata["posterior"]
    mu = np.asarray(post["mu"]).ravel()
    new = np.asarray(post["theta_new"]).ravel()
    cut = math.log(0.8)
    assert nuts_result.probability("mu", below=cut) == np.mean(mu < cut)
    assert nuts_result.probability("odds_ratio", below=0.8) == pytest.approx(np.mean(mu < cut))
    assert nuts_result.probability("theta_new", above=-1, below=0) == np.mean(
        (new > -1) & (new < 0)
    )
    frame = nuts_result.summary()
    assert frame.loc["odds_ratio", "prob_below_null"] == np.mean(mu < 0)  # P(OR < 1)
    assert frame.loc["predictive_odds_ratio", "prob_below_null"] == np.mean(new < 0)
    assert np.isnan(frame.loc["tau", "prob_below_null"])


def _brute_force(result, level: float, cut: float) -> dict[str, float]:
    """The normal-normal posterior by a 40,001-point trapezoid over tau with mu integrated in
    closed form given tau: mu's quantiles, P(mu < cut) and P(tau > 0.5)."""
    y, v = np.asarray(result.spec.normal.y), np.asarray(result.spec.normal.v)
    m0, s0, scale = 0.0, 10.0, 0.5  # normal(0, 10) on mu, half-normal(0.5) on tau
    tau = np.linspace(0.0, 6.0, 40_001)
    w = 1.0 / (v[None, :] + tau[:, None] ** 2)
    precision = 1.0 / s0**2 + w.sum(axis=1)
    mean = (m0 / s0**2 + (w * y).sum(axis=1)) / precision
    log_like = 0.5 * np.log(w).sum(axis=1) - 0.5 * np.log(precision)
    log_like -= 0.5 * ((w * y**2).sum(axis=1) + m0**2 / s0**2 - precision * mean**2)
    log_post = log_like + stats.halfnorm.logpdf(tau, scale=scale)
    dens = np.exp(log_post - log_post.max())
    weight = dens * np.gradient(tau)  # trapezoid weights up to the ends
    weight[[0, -1]] = dens[[0, -1]] * (tau[1] - tau[0]) / 2
    weight /= weight.sum()
    sd = 1.0 / np.sqrt(precision)

    def cdf(x: float) -> float:
        return float(weight @ stats.norm.cdf((x - mean) / sd))

    def quantile(q: float) -> float:
        return optimize.brentq(lambda x: cdf(x) - q, -5, 5, xtol=1e-12)

    return {
        "lower": quantile((1 - level) / 2),
        "upper": quantile((1 + level) / 2),
        "below": cdf(cut),
        "tau_above": float(weight[tau > 0.5].sum()),
    }


def test_an_exact_summary_at_80_percent_equals_the_80_percent_fit_and_the_integral(
    bcg, exact_result
) -> None:
    refit = bm.analyze(bcg, model="normal-normal", priors={"mu": "normal(0, 10)"}, level=0.8)
    frame = exact_result.summary(level=0.8)
    pd.testing.assert_frame_equal(frame, refit.summary())
    cut = math.log(0.8)
    ref = _brute_force(exact_result, 0.8, cut)
    np.testing.assert_allclose(
        frame.loc["mu", ["ci_lower", "ci_upper"]], [ref["lower"], ref["upper"]], atol=2e-6
    )
    assert exact_result.probability("mu", below=cut) == pytest.approx(ref["below"], abs=2e-6)
    assert exact_result.probability("odds_ratio", below=0.8) == pytest.approx(
        ref["below"], abs=2e-6
    )
    assert exact_result.probability("tau", above=0.5) == pytest.approx(ref["tau_above"], abs=1e-4)
    assert frame.loc["odds_ratio", "prob_below_null"] == pytest.approx(
        exact_result.posterior.prob_mu_below_0, abs=1e-15
    )


@pytest.mark.parametrize(
    ("call", "error", "fragment"),
    [
        (lambda r: r.summary(level=95), bm.OptionError, "for 95% write 0.95"),
        (lambda r: r.probability("odds", below=1), bm.OptionError, "unknown quantity 'odds'"),
        (lambda r: r.probability("mu"), bm.OptionError, "give below=, above= or both"),
    ],
)
def test_wrong_levels_and_quantities_say_what_is_valid(exact_result, call, error, fragment):
    with pytest.raises(error, match=fragment):
        call(exact_result)


def test_a_result_shows_itself_in_one_line_and_as_a_notebook_table(exact_result) -> None:
    text = repr(exact_result)
    frame = exact_result.summary()
    median, lo, hi = frame.loc["odds_ratio", ["median", "ci_lower", "ci_upper"]]
    assert text == (
        f"AnalysisResult(normal-normal, engine=exact, k=13, odds_ratio={median:.3g} "
        f"[95% {lo:.3g}, {hi:.3g}], tau={frame.loc['tau', 'median']:.3g}, converged)"
    )
    html = exact_result._repr_html_()
    assert "odds_ratio" in html and "prob_below_null" in html and "theta[" not in html
    pd.testing.assert_frame_equal(exact_result.to_frame(level=0.8), exact_result.summary(0.8))
