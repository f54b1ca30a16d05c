"""The exact binomial engine against independent references.

- ``tests/reference/binomial_bruteforce.json``: brute-force quadrature by a different method
  (scipy.integrate.quad for each study's baseline integral on a dense theta grid, dense
  trapezoid and Simpson grids for theta and (mu, tau); ``tests/reference/binomial_bruteforce.py``,
  which says how). Quantiles, means and SDs agree to 1e-3.
- ``tests/reference/NAME.stan.json``: rstan, 36,000 draws (README there), within 4 Monte Carlo
  standard errors (from each reference's smallest effective sample size).
- single studies with a zero cell, a double zero, all events and 200,000 patients against
  ``scipy.integrate.dblquad`` of ``int int Bin Bin N(a) N(theta) da dtheta`` directly
  (``tests/reference/binomial_direct.py``).
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bayesmeta.engines import exact_binomial as eb

ROOT = Path(__file__).resolve().parents[2]
REF = ROOT / "tests" / "reference"
BRUTE_PATH = REF / "binomial_bruteforce.json"
BRUTE = json.loads(BRUTE_PATH.read_text()) if BRUTE_PATH.exists() else {}
QS = np.array([0.025, 0.5, 0.975])

# brute-force case: dataset, priors (mu, tau; None = common effect)
CASES = {
    "bcg": ("bcg", "normal(0, 10)", "half-normal(0.5)"),
    "bcg_common": ("bcg", "normal(0, 10)", None),
    "bcg_wide": ("bcg", "normal(0, 10)", "half-normal(2)"),
    "li2007": ("li2007", "normal(0, 10)", "half-normal(0.5)"),
    "li2007_cauchy": ("li2007", "normal(0, 2.82)", "half-cauchy(0.5)"),
    "nielweise2007": ("nielweise2007", "normal(0, 10)", "half-normal(0.5)"),
    "pritz1997_prop": ("pritz1997_prop", "normal(0, 10)", "half-normal(1)"),
}


def fit(data: str, prior_mu: str, prior_tau: str | None) -> eb.BinomialPosterior:
    d = pd.read_csv(ROOT / "examples" / f"{data}.csv")
    if "events" in d:
        return eb.proportion_posterior(
            d.events, d.total, prior_mu=prior_mu, prior_tau=prior_tau, study=d.study
        )
    return eb.binomial_normal_posterior(
        d.treatment_events,
        d.treatment_total,
        d.control_events,
        d.control_total,
        prior_mu=prior_mu,
        prior_tau=prior_tau,
        study=d.study,
    )


@pytest.fixture(scope="module")
def posteriors() -> dict[str, eb.BinomialPosterior]:
    return {name: fit(*case) for name, case in CASES.items()}


def _close(marginal, ref: dict, tol: float = 1e-3) -> None:
    got = [marginal.mean, marginal.sd, *np.asarray(marginal.ppf(QS))]
    want = [ref["mean"], ref["sd"], *ref["q"]]
    assert np.abs(np.subtract(got, want)).max() < tol, (got, want)


@pytest.mark.parametrize("name", list(CASES))
def test_matches_brute_force_quadrature(posteriors, name: str) -> None:
    post, ref = posteriors[name], BRUTE[name]
    _close(post.mu, ref["mu"])
    assert post.prob_mu_below_0 == pytest.approx(ref["p_mu_below_0"], abs=1e-4)
    assert post.log_marginal_likelihood == pytest.approx(ref["log_marginal_likelihood"], abs=1e-3)
    if CASES[name][2] is None:
        assert post.tau is None and post.theta is None
        return
    _close(post.tau, ref["tau"])
    _close(post.theta_new, ref["theta_new"])


def test_wide_tau_prior_log_marginal_likelihood(posteriors) -> None:
    """A wide tau prior (half-normal(2)) puts posterior mass out to tau ~ 3: the u range
    follows it, and log p(y) agrees with the brute force (whose box reaches tau = 4) to far
    better than the 3e-3 an earlier version of the engine was off by."""
    got = posteriors["bcg_wide"].log_marginal_likelihood
    assert got == pytest.approx(BRUTE["bcg_wide"]["log_marginal_likelihood"], abs=1e-4)


@pytest.mark.parametrize("name", ["bcg", "pritz1997_prop"])
def test_shrunken_effects_match_brute_force(posteriors, name: str) -> None:
    post, ref = posteriors[name], BRUTE[name]["theta"]
    means, sds = post.theta.moments()
    q = post.theta.ppf(QS)
    for i, study in enumerate(post.study):
        want = ref[study]
        assert means[i] == pytest.approx(want["mean"], abs=1e-3)
        assert sds[i] == pytest.approx(want["sd"], abs=1e-3)
        assert q[i] == pytest.approx(want["q"], abs=THETA_QUANTILE_TOL)


THETA_QUANTILE_TOL = 2e-3  # theta_i | mu, tau is moment-matched to a normal per node


@pytest.mark.parametrize(
    ("data", "tau_prior"),
    [
        ("bcg", "half-normal(0.5)"),
        ("li2007", "half-normal(0.5)"),
        ("nielweise2007", "half-normal(0.5)"),
        ("pritz1997_prop", "half-normal(1)"),
    ],
)
def test_matches_stan_within_monte_carlo_error(posteriors, data: str, tau_prior: str) -> None:
    """Stan: rstan 2.21, 4 x 9,000 draws (tests/reference/README.md); the MCSE of a quantile
    is sqrt(q (1 - q) / ESS) / density, of a mean sd / sqrt(ESS), ESS the smallest one."""
    post = posteriors[data]
    ref = json.loads((REF / f"{data}.stan.json").read_text())
    ess = ref["n_eff_min"]
    for name in ("mu", "tau", "theta_new"):
        m, r = getattr(post, name), ref[name]
        got = np.asarray(m.ppf(QS))
        dens = np.maximum(np.asarray(m.pdf(got)), 1e-3)
        mcse = np.sqrt(QS * (1 - QS) / ess) / dens
        want = np.array([r["q025"], r["median"], r["q975"]])
        assert np.all(np.abs(got - want) < 4 * mcse), (name, got, want, mcse)
        assert abs(m.mean - r["mean"]) < 4 * r["sd"] / math.sqrt(ess), name


DIRECT_PATH = REF / "binomial_direct.json"
DIRECT = json.loads(DIRECT_PATH.read_text()) if DIRECT_PATH.exists() else []


@pytest.mark.parametrize("case", DIRECT, ids=lambda c: "-".join(map(str, c["study"])))
def test_one_study_likelihood_matches_direct_double_integral(case) -> None:
    """A zero cell, a double zero (flat-ish g), all events in one arm, 200,000 patients
    (sharply peaked g): ``log int g(theta) N(theta; mu, tau^2)`` against dblquad
    (tests/reference/binomial_direct.py)."""
    rt, nt, rc, nc = (np.array([float(x)]) for x in case["study"])
    lik = eb._TwoArm(rt, nt, rc, nc, eb.parse_prior("normal(0, 10)"), -8.0, 8.0)
    got = eb._evaluate(lik, np.array([case["mu"]]), np.array([case["tau"]]), moments=False)
    assert got.loglik[0, 0] == pytest.approx(case["log_lik"], abs=2e-6)


def test_analyze_exact_binomial_json_and_no_pymc() -> None:
    """fit --engine exact on counts: same result shape as NUTS, JSON written, PyMC not loaded."""
    code = (
        "import sys, json\n"
        "import bayesmeta\n"
        "r = bayesmeta.analyze(bayesmeta.load('examples/bcg.csv'), engine='exact')\n"
        "d = r.to_dict()\n"
        "assert d['engine'] == 'exact' and d['model'] == 'binomial-normal'\n"
        "assert len(d['studies']) == 13 and d['studies'][0]['shrunken'] is not None\n"
        "assert set(d['posterior']) >= {'mu', 'tau', 'theta_new', 'odds_ratio'}, d['posterior']\n"
        "json.dumps(d)\n"
        "heavy = [m for m in ('pymc', 'pytensor', 'arviz', 'nutpie') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize(
    ("tau_prior", "finite"),
    [("half-normal(0.5)", True), ("half-normal(2)", False), ("half-cauchy(0.5)", False)],
)
def test_predictive_odds_ratio_mean_is_infinite_only_where_it_diverges(tau_prior, finite):
    """E[OR_new] = E[exp(mu + tau^2/2)] is finite under half-normal(0.5) (its tail
    exp(-2 tau^2) beats exp(tau^2/2)) and infinite under half-normal(2) or a half-Cauchy.
    The exact binomial engine orders its mixture column by column, so the normal-normal
    engine's last-panel rule wrongly gave bcg's default fit an infinite mean; with a
    finite mean, the lognormal bound exp(E theta + Var theta / 2) <= E[e^theta] (Jensen
    on each component, same mean and variance) and Stan's theta_new moments bound it."""
    from bayesmeta import analyze, load_example

    post = analyze(load_example("bcg"), engine="exact", priors={"tau": tau_prior}).posterior
    mean = post.predictive.mean
    assert math.isfinite(mean) == finite
    assert math.isfinite(post.pooled.mean)
    if finite:
        new = post.theta_new
        lognormal = math.exp(new.mean + new.sd**2 / 2)
        assert lognormal <= mean < 1.05 * lognormal  # 0.5808 <= 0.5824
