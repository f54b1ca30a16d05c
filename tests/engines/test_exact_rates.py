"""The exact engine for the Poisson-normal rates model against independent references.

- ``tests/reference/rates_direct.json`` (``tests/reference/rates_direct.py``, nested
  ``scipy.integrate.quad``): single studies (an arm without events, no events at all,
  3,000 events in 10^6 person-years) and the common-effect posterior of examples/nielweise2008.
- ``tests/reference/NAME.stan.json`` (``tests/reference/stan_rates.R``; rstan, 36,000 draws):
  nielweise2008 and hart1999 (metadat ``dat.hart1999``,
  tests/frequentist/data/hart1999_rates.csv), within 4 Monte Carlo standard errors.
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
DIRECT = json.loads((REF / "rates_direct.json").read_text())
QS = np.array([0.025, 0.5, 0.975])
SOURCES = {
    "nielweise2008": ROOT / "examples" / "nielweise2008.csv",
    "hart1999": ROOT / "tests" / "frequentist" / "data" / "hart1999_rates.csv",
}


def _data(name: str) -> pd.DataFrame:
    d = pd.read_csv(SOURCES[name])
    if "x1i" in d:  # metafor's column names
        d = d.rename(
            columns={
                "x1i": "treatment_events",
                "t1i": "treatment_time",
                "x2i": "control_events",
                "t2i": "control_time",
            }
        )
    return d


def _fit(name: str, prior_tau: str | None) -> eb.BinomialPosterior:
    d = _data(name)
    return eb.rates_posterior(
        d.treatment_events,
        d.treatment_time,
        d.control_events,
        d.control_time,
        prior_mu="normal(0, 10)",
        prior_tau=prior_tau,
    )


@pytest.mark.parametrize(
    "case", DIRECT["single_studies"], ids=lambda c: "-".join(f"{x:g}" for x in c["study"])
)
def test_one_study_likelihood_matches_direct_double_integral(case) -> None:
    xt, tt, xc, tc = (np.array([float(x)]) for x in case["study"])
    lik = eb._rates_likelihood(xt, tt, xc, tc, eb.parse_prior("normal(0, 10)"))
    got = eb._evaluate(lik, np.array([case["mu"]]), np.array([case["tau"]]), moments=False)
    assert got.loglik[0, 0] == pytest.approx(case["log_lik"], abs=2e-6)


def test_common_effect_matches_direct_quadrature() -> None:
    post, ref = _fit("nielweise2008", None), DIRECT["nielweise2008_common"]
    got = [post.mu.mean, post.mu.sd, *post.mu.ppf(QS)]
    want = [ref["mu"]["mean"], ref["mu"]["sd"], *ref["mu"]["q"]]
    assert np.abs(np.subtract(got, want)).max() < 1e-3, (got, want)
    assert post.log_marginal_likelihood == pytest.approx(ref["log_marginal_likelihood"], abs=1e-3)


@pytest.mark.parametrize("name", list(SOURCES))
def test_matches_stan_within_monte_carlo_error(name: str) -> None:
    """The MCSE of a quantile is sqrt(q (1 - q) / ESS) / density, of a mean sd / sqrt(ESS),
    ESS the reference's smallest one."""
    post = _fit(name, "half-normal(0.5)")
    ref = json.loads((REF / f"{name}.stan.json").read_text())
    ess = ref["n_eff_min"]
    for par in ("mu", "tau", "theta_new"):
        m, r = getattr(post, par), ref[par]
        got = np.asarray(m.ppf(QS))
        dens = np.maximum(np.asarray(m.pdf(got)), 1e-3)
        mcse = np.sqrt(QS * (1 - QS) / ess) / dens
        want = np.array([r["q025"], r["median"], r["q975"]])
        assert np.all(np.abs(got - want) < 4 * mcse), (par, got, want, mcse)
        assert abs(m.mean - r["mean"]) < 4 * r["sd"] / math.sqrt(ess), par
    means = post.theta.moments()[0]
    for i, study in enumerate(ref["theta"]):
        assert abs(means[i] - study["mean"]) < 4 * study["sd"] / math.sqrt(ess), i


def test_analyze_rates_exact_json_and_no_pymc() -> None:
    """fit --engine exact on person-time data: the rates model by quadrature, PyMC not loaded."""
    code = (
        "import sys, json\n"
        "import bayesmeta\n"
        "r = bayesmeta.analyze(bayesmeta.load('examples/nielweise2008.csv'), engine='exact')\n"
        "d = r.to_dict()\n"
        "assert d['engine'] == 'exact' and d['model'] == 'poisson-normal', d['model']\n"
        "assert d['studies'][0]['shrunken'] is not None\n"
        "json.dumps(d)\n"
        "heavy = [m for m in ('pymc', 'pytensor', 'arviz', 'nutpie') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
