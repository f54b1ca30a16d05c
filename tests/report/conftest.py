"""Analyses shared by the figure and report tests: exact-engine fits (fast, no sampling) and
one short NUTS fit of the binomial-normal model on bcg (Colditz et al. 1994)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bayesmeta.effects import effect_sizes
from bayesmeta.engines.nuts import SamplerSettings
from bayesmeta.io.inputs import load as load_any
from bayesmeta.model.moderators import moderators
from bayesmeta.workflows.analyze import AnalysisResult, analyze
from tests.conftest import EXAMPLES

FAST = SamplerSettings(draws=500, tune=500, seed=7)


def load(name: str):
    return load_any(EXAMPLES / f"{name}.csv")


def bcg_risk_ratios(path: Path) -> Path:
    """Reported effects derived from real data: the bcg trials' risk ratios (escalc "RR") with
    Wald 95% CIs, written as a study,rr,ci_lower,ci_upper table (4 decimals)."""
    es = effect_sizes(load("bcg"), measure="RR")
    se = np.sqrt(es.vi)
    rows = ["study,rr,ci_lower,ci_upper"] + [
        f'"{s}",{np.exp(y):.4f},{np.exp(y - 1.959964 * e):.4f},{np.exp(y + 1.959964 * e):.4f}'
        for s, y, e in zip(es.study, es.yi, se, strict=True)
    ]
    path.write_text("\n".join(rows) + "\n")
    return path


@pytest.fixture(scope="session")
def bcg_nuts() -> AnalysisResult:
    """The binomial-normal model on bcg: 4 chains x 500 draws."""
    return analyze(load("bcg"), settings=FAST)


@pytest.fixture(scope="session")
def exact_fits(tmp_path_factory) -> dict[str, AnalysisResult]:
    """Exact normal-normal fits: the two-arm examples, pritz1997_prop (logits), the bcg risk
    ratios as reported effects, and bcg by allocation (subgroups, common tau)."""
    out = {
        name: analyze(load(name), model="normal-normal")
        for name in ("bcg", "li2007", "nielweise2007", "pritz1997_prop")
    }
    rr = load_any(bcg_risk_ratios(tmp_path_factory.mktemp("rr") / "bcg_rr.csv"))
    out["bcg_rr"] = analyze(rr)
    data = load("bcg")
    out["bcg_alloc"] = analyze(
        data, model="normal-normal", moderators=moderators(data.covariates, subgroup="alloc")
    )
    return out


@pytest.fixture(scope="session")
def bcg_exact_report():
    """What a report of bcg holds, with the exact normal-normal engine: the fit and the prior
    sensitivity (influence is left out: slow, and tested in tests/workflows)."""
    from bayesmeta.workflows.report import analyses
    from bayesmeta.workflows.request import AnalysisRequest, plan

    request = AnalysisRequest(example="bcg", model="normal-normal", settings=FAST)
    return analyses(plan(request), parts=("fit", "sensitivity"))
