"""Reported effects at the edges of metafor's algorithms (issue 22): a study 1e10 times more
precise than another, REML scoring whose textbook step cancels to 0/0 (it hung), and REML
scoring that does not converge. References: ``tests/reference/metafor_hostile.json`` from
``tests/reference/metafor_hostile.R`` (R 4.2.2, metafor 3.8-1, ``rma(yi, vi, method = M)``).
"""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from bayesmeta.effects import EffectSizes
from bayesmeta.errors import BayesmetaError
from bayesmeta.frequentist.pooled import TAU2_METHODS, leave_one_out, random_effects
from bayesmeta.frequentist.results import PooledEstimate, Skipped
from tests.conftest import REFERENCE

REF = json.loads((REFERENCE / "metafor_hostile.json").read_text())
CASES = [(name, m) for name in ("tiny", "stiff", "stuck") for m in TAU2_METHODS]


def effects(name: str) -> EffectSizes:
    d = REF[name]
    k = len(d["yi"])
    study = tuple(f"s{i + 1}" for i in range(k))
    return EffectSizes(study, np.array(d["yi"]), np.array(d["vi"]), "generic", "none", (), ())


@pytest.mark.parametrize(("name", "method"), CASES)
def test_random_effects_at_the_edges_match_metafor(name: str, method: str) -> None:
    ref = REF[name]["fits"][method]
    if "error" in ref:  # metafor: "Fisher scoring algorithm did not converge"
        with pytest.raises(BayesmetaError, match="did not converge"):
            random_effects(effects(name), method=method)
        return
    fit = random_effects(effects(name), method=method)
    assert fit.estimate == pytest.approx(ref["est"], rel=1e-6, abs=1e-9)
    assert fit.se == pytest.approx(ref["se"], rel=1e-5)
    assert fit.tau2 == pytest.approx(ref["tau2"], rel=1e-4, abs=1e-10)


def test_a_leave_one_out_fit_that_does_not_converge_is_skipped() -> None:
    d = REF["stuck"]
    es = effects("stuck")
    # with a fifth study REML converges; without it, it is the stuck data set above
    five = EffectSizes(
        (*es.study, "s5"),
        np.append(d["yi"], -4.5),
        np.append(d["vi"], 0.004),
        "generic",
        "none",
        (),
        (),
    )
    random_effects(five, method="REML")
    fits = leave_one_out(five, "REML")  # metafor's leave1out gives NA for that row
    assert isinstance(fits["s5"], Skipped) and "did not converge" in fits["s5"].reason
    assert all(isinstance(fits[s], PooledEstimate) for s in es.study)


@pytest.mark.parametrize("method", TAU2_METHODS)
def test_a_far_more_precise_study_is_pooled_to_its_limit(method: str) -> None:
    # one variance 1e20 times smaller than another: the fits are those at 1e10 (metafor, above)
    # up to terms of order 1e-10; the textbook DL denominator sum(w) - sum(w^2) / sum(w)
    # cancelled to 0 here (an infinite tau^2, a zero-width interval)
    ref = REF["tiny"]["fits"][method]
    es = effects("tiny")
    es = replace(es, vi=es.vi * np.array([1e-10, 1, 1, 1, 1]))
    fit = random_effects(es, method=method)
    assert fit.estimate == pytest.approx(ref["est"], rel=1e-6)
    if method not in ("ML", "HS"):  # their tau^2 is of the order of the smallest variance
        assert fit.tau2 == pytest.approx(ref["tau2"], rel=1e-6)
