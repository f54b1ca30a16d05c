"""The contrast-based network meta-analysis against metafor's ``rma.mv``.

Reference: ``tests/reference/metafor_network.json`` from ``tests/reference/metafor_network.R``
(R 4.2.2, metafor 3.8-1, metadat 1.2-0): per study the escalc log ORs against its baseline arm
with the shared baseline's covariance, ``rma.mv(yi, V, mods = X, intercept = FALSE, random = ~
arm | study, struct = "CS", rho = 1/2, method = M)`` for M in REML, ML and without ``random``
(EE), optim BFGS ``reltol = 1e-14``; on dat.hasselblad1998 (smoking, 24 trials, four
treatments, two three-arm trials) and dat.dong2013 (COPD, 41 trials, six treatments, 3- and
4-arm trials, arms without deaths; not shipped). The fixtures in ``tests/frequentist/data`` are
written by the same script.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bayesmeta.errors import DataError, OptionError
from bayesmeta.frequentist.network import network_meta_analysis

HERE = Path(__file__).parent
REF = json.loads((HERE.parent / "reference" / "metafor_network.json").read_text())
NETWORKS = ("hasselblad1998", "dong2013")


def _arms(name: str) -> pd.DataFrame:
    return pd.read_csv(HERE / "data" / f"{name}_network.csv")


@pytest.mark.parametrize("method", ["REML", "ML", "EE"])
@pytest.mark.parametrize("name", NETWORKS)
def test_matches_metafor_rma_mv(name: str, method: str) -> None:
    ref = REF[name]["fits"][method]
    fit = network_meta_analysis(_arms(name), REF[name]["reference"], method=method)
    assert fit.treatments == tuple(ref["treatments"])
    assert fit.k == ref["k"]
    # tau^2 at the optimum (metafor's optimiser stops within about 1e-8 of it)
    assert fit.tau2 == pytest.approx(ref["tau2"], abs=1e-6)
    basic = fit.basic
    assert [c.treatment for c in basic] == ref["treatments"][1:]
    np.testing.assert_allclose([c.estimate for c in basic], ref["d"], atol=1e-6)
    np.testing.assert_allclose([c.se for c in basic], ref["se"], atol=1e-6)
    np.testing.assert_allclose([c.ci[0] for c in basic], ref["ci_lb"], atol=1e-6)
    np.testing.assert_allclose([c.ci[1] for c in basic], ref["ci_ub"], atol=1e-6)
    np.testing.assert_allclose([c.z for c in basic], ref["z"], atol=1e-5)
    np.testing.assert_allclose([c.p for c in basic], ref["p"], atol=1e-6)
    np.testing.assert_allclose(fit.vcov, ref["vcov"], atol=1e-7)
    assert fit.q == pytest.approx(ref["QE"], abs=1e-6)
    assert fit.q_df == ref["k"] - len(ref["d"])
    assert fit.q_p == pytest.approx(ref["QEp"], abs=1e-8)
    assert fit.loglik == pytest.approx(ref["ll"], abs=1e-6)
    assert [(c.treatment, c.versus) for c in fit.pairwise] == [
        (p["treatment"], p["versus"]) for p in ref["pairwise"]
    ]
    for got, want in zip(fit.pairwise, ref["pairwise"], strict=True):
        assert got.estimate == pytest.approx(want["estimate"], abs=1e-6)
        assert got.se == pytest.approx(want["se"], abs=1e-6)
        assert got.ci == pytest.approx((want["ci_lb"], want["ci_ub"]), abs=1e-6)


def test_reference_and_order_do_not_change_the_network() -> None:
    """Another reference treatment and shuffled rows re-express the same fit: the new basic
    parameters are the old pairwise contrasts, with the same tau^2."""
    arms = _arms("dong2013")
    fit = network_meta_analysis(arms, "Placebo")
    shuffled = arms.sample(frac=1.0, random_state=7).reset_index(drop=True)
    other = network_meta_analysis(shuffled, "TIO-HH")
    assert other.tau2 == pytest.approx(fit.tau2, abs=1e-9)
    old = {(c.treatment, c.versus): c for c in fit.pairwise}
    for c in other.basic:
        want = old.get((c.treatment, "TIO-HH"))
        sign = 1.0
        if want is None:
            want, sign = old[("TIO-HH", c.treatment)], -1.0
        assert c.estimate == pytest.approx(sign * want.estimate, abs=1e-9)
        assert c.se == pytest.approx(want.se, abs=1e-9)


def test_to_dict_is_json_with_the_level_in_the_interval_key() -> None:
    fit = network_meta_analysis(_arms("hasselblad1998"), "no_contact", level=0.9)
    out = json.loads(json.dumps(fit.to_dict()))
    assert out["treatments"] == list(fit.treatments)
    first = out["pairwise"][0]
    assert first["ci90"] == list(fit.pairwise[0].ci)
    # a 90% z-interval is narrower than the 95% one metafor reports
    ref = REF["hasselblad1998"]["fits"]["REML"]["pairwise"][0]
    assert ref["ci_lb"] < first["ci90"][0] < first["estimate"] < first["ci90"][1] < ref["ci_ub"]
    assert first["ci90"][1] - first["estimate"] == pytest.approx(1.6448536269514722 * first["se"])


def test_stan_reference_arms_are_the_same_smoking_network() -> None:
    """``hasselblad1998_nma_checks.stan.json`` (the Bayesian references, stan_nma_checks.R)
    holds the same 50 arms as this fixture, so frequentist and Bayesian tests share one
    network."""
    stan = json.loads(
        (HERE.parent / "reference" / "hasselblad1998_nma_checks.stan.json").read_text()
    )
    ours = _arms("hasselblad1998")
    got = sorted((a["name"], a["treatment"], a["events"], a["total"]) for a in stan["arms"])
    want = sorted(
        (s.rsplit(" ", 1)[0], t, int(e), int(n))
        for s, t, e, n in ours[["study", "treatment", "events", "total"]].itertuples(index=False)
    )
    assert got == want


def _tiny() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "study": ["s1", "s1", "s2", "s2"],
            "treatment": ["A", "B", "B", "C"],
            "events": [3, 5, 4, 6],
            "total": [20, 20, 30, 30],
        }
    )


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d.iloc[:3], "study 's2' has one arm"),
        (lambda d: d.assign(treatment=["A", "A", "B", "C"]), "same treatment in more than one arm"),
        (lambda d: d.assign(treatment=["A", "B", "C", "D"]), "network is not connected"),
        (lambda d: d.drop(columns="total"), "need the columns total"),
    ],
)
def test_bad_networks_are_refused(edit, message: str) -> None:
    with pytest.raises(DataError, match=message):
        network_meta_analysis(edit(_tiny()), "A")


def test_bad_options_are_refused() -> None:
    with pytest.raises(OptionError, match="reference treatment 'Z'"):
        network_meta_analysis(_tiny(), "Z")
    with pytest.raises(OptionError, match="method 'DL'"):
        network_meta_analysis(_tiny(), "A", method="DL")
